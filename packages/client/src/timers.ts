/**
 * Injectable timers and clock. Every wait in the client goes through a `Timers` object so tests can
 * drive them (vitest fake timers patch the globals, which the default reads at call time; or pass
 * your own implementation). Timers are `unref()`'d when the handle supports it, so a pending timeout
 * never keeps the process alive on its own.
 */

/** Opaque timer handle. */
export type TimerHandle = unknown;

/** The timer functions the client uses. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** A clock in milliseconds (monotonic is best; only differences are used). */
export type Clock = () => number;

/** Timers that read `globalThis.setTimeout`/`clearTimeout` at call time (fake-timer friendly). */
export const defaultTimers: Timers = {
  setTimeout(callback, ms) {
    const handle = globalThis.setTimeout(callback, ms);
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout(handle) {
    globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>);
  },
};

/** `Date.now` read at call time (fake-timer friendly). */
export const defaultClock: Clock = () => Date.now();

/**
 * One named timeout that can be armed, refreshed (restarted with the same delay) and cleared. It
 * keeps a single callback, so refreshing on every chunk of a reply costs one clear + one set.
 */
export class Deadline {
  private handle: TimerHandle | undefined;
  private ms = 0;
  constructor(
    private readonly timers: Timers,
    private readonly onExpire: () => void,
  ) {}

  /** Arm with `ms` (0 or Infinity = never). Replaces any armed timer. */
  arm(ms: number): void {
    this.clear();
    this.ms = ms;
    if (ms > 0 && Number.isFinite(ms)) this.handle = this.timers.setTimeout(() => this.fire(), ms);
  }

  /** Restart with the last delay, if armed. */
  refresh(): void {
    if (this.handle === undefined) return;
    this.timers.clearTimeout(this.handle);
    this.handle = this.timers.setTimeout(() => this.fire(), this.ms);
  }

  /** Disarm. */
  clear(): void {
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = undefined;
  }

  get armed(): boolean {
    return this.handle !== undefined;
  }

  private fire(): void {
    this.handle = undefined;
    this.onExpire();
  }
}

/** Resolve after `ms` on `timers`, or reject with `signal.reason` when the signal aborts first. */
export function sleep(timers: Timers, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      timers.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = timers.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
