import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/bin.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // The CJS build gets `import.meta.url` from `__filename` (src/dataplane/native.ts finds the
  // package root, and so the native addon, from its own location).
  shims: true,
});
