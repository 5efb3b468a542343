/**
 * Datastores: each an OTMA link to an IMS system over the imsplex "XCF" link (TCP on loopback,
 * frames from `@imsplex/codec`'s xcf.ts). The link connects, bids as an OTMA client (client-bid),
 * reconnects with exponential backoff, and multiplexes the sessions' exchanges by tpipe.
 *
 * The conversation with IMS follows packages/ims/OTMA-LINK.md; every byte layout and flag value
 * comes from the codec (otma.ts / xcf.ts).
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { ResolvedDatastore } from './config/options.js';
import type { DatastoreStatus, ImsEvent, ImsInput, NakOptions, ResumeOption } from './datastore-types.js';
import type { Timers } from './io.js';
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
  /** Connect (OPENDS / start); idempotent. */
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
  reconnect: { initialDelay: number; maxDelay: number };
  /** Connect function (tests may inject an in-memory duplex). */
  connect?: (host: string, port: number) => Socket;
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
  private wanted = false;
  private closedForGood = false;
  private readonly listeners: Array<(s: DatastoreStatus) => void> = [];

  constructor(
    readonly ds: ResolvedDatastore,
    private readonly options: OtmaLinkOptions,
  ) {
    this.id = ds.id;
    this.delay = options.reconnect.initialDelay;
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
    if (!this.socket && this.retry === undefined) this.connect();
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
    if (this.retry !== undefined) this.options.timers.clearTimeout(this.retry);
    this.retry = undefined;
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
    const otma = new OtmaSession({
      hwsId: this.options.hwsId,
      ds: this.ds,
      write: (bytes) => socket.write(bytes),
      log: this.options.log,
      onActive: () => {
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
      const d = this.delay;
      this.delay = Math.min(this.options.reconnect.maxDelay, this.delay * 2);
      this.retry = this.options.timers.setTimeout(() => {
        this.retry = undefined;
        if (this.wanted) this.connect();
      }, d);
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
