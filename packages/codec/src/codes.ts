/**
 * Return, reason and sense codes of IMS Connect (HWSSMPL0 / HWSSMPL1 RSM) and OTMA — the single source
 * of truth every imsplex package imports (spec ims-connect-protocol.md §9).
 *
 * Shape:
 * - `ReturnCode.X` / `ReasonCode.X` / `OtmaSenseCode.X` — the numbers, by name.
 * - `RETURN_CODES[rc]`, `REASON_CODES[rsn]`, `OTMA_SENSE_CODES[sense]` — frozen tables with names,
 *   descriptions and behaviour (`closesSocket`, what the reason field holds for a given RC).
 * - `describeReturnCode`, `reasonName`, `reasonCodeFromName`, `describeRsm`, … — lookups that never throw
 *   and give something printable for unknown values.
 *
 * Values tagged [INF]/[UNV] in the spec carry a comment that states the choice made here.
 */

// ---------------------------------------------------------------------------------------------------
// Return codes (RSM_RETCOD, spec §9.1)
// ---------------------------------------------------------------------------------------------------

/** RSM return codes (`RSM_RETCOD`) of HWSSMPL0/HWSSMPL1, by name. */
export const ReturnCode = {
  /**
   * Success. Not in IBM's RSM table: used only for the deallocate confirm/abort RSM (reason 97/98).
   * [UNV] IBM's call flows give only the reason X'61'; imsplex emits RC 0 with it (spec §13.3) and
   * clients should treat reason 97 as success whatever the RC.
   */
  OK: 0,
  /** The exit built an error message for the client before termination. */
  EXIT_ERROR: 4,
  /** IMS Connect detected the error. */
  IMS_CONNECT_ERROR: 8,
  /** IMS OTMA returned an error. */
  OTMA_ERROR: 12,
  /** IMS OTMA NAK; the reason field holds the OTMA sense code, RSM byte 3 the OTMA reason. */
  OTMA_NAK: 16,
  /** Reply to a PING / HWSPWCH password-change request. */
  PING_REPLY: 20,
  /** SCI error; the reason field holds a CSL code. */
  SCI_ERROR: 24,
  /** OM error; the reason field holds a CSL code. */
  OM_ERROR: 28,
  /** `IRM_TIMER` expired; the reason field holds the timer value; the socket is closed. */
  TIMER_EXPIRED_CLOSE: 32,
  /** The default timer expired (timer X'00' or invalid); the reason holds the timer value. */
  DEFAULT_TIMER_EXPIRED: 36,
  /** `IRM_TIMER` expired; the reason field holds the timer value; the socket is kept. */
  TIMER_EXPIRED_KEEP: 40,
  /**
   * Cancel timer completed successfully (pair with reason 59 `CANTIMER`). Two IBM tables agree; the
   * alternative "datastore no longer available" wording was not re-seen (spec Uncertain item 8).
   */
  CANCEL_TIMER_DONE: 44,
} as const;
/** Names of the RSM return codes. */
export type ReturnCodeName = keyof typeof ReturnCode;

/** What `RSM_RSNCOD` holds for a given return code. */
export type ReasonKind =
  /** an IMS Connect reason code (table `REASON_CODES`) */
  | 'reason'
  /** an OTMA sense code (table `OTMA_SENSE_CODES`) */
  | 'sense'
  /** a CSL (SCI/OM) return code */
  | 'csl'
  /** the `IRM_TIMER` byte that expired */
  | 'timer';

/** One row of `RETURN_CODES`. */
export interface ReturnCodeInfo {
  readonly code: number;
  readonly name: ReturnCodeName;
  readonly description: string;
  /** True when IMS Connect closes the socket after sending an RSM with this return code. */
  readonly closesSocket: boolean;
  /** What the RSM reason field holds with this return code. */
  readonly reasonKind: ReasonKind;
}

function rc(name: ReturnCodeName, description: string, closesSocket: boolean, reasonKind: ReasonKind): ReturnCodeInfo {
  return Object.freeze({ code: ReturnCode[name], name, description, closesSocket, reasonKind });
}

