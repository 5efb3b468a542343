/**
 * IMS Connect replies (IMS Connect → client) for the HWSSMPL0 (`*SAMPLE*`) and HWSSMPL1 (`*SAMPL1*`)
 * exits: data segments, CSM, RSM, RMM, GENCID, CORTKN, NETSID/NETUID — spec §1.4, §1.5, §7.
 *
 * A reply is a run of structures, each starting with its own 2-byte length (4-byte for callout data),
 * in the order of spec §7.7, ending with a CSM (success) or consisting of one RSM (status/error). Under
 * HWSSMPL1 the whole reply is preceded by a 4-byte LLLL that counts itself.
 *
 * Control IDs (`*CSMOKY*`, …) are recognised in both EBCDIC and ASCII (spec §1.5, §10); a reply's IDs
 * must all be in one code set. Binary fields are never translated.
 *
 * The fixed structures are declared once as layouts (`CSM_LAYOUT`, `RSM_LAYOUT`, … from `layout.ts`),
 * which give their field tables, generated readers/writers and binary-parser parsers. The whole-reply
 * walk (ID dispatch, data segments, CSM) is hand-written over `Uint8Array` because it is the hot path
 * of every client and must not build strings for the IDs it only compares.
 */
import { REASON_CODES, ReasonCode, ReturnCode, reasonName as lookupReasonName } from './codes.js';
import { type CodePage, CP037, LATIN1 } from './ebcdic.js';
import { CodecError, CodecErrorCode } from './errors.js';
import { allocOutput } from './alloc.js';
import { defineLayout } from './layout.js';

// ---------------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------------

/** The code set of a reply's control IDs and name fields: EBCDIC when the request's `IRM_ID` was EBCDIC. */
export type CodeSet = 'ebcdic' | 'ascii';

/** 8-character control IDs of reply structures (spec §1.5). */
export const ReplyId = {
  CSM: '*CSMOKY*',
  RSM: '*REQSTS*',
  RMM: '*REQMOD*',
  GENCID: '*GENCID*',
  CORTKN: '*CORTKN*',
  NETSID: '*NETSID*',
  NETUID: '*NETUID*',
} as const;
export type ReplyIdName = keyof typeof ReplyId;

/** Flag bits of `CSM_FLG1` / `RSM_FLG1` (byte 2 of a CSM or RSM; spec §7.1–§7.2). */
export const StatusFlag = {
  /** `CSM_AMSG`: asynchronous output is queued for this client ID. */
  ASYNC_MESSAGE_QUEUED: 0x80,
  /** Conversational output: the conversation continues. */
  CONVERSATIONAL: 0x40,
  /** The client must answer with ACK or NAK. */
  ACK_REQUIRED: 0x20,
  /** CSM only: byte 3 holds the protocol level. */
  PROTOCOL_LEVEL_PRESENT: 0x10,
} as const;

/** Values of `CSM_PRLVLFLG` (CSM byte 3, valid when flag X'10' is set; spec §7.1). */
export const ProtocolLevel = {
  BASE: 0x00,
  RESERVED: 0x01,
  /** CM0 ACK NOWAIT supported. */
  CM0_ACK_NOWAIT: 0x02,
  /** RACROUTE return codes are reported in RSM byte 3. */
  RACF_RETURN_CODES: 0x03,
} as const;

/** Fixed structure lengths. */
export const ReplyLength = {
  /** HWSSMPL1's leading total length. */
  LLLL: 4,
  CSM: 12,
  RSM: 20,
  RMM: 20,
  GENCID: 20,
  CORTKN: 52,
  /** The client-visible correlation token: the 40 bytes from `COR_LL` on (copied into `IRM_CORTKN`). */
  CORRELATION_TOKEN: 40,
  /** NETSID/NETUID header: LL, reserved(2), ID(8), reserved(4). */
  NETWORK_SECURITY_HEADER: 16,
  /** LL + ZZ of a data segment. */
  SEGMENT_HEADER: 4,
  /**
   * Largest LL of an LLZZ data segment. IBM bounds segments at 32 KB and treats LL as a signed
   * halfword (reason 5, "negative length value"), so LL > X'7FFF' is rejected both ways.
   */
  MAX_SEGMENT: 0x7fff,
  /** Largest whole message IMS Connect allows (X'7FFFFFFF'). */
  MAX_MESSAGE: 0x7fffffff,
} as const;

// ---------------------------------------------------------------------------------------------------
// Layouts of the fixed structures (spec §7.1–§7.6)
// ---------------------------------------------------------------------------------------------------

/** CSM — complete status message, 12 bytes (spec §7.1). */
export const CSM_LAYOUT = defineLayout('CSM', [
  { name: 'length', kind: 'u16', ibm: 'CSM_LEN', doc: "X'000C'" },
  { name: 'flags', kind: 'u8', ibm: 'CSM_FLG1', doc: "X'80' async queued, X'40' conversation, X'20' ACK/NAK required, X'10' protocol level in byte 3" },
  { name: 'protocolLevel', kind: 'u8', ibm: 'CSM_PRLVLFLG', doc: 'protocol level (valid when FLG1 has X\'10\')' },
  { name: 'id', kind: 'char', length: 8, ibm: 'CSM_ID', doc: '*CSMOKY*' },
]);

