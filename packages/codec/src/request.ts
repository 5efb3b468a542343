/**
 * Whole input messages (client → IMS Connect, spec §1.2):
 *
 * ```
 * LLLL | IRM (IRM_LEN bytes) | [OTMA headers, *HWSJAV* only] | LLZZ data … | X'00040000'
 * ```
 *
 * `*HWSJAV*` (IMS TM Resource Adapter) input may instead use IBM's type-1 layout ("Input message from
 * client and passed to message exit"): no end-of-message marker, LLLL bounds the message, and every
 * segment after the first is preceded by its own 32-byte OTMA message-control section:
 *
 * ```
 * LLLL | IRM fixed part | OTMA headers | LLZZ data | (OTMA control (32) | LLZZ data)…
 * ```
 *
 * `decodeRequest` validates everything a server must check before acting and reports each problem as
 * a distinct `CodecError` code whose `details.reason` is the RSM reason IMS Connect answers with
 * (spec §15): 7 total length, 6 IRM length, 5 bad segment, 44 incomplete, 12 no data, 113/114/117/118
 * extensions. An unknown IRM_ID has no reason: IMS Connect closes the socket (HWSP1445E).
 */
import { ReasonCode } from './codes.js';
import {
  IRM_LENGTH_BY_ARCH,
  IrmArch,
  IrmF5,
  IrmId,
  LLLL_SIZE,
  LLZZ_SIZE,
  MAX_SEGMENT_DATA,
  MAX_SEGMENT_LENGTH,
  MESSAGE_TYPES_WITH_DATA,
  MIN_MESSAGE_LENGTH,
  MessageTypeAscii,
  MessageTypeEbcdic,
  PING_REQUEST_TEXT,
  SocketType,
  type IrmArchLevel,
  type MessageType,
  type SocketTypeName,
} from './constants.js';
import { CP037, LATIN1, type CodePage } from './ebcdic.js';
import { CodecError, CodecErrorCode } from './errors.js';
import { getExit, unknownExit, type RegisteredExit } from './exits.js';
import type { IrmExtension } from './extensions.js';
import {
  F0,
  F1,
  F2,
  F3,
  F5,
  decodeIrm,
  irmInternals,
  type CommitModeName,
  type DecodeIrmOptions,
  type Irm,
  type IrmF0Flags,
  type IrmF1Flags,
  type IrmF2Flags,
  type IrmF3Flags,
  type IrmF5Flags,
  type SampleUserPart,
  type SyncLevelName,
} from './irm.js';
import {
  OTMA_ARCHITECTURE_LEVEL,
  OTMA_CONTROL_LAYOUT,
  OtmaChainState,
  OtmaPrefixFlag,
  decodeOtmaMessage,
  encodeOtmaMessageInto,
  otmaControl,
  type OtmaControl,
  type OtmaMessage,
} from './otma.js';
import type { CodeSet } from './reply.js';
import { buildSegmentData, readLlllSegments, readLlzzSegments, segmentsSize, writeSegments, type ReadSegments, type SegmentFormat } from './segments.js';
import { msToIrmTimer } from './timer.js';

/** A decoded input message. */
export interface ImsRequest {
  /** The IRM. */
  irm: Irm;
  /** The client's code set, told by IRM_ID. Answer in kind. */
  codeSet: CodeSet;
  /** The user message exit selected by IRM_ID. */
  exit: RegisteredExit;
  /** Raw OTMA headers sent by a `*HWSJAV*` client (a view), else undefined. Authoritative for encode. */
  otmaHeaders?: Uint8Array;
  /**
   * The same OTMA headers decoded (control, state, security and user-data sections; `segments` is
   * empty because the application data is in `segments` below). Set by `decodeRequest` only;
   * `encodeRequest` writes `otmaHeaders`.
   */
  otma?: OtmaMessage;
  /** Data segments without their LL/ZZ (views into the frame). The first starts with the trancode. */
  segments: Uint8Array[];
  /** `llzz`, or `llll` for a callout response that used 4-byte segment lengths. */
  segmentFormat: SegmentFormat;
  /** ZZ of each segment, only when some ZZ was not zero. */
  segmentReserved?: number[];
  /**
   * `*HWSJAV*` input in IBM's type-1 layout (no end-of-message marker; each segment after the first
   * preceded by a 32-byte OTMA message-control section): those control sections, raw (views into the
   * frame), one per segment after the first, so `segmentHeaders.length === max(0, segments.length - 1)`.
   * Undefined for the end-of-message form. When set, `encodeRequest` writes the type-1 layout with
   * these bytes (authoritative, like `otmaHeaders`).
   */
  segmentHeaders?: Uint8Array[];
  /**
   * The same control sections decoded (set by `decodeRequest` with `segmentHeaders`). `encodeRequest`
   * writes the type-1 layout from these when `segmentHeaders` is undefined (see `otmaChainControls`).
   */
  segmentControls?: OtmaControl[];
}

/** Options of `decodeRequest`. */
export interface DecodeRequestOptions extends DecodeIrmOptions {
  /**
   * Accept a data-carrying message type (send-receive, send-only, callout response) without data
   * segments. Default false: such a message fails with `IMS_ERR_NO_DATA` (reason 12).
   */
  allowEmpty?: boolean;
}

