/**
 * @imsplex/ims — the IMS transaction engine behind OTMA: an IMS system with transaction definitions,
 * message queues and regions, an IMS-shaped program API, sample programs, hold queues per tpipe,
 * type-1 commands, a journal, and the OTMA member on an "XCF" link (OTMA-LINK.md).
 * @packageDocumentation
 */
/** Package version of @imsplex/ims. */
export const VERSION = '0.1.0';

export { ImsError, ImsErrorCode, ImsConfigError } from './errors.js';
export { type Clock, type TimerHandle, systemClock, ManualClock, sleep, TimeoutQueue, TimeoutQueues } from './clock.js';
export {
  parseSystemConfig,
  DEFAULT_SYSTEM_DEFINITION,
  SAMPLE_PROGRAMS,
  type SystemConfig,
  type TransactionDef,
  type ProgramDef,
  type RegionDef,
  type RacfRule,
  type OtmaDef,
  type SharedQueuesDef,
  checkRedisUrl,
} from './config.js';
export {
  type MessageOrigin,
  type OtmaOrigin,
  type LtermOrigin,
  type InputMessage,
  type OutputMessage,
  holdKey,
  ltermKey,
  parseHoldKey,
} from './messages.js';
export { Journal, type JournalOptions, type JournalReplay, MAX_RECORD_BYTES } from './journal.js';
export type { QueueStore, StoreOp, RecoveryReport } from './queues/store.js';
export { JournaledQueueStore, type JournaledQueueStoreOptions } from './queues/journaled.js';
/** Shared queues on Redis (`SHAREDQ` in the system definition): one queue store for a group of IMS systems. */
export {
  RedisQueueStore,
  SharedQueueError,
  SharedQueueFencedError,
  SharedQueueErrorCode,
  type RedisQueueStoreOptions,
  type SharedQueueMember,
  encodeSharedInput,
  decodeSharedInput,
  encodeSharedOutput,
  decodeSharedOutput,
  parseRedisUrl,
} from './queues/redis.js';
export { Scheduler, type Assignment, type RegionState } from './scheduler.js';
export {
  DliStatus,
  type DliResult,
  type IoPcb,
  type AltPcb,
  type KeyedDb,
  type ProgramContext,
  type Program,
  AbendError,
  userAbendCode,
  UOW_LIMITS,
} from './program.js';
export { SAMPLES, IVP_LAYOUT, IVP_INITIAL_RECORDS, IVP_DB, IVP_CONV_DB } from './programs/samples.js';
export {
  TransactionManager,
  EngineSense,
  silentLogger,
  type Logger,
  type Cm1Channel,
  type ReplyMessage,
  type ReplyOutcome,
  type SubmitInput,
  type SubmitResult,
  type SubmitRejection,
  type TranStatus,
  type TranStats,
  type TransactionManagerOptions,
} from './engine.js';
export { dfs064, dfs065, dfs2082, dfs555i } from './dfs.js';
export { OtmaMember, MemberSense, type LinkPort, type LinkFlow } from './otma/member.js';
export { LinkServer, type LinkServerOptions } from './otma/server.js';
export { OtmaLinkClient, type OtmaLinkClientOptions, type SendTransactionOptions } from './otma/client.js';
export * as otmaAdapter from './otma/codec-adapter.js';
export { CommandProcessor } from './commands.js';
export { AdminServer, type AdminServerOptions } from './admin.js';
export { ImsMetrics } from './metrics.js';
export { ImsSystem, loadPrograms, type ImsSystemOptions, type Endpoint } from './ims-system.js';
export { startTestImsSystem, type TestImsSystem, type TestImsSystemOptions } from './testing.js';
