/**
 * @imsplex/client — an IMS Connect client for Node.js: every interaction (send-receive, send-only,
 * RESUME TPIPE, ACK/NAK, conversations, PING), connection pools, TLS, timeouts, failover across
 * endpoints and in-doubt reporting. It speaks the HWSSMPL0/HWSSMPL1 protocol through
 * `@imsplex/codec` and works against IBM IMS Connect as well as the imsplex emulator.
 * @packageDocumentation
 */
export { ImsConnectClient, ImsConversation, createClient } from './client.js';
export type { AckDecision, CallOptions, ClientOptions, ImsMessage, ImsResponse, ResumeTpipeRequest, SendOnlyMode, SendOnlyRequest, SendReceiveRequest, TpipeMessage } from './client.js';
export { ImsConnection } from './connection.js';
export type { AfterAck, ImsOutput, PendingKind } from './connection.js';
export { ClientErrorCode, ImsClientError, ImsConnectRsmError, ImsInDoubtError, rsmReasonName } from './errors.js';
export type { InDoubtFacts, RsmFacts } from './errors.js';
export { resolveConnection, resolveInteraction } from './options.js';
export type { CommitMode, ConnectionOptions, InteractionOptions, IrmTimerSetting, ResolvedConnection, ResolvedInteraction, SocketType, SyncLevel } from './options.js';
export type { PoolStats } from './pool.js';
export { backoffDelay, resolveBackoff } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export type { Connector, Endpoint } from './transport.js';
export { defaultTimers, defaultClock } from './timers.js';
export type { Clock, Timers } from './timers.js';
export { ChannelName } from './diagnostics.js';
export type { NakOptions, Payload, ResumeMode } from './wire.js';

/** Package version of @imsplex/client. */
export const VERSION = '0.1.0';
