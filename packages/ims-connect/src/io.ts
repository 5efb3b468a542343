/**
 * Socket edge helpers: one frame per write, backpressure with a drain timeout, injectable timers.
 */
import type { Duplex } from 'node:stream';
import { ImsConnectError, ImsConnectErrorCode } from './errors.js';

/** Timer functions, injectable for tests (defaults to the globals, which vitest fake timers patch). */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /**
   * Restart a pending or fired timer with its original delay, keeping its handle (Node's
   * `Timeout.refresh()`). Optional; returns false when the handle cannot be refreshed, and the caller
   * then clears and sets a new one.
   */
  refresh?(handle: unknown): boolean;
}

/** The global timers, with handles unref()'d so an idle timer never keeps the process alive. */
export const realTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    (t as { unref?: () => void }).unref?.();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
  refresh(handle) {
    const t = handle as { refresh?: () => unknown };
    if (typeof t.refresh !== 'function') return false;
    t.refresh();
    return true;
  },
};

/**
 * A millisecond clock for display timestamps (VIEWHWS "seconds in state"), read twice per interaction:
 * `Date.now()` sampled by an unref'd interval every `resolutionMs` while started, instead of a system
 * call per read. Before `start()` (and after `stop()`) it reads `Date.now()` directly.
 */
export class CoarseClock {
  private value = 0;
  private interval: ReturnType<typeof setInterval> | undefined;
  constructor(private readonly resolutionMs = 100) {}

  readonly now = (): number => (this.interval === undefined ? Date.now() : this.value);

  start(): void {
    if (this.interval !== undefined) return;
    this.value = Date.now();
    this.interval = setInterval(() => {
      this.value = Date.now();
    }, this.resolutionMs);
    this.interval.unref();
  }

  stop(): void {
    if (this.interval !== undefined) clearInterval(this.interval);
    this.interval = undefined;
  }
}

/** V8 keeps typed arrays of up to this many bytes on its heap (`typed_array_max_size_in_heap`). */
const ON_HEAP_MAX = 64;

/**
 * The frame as a Buffer for `stream.write`. A stream wraps a Uint8Array through `.buffer`, which for a
 * small on-heap array (a typical 41-byte reply) makes V8 move it off-heap first; copying it into Node's
 * pool (`Buffer.allocUnsafe`) measured ~3× cheaper. Larger frames are off-heap already: wrapped, no copy.
 */
function asBuffer(frame: Uint8Array): Buffer {
  if (Buffer.isBuffer(frame)) return frame;
  if (frame.byteLength > ON_HEAP_MAX) return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  const b = Buffer.allocUnsafe(frame.byteLength);
  b.set(frame);
  return b;
}

/**
 * Writes whole frames to a duplex. When `write()` returns false the writer is `blocked` until
 * 'drain'; if no 'drain' arrives within `drainTimeout` the stream is destroyed with
 * `IMS_ERR_DRAIN_TIMEOUT`. One coalesced timer per stream.
 */
export class FrameWriter {
  private timer: unknown = undefined;
  private waiters: Array<() => void> = [];
  blocked = false;

  constructor(
    private readonly stream: Duplex,
    private readonly drainTimeout: number,
    private readonly timers: Timers = realTimers,
  ) {
    stream.on('drain', this.onDrain);
  }

  private readonly onDrain = (): void => {
    this.blocked = false;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  };

  /** Write one frame (header and body already joined). Returns false when now blocked. */
  write(frame: Uint8Array): boolean {
    if (this.stream.destroyed || this.stream.writableEnded) return false;
    const ok = this.stream.write(asBuffer(frame));
    if (!ok && !this.blocked) {
      this.blocked = true;
      this.timer = this.timers.setTimeout(() => {
        this.timer = undefined;
        this.stream.destroy(new ImsConnectError(ImsConnectErrorCode.DRAIN_TIMEOUT, `peer did not read for ${this.drainTimeout} ms; connection dropped`));
        const w = this.waiters;
        this.waiters = [];
        for (const fn of w) fn();
      }, this.drainTimeout);
    }
    return ok;
  }

  /** Resolve when the writer is no longer blocked (or the stream died). */
  whenWritable(): Promise<void> {
    if (!this.blocked || this.stream.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stop timers and listeners. */
  dispose(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.stream.off('drain', this.onDrain);
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }
}
