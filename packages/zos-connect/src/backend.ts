/**
 * The IMS service provider: one `@imsplex/client` pool per IMS connection profile, service
 * invocation (interaction profile + service overrides → one send-receive), and the registry of open
 * IMS conversations (a conversation holds its connection between HTTP requests).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type CodePage } from '@imsplex/codec';
import { createClient, defaultTimers, type ClientOptions, type ImsConnectClient, type ImsConversation, type ImsResponse, type InteractionOptions, type Timers } from '@imsplex/client';
import { ZosConnectError, ZosConnectErrorCode } from './errors.js';
import { type ConnectionProfile, type InteractionProfile, type ServiceConfig, type ZosConnectConfig } from './config/model.js';
import { codePageOf, decodeResponse, dfsError, encodeRequest } from './mapping.js';

/** Options of the backend. */
export interface BackendOptions {
  /** Address the HTTP server binds; used as the default source address of IMS connections. */
  readonly serverHost?: string;
  /** Extra client options per connection profile (tests inject `connector`, `timers`). */
  readonly clientOverrides?: (profile: ConnectionProfile) => Partial<ClientOptions>;
  readonly timers?: Timers;
}

/** Result of one service call. */
export interface InvokeResult {
  /** Decoded response object. */
  readonly output: Record<string, unknown>;
  /** IMS Connect endpoint that answered. */
  readonly endpoint: string;
  readonly clientId: string;
  /** For conversational services: the conversation and whether it is still open. */
  readonly conversation: { readonly id: string; readonly open: boolean } | undefined;
}

/** What a caller says about a conversational call. */
export type ConversationStep = { readonly kind: 'start' } | { readonly kind: 'continue'; readonly id: string } | { readonly kind: 'end'; readonly id: string; readonly withInput: boolean };

interface OpenConversation {
  readonly id: string;
  readonly service: string;
  readonly conversation: ImsConversation;
  timer: unknown;
  busy: boolean;
}

/** What a service's calls share, worked out on its first call (per loaded configuration). */
interface PreparedService {
  readonly connection: ConnectionProfile;
  readonly profile: InteractionProfile;
  readonly page: CodePage;
  /** The interaction options of every call (the client resolves an identical set once). */
  readonly io: InteractionOptions;
  /**
   * `imsConnectTimeout` needs a timer and an abort signal per call: only when it differs from the
   * client's own response timeout (see `responseTimeoutOf`).
   */
  readonly callTimeout: number;
}

