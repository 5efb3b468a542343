/**
 * `ImsConnectClient`: every IMS Connect interaction over a pool of connections, with failover across
 * endpoints, safe retries (only before a request was written) and in-doubt reporting.
 */
import { EventEmitter } from 'node:events';
import { type CodePage, type ImsReply } from '@imsplex/codec';
import { ImsConnection, ExchangeError, type AfterAck, type ImsOutput } from './connection.js';
import { channels } from './diagnostics.js';
import { ClientErrorCode, ImsClientError, ImsInDoubtError, invalidArgument } from './errors.js';
import {
  clientIdName,
  checkTimer,
  imsName,
  resolveConnection,
  resolveInteraction,
  type ConnectionOptions,
  type InteractionOptions,
  type IrmTimerSetting,
  type ResolvedConnection,
  type ResolvedInteraction,
} from './options.js';
import { Pool, type PoolStats } from './pool.js';
import { EndpointSet, endpointKey } from './transport.js';
import { buildSegments, type NakOptions, type ResumeMode, type Payload } from './wire.js';

/** Options of `createClient`: connection/pool options plus default interaction options. */
export interface ClientOptions extends ConnectionOptions, InteractionOptions {}

/** What to do with output that needs an ACK or NAK. */
export type AckDecision = 'ack' | 'nak' | { readonly nak: NakOptions };

/** Per-call options shared by every interaction. */
export interface CallOptions extends InteractionOptions {
  /** Abort the call. A request already written is then reported in doubt. */
  readonly signal?: AbortSignal;
  /**
   * Interaction options shared by many calls (an interaction profile), applied over the client's
   * defaults and under the call's own interaction fields. A frozen object is validated once and
   * remembered by identity, so a caller that passes the same frozen profile on every call pays for
   * it once; an unfrozen one is resolved on each call.
   */
  readonly interaction?: Readonly<InteractionOptions>;
}

/** A transaction request. */
export interface SendReceiveRequest extends CallOptions {
  /** IMS transaction code (1–8 characters). */
  readonly trancode: string;
  /**
   * Input data: text (encoded with the code page), bytes, or an array of segments. The client puts
   * the trancode, blank-padded to 8, in front of the first segment unless `dataIncludesTrancode`.
   */
  readonly data?: Payload;
  /**
   * The data already starts with the trancode (IBM `inputMessageDataSegmentsIncludeLlzzAndTrancode`
   * for the trancode part). Default false.
   */
  readonly dataIncludesTrancode?: boolean;
  /**
   * Decide ACK or NAK for output that requires one (sync level CONFIRM, CM0). Without it the client
   * ACKs automatically (IBM `ackNakProvider` = API). Runs while the connection is held.
   */
  readonly onOutput?: (output: ImsMessage) => AckDecision | Promise<AckDecision>;
}

/** One message of IMS output, decoded for convenience. */
export interface ImsMessage extends ImsOutput {
  /** Client ID (tpipe) of the connection that carried it. */
  readonly clientId: string;
  /** Every segment decoded with the interaction's code page and joined. */
  readonly text: string;
}

/** Result of `sendReceive`. */
export interface ImsResponse extends ImsMessage {
  /** `host:port` the request went to. */
  readonly endpoint: string;
  /** How the output was answered: `ack`, `nak`, `unknown` (the ACK was written, its reply lost) or none needed. */
  readonly acknowledged: 'ack' | 'nak' | 'unknown' | undefined;
  /** CM1 CONFIRM: true when IMS committed (deallocate confirm, reason 97), false when it backed out (98). */
  readonly committed: boolean | undefined;
  /** CM0: further output IMS Connect delivered for this client ID after the ACK (each answered too). */
  readonly additionalOutput: readonly ImsMessage[];
  /** Set while the IMS conversation continues (CSM X'40'): continue it or end it. */
  readonly conversation: ImsConversation | undefined;
}

/** Send-only variants: `S`, `S` + IRM_F3 X'10', `K` (ACK reply) and `J` (errors reported). */
export type SendOnlyMode = 'plain' | 'ordered' | 'ack' | 'errors';

/** A send-only request. */
export interface SendOnlyRequest extends CallOptions {
  readonly trancode: string;
  readonly data?: Payload;
  readonly dataIncludesTrancode?: boolean;
  /** Default `plain`. */
  readonly mode?: SendOnlyMode;
}

