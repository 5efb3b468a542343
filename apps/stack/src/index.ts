/**
 * @imsplex/stack — the supervisor that composes the full imsplex HA topology (VIPA distributor with
 * backup, z/OS Connect ×3, IMS Connect ×2, IMS ×2) from one topology file, runs every box as its own
 * process, serves a live dashboard and drives kill / restart / quiesce drills.
 * @packageDocumentation
 */
export { StackError, StackErrorCode, TopologyError, formatProblem, type TopologyProblem } from './errors.js';
export {
  DEFAULT_TOPOLOGY,
  DEFAULT_PORTS,
  DIST_METHODS,
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
  type DistMethod,
  type SingleHostMapping,
} from './topology.js';
export { writeConfigs, configPaths, distributorProfile, hwsCfg, imsDefinition, healthUrl, PROFILE_TIMINGS, XCF_GROUP, type ConfigPaths, type WrittenConfigs } from './configs.js';
export { boxSpecs, binPath, binProblem, PACKAGE_OF, type BoxSpec, type Runtime, type AdminAuth } from './boxes.js';
export { Supervisor, endpoints, MAX_TIMELINE, type SupervisorOptions, type BoxStatus, type BoxState, type TimelineEntry, type StackSnapshot, type RouteStatus, type ConnectionRow, type Clock } from './supervisor.js';
export { startDashboard, type Dashboard, type DashboardOptions, type DashboardSource } from './dashboard.js';
export { canBind, unbindableAddresses, aliasCommands } from './hosts.js';
export { httpCall, sumRequestCounters, authHeader } from './http.js';
export { run, buildProgram, loadTopology, formatStatus, type Io } from './cli.js';
