/**
 * The per-connection protocol state machine of IMS Connect: pure. Events go in (a whole input frame,
 * an event from the datastore, a timer expiry, an operator stop), actions come out (bytes to write,
 * close, read the next frame, arm/disarm the one timer, an operation for the datastore, a log line).
 * Sockets, timers and the OTMA link live in `connection.ts`; this file never touches them, so every
 * flow of spec §6–§8 can be tested by feeding events.
 *
 * Phases: `init` (no input yet) → `idle` (RECV: waiting for client input) → `ims` (CONN: waiting for
 * IMS) → `ack` (output sent, waiting for the client's ACK/NAK/DEALLOCATE) → `after` (ACK/NAK sent to
 * IMS, waiting for more output or the timer) → … → `closed`.
 */
import {
  IrmF0,
  IrmF1,
  IrmF2,
  IrmF3,
  IrmF5,
  IrmTimer,
  OtmaMessageType,
  OtmaServerState,
  PING_REQUEST_TEXT,
  PING_RESPONSE_TEXT,
  PING_TRANCODE,
  ProtocolLevel,
  ReasonCode,
  ReturnCode,
  SocketType,
  StatusFlag,
  csm,
  deallocateReply,
  encodeReplyInto,
  replySize,
  irmTimerToMs,
  statusReply,
  type CodePage,
  type DataReply,
  type EncodeReplyOptions,
  type ImsReply,
  type OtmaMessage,
} from '@imsplex/codec';
import type { ResolvedOptions } from './config/options.js';
import { HWSJAV_PING_FLAGS, HWSJAV_PING_REASON, HWSJAV_PING_TEXT, HwsjavReturnCode, encodeHwsjavReply, hwsjavReplyOf, type HwsjavReply } from './hwsjav.js';
import type { DatastoreStatus, ImsEvent, ImsInput, ImsOp, ResumeOption } from './datastore-types.js';
import type { SessionRequest } from './request.js';
import type { SecurityManager } from './security.js';

/** Something that happens to a session. */
export type SessionEvent =
  /** A whole input frame (LLLL included). */
  | { type: 'frame'; bytes: Uint8Array }
  /** The datastore answered the current exchange. */
  | { type: 'ims'; event: ImsEvent }
  /** The armed timer expired. */
  | { type: 'timer' }
  /** Another session on this port sent CANCEL TIMER for our client ID. */
  | { type: 'cancelTimer' }
  /** Operator STOPCLNT, duplicate-ID cancel (HWSS0743I) or shutdown FORCE: drop the connection. */
  | { type: 'stop'; why: 'operator' | 'duplicate' | 'shutdown' }
  /** The client closed or the socket failed. */
  | { type: 'eof' }
  /**
   * The framer rejected a length prefix (below X'58' or above MAXSIZE). `framing` is known when the
   * IRM_ID was readable in the same chunk: answer RSM reason 7, else just close.
   */
  | { type: 'badFrame'; framing: ReplyFraming | undefined; why: string };

/**
 * How replies to a client are framed, from its exit: the leading LLLL (HWSSMPL1), the code set of its
 * IRM_ID, and for exits whose clients send OTMA headers (HWSJAVA0) the OTMA-header reply form.
 */
export interface ReplyFraming {
  exitId: string;
  replyHasLlll: boolean;
  otmaHeaders: boolean;
  codeSet: 'ebcdic' | 'ascii';
}

/** What the session wants done. */
export type SessionAction =
  | { type: 'write'; bytes: Uint8Array; rsm?: { returnCode: number; reasonCode: number } }
  | { type: 'close' }
  | { type: 'read' }
  | { type: 'timer'; ms: number | null }
  | { type: 'ims'; op: ImsOp }
  | { type: 'log'; level: 'info' | 'warn'; msg: string };

/** Decoding of a frame, supplied by the connection (codec adapter). */
export type DecodeResult =
  | { ok: true; request: SessionRequest }
  /** The frame is bad: answer with this RSM (framing per what could be recognised), then close. */
  | { ok: false; silent: false; returnCode: number; reasonCode: number; framing: ReplyFraming; why: string }
  /** Not even the exit is recognisable (unknown IRM_ID): close without a reply (HWSP1445E). */
  | { ok: false; silent: true; why: string };

/** Services a session uses synchronously; all are pure lookups or registry updates. */
export interface SessionContext {
  readonly options: ResolvedOptions;
  /** The port this connection arrived on. */
  readonly port: number;
  decode(bytes: Uint8Array): DecodeResult;
  /**
   * Claim `clientId` on this port. With `cancelDuplicate`, an existing holder is stopped (the
   * registry sends it a `stop` event and logs HWSS0743I) and the claim succeeds.
   */
  claimClientId(clientId: string, cancelDuplicate: boolean): 'ok' | 'duplicate';
  releaseClientId(clientId: string): void;
  /** Deliver `cancelTimer` to the session holding `clientId` on this port; false when none waits. */
  cancelTimerOf(clientId: string): boolean;
  generateClientId(): string;
  /** Status of a datastore by ID; undefined when not defined. */
  datastoreStatus(id: string): DatastoreStatus | undefined;
  readonly security: SecurityManager | undefined;
  /** True once CLOSEHWS/QUIESCE began: new work gets reason 73 DSCLOSE. */
  shuttingDown(): boolean;
  /** EBCDIC page used to translate ASCII clients' data. */
  readonly codePage: CodePage;
  /**
   * CSM/RSM X'80' (`CSM_AMSG`): does asynchronous output wait on `tpipe`'s hold queue at `datastore`
   * right now? (`DatastoreLink.asyncOutputQueued`; false when the link cannot tell.)
   */
  asyncOutputQueued(datastore: string, tpipe: string): boolean;
}

/** Display state of a session (VIEWHWS). */
export type SessionDisplayState = 'RECV' | 'CONN' | 'XMIT' | 'CONV' | 'ACK';

type Phase = 'init' | 'idle' | 'ims' | 'ack' | 'after' | 'closed';
type TimerPurpose = 'none' | 'first' | 'idle' | 'ims' | 'ack';

