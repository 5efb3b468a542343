// Reference: the OTMA encoder/decoder as it was before the hot-path rewrite (commit f0e218c), kept
// verbatim (imports re-pointed) as the same-process bench baseline and the oracle of the fast-path
// equality tests. Not shipped.
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
import { type CodePage, CP037 } from '../../src/ebcdic.js';
import { CodecError, CodecErrorCode } from '../../src/errors.js';
import { defineLayout, readCharField, type LayoutValue } from '../../src/layout.js';
import { OTMA_HOLD_QUEUE_DEPTH_OFFSET, OTMA_MEMBER_EXTENSION_LAYOUT, OTMA_TRANSACTION_FIELDS_LAYOUT } from '../../src/otma-state.js';

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
export function decodeOtmaMessage(bytes: Uint8Array, options: OtmaCodecOptions = {}): OtmaMessage {
  const page = options.codePage ?? CP037;
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
export function encodeOtmaMessage(message: OtmaMessage, options: OtmaCodecOptions = {}): Uint8Array {
  const out = new Uint8Array(otmaMessageSize(message));
  encodeOtmaMessageInto(message, out, 0, options);
  return out;
}

/** Encode into `target` at `offset` (which must have `otmaMessageSize(message)` bytes free). */
export function encodeOtmaMessageInto(message: OtmaMessage, target: Uint8Array, offset: number, options: OtmaCodecOptions = {}): number {
  const page = options.codePage ?? CP037;
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