/** RSM — request status message, 20 bytes (spec §7.2). */
export const RSM_LAYOUT = defineLayout('RSM', [
  { name: 'length', kind: 'u16', ibm: 'RSM_LEN', doc: "X'0014'" },
  { name: 'flags', kind: 'u8', ibm: 'RSM_FLG1', doc: 'same bits as CSM_FLG1' },
  { name: 'racfOrOtmaReason', kind: 'u8', ibm: 'RSM_RACFRC / RSM_OTMRSN', doc: 'RACROUTE return code (protocol level 3) or OTMA reason' },
  { name: 'id', kind: 'char', length: 8, ibm: 'RSM_ID', doc: '*REQSTS*' },
  { name: 'returnCode', kind: 'u32', ibm: 'RSM_RETCOD' },
  { name: 'reasonCode', kind: 'u32', ibm: 'RSM_RSNCOD', doc: 'reason, OTMA sense, CSL code or timer value' },
]);

/** RMM — request MOD message, 20 bytes (spec §7.3). */
export const RMM_LAYOUT = defineLayout('RMM', [
  { name: 'length', kind: 'u16', doc: "X'0014'" },
  { name: 'zz', kind: 'u16', doc: 'zeros' },
  { name: 'id', kind: 'char', length: 8, doc: '*REQMOD*' },
  { name: 'mod', kind: 'char', length: 8, doc: 'MFS MOD name' },
]);

/** GENCID — returned client ID, 20 bytes (spec §7.4). */
export const GENCID_LAYOUT = defineLayout('GENCID', [
  { name: 'length', kind: 'u16', doc: "X'0014'" },
  { name: 'zz', kind: 'u16', doc: 'zeros' },
  { name: 'id', kind: 'char', length: 8, doc: '*GENCID*' },
  { name: 'clientId', kind: 'char', length: 8, doc: 'generated client ID' },
]);

/** The 40-byte callout correlation token, from `COR_LL` on (spec §7.5). */
export const CORRELATION_TOKEN_LAYOUT = defineLayout('correlation token', [
  { name: 'tokenLength', kind: 'u16', ibm: 'COR_LL', doc: "X'0028'" },
  { name: 'regionId', kind: 'u16', ibm: 'COR_PSTNR', doc: 'region ID' },
  { name: 'imsId', kind: 'char', length: 4, ibm: 'COR_IMSID', doc: 'IMS ID' },
  { name: 'memberToken', kind: 'bytes', length: 8, ibm: 'COR_MEMTK', doc: 'OTMA tmember token' },
  { name: 'messageToken', kind: 'bytes', length: 8, ibm: 'COR_AWETK', doc: 'OTMA message token' },
  { name: 'tpipe', kind: 'char', length: 8, ibm: 'COR_TPIPE', doc: 'tpipe name' },
  { name: 'userId', kind: 'char', length: 8, ibm: 'COR_USERID', doc: 'user ID from the ICAL' },
]);

/** CORTKN header, 12 bytes; the 40-byte token follows (spec §7.5). */
export const CORTKN_HEADER_LAYOUT = defineLayout('CORTKN header', [
  { name: 'length', kind: 'u16', ibm: 'COR_Len', doc: "X'0034' (52)" },
  { name: 'reserved', kind: 'u16', ibm: 'COR_Rsvd', doc: 'zeros' },
  { name: 'id', kind: 'char', length: 8, ibm: 'COR_Id', doc: '*CORTKN*' },
]);

/** NETSID / NETUID header, 16 bytes; the data follows (spec §7.6). */
export const NETWORK_SECURITY_HEADER_LAYOUT = defineLayout('NETSID/NETUID header', [
  { name: 'length', kind: 'u16', doc: 'header + data' },
  { name: 'reserved', kind: 'u16' },
  { name: 'id', kind: 'char', length: 8, doc: '*NETSID* or *NETUID*' },
  { name: 'reserved2', kind: 'u32' },
]);

// ---------------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------------

/** Complete status message (last structure of a successful reply). */
export interface Csm {
  /** `CSM_FLG1`: bits of `StatusFlag`. */
  readonly flags: number;
  /** `CSM_PRLVLFLG` (byte 3): a `ProtocolLevel`, meaningful only when `flags` has X'10'. Kept as sent. */
  readonly protocolLevel: number;
}

/** Request status message (the sole structure of a status/error reply). */
export interface Rsm {
  /** `RSM_FLG1`: bits of `StatusFlag` (X'80', X'40', X'20'). IBM's exits send X'00' on errors. */
  readonly flags: number;
  /**
   * RSM byte 3: the RACROUTE VERIFY return code for a RACF failure (protocol level X'03'), otherwise
   * the OTMA reason code.
   */
  readonly racfOrOtmaReason: number;
  /** `RSM_RETCOD` — see `ReturnCode`. */
  readonly returnCode: number;
  /** `RSM_RSNCOD` — a reason code, OTMA sense code, CSL code or timer value depending on the RC. */
  readonly reasonCode: number;
  /**
   * Name of the reason (`reasonName(reasonCode)`, e.g. `NFNDDST`) when the RC's reason field holds an
   * IMS Connect reason code. Filled by the decoder; ignored by the encoder.
   */
  readonly reasonName?: string;
}