const u32 = (b: Uint8Array, o: number): number => b[o]! * 16777216 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);

/**
 * Size of the OTMA headers at `bytes[at]`: 32 bytes of message-control data, then the state,
 * security and user-data sections that byte 15 (prefix flags X'80'/X'40'/X'20') says are present,
 * each starting with a halfword length that counts itself (spec §11).
 */
export function otmaHeadersLength(bytes: Uint8Array, at: number, limit: number): number {
  const bad = (why: string, details: Record<string, unknown>): CodecError =>
    new CodecError(CodecErrorCode.BAD_OTMA, `OTMA headers at offset ${at}: ${why}`, { details: { reason: ReasonCode.OTMA_SEGMENT_LENGTH, offset: at, ...details } });
  if (at + 32 > limit) throw bad(`the 32-byte message-control section does not fit (${limit - at} bytes remain)`, {});
  const flags = bytes[at + 15]!;
  let p = at + 32;
  for (const [bit, section] of [
    [0x80, 'state data'],
    [0x40, 'security data'],
    [0x20, 'user data'],
  ] as const) {
    if ((flags & bit) === 0) continue;
    if (p + 2 > limit) throw bad(`the ${section} length does not fit`, { section });
    const len = (bytes[p]! << 8) | bytes[p + 1]!;
    if (len < 2 || p + len > limit) throw bad(`the ${section} section length ${len} is outside 2–${limit - p}`, { section, length: len });
    p += len;
  }
  return p - at;
}

/** A data-carrying message type with no data segment: `IMS_ERR_NO_DATA` (reason 12) unless allowed. */
function checkData(type: MessageType | 'UNKNOWN' | undefined, count: number, options: DecodeRequestOptions): void {
  if (count === 0 && type !== undefined && type !== 'UNKNOWN' && MESSAGE_TYPES_WITH_DATA.has(type) && options.allowEmpty !== true) {
    throw new CodecError(CodecErrorCode.NO_DATA, `a ${type} message must carry at least one data segment`, { details: { reason: ReasonCode.NO_DATA, messageType: type } });
  }
}

/**
 * Decode one complete input message (as produced by `RequestFrameReader`). Throws `CodecError`
 * (never anything else) for malformed input.
 */
export function decodeRequest(frame: Uint8Array, options: DecodeRequestOptions = {}): ImsRequest {
  if (frame.length < LLLL_SIZE) {
    throw new CodecError(CodecErrorCode.TRUNCATED, `a message needs at least ${LLLL_SIZE} bytes, got ${frame.length}`, {
      details: { reason: ReasonCode.INVALID_TOTAL_LENGTH, length: frame.length },
    });
  }
  const total = u32(frame, 0);
  if (total < MIN_MESSAGE_LENGTH) {
    throw new CodecError(CodecErrorCode.BAD_LENGTH, `LLLL ${total} is below the minimum message length ${MIN_MESSAGE_LENGTH} (X'58')`, {
      details: { reason: ReasonCode.INVALID_TOTAL_LENGTH, llll: total, length: frame.length },
    });
  }
  if (total > frame.length) {
    throw new CodecError(CodecErrorCode.TRUNCATED, `LLLL says ${total} bytes but the frame has ${frame.length}`, {
      details: { reason: ReasonCode.INVALID_TOTAL_LENGTH, llll: total, length: frame.length },
    });
  }
  if (total < frame.length) {
    throw new CodecError(CodecErrorCode.BAD_LENGTH, `LLLL says ${total} bytes but the frame has ${frame.length}`, {
      details: { reason: ReasonCode.INVALID_TOTAL_LENGTH, llll: total, length: frame.length },
    });
  }
  // The IRM must leave room for the end-of-message marker.
  const { irm, exit, codeSet, end: irmEnd } = decodeIrm(frame, LLLL_SIZE, total - 4, options);
  let at = irmEnd;
  const user = irm.user;
  const type = user !== null && user.kind === 'sample' ? user.f4.type : undefined;
  if (exit.otmaHeaders) {
    // IBM's type-1 layout has no end-of-message marker: the headers may run to LLLL.
    const n = otmaHeadersLength(frame, at, total);
    const otmaHeaders = frame.subarray(at, at + n);
    const page = codeSet === 'ascii' ? LATIN1 : (options.ebcdicPage ?? CP037);
    const otma = decodeOtmaMessage(otmaHeaders, { codePage: page });
    at += n;
    const read = readHwsjavSegments(frame, at, total, otma.control, page);
    checkData(type, read.segments.length, options);
    const request: ImsRequest = { irm, codeSet, exit, otmaHeaders, otma, segments: read.segments, segmentFormat: 'llzz' };
    if (read.reserved !== undefined) request.segmentReserved = read.reserved;
    if (read.headers !== undefined) {
      request.segmentHeaders = read.headers;
      request.segmentControls = read.controls!;
    }
    return request;
  }
  let read: ReadSegments;
  try {
    read = readLlzzSegments(frame, at, total);
  } catch (err) {
    // Callout responses may carry 4-byte LLLL segments instead (spec §1.3, §8).
    if (type !== 'CALLOUT_RESPONSE' && type !== 'CALLOUT_RESPONSE_ACK') throw err;
    try {
      read = readLlllSegments(frame, at, total);
    } catch {
      throw err;
    }
  }
  checkData(type, read.segments.length, options);
  const request: ImsRequest = { irm, codeSet, exit, segments: read.segments, segmentFormat: read.format };
  if (read.reserved !== undefined) request.segmentReserved = read.reserved;
  return request;
}

