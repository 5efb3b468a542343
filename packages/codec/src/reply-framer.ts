/**
 * Streaming framer for IMS Connect replies, for clients (spec §1.4–§1.5).
 *
 * - HWSSMPL1 (`*SAMPL1*`, `llll: true`): each reply starts with a 4-byte total length that counts
 *   itself; the framer only reads that length.
 * - HWSSMPL0 (`*SAMPLE*`, `llll: false`): there is no overall length; the framer walks the LL
 *   structures (`scanReplyStructure`) until a CSM or RSM ends the reply.
 *
 * The client knows which exit its request named, so it sets `llll` before the reply arrives; the
 * setting is sticky and may change between replies (a partially buffered reply is re-scanned).
 *
 * One buffer with start/scan/end cursors; complete frames are returned as copies, so they stay valid
 * whatever the framer does next. Output is identical however the bytes are chunked. Lengths are
 * checked against `maxFrameSize` as soon as they are known, before the frame is buffered.
 */
import { CodecError, CodecErrorCode } from './errors.js';
import { type CodePage } from './ebcdic.js';
import { NEED_MORE, ReplyLength, StructureKind, decodeReply, scanReplyStructure, structureKind, structureLength, type ImsReply } from './reply.js';

/**
 * Default largest reply: 10,000,000 bytes (X'00989680'), IBM's maximum message for the IMS TM resource
 * adapter and the order of IMS Connect's 10 MB `MAXSIZE` default. [INF] a client-side bound only.
 */
export const DEFAULT_MAX_REPLY_SIZE = 10_000_000;

/** Smallest SAMPL1 reply: LLLL + CSM (16 bytes). */
const MIN_LLLL_REPLY = ReplyLength.LLLL + ReplyLength.CSM;

/** Options of `ReplyFrameReader`. */
export interface ReplyFrameReaderOptions {
  /** Framing of the next reply: true for HWSSMPL1 (leading LLLL), false for HWSSMPL0. */
  readonly llll: boolean;
  /** Largest reply accepted, in bytes, LLLL included. Default `DEFAULT_MAX_REPLY_SIZE`. */
  readonly maxFrameSize?: number;
  /**
   * Most bytes held at once (the reply in progress plus any that follow it). Default
   * `2 × maxFrameSize`. A `write` that would exceed it throws before copying.
   */
  readonly maxBufferedBytes?: number;
  /** EBCDIC code page used by `readReply` for name fields. Default CP037. */
  readonly codePage?: CodePage;
}

/**
 * Splits a byte stream from IMS Connect into whole replies. Errors are `CodecError`s
 * (`IMS_ERR_FRAME_TOO_LARGE`, `IMS_ERR_BAD_LENGTH`); after one, the stream is out of step and every
 * later call throws the same error until `reset()`.
 */
export class ReplyFrameReader {
  readonly maxFrameSize: number;
  readonly maxBufferedBytes: number;
  private readonly codePage: CodePage | undefined;
  private mode: boolean;
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0; // first byte of the reply in progress
  private end = 0; // end of buffered bytes
  private scan = 0; // SAMPLE: next structure to measure
  private callout = false; // SAMPLE: the reply began with *CORTKN*
  private failed: CodecError | undefined;

  constructor(options: ReplyFrameReaderOptions) {
    const max = options.maxFrameSize ?? DEFAULT_MAX_REPLY_SIZE;
    if (!Number.isInteger(max) || max < MIN_LLLL_REPLY || max > ReplyLength.MAX_MESSAGE) {
      throw new CodecError(CodecErrorCode.INVALID_VALUE, `maxFrameSize must be an integer from ${MIN_LLLL_REPLY} to ${ReplyLength.MAX_MESSAGE}, got ${max}`);
    }
    const maxBuffered = options.maxBufferedBytes ?? 2 * max;
    if (!Number.isInteger(maxBuffered) || maxBuffered < max) throw new CodecError(CodecErrorCode.INVALID_VALUE, `maxBufferedBytes must be an integer ≥ maxFrameSize (${max}), got ${maxBuffered}`);
    this.maxFrameSize = max;
    this.maxBufferedBytes = maxBuffered;
    this.mode = options.llll;
    this.codePage = options.codePage;
  }

  /** Framing of the next reply (true = HWSSMPL1 LLLL). Changing it re-scans a partial reply. */
  get llll(): boolean {
    return this.mode;
  }
  set llll(value: boolean) {
    if (value === this.mode) return;
    this.mode = value;
    this.scan = this.start;
    this.callout = false;
    this.failed = undefined;
  }

