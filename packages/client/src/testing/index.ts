/**
 * `@imsplex/client/testing` — an in-memory IMS Connect for unit tests, no mainframe needed.
 *
 * It speaks the real HWSSMPL0/HWSSMPL1 bytes (decoded and encoded with `@imsplex/codec` only) over an
 * in-memory duplex pair (`server.connector`) or a TCP/TLS listener on loopback (`server.listen()`),
 * and models what a client can observe of IMS Connect: socket types, client IDs unique per server,
 * commit modes 0/1, sync levels NONE/CONFIRM with ACK/NAK, conversations and DEALLOCATE, tpipe hold
 * queues with RESUME TPIPE (single, single-wait, no-auto, auto), send-only variants, CANCEL TIMER,
 * PING, unknown datastores (RSM 8/72) and unknown transactions (DFS064 text).
 *
 * Transactions are answered by your handlers; an RSM can be injected for the next request, and a
 * handler can drop the connection after the request arrived (to test in-doubt handling).
 *
 * ```ts
 * const ims = createTestImsConnect({ handlers: { IVTNO: (tx) => `ECHO ${tx.text}` } });
 * const client = createClient({ connector: ims.connector, datastore: 'IMS1' });
 * ```
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { duplexPair, type Duplex } from 'node:stream';
import {
  CodecError,
  IrmTimer,
  PING_REQUEST_TEXT,
  SocketType,
  ReasonCode,
  RequestFrameReader,
  ReturnCode,
  StatusFlag,
  csm,
  deallocateReply,
  decodeRequest,
  encodeReply,
  getCodePage,
  irmTimerToMs,
  segmentsText,
  statusReply,
  trancodeOf,
  type DataReply,
  type ImsReply,
  type ImsRequest,
  type MessageType,
  type SampleUserPart,
} from '@imsplex/codec';
import { type Connector, type Endpoint } from '../transport.js';
import { PING_RESPONSE_MESSAGE_ID } from '../wire.js';
import { defaultTimers, type TimerHandle, type Timers } from '../timers.js';
import { invalidArgument } from '../errors.js';

/** What a transaction handler sees. */
export interface TestTransaction {
  /** Transaction code (from the first 8 bytes of the first segment). */
  readonly trancode: string;
  /** Segments as sent (the first starts with the trancode). */
  readonly segments: readonly Uint8Array[];
  /** Data after the trancode, decoded with the server's code page. */
  readonly text: string;
  readonly clientId: string;
  readonly datastore: string;
  readonly commitMode: 0 | 1;
  readonly syncLevel: 'none' | 'confirm';
  /** Message type (`SEND_RECEIVE`, `SEND_ONLY`, …). */
  readonly messageType: MessageType;
  /** RACF user ID from the IRM. */
  readonly userId: string;
  /** LTERM override from the IRM. */
  readonly lterm: string;
  /** Conversation state: `undefined` for a new transaction; on continuation the step number and the SPA you kept. */
  readonly conversation: { readonly step: number; spa: unknown } | undefined;
  /** The decoded request. */
  readonly request: ImsRequest;
}

/** A handler's answer. Text/bytes/arrays are the output segments. */
export type HandlerResult =
  | string
  | Uint8Array
  | ReadonlyArray<string | Uint8Array>
  | {
      /** Output segments. */
      readonly output?: string | Uint8Array | ReadonlyArray<string | Uint8Array>;
      /** Keep the conversation going (CSM X'40'); `spa` is handed back on the next step. */
      readonly conversation?: { readonly spa?: unknown };
      /** Answer with this RSM instead. */
      readonly rsm?: { readonly returnCode: number; readonly reasonCode: number };
      /** Close the connection without answering (the request was received: an in-doubt case). */
      readonly drop?: boolean;
      /** MFS MOD name to return when the client asked for it. */
      readonly modname?: string;
    };

/** A transaction program. */
export type TransactionHandler = (tx: TestTransaction) => HandlerResult | Promise<HandlerResult>;