// ---------------------------------------------------------------------------------------------------
// *HWSJAV* segments: IBM's type-1 chain, or LLZZ segments + end-of-message marker
// ---------------------------------------------------------------------------------------------------

/** Segments of a `*HWSJAV*` message; `headers`/`controls` set for IBM's type-1 layout only. */
interface HwsjavSegments {
  segments: Uint8Array[];
  reserved?: number[];
  headers?: Uint8Array[];
  controls?: OtmaControl[];
}

const CONTROL_SIZE = OTMA_CONTROL_LAYOUT.size; // 32
/** The chain-state bits (first/middle/last/discard) of control byte 14; the low four are carried. */
const CHAIN_BITS = 0xf0;
/** The section bits of the prefix flags (control byte 15); the low four are carried. */
const SECTION_BITS = 0xf0;
const hex2 = (v: number): string => v.toString(16).toUpperCase().padStart(2, '0');

function badControl(at: number, segment: number, why: string, details: Record<string, unknown> = {}): CodecError {
  // [INF] IBM's reason 20 "OTMA segment length error" is the closest documented reason for a chained
  // segment whose control section does not fit the message it belongs to (also used for malformed
  // OTMA headers, `otmaHeadersLength`).
  return new CodecError(CodecErrorCode.BAD_OTMA, `the OTMA control section before segment ${segment + 1} (offset ${at}) ${why}`, {
    details: { reason: ReasonCode.OTMA_SEGMENT_LENGTH, offset: at, segment, ...details },
  });
}

/** One LLZZ segment at `at` (inside `[at, end)`): its LL and ZZ, with `readLlzzSegments`' errors. */
function llzzAt(bytes: Uint8Array, at: number, end: number): { ll: number; zz: number } {
  if (at + LLZZ_SIZE > end) {
    throw new CodecError(CodecErrorCode.TRUNCATED, `segment at offset ${at} has no room for its LLZZ (${end - at} bytes remain)`, { details: { reason: ReasonCode.MESSAGE_INCOMPLETE, offset: at } });
  }
  const ll = (bytes[at]! << 8) | bytes[at + 1]!;
  const zz = (bytes[at + 2]! << 8) | bytes[at + 3]!;
  if (ll <= LLZZ_SIZE || ll > MAX_SEGMENT_LENGTH) {
    throw new CodecError(CodecErrorCode.BAD_SEGMENT, `segment at offset ${at} has LL ${ll}; LL must be 5–${MAX_SEGMENT_LENGTH}`, { details: { reason: ReasonCode.NEGATIVE_LENGTH, offset: at, ll, zz } });
  }
  if (at + ll > end) {
    throw new CodecError(CodecErrorCode.TRUNCATED, `segment at offset ${at} has LL ${ll} but only ${end - at} bytes remain`, { details: { reason: ReasonCode.MESSAGE_INCOMPLETE, offset: at, ll } });
  }
  return { ll, zz };
}

/**
 * Could the bytes at `p` be the control section of a chained segment of the message whose first
 * control section is `first`? Every field this looks at is checked again (strictly) by `readChain`.
 */
function looksLikeChainControl(bytes: Uint8Array, p: number, end: number, first: OtmaControl): boolean {
  if (p + CONTROL_SIZE > end) return false;
  const chain = bytes[p + 14]! & CHAIN_BITS;
  return (
    bytes[p] === OTMA_ARCHITECTURE_LEVEL &&
    bytes[p + 1] === first.messageType &&
    (chain === OtmaChainState.MIDDLE || chain === OtmaChainState.LAST) &&
    (bytes[p + 15]! & SECTION_BITS) === OtmaPrefixFlag.APPLICATION_DATA
  );
}

/**
 * IBM's type-1 layout from `start` (right after the OTMA headers) to `end` (LLLL): the first LLZZ
 * segment, then per further segment a 32-byte control section and one LLZZ segment. Each control
 * section must be one of the same message's middle/last pieces: architecture level X'01', the first
 * section's message type, chain state middle (X'40') — last (X'20') on the final one — and prefix
 * flags announcing application data only (spec §11: later segments carry only the control data and
 * the application data). With more than one segment the first section's chain state must say first
 * (X'80'). [INF] tpipe, sequence numbers and the other control bytes are carried, not checked.
 */
