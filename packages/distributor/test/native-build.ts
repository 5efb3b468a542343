/**
 * Builds the native data plane for the tests (scripts/build-native.mjs: idempotent, fast when the
 * addon is up to date) and returns it. On Linux a missing addon is a failure, never a skip: the
 * native path is the default there, and the tests must exercise it.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadNativeSplice, type NativeSplice } from '../src/dataplane/native.js';
import { PKG } from './helpers.js';

export function buildNative(): void {
  execFileSync(process.execPath, [join(PKG, 'scripts', 'build-native.mjs'), '--quiet'], { stdio: 'inherit' });
}

/** The addon, built if needed; throws (fails the suite) on Linux when it cannot be built or loaded. */
export function requireNative(): NativeSplice {
  buildNative();
  const { addon, reason } = loadNativeSplice();
  if (addon === null) throw new Error(`the native data plane must be available on Linux: ${reason}`);
  return addon;
}

/** True where the native data plane is expected (Linux). */
export const NATIVE_EXPECTED = process.platform === 'linux';
