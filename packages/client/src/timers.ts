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
 * One named timeout that can be armed, refreshed (restarted with the same delay) and cleared.
 *
 * Built for a timeout that is armed and cleared once per request: when the `Timers` handle supports
 * `refresh()` (Node's `Timeout`, and the fake timers of vitest/sinon), the first `arm` creates one
 * timer and later arms with the same delay only `refresh()` it; `clear` merely disarms it, and a
 * disarmed timer that runs out does nothing. So a request costs no timer allocation, no closure and
 * no clear. Handles without `refresh()` (a plain `Timers` implementation) get a new timer per arm and a
 * real `clearTimeout` per clear, as before. `dispose()` cancels for good (on connection close), so a
 * pending disarmed timer never keeps a closed connection reachable.
 */
export class Deadline {
  private handle: TimerHandle | undefined;
  private ms = 0;
  /** True between `arm` (with a finite delay) and `clear`/expiry. */
  private active = false;
  /** The pending handle can be restarted with `refresh()`. */
  private refreshable = false;
  /** `globalThis.setTimeout` when the handle was made: fake timers installed since then get a new handle. */
  private madeWith: unknown;
  /** Which handle may fire: a cancelled one that still runs (cleared by another implementation) does nothing. */
  private generation = 0;

  constructor(
    private readonly timers: Timers,
    private readonly onExpire: () => void,
  ) {}

  /** Arm with `ms` (0 or Infinity = never). Replaces any armed timer. */
  arm(ms: number): void {
    if (!(ms > 0 && Number.isFinite(ms))) {
      this.clear();
      this.ms = ms;
      return;
    }
    if (this.refreshable && this.ms === ms && this.madeWith === globalThis.setTimeout) {
      (this.handle as { refresh(): unknown }).refresh();
      this.active = true;
      return;
    }
    this.cancel();
    this.ms = ms;
    this.schedule();
    this.active = true;
  }

  /** Restart with the last delay, if armed. */
  refresh(): void {
    if (!this.active) return;
    if (this.refreshable && this.madeWith === globalThis.setTimeout) {
      (this.handle as { refresh(): unknown }).refresh();
      return;
    }
    this.cancel();
    this.schedule();
  }

  /** Disarm. */
  clear(): void {
    this.active = false;
    // A refreshable timer stays scheduled, disarmed: the next `arm` restarts it instead of creating one.
    if (!this.refreshable) this.cancel();
  }

  /** Disarm and cancel the underlying timer (the owner is done with this deadline). */
  dispose(): void {
    this.active = false;
    this.cancel();
  }

  get armed(): boolean {
    return this.active;
  }

  private schedule(): void {
    const generation = ++this.generation;
    this.handle = this.timers.setTimeout(() => this.fire(generation), this.ms);
    this.madeWith = globalThis.setTimeout;
    this.refreshable = typeof (this.handle as { refresh?: unknown } | null)?.refresh === 'function';
  }

  private cancel(): void {
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = undefined;
    this.refreshable = false;
    this.generation++;
  }

  private fire(generation: number): void {
    if (generation !== this.generation) return; // a cancelled handle
    if (!this.refreshable) this.handle = undefined;
    if (!this.active) return; // disarmed since it was scheduled
    this.active = false;
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
