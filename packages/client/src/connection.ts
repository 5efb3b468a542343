/**
 * One IMS Connect connection: a byte stream, its client ID, and the protocol state that lives on it
 * (an output waiting for ACK/NAK, a conversation, a RESUME TPIPE in progress).
 *
 * `exchange` is the only place that touches the socket: one `write` per frame (header and body
 * together), `drain` awaited when `write` returns false, then one reply read through the codec's
 * `ReplyFrameReader`, with a response timeout (until the first reply byte) and an idle timeout
 * (between chunks, refreshed on each). Everything above it (`sendReceive`, `ack`, `resumeTpipe`, …)
 * is protocol logic that decides what to send and what a reply means.
 */
import { type Duplex } from 'node:stream';
import {
  CodecError,
  ProtocolLevel,
  ReasonCode,
  ReplyFrameReader,
  ReturnCode,
  StatusFlag,
  ackRequired,
  returnCodeClosesSocket,
  type DataReply,
  type ImsReply,
  type StatusReply,
} from '@imsplex/codec';
import { publish, channels } from './diagnostics.js';
import { ClientErrorCode, ImsClientError, ImsConnectRsmError } from './errors.js';
import { type ResolvedInteraction, type SocketType, type IrmTimerSetting } from './options.js';
import { Deadline, type Timers } from './timers.js';
import { endpointKey, type Endpoint } from './transport.js';
import { buildRequest, FrameBuilder, PING_TRANCODE, pingSegments, isPingResponse, type RequestKind, type RequestSpec, type ResumeMode, type NakOptions, type TemplateKind } from './wire.js';

/** Output of IMS: the data segments of one reply and what its CSM said. */
export interface ImsOutput {
  /** Data segments without LL/ZZ. */
  readonly segments: readonly Uint8Array[];
  /** `CSM_FLG1`. */
  readonly flags: number;
  /** The client must ACK or NAK this output. */
  readonly ackRequired: boolean;
  /** The conversation continues (CSM X'40'). */
  readonly conversational: boolean;
  /** Asynchronous output is queued for this client ID (CSM X'80'). */
  readonly asyncOutputAvailable: boolean;
  /** `CSM_PRLVLFLG` when present (X'02' = CM0 ACK NOWAIT supported), else undefined. */
  readonly protocolLevel: number | undefined;
  /** MFS MOD name (`*REQMOD*`), when requested and returned. */
  readonly modname: string | undefined;
  /** Client ID returned by IMS Connect (`*GENCID*`), when requested. */
  readonly generatedClientId: string | undefined;
}

/** What the output waiting for an ACK/NAK came from; decides what follows the ACK/NAK. */
export type PendingKind = 'cm1' | 'conversation' | 'cm0' | ResumeMode;

/** What followed an ACK or NAK. */
export type AfterAck =
  /** Nothing more (conversation continues, NOWAIT ACK, single RESUME TPIPE, or the timeout RSM came). */
  | { readonly kind: 'done' }
  /** CM1 CONFIRM: IMS committed (reason 97) or backed out (reason 98). */
  | { readonly kind: 'deallocated'; readonly committed: boolean }
  /** More output for this client ID (CM0 / RESUME TPIPE no-auto / auto); it needs its own ACK/NAK. */
  | { readonly kind: 'output'; readonly output: ImsOutput };

/**
 * Output waiting for an ACK/NAK and the request it answered: the ACK/NAK repeats that request's IRM
 * (trancode, RESUME TPIPE option, alternate client ID) with only IRM_F4 and the timer changed, as in
 * IBM's examples (spec §13.3, §13.4).
 */
interface Pending {
  readonly kind: PendingKind;
  readonly output: ImsOutput;
  readonly io: ResolvedInteraction;
  readonly origin: { readonly trancode?: string; readonly resumeMode?: ResumeMode; readonly alternateClientId?: string };
}