/** A RESUME TPIPE request. */
export interface ResumeTpipeRequest extends CallOptions {
  /** Delivery option. Default `no-auto` (the HWSSMPL default). */
  readonly mode?: ResumeMode;
  /** Drain this tpipe from a pooled connection (IRM_RT_ALTCID, IRM architecture ≥ 1; IBM `resumeTpipeAlternateClientId`). */
  readonly alternateClientId?: string;
  /** Drain this tpipe on a dedicated connection that uses it as its client ID (e.g. after an in-doubt CM0 request). */
  readonly clientId?: string;
  /** IRM timer of the RESUME TPIPE. Default `forever` for `auto`, else `interactionTimeout` (X'00' = 2 s). */
  readonly timer?: IrmTimerSetting;
}

/** A message from a tpipe hold queue. ACKed when the consumer asks for the next one. */
export interface TpipeMessage extends ImsMessage {
  /** Answer this message with a NAK instead of the automatic ACK. */
  nak(options?: NakOptions): void;
  /** Answer with ACK even if the loop is left with `break` (which otherwise NAKs it back to the queue). */
  ack(): void;
}

/** The IMS Connect client. */
export class ImsConnectClient extends EventEmitter {
  readonly options: ResolvedConnection;
  private readonly defaults: InteractionOptions;
  private readonly baseIo: ResolvedInteraction;
  private readonly endpoints: EndpointSet;
  private readonly pool: Pool<ImsConnection>;
  private readonly dedicated = new Set<ImsConnection>();
  /** Client IDs of this client's open connections, with a count (CANCEL TIMER reuses a busy ID). */
  private readonly clientIds = new Map<string, number>();
  private nextId: number;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closePromise: Promise<void> | undefined;
  private destroyPromise: Promise<void> | undefined;
  private readonly counters = { requests: 0, inDoubt: 0, retries: 0, rsm: 0 };
  /** Resolved per-call interaction overrides, by their values (an interaction profile is resolved once). */
  private readonly ioCache = new Map<string, ResolvedInteraction>();
  /** Resolved shared interaction objects (`CallOptions.interaction`), by identity. */
  private readonly ioByProfile = new WeakMap<object, ResolvedInteraction>();
  /** Validated transaction codes, by the string given. */
  private readonly trancodes = new Map<string, string>();

  constructor(options: ClientOptions) {
    super();
    const {
      exitId, codePage, datastore, commitMode, syncLevel, interactionTimeout, ltermOverrideName, racfUserId, racfGroupName, racfPassword, racfApplName,
      mfsModname, returnMfsModname, returnClientId, rerouteName, purgeUndeliverableOutput, cancelClientId, irmArchitecture, ...conn
    } = options;
    this.defaults = Object.freeze(
      Object.fromEntries(
        Object.entries({ exitId, codePage, datastore, commitMode, syncLevel, interactionTimeout, ltermOverrideName, racfUserId, racfGroupName, racfPassword, racfApplName, mfsModname, returnMfsModname, returnClientId, rerouteName, purgeUndeliverableOutput, cancelClientId, irmArchitecture }).filter(([, v]) => v !== undefined),
      ),
    ) as InteractionOptions;
    this.baseIo = resolveInteraction(this.defaults);
    this.options = resolveConnection(conn);
    const space = Math.pow(36, 8 - this.options.clientIdPrefix.length);
    this.nextId = Math.floor(this.options.rng() * space);
    this.endpoints = new EndpointSet(this.options);
    this.pool = new Pool<ImsConnection>({
      minSize: this.options.minConnections,
      maxSize: this.options.maxConnections,
      maxWaiters: this.options.maxWaiters,
      acquireTimeout: this.options.acquireTimeout,
      maxIdleTime: this.options.socketType === 'persistent' ? this.options.maxIdleTime : 0,
      checkIdleAfter: this.options.pingIdleAfter,
      healthCheckInterval: this.options.socketType === 'persistent' ? this.options.healthCheckInterval : 0,
      timers: this.options.timers,
      clock: this.options.clock,
      create: (signal) => this.openConnection(this.allocateClientId(), signal),
      check: (c, signal) => c.ping(this.baseIo, signal).catch((e: unknown) => Promise.reject(e instanceof ExchangeError ? e.error : e)),
      onBackgroundError: (e) => this.emit('backgroundError', e),
    });
  }

  // ------------------------------------------------------------------------------------------------
  // Interactions
  // ------------------------------------------------------------------------------------------------

