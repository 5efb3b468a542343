/**
 * Errors of @imsplex/client. Every failure is an `ImsplexError` (from @imsplex/codec) with a stable
 * string `code`; match on `code`, never on the message. The codes are listed once in
 * `ClientErrorCode` and every class below takes its code from there.
 */
import { ImsplexError, describeRsm, reasonName, returnCodeClosesSocket, returnCodeName } from '@imsplex/codec';

/** Codes of the errors the client raises. */
export const ClientErrorCode = {
  /** An option or argument is not valid (thrown synchronously at construction / call time). */
  INVALID_ARGUMENT: 'IMS_ERR_INVALID_ARGUMENT',
  /** No TCP (or TLS) connection was established within `connectTimeout`. */
  CONNECT_TIMEOUT: 'IMS_ERR_CONNECT_TIMEOUT',
  /** Every endpoint refused or failed, after all connect attempts. */
  CONNECT_FAILED: 'IMS_ERR_CONNECT_FAILED',
  /** No reply byte arrived within `responseTimeout` after the request was written. */
  RESPONSE_TIMEOUT: 'IMS_ERR_RESPONSE_TIMEOUT',
  /** A reply started but the socket then stayed silent for `idleTimeout`. */
  IDLE_TIMEOUT: 'IMS_ERR_IDLE_TIMEOUT',
  /** IMS Connect answered with a request status message (RSM). See `ImsConnectRsmError`. */
  RSM: 'IMS_ERR_RSM',
  /** The request was written and the outcome is unknown. See `ImsInDoubtError`. */
  IN_DOUBT: 'IMS_ERR_IN_DOUBT',
  /** The socket closed or failed while an interaction that is safe to repeat was in flight. */
  SOCKET: 'IMS_ERR_SOCKET',
  /** A reply is larger than `maxReplySize`. */
  REPLY_TOO_LARGE: 'IMS_ERR_REPLY_TOO_LARGE',
  /** IMS Connect sent something the protocol does not allow here (a codec error is the `cause`). */
  PROTOCOL: 'IMS_ERR_PROTOCOL',
  /** The pool's wait queue is full (`maxWaiters`): no connection and no room to wait for one. */
  POOL_EXHAUSTED: 'IMS_ERR_POOL_EXHAUSTED',
  /** A caller waited `acquireTimeout` for a pooled connection and none became free. */
  POOL_TIMEOUT: 'IMS_ERR_POOL_TIMEOUT',
  /** The connection is in a state where this interaction is not allowed (e.g. an ACK is pending). */
  BAD_STATE: 'IMS_ERR_BAD_STATE',
  /** The client, pool or connection was closed gracefully; no new work is accepted. */
  CLOSED: 'IMS_ERR_CLIENT_CLOSED',
  /** The client, pool or connection was destroyed; in-flight work was abandoned. */
  DESTROYED: 'IMS_ERR_CLIENT_DESTROYED',
  /** The caller's AbortSignal fired. */
  ABORTED: 'IMS_ERR_ABORTED',
  /** Writing the request did not drain within the response timeout (peer not reading). */
  WRITE_TIMEOUT: 'IMS_ERR_WRITE_TIMEOUT',
} as const;
/** A client error code. */
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** Base class of every error @imsplex/client raises. */
export class ImsClientError extends ImsplexError {
  declare readonly code: ClientErrorCode;
  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, options);
  }
}

/** The facts an RSM carries. */
export interface RsmFacts {
  /** `RSM_RETCOD`. */
  readonly returnCode: number;
  /** `RSM_RSNCOD` — a reason code, OTMA sense code, CSL code or timer value depending on the RC. */
  readonly reasonCode: number;
  /** RSM byte 3: the RACF return code (protocol level X'03') or the OTMA reason. */
  readonly otmaReason?: number;
  /** RSM flag byte (`RSM_FLG1`). */
  readonly flags?: number;
}

/**
 * IMS Connect answered with a request status message (`*REQSTS*`). Carries the return code, reason
 * code, the reason's name (from the codec's code tables) and whether IMS Connect closed the socket.
 */
