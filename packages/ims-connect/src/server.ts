/**
 * The IMS Connect server: ports (TCP and TLS) with MAXSOC and KEEPAV, the client-ID registry, the
 * datastores, operator commands, health and metrics. `handleConnection(duplex, port)` serves any
 * duplex (aedes style), so most tests need no sockets; `start()` opens the real listeners.
 */
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { getCodePage } from '@imsplex/codec';
import { pino, type Logger } from 'pino';
import { type ImsConnectOptions, type ResolvedOptions, resolveOptions } from './config/options.js';
import { Connection, type ConnectionHost } from './connection.js';
import type { CommandTarget, ServerView } from './commands.js';
import { executeCommand } from './commands.js';
import { OtmaDatastoreLink, type DatastoreLink } from './datastore.js';
import type { DatastoreStatus } from './datastore-types.js';
import { ImsConnectError, ImsConnectErrorCode } from './errors.js';
import { type HealthReport, socketHealth } from './health.js';
import { CoarseClock, realTimers, type Timers } from './io.js';
import { ImsConnectMetrics } from './metrics.js';
import { ClientRegistry } from './registry.js';
import { SecurityManager } from './security.js';
import type { SessionContext } from './session.js';
import { decodeInput } from './input.js';
import { VERSION } from './version.js';

/** Construction dependencies, all optional (injectable for tests). */
export interface ServerDeps {
  logger?: Logger;
  timers?: Timers;
  now?: () => number;
  /** Create the link for a datastore (default: OTMA over TCP to `XCFADDR`). */
  datastoreFactory?: (ds: ResolvedOptions['datastores'][number], server: ImsConnectServer) => DatastoreLink;
  /** Random numbers in [0, 1) for the datastore reconnect jitter (default `Math.random`). */
  random?: () => number;
  /** Collect Node default metrics too. */
  defaultMetrics?: boolean;
}

interface PortState {
  readonly id: number;
  readonly tls: boolean;
  readonly keepAlive: number;
  server: NetServer | undefined;
  /** Actual bound port (differs from id when id is 0). */
  bound: number;
  active: boolean;
  readonly conns: Set<Connection>;
}

type ServerState = 'starting' | 'active' | 'quiescing' | 'closed';

/** An IMS Connect instance. */
export class ImsConnectServer implements CommandTarget {
  readonly options: ResolvedOptions;
  readonly log: Logger;
  readonly metrics: ImsConnectMetrics;
  readonly registry: ClientRegistry;
  private readonly timers: Timers;
  private readonly now: () => number;
  private readonly clock: CoarseClock | undefined;
  private readonly security: SecurityManager | undefined;
  private readonly ports = new Map<number, PortState>();
  private readonly links = new Map<string, DatastoreLink>();
  private readonly codePage;
  private state: ServerState = 'starting';
  private warnLevel = 0;
  private atLimit = false;
  private readonly drainWaiters: Array<() => void> = [];
  private closing: Promise<void> | undefined;
  private readonly host: ConnectionHost;

