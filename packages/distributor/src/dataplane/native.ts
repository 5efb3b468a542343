/**
 * Loader of the native proxy data plane (native/splice.c, built by scripts/build-native.mjs into
 * `dist/native/<platform>-<arch>/imsplex-splice.node`). The addon is looked up from the package
 * root, found by walking up from this module's own file, so the same code works from `src/` (tests,
 * tsx with the source condition), `dist/index.js` and `dist/index.cjs`. Loading is lazy and never
 * throws: when the addon is absent or fails to load, {@link loadNativeSplice} reports why and the
 * JS data planes are used.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Counters of the native data plane in this Node environment (thread). */
export interface NativeSpliceStats {
  /** Pairs attached whose completion has not been delivered yet. */
  readonly active: number;
  /** Pairs attached since the addon was loaded. */
  readonly attached: number;
  /** Completions delivered. */
  readonly completed: number;
  /** Pairs registered in the I/O thread's loop right now. */
  readonly pairs: number;
  /** Bytes the I/O thread holds in remainder buffers right now (partial writes). */
  readonly bufferedBytes: number;
  /** Largest remainder one direction ever held (never above SPLICE_READ_BUFFER). */
  readonly peakBufferedBytes: number;
  /** Partial writes so far (each kept a remainder and paused its direction). */
  readonly partialWrites: number;
  /** Times a direction used up its read budget (1 MiB) in one turn and yielded to other pairs. */
  readonly budgetYields: number;
  /** The I/O thread has been started (on the first attach). */
  readonly running: boolean;
}

/** The addon's interface (see native/splice.c). */
export interface NativeSplice {
  /**
   * Hands a connected pair over: the addon dup()s both fds, and the caller must then close its own
   * (destroy its sockets) without having read from them. `onDone` is called once, on this thread.
   */
  attach(clientFd: number, targetFd: number, onDone: (id: number, abnormal: boolean, bytesFromClient: number, bytesFromTarget: number) => void): number;
  /** Closes one pair (both fds); its completion follows with abnormal = false. Unknown ids are ignored. */
  close(id: number): void;
  /** Closes every pair of this environment. */
  closeAll(): void;
  stats(): NativeSpliceStats;
  /** SPLICE_READ_BUFFER as compiled into the addon. */
  readonly readBufferSize: number;
}

/** Outcome of {@link loadNativeSplice}. */
export interface NativeSpliceLoad {
  /** The addon, or null when it is not available here. */
  readonly addon: NativeSplice | null;
  /** Why it is not available (null when it is). */
  readonly reason: string | null;
  /** Where the addon is (or would be). */
  readonly path: string;
}

/** This module's own file (in the CJS build, tsup's `shims` derive `import.meta.url` from `__filename`). */
function ownFile(): string {
  return fileURLToPath(import.meta.url);
}

/** The package root: the nearest folder above this module whose package.json names this package. */
function packageRoot(): string | null {
  let dir = dirname(ownFile());
  for (let i = 0; i < 8; i++) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === '@imsplex/distributor') return dir;
      } catch {
        // Not a package.json we can read: keep walking.
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

/** Path of the addon for this platform under the package root. */
export function nativeSplicePath(root: string | null = packageRoot()): string {
  return join(root ?? '.', 'dist', 'native', `${process.platform}-${process.arch}`, 'imsplex-splice.node');
}

let loaded: NativeSpliceLoad | undefined;

/** Loads the addon once per module instance; never throws. */
export function loadNativeSplice(): NativeSpliceLoad {
  if (loaded) return loaded;
  let path = '';
  try {
    const root = packageRoot();
    path = nativeSplicePath(root);
    if (process.platform !== 'linux') loaded = { addon: null, reason: `the native data plane is Linux only (this is ${process.platform})`, path };
    else if (root === null) loaded = { addon: null, reason: 'package root of @imsplex/distributor not found', path };
    else if (!existsSync(path)) loaded = { addon: null, reason: `not built: ${path} is missing (run scripts/build-native.mjs)`, path };
    else {
      const addon = createRequire(ownFile())(path) as NativeSplice;
      loaded = typeof addon?.attach === 'function' ? { addon, reason: null, path } : { addon: null, reason: `${path} is not the imsplex-splice addon`, path };
    }
  } catch (e) {
    loaded = { addon: null, reason: `cannot load ${path}: ${(e as Error).message}`, path };
  }
  return loaded;
}
