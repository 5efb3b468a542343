/**
 * The supervisor: starts every box of a topology as its own child process (with an IPC channel),
 * waits for each health endpoint, watches the boxes, keeps a failover timeline, and offers kill /
 * restart / quiesce / resume / command for the dashboard, the CLI and the drills. In the handoff data
 * plane it routes the sockets distributors hand over to the target processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { closeSync, mkdirSync, openSync, readSync, fstatSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { HandoffRouter } from '@imsplex/distributor';
import { binAcceptsHandoffs, binProblem, boxSpecs, PACKAGE_OF, redisServerProblem, type BoxSpec, type Runtime } from './boxes.js';
import { configPaths, redactRedisUrl, redisBoxOf, sharedQueuesUrl, writeConfigs } from './configs.js';
import { StackError, StackErrorCode } from './errors.js';
import { authHeader, httpCall, sumRequestCounters } from './http.js';
import { MAX_QUEUE_ROWS, parseInputDepths, parseTpipeDisplay, type HoldQueueDepth, type InputQueueDepth } from './queue-depths.js';
import { formatReply, parseInfo, redisCall, redisEndpointOf, RespErrorReply, splitCommandLine, STREAMING_COMMANDS, type RedisEndpoint } from './resp.js';
import { hostAddress, type BoxDef, type BoxKind, type Topology } from './topology.js';

/** Life-cycle state of a box. */
export type BoxState = 'stopped' | 'starting' | 'up' | 'down' | 'stopping';

/** A clock (injectable so drills measure on the same time line as the supervisor). */
export interface Clock {
  now(): number;
}

/** What the dashboard and the API show of one box. */
export interface BoxStatus {
  readonly name: string;
  readonly kind: BoxKind;
  readonly host: string;
  readonly address: string;
  readonly xcf: string;
  readonly state: BoxState;
  readonly pid: number | null;
  readonly startedAt: number | null;
  readonly upAt: number | null;
  readonly exitedAt: number | null;
  readonly lastExit: { readonly code: number | null; readonly signal: string | null } | null;
  readonly restarts: number;
  readonly quiesced: boolean;
  readonly healthy: boolean | null;
  readonly health: unknown;
  /** Sum of the box's `*_requests_total` / `*_transactions_total` counters. */
  readonly requests: number;
  /** Requests per second over the last stats interval. */
  readonly rps: number;
  readonly adminUrl: string;
  readonly protocolPort: number | null;
  readonly distributedPort: number | null;
}

/** One entry of the failover timeline. */
export interface TimelineEntry {
  readonly seq: number;
  readonly at: number;
  readonly kind: 'stack' | 'start' | 'up' | 'exit' | 'kill' | 'restart' | 'quiesce' | 'resume' | 'command' | 'distributor' | 'warning';
  readonly box: string | null;
  readonly text: string;
  readonly data?: unknown;
}

/** Connections routed per (distributed port, target). */
export interface RouteStatus {
  readonly port: number;
  readonly xcf: string;
  readonly target: string | null;
  readonly routed: number;
  readonly rps: number;
  readonly active: number;
  readonly rdy: number | null;
  readonly quiesced: boolean;
}

/** One row of the owning distributor's connection routing table (VCRT). */
export interface ConnectionRow {
  readonly dvipa: string;
  readonly port: number;
  readonly client: string;
  readonly clientPort: number;
  readonly xcf: string;
  readonly target: string | null;
}

/** Queue depths of one IMS system (see queue-depths.ts for where they come from). */
export interface ImsQueues {
  /** The IMS box. */
  readonly ims: string;
  /** When they were read (supervisor clock), or null before the first read. */
  readonly at: number | null;
  /** Input queue per transaction (every defined transaction, zero included). */
  readonly input: readonly InputQueueDepth[];
  /** Hold queue per tpipe. */
  readonly hold: readonly HoldQueueDepth[];
  /** Why the last read failed (the figures are then the previous ones), or null. */
  readonly error: string | null;
}

/** The shared-queues set-up, for the dashboard. */
export interface SharedQueuesStatus {
  readonly group: string;
  /** The Redis URL the IMS systems use, password redacted. */
  readonly url: string;
  /** The stack's own redis-server box, or null for an external Redis. */
  readonly box: string | null;
  readonly leaseMs: number;
}

/** The whole state, as `GET /api/state` returns it and the dashboard's SSE stream sends it. */
export interface StackSnapshot {
  readonly now: number;
  readonly state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped';
  readonly vipa: string;
  readonly vipaOwner: string | null;
  readonly dataPlane: 'proxy' | 'handoff';
  readonly singleHost: boolean;
  readonly hosts: readonly { readonly name: string; readonly address: string }[];
  readonly distributes: readonly { readonly port: number; readonly targets: string; readonly method: string; readonly optLocal: number | null }[];
  readonly boxes: readonly BoxStatus[];
  readonly routes: readonly RouteStatus[];
  readonly connections: readonly ConnectionRow[];
  /** Shared message queues across the IMS systems, or null (a journal per IMS). */
  readonly sharedQueues: SharedQueuesStatus | null;
  /** Queue depths per IMS system, in box order (only IMS systems that were read at least once, or are up). */
  readonly queues: readonly ImsQueues[];
  readonly timeline: readonly TimelineEntry[];
}