function readChain(bytes: Uint8Array, start: number, end: number, first: OtmaControl, page: CodePage): HwsjavSegments {
  const segments: Uint8Array[] = [];
  const headers: Uint8Array[] = [];
  const controls: OtmaControl[] = [];
  let reserved: number[] | undefined;
  const push = (at: number, ll: number, zz: number): void => {
    if (zz !== 0 && reserved === undefined) reserved = segments.map(() => 0);
    segments.push(bytes.subarray(at + LLZZ_SIZE, at + ll));
    if (reserved !== undefined) reserved.push(zz);
  };
  if (start === end) return { segments, headers, controls };
  const head = llzzAt(bytes, start, end);
  push(start, head.ll, head.zz);
  let p = start + head.ll;
  if (p < end && (first.chainState & CHAIN_BITS) !== OtmaChainState.FIRST) {
    throw badControl(p, 1, `follows a first segment whose chain state is X'${hex2(first.chainState)}'; a chained message starts with X'80' (first in chain)`, { chainState: first.chainState });
  }
  while (p < end) {
    const i = segments.length;
    if (p + CONTROL_SIZE + LLZZ_SIZE > end) throw badControl(p, i, `does not fit: a 32-byte control section and an LLZZ segment need ${CONTROL_SIZE + LLZZ_SIZE} bytes, ${end - p} remain`, { remaining: end - p });
    const arch = bytes[p]!;
    if (arch !== OTMA_ARCHITECTURE_LEVEL) throw badControl(p, i, `has architecture level X'${hex2(arch)}', not X'01'`, { architectureLevel: arch });
    const type = bytes[p + 1]!;
    if (type !== first.messageType) {
      throw badControl(p, i, `has message type X'${hex2(type)}'; the first segment's is X'${hex2(first.messageType)}' (one message)`, { messageType: type, firstMessageType: first.messageType });
    }
    const flags = bytes[p + 15]!;
    if ((flags & SECTION_BITS) !== OtmaPrefixFlag.APPLICATION_DATA) {
      throw badControl(p, i, `has prefix flags X'${hex2(flags)}'; a later segment carries application data only (X'10')`, { prefixFlags: flags });
    }
    const seg = p + CONTROL_SIZE;
    const { ll, zz } = llzzAt(bytes, seg, end);
    const last = seg + ll === end;
    const chain = bytes[p + 14]! & CHAIN_BITS;
    const want = last ? OtmaChainState.LAST : OtmaChainState.MIDDLE;
    if (chain === OtmaChainState.LAST && !last) {
      throw badControl(p, i, `says last in chain (X'${hex2(bytes[p + 14]!)}') but ${end - seg - ll} bytes follow its segment inside LLLL`, { chainState: bytes[p + 14]!, trailing: end - seg - ll });
    }
    if (chain !== want) {
      throw badControl(p, i, `has chain state X'${hex2(bytes[p + 14]!)}'; segment ${i + 1} of this message is the ${last ? "last (X'20')" : "middle (X'40')"}`, { chainState: bytes[p + 14]!, expected: want });
    }
    const header = bytes.subarray(p, seg);
    headers.push(header);
    controls.push(decodeOtmaMessage(header, { codePage: page }).control);
    push(seg, ll, zz);
    p = seg + ll;
  }
  return reserved === undefined ? { segments, headers, controls } : { segments, reserved, headers, controls };
}

/**
 * Segments of a `*HWSJAV*` message, either form. The rule that tells them apart looks at the bytes
 * right after the first LLZZ segment:
 * - nothing (LLLL ends there), or nothing at all after the headers: IBM's type-1 layout;
 * - a control section of this message (`looksLikeChainControl`: X'01' architecture level, the first
 *   section's message type, chain state middle/last, prefix flags X'1x'): the type-1 layout;
 * - anything else — X'00040000' (the end-of-message marker) or another LLZZ segment: the
 *   end-of-message form, which must end with X'00040000' exactly at LLLL.
 * Why this is unambiguous in practice: a control section always starts with X'01', while an LLZZ
 * starting with X'01' is a segment of 256–511 bytes; for it to pass as a control section its LL low
 * byte must also equal the message type and its 11th and 12th data bytes must be X'40'/X'20' then
 * X'1x'. Should bytes pass that test and yet not parse as a chain but parse as the end-of-message
 * form, the end-of-message form is taken; only a message valid in both forms reads as a chain.
 * When neither parses, the error is the chain's if the bytes start with X'01' (a client that meant
 * the type-1 layout gets the control-section fault), else the end-of-message form's.
 */
function readHwsjavSegments(bytes: Uint8Array, start: number, end: number, first: OtmaControl, page: CodePage): HwsjavSegments {
  if (start === end) return { segments: [], headers: [], controls: [] };
  const ll = (bytes[start]! << 8) | bytes[start + 1]!;
  const p = start + ll;
  // An end-of-message marker or an unusable first LL: the end-of-message form decides (and reports).
  const chainLikely = ll > LLZZ_SIZE && ll <= MAX_SEGMENT_LENGTH && p <= end && (p === end || looksLikeChainControl(bytes, p, end, first));
  if (chainLikely) {
    try {
      return readChain(bytes, start, end, first, page);
    } catch (err) {
      try {
        return readLlzzSegments(bytes, start, end);
      } catch {
        throw err;
      }
    }
  }
  try {
    return readLlzzSegments(bytes, start, end);
  } catch (err) {
    if (ll > LLZZ_SIZE && p < end && bytes[p] === OTMA_ARCHITECTURE_LEVEL) return readChain(bytes, start, end, first, page);
    throw err;
  }
}

/**
 * Control sections for segments 2…`segmentCount` of a chained `*HWSJAV*` input message (IBM's
 * type-1 layout), derived from the first segment's control section: the same message type, tpipe and
 * send sequence number, chain state middle (X'40') and last (X'20') on the final one, prefix flags
 * application data, and [INF] segment sequence numbers 2…n (as `encodeHwsjavReply` numbers output).
 * The first section itself must say first in chain (X'80') when there are several segments.
 */
