/**
 * @imsplex/zos-connect — a z/OS Connect server emulator: IMS transactions as REST APIs.
 *
 * ```ts
 * const server = createZosConnectServer({ config: 'samples/config', host: '127.0.1.1', port: 5595 });
 * await server.start();
 * // GET http://127.0.1.1:5595/phonebook/LAST1 → IMS transaction IVTNO through IMS Connect
 * await server.stop();
 * ```
 * @packageDocumentation
 */
export { createZosConnectServer, ZosConnectServer } from './server.js';
export type { ListeningInfo, RequestLogMode, ServerState, ZosConnectServerOptions } from './server.js';
export { loadConfig } from './config/loader.js';
export type * from './config/model.js';
export { ZosConnectError, ZosConnectErrorCode, ConfigError, formatProblem } from './errors.js';
export type { ConfigProblem } from './errors.js';
export { HTTP_STATUS, httpStatusOf, isKnownCode, rsmKey } from './status.js';
export type { KnownCode, StatusPair } from './status.js';
export { resolveError, htmlEscape } from './error-body.js';
export type { ErrorBody, ErrorDetails, ResolvedError } from './error-body.js';
export { computeHealth, HEALTH_BACKEND_FAILING, HEALTH_KNEE_PERCENT } from './health.js';
export type { HealthReport, HealthInputs } from './health.js';
export { ZosConnectMetrics } from './metrics.js';
export { ImsBackend } from './backend.js';
export type { BackendOptions, ConversationStep, InvokeResult } from './backend.js';
export { encodeRequest, decodeResponse, dfsError } from './mapping.js';
export { passwordMatches, authorize } from './auth.js';
export { parseXml, XmlSyntaxError } from './config/xml.js';
export type { XmlElement, XmlAttribute } from './config/xml.js';
export { parseLocatedJson, JsonSyntaxError } from './config/json.js';
export { parseDuration } from './config/values.js';
export { acceptHandoffs } from './handoff.js';
export { HttpFront, HttpFrontError, HttpFrontErrorCode, installHttpFront, parseHead, httpDate, FRONT_MAX_PIPELINE, FRONT_MAX_HEADER_FIELDS } from './front.js';
export type { FastRequest, FastSink, FrontHost, FrontHead, HeadLimits, HttpFrontOptions, HttpFrontStats } from './front.js';

/** Package version of @imsplex/zos-connect. */
export const VERSION = '0.1.0';