/** Settings of a connection. */
export interface ConnectionSettings {
  readonly clientId: string;
  readonly socketType: SocketType;
  readonly responseTimeout: number;
  readonly idleTimeout: number;
  readonly maxReplySize: number;
  readonly timers: Timers;
  /** Called once when the connection closes, for whatever reason. */
  readonly onClose?: (connection: ImsConnection) => void;
}

let nextConnectionId = 1;

/** Why an exchange failed: before or after its request left the client. */
export class ExchangeError extends Error {
  constructor(
    readonly error: unknown,
    /** True when `write` was called: IMS Connect may have the request. */
    readonly written: boolean,
  ) {
    super('exchange failed');
  }
}

/** One connection to IMS Connect. Interactions on it run one at a time. */
export class ImsConnection {
  readonly id = nextConnectionId++;
  readonly clientId: string;
  readonly endpoint: Endpoint;
  /** `host:port` of the endpoint. */
  readonly endpointKey: string;
  /** Interactions completed on this connection. */
  interactions = 0;
  private readonly reader: ReplyFrameReader;
  private readonly frames: FrameBuilder;
  private readonly responseDeadline: Deadline;
  private readonly idleDeadline: Deadline;
  private waiter: { resolve: (r: ImsReply) => void; reject: (e: unknown) => void } | undefined;
  private busyFlag = false;
  private closedFlag = false;
  private closeError: unknown;
  private pending: Pending | undefined;
  private inConversation = false;
  private resumeActive: ResumeMode | undefined;
  private resumeTimer: IrmTimerSetting = 'default';
  /** An RSM IMS Connect sent unprompted (send-only-with-errors), kept for the next call. */
  private unsolicited: ImsReply | undefined;

  constructor(
    private readonly stream: Duplex,
    endpoint: Endpoint,
    private readonly s: ConnectionSettings,
  ) {
    this.clientId = s.clientId;
    this.endpoint = endpoint;
    this.endpointKey = endpointKey(endpoint);
    this.reader = new ReplyFrameReader({ llll: true, maxFrameSize: s.maxReplySize });
    this.frames = new FrameBuilder(s.clientId, s.socketType);
    this.responseDeadline = new Deadline(s.timers, () =>
      this.failWaiter(
        new ImsClientError(ClientErrorCode.RESPONSE_TIMEOUT, `no reply from ${endpointKey(endpoint)} within ${s.responseTimeout} ms (client ID ${this.clientId})`, {
          details: { timeout: s.responseTimeout, clientId: this.clientId, endpoint: endpointKey(endpoint) },
        }),
        true,
      ),
    );
    this.idleDeadline = new Deadline(s.timers, () =>
      this.failWaiter(
        new ImsClientError(ClientErrorCode.IDLE_TIMEOUT, `reply from ${endpointKey(endpoint)} stalled for ${s.idleTimeout} ms (client ID ${this.clientId})`, {
          details: { timeout: s.idleTimeout, clientId: this.clientId, endpoint: endpointKey(endpoint) },
        }),
        true,
      ),
    );
    stream.on('data', (chunk: Uint8Array) => this.onData(chunk));
    stream.on('error', (e) => this.onEnd(new ImsClientError(ClientErrorCode.SOCKET, `socket error on ${endpointKey(endpoint)}: ${e.message}`, { cause: e })));
    stream.on('close', () => this.onEnd(new ImsClientError(ClientErrorCode.SOCKET, `IMS Connect ${endpointKey(endpoint)} closed the connection (client ID ${this.clientId})`)));
    stream.on('end', () => this.onEnd(new ImsClientError(ClientErrorCode.SOCKET, `IMS Connect ${endpointKey(endpoint)} ended the connection (client ID ${this.clientId})`)));
  }