/** Every RSM return code with its description and socket behaviour, keyed by value. */
export const RETURN_CODES: Readonly<Record<number, ReturnCodeInfo>> = Object.freeze(
  Object.fromEntries(
    [
      // [UNV] RC 0 only accompanies deallocate confirm/abort; the socket stays as its IRM_SOCT says.
      rc('OK', 'deallocate completed (confirm or abort; see the reason code)', false, 'reason'),
      rc('EXIT_ERROR', 'the user message exit built an error message before termination', true, 'reason'),
      rc('IMS_CONNECT_ERROR', 'IMS Connect detected the error', true, 'reason'),
      rc('OTMA_ERROR', 'IMS OTMA returned an error', true, 'reason'),
      rc('OTMA_NAK', 'IMS OTMA rejected the message (NAK); the reason is the OTMA sense code', true, 'sense'),
      // IBM: kept unless the client is in a conversation or an ACK/NAK is pending (PM06363).
      rc('PING_REPLY', 'reply to a PING or password-change request', false, 'reason'),
      rc('SCI_ERROR', 'Structured Call Interface error; the reason is a CSL code', true, 'csl'),
      rc('OM_ERROR', 'Operations Manager error; the reason is a CSL code', true, 'csl'),
      rc('TIMER_EXPIRED_CLOSE', 'IRM_TIMER expired; the reason is the timer value; socket closed', true, 'timer'),
      rc('DEFAULT_TIMER_EXPIRED', 'default timer expired (IRM_TIMER X\'00\' or invalid); the reason is the timer value', true, 'timer'),
      rc('TIMER_EXPIRED_KEEP', 'IRM_TIMER expired; the reason is the timer value; socket kept', false, 'timer'),
      // [INF] the spec gives no socket behaviour for RC 44; a cancel-timer request ends its interaction
      // and IMS Connect keeps the (persistent) socket, so imsplex keeps it.
      rc('CANCEL_TIMER_DONE', 'cancel timer completed successfully', false, 'reason'),
    ].map((r) => [r.code, r]),
  ),
);

/** First and last DataPower-generated return codes (X'80'–X'8C'); not produced by imsplex. */
export const DATAPOWER_RETURN_CODE_RANGE = Object.freeze({ first: 0x80, last: 0x8c });

/** The table row for a return code, or undefined. */
export function returnCodeInfo(code: number): ReturnCodeInfo | undefined {
  return RETURN_CODES[code];
}

/** Name of a return code (`TIMER_EXPIRED_KEEP`), `DATAPOWER` for X'80'–X'8C', else `RC_<n>`. */
export function returnCodeName(code: number): string {
  const info = RETURN_CODES[code];
  if (info) return info.name;
  if (code >= DATAPOWER_RETURN_CODE_RANGE.first && code <= DATAPOWER_RETURN_CODE_RANGE.last) return 'DATAPOWER';
  return `RC_${code}`;
}

/** A human description of a return code, e.g. `RC 40 (X'28') TIMER_EXPIRED_KEEP: …`. */
export function describeReturnCode(code: number): string {
  const info = RETURN_CODES[code];
  const head = `RC ${code} (X'${hex(code, 2)}')`;
  if (info) return `${head} ${info.name}: ${info.description}`;
  if (code >= DATAPOWER_RETURN_CODE_RANGE.first && code <= DATAPOWER_RETURN_CODE_RANGE.last) return `${head} DATAPOWER: DataPower-generated return code`;
  return `${head}: unknown return code`;
}

/**
 * True when IMS Connect closes the socket after an RSM with this return code. Unknown codes close
 * ([INF] the safe choice: a client that keeps a socket the server closed sees a reset).
 */
export function returnCodeClosesSocket(code: number): boolean {
  return RETURN_CODES[code]?.closesSocket ?? true;
}

// ---------------------------------------------------------------------------------------------------
// Reason codes (RSM_RSNCOD, spec §9.2)
// ---------------------------------------------------------------------------------------------------

/**
 * RSM reason codes (`RSM_RSNCOD`) of HWSSMPL0/HWSSMPL1, by name. Where IBM gives an 8-character
 * `OMUSR_RESCODE` name (51–81, 93–98) the key is that name (`STP/CLSE` is spelled `STP_CLSE`); the
 * other keys are imsplex's own descriptive names (IBM's table has no name for them).
 */
