/**
 * The edge of one client connection: any duplex stream (a TCP or TLS socket, or one end of an
 * in-memory `duplexPair()`), a request framer, the pure `Session`, the datastore exchange, and one
 * timer. Reads by pull: the stream is paused whenever the session is not ready for the next frame,
 * so a client cannot queue work behind an interaction in flight. One frame per write; a blocked
 * write pauses reading until 'drain' (or the drain timeout destroys the stream).
 */
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { RequestFrameReader } from '@imsplex/codec';
import { FrameWriter, type Timers } from './io.js';
import type { RegisteredClient } from './registry.js';
import { Session, type SessionAction, type SessionContext, type SessionEvent } from './session.js';
import type { ImsEvent, ImsOp } from './datastore-types.js';
import type { DatastoreExchange, DatastoreLink } from './datastore.js';
import { framingOf } from './input.js';

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly timers: Timers;
  readonly now: () => number;
  /** Build the session context for this connection (binds the registry to it). */
  sessionContext(conn: Connection): SessionContext;
  datastore(id: string): DatastoreLink | undefined;
  /** Called once when the connection is gone. */
  closed(conn: Connection): void;
  /** Observability hooks. */
  onRequest?(conn: Connection, type: string): void;
  onRsm?(returnCode: number, reasonCode: number): void;
  onReplyDone?(conn: Connection, seconds: number): void;
  log(level: 'info' | 'warn', msg: string): void;
  /** The session finished its interaction and waits for client input (QUIESCE closes it then). */
  idle?(conn: Connection): void;
}

/** Options of a connection. */
export interface ConnectionOptions {
  maxFrameSize: number;
  drainTimeout: number;
  readTimeout: number;
  /** Frames a client may pipeline ahead of the one being served before it is dropped. */
  maxQueuedFrames?: number;
}

/** One client connection. */
export class Connection implements RegisteredClient {
  readonly session: Session;
  private readonly reader: RequestFrameReader;
  private readonly writer: FrameWriter;
  private readonly queue: Uint8Array[] = [];
  private readonly events: SessionEvent[] = [];
  private readonly actions: SessionAction[] = [];
  private pumping = false;
  private wantRead = false;
  /**
   * The session's one timer. Re-armed for every interaction, so it is reused: disarming only clears
   * `timerArmed` (a handle that fires later is ignored), and re-arming with the same delay refreshes
   * the handle instead of allocating a new timer.
   */
  private timer: unknown = undefined;
  private timerMs = -1;
  private timerArmed = false;
  /** Timer state the session asked for during the current pump (undefined: no change). */
  private wantTimer: number | null | undefined = undefined;
  private readTimer: unknown = undefined;
  private exchange: DatastoreExchange | undefined;
  private closedFlag = false;
  private requestStarted = 0;
  private readonly maxQueued: number;
  readonly remoteAddress: string;
  readonly remotePort: number;

  constructor(
    readonly stream: Duplex,
    readonly port: number,
    private readonly host: ConnectionHost,
    private readonly options: ConnectionOptions,
  ) {
    const sock = stream as Partial<Socket>;
    this.remoteAddress = sock.remoteAddress ?? 'memory';
    this.remotePort = sock.remotePort ?? 0;
    this.maxQueued = options.maxQueuedFrames ?? 4;
    this.reader = new RequestFrameReader({ maxFrameSize: options.maxFrameSize });
    this.writer = new FrameWriter(stream, options.drainTimeout, host.timers);
    this.session = new Session(host.sessionContext(this), host.now);
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('error', this.onError);
    stream.on('close', this.onEnd);
    stream.pause();
    this.apply(this.session.start());
    this.flushTimer();
    this.drive();
  }

  /** True once closed. */
  get closed(): boolean {
    return this.closedFlag;
  }

  // RegisteredClient
  stop(why: 'duplicate' | 'operator' | 'shutdown'): void {
    this.feed({ type: 'stop', why });
  }