  /**
   * Run a transaction and return its output (IRM_F4 blank). Output that needs an ACK/NAK is answered
   * (automatically, or by `onOutput`); a conversational reply returns a `conversation` handle that
   * keeps the connection until the conversation ends.
   *
   * Errors: `ImsConnectRsmError` (RSM), `ImsInDoubtError` (the request was written and the
   * connection failed), `IMS_ERR_CONNECT_FAILED`, `IMS_ERR_POOL_*`, `IMS_ERR_INVALID_ARGUMENT`.
   */
  async sendReceive(request: SendReceiveRequest): Promise<ImsResponse> {
    const io = this.io(request);
    if (!io.datastore) throw invalidArgument('datastore is required (IBM imsDatastoreName)');
    const trancode = this.trancode(request.trancode);
    const data = request.data ?? NO_DATA;
    const includesTrancode = request.dataIncludesTrancode ?? false;
    // Text or bytes that make one segment are encoded straight into the request frame; anything
    // else is split into segments here, once, whatever the retries.
    const input = !includesTrancode && (typeof data === 'string' || data instanceof Uint8Array) ? { data } : { segments: buildSegments(trancode, data, io.codePage, includesTrancode) };
    this.counters.requests++;
    const signal = request.signal;
    // withRetry, unrolled for the hot path: no closure and no extra promise per request.
    for (let attempt = 0; ; attempt++) {
      const conn = this.takeIdle(signal) ?? (await this.acquire(signal));
      try {
        let output: ImsOutput;
        try {
          const reply: ImsReply = await conn.sendReceiveRequest(io, trancode, input, signal);
          output = conn.sendReceiveOutput(reply, io, trancode);
        } catch (e) {
          throw this.classify(e, conn, io, 'send-receive', trancode, NOT_WRITTEN);
        }
        if (!output.ackRequired && !output.conversational) {
          this.release(conn);
          return this.response(conn, io, output, undefined, undefined, NO_MESSAGES, undefined);
        }
        return await this.finishOutput(conn, io, output, request, trancode);
      } catch (e) {
        if (e instanceof RetryableError) {
          if (attempt < this.options.maxRetries && !signal?.aborted) {
            this.counters.retries++;
            continue;
          }
          throw e.error;
        }
        throw e;
      }
    }
  }

  /**
   * Send a message without a reply: `plain` (`S`), `ordered` (`S` + IRM_F3 X'10'), `ack` (`K`: IMS
   * Connect ACKs once IMS has the input) or `errors` (`J`: IMS Connect reports what it detects).
   * Send-only runs in commit mode 0 (IBM). Resolves once written (`plain`/`ordered`/`errors`) or
   * ACKed (`ack`).
   */
  async sendOnly(request: SendOnlyRequest): Promise<{ readonly clientId: string; readonly endpoint: string }> {
    const io = this.io({ ...request, commitMode: 0, syncLevel: 'confirm' });
    if (!io.datastore) throw invalidArgument('datastore is required (IBM imsDatastoreName)');
    const trancode = imsName(request.trancode, 'trancode', false);
    const mode = request.mode ?? 'plain';
    if (!['plain', 'ordered', 'ack', 'errors'].includes(mode)) throw invalidArgument(`send-only mode must be plain, ordered, ack or errors; got ${String(mode)}`);
    const segments = buildSegments(trancode, request.data, io.codePage, request.dataIncludesTrancode ?? false);
    this.counters.requests++;
    return this.withRetry(request.signal, async (conn, written) => {
      try {
        if (mode === 'ack') await conn.sendOnlyAck(io, segments, trancode, request.signal);
        else await conn.sendOnly(io, segments, trancode, mode, request.signal);
      } catch (e) {
        throw this.classify(e, conn, io, `send-only-${mode}`, trancode, written);
      }
      this.release(conn);
      return { clientId: conn.clientId, endpoint: conn.endpointKey };
    });
  }

  /**
   * RESUME TPIPE as an async iterator. Each message is ACKed when the consumer asks for the next one
   * (or NAKed if it called `message.nak()`); leaving the loop early (`break`, `throw`) or aborting
   * NAKs the message in hand, which puts it back on the hold queue. `single` / `single-wait` yield at
   * most one message, `no-auto` drains what is queued, `auto` keeps waiting for new output.
   */
  resumeTpipe(request: ResumeTpipeRequest = {}): AsyncIterable<TpipeMessage> {
    const io = this.io({ ...request, commitMode: 0, syncLevel: 'confirm' });
    const mode = request.mode ?? 'no-auto';
    if (!['single', 'single-wait', 'no-auto', 'auto'].includes(mode)) throw invalidArgument(`resumeTpipe mode must be single, single-wait, no-auto or auto; got ${String(mode)}`);
    if (request.clientId !== undefined && request.alternateClientId !== undefined) throw invalidArgument('give clientId or alternateClientId, not both');
    const alt = request.alternateClientId === undefined ? undefined : imsName(request.alternateClientId, 'alternateClientId', false);
    const fixed = request.clientId === undefined ? undefined : clientIdName(request.clientId);
    if (alt && io.rerouteName) throw invalidArgument('alternateClientId and rerouteName share one IRM field and are mutually exclusive');
    const timer = checkTimer(request.timer ?? (mode === 'auto' ? 'forever' : io.interactionTimeout), 'timer');
    return {
      [Symbol.asyncIterator]: () => this.iterateTpipe(io, mode, timer, alt, fixed, request.signal),
    };
  }