export function otmaChainControls(first: OtmaControl, segmentCount: number): OtmaControl[] {
  if (!Number.isInteger(segmentCount) || segmentCount < 0) throw invalid(`segmentCount must be a whole number ≥ 0, got ${segmentCount}`);
  const out: OtmaControl[] = [];
  for (let i = 1; i < segmentCount; i++) {
    out.push(
      otmaControl({
        messageType: first.messageType,
        tpipe: first.tpipe,
        sendSequence: first.sendSequence,
        chainState: i === segmentCount - 1 ? OtmaChainState.LAST : OtmaChainState.MIDDLE,
        prefixFlags: OtmaPrefixFlag.APPLICATION_DATA,
        segmentSequence: i + 1,
      }),
    );
  }
  return out;
}

/** Options of `encodeRequest`. */
export interface EncodeRequestOptions {
  /** EBCDIC page for the IRM's character fields (default CP037). */
  ebcdicPage?: CodePage;
}

function exitOf(request: ImsRequest): RegisteredExit {
  const exit = request.exit ?? getExit(request.irm.id);
  if (exit === undefined) throw unknownExit(request.irm.id);
  return exit;
}

/**
 * Encode a request to one message (a single allocation). LLLL and IRM_LEN are computed. A
 * `*HWSJAV*` request with `segmentHeaders` or `segmentControls` is written in IBM's type-1 layout (no
 * end-of-message marker); `IMS_ERR_INVALID_VALUE` when those do not match the segments.
 */
export function encodeRequest(request: ImsRequest, options: EncodeRequestOptions = {}): Uint8Array {
  const exit = exitOf(request);
  const plan = irmInternals.planIrm(request.irm, exit);
  const otma = request.otmaHeaders;
  if (exit.otmaHeaders && otma === undefined) throw new CodecError(CodecErrorCode.INVALID_VALUE, `${exit.id} requests carry OTMA headers: set request.otmaHeaders`);
  if (request.segmentHeaders !== undefined || request.segmentControls !== undefined) return encodeChain(request, exit, plan, otma ?? new Uint8Array(0), options);
  const format = request.segmentFormat ?? 'llzz';
  const total = LLLL_SIZE + plan.size + (otma?.length ?? 0) + segmentsSize(request.segments, format);
  const out = new Uint8Array(total);
  out[0] = total >>> 24;
  out[1] = (total >>> 16) & 0xff;
  out[2] = (total >>> 8) & 0xff;
  out[3] = total & 0xff;
  let at = irmInternals.writePlanned(request.irm, plan, out, LLLL_SIZE, irmInternals.pageFor(request.codeSet, options.ebcdicPage));
  if (otma !== undefined) {
    out.set(otma, at);
    at += otma.length;
  }
  writeSegments(request.segments, out, at, format, request.segmentReserved);
  return out;
}

/** IBM's type-1 layout: `LLLL | IRM | OTMA headers | LLZZ data | (control (32) | LLZZ data)…`. */
function encodeChain(request: ImsRequest, exit: RegisteredExit, plan: ReturnType<typeof irmInternals.planIrm>, otma: Uint8Array, options: EncodeRequestOptions): Uint8Array {
  const { segments, segmentHeaders: headers, segmentControls: controls, segmentReserved: zz } = request;
  if (!exit.otmaHeaders) throw invalid(`segmentHeaders/segmentControls belong to requests with client-built OTMA headers (*HWSJAV*), not ${exit.id}`, { id: exit.id });
  if ((request.segmentFormat ?? 'llzz') !== 'llzz') throw invalid('a chained OTMA message has LLZZ segments; segmentFormat must be llzz');
  const chained = headers ?? controls!;
  const want = Math.max(0, segments.length - 1);
  if (chained.length !== want) throw invalid(`${segments.length} segments need ${want} control sections, got ${chained.length}`, { segments: segments.length, controls: chained.length });
  let total = LLLL_SIZE + plan.size + otma.length;
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (s.length === 0 || s.length > MAX_SEGMENT_DATA) throw invalid(`segment ${i} has ${s.length} data bytes; an LLZZ segment holds 1–${MAX_SEGMENT_DATA}`, { segment: i, length: s.length });
    total += LLZZ_SIZE + s.length + (i > 0 ? CONTROL_SIZE : 0);
  }
  if (headers !== undefined) {
    for (let i = 0; i < headers.length; i++) {
      if (headers[i]!.length !== CONTROL_SIZE) throw invalid(`segmentHeaders[${i}] has ${headers[i]!.length} bytes; a control section has ${CONTROL_SIZE}`, { index: i });
    }
  }
  const out = new Uint8Array(total);
  out[0] = total >>> 24;
  out[1] = (total >>> 16) & 0xff;
  out[2] = (total >>> 8) & 0xff;
  out[3] = total & 0xff;
  const page = irmInternals.pageFor(request.codeSet, options.ebcdicPage);
  let at = irmInternals.writePlanned(request.irm, plan, out, LLLL_SIZE, page);
  out.set(otma, at);
  at += otma.length;
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (i > 0 && headers === undefined) {
      // The OTMA encoder writes the control section and the segment's LLZZ and sets prefix flag X'10'.
      const z = zz?.[i] ?? 0;
      at += encodeOtmaMessageInto({ control: controls![i - 1]!, segments: [s], ...(z !== 0 ? { zz: [z] } : {}) }, out, at, { codePage: page });
      continue;
    }
    if (i > 0) {
      out.set(headers![i - 1]!, at);
      at += CONTROL_SIZE;
    }
    const ll = s.length + LLZZ_SIZE;
    const z = zz?.[i] ?? 0;
    out[at] = ll >>> 8;
    out[at + 1] = ll & 0xff;
    out[at + 2] = (z >>> 8) & 0xff;
    out[at + 3] = z & 0xff;
    out.set(s, at + LLZZ_SIZE);
    at += ll;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Friendly builder
