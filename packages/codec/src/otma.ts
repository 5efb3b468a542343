/**
 * The OTMA message prefix (IMS Connect ↔ IMS), spec §11: a 32-byte message-control section, then —
 * as the prefix flags say — state data, security data, user data (`HWSOMUSR`) and application data
 * segments (LLZZ). Only the first segment of a message carries the full prefix; continuation messages
 * carry the control section and application data only.
 *
 * Where IBM's offsets or values were not confirmed (spec Uncertain item 11) imsplex chose a layout;
 * each choice is commented next to its constant. Bytes that are not modelled (the remainder of each
 * section, reserved fields) are kept raw so `encodeOtmaMessage(decodeOtmaMessage(b))` is byte-exact.
 *
 * Character fields are EBCDIC (default CP037; pass `codePage` for another page, or LATIN1 for the
 * ASCII OTMA headers of an ASCII HWSJAVA0 client — spec §10).
 */
import { type CodePage, CP037 } from './ebcdic.js';
import { CodecError, CodecErrorCode } from './errors.js';
import { allocOutput } from './alloc.js';
import { defineLayout, readCharField, type LayoutValue } from './layout.js';
import { isTablePage } from './page-kind.js';
import { OTMA_HOLD_QUEUE_DEPTH_OFFSET, OTMA_MEMBER_EXTENSION_LAYOUT, OTMA_TRANSACTION_FIELDS_LAYOUT } from './otma-state.js';

// ---------------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------------

/** `OMCTLALV`: the only OTMA architecture level. */
export const OTMA_ARCHITECTURE_LEVEL = 0x01;

/** `OMCTLMGT` message type bits (byte 1) [IBM]. Bits combine (X'30' = command + response). */
export const OtmaMessageType = {
  /** `OMCTLDTA`: IMS output data; also continued-conversation input from IMS Connect. */
  DATA: 0x80,
  /** `OMCTLTXN`: transaction (first input). */
  TRANSACTION: 0x40,
  /** `OMCTLRSP`: response (ACK/NAK). */
  RESPONSE: 0x20,
  /** `OMCTLCMD`: OTMA protocol command; the command is in byte 4. */
  COMMAND: 0x10,
  /** `OMCTLCMT`: commit confirmation (sync point done; IMS Connect: SENDONLY, DEALLOCATE). */
  COMMIT_CONFIRMATION: 0x08,
  /** Synchronous program switch. */
  SYNC_PROGRAM_SWITCH: 0x04,
} as const;

/** `OMCTLRSI` response flag bits (byte 2) [IBM]. */
export const OtmaResponseFlag = {
  ACK: 0x80,
  NAK: 0x40,
  /** Response requested (IMS Connect: the conversation continues → reason 96). */
  RESPONSE_REQUESTED: 0x20,
  EXTENDED_RESPONSE_REQUESTED: 0x10,
  /** Response to a synchronous callout. */
  CALLOUT_RESPONSE: 0x08,
  DELAYED_ACK_NAK_SUPPORTED: 0x02,
} as const;

/**
 * `OMCTLCCI` commit-confirmation flags (byte 3). [UNV] IBM names "commit confirmed" and "commit
 * aborted" without values in what was read; imsplex uses X'80' and X'40' (spec §11.1 table).
 */
export const OtmaCommitConfirmation = {
  COMMITTED: 0x80,
  ABORTED: 0x40,
} as const;

/** Protocol command types (byte 4, with `OtmaMessageType.COMMAND`). */
export const OtmaCommand = {
  /** Client-Bid [IBM sample]. */
  CLIENT_BID: 0x04,
  /** Server-Available. [UNV] value; imsplex uses X'08'. */
  SERVER_AVAILABLE: 0x08,
  /** CBresynch, client-bid with resynchronisation [IBM sample]. */
  CB_RESYNCH: 0x0c,
  /** SRVresynch [IBM sample]. */
  SRV_RESYNCH: 0x2c,
  /** REQresynch [IBM sample]. */
  REQ_RESYNCH: 0x30,
  /**
   * Resume output for the hold queue for a tpipe (RESUME TPIPE). [UNV] value not found; imsplex uses
   * X'3C'. Both ends of the imsplex XCF link import this constant, so the link is self-consistent.
   */
  RESUME_HOLD_QUEUE: 0x3c,
  /** No messages on the tpipe hold queue (OTMA → client). [UNV] value; imsplex uses X'40'. */
  NO_MESSAGES: 0x40,
  /** Resume output for tpipes (tpipe count + names). [UNV] value; imsplex uses X'1C'. */
  RESUME_OUTPUT_TPIPE: 0x1c,
  /** Resume output for all tpipes. [UNV] value; imsplex uses X'24'. */
  RESUME_OUTPUT_ALL: 0x24,
} as const;

/**
 * Processing flags (byte 5). [UNV] IBM documents an "error message follows" processing flag (a NAK
 * followed by a message carrying the IMS error text) without its offset or value; imsplex places it at
 * byte 5 with value X'80'.
 */
export const OtmaProcessingFlag = {
  ERROR_MESSAGE_FOLLOWS: 0x80,
} as const;

/** Chain state (byte 14) [IBM sample values; bit names UNV]. A single-segment message is X'A0'. */
export const OtmaChainState = {
  FIRST: 0x80,
  MIDDLE: 0x40,
  LAST: 0x20,
  DISCARD: 0x10,
  /** First and last: a message in one piece. */
  SINGLE: 0xa0,
} as const;

/**
 * Prefix flags `OMCTLPFL` (byte 15): which sections follow [IBM name + samples X'C0'/X'D0'; the
 * individual bit values are inferred from those samples — INF]. The encoder sets these four bits from
 * the sections present and keeps the low four bits as given.
 */
export const OtmaPrefixFlag = {
  STATE_DATA: 0x80,
  SECURITY_DATA: 0x40,
  USER_DATA: 0x20,
  APPLICATION_DATA: 0x10,
} as const;
const SECTION_BITS = 0xf0;

/** Server state (state data byte 2, transaction/callout form) [IBM]. */
export const OtmaServerState = {
  CONVERSATIONAL: 0x80,
  /** Client, CM0: ask for DFS2082 when there is no IOPCB reply. */
  REQUEST_DFS2082: 0x40,
  /** Message from the hold queue (the client sets it on the ACK/NAK too). */
  FROM_HOLD_QUEUE: 0x20,
  HOLD_QUEUE_CAPABLE: 0x10,
  REROUTED: 0x08,
  CM1_TIMED_OUT: 0x04,
  TRANSACTION_EXPIRATION: 0x02,
} as const;

/** Delivery options of the resume-output-for-hold-queue state data (byte 2) [IBM]. */
export const OtmaDeliveryOption = {
  NO_AUTO: 0x00,
  ONE_ONLY: 0x01,
  AUTO: 0x02,
  AUTO_ONE: 0x04,
} as const;

/** Callout mode of the resume-output-for-hold-queue state data (byte 3) [IBM]. */
export const OtmaCalloutMode = {
  CALLOUT_ONLY: 0x80,
  CALLOUT_AND_ASYNC: 0x40,
  CONTROL_DATA: 0x20,
  NETWORK_SECURITY: 0x10,
} as const;

/** `OMHDRQUE` flags of client-bid state data (byte 44) [IBM]. */
export const OtmaMemberQueueFlag = {
  CREATE_HOLD_QUEUE: 0x80,
  IMS_CONNECT_CLIENT: 0x20,
} as const;

/** `OMHDRFL2` flags of client-bid state data (byte 45) [IBM]. */
export const OtmaMemberFlag2 = {
  LIMIT_ACTIVE_INPUT: 0x80,
  CM1_ACK_TIMEOUT: 0x20,
  RRS_CASCADE: 0x10,
  SUPER_MEMBER: 0x08,
} as const;

/** `OMSECFLG` security check level [IBM]. */
export const OtmaSecurityFlag = {
  /** C'N': no RACF checks. */
  NONE: 0xd5,
  /** C'C': check transaction/command. */
  CHECK: 0xc3,
  /** C'F': full check including the MPR. */
  FULL: 0xc6,
} as const;

/**
 * Security sub-field types. [UNV] IBM gives `OMSECFLN` = X'0A' for "user ID only" and X'14' for "user
 * ID + group"; imsplex reads that as 10-byte sub-fields — length byte X'0A', type byte, 8-character
 * value — with types X'02' user ID and X'03' group.
 */
export const OtmaSecurityFieldType = {
  USER_ID: 0x02,
  GROUP: 0x03,
} as const;
const SECURITY_FIELD_LENGTH = 10;

/** `OMUSR_FLAG1` bits (user data byte X'3C') [IBM]. */
export const OtmaUserFlag1 = {
  /** Conversation option (TM RA). */
  CONVERSATION: 0x80,
  NON_PERSISTENT_SOCKET: 0x40,
  /** Cancel client ID (from `IRM_F3` X'80'). */
  CANCEL_CLIENT_ID: 0x20,
  PERSISTENT_SOCKET: 0x10,
  /** Alternate client ID (RESUME TPIPE). */
  ALTERNATE_CLIENT_ID: 0x08,
} as const;

// ---------------------------------------------------------------------------------------------------
// Layouts
// ---------------------------------------------------------------------------------------------------