/** Options of `createTestImsConnect`. */
export interface TestImsConnectOptions {
  /** Handlers by transaction code (upper case). */
  readonly handlers?: Readonly<Record<string, TransactionHandler>>;
  /** Datastore IDs this IMS Connect knows. Default `['IMS1']`. */
  readonly datastores?: readonly string[];
  /** Code page for text. Default `cp037`. */
  readonly codePage?: string;
  /** Timers for IRM timer waits (single-wait / auto). Default the globals. */
  readonly timers?: Timers;
  /**
   * Answer an empty RESUME TPIPE / the wait after an ACK at once instead of after the IRM timer.
   * Default true (fast tests); single-wait and auto always wait for output or their timer.
   */
  readonly immediateTimeouts?: boolean;
  /**
   * How many of the most recent requests `requests` and `frames` keep (older ones are dropped).
   * Default 10,000: enough for any test, bounded for long runs such as benchmarks.
   */
  readonly maxRecorded?: number;
}

/** Counters of the test server. */
export interface TestImsConnectStats {
  readonly connections: number;
  readonly openConnections: number;
  readonly requests: number;
  readonly acks: number;
  readonly naks: number;
}

/** The in-memory IMS Connect. */
export interface TestImsConnect {
  /** Stream opener for `createClient({ connector })`. */
  readonly connector: Connector;
  /** Serve over TCP (or TLS) on loopback. Default host 127.0.0.1, port 0. */
  listen(options?: { host?: string; port?: number; tls?: tls.TlsOptions }): Promise<Endpoint>;
  /** Put output on the hold queue of `tpipe` (as CM0 output IMS could not deliver). */
  hold(tpipe: string, output: string | Uint8Array | ReadonlyArray<string | Uint8Array>): void;
  /** Messages on a tpipe's hold queue (each an array of segments). */
  holdQueue(tpipe: string): readonly (readonly Uint8Array[])[];
  /** Answer the next send-receive (optionally only for `trancode`) with this RSM. */
  injectRsm(rsm: { returnCode: number; reasonCode: number; trancode?: string }): void;
  /** Every request decoded, in arrival order (the last `maxRecorded`). */
  readonly requests: readonly ImsRequest[];
  /** Every request frame as received (bytes), in arrival order (the last `maxRecorded`). */
  readonly frames: readonly Uint8Array[];
  /** Client IDs of the open connections. */
  activeClientIds(): string[];
  /** Close every open connection from the server side (as IMS Connect restarting would). */
  disconnectAll(): void;
  stats(): TestImsConnectStats;
  /** Close the listener and every connection. */
  close(): Promise<void>;
}

type Pending =
  | { kind: 'cm1'; conversational: boolean }
  | { kind: 'cm0'; tpipe: string; message: Uint8Array[] }
  | { kind: 'resume'; mode: ResumeKind; tpipe: string; message: Uint8Array[] };

type ResumeKind = 'single' | 'single-wait' | 'no-auto' | 'auto';

/** What a transaction handler produced. */
interface RanResult {
  readonly output: Uint8Array[];
  readonly conversation?: { readonly spa?: unknown };
  readonly rsm?: { readonly returnCode: number; readonly reasonCode: number };
  readonly drop?: boolean;
  readonly modname?: string;
}
/** A handler's result, or no handler for the transaction code. */
type RunResult = RanResult | { readonly unknown: true };
const UNKNOWN: RunResult = Object.freeze({ unknown: true as const });

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

const SOCKET_PERSISTENT = SocketType.PERSISTENT;

/**
 * DFS064 text for an unknown transaction (spec §9.3, §13.8). [UNV] IBM's exact layout after the
 * message number was not seen; this test server uses the documented wording.
 */
function dfs064(trancode: string): string {
  return `DFS064 DESTINATION CAN NOT BE FOUND OR CREATED, DEST=${trancode}`;
}