  /** True once the socket is gone. */
  get closed(): boolean {
    return this.closedFlag;
  }
  /** True while an interaction runs. */
  get busy(): boolean {
    return this.busyFlag;
  }
  /** The output waiting for ACK/NAK, if any. */
  get pendingAck(): { kind: PendingKind; output: ImsOutput } | undefined {
    return this.pending;
  }
  /** True while an IMS conversation is open on this connection. */
  get conversation(): boolean {
    return this.inConversation;
  }
  /** True when the connection can start a new, independent interaction. */
  get idle(): boolean {
    return !this.closedFlag && !this.busyFlag && this.pending === undefined && !this.inConversation;
  }
  /** True when this connection may carry another interaction after the current one (persistent sockets). */
  get reusable(): boolean {
    return this.s.socketType === 'persistent' && this.idle;
  }

  // ------------------------------------------------------------------------------------------------
  // Interactions
  // ------------------------------------------------------------------------------------------------

  /**
   * Send a transaction (IRM_F4 blank) and read its reply. Throws `ImsConnectRsmError` for an RSM.
   * Continuation input of an open conversation goes through here too.
   */
  async sendReceive(io: ResolvedInteraction, segments: readonly Uint8Array[], trancode: string, signal?: AbortSignal): Promise<ImsOutput> {
    const reply = await this.sendReceiveRequest(io, trancode, { segments }, signal);
    return this.sendReceiveOutput(reply, io, trancode);
  }

  /**
   * @internal The first half of `sendReceive`: write the request (its segments, or `trancode` + `data`
   * as `buildSegments` would make them) and read the reply. Rejects like `sendReceive`.
   */
  sendReceiveRequest(io: ResolvedInteraction, trancode: string, input: { readonly segments: readonly Uint8Array[] } | { readonly data: string | Uint8Array }, signal?: AbortSignal): Promise<ImsReply> {
    if (this.pending) return Promise.reject(this.badState('an output is waiting for ACK/NAK'));
    return this.runTemplate('send-receive', io, trancode, input, 'reply', signal) as Promise<ImsReply>;
  }

  /** @internal The second half of `sendReceive`: the output of its reply (throws for an RSM). */
  sendReceiveOutput(reply: ImsReply, io: ResolvedInteraction, trancode: string): ImsOutput {
    const output = this.output(reply, io);
    this.inConversation = output.conversational;
    if (output.ackRequired) {
      this.pending = { kind: output.conversational ? 'conversation' : io.commitMode === 0 ? 'cm0' : 'cm1', output, io, origin: { trancode } };
    }
    return output;
  }

  /** SENDONLY (`S`), ordered SENDONLY (`S` + IRM_F3 X'10') or SNDONLYE (`J`): no reply is read. */
  async sendOnly(io: ResolvedInteraction, segments: readonly Uint8Array[], trancode: string, variant: 'plain' | 'ordered' | 'errors', signal?: AbortSignal): Promise<void> {
    if (this.pending || this.inConversation) throw this.badState('send-only is not allowed with an ACK pending or in a conversation');
    const kind = variant === 'plain' ? 'send-only' : variant === 'ordered' ? 'send-only-ordered' : 'send-only-errors';
    await this.runTemplate(kind, io, trancode, { segments }, 'none', signal);
  }

  /** SENDONLYA (`K`): IMS Connect ACKs once IMS enqueued the input. Returns the ACK reply's output. */
  async sendOnlyAck(io: ResolvedInteraction, segments: readonly Uint8Array[], trancode: string, signal?: AbortSignal): Promise<ImsOutput> {
    if (this.pending || this.inConversation) throw this.badState('send-only is not allowed with an ACK pending or in a conversation');
    const reply = await this.runTemplate('send-only-ack', io, trancode, { segments }, 'reply', signal);
    // [UNV] the exact bytes of the ACK reply are not documented (spec Uncertain 9): any CSM reply counts.
    return this.output(reply!, io);
  }