/** Message-control section, 32 bytes (spec §11.1). */
export const OTMA_CONTROL_LAYOUT = defineLayout('OTMA message-control', [
  { name: 'architectureLevel', kind: 'u8', ibm: 'OMCTLALV', doc: "X'01'" },
  { name: 'messageType', kind: 'u8', ibm: 'OMCTLMGT', doc: 'OtmaMessageType bits' },
  { name: 'responseFlags', kind: 'u8', ibm: 'OMCTLRSI', doc: 'OtmaResponseFlag bits' },
  { name: 'commitConfirmation', kind: 'u8', ibm: 'OMCTLCCI', doc: 'OtmaCommitConfirmation bits [values UNV]' },
  { name: 'commandType', kind: 'u8', doc: 'OtmaCommand (protocol commands)' },
  { name: 'processingFlags', kind: 'u8', doc: 'OtmaProcessingFlag bits [offset and values UNV]' },
  { name: 'tpipe', kind: 'bytes', length: 8, doc: 'tpipe name (IMS Connect: client ID); characters' },
  { name: 'chainState', kind: 'u8', doc: "OtmaChainState; X'A0' single segment" },
  { name: 'prefixFlags', kind: 'u8', ibm: 'OMCTLPFL', doc: 'OtmaPrefixFlag: sections present' },
  { name: 'sendSequence', kind: 'u32', doc: 'send sequence number' },
  // [UNV] offsets 20–31 (spec §11.1): imsplex uses sense 20–21, reason 22–23, recoverable sequence
  // 24–27, segment sequence 28–29 and carries 30–31 unchanged.
  { name: 'senseCode', kind: 'u16', doc: 'NAK sense code [offset UNV]' },
  { name: 'reasonCode', kind: 'u16', doc: 'OTMA reason [offset UNV]' },
  { name: 'recoverableSequence', kind: 'u32', doc: 'recoverable sequence number [offset UNV]' },
  { name: 'segmentSequence', kind: 'u16', doc: 'segment sequence number [UNV]' },
  { name: 'reserved', kind: 'u16', doc: "not always zero (IBM client-bid sample X'0400'); carried" },
]);

/** Client-Bid / Server-Available state data, fixed part (46 bytes; spec §11.2). */
export const OTMA_MEMBER_STATE_LAYOUT = defineLayout('OTMA client-bid/server-available state', [
  { name: 'length', kind: 'u16', ibm: 'OMHDRLEN' },
  { name: 'memberName', kind: 'bytes', length: 16, ibm: 'OMHDRONM', doc: 'XCF member name of the originator; characters' },
  { name: 'originatorToken', kind: 'bytes', length: 8, ibm: 'OMHDROMT' },
  { name: 'destinationToken', kind: 'bytes', length: 8, ibm: 'OMHDRDMT' },
  { name: 'druExitName', kind: 'bytes', length: 8, ibm: 'OMHDRUEN', doc: 'client-bid only; default DFSYDRU0; characters' },
  { name: 'maxBlockSize', kind: 'u16', ibm: 'OMHDRMBS' },
  { name: 'queueFlags', kind: 'u8', ibm: 'OMHDRQUE' },
  { name: 'flags2', kind: 'u8', ibm: 'OMHDRFL2' },
]);

/** Resume-output-for-hold-queue state data (12 bytes; spec §11.2). */
export const OTMA_RESUME_STATE_LAYOUT = defineLayout('OTMA resume hold queue state', [
  { name: 'length', kind: 'u16' },
  { name: 'deliveryOption', kind: 'u8', doc: 'OtmaDeliveryOption' },
  { name: 'calloutMode', kind: 'u8', doc: 'OtmaCalloutMode bits' },
  { name: 'token', kind: 'bytes', length: 8, doc: 'RESUME TPIPE token' },
]);

/** No-messages-on-hold-queue state data (12 bytes; spec §11.2). */
export const OTMA_NO_MESSAGES_STATE_LAYOUT = defineLayout('OTMA no messages state', [
  { name: 'length', kind: 'u16' },
  { name: 'reserved', kind: 'u16' },
  { name: 'token', kind: 'bytes', length: 8, doc: 'RESUME TPIPE token' },
]);

/** `HWSOMUSR` user data, fixed part (61 bytes; spec §11.4). */
export const OTMA_USER_LAYOUT = defineLayout('HWSOMUSR', [
  { name: 'length', kind: 'u16', ibm: 'OMUSRLEN' },
  { name: 'align', kind: 'u16', doc: 'alignment; carried' },
  { name: 'destinationId', kind: 'bytes', length: 8, ibm: 'OMUSR_DESTID', doc: 'IRM_IMSDESTID; characters' },
  { name: 'originId', kind: 'bytes', length: 8, ibm: 'OMUSR_ORIGID', doc: 'characters' },
  { name: 'portId', kind: 'bytes', length: 8, ibm: 'OMUSR_PORTID', doc: 'characters' },
  { name: 'logonToken', kind: 'bytes', length: 8, ibm: 'OMUSR_LTOKEN' },
  { name: 'returnCode', kind: 'u32', ibm: 'OMUSR_RETCODE', doc: '→ RSM_RETCOD' },
  { name: 'reasonName', kind: 'bytes', length: 8, ibm: 'OMUSR_RESCODE', doc: 'reason name, e.g. NFNDDST (→ RSM_RSNCOD); characters' },
  { name: 'responseToken', kind: 'bytes', length: 4, ibm: 'OMUSR_RTOKEN' },
  { name: 'passTicket', kind: 'bytes', length: 8, ibm: 'OMUSR_PASSTICK', doc: 'IRM_RACF_PW; cleared before returning to IMS Connect; characters' },
  { name: 'flag1', kind: 'u8', ibm: 'OMUSR_FLAG1', doc: 'OtmaUserFlag1 bits' },
]);

// ---------------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------------

/**
 * A character field of the OTMA prefix. Decoders give a string (blanks trimmed) when re-encoding that
 * string reproduces the bytes, and the raw bytes otherwise (e.g. X'00' padding, which IBM's own samples
 * use in some tpipe fields), so a round trip is byte-exact. Encoders accept either; raw bytes must
 * have the field's exact length.
 */
export type OtmaName = string | Uint8Array;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type WithNames<T, K extends keyof T> = Omit<T, K> & { [P in K]: OtmaName };

/** The 32-byte message-control section; see `OTMA_CONTROL_LAYOUT` for the fields. */
export type OtmaControl = WithNames<LayoutValue<typeof OTMA_CONTROL_LAYOUT>, 'tpipe'>;

/**
 * Named fields of the transaction/callout state data after the server-state byte — imsplex's layout,
 * `OTMA_TRANSACTION_FIELDS_LAYOUT` [INF: IBM lists these fields without offsets, spec §11.2].
 *
 * The decoder sets all of them (but `holdQueueDepth`) when the section carries the whole 66-byte block
 * (a section of 69 bytes or more), and `holdQueueDepth` when it also carries bytes 69–72; a shorter
 * section is left raw in `rest` only. The encoder writes each field that is given over `rest`, as it
 * writes named flag bits over a raw byte: a field of a decoded state can be changed by setting it, and a
 * state built from fields alone needs no `rest` bytes (`rest: new Uint8Array(0)`) — the encoder then
 * writes the whole block, with 0, blanks (names) or zeros (16-byte fields) for the fields not given.
 * To replace the raw bytes of a decoded state, drop its named fields.
 */
export interface OtmaTransactionFields {
  /** Byte 3: commit mode, `CommitMode.CM0` X'40' / `CommitMode.CM1` X'20' (`commitModeOf`). */
  readonly syncFlags?: number;
  /** Byte 4: sync level (`SyncLevel`, low two bits) + `OtmaSyncOption.PURGE` / `REROUTE`. */
  readonly syncLevel?: number;
  /** Bytes 5–12: MFS map (MOD) name (`OMHDRMAP`). */
  readonly mapName?: OtmaName;
  /** Bytes 13–28: server token — the conversation ID; zeros when none. At most 16 bytes (zero-filled). */
  readonly serverToken?: Uint8Array;
  /** Bytes 29–44: correlator, carried. At most 16 bytes (zero-filled). */
  readonly correlator?: Uint8Array;
  /** Bytes 45–60: context ID, carried. At most 16 bytes (zero-filled). */
  readonly contextId?: Uint8Array;
  /**
   * Bytes 61–68 (`TMAMHLTM`): the reroute tpipe name when `syncLevel` has `OtmaSyncOption.REROUTE`,
   * else an LTERM override; blank when none.
   */
  readonly ltermOverride?: OtmaName;
  /**
   * Bytes 69–72: messages waiting on the tpipe's hold queue when IMS sent this message (the `CSM_AMSG`
   * signal, `OTMA_HOLD_QUEUE_DEPTH_OFFSET`) [INF]. Giving it makes the section 73 bytes.
   */
  readonly holdQueueDepth?: number;
}

/** Transaction/callout state data (`TMAMHDR`): the confirmed server-state byte, then the imsplex fields. */
export interface OtmaTransactionState extends OtmaTransactionFields {
  readonly form: 'transaction';
  /** Byte 2: `OtmaServerState` bits. */
  readonly serverState: number;
  /**
   * Bytes 3 onward, raw, always set by the decoder (the named fields are a decoded view of them). For
   * the encoder: the base the named fields are written over; bytes past them are carried as they are.
   */
  readonly rest: Uint8Array;
}

/**
 * Client-bid fields after `OMHDRFL2` — imsplex's layout, `OTMA_MEMBER_EXTENSION_LAYOUT` [INF: IBM names
 * them without offsets]. The decoder sets a field only when its `OMHDRFL2` bit is set and the section
 * holds the 8-byte block; the encoder writes each field given over `rest` (completing the block with
 * zeros, blanks for the name) and sets its `OMHDRFL2` bit.
 */
