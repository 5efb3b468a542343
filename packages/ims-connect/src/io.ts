/**
 * Socket edge helpers: one frame per write, backpressure with a drain timeout, injectable timers.
 */
import type { Duplex } from 'node:stream';
import { ImsConnectError, ImsConnectErrorCode } from './errors.js';

/** Timer functions, injectable for tests (defaults to the globals, which vitest fake timers patch). */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
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
};

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
    const ok = this.stream.write(frame);
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
