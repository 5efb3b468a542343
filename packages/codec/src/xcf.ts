/**
 * The imsplex "XCF link" frame between the IMS Connect emulator and the IMS engine.
 *
 * Real IMS Connect and IMS talk OTMA through z/OS cross-system coupling facility (XCF) group services,
 * which is not TCP and has no public wire format. imsplex runs each box as its own process, so it
 * carries the same OTMA messages over a loopback TCP connection with the smallest framing that makes
 * a byte stream message-oriented:
 *
 * ```
 * LLLL (u32, big-endian, total frame length including these 4 bytes) | one complete OTMA message
 * ```
 *
 * This framing is imsplex's own; the payload is the real OTMA message prefix (control, state,
 * security and user data) plus application data segments, exactly as IMS Connect would hand it to
 * XCF. Keeping the real prefix means both processes use the documented OTMA fields (message type,
 * ACK/NAK, chain state, sequence numbers, sense codes, tpipe names) to talk, the link can be captured
 * and read as OTMA, and an HWSJAVA0 client's OTMA headers pass through unchanged.
 */
import { allocOutput } from './alloc.js';
import { type CodePage } from './ebcdic.js';
import { CodecError, CodecErrorCode } from './errors.js';
import { StreamFramer } from './stream-framer.js';
import { type OtmaMessage, decodeOtmaMessageAt, encodeOtmaMessageInto, otmaMessageSize } from './otma.js';

/** Bytes of the frame's length prefix. */
export const XCF_LENGTH_BYTES = 4;
/** Smallest frame: LLLL + the 32-byte OTMA control section. */
export const XCF_MIN_FRAME = XCF_LENGTH_BYTES + 32;
/**
 * Default largest frame: 16 MiB. [INF] IMS Connect's default `MAXSIZE` is 10 MB and OTMA messages can
 * carry up to that much application data plus a prefix of a few hundred bytes; 16 MiB leaves room.
 */
export const DEFAULT_MAX_XCF_FRAME = 16 * 1024 * 1024;

const NO_OPTIONS: { codePage?: CodePage } = Object.freeze({});

/**
 * Encode one OTMA message as an XCF link frame (one allocation; write it with one `socket.write`). The
 * frame is a plain `Uint8Array`; below 4 KB it is a region of a shared slab (`byteOffset` may be
 * non-zero), like Node's pooled Buffers.
 */
export function encodeXcfFrame(message: OtmaMessage, options: { codePage?: CodePage } = NO_OPTIONS): Uint8Array {
  const size = XCF_LENGTH_BYTES + otmaMessageSize(message);
  if (size > 0x7fffffff) throw new CodecError(CodecErrorCode.INVALID_VALUE, `XCF frame of ${size} bytes is too large`);
  // Every byte is written below (the OTMA encoders write the whole message), so pooled memory will do.
  const out = allocOutput(size);
  out[0] = size >>> 24;
  out[1] = (size >>> 16) & 0xff;
  out[2] = (size >>> 8) & 0xff;
  out[3] = size & 0xff;
  encodeOtmaMessageInto(message, out, XCF_LENGTH_BYTES, options);
  return out;
}

/** Decode one whole XCF link frame (LLLL must equal the byte count). */
export function decodeXcfFrame(frame: Uint8Array, options: { codePage?: CodePage } = NO_OPTIONS): OtmaMessage {
  if (frame.length < XCF_LENGTH_BYTES) throw new CodecError(CodecErrorCode.TRUNCATED, `XCF frame of ${frame.length} bytes has no length prefix`);
  const total = readU32(frame, 0);
  if (total !== frame.length) throw new CodecError(CodecErrorCode.BAD_LENGTH, `XCF frame LLLL is ${total} but ${frame.length} bytes were given`, { details: { llll: total, length: frame.length } });
  return decodeOtmaMessageAt(frame, XCF_LENGTH_BYTES, options);
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Options of `XcfFrameReader`. */
export interface XcfFrameReaderOptions {
  /** Largest frame accepted, LLLL included. Default `DEFAULT_MAX_XCF_FRAME`. */
  readonly maxFrameSize?: number;
  /** Most bytes held at once. Default `2 × maxFrameSize`. */
  readonly maxBufferedBytes?: number;
  /** Code page for `readMessage`. Default CP037. */
  readonly codePage?: CodePage;
}

/**
 * Splits the XCF link byte stream into frames. Identical output for any chunking. A length over
 * `maxFrameSize` or under `XCF_MIN_FRAME` throws (`IMS_ERR_FRAME_TOO_LARGE` / `IMS_ERR_BAD_LENGTH`)
 * as soon as the LLLL arrives, and the reader then stays failed until `reset()` — the stream is out of
 * step.
 *
 * Frames are plain `Uint8Array` views, not copies: of the chunk given to `write`/`push` when the frame
 * lies within it, or of a buffer holding that frame alone when it spans chunks (each byte copied once;
 * the buffer logic is `StreamFramer`'s, shared with the request and reply readers). The reader never
 * writes into a frame it has returned, so frames — and the segments `decodeXcfFrame` returns as views
 * of them — stay valid as long as the caller does not modify the chunks it wrote. A kept frame keeps
 * its chunk alive.
 */
export class XcfFrameReader extends StreamFramer {
  readonly maxFrameSize: number;
  readonly maxBufferedBytes: number;
  private readonly codePage: CodePage | undefined;

  constructor(options: XcfFrameReaderOptions = {}) {
    const max = options.maxFrameSize ?? DEFAULT_MAX_XCF_FRAME;
    if (!Number.isInteger(max) || max < XCF_MIN_FRAME || max > 0x7fffffff) throw new CodecError(CodecErrorCode.INVALID_VALUE, `maxFrameSize must be an integer from ${XCF_MIN_FRAME} to ${0x7fffffff}, got ${max}`);
    const maxBuffered = options.maxBufferedBytes ?? 2 * max;
    if (!Number.isInteger(maxBuffered) || maxBuffered < max) throw new CodecError(CodecErrorCode.INVALID_VALUE, `maxBufferedBytes must be an integer ≥ maxFrameSize (${max}), got ${maxBuffered}`);
    super({ maxBufferedBytes: maxBuffered, discardOnError: false });
    this.maxFrameSize = max;
    this.maxBufferedBytes = maxBuffered;
    this.codePage = options.codePage;
  }

  /** The next complete frame, decoded as an OTMA message, or undefined. */
  readMessage(): OtmaMessage | undefined {
    const f = this.read();
    if (f === undefined) return undefined;
    return decodeXcfFrame(f, this.codePage === undefined ? {} : { codePage: this.codePage });
  }

  protected overLimit(total: number): CodecError {
    return new CodecError(CodecErrorCode.FRAME_TOO_LARGE, `XCF buffer would hold ${total} bytes; the limit is ${this.maxBufferedBytes}`, { details: { buffered: total, limit: this.maxBufferedBytes } });
  }

  protected measure(b: Uint8Array, start: number, end: number): number {
    if (end - start < XCF_LENGTH_BYTES) return -XCF_LENGTH_BYTES;
    const total = readU32(b, start);
    if (total > this.maxFrameSize) throw new CodecError(CodecErrorCode.FRAME_TOO_LARGE, `XCF frame of ${total} bytes exceeds the ${this.maxFrameSize}-byte limit`, { details: { size: total, limit: this.maxFrameSize } });
    if (total < XCF_MIN_FRAME) throw new CodecError(CodecErrorCode.BAD_LENGTH, `XCF frame LLLL ${total} is below the ${XCF_MIN_FRAME}-byte minimum`, { details: { llll: total } });
    return total;
  }
}
