/**
 * ONE table from every code an invocation can fail with to an HTTP status, in both error profiles
 * (spec §5.3): every `ClientErrorCode`, every IMS Connect RSM return code (`RSM_RC_*`), every RSM
 * reason code (`RSM_RSN_*`), and every code of this package. The table is typed
 * `Record<KnownCode, …>`, so adding a code to `@imsplex/client`, `@imsplex/codec` or this package
 * does not compile until it has a status here (tRPC's getHTTPStatusCode pattern).
 *
 * Profile `ibm` is what z/OS Connect answers (IBM declined meaningful statuses for backend
 * failures, idea ZCEE-I-309: IMS-side failures are 500; timeouts 503). Profile `semantic` tells the
 * caller what happened: 502 bad gateway behaviour, 503 unavailable, 504 timed out, 401/403 security.
 */
import { ClientErrorCode } from '@imsplex/client';
import { RETURN_CODES, REASON_CODES, type ReasonCodeKey, type ReturnCodeName } from '@imsplex/codec';
import { type ZosConnectErrorCode } from './errors.js';
import { type ErrorProfile } from './config/model.js';

/** A code with an HTTP status. */
export type KnownCode = ClientErrorCode | ZosConnectErrorCode | `RSM_RC_${ReturnCodeName}` | `RSM_RSN_${ReasonCodeKey}`;

/** HTTP status per profile. */
export interface StatusPair {
  readonly ibm: number;
  readonly semantic: number;
}

const s = (ibm: number, semantic: number): StatusPair => Object.freeze({ ibm, semantic });

