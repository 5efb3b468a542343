/**
 * One IMS system: configuration → queue store (journaled in the data directory) → transaction manager
 * → OTMA member on its XCF link port → admin port. `ImsSystem.start()` brings it up; `stop()` takes it
 * down (links first, then regions, then the journal).
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AdminServer } from './admin.js';
import { type Clock, systemClock } from './clock.js';
import { CommandProcessor } from './commands.js';
import { DEFAULT_SYSTEM_DEFINITION, parseSystemConfig, type SystemConfig } from './config.js';
import { type Logger, silentLogger, TransactionManager } from './engine.js';
import { ImsError, ImsErrorCode } from './errors.js';
import { ImsMetrics } from './metrics.js';
import { LinkServer } from './otma/server.js';
import { OtmaMember } from './otma/member.js';
import type { Program } from './program.js';
import { SAMPLES } from './programs/samples.js';
import type { QueueStore } from './queues/store.js';
import { JournaledQueueStore } from './queues/journaled.js';
import { RedisQueueStore } from './queues/redis.js';

export interface ImsSystemOptions {
  /** A parsed definition, or `text`/`file` to parse. Default: the built-in sample system. */
  readonly config?: SystemConfig;
  /** System definition text (parsed with `file` as its name). */
  readonly configText?: string;
  /** Path of the system definition file. */
  readonly configFile?: string;
  /** Data directory for the journal; omit for a memory-only system (nothing survives a restart). */
  readonly dataDir?: string;
  /** Override the store (e.g. a shared-queue implementation). */
  readonly store?: QueueStore;
  /**
   * Override the Redis URL of the definition's `SHAREDQ` statement (e.g. a test's Redis). Ignored
   * without `SHAREDQ` or with `store`.
   */
  readonly sharedQueuesUrl?: string;
  /** Override the XCF link port / admin port (e.g. 0 in tests). */
  readonly linkPort?: number;
  readonly linkHost?: string;
  readonly adminPort?: number;
  /** Start the admin port even when the definition has no ADMIN statement. */
  readonly admin?: boolean;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Extra programs by PSB name (override the definition's IMPL/MODULE). */
  readonly programs?: ReadonlyMap<string, Program>;
  /** Collect Node process metrics in the registry too. */
  readonly defaultMetrics?: boolean;
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** Load the programs the definition names (samples by IMPL=, modules by MODULE=). */
export async function loadPrograms(config: SystemConfig, extra?: ReadonlyMap<string, Program>): Promise<Map<string, Program>> {
  const out = new Map<string, Program>();
  const base = config.file.startsWith('<') ? process.cwd() : dirname(resolve(config.file));
  for (const p of config.programs.values()) {
    const given = extra?.get(p.psb);
    if (given) {
      out.set(p.psb, given);
      continue;
    }
    if (p.impl) {
      const s = SAMPLES[p.impl];
      if (!s) throw new ImsError(ImsErrorCode.PROGRAM_LOAD, `${config.file}:${p.line}: IMPL: unknown sample ${p.impl}`);
      out.set(p.psb, s);
      continue;
    }
    const path = isAbsolute(p.module!) ? p.module! : resolve(base, p.module!);
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
    } catch (e) {
      throw new ImsError(ImsErrorCode.PROGRAM_LOAD, `${config.file}:${p.line}: MODULE: cannot load ${path}: ${(e as Error).message}`, { cause: e });
    }
    if (typeof mod.default !== 'function') throw new ImsError(ImsErrorCode.PROGRAM_LOAD, `${config.file}:${p.line}: MODULE: ${path} has no default-exported program function`);
    out.set(p.psb, mod.default as Program);
  }
  for (const [psb, prog] of extra ?? []) if (!out.has(psb)) out.set(psb, prog);
  return out;
}

export class ImsSystem {
  readonly engine: TransactionManager;
  readonly member: OtmaMember;
  readonly commands: CommandProcessor;
  readonly metrics: ImsMetrics;
  private readonly link: LinkServer;
  private readonly adminServer: AdminServer | undefined;
  private linkEndpoint: Endpoint | undefined;
  private adminEndpoint: Endpoint | undefined;
  private stopped = false;
  private detachShared: (() => void) | undefined;

  private constructor(
    readonly config: SystemConfig,
    engine: TransactionManager,
    private readonly logger: Logger,
    options: ImsSystemOptions,
    clock: Clock,
  ) {
    this.engine = engine;
    this.member = new OtmaMember(engine, { clock, logger });
    this.commands = new CommandProcessor(engine, this.member);
    this.member.commandHandler = (text) => this.commands.run(text);
    this.metrics = new ImsMetrics(engine, this.member, { defaultMetrics: options.defaultMetrics });
    this.link = new LinkServer(this.member, {
      host: options.linkHost ?? config.otma.host,
      port: options.linkPort ?? config.otma.port,
      maxLinks: config.otma.maxLinks,
      codePage: engine.codePage,
      logger,
    });
    const wantAdmin = options.admin || options.adminPort !== undefined || config.admin !== undefined;
    this.adminServer = wantAdmin
      ? new AdminServer(
          engine,
          this.commands,
          this.metrics,
          { host: config.admin?.host ?? '127.0.0.1', port: options.adminPort ?? config.admin?.port ?? 0, token: config.admin?.token },
          () => ({ imsId: config.imsId, xcfGroup: config.otma.group, member: config.otma.member, link: this.linkEndpoint, links: this.member.linkCount }),
        )
      : undefined;
  }