export const ReasonCode = {
  INPUT_EXCEEDS_BUFFER: 4,
  NEGATIVE_LENGTH: 5,
  INVALID_IRM_LENGTH: 6,
  INVALID_TOTAL_LENGTH: 7,
  OTMA_NAK_NO_SENSE: 8,
  /** `RSMRSN_INVBUF` in the sample exits. */
  INVALID_BUFFER: 9,
  OUTPUT_EXCEEDS_BUFFER: 10,
  INVALID_UNICODE: 11,
  NO_DATA: 12,
  CLIENT_UNKNOWN: 16,
  OTMA_SEGMENT_LENGTH: 20,
  FIC_MISSING: 24,
  LIC_MISSING: 28,
  SEQUENCE_NUMBER: 32,
  CONTEXT_TOKEN_NOT_FOUND: 34,
  PROTOCOL_ERROR: 36,
  SECURITY_VIOLATION: 40,
  MESSAGE_INCOMPLETE: 44,
  INCORRECT_MESSAGE_LENGTH: 48,
  NOSECHDR: 51,
  INVESECHL: 52,
  SECFNOPW: 53,
  SECFNUID: 54,
  SECFNPUI: 55,
  DUPECLNT: 56,
  INVLDTOK: 57,
  INVLDSTA: 58,
  CANTIMER: 59,
  NFNDCOMP: 70,
  NFNDFUNC: 71,
  NFNDDST: 72,
  DSCLOSE: 73,
  STP_CLSE: 74,
  DSCERR: 75,
  STOPCMD: 76,
  COMMERR: 77,
  SECFAIL: 78,
  PROTOERR: 79,
  NOTACTV: 80,
  CANCRTP: 81,
  TPIPE_SUSPENDED: 82,
  RESUME_TPIPE_OUTPUT_OVERRUN: 83,
  INVLDCM1: 93,
  REQUEST: 94,
  CONVER: 95,
  REQ_CON: 96,
  DEAL_CTD: 97,
  DEAL_ABT: 98,
  DEFAULT: 99,
  BAD_EXTENSION: 113,
  EXTENSION_OFFSET_ZERO: 114,
  NETUID_TOO_LONG: 117,
  NETSID_TOO_LONG: 118,
} as const;
/** Keys of `ReasonCode`. */
export type ReasonCodeKey = keyof typeof ReasonCode;

/** One row of `REASON_CODES`. */
export interface ReasonCodeInfo {
  readonly code: number;
  /** Key in `ReasonCode`. */
  readonly key: ReasonCodeKey;
  /** IBM's 8-character `OMUSR_RESCODE` name (e.g. `NFNDDST`, `STP/CLSE`), when IBM gives one. */
  readonly ibmName: string | undefined;
  readonly description: string;
}

