/**
 * @imsplex/stack — the supervisor that composes the full imsplex HA topology (VIPA distributor with
 * backup, z/OS Connect ×3, IMS Connect ×2, IMS ×2, optionally shared message queues on a supervised
 * redis-server) from one topology file, runs every box as its own process, serves a live dashboard
 * (queue depths included) and drives kill / restart / quiesce drills.
 * @packageDocumentation
 */
export { StackError, StackErrorCode, TopologyError, formatProblem, type TopologyProblem } from './errors.js';
export {
  DEFAULT_TOPOLOGY,
  DEFAULT_PORTS,
  DIST_METHODS,
  REDIS_FSYNC,
  SHAREDQ_DEFAULTS,
  parseTopology,
  toSingleHost,
  hostAddress,
  xcfOf,
  isLoopbackAddress,
  boxBinds,
  type Topology,
  type BoxDef,
  type BoxKind,
  type HostDef,
  type DistributeDef,
  type DistributorDef,
  type ImsDef,
  type ImsConnectDef,
  type ZosConnectDef,
  type RedisDef,
  type RedisFsync,
  type SharedQueuesDef,
  type DistMethod,
  type SingleHostMapping,
} from './topology.js';
export {
  writeConfigs,
  configPaths,
  distributorProfile,
  hwsCfg,
  imsDefinition,
  redisConf,
  sharedQueuesUrl,
  redactRedisUrl,
  redisBoxOf,
  healthUrl,
  PROFILE_TIMINGS,
  XCF_GROUP,
  type ConfigPaths,
  type WrittenConfigs,
} from './configs.js';
export { boxSpecs, binPath, binProblem, redisServerProblem, PACKAGE_OF, type BoxSpec, type Runtime, type AdminAuth, type HttpAuth } from './boxes.js';
export {
  Supervisor,
  endpoints,
  MAX_TIMELINE,
  type SupervisorOptions,
  type BoxStatus,
  type BoxState,
  type TimelineEntry,
  type StackSnapshot,
  type RouteStatus,
  type ConnectionRow,
  type ImsQueues,
  type SharedQueuesStatus,
  type Clock,
} from './supervisor.js';
export { parseInputDepths, parseTpipeDisplay, MAX_QUEUE_ROWS, type InputQueueDepth, type HoldQueueDepth } from './queue-depths.js';
export {
  redisCall,
  redisEndpointOf,
  encodeCommand,
  RespReader,
  RespErrorReply,
  formatReply,
  parseInfo,
  splitCommandLine,
  STREAMING_COMMANDS,
  type RespValue,
  type RedisEndpoint,
  type RedisCallOptions,
} from './resp.js';
export { startDashboard, type Dashboard, type DashboardOptions, type DashboardSource } from './dashboard.js';
export { canBind, unbindableAddresses, aliasCommands } from './hosts.js';
export { httpCall, sumRequestCounters, authHeader } from './http.js';
export { run, buildProgram, loadTopology, formatStatus, type Io } from './cli.js';
