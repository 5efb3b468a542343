/**
 * Datastores: each an OTMA link to an IMS system over the imsplex "XCF" link (TCP on loopback,
 * frames from `@imsplex/codec`'s xcf.ts). The link connects, bids as an OTMA client (client-bid),
 * reconnects with capped, jittered exponential backoff (at once after losing an active link, and
 * early when a client asks for the datastore), and multiplexes the sessions' exchanges by tpipe.
 *
 * The conversation with IMS follows packages/ims/OTMA-LINK.md; every byte layout and flag value
 * comes from the codec (otma.ts / xcf.ts).
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { ResolvedDatastore } from './config/options.js';
import type { DatastoreStatus, ImsEvent, ImsInput, NakOptions, ResumeOption } from './datastore-types.js';
import type { Timers } from './io.js';
import type { FlushScheduler } from './link-writer.js';
import { OtmaSession } from './otma-session.js';

/** One outstanding exchange of a session with IMS. */
export interface DatastoreExchange {
  /** Send the first message (called once by the connection after it stored the exchange). */
  start(): void;
  ack(): void;
  nak(options: NakOptions): void;
  /** Give up: late output is NAKed back to IMS so it lands on the hold queue (CM0) or backs out (CM1). */
  abandon(): void;
}

/** A datastore as IMS Connect uses it. */
export interface DatastoreLink {
  readonly id: string;
  status(): DatastoreStatus;
  /** Listen to status changes. */
  onStatus(fn: (status: DatastoreStatus) => void): void;
  send(input: ImsInput, sink: (ev: ImsEvent) => void): DatastoreExchange;
  resume(tpipe: string, option: ResumeOption, callout: 'none' | 'only' | 'first', userId: string, sink: (ev: ImsEvent) => void): DatastoreExchange;
  deallocate(tpipe: string, sink: (ev: ImsEvent) => void): DatastoreExchange;
  /**
   * CSM/RSM X'80' (`CSM_AMSG`) hook: true when asynchronous output waits on `tpipe`'s hold queue, as
   * far as the link knows at the time of the call. Optional: a link without it never sets the flag.
   */
  asyncOutputQueued?(tpipe: string): boolean;
  /**
   * A fresh sign that the datastore is wanted now (a client asked for it while it was not active).
   * Optional: an OTMA link waiting to reconnect tries at once instead of at the end of its backoff
   * (rate-limited to one attempt per initial delay).
   */
  kick?(): void;
  /** Connect (OPENDS / start); idempotent. While waiting to reconnect, tries at once. */
  open(): void;
  /** Stop by command (STOPDS): close the link and refuse work until `open()`. */
  stop(): void;
  /** Close for good (shutdown). */
  close(): void;
}

/** Options of an OTMA link. */
export interface OtmaLinkOptions {
  /** HWS ID (the default XCF member name). */
  hwsId: string;
  timers: Timers;
  log: (level: 'info' | 'warn', msg: string) => void;
  /**
   * Reconnect backoff: the first retry after a failed attempt waits `initialDelay` ms, each further one
   * doubles up to `maxDelay`; `jitter` (0–1) shortens every wait by a random fraction up to that
   * share, so many IMS Connects do not retry in step and no wait exceeds `maxDelay`.
   */
  reconnect: { initialDelay: number; maxDelay: number; jitter?: number };
  /** Random numbers in [0, 1) for the jitter (default `Math.random`; tests inject a fixed one). */
  random?: () => number;
  /** Millisecond clock for rate-limiting `kick()` (default `Date.now`). */
  now?: () => number;
  /** Connect function (tests may inject an in-memory duplex). */
  connect?: (host: string, port: number) => Socket;
  /**
   * When the OTMA frames sent in one event-loop turn are written, as one write (default: the next
   * check phase, `setImmediate`; see link-writer.ts).
   */
  flushScheduler?: FlushScheduler;
}

/**
 * The OTMA link to one IMS system. Status: `NOT ACTIVE` before the first connect, `ACTIVE` once IMS
 * accepted the client-bid, `DISCONNECT` while reconnecting, `STOPPED` after STOPDS.
 */
export class OtmaDatastoreLink implements DatastoreLink {
  readonly id: string;
  private state: DatastoreStatus = 'NOT ACTIVE';
  private socket: Socket | undefined;
  private otma: OtmaSession | undefined;
  private delay: number;
  private retry: unknown = undefined;
  /** When the last connect attempt started (`now()`), for rate-limiting `kick()`. */
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private readonly random: () => number;
  private readonly now: () => number;
  private wanted = false;
  private closedForGood = false;
  private readonly listeners: Array<(s: DatastoreStatus) => void> = [];