  /** ACK the pending output and read what follows (see `AfterAck`). */
  async ack(signal?: AbortSignal): Promise<AfterAck> {
    const p = this.pending;
    if (!p) throw this.badState('there is no output to ACK');
    // CM0 output: if IMS Connect supports ACK NOWAIT (protocol level X'02'), ACK with X'E9' + IRM_F1
    // NOWAIT and expect nothing (spec §3.2, §4.2). Single RESUME TPIPE: ACK with X'E9', nothing follows.
    const nowait = p.kind === 'cm0' && (p.output.protocolLevel ?? 0) >= ProtocolLevel.CM0_ACK_NOWAIT;
    const silent = p.kind === 'conversation' || nowait || p.kind === 'single' || p.kind === 'single-wait';
    // No-auto / auto: the ACK's IRM timer is how long IMS Connect waits for the next message, so it
    // repeats the RESUME TPIPE's timer (X'FF' keeps an auto RESUME TPIPE waiting forever).
    const streaming = p.kind === 'auto' || p.kind === 'no-auto';
    const timer: IrmTimerSetting | undefined = nowait || p.kind === 'single' || p.kind === 'single-wait' ? 'nowait' : streaming ? this.resumeTimer : undefined;
    this.pending = undefined;
    const reply = await this.restoring(p, this.run({ kind: 'ack', io: p.io, ...p.origin, ...(timer ? { timer } : {}), ackNoWait: nowait }, silent ? 'none' : 'reply', signal, streaming && this.resumeTimer === 'forever'));
    if (silent) {
      if (p.kind === 'single' || p.kind === 'single-wait') this.resumeActive = undefined;
      return { kind: 'done' };
    }
    return this.afterAckOrNak(reply!, p, true);
  }

  /**
   * NAK the pending output (IRM_F4 `N`), optionally with a reason code for the IMS application
   * (IRM_F0 X'10' + IRM_NAK_RSNCDE), keep-on-queue (IRM_F0 X'20') or reroute (IRM_F3 X'08').
   */
  async nak(options: NakOptions = {}, signal?: AbortSignal): Promise<AfterAck> {
    const p = this.pending;
    if (!p) throw this.badState('there is no output to NAK');
    const single = p.kind === 'single' || p.kind === 'single-wait';
    this.pending = undefined;
    const reply = await this.restoring(p, this.run({ kind: 'nak', io: p.io, ...p.origin, nak: options, ...(single ? { timer: 'nowait' as const } : {}) }, single ? 'none' : 'reply', signal));
    if (single) {
      this.resumeActive = undefined;
      return { kind: 'done' };
    }
    // A NAK ends a RESUME TPIPE (IBM): no more output follows, only the closing status.
    return this.afterAckOrNak(reply!, p, false);
  }

  /** RESUME TPIPE: ask for queued output of `alternateClientId` or this connection's client ID. */
  async resumeTpipe(io: ResolvedInteraction, mode: ResumeMode, timer: IrmTimerSetting, alternateClientId: string | undefined, signal?: AbortSignal): Promise<ImsOutput | undefined> {
    if (this.pending || this.inConversation) throw this.badState('RESUME TPIPE is not allowed with an ACK pending or in a conversation');
    if (this.s.socketType === 'transaction' && this.interactions > 0) throw this.badState('on a transaction socket RESUME TPIPE must be the first message');
    this.resumeActive = mode;
    this.resumeTimer = timer;
    let reply: ImsReply | undefined;
    try {
      reply = await this.run({ kind: 'resume-tpipe', io, resumeMode: mode, timer, ...(alternateClientId ? { alternateClientId } : {}) }, 'reply', signal, mode === 'auto' && timer === 'forever');
    } catch (e) {
      this.resumeActive = undefined;
      throw e;
    }
    return this.resumeResult(reply!, mode, io, alternateClientId);
  }

  /** Wait for the next message of an auto RESUME TPIPE after its ACK (no request is sent). */
  private resumeResult(reply: ImsReply, mode: ResumeMode, io: ResolvedInteraction, alternateClientId: string | undefined): ImsOutput | undefined {
    if (reply.kind === 'status') {
      this.resumeActive = undefined;
      if (isTimerRsm(reply)) {
        if (returnCodeClosesSocket(reply.rsm.returnCode)) this.destroy();
        return undefined; // nothing (more) queued
      }
      throw this.rsmError(reply);
    }
    const output = this.output(reply, io);
    // Queued output always needs ACK/NAK (spec §6.3); treat it so even if the flag were missing.
    this.pending = { kind: mode, output, io, origin: { resumeMode: mode, ...(alternateClientId ? { alternateClientId } : {}) } };
    return output;
  }