  constructor(options: ImsConnectOptions | ResolvedOptions, deps: ServerDeps = {}) {
    this.options = Object.isFrozen(options) ? (options as ResolvedOptions) : resolveOptions(options as ImsConnectOptions);
    this.log = deps.logger ?? pino({ name: `ims-connect:${this.options.id}`, level: process.env.IMSPLEX_LOG_LEVEL ?? 'info' });
    this.timers = deps.timers ?? realTimers;
    // Display timestamps only (seconds in state): without an injected clock, a coarse one (io.ts).
    if (!deps.now) this.clock = new CoarseClock();
    this.now = deps.now ?? this.clock!.now;
    this.metrics = new ImsConnectMetrics(this.options.id, { defaultMetrics: deps.defaultMetrics ?? false });
    this.registry = new ClientRegistry((level, msg) => this.log[level](msg));
    this.security = this.options.racf ? new SecurityManager(this.options.users) : undefined;
    this.codePage = getCodePage(this.options.codePage);
    this.host = this.makeHost();
    for (const p of this.options.ports) this.ports.set(p.id, { id: p.id, tls: p.tls, keepAlive: p.keepAlive, server: undefined, bound: p.id, active: false, conns: new Set() });
    const factory =
      deps.datastoreFactory ??
      ((ds, s) =>
        new OtmaDatastoreLink(ds, {
          hwsId: s.options.id,
          timers: s.timers,
          log: (l, m) => s.log[l](m),
          reconnect: ds.reconnect,
          ...(deps.random ? { random: deps.random } : {}),
          ...(deps.now ? { now: deps.now } : {}),
        }));
    for (const ds of this.options.datastores) {
      const link = factory(ds, this);
      link.onStatus((status) => {
        this.metrics.datastoreUp.set({ datastore: ds.id }, status === 'ACTIVE' ? 1 : 0);
      });
      this.links.set(ds.id, link);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // lifecycle

  /** Connect datastores and open every port. Resolves when all listeners are bound. */
  async start(): Promise<void> {
    this.clock?.start();
    for (const link of this.links.values()) link.open();
    for (const p of this.ports.values()) await this.listen(p);
    this.state = 'active';
    this.log.info(`HWSC0010I WELCOME TO IMS CONNECT! ID=${this.options.id}`);
    this.updateHealth();
  }

  /** The port a configured port ID is actually bound to (for `id: 0` test ports). */
  boundPort(id: number): number {
    const p = this.ports.get(id);
    if (!p) throw new ImsConnectError(ImsConnectErrorCode.PORT, `port ${id} is not defined`);
    return p.bound;
  }

  /** The datastore links, by ID. */
  datastoreLinks(): ReadonlyMap<string, DatastoreLink> {
    return this.links;
  }

  private listen(p: PortState): Promise<void> {
    return new Promise((resolve, reject) => {
      const onSocket = (socket: Socket | TLSSocket) => this.accept(p, socket);
      let server: NetServer;
      if (p.tls) {
        const tls = this.options.tls!;
        server = createTlsServer({ cert: tls.cert, key: tls.key, ...(tls.ca ? { ca: tls.ca } : {}) }, onSocket);
        server.on('tlsClientError', (err) => this.log.info(`TLS handshake failed on port ${p.id}: ${err.message}`));
      } else {
        // Paused on connect: no read has started when the connection takes the socket, so it can
        // switch it to its direct read path (connection.ts) before any bytes arrive.
        server = createNetServer({ noDelay: true, pauseOnConnect: true }, onSocket);
      }
      const onError = (err: Error) => {
        server.off('listening', onListening);
        reject(new ImsConnectError(ImsConnectErrorCode.PORT, `HWSS0771E PORT=${p.id} CANNOT BE OPENED: ${err.message}`, { cause: err }));
      };
      const onListening = () => {
        server.off('error', onError);
        server.on('error', (err) => this.log.error(`port ${p.id}: ${err.message}`));
        const addr = server.address();
        p.bound = typeof addr === 'object' && addr ? addr.port : p.id;
        p.server = server;
        p.active = true;
        this.log.info(`HWSS0790I LISTENING ON PORT=${p.bound} STARTED`);
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen({ port: p.id === 0 && p.bound !== 0 ? p.bound : p.id, host: this.options.host, backlog: 511 });
    });
  }

  /** Sockets counted against MAXSOC: one per active listener plus every client. */
  socketsInUse(): number {
    let n = 0;
    for (const p of this.ports.values()) n += (p.active ? 1 : 0) + p.conns.size;
    return n;
  }

  private accept(p: PortState, socket: Socket | TLSSocket): void {
    if (this.state !== 'active' || !p.active) {
      this.metrics.rejected.inc({ port: String(p.id), reason: this.state === 'active' ? 'port-stopped' : 'shutdown' });
      socket.destroy();
      return;
    }
    if (this.socketsInUse() >= this.options.maxSockets) {
      // [IBM] at MAXSOC IMS Connect refuses new connections and issues HWSS0771W.
      if (!this.atLimit) this.log.warn(`HWSS0771W MAXSOC=${this.options.maxSockets} REACHED; NEW CONNECTIONS REFUSED`);
      this.atLimit = true;
      this.metrics.rejected.inc({ port: String(p.id), reason: 'maxsoc' });
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    // KEEPAV: 0 = the stack default (keep-alive on, OS interval); else the interval in seconds.
    socket.setKeepAlive(true, p.keepAlive > 0 ? p.keepAlive * 1000 : 0);
    this.handleConnection(socket, p.id);
  }

  /**
   * Serve a TCP connection that another process accepted and handed to this one (the VIPA
   * distributor's handoff data plane) exactly as if port `port` had accepted it: it goes through the
   * port's own listener, so a stopped port or shutdown refuses it, MAXSOC counts it, KEEPAV and
   * TCP_NODELAY are set, a TLS port runs the handshake on it, and its client IDs live in that port's
   * registry. `port` is a configured port ID or the number it is bound to. Returns false (and
   * destroys the socket) when no such port is defined.
   */
  adoptSocket(socket: Socket, port: number): boolean {
    const p = this.portByNumber(port);
    if (!p) {
      this.metrics.rejected.inc({ port: String(port), reason: 'no-such-port' });
      this.log.warn(`handed-off connection for port ${port} refused: no such port`);
      socket.destroy();
      return false;
    }
    if (p.server && p.active) p.server.emit('connection', socket);
    else this.accept(p, socket); // refused there as a connect to a stopped port would be
    return true;
  }

  /** True when `port` is a configured port ID or the number a port is bound to. */
  hasPort(port: number): boolean {
    return this.portByNumber(port) !== undefined;
  }

  /**
   * Serve one client over any duplex stream on configured port `port` (aedes-style entry point: tests
   * use `duplexPair()`). Returns the connection.
   */
  handleConnection(stream: Duplex, port: number): Connection {
    const p = this.ports.get(port);
    if (!p) throw new ImsConnectError(ImsConnectErrorCode.PORT, `port ${port} is not defined`);
    this.clock?.start();
    const conn = new Connection(stream, port, this.host, { maxFrameSize: this.options.maxSize, drainTimeout: this.options.drainTimeout, readTimeout: this.options.readTimeout });
    if (!conn.closed) {
      p.conns.add(conn);
      this.metrics.connections.inc({ port: String(port) });
      this.metrics.openSockets.set({ port: String(port) }, p.conns.size);
      this.checkWarn();
    }
    return conn;
  }

  private checkWarn(): void {
    const pct = (this.socketsInUse() * 100) / this.options.maxSockets;
    const warn = this.options.warnSockets;
    const inc = this.options.warnIncrement;
    const level = pct >= warn ? 1 + Math.floor((pct - warn) / inc) : 0;
    if (level > this.warnLevel) {
      this.log.warn(`HWSS0772W SOCKET USAGE ${Math.floor(pct)}% OF MAXSOC=${this.options.maxSockets}`);
      this.warnLevel = level;
    } else if (this.warnLevel > 0 && pct <= Math.min(warn - 2 * inc, 100 - 5) - 10) {
      this.log.info(`HWSS0773I SOCKET USAGE BELOW WARNING THRESHOLD; WARNINGS RESET`);
      this.warnLevel = 0;
    }
    this.updateHealth();
  }

  private updateHealth(): void {
    this.metrics.health.set(socketHealth(this.options.maxSockets, this.socketsInUse()));
  }

  private makeHost(): ConnectionHost {
    return {
    timers: this.timers,
    now: this.now,
    sessionContext: (conn) => this.sessionContext(conn),
    datastore: (id) => this.links.get(id),
    closed: (conn) => {
      const p = this.ports.get(conn.port);
      p?.conns.delete(conn);
      this.metrics.openSockets.set({ port: String(conn.port) }, p?.conns.size ?? 0);
      if (this.atLimit && this.socketsInUse() < this.options.maxSockets) this.atLimit = false;
      this.checkWarn();
      this.checkDrained();
    },
    onRequest: (conn, type) => this.metrics.countRequest(conn.port, type),
    onRsm: (rc, rsn) => this.metrics.rsms.inc({ rc: String(rc), reason: String(rsn) }),
    log: (level, msg) => this.log[level](msg),
    idle: (conn) => {
      if (this.state === 'quiescing') conn.stop('shutdown');
    },
    };
  }

  private sessionContext(conn: Connection): SessionContext {
    return {
      options: this.options,
      port: conn.port,
      codePage: this.codePage,
      security: this.security,
      decode: (bytes) => {
        const d = decodeInput(bytes, this.codePage);
        this.metrics.countRequest(conn.port, d.ok ? (d.request.type ?? 'UNKNOWN') : 'INVALID');
        return d;
      },
      claimClientId: (id, cancel) => this.registry.claim(conn.port, id, conn, cancel),
      releaseClientId: (id) => this.registry.release(conn.port, id, conn),
      cancelTimerOf: (id) => {
        const holder = this.registry.get(conn.port, id);
        return holder !== undefined && holder !== conn && holder.cancelTimer();
      },
      generateClientId: () => this.registry.generate(),
      datastoreStatus: (id) => {
        const link = this.links.get(id);
        if (!link) return undefined;
        const status = link.status();
        // A client wants a datastore that is reconnecting: a fresh signal to try now (link.kick).
        if (status === 'DISCONNECT') link.kick?.();
        return status;
      },
      asyncOutputQueued: (id, tpipe) => this.links.get(id)?.asyncOutputQueued?.(tpipe) === true,
      shuttingDown: () => this.state === 'quiescing' || this.state === 'closed',
    };
  }

  // ---------------------------------------------------------------------------------------------
  // operator commands (CommandTarget)

  /** Run one operator command line; returns the HWSC response lines. */
  command(line: string): Promise<string[]> {
    return executeCommand(this, line);
  }

  view(): ServerView {
    return {
      id: this.options.id,
      racf: this.options.racf,
      maxSockets: this.options.maxSockets,
      timeoutHundredths: Math.round(this.options.timeout / 10),
      version: `IMSPLEX-${VERSION}`,
      host: this.options.host,
      state: this.state,
      datastores: this.options.datastores.map((d) => ({
        id: d.id,
        status: this.links.get(d.id)?.status() ?? 'NOT ACTIVE',
        group: d.group,
        member: d.member,
        tmember: d.tmember,
        rerouteName: d.rerouteName,
        appl: d.appl,
        ackTimeout: d.ackTimeout,
        alternates: d.alternates,
      })),
      ports: [...this.ports.values()].map((p) => {
        const opt = this.options.ports.find((o) => o.id === p.id)!;
        return {
          id: p.bound,
          status: p.active ? ('ACTIVE' as const) : ('NOT ACTIVE' as const),
          keepAlive: p.keepAlive,
          edit: opt.edit,
          idleTimeout: opt.idleTimeout,
          tls: p.tls,
          clients: [...p.conns].map((c) => {
            const d = c.session.displayState();
            return { clientId: c.session.clientId, userId: c.session.lastUser, trancode: c.session.lastTrancode, datastore: c.session.lastDatastore, state: d.state, secondsInState: d.seconds, remotePort: c.remotePort, remoteAddress: c.remoteAddress };
          }),
        };
      }),
    };
  }

  private portByNumber(port: number): PortState | undefined {
    return this.ports.get(port) ?? [...this.ports.values()].find((p) => p.bound === port);
  }

  stopClient(port: number, client: string): boolean {
    const p = this.portByNumber(port);
    if (!p) return false;
    const holder = this.registry.get(p.id, client);
    if (!holder) return false;
    holder.stop('operator');
    return true;
  }

  async stopPort(port: number): Promise<boolean> {
    const p = this.portByNumber(port);
    if (!p || !p.active || !p.server) return false;
    p.active = false;
    const server = p.server;
    p.server = undefined;
    // Stop listening now; close()'s callback would wait for every client of the port to leave.
    server.close();
    this.log.info(`HWSS0770I LISTENING ON PORT=${p.bound} TERMINATED`);
    this.checkWarn();
    return true;
  }

  async openPort(port: number): Promise<boolean> {
    const p = this.portByNumber(port);
    if (!p || p.active || this.state !== 'active') return false;
    await this.listen(p);
    this.checkWarn();
    return true;
  }

  stopDatastore(id: string): boolean {
    const link = this.links.get(id);
    if (!link) return false;
    link.stop();
    return true;
  }

  openDatastore(id: string): boolean {
    const link = this.links.get(id);
    if (!link) return false;
    link.open();
    return true;
  }

  /**
   * SHUTDOWN / CLOSEHWS. `QUIESCE`: stop accepting, let in-flight interactions finish (new work gets
   * reason 73 DSCLOSE), then close. `FORCE`: drop every client now. `NORMAL`: like QUIESCE.
   */
  shutdown(mode: 'NORMAL' | 'QUIESCE' | 'FORCE'): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      this.state = 'quiescing';
      this.log.info(`HWSC0020I IMS CONNECT IN TERMINATION (${mode})`);
      for (const p of this.ports.values()) if (p.active) await this.stopPort(p.bound);
      if (mode === 'FORCE') for (const c of this.allConnections()) c.stop('shutdown');
      else {
        // Idle clients are closed now; busy ones when their interaction ends.
        for (const c of this.allConnections()) if (!c.session.busy) c.stop('shutdown');
        await new Promise<void>((resolve) => {
          this.drainWaiters.push(resolve);
          this.checkDrained();
        });
      }
      for (const link of this.links.values()) link.close();
      this.clock?.stop();
      this.state = 'closed';
      this.updateHealth();
    })();
    return this.closing;
  }

  private allConnections(): Connection[] {
    return [...this.ports.values()].flatMap((p) => [...p.conns]);
  }

  /** A `checkDrained` pass is running: a connection closing inside it asks for one more pass. */
  private draining = false;
  private drainAgain = false;

  private checkDrained(): void {
    if (this.state !== 'quiescing') return;
    // Not re-entrant: every stop() below closes a connection, whose `closed` hook calls back here;
    // nesting those calls overflowed the stack with a few thousand clients (and scanned n² times).
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = true;
    try {
      do {
        this.drainAgain = false;
        for (const c of this.allConnections()) if (!c.session.busy) c.stop('shutdown');
      } while (this.drainAgain && this.state === 'quiescing');
    } finally {
      this.draining = false;
    }
    if (this.allConnections().length > 0) return;
    const w = this.drainWaiters.splice(0);
    for (const fn of w) fn();
  }

  /** Close everything now (FORCE). */
  close(): Promise<void> {
    return this.shutdown('FORCE');
  }

  // ---------------------------------------------------------------------------------------------
  // health

  /** The health document for the distributor. */
  health(): HealthReport {
    const inUse = this.socketsInUse();
    const listening = [...this.ports.values()].some((p) => p.active);
    const dsOk = this.links.size === 0 || [...this.links.values()].some((l) => l.status() === 'ACTIVE');
    return {
      ready: this.state === 'active' && listening && dsOk,
      health: this.state === 'active' ? socketHealth(this.options.maxSockets, inUse) : 0,
      id: this.options.id,
      sockets: { inUse, max: this.options.maxSockets },
      state: this.state,
      ports: [...this.ports.values()].map((p) => ({ id: p.bound, listening: p.active, clients: p.conns.size, tls: p.tls })),
      datastores: [...this.links.entries()].map(([id, l]) => ({ id, status: l.status() as DatastoreStatus })),
    };
  }
}