/** A successful reply: optional leading structures, data segments, CSM. */
export interface DataReply {
  readonly kind: 'data';
  /**
   * Application data, one entry per segment, without LL/ZZ (or LLLL). When `correlationToken` is set
   * (synchronous callout) the segments are LLLL segments (4-byte length, may exceed 32 KB); otherwise
   * LLZZ segments.
   */
  readonly segments: readonly Uint8Array[];
  /**
   * ZZ of each LLZZ segment, only when at least one is non-zero (IMS Connect sends X'0000'); absent
   * means all zero. Same length as `segments`.
   */
  readonly zz?: readonly number[];
  readonly csm: Csm;
  /** MFS MOD name from the RMM (`*REQMOD*`), blanks trimmed. */
  readonly mod?: string;
  /** Client ID from `*GENCID*`, blanks trimmed. */
  readonly generatedClientId?: string;
  /** The 40-byte callout correlation token from `*CORTKN*` (see `parseCorrelationToken`). */
  readonly correlationToken?: Uint8Array;
  /** Data of `*NETSID*` (network session ID). */
  readonly netsid?: Uint8Array;
  /** Data of `*NETUID*` (network user ID). */
  readonly netuid?: Uint8Array;
  /** Code set of the control IDs: set by the decoder; the encoder's default when no `codeSet` option. */
  readonly codeSet?: CodeSet;
}

/** A status reply: one RSM. */
export interface StatusReply {
  readonly kind: 'status';
  readonly rsm: Rsm;
  /** Code set of the control ID: set by the decoder; the encoder's default when no `codeSet` option. */
  readonly codeSet?: CodeSet;
}

/** A whole IMS Connect reply. */
export type ImsReply = DataReply | StatusReply;

/** Options of `encodeReply`. */
export interface EncodeReplyOptions {
  /** True for HWSSMPL1 (`*SAMPL1*`): prefix the reply with its 4-byte total length. */
  readonly llll: boolean;
  /** Code set of control IDs and name fields. Default: the reply's `codeSet`, else `'ebcdic'`. */
  readonly codeSet?: CodeSet;
  /** EBCDIC code page for name fields (MOD name, client ID). Default CP037. */
  readonly codePage?: CodePage;
}

/** Options of `decodeReply`. */
export interface DecodeReplyOptions {
  /** True for HWSSMPL1 (`*SAMPL1*`): the reply starts with a 4-byte total length. */
  readonly llll: boolean;
  /** EBCDIC code page for name fields (MOD name, client ID). Default CP037. */
  readonly codePage?: CodePage;
}

// ---------------------------------------------------------------------------------------------------
// Control IDs in both code sets
// ---------------------------------------------------------------------------------------------------

/** Structure kinds found by `scanReplyStructure`. */
export const StructureKind = {
  DATA: 0,
  /** A callout data segment with a 4-byte LLLL. */
  DATA_LLLL: 1,
  CSM: 2,
  RSM: 3,
  RMM: 4,
  GENCID: 5,
  CORTKN: 6,
  NETSID: 7,
  NETUID: 8,
} as const;
export type StructureKind = (typeof StructureKind)[keyof typeof StructureKind];

const ID_NAMES = ['CSM', 'RSM', 'RMM', 'GENCID', 'CORTKN', 'NETSID', 'NETUID'] as const;
const ID_KIND: readonly StructureKind[] = [StructureKind.CSM, StructureKind.RSM, StructureKind.RMM, StructureKind.GENCID, StructureKind.CORTKN, StructureKind.NETSID, StructureKind.NETUID];
const ID_BYTES_EBCDIC: readonly Uint8Array[] = ID_NAMES.map((n) => CP037.encode(ReplyId[n]));
const ID_BYTES_ASCII: readonly Uint8Array[] = ID_NAMES.map((n) => LATIN1.encode(ReplyId[n]));
const ASCII_FLAG = 0x10;
const NO_ID = -1;

/** Which ID sits at `bytes[off, off+8)`: `kind | ASCII_FLAG?`, or NO_ID. Caller guarantees 8 bytes. */
function matchId(bytes: Uint8Array, off: number): number {
  const first = bytes[off];
  let table: readonly Uint8Array[];
  let flag: number;
  if (first === 0x5c) {
    table = ID_BYTES_EBCDIC;
    flag = 0;
  } else if (first === 0x2a) {
    table = ID_BYTES_ASCII;
    flag = ASCII_FLAG;
  } else return NO_ID;
  outer: for (let i = 0; i < table.length; i++) {
    const id = table[i]!;
    for (let j = 1; j < 8; j++) if (bytes[off + j] !== id[j]) continue outer;
    return ID_KIND[i]! | flag;
  }
  return NO_ID;
}