  /** RESUME TPIPE `single` (or `single-wait`): the one message, already ACKed, or undefined when none is queued. */
  async receiveOne(request: Omit<ResumeTpipeRequest, 'mode'> & { readonly wait?: boolean } = {}): Promise<ImsMessage | undefined> {
    for await (const m of this.resumeTpipe({ ...request, mode: request.wait ? 'single-wait' : 'single' })) {
      m.ack();
      const { nak: _n, ack: _a, ...plain } = m;
      return plain;
    }
    return undefined;
  }

  /**
   * CANCEL TIMER (`C`) for `clientId`: ends another session's IRM wait on that client ID (for example a
   * RESUME TPIPE auto that holds it). Sent on a dedicated connection. Resolves on RSM RC 44 / reason 59.
   */
  async cancelTimer(request: CallOptions & { readonly clientId: string }): Promise<void> {
    const io = this.io(request);
    const id = clientIdName(request.clientId);
    // The point of CANCEL TIMER is a second session on a client ID that is busy, possibly ours.
    const conn = await this.openDedicated(id, request.signal, true);
    try {
      await conn.cancelTimer(io, request.signal);
    } catch (e) {
      throw e instanceof ExchangeError ? e.error : e;
    } finally {
      await this.closeDedicated(conn);
    }
  }

  /** PING IMS Connect on a pooled connection (HWSC0030I). */
  async ping(request: CallOptions = {}): Promise<void> {
    const io = this.io(request);
    await this.withRetry(request.signal, async (conn) => {
      try {
        await conn.ping(io, request.signal);
      } catch (e) {
        this.release(conn, false);
        throw e instanceof ExchangeError ? e.error : e;
      }
      this.release(conn);
    });
  }

  /**
   * Run `fn` with a connection of its own for low-level control (explicit `ack`, `nak`, `deallocate`
   * on `ImsConnection`). The connection returns to the pool afterwards if it is idle and persistent.
   */
  async withConnection<T>(fn: (connection: ImsConnection, io: ResolvedInteraction) => Promise<T>, options: CallOptions = {}): Promise<T> {
    const io = this.io(options);
    const conn = await this.acquire(options.signal);
    try {
      return await fn(conn, io);
    } finally {
      this.release(conn);
    }
  }

  // ------------------------------------------------------------------------------------------------
  // State and lifecycle
  // ------------------------------------------------------------------------------------------------

  /** Pool, endpoint and request counters. */
  stats(): { readonly pool: PoolStats; readonly endpoints: ReturnType<EndpointSet['snapshot']>; readonly dedicated: number; readonly requests: number; readonly retries: number; readonly inDoubt: number; readonly rsm: number } {
    return Object.freeze({ pool: this.pool.stats(), endpoints: this.endpoints.snapshot(), dedicated: this.dedicated.size, ...this.counters });
  }

  /** True after `close()` or `destroy()`. */
  get closed(): boolean {
    return this.state !== 'open';
  }

