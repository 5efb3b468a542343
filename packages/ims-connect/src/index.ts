/**
 * @imsplex/ims-connect — an IMS Connect emulator that IMS Connect clients cannot tell apart from the
 * real one: HWSSMPL0/HWSSMPL1/HWSJAVA0 framing and translation, socket types, client IDs, commit
 * modes and sync levels, ACK/NAK, RESUME TPIPE, IRM timers, RACF checks, datastores as OTMA links,
 * operator commands, health and metrics.
 * @packageDocumentation
 */
export { VERSION } from './version.js';
export { ImsConnectError, ImsConnectErrorCode, ConfigError, type ConfigSource } from './errors.js';
export {
  DEFAULTS,
  parseAddress,
  resolveOptions,
  type DatastoreOptions,
  type ImsConnectOptions,
  type PortOptions,
  type ReconnectOptions,
  type ResolvedDatastore,
  type ResolvedReconnect,
  type ResolvedOptions,
  type UserRecord,
} from './config/options.js';
export { loadHwsCfg, parseHwsCfg, parseStatements, type CfgStatement, type HwsCfg } from './config/hwscfg.js';
export { SecurityManager, hashPassword, loadUsersFile, parseUsersFile, verifyPassword, type SecurityResult } from './security.js';
export { socketHealth, type HealthReport } from './health.js';
export { ImsConnectMetrics } from './metrics.js';
export { executeCommand, formatView, parseCommand, type ClientView, type CommandTarget, type OperatorCommand, type ServerView } from './commands.js';
export { CoarseClock, FrameWriter, realTimers, type Timers } from './io.js';
export { ClientRegistry, type RegisteredClient } from './registry.js';
export { Session, translationTables, type DecodeResult, type ReplyFraming, type SessionAction, type SessionContext, type SessionEvent } from './session.js';
/** HWSJAVA0 (`*HWSJAV*`, IMS TM Resource Adapter): OTMA-header requests and replies. */
export {
  HWSJAV_PING_FLAGS,
  HWSJAV_PING_REASON,
  HWSJAV_PING_TEXT,
  HwsjavReturnCode,
  PingFlag,
  encodeHwsjavReply,
  hwsjavMessageType,
  hwsjavReplyOf,
  hwsjavRequestFields,
  omusrReasonName,
  type HwsjavReply,
  type HwsjavReplyContext,
  type HwsjavRequestFields,
} from './hwsjav.js';
/** The CSM/RSM X'80' hook: the hold-queue depth signal IMS Connect reads from IMS's OTMA state data. */
export { HOLD_QUEUE_DEPTH_REST_OFFSET, readHoldQueueDepth } from './otma-adapter.js';
export type { SessionRequest } from './request.js';
export { decodeInput } from './input.js';
export type { DatastoreStatus, ImsEvent, ImsInput, ImsOp, NakOptions, ResumeOption } from './datastore-types.js';
export { OtmaDatastoreLink, type DatastoreExchange, type DatastoreLink, type OtmaLinkOptions } from './datastore.js';
/** OTMA link write coalescing: the frames of one event-loop turn in one write (README "OTMA link writes"). */
export { LINK_STAGING_BYTES, LinkWriter, type FlushScheduler } from './link-writer.js';
export { Connection, CONNECTION_READ_BUFFER, type ConnectionHost, type ConnectionOptions } from './connection.js';
export { ImsConnectServer, type ServerDeps } from './server.js';
/** The distributor's handoff data plane, target side: serve connections the VIPA distributor passes over IPC. */
export { acceptImsConnectHandoffs, type ImsConnectHandoffOptions } from './handoff.js';
export { startAdmin } from './admin.js';
