/**
 * Builds the native data plane once before any test file runs (so the distributor-level suites
 * run with the default, native, splice), with the same idempotent script the build uses.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  if (process.platform !== 'linux') return;
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'build-native.mjs');
  execFileSync(process.execPath, [script, '--quiet'], { stdio: 'inherit' });
}