/** The length a structure with this ID must have (or the minimum, for NETSID/NETUID). */
function idLengthFits(kind: number, ll: number): boolean {
  switch (kind) {
    case StructureKind.CSM:
      return ll === ReplyLength.CSM;
    case StructureKind.RSM:
      return ll === ReplyLength.RSM;
    case StructureKind.RMM:
    case StructureKind.GENCID:
      return ll === ReplyLength.RMM;
    case StructureKind.CORTKN:
      return ll === ReplyLength.CORTKN;
    default:
      return ll >= ReplyLength.NETWORK_SECURITY_HEADER;
  }
}

const TWO_32 = 0x1_0000_0000;

/** `scanReplyStructure` result when more bytes are needed to classify or measure the structure. */
export const NEED_MORE = -1;

/**
 * Classify and measure the structure at `bytes[off]` without copying. Returns `NEED_MORE`, or a packed
 * number: `length + kindAndCodeSet * 2^32` (use `structureLength` / `structureKind` /
 * `structureIsAscii`). `callout` says whether data segments are LLLL (a `*CORTKN*` began the reply).
 *
 * Recognition (spec §1.5): a structure is a CSM/RSM/RMM/GENCID/CORTKN/NETSID/NETUID when bytes 4–11
 * hold that ID (EBCDIC or ASCII) **and** its LL is that structure's length; anything else is a data
 * segment. In callout mode the LL of a control structure is its first halfword, and a data segment's
 * length is the 4-byte LLLL. Throws `IMS_ERR_BAD_LENGTH` for impossible lengths.
 */
export function scanReplyStructure(bytes: Uint8Array, off: number, end: number, callout: boolean): number {
  const avail = end - off;
  if (avail < 2) return NEED_MORE;
  const ll = (bytes[off]! << 8) | bytes[off + 1]!;
  if (!callout) {
    if (ll < ReplyLength.SEGMENT_HEADER) throw new CodecError(CodecErrorCode.BAD_LENGTH, `reply structure at offset ${off} has LL ${ll}, below the 4-byte minimum`, { details: { offset: off, ll } });
    if (ll > ReplyLength.MAX_SEGMENT) throw new CodecError(CodecErrorCode.BAD_LENGTH, `reply structure at offset ${off} has LL X'${ll.toString(16)}', a negative halfword`, { details: { offset: off, ll } });
    if (ll >= 12) {
      if (avail < 12) return NEED_MORE;
      const id = matchId(bytes, off + 4);
      if (id !== NO_ID && idLengthFits(id & 0x0f, ll)) return ll + id * TWO_32;
    }
    return ll; // kind DATA = 0
  }
  // Callout: a control structure needs its ID to be told apart from an LLLL data segment.
  if (avail < 12) return NEED_MORE;
  const id = matchId(bytes, off + 4);
  if (id !== NO_ID && idLengthFits(id & 0x0f, ll)) return ll + id * TWO_32;
  const l4 = ((bytes[off]! << 24) | (bytes[off + 1]! << 16) | (bytes[off + 2]! << 8) | bytes[off + 3]!) >>> 0;
  if (l4 < 4 || l4 > ReplyLength.MAX_MESSAGE) throw new CodecError(CodecErrorCode.BAD_LENGTH, `callout data segment at offset ${off} has LLLL ${l4}`, { details: { offset: off, llll: l4 } });
  return l4 + StructureKind.DATA_LLLL * TWO_32;
}

/** Length part of a `scanReplyStructure` result. */
export function structureLength(scan: number): number {
  return scan % TWO_32;
}
/** Kind part of a `scanReplyStructure` result. */
export function structureKind(scan: number): StructureKind {
  return (Math.floor(scan / TWO_32) & 0x0f) as StructureKind;
}
/** True when the structure's control ID was in ASCII. */
export function structureIsAscii(scan: number): boolean {
  return (Math.floor(scan / TWO_32) & ASCII_FLAG) !== 0;
}

// ---------------------------------------------------------------------------------------------------
// Decoder
// ---------------------------------------------------------------------------------------------------

// Order ranks of spec §7.7; a structure may not follow one of a higher rank.
const RANK_CORTKN = 0;
const RANK_RMM = 1;
const RANK_GENCID = 2;
const RANK_NETWORK = 3;
const RANK_DATA = 4;

