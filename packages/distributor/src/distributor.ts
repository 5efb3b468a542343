/**
 * The composed distributor: the pure core (tables, pick, health model, ownership rule) wired to
 * sockets, timers and processes. One instance is one TCP/IP stack's distributor role.
 *
 * Lifecycle (idempotent, promise-returning): `start()` → running; `stop()` gives up every DVIPA
 * (a backup takes over) but keeps existing connections; `close()` = stop, then wait (bounded) for
 * connections to end and release every resource; `destroy()` = release everything at once.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { Heartbeat, DEFINE_PRIORITY, decideOwnership, isEligible, type OwnershipSelf } from './backup.js';
import { startAdmin, type AdminServer } from './admin.js';
import { executeCommand, type CommandHost, type CommandResult, type TargetSelector } from './commands.js';
import { resolveOptions, type DistributorOptions, type ResolvedOptions } from './config/options.js';
import type { Moveable, ProfileConfig } from './config/types.js';
import { connectTarget, preferredSpliceMode, splice, SPLICE_MODES, type SpliceMode } from './dataplane/proxy.js';
import { loadNativeSplice } from './dataplane/native.js';
import { parentProcessSink, type HandoffReport, type HandoffSink } from './dataplane/handoff.js';
import type { AffinityEntry, DisplaySource, VcrtEntry, VdptEntry, VipaDynEntry } from './displays.js';
import { prefixLength } from './config/profile.js';
import { DistributorError, DistributorErrorCode } from './errors.js';
import { computeTsr, computeWeights, EMPTY_SAMPLE, type TsrSample } from './health.js';
import { hotStandbyActive, METHODS } from './methods/index.js';
import { commitPick, pick, releaseConnection, seededRng, type PickReason } from './pick.js';
import { HealthProbePool, probeTcp, type ProbeOutcome } from './prober.js';
import {
  affinityClosed,
  affinityLive,
  affinityRouted,
  buildTables,
  destKey,
  targetKey,
  updateTarget,
  type Affinity,
  type PortTable,
  type TargetState,
} from './table.js';

/**
 * `IMSPLEX_SPLICE=native|direct|stream` picks the proxy data plane's implementation (default: native
 * where the addon is built, else direct; see `splice`): an escape hatch should the addon or a Node
 * release misbehave, and the A side of the benchmark's A/B. Forcing native where it is not
 * available falls back to direct with one warning. Any other value is ignored (with a warning).
 */
const SPLICE_ENV = process.env.IMSPLEX_SPLICE;
const SPLICE_FORCED: SpliceMode | null = SPLICE_MODES.includes(SPLICE_ENV as SpliceMode) ? (SPLICE_ENV as SpliceMode) : null;
/** The splice mode of every proxied connection of this process. */
const SPLICE_MODE: SpliceMode = SPLICE_FORCED ?? 'native';
/** The IMSPLEX_SPLICE warning is logged once per process. */
let spliceWarned = false;

/** Most timed affinities kept per port (beyond this no new affinity is recorded). */
export const MAX_AFFINITIES_PER_PORT = 100_000;

/** Payloads of the events a Distributor emits. */
export interface DistributorEvents {
  'target:up': { dvipa: string; port: number; xcf: string; reason: 'probe' | 'report' };
  'target:down': { dvipa: string; port: number; xcf: string; reason: 'refused' | 'probe' | 'not-ready' | 'handoff'; detail?: string };
  'target:quiesced': { dvipa: string; port: number; xcf: string };
  'target:resumed': { dvipa: string; port: number; xcf: string };
  'active:switch': { dvipa: string; port: number; from: string | null; to: string | null };
  'connection:routed': { id: number; dvipa: string; port: number; xcf: string; client: string; clientPort: number; reason: PickReason };
  'connection:closed': { id: number; dvipa: string; port: number; xcf: string; abnormal: boolean };
  'connection:rejected': { dvipa: string; port: number; client: string; reason: 'no-target' | 'stopping' | 'connect-failed' | 'limit' };
  'vipa:acquired': { dvipa: string; reason: 'start' | 'takeover' | 'takeback' | 'reactivate' };
  'vipa:takeback-requested': { dvipa: string; from: string; mode: Moveable; released: boolean };
  'vipa:released': { dvipa: string; reason: 'takeback' | 'deactivate' | 'stop' | 'leavegroup' };
  probe: { round: number };
  tsr: { interval: number };
  warning: { code: string; message: string };
}

/** Snapshot returned by {@link Distributor.stats}. */
export interface DistributorStats {
  readonly stack: { readonly name: string; readonly xcf: string; readonly tcpipName: string };
  readonly state: string;
  readonly dataPlane: 'proxy' | 'handoff';
  /** Proxy data plane: the splice implementation new connections get (null with handoff). */
  readonly splice: SpliceMode | null;
  /** Proxied connections per splice implementation actually used, since start. */
  readonly spliced: Readonly<Record<SpliceMode, number>>;
  readonly now: number;
  readonly probeRound: number;
  readonly vipas: readonly VipaDynEntry[];
  readonly vdpt: readonly VdptEntry[];
  readonly vcrt: readonly VcrtEntry[];
  readonly affinities: readonly AffinityEntry[];
  readonly peers: readonly { xcf: string; live: boolean; pid: number | null; lastSeen: number | null }[];
  readonly counters: Readonly<{ routed: number; rejected: number; closed: number; abnormal: number; handoffFailed: number; connectFailed: number; takeovers: number; releases: number }>;
  /** Listening addresses of the VIPA ports this stack currently owns. */
  readonly listening: readonly { dvipa: string; port: number }[];
}

interface VipaState {
  readonly dvipa: string;
  readonly origin: 'VIPADefine' | 'VIPABackup';
  readonly priority: number;
  readonly moveable: Moveable;
  readonly createAtStart: boolean;
  readonly prefixLen: number;
  owns: boolean;
  wants: boolean;
  claiming: boolean;
  sawOwner: boolean;
  takeback: { from: string; mode: Moveable } | null;
  requestedTakeback: boolean;
  reactivated: boolean;
  lastTakebackRequest: number;
  activeSince: number | null;
  servers: Map<number, Server>;
}