export class ImsConnectRsmError extends ImsClientError {
  readonly returnCode: number;
  readonly reasonCode: number;
  /** IBM name of the reason (`NFNDDST`, `DUPECLNT`, …) or `RSN_<n>`; for a timer RC, `TIMER`. */
  readonly reasonName: string;
  /** Name of the return code (`TIMER_EXPIRED_KEEP`, …). */
  readonly returnCodeName: string;
  /** True when IMS Connect closes the socket after this RSM (the client then discards the connection). */
  readonly socketClosed: boolean;
  /** RSM byte 3 (RACF return code or OTMA reason). */
  readonly otmaReason: number;
  /** Client ID (tpipe) the request used. */
  readonly clientId: string | undefined;

  constructor(rsm: RsmFacts, context?: { clientId?: string; cause?: unknown }) {
    const closed = returnCodeClosesSocket(rsm.returnCode);
    super(ClientErrorCode.RSM, `IMS Connect RSM: ${describeRsm(rsm.returnCode, rsm.reasonCode)}`, {
      cause: context?.cause,
      details: { returnCode: rsm.returnCode, reasonCode: rsm.reasonCode, socketClosed: closed, clientId: context?.clientId },
    });
    this.returnCode = rsm.returnCode;
    this.reasonCode = rsm.reasonCode;
    this.returnCodeName = returnCodeName(rsm.returnCode);
    // A timer RC carries the timer byte, a sense RC the OTMA sense: only a plain reason has a name.
    this.reasonName = rsmReasonName(rsm.returnCode, rsm.reasonCode);
    this.socketClosed = closed;
    this.otmaReason = rsm.otmaReason ?? 0;
    this.clientId = context?.clientId;
  }
}

/** Name for the reason field of an RSM, read according to its return code. */
export function rsmReasonName(returnCode: number, reasonCode: number): string {
  switch (returnCode) {
    case 16:
      return `SENSE_${reasonCode.toString(16).toUpperCase().padStart(4, '0')}`;
    case 24:
    case 28:
      return `CSL_${reasonCode.toString(16).toUpperCase().padStart(8, '0')}`;
    case 32:
    case 36:
    case 40:
      return 'TIMER';
    default:
      return reasonName(reasonCode);
  }
}

/** What the client knows about a request whose outcome is unknown. */
export interface InDoubtFacts {
  /** Client ID = OTMA tpipe name the request used; RESUME TPIPE on it to fetch CM0 output. */
  readonly clientId: string;
  /** Commit mode of the request: 0 (commit-then-send) or 1 (send-then-commit). */
  readonly commitMode: 0 | 1;
  /** IRM message type sent (`send-receive`, `send-only`, `ack`, …). */
  readonly interaction: string;
  /** Transaction code, when the request carried one. */
  readonly trancode?: string;
  /** Endpoint the request was written to (`host:port`). */
  readonly endpoint?: string;
}

/**
 * The request was written to IMS Connect and then the connection failed (socket closed, reset,
 * response or idle timeout) before a complete reply arrived. IMS may or may not have run the
 * transaction, so the client never re-sends it. For commit mode 0 the caller can RESUME TPIPE on
 * `clientId` to collect the output IMS queued on the hold queue.
 */
export class ImsInDoubtError extends ImsClientError {
  readonly clientId: string;
  readonly commitMode: 0 | 1;
  readonly interaction: string;
  readonly trancode: string | undefined;
  readonly endpoint: string | undefined;
  constructor(facts: InDoubtFacts, cause: unknown) {
    super(
      ClientErrorCode.IN_DOUBT,
      `outcome unknown: ${facts.interaction}${facts.trancode ? ` ${facts.trancode}` : ''} was written to ${facts.endpoint ?? 'IMS Connect'} ` +
        `(client ID ${facts.clientId}, commit mode ${facts.commitMode}) and the connection failed before the reply` +
        (facts.commitMode === 0 ? '; RESUME TPIPE on the client ID to collect queued output' : ''),
      { cause, details: { ...facts } },
    );
    this.clientId = facts.clientId;
    this.commitMode = facts.commitMode;
    this.interaction = facts.interaction;
    this.trancode = facts.trancode;
    this.endpoint = facts.endpoint;
  }
}

/** Shorthand for an `IMS_ERR_INVALID_ARGUMENT` error. */
export function invalidArgument(message: string, details?: Record<string, unknown>): ImsClientError {
  return new ImsClientError(ClientErrorCode.INVALID_ARGUMENT, message, details ? { details } : undefined);
}

/** True for an error with the given client error code (from any copy of the package). */
export function hasCode(error: unknown, code: ClientErrorCode): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