  /** Deallocate (`D`): end the open conversation. Resolves with whether IMS committed. */
  async deallocate(io: ResolvedInteraction, signal?: AbortSignal): Promise<{ committed: boolean }> {
    if (!this.inConversation) throw this.badState('there is no conversation to deallocate');
    this.pending = undefined;
    const reply = await this.run({ kind: 'deallocate', io }, 'reply', signal);
    this.inConversation = false;
    if (reply!.kind === 'data') return { committed: true };
    // [INF] IMS Connect answers a deallocate with the deallocate status (reason 97/98), like the CM1
    // CONFIRM flow's final step (spec §8).
    if (reply!.rsm.reasonCode === ReasonCode.DEAL_CTD) return { committed: true };
    if (reply!.rsm.reasonCode === ReasonCode.DEAL_ABT) return { committed: false };
    throw this.rsmError(reply as StatusReply);
  }

  /** CANCEL TIMER (`C`) for this connection's client ID; success is RSM RC 44 / reason 59. */
  async cancelTimer(io: ResolvedInteraction, signal?: AbortSignal): Promise<void> {
    const reply = await this.run({ kind: 'cancel-timer', io }, 'reply', signal);
    if (reply!.kind === 'status' && (reply!.rsm.returnCode === ReturnCode.CANCEL_TIMER_DONE || reply!.rsm.reasonCode === ReasonCode.CANTIMER)) return;
    if (reply!.kind === 'status') throw this.rsmError(reply!);
    throw this.protocolError('CANCEL TIMER was answered with data instead of a status message');
  }

  /** PING IMS Connect (spec §6.6). Resolves when the PING response arrives. */
  async ping(io: ResolvedInteraction, signal?: AbortSignal): Promise<void> {
    if (!this.idle) throw this.badState('PING needs an idle connection');
    const reply = await this.run({ kind: 'send-receive', io: pingInteraction(io), segments: pingSegments(io.codePage), trancode: PING_TRANCODE }, 'reply', signal);
    if (reply!.kind === 'status') {
      if (reply!.rsm.returnCode === ReturnCode.PING_REPLY) return;
      throw this.rsmError(reply!);
    }
    if (ackRequired(reply!.csm.flags)) throw this.protocolError('PING response asks for an ACK');
    if (!isPingResponse(reply!.segments, io.codePage)) throw this.protocolError('PING was answered with something other than the PING response');
  }

  // ------------------------------------------------------------------------------------------------
  // Lifecycle
  // ------------------------------------------------------------------------------------------------

  /** Close gracefully: end our side and wait for the socket to close. */
  close(): Promise<void> {
    if (this.closedFlag) return Promise.resolve();
    return new Promise((resolve) => {
      this.stream.once('close', () => resolve());
      this.stream.end();
      // A peer that never closes its side must not hold us: destroy after a short grace period.
      const t = this.s.timers.setTimeout(() => this.stream.destroy(), 1000);
      this.stream.once('close', () => this.s.timers.clearTimeout(t));
    });
  }

  /** Close at once; a running exchange fails with `error`. */
  destroy(error?: unknown): void {
    if (!this.closedFlag && error !== undefined) this.failWaiter(error, false);
    this.onEnd(error ?? new ImsClientError(ClientErrorCode.DESTROYED, 'connection destroyed'));
    this.stream.destroy();
  }

  // ------------------------------------------------------------------------------------------------
  // Internals
  // ------------------------------------------------------------------------------------------------

  /** If an ACK/NAK never left the client, the output is still waiting for it: put it back. */
  private async restoring<T>(p: Pending, work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (e) {
      if (e instanceof ExchangeError && !e.written && !this.closedFlag) this.pending = p;
      throw e;
    }
  }

