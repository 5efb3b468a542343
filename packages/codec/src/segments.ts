/**
 * Data segments of an input message (spec §1.2): `LL(2) ZZ(2) data` repeated, ended by the
 * end-of-message marker X'00040000'. Synchronous callout responses (IRM_F4 `L`/`M`) may instead carry
 * 4-byte `LLLL` data segments (spec §1.3, §8) so their data can exceed 32 KB.
 *
 * The first 8 bytes of the first segment's data are the IMS transaction code, blank padded.
 */
import { ReasonCode } from './codes.js';
import { END_OF_MESSAGE_U32, LLZZ_SIZE, MAX_SEGMENT_DATA, MAX_SEGMENT_LENGTH, TRANCODE_LENGTH } from './constants.js';
import { CP037, type CodePage } from './ebcdic.js';
import { CodecError, CodecErrorCode } from './errors.js';
import { readCharField } from './layout.js';

/** How data segments are framed: 2-byte `LLZZ` (normal) or 4-byte `LLLL` (callout responses). */
export type SegmentFormat = 'llzz' | 'llll';

/** Segments read from a message. */
export interface ReadSegments {
  /** Segment data without the LL/ZZ or LLLL prefix (views into the message). */
  segments: Uint8Array[];
  /** The ZZ halfword of each segment, present only when some ZZ is not zero (so round trips are exact). */
  reserved?: number[];
  format: SegmentFormat;
}

const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const u32 = (b: Uint8Array, o: number): number => b[o]! * 16777216 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);

/**
 * Read `LLZZ` segments from `bytes[start, end)`; the range must end with X'00040000' right after the
 * last segment. Errors (all `CodecError`, `details.reason` = the RSM reason IMS Connect sends):
 * `IMS_ERR_BAD_SEGMENT` (LL < 4 or > X'7FFF', or an empty segment with ZZ ≠ 0: reason 5 "negative
 * length"), `IMS_ERR_TRUNCATED` (a segment runs past the end: reason 44 "message incomplete"),
 * `IMS_ERR_MISSING_EOM` (no X'00040000': reason 44), `IMS_ERR_TRAILING_BYTES` (bytes after the
 * marker: reason 7 "total message length invalid").
 */
export function readLlzzSegments(bytes: Uint8Array, start: number, end: number): ReadSegments {
  const segments: Uint8Array[] = [];
  let reserved: number[] | undefined;
  let at = start;
  for (;;) {
    if (at + LLZZ_SIZE > end) {
      throw new CodecError(CodecErrorCode.MISSING_EOM, `the message ends at offset ${end} without the end-of-message marker X'00040000'`, {
        details: { reason: ReasonCode.MESSAGE_INCOMPLETE, offset: at },
      });
    }
    const ll = u16(bytes, at);
    const zz = u16(bytes, at + 2);
    if (ll === LLZZ_SIZE && zz === 0) {
      at += LLZZ_SIZE;
      break;
    }
    if (ll <= LLZZ_SIZE || ll > MAX_SEGMENT_LENGTH) {
      // [INF] LL − 4 is the data length; below zero (or a halfword above X'7FFF', negative when signed)
      // is IBM's reason 5 "negative length value". An empty segment with a non-zero ZZ is treated alike.
      throw new CodecError(CodecErrorCode.BAD_SEGMENT, `segment at offset ${at} has LL ${ll}${ll === LLZZ_SIZE ? ` and ZZ X'${zz.toString(16).padStart(4, '0')}'` : ''}; LL must be 5–${MAX_SEGMENT_LENGTH}`, {
        details: { reason: ReasonCode.NEGATIVE_LENGTH, offset: at, ll, zz },
      });
    }
    if (at + ll > end) {
      throw new CodecError(CodecErrorCode.TRUNCATED, `segment at offset ${at} has LL ${ll} but only ${end - at} bytes remain`, {
        details: { reason: ReasonCode.MESSAGE_INCOMPLETE, offset: at, ll },
      });
    }
    if (zz !== 0 && reserved === undefined) reserved = segments.map(() => 0);
    segments.push(bytes.subarray(at + LLZZ_SIZE, at + ll));
    if (reserved !== undefined) reserved.push(zz);
    at += ll;
  }
  if (at !== end) {
    throw new CodecError(CodecErrorCode.TRAILING_BYTES, `${end - at} bytes follow the end-of-message marker`, {
      details: { reason: ReasonCode.INVALID_TOTAL_LENGTH, offset: at, trailing: end - at },
    });
  }
  return reserved === undefined ? { segments, format: 'llzz' } : { segments, reserved, format: 'llzz' };
}

/**
 * Read 4-byte `LLLL` data segments (each LLLL counts itself) from `bytes[start, end)`, which must end
 * with X'00040000' immediately after the last one.
 */
export function readLlllSegments(bytes: Uint8Array, start: number, end: number): ReadSegments {
  if (end - start < 4 || u32(bytes, end - 4) !== END_OF_MESSAGE_U32) {
    throw new CodecError(CodecErrorCode.MISSING_EOM, `the message does not end with the end-of-message marker X'00040000'`, {
      details: { reason: ReasonCode.MESSAGE_INCOMPLETE, offset: Math.max(start, end - 4) },
    });
  }
  const last = end - 4;
  const segments: Uint8Array[] = [];
  let at = start;
  while (at < last) {
    if (at + 4 > last) {
      throw new CodecError(CodecErrorCode.TRUNCATED, `an LLLL segment header at offset ${at} is cut short`, { details: { reason: ReasonCode.MESSAGE_INCOMPLETE, offset: at } });
    }
    const len = u32(bytes, at);
    if (len < 4) {
      throw new CodecError(CodecErrorCode.BAD_SEGMENT, `LLLL segment at offset ${at} has length ${len}`, { details: { reason: ReasonCode.NEGATIVE_LENGTH, offset: at, length: len } });
    }
    if (at + len > last) {
      throw new CodecError(CodecErrorCode.TRUNCATED, `LLLL segment at offset ${at} has length ${len} but only ${last - at} bytes remain`, {
        details: { reason: ReasonCode.MESSAGE_INCOMPLETE, offset: at, length: len },
      });
    }
    segments.push(bytes.subarray(at + 4, at + len));
    at += len;
  }
  return { segments, format: 'llll' };
}

