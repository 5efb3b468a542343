/**
 * A generic, fair connection pool: min/max size, FIFO waiters with a bounded queue and a bounded wait,
 * idle eviction, health checks before hand-out and in the background, and stats. It knows nothing of
 * IMS Connect: `create`, `check` and the resources' `destroy` are supplied by the caller.
 *
 * Fairness: a released resource goes straight to the oldest waiter (no barging by newcomers), and a
 * resource created because callers were waiting goes to whoever is oldest when it is ready.
 */
import { setMaxListeners } from 'node:events';
import { ClientErrorCode, ImsClientError } from './errors.js';
import { type Clock, type TimerHandle, type Timers } from './timers.js';

/** What the pool needs from a resource. */
export interface PoolResource {
  /** True once the resource can no longer be used (socket gone). */
  readonly closed: boolean;
  /** Close gracefully (idle resource). */
  close(): Promise<void>;
  /** Close at once. */
  destroy(error?: unknown): void;
}

/** Pool settings. */
export interface PoolSettings<R extends PoolResource> {
  readonly minSize: number;
  readonly maxSize: number;
  readonly maxWaiters: number;
  /** ms; 0 = no limit. */
  readonly acquireTimeout: number;
  /** ms; 0 = never evict. */
  readonly maxIdleTime: number;
  /** Check a resource idle at least this long before hand-out, ms; 0 = always, -1 = never. */
  readonly checkIdleAfter: number;
  /** Background check of idle resources, ms; 0 = off. */
  readonly healthCheckInterval: number;
  readonly timers: Timers;
  readonly clock: Clock;
  /** Open a new resource. */
  readonly create: (signal: AbortSignal) => Promise<R>;
  /** Health check; reject if the resource is unusable. */
  readonly check?: (resource: R, signal: AbortSignal) => Promise<void>;
  /** Called when background work fails (creating min resources, health checks). */
  readonly onBackgroundError?: (error: unknown) => void;
}

/** A snapshot of the pool. */
export interface PoolStats {
  /** Open resources (idle + in use). */
  readonly size: number;
  readonly idle: number;
  readonly busy: number;
  /** Resources being created. */
  readonly connecting: number;
  /** Callers waiting for a resource. */
  readonly waiting: number;
  readonly minSize: number;
  readonly maxSize: number;
  /** Totals since the pool started. */
  readonly created: number;
  readonly destroyed: number;
  readonly acquired: number;
  readonly evicted: number;
  readonly checkFailures: number;
  readonly exhausted: number;
  readonly timedOut: number;
  readonly closed: boolean;
}

interface Waiter<R> {
  resolve(r: R): void;
  reject(e: unknown): void;
  timer: TimerHandle | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  done: boolean;
}

interface IdleEntry<R> {
  resource: R;
  since: number;
}

/** A fair pool of resources. */
export class Pool<R extends PoolResource> {
  private readonly idle: IdleEntry<R>[] = [];
  private readonly busy = new Set<R>();
  private readonly waiters: Waiter<R>[] = [];
  private connecting = 0;
  private readonly counters = { created: 0, destroyed: 0, acquired: 0, evicted: 0, checkFailures: 0, exhausted: 0, timedOut: 0 };
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closePromise: Promise<void> | undefined;
  private closeError: unknown;
  private sweepTimer: TimerHandle | undefined;
  private healthTimer: TimerHandle | undefined;
  private readonly lifecycle = new AbortController();
  private drainResolve: (() => void) | undefined;

  constructor(private readonly s: PoolSettings<R>) {
    // Every connection being opened listens on the pool's lifecycle signal; that is bounded by maxSize.
    setMaxListeners(0, this.lifecycle.signal);
    this.fillMinimum();
    this.scheduleSweep();
    this.scheduleHealthCheck();
  }

  /** Number of open resources plus those being created. */
  private get total(): number {
    return this.idle.length + this.busy.size + this.connecting;
  }