function isLoopbackV4(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** IMS side of the server. */
export class ImsBackend {
  private readonly clients = new Map<string, ImsConnectClient>();
  /** The response timeout each client was made with. */
  private readonly clientTimeouts = new Map<string, number>();
  private readonly conversations = new Map<string, OpenConversation>();
  /** Per service config object; a reload makes new service objects, so entries never go stale. */
  private prepared = new WeakMap<ServiceConfig, PreparedService>();
  private readonly timers: Timers;
  private closed = false;
  /** Consecutive connect failures (any profile), for the health number. */
  connectFailures = 0;

  constructor(
    private config: ZosConnectConfig,
    private readonly options: BackendOptions = {},
  ) {
    this.timers = options.timers ?? defaultTimers;
  }

  /** Switch to a reloaded configuration; clients whose profile changed are closed gracefully. */
  async reconfigure(next: ZosConnectConfig): Promise<void> {
    const old = this.config;
    this.config = next;
    this.prepared = new WeakMap();
    const stale: ImsConnectClient[] = [];
    for (const [id, client] of this.clients) {
      const changed = old.connections.get(id) !== next.connections.get(id) && JSON.stringify(old.connections.get(id)) !== JSON.stringify(next.connections.get(id));
      if (changed || this.clientTimeouts.get(id) !== this.responseTimeoutOf(id)) {
        this.clients.delete(id);
        this.clientTimeouts.delete(id);
        stale.push(client);
      }
    }
    await Promise.all(stale.map((c) => c.close()));
  }

  /**
   * The response timeout of a connection profile's client. When every service on the connection has
   * the same `imsConnectTimeout` (the usual case: one interaction profile), it is that: the client's
   * own per-connection deadline, armed when the request is written (IBM: the wait for IMS Connect's
   * answer), then times every call with no timer or abort signal of ours. Otherwise it is a bound a
   * little above `asyncRequestTimeout`, so that a lost reply eventually frees the connection, and
   * each call applies its `imsConnectTimeout` with a signal.
   */
  private responseTimeoutOf(connectionId: string): number {
    const config = this.config;
    let common: number | undefined;
    let mixed = false;
    for (const svc of config.services.values()) {
      if (svc.connectionRef !== connectionId) continue;
      const t = config.interactions.get(svc.interactionRef)?.imsConnectTimeout ?? 0;
      if (common === undefined) common = t;
      else if (common !== t) mixed = true;
    }
    if (!mixed && common !== undefined && common > 0) return Math.min(86_400_000, common);
    const asyncBound = config.manager.asyncRequestTimeout;
    return asyncBound > 0 ? Math.min(86_400_000, asyncBound + 30_000) : 0;
  }

  /** The client of a connection profile (created on first use). */
  clientFor(profile: ConnectionProfile): ImsConnectClient {
    let c = this.clients.get(profile.id);
    if (c) return c;
    if (this.closed) throw new ZosConnectError(ZosConnectErrorCode.UNAVAILABLE, 'the server is stopping');
    const host = this.options.serverHost;
    const localAddress = profile.localAddress ?? (host && isLoopbackV4(host) && isLoopbackV4(profile.host) ? host : undefined);
    const tls = profile.tls === false ? false : { ...(profile.tls.caFile ? { ca: readFileSync(profile.tls.caFile) } : {}), rejectUnauthorized: profile.tls.rejectUnauthorized, ...(profile.tls.servername ? { servername: profile.tls.servername } : {}) };
    const responseTimeout = this.responseTimeoutOf(profile.id);
    const o: ClientOptions = {
      host: profile.host,
      port: profile.port,
      ...(localAddress ? { localAddress } : {}),
      tls,
      clientIdPrefix: profile.clientIdPrefix,
      minConnections: profile.minConnections,
      maxConnections: profile.maxConnections,
      acquireTimeout: profile.acquireTimeout,
      maxIdleTime: profile.maxIdleTime,
      connectTimeout: profile.connectTimeout,
      pingIdleAfter: profile.pingOnInvoke ? 0 : -1,
      responseTimeout,
      ...(profile.user ? { racfUserId: profile.user } : {}),
      ...(profile.password ? { racfPassword: profile.password } : {}),
      ...(profile.group ? { racfGroupName: profile.group } : {}),
      timers: this.timers,
      ...(this.options.clientOverrides?.(profile) ?? {}),
    };
    c = createClient(o);
    c.on('connectError', () => this.connectFailures++);
    c.on('connect', () => (this.connectFailures = 0));
    c.on('backgroundError', () => undefined);
    this.clients.set(profile.id, c);
    this.clientTimeouts.set(profile.id, responseTimeout);
    return c;
  }

  /** Per-call interaction options for a service. */
  private interaction(service: ServiceConfig, profile: InteractionProfile, connection: ConnectionProfile): InteractionOptions {
    const datastore = service.overrides.datastore ?? profile.datastore ?? connection.datastore;
    const lterm = service.overrides.lterm ?? profile.lterm;
    return {
      codePage: profile.codePage,
      commitMode: profile.commitMode,
      syncLevel: profile.syncLevel,
      interactionTimeout: service.overrides.interactionTimeout ?? profile.interactionTimeout,
      ...(datastore ? { datastore } : {}),
      ...(lterm ? { ltermName: lterm } : {}),
      ...(profile.purgeAsyncOutput ? { purgeUndeliverableOutput: true } : {}),
      ...(profile.rerouteName ? { rerouteName: profile.rerouteName } : {}),
    };
  }

  /**
   * Run a service: encode the input, send-receive (or continue/end a conversation), detect DFS
   * messages, decode the output. Errors keep their codes (client errors, `ZCON_ERR_*`).
   */
  invoke(service: ServiceConfig, input: unknown, step?: ConversationStep): Promise<InvokeResult> {
    let prep: PreparedService;
    try {
      prep = this.prepare(service);
    } catch (e) {
      return Promise.reject(e);
    }
    // The common call (no conversation step, the client's own response timeout): one send-receive
    // and a synchronous look at its reply, without the general path's async frame.
    if (step === undefined && prep.callTimeout === 0) return this.invokePlain(service, input, prep);
    return this.invokeGeneral(service, input, step, prep);
  }

  /** What a service's calls share (worked out on its first call). */
  private prepare(service: ServiceConfig): PreparedService {
    let prep = this.prepared.get(service);
    if (prep === undefined) {
      const connection = this.config.connections.get(service.connectionRef);
      const profile = this.config.interactions.get(service.interactionRef);
      if (!connection || !profile) throw new ZosConnectError(ZosConnectErrorCode.INTERNAL, `service ${service.name} names a profile that is no longer configured`);
      const t = profile.imsConnectTimeout;
      prep = Object.freeze({ connection, profile, page: codePageOf(profile.codePage), io: Object.freeze(this.interaction(service, profile, connection)), callTimeout: t > 0 && t !== this.responseTimeoutOf(connection.id) ? t : 0 });
      this.prepared.set(service, prep);
    }
    return prep;
  }

  /** `invoke` without a conversation step or a per-call timeout: what `invokeGeneral` does for it. */
  private invokePlain(service: ServiceConfig, input: unknown, prep: PreparedService): Promise<InvokeResult> {
    let sent: Promise<ImsResponse>;
    try {
      const client = this.clientFor(prep.connection);
      const enc = encodeRequest(service, input, prep.page);
      // The frozen interaction object is resolved once by the client (by identity).
      sent = client.sendReceive({ interaction: prep.io, trancode: service.trancode, data: enc.segments, dataIncludesTrancode: enc.includesTrancode });
    } catch (e) {
      return Promise.reject(e);
    }
    return sent.then((res) => this.plainResult(service, prep.page, res));
  }

  private plainResult(service: ServiceConfig, page: CodePage, res: ImsResponse): InvokeResult {
    let conversation: InvokeResult['conversation'];
    if (res.conversation) {
      // A conversational reply to a plain call opens a conversation (as in `invokeGeneral`).
      const conv: OpenConversation = { id: randomUUID(), service: service.name, conversation: res.conversation, timer: undefined, busy: false };
      this.conversations.set(conv.id, conv);
      this.armConversation(conv);
      conversation = { id: conv.id, open: true };
    }
    if (service.detectDfsMessages) {
      const dfs = dfsError(res.segments, page, service.name);
      if (dfs) throw dfs;
    }
    return { output: decodeResponse(service, res.segments, page), endpoint: res.endpoint, clientId: res.clientId, conversation };
  }

  private async invokeGeneral(service: ServiceConfig, input: unknown, step: ConversationStep | undefined, prep: PreparedService): Promise<InvokeResult> {
    const { connection, page, io, callTimeout } = prep;
    const client = this.clientFor(connection);
    let signal: AbortSignal | undefined;
    let timer: unknown;
    if (callTimeout > 0) {
      const controller = new AbortController();
      signal = controller.signal;
      timer = this.timers.setTimeout(() => controller.abort(new ZosConnectError(ZosConnectErrorCode.TIMEOUT, `no reply from IMS Connect within imsConnectTimeout ${callTimeout} ms`)), callTimeout);
    }
    const withSignal = signal ? { signal } : {};
    try {
      let res: ImsResponse;
      let conv: OpenConversation | undefined;
      if (step && step.kind !== 'start') {
        conv = this.conversations.get(step.id);
        if (!conv || conv.service !== service.name) {
          throw new ZosConnectError(ZosConnectErrorCode.CONVERSATION_NOT_FOUND, `conversation ${step.id} is not open on this server (ended, expired, or held by another server)`, { details: { conversationId: step.id } });
        }
        if (conv.busy) throw new ZosConnectError(ZosConnectErrorCode.CONFLICT, `conversation ${step.id} is processing another request`, { details: { conversationId: step.id } });
        conv.busy = true;
        this.timers.clearTimeout(conv.timer);
        try {
          if (step.kind === 'end' && !step.withInput) {
            await conv.conversation.end(withSignal);
            this.conversations.delete(conv.id);
            return { output: {}, endpoint: '', clientId: conv.conversation.clientId, conversation: { id: conv.id, open: false } };
          }
          const enc = encodeRequest(service, input, page);
          res = await conv.conversation.continue(enc.segments, { dataIncludesTrancode: enc.includesTrancode, ...withSignal });
        } catch (e) {
          if (!conv.conversation.open) this.conversations.delete(conv.id);
          else this.armConversation(conv);
          throw e;
        } finally {
          conv.busy = false;
        }
      } else {
        if (step?.kind === 'start' && this.conversations.size >= this.config.manager.maxConversations) {
          throw new ZosConnectError(ZosConnectErrorCode.OVERLOADED, `${this.conversations.size} conversations are open (maxConversations ${this.config.manager.maxConversations})`);
        }
        const enc = encodeRequest(service, input, page);
        // The frozen interaction object is resolved once by the client (by identity).
        res = await client.sendReceive(signal ? { interaction: io, trancode: service.trancode, data: enc.segments, dataIncludesTrancode: enc.includesTrancode, signal } : { interaction: io, trancode: service.trancode, data: enc.segments, dataIncludesTrancode: enc.includesTrancode });
      }
      let conversation: InvokeResult['conversation'];
      if (res.conversation) {
        if (!conv) {
          conv = { id: randomUUID(), service: service.name, conversation: res.conversation, timer: undefined, busy: false };
          this.conversations.set(conv.id, conv);
        }
        if (step?.kind === 'end') {
          // The end input did not end the conversation in IMS: deallocate it.
          await conv.conversation.end().catch(() => undefined);
          this.conversations.delete(conv.id);
          conversation = { id: conv.id, open: false };
        } else {
          this.armConversation(conv);
          conversation = { id: conv.id, open: true };
        }
      } else if (conv) {
        this.conversations.delete(conv.id);
        conversation = { id: conv.id, open: false };
      }
      if (service.detectDfsMessages) {
        const dfs = dfsError(res.segments, page, service.name);
        if (dfs) throw dfs;
      }
      return { output: decodeResponse(service, res.segments, page), endpoint: res.endpoint, clientId: res.clientId, conversation };
    } finally {
      if (timer !== undefined) this.timers.clearTimeout(timer);
    }
  }

  private armConversation(conv: OpenConversation): void {
    this.timers.clearTimeout(conv.timer);
    conv.timer = this.timers.setTimeout(() => {
      if (conv.busy) return;
      this.conversations.delete(conv.id);
      void conv.conversation.end().catch(() => undefined);
    }, this.config.manager.conversationTimeout);
  }

  /** Open conversations. */
  get openConversations(): number {
    return this.conversations.size;
  }

  /** Pool statistics per connection profile. */
  stats(): Record<string, ReturnType<ImsConnectClient['stats']>> {
    return Object.fromEntries([...this.clients].map(([id, c]) => [id, c.stats()]));
  }

  /** End open conversations and close every client (running interactions finish). */
  async close(): Promise<void> {
    this.closed = true;
    const convs = [...this.conversations.values()];
    this.conversations.clear();
    for (const c of convs) this.timers.clearTimeout(c.timer);
    await Promise.all(convs.map((c) => c.conversation.end().catch(() => undefined)));
    await Promise.all([...this.clients.values()].map((c) => c.close()));
    this.clients.clear();
  }

  /** Destroy every client at once. */
  async destroy(): Promise<void> {
    this.closed = true;
    for (const c of this.conversations.values()) this.timers.clearTimeout(c.timer);
    this.conversations.clear();
    await Promise.all([...this.clients.values()].map((c) => c.destroy()));
    this.clients.clear();
  }
}