/** The interaction in progress. */
interface Interaction {
  kind: 'sendrecv' | 'resume' | 'sendonly' | 'dealloc';
  req: SessionRequest;
  /** Commit mode / sync level in force (CM0 NONE is run as CONFIRM). */
  cm: 0 | 1;
  sync: 0 | 1 | 2;
  /** Timer byte of the request whose wait is running, and whether it was explicit. */
  timerByte: number;
  explicit: boolean;
  datastore: string;
  tpipe: string;
  resume?: ResumeOption;
  /** CM0 ACK NOWAIT negotiated on the original input (IRM_F1 X'02'). */
  ackNoWait: boolean;
  /**
   * Part of a conversation (the input continued one, or IMS marked output conversational): an ACK/NAK
   * of it is "associated with a conversational transaction", where X'E9' becomes 2 s (spec §4.2).
   */
  conversational: boolean;
  /** Output delivered so far in this interaction (for GENCID/REQMOD on the first only). */
  delivered: number;
}

const PING_DATA = PING_REQUEST_TEXT;
/** [IBM] HWSSMPL0/1 PING reply text (spec §6.6). */
const PING_RESPONSE = PING_RESPONSE_TEXT;
/** [IBM] Waits IMS Connect substitutes where X'E9' (NO_WAIT) is not allowed (spec §4.2). */
const NOWAIT_LONG_MS = 2000;
const NOWAIT_SHORT_MS = 250;
/** [IBM] X'00' defaults: RESUME TPIPE 2 s; ACK/NAK on a non-single RESUME TPIPE 0.25 s. */
const RESUME_DEFAULT_MS = 2000;
const RESUME_ACK_DEFAULT_MS = 250;

const CLIENT_ID = /^[A-Z0-9@#$]{1,8}$/;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Shared action objects (actions are read once and never changed): no allocation per interaction. */
const READ: SessionAction = Object.freeze({ type: 'read' });
const TIMER_OFF: SessionAction = Object.freeze({ type: 'timer', ms: null });

/** `PING IMS_CONNECT` as an ASCII client sends it, and per EBCDIC page (cached). */
const PING_ASCII = Uint8Array.from(PING_DATA, (c) => c.charCodeAt(0));
const PING_EBCDIC = new WeakMap<CodePage, Uint8Array>();
function pingBytes(page: CodePage): Uint8Array {
  let b = PING_EBCDIC.get(page);
  if (!b) PING_EBCDIC.set(page, (b = page.encode(PING_DATA)));
  return b;
}

const TABLES = new WeakMap<CodePage, { a2e: Uint8Array; e2a: Uint8Array }>();

/** Byte-translation tables between Latin-1 (ASCII clients) and an EBCDIC page (one pair per page). */
export function translationTables(page: CodePage): { a2e: Uint8Array; e2a: Uint8Array } {
  const cached = TABLES.get(page);
  if (cached) return cached;
  const a2e = new Uint8Array(256);
  const e2a = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    const b = page.byteOf(i);
    a2e[i] = b < 0 ? 0x3f : b; // EBCDIC SUB for characters the page lacks
    const c = page.chars[i]!.charCodeAt(0);
    e2a[i] = c < 256 ? c : 0x3f; // ASCII '?' for characters outside Latin-1 (e.g. € in CP1140)
  }
  const t = { a2e, e2a };
  TABLES.set(page, t);
  return t;
}

/** The same reply with CSM/RSM X'80' (asynchronous output queued) set. */
function withAsyncFlag(reply: ImsReply): ImsReply {
  if (reply.kind === 'data') return { ...reply, csm: { ...reply.csm, flags: reply.csm.flags | StatusFlag.ASYNC_MESSAGE_QUEUED } };
  return { ...reply, rsm: { ...reply.rsm, flags: reply.rsm.flags | StatusFlag.ASYNC_MESSAGE_QUEUED } };
}

function translate(bytes: Uint8Array, table: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = table[bytes[i]!]!;
  return out;
}

/** One client connection's protocol state. */
export class Session {
  private phase: Phase = 'init';
  private timerPurpose: TimerPurpose = 'none';
  private cur: Interaction | undefined;
  /** Client ID claimed for this socket (persistent: for its life). */
  clientId = '';
  private claimed = false;
  private generated = false;
  /** IRM_SOCT of the first input. */
  private socketType = -1;
  private conversation = false;
  /** Fields shown by VIEWHWS. */
  lastUser = '';
  lastTrancode = '';
  lastDatastore = '';
  private stateSince = 0;
  private readonly tables: { a2e: Uint8Array; e2a: Uint8Array };
  /** Interactions completed (for metrics/tests). */
  completed = 0;

  constructor(
    private readonly ctx: SessionContext,
    private readonly now: () => number = Date.now,
  ) {
    this.tables = translationTables(ctx.codePage);
    this.stateSince = now();
  }

  /** True once the session has asked to close. */
  get closed(): boolean {
    return this.phase === 'closed';
  }

  /** VIEWHWS state. */
  displayState(): { state: SessionDisplayState; seconds: number } {
    const seconds = Math.max(0, Math.floor((this.now() - this.stateSince) / 1000));
    if (this.phase === 'ims' || this.phase === 'after') return { state: 'CONN', seconds };
    if (this.phase === 'ack') return { state: 'ACK', seconds };
    return { state: this.conversation ? 'CONV' : 'RECV', seconds };
  }

  /** True when an interaction is in flight (QUIESCE waits for these). */
  get busy(): boolean {
    return this.phase === 'ims' || this.phase === 'ack' || this.phase === 'after' || this.conversation;
  }

  /** The first actions of a new connection: arm the first-input timer and read. */
  start(): SessionAction[] {
    const out: SessionAction[] = [];
    this.setTimer(out, 'first', this.ctx.options.timeout || null);
    out.push(READ);
    return out;
  }

  /** Feed one event; returns the actions to perform in order. */
  handle(event: SessionEvent): SessionAction[] {
    const out: SessionAction[] = [];
    this.handleInto(event, out);
    return out;
  }