  /** Bytes buffered and not yet returned. */
  get bufferedBytes(): number {
    return this.end - this.start;
  }

  /** Append bytes. Throws (before copying) if the buffer limit or a known reply length is exceeded. */
  write(chunk: Uint8Array): void {
    if (this.failed) throw this.failed;
    if (chunk.length === 0) return;
    const held = this.end - this.start;
    if (held + chunk.length > this.maxBufferedBytes) {
      throw this.fail(new CodecError(CodecErrorCode.FRAME_TOO_LARGE, `reply buffer would hold ${held + chunk.length} bytes; the limit is ${this.maxBufferedBytes}`, { details: { buffered: held + chunk.length, limit: this.maxBufferedBytes } }));
    }
    if (this.end + chunk.length > this.buf.length) {
      if (held + chunk.length <= this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const next = new Uint8Array(Math.min(this.maxBufferedBytes, Math.max(held + chunk.length, this.buf.length * 2, 4096)));
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.scan -= this.start;
      this.end = held;
      this.start = 0;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
    this.probe();
  }

  /** The next complete reply (a copy, LLLL included for HWSSMPL1), or undefined if none is complete. */
  read(): Uint8Array | undefined {
    if (this.failed) throw this.failed;
    const frameEnd = this.probe();
    if (frameEnd < 0) return undefined;
    const frame = this.buf.slice(this.start, frameEnd);
    this.start = frameEnd;
    this.scan = frameEnd;
    this.callout = false;
    if (this.start === this.end) this.start = this.end = this.scan = 0;
    return frame;
  }

  /** Append bytes and return every reply now complete. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.write(chunk);
    const out: Uint8Array[] = [];
    for (let f = this.read(); f !== undefined; f = this.read()) out.push(f);
    return out;
  }

  /** The next complete reply, decoded with the current framing, or undefined. */
  readReply(): ImsReply | undefined {
    const llll = this.mode;
    const frame = this.read();
    if (frame === undefined) return undefined;
    return decodeReply(frame, this.codePage === undefined ? { llll } : { llll, codePage: this.codePage });
  }

  /** Drop everything buffered and any error. */
  reset(): void {
    this.start = this.end = this.scan = 0;
    this.callout = false;
    this.failed = undefined;
  }

  private fail(err: CodecError): CodecError {
    this.failed = err;
    return err;
  }

  /** End offset of the reply in progress if complete, else -1; throws on a bad or oversized length. */
  private probe(): number {
    const b = this.buf;
    const start = this.start;
    const end = this.end;
    try {
      if (this.mode) {
        if (end - start < 4) return -1;
        const total = ((b[start]! << 24) | (b[start + 1]! << 16) | (b[start + 2]! << 8) | b[start + 3]!) >>> 0;
        if (total > this.maxFrameSize) throw this.tooLarge(total);
        if (total < MIN_LLLL_REPLY) throw new CodecError(CodecErrorCode.BAD_LENGTH, `reply LLLL ${total} is below the ${MIN_LLLL_REPLY}-byte minimum`, { details: { llll: total } });
        return end - start >= total ? start + total : -1;
      }
      while (true) {
        // Outside callout mode the LL is the length whatever the structure turns out to be: check it
        // before waiting for the 12 bytes that classify it.
        if (!this.callout && end - this.scan >= 2 && this.scan + ((b[this.scan]! << 8) | b[this.scan + 1]!) - start > this.maxFrameSize) {
          throw this.tooLarge(this.scan + ((b[this.scan]! << 8) | b[this.scan + 1]!) - start);
        }
        const s = scanReplyStructure(b, this.scan, end, this.callout);
        if (s === NEED_MORE) return -1;
        const next = this.scan + structureLength(s);
        if (next - start > this.maxFrameSize) throw this.tooLarge(next - start);
        if (next > end) return -1;
        const kind = structureKind(s);
        if (kind === StructureKind.CSM || kind === StructureKind.RSM) return next;
        if (kind === StructureKind.CORTKN && this.scan === start) this.callout = true;
        this.scan = next;
      }
    } catch (err) {
      if (err instanceof CodecError) throw this.fail(err);
      throw err;
    }
  }

  private tooLarge(size: number): CodecError {
    return new CodecError(CodecErrorCode.FRAME_TOO_LARGE, `reply of at least ${size} bytes exceeds the ${this.maxFrameSize}-byte limit`, { details: { size, limit: this.maxFrameSize } });
  }
}
