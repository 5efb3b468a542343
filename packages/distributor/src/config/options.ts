/**
 * The programmatic options object, resolved once at construction (defaults applied, validated,
 * frozen) so the rest of the code never re-checks.
 */
import { DistributorError, DistributorErrorCode } from '../errors.js';
import type { HandoffSink } from '../dataplane/handoff.js';
import type { Clock } from '../pick.js';
import { systemClock } from '../pick.js';
import { isLoopback, parseProfile } from './profile.js';
import type { PeerSettings, ProfileConfig, VipaBackup, VipaDefine } from './types.js';

/** Minimal structured logger (pino-compatible). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Admin endpoint settings. */
export interface AdminOptions {
  readonly host: string;
  /** 0 = any free port. */
  readonly port: number;
  /** Basic-auth user and password for /command and /stats; without a password those answer 403. */
  readonly user?: string;
  readonly password?: string;
}

/** Options of {@link Distributor}. */
export interface DistributorOptions {
  /** TCP/IP profile text (VIPADYNAMIC and optional IMSPLEX blocks) or an already parsed profile. */
  readonly config: string | ProfileConfig;
  /** Name of the profile in error messages (e.g. its file path). */
  readonly configName?: string;
  /** This stack's system name (default: STACK statement, else SYS1 — SYS2 for role backup). */
  readonly stackName?: string;
  /** This stack's XCF address (default: STACK statement, else the SYSTEM map entry of stackName). */
  readonly xcf?: string;
  /**
   * primary: every VIPABACKUP of the profile acts as a VIPADEFINE. backup: every VIPADEFINE acts as a
   * plain VIPABACKUP of rank `rank`. Lets one profile serve the owner and its backups.
   */
  readonly role?: 'primary' | 'backup';
  /** Backup rank used with role backup (1–254, default 100). */
  readonly rank?: number;
  /** Overrides the profile's DATAPLANE. */
  readonly dataPlane?: 'proxy' | 'handoff';
  /** Where handed-off sockets go (default: the parent process over IPC). */
  readonly handoffSink?: HandoffSink;
  /** Overrides this stack's heartbeat port (0 = any free port). */
  readonly heartbeatPort?: number;
  readonly admin?: AdminOptions;
  readonly clock?: Clock;
  /** Seed of the tie-breaking random source (default 1). */
  readonly seed?: number;
  readonly logger?: Logger;
  /** Upper bound on `close()` waiting for connections to end before destroying them (default 10 000 ms). */
  readonly closeTimeoutMs?: number;
}

/** Options after validation. */
export interface ResolvedOptions {
  readonly config: ProfileConfig;
  readonly stackName: string;
  readonly xcf: string;
  readonly dataPlane: 'proxy' | 'handoff';
  readonly handoffSink: HandoffSink | null;
  readonly heartbeatPort: number | null;
  readonly peers: readonly PeerSettings[];
  readonly admin: AdminOptions | null;
  readonly clock: Clock;
  readonly seed: number;
  readonly logger: Logger;
  readonly closeTimeoutMs: number;
}

const bad = (message: string): never => {
  throw new DistributorError(DistributorErrorCode.BAD_OPTION, message);
};

/** Applies defaults and validates; throws `SD_ERR_BAD_OPTION` or `SD_ERR_CONFIG`. */
export function resolveOptions(o: DistributorOptions): ResolvedOptions {
  if (typeof o !== 'object' || o === null) bad('options must be an object');
  let config = typeof o.config === 'string' ? parseProfile(o.config, o.configName ?? 'PROFILE') : o.config;
  if (!config || typeof config !== 'object' || !Array.isArray(config.distributes)) bad('config must be profile text or a parsed ProfileConfig');
  const rank = o.rank ?? 100;
  if (!Number.isInteger(rank) || rank < 1 || rank > 254) bad(`rank must be an integer from 1 to 254, got ${rank}`);
  if (o.role !== undefined && o.role !== 'primary' && o.role !== 'backup') bad(`role must be "primary" or "backup", got ${String(o.role)}`);
  if (o.role === 'backup' && config.defines.length > 0) {
    const backups: VipaBackup[] = [...config.backups, ...config.defines.map((d) => ({ address: d.address, rank, moveable: null, mask: null, line: d.line }))];
    config = { ...config, defines: [], backups };
  } else if (o.role === 'primary' && config.backups.length > 0) {
    const defines: VipaDefine[] = [...config.defines, ...config.backups.map((b) => ({ address: b.address, mask: b.mask ?? '255.255.255.255', moveable: b.moveable ?? 'IMMEDIATE', serviceMgr: false, line: b.line }))];
    config = { ...config, defines, backups: [] };
  }
  const emu = config.emulator;
  const stackName = (o.stackName ?? emu.stackName ?? (o.role === 'backup' ? 'SYS2' : 'SYS1')).toUpperCase();
  const xcf = o.xcf ?? (o.stackName === undefined ? emu.stackXcf : null) ?? emu.systems[stackName] ?? bad(`the XCF address of stack ${stackName} is not known: add STACK ${stackName} address to the IMSPLEX block or pass xcf`);
  if (!isLoopback(xcf)) bad(`xcf must be a loopback address, got ${xcf}`);
  const dataPlane = o.dataPlane ?? (emu.dataPlane === 'HANDOFF' ? 'handoff' : 'proxy');
  if (dataPlane !== 'proxy' && dataPlane !== 'handoff') bad(`dataPlane must be "proxy" or "handoff", got ${String(dataPlane)}`);
  const own = emu.peers.find((p) => p.xcf === xcf);
  const heartbeatPort = o.heartbeatPort ?? own?.port ?? emu.heartbeatPort;
  if (heartbeatPort !== null && (!Number.isInteger(heartbeatPort) || heartbeatPort < 0 || heartbeatPort > 65535)) bad(`heartbeatPort must be a port number, got ${heartbeatPort}`);
  const peers = emu.peers.filter((p) => p.xcf !== xcf);
  if (o.admin) {
    if (!isLoopback(o.admin.host)) bad(`admin host must be a loopback address, got ${o.admin.host}`);
    if (!Number.isInteger(o.admin.port) || o.admin.port < 0 || o.admin.port > 65535) bad(`admin port must be a port number, got ${o.admin.port}`);
  }
  const closeTimeoutMs = o.closeTimeoutMs ?? 10_000;
  if (!Number.isFinite(closeTimeoutMs) || closeTimeoutMs < 0) bad('closeTimeoutMs must be a non-negative number');
  return Object.freeze({
    config,
    stackName,
    xcf,
    dataPlane,
    handoffSink: o.handoffSink ?? null,
    heartbeatPort,
    peers,
    admin: o.admin ?? null,
    clock: o.clock ?? systemClock,
    seed: o.seed ?? 1,
    logger: o.logger ?? silentLogger,
    closeTimeoutMs,
  });
}