  /** Parse, recover, and open the link (and admin) ports. */
  static async start(options: ImsSystemOptions = {}): Promise<ImsSystem> {
    const logger = options.logger ?? silentLogger;
    const clock = options.clock ?? systemClock;
    let config = options.config;
    if (!config) {
      if (options.configText !== undefined) config = parseSystemConfig(options.configText, options.configFile ?? '<config>');
      else if (options.configFile) config = parseSystemConfig(await readFile(options.configFile, 'utf8'), options.configFile);
      else config = parseSystemConfig(DEFAULT_SYSTEM_DEFINITION, '<default>');
    }
    const programs = await loadPrograms(config, options.programs);
    const store = options.store ?? createStore(config, options, clock, logger);
    const engine = new TransactionManager({ config, store, programs, clock, logger });
    const sys = new ImsSystem(config, engine, logger, options, clock);
    if (store instanceof RedisQueueStore) sys.detachShared = followSharedQueues(engine, store);
    try {
      await engine.start();
    } catch (e) {
      sys.detachShared?.();
      throw e;
    }
    try {
      const a = await sys.link.listen();
      sys.linkEndpoint = { host: a.address, port: a.port };
      if (sys.adminServer) {
        const b = await sys.adminServer.listen();
        sys.adminEndpoint = { host: b.address, port: b.port };
      }
    } catch (e) {
      await sys.stop();
      throw e;
    }
    logger.info({ imsId: config.imsId, link: sys.linkEndpoint, admin: sys.adminEndpoint }, 'IMS system ready');
    return sys;
  }

  /** Where IMS Connect connects (the XCF link). */
  get linkAddress(): Endpoint {
    if (!this.linkEndpoint) throw new ImsError(ImsErrorCode.NOT_ACTIVE, 'link not listening');
    return this.linkEndpoint;
  }

  /** The admin port, when started. */
  get adminAddress(): Endpoint | undefined {
    return this.adminEndpoint;
  }

  /** Run a type-1 command. */
  command(text: string): Promise<string[]> {
    return this.commands.run(text);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.link.close();
    await this.adminServer?.close();
    this.detachShared?.();
    await this.engine.stop();
    this.logger.info({ imsId: this.config.imsId }, 'IMS system stopped');
  }
}

/** The store the definition asks for: shared queues on Redis (`SHAREDQ`), else the embedded journal. */
function createStore(config: SystemConfig, options: ImsSystemOptions, clock: Clock, logger: Logger): QueueStore {
  const sq = config.sharedQueues;
  if (!sq) return new JournaledQueueStore({ dir: options.dataDir, fsync: config.journalFsync, checkpointBytes: config.checkpointBytes });
  if (options.dataDir) logger.warn({ group: sq.group }, 'SHAREDQ is set: queues and databases live in Redis; the data directory is not used');
  return new RedisQueueStore({ url: options.sharedQueuesUrl ?? sq.url, group: sq.group, imsId: config.imsId, leaseMs: sq.leaseMs, clock, logger });
}

/**
 * [INF] "Local first", as IMS shared queues do it: the IMS that receives a message processes it when it
 * can schedule it at once; the others see it on the shared queue only this much later, by which time
 * the front end has usually claimed it. A busy front end just leaves it to them 2 ms later.
 */
export const LOCAL_FIRST_MS = 2;

/**
 * Keep the engine's scheduler in step with the shared queues. The engine counts the messages it queues
 * itself; messages queued, claimed or recovered by the other IMS systems of the group reach it only
 * through the store. After each burst of queue changes (coalesced into one pass `LOCAL_FIRST_MS` later,
 * so the engine's own count for a message it just queued, and its claim, land first) every changed
 * transaction's scheduler count is set to the shared depth, and the engine schedules.
 *
 * [INF] The engine has no public "schedule now" call; `pump` is reached by name. The minimal engine
 * change that would replace this: the engine subscribing to `store.onInput` itself.
 */
function followSharedQueues(engine: TransactionManager, store: RedisQueueStore): () => void {
  let active = true;
  let scheduled = false;
  const dirty = new Set<string>();
  const pumpFn = (engine as unknown as { pump?: () => void }).pump;
  if (typeof pumpFn !== 'function') throw new ImsError(ImsErrorCode.NOT_ACTIVE, 'shared queues need TransactionManager.pump (the engine changed; see followSharedQueues)');
  const pump = pumpFn.bind(engine);
  const flush = () => {
    scheduled = false;
    if (!active) return;
    for (const tran of dirty) {
      if (!engine.config.transactions.has(tran)) continue;
      const want = store.inputDepth(tran);
      const have = engine.scheduler.queued(tran);
      if (want > have) engine.scheduler.enqueued(tran, want - have);
      else if (want < have) engine.scheduler.dequeued(tran, have - want);
    }
    dirty.clear();
    pump();
  };
  store.onQueueChange((tran) => {
    dirty.add(tran);
    if (!scheduled) {
      scheduled = true;
      engine.clock.setTimer(LOCAL_FIRST_MS, flush);
    }
  });
  return () => {
    active = false;
  };
}