  private badState(why: string): ImsClientError {
    return new ImsClientError(ClientErrorCode.BAD_STATE, `${why} (client ID ${this.clientId})`, { details: { clientId: this.clientId } });
  }

  private protocolError(why: string, cause?: unknown): ImsClientError {
    return new ImsClientError(ClientErrorCode.PROTOCOL, `${why} (client ID ${this.clientId}, ${this.endpointKey})`, { cause, details: { clientId: this.clientId } });
  }

  private rsmError(reply: StatusReply): ImsConnectRsmError {
    const err = new ImsConnectRsmError(
      { returnCode: reply.rsm.returnCode, reasonCode: reply.rsm.reasonCode, otmaReason: reply.rsm.racfOrOtmaReason, flags: reply.rsm.flags },
      { clientId: this.clientId },
    );
    if (err.socketClosed) this.destroy();
    return err;
  }

  /** Turn a reply into output, or throw for an RSM. */
  private output(reply: ImsReply, _io: ResolvedInteraction): ImsOutput {
    if (reply.kind === 'status') throw this.rsmError(reply);
    return toOutput(reply);
  }

  private afterAckOrNak(reply: ImsReply, p: Pending, acked: boolean): AfterAck {
    const kind = p.kind;
    if (reply.kind === 'status') {
      const { returnCode, reasonCode } = reply.rsm;
      if (kind === 'cm1' && (reasonCode === ReasonCode.DEAL_CTD || reasonCode === ReasonCode.DEAL_ABT) && !returnCodeClosesSocket(returnCode)) {
        return { kind: 'deallocated', committed: reasonCode === ReasonCode.DEAL_CTD };
      }
      if (isTimerRsm(reply)) {
        // The wait after an ACK/NAK of CM0 or RESUME TPIPE output ended: no more output.
        this.resumeActive = undefined;
        if (returnCodeClosesSocket(returnCode)) this.destroy();
        return { kind: 'done' };
      }
      this.resumeActive = undefined;
      throw this.rsmError(reply);
    }
    if (!acked) {
      this.destroy();
      throw this.protocolError('IMS Connect sent output after a NAK');
    }
    const output = toOutput(reply);
    if (kind === 'cm1') {
      this.destroy();
      throw this.protocolError('IMS Connect sent output after the ACK of a CM1 CONFIRM reply');
    }
    this.pending = { ...p, output };
    return { kind: 'output', output };
  }

  /**
   * Write one request frame and (optionally) read one reply. Failures are `ExchangeError`s that say
   * whether the request was written.
   */
  private run(spec: Omit<RequestSpec, 'clientId' | 'socketType'>, expect: 'reply' | 'none', signal?: AbortSignal, noResponseTimeout = false): Promise<ImsReply | undefined> {
    const blocked = this.blocked();
    if (blocked) return Promise.reject(blocked);
    let frame: Uint8Array;
    try {
      frame = buildRequest({ ...spec, clientId: this.clientId, socketType: this.s.socketType } as RequestSpec);
    } catch (e) {
      return Promise.reject(new ExchangeError(e, false));
    }
    return this.exchange(frame, spec.io.exitId, spec.kind, spec.trancode, expect, signal, noResponseTimeout);
  }

  /** `run` for a data-carrying request, built from the connection's cached IRM (`FrameBuilder`). */
  private runTemplate(
    kind: TemplateKind,
    io: ResolvedInteraction,
    trancode: string,
    input: { readonly segments: readonly Uint8Array[] } | { readonly data: string | Uint8Array },
    expect: 'reply' | 'none',
    signal?: AbortSignal,
  ): Promise<ImsReply | undefined> {
    const blocked = this.blocked();
    if (blocked) return Promise.reject(blocked);
    let frame: Uint8Array;
    try {
      frame = this.frames.frame(kind, io, trancode, input);
    } catch (e) {
      return Promise.reject(new ExchangeError(e, false));
    }
    return this.exchange(frame, io.exitId, kind, trancode, expect, signal, false);
  }