// ---------------------------------------------------------------------------------------------------

/** Friendly options of `buildRequest`. Every field has IBM's default. */
export interface BuildRequestOptions {
  /** IRM_ID of the exit (default `*SAMPL1*`). */
  exit?: string;
  /** Code set of the IRM (default `ebcdic`). An `ascii` IRM asks the exit to translate. */
  codeSet?: CodeSet;
  /** Page for text `data` (default CP037 for EBCDIC, Latin-1 for ASCII). */
  page?: CodePage;
  /** Message type (default `SEND_RECEIVE`). */
  messageType?: MessageType;
  /** Transaction code: IRM_TRNCOD, and the first 8 bytes of the first segment when `data` is given. */
  trancode?: string;
  /** Application data after the trancode: text (encoded with `page`) or bytes; an array gives one segment per item. */
  data?: string | Uint8Array | ReadonlyArray<string | Uint8Array>;
  /** Ready-made segment data (used as-is, no trancode prefix). Overrides `data`. */
  segments?: Uint8Array[];
  /** Segment framing (default `llzz`; `llll` for large callout responses). */
  segmentFormat?: SegmentFormat;
  /** Largest data bytes per LLZZ segment when splitting `data` (default 32,763). */
  maxSegmentData?: number;
  /** IRM_CLIENTID (default blank: IMS Connect generates one). */
  clientId?: string;
  /** IRM_IMSDESTID. */
  datastore?: string;
  lterm?: string;
  racfUserId?: string;
  racfGroup?: string;
  racfPassword?: string;
  /** IRM_APPL_NM (needs ARCH1). */
  applName?: string;
  /** IRM_REROUT_NM (needs ARCH1); also sets IRM_F3 X'08' unless `flags.f3.reroute` says otherwise. */
  rerouteName?: string;
  /** IRM_RT_ALTCID for RESUME TPIPE (needs ARCH1; same slot as `rerouteName`). */
  altClientId?: string;
  tagAdapter?: string;
  tagMap?: string;
  /** IRM_MODNAME (needs ARCH3). */
  modName?: string;
  /** IRM_CORTKN, 40 bytes (needs ARCH3): the token of the callout request being answered. */
  correlationToken?: Uint8Array;
  /** IRM_SESTKN, 8 bytes (needs ARCH4). */
  sessionToken?: Uint8Array;
  /** IRM extensions (need ARCH5; sets IRM_F0 X'04'). */
  extensions?: IrmExtension[];
  /** IRM_ARCH. Default: the lowest level that holds the fields given. */
  arch?: IrmArchLevel;
  /**
   * Commit mode. Default CM0 for RESUME TPIPE, the send-only types (IBM requires it) and callout
   * responses, CM1 otherwise.
   */
  commitMode?: 'CM0' | 'CM1';
  /** Sync level. Default CONFIRM with CM0 (IBM supports CM0 only with CONFIRM), NONE with CM1. */
  syncLevel?: 'NONE' | 'CONFIRM' | 'SYNCPT';
  /** IRM_TIMER: milliseconds (nearest code), `'default'` (X'00', the default), `'nowait'`, `'forever'`, or `{ code }`. */
  timer?: number | 'default' | 'nowait' | 'forever' | { code: number };
  /** IRM_SOCT (default `PERSISTENT`). */
  socketType?: SocketTypeName;
  /** IRM_ES (default X'00'). */
  encodingScheme?: number;
  /** IRM_NAK_RSNCDE; also sets IRM_F0 X'10'. */
  nakReasonCode?: number;
  /** RESUME TPIPE delivery option (IRM_F5 low bits). Default `none` (behaves as no-auto). */
  resumeOption?: 'none' | 'single' | 'singleWait' | 'auto' | 'noAuto';
  /** Synchronous callout RESUME TPIPE: `only` (IRM_F0 X'80') or `first` (X'40'). Needs ARCH3. */
  callout?: 'only' | 'first';
  /** Raw OTMA headers for `*HWSJAV*`. */
  otmaHeaders?: Uint8Array;
  /**
   * `*HWSJAV*`: write IBM's type-1 layout (no end-of-message marker) with these control sections
   * before segments 2…n (`otmaChainControls` derives them from the first one).
   */
  segmentControls?: OtmaControl[];
  /** Flag overrides, applied last. */
  flags?: {
    f0?: Partial<Omit<IrmF0Flags, 'raw'>>;
    f1?: Partial<Omit<IrmF1Flags, 'raw'>>;
    f2?: Partial<Omit<IrmF2Flags, 'raw'>>;
    f3?: Partial<Omit<IrmF3Flags, 'raw'>>;
    f5?: Partial<Omit<IrmF5Flags, 'raw'>>;
  };
}