  /**
   * Get a resource. Idle ones first (checked if idle long enough), else a new one when below
   * `maxSize`, else wait in FIFO order. Rejects with `IMS_ERR_POOL_EXHAUSTED` when `maxWaiters` are
   * already waiting, `IMS_ERR_POOL_TIMEOUT` after `acquireTimeout`, or the signal's reason.
   */
  async acquire(signal?: AbortSignal): Promise<R> {
    this.assertOpen();
    if (signal?.aborted) throw signal.reason;
    // Newcomers never overtake waiters: only take idle directly when nobody waits.
    while (this.waiters.length === 0 && this.idle.length > 0) {
      const entry = this.idle.pop()!;
      const r = await this.prepare(entry, signal);
      if (r) return r;
    }
    if (this.waiters.length === 0 && this.total < this.s.maxSize) {
      this.connecting++;
      let r: R;
      try {
        r = await this.s.create(this.linkSignal(signal));
      } finally {
        this.connecting--;
      }
      this.counters.created++;
      if (this.state !== 'open') {
        r.destroy();
        this.assertOpen();
      }
      this.busy.add(r);
      this.counters.acquired++;
      return r;
    }
    if (this.waiters.length >= this.s.maxWaiters) {
      this.counters.exhausted++;
      throw new ImsClientError(
        ClientErrorCode.POOL_EXHAUSTED,
        `connection pool exhausted: ${this.busy.size}/${this.s.maxSize} connections in use and ${this.waiters.length} caller(s) already waiting (maxWaiters ${this.s.maxWaiters})`,
        { details: { busy: this.busy.size, maxSize: this.s.maxSize, waiting: this.waiters.length, maxWaiters: this.s.maxWaiters } },
      );
    }
    return new Promise<R>((resolve, reject) => {
      const w: Waiter<R> = { resolve, reject, timer: undefined, signal, onAbort: undefined, done: false };
      if (this.s.acquireTimeout > 0) {
        w.timer = this.s.timers.setTimeout(() => {
          this.counters.timedOut++;
          this.settle(
            w,
            new ImsClientError(ClientErrorCode.POOL_TIMEOUT, `no pooled connection became free within ${this.s.acquireTimeout} ms (${this.busy.size}/${this.s.maxSize} in use)`, {
              details: { acquireTimeout: this.s.acquireTimeout, busy: this.busy.size, maxSize: this.s.maxSize },
            }),
          );
        }, this.s.acquireTimeout);
      }
      if (signal) {
        w.onAbort = () => this.settle(w, signal.reason);
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiters.push(w);
      this.grow();
    });
  }

  /**
   * `acquire` without waiting: an idle resource when one can be handed out at once (the pool is
   * open, nobody waits, and the resource needs no health check now), else undefined — then call
   * `acquire`. Same bookkeeping and order (most recently released first) as `acquire`.
   */
  tryAcquire(): R | undefined {
    if (this.state !== 'open' || this.waiters.length !== 0) return undefined;
    const idle = this.idle;
    while (idle.length > 0) {
      const entry = idle[idle.length - 1]!;
      const r = entry.resource;
      if (r.closed) {
        idle.pop();
        this.counters.destroyed++;
        continue;
      }
      if (this.checkDue(entry)) return undefined;
      idle.pop();
      this.busy.add(r);
      this.counters.acquired++;
      return r;
    }
    return undefined;
  }

  /**
   * Give a resource back. `reusable: false` (or a closed resource) destroys it; a waiter then gets a
   * fresh one if the pool may grow.
   */
  release(resource: R, reusable = true): void {
    if (!this.busy.delete(resource)) return;
    if (!reusable || resource.closed || this.state === 'closed') {
      this.discard(resource);
      this.grow();
      this.fillMinimum();
      this.checkDrained();
      return;
    }
    const w = this.nextWaiter();
    if (w) {
      this.busy.add(resource);
      this.counters.acquired++;
      this.settle(w, undefined, resource);
      return;
    }
    if (this.state === 'closing') {
      void resource.close().catch(() => undefined);
      this.counters.destroyed++;
      this.checkDrained();
      return;
    }
    this.idle.push({ resource, since: this.s.clock() });
  }

  /** A resource closed on its own (peer closed an idle socket): forget it. */
  forget(resource: R): void {
    const i = this.idle.findIndex((e) => e.resource === resource);
    if (i >= 0) {
      this.idle.splice(i, 1);
      this.counters.destroyed++;
      this.fillMinimum();
    }
  }

  stats(): PoolStats {
    return Object.freeze({
      size: this.idle.length + this.busy.size,
      idle: this.idle.length,
      busy: this.busy.size,
      connecting: this.connecting,
      waiting: this.waiters.length,
      minSize: this.s.minSize,
      maxSize: this.s.maxSize,
      ...this.counters,
      closed: this.state !== 'open',
    });
  }

  /**
   * Graceful close: refuse new acquires (`IMS_ERR_CLIENT_CLOSED`), let waiters already queued be
   * served, wait for every busy resource to come back, then close them all. Idempotent.
   */
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.state = 'closing';
    this.stopTimers();
    this.closePromise = (async () => {
      await this.drained();
      this.lifecycle.abort(new ImsClientError(ClientErrorCode.CLOSED, 'pool closed'));
      const idle = this.idle.splice(0);
      await Promise.all(idle.map((e) => e.resource.close().catch(() => undefined)));
      this.counters.destroyed += idle.length;
      this.state = 'closed';
    })();
    return this.closePromise;
  }