  /**
   * Graceful close: new calls fail with `IMS_ERR_CLIENT_CLOSED`, running interactions (and open
   * conversations) finish, then every connection is closed. Idempotent; returns the same promise.
   */
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.state = 'closing';
    this.closePromise = (async () => {
      await this.pool.close();
      await Promise.all([...this.dedicated].map((c) => c.close()));
      this.state = 'closed';
    })();
    return this.closePromise;
  }

  /**
   * Forceful close: every waiting and running call fails with `error` (default
   * `IMS_ERR_CLIENT_DESTROYED`), every connection is destroyed. Idempotent.
   */
  destroy(error?: unknown): Promise<void> {
    if (this.destroyPromise) return this.destroyPromise;
    const err = error ?? new ImsClientError(ClientErrorCode.DESTROYED, 'client destroyed');
    this.state = 'closed';
    for (const c of this.dedicated) c.destroy(err);
    this.destroyPromise = this.pool.destroy(err);
    return this.destroyPromise;
  }

  // ------------------------------------------------------------------------------------------------
  // Internals
  // ------------------------------------------------------------------------------------------------

  /**
   * The interaction of a call: the client's defaults, or the defaults with the call's overrides.
   * Overrides with primitive values (all documented options) are resolved once per distinct set of
   * values and kept (at most `IO_CACHE_SIZE` sets), so a caller that passes the same interaction
   * profile on every call pays for validation once.
   */
  private io(call: CallOptions): ResolvedInteraction {
    const shared = call.interaction;
    if (shared !== undefined) {
      let own = false;
      for (const k of Object.keys(call)) {
        if (INTERACTION_KEYS.has(k) && (call as Record<string, unknown>)[k] !== undefined) {
          own = true;
          break;
        }
      }
      if (!own) return this.sharedIo(shared);
      const merged: Record<string, unknown> = {};
      for (const k of Object.keys(shared)) if (INTERACTION_KEYS.has(k)) merged[k] = (shared as Record<string, unknown>)[k];
      for (const k of Object.keys(call)) if (INTERACTION_KEYS.has(k) && (call as Record<string, unknown>)[k] !== undefined) merged[k] = (call as Record<string, unknown>)[k];
      return this.io(merged as InteractionOptions);
    }
    const c = call as Record<string, unknown>;
    let key: string | undefined;
    let cacheable = true;
    for (const k of Object.keys(c)) {
      if (!INTERACTION_KEYS.has(k)) continue;
      const v = c[k];
      if (v === undefined) continue;
      if ((typeof v === 'object' && v !== null) || typeof v === 'function') cacheable = false;
      key = `${key === undefined ? '' : `${key}\u0001`}${k}\u0002${typeof v}:${Object.is(v, -0) ? '-0' : String(v)}`;
    }
    if (key === undefined) return this.baseIo;
    if (cacheable) {
      const hit = this.ioCache.get(key);
      if (hit !== undefined) return hit;
    }
    const overrides: Record<string, unknown> = {};
    for (const k of Object.keys(c)) if (INTERACTION_KEYS.has(k) && c[k] !== undefined) overrides[k] = c[k];
    const io = resolveInteraction(this.defaults, overrides as InteractionOptions);
    if (cacheable) {
      if (this.ioCache.size >= IO_CACHE_SIZE) this.ioCache.delete(this.ioCache.keys().next().value!);
      this.ioCache.set(key, io);
    }
    return io;
  }

  /** The resolved form of a shared interaction object (remembered by identity when it is frozen). */
  private sharedIo(shared: Readonly<InteractionOptions>): ResolvedInteraction {
    if (typeof shared !== 'object' || shared === null) throw invalidArgument('interaction must be an object of interaction options');
    if (!Object.isFrozen(shared)) return this.io(stripShared(shared));
    let io = this.ioByProfile.get(shared);
    if (io === undefined) {
      io = this.io(stripShared(shared));
      this.ioByProfile.set(shared, io);
    }
    return io;
  }

  /** Validate a transaction code (`imsName`), remembering the codes seen (at most `TRANCODE_CACHE_SIZE`). */
  private trancode(value: string): string {
    const hit = typeof value === 'string' ? this.trancodes.get(value) : undefined;
    if (hit !== undefined) return hit;
    const name = imsName(value, 'trancode', false);
    if (this.trancodes.size >= TRANCODE_CACHE_SIZE) this.trancodes.delete(this.trancodes.keys().next().value!);
    this.trancodes.set(value, name);
    return name;
  }

  /** An idle pooled connection at once (nothing to wait for), else undefined: then use `acquire`. */
  private takeIdle(signal: AbortSignal | undefined): ImsConnection | undefined {
    if (this.state !== 'open' || signal?.aborted) return undefined;
    return this.pool.tryAcquire();
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new ImsClientError(this.destroyPromise ? ClientErrorCode.DESTROYED : ClientErrorCode.CLOSED, `the client is ${this.destroyPromise ? 'destroyed' : 'closed'}`);
  }

  /** A unique client ID: prefix + base-36 sequence, never reused while in use. */
  private allocateClientId(): string {
    if (this.options.clientId !== undefined) return this.options.clientId;
    const width = 8 - this.options.clientIdPrefix.length;
    const space = Math.pow(36, width);
    for (let i = 0; i < space; i++) {
      const id = this.options.clientIdPrefix + (this.nextId++ % space).toString(36).toUpperCase().padStart(width, '0');
      if (!this.clientIds.has(id)) return id;
    }
    throw new ImsClientError(ClientErrorCode.POOL_EXHAUSTED, 'no free client ID left for this prefix');
  }

  private holdId(id: string): void {
    this.clientIds.set(id, (this.clientIds.get(id) ?? 0) + 1);
  }
  private dropId(id: string): void {
    const n = (this.clientIds.get(id) ?? 1) - 1;
    if (n > 0) this.clientIds.set(id, n);
    else this.clientIds.delete(id);
  }

  private async openConnection(clientId: string, signal?: AbortSignal): Promise<ImsConnection> {
    this.holdId(clientId);
    try {
      const { stream, endpoint } = await this.endpoints.connect(signal, (endpoint, error) => {
        if (channels.connectError.hasSubscribers) channels.connectError.publish({ endpoint: endpointKey(endpoint), error });
        this.emit('connectError', { endpoint: endpointKey(endpoint), error });
      });
      const conn = new ImsConnection(stream, endpoint, {
        clientId,
        socketType: this.options.socketType,
        responseTimeout: this.options.responseTimeout,
        idleTimeout: this.options.idleTimeout,
        maxReplySize: this.options.maxReplySize,
        timers: this.options.timers,
        onClose: (c) => {
          this.dropId(c.clientId);
          this.pool.forget(c);
          this.emit('disconnect', { connectionId: c.id, clientId: c.clientId, endpoint: c.endpointKey });
        },
      });
      if (channels.connected.hasSubscribers) channels.connected.publish({ connectionId: conn.id, clientId, endpoint: conn.endpointKey });
      this.emit('connect', { connectionId: conn.id, clientId, endpoint: conn.endpointKey });
      return conn;
    } catch (e) {
      this.dropId(clientId);
      throw e;
    }
  }

  private async openDedicated(clientId: string, signal?: AbortSignal, allowBusyId = false): Promise<ImsConnection> {
    this.assertOpen();
    if (!allowBusyId && this.clientIds.has(clientId)) throw invalidArgument(`client ID ${clientId} is in use by one of this client's connections`);
    const conn = await this.openConnection(clientId, signal);
    this.dedicated.add(conn);
    return conn;
  }

  private async closeDedicated(conn: ImsConnection): Promise<void> {
    this.dedicated.delete(conn);
    await conn.close();
  }

  private async acquire(signal?: AbortSignal): Promise<ImsConnection> {
    this.assertOpen();
    return this.pool.acquire(signal);
  }

  /** Return a connection; it is kept only if it is persistent and idle. */
  private release(conn: ImsConnection, reusable = conn.reusable): void {
    this.pool.release(conn, reusable && conn.reusable);
  }

  /**
   * Acquire a connection and run `work`; if it fails before anything was written (a pooled socket
   * found closed, a failed write setup), retry on another connection up to `maxRetries`.
   */
  private async withRetry<T>(signal: AbortSignal | undefined, work: (conn: ImsConnection, written: { value: boolean }) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const conn = await this.acquire(signal);
      const written = { value: false };
      try {
        return await work(conn, written);
      } catch (e) {
        if (e instanceof RetryableError) {
          if (attempt < this.options.maxRetries && !signal?.aborted) {
            this.counters.retries++;
            continue;
          }
          throw e.error;
        }
        throw e;
      }
    }
  }

  /** Decide what a failed interaction means: retry, in doubt, or the error itself. Releases `conn`. */
  private classify(e: unknown, conn: ImsConnection, io: ResolvedInteraction, interaction: string, trancode: string | undefined, _written: { value: boolean }): unknown {
    if (!(e instanceof ExchangeError)) {
      // RSM, bad state, invalid input: the connection may still be good.
      if ((e as { code?: string }).code === ClientErrorCode.RSM) this.counters.rsm++;
      this.release(conn);
      return e;
    }
    this.release(conn, false);
    if (!e.written) {
      const code = (e.error as { code?: string }).code;
      if (code === ClientErrorCode.SOCKET || code === ClientErrorCode.DESTROYED) return new RetryableError(e.error);
      return e.error;
    }
    this.counters.inDoubt++;
    return new ImsInDoubtError({ clientId: conn.clientId, commitMode: io.commitMode, interaction, ...(trancode ? { trancode } : {}), endpoint: conn.endpointKey }, e.error);
  }

  /** Answer output that needs it, follow CM0 output, open a conversation handle; release the connection. */
  private async finishOutput(conn: ImsConnection, io: ResolvedInteraction, first: ImsOutput, request: SendReceiveRequest, trancode: string): Promise<ImsResponse> {
    let acknowledged: ImsResponse['acknowledged'];
    let committed: boolean | undefined;
    const additional: ImsMessage[] = [];
    let output: ImsOutput | undefined = first;
    let current = first;
    try {
      while (output?.ackRequired) {
        const message = toMessage(output, conn.clientId, io.codePage);
        const decision = request.onOutput ? await request.onOutput(message) : 'ack';
        let after: AfterAck;
        try {
          after = decision === 'ack' ? await conn.ack(request.signal) : await conn.nak(decision === 'nak' ? {} : decision.nak, request.signal);
          acknowledged ??= decision === 'ack' ? 'ack' : 'nak';
        } catch (e) {
          if (e instanceof ExchangeError && e.written) {
            // CM1 CONFIRM: the commit decision is unknown. CM0: the output is in hand, only its ACK's fate is not.
            if (io.commitMode === 1 && !first.conversational) throw e;
            acknowledged = 'unknown';
            this.release(conn, false);
            return this.response(conn, io, first, acknowledged, committed, additional, undefined);
          }
          throw e;
        }
        output = undefined;
        if (after.kind === 'deallocated') committed = after.committed;
        else if (after.kind === 'output') {
          output = after.output;
          current = output;
          additional.push(toMessage(output, conn.clientId, io.codePage));
        }
      }
    } catch (e) {
      throw this.classify(e, conn, io, 'ack', trancode, { value: true });
    }
    void current;
    if (first.conversational && !conn.closed) {
      const conversation = new ImsConversation(this, conn, io, trancode);
      return this.response(conn, io, first, acknowledged, committed, additional, conversation);
    }
    this.release(conn);
    return this.response(conn, io, first, acknowledged, committed, additional, undefined);
  }

  private response(conn: ImsConnection, io: ResolvedInteraction, output: ImsOutput, acknowledged: ImsResponse['acknowledged'], committed: boolean | undefined, additional: readonly ImsMessage[], conversation: ImsConversation | undefined): ImsResponse {
    // One object, fields in the order of `{ ...toMessage(output), endpoint, … }`.
    return Object.freeze({
      segments: output.segments,
      flags: output.flags,
      ackRequired: output.ackRequired,
      conversational: output.conversational,
      asyncOutputAvailable: output.asyncOutputAvailable,
      protocolLevel: output.protocolLevel,
      modname: output.modname,
      generatedClientId: output.generatedClientId,
      clientId: conn.clientId,
      text: outputText(output, io.codePage),
      endpoint: conn.endpointKey,
      acknowledged,
      committed,
      additionalOutput: additional.length === 0 ? NO_MESSAGES : Object.freeze(additional),
      conversation,
    });
  }

  /** @internal continue a conversation on its connection. */
  async continueConversation(conv: ImsConversation, conn: ImsConnection, io: ResolvedInteraction, trancode: string, data: Payload | undefined, includesTrancode: boolean, signal?: AbortSignal): Promise<ImsResponse> {
    const segments = buildSegments(trancode, data, io.codePage, includesTrancode);
    let output: ImsOutput;
    try {
      output = await conn.sendReceive(io, segments, trancode, signal);
    } catch (e) {
      conv.markEnded();
      throw this.classify(e, conn, io, 'send-receive (conversation)', trancode, { value: true });
    }
    const res = await this.finishOutput(conn, io, output, { trancode, ...(signal ? { signal } : {}) }, trancode);
    if (!res.conversation) conv.markEnded();
    // Keep one handle per conversation.
    return res.conversation ? Object.freeze({ ...res, conversation: conv }) : res;
  }

  /** @internal end a conversation (deallocate). */
  async endConversation(conn: ImsConnection, io: ResolvedInteraction, signal?: AbortSignal): Promise<{ committed: boolean }> {
    try {
      const r = await conn.deallocate(io, signal);
      this.release(conn);
      return r;
    } catch (e) {
      throw this.classify(e, conn, io, 'deallocate', undefined, { value: true });
    }
  }

  /** @internal hand a connection back without using it (conversation ended by IMS or abandoned). */
  releaseConnection(conn: ImsConnection, reusable: boolean): void {
    this.release(conn, reusable);
  }

  private async *iterateTpipe(io: ResolvedInteraction, mode: ResumeMode, timer: IrmTimerSetting, alt: string | undefined, fixed: string | undefined, signal: AbortSignal | undefined): AsyncGenerator<TpipeMessage, void, undefined> {
    const conn = fixed ? await this.openDedicated(fixed, signal) : await this.acquire(signal);
    let reusable = true;
    try {
      let out: ImsOutput | undefined;
      try {
        out = await conn.resumeTpipe(io, mode, timer, alt, signal);
      } catch (e) {
        reusable = false;
        throw e instanceof ExchangeError ? e.error : e;
      }
      while (out) {
        let decision: AckDecision | undefined;
        let resumed = false;
        const base = toMessage(out, alt ?? conn.clientId, io.codePage);
        const message: TpipeMessage = Object.freeze({
          ...base,
          nak: (options?: NakOptions) => void (decision = { nak: options ?? {} }),
          ack: () => void (decision = 'ack'),
        });
        try {
          yield message;
          resumed = true;
        } finally {
          if (!resumed) {
            // The consumer left the loop (break, throw, return): unless it said ACK, put the message back.
            try {
              if (decision === 'ack') await conn.ack();
              else await conn.nak(typeof decision === 'object' ? decision.nak : {});
            } catch {
              reusable = false;
            }
          }
        }
        if (signal?.aborted) {
          await conn.nak({}).catch(() => (reusable = false));
          throw signal.reason;
        }
        try {
          const after = decision === undefined || decision === 'ack' ? await conn.ack(signal) : await conn.nak(decision === 'nak' ? {} : decision.nak, signal);
          out = after.kind === 'output' ? after.output : undefined;
        } catch (e) {
          reusable = false;
          throw e instanceof ExchangeError ? e.error : e;
        }
      }
    } finally {
      if (fixed) await this.closeDedicated(conn);
      else this.release(conn, reusable);
    }
  }
}