export interface OtmaMemberExtension {
  /** `OMHDRTIB`: active input limit (`OtmaMemberFlag2.LIMIT_ACTIVE_INPUT`). */
  readonly inputLimit?: number;
  /** `OMHDRTO`: CM1 ACK timeout in seconds (`OtmaMemberFlag2.CM1_ACK_TIMEOUT`). */
  readonly ackTimeout?: number;
  /** `OMHDRSMN`: super-member name, 1–4 characters (`OtmaMemberFlag2.SUPER_MEMBER`). */
  readonly superMember?: OtmaName;
}

/** Client-Bid / Server-Available (and CBresynch) state data. */
export interface OtmaMemberState extends Omit<WithNames<LayoutValue<typeof OTMA_MEMBER_STATE_LAYOUT>, 'memberName' | 'druExitName'>, 'length'>, OtmaMemberExtension {
  readonly form: 'member';
  /** Bytes after `OMHDRFL2`, raw (the named extension fields are a decoded view of them). */
  readonly rest: Uint8Array;
}

/** Resume-output-for-hold-queue (RESUME TPIPE) state data. */
export interface OtmaResumeState extends Omit<LayoutValue<typeof OTMA_RESUME_STATE_LAYOUT>, 'length'> {
  readonly form: 'resume-hold-queue';
  readonly rest: Uint8Array;
}

/** No-messages-on-hold-queue state data. */
export interface OtmaNoMessagesState extends Omit<LayoutValue<typeof OTMA_NO_MESSAGES_STATE_LAYOUT>, 'length'> {
  readonly form: 'no-messages';
  readonly rest: Uint8Array;
}

/** State data of a protocol command imsplex does not model: everything after the length field. */
export interface OtmaRawState {
  readonly form: 'raw';
  readonly bytes: Uint8Array;
}

/** State data. Which form a message carries follows from its control section (`otmaStateForm`). */
export type OtmaStateData = OtmaTransactionState | OtmaMemberState | OtmaResumeState | OtmaNoMessagesState | OtmaRawState;
export type OtmaStateForm = OtmaStateData['form'];

/** Security data (spec §11.3). */
export interface OtmaSecurityData {
  /** `OMSECFLG`: an `OtmaSecurityFlag`. */
  readonly flag: number;
  /** User ID sub-field. */
  readonly userId?: OtmaName;
  /** Group sub-field. */
  readonly groupName?: OtmaName;
  /** Bytes after the sub-fields, raw (user token, NETUID/NETSID sections). */
  readonly rest: Uint8Array;
}

/** `HWSOMUSR` user data (spec §11.4). */
export interface OtmaUserData extends Omit<WithNames<LayoutValue<typeof OTMA_USER_LAYOUT>, 'destinationId' | 'originId' | 'portId' | 'reasonName' | 'passTicket'>, 'length'> {
  /** Bytes after `OMUSR_FLAG1`, raw. */
  readonly rest: Uint8Array;
}

/** A whole OTMA message: prefix sections as present, then application data. */
export interface OtmaMessage {
  readonly control: OtmaControl;
  readonly state?: OtmaStateData;
  readonly security?: OtmaSecurityData;
  readonly user?: OtmaUserData;
  /**
   * Application data segments without LL/ZZ; undefined when the message has no application-data
   * section (prefix flag X'10' clear).
   */
  readonly segments?: readonly Uint8Array[];
  /** ZZ of each segment, only when at least one is non-zero. */
  readonly zz?: readonly number[];
}

/** Options of the OTMA encoder and decoder. */
export interface OtmaCodecOptions {
  /** Code page of character fields. Default CP037. */
  readonly codePage?: CodePage;
}
const NO_OPTIONS: OtmaCodecOptions = Object.freeze({});

/** Smallest state-data section of each modelled form (its length field included). */
const MIN_STATE: Readonly<Record<OtmaStateForm, number>> = {
  transaction: 3,
  member: OTMA_MEMBER_STATE_LAYOUT.size,
  'resume-hold-queue': OTMA_RESUME_STATE_LAYOUT.size,
  'no-messages': OTMA_NO_MESSAGES_STATE_LAYOUT.size,
  raw: 2,
};

/** The state-data form a message with this control section carries. */
export function otmaStateForm(control: Pick<OtmaControl, 'messageType' | 'commandType'>): OtmaStateForm {
  if ((control.messageType & OtmaMessageType.COMMAND) === 0) return 'transaction';
  switch (control.commandType) {
    case OtmaCommand.CLIENT_BID:
    case OtmaCommand.SERVER_AVAILABLE:
    case OtmaCommand.CB_RESYNCH:
      return 'member';
    case OtmaCommand.RESUME_HOLD_QUEUE:
      return 'resume-hold-queue';
    case OtmaCommand.NO_MESSAGES:
      return 'no-messages';
    default:
      return 'raw';
  }
}

/** A control section with defaults: architecture level 1, single-segment chain, everything else 0/blank. */
export function otmaControl(fields: Partial<OtmaControl> = {}): OtmaControl {
  return {
    architectureLevel: OTMA_ARCHITECTURE_LEVEL,
    messageType: 0,
    responseFlags: 0,
    commitConfirmation: 0,
    commandType: 0,
    processingFlags: 0,
    tpipe: '',
    chainState: OtmaChainState.SINGLE,
    prefixFlags: 0,
    sendSequence: 0,
    senseCode: 0,
    reasonCode: 0,
    recoverableSequence: 0,
    segmentSequence: 0,
    reserved: 0,
    ...fields,
  };
}

/**
 * The message-control section of a single-segment message with every field given: the same object
 * (same fields, same order, so the same hidden class) as `otmaControl` returns for them, built as one
 * literal without its defaults-plus-overrides spread — for paths that build one per message.
 */
export function otmaSingleControl(
  messageType: number,
  responseFlags: number,
  commitConfirmation: number,
  commandType: number,
  processingFlags: number,
  tpipe: OtmaControl['tpipe'],
  sendSequence: number,
  reasonCode = 0,
): OtmaControl {
  return {
    architectureLevel: OTMA_ARCHITECTURE_LEVEL,
    messageType,
    responseFlags,
    commitConfirmation,
    commandType,
    processingFlags,
    tpipe,
    chainState: OtmaChainState.SINGLE,
    prefixFlags: 0,
    sendSequence,
    senseCode: 0,
    reasonCode,
    recoverableSequence: 0,
    segmentSequence: 0,
    reserved: 0,
  };
}

// ---------------------------------------------------------------------------------------------------
// Decoder
// ---------------------------------------------------------------------------------------------------

function bad(message: string, offset: number): CodecError {
  return new CodecError(CodecErrorCode.BAD_OTMA, message, { details: { offset } });
}

function sectionLength(b: Uint8Array, p: number, end: number, name: string, min: number): number {
  if (end - p < 2) throw new CodecError(CodecErrorCode.TRUNCATED, `OTMA ${name} section at offset ${p}: no length field`, { details: { offset: p } });
  const len = (b[p]! << 8) | b[p + 1]!;
  if (len < min) throw bad(`OTMA ${name} section at offset ${p} has length ${len}, below its ${min}-byte minimum`, p);
  if (p + len > end) throw new CodecError(CodecErrorCode.TRUNCATED, `OTMA ${name} section at offset ${p} needs ${len} bytes; ${end - p} remain`, { details: { offset: p, length: len } });
  return len;
}

/**
 * Decode one whole OTMA message (`bytes` is exactly the message: the application data runs to the
 * end). Throws `CodecError` (`IMS_ERR_BAD_OTMA`, `IMS_ERR_TRUNCATED`, `IMS_ERR_BAD_LENGTH`).
 * Segments are views into `bytes`; everything else is copied.
 */
export function decodeOtmaMessage(bytes: Uint8Array, options: OtmaCodecOptions = NO_OPTIONS): OtmaMessage {
  const page = options.codePage ?? CP037;
  return decodeOtmaFast(bytes, 0, bytes.length, page) ?? decodeOtmaMessageChecked(bytes, page);
}

/**
 * The general decoder: every section form, every check, the coded errors. `decodeOtmaMessage` runs
 * the fast path first (`decodeOtmaFast`) and comes here only for what that path leaves out (protocol
 * commands) or rejects (bad input, to throw the exact error).
 */
