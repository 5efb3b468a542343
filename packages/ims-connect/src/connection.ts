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

/**
 * Bytes a plain TCP connection reads at once on the direct read path. [INF] 64 KiB, what Node's own
 * read path asks libuv for per read. One buffer serves every connection of the process: each read is
 * copied out of it before its callback returns (libuv reads one socket at a time, allocation, read()
 * and callback in sequence), so idle connections hold no read buffer at all.
 */
export const CONNECTION_READ_BUFFER = 64 * 1024;
let sharedReadBuffer: Uint8Array | undefined;

/** Node's per-socket user-buffer slots (net.Socket's `onread` option), found once by description. */
interface ReadSlots {
  readonly buffer: symbol;
  readonly callback: symbol;
}
let slots: ReadSlots | null | undefined;

function readSlots(s: object): ReadSlots | null {
  if (slots !== undefined) return slots;
  const own = Object.getOwnPropertySymbols(s);
  const buffer = own.find((x) => x.description === 'kBuffer');
  const callback = own.find((x) => x.description === 'kBufferCb');
  const generator = own.find((x) => x.description === 'kBufferGen');
  slots = buffer && callback && generator ? { buffer, callback } : null;
  return slots;
}

interface SocketHandle {
  reading?: boolean;
  useUserBuffer?: (b: Uint8Array) => void;
}

/**
 * The direct read path's slots when `stream` is a plain TCP socket that has not started reading
 * (the server's listener pauses on connect) and holds nothing yet; null for TLS sockets, in-memory
 * pairs and sockets already read from, which use `'data'` events.
 */
function directSlots(stream: Duplex): ReadSlots | null {
  const h = (stream as unknown as { _handle?: SocketHandle | null })._handle;
  if (!h || typeof h.useUserBuffer !== 'function' || h.reading === true || stream.readableLength !== 0 || stream.destroyed) return null;
  const s = readSlots(stream);
  if (s === null) return null;
  const own = stream as unknown as Record<symbol, unknown>;
  // A socket created with its own `onread` buffer is left as it is.
  return own[s.buffer] === null && own[s.callback] === null ? s : null;
}

/** Copies of read bytes below this size come from a shared slab (like Node's Buffer pool). */
const SLAB_SIZE = 8 * 1024;
const MAX_SLABBED = SLAB_SIZE >>> 1;
/** Reads up to this many bytes are copied by a loop, larger ones by `set` (a memcpy). */
const COPY_LOOP_MAX = 256;
let slab = new ArrayBuffer(SLAB_SIZE);
let slabUsed = 0;

/**
 * `n` bytes of the read buffer copied to memory nobody else writes: the frame reader borrows what it
 * is given (frames are views of it), and the read buffer is refilled by the next read of any
 * connection.
 */
function copyOut(buf: Uint8Array, n: number): Uint8Array {
  let out: Uint8Array;
  if (n >= MAX_SLABBED) {
    out = new Uint8Array(n);
  } else {
    if (slabUsed + n > SLAB_SIZE) {
      slab = new ArrayBuffer(SLAB_SIZE);
      slabUsed = 0;
    }
    out = new Uint8Array(slab, slabUsed, n);
    slabUsed = (slabUsed + n + 7) & ~7;
  }
  if (n <= COPY_LOOP_MAX) {
    // A byte loop for the usual small read: no subarray view object just to copy.
    for (let i = 0; i < n; i++) out[i] = buf[i]!;
  } else {
    out.set(n === buf.length ? buf : buf.subarray(0, n));
  }
  return out;
}

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
  /** True when the client's bytes are read straight into the shared read buffer (plain TCP), not via `data` events. */
  readonly directRead: boolean;

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
    // Plain TCP: read straight into the shared read buffer (no stream machinery, no allocation per
    // read beyond the copy the frame reader keeps). 'data' stays the path for every other duplex.
    const direct = directSlots(stream);
    this.directRead = direct !== null;
    if (direct !== null) {
      const readBuf = (sharedReadBuffer ??= new Uint8Array(CONNECTION_READ_BUFFER));
      const own = stream as unknown as Record<symbol, unknown> & { _handle: SocketHandle };
      own[direct.buffer] = readBuf;
      own[direct.callback] = (n: number): boolean => {
        this.onBytes(copyOut(readBuf, n));
        return true;
      };
      own._handle.useUserBuffer!(readBuf);
    }
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
    // A plain Uint8Array view: the codec's many subarray() calls on it are V8 builtins, not
    // Buffer.prototype.subarray.
    this.onBytes(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  };

  /** Bytes read from the client (`chunk` is never written again: the frame reader borrows it). */
  private onBytes(chunk: Uint8Array): void {
    if (this.closedFlag) return;
    const atFrameStart = this.reader.bufferedBytes === 0;
    try {
      // Completed frames go straight onto the queue (no array per read).
      this.reader.pushInto(chunk, this.queue);
    } catch (e) {
      // Impossible or oversized LLLL: the stream is out of step. When the bad frame began this chunk
      // its IRM_ID is readable, so the RSM can be framed the way the client expects.
      this.queue.length = 0;
      this.feed({ type: 'badFrame', framing: atFrameStart ? framingOf(chunk) : undefined, why: (e as Error).message });
      return;
    }
    this.armReadTimer();
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
  }

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
        // (Emptied by pop(): setting `length` is a runtime call, pop() is inlined.)
        while (actions.length > 0) actions.pop();
        this.session.handleInto(ev, actions);
        this.apply(actions);
      }
      while (actions.length > 0) actions.pop();
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