  /** Why no exchange can start now (closed, busy, an unsolicited reply to report), or undefined. */
  private blocked(): ExchangeError | undefined {
    if (this.closedFlag || this.stream.destroyed || this.stream.writableEnded) {
      return new ExchangeError(this.closeError ?? new ImsClientError(ClientErrorCode.SOCKET, 'connection is closed'), false);
    }
    if (this.busyFlag) return new ExchangeError(this.badState('another interaction is running on this connection'), false);
    if (this.unsolicited) {
      const u = this.unsolicited;
      this.unsolicited = undefined;
      return new ExchangeError(u.kind === 'status' ? this.rsmError(u) : this.protocolError('IMS Connect sent an unexpected reply'), false);
    }
    return undefined;
  }

  /** Write `frame` (one write) and read one reply unless `expect` is `none`. */
  private async exchange(frame: Uint8Array, exitId: ResolvedInteraction['exitId'], kind: RequestKind, trancode: string | undefined, expect: 'reply' | 'none', signal: AbortSignal | undefined, noResponseTimeout: boolean): Promise<ImsReply | undefined> {
    this.busyFlag = true;
    this.reader.llll = exitId === '*SAMPL1*';
    const started = Date.now();
    if (channels.request.hasSubscribers) channels.request.publish({ connectionId: this.id, clientId: this.clientId, endpoint: this.endpointKey, kind, trancode, bytes: frame.length });
    let written = false;
    let onAbort: (() => void) | undefined;
    try {
      if (signal !== undefined) {
        if (signal.aborted) throw signal.reason;
        onAbort = () => this.destroy(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
      }
      written = true;
      const flushed = this.stream.write(frame);
      if (expect === 'none') {
        if (!flushed) await this.drain();
        this.interactions++;
        return undefined;
      }
      // 'data' events are asynchronous, so registering for the reply after write() misses nothing.
      const replyPromise = this.nextReply();
      if (!flushed) {
        replyPromise.catch(() => undefined);
        await this.drain();
      }
      this.interactions++;
      if (!noResponseTimeout) this.responseDeadline.arm(this.s.responseTimeout);
      const reply = await replyPromise;
      if (channels.response.hasSubscribers) channels.response.publish({ connectionId: this.id, clientId: this.clientId, kind, status: reply.kind === 'status' ? reply.rsm : undefined, ms: Date.now() - started });
      return reply;
    } catch (e) {
      // A failed exchange after the write leaves the stream out of step: never reuse it.
      if (written && !this.closedFlag) this.destroy();
      publish(channels.error, { connectionId: this.id, clientId: this.clientId, kind, written, error: e });
      throw new ExchangeError(e, written);
    } finally {
      if (onAbort !== undefined) signal!.removeEventListener('abort', onAbort);
      this.responseDeadline.clear();
      this.idleDeadline.clear();
      this.busyFlag = false;
    }
  }

  private drain(): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = this.s.responseTimeout > 0
        ? this.s.timers.setTimeout(() => {
            cleanup();
            reject(new ImsClientError(ClientErrorCode.WRITE_TIMEOUT, `IMS Connect did not read the request within ${this.s.responseTimeout} ms`));
          }, this.s.responseTimeout)
        : undefined;
      const onDrain = () => {
        cleanup();
        resolve();
      };
      const onClose = () => {
        cleanup();
        reject(this.closeError ?? new ImsClientError(ClientErrorCode.SOCKET, 'connection closed while writing'));
      };
      const cleanup = () => {
        if (t !== undefined) this.s.timers.clearTimeout(t);
        this.stream.off('drain', onDrain);
        this.stream.off('close', onClose);
      };
      this.stream.on('drain', onDrain);
      this.stream.on('close', onClose);
    });
  }

  private nextReply(): Promise<ImsReply> {
    return new Promise<ImsReply>((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.tryDeliver();
    });
  }

  private onData(chunk: Uint8Array): void {
    try {
      this.reader.write(chunk);
    } catch (e) {
      const err = e instanceof CodecError && e.code === 'IMS_ERR_FRAME_TOO_LARGE'
        ? new ImsClientError(ClientErrorCode.REPLY_TOO_LARGE, `reply exceeds maxReplySize ${this.s.maxReplySize} bytes`, { cause: e, details: { maxReplySize: this.s.maxReplySize } })
        : this.protocolError('IMS Connect sent bytes that do not frame as a reply', e);
      this.failWaiter(err, true);
      return;
    }
    if (this.waiter) {
      // The reply has started: the response timeout is met, the idle timeout now guards the rest
      // (armed only while the reply is incomplete: a reply that arrives whole needs no timer).
      this.responseDeadline.clear();
      this.tryDeliver();
      if (this.waiter) {
        if (this.idleDeadline.armed) this.idleDeadline.refresh();
        else this.idleDeadline.arm(this.s.idleTimeout);
      }
      return;
    }
    // Bytes nobody asked for: IMS Connect's SNDONLYE error RSM, or a protocol violation.
    try {
      const r = this.reader.readReply();
      if (r) this.unsolicited = r;
    } catch (e) {
      this.destroy(this.protocolError('unexpected bytes from IMS Connect', e));
    }
  }

  private tryDeliver(): void {
    if (!this.waiter) return;
    let reply: ImsReply | undefined;
    try {
      reply = this.reader.readReply();
    } catch (e) {
      this.failWaiter(this.protocolError('IMS Connect sent a reply the codec cannot decode', e), true);
      return;
    }
    if (!reply) return;
    const w = this.waiter;
    this.waiter = undefined;
    this.idleDeadline.clear();
    w.resolve(reply);
  }

  private failWaiter(error: unknown, destroy: boolean): void {
    const w = this.waiter;
    this.waiter = undefined;
    if (destroy && !this.closedFlag) {
      this.closeError = error;
      this.onEnd(error);
      this.stream.destroy();
    }
    w?.reject(error);
  }

  private onEnd(error: unknown): void {
    if (this.closedFlag) {
      this.failWaiter(this.closeError ?? error, false);
      return;
    }
    this.closedFlag = true;
    this.closeError ??= error;
    this.responseDeadline.dispose();
    this.idleDeadline.dispose();
    this.failWaiter(this.closeError, false);
    if (channels.disconnect.hasSubscribers) channels.disconnect.publish({ connectionId: this.id, clientId: this.clientId, endpoint: this.endpointKey });
    this.s.onClose?.(this);
  }
}

