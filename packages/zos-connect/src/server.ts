/**
 * `ZosConnectServer`: the fastify 5 server. It serves
 * - the APIs of the configuration directory (`<basePath><path>` of each OpenAPI document) and their
 *   documents (`<basePath>/api-docs`);
 * - the z/OS Connect administration REST API under `/zosConnect` (spec §2.2), behind basic auth;
 * - `/health` (distributor contract `{ ready, health }`) and `/metrics` (Prometheus), on the admin
 *   listener when one is configured, else on the main one;
 * - a Swagger UI of every API at `/api/explorer`.
 *
 * Lifecycle: `start()` → `pause()`/`resume()` (stop/restart accepting work, like MODIFY PAUSE/RESUME)
 * → `stop()` (refuse new requests with 503, let in-flight ones finish, then close).
 */
import { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, type Socket } from 'node:net';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type HookHandlerDoneFunction } from 'fastify';
import { pino, type Logger } from 'pino';
import { createClient, defaultClock, defaultTimers, type ClientOptions, type Clock, type Timers } from '@imsplex/client';
import { isImsplexError } from '@imsplex/codec';
import { authorize } from './auth.js';
import { ImsBackend, type ConversationStep, type InvokeResult } from './backend.js';
import { loadConfig } from './config/loader.js';
import { type ConnectionProfile, type ParameterConfig, type Role, type ZosConnectConfig } from './config/model.js';
import { compileTemplate } from './config/templates.js';
import { resolveError, type ErrorBody } from './error-body.js';
import { ZosConnectError, ZosConnectErrorCode } from './errors.js';
import { DeadlineQueue } from './deadlines.js';
import { computeHealth, type HealthReport } from './health.js';
import { ZosConnectMetrics } from './metrics.js';
import { Registry, type ApiState, type RouteMatch, type ServiceState } from './registry.js';
import { ADMIN_API_DOC } from './admin-doc.js';
import { installHttpFront, type FastRequest, type FastSink, type HttpFront } from './front.js';

/** Options of `createZosConnectServer`. */
export interface ZosConnectServerOptions {
  /** Configuration directory, or a configuration already loaded with `loadConfig`. */
  readonly config: string | ZosConnectConfig;
  /** Listen address (default: server.xml `httpEndpoint`, else 127.0.0.1). */
  readonly host?: string;
  /** Listen port (default: server.xml `httpEndpoint`, else 5595; 0 = any). */
  readonly port?: number;
  /** Separate admin/health listener. Default none: admin, health and metrics share the main port. */
  readonly admin?: { readonly host: string; readonly port: number };
  /** pino logger (default: silent). Lifecycle, error and request logs go to it. */
  readonly logger?: Logger;
  /**
   * Which requests are logged (default `errors`). Server errors (5xx) are always logged, at error
   * level with their cause. `errors` also logs 4xx answers at info; `all` adds one info line per
   * request (method, URL, status, time, API and operation); `off` logs no other request.
   */
  readonly requestLog?: RequestLogMode;
  /** Extra IMS client options per connection profile (tests inject `connector`, `timers`). */
  readonly clientOverrides?: (profile: ConnectionProfile) => Partial<ClientOptions>;
  /**
   * Timers for asyncRequestTimeout, imsConnectTimeout, conversation expiry, stop, and the HTTP
   * front's keep-alive and headers timeouts (default: the globals).
   */
  readonly timers?: Timers;
  /**
   * The clock that goes with `timers` (ms). With it (or with the default timers, whose clock is
   * `Date.now`), the asyncRequestTimeout of concurrent requests shares one timer; injected `timers`
   * without a clock get one timer per request.
   */
  readonly clock?: Clock;
  /** Server name for logs and metric labels. */
  readonly name?: string;
  /**
   * Answer API GETs on the fast path instead of through fastify's request pipeline (default true):
   * the HTTP front (`HttpFront`) owns the main listener's connections and answers eligible GETs
   * itself, handing a connection to node:http (and so to fastify) at the first request it does not
   * answer; on such connections, API GETs are still answered straight from node:http's 'request'
   * event. Both give the same bytes, logs and metrics as fastify; `false` sends every request
   * through node:http and fastify (tests compare the two).
   */
  readonly fastPath?: boolean;
}

/** What `requestLog` logs besides server errors. */
export type RequestLogMode = 'all' | 'errors' | 'off';

/** Server lifecycle states. */
export type ServerState = 'created' | 'running' | 'paused' | 'stopping' | 'stopped';

/** Where the server listens once started. */
export interface ListeningInfo {
  readonly url: string;
  readonly address: AddressInfo;
  readonly adminUrl: string | undefined;
  readonly adminAddress: AddressInfo | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    zcon?: { kind: 'api' | 'service' | 'admin' | 'docs'; api?: string; operation?: string; counted?: boolean };
  }
}

const SERVICE_PROVIDER = 'IMS-1.0';