  /** Forceful close: reject waiters, destroy idle and busy resources with `error`. Idempotent. */
  destroy(error?: unknown): Promise<void> {
    const err = error ?? new ImsClientError(ClientErrorCode.DESTROYED, 'pool destroyed');
    if (this.state === 'closed') return this.closePromise ?? Promise.resolve();
    this.closeError = err;
    this.state = 'closed';
    this.stopTimers();
    this.lifecycle.abort(err);
    for (const w of this.waiters.splice(0)) this.settle(w, err);
    for (const e of this.idle.splice(0)) this.discard(e.resource, err);
    for (const r of [...this.busy]) {
      this.busy.delete(r);
      this.discard(r, err);
    }
    this.checkDrained();
    this.closePromise ??= Promise.resolve();
    return this.closePromise;
  }

  // ---------------------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.state === 'open') return;
    if (this.closeError !== undefined) throw this.closeError;
    throw new ImsClientError(ClientErrorCode.CLOSED, 'the pool is closed');
  }

  private linkSignal(signal: AbortSignal | undefined): AbortSignal {
    return signal ? AbortSignal.any([signal, this.lifecycle.signal]) : this.lifecycle.signal;
  }

  /** Check an idle entry if due; return it as busy, or undefined if it was unusable. */
  private async prepare(entry: IdleEntry<R>, signal: AbortSignal | undefined): Promise<R | undefined> {
    const r = entry.resource;
    if (r.closed) {
      this.counters.destroyed++;
      return undefined;
    }
    this.busy.add(r);
    if (this.checkDue(entry)) {
      try {
        await this.s.check!(r, this.linkSignal(signal));
      } catch (e) {
        this.counters.checkFailures++;
        this.busy.delete(r);
        this.discard(r, e);
        if (signal?.aborted) throw signal.reason;
        this.assertOpen();
        return undefined;
      }
    }
    this.counters.acquired++;
    return r;
  }

  /** True when the idle resource must pass the health check before it is handed out. */
  private checkDue(entry: IdleEntry<R>): boolean {
    return this.s.check !== undefined && this.s.checkIdleAfter >= 0 && this.s.clock() - entry.since >= this.s.checkIdleAfter;
  }

  private nextWaiter(): Waiter<R> | undefined {
    while (this.waiters.length > 0) {
      const w = this.waiters.shift()!;
      if (!w.done) return w;
    }
    return undefined;
  }

  private settle(w: Waiter<R>, error: unknown, resource?: R): void {
    if (w.done) return;
    w.done = true;
    if (w.timer !== undefined) this.s.timers.clearTimeout(w.timer);
    if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
    const i = this.waiters.indexOf(w);
    if (i >= 0) this.waiters.splice(i, 1);
    if (resource) w.resolve(resource);
    else w.reject(error);
  }

  /** Create resources for waiters while below max (one per waiter not yet covered). */
  private grow(): void {
    while (this.state !== 'closed' && this.waiters.length > this.connecting && this.total < this.s.maxSize) {
      if (this.idle.length > 0) {
        // An idle resource exists while callers wait (released during a check): hand it over.
        const entry = this.idle.pop()!;
        const w = this.nextWaiter();
        if (!w) {
          this.idle.push(entry);
          return;
        }
        void this.prepare(entry, undefined).then((r) => (r ? this.settle(w, undefined, r) : (this.waiters.unshift(w), this.grow())));
        continue;
      }
      this.connecting++;
      this.s.create(this.lifecycle.signal).then(
        (r) => {
          this.connecting--;
          this.counters.created++;
          if (this.state === 'closed') {
            r.destroy();
            return;
          }
          this.busy.add(r);
          this.release(r, true);
        },
        (e: unknown) => {
          this.connecting--;
          // The oldest waiter learns why; the others keep waiting for another attempt.
          const w = this.nextWaiter();
          if (w) this.settle(w, e);
          this.grow();
          this.checkDrained();
        },
      );
    }
  }

  private fillMinimum(): void {
    if (this.state !== 'open') return;
    while (this.total < this.s.minSize) {
      this.connecting++;
      this.s.create(this.lifecycle.signal).then(
        (r) => {
          this.connecting--;
          this.counters.created++;
          if (this.state !== 'open') {
            r.destroy();
            return;
          }
          this.busy.add(r);
          this.release(r, true);
        },
        (e: unknown) => {
          this.connecting--;
          this.s.onBackgroundError?.(e);
        },
      );
    }
  }

  private discard(r: R, error?: unknown): void {
    r.destroy(error);
    this.counters.destroyed++;
  }

  private scheduleSweep(): void {
    if (this.s.maxIdleTime <= 0 || this.state !== 'open') return;
    this.sweepTimer = this.s.timers.setTimeout(() => {
      this.sweepTimer = undefined;
      this.sweep();
      this.scheduleSweep();
    }, Math.max(1, Math.ceil(this.s.maxIdleTime / 2)));
  }

  /** Close idle resources older than `maxIdleTime`, keeping `minSize`. Oldest are at the front. */
  sweep(): void {
    const now = this.s.clock();
    while (this.idle.length > 0 && this.idle.length + this.busy.size > this.s.minSize) {
      const oldest = this.idle[0]!;
      if (now - oldest.since < this.s.maxIdleTime) break;
      this.idle.shift();
      this.counters.evicted++;
      this.counters.destroyed++;
      void oldest.resource.close().catch(() => undefined);
    }
  }

  private scheduleHealthCheck(): void {
    if (this.s.healthCheckInterval <= 0 || !this.s.check || this.state !== 'open') return;
    this.healthTimer = this.s.timers.setTimeout(() => {
      this.healthTimer = undefined;
      void this.healthCheck().finally(() => this.scheduleHealthCheck());
    }, this.s.healthCheckInterval);
  }

  /** Check every idle resource now (each is taken out of the idle list while checked). */
  async healthCheck(): Promise<void> {
    const entries = this.idle.splice(0);
    await Promise.all(
      entries.map(async (e) => {
        if (e.resource.closed) {
          this.counters.destroyed++;
          return;
        }
        this.busy.add(e.resource);
        try {
          await this.s.check!(e.resource, this.lifecycle.signal);
          this.busy.delete(e.resource);
          // Back to idle with its original idle time (a check is not use), unless someone waits.
          const w = this.nextWaiter();
          if (w) {
            this.busy.add(e.resource);
            this.counters.acquired++;
            this.settle(w, undefined, e.resource);
          } else if (this.state === 'open') this.idle.unshift(e);
          else {
            this.counters.destroyed++;
            void e.resource.close().catch(() => undefined);
          }
        } catch (err) {
          this.counters.checkFailures++;
          this.busy.delete(e.resource);
          this.discard(e.resource, err);
          this.s.onBackgroundError?.(err);
        }
      }),
    );
    this.fillMinimum();
    this.grow();
    this.checkDrained();
  }

  private stopTimers(): void {
    if (this.sweepTimer !== undefined) this.s.timers.clearTimeout(this.sweepTimer);
    if (this.healthTimer !== undefined) this.s.timers.clearTimeout(this.healthTimer);
    this.sweepTimer = this.healthTimer = undefined;
  }

  private drained(): Promise<void> {
    if (this.busy.size === 0 && this.waiters.length === 0 && this.connecting === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.drainResolve = resolve;
    });
  }

  private checkDrained(): void {
    if (this.drainResolve && this.busy.size === 0 && this.waiters.length === 0 && this.connecting === 0) {
      const r = this.drainResolve;
      this.drainResolve = undefined;
      r();
    }
  }
}
