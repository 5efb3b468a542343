/**
 * @imsplex/distributor — Sysplex Distributor and dynamic VIPA on loopback hosts.
 *
 * A distributing stack owns a dynamic VIPA (e.g. 127.0.0.100), listens on each distributed port,
 * and gives every new connection to one target chosen by the configured method (BASEWLM,
 * SERVERWLM, ROUNDROBIN, WEIGHTEDACTIVE, HOTSTANDBY), preferring the client's own host with
 * OPTLOCAL, honouring TIMEDAFFINITY and QUIESCE, and steering by target health. A backup stack
 * takes the VIPA over when the owner dies and gives it back (MOVEABLE IMMEDIATE / WHENIDLE).
 *
 * @example
 * ```ts
 * import { Distributor } from '@imsplex/distributor';
 * const d = Distributor.fromProfile(profileText, { stackName: 'SYS1' });
 * d.on('target:down', (e) => console.log('down', e));
 * await d.start();
 * console.log(d.command('NETSTAT VDPT').lines.join('\n'));
 * await d.close();
 * ```
 */

/** Package version of @imsplex/distributor. */
export const VERSION = '0.1.0';

// Lifecycle and composition.
export { Distributor, MAX_AFFINITIES_PER_PORT, type DistributorEvents, type DistributorStats } from './distributor.js';
export { resolveOptions, silentLogger, type AdminOptions, type DistributorOptions, type Logger, type ResolvedOptions } from './config/options.js';

// Configuration (IBM TCP/IP profile syntax + the imsplex IMSPLEX block).
export { parseProfile, isIpv4, isLoopback, prefixLength, DEFAULT_EMULATOR, DEFAULT_SYSTEMS, WEIGHTEDACTIVE_DEFAULT_WEIGHT, HOTSTANDBY_MAX_BACKUPS } from './config/profile.js';
export type * from './config/types.js';

// Pure core: tables, choice, health.
export {
  buildTables,
  updateTarget,
  isAvailable,
  destKey,
  targetKey,
  affinityLive,
  affinityRouted,
  affinityClosed,
  DEFAULT_WLM_WEIGHT,
  type PortTable,
  type TargetState,
  type Cursor,
  type Affinity,
  type ConnectionEntry,
} from './table.js';
export { pick, pickFor, commitPick, releaseConnection, seededRng, systemClock, type Clock, type PickResult, type PickReason } from './pick.js';
export { METHODS, hotStandbyActive, hotStandbyUsable, type DistributionMethod, type MethodChoice, type MethodContext } from './methods/index.js';
export {
  parseHealthReport,
  imsConnectHealth,
  computeWeights,
  computeTsr,
  rawWeight,
  isUnhealthy,
  isLocalHealthy,
  EMPTY_SAMPLE,
  OPTLOCAL_MIN_TSR,
  OPTLOCAL_MIN_HEALTH,
  OPTLOCAL_MAX_ABNORM,
  type HealthReport,
  type TargetWeight,
  type TsrSample,
  type TsrResult,
} from './health.js';

// Ownership (VIPABACKUP takeover / takeback).
export { decideOwnership, isEligible, Heartbeat, DEFINE_PRIORITY, type OwnershipSelf, type PeerView, type OwnershipAction, type HeartbeatOptions } from './backup.js';

// Data planes.
// Proxy: `splice` joins two sockets through the native C I/O thread (Linux, where built), Node's
// direct read path, or streams; `loadNativeSplice` tells whether the addon is available and why not.
export { splice, connectTarget, preferredSpliceMode, SPLICE_MODES, SPLICE_READ_BUFFER, type SpliceResult, type SpliceOptions, type SpliceMode } from './dataplane/proxy.js';
export { loadNativeSplice, nativeSplicePath, type NativeSplice, type NativeSpliceLoad, type NativeSpliceStats } from './dataplane/native.js';
export {
  acceptHandoffs,
  parentProcessSink,
  childProcessSink,
  HandoffRouter,
  isHandoffMessage,
  isHandoffReport,
  type HandoffMessage,
  type HandoffReport,
  type HandoffSink,
  type AcceptHandoffsOptions,
} from './dataplane/handoff.js';

// Health probes.
export { probeTcp, probeHttp, HealthProbePool, parseHealthResponse, MAX_HEALTH_BODY, MAX_HEALTH_HEAD, type ProbeOutcome } from './prober.js';

// Operator surface.
export { parseCommand, executeCommand, abbrev, type Command, type CommandHost, type CommandResult, type TargetSelector } from './commands.js';
export { renderVdpt, renderVcrt, renderVipadcfg, renderVipadyn, header, type DisplaySource, type VdptEntry, type VcrtEntry, type VipaDynEntry, type AffinityEntry, type ReportFilter } from './displays.js';
export { startAdmin, createMetrics, MAX_COMMAND_BODY, type AdminServer } from './admin.js';

// Errors.
export { DistributorError, DistributorErrorCode, ConfigError, formatProblem, type ConfigProblem } from './errors.js';