  constructor(
    readonly ds: ResolvedDatastore,
    private readonly options: OtmaLinkOptions,
  ) {
    this.id = ds.id;
    this.delay = options.reconnect.initialDelay;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  status(): DatastoreStatus {
    return this.state;
  }

  onStatus(fn: (status: DatastoreStatus) => void): void {
    this.listeners.push(fn);
  }

  private setState(s: DatastoreStatus): void {
    if (s === this.state) return;
    this.state = s;
    for (const fn of this.listeners) fn(s);
  }

  open(): void {
    if (this.closedForGood) return;
    this.wanted = true;
    if (this.state === 'STOPPED') this.setState('NOT ACTIVE');
    // OPENDS while a retry waits is an operator's fresh signal: try now rather than at the retry.
    if (this.retry !== undefined) this.cancelRetry();
    if (!this.socket) this.connect();
  }

  kick(): void {
    if (this.retry === undefined || !this.wanted || this.closedForGood) return;
    // At most one early attempt per initial delay: a burst of requests for a datastore that is down
    // must not become a burst of connects.
    if (this.now() - this.lastAttempt < this.options.reconnect.initialDelay) return;
    this.cancelRetry();
    this.connect();
  }

  private cancelRetry(): void {
    if (this.retry !== undefined) this.options.timers.clearTimeout(this.retry);
    this.retry = undefined;
  }

  /**
   * Wait before the next attempt: `base` shortened by up to `jitter` of itself. [INF] imsplex choice:
   * "equal-ish" jitter below the cap rather than around it, so `maxDelay` is a hard bound on how long
   * a restarted IMS can stay unnoticed (plus the connect and client-bid).
   */
  private jittered(base: number): number {
    const j = this.options.reconnect.jitter ?? 0;
    const r = Math.min(Math.max(this.random(), 0), 1);
    return Math.max(0, Math.round(base * (1 - j * r)));
  }

  private scheduleRetry(ms: number): void {
    this.retry = this.options.timers.setTimeout(() => {
      this.retry = undefined;
      if (this.wanted && !this.socket) this.connect();
    }, ms);
  }

  stop(): void {
    this.wanted = false;
    this.teardown('STOPPED');
    this.options.log('info', `HWSD0260I DS=${this.id} STOPPED BY COMMAND`);
  }

  close(): void {
    this.closedForGood = true;
    this.wanted = false;
    this.teardown('NOT ACTIVE');
  }

  private teardown(next: DatastoreStatus): void {
    this.cancelRetry();
    const s = this.socket;
    this.socket = undefined;
    this.otma?.linkDown();
    this.otma = undefined;
    s?.destroy();
    this.setState(next);
  }

  private connect(): void {
    const addr = this.ds.address;
    if (!addr) {
      this.options.log('warn', `HWSD0202W DS=${this.id} HAS NO XCFADDR; DATASTORE NOT ACTIVE`);
      return;
    }
    const socket = this.options.connect ? this.options.connect(addr.host, addr.port) : netConnect({ host: addr.host, port: addr.port, noDelay: true });
    socket.setNoDelay?.(true);
    this.socket = socket;
    this.lastAttempt = this.now();
    let wasActive = false;
    const otma = new OtmaSession({
      hwsId: this.options.hwsId,
      ds: this.ds,
      write: (bytes) => {
        if (!socket.destroyed) socket.write(bytes);
      },
      log: this.options.log,
      ...(this.options.flushScheduler ? { flushScheduler: this.options.flushScheduler } : {}),
      onActive: () => {
        wasActive = true;
        this.delay = this.options.reconnect.initialDelay;
        this.setState('ACTIVE');
        this.options.log('info', `HWSD0290I CONNECTED TO DATASTORE=${this.id} GROUP=${this.ds.group} MEMBER=${this.ds.member} TARGET MEMBER=${this.ds.tmember}`);
      },
      onFatal: (why) => {
        this.options.log('warn', `HWSD0282I COMMUNICATION WITH DS=${this.id} FAILED: ${why}`);
        socket.destroy();
      },
    });
    this.otma = otma;
    socket.on('connect', () => otma.bid());
    socket.on('data', (chunk: Buffer) => otma.receive(chunk));
    socket.on('error', (err) => this.options.log('info', `datastore ${this.id} link error: ${err.message}`));
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.otma = undefined;
      otma.linkDown();
      if (!this.wanted) return;
      this.setState('DISCONNECT');
      if (wasActive) {
        // A link that was up just went down (IMS stopped, or the link blipped): that is a fresh signal,
        // so the first attempt goes now (on the next timer turn, never re-entrantly); the backoff
        // applies from the first failure on.
        this.scheduleRetry(0);
        return;
      }
      const d = this.delay;
      this.delay = Math.min(this.options.reconnect.maxDelay, this.delay * 2);
      this.scheduleRetry(this.jittered(d));
    });
  }

  private current(sink: (ev: ImsEvent) => void): OtmaSession | undefined {
    if (this.state !== 'ACTIVE' || !this.otma) {
      queueMicrotask(() => sink({ ev: 'linkDown' }));
      return undefined;
    }
    return this.otma;
  }

  send(input: ImsInput, sink: (ev: ImsEvent) => void): DatastoreExchange {
    const otma = this.current(sink);
    return otma ? otma.transaction(input, sink) : deadExchange;
  }

  resume(tpipe: string, option: ResumeOption, callout: 'none' | 'only' | 'first', userId: string, sink: (ev: ImsEvent) => void): DatastoreExchange {
    const otma = this.current(sink);
    return otma ? otma.resume(tpipe, option, callout, userId, sink) : deadExchange;
  }

  deallocate(tpipe: string, sink: (ev: ImsEvent) => void): DatastoreExchange {
    const otma = this.current(sink);
    return otma ? otma.deallocate(tpipe, sink) : deadExchange;
  }

  /** True when IMS's last hold-queue depth signal for `tpipe` was non-zero (otma-adapter.ts). */
  asyncOutputQueued(tpipe: string): boolean {
    return (this.otma?.holdQueueDepth(tpipe) ?? 0) > 0;
  }
}

/** The exchange returned when the link is down: the sink already got `linkDown`. */
const deadExchange: DatastoreExchange = { start() {}, ack() {}, nak() {}, abandon() {} };