/** What fastify's `reply.type('application/json')` sends (it adds the charset). */
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** Largest request ID before the counter wraps (fastify's default generator: 2^31 - 1, an SMI). */
const MAX_REQUEST_SEQ = 0x7fffffff;

/** Request IDs as fastify's default generator makes them (`req-1`, `req-2`, … in base 36), per app. */
class RequestIds {
  private seq = 0;
  next(): string {
    this.seq = (this.seq + 1) & MAX_REQUEST_SEQ;
    return `req-${this.seq.toString(36)}`;
  }
}

/** Add `prefix` to a list of path prefixes, keeping only the shortest of those that nest. */
function addPrefix(list: string[], prefix: string): void {
  if (list.some((p) => prefix.startsWith(p))) return;
  for (let i = list.length - 1; i >= 0; i--) if (list[i]!.startsWith(prefix)) list.splice(i, 1);
  list.push(prefix);
}

/** Static start of a fastify route URL (up to its first parameter or wildcard). */
function staticPrefix(url: string): string {
  const i = url.search(/[:*]/);
  return i < 0 ? url : url.slice(0, i);
}

/** Shared empty scope for template roots a request does not have (never written). */
const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The URL's path (without the query). */
function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Base URL of the request (scheme, host and port as the client used them). */
function baseUrl(req: FastifyRequest): string {
  const host = req.headers.host ?? `${req.socket.localAddress}:${req.socket.localPort}`;
  return `${req.protocol}://${host}`;
}

function coerce(p: ParameterConfig, raw: string): unknown {
  switch (p.type) {
    case 'integer':
      if (/^-?\d{1,15}$/.test(raw)) return Number(raw);
      break;
    case 'number':
      if (raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
      break;
    case 'boolean':
      if (raw === 'true' || raw === 'false') return raw === 'true';
      break;
    default:
      return raw;
  }
  throw new ZosConnectError(ZosConnectErrorCode.BAD_PARAMETER, `The ${p.in} parameter ${p.name} must be ${p.type === 'integer' ? 'an integer' : `a ${p.type}`}; got "${raw}".`, { details: { parameter: p.name, in: p.in } });
}

/** The z/OS Connect server. */
export class ZosConnectServer {
  readonly app: FastifyInstance;
  readonly adminApp: FastifyInstance | undefined;
  readonly metrics: ZosConnectMetrics;
  readonly backend: ImsBackend;
  readonly registry: Registry;
  readonly logger: Logger;
  private config: ZosConnectConfig;
  private readonly timers: Timers;
  /** The clock of `timers`, when known (then asyncRequestTimeout uses a `DeadlineQueue`). */
  private readonly clock: Clock | undefined;
  /** asyncRequestTimeout queues by delay (a reload may change it while older requests still wait). */
  private readonly deadlineQueues = new Map<number, DeadlineQueue>();
  private stateValue: ServerState = 'created';
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private stopPromise: Promise<void> | undefined;
  private readonly combinedDoc: Record<string, unknown> = {};
  private listening: ListeningInfo | undefined;
  private readonly requestLog: RequestLogMode;
  /** Request IDs of the main app (fastify's and the fast path's requests share the sequence). */
  private readonly mainIds = new RequestIds();
  /** Static starts of the main app's own fastify routes (admin, docs, explorer): never the fast path. */
  private readonly fastifyPrefixes: string[] = [];
  /** The HTTP front on the main listener (undefined with `fastPath: false`). */
  private front: HttpFront | undefined;

  constructor(private readonly options: ZosConnectServerOptions) {
    this.config = typeof options.config === 'string' ? loadConfig(options.config) : options.config;
    this.timers = options.timers ?? defaultTimers;
    this.clock = options.clock ?? (options.timers === undefined ? defaultClock : undefined);
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.requestLog = options.requestLog ?? 'errors';
    if (!['all', 'errors', 'off'].includes(this.requestLog)) throw new ZosConnectError(ZosConnectErrorCode.CONFIG, `requestLog must be all, errors or off; got ${String(this.requestLog)}`);
    this.registry = new Registry(this.config);
    const host = options.host ?? this.config.endpoint?.host ?? '127.0.0.1';
    this.backend = new ImsBackend(this.config, { serverHost: host, ...(options.clientOverrides ? { clientOverrides: options.clientOverrides } : {}), timers: this.timers });
    this.metrics = new ZosConnectMetrics(
      {
        pools: () => Object.fromEntries(Object.entries(this.backend.stats()).map(([k, v]) => [k, v.pool])),
        conversations: () => this.backend.openConversations,
        ready: () => this.stateValue === 'running',
        inFlight: () => this.inFlight,
      },
      options.name ? { server: options.name } : {},
    );
    this.app = this.buildApp(this.options.admin === undefined);
    this.adminApp = this.options.admin ? this.buildAdminApp() : undefined;
    this.refreshCombinedDoc();
  }

  /** Current lifecycle state. */
  get state(): ServerState {
    return this.stateValue;
  }

  /** The loaded configuration. */
  get configuration(): ZosConnectConfig {
    return this.config;
  }

  /** Requests being processed (API and service invocations). */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** Where the server listens (after `start`). */
  get address(): ListeningInfo | undefined {
    return this.listening;
  }

  /** The HTTP front of the main listener (undefined with `fastPath: false`). */
  get httpFront(): HttpFront | undefined {
    return this.front;
  }

  // ------------------------------------------------------------------------------------------------
  // Lifecycle
  // ------------------------------------------------------------------------------------------------

  /** Listen on the configured addresses. */
  async start(): Promise<ListeningInfo> {
    if (this.stateValue !== 'created') throw new ZosConnectError(ZosConnectErrorCode.CONFLICT, `cannot start a server that is ${this.stateValue}`);
    const host = this.options.host ?? this.config.endpoint?.host ?? '127.0.0.1';
    const port = this.options.port ?? this.config.endpoint?.port ?? 5595;
    await this.app.listen({ host, port });
    const address = this.app.server.address() as AddressInfo;
    let adminAddress: AddressInfo | undefined;
    if (this.adminApp && this.options.admin) {
      await this.adminApp.listen({ host: this.options.admin.host, port: this.options.admin.port });
      adminAddress = this.adminApp.server.address() as AddressInfo;
    }
    this.stateValue = 'running';
    const url = (a: AddressInfo) => `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
    this.listening = Object.freeze({ url: url(address), address, adminUrl: adminAddress ? url(adminAddress) : undefined, adminAddress });
    this.logger.info({ url: this.listening.url, admin: this.listening.adminUrl, apis: this.registry.apis.size, services: this.registry.services.size }, 'z/OS Connect server started');
    return this.listening;
  }

  /** Stop accepting new work (503, health `ready: false`); in-flight requests complete. */
  pause(): void {
    if (this.stateValue === 'running') this.stateValue = 'paused';
  }

  /** Accept work again after `pause()`. */
  resume(): void {
    if (this.stateValue === 'paused') this.stateValue = 'running';
  }

  /** Re-read the configuration directory. On error nothing changes and the `ConfigError` is thrown. */
  async reload(): Promise<void> {
    if (typeof this.options.config !== 'string') throw new ZosConnectError(ZosConnectErrorCode.CONFLICT, 'the server was created from a loaded configuration; there is no directory to re-read');
    const next = loadConfig(this.options.config);
    await this.backend.reconfigure(next);
    this.config = next;
    this.registry.apply(next);
    this.refreshCombinedDoc();
    this.logger.info({ apis: this.registry.apis.size, services: this.registry.services.size }, 'configuration refreshed');
  }

  /** Health for the distributor: `{ ready, health, jobname? }`. */
  health(): HealthReport {
    return computeHealth({
      state: this.stateValue,
      inFlight: this.inFlight,
      maxInFlight: this.config.manager.maxInFlight,
      connectFailures: this.backend.connectFailures,
      jobname: this.config.manager.jobname,
    });
  }

  /**
   * Graceful stop: new requests get 503 at once, in-flight requests finish (at most `stopTimeout`),
   * then the listeners close and the IMS clients close. Idempotent.
   */
  stop(options: { readonly timeout?: number } = {}): Promise<void> {
    if (this.stopPromise) return this.stopPromise;
    const before = this.stateValue;
    this.stateValue = 'stopping';
    this.stopPromise = (async () => {
      if (before !== 'created') {
        const timeout = options.timeout ?? this.config.manager.stopTimeout;
        if (this.inFlight > 0) {
          await new Promise<void>((resolve) => {
            const t = this.timers.setTimeout(() => {
              this.logger.warn({ inFlight: this.inFlight }, 'stop timeout: closing with requests in flight');
              resolve();
            }, timeout);
            this.drained = () => {
              this.timers.clearTimeout(t);
              resolve();
            };
          });
        }
      }
      this.drained = undefined;
      await Promise.all([this.app.close(), this.adminApp?.close()]);
      await this.backend.close();
      // An idle queue's timer would only keep the process alive; waits still queued keep theirs.
      for (const [ms, q] of this.deadlineQueues) {
        if (q.size > 0) continue;
        q.dispose();
        this.deadlineQueues.delete(ms);
      }
      this.stateValue = 'stopped';
      this.logger.info('z/OS Connect server stopped');
    })();
    return this.stopPromise;
  }

  // ------------------------------------------------------------------------------------------------
  // Fastify apps
  // ------------------------------------------------------------------------------------------------

  private newApp(ids: RequestIds): FastifyInstance {
    // No fastify logger: its request logging writes two lines per request through a child logger
    // made for each request. The server logs what `requestLog` asks for itself, once per request.
    return Fastify({
      logger: false,
      genReqId: () => ids.next(),
      bodyLimit: this.config.manager.maxRequestBodySize,
      exposeHeadRoutes: false,
      return503OnClosing: true,
      forceCloseConnections: 'idle',
      // Bounded header/URL sizes; Node's defaults apply to headers (16 KiB).
      routerOptions: { maxParamLength: 512 },
    });
  }

  private buildApp(withOps: boolean): FastifyInstance {
    const app = this.newApp(this.mainIds);
    app.addHook('onRoute', (route) => {
      if (route.url !== '/*') addPrefix(this.fastifyPrefixes, staticPrefix(route.url));
    });
    this.installCommon(app);
    void app.register(swagger, { mode: 'static', specification: { document: this.combinedDoc as never } });
    void app.register(swaggerUi, { routePrefix: '/api/explorer' });
    this.adminRoutes(app);
    if (withOps) this.opsRoutes(app);
    app.route({
      method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'],
      url: '/*',
      handler: (req, reply) => this.handleApi(req, reply),
    });
    if (this.options.fastPath !== false) this.installFastPath(app);
    return app;
  }

  /**
   * Put `serveFast` in front of fastify's request handler on the main server, and the HTTP front in
   * place of node's connection handling (it answers what it can and hands the rest to node:http).
   */
  private installFastPath(app: FastifyInstance): void {
    const server = app.server;
    const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
    if (handlers.length !== 1) return; // not the server fastify made: leave it alone
    const fastify = handlers[0]!;
    server.removeListener('request', fastify);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (!this.serveFast(req, new NodeSink(res))) fastify.call(server, req, res);
    });
    this.front = installHttpFront(server, { serveFast: (req, out) => this.serveFast(req, out) }, { timers: this.timers, clock: this.clock });
  }

  private buildAdminApp(): FastifyInstance {
    const app = this.newApp(new RequestIds());
    this.installCommon(app);
    this.adminRoutes(app);
    this.opsRoutes(app);
    return app;
  }

  private installCommon(app: FastifyInstance): void {
    app.server.on('connection', (socket: Socket) => socket.setNoDelay(true));
    // Callback-style hooks: no promise per request.
    app.addHook('onRequest', (_req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
      if (this.stateValue === 'stopping') reply.header('connection', 'close');
      done();
    });
    app.addHook('onResponse', (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
      const z = req.zcon;
      const ms = reply.elapsedTime;
      this.metrics.observeRequest(z?.kind ?? 'admin', z?.api ?? '', z?.operation ?? '', reply.statusCode, ms / 1000);
      if (this.requestLog === 'all') this.logger.info({ reqId: req.id, method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(ms * 1000) / 1000, ...(z?.api ? { api: z.api } : {}), ...(z?.operation ? { operation: z.operation } : {}) }, 'request');
      done();
    });
    app.setErrorHandler((error: FastifyError, req, reply) => {
      this.sendError(req, reply, this.fromFastify(error));
    });
    app.setNotFoundHandler((req, reply) => {
      this.sendError(req, reply, new ZosConnectError(ZosConnectErrorCode.NOT_FOUND, `No API or resource matches ${req.method} ${pathOf(req.url)}.`));
    });
  }

  /** Map fastify's own errors (body parsing, limits) to coded errors. */
  private fromFastify(error: FastifyError): unknown {
    if (isImsplexError(error)) return error;
    const code = error.code ?? '';
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ZosConnectError(ZosConnectErrorCode.PAYLOAD_TOO_LARGE, `The request body exceeds ${this.config.manager.maxRequestBodySize} bytes.`, { cause: error });
    if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new ZosConnectError(ZosConnectErrorCode.UNSUPPORTED_MEDIA_TYPE, 'The request content type is not supported: send application/json.', { cause: error });
    if (code.startsWith('FST_ERR_CTP_') || error.statusCode === 400) return new ZosConnectError(ZosConnectErrorCode.BAD_REQUEST, `The request payload could not be parsed. ${error.message}`, { cause: error });
    return error;
  }

  private sendError(req: FastifyRequest, reply: FastifyReply, error: unknown, extra: { service?: string } = {}): FastifyReply {
    const r = this.errorAnswer(req.id, req.method, req.url, error, extra);
    if (r.authenticate !== undefined) reply.header('www-authenticate', r.authenticate);
    if (r.allow !== undefined) reply.header('allow', r.allow);
    return reply.code(r.status).type('application/json').send(r.body);
  }

  /** Resolve an error to its answer and log it (server errors always; others per `requestLog`). */
  private errorAnswer(reqId: string | (() => string), method: string, url: string, error: unknown, extra: { service?: string }): { status: number; body: ErrorBody; authenticate: string | undefined; allow: string | undefined } {
    const r = resolveError(error, this.config.manager.errorProfile, extra);
    const id = (): string => (typeof reqId === 'string' ? reqId : reqId());
    if (r.status >= 500) this.logger.error({ reqId: id(), method, url, err: error, code: r.body.errorDetails.code }, r.body.errorMessage);
    else if (this.requestLog !== 'off') this.logger.info({ reqId: id(), method, url, code: r.body.errorDetails.code }, r.body.errorMessage);
    return {
      status: r.status,
      body: r.body,
      authenticate: r.status === 401 ? 'Basic realm="zosConnect"' : undefined,
      allow: isImsplexError(error) && error.code === ZosConnectErrorCode.METHOD_NOT_ALLOWED && Array.isArray(error.details['allow']) ? (error.details['allow'] as string[]).join(', ') : undefined,
    };
  }

  private require(req: FastifyRequest, role: Role): string {
    return this.requireFrom(req.headers, role);
  }

  private requireFrom(headers: IncomingHttpHeaders, role: Role): string {
    return authorize(headers.authorization, role, this.config.users, this.config.manager);
  }

  // ------------------------------------------------------------------------------------------------
  // Invocation gate, shared by API operations and service invoke
  // ------------------------------------------------------------------------------------------------

  private admit(req: { readonly headers: IncomingHttpHeaders }): void {
    if (this.stateValue === 'stopping' || this.stateValue === 'stopped') throw new ZosConnectError(ZosConnectErrorCode.UNAVAILABLE, 'The server is stopping and accepts no new requests.');
    if (this.stateValue === 'paused') throw new ZosConnectError(ZosConnectErrorCode.UNAVAILABLE, 'The server is paused and accepts no new requests.');
    if (this.inFlight >= this.config.manager.maxInFlight) throw new ZosConnectError(ZosConnectErrorCode.OVERLOADED, `${this.inFlight} requests are in flight (maxInFlight ${this.config.manager.maxInFlight}).`);
    if (this.config.manager.requireAuth) this.requireFrom(req.headers, 'Invoke');
  }

  private enter(): void {
    this.inFlight++;
  }

  private leave(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.drained) this.drained();
  }

  /**
   * Run a service with `asyncRequestTimeout`: on expiry the caller gets 503 BAQR0433W, and the IMS
   * work goes on; its late result is discarded (a conversation it opened is ended).
   */
  private runService(state: ServiceState, input: unknown, step?: ConversationStep): Promise<InvokeResult> {
    return new Promise<InvokeResult>((resolve, reject) => this.startService(state, input, step, { ok: resolve, fail: reject }));
  }

  /**
   * Run a service with `asyncRequestTimeout` and report to `sink` once: on expiry the caller gets
   * 503 BAQR0433W, and the IMS work goes on; its late result is discarded (a conversation it opened
   * is ended). Never throws.
   */
  private startService(state: ServiceState, input: unknown, step: ConversationStep | undefined, sink: ServiceSink): void {
    if (state.status !== 'started') {
      sink.fail(new ZosConnectError(ZosConnectErrorCode.STOPPED, `Service ${state.config.name} is stopped.`, { details: { service: state.config.name } }));
      return;
    }
    const stats = state.stats;
    const service = state.config;
    stats.invocations++;
    stats.inFlight++;
    stats.lastInvokedAt = Date.now();
    const started = performance.now();
    const work = this.backend.invoke(service, input, step);
    const limit = this.config.manager.asyncRequestTimeout;
    if (limit <= 0) {
      work.then(
        (r) => {
          this.metrics.countInteractionOk(service);
          this.settleStats(stats, started);
          sink.ok(r);
        },
        (e: unknown) => {
          this.interactionFailed(stats, service.name, e);
          this.settleStats(stats, started);
          sink.fail(e);
        },
      );
      return;
    }
    // One deadline: whichever of IMS and the deadline comes first settles the caller.
    const queue = this.deadlineQueue(limit);
    let timedOut = false;
    const expire = (): void => {
      timedOut = true;
      sink.fail(new ZosConnectError(ZosConnectErrorCode.TIMEOUT, `The asynchronous request has timed out after ${limit} milliseconds.`, { details: { asyncRequestTimeout: limit, service: service.name } }));
    };
    const timer = queue !== undefined ? queue.add(expire) : this.timers.setTimeout(expire, limit);
    work.then(
      (r) => {
        this.settleStats(stats, started);
        this.metrics.countInteractionOk(service);
        if (!timedOut) {
          if (queue !== undefined) queue.remove(timer as ReturnType<DeadlineQueue['add']>);
          else this.timers.clearTimeout(timer);
          sink.ok(r);
        } else if (r.conversation?.open) {
          // IBM: the backend is not told of the timeout; the late result is discarded, and a
          // conversation it opened is ended.
          void this.backend.invoke(service, {}, { kind: 'end', id: r.conversation.id, withInput: false }).catch(() => undefined);
        }
      },
      (e: unknown) => {
        this.settleStats(stats, started);
        this.interactionFailed(stats, service.name, e);
        if (!timedOut) {
          if (queue !== undefined) queue.remove(timer as ReturnType<DeadlineQueue['add']>);
          else this.timers.clearTimeout(timer);
          sink.fail(e);
        }
      },
    );
  }

  /** The shared deadline queue of `limit` ms, or undefined without a clock (then a timer per request). */
  private deadlineQueue(limit: number): DeadlineQueue | undefined {
    if (this.clock === undefined) return undefined;
    let q = this.deadlineQueues.get(limit);
    if (q === undefined) {
      q = new DeadlineQueue(this.timers, this.clock, limit);
      this.deadlineQueues.set(limit, q);
    }
    return q;
  }

  private settleStats(stats: ServiceState['stats'], started: number): void {
    stats.inFlight--;
    const ms = performance.now() - started;
    stats.totalMs += ms;
    if (ms > stats.maxMs) stats.maxMs = ms;
  }

  private interactionFailed(stats: ServiceState['stats'], service: string, e: unknown): void {
    stats.errors++;
    const code = isImsplexError(e) ? e.code : 'UNKNOWN';
    this.metrics.countInteraction(service, code);
    if (code === 'IMS_ERR_IN_DOUBT') this.metrics.inDoubt.inc({ service });
  }

  // ------------------------------------------------------------------------------------------------
  // API operations
  // ------------------------------------------------------------------------------------------------

  private async handleApi(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const path = pathOf(req.url);
    req.zcon = { kind: 'api' };
    // `<basePath>/api-docs`: the API's OpenAPI document (GET and OPTIONS only).
    if (path.endsWith('/api-docs')) {
      const api = this.registry.apiByBasePath(path.slice(0, -'/api-docs'.length));
      if (api) {
        req.zcon = { kind: 'docs', api: api.config.name };
        if (req.method === 'OPTIONS') return reply.code(200).header('allow', 'GET, OPTIONS').send();
        if (req.method !== 'GET') return this.sendError(req, reply, new ZosConnectError(ZosConnectErrorCode.METHOD_NOT_ALLOWED, `${req.method} is not allowed on ${path}.`, { details: { allow: ['GET', 'OPTIONS'] } }));
        return reply.type('application/json').send(this.apiDocument(api, baseUrl(req)));
      }
    }
    const m = this.registry.match(req.method, path);
    if (m === undefined) return this.sendError(req, reply, new ZosConnectError(ZosConnectErrorCode.NOT_FOUND, `No API path matches ${req.method} ${path}.`));
    if ('allow' in m) {
      if (req.method === 'OPTIONS') return reply.code(200).header('allow', [...m.allow, 'OPTIONS'].join(', ')).send();
      return this.sendError(req, reply, new ZosConnectError(ZosConnectErrorCode.METHOD_NOT_ALLOWED, `${req.method} is not allowed on ${path}.`, { details: { allow: m.allow } }));
    }
    req.zcon = { kind: 'api', api: m.api.config.name, operation: m.operation.operationId };
    const service = this.registry.services.get(m.operation.service);
    try {
      this.admit(req);
    } catch (e) {
      return this.sendError(req, reply, e);
    }
    this.enter();
    m.api.inFlight++;
    try {
      if (m.api.status !== 'started') throw new ZosConnectError(ZosConnectErrorCode.STOPPED, `API ${m.api.config.name} is stopped.`, { details: { api: m.api.config.name } });
      if (!service) throw new ZosConnectError(ZosConnectErrorCode.NOT_FOUND, `Service ${m.operation.service} is not available.`, { details: { service: m.operation.service } });
      const { input, step } = this.requestInput(req.query, req.headers, req.body, m);
      const result = await this.runService(service, input, step);
      return this.sendApiResult(req, reply, m, result);
    } catch (e) {
      return this.sendError(req, reply, e, { service: m.operation.service });
    } finally {
      m.api.inFlight--;
      this.leave();
    }
  }

  private requestInput(query: unknown, headers: IncomingHttpHeaders, body: unknown, m: RouteMatch): { input: unknown; step: ConversationStep | undefined } {
    const op = m.operation;
    let path: Record<string, unknown> | undefined;
    let queryValues: Record<string, unknown> | undefined;
    let header: Record<string, unknown> | undefined;
    for (const p of op.parameters) {
      let raw: unknown;
      if (p.in === 'path') raw = m.params[p.name];
      else if (p.in === 'query') raw = (query as Record<string, unknown> | undefined)?.[p.name];
      else raw = headers[p.name];
      if (Array.isArray(raw)) raw = raw[0];
      if (raw === undefined) {
        if (p.required) throw new ZosConnectError(ZosConnectErrorCode.BAD_PARAMETER, `The required ${p.in} parameter ${p.name} is missing.`, { details: { parameter: p.name, in: p.in } });
        continue;
      }
      const v = coerce(p, String(raw));
      if (p.in === 'path') (path ??= {})[p.name] = v;
      else if (p.in === 'query') (queryValues ??= {})[p.name] = v;
      else (header ??= {})[p.name] = v;
    }
    if (op.bodyRequired && (body === undefined || body === null)) throw new ZosConnectError(ZosConnectErrorCode.BAD_REQUEST, 'The request payload could not be parsed: a JSON body is required.');
    if (body !== undefined && body !== null && !isObj(body)) throw new ZosConnectError(ZosConnectErrorCode.BAD_REQUEST, 'The request payload could not be parsed: the body must be a JSON object.');
    const input = op.request ? compileTemplate(op.request)({ path: path ?? EMPTY, query: queryValues ?? EMPTY, header: header ?? EMPTY, body }) : (body ?? {});
    let step: ConversationStep | undefined;
    if (op.conversation === 'start') step = { kind: 'start' };
    else if (op.conversation === 'continue') step = { kind: 'continue', id: String(path?.[op.conversationParam!]) };
    else if (op.conversation === 'end') step = { kind: 'end', id: String(path?.[op.conversationParam!]), withInput: op.request !== undefined || (isObj(body) && Object.keys(body).length > 0) };
    return { input, step };
  }

  private sendApiResult(_req: FastifyRequest, reply: FastifyReply, m: RouteMatch, result: InvokeResult): FastifyReply {
    const { status, out } = apiAnswer(m.operation, result);
    if (result.conversation) reply.header('x-zosconnect-conversation-id', result.conversation.id);
    return reply.code(status).type('application/json').send(out ?? {});
  }

  // ------------------------------------------------------------------------------------------------
  // API fast path
  // ------------------------------------------------------------------------------------------------

  /**
   * The API fast path: a GET of a started API operation while the server runs is answered straight
   * from the HTTP front or node:http, with exactly what the fastify route would send (status,
   * headers, JSON body, error bodies, logs, metrics, request IDs). Everything else returns false and
   * goes to node:http / fastify: other methods (bodies), percent-encoded paths, query strings the
   * operation reads, `api-docs`, the admin/health/metrics/explorer routes, a paused or stopping
   * server, stopped APIs and services. `out` gets the answer in one `respond` call.
   */
  private serveFast(req: FastRequest, out: FastSink): boolean {
    if (req.method !== 'GET' || this.stateValue !== 'running') return false;
    const url = req.url ?? '';
    if (url.indexOf('%') >= 0) return false;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path.endsWith('/api-docs')) return false;
    const prefixes = this.fastifyPrefixes;
    for (let i = 0; i < prefixes.length; i++) if (path.startsWith(prefixes[i]!)) return false;
    const m = this.registry.match('GET', path);
    if (m === undefined || 'allow' in m) return false;
    const op = m.operation;
    if (m.api.status !== 'started') return false;
    if (q >= 0 && op.parameters.some((p) => p.in === 'query')) return false;
    const service = this.registry.services.get(op.service);
    if (service === undefined) return false;
    const call = new FastCall(this, req, out, m);
    try {
      this.admit(req);
    } catch (e) {
      call.error(e, undefined);
      return true;
    }
    this.enter();
    m.api.inFlight++;
    let input: unknown;
    let step: ConversationStep | undefined;
    try {
      ({ input, step } = this.requestInput(undefined, req.headers, undefined, m));
    } catch (e) {
      call.fail(e);
      return true;
    }
    this.startService(service, input, step, call);
    return true;
  }

  /** @internal Answer a fast-path call with its API result (FastCall). */
  fastResult(call: FastCall, result: InvokeResult): void {
    const m = call.match;
    let payload: string;
    let status: number;
    try {
      const a = apiAnswer(m.operation, result);
      status = a.status;
      payload = JSON.stringify(a.out ?? {});
    } catch (e) {
      // fastify: a serialization error goes to the error handler, without the service.
      this.fastError(call, e, {});
      return;
    }
    const length = String(Buffer.byteLength(payload));
    if (result.conversation) call.out.respond(status, ['x-zosconnect-conversation-id', result.conversation.id, 'content-type', JSON_CONTENT_TYPE, 'content-length', length], payload);
    else call.out.respond(status, ['content-type', JSON_CONTENT_TYPE, 'content-length', length], payload);
    this.fastAnswered(call, status);
  }

  /** @internal Answer a fast-path call with an error, as `sendError` would (FastCall). */
  fastError(call: FastCall, error: unknown, extra: { service?: string }): void {
    const req = call.req;
    const r = this.errorAnswer(() => this.mainIds.next(), req.method ?? '', req.url ?? '', error, extra);
    const payload = JSON.stringify(r.body);
    const headers: string[] = [];
    if (r.authenticate !== undefined) headers.push('www-authenticate', r.authenticate);
    if (r.allow !== undefined) headers.push('allow', r.allow);
    headers.push('content-type', JSON_CONTENT_TYPE, 'content-length', String(Buffer.byteLength(payload)));
    call.out.respond(r.status, headers, payload);
    this.fastAnswered(call, r.status);
  }

  /** What the `onResponse` hook does for fastify's requests: metrics and the `all` request log. */
  private fastAnswered(call: FastCall, status: number): void {
    const ms = performance.now() - call.started;
    const op = call.match.operation;
    const api = call.match.api.config.name;
    this.metrics.observeApiRequest(op, api, op.operationId, status, ms / 1000);
    if (this.requestLog === 'all') {
      const req = call.req;
      this.logger.info({ reqId: this.mainIds.next(), method: req.method, url: req.url, status, ms: Math.round(ms * 1000) / 1000, ...(api ? { api } : {}), ...(op.operationId ? { operation: op.operationId } : {}) }, 'request');
    }
  }

  /** @internal The end of an admitted fast-path call (FastCall). */
  fastLeave(call: FastCall): void {
    call.match.api.inFlight--;
    this.leave();
  }

  private apiDocument(api: ApiState, base: string): Record<string, unknown> {
    return { ...api.config.document, servers: [{ url: `${base}${api.config.basePath}` }] };
  }

  private refreshCombinedDoc(): void {
    const paths: Record<string, unknown> = {};
    for (const a of this.registry.apis.values()) {
      const p = a.config.document['paths'];
      if (isObj(p)) for (const [k, v] of Object.entries(p)) paths[`${a.config.basePath}${k === '/' ? '' : k}`] = v;
    }
    for (const k of Object.keys(this.combinedDoc)) delete this.combinedDoc[k];
    Object.assign(this.combinedDoc, {
      openapi: '3.0.3',
      info: { title: 'z/OS Connect APIs', version: '1.0.0', description: [...this.registry.apis.values()].map((a) => `${a.config.name} ${a.config.version}: ${a.config.description}`).join('\n') },
      servers: [{ url: '/' }],
      paths,
    });
  }

  // ------------------------------------------------------------------------------------------------
  // /zosConnect administration API (spec §2.2)
  // ------------------------------------------------------------------------------------------------

  private adminRoutes(app: FastifyInstance): void {
    const guard = <T>(role: Role, fn: (req: FastifyRequest<{ Params: Record<string, string>; Querystring: Record<string, string> }>, reply: FastifyReply) => T | Promise<T>) => {
      return async (req: FastifyRequest<{ Params: Record<string, string>; Querystring: Record<string, string> }>, reply: FastifyReply) => {
        req.zcon = { kind: 'admin' };
        try {
          this.require(req, role);
          return await fn(req, reply);
        } catch (e) {
          return this.sendError(req, reply, e);
        }
      };
    };
    const notAllowed = (allow: string[]) => async (req: FastifyRequest, reply: FastifyReply) => {
      req.zcon = { kind: 'admin' };
      return this.sendError(req, reply, new ZosConnectError(ZosConnectErrorCode.METHOD_NOT_ALLOWED, `${req.method} is not allowed on ${pathOf(req.url)}.`, { details: { allow } }));
    };
    const serviceOf = (name: string | undefined): ServiceState => {
      const s = name === undefined ? undefined : this.registry.services.get(name);
      if (!s) throw new ZosConnectError(ZosConnectErrorCode.NOT_FOUND, `Service ${name} is not available.`, { details: { service: name } });
      return s;
    };
    const apiOf = (name: string | undefined): ApiState => {
      const a = name === undefined ? undefined : this.registry.apis.get(name);
      if (!a) throw new ZosConnectError(ZosConnectErrorCode.NOT_FOUND, `API ${name} is not available.`, { details: { api: name } });
      return a;
    };
    const setStatus = (target: { status: 'started' | 'stopped' }, raw: string | undefined): void => {
      const v = raw?.toLowerCase();
      if (v !== 'started' && v !== 'stopped') throw new ZosConnectError(ZosConnectErrorCode.BAD_PARAMETER, 'The status query parameter must be started or stopped.', { details: { parameter: 'status' } });
      target.status = v;
    };

    app.get('/zosConnect/api-docs', async (req, reply) => {
      req.zcon = { kind: 'docs' };
      return reply.type('application/json').send({ ...ADMIN_API_DOC, servers: [{ url: baseUrl(req) }] });
    });

    // ---- services
    app.get(
      '/zosConnect/services',
      guard('Reader', (req) => ({
        zosConnectServices: [...this.registry.services.values()].map((s) => ({
          ServiceName: s.config.name,
          ServiceDescription: s.config.description,
          ServiceProvider: SERVICE_PROVIDER,
          ServiceURL: `${baseUrl(req)}/zosConnect/services/${encodeURIComponent(s.config.name)}`,
        })),
      })),
    );
    app.route({ method: ['POST', 'PUT', 'DELETE', 'PATCH'], url: '/zosConnect/services', handler: notAllowed(['GET']) });
    app.get(
      '/zosConnect/services/:service',
      guard('Reader', (req) => {
        const s = serviceOf(req.params['service']);
        const action = req.query['action'];
        if (action === undefined || action === 'status') return this.serviceDetails(s, baseUrl(req));
        if (action === 'getRequestSchema') return s.config.requestSchema;
        if (action === 'getResponseSchema') return s.config.responseSchema;
        if (action === 'getStatistics') {
          const { lastInvokedAt, ...st } = s.stats;
          return { serviceName: s.config.name, ...st, lastInvoked: lastInvokedAt === undefined ? undefined : new Date(lastInvokedAt).toISOString(), averageMs: st.invocations ? st.totalMs / st.invocations : 0 };
        }
        throw new ZosConnectError(ZosConnectErrorCode.BAD_PARAMETER, `Unknown action ${action}.`, { details: { parameter: 'action' } });
      }),
    );
    const invokeOrStatus = async (req: FastifyRequest<{ Params: Record<string, string>; Querystring: Record<string, string> }>, reply: FastifyReply) => {
      const action = req.query['action'];
      if (action === 'invoke') return this.invokeService(req, reply, req.params['service']);
      return guard('Operations', (r) => {
        const s = serviceOf(r.params['service']);
        if (action === 'start' || action === 'stop') s.status = action === 'start' ? 'started' : 'stopped';
        else if (action !== undefined) throw new ZosConnectError(ZosConnectErrorCode.BAD_PARAMETER, `Unknown action ${action}.`, { details: { parameter: 'action' } });
        else setStatus(s, r.query['status']);
        this.logger.info({ service: s.config.name, status: s.status }, 'service status changed');
        return this.serviceDetails(s, baseUrl(r));
      })(req, reply);
    };
    app.put('/zosConnect/services/:service', invokeOrStatus);
    app.post('/zosConnect/services/:service', async (req: FastifyRequest<{ Params: Record<string, string>; Querystring: Record<string, string> }>, reply) => {
      if (req.query['action'] === 'invoke') return this.invokeService(req, reply, req.params['service']);
      return notAllowed(['GET', 'PUT', 'DELETE'])(req, reply);
    });
    app.delete(
      '/zosConnect/services/:service',
      guard('Operations', (req) => {
        const s = serviceOf(req.params['service']);
        if (s.status !== 'stopped') throw new ZosConnectError(ZosConnectErrorCode.CONFLICT, `Service ${s.config.name} must be stopped before it is deleted.`, { details: { service: s.config.name } });
        if (s.stats.inFlight > 0) throw new ZosConnectError(ZosConnectErrorCode.CONFLICT, `Service ${s.config.name} still has ${s.stats.inFlight} requests in flight.`);
        const users = [...this.registry.apis.values()].filter((a) => a.config.operations.some((o) => o.service === s.config.name)).map((a) => a.config.name);
        this.registry.deleteService(s.config.name);
        return { name: s.config.name, deleted: true, usedByApis: users };
      }),
    );
    for (const side of ['request', 'response'] as const) {
      app.get(
        `/zosConnect/services/:service/schema/${side}`,
        guard('Reader', (req) => {
          const s = serviceOf(req.params['service']);
          return side === 'request' ? s.config.requestSchema : s.config.responseSchema;
        }),
      );
    }

    // ---- APIs
    app.get(
      '/zosConnect/apis',
      guard('Reader', (req) => ({
        apis: [...this.registry.apis.values()].map((a) => ({ name: a.config.name, version: a.config.version, description: a.config.description, adminUrl: `${baseUrl(req)}/zosConnect/apis/${encodeURIComponent(a.config.name)}` })),
      })),
    );
    app.route({ method: ['POST', 'PUT', 'DELETE', 'PATCH'], url: '/zosConnect/apis', handler: notAllowed(['GET']) });
    app.get(
      '/zosConnect/apis/:api',
      guard('Reader', (req) => this.apiDetails(apiOf(req.params['api']), baseUrl(req))),
    );
    app.put(
      '/zosConnect/apis/:api',
      guard('Operations', (req) => {
        const a = apiOf(req.params['api']);
        setStatus(a, req.query['status']);
        this.logger.info({ api: a.config.name, status: a.status }, 'API status changed');
        return this.apiDetails(a, baseUrl(req));
      }),
    );
    app.delete(
      '/zosConnect/apis/:api',
      guard('Operations', (req) => {
        const a = apiOf(req.params['api']);
        if (a.status !== 'stopped') throw new ZosConnectError(ZosConnectErrorCode.CONFLICT, `API ${a.config.name} must be stopped before it is deleted.`, { details: { api: a.config.name } });
        if (a.inFlight > 0) throw new ZosConnectError(ZosConnectErrorCode.CONFLICT, `API ${a.config.name} still has ${a.inFlight} requests in flight.`);
        this.registry.deleteApi(a.config.name);
        this.refreshCombinedDoc();
        return { name: a.config.name, deleted: true };
      }),
    );

    // ---- server operations (MODIFY PAUSE / RESUME / REFRESH)
    app.get(
      '/zosConnect/operations',
      guard('Reader', () => ({
        state: this.stateValue,
        requestsInFlight: this.inFlight,
        conversationsOpen: this.backend.openConversations,
        health: this.health(),
        imsConnections: this.backend.stats(),
      })),
    );
    app.post(
      '/zosConnect/operations/pause',
      guard('Operations', () => {
        this.pause();
        return { state: this.stateValue };
      }),
    );
    app.post(
      '/zosConnect/operations/resume',
      guard('Operations', () => {
        this.resume();
        return { state: this.stateValue };
      }),
    );
    app.post(
      '/zosConnect/operations/refresh',
      guard('Operations', async () => {
        try {
          await this.reload();
        } catch (e) {
          if (isImsplexError(e) && e.code === ZosConnectErrorCode.CONFIG) throw new ZosConnectError(ZosConnectErrorCode.BAD_REQUEST, e.message, { details: { problems: e.details['problems'] } });
          throw e;
        }
        return { state: this.stateValue, apis: [...this.registry.apis.keys()], services: [...this.registry.services.keys()] };
      }),
    );
  }

  /** `/health` and `/metrics`. */
  private opsRoutes(app: FastifyInstance): void {
    app.get('/health', async (req, reply) => {
      req.zcon = { kind: 'admin' };
      const h = this.health();
      return reply.code(h.ready ? 200 : 503).type('application/json').send(h);
    });
    app.get('/metrics', async (req, reply) => {
      req.zcon = { kind: 'admin' };
      return reply.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
    });
  }

  private serviceDetails(s: ServiceState, base: string): Record<string, unknown> {
    const url = `${base}/zosConnect/services/${encodeURIComponent(s.config.name)}`;
    return {
      zosConnect: {
        serviceName: s.config.name,
        serviceDescription: s.config.description,
        serviceProvider: SERVICE_PROVIDER,
        version: s.config.version,
        serviceURL: url,
        serviceInvokeURL: `${url}?action=invoke`,
        dataXformProvider: 'DATA_UNAVAILABLE',
        serviceStatus: s.status === 'started' ? 'Started' : 'Stopped',
      },
      [s.config.name]: {
        connectionRef: s.config.connectionRef,
        interactionRef: s.config.interactionRef,
        transactionCode: s.config.trancode,
        conversational: s.config.conversational,
      },
    };
  }

  private apiDetails(a: ApiState, base: string): Record<string, unknown> {
    const apiUrl = `${base}${a.config.basePath}`;
    const services = [...new Set(a.config.operations.map((o) => o.service))];
    return {
      name: a.config.name,
      version: a.config.version,
      description: a.config.description,
      status: a.status === 'started' ? 'Started' : 'Stopped',
      apiUrl,
      documentation: { swagger: `${apiUrl}/api-docs` },
      services: services.map((name) => ({ name, uri: `${base}/zosConnect/services/${encodeURIComponent(name)}` })),
    };
  }

  /** `POST|PUT /zosConnect/services/{svc}?action=invoke` (and IMSPingService). */
  private async invokeService(req: FastifyRequest, reply: FastifyReply, name: string | undefined): Promise<FastifyReply> {
    req.zcon = { kind: 'service', operation: name ?? '' };
    try {
      this.admit(req);
    } catch (e) {
      return this.sendError(req, reply, e);
    }
    this.enter();
    try {
      if (name === 'IMSPingService' && !this.registry.services.has(name)) return reply.type('application/json').send(await this.pingIms(req));
      const s = this.registry.services.get(name ?? '');
      if (!s) throw new ZosConnectError(ZosConnectErrorCode.NOT_FOUND, `Service ${name} is not available.`, { details: { service: name } });
      if (s.config.conversational) throw new ZosConnectError(ZosConnectErrorCode.BAD_REQUEST, `Service ${s.config.name} is conversational: call it through an API with conversation operations.`);
      const body = req.body;
      if (body !== undefined && body !== null && !isObj(body)) throw new ZosConnectError(ZosConnectErrorCode.BAD_REQUEST, 'The request payload could not be parsed: the body must be a JSON object.');
      const r = await this.runService(s, body ?? {});
      return reply.type('application/json').send(r.output);
    } catch (e) {
      return this.sendError(req, reply, e, { service: name ?? '' });
    } finally {
      this.leave();
    }
  }

  /**
   * IMSPingService (spec §2.1): with HOSTNAME, PORT and DATASTORE (upper case, all three) it pings that
   * IMS Connect; otherwise it answers for z/OS Connect itself. Loopback hosts only.
   */
  private async pingIms(req: FastifyRequest): Promise<Record<string, unknown>> {
    const q = (req.query ?? {}) as Record<string, string | undefined>;
    const host = q['HOSTNAME'];
    const port = Number(q['PORT']);
    const ds = q['DATASTORE'];
    if (!host || !ds || !Number.isInteger(port) || port < 1 || port > 65535) return { message: 'z/OS Connect is running. Give HOSTNAME, PORT and DATASTORE to ping an IMS Connect.' };
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) && host !== 'localhost') throw new ZosConnectError(ZosConnectErrorCode.BAD_PARAMETER, 'HOSTNAME must be a loopback address (127.0.0.0/8).', { details: { parameter: 'HOSTNAME' } });
    const client = createClient({ host, port, datastore: ds, maxConnections: 1, connectTimeout: 5000, responseTimeout: 10_000, maxConnectAttempts: 1, timers: this.timers });
    try {
      await client.ping();
      return { message: `IMS Connect at ${host}:${port} answered PING for datastore ${ds.toUpperCase()}.`, hostname: host, port, datastore: ds.toUpperCase() };
    } finally {
      await client.destroy();
    }
  }
}

/** The response of an API operation: its status and body by the response conditions. */
function apiAnswer(op: RouteMatch['operation'], result: InvokeResult): { status: number; out: unknown } {
  const conditions = op.conditions;
  let status = op.status;
  let body = op.body;
  if (conditions.length > 0) {
    const scope = { output: result.output, conversation: result.conversation ?? EMPTY };
    for (const c of conditions) {
      const v = compileTemplate(c.field)(scope);
      const t = c.test;
      const hit =
        t.op === 'equals'
          ? v === t.value
          : t.op === 'in'
            ? t.values.includes(v)
            : t.op === 'matches'
              ? typeof v === 'string' && t.regex.test(v)
              : t.op === 'startsWith'
                ? typeof v === 'string' && v.startsWith(t.value)
                : v !== undefined && v !== null && v !== '';
      if (hit) {
        status = c.status;
        if (c.body) body = c.body;
        break;
      }
    }
  }
  const out = body ? compileTemplate(body)({ output: result.output, conversation: result.conversation ?? EMPTY }) : result.output;
  return { status, out };
}

/** Who hears how a service call ended (exactly once). */
interface ServiceSink {
  ok(result: InvokeResult): void;
  fail(error: unknown): void;
}

/** A node:http response as a fast-path sink: `writeHead` with the header list, then `end(body)`. */
class NodeSink implements FastSink {
  constructor(private readonly res: ServerResponse) {}
  respond(status: number, headers: readonly string[], body: string): void {
    this.res.writeHead(status, headers as string[]);
    this.res.end(body);
  }
}

/** One API call on the fast path: the request, where its answer goes, the route, and when it started. */
class FastCall implements ServiceSink {
  readonly started = performance.now();
  constructor(
    private readonly server: ZosConnectServer,
    readonly req: FastRequest,
    readonly out: FastSink,
    readonly match: RouteMatch,
  ) {}

  /** An error before the call was admitted (no in-flight count to give back). */
  error(e: unknown, service: string | undefined): void {
    this.server.fastError(this, e, service === undefined ? {} : { service });
  }

  /** The service answered (`ServiceSink`). */
  ok(result: InvokeResult): void {
    this.server.fastResult(this, result);
    this.server.fastLeave(this);
  }

  /** The call failed after it was admitted (`ServiceSink`). */
  fail(e: unknown): void {
    this.server.fastError(this, e, { service: this.match.operation.service });
    this.server.fastLeave(this);
  }
}

/** Create a server (not yet listening). Throws `ConfigError` when the configuration is invalid. */
export function createZosConnectServer(options: ZosConnectServerOptions): ZosConnectServer {
  return new ZosConnectServer(options);
}
