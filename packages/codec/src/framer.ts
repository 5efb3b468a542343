/**
 * Streaming frame reader for input messages (client → IMS Connect). It knows only the 4-byte LLLL
 * prefix (which counts itself) and returns each complete message as one `Uint8Array`; decoding is
 * `decodeRequest`'s job. Modelled on pg-protocol's parser: no copy for a frame that arrives inside one
 * chunk, exactly one copy for a frame split across chunks (the buffer logic is `StreamFramer`'s,
 * shared with the reply and XCF readers).
 *
 * A length below the protocol minimum (X'58') or above `maxFrameSize` is rejected as soon as the 4
 * length bytes are known — before any of the body is buffered — so a peer cannot make the reader
 * hold more than `maxFrameSize` bytes.
 */
import { ReasonCode } from './codes.js';
import { DEFAULT_MAX_FRAME_SIZE, LLLL_SIZE, MIN_MESSAGE_LENGTH } from './constants.js';
import { CodecError, CodecErrorCode } from './errors.js';
import { StreamFramer } from './stream-framer.js';

/** Options of `RequestFrameReader`. */
export interface RequestFrameReaderOptions {
  /** Largest LLLL accepted (default 10 MB = 10,485,760; IMS Connect's `MAXSIZE=`). */
  maxFrameSize?: number;
  /** Smallest LLLL accepted (default X'58' = 88, IBM's minimum message). */
  minFrameSize?: number;
}

/**
 * Splits a byte stream into input messages.
 *
 * ```ts
 * const reader = new RequestFrameReader({ maxFrameSize: 1 << 20 });
 * socket.on('data', (chunk) => { for (const frame of reader.push(chunk)) handle(decodeRequest(frame)); });
 * ```
 *
 * Frames are plain `Uint8Array` views: of the chunk passed to `push` when the frame lies within it (no
 * copy), or of a buffer allocated for that frame alone when it spans chunks (each byte copied once).
 * The reader never writes into a frame it has returned, so frames stay valid as long as the caller
 * does not modify the chunks it pushed; a kept frame keeps its chunk alive.
 */
export class RequestFrameReader extends StreamFramer {
  readonly maxFrameSize: number;
  readonly minFrameSize: number;

  constructor(options: RequestFrameReaderOptions = {}) {
    const max = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    const min = options.minFrameSize ?? MIN_MESSAGE_LENGTH;
    if (!Number.isInteger(min) || min < LLLL_SIZE) throw new CodecError(CodecErrorCode.INVALID_VALUE, `minFrameSize must be an integer ≥ ${LLLL_SIZE}, got ${min}`);
    if (!Number.isInteger(max) || max < min || max > 0x7fffffff) {
      throw new CodecError(CodecErrorCode.INVALID_VALUE, `maxFrameSize must be an integer ${min}–2147483647, got ${max}`);
    }
    // push() drains every complete frame, so at most one partial frame (≤ maxFrameSize) stays held.
    super({ maxBufferedBytes: Infinity, discardOnError: true });
    this.maxFrameSize = max;
    this.minFrameSize = min;
  }

  /**
   * Feed bytes; returns the frames completed by them (possibly none). Throws `IMS_ERR_BAD_LENGTH`
   * (LLLL below the minimum) or `IMS_ERR_FRAME_TOO_LARGE` (above `maxFrameSize`), both with
   * `details.reason` 7; after that the stream cannot be re-synchronised and the reader stays failed.
   * When complete frames precede the bad length in the same chunk, they are returned and the error is
   * thrown by the next `push` (check `failed` at end of stream).
   */
  override push(chunk: Uint8Array): Uint8Array[] {
    this.append(chunk);
    const frames: Uint8Array[] = [];
    try {
      this.drain(frames);
    } catch (err) {
      // Frames completed before the bad length are still delivered; the error comes with the next push.
      if (frames.length > 0 && this.failed) return frames;
      throw err;
    }
    return frames;
  }

  /**
   * `push`, appending the completed frames to `out` (e.g. a queue the caller keeps) instead of a new
   * array; returns how many it appended. Same frames, order and errors as `push`: frames completed
   * before a bad length are appended, and the error is thrown by the next call.
   */
  pushInto(chunk: Uint8Array, out: Uint8Array[]): number {
    const before = out.length;
    this.append(chunk);
    try {
      this.drain(out);
    } catch (err) {
      if (out.length > before && this.failed) return out.length - before;
      throw err;
    }
    return out.length - before;
  }

  protected measure(bytes: Uint8Array, at: number, end: number): number {
    if (end - at < LLLL_SIZE) return -LLLL_SIZE;
    const total = bytes[at]! * 16777216 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
    if (total < this.minFrameSize) {
      throw new CodecError(CodecErrorCode.BAD_LENGTH, `LLLL ${total} is below the minimum message length ${this.minFrameSize}`, {
        details: { reason: ReasonCode.INVALID_TOTAL_LENGTH, llll: total, min: this.minFrameSize },
      });
    }
    if (total > this.maxFrameSize) {
      throw new CodecError(CodecErrorCode.FRAME_TOO_LARGE, `LLLL ${total} exceeds the maximum frame size ${this.maxFrameSize}`, {
        details: { reason: ReasonCode.INVALID_TOTAL_LENGTH, llll: total, max: this.maxFrameSize },
      });
    }
    return total;
  }

  protected overLimit(total: number): CodecError {
    // Unreachable: the request reader has no buffer limit beyond maxFrameSize (checked per frame).
    return new CodecError(CodecErrorCode.FRAME_TOO_LARGE, `request buffer would hold ${total} bytes`, { details: { buffered: total } });
  }
}