function badReply(message: string, offset: number): CodecError {
  return new CodecError(CodecErrorCode.BAD_REPLY, message, { details: { offset } });
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/**
 * Decode one whole reply. With `llll` the bytes must start with a total length equal to their length;
 * without it the bytes must end exactly at the CSM or RSM. Throws `CodecError` (`IMS_ERR_TRUNCATED`,
 * `IMS_ERR_BAD_LENGTH`, `IMS_ERR_BAD_REPLY`) for anything else. The returned `segments` are views into
 * `bytes` (no copy); the correlation token and NETSID/NETUID data are copies.
 */
export function decodeReply(bytes: Uint8Array, options: DecodeReplyOptions): ImsReply {
  let p = 0;
  const end = bytes.length;
  if (options.llll) {
    if (end < 4) throw new CodecError(CodecErrorCode.TRUNCATED, `reply of ${end} bytes is shorter than its LLLL`, { details: { length: end } });
    const total = u32(bytes, 0);
    if (total !== end) throw new CodecError(CodecErrorCode.BAD_LENGTH, `reply LLLL is ${total} but ${end} bytes were given`, { details: { llll: total, length: end } });
    p = 4;
  }
  const page = options.codePage ?? CP037;
  let callout = false;
  let rank = -1;
  let ascii: boolean | undefined;
  let segments: Uint8Array[] | undefined;
  let zz: number[] | undefined;
  let mod: string | undefined;
  let clientId: string | undefined;
  let token: Uint8Array | undefined;
  let netsid: Uint8Array | undefined;
  let netuid: Uint8Array | undefined;
  const first = p;
  while (true) {
    const scan = scanReplyStructure(bytes, p, end, callout);
    if (scan === NEED_MORE) throw new CodecError(CodecErrorCode.TRUNCATED, `reply ends at offset ${end} before its CSM or RSM`, { details: { offset: p } });
    const len = scan % TWO_32;
    const tag = Math.floor(scan / TWO_32);
    const kind = tag & 0x0f;
    if (p + len > end) throw new CodecError(CodecErrorCode.TRUNCATED, `reply structure at offset ${p} needs ${len} bytes; ${end - p} remain`, { details: { offset: p, length: len } });
    if (kind !== StructureKind.DATA && kind !== StructureKind.DATA_LLLL) {
      const isAscii = (tag & ASCII_FLAG) !== 0;
      if (ascii === undefined) ascii = isAscii;
      else if (ascii !== isAscii) throw badReply(`reply mixes EBCDIC and ASCII control IDs (offset ${p})`, p);
    }
    const names = ascii ? LATIN1 : page;
    switch (kind) {
      case StructureKind.DATA:
      case StructureKind.DATA_LLLL: {
        rank = RANK_DATA;
        // LLZZ and LLLL headers are both 4 bytes.
        (segments ??= []).push(bytes.subarray(p + 4, p + len));
        if (kind === StructureKind.DATA) {
          const z = (bytes[p + 2]! << 8) | bytes[p + 3]!;
          if (z !== 0 && zz === undefined) zz = new Array<number>(segments.length - 1).fill(0);
          if (zz !== undefined) zz.push(z);
        }
        break;
      }
      case StructureKind.CSM: {
        if (p + len !== end) throw badReply(`${end - p - len} bytes follow the CSM at offset ${p}`, p);
        const csm: Csm = { flags: bytes[p + 2]!, protocolLevel: bytes[p + 3]! };
        const reply: { -readonly [K in keyof DataReply]: DataReply[K] } = { kind: 'data', segments: segments ?? [], csm };
        if (zz !== undefined) reply.zz = zz;
        if (mod !== undefined) reply.mod = mod;
        if (clientId !== undefined) reply.generatedClientId = clientId;
        if (token !== undefined) reply.correlationToken = token;
        if (netsid !== undefined) reply.netsid = netsid;
        if (netuid !== undefined) reply.netuid = netuid;
        reply.codeSet = ascii ? 'ascii' : 'ebcdic';
        return reply;
      }
      case StructureKind.RSM: {
        if (p !== first) throw badReply(`an RSM must be the only structure of a reply (found at offset ${p})`, p);
        if (p + len !== end) throw badReply(`${end - p - len} bytes follow the RSM at offset ${p}`, p);
        const r = RSM_LAYOUT.read(bytes, p, names);
        const rsm: { -readonly [K in keyof Rsm]: Rsm[K] } = { flags: r.flags, racfOrOtmaReason: r.racfOrOtmaReason, returnCode: r.returnCode, reasonCode: r.reasonCode };
        const name = rsmReasonName(r.returnCode, r.reasonCode);
        if (name !== undefined) rsm.reasonName = name;
        return { kind: 'status', rsm, codeSet: ascii ? 'ascii' : 'ebcdic' };
      }
      case StructureKind.CORTKN:
        if (p !== first) throw badReply(`*CORTKN* must be the first structure (found at offset ${p})`, p);
        rank = RANK_CORTKN;
        token = bytes.slice(p + 12, p + 52);
        callout = true;
        break;
      case StructureKind.RMM:
        if (rank >= RANK_RMM) throw badReply(`*REQMOD* out of order at offset ${p}`, p);
        rank = RANK_RMM;
        mod = RMM_LAYOUT.read(bytes, p, names).mod;
        break;
      case StructureKind.GENCID:
        if (rank >= RANK_GENCID) throw badReply(`*GENCID* out of order at offset ${p}`, p);
        rank = RANK_GENCID;
        clientId = GENCID_LAYOUT.read(bytes, p, names).clientId;
        break;
      case StructureKind.NETSID:
      case StructureKind.NETUID: {
        if (rank > RANK_NETWORK) throw badReply(`network security structure out of order at offset ${p}`, p);
        const isSid = kind === StructureKind.NETSID;
        if ((isSid ? netsid : netuid) !== undefined) throw badReply(`duplicate ${isSid ? '*NETSID*' : '*NETUID*'} at offset ${p}`, p);
        rank = RANK_NETWORK;
        const data = bytes.slice(p + 16, p + len);
        if (isSid) netsid = data;
        else netuid = data;
        break;
      }
      default:
        throw badReply(`unknown structure at offset ${p}`, p);
    }
    p += len;
  }
}

/** The reason name an RSM carries, when its reason field is an IMS Connect reason code. */
function rsmReasonName(returnCode: number, reasonCode: number): string | undefined {
  // RC 16: sense code; 24/28: CSL code; 32/36/40: timer value — no reason name.
  if (returnCode === ReturnCode.OTMA_NAK || returnCode === ReturnCode.SCI_ERROR || returnCode === ReturnCode.OM_ERROR) return undefined;
  if (returnCode === ReturnCode.TIMER_EXPIRED_CLOSE || returnCode === ReturnCode.DEFAULT_TIMER_EXPIRED || returnCode === ReturnCode.TIMER_EXPIRED_KEEP) return undefined;
  return REASON_CODES[reasonCode] ? lookupReasonName(reasonCode) : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Encoder
// ---------------------------------------------------------------------------------------------------

function invalid(message: string, details?: Record<string, unknown>): CodecError {
  return new CodecError(CodecErrorCode.INVALID_VALUE, message, details === undefined ? undefined : { details });
}

function checkByte(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw invalid(`${name} must be a byte, got ${v}`, { [name]: v });
}

function checkU16(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw invalid(`${name} must be an unsigned 16-bit integer, got ${v}`, { [name]: v });
}

function checkU32(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw invalid(`${name} must be an unsigned 32-bit integer, got ${v}`, { [name]: v });
}

function checkName(name: string, v: unknown): void {
  if (typeof v !== 'string') throw invalid(`${name} must be a string`, { [name]: v });
  if (v.length > 8) throw invalid(`${name} "${v}" is ${v.length} characters; the field holds 8`, { [name]: v });
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** Control ID bytes by `StructureKind` (index = kind), per code set. */
const ID_BY_KIND_EBCDIC: readonly Uint8Array[] = idsByKind(ID_BYTES_EBCDIC);
const ID_BY_KIND_ASCII: readonly Uint8Array[] = idsByKind(ID_BYTES_ASCII);
function idsByKind(table: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  ID_KIND.forEach((kind, i) => (out[kind] = table[i]!));
  return out;
}

/** Write a structure's LL, two zero bytes and its 8-byte control ID (the first 12 bytes of RMM, GENCID, CORTKN, CSM headers). */
function writeIdHeader(b: Uint8Array, o: number, ll: number, id: Uint8Array): void {
  b[o] = ll >>> 8;
  b[o + 1] = ll & 0xff;
  b[o + 2] = 0;
  b[o + 3] = 0;
  for (let i = 0; i < 8; i++) b[o + 4 + i] = id[i]!;
}

/**
 * Size in bytes of `encodeReply(reply, options)`. Validates the reply as the encoder does: throws
 * `IMS_ERR_INVALID_VALUE` when a value does not fit its field (byte flags, 32-bit codes, 8-character
 * names, segments over 32 KB, a 40-byte correlation token, one ZZ per segment).
 */
export function replySize(reply: ImsReply, options: Pick<EncodeReplyOptions, 'llll'>): number {
  const head = options.llll ? ReplyLength.LLLL : 0;
  if (reply.kind === 'status') {
    const r = reply.rsm;
    checkByte('rsm.flags', r.flags);
    checkByte('rsm.racfOrOtmaReason', r.racfOrOtmaReason);
    checkU32('rsm.returnCode', r.returnCode);
    checkU32('rsm.reasonCode', r.reasonCode);
    return head + ReplyLength.RSM;
  }
  const { segments, zz, csm } = reply;
  checkByte('csm.flags', csm.flags);
  checkByte('csm.protocolLevel', csm.protocolLevel);
  const callout = reply.correlationToken !== undefined;
  if (callout && reply.correlationToken.length !== ReplyLength.CORRELATION_TOKEN) throw invalid(`correlationToken must be ${ReplyLength.CORRELATION_TOKEN} bytes, got ${reply.correlationToken.length}`);
  if (zz !== undefined && (callout || zz.length !== segments.length)) throw invalid(callout ? 'zz is not allowed on callout (LLLL) segments' : `zz has ${zz.length} entries for ${segments.length} segments`);
  let size = head + ReplyLength.CSM;
  if (callout) size += ReplyLength.CORTKN;
  if (reply.mod !== undefined) {
    checkName('mod', reply.mod);
    size += ReplyLength.RMM;
  }
  if (reply.generatedClientId !== undefined) {
    checkName('generatedClientId', reply.generatedClientId);
    size += ReplyLength.GENCID;
  }
  const { netsid, netuid } = reply;
  if (netsid !== undefined) {
    if (netsid.length + ReplyLength.NETWORK_SECURITY_HEADER > ReplyLength.MAX_SEGMENT) throw invalid(`netsid has ${netsid.length} bytes; too long for its structure`);
    size += ReplyLength.NETWORK_SECURITY_HEADER + netsid.length;
  }
  if (netuid !== undefined) {
    if (netuid.length + ReplyLength.NETWORK_SECURITY_HEADER > ReplyLength.MAX_SEGMENT) throw invalid(`netuid has ${netuid.length} bytes; too long for its structure`);
    size += ReplyLength.NETWORK_SECURITY_HEADER + netuid.length;
  }
  for (let i = 0; i < segments.length; i++) {
    const n = segments[i]!.length + ReplyLength.SEGMENT_HEADER;
    if (!callout && n > ReplyLength.MAX_SEGMENT) throw invalid(`segment ${i} has ${n - 4} bytes; an LLZZ segment holds at most ${ReplyLength.MAX_SEGMENT - 4}`, { segment: i, length: n - 4 });
    if (zz !== undefined) checkU16('zz', zz[i]!);
    size += n;
  }
  if (size > ReplyLength.MAX_MESSAGE) throw invalid(`reply of ${size} bytes exceeds X'7FFFFFFF'`, { size });
  return size;
}

/**
 * Encode a whole reply in the order of spec §7.7. Throws `IMS_ERR_INVALID_VALUE` when a value does not
 * fit its field (see `replySize`).
 *
 * The output is allocated once. Outputs of 65 bytes to 4 KB are views into a shared 8 KB slab, as
 * `Buffer.allocUnsafe` does (but a plain `Uint8Array`): `out.buffer` is the slab, so use
 * `byteOffset`/`byteLength` when handing the `ArrayBuffer` on.
 */
export function encodeReply(reply: ImsReply, options: EncodeReplyOptions): Uint8Array {
  const size = replySize(reply, options);
  const out = allocOutput(size);
  writeReply(reply, options, out, 0, size);
  return out;
}

/**
 * Encode a reply into `target` at `offset` and return its size. Every byte of the reply is written,
 * so `target` need not be zeroed. Throws `IMS_ERR_INVALID_VALUE` when a value does not fit or `target`
 * lacks room (nothing is written then).
 */
export function encodeReplyInto(reply: ImsReply, options: EncodeReplyOptions, target: Uint8Array, offset = 0): number {
  const size = replySize(reply, options);
  if (!Number.isInteger(offset) || offset < 0 || offset + size > target.length) throw invalid(`target has ${target.length - offset} bytes at offset ${offset}; the reply needs ${size}`, { size, offset });
  writeReply(reply, options, target, offset, size);
  return size;
}

/** Write a validated reply of `size` bytes at `out[start]`, every byte. */
function writeReply(reply: ImsReply, options: EncodeReplyOptions, out: Uint8Array, start: number, size: number): void {
  const ascii = (options.codeSet ?? reply.codeSet ?? 'ebcdic') === 'ascii';
  const ids = ascii ? ID_BY_KIND_ASCII : ID_BY_KIND_EBCDIC;
  let p = start;
  if (options.llll) {
    writeU32(out, p, size);
    p += ReplyLength.LLLL;
  }
  if (reply.kind === 'status') {
    const r = reply.rsm;
    writeIdHeader(out, p, ReplyLength.RSM, ids[StructureKind.RSM]!);
    out[p + 2] = r.flags;
    out[p + 3] = r.racfOrOtmaReason;
    writeU32(out, p + 12, r.returnCode);
    writeU32(out, p + 16, r.reasonCode);
    return;
  }
  const names = ascii ? LATIN1 : (options.codePage ?? CP037);
  const { segments, zz, csm, correlationToken, mod, generatedClientId, netsid, netuid } = reply;
  if (correlationToken !== undefined) {
    writeIdHeader(out, p, ReplyLength.CORTKN, ids[StructureKind.CORTKN]!);
    out.set(correlationToken, p + 12);
    p += ReplyLength.CORTKN;
  }
  if (mod !== undefined) {
    writeIdHeader(out, p, ReplyLength.RMM, ids[StructureKind.RMM]!);
    names.encodeInto(mod, out, p + 12, 8);
    p += ReplyLength.RMM;
  }
  if (generatedClientId !== undefined) {
    writeIdHeader(out, p, ReplyLength.GENCID, ids[StructureKind.GENCID]!);
    names.encodeInto(generatedClientId, out, p + 12, 8);
    p += ReplyLength.GENCID;
  }
  // [UNV] the relative order of *NETSID* and *NETUID* is not documented; imsplex writes NETSID first
  // and its decoder accepts either order.
  if (netsid !== undefined) p = writeNetworkSecurity(out, p, ids[StructureKind.NETSID]!, netsid);
  if (netuid !== undefined) p = writeNetworkSecurity(out, p, ids[StructureKind.NETUID]!, netuid);
  if (correlationToken !== undefined) {
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i]!;
      writeU32(out, p, s.length + 4);
      out.set(s, p + 4);
      p += s.length + 4;
    }
  } else {
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i]!;
      const z = zz === undefined ? 0 : zz[i]!;
      out[p] = (s.length + 4) >>> 8;
      out[p + 1] = (s.length + 4) & 0xff;
      out[p + 2] = z >>> 8;
      out[p + 3] = z & 0xff;
      out.set(s, p + 4);
      p += s.length + 4;
    }
  }
  writeIdHeader(out, p, ReplyLength.CSM, ids[StructureKind.CSM]!);
  out[p + 2] = csm.flags;
  out[p + 3] = csm.protocolLevel;
}