  /**
   * `handle` appending to `out` (the connection passes one array it reuses for every event: its
   * actions are performed before the next event is handled).
   */
  handleInto(event: SessionEvent, out: SessionAction[]): void {
    if (this.phase === 'closed') return;
    switch (event.type) {
      case 'frame':
        this.onFrame(event.bytes, out);
        break;
      case 'ims':
        this.onIms(event.event, out);
        break;
      case 'timer':
        this.onTimer(out);
        break;
      case 'cancelTimer':
        this.onCancelTimer(out);
        break;
      case 'stop':
        if (this.phase === 'ims' || this.phase === 'after' || this.phase === 'ack') out.push({ type: 'ims', op: { op: 'abandon' } });
        out.push({ type: 'log', level: 'info', msg: `client ${this.clientId || '(none)'} stopped (${event.why})` });
        this.close(out);
        break;
      case 'badFrame':
        if (this.phase === 'ims' || this.phase === 'after' || this.phase === 'ack') out.push({ type: 'ims', op: { op: 'abandon' } });
        out.push({ type: 'log', level: 'warn', msg: `HWSS0742W MESSAGE FAILED: ${event.why}; S=7` });
        // [INF] IMS Connect reads LLLL itself: a bad total length is its error (RC 8), reason 7.
        if (event.framing) this.reply(out, event.framing, statusReply(ReturnCode.IMS_CONNECT_ERROR, ReasonCode.INVALID_TOTAL_LENGTH));
        this.close(out);
        break;
      case 'eof':
        if (this.phase === 'ims' || this.phase === 'after' || this.phase === 'ack') out.push({ type: 'ims', op: { op: 'abandon' } });
        this.close(out);
        break;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // helpers

  private setPhase(p: Phase): void {
    if (p !== this.phase) this.stateSince = this.now();
    this.phase = p;
  }

  /** The last timer action with a delay (actions are read once and never changed: reused). */
  private timerAction: SessionAction = TIMER_OFF;

  private setTimer(out: SessionAction[], purpose: TimerPurpose, ms: number | null): void {
    this.timerPurpose = ms === null ? 'none' : purpose;
    if (ms === null) {
      out.push(TIMER_OFF);
      return;
    }
    let a = this.timerAction;
    if (a.type !== 'timer' || a.ms !== ms) this.timerAction = a = Object.freeze({ type: 'timer', ms });
    out.push(a);
  }

  /** Reply encoding options by framing (bit 0: LLLL, bit 1: ASCII), built once per session. */
  private readonly replyOptions: EncodeReplyOptions[] = [];

  private replyOptionsFor(llll: boolean, codeSet: 'ebcdic' | 'ascii'): EncodeReplyOptions {
    const i = (llll ? 1 : 0) | (codeSet === 'ascii' ? 2 : 0);
    let o = this.replyOptions[i];
    if (o === undefined) this.replyOptions[i] = o = Object.freeze({ llll, codeSet, codePage: this.ctx.codePage });
    return o;
  }

  private close(out: SessionAction[]): void {
    if (this.phase === 'closed') return;
    if (this.timerPurpose !== 'none') this.setTimer(out, 'none', null);
    this.setPhase('closed');
    if (this.claimed) this.ctx.releaseClientId(this.clientId);
    this.claimed = false;
    out.push({ type: 'close' });
  }

  private get persistent(): boolean {
    return this.socketType === SocketType.PERSISTENT;
  }

  /** Back to RECV after a finished interaction, or close when the socket type says so. */
  private finish(out: SessionAction[]): void {
    this.cur = undefined;
    this.completed++;
    if (!this.persistent && !this.conversation) return this.close(out);
    if (this.socketType === SocketType.NON_PERSISTENT) return this.close(out);
    this.setPhase('idle');
    this.setTimer(out, 'idle', this.idleTimeout());
    out.push(READ);
  }

  private idleMs: number | null | undefined;
  private idleTimeout(): number | null {
    if (this.idleMs === undefined) {
      const port = this.ctx.options.ports.find((p) => p.id === this.ctx.port);
      const ms = port ? port.idleTimeout : this.ctx.options.idleTimeout;
      this.idleMs = ms > 0 ? ms : null;
    }
    return this.idleMs;
  }

  /**
   * Encode and write a reply in the framing and code set of `req`. Inside an interaction, CSM/RSM X'80'
   * is set when asynchronous output waits on the interaction's tpipe (the client ID, or the alternate
   * one being resumed [INF]) at this moment.
   */
  private reply(out: SessionAction[], req: ReplyFraming & { otmaMessage?: OtmaMessage | undefined; datastore?: string }, reply: ImsReply): void {
    const cur = this.cur;
    if (cur !== undefined && this.ctx.asyncOutputQueued(cur.datastore, cur.tpipe)) reply = withAsyncFlag(reply);
    if (req.otmaHeaders) {
      const r = hwsjavReplyOf(reply);
      // Output delivered by RESUME TPIPE comes from the hold queue: server state X'20' (spec §11.2).
      if (reply.kind === 'data' && cur?.kind === 'resume') r.serverState |= OtmaServerState.FROM_HOLD_QUEUE;
      return this.replyHwsjav(out, req, r, reply.kind === 'status' ? reply.rsm : undefined);
    }
    // Encoded straight into a Buffer (Node's pool when small): the socket write takes it as is.
    const options = this.replyOptionsFor(req.replyHasLlll, req.codeSet);
    const bytes = Buffer.allocUnsafe(replySize(reply, options));
    encodeReplyInto(reply, options, bytes, 0);
    out.push(reply.kind === 'status' ? { type: 'write', bytes, rsm: { returnCode: reply.rsm.returnCode, reasonCode: reply.rsm.reasonCode } } : { type: 'write', bytes });
  }

  /** A HWSJAVA0 reply: OTMA headers with the codes in the user data (hwsjav.ts). */
  private replyHwsjav(out: SessionAction[], req: ReplyFraming & { otmaMessage?: OtmaMessage | undefined; datastore?: string }, r: HwsjavReply, rsm?: { returnCode: number; reasonCode: number }): void {
    const bytes = encodeHwsjavReply(r, {
      exitId: req.exitId,
      codeSet: req.codeSet,
      codePage: this.ctx.codePage,
      request: req.otmaMessage,
      clientId: this.clientId,
      datastore: req.datastore || this.lastDatastore,
      hwsId: this.ctx.options.id,
    });
    out.push(rsm ? { type: 'write', bytes, rsm: { returnCode: rsm.returnCode, reasonCode: rsm.reasonCode } } : { type: 'write', bytes });
  }

  /** Send an RSM; close unless the return code keeps the socket (20, 40, 44 and deallocate RC 0). */
  private rsm(out: SessionAction[], req: SessionRequest, returnCode: number, reasonCode: number, extra: { racfOrOtmaReason?: number; keep?: boolean } = {}): void {
    this.reply(out, req, statusReply(returnCode, reasonCode, extra.racfOrOtmaReason === undefined ? {} : { racfOrOtmaReason: extra.racfOrOtmaReason }));
    const keeps = returnCode === ReturnCode.TIMER_EXPIRED_KEEP || returnCode === ReturnCode.PING_REPLY || returnCode === ReturnCode.CANCEL_TIMER_DONE || extra.keep === true;
    if (keeps) this.finish(out);
    else this.close(out);
  }

  /** Output data segments for the client: EBCDIC → ASCII for ASCII clients unless told not to. */
  private outData(req: SessionRequest, segments: Uint8Array[]): Uint8Array[] {
    if (req.codeSet !== 'ascii' || (req.f5 & IrmF5.NOTRAN) !== 0 || (req.f1 & IrmF1.UC) !== 0) return segments;
    return segments.map((s) => translate(s, this.tables.e2a));
  }

  private inData(req: SessionRequest): Uint8Array[] {
    if (req.codeSet !== 'ascii' || (req.f5 & IrmF5.NOTRAN) !== 0) return req.segments;
    if ((req.f1 & IrmF1.UC) !== 0) {
      // Unicode data is never translated, but a non-Unicode trancode in the first 8 bytes is (§3.7).
      if ((req.f1 & IrmF1.UCTC) !== 0 || req.segments.length === 0) return req.segments;
      const first = req.segments[0]!.slice();
      for (let i = 0; i < Math.min(8, first.length); i++) first[i] = this.tables.a2e[first[i]!]!;
      return [first, ...req.segments.slice(1)];
    }
    return req.segments.map((s) => translate(s, this.tables.a2e));
  }

  /**
   * The wait for IMS after `req`, per spec §4: explicit codes, defaults (X'00' or invalid) and the
   * NO_WAIT substitutions. `ms === null` means no timer (X'FF', or TIMEOUT=0 default); `noWait`
   * means do not wait at all.
   */
  private waitFor(req: SessionRequest, purpose: 'input' | 'resume' | 'ackSingle' | 'ackResume' | 'ackCm1' | 'ackCm0' | 'ackConv'): { ms: number | null; explicit: boolean; noWait: boolean } {
    const v = irmTimerToMs(req.timer);
    if (typeof v === 'number') return { ms: v, explicit: true, noWait: false };
    if (v === 'forever') return { ms: null, explicit: true, noWait: false };
    if (v === 'nowait') {
      switch (purpose) {
        case 'input':
        case 'resume':
        case 'ackConv':
          return { ms: NOWAIT_LONG_MS, explicit: true, noWait: false };
        case 'ackCm1':
        case 'ackResume':
        case 'ackCm0':
          return { ms: NOWAIT_SHORT_MS, explicit: true, noWait: false };
        case 'ackSingle':
          return { ms: null, explicit: true, noWait: true };
      }
    }
    // 'default' or 'invalid': the default applies and an expiry is RC 36.
    if (purpose === 'resume') return { ms: RESUME_DEFAULT_MS, explicit: false, noWait: false };
    if (purpose === 'ackResume') return { ms: RESUME_ACK_DEFAULT_MS, explicit: false, noWait: false };
    const t = this.ctx.options.timeout;
    return { ms: t > 0 ? t : null, explicit: false, noWait: false };
  }

  private armWait(out: SessionAction[], cur: Interaction, req: SessionRequest, w: { ms: number | null; explicit: boolean }): void {
    cur.timerByte = req.timer;
    cur.explicit = w.explicit;
    this.setTimer(out, 'ims', w.ms);
  }

  /** The RSM for an expired IMS wait (RC 32/36/40, reason = the timer byte). */
  private timeoutRsm(out: SessionAction[], cur: Interaction): void {
    const rc = !cur.explicit ? ReturnCode.DEFAULT_TIMER_EXPIRED : this.persistent ? ReturnCode.TIMER_EXPIRED_KEEP : ReturnCode.TIMER_EXPIRED_CLOSE;
    this.rsm(out, cur.req, rc, cur.timerByte);
  }

  // ---------------------------------------------------------------------------------------------
  // input

  private onFrame(bytes: Uint8Array, out: SessionAction[]): void {
    if (this.phase === 'ims' || this.phase === 'after') {
      // The connection reads by pull and never reads while IMS is pending; a frame here means the
      // caller broke that contract. Treat as a protocol error.
      out.push({ type: 'ims', op: { op: 'abandon' } });
      this.close(out);
      return;
    }
    const d = this.ctx.decode(bytes);
    if (!d.ok) {
      if (this.phase === 'ack') out.push({ type: 'ims', op: { op: 'abandon' } });
      if (d.silent) {
        out.push({ type: 'log', level: 'warn', msg: `HWSP1445E UNKNOWN EXIT IDENTIFIER SPECIFIED IN MESSAGE; ${d.why}; socket closed` });
        this.close(out);
        return;
      }
      out.push({ type: 'log', level: 'warn', msg: `HWSS0742W MESSAGE FAILED: ${d.why}; R=${d.returnCode}, S=${d.reasonCode}` });
      this.reply(out, d.framing, statusReply(d.returnCode, d.reasonCode));
      this.close(out);
      return;
    }
    const req = d.request;
    if (this.timerPurpose !== 'none') this.setTimer(out, 'none', null);
    if (this.phase === 'init') this.socketType = req.socketType === SocketType.PERSISTENT || req.socketType === SocketType.NON_PERSISTENT ? req.socketType : SocketType.TRANSACTION;
    if (req.userId) this.lastUser = req.userId;

    if (this.phase === 'ack') return this.onAckPhaseInput(req, out);

    switch (req.type) {
      case 'CANCEL_TIMER':
        return this.onCancelTimerRequest(req, out);
      case 'ACK':
      case 'NAK':
      case 'DEALLOCATE':
        if (req.type === 'DEALLOCATE' && this.conversation && this.cur === undefined) return this.onDeallocate(req, out);
        // ACK/NAK with nothing to acknowledge: invalid client status. [INF] RC 8 reason 58 INVLDSTA.
        return this.rsm(out, req, ReturnCode.IMS_CONNECT_ERROR, ReasonCode.INVLDSTA);
      case 'CALLOUT_RESPONSE':
      case 'CALLOUT_RESPONSE_ACK':
        // No synchronous callout request is outstanding on this emulator's sessions. [INF]
        if (req.arch < 3) return this.rsm(out, req, ReturnCode.EXIT_ERROR, ReasonCode.INVALID_BUFFER);
        return this.rsm(out, req, ReturnCode.IMS_CONNECT_ERROR, ReasonCode.CONTEXT_TOKEN_NOT_FOUND);
      case undefined:
        // Unknown IRM_F4 value. [INF] RC 4 reason 9 (contents of buffer invalid).
        return this.rsm(out, req, ReturnCode.EXIT_ERROR, ReasonCode.INVALID_BUFFER);
      default:
        break;
    }

    if (this.ctx.shuttingDown()) return this.rsm(out, req, ReturnCode.IMS_CONNECT_ERROR, ReasonCode.DSCLOSE);
    if (!this.bindClientId(req, out)) return;

    // PING is answered by the exit itself, without IMS (spec §6.6).
    if (req.type === 'SEND_RECEIVE' && this.isPing(req)) return this.onPing(req, out);

    if (req.type === 'RESUME_TPIPE') return this.onResume(req, out);
    return this.onInput(req, out);
  }

  /** Claim or check the client ID; false when an RSM was sent. */
  private bindClientId(req: SessionRequest, out: SessionAction[]): boolean {
    if (this.claimed) return true; // persistent socket: the ID is fixed for its life
    let id = req.clientId;
    if (id && !CLIENT_ID.test(id)) {
      // [INF] an ID with characters outside A–Z 0–9 @ # $: contents of buffer invalid.
      this.rsm(out, req, ReturnCode.EXIT_ERROR, ReasonCode.INVALID_BUFFER);
      return false;
    }
    if (!id || (req.f2 & IrmF2.GENCLID) !== 0) {
      id = this.ctx.generateClientId();
      this.generated = true;
    }
    const cancel = (req.f3 & IrmF3.CANCID) !== 0;
    if (this.ctx.claimClientId(id, cancel) === 'duplicate') {
      this.clientId = id;
      out.push({ type: 'log', level: 'warn', msg: `HWSS0742W MESSAGE FAILED: CLIENT=${id} PORT=${this.ctx.port} DUPLICATE CLIENT ID; S=DUPECLNT` });
      this.rsm(out, req, ReturnCode.IMS_CONNECT_ERROR, ReasonCode.DUPECLNT);
      return false;
    }
    this.clientId = id;
    this.claimed = true;
    return true;
  }

  private isPing(req: SessionRequest): boolean {
    const first = req.segments[0];
    if (!first || first.length < PING_DATA.length) return false;
    const want = req.codeSet === 'ascii' ? PING_ASCII : pingBytes(this.ctx.codePage);
    for (let i = 0; i < want.length; i++) if (first[i] !== want[i]) return false;
    return req.trancode === '' || req.trancode === PING_TRANCODE;
  }

  private onPing(req: SessionRequest, out: SessionAction[]): void {
    if (req.otmaHeaders) {
      // HWSJAVA0 (spec §6.6): the text in the application data after PNG_LEN/PNG_FLG1/PNG_FLG2 (the
      // segment's LL and ZZ positions), return code X'30' and reason ICONSUCC in the user data.
      const ebcdic = this.ctx.codePage.encode(HWSJAV_PING_TEXT);
      this.replyHwsjav(out, req, {
        segments: [req.codeSet === 'ascii' ? translate(ebcdic, this.tables.e2a) : ebcdic],
        zz: [HWSJAV_PING_FLAGS << 8],
        messageType: OtmaMessageType.DATA,
        responseFlags: 0,
        commitConfirmation: 0,
        senseCode: 0,
        otmaReason: 0,
        serverState: 0,
        returnCode: HwsjavReturnCode.PING_REPLY,
        reasonName: HWSJAV_PING_REASON,
      });
      this.cur = undefined;
      return this.finish(out);
    }
    const ebcdic = this.ctx.codePage.encode(PING_RESPONSE);
    const seg = req.codeSet === 'ascii' ? translate(ebcdic, this.tables.e2a) : ebcdic;
    this.reply(out, req, { kind: 'data', segments: [seg], csm: csm(0, this.ctx.options.protocolLevel) });
    this.cur = undefined;
    // The socket is kept unless non-persistent (or a transaction socket, which ends its interaction).
    this.finish(out);
  }

  /** Resolve the datastore (with alternates); false when an RSM was sent. */
  private routeDatastore(req: SessionRequest, out: SessionAction[]): string | undefined {
    const id = req.datastore;
    const status = this.ctx.datastoreStatus(id);
    if (status === undefined) {
      out.push({ type: 'log', level: 'warn', msg: `HWSS0742W MESSAGE FAILED: DATASTORE=${id || '(blank)'} R=4, S=NFNDDST` });
      this.rsm(out, req, ReturnCode.IMS_CONNECT_ERROR, ReasonCode.NFNDDST);
      return undefined;
    }
    if (status === 'ACTIVE') return id;
    const ds = this.ctx.options.datastores.find((d) => d.id === id);
    for (const alt of ds?.alternates ?? []) {
      if (this.ctx.datastoreStatus(alt) === 'ACTIVE') {
        out.push({ type: 'log', level: 'info', msg: `datastore ${id} ${status}; routed to alternate ${alt}` });
        return alt;
      }
    }
    // [INF] stopped by STOPDS → 76 STOPCMD; link not (yet) up or IMS gone → 74 STP/CLSE.
    this.rsm(out, req, ReturnCode.IMS_CONNECT_ERROR, status === 'STOPPED' ? ReasonCode.STOPCMD : ReasonCode.STP_CLSE);
    return undefined;
  }

  /** RACF=Y check: the user ID for OTMA, or undefined when an RSM was sent. */
  private checkSecurity(req: SessionRequest, out: SessionAction[], trancode: string | undefined): string | undefined {
    const userId = req.userId || this.ctx.options.racfId;
    if (!this.ctx.options.racf || !this.ctx.security) return userId;
    const r = this.ctx.security.check(userId, req.password, req.group, trancode);
    if (r.ok) return r.user;
    out.push({ type: 'log', level: 'warn', msg: `HWSP1500E RACF VERIFY FAILED FOR USERID=${userId || '(blank)'} GROUP=${req.group || '(blank)'}; REASON=${r.reason} RC=${r.racfRc}` });
    // [INF] RC 8 with reason 78 SECFAIL ("RACF call failed"), RACROUTE RC in RSM byte 3 (protocol
    // level X'03' semantics); spec §9.3 leaves 40 vs 78 open.
    this.rsm(out, req, ReturnCode.IMS_CONNECT_ERROR, ReasonCode.SECFAIL, { racfOrOtmaReason: r.racfRc });
    return undefined;
  }

  private trancodeOf(req: SessionRequest, data: Uint8Array[]): string {
    if (req.trancode) return req.trancode;
    const first = data[0];
    if (!first) return '';
    let s = '';
    for (let i = 0; i < Math.min(8, first.length); i++) s += this.ctx.codePage.chars[first[i]!];
    return s.trim();
  }

  /** Send-receive and the SENDONLY family. */
  private onInput(req: SessionRequest, out: SessionAction[]): void {
    const type = req.type!;
    const sendOnly = type === 'SEND_ONLY' ? 'S' : type === 'SEND_ONLY_ACK' ? 'K' : type === 'SEND_ONLY_ERRORS' ? 'J' : undefined;
    if (req.segments.length === 0) return this.rsm(out, req, ReturnCode.EXIT_ERROR, ReasonCode.NO_DATA);
    const cmBits = req.f2 & (IrmF2.CM0 | IrmF2.CM1);
    // [UNV] F2 without a commit mode: the sample exits' default, believed CM0 (spec §3.3).
    const cm: 0 | 1 = cmBits === IrmF2.CM1 ? 1 : 0;
    let sync = (req.f3 & IrmF3.SYNC_MASK) as 0 | 1 | 2 | 3;
    if (sync === 3) return this.rsm(out, req, ReturnCode.EXIT_ERROR, ReasonCode.INVALID_BUFFER);
    if (cmBits === (IrmF2.CM0 | IrmF2.CM1)) return this.rsm(out, req, ReturnCode.EXIT_ERROR, ReasonCode.INVALID_BUFFER);
    if (sendOnly && cm === 1) {
      // [INF] SENDONLY/SENDONLYA/SNDONLYE must be CM0; CM1 is refused like CM1 on RESUME TPIPE.
      return this.rsm(out, req, ReturnCode.IMS_CONNECT_ERROR, ReasonCode.INVLDCM1);
    }
    if (sync === 2) {
      // SYNCPT needs RRS two-phase commit (TM RA + RRS=Y); this IMS Connect runs RRS=N. [INF] answered
      // as OTMA would: RC 16 with sense X'002E' (two-phase commit not supported on this path).
      return this.rsm(out, req, ReturnCode.OTMA_NAK, 0x002e);
    }
    // [IBM] CM0 is supported only with CONFIRM; F3 sync NONE with CM0 runs as CONFIRM.
    if (cm === 0) sync = 1;
    const data = this.inData(req);
    const trancode = this.trancodeOf(req, data);
    this.lastTrancode = trancode;
    const userId = this.checkSecurity(req, out, trancode);
    if (userId === undefined) return;
    const datastore = this.routeDatastore(req, out);
    if (!datastore) return;
    this.lastDatastore = datastore;
    const reroute = (req.f3 & IrmF3.REROUT) !== 0 ? req.rerouteOrAltClientId || this.ctx.options.datastores.find((d) => d.id === datastore)?.rerouteName || 'HWS$DEF' : undefined;
    const cur: Interaction = {
      kind: sendOnly ? 'sendonly' : 'sendrecv',
      req,
      cm,
      sync,
      timerByte: req.timer,
      explicit: true,
      datastore,
      tpipe: this.clientId,
      ackNoWait: (req.f1 & IrmF1.NOWAIT) !== 0,
      conversational: this.conversation,
      delivered: 0,
    };
    this.cur = cur;
    // Built field by field (no spread temporaries): this runs for every transaction.
    const input: ImsInput = { tpipe: this.clientId, segments: data, commitMode: cm, syncLevel: sync, userId, group: req.group, lterm: req.lterm, modName: req.modName, conversation: this.conversation };
    if (sendOnly) input.sendOnly = sendOnly;
    if (req.f3 & (IrmF3.ORDER | IrmF3.PURGE | IrmF3.DFS2082 | IrmF3.IPURG)) {
      if ((req.f3 & IrmF3.ORDER) !== 0 && sendOnly === 'S') input.ordered = true;
      if ((req.f3 & IrmF3.PURGE) !== 0) input.purge = true;
      if ((req.f3 & IrmF3.DFS2082) !== 0) input.dfs2082 = true;
      if ((req.f3 & IrmF3.IPURG) !== 0) input.ignorePurg = true;
    }
    if (reroute) input.reroute = reroute;
    if (req.otma) input.otmaHeaders = req.otma;
    out.push({ type: 'ims', op: { op: 'send', datastore, input } });
    if (sendOnly === 'S' || sendOnly === 'J') {
      // No reply of any kind (J: only IMS Connect's own errors, already handled above).
      this.cur = undefined;
      this.completed++;
      if (!this.persistent) return this.close(out);
      this.setPhase('idle');
      this.setTimer(out, 'idle', this.idleTimeout());
      out.push(READ);
      return;
    }
    this.setPhase('ims');
    this.armWait(out, cur, req, this.waitFor(req, this.conversation ? 'ackConv' : 'input'));
  }

  /** RESUME TPIPE (spec §6.3). */
  private onResume(req: SessionRequest, out: SessionAction[]): void {
    if ((req.f2 & IrmF2.CM1) !== 0) return this.rsm(out, req, ReturnCode.IMS_CONNECT_ERROR, ReasonCode.INVLDCM1);
    const calloutBits = req.f0 & (IrmF0.SYNONLY | IrmF0.SYNASYN);
    if (calloutBits !== 0 && req.arch < 3) return this.rsm(out, req, ReturnCode.EXIT_ERROR, ReasonCode.INVALID_BUFFER);
    const userId = this.checkSecurity(req, out, undefined);
    if (userId === undefined) return;
    const datastore = this.routeDatastore(req, out);
    if (!datastore) return;
    this.lastDatastore = datastore;
    this.lastTrancode = '';
    const low = req.f5 & 0x1f;
    const option: ResumeOption = low & IrmF5.ONE ? 'single' : low & IrmF5.SWAIT ? 'singleWait' : low & IrmF5.AUTO ? 'auto' : 'noauto';
    // IRM_RT_ALTCID needs ARCH1 (IRM_LEN ≥ 96); a HWSJAVA0 client names the tpipe in its OTMA control data.
    const tpipe = (req.otmaHeaders || req.irmLength >= 96) && req.rerouteOrAltClientId ? req.rerouteOrAltClientId : this.clientId;
    const cur: Interaction = { kind: 'resume', req, cm: 0, sync: 1, timerByte: req.timer, explicit: true, datastore, tpipe, resume: option, ackNoWait: false, conversational: false, delivered: 0 };
    this.cur = cur;
    out.push({ type: 'ims', op: { op: 'resume', datastore, tpipe, option, callout: calloutBits === IrmF0.SYNONLY ? 'only' : calloutBits ? 'first' : 'none', userId } });
    this.setPhase('ims');
    this.armWait(out, cur, req, this.waitFor(req, 'resume'));
  }

  private onDeallocate(req: SessionRequest, out: SessionAction[]): void {
    const datastore = this.lastDatastore;
    if (this.ctx.datastoreStatus(datastore) !== 'ACTIVE') return this.rsm(out, req, ReturnCode.IMS_CONNECT_ERROR, ReasonCode.COMMERR);
    this.cur = { kind: 'dealloc', req, cm: 1, sync: 1, timerByte: req.timer, explicit: true, datastore, tpipe: this.clientId, ackNoWait: false, conversational: true, delivered: 0 };
    out.push({ type: 'ims', op: { op: 'deallocate', datastore, tpipe: this.clientId } });
    this.setPhase('ims');
    this.armWait(out, this.cur, req, this.waitFor(req, 'ackConv'));
  }

  /** CANCEL TIMER (IRM_F4 'C'): end the wait of the session that holds this client ID. */
  private onCancelTimerRequest(req: SessionRequest, out: SessionAction[]): void {
    const target = req.clientId;
    if (!target || !this.ctx.cancelTimerOf(target)) {
      // [INF] nothing to cancel: RC 8 reason 16 (client unknown).
      return this.rsm(out, req, ReturnCode.IMS_CONNECT_ERROR, ReasonCode.CLIENT_UNKNOWN);
    }
    out.push({ type: 'log', level: 'info', msg: `cancel timer for client ${target} on port ${this.ctx.port} completed` });
    this.rsm(out, req, ReturnCode.CANCEL_TIMER_DONE, ReasonCode.CANTIMER);
  }

  /** Another session cancelled our IMS wait: it ends as an expired timer and the socket closes. */
  private onCancelTimer(out: SessionAction[]): void {
    if (this.phase !== 'ims' && this.phase !== 'after') return;
    const cur = this.cur!;
    out.push({ type: 'ims', op: { op: 'abandon' } });
    // [INF] the cancelled session is told its timer expired and is closed, freeing the client ID.
    this.reply(out, cur.req, statusReply(cur.explicit ? ReturnCode.TIMER_EXPIRED_CLOSE : ReturnCode.DEFAULT_TIMER_EXPIRED, cur.timerByte));
    this.close(out);
  }

  // ---------------------------------------------------------------------------------------------
  // IMS events

  private onIms(ev: ImsEvent, out: SessionAction[]): void {
    const cur = this.cur;
    if (!cur || (this.phase !== 'ims' && this.phase !== 'after')) return; // stale: the exchange was abandoned
    const req = cur.req;
    switch (ev.ev) {
      case 'output': {
        this.setTimer(out, 'none', null);
        const first = cur.delivered === 0;
        cur.delivered++;
        let flags = 0;
        if (ev.conversational) {
          flags |= StatusFlag.CONVERSATIONAL;
          cur.conversational = true;
        }
        if (ev.asyncQueued) flags |= StatusFlag.ASYNC_MESSAGE_QUEUED;
        // ACK needed for CONFIRM output (CM1 CONFIRM, all CM0) and for every RESUME TPIPE message.
        const needAck = cur.kind === 'resume' || ev.ackRequired || cur.sync === 1;
        if (needAck) flags |= StatusFlag.ACK_REQUIRED;
        this.conversation = ev.conversational;
        const segments = this.outData(req, ev.segments);
        const data: Mutable<DataReply> = { kind: 'data', segments, csm: csm(flags, this.ctx.options.protocolLevel) };
        if ((req.f1 & IrmF1.MFSREQ) !== 0 && segments.length > 0) data.mod = ev.mod ?? '';
        if ((req.f1 & IrmF1.CIDREQ) !== 0 && first && this.generated && segments.length > 0) data.generatedClientId = this.clientId;
        this.reply(out, req, data);
        if (needAck && this.socketType !== SocketType.NON_PERSISTENT) {
          this.setPhase('ack');
          const ds = this.ctx.options.datastores.find((d) => d.id === cur.datastore);
          // Bound the wait for ACK/NAK by the datastore's ACKTO: IMS gives up then too.
          this.setTimer(out, 'ack', (ds?.ackTimeout ?? 120) * 1000);
          out.push(READ);
          return;
        }
        if (needAck) out.push({ type: 'ims', op: { op: 'abandon' } }); // non-persistent: no ACK can follow
        return this.finish(out);
      }
      case 'errorText': {
        // DFS064/DFS065/… as data + CSM (spec §9.3), translated for ASCII clients.
        this.setTimer(out, 'none', null);
        this.conversation = false;
        this.reply(out, req, { kind: 'data', segments: this.outData(req, ev.segments), csm: csm(0, this.ctx.options.protocolLevel) });
        return this.finish(out);
      }
      case 'nak':
        this.setTimer(out, 'none', null);
        this.conversation = false;
        return this.rsm(out, req, ReturnCode.OTMA_NAK, ev.sense, { racfOrOtmaReason: ev.reason & 0xff });
      case 'enqueued':
        if (cur.kind !== 'sendonly') return;
        this.setTimer(out, 'none', null);
        // [UNV] the SENDONLYA ACK reply: a bare CSM (spec Uncertain item 9).
        this.reply(out, req, { kind: 'data', segments: [], csm: csm(0, this.ctx.options.protocolLevel) });
        return this.finish(out);
      case 'committed':
      case 'aborted':
        this.setTimer(out, 'none', null);
        this.conversation = false;
        this.reply(out, req, deallocateReply(ev.ev === 'committed'));
        return this.finish(out);
      case 'empty':
        // RESUME TPIPE: nothing (more) queued. Auto and single-wait keep waiting for new output;
        // single and no-auto end now with the timeout RSM (persistent) or close (transaction).
        if (cur.kind !== 'resume') return;
        if (cur.resume === 'auto' || cur.resume === 'singleWait') return;
        this.setTimer(out, 'none', null);
        if (cur.delivered > 0 && !this.persistent) return this.close(out);
        return this.timeoutRsm(out, cur);
      case 'linkDown':
        this.setTimer(out, 'none', null);
        this.conversation = false;
        return this.rsm(out, req, ReturnCode.IMS_CONNECT_ERROR, ReasonCode.COMMERR);
    }
  }

  /** Input while output waits for ACK/NAK: ACK, NAK or DEALLOCATE. */
  private onAckPhaseInput(req: SessionRequest, out: SessionAction[]): void {
    const cur = this.cur!;
    if (req.type !== 'ACK' && req.type !== 'NAK' && req.type !== 'DEALLOCATE') {
      // Anything else while an ACK is owed: protocol error; IMS gets a NAK via abandon.
      out.push({ type: 'ims', op: { op: 'abandon' } });
      this.conversation = false;
      return this.rsm(out, req, ReturnCode.IMS_CONNECT_ERROR, ReasonCode.PROTOCOL_ERROR);
    }
    if (req.type === 'DEALLOCATE') {
      // End the conversation instead of continuing it.
      out.push({ type: 'ims', op: { op: 'nak', options: {} } });
      this.cur = { ...cur, kind: 'dealloc', req };
      out.push({ type: 'ims', op: { op: 'deallocate', datastore: cur.datastore, tpipe: cur.tpipe } });
      this.setPhase('ims');
      this.armWait(out, this.cur, req, this.waitFor(req, 'ackConv'));
      return;
    }
    const ack = req.type === 'ACK';
    const nakOptions = ack
      ? {}
      : {
          ...((req.f0 & IrmF0.NAKRSN) !== 0 ? { reason: req.nakReason } : {}),
          ...((req.f3 & IrmF3.REROUT) !== 0 ? { reroute: req.rerouteOrAltClientId || this.ctx.options.datastores.find((d) => d.id === cur.datastore)?.rerouteName || 'HWS$DEF' } : {}),
          ...((req.f0 & IrmF0.SYNCNAK) !== 0 ? { keep: true } : {}),
        };
    out.push({ type: 'ims', op: ack ? { op: 'ack' } : { op: 'nak', options: nakOptions } });
    cur.req = { ...cur.req, timer: req.timer, f1: cur.req.f1 };
    if (cur.kind === 'resume') {
      const single = cur.resume === 'single' || cur.resume === 'singleWait';
      const w = this.waitFor(req, single ? 'ackSingle' : 'ackResume');
      if (!ack && !(req.f3 & IrmF3.REROUT && cur.resume !== 'single')) {
        // NAK ends the RESUME TPIPE (the message goes back to the hold queue).
        if (w.noWait) return this.finishQuiet(out);
        cur.timerByte = req.timer;
        cur.explicit = w.explicit;
        return this.timeoutRsm(out, cur);
      }
      if (w.noWait) return this.finishQuiet(out);
      if (single) {
        // Single: no further message will come; the client reads the timeout RSM when the timer ends.
        this.setPhase('after');
        return this.armWait(out, cur, req, w);
      }
      this.setPhase('after');
      return this.armWait(out, cur, req, w);
    }
    if (cur.cm === 1) {
      // CM1 CONFIRM: IMS commits on ACK / backs out on NAK; a continuing conversation gets no reply.
      if (this.conversation && ack) {
        this.cur = undefined;
        this.completed++;
        this.setPhase('idle');
        this.setTimer(out, 'idle', this.idleTimeout());
        out.push(READ);
        return;
      }
      this.setPhase('after');
      return this.armWait(out, cur, req, this.waitFor(req, cur.conversational ? 'ackConv' : 'ackCm1'));
    }
    // CM0: after the ACK IMS Connect waits for more output for the tpipe, then the timeout RSM;
    // with CM0 ACK NOWAIT nothing at all follows (spec §4.2, §6.1): the client does not read again,
    // so any reply here would be taken as the answer to its next request on a persistent socket.
    if (this.conversation && ack) {
      this.cur = undefined;
      this.completed++;
      this.setPhase('idle');
      this.setTimer(out, 'idle', this.idleTimeout());
      out.push(READ);
      return;
    }
    if (ack && req.timer === IrmTimer.NO_WAIT && this.cm0AckNoWait(cur, req)) return this.finishQuiet(out);
    const w = this.waitFor(req, 'ackCm0');
    if (!ack) {
      cur.timerByte = req.timer;
      cur.explicit = w.explicit;
      return this.timeoutRsm(out, cur);
    }
    this.setPhase('after');
    this.armWait(out, cur, req, w);
  }

  /**
   * CM0 ACK NOWAIT in force for this ACK (its timer is X'E9')? [IBM] the client marks its CM0 input
   * with IRM_F1 X'02' and acknowledges with timer X'E9'. [INF] The flag counts on either the original input or
   * the ACK itself (clients differ: `@imsplex/client` sets it on the ACK), and only when this IMS
   * Connect advertises protocol level X'02' or higher in its CSMs; below that the ACK is an ordinary
   * CM0 ACK, where X'E9' becomes 0.25 s. [INF] A NAK is never "no wait": NOWAIT is defined for the
   * positive acknowledgement only, so a NAK always ends with the timeout RSM.
   */
  private cm0AckNoWait(cur: Interaction, ackReq: SessionRequest): boolean {
    if (this.ctx.options.protocolLevel < ProtocolLevel.CM0_ACK_NOWAIT) return false;
    return cur.ackNoWait || (ackReq.f1 & IrmF1.NOWAIT) !== 0;
  }

  /** End an interaction without a reply (NO_WAIT forms). */
  private finishQuiet(out: SessionAction[]): void {
    this.conversation = false;
    this.finish(out);
  }

  private onTimer(out: SessionAction[]): void {
    const purpose = this.timerPurpose;
    this.timerPurpose = 'none';
    switch (purpose) {
      case 'first':
      case 'idle':
        out.push({ type: 'log', level: 'info', msg: `client ${this.clientId || '(none)'} on port ${this.ctx.port} ${purpose === 'first' ? 'sent no input within TIMEOUT' : 'idle past IDLETO'}; socket closed` });
        return this.close(out);
      case 'ack':
        out.push({ type: 'ims', op: { op: 'abandon' } });
        out.push({ type: 'log', level: 'warn', msg: `client ${this.clientId} sent no ACK/NAK within ACKTO; socket closed` });
        this.conversation = false;
        return this.close(out);
      case 'ims': {
        const cur = this.cur!;
        out.push({ type: 'ims', op: { op: 'abandon' } });
        if (cur.kind === 'resume' && cur.delivered > 0 && !this.persistent && cur.resume !== 'single') return this.close(out);
        this.conversation = false;
        return this.timeoutRsm(out, cur);
      }
      case 'none':
        return;
    }
  }
}