/** Create an in-memory IMS Connect. */
export function createTestImsConnect(options: TestImsConnectOptions = {}): TestImsConnect {
  const handlers = new Map(Object.entries(options.handlers ?? {}).map(([k, v]) => [k.toUpperCase(), v]));
  const datastores = new Set((options.datastores ?? ['IMS1']).map((d) => d.toUpperCase()));
  const page = getCodePage((options.codePage ?? 'cp037') as Parameters<typeof getCodePage>[0]);
  const timers = options.timers ?? defaultTimers;
  const immediate = options.immediateTimeouts ?? true;
  const maxRecorded = options.maxRecorded ?? 10_000;
  if (!Number.isInteger(maxRecorded) || maxRecorded < 1) throw invalidArgument(`maxRecorded must be a positive integer; got ${String(maxRecorded)}`, { option: 'maxRecorded', value: maxRecorded });
  const queues = new Map<string, Uint8Array[][]>();
  const queueWaiters = new Map<string, Set<() => void>>();
  const injected: { returnCode: number; reasonCode: number; trancode?: string }[] = [];
  const requests: ImsRequest[] = [];
  const frames: Uint8Array[] = [];
  const sessions = new Set<Session>();
  const byClientId = new Map<string, Session>();
  const servers = new Set<net.Server>();
  const counters = { connections: 0, requests: 0, acks: 0, naks: 0 };

  const toSegments = (o: string | Uint8Array | ReadonlyArray<string | Uint8Array>): Uint8Array[] => {
    if (typeof o === 'string') return [page.encode(o)];
    if (o instanceof Uint8Array) return [o];
    const out: Uint8Array[] = [];
    for (const p of o) out.push(typeof p === 'string' ? page.encode(p) : p);
    return out;
  };
  /** A handler's answer in one shape. */
  const handlerResult = (r: HandlerResult): RunResult => {
    if (typeof r === 'string' || r instanceof Uint8Array || Array.isArray(r)) return { output: toSegments(r as string) };
    const o = r as Exclude<HandlerResult, string | Uint8Array | ReadonlyArray<string | Uint8Array>>;
    const out: { -readonly [K in keyof RanResult]: RanResult[K] } = { output: o.output === undefined ? [] : toSegments(o.output) };
    if (o.conversation) out.conversation = o.conversation;
    if (o.rsm) out.rsm = o.rsm;
    if (o.drop) out.drop = true;
    if (o.modname) out.modname = o.modname;
    return out;
  };

  const queueOf = (tpipe: string): Uint8Array[][] => {
    let q = queues.get(tpipe);
    if (!q) queues.set(tpipe, (q = []));
    return q;
  };
  const notify = (tpipe: string): void => {
    for (const w of [...(queueWaiters.get(tpipe) ?? [])]) w();
  };
  const hold = (tpipe: string, message: Uint8Array[], front = false): void => {
    const q = queueOf(tpipe.toUpperCase());
    if (front) q.unshift(message);
    else q.push(message);
    notify(tpipe.toUpperCase());
  };

  class Session {
    private readonly reader = new RequestFrameReader();
    clientId: string | undefined;
    socketType: number = SOCKET_PERSISTENT;
    private pending: Pending | undefined;
    private conversation: { trancode: string; step: number; spa: unknown } | undefined;
    private waiting: { cancel: () => void } | undefined;
    /** Frames received and not yet handled, in order; handled one at a time (`pump`). */
    private readonly queue: Uint8Array[] = [];
    private pumping = false;
    private readonly pumpBound = (): void => this.pump();
    private closed = false;
    private llll = true;
    private codeSet: 'ebcdic' | 'ascii' = 'ebcdic';
    private done = false;

    constructor(private readonly stream: Duplex) {
      counters.connections++;
      sessions.add(this);
      stream.on('data', (chunk: Uint8Array) => this.onData(chunk));
      stream.on('error', () => this.teardown());
      stream.on('close', () => this.teardown());
      stream.on('end', () => this.teardown());
    }

    private onData(chunk: Uint8Array): void {
      let got: Uint8Array[];
      try {
        got = this.reader.push(chunk);
      } catch (e) {
        this.fail(e);
        return;
      }
      for (const frame of got) this.queue.push(frame.slice());
      if (got.length > 0 && !this.pumping) {
        this.pumping = true;
        // Handle on a later tick, never inside the 'data' event (the writer's write() may emit it).
        queueMicrotask(this.pumpBound);
      }
    }

    /** Handle queued frames in order; a frame whose handling is asynchronous resumes the pump when done. */
    private pump(): void {
      while (this.queue.length > 0) {
        const frame = this.queue.shift()!;
        let done: void | Promise<void>;
        try {
          done = this.handle(frame);
        } catch (e) {
          this.fail(e);
          continue;
        }
        if (done !== undefined) {
          done.then(this.pumpBound, (e: unknown) => {
            this.fail(e);
            this.pump();
          });
          return;
        }
      }
      this.pumping = false;
    }

    private fail(e: unknown): void {
      const reason = e instanceof CodecError && typeof e.details.reason === 'number' ? e.details.reason : ReasonCode.INVALID_BUFFER;
      this.send(statusReply(ReturnCode.IMS_CONNECT_ERROR, reason));
      this.close();
    }

    private send(reply: ImsReply): void {
      if (this.closed) return;
      // One frame per write.
      this.stream.write(encodeReply(reply, { llll: this.llll, codeSet: this.codeSet }));
    }

    private status(returnCode: number, reasonCode: number): void {
      this.send(statusReply(returnCode, reasonCode));
      if (returnCode !== ReturnCode.TIMER_EXPIRED_KEEP && returnCode !== ReturnCode.PING_REPLY && returnCode !== ReturnCode.CANCEL_TIMER_DONE && returnCode !== ReturnCode.OK) this.close();
    }

    /** The RSM that ends a wait: RC 40 on a persistent socket, 32 (and close) otherwise. */
    private timerExpired(timer: number): void {
      if (this.socketType === SOCKET_PERSISTENT) this.status(ReturnCode.TIMER_EXPIRED_KEEP, timer);
      else this.status(timer === IrmTimer.DEFAULT ? ReturnCode.DEFAULT_TIMER_EXPIRED : ReturnCode.TIMER_EXPIRED_CLOSE, timer);
    }

    /** After a complete interaction: transaction and non-persistent sockets close. */
    private interactionDone(): void {
      if (this.socketType !== SOCKET_PERSISTENT && this.pending === undefined && this.conversation === undefined) this.close();
    }

    close(): void {
      if (this.closed) return;
      this.stream.end();
      this.teardown();
    }

    destroy(): void {
      this.stream.destroy();
      this.teardown();
    }

    private teardown(): void {
      if (this.closed) return;
      this.closed = true;
      this.waiting?.cancel();
      // Output waiting for an ACK that never came goes back to its hold queue (CM0 / RESUME TPIPE).
      const p = this.pending;
      if (p && (p.kind === 'cm0' || p.kind === 'resume')) hold(p.tpipe, p.message, true);
      this.pending = undefined;
      if (this.clientId && byClientId.get(this.clientId) === this) byClientId.delete(this.clientId);
      sessions.delete(this);
      if (!this.stream.destroyed) this.stream.destroy();
    }

    /** Handle one request; a promise when the answer waits for an asynchronous handler. */
    private handle(frame: Uint8Array): void | Promise<void> {
      if (this.closed) return;
      frames.push(frame);
      // shift() on a fast array is O(1) in V8 (left-trimming), so the bound costs nothing.
      if (frames.length > maxRecorded) frames.shift();
      const req = decodeRequest(frame, { allowEmpty: false });
      requests.push(req);
      if (requests.length > maxRecorded) requests.shift();
      counters.requests++;
      this.llll = req.exit.id !== '*SAMPLE*';
      this.codeSet = req.codeSet;
      const user = req.irm.user;
      if (user === null || user.kind !== 'sample') {
        this.status(ReturnCode.IMS_CONNECT_ERROR, ReasonCode.INVALID_BUFFER);
        return;
      }
      const type = user.f4.type;
      const clientId = req.irm.clientId;
      this.socketType = req.irm.socketType;
      if (type === 'CANCEL_TIMER') {
        const other = byClientId.get(clientId);
        if (other && other !== this) other.cancelWait();
        this.status(ReturnCode.CANCEL_TIMER_DONE, ReasonCode.CANTIMER);
        return;
      }
      if (this.clientId === undefined) {
        const holder = byClientId.get(clientId);
        if (holder && holder !== this) {
          if (user.f3.cancelClientId) holder.destroy();
          else {
            this.status(ReturnCode.IMS_CONNECT_ERROR, ReasonCode.DUPECLNT);
            return;
          }
        }
        this.clientId = clientId;
        byClientId.set(clientId, this);
      }
      if (type !== 'ACK' && type !== 'NAK' && type !== 'DEALLOCATE' && type !== 'RESUME_TPIPE' && !datastores.has(user.datastore.toUpperCase())) {
        this.status(ReturnCode.IMS_CONNECT_ERROR, ReasonCode.NFNDDST);
        return;
      }
      switch (type) {
        case 'SEND_RECEIVE':
          return this.sendReceive(req, user);
        case 'SEND_ONLY':
        case 'SEND_ONLY_ERRORS':
        case 'SEND_ONLY_ACK':
          return this.sendOnly(req, user, type);
        case 'ACK':
        case 'NAK':
          return this.ackNak(req, user, type === 'ACK');
        case 'RESUME_TPIPE':
          return this.resume(req, user);
        case 'DEALLOCATE':
          if (!this.conversation) return this.status(ReturnCode.IMS_CONNECT_ERROR, ReasonCode.PROTOCOL_ERROR);
          this.conversation = undefined;
          this.pending = undefined;
          this.send(deallocateReply(true));
          this.interactionDone();
          return;
        default:
          return this.status(ReturnCode.IMS_CONNECT_ERROR, ReasonCode.PROTOCOL_ERROR);
      }
    }

    private transaction(req: ImsRequest, user: SampleUserPart, type: MessageType): TestTransaction {
      const conv = this.conversation;
      return {
        trancode: conv?.trancode ?? trancodeOf(req.segments, page),
        segments: req.segments,
        text: segmentsText(req.segments, page, { skipTrancode: true }),
        clientId: this.clientId ?? '',
        datastore: user.datastore,
        commitMode: user.f2.commitMode === 'CM0' ? 0 : 1,
        syncLevel: user.f3.syncLevel === 'CONFIRM' ? 'confirm' : 'none',
        messageType: type,
        userId: user.racfUserId,
        lterm: user.lterm,
        conversation: conv ? { step: conv.step, spa: conv.spa } : undefined,
        request: req,
      };
    }

    /** Run the handler; the result is a promise only when the handler's is (no await for plain values). */
    private run(tx: TestTransaction): RunResult | Promise<RunResult> {
      const h = handlers.get(tx.trancode.toUpperCase());
      if (!h) return UNKNOWN;
      const r = h(tx);
      return isThenable(r) ? Promise.resolve(r).then(handlerResult) : handlerResult(r);
    }

    private sendReceive(req: ImsRequest, user: SampleUserPart): void | Promise<void> {
      const result = this.sendReceiveStart(req, user);
      if (result === undefined) return;
      const [tx, ran] = result;
      if (isThenable(ran)) return Promise.resolve(ran).then((r) => this.sendReceiveFinish(user, tx, r));
      this.sendReceiveFinish(user, tx, ran);
    }

    /** The synchronous part of a send-receive: PING, injected RSMs, then the handler's result. */
    private sendReceiveStart(req: ImsRequest, user: SampleUserPart): [TestTransaction, RunResult | Promise<RunResult>] | undefined {
      if (this.pending) {
        this.status(ReturnCode.IMS_CONNECT_ERROR, ReasonCode.PROTOCOL_ERROR);
        return undefined;
      }
      const trancode = trancodeOf(req.segments, page);
      if (user.trancode === 'PING' && segmentsText(req.segments, page) === PING_REQUEST_TEXT) {
        this.send({ kind: 'data', segments: [page.encode(`${PING_RESPONSE_MESSAGE_ID} *PING RESPONSE*`)], csm: csm() });
        this.interactionDone();
        return;
      }
      const inj = injected.length === 0 ? -1 : injected.findIndex((i) => i.trancode === undefined || i.trancode === trancode);
      if (inj >= 0) {
        const [r] = injected.splice(inj, 1);
        this.status(r!.returnCode, r!.reasonCode);
        return undefined;
      }
      const tx = this.transaction(req, user, 'SEND_RECEIVE');
      return [tx, this.run(tx)];
    }

    private sendReceiveFinish(user: SampleUserPart, tx: TestTransaction, result: RunResult): void {
      if (this.closed) return;
      const cm0 = tx.commitMode === 0;
      const confirm = cm0 || tx.syncLevel === 'confirm';
      if ('unknown' in result) {
        this.send({ kind: 'data', segments: [page.encode(dfs064(tx.trancode))], csm: csm(confirm ? StatusFlag.ACK_REQUIRED : 0) });
        this.pending = confirm ? (cm0 ? { kind: 'cm0', tpipe: this.clientId!, message: [page.encode(dfs064(tx.trancode))] } : { kind: 'cm1', conversational: false }) : undefined;
        this.interactionDone();
        return;
      }
      if (result.drop) return this.destroy();
      if (result.rsm) return this.status(result.rsm.returnCode, result.rsm.reasonCode);
      const conversational = result.conversation !== undefined;
      if (conversational) this.conversation = { trancode: tx.trancode, step: (this.conversation?.step ?? 0) + 1, spa: result.conversation!.spa };
      else this.conversation = undefined;
      let flags = 0;
      if (confirm) flags |= StatusFlag.ACK_REQUIRED;
      if (conversational) flags |= StatusFlag.CONVERSATIONAL;
      if (queueOf(this.clientId!).length > 0) flags |= StatusFlag.ASYNC_MESSAGE_QUEUED;
      const reply: { -readonly [K in keyof DataReply]: DataReply[K] } = { kind: 'data', segments: result.output, csm: csm(flags) };
      if (user.f1.mfsRequest) reply.mod = result.modname ?? '';
      if (user.f1.clientIdRequest) reply.generatedClientId = this.clientId!;
      this.send(reply);
      if (confirm) this.pending = cm0 ? { kind: 'cm0', tpipe: this.clientId!, message: result.output } : { kind: 'cm1', conversational };
      this.interactionDone();
    }

    private async sendOnly(req: ImsRequest, user: SampleUserPart, type: MessageType): Promise<void> {
      if (this.pending || this.conversation) return this.status(ReturnCode.IMS_CONNECT_ERROR, ReasonCode.PROTOCOL_ERROR);
      const tx = this.transaction(req, user, type);
      const result = await this.run(tx);
      if (this.closed) return;
      if ('unknown' in result) hold(this.clientId!, [page.encode(dfs064(tx.trancode))]);
      else if (result.drop) return this.destroy();
      else if (result.output.length > 0) hold(this.clientId!, result.output);
      if (type === 'SEND_ONLY_ACK') this.send({ kind: 'data', segments: [], csm: csm() });
      this.interactionDone();
    }

    private ackNak(req: ImsRequest, user: SampleUserPart, ack: boolean): void {
      const p = this.pending;
      if (!p) return this.status(ReturnCode.IMS_CONNECT_ERROR, ReasonCode.PROTOCOL_ERROR);
      if (ack) counters.acks++;
      else counters.naks++;
      this.pending = undefined;
      const timer = req.irm.timer;
      if (p.kind === 'cm1') {
        if (p.conversational && ack) return; // next input follows
        if (!ack) this.conversation = undefined;
        this.send(deallocateReply(ack));
        this.interactionDone();
        return;
      }
      if (!ack) {
        // NAK: the output goes back to its hold queue (or is rerouted / discarded) and RESUME TPIPE ends.
        if (user.f3.reroute && user.rerouteName) hold(user.rerouteName, p.message);
        else if (!user.f3.purge) hold(p.tpipe, p.message, true);
        if (timer === IrmTimer.NO_WAIT && p.kind === 'resume' && (p.mode === 'single' || p.mode === 'single-wait')) return this.interactionDone();
        return this.timerExpired(timer);
      }
      if (p.kind === 'cm0') {
        if (user.f1.noWait && timer === IrmTimer.NO_WAIT) return this.interactionDone();
        return this.deliverOrWait(p.tpipe, 'no-auto', timer);
      }
      if (p.mode === 'single' || p.mode === 'single-wait') {
        if (timer === IrmTimer.NO_WAIT) return this.interactionDone();
        return this.timerExpired(timer);
      }
      return this.deliverOrWait(p.tpipe, p.mode, timer);
    }

    private resume(req: ImsRequest, user: SampleUserPart): void {
      if (this.pending || this.conversation) return this.status(ReturnCode.IMS_CONNECT_ERROR, ReasonCode.PROTOCOL_ERROR);
      if (user.f2.commitMode === 'CM1') return this.status(ReturnCode.IMS_CONNECT_ERROR, ReasonCode.INVLDCM1);
      const f5 = req.irm.f5;
      const mode: ResumeKind = f5.one ? 'single' : f5.singleWait ? 'single-wait' : f5.auto ? 'auto' : 'no-auto';
      const tpipe = (user.rerouteName || this.clientId || '').toUpperCase();
      this.deliverOrWait(tpipe, mode, req.irm.timer);
    }

    /** Deliver the next queued message of `tpipe` (needs ACK), or wait / time out per the mode. */
    private deliverOrWait(tpipe: string, mode: ResumeKind, timer: number): void {
      const q = queueOf(tpipe);
      const message = q.shift();
      if (message) {
        this.pending = { kind: 'resume', mode, tpipe, message };
        this.send({ kind: 'data', segments: message, csm: csm(StatusFlag.ACK_REQUIRED | (q.length > 0 ? StatusFlag.ASYNC_MESSAGE_QUEUED : 0)) });
        return;
      }
      const waits = mode === 'auto' || mode === 'single-wait' || !immediate;
      if (!waits) return this.timerExpired(timer);
      const ms = irmTimerToMs(timer);
      let handle: TimerHandle | undefined;
      const waiters = queueWaiters.get(tpipe) ?? new Set<() => void>();
      queueWaiters.set(tpipe, waiters);
      const cleanup = () => {
        waiters.delete(onMessage);
        if (handle !== undefined) timers.clearTimeout(handle);
        this.waiting = undefined;
      };
      const onMessage = () => {
        if (queueOf(tpipe).length === 0) return;
        cleanup();
        this.deliverOrWait(tpipe, mode, timer);
      };
      waiters.add(onMessage);
      const limit = ms === 'forever' ? undefined : typeof ms === 'number' ? ms : 2000; // X'00' on RESUME TPIPE = 2 s (spec §4.2)
      if (limit !== undefined) {
        handle = timers.setTimeout(() => {
          cleanup();
          this.timerExpired(timer);
        }, limit);
      }
      this.waiting = {
        cancel: () => {
          cleanup();
        },
      };
    }

    /** Another session's CANCEL TIMER ended our wait. */
    cancelWait(): void {
      if (!this.waiting) return;
      this.waiting.cancel();
      this.timerExpired(IrmTimer.FOREVER);
    }
  }

  const connector: Connector = () => {
    const [client, server] = duplexPair();
    // Node 20's duplexPair does not propagate destroy: do it, so each side sees the other close.
    client.on('close', () => server.destroy());
    server.on('close', () => client.destroy());
    new Session(server);
    return client;
  };

  return {
    connector,
    async listen(o = {}) {
      const handler = (socket: net.Socket) => {
        socket.setNoDelay(true);
        new Session(socket);
      };
      const server = o.tls ? tls.createServer(o.tls, handler) : net.createServer(handler);
      servers.add(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
      });
      const addr = server.address() as net.AddressInfo;
      return { host: addr.address, port: addr.port };
    },
    hold(tpipe, output) {
      hold(tpipe, toSegments(output));
    },
    holdQueue(tpipe) {
      return queueOf(tpipe.toUpperCase()).map((m) => [...m]);
    },
    injectRsm(rsm) {
      injected.push({ returnCode: rsm.returnCode, reasonCode: rsm.reasonCode, ...(rsm.trancode ? { trancode: rsm.trancode.toUpperCase() } : {}) });
    },
    requests,
    frames,
    activeClientIds() {
      return [...byClientId.keys()];
    },
    disconnectAll() {
      for (const s of [...sessions]) s.destroy();
    },
    stats() {
      return { ...counters, openConnections: sessions.size };
    },
    async close() {
      for (const s of [...sessions]) s.destroy();
      await Promise.all([...servers].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      servers.clear();
    },
  };
}