/** An IMS conversation in progress: it holds its connection until it ends. */
export class ImsConversation {
  private ended = false;
  constructor(
    private readonly client: ImsConnectClient,
    private readonly conn: ImsConnection,
    private readonly io: ResolvedInteraction,
    /** Transaction code that started the conversation. */
    readonly trancode: string,
  ) {}

  /** Client ID (tpipe) the conversation runs on. */
  get clientId(): string {
    return this.conn.clientId;
  }
  /** False once IMS ended the conversation, it was deallocated, or its connection failed. */
  get open(): boolean {
    return !this.ended && !this.conn.closed;
  }

  /**
   * Send the next input. By default the trancode is put in front of the data again (IBM sample flows
   * show continuation input without it, so pass `dataIncludesTrancode: true` with your own layout).
   */
  async continue(data?: Payload, options: { readonly dataIncludesTrancode?: boolean; readonly signal?: AbortSignal } = {}): Promise<ImsResponse> {
    if (!this.open) throw new ImsClientError(ClientErrorCode.BAD_STATE, 'the conversation has ended');
    return this.client.continueConversation(this, this.conn, this.io, this.trancode, data, options.dataIncludesTrancode ?? false, options.signal);
  }

  /** End the conversation with DEALLOCATE and release the connection. */
  async end(options: { readonly signal?: AbortSignal } = {}): Promise<{ readonly committed: boolean }> {
    if (!this.open) throw new ImsClientError(ClientErrorCode.BAD_STATE, 'the conversation has ended');
    this.ended = true;
    return this.client.endConversation(this.conn, this.io, options.signal);
  }