/** The mapping table. */
export const HTTP_STATUS: Readonly<Record<KnownCode, StatusPair>> = Object.freeze({
  // ---- this package
  ZCON_ERR_CONFIG: s(500, 500),
  ZCON_ERR_BAD_REQUEST: s(400, 400),
  ZCON_ERR_BAD_PARAMETER: s(400, 400),
  ZCON_ERR_NOT_FOUND: s(404, 404),
  ZCON_ERR_METHOD_NOT_ALLOWED: s(405, 405),
  ZCON_ERR_PAYLOAD_TOO_LARGE: s(413, 413),
  ZCON_ERR_UNSUPPORTED_MEDIA_TYPE: s(415, 415),
  ZCON_ERR_STOPPED: s(503, 503), // spec §5.3 [R]: a stopped service or API answers 503.
  ZCON_ERR_CONFLICT: s(409, 409),
  ZCON_ERR_UNAVAILABLE: s(503, 503),
  ZCON_ERR_TIMEOUT: s(503, 504), // IBM: 503 + BAQR0433W (APAR PH65523).
  ZCON_ERR_UNAUTHORIZED: s(401, 401),
  ZCON_ERR_FORBIDDEN: s(403, 403),
  ZCON_ERR_OVERLOADED: s(503, 503),
  ZCON_ERR_BAD_RESPONSE: s(500, 502),
  ZCON_ERR_IMS_DESTINATION: s(500, 404), // DFS064
  ZCON_ERR_IMS_STOPPED: s(500, 503), // DFS065
  ZCON_ERR_IMS_ABEND: s(500, 502), // DFS555I
  ZCON_ERR_IMS_NO_REPLY: s(500, 502), // DFS2082
  ZCON_ERR_IMS_MESSAGE: s(500, 502),
  ZCON_ERR_CONVERSATION_NOT_FOUND: s(404, 404),
  ZCON_ERR_INTERNAL: s(500, 500),

  // ---- @imsplex/client
  IMS_ERR_INVALID_ARGUMENT: s(500, 500), // a request the profile produced was rejected: our bug or config
  IMS_ERR_CONNECT_TIMEOUT: s(500, 503),
  IMS_ERR_CONNECT_FAILED: s(500, 503),
  IMS_ERR_RESPONSE_TIMEOUT: s(500, 504),
  IMS_ERR_IDLE_TIMEOUT: s(500, 504),
  IMS_ERR_RSM: s(500, 502), // refined by the return and reason code rows below
  IMS_ERR_IN_DOUBT: s(500, 502), // outcome unknown: never retried, body says so
  IMS_ERR_SOCKET: s(500, 502),
  IMS_ERR_REPLY_TOO_LARGE: s(500, 502),
  IMS_ERR_PROTOCOL: s(500, 502),
  IMS_ERR_POOL_EXHAUSTED: s(500, 503),
  IMS_ERR_POOL_TIMEOUT: s(500, 503),
  IMS_ERR_BAD_STATE: s(500, 500),
  IMS_ERR_CLIENT_CLOSED: s(503, 503),
  IMS_ERR_CLIENT_DESTROYED: s(503, 503),
  IMS_ERR_ABORTED: s(500, 504),
  IMS_ERR_WRITE_TIMEOUT: s(500, 504),

  // ---- RSM return codes (used when the reason field is not a reason code, or has no row)
  RSM_RC_OK: s(500, 502), // RC 0 never ends a send-receive
  RSM_RC_EXIT_ERROR: s(500, 502),
  RSM_RC_IMS_CONNECT_ERROR: s(500, 503),
  RSM_RC_OTMA_ERROR: s(500, 503),
  RSM_RC_OTMA_NAK: s(500, 502),
  RSM_RC_PING_REPLY: s(500, 502),
  RSM_RC_SCI_ERROR: s(500, 503),
  RSM_RC_OM_ERROR: s(500, 503),
  RSM_RC_TIMER_EXPIRED_CLOSE: s(500, 504),
  RSM_RC_DEFAULT_TIMER_EXPIRED: s(500, 504),
  RSM_RC_TIMER_EXPIRED_KEEP: s(500, 504),
  RSM_RC_CANCEL_TIMER_DONE: s(500, 502),

  // ---- RSM reason codes (with RC 4/8/12 and the others whose reason field is a reason code)
  RSM_RSN_INPUT_EXCEEDS_BUFFER: s(500, 413),
  RSM_RSN_NEGATIVE_LENGTH: s(500, 502),
  RSM_RSN_INVALID_IRM_LENGTH: s(500, 502),
  RSM_RSN_INVALID_TOTAL_LENGTH: s(500, 502),
  RSM_RSN_OTMA_NAK_NO_SENSE: s(500, 502),
  RSM_RSN_INVALID_BUFFER: s(500, 502),
  RSM_RSN_OUTPUT_EXCEEDS_BUFFER: s(500, 502),
  RSM_RSN_INVALID_UNICODE: s(500, 502),
  RSM_RSN_NO_DATA: s(500, 400),
  RSM_RSN_CLIENT_UNKNOWN: s(500, 502),
  RSM_RSN_OTMA_SEGMENT_LENGTH: s(500, 502),
  RSM_RSN_FIC_MISSING: s(500, 502),
  RSM_RSN_LIC_MISSING: s(500, 502),
  RSM_RSN_SEQUENCE_NUMBER: s(500, 502),
  RSM_RSN_CONTEXT_TOKEN_NOT_FOUND: s(500, 502),
  RSM_RSN_PROTOCOL_ERROR: s(500, 502),
  RSM_RSN_SECURITY_VIOLATION: s(500, 403),
  RSM_RSN_MESSAGE_INCOMPLETE: s(500, 502),
  RSM_RSN_INCORRECT_MESSAGE_LENGTH: s(500, 502),
  RSM_RSN_NOSECHDR: s(500, 401),
  RSM_RSN_INVESECHL: s(500, 401),
  RSM_RSN_SECFNOPW: s(500, 401),
  RSM_RSN_SECFNUID: s(500, 401),
  RSM_RSN_SECFNPUI: s(500, 401),
  RSM_RSN_DUPECLNT: s(500, 503),
  RSM_RSN_INVLDTOK: s(500, 502),
  RSM_RSN_INVLDSTA: s(500, 502),
  RSM_RSN_CANTIMER: s(500, 502),
  RSM_RSN_NFNDCOMP: s(500, 503),
  RSM_RSN_NFNDFUNC: s(500, 503),
  RSM_RSN_NFNDDST: s(500, 503),
  RSM_RSN_DSCLOSE: s(500, 503),
  RSM_RSN_STP_CLSE: s(500, 503),
  RSM_RSN_DSCERR: s(500, 503),
  RSM_RSN_STOPCMD: s(500, 503),
  RSM_RSN_COMMERR: s(500, 503),
  RSM_RSN_SECFAIL: s(500, 403),
  RSM_RSN_PROTOERR: s(500, 502),
  RSM_RSN_NOTACTV: s(500, 503),
  RSM_RSN_CANCRTP: s(500, 502),
  RSM_RSN_TPIPE_SUSPENDED: s(500, 503),
  RSM_RSN_RESUME_TPIPE_OUTPUT_OVERRUN: s(500, 502),
  RSM_RSN_INVLDCM1: s(500, 500),
  RSM_RSN_REQUEST: s(500, 502),
  RSM_RSN_CONVER: s(500, 502),
  RSM_RSN_REQ_CON: s(500, 502),
  RSM_RSN_DEAL_CTD: s(500, 502),
  RSM_RSN_DEAL_ABT: s(500, 502),
  RSM_RSN_DEFAULT: s(500, 502),
  RSM_RSN_BAD_EXTENSION: s(500, 502),
  RSM_RSN_EXTENSION_OFFSET_ZERO: s(500, 502),
  RSM_RSN_NETUID_TOO_LONG: s(500, 502),
  RSM_RSN_NETSID_TOO_LONG: s(500, 502),
});

/**
 * The table key of an RSM: the reason code's row when the return code's reason field holds a reason
 * code (RC 4, 8, 12, …) and the reason is known; otherwise the return code's row (timer, sense, CSL,
 * unknown values). Unknown return codes fall back to `IMS_ERR_RSM`.
 */
export function rsmKey(returnCode: number, reasonCode: number): KnownCode {
  const rc = RETURN_CODES[returnCode];
  if (!rc) return ClientErrorCode.RSM;
  if (rc.reasonKind === 'reason') {
    const rsn = REASON_CODES[reasonCode];
    if (rsn) return `RSM_RSN_${rsn.key}`;
  }
  return `RSM_RC_${rc.name}`;
}

/** True for a string that is a key of the table. */
export function isKnownCode(code: unknown): code is KnownCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(HTTP_STATUS, code);
}

/** HTTP status of a known code in a profile. */
export function httpStatusOf(code: KnownCode, profile: ErrorProfile): number {
  return HTTP_STATUS[code][profile];
}