interface ConnRecord {
  readonly id: number;
  readonly dvipa: string;
  readonly port: number;
  readonly srcIp: string;
  readonly srcPort: number;
  readonly xcf: string;
  readonly since: number;
  /** Proxy mode: aborting closes the spliced pair (whichever implementation). Handoff: null. */
  readonly splice: AbortController | null;
}

type AnyListener = Parameters<EventEmitter['on']>[1];
type Listener<K extends keyof DistributorEvents> = (e: DistributorEvents[K]) => void;

const normalizeIp = (a: string | undefined): string => (a ?? '').replace(/^::ffff:/, '');

/** The Sysplex Distributor of one stack. */
export class Distributor extends EventEmitter {
  readonly options: ResolvedOptions;
  #state: 'new' | 'running' | 'stopped' | 'closed' | 'destroyed' = 'new';
  #startP: Promise<void> | null = null;
  #stopP: Promise<void> | null = null;
  #closeP: Promise<void> | null = null;
  #destroyP: Promise<void> | null = null;
  readonly #tables = new Map<string, PortTable>();
  readonly #affinities = new Map<string, Map<string, Affinity>>();
  readonly #conns = new Map<number, ConnRecord>();
  /** Entries of #conns per DVIPA, kept with #conns (read every heartbeat tick: no scan of #conns). */
  readonly #connsPerDvipa = new Map<string, number>();
  readonly #samples = new Map<string, TsrSample>();
  readonly #reportedAbnorm = new Map<string, number>();
  readonly #observedAbnorm = new Map<string, number>();
  readonly #vipas = new Map<string, VipaState>();
  readonly #deactivated = new Set<string>();
  readonly #rng: () => number;
  #heartbeat: Heartbeat | null = null;
  #admin: AdminServer | null = null;
  #sink: HandoffSink | null = null;
  #unsubscribeReports: (() => void) | null = null;
  #probeTimer: NodeJS.Timeout | null = null;
  #tsrTimer: NodeJS.Timeout | null = null;
  #probeRound = 0;
  /** HTTP health probes over kept-alive connections (one idle connection per health URL). */
  readonly #healthProbes = new HealthProbePool();
  #tsrInterval = 0;
  #nextId = 1;
  #leftGroup = false;
  readonly #counters = { routed: 0, rejected: 0, closed: 0, abnormal: 0, handoffFailed: 0, connectFailed: 0, takeovers: 0, releases: 0 };
  readonly #spliced: Record<SpliceMode, number> = { native: 0, direct: 0, stream: 0 };
  readonly #owner: string;

  constructor(options: DistributorOptions) {
    super();
    this.options = resolveOptions(options);
    this.#rng = seededRng(this.options.seed);
    this.#owner = `${this.options.xcf}/${process.pid}`;
    for (const t of buildTables(this.options.config)) this.#tables.set(destKey(t.dvipa, t.port), t);
    const c = this.options.config;
    for (const d of c.defines) {
      this.#vipas.set(d.address, this.#newVipa(d.address, 'VIPADefine', DEFINE_PRIORITY, d.moveable, true, prefixLength(d.mask)));
    }
    for (const b of c.backups) {
      this.#vipas.set(b.address, this.#newVipa(b.address, 'VIPABackup', b.rank, b.moveable ?? 'IMMEDIATE', b.moveable !== null, b.mask ? prefixLength(b.mask) : 32));
    }
  }

  /** Builds a distributor from profile text. */
  static fromProfile(text: string, options: Omit<DistributorOptions, 'config'> = {}): Distributor {
    return new Distributor({ ...options, config: text });
  }