function decodeOtmaMessageChecked(bytes: Uint8Array, page: CodePage): OtmaMessage {
  const end = bytes.length;
  if (end < OTMA_CONTROL_LAYOUT.size) throw new CodecError(CodecErrorCode.TRUNCATED, `OTMA message of ${end} bytes is shorter than its 32-byte control section`, { details: { length: end } });
  const raw = OTMA_CONTROL_LAYOUT.read(bytes, 0, page);
  const control: OtmaControl = { ...raw, tpipe: toName(raw.tpipe, page) };
  const msg: Mutable<OtmaMessage> = { control };
  let p = OTMA_CONTROL_LAYOUT.size;
  const flags = control.prefixFlags;
  if (flags & OtmaPrefixFlag.STATE_DATA) {
    const form = otmaStateForm(control);
    const len = sectionLength(bytes, p, end, 'state data', MIN_STATE[form]);
    msg.state = decodeState(form, bytes, p, p + len, page);
    p += len;
  }
  if (flags & OtmaPrefixFlag.SECURITY_DATA) {
    const len = sectionLength(bytes, p, end, 'security data', 4);
    msg.security = decodeSecurity(bytes, p, p + len, page);
    p += len;
  }
  if (flags & OtmaPrefixFlag.USER_DATA) {
    const len = sectionLength(bytes, p, end, 'user data', OTMA_USER_LAYOUT.size);
    const { length: _l, ...u } = OTMA_USER_LAYOUT.read(bytes, p, page);
    msg.user = {
      ...u,
      destinationId: toName(u.destinationId, page),
      originId: toName(u.originId, page),
      portId: toName(u.portId, page),
      reasonName: toName(u.reasonName, page),
      passTicket: toName(u.passTicket, page),
      rest: bytes.slice(p + OTMA_USER_LAYOUT.size, p + len),
    };
    p += len;
  }
  if (flags & OtmaPrefixFlag.APPLICATION_DATA) {
    const segments: Uint8Array[] = [];
    let zz: number[] | undefined;
    while (p < end) {
      if (end - p < 4) throw new CodecError(CodecErrorCode.TRUNCATED, `OTMA application data segment at offset ${p}: ${end - p} bytes, no room for LLZZ`, { details: { offset: p } });
      const ll = (bytes[p]! << 8) | bytes[p + 1]!;
      if (ll < 4) throw new CodecError(CodecErrorCode.BAD_LENGTH, `OTMA application data segment at offset ${p} has LL ${ll}`, { details: { offset: p, ll } });
      if (p + ll > end) throw new CodecError(CodecErrorCode.TRUNCATED, `OTMA application data segment at offset ${p} needs ${ll} bytes; ${end - p} remain`, { details: { offset: p, ll } });
      const z = (bytes[p + 2]! << 8) | bytes[p + 3]!;
      if (z !== 0 && zz === undefined) zz = new Array<number>(segments.length).fill(0);
      if (zz !== undefined) zz.push(z);
      segments.push(bytes.subarray(p + 4, p + ll));
      p += ll;
    }
    msg.segments = segments;
    if (zz !== undefined) msg.zz = zz;
  } else if (p !== end) {
    throw bad(`${end - p} bytes follow the OTMA prefix but the prefix flags announce no application data`, p);
  }
  return msg;
}

function decodeState(form: OtmaStateForm, b: Uint8Array, p: number, end: number, page: CodePage): OtmaStateData {
  switch (form) {
    case 'transaction': {
      const rest = b.slice(p + 3, end);
      const st: Mutable<OtmaTransactionState> = { form, serverState: b[p + 2]!, rest };
      if (rest.length >= TX_SIZE) decodeTransactionFields(st, rest, page);
      return st;
    }
    case 'member': {
      const { length: _l, ...v } = OTMA_MEMBER_STATE_LAYOUT.read(b, p, page);
      const rest = b.slice(p + OTMA_MEMBER_STATE_LAYOUT.size, end);
      const st: Mutable<OtmaMemberState> = { form, ...v, memberName: toName(v.memberName, page), druExitName: toName(v.druExitName, page), rest };
      if (rest.length >= MEMBER_EXT_SIZE) decodeMemberExtension(st, rest, page);
      return st;
    }
    case 'resume-hold-queue': {
      const { length: _l, ...v } = OTMA_RESUME_STATE_LAYOUT.read(b, p, page);
      return { form, ...v, rest: b.slice(p + OTMA_RESUME_STATE_LAYOUT.size, end) };
    }
    case 'no-messages': {
      const { length: _l, ...v } = OTMA_NO_MESSAGES_STATE_LAYOUT.read(b, p, page);
      return { form, ...v, rest: b.slice(p + OTMA_NO_MESSAGES_STATE_LAYOUT.size, end) };
    }
    case 'raw':
      return { form, bytes: b.slice(p + 2, end) };
  }
}

// Offsets in the transaction state rest and the client-bid extension, from their layouts.
const TX_SIZE = OTMA_TRANSACTION_FIELDS_LAYOUT.size;
const TX_MAP = fieldOffset(OTMA_TRANSACTION_FIELDS_LAYOUT, 'mapName');
const TX_TOKEN = fieldOffset(OTMA_TRANSACTION_FIELDS_LAYOUT, 'serverToken');
const TX_CORRELATOR = fieldOffset(OTMA_TRANSACTION_FIELDS_LAYOUT, 'correlator');
const TX_CONTEXT = fieldOffset(OTMA_TRANSACTION_FIELDS_LAYOUT, 'contextId');
const TX_LTERM = fieldOffset(OTMA_TRANSACTION_FIELDS_LAYOUT, 'ltermOverride');
const TX_DEPTH = OTMA_HOLD_QUEUE_DEPTH_OFFSET;
const MEMBER_EXT_SIZE = OTMA_MEMBER_EXTENSION_LAYOUT.size;
const EXT_TIMEOUT = fieldOffset(OTMA_MEMBER_EXTENSION_LAYOUT, 'ackTimeout');
const EXT_SUPER = fieldOffset(OTMA_MEMBER_EXTENSION_LAYOUT, 'superMember');

function fieldOffset(layout: { readonly fields: readonly { readonly name: string; readonly offset: number }[] }, name: string): number {
  const f = layout.fields.find((x) => x.name === name);
  if (f === undefined) throw new Error(`layout has no field ${name}`);
  return f.offset;
}

/** Decode the 66-byte block (and the depth when present) of a transaction state rest (a private copy). */
function decodeTransactionFields(st: Mutable<OtmaTransactionState>, rest: Uint8Array, page: CodePage): void {
  st.syncFlags = rest[0]!;
  st.syncLevel = rest[1]!;
  st.mapName = toName(rest.subarray(TX_MAP, TX_MAP + 8), page);
  st.serverToken = rest.subarray(TX_TOKEN, TX_TOKEN + 16);
  st.correlator = rest.subarray(TX_CORRELATOR, TX_CORRELATOR + 16);
  st.contextId = rest.subarray(TX_CONTEXT, TX_CONTEXT + 16);
  st.ltermOverride = toName(rest.subarray(TX_LTERM, TX_LTERM + 8), page);
  if (rest.length >= TX_DEPTH + 4) st.holdQueueDepth = rest[TX_DEPTH]! * 0x1000000 + ((rest[TX_DEPTH + 1]! << 16) | (rest[TX_DEPTH + 2]! << 8) | rest[TX_DEPTH + 3]!);
}

/** Decode the client-bid extension fields whose `OMHDRFL2` bit is set. */
function decodeMemberExtension(st: Mutable<OtmaMemberState>, rest: Uint8Array, page: CodePage): void {
  const f2 = st.flags2;
  if (f2 & OtmaMemberFlag2.LIMIT_ACTIVE_INPUT) st.inputLimit = (rest[0]! << 8) | rest[1]!;
  if (f2 & OtmaMemberFlag2.CM1_ACK_TIMEOUT) st.ackTimeout = (rest[EXT_TIMEOUT]! << 8) | rest[EXT_TIMEOUT + 1]!;
  if (f2 & OtmaMemberFlag2.SUPER_MEMBER) st.superMember = toName(rest.subarray(EXT_SUPER, EXT_SUPER + 4), page);
}

function decodeSecurity(b: Uint8Array, p: number, end: number, page: CodePage): OtmaSecurityData {
  const flag = b[p + 2]!;
  const fieldsLength = b[p + 3]!;
  if (fieldsLength % SECURITY_FIELD_LENGTH !== 0 || fieldsLength > 2 * SECURITY_FIELD_LENGTH) throw bad(`OTMA security data at offset ${p}: OMSECFLN X'${fieldsLength.toString(16)}' is not 0, X'0A' or X'14'`, p + 3);
  if (p + 4 + fieldsLength > end) throw bad(`OTMA security data at offset ${p}: OMSECFLN ${fieldsLength} runs past the section`, p + 3);
  const sec: Mutable<OtmaSecurityData> = { flag, rest: b.slice(p + 4 + fieldsLength, end) };
  let lastType = 0;
  for (let q = p + 4; q < p + 4 + fieldsLength; q += SECURITY_FIELD_LENGTH) {
    const type = b[q + 1]!;
    if (b[q] !== SECURITY_FIELD_LENGTH || (type !== OtmaSecurityFieldType.USER_ID && type !== OtmaSecurityFieldType.GROUP) || type <= lastType) {
      throw bad(`OTMA security sub-field at offset ${q} is not a user ID or group field in order`, q);
    }
    lastType = type;
    const value = toName(b.slice(q + 2, q + SECURITY_FIELD_LENGTH), page);
    if (type === OtmaSecurityFieldType.USER_ID) sec.userId = value;
    else sec.groupName = value;
  }
  return sec;
}

/** A name field as a string when that reproduces its bytes, else the bytes (see `OtmaName`). */
function toName(raw: Uint8Array, page: CodePage): OtmaName {
  const text = readCharField(raw, 0, raw.length, page);
  const again = new Uint8Array(raw.length);
  page.encodeInto(text, again, 0, raw.length);
  for (let i = 0; i < raw.length; i++) if (again[i] !== raw[i]) return raw;
  return text;
}

/** The bytes of a name field of `length` bytes. */
function fromName(field: string, value: OtmaName, length: number, page: CodePage): Uint8Array {
  if (typeof value === 'string') {
    const out = new Uint8Array(length);
    page.encodeInto(value, out, 0, length);
    return out;
  }
  if (!(value instanceof Uint8Array) || value.length !== length) throw invalid(`${field} must be a string or exactly ${length} bytes`);
  return value;
}

// ---------------------------------------------------------------------------------------------------
// Encoder
// ---------------------------------------------------------------------------------------------------

function invalid(message: string): CodecError {
  return new CodecError(CodecErrorCode.INVALID_VALUE, message);
}