  /** @internal */
  markEnded(): void {
    this.ended = true;
  }
}

class RetryableError extends Error {
  constructor(readonly error: unknown) {
    super('retryable');
  }
}

/** Distinct per-call interaction override sets kept resolved (oldest dropped first). */
const IO_CACHE_SIZE = 64;
/** Distinct transaction code strings kept validated (oldest dropped first). */
const TRANCODE_CACHE_SIZE = 256;
const NO_DATA = new Uint8Array(0);
const NO_MESSAGES: readonly ImsMessage[] = Object.freeze([]);
/** `written` argument of `classify` for a failure the exchange itself classifies (`ExchangeError.written`). */
const NOT_WRITTEN: { readonly value: boolean } = Object.freeze({ value: false });

const INTERACTION_KEYS = new Set([
  'exitId', 'codePage', 'datastore', 'commitMode', 'syncLevel', 'interactionTimeout', 'ltermOverrideName', 'racfUserId', 'racfGroupName', 'racfPassword', 'racfApplName',
  'mfsModname', 'returnMfsModname', 'returnClientId', 'rerouteName', 'purgeUndeliverableOutput', 'cancelClientId', 'irmArchitecture',
]);

/** A shared interaction object as a call of its own (a nested `interaction` in it is ignored). */
function stripShared(shared: Readonly<InteractionOptions>): InteractionOptions {
  if (!('interaction' in shared)) return shared;
  const { interaction: _nested, ...rest } = shared as CallOptions;
  return rest;
}

/** Every segment of `output` decoded with `page`, joined. */
function outputText(output: ImsOutput, page: CodePage): string {
  const segments = output.segments;
  if (segments.length === 1) return page.decode(segments[0]!);
  let text = '';
  for (const s of segments) text += page.decode(s);
  return text;
}

function toMessage(output: ImsOutput, clientId: string, page: CodePage): ImsMessage {
  return Object.freeze({ ...output, clientId, text: outputText(output, page) });
}

/** Create a client. See `ClientOptions`. */
export function createClient(options: ClientOptions): ImsConnectClient {
  return new ImsConnectClient(options);
}