/** A NETSID/NETUID structure: LL, reserved halfword, ID, reserved fullword, data. */
function writeNetworkSecurity(out: Uint8Array, p: number, id: Uint8Array, data: Uint8Array): number {
  writeIdHeader(out, p, ReplyLength.NETWORK_SECURITY_HEADER + data.length, id);
  writeU32(out, p + 12, 0);
  out.set(data, p + ReplyLength.NETWORK_SECURITY_HEADER);
  return p + ReplyLength.NETWORK_SECURITY_HEADER + data.length;
}

// ---------------------------------------------------------------------------------------------------
// Builders and helpers
// ---------------------------------------------------------------------------------------------------

/** A CSM with the protocol-level flag set; `extraFlags` adds X'80'/X'40'/X'20'. */
export function csm(extraFlags = 0, protocolLevel: number = ProtocolLevel.CM0_ACK_NOWAIT): Csm {
  return { flags: StatusFlag.PROTOCOL_LEVEL_PRESENT | extraFlags, protocolLevel };
}

/** A status reply with the given return and reason codes (flags and byte 3 default to 0). */
export function statusReply(returnCode: number, reasonCode: number, extra: { flags?: number; racfOrOtmaReason?: number } = {}): StatusReply {
  return { kind: 'status', rsm: { flags: extra.flags ?? 0, racfOrOtmaReason: extra.racfOrOtmaReason ?? 0, returnCode, reasonCode } };
}