/** RSM of an expired IRM timer (RC 32, 36, 40). */
function isTimerRsm(reply: StatusReply): boolean {
  const rc = reply.rsm.returnCode;
  return rc === ReturnCode.TIMER_EXPIRED_CLOSE || rc === ReturnCode.DEFAULT_TIMER_EXPIRED || rc === ReturnCode.TIMER_EXPIRED_KEEP;
}

function toOutput(reply: DataReply): ImsOutput {
  const f = reply.csm.flags;
  return Object.freeze({
    // Views into the reply frame, which the framer copied out for this reply alone: no second copy.
    segments: reply.segments,
    flags: f,
    ackRequired: ackRequired(f),
    conversational: (f & StatusFlag.CONVERSATIONAL) !== 0,
    asyncOutputAvailable: (f & StatusFlag.ASYNC_MESSAGE_QUEUED) !== 0,
    protocolLevel: (f & StatusFlag.PROTOCOL_LEVEL_PRESENT) !== 0 ? reply.csm.protocolLevel : undefined,
    modname: reply.mod,
    generatedClientId: reply.generatedClientId,
  });
}

/** A PING runs as CM1 / sync NONE whatever the caller's defaults (spec §6.6). */
function pingInteraction(io: ResolvedInteraction): ResolvedInteraction {
  return { ...io, commitMode: 1, syncLevel: 'none', returnClientId: false, returnMfsModname: false, rerouteName: '', purgeUndeliverableOutput: false };
}