/** Options of {@link Supervisor}. */
export interface SupervisorOptions {
  readonly topology: Topology;
  /** Default `dist` (built bins); tests use `source`. */
  readonly runtime?: Runtime;
  readonly clock?: Clock;
  /** Admin secret shared with the boxes (random by default). */
  readonly secret?: string;
  /** Console lines (start progress, exits). Default: none. */
  readonly log?: (line: string) => void;
  /** Health poll of running boxes (default 500 ms). */
  readonly healthIntervalMs?: number;
  /** Stats / metrics poll (default 1000 ms). */
  readonly statsIntervalMs?: number;
  /** Grace between SIGTERM and SIGKILL when stopping a box (default 5000 ms). */
  readonly stopGraceMs?: number;
  /** Box log level (default `info`). */
  readonly logLevel?: string;
}

/** Timeline entries kept (oldest dropped first). */
export const MAX_TIMELINE = 1000;
/** Log lines kept per box in memory (all of them go to the box's log file). */
export const MAX_LOG_LINES = 200;
/** Rows of the connection table kept in a snapshot. */
export const MAX_CONNECTION_ROWS = 200;

interface VdptRow {
  readonly port: number;
  readonly destXcf: string;
  readonly activeConn: number;
  readonly rdy: number;
}

const START_ORDER: readonly BoxKind[] = ['redis', 'ims', 'imsconnect', 'zosconnect', 'distributor'];

/**
 * Signals sent to the whole process group of a Redis box (wrapper and redis-server together): the ones
 * the wrapper cannot pass on. SIGTERM, SIGINT and SIGHUP go to the wrapper only, which forwards them
 * once (a second SIGTERM would make redis-server skip its shutdown work).
 */
const GROUP_SIGNALS: ReadonlySet<string> = new Set(['SIGKILL', 'SIGSTOP', 'SIGCONT']);

interface Runtime_ {
  readonly spec: BoxSpec;
  state: BoxState;
  child: ChildProcess | null;
  startedAt: number | null;
  upAt: number | null;
  exitedAt: number | null;
  lastExit: { code: number | null; signal: string | null } | null;
  restarts: number;
  quiesced: boolean;
  healthy: boolean | null;
  health: unknown;
  requests: number;
  lastRequests: number | null;
  rps: number;
  logPath: string;
  exited: Promise<void> | null;
  expectExit: boolean;
}

/** The stack supervisor. */
export class Supervisor extends EventEmitter {
  readonly topology: Topology;
  readonly runtime: Runtime;
  readonly clock: Clock;
  readonly secret: string;
  readonly #boxes = new Map<string, Runtime_>();
  readonly #log: (line: string) => void;
  readonly #healthIntervalMs: number;
  readonly #statsIntervalMs: number;
  readonly #stopGraceMs: number;
  readonly #timeline: TimelineEntry[] = [];
  #seq = 0;
  #state: StackSnapshot['state'] = 'new';
  #router: HandoffRouter | null = null;
  #healthTimer: NodeJS.Timeout | null = null;
  /**
   * Keep-alive sockets for the periodic polls (health, metrics, stats, hold queues); commands use fresh
   * ones. No socket cap: a poll never queues behind a hung box's sockets (each call has its own timeout).
   */
  readonly #pollAgent = new Agent({ keepAlive: true, maxFreeSockets: 4, timeout: 10_000 });
  #statsTimer: NodeJS.Timeout | null = null;
  #lastStatsAt = 0;
  #vipaOwner: string | null = null;
  readonly #routed = new Map<string, number>();
  readonly #routedLast = new Map<string, number>();
  readonly #routeRps = new Map<string, number>();
  #vdpt: VdptRow[] = [];
  #connections: ConnectionRow[] = [];
  readonly #queues = new Map<string, ImsQueues>();
  #stopP: Promise<void> | null = null;