const REASON_ROWS: ReadonlyArray<readonly [ReasonCodeKey, string | undefined, string]> = [
  ['INPUT_EXCEEDS_BUFFER', undefined, 'input data exceeds buffer size'],
  ['NEGATIVE_LENGTH', undefined, 'negative length value'],
  ['INVALID_IRM_LENGTH', undefined, 'IRM length invalid'],
  ['INVALID_TOTAL_LENGTH', undefined, 'total message length invalid'],
  ['OTMA_NAK_NO_SENSE', undefined, 'OTMA NAK with no sense code or return code'],
  ['INVALID_BUFFER', undefined, 'contents of buffer invalid'],
  ['OUTPUT_EXCEEDS_BUFFER', undefined, 'output data exceeds buffer size'],
  ['INVALID_UNICODE', undefined, 'invalid Unicode definition'],
  ['NO_DATA', undefined, 'invalid message, no data'],
  ['CLIENT_UNKNOWN', undefined, 'client unknown'],
  ['OTMA_SEGMENT_LENGTH', undefined, 'OTMA segment length error'],
  ['FIC_MISSING', undefined, 'first-in-chain missing'],
  ['LIC_MISSING', undefined, 'last-in-chain missing'],
  ['SEQUENCE_NUMBER', undefined, 'sequence number error'],
  ['CONTEXT_TOKEN_NOT_FOUND', undefined, 'unable to locate context token'],
  ['PROTOCOL_ERROR', undefined, 'protocol error'],
  ['SECURITY_VIOLATION', undefined, 'security violation'],
  ['MESSAGE_INCOMPLETE', undefined, 'message incomplete'],
  ['INCORRECT_MESSAGE_LENGTH', undefined, 'incorrect message length'],
  ['NOSECHDR', 'NOSECHDR', 'security failure: no OTMA security header'],
  ['INVESECHL', 'INVESECHL', 'security failure: no security data in the OTMA security header'],
  ['SECFNOPW', 'SECFNOPW', 'security failure: no password in the OTMA user data'],
  ['SECFNUID', 'SECFNUID', 'security failure: no user ID in the OTMA security header'],
  ['SECFNPUI', 'SECFNPUI', 'security failure: neither password nor user ID'],
  ['DUPECLNT', 'DUPECLNT', 'duplicate client ID: the client ID is in use'],
  ['INVLDTOK', 'INVLDTOK', 'invalid token (internal error)'],
  ['INVLDSTA', 'INVLDSTA', 'invalid client status (internal error)'],
  ['CANTIMER', 'CANTIMER', 'cancel timer completed successfully'],
  ['NFNDCOMP', 'NFNDCOMP', 'IMS Connect component not found'],
  ['NFNDFUNC', 'NFNDFUNC', 'IMS Connect function not found'],
  ['NFNDDST', 'NFNDDST', 'datastore not found, or communication to it stopped by command'],
  ['DSCLOSE', 'DSCLOSE', 'IMS Connect in shutdown'],
  ['STP_CLSE', 'STP/CLSE', 'datastore or IMSplex stopping or closed, or IMS shut down'],
  ['DSCERR', 'DSCERR', 'datastore communication error'],
  ['STOPCMD', 'STOPCMD', 'datastore or IMSplex stopped by command'],
  ['COMMERR', 'COMMERR', 'datastore or IMSplex communication error reported to a pending client'],
  ['SECFAIL', 'SECFAIL', 'RACF call failed'],
  ['PROTOERR', 'PROTOERR', 'IMS Connect protocol error'],
  ['NOTACTV', 'NOTACTV', 'IMSplex connection not active (STOPIP or SCI down)'],
  ['CANCRTP', 'CANCRTP', 'IMS cancelled the RESUME TPIPE (ACK timeout or /STO TMEMBER TPIPE)'],
  ['TPIPE_SUSPENDED', undefined, 'tpipe suspended by /STO TMEMBER TPIPE'],
  ['RESUME_TPIPE_OUTPUT_OVERRUN', undefined, 'RESUME TPIPE cancelled: new output arrived before the previous one was confirmed'],
  ['INVLDCM1', 'INVLDCM1', 'commit mode 1 specified on RESUME TPIPE'],
  ['REQUEST', 'REQUEST', 'status: request'],
  ['CONVER', 'CONVER', 'status: conversation'],
  ['REQ_CON', 'REQ_CON', 'status: request and conversation (the conversation continues)'],
  ['DEAL_CTD', 'DEAL_CTD', 'deallocate confirmed (IMS committed)'],
  ['DEAL_ABT', 'DEAL_ABT', 'deallocate abort (IMS backed out)'],
  ['DEFAULT', undefined, 'default reason code'],
  ['BAD_EXTENSION', undefined, 'bad IRM extension length or offset'],
  ['EXTENSION_OFFSET_ZERO', undefined, 'IRM extension offset is zero'],
  ['NETUID_TOO_LONG', undefined, 'NETUID longer than 246 bytes'],
  ['NETSID_TOO_LONG', undefined, 'NETSID longer than 254 bytes'],
];

/** Every HWSSMPL0/1 reason code with its IBM name and description, keyed by value. */
export const REASON_CODES: Readonly<Record<number, ReasonCodeInfo>> = Object.freeze(
  Object.fromEntries(REASON_ROWS.map(([key, ibmName, description]) => [ReasonCode[key], Object.freeze({ code: ReasonCode[key], key, ibmName, description })])),
);

const REASON_BY_NAME: ReadonlyMap<string, number> = new Map(
  REASON_ROWS.flatMap(([key, ibmName]) => (ibmName === undefined ? [[key, ReasonCode[key]] as const] : [[key, ReasonCode[key]] as const, [ibmName, ReasonCode[key]] as const])),
);

/** The table row for a reason code, or undefined. */
export function reasonCodeInfo(code: number): ReasonCodeInfo | undefined {
  return REASON_CODES[code];
}

/**
 * Name of a reason code: IBM's `OMUSR_RESCODE` name when there is one (`NFNDDST`, `STP/CLSE`), else the
 * `ReasonCode` key, else `RSN_<n>`.
 */
export function reasonName(code: number): string {
  const info = REASON_CODES[code];
  return info ? (info.ibmName ?? info.key) : `RSN_${code}`;
}

