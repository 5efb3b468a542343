/**
 * The JSON error body of z/OS Connect (spec §2.4): `{ "errorMessage": "BAQRnnnnX: text", "errorDetails": … }`
 * with `<>'"&` HTML-entity-encoded in the message. `errorDetails` is an object that always carries the
 * stable `code` plus the facts of an IMS failure (spec §5.3: retcode, reasoncode, racfrc, otmaSense,
 * dfsMessage, imsConnectTarget, clientId, outcome).
 *
 * Message IDs: BAQR0417W (bad payload), BAQR0431W (service not available), BAQR0433W (asynchronous
 * request timed out) and BAQR7033E (internal error) are IBM's [D]. The others are this emulator's
 * own choice [INF]: IBM's text for them was not seen, so the IDs below are kept stable and documented
 * in the README, and IMS failures carry the IMS TM resource adapter's ICO ids (spec §5.2).
 */
import { ClientErrorCode, ImsConnectRsmError, ImsInDoubtError } from '@imsplex/client';
import { isImsplexError, type ImsplexError } from '@imsplex/codec';
import { ZosConnectError, ZosConnectErrorCode } from './errors.js';
import { type ErrorProfile } from './config/model.js';
import { HTTP_STATUS, httpStatusOf, isKnownCode, rsmKey, type KnownCode } from './status.js';

/** The body every error is answered with. */
export interface ErrorBody {
  readonly errorMessage: string;
  readonly errorDetails: ErrorDetails;
}

/** Structured facts of an error. */
export interface ErrorDetails {
  /** Stable code (`ZCON_ERR_*`, `IMS_ERR_*`): match on it. */
  readonly code: string;
  /** The table row that chose the HTTP status (`RSM_RSN_NFNDDST`, …) when it differs from `code`. */
  readonly statusKey?: string;
  readonly retcode?: number;
  readonly reasoncode?: number;
  readonly reasonName?: string;
  readonly racfrc?: number;
  readonly otmaSense?: number;
  readonly dfsMessage?: string;
  readonly imsConnectTarget?: string;
  readonly clientId?: string;
  /** `unknown` when the request reached IMS Connect and the reply was lost: IMS may have run it. */
  readonly outcome?: 'unknown' | 'not-run';
  readonly commitMode?: 0 | 1;
  readonly service?: string;
  readonly [key: string]: unknown;
}

/** An error resolved to a status and a body. */
export interface ResolvedError {
  readonly status: number;
  readonly body: ErrorBody;
  /** The original error (for logs). */
  readonly cause: unknown;
}

const MESSAGE_ID: Readonly<Record<ZosConnectErrorCode, string>> = {
  ZCON_ERR_CONFIG: 'BAQR7033E',
  ZCON_ERR_BAD_REQUEST: 'BAQR0417W',
  ZCON_ERR_BAD_PARAMETER: 'BAQR0418W',
  ZCON_ERR_NOT_FOUND: 'BAQR0431W',
  ZCON_ERR_METHOD_NOT_ALLOWED: 'BAQR0405W',
  ZCON_ERR_PAYLOAD_TOO_LARGE: 'BAQR0413W',
  ZCON_ERR_UNSUPPORTED_MEDIA_TYPE: 'BAQR0415W',
  ZCON_ERR_STOPPED: 'BAQR0430W',
  ZCON_ERR_CONFLICT: 'BAQR0409W',
  ZCON_ERR_UNAVAILABLE: 'BAQR0503W',
  ZCON_ERR_TIMEOUT: 'BAQR0433W',
  ZCON_ERR_UNAUTHORIZED: 'BAQR0401W',
  ZCON_ERR_FORBIDDEN: 'BAQR0403W',
  ZCON_ERR_OVERLOADED: 'BAQR0504W',
  ZCON_ERR_BAD_RESPONSE: 'BAQR0419W',
  ZCON_ERR_IMS_DESTINATION: 'ICO0079E',
  ZCON_ERR_IMS_STOPPED: 'ICO0079E',
  ZCON_ERR_IMS_ABEND: 'ICO0079E',
  ZCON_ERR_IMS_NO_REPLY: 'ICO0079E',
  ZCON_ERR_IMS_MESSAGE: 'ICO0079E',
  ZCON_ERR_CONVERSATION_NOT_FOUND: 'ICO0132E',
  ZCON_ERR_INTERNAL: 'BAQR7033E',
};

