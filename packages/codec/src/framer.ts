/**
 * Streaming frame reader for input messages (client → IMS Connect). It knows only the 4-byte LLLL
 * prefix (which counts itself) and returns each complete message as one `Uint8Array`; decoding is
 * `decodeRequest`'s job. Modelled on pg-protocol's parser: one pending buffer with cursors, no copy
 * for a frame that arrives inside one chunk, exactly one copy for a frame split across chunks.
 *
 * A length below the protocol minimum (X'58') or above `maxFrameSize` is rejected as soon as the 4
 * length bytes are known — before any of the body is buffered — so a peer cannot make the reader
 * hold more than `maxFrameSize` bytes.
 */
import { ReasonCode } from './codes.js';
import { DEFAULT_MAX_FRAME_SIZE, LLLL_SIZE, MIN_MESSAGE_LENGTH } from './constants.js';
import { CodecError, CodecErrorCode } from './errors.js';

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
 * Frames are views: of the chunk passed to `push` when the frame lies within it, or of a buffer
 * allocated for that frame alone. The reader never writes into a frame it has returned, so frames
 * stay valid as long as the caller does not modify the chunks it pushed.
 */
export class RequestFrameReader {
  readonly maxFrameSize: number;
  readonly minFrameSize: number;
  /** Partial LLLL (fewer than 4 bytes seen). */
  private readonly header = new Uint8Array(LLLL_SIZE);
  private headerLength = 0;
  /** Buffer of the frame being assembled across chunks, and how much of it is filled. */
  private partial: Uint8Array | null = null;
  private partialFilled = 0;
  private failure: CodecError | null = null;

  constructor(options: RequestFrameReaderOptions = {}) {
    const max = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    const min = options.minFrameSize ?? MIN_MESSAGE_LENGTH;
    if (!Number.isInteger(min) || min < LLLL_SIZE) throw new CodecError(CodecErrorCode.INVALID_VALUE, `minFrameSize must be an integer ≥ ${LLLL_SIZE}, got ${min}`);
    if (!Number.isInteger(max) || max < min || max > 0x7fffffff) {
      throw new CodecError(CodecErrorCode.INVALID_VALUE, `maxFrameSize must be an integer ${min}–2147483647, got ${max}`);
    }
    this.maxFrameSize = max;
    this.minFrameSize = min;
  }

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.partial !== null ? this.partialFilled : this.headerLength;
  }

  /** True when the reader has failed; every later `push` rethrows the same error until `reset()`. */
  get failed(): boolean {
    return this.failure !== null;
  }

  /** Drop any partial frame and clear a failure. */
  reset(): void {
    this.headerLength = 0;
    this.partial = null;
    this.partialFilled = 0;
    this.failure = null;
  }

  /**
   * Feed bytes; returns the frames completed by them (possibly none). Throws `IMS_ERR_BAD_LENGTH`
   * (LLLL below the minimum) or `IMS_ERR_FRAME_TOO_LARGE` (above `maxFrameSize`), both with
   * `details.reason` 7; after that the stream cannot be re-synchronised and the reader stays failed.
   * When complete frames precede the bad length in the same chunk, they are returned and the error is
   * thrown by the next `push` (check `failed` at end of stream).
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failure !== null) throw this.failure;
    const frames: Uint8Array[] = [];
    try {
      this.scan(chunk, frames);
    } catch (err) {
      // Frames completed before the bad length are still delivered; the error comes with the next push.
      if (frames.length > 0 && this.failure !== null) return frames;
      throw err;
    }
    return frames;
  }

  private scan(chunk: Uint8Array, frames: Uint8Array[]): void {
    const n = chunk.length;
    let at = 0;
    while (at < n) {
      if (this.partial !== null) {
        // continue a frame split across chunks
        const take = Math.min(this.partial.length - this.partialFilled, n - at);
        this.partial.set(chunk.subarray(at, at + take), this.partialFilled);
        this.partialFilled += take;
        at += take;
        if (this.partialFilled === this.partial.length) {
          frames.push(this.partial);
          this.partial = null;
          this.partialFilled = 0;
        }
        continue;
      }
      if (this.headerLength > 0) {
        // complete a split length prefix
        while (this.headerLength < LLLL_SIZE && at < n) this.header[this.headerLength++] = chunk[at++]!;
        if (this.headerLength < LLLL_SIZE) break;
        const total = this.check(this.header, 0);
        this.partial = new Uint8Array(total);
        this.partial.set(this.header, 0);
        this.partialFilled = LLLL_SIZE;
        this.headerLength = 0;
        if (total === LLLL_SIZE) {
          frames.push(this.partial);
          this.partial = null;
          this.partialFilled = 0;
        }
        continue;
      }
      if (n - at < LLLL_SIZE) {
        while (at < n) this.header[this.headerLength++] = chunk[at++]!;
        break;
      }
      const total = this.check(chunk, at);
      if (n - at >= total) {
        frames.push(chunk.subarray(at, at + total)); // whole frame inside this chunk: no copy
        at += total;
      } else {
        this.partial = new Uint8Array(total);
        this.partial.set(chunk.subarray(at, n), 0);
        this.partialFilled = n - at;
        at = n;
      }
    }
  }

  private check(bytes: Uint8Array, at: number): number {
    const total = bytes[at]! * 16777216 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
    if (total < this.minFrameSize) {
      this.failure = new CodecError(CodecErrorCode.BAD_LENGTH, `LLLL ${total} is below the minimum message length ${this.minFrameSize}`, {
        details: { reason: ReasonCode.INVALID_TOTAL_LENGTH, llll: total, min: this.minFrameSize },
      });
      throw this.failure;
    }
    if (total > this.maxFrameSize) {
      this.failure = new CodecError(CodecErrorCode.FRAME_TOO_LARGE, `LLLL ${total} exceeds the maximum frame size ${this.maxFrameSize}`, {
        details: { reason: ReasonCode.INVALID_TOTAL_LENGTH, llll: total, max: this.maxFrameSize },
      });
      throw this.failure;
    }
    return total;
  }
}