/** Bytes of the transaction state rest the named fields need: 0 (none given), 66, or 70 (with the depth). */
function transactionExtent(s: OtmaTransactionFields): number {
  if (s.holdQueueDepth !== undefined) return TX_DEPTH + 4;
  if (s.syncFlags !== undefined || s.syncLevel !== undefined || s.mapName !== undefined || s.serverToken !== undefined || s.correlator !== undefined || s.contextId !== undefined || s.ltermOverride !== undefined) return TX_SIZE;
  return 0;
}

/** Bytes of the client-bid rest the named extension fields need: 0 or 8. */
function memberExtent(s: OtmaMemberExtension): number {
  return s.inputLimit !== undefined || s.ackTimeout !== undefined || s.superMember !== undefined ? MEMBER_EXT_SIZE : 0;
}

function stateSize(s: OtmaStateData): number {
  switch (s.form) {
    case 'transaction':
      return 3 + Math.max(s.rest.length, transactionExtent(s));
    case 'member':
      return MIN_STATE.member + Math.max(s.rest.length, memberExtent(s));
    case 'raw':
      return 2 + s.bytes.length;
    default:
      return MIN_STATE[s.form] + s.rest.length;
  }
}

function securitySize(s: OtmaSecurityData): number {
  return 4 + (s.userId !== undefined ? SECURITY_FIELD_LENGTH : 0) + (s.groupName !== undefined ? SECURITY_FIELD_LENGTH : 0) + s.rest.length;
}

/** Size in bytes of `encodeOtmaMessage(message)`. */
export function otmaMessageSize(message: OtmaMessage): number {
  let n = OTMA_CONTROL_LAYOUT.size;
  if (message.state) n += stateSize(message.state);
  if (message.security) n += securitySize(message.security);
  if (message.user) n += OTMA_USER_LAYOUT.size + message.user.rest.length;
  if (message.segments) for (const s of message.segments) n += 4 + s.length;
  return n;
}

/**
 * Encode an OTMA message. The four section bits of `control.prefixFlags` are set from the sections
 * present (the low four bits are kept). The state-data form must be the one the control section calls
 * for (`otmaStateForm`). Throws `IMS_ERR_INVALID_VALUE` when a value does not fit.
 */
export function encodeOtmaMessage(message: OtmaMessage, options: OtmaCodecOptions = NO_OPTIONS): Uint8Array {
  const out = new Uint8Array(otmaMessageSize(message));
  encodeOtmaMessageInto(message, out, 0, options);
  return out;
}

/** Encode into `target` at `offset` (which must have `otmaMessageSize(message)` bytes free). */
export function encodeOtmaMessageInto(message: OtmaMessage, target: Uint8Array, offset: number, options: OtmaCodecOptions = NO_OPTIONS): number {
  const page = options.codePage ?? CP037;
  const n = encodeOtmaFast(message, target, offset, page);
  return n >= 0 ? n : encodeOtmaMessageIntoChecked(message, target, offset, page);
}

/**
 * The general encoder: every section form, every check, the coded errors. `encodeOtmaMessageInto`
 * runs the fast path first (`encodeOtmaFast`) and comes here only for what that path leaves out
 * (protocol-command state forms) or rejects (bad values, to throw the exact error).
 */
function encodeOtmaMessageIntoChecked(message: OtmaMessage, target: Uint8Array, offset: number, page: CodePage): number {
  const { control, state, security, user, segments, zz } = message;
  let flags = control.prefixFlags & ~SECTION_BITS & 0xff;
  if (state) flags |= OtmaPrefixFlag.STATE_DATA;
  if (security) flags |= OtmaPrefixFlag.SECURITY_DATA;
  if (user) flags |= OtmaPrefixFlag.USER_DATA;
  if (segments) flags |= OtmaPrefixFlag.APPLICATION_DATA;
  if (!Number.isInteger(control.prefixFlags) || control.prefixFlags < 0 || control.prefixFlags > 0xff) throw invalid(`control.prefixFlags must be a byte, got ${control.prefixFlags}`);
  if (zz !== undefined && (segments === undefined || zz.length !== segments.length)) throw invalid('zz must have one entry per segment');
  const size = otmaMessageSize(message);
  if (offset + size > target.length) throw invalid(`target has ${target.length - offset} bytes; the message needs ${size}`);
  OTMA_CONTROL_LAYOUT.write({ ...control, tpipe: fromName('tpipe', control.tpipe, 8, page), prefixFlags: flags }, target, offset, page);
  let p = offset + OTMA_CONTROL_LAYOUT.size;
  if (state) {
    const expected = otmaStateForm(control);
    if (state.form !== expected) throw invalid(`state data form "${state.form}" does not match the control section, which calls for "${expected}"`);
    const len = stateSize(state);
    if (len > 0xffff) throw invalid(`state data of ${len} bytes does not fit its length field`);
    switch (state.form) {
      case 'transaction':
        writeU16(target, p, len);
        checkByte('serverState', state.serverState);
        target[p + 2] = state.serverState;
        target.set(state.rest, p + 3);
        if (len - 3 > state.rest.length || transactionExtent(state) > 0) writeTransactionFields(state, target, p + 3, len - 3, page);
        break;
      case 'member': {
        const { form: _f, rest, inputLimit, ackTimeout, superMember, ...v } = state;
        checkByte('flags2', v.flags2);
        let flags2 = v.flags2;
        if (inputLimit !== undefined) flags2 |= OtmaMemberFlag2.LIMIT_ACTIVE_INPUT;
        if (ackTimeout !== undefined) flags2 |= OtmaMemberFlag2.CM1_ACK_TIMEOUT;
        if (superMember !== undefined) flags2 |= OtmaMemberFlag2.SUPER_MEMBER;
        OTMA_MEMBER_STATE_LAYOUT.write({ length: len, ...v, flags2, memberName: fromName('memberName', v.memberName, 16, page), druExitName: fromName('druExitName', v.druExitName, 8, page) }, target, p, page);
        const base = p + OTMA_MEMBER_STATE_LAYOUT.size;
        target.set(rest, base);
        // Complete the 8-byte block past `rest`: zeros, blanks for the super-member name.
        for (let i = rest.length; i < len - OTMA_MEMBER_STATE_LAYOUT.size; i++) target[base + i] = i >= EXT_SUPER ? page.space : 0;
        if (inputLimit !== undefined) writeU16Checked('inputLimit', target, base, inputLimit);
        if (ackTimeout !== undefined) writeU16Checked('ackTimeout', target, base + EXT_TIMEOUT, ackTimeout);
        if (superMember !== undefined) writeName('superMember', superMember, target, base + EXT_SUPER, 4, page);
        break;
      }
      case 'resume-hold-queue': {
        const { form: _f, rest, ...v } = state;
        OTMA_RESUME_STATE_LAYOUT.write({ length: len, ...v }, target, p, page);
        target.set(rest, p + OTMA_RESUME_STATE_LAYOUT.size);
        break;
      }
      case 'no-messages': {
        const { form: _f, rest, ...v } = state;
        OTMA_NO_MESSAGES_STATE_LAYOUT.write({ length: len, ...v }, target, p, page);
        target.set(rest, p + OTMA_NO_MESSAGES_STATE_LAYOUT.size);
        break;
      }
      case 'raw':
        writeU16(target, p, len);
        target.set(state.bytes, p + 2);
        break;
    }
    p += len;
  }
  if (security) {
    const len = securitySize(security);
    if (len > 0xffff) throw invalid(`security data of ${len} bytes does not fit its length field`);
    checkByte('security.flag', security.flag);
    writeU16(target, p, len);
    target[p + 2] = security.flag;
    const fields: Array<[number, OtmaName]> = [];
    if (security.userId !== undefined) fields.push([OtmaSecurityFieldType.USER_ID, security.userId]);
    if (security.groupName !== undefined) fields.push([OtmaSecurityFieldType.GROUP, security.groupName]);
    target[p + 3] = fields.length * SECURITY_FIELD_LENGTH;
    let q = p + 4;
    for (const [type, value] of fields) {
      target[q] = SECURITY_FIELD_LENGTH;
      target[q + 1] = type;
      target.set(fromName(type === OtmaSecurityFieldType.USER_ID ? 'userId' : 'groupName', value, 8, page), q + 2);
      q += SECURITY_FIELD_LENGTH;
    }
    target.set(security.rest, q);
    p += len;
  }
  if (user) {
    const len = OTMA_USER_LAYOUT.size + user.rest.length;
    if (len > 0xffff) throw invalid(`user data of ${len} bytes does not fit its length field`);
    const { rest, ...v } = user;
    OTMA_USER_LAYOUT.write(
      {
        ...v,
        length: len,
        destinationId: fromName('destinationId', v.destinationId, 8, page),
        originId: fromName('originId', v.originId, 8, page),
        portId: fromName('portId', v.portId, 8, page),
        reasonName: fromName('reasonName', v.reasonName, 8, page),
        passTicket: fromName('passTicket', v.passTicket, 8, page),
      },
      target,
      p,
      page,
    );
    target.set(rest, p + OTMA_USER_LAYOUT.size);
    p += len;
  }
  if (segments) {
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i]!;
      if (s.length + 4 > 0xffff) throw invalid(`segment ${i} of ${s.length} bytes does not fit an LL`);
      writeU16(target, p, s.length + 4);
      const z = zz?.[i] ?? 0;
      if (!Number.isInteger(z) || z < 0 || z > 0xffff) throw invalid(`zz[${i}] must be an unsigned halfword`);
      writeU16(target, p + 2, z);
      target.set(s, p + 4);
      p += s.length + 4;
    }
  }
  return p - offset;
}