/**
 * Types built with CM0 by default: IBM requires it for RESUME TPIPE and the send-only family; [INF]
 * callout responses answer a CM0 RESUME TPIPE and are built CM0 too.
 */
const CM0_TYPES: ReadonlySet<MessageType> = new Set<MessageType>(['RESUME_TPIPE', 'SEND_ONLY', 'SEND_ONLY_ACK', 'SEND_ONLY_ERRORS', 'CALLOUT_RESPONSE', 'CALLOUT_RESPONSE_ACK']);

function invalid(message: string, details: Record<string, unknown> = {}): CodecError {
  return new CodecError(CodecErrorCode.INVALID_VALUE, message, { details });
}

/**
 * Build a complete request from friendly options, with IBM's defaults: `*SAMPL1*`, EBCDIC (CP037),
 * send-receive, CM1/NONE (CM0/CONFIRM for RESUME TPIPE and send-only), timer X'00', persistent socket,
 * and the lowest architecture level that holds the fields given. Validates names (≤ 8 characters)
 * and token sizes with `IMS_ERR_INVALID_VALUE`.
 */
export function buildRequest(options: BuildRequestOptions = {}): ImsRequest {
  const exitId = options.exit ?? IrmId.SAMPL1;
  const exit = getExit(exitId);
  if (exit === undefined) throw unknownExit(exitId);
  const codeSet = options.codeSet ?? 'ebcdic';
  const page = options.page ?? (codeSet === 'ascii' ? LATIN1 : CP037);
  const type = options.messageType ?? 'SEND_RECEIVE';
  if (!(type in MessageTypeEbcdic)) throw invalid(`unknown message type ${JSON.stringify(type)}`, { messageType: type });
  const commitMode: CommitModeName = options.commitMode ?? (CM0_TYPES.has(type) ? 'CM0' : 'CM1');
  const syncLevel: SyncLevelName = options.syncLevel ?? (commitMode === 'CM0' ? 'CONFIRM' : 'NONE');
  if (options.rerouteName !== undefined && options.altClientId !== undefined && options.rerouteName !== options.altClientId) {
    throw invalid('rerouteName and altClientId share one IRM slot (IBM: mutually exclusive); give one');
  }
  if (options.correlationToken !== undefined && options.correlationToken.length !== 40) throw invalid(`correlationToken must be 40 bytes, got ${options.correlationToken.length}`);
  if (options.sessionToken !== undefined && options.sessionToken.length !== 8) throw invalid(`sessionToken must be 8 bytes, got ${options.sessionToken.length}`);
  for (const key of ['clientId', 'trancode', 'datastore', 'lterm', 'racfUserId', 'racfGroup', 'racfPassword', 'applName', 'rerouteName', 'altClientId', 'tagAdapter', 'tagMap', 'modName'] as const) {
    const v = options[key];
    if (v !== undefined && (typeof v !== 'string' || v.length > 8)) throw invalid(`${key} must be a string of at most 8 characters, got ${JSON.stringify(v)}`, { field: key, value: v });
  }
  const slot = options.rerouteName ?? options.altClientId;
  const extensions = options.extensions ?? [];

  // Lowest architecture level holding the fields given.
  let needArch: number = IrmArch.ARCH0;
  if (options.applName !== undefined || slot !== undefined) needArch = IrmArch.ARCH1;
  if (options.tagAdapter !== undefined || options.tagMap !== undefined) needArch = IrmArch.ARCH2;
  if (options.modName !== undefined || options.correlationToken !== undefined || options.callout !== undefined) needArch = IrmArch.ARCH3;
  if (options.sessionToken !== undefined) needArch = IrmArch.ARCH4;
  if (extensions.length > 0) needArch = IrmArch.ARCH5;
  const arch = options.arch ?? needArch;
  if (!(arch in IRM_LENGTH_BY_ARCH)) throw invalid(`arch must be 0–5, got ${String(arch)}`, { arch });
  if (arch < needArch) throw invalid(`the fields given need IRM_ARCH ≥ ${needArch}, got ${arch}`, { arch, needArch });

  let timer: number;
  const t = options.timer ?? 'default';
  if (typeof t === 'object') {
    if (!Number.isInteger(t.code) || t.code < 0 || t.code > 255) throw invalid(`timer code must be 0–255, got ${t.code}`);
    timer = t.code;
  } else {
    if (typeof t === 'number' && !Number.isFinite(t) && t !== Number.POSITIVE_INFINITY) throw invalid(`timer must be a number of milliseconds, got ${t}`);
    timer = msToIrmTimer(t);
  }
  const socketType = SocketType[options.socketType ?? 'PERSISTENT'];
  if (socketType === undefined) throw invalid(`unknown socket type ${JSON.stringify(options.socketType)}`);

  const f0 = F0.decode(0);
  if (options.nakReasonCode !== undefined) {
    if (!Number.isInteger(options.nakReasonCode) || options.nakReasonCode < 0 || options.nakReasonCode > 0xffff) throw invalid(`nakReasonCode must be 0–65535`);
    f0.nakReason = true;
  }
  if (options.callout === 'only') f0.syncOnly = true;
  if (options.callout === 'first') f0.syncThenAsync = true;
  if (extensions.length > 0) f0.extensions = true;
  const f5 = F5.decode(exit.otmaHeaders ? IrmF5.HWSJAVA : 0);
  switch (options.resumeOption ?? 'none') {
    case 'single':
      f5.one = true;
      break;
    case 'singleWait':
      f5.singleWait = true;
      break;
    case 'auto':
      f5.auto = true;
      break;
    case 'noAuto':
      f5.noAuto = true;
      break;
    case 'none':
      break;
    default:
      throw invalid(`unknown resumeOption ${JSON.stringify(options.resumeOption)}`);
  }
  const fl = options.flags ?? {};
  Object.assign(f0, fl.f0);
  Object.assign(f5, fl.f5);
  f0.raw = F0.encode(f0);
  f5.raw = F5.encode(f5);

  let user: Irm['user'] = null;
  if (exit.userPart === 'sample') {
    const f1 = Object.assign(F1.decode(0), fl.f1);
    f1.raw = F1.encode(f1);
    const f2 = Object.assign(F2.decode(0), { commitMode }, fl.f2);
    f2.raw = F2.encode(f2);
    const f3 = Object.assign(F3.decode(0), { syncLevel, reroute: options.rerouteName !== undefined }, fl.f3);
    f3.raw = F3.encode(f3);
    const f4 = { raw: (codeSet === 'ascii' ? MessageTypeAscii : MessageTypeEbcdic)[type], type, codeSet };
    const sample: SampleUserPart = {
      kind: 'sample',
      f1,
      f2,
      f3,
      f4,
      trancode: options.trancode ?? '',
      datastore: options.datastore ?? '',
      lterm: options.lterm ?? '',
      racfUserId: options.racfUserId ?? '',
      racfGroup: options.racfGroup ?? '',
      racfPassword: options.racfPassword ?? '',
    };
    // Fields through the chosen level's IRM_LEN (§2.3), blank when not given.
    const len = IRM_LENGTH_BY_ARCH[arch as IrmArchLevel];
    if (len >= 88) sample.applName = options.applName ?? '';
    if (len >= 96) sample.rerouteName = slot ?? '';
    if (len >= 104) sample.tagAdapter = options.tagAdapter ?? '';
    if (len >= 112) sample.tagMap = options.tagMap ?? '';
    if (len >= 120) sample.modName = options.modName ?? '';
    if (len >= 160) sample.correlationToken = options.correlationToken ?? new Uint8Array(40);
    if (len >= 168) sample.sessionToken = options.sessionToken ?? new Uint8Array(8);
    if (len >= 172) {
      sample.extensionOffset = 0; // computed on encode when extensions are present
      sample.reserved5 = 0;
    }
    user = sample;
  } else if (exit.userPart !== 'none') {
    throw invalid(`buildRequest builds ${exit.id} requests only with a sample or empty user part; build the IRM yourself for custom layouts`, { id: exit.id });
  }

  const irm: Irm = {
    length: 0,
    arch,
    f0,
    id: exit.id,
    nakReasonCode: options.nakReasonCode ?? 0,
    reserved: 0,
    f5,
    timer,
    socketType,
    encodingScheme: options.encodingScheme ?? 0,
    clientId: options.clientId ?? '',
    user,
    tail: new Uint8Array(0),
    extensions,
  };
  irm.length = irmInternals.planIrm(irm, exit).size;

  let segments: Uint8Array[] = [];
  if (options.segments !== undefined) segments = options.segments;
  else if (options.data !== undefined) segments = buildSegmentData(options.trancode, options.data, { page, maxSegmentData: options.maxSegmentData });
  else if (options.trancode !== undefined && MESSAGE_TYPES_WITH_DATA.has(type)) segments = buildSegmentData(options.trancode, new Uint8Array(0), { page });

  const request: ImsRequest = { irm, codeSet, exit, segments, segmentFormat: options.segmentFormat ?? 'llzz' };
  if (options.otmaHeaders !== undefined) request.otmaHeaders = options.otmaHeaders;
  if (options.segmentControls !== undefined) request.segmentControls = options.segmentControls;
  return request;
}

/** A PING request (spec §6.6): trancode `PING` in the IRM and `PING IMS_CONNECT` as the data. */
export function buildPingRequest(options: Omit<BuildRequestOptions, 'trancode' | 'data' | 'segments' | 'messageType'> = {}): ImsRequest {
  const page = options.page ?? (options.codeSet === 'ascii' ? LATIN1 : CP037);
  return buildRequest({ ...options, messageType: 'SEND_RECEIVE', trancode: 'PING', segments: [page.encode(PING_REQUEST_TEXT)] });
}

/** The message type of a request with a sample user part, or undefined (custom exits, `*HWSJAV*`). */
export function messageTypeOf(request: ImsRequest): MessageType | 'UNKNOWN' | undefined {
  const u = request.irm.user;
  return u !== null && u.kind === 'sample' ? u.f4.type : undefined;
}