  constructor(options: SupervisorOptions) {
    super();
    this.topology = options.topology;
    this.runtime = options.runtime ?? 'dist';
    this.clock = options.clock ?? { now: () => Date.now() };
    this.secret = options.secret ?? randomBytes(18).toString('base64url');
    this.#log = options.log ?? (() => undefined);
    this.#healthIntervalMs = options.healthIntervalMs ?? 500;
    this.#statsIntervalMs = options.statsIntervalMs ?? 1000;
    this.#stopGraceMs = options.stopGraceMs ?? 5000;
    for (const spec of boxSpecs(this.topology, { runtime: this.runtime, secret: this.secret, ...(options.logLevel ? { logLevel: options.logLevel } : {}) })) {
      this.#boxes.set(spec.def.name, {
        spec,
        state: 'stopped',
        child: null,
        startedAt: null,
        upAt: null,
        exitedAt: null,
        lastExit: null,
        restarts: 0,
        quiesced: false,
        healthy: null,
        health: null,
        requests: 0,
        lastRequests: null,
        rps: 0,
        logPath: join(configPaths(this.topology.dataDir).logDir, `${spec.def.name}.log`),
        exited: null,
        expectExit: false,
      });
    }
  }

  /** Names of the boxes, in start order. */
  get names(): string[] {
    return [...this.#boxes.keys()];
  }

  /** The spec of a box. @throws {StackError} `STACK_ERR_UNKNOWN_BOX`. */
  spec(name: string): BoxSpec {
    return this.#box(name).spec;
  }

  /** Why the stack cannot start with this runtime (one line per kind), or an empty list. */
  preflight(): string[] {
    const kinds = new Set(this.topology.boxes.map((b) => b.kind));
    const out: string[] = [];
    for (const k of kinds) {
      const p = binProblem(k, this.runtime);
      if (p) out.push(`${k}: ${p}`);
    }
    const redis = redisBoxOf(this.topology);
    if (redis) {
      const p = redisServerProblem(redis.server);
      if (p) out.push(`redis: ${p}`);
    }
    return out;
  }

  /**
   * Writes the configuration, then starts the boxes stage by stage (IMS systems, IMS Connects,
   * z/OS Connects, distributors), each stage waiting for every health endpoint. On a failure every
   * started box is stopped again and the error is thrown.
   */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new StackError(StackErrorCode.BAD_STATE, `the stack is ${this.#state}`);
    this.#state = 'starting';
    const problems = this.preflight();
    if (problems.length > 0) {
      this.#state = 'stopped';
      throw new StackError(StackErrorCode.NO_BIN, `cannot start the stack:\n  ${problems.join('\n  ')}`, { details: { problems } });
    }
    if (this.topology.dataPlane === 'handoff') {
      const refusing = [...new Set(this.topology.boxes.filter((b) => b.kind === 'zosconnect' || b.kind === 'imsconnect').map((b) => b.kind))].filter((k) => !binAcceptsHandoffs(k, this.runtime));
      if (refusing.length > 0) {
        this.#state = 'stopped';
        throw new StackError(StackErrorCode.BAD_STATE, `data-plane = handoff needs every target to accept handed-off sockets; ${refusing.map((k) => PACKAGE_OF[k]).join(', ')} does not yet (use data-plane = proxy)`);
      }
    }
    const written = writeConfigs(this.topology, { secret: this.secret });
    for (const w of written.warnings) this.#record('warning', null, w);
    if (this.topology.dataPlane === 'handoff') this.#router = new HandoffRouter();
    this.#record('stack', null, `starting ${this.#boxes.size} boxes (${this.runtime} runtime, ${this.topology.dataPlane} data plane)`);
    const sq = this.topology.sharedQueues;
    if (sq?.url) {
      // An external Redis: find out now, with a clear message, rather than from every IMS's log.
      try {
        await redisCall(redisEndpointOf(sq.url), [['PING']], { timeoutMs: 3000 });
      } catch (e) {
        this.#state = 'stopped';
        throw new StackError(StackErrorCode.START_FAILED, `shared queues: the Redis at ${redactRedisUrl(sq.url)} does not answer: ${(e as Error).message}`, { cause: e });
      }
    }
    if (sq) this.#record('stack', null, `shared queues: group ${sq.group} on ${sq.url ? redactRedisUrl(sq.url) : `redis-server ${sq.box}`}`);
    try {
      for (const kind of START_ORDER) {
        const stage = [...this.#boxes.values()].filter((b) => b.spec.def.kind === kind);
        await Promise.all(stage.map((b) => this.#startBox(b)));
      }
    } catch (e) {
      await this.stop();
      throw e;
    }
    this.#state = 'running';
    this.#writeSupervisorFile();
    this.#healthTimer = setInterval(() => void this.#pollHealth(), this.#healthIntervalMs);
    this.#healthTimer.unref();
    this.#statsTimer = setInterval(() => void this.#pollStats(), this.#statsIntervalMs);
    this.#statsTimer.unref();
    await this.#pollStats();
    this.#record('stack', null, 'every box is up');
  }

  /** Records where the dashboard listens, for the CLI (`<data-dir>/supervisor.json`, mode 0600). */
  setDashboardUrl(url: string): void {
    this.#dashboardUrl = url;
    if (this.#state === 'running') this.#writeSupervisorFile();
  }
  #dashboardUrl: string | null = null;

  #writeSupervisorFile(): void {
    const paths = configPaths(this.topology.dataDir);
    mkdirSync(paths.dataDir, { recursive: true });
    writeFileSync(paths.supervisorFile, JSON.stringify({ pid: process.pid, dashboard: this.#dashboardUrl, token: this.secret, vipa: this.topology.vipa }, null, 2) + '\n', { mode: 0o600 });
  }

  /** Stops every box (distributors first, IMS last), each SIGTERM then SIGKILL after the grace. Idempotent. */
  stop(): Promise<void> {
    this.#stopP ??= (async () => {
      this.#state = 'stopping';
      if (this.#healthTimer) clearInterval(this.#healthTimer);
      if (this.#statsTimer) clearInterval(this.#statsTimer);
      for (const kind of [...START_ORDER].reverse()) {
        const stage = [...this.#boxes.values()].filter((b) => b.spec.def.kind === kind);
        await Promise.all(stage.map((b) => this.#stopBox(b, 'SIGTERM')));
      }
      this.#router?.close();
      this.#pollAgent.destroy();
      this.#state = 'stopped';
      this.#record('stack', null, 'stopped');
    })();
    return this.#stopP;
  }

  /** Sends a signal (default SIGKILL, i.e. `kill -9`) and waits for the box to exit. */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<BoxStatus> {
    const b = this.#box(name);
    if (!b.child || b.state === 'down' || b.state === 'stopped') throw new StackError(StackErrorCode.BAD_STATE, `${name} is not running (${b.state})`);
    this.#record('kill', name, `${signal} sent to ${name} (pid ${b.child.pid})`, { signal });
    this.#signal(b, b.child, signal);
    await this.#waitExit(b, this.#stopGraceMs * 2);
    return this.status(name);
  }

  /** Stops the box if it runs, starts it again and waits for its health endpoint. */
  async restart(name: string): Promise<BoxStatus> {
    const b = this.#box(name);
    if (b.state === 'starting' || b.state === 'stopping') throw new StackError(StackErrorCode.BAD_STATE, `${name} is ${b.state}`);
    this.#record('restart', name, `restarting ${name}`);
    if (b.child) await this.#stopBox(b, 'SIGTERM');
    b.restarts++;
    await this.#startBox(b);
    if (b.quiesced) await this.#quiesceCommands(b, 'quiesce').catch(() => undefined);
    return this.status(name);
  }

  /**
   * Takes a box out of service for maintenance without touching its connections:
   * - a z/OS Connect or IMS Connect: `RO sys,V TCPIP,,SYSPLEX,QUIESCE,PORT=p` on every running
   *   distributor (spec §9 — new connections go elsewhere, existing ones finish);
   * - an IMS system: `STOPDS` of its datastore on every IMS Connect (they reroute to the alternate);
   * - a distributor: `V TCPIP,,SYSPLEX,DEACTIVATE,DVIPA=` on it (a backup takes the VIPA over).
   */
  async quiesce(name: string): Promise<string[]> {
    const b = this.#box(name);
    const lines = await this.#quiesceCommands(b, 'quiesce');
    b.quiesced = true;
    this.#record('quiesce', name, `${name} quiesced`, { lines });
    return lines;
  }

  /** Undoes {@link quiesce} (RESUME / OPENDS / REACTIVATE). */
  async resume(name: string): Promise<string[]> {
    const b = this.#box(name);
    const lines = await this.#quiesceCommands(b, 'resume');
    b.quiesced = false;
    this.#record('resume', name, `${name} resumed`, { lines });
    return lines;
  }

  async #quiesceCommands(b: Runtime_, what: 'quiesce' | 'resume'): Promise<string[]> {
    const def = b.spec.def;
    const running = (kind: BoxKind) => [...this.#boxes.values()].filter((x) => x.spec.def.kind === kind && x.state === 'up');
    const out: string[] = [];
    switch (def.kind) {
      case 'redis':
        throw new StackError(StackErrorCode.BAD_STATE, `${def.name} is the shared-queues Redis: it cannot be quiesced (every IMS system needs it); kill or restart it`);
      case 'zosconnect':
      case 'imsconnect': {
        const verb = what === 'quiesce' ? 'QUIESCE' : 'RESUME';
        const cmd = `RO ${def.host},V TCPIP,,SYSPLEX,${verb},PORT=${b.spec.distributedPort}`;
        const ds = running('distributor');
        if (ds.length === 0) throw new StackError(StackErrorCode.BAD_STATE, 'no distributor is running');
        for (const d of ds) out.push(...(await this.command(d.spec.def.name, cmd)).map((l) => `${d.spec.def.name}: ${l}`));
        break;
      }
      case 'ims': {
        const cmd = `${what === 'quiesce' ? 'STOPDS' : 'OPENDS'} ${def.name}`;
        const cs = running('imsconnect');
        if (cs.length === 0) throw new StackError(StackErrorCode.BAD_STATE, 'no IMS Connect is running');
        for (const c of cs) out.push(...(await this.command(c.spec.def.name, cmd)).map((l) => `${c.spec.def.name}: ${l}`));
        break;
      }
      case 'distributor': {
        const cmd = `V TCPIP,,SYSPLEX,${what === 'quiesce' ? 'DEACTIVATE' : 'REACTIVATE'},DVIPA=${this.topology.vipa}`;
        out.push(...(await this.command(def.name, cmd)));
        break;
      }
    }
    return out;
  }

  /** Sends an operator command to a box's admin endpoint; returns the response lines. */
  async command(name: string, text: string): Promise<string[]> {
    const b = this.#box(name);
    if (b.state !== 'up') throw new StackError(StackErrorCode.BAD_STATE, `${name} is ${b.state}`);
    if (b.spec.def.kind === 'redis') return this.#redisCommand(b, text);
    let r: Awaited<ReturnType<typeof httpCall>>;
    if (b.spec.def.kind === 'zosconnect') {
      // z/OS Connect has no console: its operator surface is the admin REST API (spec zos-connect.md §2.2).
      const m = /^(GET|PUT|POST|DELETE)\s+(\/\S*)$/i.exec(text.trim());
      if (!m) throw new StackError(StackErrorCode.BAD_REQUEST, `z/OS Connect takes admin REST calls such as "GET /zosConnect/apis" or "PUT /zosConnect/apis/phonebook?status=stopped"; got "${text}"`);
      r = await httpCall(`${b.spec.adminUrl}${m[2]}`, { method: m[1]!.toUpperCase(), headers: { authorization: authHeader(b.spec.auth), accept: 'application/json' }, timeoutMs: 10_000 });
      if ((r.headers['content-type'] ?? '').toString().includes('json')) {
        try {
          r = { ...r, headers: { 'content-type': 'text/plain' }, body: JSON.stringify(JSON.parse(r.body), null, 2) };
        } catch {
          // leave the body as it came
        }
      }
    } else r = await httpCall(`${b.spec.adminUrl}/command`, { method: 'POST', headers: { authorization: authHeader(b.spec.auth), 'content-type': 'text/plain' }, body: text, timeoutMs: 10_000 });
    let lines: string[];
    if ((r.headers['content-type'] ?? '').toString().includes('json')) {
      const j = JSON.parse(r.body) as { lines?: unknown; ok?: unknown };
      lines = Array.isArray(j.lines) ? j.lines.map(String) : [r.body];
    } else lines = r.body.replace(/\n$/, '').split('\n');
    if (r.status >= 400) throw new StackError(StackErrorCode.COMMAND, `${name} answered ${r.status}: ${lines.join(' ')}`, { details: { status: r.status, lines } });
    this.#record('command', name, `${name}: ${text}`);
    return lines;
  }

  /** A Redis command line (`INFO keyspace`, `DBSIZE`, `KEYS imsplex:*` …), answered as redis-cli prints it. */
  async #redisCommand(b: Runtime_, text: string): Promise<string[]> {
    const args = splitCommandLine(text);
    if (args.length === 0) throw new StackError(StackErrorCode.BAD_REQUEST, 'the body must be one Redis command');
    if (STREAMING_COMMANDS.has(args[0]!.toUpperCase())) throw new StackError(StackErrorCode.BAD_REQUEST, `${args[0]!.toUpperCase()} does not answer once; it cannot be sent through the admin API`);
    const [reply] = await redisCall(this.#redisEndpoint(b), [args], { timeoutMs: 10_000 });
    this.#record('command', b.spec.def.name, `${b.spec.def.name}: ${args[0]!.toUpperCase()}`);
    const lines = formatReply(reply ?? null);
    if (reply instanceof RespErrorReply) throw new StackError(StackErrorCode.COMMAND, `${b.spec.def.name} answered ${reply.message}`, { details: { lines } });
    return lines;
  }

  #redisEndpoint(b: Runtime_): RedisEndpoint {
    const auth = b.spec.auth;
    const password = auth.scheme === 'redis' ? auth.password : null;
    return { host: b.spec.address, port: b.spec.protocolPort ?? 0, ...(password ? { password } : {}) };
  }

  /** Sends a signal to a box: to its process, or for Redis (see {@link GROUP_SIGNALS}) to its process group. */
  #signal(b: Runtime_, child: ChildProcess, signal: NodeJS.Signals): void {
    if (b.spec.def.kind === 'redis' && child.pid !== undefined && GROUP_SIGNALS.has(signal)) {
      try {
        process.kill(-child.pid, signal);
        return;
      } catch {
        // The group is gone already; fall through to the process itself.
      }
    }
    child.kill(signal);
  }

  /** The status of one box. */
  status(name: string): BoxStatus {
    return this.#status(this.#box(name));
  }

  /** The whole state. */
  snapshot(timelineTail = 100): StackSnapshot {
    const t = this.topology;
    const targetName = (port: number, xcf: string): string | null => {
      const d = t.distributes.find((x) => x.port === port);
      if (!d) return null;
      const b = [...this.#boxes.values()].find((x) => x.spec.def.kind === d.targets && x.spec.xcf === xcf);
      return b?.spec.def.name ?? null;
    };
    const routes: RouteStatus[] = [];
    for (const d of t.distributes) {
      for (const b of this.#boxes.values()) {
        if (b.spec.def.kind !== d.targets) continue;
        const key = `${d.port}/${b.spec.xcf}`;
        const v = this.#vdpt.find((e) => e.port === d.port && e.destXcf === b.spec.xcf);
        routes.push({
          port: d.port,
          xcf: b.spec.xcf,
          target: b.spec.def.name,
          routed: this.#routed.get(key) ?? 0,
          rps: this.#routeRps.get(key) ?? 0,
          active: v?.activeConn ?? 0,
          rdy: v ? v.rdy : null,
          quiesced: b.quiesced,
        });
      }
    }
    return {
      now: this.clock.now(),
      state: this.#state,
      vipa: t.vipa,
      vipaOwner: this.#vipaOwner,
      dataPlane: t.dataPlane,
      singleHost: t.singleHost,
      hosts: t.hosts.map((h) => ({ name: h.name, address: h.address })),
      distributes: t.distributes.map((d) => ({ port: d.port, targets: d.targets, method: d.method, optLocal: d.optLocal })),
      boxes: [...this.#boxes.values()].map((b) => this.#status(b)),
      routes,
      connections: this.#connections.map((c) => ({ ...c, target: targetName(c.port, c.xcf) })),
      sharedQueues: t.sharedQueues
        ? { group: t.sharedQueues.group, url: redactRedisUrl(sharedQueuesUrl(t, this.secret) ?? ''), box: t.sharedQueues.box, leaseMs: t.sharedQueues.leaseMs }
        : null,
      queues: [...this.#boxes.values()].filter((b) => b.spec.def.kind === 'ims' && this.#queues.has(b.spec.def.name)).map((b) => this.#queues.get(b.spec.def.name)!),
      timeline: this.#timeline.slice(-timelineTail),
    };
  }

  /** Timeline entries after `seq`. */
  timelineSince(seq: number): TimelineEntry[] {
    return this.#timeline.filter((e) => e.seq > seq);
  }

  /** Last log lines of a box (from its log file). */
  logs(name: string): string[] {
    return tailLines(this.#box(name).logPath, MAX_LOG_LINES);
  }

  #box(name: string): Runtime_ {
    const b = this.#boxes.get(name.toUpperCase());
    if (!b) throw new StackError(StackErrorCode.UNKNOWN_BOX, `no box named ${name} (boxes: ${this.names.join(', ')})`);
    return b;
  }

  #status(b: Runtime_): BoxStatus {
    const d = b.spec.def;
    return {
      name: d.name,
      kind: d.kind,
      host: d.host,
      address: b.spec.address,
      xcf: b.spec.xcf,
      state: b.state,
      pid: b.child?.pid ?? null,
      startedAt: b.startedAt,
      upAt: b.upAt,
      exitedAt: b.exitedAt,
      lastExit: b.lastExit,
      restarts: b.restarts,
      quiesced: b.quiesced,
      healthy: b.healthy,
      health: b.health,
      requests: b.requests,
      rps: b.rps,
      adminUrl: b.spec.adminUrl,
      protocolPort: b.spec.protocolPort,
      distributedPort: b.spec.distributedPort,
    };
  }

  #record(kind: TimelineEntry['kind'], box: string | null, text: string, data?: unknown): TimelineEntry {
    const e: TimelineEntry = { seq: ++this.#seq, at: this.clock.now(), kind, box, text, ...(data === undefined ? {} : { data }) };
    this.#timeline.push(e);
    if (this.#timeline.length > MAX_TIMELINE) this.#timeline.splice(0, this.#timeline.length - MAX_TIMELINE);
    this.emit('timeline', e);
    if (kind !== 'command') this.#log(`${new Date(e.at).toISOString().slice(11, 23)} ${text}`);
    return e;
  }

  #setState(b: Runtime_, state: BoxState): void {
    b.state = state;
    this.emit('box', this.#status(b));
  }

  async #startBox(b: Runtime_): Promise<void> {
    const { spec } = b;
    const name = spec.def.name;
    const paths = configPaths(this.topology.dataDir);
    mkdirSync(paths.logDir, { recursive: true });
    b.expectExit = false;
    b.healthy = null;
    b.lastRequests = null;
    b.rps = 0;
    this.#setState(b, 'starting');
    b.startedAt = this.clock.now();
    this.#record('start', name, `starting ${spec.def.kind} ${name} on ${spec.def.host} (${spec.address})`);
    // The box writes its stdout and stderr straight into its log file, never into a pipe to us: a
    // pipe whose reader died (a supervisor killed with SIGKILL) can leave a box hung in its exit path
    // while its logger retries the write, which would leave an orphan behind.
    const fd = openSync(b.logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, spec.argv as string[], {
        cwd: spec.cwd,
        env: { ...process.env, ...spec.env },
        stdio: ['pipe', fd, fd, 'ipc'],
        serialization: 'json',
        // Redis: the wrapper and redis-server in a process group of their own, so kill -9 reaches both.
        detached: spec.def.kind === 'redis',
      });
    } finally {
      closeSync(fd);
    }
    b.child = child;
    child.stdin?.on('error', () => undefined);
    child.on('error', (e) => this.#record('warning', name, `${name}: ${e.message}`));
    child.on('message', (m: unknown) => this.#onMessage(b, m));
    b.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        b.exitedAt = this.clock.now();
        b.lastExit = { code, signal };
        b.child = null;
        b.healthy = false;
        const expected = b.expectExit;
        const q = this.#queues.get(name);
        // Its depths stay on show, marked as the last ones read.
        if (q) this.#queues.set(name, { ...q, error: `${name} ${expected ? 'stopped' : 'is down'}; depths as last read` });
        this.#setState(b, expected ? 'stopped' : 'down');
        this.#record('exit', name, `${name} exited (${signal ?? `code ${code}`})${expected ? '' : ' unexpectedly'}`, { code, signal, expected });
        resolve();
      });
    });
    if (this.#router) {
      if (spec.def.kind === 'distributor') this.#router.addDistributor(child);
      else if (spec.distributedPort !== null) this.#router.addTarget(spec.xcf, child, spec.distributedPort);
    }
    await this.#waitHealthy(b, child);
    b.upAt = this.clock.now();
    this.#setState(b, 'up');
    this.#record('up', name, `${name} is up (pid ${child.pid}, health ${spec.healthUrl})`);
  }

  async #waitHealthy(b: Runtime_, child: ChildProcess): Promise<void> {
    const name = b.spec.def.name;
    const deadline = Date.now() + this.topology.startTimeoutMs;
    let exited = false;
    void b.exited?.then(() => (exited = true));
    let last = '';
    while (Date.now() < deadline) {
      if (exited || b.child !== child) {
        const logs = tailLines(b.logPath, 20);
        throw new StackError(StackErrorCode.START_FAILED, `${name} exited while starting (${b.lastExit?.signal ?? `code ${b.lastExit?.code}`}); last lines of ${b.logPath}:\n    ${logs.slice(-8).join('\n    ')}`, {
          details: { box: name, logs },
        });
      }
      try {
        const r = await this.#probe(b, 500);
        if (r.ok) {
          b.healthy = true;
          b.health = r.health;
          return;
        }
        last = r.why;
      } catch (e) {
        last = (e as Error).message;
      }
      await delay(100);
    }
    this.#signal(b, child, 'SIGKILL');
    throw new StackError(StackErrorCode.START_TIMEOUT, `${name} was not healthy within ${this.topology.startTimeoutMs} ms (last: ${last})`, { details: { box: name, logs: tailLines(b.logPath, 20) } });
  }

  async #stopBox(b: Runtime_, signal: NodeJS.Signals): Promise<void> {
    const child = b.child;
    if (!child) return;
    b.expectExit = true;
    this.#setState(b, 'stopping');
    this.#signal(b, child, signal);
    const ok = await this.#waitExit(b, this.#stopGraceMs);
    if (!ok && b.child === child) {
      this.#signal(b, child, 'SIGKILL');
      await this.#waitExit(b, this.#stopGraceMs);
    }
  }

  async #waitExit(b: Runtime_, ms: number): Promise<boolean> {
    if (!b.exited || !b.child) return true;
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const r = await Promise.race([b.exited.then(() => true), t]);
    clearTimeout(timer);
    return r;
  }

  #onMessage(b: Runtime_, m: unknown): void {
    if (typeof m !== 'object' || m === null) return;
    const msg = m as { type?: unknown; event?: unknown; data?: unknown };
    if (msg.type !== 'imsplex:event' || typeof msg.event !== 'string') return;
    const name = b.spec.def.name;
    const data = (msg.data ?? {}) as Record<string, unknown>;
    const target = (port: unknown, xcf: unknown): string => {
      const d = this.topology.distributes.find((x) => x.port === port);
      const t = d ? [...this.#boxes.values()].find((x) => x.spec.def.kind === d.targets && x.spec.xcf === xcf) : undefined;
      return `${String(xcf)}:${String(port)}${t ? ` (${t.spec.def.name})` : ''}`;
    };
    switch (msg.event) {
      case 'connection:routed': {
        const key = `${String(data.port)}/${String(data.xcf)}`;
        this.#routed.set(key, (this.#routed.get(key) ?? 0) + 1);
        break;
      }
      case 'target:down':
      case 'target:up':
        this.#record('distributor', name, `${name}: target ${target(data.port, data.xcf)} ${msg.event === 'target:up' ? 'up' : `down (${String(data.reason)})`}`, data);
        break;
      case 'target:quiesced':
      case 'target:resumed':
        this.#record('distributor', name, `${name}: target ${target(data.port, data.xcf)} ${msg.event.slice(7)}`, data);
        break;
      case 'vipa:acquired':
        this.#vipaOwner = name;
        this.#record('distributor', name, `${name} owns VIPA ${String(data.dvipa)} (${String(data.reason)})`, data);
        break;
      case 'vipa:released':
        if (this.#vipaOwner === name) this.#vipaOwner = null;
        this.#record('distributor', name, `${name} released VIPA ${String(data.dvipa)} (${String(data.reason)})`, data);
        break;
      case 'active:switch':
        this.#record('distributor', name, `${name}: active target for port ${String(data.port)} ${String(data.from)} → ${String(data.to)}`, data);
        break;
      case 'warning':
        this.#record('warning', name, `${name}: ${String(data.code)} ${String(data.message)}`, data);
        break;
    }
  }

  async #pollHealth(): Promise<void> {
    await Promise.all(
      [...this.#boxes.values()]
        .filter((b) => b.state === 'up')
        .map(async (b) => {
          try {
            const r = await this.#probe(b, Math.max(200, this.#healthIntervalMs));
            b.healthy = r.ok;
            b.health = r.health;
          } catch {
            b.healthy = false;
          }
        }),
    );
  }

  /**
   * One health probe: `GET /health` (200 = healthy) for the imsplex boxes; for Redis, AUTH + PING +
   * INFO on its port (PONG = healthy), with a few INFO fields as the health document.
   */
  async #probe(b: Runtime_, timeoutMs: number): Promise<{ ok: boolean; health: unknown; why: string }> {
    if (b.spec.def.kind === 'redis') {
      const [pong, info] = await redisCall(this.#redisEndpoint(b), [['PING'], ['INFO']], { timeoutMs });
      if (pong !== 'PONG') return { ok: false, health: null, why: `PING answered ${formatReply(pong ?? null).join(' ')}` };
      return { ok: true, health: redisHealth(typeof info === 'string' ? parseInfo(info) : {}), why: '' };
    }
    const r = await httpCall(b.spec.healthUrl, { timeoutMs, agent: this.#pollAgent });
    return { ok: r.status === 200, health: safeJson(r.body), why: `HTTP ${r.status} ${r.body.slice(0, 200)}` };
  }

  /**
   * Reads an IMS system's queue depths: input queues from the metrics just fetched, hold queues from
   * `/DIS TPIPE` (sent straight to its admin port: a poll, not an operator command for the timeline).
   */
  async #readQueues(b: Runtime_, metrics: string | null, now: number): Promise<void> {
    const name = b.spec.def.name;
    const prev = this.#queues.get(name);
    let hold: readonly HoldQueueDepth[] | null = null;
    let error: string | null = metrics === null ? 'no metrics' : null;
    try {
      const r = await httpCall(`${b.spec.adminUrl}/command`, { method: 'POST', headers: { authorization: authHeader(b.spec.auth), 'content-type': 'text/plain' }, body: '/DIS TPIPE', timeoutMs: 1000, agent: this.#pollAgent });
      if (r.status === 200) hold = parseTpipeDisplay(r.body.split('\n'), MAX_QUEUE_ROWS);
      else error = `/DIS TPIPE answered HTTP ${r.status}`;
    } catch (e) {
      error = (e as Error).message;
    }
    this.#queues.set(name, {
      ims: name,
      at: error === null ? now : (prev?.at ?? null),
      input: metrics !== null ? parseInputDepths(metrics, MAX_QUEUE_ROWS) : (prev?.input ?? []),
      hold: hold ?? prev?.hold ?? [],
      error,
    });
  }

  async #pollStats(): Promise<void> {
    const now = this.clock.now();
    const dt = this.#lastStatsAt ? Math.max(1, now - this.#lastStatsAt) / 1000 : 0;
    this.#lastStatsAt = now;
    let owner: { vdpt: VdptRow[]; vcrt: ConnectionRow[] } | null = null;
    await Promise.all(
      [...this.#boxes.values()]
        .filter((b) => b.state === 'up')
        .map(async (b) => {
          const count = (total: number): void => {
            b.rps = b.lastRequests !== null && dt > 0 ? Math.max(0, total - b.lastRequests) / dt : 0;
            b.lastRequests = total;
            b.requests = total;
          };
          if (b.spec.def.kind === 'redis') {
            // Requests of a Redis: the commands it processed (IMS queue traffic, lease heartbeats, polls).
            try {
              const [info] = await redisCall(this.#redisEndpoint(b), [['INFO', 'stats']], { timeoutMs: 1000 });
              const n = Number(typeof info === 'string' ? parseInfo(info).total_commands_processed : NaN);
              if (Number.isFinite(n)) count(n);
            } catch {
              // A box that does not answer shows its last figures.
            }
            return;
          }
          let metrics: string | null = null;
          try {
            const m = await httpCall(`${b.spec.adminUrl}/metrics`, { timeoutMs: 1000, agent: this.#pollAgent });
            if (m.status === 200) {
              metrics = m.body;
              count(sumRequestCounters(m.body));
            }
          } catch {
            // A box that does not answer shows its last figures.
          }
          if (b.spec.def.kind === 'ims') await this.#readQueues(b, metrics, now);
          if (b.spec.def.kind !== 'distributor') return;
          try {
            const s = await httpCall(`${b.spec.adminUrl}/stats`, { timeoutMs: 1000, headers: { authorization: authHeader(b.spec.auth) }, agent: this.#pollAgent });
            if (s.status !== 200) return;
            const j = JSON.parse(s.body) as {
              vipas?: Array<{ dvipa: string; owns?: boolean; status?: string }>;
              vdpt?: Array<{ port: number; destXcf: string; activeConn: number; rdy: number; flags?: string[] }>;
              vcrt?: Array<{ dvipa?: string; destIp?: string; port?: number; dport?: number; srcIp?: string; srcPort?: number; destXcf?: string }>;
            };
            const owns = (j.vipas ?? []).some((v) => v.owns === true || v.status === 'Active');
            if (owns) {
              this.#vipaOwner = b.spec.def.name;
              owner = {
                vdpt: j.vdpt ?? [],
                vcrt: (j.vcrt ?? []).slice(0, MAX_CONNECTION_ROWS).map((c) => ({
                  dvipa: c.dvipa ?? c.destIp ?? '',
                  port: c.port ?? c.dport ?? 0,
                  client: c.srcIp ?? '',
                  clientPort: c.srcPort ?? 0,
                  xcf: c.destXcf ?? '',
                  target: null,
                })),
              };
            }
          } catch {
            // Leave the last table in place.
          }
        }),
    );
    if (owner) {
      this.#vdpt = (owner as { vdpt: VdptRow[] }).vdpt;
      this.#connections = (owner as { vcrt: ConnectionRow[] }).vcrt;
    }
    for (const [key, v] of this.#routed) {
      const last = this.#routedLast.get(key);
      this.#routeRps.set(key, last !== undefined && dt > 0 ? (v - last) / dt : 0);
      this.#routedLast.set(key, v);
    }
    this.emit('stats');
  }
}

/** The last `n` lines of a file (reads at most its last 64 KiB); [] when it does not exist. */
export function tailLines(path: string, n: number): string[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const lines = buf.toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    if (len < size) lines.shift(); // first line is partial
    return lines.slice(-n);
  } finally {
    closeSync(fd);
  }
}

/** The health document of a Redis box: a few INFO fields (`pid` is redis-server's own process id). */
function redisHealth(info: Record<string, string>): Record<string, unknown> {
  const num = (k: string): number | null => (info[k] !== undefined && Number.isFinite(Number(info[k])) ? Number(info[k]) : null);
  const keys = Object.entries(info)
    .filter(([k]) => /^db\d+$/.test(k))
    .reduce((n, [, v]) => n + Number(/keys=(\d+)/.exec(v)?.[1] ?? 0), 0);
  return {
    status: 'UP',
    version: info.redis_version ?? null,
    pid: num('process_id'),
    clients: num('connected_clients'),
    usedMemory: info.used_memory_human ?? null,
    aof: info.aof_enabled === '1',
    keys,
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text.slice(0, 500);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Where the stack's main endpoints are, for the console and the dashboard. */
export function endpoints(t: Topology): Array<{ name: string; url: string }> {
  const out: Array<{ name: string; url: string }> = [];
  for (const d of t.distributes) out.push({ name: d.targets === 'zosconnect' ? 'REST (VIPA → z/OS Connect)' : 'IMS Connect (VIPA)', url: d.targets === 'zosconnect' ? `http://${t.vipa}:${d.port}` : `tcp://${t.vipa}:${d.port}` });
  for (const b of t.boxes) {
    if (b.kind === 'redis') out.push({ name: `redis ${b.name} (shared queues)`, url: `redis://${hostAddress(t, b.host)}:${b.port}` });
    else out.push({ name: `${b.kind} ${b.name} admin`, url: `http://${hostAddress(t, b.host)}:${b.adminPort}` });
  }
  return out;
}

/** Boxes of one kind. */
export function boxesOf<K extends BoxKind>(t: Topology, kind: K): Array<Extract<BoxDef, { kind: K }>> {
  return t.boxes.filter((b): b is Extract<BoxDef, { kind: K }> => b.kind === kind);
}