/**
 * The RSM IMS Connect sends after the client's ACK (committed, reason 97 `DEAL_CTD`) or NAK (backed out,
 * reason 98 `DEAL_ABT`) of a CM1 CONFIRM reply. [UNV] IBM's call flows give only the reason; the RC is
 * not documented, and imsplex sends RC 0 (spec §13.3, Uncertain item 7). Clients should judge reason
 * 97 as success whatever the RC (`isSuccessRsm`).
 */
export function deallocateReply(confirmed: boolean): StatusReply {
  return statusReply(ReturnCode.OK, confirmed ? ReasonCode.DEAL_CTD : ReasonCode.DEAL_ABT);
}

/** True when the CSM/RSM flags ask the client for an ACK or NAK. */
export function ackRequired(flags: number): boolean {
  return (flags & StatusFlag.ACK_REQUIRED) !== 0;
}

/** Fields of a correlation token (spec §7.5). */
export interface CorrelationTokenFields {
  /** `COR_PSTNR` region ID. */
  readonly regionId: number;
  /** `COR_IMSID`, 4 characters, blanks trimmed. */
  readonly imsId: string;
  /** `COR_MEMTK`, 8 bytes. */
  readonly memberToken: Uint8Array;
  /** `COR_AWETK`, 8 bytes. */
  readonly messageToken: Uint8Array;
  /** `COR_TPIPE`, blanks trimmed. */
  readonly tpipe: string;
  /** `COR_USERID`, blanks trimmed. */
  readonly userId: string;
}

/**
 * Read the fields of a 40-byte correlation token. Character fields are decoded with `page` (default
 * CP037: IMS builds the token, so its names are EBCDIC — [INF], the spec does not say).
 */
export function parseCorrelationToken(token: Uint8Array, page: CodePage = CP037): CorrelationTokenFields {
  if (token.length !== ReplyLength.CORRELATION_TOKEN) throw new CodecError(CodecErrorCode.BAD_LENGTH, `correlation token must be ${ReplyLength.CORRELATION_TOKEN} bytes, got ${token.length}`);
  const { regionId, imsId, memberToken, messageToken, tpipe, userId } = CORRELATION_TOKEN_LAYOUT.read(token, 0, page);
  return { regionId, imsId, memberToken, messageToken, tpipe, userId };
}

/** Build a 40-byte correlation token (`COR_LL` = X'0028' first). */
export function buildCorrelationToken(fields: CorrelationTokenFields, page: CodePage = CP037): Uint8Array {
  if (fields.memberToken.length !== 8 || fields.messageToken.length !== 8) throw invalid('memberToken and messageToken must be 8 bytes each');
  return CORRELATION_TOKEN_LAYOUT.encode({ tokenLength: ReplyLength.CORRELATION_TOKEN, ...fields }, page);
}