/**
 * Numeric reason code for a name: an IBM `OMUSR_RESCODE` name (as carried in the OTMA user data,
 * trailing blanks ignored, case-insensitive) or a `ReasonCode` key. Undefined when unknown.
 */
export function reasonCodeFromName(name: string): number | undefined {
  return REASON_BY_NAME.get(name.trim().toUpperCase());
}

/** A human description of a reason code, e.g. `reason 72 (X'48') NFNDDST: datastore not found…`. */
export function describeReasonCode(code: number): string {
  const info = REASON_CODES[code];
  const head = `reason ${code} (X'${hex(code, 2)}')`;
  return info ? `${head} ${info.ibmName ?? info.key}: ${info.description}` : `${head}: unknown reason code`;
}

// ---------------------------------------------------------------------------------------------------
// IMS Connect Extensions reasons (always with RC 8, spec §9.1)
// ---------------------------------------------------------------------------------------------------

/**
 * Reason codes IMS Connect Extensions uses when it rejects a message (always with RC 8). They share
 * numbers with `ReasonCode` (40, 72) but mean something else; use these only when the rejecting party is
 * known to be IMS Connect Extensions.
 */
export const ExtensionsReasonCode = {
  SECFAIL: 40,
  DESTUNA: 72,
  PACELMT: 150,
  /** IBM gives no name: message exit not active. */
  EXIT_NOT_ACTIVE: 153,
  SECINOP: 154,
  /** IBM gives no name: exit deleted. */
  EXIT_DELETED: 156,
  IPBLOCK: 157,
} as const;
/** Keys of `ExtensionsReasonCode`. */
export type ExtensionsReasonCodeKey = keyof typeof ExtensionsReasonCode;

/** Descriptions of `ExtensionsReasonCode`, keyed by value. */
export const EXTENSIONS_REASON_CODES: Readonly<Record<number, { readonly code: number; readonly key: ExtensionsReasonCodeKey; readonly description: string }>> = Object.freeze(
  Object.fromEntries(
    (
      [
        ['SECFAIL', 'security check failed'],
        ['DESTUNA', 'destination unavailable'],
        ['PACELMT', 'pacing limit reached'],
        ['EXIT_NOT_ACTIVE', 'message exit not active'],
        ['SECINOP', 'security inoperative'],
        ['EXIT_DELETED', 'message exit deleted'],
        ['IPBLOCK', 'client IP address blocked'],
      ] as const
    ).map(([key, description]) => [ExtensionsReasonCode[key], Object.freeze({ code: ExtensionsReasonCode[key], key, description })]),
  ),
);

// ---------------------------------------------------------------------------------------------------
// OTMA sense codes (RC 16, spec §9.3)
// ---------------------------------------------------------------------------------------------------

/**
 * OTMA NAK sense codes, by name (imsplex's names; IBM numbers them only). The first five are IBM's
 * (spec §9.3). The rest are imsplex's own values for rejections IBM documents only as "a NAK" without a
 * sense code [INF]: both ends of the imsplex XCF link import them from here. They sit in IBM's range
 * (X'0000'–X'0FFF'), away from the codes IBM documents, so a customer-exit code (X'1000'–X'8FFF') can
 * never be mistaken for one. `OTMA_SENSE_CODES[code].tag` says which is which.
 */
