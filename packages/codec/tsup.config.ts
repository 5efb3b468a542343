import { defineConfig } from 'tsup';

// See types/binary-parser.d.ts: each declaration entry references a copy of the binary-parser shim
// that sits beside it (copied there by the package's build script), so consumers' TypeScript
// resolves the `Parser` type under NodeNext.
const SHIM = 'binary-parser.d.ts';

export default defineConfig({
  // `@imsplex/codec` and the `@imsplex/codec/testing` subpath (fixture builders and golden vectors).
  entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  dts: { banner: `/// <reference path="./${SHIM}" />` },
  sourcemap: true,
  clean: true,
  target: 'node20',
});