function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v & 0xff;
}

function writeU16Checked(name: string, b: Uint8Array, o: number, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw invalid(`${name} must be an unsigned halfword, got ${v}`);
  writeU16(b, o, v);
}

/** Write a name field: a string (encoded, blank-padded) or exactly `length` raw bytes. */
function writeName(field: string, value: OtmaName, target: Uint8Array, at: number, length: number, page: CodePage): void {
  if (typeof value === 'string') {
    if (value.length > length) throw invalid(`${field} "${value}" is longer than ${length} characters`);
    page.encodeInto(value, target, at, length);
  } else if (value instanceof Uint8Array && value.length === length) target.set(value, at);
  else throw invalid(`${field} must be a string or exactly ${length} bytes`);
}

/** Write a 16-byte binary field: at most 16 bytes, zero-filled. */
function writeBinary16(field: string, value: Uint8Array, target: Uint8Array, at: number): void {
  if (!(value instanceof Uint8Array) || value.length > 16) throw invalid(`${field} must be at most 16 bytes`);
  target.set(value, at);
  for (let i = value.length; i < 16; i++) target[at + i] = 0;
}

/**
 * Write the named transaction fields over the rest already copied to `target[base]`, after completing
 * the block past the raw bytes (0; blanks for the names; zeros for the 16-byte fields).
 */
function writeTransactionFields(s: OtmaTransactionState, target: Uint8Array, base: number, bodyLength: number, page: CodePage): void {
  for (let i = s.rest.length; i < bodyLength; i++) target[base + i] = (i >= TX_MAP && i < TX_MAP + 8) || (i >= TX_LTERM && i < TX_LTERM + 8) ? page.space : 0;
  if (s.syncFlags !== undefined) {
    checkByte('syncFlags', s.syncFlags);
    target[base] = s.syncFlags;
  }
  if (s.syncLevel !== undefined) {
    checkByte('syncLevel', s.syncLevel);
    target[base + 1] = s.syncLevel;
  }
  if (s.mapName !== undefined) writeName('mapName', s.mapName, target, base + TX_MAP, 8, page);
  if (s.serverToken !== undefined) writeBinary16('serverToken', s.serverToken, target, base + TX_TOKEN);
  if (s.correlator !== undefined) writeBinary16('correlator', s.correlator, target, base + TX_CORRELATOR);
  if (s.contextId !== undefined) writeBinary16('contextId', s.contextId, target, base + TX_CONTEXT);
  if (s.ltermOverride !== undefined) writeName('ltermOverride', s.ltermOverride, target, base + TX_LTERM, 8, page);
  if (s.holdQueueDepth !== undefined) {
    const d = s.holdQueueDepth;
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) throw invalid(`holdQueueDepth must be an unsigned 32-bit integer, got ${d}`);
    target[base + TX_DEPTH] = d >>> 24;
    target[base + TX_DEPTH + 1] = (d >>> 16) & 0xff;
    target[base + TX_DEPTH + 2] = (d >>> 8) & 0xff;
    target[base + TX_DEPTH + 3] = d & 0xff;
  }
}

function checkByte(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw invalid(`${name} must be a byte, got ${v}`);
}

// ---------------------------------------------------------------------------------------------------
// Fast paths
//
// The IVTNO send-receive shape (control + transaction state + security + user data + segments) is
// the message of every request on the XCF link, so it gets a hand-written encoder and decoder: no
// intermediate objects (no spread, no per-name arrays), one object literal per decoded section, names
// through a bounded per-page cache (decode) and a byte table (encode), one private copy of the decoded
// prefix with the raw fields as views of it. Both paths give the same bytes and the same decoded
// values as the general code above (`otma-fast.test.ts` compares them with the previous
// implementation, `bench/reference/otma.ts`). They never throw for bad input: they return -1 /
// undefined and the general code runs, so every error is the general code's exact error. Protocol
// commands (client-bid, resume tpipe …) take the general code too; they are rare.
// ---------------------------------------------------------------------------------------------------

const CONTROL_SIZE = OTMA_CONTROL_LAYOUT.size;
const CONTROL_TPIPE = fieldOffset(OTMA_CONTROL_LAYOUT, 'tpipe');
const USER_SIZE = OTMA_USER_LAYOUT.size;
const U_ALIGN = fieldOffset(OTMA_USER_LAYOUT, 'align');
const U_DEST = fieldOffset(OTMA_USER_LAYOUT, 'destinationId');
const U_ORIGIN = fieldOffset(OTMA_USER_LAYOUT, 'originId');
const U_PORT = fieldOffset(OTMA_USER_LAYOUT, 'portId');
const U_LTOKEN = fieldOffset(OTMA_USER_LAYOUT, 'logonToken');
const U_RETCODE = fieldOffset(OTMA_USER_LAYOUT, 'returnCode');
const U_REASON = fieldOffset(OTMA_USER_LAYOUT, 'reasonName');
const U_RTOKEN = fieldOffset(OTMA_USER_LAYOUT, 'responseToken');
const U_PASSTICKET = fieldOffset(OTMA_USER_LAYOUT, 'passTicket');
const U_FLAG1 = fieldOffset(OTMA_USER_LAYOUT, 'flag1');

/**
 * What the name fast paths need to know of a code page, probed once through its public methods so any
 * `CodePage` behaves as in the general code: `same[b]` is 1 when `chars[b]` is one UTF-16 unit that
 * `encodeInto` turns back into `b`; `pad` is the byte `encodeInto` pads with.
 */
interface NamePage {
  readonly same: Uint8Array;
  readonly pad: number;
  /** `enc[u]`: the byte `encodeInto` writes for code unit `u` < 256 (the page's substitute when unmapped). */
  readonly enc: Uint8Array;
  /**
   * Decoded 8-byte names, direct-mapped (`NAME_CACHE_SLOTS` slots, so bounded): the field's bytes as
   * two int32s and the `nameText` result, null when the bytes do not round-trip. Names repeat on the
   * link (tpipe, member, destination, origin, user ID, LTERM), and a hit costs two compares instead of
   * a string built character by character.
   */
  readonly hi: Int32Array;
  readonly lo: Int32Array;
  readonly text: Array<string | null | undefined>;
}
/** Slots of the decoded-name cache of each code page (a power of two). */
const NAME_CACHE_BITS = 10;
const NAME_CACHE_SLOTS = 1 << NAME_CACHE_BITS;
/** Per code page; null for a page that is not one of the codec's table pages (the fast paths then step aside). */
const namePages = new WeakMap<CodePage, NamePage | null>();
let lastPage: CodePage | undefined;
let lastNamePage: NamePage | null = null;

function newNamePage(same: Uint8Array, pad: number, enc: Uint8Array): NamePage {
  return { same, pad, enc, hi: new Int32Array(NAME_CACHE_SLOTS), lo: new Int32Array(NAME_CACHE_SLOTS), text: new Array<string | null | undefined>(NAME_CACHE_SLOTS).fill(undefined) };
}

function namePageOf(page: CodePage): NamePage | null {
  if (page === lastPage) return lastNamePage;
  let np = namePages.get(page);
  if (np === undefined && !isTablePage(page)) np = null;
  if (np === undefined) {
    const one = new Uint8Array(1);
    const same = new Uint8Array(256);
    for (let b = 0; b < 256; b++) {
      const c = page.chars[b];
      if (typeof c !== 'string' || c.length !== 1) continue;
      one[0] = b ^ 0xff;
      page.encodeInto(c, one, 0, 1);
      if (one[0] === b) same[b] = 1;
    }
    page.encodeInto('', one, 0, 1);
    const pad = one[0]!;
    const enc = new Uint8Array(256);
    for (let u = 0; u < 256; u++) {
      page.encodeInto(String.fromCharCode(u), one, 0, 1);
      enc[u] = one[0]!;
    }
    np = newNamePage(same, pad, enc);
    namePages.set(page, np);
  }
  lastPage = page;
  lastNamePage = np;
  return np;
}

/**
 * The text of the name field `b[at, at + length)` when encoding it again gives the same bytes (the
 * `toName` rule), else undefined. Allocates nothing but the string.
 */