export const OtmaSenseCode = {
  /**
   * IMS not enabled for RRS protected conversations. [UNV] IBM's table prints "17 (decimal, 23 hex)";
   * imsplex reads it as X'0017' (the labels swapped, like the neighbouring rows are consistent) — spec §9.3.
   */
  RRS_NOT_ENABLED: 0x0017,
  /** IMS command on a synchronised tpipe with a non-zero recoverable sequence number. */
  COMMAND_ON_SYNCHRONIZED_TPIPE: 0x0023,
  /** OTMA timing error creating RESUME TPIPE control blocks (DFS7444E, OTMA reason X'07'); retry. */
  RESUME_TPIPE_TIMING: 0x0028,
  /** RRS / two-phase commit not supported on this path. */
  TWO_PHASE_COMMIT_UNSUPPORTED: 0x002e,
  /** Authorisation failure retrieving asynchronous output or a callout from a hold queue. */
  HOLD_QUEUE_AUTHORIZATION: 0x0033,
  /**
   * The message is not valid OTMA for its type or state: no application data, an unknown protocol
   * command, no tpipe name, or anything before the member's client-bid was accepted. [INF] IBM names no
   * sense code for these; imsplex uses X'0001' (the engine's `MemberSense.PROTOCOL`).
   */
  PROTOCOL_ERROR: 0x0001,
  /**
   * A send-then-commit (CM1) input on a tpipe whose previous CM1 transaction has not finished. [INF]
   * OTMA serialises CM1 work per tpipe but IBM gives no sense code for a second input; imsplex uses
   * X'0002' (`MemberSense.TPIPE_BUSY`).
   */
  TPIPE_BUSY: 0x0002,
  /**
   * The member has as many tpipes as IMS allows (`OTMA MAXTPIPE=`). [INF] IBM documents a tpipe limit
   * but no sense code for the NAK; imsplex uses X'0003' (`MemberSense.TPIPE_LIMIT`).
   */
  TPIPE_LIMIT: 0x0003,
  /**
   * A conversational transaction sent with commit mode 0 (OTMA conversations are always CM1). [INF]
   * value: imsplex uses X'0019' (`EngineSense.CONVERSATION_NEEDS_CM1`).
   */
  CONVERSATION_NEEDS_CM1: 0x0019,
  /**
   * Continuation of a conversation IMS does not know (ended, expired, or IMS restarted). [INF] value:
   * imsplex uses X'001B' (`EngineSense.CONVERSATION_NOT_FOUND`). IBM's z/OS Connect documentation shows
   * X'001B' (27) as a sense code without saying what it means there; the reading here is imsplex's.
   */
  CONVERSATION_NOT_FOUND: 0x001b,
  /**
   * Continuation while the previous step of the conversation still runs. [INF] value: imsplex uses
   * X'001C' (`EngineSense.CONVERSATION_BUSY`).
   */
  CONVERSATION_BUSY: 0x001c,
  /**
   * Input refused by a security check (IMS logs DFS1292E). [INF] IBM documents DFS1292E and a NAK but
   * not its sense code; X'00C3' (EBCDIC C'C', as in "check") is imsplex's default, configurable in the
   * IMS system definition (`OTMA SECSENSE=`), so a run can use the value a site observes.
   */
  SECURITY_VIOLATION: 0x00c3,
  /**
   * Input refused because an input queue is full (`MAXQ=`) or too many conversations are active — OTMA
   * input flood protection. [INF] IBM documents the protection, not the sense code; X'0030' is
   * imsplex's default, configurable (`OTMA FLOODSENSE=`).
   */
  QUEUE_FULL: 0x0030,
} as const;
/** Keys of `OtmaSenseCode`. */
export type OtmaSenseCodeKey = keyof typeof OtmaSenseCode;

/** Confidence of a sense code value, as the spec tags facts: documented by IBM, unverified, or imsplex's choice. */
export type SenseCodeTag = 'IBM' | 'UNV' | 'INF';

/** One row of `OTMA_SENSE_CODES`. */
export interface OtmaSenseCodeInfo {
  readonly code: number;
  readonly key: OtmaSenseCodeKey;
  readonly description: string;
  /** `IBM`: IBM documents the value; `UNV`: IBM's text is ambiguous; `INF`: imsplex chose the value. */
  readonly tag: SenseCodeTag;
  /** For `INF`/`UNV` rows: why the value is what it is. */
  readonly note?: string;
}

const SENSE_ROWS: ReadonlyArray<readonly [OtmaSenseCodeKey, string, SenseCodeTag, string?]> = [
  ['RRS_NOT_ENABLED', 'IMS not enabled for RRS protected conversations', 'UNV', 'IBM prints "17 (decimal, 23 hex)"; read as X\'0017\''],
  ['COMMAND_ON_SYNCHRONIZED_TPIPE', 'IMS command on a synchronised tpipe with a non-zero recoverable sequence number', 'IBM'],
  ['RESUME_TPIPE_TIMING', 'OTMA timing error creating RESUME TPIPE control blocks (DFS7444E); retry', 'IBM'],
  ['TWO_PHASE_COMMIT_UNSUPPORTED', 'RRS / two-phase commit not supported on this path', 'IBM'],
  ['HOLD_QUEUE_AUTHORIZATION', 'not authorised to retrieve output or a callout request from the hold queue', 'IBM'],
  ['PROTOCOL_ERROR', 'OTMA protocol error: message not valid for its type, or sent before the client-bid was accepted', 'INF', 'IBM gives no sense code for protocol errors'],
  ['TPIPE_BUSY', 'send-then-commit input on a tpipe whose previous CM1 transaction has not finished', 'INF', 'IBM gives no sense code for a second CM1 input on a tpipe'],
  ['TPIPE_LIMIT', 'the member has reached the tpipe limit', 'INF', 'IBM gives no sense code for the tpipe limit'],
  ['CONVERSATION_NEEDS_CM1', 'conversational transaction sent with commit mode 0', 'INF', 'IBM gives no sense code for this rejection'],
  ['CONVERSATION_NOT_FOUND', 'conversation not found (ended, expired, or IMS restarted)', 'INF', 'IBM gives no sense code for this rejection'],
  ['CONVERSATION_BUSY', 'conversation busy: the previous step is still running', 'INF', 'IBM gives no sense code for this rejection'],
  ['SECURITY_VIOLATION', 'security violation (DFS1292E)', 'INF', 'IBM documents DFS1292E and a NAK without the sense code; imsplex default, configurable'],
  ['QUEUE_FULL', 'input queue full or too many conversations (OTMA input flood protection)', 'INF', 'IBM documents flood protection without the sense code; imsplex default, configurable'],
];