/** Encoded size of segments plus the end-of-message marker. */
export function segmentsSize(segments: readonly Uint8Array[], format: SegmentFormat = 'llzz'): number {
  const head = format === 'llll' ? 4 : LLZZ_SIZE;
  let n = 4;
  for (const s of segments) n += head + s.length;
  return n;
}

/**
 * Write segments and the end-of-message marker at `target[offset]`; returns the offset after them.
 * Throws `IMS_ERR_INVALID_VALUE` for an LLZZ segment over 32,763 data bytes or an empty one (a
 * zero-length segment would read as the end-of-message marker).
 */
export function writeSegments(segments: readonly Uint8Array[], target: Uint8Array, offset: number, format: SegmentFormat = 'llzz', reserved?: readonly number[]): number {
  let at = offset;
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (format === 'llll') {
      const len = s.length + 4;
      target[at] = len >>> 24;
      target[at + 1] = (len >>> 16) & 0xff;
      target[at + 2] = (len >>> 8) & 0xff;
      target[at + 3] = len & 0xff;
      target.set(s, at + 4);
      at += len;
      continue;
    }
    if (s.length === 0 || s.length > MAX_SEGMENT_DATA) {
      throw new CodecError(CodecErrorCode.INVALID_VALUE, `segment ${i} has ${s.length} data bytes; an LLZZ segment holds 1–${MAX_SEGMENT_DATA}`, { details: { segment: i, length: s.length } });
    }
    const ll = s.length + LLZZ_SIZE;
    const zz = reserved?.[i] ?? 0;
    target[at] = ll >>> 8;
    target[at + 1] = ll & 0xff;
    target[at + 2] = (zz >>> 8) & 0xff;
    target[at + 3] = zz & 0xff;
    target.set(s, at + LLZZ_SIZE);
    at += ll;
  }
  target[at] = 0x00;
  target[at + 1] = 0x04;
  target[at + 2] = 0x00;
  target[at + 3] = 0x00;
  return at + 4;
}

/** Split `data` into chunks of at most `max` bytes (views), at least one chunk when data is non-empty. */
export function splitData(data: Uint8Array, max: number = MAX_SEGMENT_DATA): Uint8Array[] {
  if (!Number.isInteger(max) || max < 1 || max > MAX_SEGMENT_DATA) {
    throw new CodecError(CodecErrorCode.INVALID_VALUE, `segment size ${max} must be 1–${MAX_SEGMENT_DATA}`, { details: { max } });
  }
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += max) out.push(data.subarray(at, Math.min(data.length, at + max)));
  return out;
}

/** Encode a transaction code as the 8 blank-padded bytes that start the first segment. */
export function encodeTrancode(trancode: string, page: CodePage = CP037): Uint8Array {
  const out = new Uint8Array(TRANCODE_LENGTH);
  page.encodeInto(trancode, out, 0, TRANCODE_LENGTH);
  return out;
}

/**
 * Build segment data: the trancode (padded to 8) followed by `data`, in `page`. Text parts are
 * encoded with `page`; byte parts are copied as-is. Long data is split into segments of at most
 * `maxSegmentData` bytes (default 32,763).
 */
export function buildSegmentData(trancode: string | undefined, data: string | Uint8Array | ReadonlyArray<string | Uint8Array>, options: { page?: CodePage; maxSegmentData?: number } = {}): Uint8Array[] {
  const page = options.page ?? CP037;
  const parts = (typeof data === 'string' || data instanceof Uint8Array ? [data] : data).map((p) => (typeof p === 'string' ? page.encode(p) : p));
  const out: Uint8Array[] = [];
  parts.forEach((part, i) => {
    let bytes = part;
    if (i === 0 && trancode !== undefined) {
      bytes = new Uint8Array(TRANCODE_LENGTH + part.length);
      page.encodeInto(trancode, bytes, 0, TRANCODE_LENGTH);
      bytes.set(part, TRANCODE_LENGTH);
    }
    if (bytes.length > 0) out.push(...splitData(bytes, options.maxSegmentData));
  });
  return out;
}

/** The transaction code in the first 8 bytes of the first segment (trimmed), or '' when absent. */
export function trancodeOf(segments: readonly Uint8Array[], page: CodePage = CP037): string {
  const first = segments[0];
  if (first === undefined) return '';
  return readCharField(first, 0, Math.min(TRANCODE_LENGTH, first.length), page);
}

/** Decode segment data as text in `page`, joined; `skipTrancode` drops the first 8 bytes of segment 0. */
export function segmentsText(segments: readonly Uint8Array[], page: CodePage = CP037, options: { skipTrancode?: boolean } = {}): string {
  let s = '';
  segments.forEach((seg, i) => {
    s += page.decode(seg, i === 0 && options.skipTrancode ? Math.min(TRANCODE_LENGTH, seg.length) : 0, seg.length);
  });
  return s;
}
