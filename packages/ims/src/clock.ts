/**
 * Time as the engine sees it. Every wait in the engine (ACK timeouts, SLOW's delay, conversation expiry,
 * journal group-commit) goes through a `Clock`, so state machines are tested with a manual clock and no
 * timing luck.
 */
import { Deque } from './queues/deque.js';

export interface TimerHandle {
  /** Cancel the timer; harmless after it fired. */
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Run `fn` once after `ms` milliseconds. The timer never keeps the process alive. */
  setTimer(ms: number, fn: () => void): TimerHandle;
}

/** The real clock (Date.now + unref'd setTimeout). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return new SystemTimer(t);
  },
};

class SystemTimer implements TimerHandle {
  constructor(private readonly timeout: NodeJS.Timeout) {}
  cancel(): void {
    clearTimeout(this.timeout);
  }
}

/** A clock that only moves when told to; for tests. */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at: this.current + Math.max(0, ms), fn });
    return { cancel: () => void this.timers.delete(id) };
  }

  /** Number of timers not yet fired or cancelled. */
  get pending(): number {
    return this.timers.size;
  }

  /** Move time forward by `ms`, firing due timers in order (a fired timer may add new ones). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let nextId = -1;
      let nextAt = Infinity;
      for (const [id, t] of this.timers) {
        if (t.at <= target && t.at < nextAt) {
          nextAt = t.at;
          nextId = id;
        }
      }
      if (nextId < 0) break;
      const t = this.timers.get(nextId)!;
      this.timers.delete(nextId);
      this.current = Math.max(this.current, t.at);
      t.fn();
    }
    this.current = target;
  }
}

/** Sleep on a clock. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(ms, resolve));
}

/**
 * Many timeouts of one duration on a single clock timer. Hot paths (the ACK timeout of every reply that
 * needs an ACK) arm one of these per message; a `setTimer` per message would cost an allocation, a
 * closure and a timer-list insertion each, and a cancellation each when the ACK comes.
 *
 * Entries are kept in arrival order, which is deadline order because they all have the same duration;
 * one clock timer is armed for the oldest live entry. `add` and `cancel` are O(1); cancelled entries are
 * dropped from the head at once and compacted away when they outnumber the live ones, so memory stays
 * bounded by the live entries. If the wall clock steps backwards, an entry can fire late by at most the
 * step (never early).
 */
export class TimeoutQueue {
  private readonly entries = new Deque<TimeoutEntry>();
  private live = 0;
  private timer: TimerHandle | undefined;
  private firing = false;

  constructor(
    private readonly clock: Clock,
    /** Duration of every timeout in the queue, in milliseconds. */
    readonly ms: number,
  ) {}

  /** Timeouts neither fired nor cancelled. */
  get size(): number {
    return this.live;
  }

  /** Entries held, cancelled ones not yet dropped included (at most `2 × size + 65`). */
  get retained(): number {
    return this.entries.length;
  }

  /** Run `fn` once after `ms` milliseconds unless the returned handle is cancelled first. */
  add(fn: () => void): TimerHandle {
    const e = new TimeoutEntry(this, this.clock.now() + Math.max(0, this.ms), fn);
    this.entries.push(e);
    this.live++;
    if (!this.timer && !this.firing) this.arm();
    return e;
  }

  /** @internal an entry was cancelled. */
  dropped(): void {
    this.live--;
    this.trimHead();
    if (this.live === 0) {
      this.timer?.cancel();
      this.timer = undefined;
    } else if (this.entries.length - this.live > this.live + 64) {
      for (const e of this.entries.clear()) if (e.fn) this.entries.push(e);
    }
  }

  private trimHead(): void {
    for (let h = this.entries.at(0); h && !h.fn; h = this.entries.at(0)) this.entries.shift();
  }

  private arm(): void {
    this.trimHead();
    const head = this.entries.at(0);
    if (!head) return;
    this.timer = this.clock.setTimer(Math.max(0, head.at - this.clock.now()), () => this.fire());
  }

  private fire(): void {
    this.timer = undefined;
    this.firing = true;
    try {
      const now = this.clock.now();
      for (let h = this.entries.at(0); h && (!h.fn || h.at <= now); h = this.entries.at(0)) {
        this.entries.shift();
        const fn = h.fn;
        if (!fn) continue;
        h.fn = undefined;
        this.live--;
        fn();
      }
    } finally {
      this.firing = false;
      if (!this.timer && this.live > 0) this.arm();
    }
  }
}

class TimeoutEntry implements TimerHandle {
  constructor(
    private readonly queue: TimeoutQueue,
    readonly at: number,
    public fn: (() => void) | undefined,
  ) {}

  cancel(): void {
    if (!this.fn) return;
    this.fn = undefined;
    this.queue.dropped();
  }
}

/** One `TimeoutQueue` per duration (durations come from configuration, so there are few). */
export class TimeoutQueues {
  private readonly queues = new Map<number, TimeoutQueue>();

  constructor(private readonly clock: Clock) {}

  /** Run `fn` once after `ms` milliseconds unless the returned handle is cancelled first. */
  add(ms: number, fn: () => void): TimerHandle {
    let q = this.queues.get(ms);
    if (!q) this.queues.set(ms, (q = new TimeoutQueue(this.clock, ms)));
    return q.add(fn);
  }

  /** Timeouts pending over all durations. */
  get size(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.size;
    return n;
  }
}