/** Descriptions of `OtmaSenseCode`, keyed by value, with each value's confidence (`tag`). */
export const OTMA_SENSE_CODES: Readonly<Record<number, OtmaSenseCodeInfo>> = Object.freeze(
  Object.fromEntries(
    SENSE_ROWS.map(([key, description, tag, note]) => [OtmaSenseCode[key], Object.freeze(note === undefined ? { code: OtmaSenseCode[key], key, description, tag } : { code: OtmaSenseCode[key], key, description, tag, note })]),
  ),
);

/** Sense codes X'1000'–X'8FFF' belong to customer OTMA exits; the rest are IBM's. */
export const OTMA_CUSTOMER_SENSE_RANGE = Object.freeze({ first: 0x1000, last: 0x8fff });

/** True for a sense code in the customer (exit) range X'1000'–X'8FFF'. */
export function isCustomerSenseCode(sense: number): boolean {
  return sense >= OTMA_CUSTOMER_SENSE_RANGE.first && sense <= OTMA_CUSTOMER_SENSE_RANGE.last;
}

/** A human description of an OTMA sense code, e.g. `sense X'0033' (51): not authorised …`. */
export function describeSenseCode(sense: number): string {
  const head = `sense X'${hex(sense, 4)}' (${sense})`;
  const info = OTMA_SENSE_CODES[sense];
  if (info) return `${head}: ${info.description}${info.tag === 'INF' ? ' (imsplex value)' : ''}`;
  if (isCustomerSenseCode(sense)) return `${head}: customer OTMA exit sense code`;
  return `${head}: IBM OTMA sense code`;
}

// ---------------------------------------------------------------------------------------------------
// RSM as a whole
// ---------------------------------------------------------------------------------------------------

/**
 * Describe a return/reason pair as IMS Connect would mean it: the reason is read as a reason code, a
 * sense code, a CSL code or a timer value depending on the return code.
 */
export function describeRsm(returnCode: number, reasonCode: number): string {
  const kind = RETURN_CODES[returnCode]?.reasonKind ?? 'reason';
  let reason: string;
  switch (kind) {
    case 'sense':
      reason = describeSenseCode(reasonCode);
      break;
    case 'csl':
      reason = `CSL code X'${hex(reasonCode, 8)}'`;
      break;
    case 'timer':
      reason = `timer value X'${hex(reasonCode, 2)}'`;
      break;
    case 'reason':
      reason = describeReasonCode(reasonCode);
      break;
  }
  return `${describeReturnCode(returnCode)}; ${reason}`;
}

/**
 * True when an RSM means the interaction succeeded: deallocate confirmed (reason 97, whatever the RC —
 * spec Uncertain item 7), cancel timer done (RC 44 / reason 59), or a PING reply (RC 20).
 */
export function isSuccessRsm(returnCode: number, reasonCode: number): boolean {
  if (reasonCode === ReasonCode.DEAL_CTD && (RETURN_CODES[returnCode]?.reasonKind ?? 'reason') === 'reason') return true;
  return returnCode === ReturnCode.CANCEL_TIMER_DONE || returnCode === ReturnCode.PING_REPLY;
}

function hex(n: number, digits: number): string {
  return (n >>> 0).toString(16).toUpperCase().padStart(digits, '0');
}