  override on<K extends keyof DistributorEvents>(event: K, listener: Listener<K>): this;
  override on(event: string | symbol, listener: AnyListener): this;
  override on(event: string | symbol, listener: AnyListener): this {
    return super.on(event, listener);
  }
  override once<K extends keyof DistributorEvents>(event: K, listener: Listener<K>): this;
  override once(event: string | symbol, listener: AnyListener): this;
  override once(event: string | symbol, listener: AnyListener): this {
    return super.once(event, listener);
  }
  override emit<K extends keyof DistributorEvents>(event: K, payload: DistributorEvents[K]): boolean;
  override emit(event: string | symbol, ...args: unknown[]): boolean;
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    return super.emit(event, ...args);
  }

  /** The parsed, role-adjusted profile. */
  get config(): ProfileConfig {
    return this.options.config;
  }

  /** Current lifecycle state. */
  get state(): string {
    return this.#state;
  }

  /**
   * The proxy data plane's splice implementation for new connections: `'native'` (the C I/O
   * thread), `'direct'` or `'stream'` (see `splice`); null with the handoff data plane.
   */
  get spliceMode(): SpliceMode | null {
    return this.options.dataPlane === 'proxy' ? preferredSpliceMode(SPLICE_MODE) : null;
  }

  /** Port the heartbeat listens on (null when not listening). */
  get heartbeatPort(): number | null {
    return this.#heartbeat?.port ?? null;
  }

  /** True when this stack currently owns (advertises) `dvipa`. */
  owns(dvipa: string): boolean {
    return this.#vipas.get(dvipa)?.owns ?? false;
  }

  /** Starts probing, heartbeats and (when this stack should own them) the VIPA listeners. */
  start(): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'destroyed') return Promise.reject(new DistributorError(DistributorErrorCode.CLOSED, 'distributor is closed'));
    this.#startP ??= this.#start();
    return this.#startP;
  }

  async #start(): Promise<void> {
    const o = this.options;
    const emu = o.config.emulator;
    this.#state = 'running';
    if (o.dataPlane === 'handoff') {
      if (!o.handoffSink && typeof process.send !== 'function') {
        this.#state = 'closed';
        throw new DistributorError(DistributorErrorCode.BAD_OPTION, 'the handoff data plane needs an IPC channel to a supervisor (process.send) or a handoffSink');
      }
      this.#sink = o.handoffSink ?? parentProcessSink();
      this.#unsubscribeReports = this.#sink.onReport((r) => this.#onHandoffReport(r));
    } else if (!spliceWarned && ((SPLICE_ENV !== undefined && SPLICE_FORCED === null) || (SPLICE_FORCED === 'native' && loadNativeSplice().addon === null))) {
      spliceWarned = true;
      if (SPLICE_FORCED === null) this.#warn('SD_WARN_SPLICE', `IMSPLEX_SPLICE=${SPLICE_ENV} ignored: use native, direct or stream`);
      else this.#warn('SD_WARN_SPLICE', `IMSPLEX_SPLICE=native: the native data plane is not available (${loadNativeSplice().reason}); using direct`);
    }
    await this.#runProbeRound();
    this.#tsrTimer = setInterval(() => this.#tsrTick(), emu.tsrIntervalMs);
    this.#tsrTimer.unref();
    if (o.heartbeatPort !== null || o.peers.length > 0) {
      const hb = new Heartbeat({ xcf: o.xcf, port: o.heartbeatPort, peers: o.peers, intervalMs: emu.heartbeatIntervalMs, timeoutMs: emu.heartbeatTimeoutMs, clock: o.clock });
      hb.on('change', () => void this.#evaluate());
      hb.on('tick', () => void this.#evaluate());
      hb.on('takeback', (t: { from: string; dvipa: string; mode: Moveable }) => {
        const v = this.#vipas.get(t.dvipa);
        if (v) {
          v.takeback = { from: t.from, mode: t.mode };
          void this.#evaluate().then(() => this.emit('vipa:takeback-requested', { dvipa: t.dvipa, from: t.from, mode: t.mode, released: !v.owns }));
        }
      });
      hb.on('error', (e: Error) => this.#warn('SD_WARN_HEARTBEAT', e.message));
      this.#heartbeat = hb;
      await hb.start();
      await hb.whenDiscovered();
    }
    if (o.admin) this.#admin = await startAdmin(this, o.admin);
    await this.#evaluate();
  }

  /** Address of the admin endpoint once started (null without one). */
  get adminAddress(): { host: string; port: number } | null {
    return this.#admin?.address ?? null;
  }

  /** Gives up every DVIPA (peers take over) and stops accepting; existing connections continue. */
  stop(): Promise<void> {
    this.#stopP ??= (async () => {
      for (const v of this.#vipas.values()) {
        v.wants = false;
        if (v.owns) this.#release(v, 'stop');
      }
      this.#publishLocal();
      if (this.#state === 'running') this.#state = 'stopped';
    })();
    return this.#stopP;
  }

  /** stop(), then waits up to `closeTimeoutMs` for proxied connections to end, then releases everything. */
  close(): Promise<void> {
    this.#closeP ??= (async () => {
      await this.stop();
      if (this.#conns.size > 0 && this.options.dataPlane === 'proxy') {
        await new Promise<void>((resolve) => {
          const check = (): void => {
            if ([...this.#conns.values()].every((c) => c.splice === null)) done();
          };
          const done = (): void => {
            clearTimeout(timer);
            this.off('connection:closed', check);
            resolve();
          };
          const timer = setTimeout(done, this.options.closeTimeoutMs);
          this.on('connection:closed', check);
          check();
        });
      }
      await this.#teardown('closed');
    })();
    return this.#closeP;
  }

  /** Releases everything at once, destroying proxied connections. */
  destroy(): Promise<void> {
    this.#destroyP ??= (async () => {
      for (const v of this.#vipas.values()) {
        v.wants = false;
        if (v.owns) this.#release(v, 'stop');
      }
      await this.#teardown('destroyed');
    })();
    return this.#destroyP;
  }

  async #teardown(state: 'closed' | 'destroyed'): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'destroyed') {
      this.#state = state === 'destroyed' ? 'destroyed' : this.#state;
      return;
    }
    this.#state = state;
    if (this.#probeTimer) clearTimeout(this.#probeTimer);
    this.#healthProbes.close();
    if (this.#tsrTimer) clearInterval(this.#tsrTimer);
    this.#unsubscribeReports?.();
    // Closes every proxied pair (JS sockets or native fds); their completions follow as usual.
    for (const c of this.#conns.values()) c.splice?.abort();
    await this.#heartbeat?.close();
    await this.#admin?.close();
  }

  // ---------------------------------------------------------------- ownership

  #newVipa(dvipa: string, origin: VipaState['origin'], priority: number, moveable: Moveable, createAtStart: boolean, prefixLen: number): VipaState {
    return { dvipa, origin, priority, moveable, createAtStart, prefixLen, owns: false, wants: true, claiming: false, sawOwner: false, takeback: null, requestedTakeback: false, reactivated: false, lastTakebackRequest: -Infinity, activeSince: null, servers: new Map() };
  }

  #activeConnsFor(dvipa: string): number {
    // Every entry counts: proxy entries hold their client socket until they are forgotten, handoff
    // entries live until the target reports the close.
    return this.#connsPerDvipa.get(dvipa) ?? 0;
  }

  #selfView(v: VipaState): OwnershipSelf {
    return {
      xcf: this.options.xcf,
      priority: v.priority,
      moveable: v.moveable,
      createAtStart: v.createAtStart,
      owns: v.owns,
      wants: v.wants,
      activeConns: this.#activeConnsFor(v.dvipa),
      discovered: this.#heartbeat?.discovered ?? true,
      sawOwner: v.sawOwner,
      takeback: v.takeback,
    };
  }

  async #evaluate(): Promise<void> {
    if (this.#state !== 'running' && this.#state !== 'stopped') return;
    const now = this.options.clock.now();
    for (const v of this.#vipas.values()) {
      const peers = this.#heartbeat?.peerViews(v.dvipa) ?? [];
      if (peers.some((p) => p.live && p.owns)) v.sawOwner = true;
      if (v.takeback && !peers.some((p) => p.xcf === v.takeback!.from && p.live)) v.takeback = null;
      if (v.claiming) continue;
      const action = decideOwnership(this.#selfView(v), peers);
      switch (action.type) {
        case 'claim':
          await this.#claim(v);
          break;
        case 'release':
          this.#release(v, action.reason);
          break;
        case 'requestTakeback':
          if (now - v.lastTakebackRequest >= this.options.config.emulator.heartbeatIntervalMs) {
            v.lastTakebackRequest = now;
            v.requestedTakeback = true;
            this.#heartbeat?.requestTakeback(action.to, v.dvipa, action.mode);
            this.options.logger.info({ dvipa: v.dvipa, to: action.to, mode: action.mode }, 'requesting takeback');
          }
          break;
        case 'none':
          break;
      }
    }
    this.#publishLocal();
  }

  #publishLocal(): void {
    const local: Record<string, { priority: number; owns: boolean; eligible: boolean }> = {};
    for (const v of this.#vipas.values()) local[v.dvipa] = { priority: v.priority, owns: v.owns, eligible: isEligible(this.#selfView(v)) && !v.owns };
    this.#heartbeat?.setLocal(local);
  }

  async #claim(v: VipaState): Promise<void> {
    v.claiming = true;
    const ports = [...this.#tables.values()].filter((t) => t.dvipa === v.dvipa).map((t) => t.port);
    const bound: Server[] = [];
    try {
      for (const port of ports) {
        const server = createServer({ pauseOnConnect: true, allowHalfOpen: true, noDelay: true }, (s) => this.#onConnection(v.dvipa, port, s));
        server.maxConnections = this.options.config.emulator.maxConnections;
        // Node drops a connection beyond maxConnections before any handler runs: report it as the
        // same 'limit' rejection #onConnection makes (the bound it keeps for native pairs).
        server.on('drop', (x?: { remoteAddress?: string }) => {
          this.#counters.rejected++;
          this.emit('connection:rejected', { dvipa: v.dvipa, port, client: normalizeIp(x?.remoteAddress), reason: 'limit' });
        });
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: v.dvipa, port, exclusive: true, backlog: 511 }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        server.on('error', (e) => this.#warn('SD_WARN_LISTENER', `${v.dvipa}:${port}: ${e.message}`));
        bound.push(server);
        v.servers.set(port, server);
      }
    } catch (e) {
      for (const s of bound) s.close();
      v.servers.clear();
      v.claiming = false;
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE') this.#warn(DistributorErrorCode.LISTEN, `cannot listen on ${v.dvipa}: ${(e as Error).message}`);
      else this.options.logger.debug({ dvipa: v.dvipa }, 'DVIPA still held elsewhere; will retry');
      return;
    }
    v.claiming = false;
    if (!v.wants || this.#state !== 'running') {
      for (const s of bound) s.close();
      v.servers.clear();
      return;
    }
    v.owns = true;
    v.activeSince = this.options.clock.now();
    const reason = v.reactivated ? 'reactivate' : v.requestedTakeback ? 'takeback' : v.sawOwner ? 'takeover' : 'start';
    v.reactivated = false;
    v.requestedTakeback = false;
    if (reason === 'takeover') this.#counters.takeovers++;
    this.options.logger.info({ dvipa: v.dvipa, reason, ports }, 'DVIPA active');
    this.#publishLocal();
    this.emit('vipa:acquired', { dvipa: v.dvipa, reason });
  }

  #release(v: VipaState, reason: DistributorEvents['vipa:released']['reason']): void {
    for (const s of v.servers.values()) s.close();
    v.servers.clear();
    const was = v.owns;
    v.owns = false;
    v.takeback = null;
    v.activeSince = null;
    if (!was) return;
    this.#counters.releases++;
    this.options.logger.info({ dvipa: v.dvipa, reason }, 'DVIPA released');
    this.#publishLocal();
    this.emit('vipa:released', { dvipa: v.dvipa, reason });
  }

  // ---------------------------------------------------------------- connections

  #onConnection(dvipa: string, port: number, socket: Socket): void {
    socket.on('error', () => undefined);
    socket.setNoDelay(true);
    const client = normalizeIp(socket.remoteAddress);
    const clientPort = socket.remotePort ?? 0;
    if (this.#state !== 'running') {
      this.#reject(socket, dvipa, port, client, 'stopping');
      return;
    }
    // The listener's maxConnections counts only sockets Node still holds; natively spliced pairs
    // left Node, so the bound is also kept here.
    if (this.options.dataPlane === 'proxy' && this.#conns.size >= this.options.config.emulator.maxConnections) {
      this.#reject(socket, dvipa, port, client, 'limit');
      return;
    }
    void this.#route(dvipa, port, socket, client, clientPort, 0);
  }

  #reject(socket: Socket, dvipa: string, port: number, client: string, reason: DistributorEvents['connection:rejected']['reason']): void {
    this.#counters.rejected++;
    // No eligible target: the client sees a reset, as when SD drops the SYN [INF].
    if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
    else socket.destroy();
    this.emit('connection:rejected', { dvipa, port, client, reason });
  }

  async #route(dvipa: string, port: number, socket: Socket, client: string, clientPort: number, attempt: number): Promise<void> {
    const key = destKey(dvipa, port);
    const table = this.#tables.get(key)!;
    if (attempt >= table.targets.length || socket.destroyed) {
      if (!socket.destroyed) this.#reject(socket, dvipa, port, client, 'connect-failed');
      return;
    }
    const affs = this.#affinityMap(key);
    const result = pick(table, computeWeights(table), affs, client, this.options.clock, this.#rng);
    if (result.xcf === null) {
      this.#reject(socket, dvipa, port, client, 'no-target');
      return;
    }
    const xcf = result.xcf;
    this.#tables.set(key, commitPick(table, result));
    const target = table.targets.find((t) => t.xcf === xcf)!;
    const id = this.#nextId++;
    const now = this.options.clock.now();
    if (this.options.dataPlane === 'handoff') {
      const rec: ConnRecord = { id, dvipa, port, srcIp: client, srcPort: clientPort, xcf, since: now, splice: null };
      try {
        await this.#sink!.deliver({ type: 'imsplex:handoff', id, owner: this.#owner, dvipa, port, xcf, clientAddress: client, clientPort }, socket);
      } catch (e) {
        this.#undoPick(key, xcf);
        this.#counters.handoffFailed++;
        this.#markDown(key, xcf, 'handoff', (e as Error).message);
        return this.#route(dvipa, port, socket, client, clientPort, attempt + 1);
      }
      this.#admit(rec, table, result.reason as PickReason);
      return;
    }
    // Proxy data plane.
    let upstream: Socket;
    let latencyMs: number;
    try {
      ({ socket: upstream, latencyMs } = await connectTarget(target.host, target.port, this.options.config.emulator.connectTimeoutMs));
    } catch (e) {
      const d = (e as DistributorError).details as { refused?: boolean };
      this.#sample(key, xcf, { attempts: 1, refused: d.refused ? 1 : 0 });
      this.#undoPick(key, xcf);
      this.#counters.connectFailed++;
      if (d.refused) this.#markDown(key, xcf, 'refused', (e as Error).message);
      return this.#route(dvipa, port, socket, client, clientPort, attempt + 1);
    }
    this.#sample(key, xcf, { attempts: 1, connected: 1, latencyMsSum: latencyMs });
    const rec: ConnRecord = { id, dvipa, port, srcIp: client, srcPort: clientPort, xcf, since: now, splice: new AbortController() };
    if (socket.destroyed || this.#state === 'destroyed') {
      upstream.destroy();
      this.#undoPick(key, xcf);
      return;
    }
    this.#admit(rec, table, result.reason as PickReason);
    this.#spliced[splice(socket, upstream, (r) => this.#closed(rec, r.abnormal), { mode: SPLICE_MODE, signal: rec.splice!.signal })]++;
  }

  #admit(rec: ConnRecord, table: PortTable, reason: PickReason): void {
    const key = destKey(rec.dvipa, rec.port);
    if (table.timedAffinity > 0) {
      const m = this.#affinityMap(key);
      if (m.has(rec.srcIp) || m.size < MAX_AFFINITIES_PER_PORT) m.set(rec.srcIp, affinityRouted(m.get(rec.srcIp), rec.srcIp, rec.xcf, rec.since));
    }
    if (this.#conns.size >= this.options.config.emulator.maxConnections && this.options.dataPlane === 'handoff') {
      // Handoff entries end only when a target reports the close; drop the oldest if reports never come.
      const oldest = this.#conns.keys().next().value;
      if (oldest !== undefined) this.#forget(this.#conns.get(oldest)!, false, false);
    }
    this.#conns.set(rec.id, rec);
    this.#connsPerDvipa.set(rec.dvipa, (this.#connsPerDvipa.get(rec.dvipa) ?? 0) + 1);
    this.#counters.routed++;
    this.emit('connection:routed', { id: rec.id, dvipa: rec.dvipa, port: rec.port, xcf: rec.xcf, client: rec.srcIp, clientPort: rec.srcPort, reason });
  }

  #closed(rec: ConnRecord, abnormal: boolean): void {
    this.#forget(rec, abnormal, true);
  }

  #forget(rec: ConnRecord, abnormal: boolean, notify: boolean): void {
    if (!this.#conns.delete(rec.id)) return;
    const left = (this.#connsPerDvipa.get(rec.dvipa) ?? 1) - 1;
    if (left > 0) this.#connsPerDvipa.set(rec.dvipa, left);
    else this.#connsPerDvipa.delete(rec.dvipa);
    const key = destKey(rec.dvipa, rec.port);
    const table = this.#tables.get(key);
    if (table) {
      this.#tables.set(key, releaseConnection(table, rec.xcf));
      if (table.timedAffinity > 0) {
        const m = this.#affinityMap(key);
        const a = m.get(rec.srcIp);
        if (a) m.set(rec.srcIp, affinityClosed(a, rec.xcf, this.options.clock.now(), table.timedAffinity));
      }
    }
    this.#sample(key, rec.xcf, { closed: 1, abnormalClosed: abnormal ? 1 : 0 });
    this.#counters.closed++;
    if (abnormal) this.#counters.abnormal++;
    if (notify) this.emit('connection:closed', { id: rec.id, dvipa: rec.dvipa, port: rec.port, xcf: rec.xcf, abnormal });
    // WHENIDLE takeback waits for the last connection.
    const v = this.#vipas.get(rec.dvipa);
    if (v?.takeback) void this.#evaluate();
  }

  #onHandoffReport(r: HandoffReport): void {
    if (r.owner !== this.#owner) return;
    const rec = this.#conns.get(r.id);
    if (r.type === 'imsplex:handoff:failed') {
      this.#counters.handoffFailed++;
      this.#markDown(destKey(r.dvipa, r.port), r.xcf, 'handoff', r.reason);
      if (rec) this.#forget(rec, true, true);
      return;
    }
    if (rec) this.#forget(rec, false, true);
  }

  #undoPick(key: string, xcf: string): void {
    const t = this.#tables.get(key);
    if (t) this.#tables.set(key, updateTarget(t, xcf, (x) => ({ activeConn: Math.max(0, x.activeConn - 1), totalConn: Math.max(0, x.totalConn - 1) })));
  }

  #affinityMap(key: string): Map<string, Affinity> {
    let m = this.#affinities.get(key);
    if (!m) {
      m = new Map();
      this.#affinities.set(key, m);
    }
    return m;
  }

  // ---------------------------------------------------------------- health

  #sample(key: string, xcf: string, add: Partial<TsrSample>): void {
    const k = `${key}@${xcf}`;
    const s = this.#samples.get(k) ?? EMPTY_SAMPLE;
    this.#samples.set(k, {
      attempts: s.attempts + (add.attempts ?? 0),
      refused: s.refused + (add.refused ?? 0),
      connected: s.connected + (add.connected ?? 0),
      latencyMsSum: s.latencyMsSum + (add.latencyMsSum ?? 0),
      closed: s.closed + (add.closed ?? 0),
      abnormalClosed: s.abnormalClosed + (add.abnormalClosed ?? 0),
    });
  }

  /** Sets a target's rdy to 0 at once (refused connect, failed handoff, failed probe). */
  #markDown(key: string, xcf: string, reason: DistributorEvents['target:down']['reason'], detail?: string): void {
    const t = this.#tables.get(key);
    if (!t) return;
    const before = t.targets.find((x) => x.xcf === xcf);
    if (!before) return;
    this.#setTable(updateTarget(t, xcf, { rdy: 0, stackUp: true }));
    if (before.rdy > 0) {
      this.options.logger.warn({ dest: key, xcf, reason, detail }, 'target not ready');
      this.emit('target:down', { dvipa: t.dvipa, port: t.port, xcf, reason, ...(detail ? { detail } : {}) });
    }
  }

  /** Replaces a table and re-evaluates HOTSTANDBY's active target. */
  #setTable(t: PortTable): void {
    let table = t;
    if (table.method === 'HOTSTANDBY') {
      const active = hotStandbyActive(table);
      if (active !== table.cursor.active) {
        const from = table.cursor.active;
        table = { ...table, cursor: { ...table.cursor, active } };
        this.emit('active:switch', { dvipa: table.dvipa, port: table.port, from, to: active });
      }
    }
    this.#tables.set(destKey(table.dvipa, table.port), table);
  }

  async #runProbeRound(): Promise<void> {
    const started = Date.now();
    const emu = this.options.config.emulator;
    const round = ++this.#probeRound;
    const probes = new Map<string, Promise<ProbeOutcome>>();
    for (const t of this.#tables.values()) {
      for (const x of t.targets) {
        const pk = x.healthUrl ?? `tcp://${x.host}:${x.port}`;
        if (!probes.has(pk)) probes.set(pk, x.healthUrl ? this.#healthProbes.probe(x.healthUrl, emu.probeTimeoutMs) : probeTcp(x.host, x.port, emu.probeTimeoutMs, this.options.xcf));
      }
    }
    const results = new Map<string, ProbeOutcome>();
    await Promise.all([...probes].map(async ([k, p]) => results.set(k, await p)));
    if (this.#state === 'closed' || this.#state === 'destroyed') return;
    for (const [key, table] of this.#tables) {
      let t = table;
      for (const x of table.targets) {
        const pk = x.healthUrl ?? `tcp://${x.host}:${x.port}`;
        const r = results.get(pk)!;
        if (!x.healthUrl) this.#sample(key, x.xcf, r.ok ? { attempts: 1, connected: 1, latencyMsSum: r.latencyMs } : { attempts: 1, refused: r.refused ? 1 : 0 });
        t = updateTarget(t, x.xcf, this.#applyProbe(key, x, r));
      }
      this.#setTable(t);
      for (const x of table.targets) {
        const after = this.#tables.get(key)!.targets.find((y) => y.xcf === x.xcf)!;
        if (x.rdy === 0 && after.rdy > 0) {
          this.options.logger.info({ dest: key, xcf: x.xcf }, 'target ready');
          this.emit('target:up', { dvipa: table.dvipa, port: table.port, xcf: x.xcf, reason: x.healthUrl ? 'report' : 'probe' });
        } else if (x.rdy > 0 && after.rdy === 0) {
          const r = results.get(x.healthUrl ?? `tcp://${x.host}:${x.port}`)!;
          const reason = r.ok ? 'not-ready' : r.refused ? 'refused' : 'probe';
          this.options.logger.warn({ dest: key, xcf: x.xcf, reason }, 'target not ready');
          this.emit('target:down', { dvipa: table.dvipa, port: table.port, xcf: x.xcf, reason, ...(r.ok ? {} : { detail: r.error }) });
        }
      }
    }
    this.emit('probe', { round });
    if (this.#state === 'running' || this.#state === 'stopped') {
      const wait = Math.max(0, emu.probeIntervalMs - (Date.now() - started));
      this.#probeTimer = setTimeout(() => void this.#runProbeRound(), wait);
      this.#probeTimer.unref();
    }
  }

  #applyProbe(key: string, x: TargetState, r: ProbeOutcome): Partial<TargetState> {
    const stackUp = !this.#leftGroup || x.xcf !== this.options.xcf;
    if (!r.ok) return { rdy: 0, stackUp };
    const rep = r.report;
    if (!rep) return { rdy: 1, stackUp };
    this.#reportedAbnorm.set(targetKey(...splitKey(key), x.xcf), rep.abnorm ?? 0);
    return {
      rdy: rep.ready ? 1 : 0,
      stackUp,
      health: rep.health,
      serverWeight: rep.weight ?? null,
      abnorm: Math.max(rep.abnorm ?? 0, this.#observedAbnorm.get(targetKey(...splitKey(key), x.xcf)) ?? 0),
      ...(rep.jobname && x.jobname === null ? { jobname: rep.jobname } : {}),
    } as Partial<TargetState>;
  }

  #tsrTick(): void {
    this.#tsrInterval++;
    const sefGood = this.options.config.emulator.sefGoodMs;
    for (const [key, table] of this.#tables) {
      let t = table;
      for (const x of table.targets) {
        const r = computeTsr(this.#samples.get(`${key}@${x.xcf}`) ?? EMPTY_SAMPLE, sefGood);
        const tk = targetKey(table.dvipa, table.port, x.xcf);
        const reported = this.#reportedAbnorm.get(tk) ?? 0;
        this.#observedAbnorm.set(tk, r.abnormObserved);
        t = updateTarget(t, x.xcf, { tcsr: r.tcsr, cer: r.cer, sef: r.sef, tsr: r.tsr, abnorm: Math.max(reported, r.abnormObserved) });
      }
      this.#setTable(t);
    }
    this.#samples.clear();
    // Expire timed affinities whose timer ran out (bounds memory).
    const now = this.options.clock.now();
    for (const m of this.#affinities.values()) for (const [k, a] of m) if (!affinityLive(a, now)) m.delete(k);
    this.emit('tsr', { interval: this.#tsrInterval });
  }

  /** Runs one TSR computation now (tests and operators; normally every TSR interval). */
  recomputeTsr(): void {
    this.#tsrTick();
  }

  /** Runs one probe round now and resolves when it is applied. */
  probeNow(): Promise<void> {
    if (this.#probeTimer) clearTimeout(this.#probeTimer);
    return this.#runProbeRound();
  }

  /** Sets a target's emulated WLM system weight (0–64, BASEWLM). */
  setSystemWeight(xcf: string, weight: number): void {
    if (!Number.isInteger(weight) || weight < 0 || weight > 64) throw new DistributorError(DistributorErrorCode.BAD_OPTION, `WLM weight must be 0-64, got ${weight}`);
    for (const t of this.#tables.values()) this.#setTable(updateTarget(t, xcf, { systemWeight: weight }));
  }

  // ---------------------------------------------------------------- commands

  /** QUIESCE: no new connections for matching targets; existing ones untouched. Returns entries changed. */
  quiesce(sel: TargetSelector): number {
    return this.#setQuiesce(sel, true);
  }

  /** RESUME: makes matching targets eligible again. */
  resume(sel: TargetSelector): number {
    return this.#setQuiesce(sel, false);
  }

  #setQuiesce(sel: TargetSelector, quiesced: boolean): number {
    let n = 0;
    const jobMatch = (j: string | null): boolean => {
      if (sel.jobname === undefined) return true;
      if (j === null) return false;
      return sel.jobname.endsWith('*') ? j.startsWith(sel.jobname.slice(0, -1)) : j === sel.jobname;
    };
    for (const t of this.#tables.values()) {
      if (sel.port !== undefined && t.port !== sel.port) continue;
      for (const x of t.targets) {
        if (x.xcf !== sel.xcf || !jobMatch(x.jobname)) continue;
        n++;
        if (x.quiesced === quiesced) continue;
        this.#setTable(updateTarget(this.#tables.get(destKey(t.dvipa, t.port))!, x.xcf, { quiesced }));
        this.options.logger.info({ dest: destKey(t.dvipa, t.port), xcf: x.xcf }, quiesced ? 'target quiesced' : 'target resumed');
        this.emit(quiesced ? 'target:quiesced' : 'target:resumed', { dvipa: t.dvipa, port: t.port, xcf: x.xcf });
      }
    }
    return n;
  }

  /** DEACTIVATE,DVIPA=: give the DVIPA up (a backup takes over). */
  deactivate(dvipa: string): void {
    const v = this.#vipas.get(dvipa) ?? this.#unknownDvipa(dvipa);
    v.wants = false;
    this.#deactivated.add(dvipa);
    if (v.owns) this.#release(v, 'deactivate');
    this.#publishLocal();
  }

  /** REACTIVATE,DVIPA=: want the DVIPA again (a VIPADEFINE stack takes it back). */
  reactivate(dvipa: string): void {
    const v = this.#vipas.get(dvipa) ?? this.#unknownDvipa(dvipa);
    if (!this.#deactivated.has(dvipa)) throw new DistributorError(DistributorErrorCode.BAD_COMMAND, `${dvipa} is not deactivated`);
    this.#deactivated.delete(dvipa);
    v.wants = true;
    v.reactivated = true;
    void this.#evaluate();
  }

  /** LEAVEGROUP: drop every DVIPA and stop being a target; the definitions are kept for JOINGROUP. */
  leaveGroup(): void {
    this.#leftGroup = true;
    for (const v of this.#vipas.values()) {
      v.wants = false;
      if (v.owns) this.#release(v, 'leavegroup');
    }
    for (const t of this.#tables.values()) this.#setTable(updateTarget(t, this.options.xcf, { stackUp: false }));
    this.#publishLocal();
  }

  /** JOINGROUP: rejoin and reprocess the saved VIPADYNAMIC definitions. */
  joinGroup(): void {
    this.#leftGroup = false;
    for (const v of this.#vipas.values()) if (!this.#deactivated.has(v.dvipa)) v.wants = true;
    for (const t of this.#tables.values()) this.#setTable(updateTarget(t, this.options.xcf, { stackUp: true }));
    void this.#evaluate();
  }

  #unknownDvipa(dvipa: string): never {
    throw new DistributorError(DistributorErrorCode.BAD_COMMAND, `${dvipa} is not a DVIPA of this stack`);
  }

  /** Runs an operator command (VARY TCPIP,,SYSPLEX,… / NETSTAT …). Never throws. */
  command(text: string): CommandResult {
    const host: CommandHost = {
      tcpipName: this.options.config.emulator.tcpipName,
      systemName: this.options.stackName,
      systems: { ...this.options.config.emulator.systems, [this.options.stackName]: this.options.xcf },
      displaySource: () => this.displaySource(),
      quiesce: (s) => this.quiesce(s),
      resume: (s) => this.resume(s),
      deactivate: (d) => this.deactivate(d),
      reactivate: (d) => this.reactivate(d),
      leaveGroup: () => this.leaveGroup(),
      joinGroup: () => this.joinGroup(),
    };
    const r = executeCommand(host, text);
    this.options.logger.info({ command: r.command, ok: r.ok }, 'operator command');
    return r;
  }

  // ---------------------------------------------------------------- snapshots

  /** The current port tables (read-only snapshots). */
  tables(): readonly PortTable[] {
    return [...this.#tables.values()];
  }

  /** Everything the displays and the admin endpoint show, as JSON-friendly data. */
  stats(): DistributorStats {
    const src = this.displaySource();
    const listening: { dvipa: string; port: number }[] = [];
    for (const v of this.#vipas.values()) for (const p of v.servers.keys()) listening.push({ dvipa: v.dvipa, port: p });
    return {
      stack: { name: this.options.stackName, xcf: this.options.xcf, tcpipName: this.options.config.emulator.tcpipName },
      state: this.#state,
      dataPlane: this.options.dataPlane,
      splice: this.spliceMode,
      spliced: { ...this.#spliced },
      now: src.now,
      probeRound: this.#probeRound,
      vipas: src.vipadyn,
      vdpt: src.vdpt,
      vcrt: src.vcrt,
      affinities: src.affinities,
      peers: this.#heartbeat?.peerStatus() ?? [],
      counters: { ...this.#counters },
      listening,
    };
  }

  /**
   * What the admin `GET /health` answers (polled every half second by a supervisor): lifecycle
   * state, the data plane (and the proxy's splice implementation), each DVIPA's status, and how
   * many VDPT entries are ready — without building the connection and affinity tables that
   * {@link stats} lists.
   */
  healthSummary(): {
    status: string;
    stack: DistributorStats['stack'];
    dataPlane: DistributorStats['dataPlane'];
    splice: DistributorStats['splice'];
    vipas: { dvipa: string; status: VipaDynEntry['status']; owns: boolean }[];
    readyTargets: number;
  } {
    let readyTargets = 0;
    // A quiesced listener no longer counts as ready (as in the VDPT).
    for (const t of this.#tables.values()) for (const x of t.targets) if (!x.quiesced && x.rdy > 0) readyTargets++;
    const vipas = [...this.#vipas.values()].map((v) => ({ dvipa: v.dvipa, status: this.#vipaStatus(v, this.#activeConnsFor(v.dvipa)), owns: v.owns }));
    return {
      status: this.#state,
      stack: { name: this.options.stackName, xcf: this.options.xcf, tcpipName: this.options.config.emulator.tcpipName },
      dataPlane: this.options.dataPlane,
      splice: this.spliceMode,
      vipas,
      readyTargets,
    };
  }

  #vipaStatus(v: VipaState, active: number): VipaDynEntry['status'] {
    return !v.wants && !v.owns ? 'Deactivated' : v.owns ? 'Active' : active > 0 && this.options.dataPlane === 'proxy' ? 'Moving' : 'Backup';
  }

  /** Data for the NETSTAT reports. */
  displaySource(): DisplaySource {
    const now = this.options.clock.now();
    const vdpt: VdptEntry[] = [];
    for (const t of this.#tables.values()) {
      const w = computeWeights(t);
      const m = METHODS[t.method];
      for (const x of t.targets) {
        const tw = w.get(x.xcf)!;
        const flags: string[] = [];
        if (x.dynamic) flags.push('Dynamic');
        flags.push(m.flagWord);
        if (t.method === 'HOTSTANDBY') flags.push(t.cursor.active === x.xcf ? 'Active' : 'Inactive');
        if (x.quiesced) flags.push('Quiesced');
        const letters = `${m.flagLetter}${x.dynamic ? 'D' : ''}${x.quiesced ? 'Q' : ''}${t.method === 'HOTSTANDBY' && t.cursor.active === x.xcf ? 'A' : ''}`;
        vdpt.push({
          dest: destKey(t.dvipa, t.port),
          dvipa: t.dvipa,
          port: t.port,
          destXcf: x.xcf,
          // A quiesced listener no longer counts as ready (spec §9) [INF].
          rdy: x.quiesced ? 0 : x.rdy,
          totalConn: x.totalConn,
          activeConn: x.activeConn,
          wlm: tw.wlm > 0 ? Math.max(1, Math.round(tw.wlm)) : 0,
          tsr: x.tsr,
          tcsr: x.tcsr,
          cer: x.cer,
          sef: x.sef,
          abnorm: x.abnorm,
          health: x.health,
          wq: tw.wq > 0 ? Math.max(1, Math.round(tw.wq)) : 0,
          flags,
          flagLetters: letters,
          distMethod: m.flagWord,
          srvType: x.srvType === 'PREFERRED' ? 'Preferred' : x.srvType === 'BACKUP' ? 'Backup' : null,
          rank: x.rank,
          quiesced: x.quiesced,
          qosPlcAct: '*DEFAULT*',
        });
      }
    }
    const vcrt: VcrtEntry[] = [...this.#conns.values()].map((c) => ({ dest: destKey(c.dvipa, c.port), dvipa: c.dvipa, port: c.port, srcIp: c.srcIp, srcPort: c.srcPort, destXcf: c.xcf, since: c.since }));
    const affinities: AffinityEntry[] = [];
    for (const [key, m] of this.#affinities) {
      const t = this.#tables.get(key);
      for (const a of m.values()) {
        if (!affinityLive(a, now)) continue;
        affinities.push({ dest: key, srcIp: a.client, destXcf: a.xcf, timedAffinity: t?.timedAffinity ?? 0, count: a.count, timeLeft: a.expiresAt === null ? null : Math.ceil((a.expiresAt - now) / 1000) });
      }
    }
    const isTarget = [...this.#tables.values()].some((t) => t.targets.some((x) => x.xcf === this.options.xcf));
    const vipadyn: VipaDynEntry[] = [...this.#vipas.values()].map((v) => {
      const active = this.#activeConnsFor(v.dvipa);
      const status = this.#vipaStatus(v, active);
      return {
        dvipa: v.dvipa,
        prefixLen: v.prefixLen,
        status,
        origin: v.origin,
        rank: v.origin === 'VIPABackup' ? v.priority : 0,
        distStat: v.owns ? (isTarget ? 'Dist/Dest' : 'Dist') : isTarget ? 'Dest' : '',
        owns: v.owns,
        activeConns: active,
        activeSince: v.activeSince,
      };
    });
    return { tcpipName: this.options.config.emulator.tcpipName, xcf: this.options.xcf, now, config: this.options.config, vdpt, vcrt, affinities, vipadyn, deactivated: [...this.#deactivated] };
  }

  #warn(code: string, message: string): void {
    this.options.logger.warn({ code }, message);
    this.emit('warning', { code, message });
  }
}

function splitKey(key: string): [string, number] {
  const i = key.lastIndexOf('..');
  return [key.slice(0, i), Number(key.slice(i + 2))];
}