  cancelTimer(): boolean {
    const s = this.session.displayState().state;
    if (s !== 'CONN') return false;
    this.feed({ type: 'cancelTimer' });
    return true;
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.closedFlag) return;
    let frames: Uint8Array[];
    const atFrameStart = this.reader.bufferedBytes === 0;
    try {
      // A plain Uint8Array view: the codec's many subarray() calls on it are V8 builtins, not
      // Buffer.prototype.subarray.
      frames = this.reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } catch (e) {
      // Impossible or oversized LLLL: the stream is out of step. When the bad frame began this chunk
      // its IRM_ID is readable, so the RSM can be framed the way the client expects.
      this.queue.length = 0;
      this.feed({ type: 'badFrame', framing: atFrameStart ? framingOf(chunk) : undefined, why: (e as Error).message });
      return;
    }
    this.armReadTimer();
    for (let i = 0; i < frames.length; i++) this.queue.push(frames[i]!);
    if (this.queue.length > this.maxQueued) {
      this.host.log('warn', `client on port ${this.port} pipelined more than ${this.maxQueued} messages; connection dropped`);
      this.feed({ type: 'eof' });
      return;
    }
    this.drive();
    // Pull: a frame that must wait for the one in flight stops the socket's reading until the
    // session asks for more (pausing only then keeps the usual one-request-at-a-time client free of
    // the readStop/readStart cost).
    if (this.queue.length > 0 && !this.closedFlag) this.stream.pause();
  };

  private readonly onEnd = (): void => {
    this.feed({ type: 'eof' });
  };

  private readonly onError = (err: Error): void => {
    this.host.log('info', `client connection on port ${this.port} failed: ${err.message}`);
    this.feed({ type: 'eof' });
  };

  private armReadTimer(): void {
    const partial = this.reader.bufferedBytes > 0;
    if (partial && this.readTimer === undefined) {
      this.readTimer = this.host.timers.setTimeout(() => {
        this.readTimer = undefined;
        this.host.log('warn', `client on port ${this.port} sent a partial message and stalled for ${this.options.readTimeout} ms; connection dropped`);
        this.feed({ type: 'eof' });
      }, this.options.readTimeout);
    } else if (!partial && this.readTimer !== undefined) {
      this.host.timers.clearTimeout(this.readTimer);
      this.readTimer = undefined;
    }
  }

  /** Give the session the next queued frame when it is ready for one. */
  private drive(): void {
    if (this.closedFlag || !this.wantRead) return;
    if (this.writer.blocked) {
      this.stream.pause();
      void this.writer.whenWritable().then(() => this.drive());
      return;
    }
    const frame = this.queue.shift();
    if (frame) {
      this.wantRead = false;
      if (this.host.onReplyDone) this.requestStarted = this.host.now();
      this.feed({ type: 'frame', bytes: frame });
      return;
    }
    if (this.stream.isPaused()) this.stream.resume();
  }

  /** Queue an event for the session; events are handled one at a time, never re-entrantly. */
  feed(event: SessionEvent): void {
    if (this.closedFlag) return;
    this.events.push(event);
    if (this.pumping) return;
    this.pumping = true;
    try {
      const actions = this.actions;
      for (let ev = this.events.shift(); ev; ev = this.events.shift()) {
        if (this.closedFlag) break;
        // One array for every event: its actions are done before the next event is handled (an event
        // raised meanwhile, e.g. by a datastore answering inside send(), is queued, never nested).
        actions.length = 0;
        this.session.handleInto(ev, actions);
        this.apply(actions);
      }
      actions.length = 0;
    } finally {
      this.pumping = false;
    }
    this.flushTimer();
    if (!this.closedFlag && !this.session.busy) {
      // Between interactions nothing is owed to IMS: let go of the finished exchange (and the input
      // it references), so an idle connection stays small.
      this.exchange = undefined;
      this.host.idle?.(this);
    }
    this.drive();
  }

  private apply(actions: SessionAction[]): void {
    // Index loop: no iterator object per pump.
    for (let i = 0; i < actions.length; i++) {
      const a = actions[i]!;
      switch (a.type) {
        case 'write':
          this.writer.write(a.bytes);
          if (a.rsm) this.host.onRsm?.(a.rsm.returnCode, a.rsm.reasonCode);
          this.host.onReplyDone?.(this, (this.host.now() - this.requestStarted) / 1000);
          break;
        case 'close':
          this.shutdown();
          break;
        case 'read':
          this.wantRead = true;
          break;
        case 'timer':
          // Applied once when the pump ends: an IMS wait armed and ended in the same pump (a datastore
          // that answers at once) then costs no timer operation at all.
          this.wantTimer = a.ms;
          break;
        case 'ims':
          this.runIms(a.op);
          break;
        case 'log':
          this.host.log(a.level, a.msg);
          break;
      }
    }
  }

  private flushTimer(): void {
    const ms = this.wantTimer;
    if (ms === undefined) return;
    this.wantTimer = undefined;
    if (!this.closedFlag) this.armTimer(ms);
  }

  private armTimer(ms: number | null): void {
    if (ms === null) {
      this.timerArmed = false;
      return;
    }
    this.timerArmed = true;
    const t = this.host.timers;
    if (this.timer !== undefined) {
      if (ms === this.timerMs && t.refresh?.(this.timer)) return;
      t.clearTimeout(this.timer);
    }
    this.timerMs = ms;
    this.timer = t.setTimeout(this.onTimer, ms);
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (!this.timerArmed) return; // disarmed since: nothing to do
    this.timerArmed = false;
    this.feed({ type: 'timer' });
  };

  private runIms(op: ImsOp): void {
    switch (op.op) {
      case 'send':
      case 'resume':
      case 'deallocate': {
        const link = this.host.datastore(op.datastore);
        if (!link) {
          queueMicrotask(() => this.feed({ type: 'ims', event: { ev: 'linkDown' } }));
          return;
        }
        // `let`, not `const`: a link that calls the sink inside send() must find `ex` undefined (the
        // event is dropped), not hit the temporal dead zone.
        // eslint-disable-next-line prefer-const
        let ex: DatastoreExchange | undefined;
        // Drop events of an exchange this connection has already let go of (one closure per exchange).
        const deliver = (ev: ImsEvent) => {
          if (ex !== undefined && this.exchange === ex) this.feed({ type: 'ims', event: ev });
        };
        ex = op.op === 'send' ? link.send(op.input, deliver) : op.op === 'resume' ? link.resume(op.tpipe, op.option, op.callout, op.userId, deliver) : link.deallocate(op.tpipe, deliver);
        this.exchange = ex;
        ex.start();
        break;
      }
      case 'ack':
        this.exchange?.ack();
        break;
      case 'nak':
        this.exchange?.nak(op.options);
        break;
      case 'abandon':
        this.exchange?.abandon();
        this.exchange = undefined;
        break;
    }
  }

  private shutdown(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.wantRead = false;
    if (this.timer !== undefined) this.host.timers.clearTimeout(this.timer);
    this.timerArmed = false;
    if (this.readTimer !== undefined) this.host.timers.clearTimeout(this.readTimer);
    this.timer = this.readTimer = undefined;
    this.exchange?.abandon();
    this.exchange = undefined;
    this.stream.off('data', this.onData);
    this.writer.dispose();
    // end() flushes the last reply (an RSM) before the FIN; destroy when the peer never reads.
    if (!this.stream.destroyed) {
      this.stream.end();
      const t = this.host.timers.setTimeout(() => this.stream.destroy(), this.options.drainTimeout);
      this.stream.once('close', () => this.host.timers.clearTimeout(t));
      this.stream.resume(); // discard anything the client still sends
    }
    this.host.closed(this);
  }
}