/** ICO ids of client failures (spec §5.2): 0001E RSM, 0005E socket/communication, 0080E timeout. */
function clientMessageId(code: string): string {
  switch (code) {
    case ClientErrorCode.RSM:
      return 'ICO0001E';
    case ClientErrorCode.RESPONSE_TIMEOUT:
    case ClientErrorCode.IDLE_TIMEOUT:
    case ClientErrorCode.WRITE_TIMEOUT:
    case ClientErrorCode.ABORTED:
      return 'ICO0080E';
    default:
      return 'ICO0005E';
  }
}

/** Encode `<>'"&` as HTML entities (IBM does so in errorMessage). */
export function htmlEscape(s: string): string {
  return s.replace(/[<>'"&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', "'": '&#39;', '"': '&quot;', '&': '&amp;' })[c]!);
}

/**
 * Turn anything thrown into a status and body. Known codes go through `HTTP_STATUS`; unknown throws
 * become 500 `ZCON_ERR_INTERNAL` with the cause kept for the log.
 */
export function resolveError(error: unknown, profile: ErrorProfile, extra: { service?: string } = {}): ResolvedError {
  if (isImsplexError(error) && isKnownCode(error.code)) {
    const e = error as ImsplexError;
    let key: KnownCode = e.code as KnownCode;
    const details: Record<string, unknown> = { code: e.code, ...(extra.service ? { service: extra.service } : {}) };
    let id: string;
    if (e instanceof ImsConnectRsmError || e.code === ClientErrorCode.RSM) {
      const r = e as ImsConnectRsmError;
      key = rsmKey(r.returnCode, r.reasonCode);
      Object.assign(details, {
        statusKey: key,
        retcode: r.returnCode,
        reasoncode: r.reasonCode,
        reasonName: r.reasonName,
        racfrc: r.otmaReason,
        ...(r.returnCode === 16 ? { otmaSense: r.reasonCode } : {}),
        ...(r.clientId ? { clientId: r.clientId } : {}),
        outcome: 'not-run',
      });
      id = 'ICO0001E';
    } else if (e instanceof ImsInDoubtError || e.code === ClientErrorCode.IN_DOUBT) {
      const d = e as ImsInDoubtError;
      Object.assign(details, {
        outcome: 'unknown',
        clientId: d.clientId,
        commitMode: d.commitMode,
        ...(d.endpoint ? { imsConnectTarget: d.endpoint } : {}),
        ...(d.trancode ? { trancode: d.trancode } : {}),
        ...(isImsplexError(d.cause) ? { causeCode: d.cause.code } : {}),
      });
      id = 'ICO0005E';
    } else if (e instanceof ZosConnectError) {
      id = MESSAGE_ID[e.code];
      for (const [k, v] of Object.entries(e.details)) if (k !== 'code') details[k] = v;
    } else {
      id = clientMessageId(e.code);
      for (const k of ['endpoint', 'clientId']) if (e.details[k] !== undefined) details[k === 'endpoint' ? 'imsConnectTarget' : k] = e.details[k];
      if (e.code === ClientErrorCode.CONNECT_FAILED || e.code === ClientErrorCode.CONNECT_TIMEOUT || e.code === ClientErrorCode.POOL_TIMEOUT || e.code === ClientErrorCode.POOL_EXHAUSTED) details['outcome'] = 'not-run';
    }
    const text = e.code === ClientErrorCode.IN_DOUBT ? `${e.message}. The request was not retried.` : e.message;
    return { status: httpStatusOf(key, profile), body: { errorMessage: htmlEscape(`${id}: ${text}`), errorDetails: details as ErrorDetails }, cause: error };
  }
  return {
    status: HTTP_STATUS.ZCON_ERR_INTERNAL[profile],
    body: { errorMessage: 'BAQR7033E: Internal server error.', errorDetails: { code: ZosConnectErrorCode.INTERNAL, ...(extra.service ? { service: extra.service } : {}) } },
    cause: error,
  };
}
