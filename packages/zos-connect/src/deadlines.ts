/**
 * `DeadlineQueue`: many concurrent waits of one fixed delay (asyncRequestTimeout) served by one
 * timer. Every entry waits the same time, so the queue is in deadline order by construction (FIFO):
 * the timer is armed for the oldest entry; entries that finish first are unlinked in O(1). When the
 * oldest finishes, the timer stays armed for its (earlier) deadline, fires early, and re-arms for the
 * new oldest entry: an entry never fires before its delay has passed on the clock, and always fires
 * once it has (at the timer's precision). So a request costs one small object and no timer.
 */
import { type Clock, type Timers } from '@imsplex/client';

/** A queued wait (opaque to callers: pass it back to `remove`). */
export interface QueuedDeadline {
  readonly at: number;
}

interface Entry extends QueuedDeadline {
  prev: Entry | undefined;
  next: Entry | undefined;
  /** The expiry callback; undefined once the entry fired or was removed. */
  fire: (() => void) | undefined;
}

/** Deadlines of `ms` milliseconds on `timers` and `clock`. */
export class DeadlineQueue {
  private head: Entry | undefined;
  private tail: Entry | undefined;
  private timer: unknown;
  private armed = false;
  private count = 0;

  constructor(
    private readonly timers: Timers,
    private readonly clock: Clock,
    /** The delay of every entry (> 0). */
    readonly ms: number,
  ) {}

  /** Waits queued. */
  get size(): number {
    return this.count;
  }

  /** Queue `onExpire` to run `ms` from now unless `remove`d first. */
  add(onExpire: () => void): QueuedDeadline {
    const e: Entry = { at: this.clock() + this.ms, prev: this.tail, next: undefined, fire: onExpire };
    if (this.tail !== undefined) this.tail.next = e;
    else this.head = e;
    this.tail = e;
    this.count++;
    if (!this.armed) this.arm(this.ms);
    return e;
  }

  /** Drop a wait (its callback will not run). Removing twice, or after it fired, does nothing. */
  remove(d: QueuedDeadline): void {
    const e = d as Entry;
    if (e.fire === undefined) return;
    e.fire = undefined;
    this.unlink(e);
  }

  /** Cancel the timer and drop every wait without running it. */
  dispose(): void {
    if (this.armed) this.timers.clearTimeout(this.timer);
    this.armed = false;
    this.timer = undefined;
    for (let e = this.head; e !== undefined; e = e.next) e.fire = undefined;
    this.head = this.tail = undefined;
    this.count = 0;
  }

  private unlink(e: Entry): void {
    if (e.prev !== undefined) e.prev.next = e.next;
    else this.head = e.next;
    if (e.next !== undefined) e.next.prev = e.prev;
    else this.tail = e.prev;
    e.prev = e.next = undefined;
    this.count--;
  }

  private arm(ms: number): void {
    this.armed = true;
    this.timer = this.timers.setTimeout(this.onTimer, ms);
  }

  private readonly onTimer = (): void => {
    this.armed = false;
    this.timer = undefined;
    const now = this.clock();
    while (this.head !== undefined && this.head.at <= now) {
      const e = this.head;
      const fire = e.fire!;
      e.fire = undefined;
      this.unlink(e);
      fire();
    }
    // (A callback may have queued a wait and armed the timer already.)
    if (this.head !== undefined && !this.armed) this.arm(this.head.at - now);
  };
}