function nameText(b: Uint8Array, at: number, length: number, page: CodePage, np: NamePage): string | undefined {
  if (length !== 8) return nameTextUncached(b, at, length, page, np);
  const hi = (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
  const lo = (b[at + 4]! << 24) | (b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!;
  const slot = Math.imul(hi ^ Math.imul(lo, 0x9e3779b1), 0x85ebca6b) >>> (32 - NAME_CACHE_BITS);
  const cached = np.text[slot];
  if (cached !== undefined && np.hi[slot] === hi && np.lo[slot] === lo) return cached ?? undefined;
  const text = nameTextUncached(b, at, 8, page, np);
  np.hi[slot] = hi;
  np.lo[slot] = lo;
  np.text[slot] = text ?? null;
  return text;
}

/** `nameText` without the cache. */
function nameTextUncached(b: Uint8Array, at: number, length: number, page: CodePage, np: NamePage): string | undefined {
  const text = readCharField(b, at, length, page);
  const n = text.length;
  const same = np.same;
  for (let i = 0; i < n; i++) if (same[b[at + i]!] !== 1) return undefined;
  const pad = np.pad;
  for (let i = n; i < length; i++) if (b[at + i] !== pad) return undefined;
  return text;
}

/** A plain `Uint8Array` copy of `b[at, at + length)` (what `copyBytes` gives), for short fields. */
function copyShort(b: Uint8Array, at: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = b[at + i]!;
  return out;
}

function u16At(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function u32At(b: Uint8Array, o: number): number {
  return b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

/**
 * Decode the message `b[start, end)` if it has the common shape (no protocol-command state) and is
 * well formed; undefined otherwise (the caller then runs `decodeOtmaMessageChecked` on the same bytes).
 */
function decodeOtmaFast(b: Uint8Array, start: number, end: number, page: CodePage): OtmaMessage | undefined {
  if (end - start < CONTROL_SIZE) return undefined;
  const np = namePageOf(page);
  if (np === null) return undefined;
  const messageType = b[start + 1]!;
  const prefixFlags = b[start + 15]!;
  if ((prefixFlags & OtmaPrefixFlag.STATE_DATA) !== 0 && (messageType & OtmaMessageType.COMMAND) !== 0) return undefined;
  const tpipeAt = start + CONTROL_TPIPE;
  const control: OtmaControl = {
    architectureLevel: b[start]!,
    messageType,
    responseFlags: b[start + 2]!,
    commitConfirmation: b[start + 3]!,
    commandType: b[start + 4]!,
    processingFlags: b[start + 5]!,
    tpipe: nameText(b, tpipeAt, 8, page, np) ?? copyShort(b, tpipeAt, 8),
    chainState: b[start + 14]!,
    prefixFlags,
    sendSequence: u32At(b, start + 16),
    senseCode: u16At(b, start + 20),
    reasonCode: u16At(b, start + 22),
    recoverableSequence: u32At(b, start + 24),
    segmentSequence: u16At(b, start + 28),
    reserved: u16At(b, start + 30),
  };
  const msg: Mutable<OtmaMessage> = { control };
  // Section boundaries first (checked), then one private copy of the prefix sections: the raw `rest`
  // fields are views of it (one allocation, from the shared output slab, instead of one `slice` each).
  // A Buffer input keeps `slice` per field, which for a Buffer gives what the general code gives.
  const prefixStart = start + CONTROL_SIZE;
  let p = prefixStart;
  let stateAt = -1;
  if ((prefixFlags & OtmaPrefixFlag.STATE_DATA) !== 0) {
    if (end - p < 2) return undefined;
    const len = u16At(b, p);
    if (len < MIN_STATE.transaction || p + len > end) return undefined;
    stateAt = p;
    p += len;
  }
  let securityAt = -1;
  if ((prefixFlags & OtmaPrefixFlag.SECURITY_DATA) !== 0) {
    if (end - p < 2) return undefined;
    const len = u16At(b, p);
    if (len < 4 || p + len > end) return undefined;
    securityAt = p;
    p += len;
  }
  let userAt = -1;
  if ((prefixFlags & OtmaPrefixFlag.USER_DATA) !== 0) {
    if (end - p < 2) return undefined;
    const len = u16At(b, p);
    if (len < USER_SIZE || p + len > end) return undefined;
    userAt = p;
    p += len;
  }
  const prefixEnd = p;
  let copy: Uint8Array | undefined;
  if (prefixEnd > prefixStart && b.constructor === Uint8Array) {
    const n = prefixEnd - prefixStart;
    copy = allocOutput(n);
    if (n > 48) copy.set(b.subarray(prefixStart, prefixEnd));
    else for (let i = 0; i < n; i++) copy[i] = b[prefixStart + i]!;
  }
  if (stateAt >= 0) {
    const q = stateAt;
    const len = u16At(b, q);
    const rest = copy !== undefined ? copy.subarray(q + 3 - prefixStart, q + len - prefixStart) : b.slice(q + 3, q + len);
    const serverState = b[q + 2]!;
    if (rest.length >= TX_SIZE) {
      const st: Mutable<OtmaTransactionState> = {
        form: 'transaction',
        serverState,
        rest,
        syncFlags: rest[0]!,
        syncLevel: rest[1]!,
        mapName: nameText(rest, TX_MAP, 8, page, np) ?? rest.subarray(TX_MAP, TX_MAP + 8),
        serverToken: rest.subarray(TX_TOKEN, TX_TOKEN + 16),
        correlator: rest.subarray(TX_CORRELATOR, TX_CORRELATOR + 16),
        contextId: rest.subarray(TX_CONTEXT, TX_CONTEXT + 16),
        ltermOverride: nameText(rest, TX_LTERM, 8, page, np) ?? rest.subarray(TX_LTERM, TX_LTERM + 8),
      };
      if (rest.length >= TX_DEPTH + 4) st.holdQueueDepth = u32At(rest, TX_DEPTH);
      msg.state = st;
    } else {
      msg.state = { form: 'transaction', serverState, rest };
    }
  }
  if (securityAt >= 0) {
    const q0 = securityAt;
    const len = u16At(b, q0);
    const fieldsLength = b[q0 + 3]!;
    const fieldsEnd = q0 + 4 + fieldsLength;
    if (fieldsLength % SECURITY_FIELD_LENGTH !== 0 || fieldsLength > 2 * SECURITY_FIELD_LENGTH || fieldsEnd > q0 + len) return undefined;
    const sec: Mutable<OtmaSecurityData> = { flag: b[q0 + 2]!, rest: copy !== undefined ? copy.subarray(fieldsEnd - prefixStart, q0 + len - prefixStart) : b.slice(fieldsEnd, q0 + len) };
    let lastType = 0;
    for (let q = q0 + 4; q < fieldsEnd; q += SECURITY_FIELD_LENGTH) {
      const type = b[q + 1]!;
      if (b[q] !== SECURITY_FIELD_LENGTH || (type !== OtmaSecurityFieldType.USER_ID && type !== OtmaSecurityFieldType.GROUP) || type <= lastType) return undefined;
      lastType = type;
      const value = nameText(b, q + 2, 8, page, np) ?? b.slice(q + 2, q + SECURITY_FIELD_LENGTH);
      if (type === OtmaSecurityFieldType.USER_ID) sec.userId = value;
      else sec.groupName = value;
    }
    msg.security = sec;
  }
  if (userAt >= 0) {
    const q = userAt;
    const len = u16At(b, q);
    msg.user = {
      align: u16At(b, q + U_ALIGN),
      destinationId: nameText(b, q + U_DEST, 8, page, np) ?? copyShort(b, q + U_DEST, 8),
      originId: nameText(b, q + U_ORIGIN, 8, page, np) ?? copyShort(b, q + U_ORIGIN, 8),
      portId: nameText(b, q + U_PORT, 8, page, np) ?? copyShort(b, q + U_PORT, 8),
      logonToken: copy !== undefined ? copy.subarray(q + U_LTOKEN - prefixStart, q + U_LTOKEN + 8 - prefixStart) : copyShort(b, q + U_LTOKEN, 8),
      returnCode: u32At(b, q + U_RETCODE),
      reasonName: nameText(b, q + U_REASON, 8, page, np) ?? copyShort(b, q + U_REASON, 8),
      responseToken: copy !== undefined ? copy.subarray(q + U_RTOKEN - prefixStart, q + U_RTOKEN + 4 - prefixStart) : copyShort(b, q + U_RTOKEN, 4),
      passTicket: nameText(b, q + U_PASSTICKET, 8, page, np) ?? copyShort(b, q + U_PASSTICKET, 8),
      flag1: b[q + U_FLAG1]!,
      rest: copy !== undefined ? copy.subarray(q + USER_SIZE - prefixStart, q + len - prefixStart) : b.slice(q + USER_SIZE, q + len),
    };
  }
  if ((prefixFlags & OtmaPrefixFlag.APPLICATION_DATA) !== 0) {
    const segments: Uint8Array[] = [];
    let zz: number[] | undefined;
    while (p < end) {
      if (end - p < 4) return undefined;
      const ll = u16At(b, p);
      if (ll < 4 || p + ll > end) return undefined;
      const z = u16At(b, p + 2);
      if (z !== 0 && zz === undefined) zz = new Array<number>(segments.length).fill(0);
      if (zz !== undefined) zz.push(z);
      segments.push(b.subarray(p + 4, p + ll));
      p += ll;
    }
    msg.segments = segments;
    if (zz !== undefined) msg.zz = zz;
  } else if (p !== end) {
    return undefined;
  }
  return msg;
}

/**
 * `decodeOtmaMessage(bytes.subarray(start), options)` without making the view first: the message is
 * `bytes[start, bytes.length)`. Error offsets are relative to `start`, as they would be for the view.
 */
export function decodeOtmaMessageAt(bytes: Uint8Array, start: number, options: OtmaCodecOptions = NO_OPTIONS): OtmaMessage {
  const page = options.codePage ?? CP037;
  return (start >= 0 && start === (start | 0) ? decodeOtmaFast(bytes, start, bytes.length, page) : undefined) ?? decodeOtmaMessageChecked(bytes.subarray(start), page);
}

/** True for an integer 0–255 (the layout writer's check for a `u8`). */
function isU8(x: number): boolean {
  return x >= 0 && x <= 0xff && x === (x | 0);
}

/** True for an integer 0–65535 (the layout writer's check for a `u16`). */
function isU16(x: number): boolean {
  return x >= 0 && x <= 0xffff && x === (x | 0);
}

/** True for an integer 0–4294967295 (the layout writer's check for a `u32`). */
function isU32(x: number): boolean {
  return x >= 0 && x <= 0xffffffff && x === Math.floor(x);
}

function putU16(t: Uint8Array, o: number, v: number): void {
  t[o] = v >>> 8;
  t[o + 1] = v & 0xff;
}

function putU32(t: Uint8Array, o: number, v: number): void {
  t[o] = v >>> 24;
  t[o + 1] = (v >>> 16) & 0xff;
  t[o + 2] = (v >>> 8) & 0xff;
  t[o + 3] = v & 0xff;
}

/** Copy `src` to `t[at]`: a loop for up to 8 bytes (cheaper than `set`'s call), `set` otherwise (measured). */
function copyInto(src: Uint8Array, t: Uint8Array, at: number): void {
  const n = src.length;
  if (n > 8) t.set(src, at);
  else for (let i = 0; i < n; i++) t[at + i] = src[i]!;
}

/** Write a name field (string: encoded, padded; bytes: exactly `length`); false when it does not fit. */
function putName(v: OtmaName, t: Uint8Array, at: number, length: number, page: CodePage, np: NamePage): boolean {
  if (typeof v === 'string') {
    const n = v.length;
    if (n > length) return false;
    const enc = np.enc;
    for (let i = 0; i < n; i++) {
      const c = v.charCodeAt(i);
      if (c > 0xff) {
        page.encodeInto(v, t, at, length); // a character beyond Latin-1: the page's own lookup
        return true;
      }
      t[at + i] = enc[c]!;
    }
    const pad = np.pad;
    for (let i = n; i < length; i++) t[at + i] = pad;
    return true;
  }
  if (!(v instanceof Uint8Array) || v.length !== length) return false;
  copyInto(v, t, at);
  return true;
}

/** Write a bytes field of at most `length` bytes, zero-filled; false when it does not fit. */
function putBytes(v: Uint8Array, t: Uint8Array, at: number, length: number): boolean {
  if (!(v instanceof Uint8Array) || v.length > length) return false;
  copyInto(v, t, at);
  for (let i = v.length; i < length; i++) t[at + i] = 0;
  return true;
}

/**
 * Encode a message of the common shape (no protocol-command state) with valid values; -1 otherwise
 * (the caller then runs `encodeOtmaMessageIntoChecked`, which throws the exact error). Writes every
 * byte of the message, so `target` may hold anything before.
 */
function encodeOtmaFast(message: OtmaMessage, t: Uint8Array, offset: number, page: CodePage): number {
  const control = message.control;
  const state = message.state;
  const security = message.security;
  const user = message.user;
  const segments = message.segments;
  const zz = message.zz;
  const pf = control.prefixFlags;
  if (!isU8(pf)) return -1;
  if (zz !== undefined && (segments === undefined || zz.length !== segments.length)) return -1;
  if (state && (state.form !== 'transaction' || (control.messageType & OtmaMessageType.COMMAND) !== 0)) return -1;
  const size = otmaMessageSize(message);
  if (!(offset >= 0) || offset !== (offset | 0) || offset + size > t.length) return -1;
  const np = namePageOf(page);
  if (np === null) return -1;
  // ---- control ----
  const { architectureLevel, messageType, responseFlags, commitConfirmation, commandType, processingFlags, chainState, sendSequence, senseCode, reasonCode, recoverableSequence, segmentSequence, reserved } = control;
  if (!isU8(architectureLevel) || !isU8(messageType) || !isU8(responseFlags) || !isU8(commitConfirmation) || !isU8(commandType) || !isU8(processingFlags) || !isU8(chainState)) return -1;
  if (!isU32(sendSequence) || !isU16(senseCode) || !isU16(reasonCode) || !isU32(recoverableSequence) || !isU16(segmentSequence) || !isU16(reserved)) return -1;
  let flags = pf & ~SECTION_BITS & 0xff;
  if (state) flags |= OtmaPrefixFlag.STATE_DATA;
  if (security) flags |= OtmaPrefixFlag.SECURITY_DATA;
  if (user) flags |= OtmaPrefixFlag.USER_DATA;
  if (segments) flags |= OtmaPrefixFlag.APPLICATION_DATA;
  t[offset] = architectureLevel;
  t[offset + 1] = messageType;
  t[offset + 2] = responseFlags;
  t[offset + 3] = commitConfirmation;
  t[offset + 4] = commandType;
  t[offset + 5] = processingFlags;
  if (!putName(control.tpipe, t, offset + CONTROL_TPIPE, 8, page, np)) return -1;
  t[offset + 14] = chainState;
  t[offset + 15] = flags;
  putU32(t, offset + 16, sendSequence);
  putU16(t, offset + 20, senseCode);
  putU16(t, offset + 22, reasonCode);
  putU32(t, offset + 24, recoverableSequence);
  putU16(t, offset + 28, segmentSequence);
  putU16(t, offset + 30, reserved);
  let p = offset + CONTROL_SIZE;
  // ---- transaction state ----
  if (state) {
    const s = state as OtmaTransactionState;
    const rest = s.rest;
    const extent = transactionExtent(s);
    const len = 3 + (rest.length > extent ? rest.length : extent);
    if (len > 0xffff || !isU8(s.serverState)) return -1;
    putU16(t, p, len);
    t[p + 2] = s.serverState;
    t.set(rest, p + 3);
    if (len - 3 > rest.length || extent > 0) {
      if (!putTransactionFields(s, t, p + 3, len - 3, page, np)) return -1;
    }
    p += len;
  }
  // ---- security ----
  if (security) {
    const len = securitySize(security);
    if (len > 0xffff || !isU8(security.flag)) return -1;
    putU16(t, p, len);
    t[p + 2] = security.flag;
    const userId = security.userId;
    const groupName = security.groupName;
    t[p + 3] = ((userId !== undefined ? 1 : 0) + (groupName !== undefined ? 1 : 0)) * SECURITY_FIELD_LENGTH;
    let q = p + 4;
    if (userId !== undefined) {
      t[q] = SECURITY_FIELD_LENGTH;
      t[q + 1] = OtmaSecurityFieldType.USER_ID;
      if (!putName(userId, t, q + 2, 8, page, np)) return -1;
      q += SECURITY_FIELD_LENGTH;
    }
    if (groupName !== undefined) {
      t[q] = SECURITY_FIELD_LENGTH;
      t[q + 1] = OtmaSecurityFieldType.GROUP;
      if (!putName(groupName, t, q + 2, 8, page, np)) return -1;
      q += SECURITY_FIELD_LENGTH;
    }
    copyInto(security.rest, t, q);
    p += len;
  }
  // ---- user data ----
  if (user) {
    const rest = user.rest;
    const len = USER_SIZE + rest.length;
    const { align, returnCode, flag1 } = user;
    if (len > 0xffff || !isU16(align) || !isU32(returnCode) || !isU8(flag1)) return -1;
    putU16(t, p, len);
    putU16(t, p + U_ALIGN, align);
    if (!putName(user.destinationId, t, p + U_DEST, 8, page, np) || !putName(user.originId, t, p + U_ORIGIN, 8, page, np) || !putName(user.portId, t, p + U_PORT, 8, page, np)) return -1;
    if (!putBytes(user.logonToken, t, p + U_LTOKEN, 8)) return -1;
    putU32(t, p + U_RETCODE, returnCode);
    if (!putName(user.reasonName, t, p + U_REASON, 8, page, np)) return -1;
    if (!putBytes(user.responseToken, t, p + U_RTOKEN, 4)) return -1;
    if (!putName(user.passTicket, t, p + U_PASSTICKET, 8, page, np)) return -1;
    t[p + U_FLAG1] = flag1;
    copyInto(rest, t, p + USER_SIZE);
    p += len;
  }
  // ---- application data ----
  if (segments) {
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i]!;
      const z = zz === undefined ? 0 : (zz[i] ?? 0);
      if (s.length + 4 > 0xffff || !isU16(z)) return -1;
      putU16(t, p, s.length + 4);
      putU16(t, p + 2, z);
      copyInto(s, t, p + 4);
      p += s.length + 4;
    }
  }
  return p - offset;
}

/** `writeTransactionFields` without throwing: false when a value does not fit. */
function putTransactionFields(s: OtmaTransactionState, t: Uint8Array, base: number, bodyLength: number, page: CodePage, np: NamePage): boolean {
  const rest = s.rest;
  const space = page.space;
  for (let i = rest.length; i < bodyLength; i++) t[base + i] = (i >= TX_MAP && i < TX_MAP + 8) || (i >= TX_LTERM && i < TX_LTERM + 8) ? space : 0;
  const { syncFlags, syncLevel, mapName, serverToken, correlator, contextId, ltermOverride, holdQueueDepth } = s;
  if (syncFlags !== undefined) {
    if (!isU8(syncFlags)) return false;
    t[base] = syncFlags;
  }
  if (syncLevel !== undefined) {
    if (!isU8(syncLevel)) return false;
    t[base + 1] = syncLevel;
  }
  if (mapName !== undefined && !putName(mapName, t, base + TX_MAP, 8, page, np)) return false;
  if (serverToken !== undefined && !putBytes(serverToken, t, base + TX_TOKEN, 16)) return false;
  if (correlator !== undefined && !putBytes(correlator, t, base + TX_CORRELATOR, 16)) return false;
  if (contextId !== undefined && !putBytes(contextId, t, base + TX_CONTEXT, 16)) return false;
  if (ltermOverride !== undefined && !putName(ltermOverride, t, base + TX_LTERM, 8, page, np)) return false;
  if (holdQueueDepth !== undefined) {
    if (!isU32(holdQueueDepth)) return false;
    putU32(t, base + TX_DEPTH, holdQueueDepth);
  }
  return true;
}
