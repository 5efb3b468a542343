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
 * Replies are returned without a copy when they lie within one written chunk and copied once when they
 * span chunks (the buffer logic is `StreamFramer`'s, shared with the request and XCF readers). Output
 * is identical however the bytes are chunked. Lengths are checked against `maxFrameSize` as soon as
 * they are known, before the frame is buffered.
 */
import { CodecError, CodecErrorCode } from './errors.js';
import { type CodePage } from './ebcdic.js';
import { StreamFramer } from './stream-framer.js';
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
 * later call throws the same error until `reset()` (or a change of `llll`, which re-scans).
 *
 * Replies are plain `Uint8Array` views, not copies: of the chunk given to `write`/`push` when the reply
 * lies within it, or of a buffer holding that reply alone when it spans chunks (each byte copied once).
 * The reader never writes into a reply it has returned, so replies stay valid as long as the caller
 * does not modify the chunks it wrote — socket `data` chunks never are. A kept reply keeps its chunk
 * alive; `slice()` it to keep only its bytes.
 */
export class ReplyFrameReader extends StreamFramer {
  readonly maxFrameSize: number;
  readonly maxBufferedBytes: number;
  private readonly codePage: CodePage | undefined;
  private mode: boolean;
  /** SAMPLE framing: offset, from the reply's start, of the next structure to measure. */
  private scanRel = 0;
  /** SAMPLE framing: the reply began with *CORTKN* (callout: LLLL data segments). */
  private callout = false;

  constructor(options: ReplyFrameReaderOptions) {
    const max = options.maxFrameSize ?? DEFAULT_MAX_REPLY_SIZE;
    if (!Number.isInteger(max) || max < MIN_LLLL_REPLY || max > ReplyLength.MAX_MESSAGE) {
      throw new CodecError(CodecErrorCode.INVALID_VALUE, `maxFrameSize must be an integer from ${MIN_LLLL_REPLY} to ${ReplyLength.MAX_MESSAGE}, got ${max}`);
    }
    const maxBuffered = options.maxBufferedBytes ?? 2 * max;
    if (!Number.isInteger(maxBuffered) || maxBuffered < max) throw new CodecError(CodecErrorCode.INVALID_VALUE, `maxBufferedBytes must be an integer ≥ maxFrameSize (${max}), got ${maxBuffered}`);
    // Bytes are kept after a framing error: changing `llll` re-scans them.
    super({ maxBufferedBytes: maxBuffered, discardOnError: false });
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
    this.frameDone();
    this.clearFailure();
  }

  /** The next complete reply, decoded with the current framing, or undefined. */
  readReply(): ImsReply | undefined {
    const llll = this.mode;
    const frame = this.read();
    if (frame === undefined) return undefined;
    return decodeReply(frame, this.codePage === undefined ? { llll } : { llll, codePage: this.codePage });
  }

  protected override frameDone(): void {
    this.scanRel = 0;
    this.callout = false;
  }

  protected overLimit(total: number): CodecError {
    return new CodecError(CodecErrorCode.FRAME_TOO_LARGE, `reply buffer would hold ${total} bytes; the limit is ${this.maxBufferedBytes}`, { details: { buffered: total, limit: this.maxBufferedBytes } });
  }

  /** Length of the reply at `b[start]` (see `StreamFramer.measure`); throws on a bad or oversized length. */
  protected measure(b: Uint8Array, start: number, end: number): number {
    const max = this.maxFrameSize;
    if (this.mode) {
      if (end - start < 4) return -4;
      const total = ((b[start]! << 24) | (b[start + 1]! << 16) | (b[start + 2]! << 8) | b[start + 3]!) >>> 0;
      if (total > max) throw this.tooLarge(total);
      if (total < MIN_LLLL_REPLY) throw new CodecError(CodecErrorCode.BAD_LENGTH, `reply LLLL ${total} is below the ${MIN_LLLL_REPLY}-byte minimum`, { details: { llll: total } });
      return total;
    }
    // HWSSMPL0: walk the structures until a CSM or RSM. Whatever follows a structure that is not the
    // CSM/RSM includes at least a 12-byte CSM, which gives the lower bounds returned while waiting.
    let scan = start + this.scanRel;
    while (true) {
      if (!this.callout && end - scan >= 12) {
        // Fast path: a data segment is told apart by its LL (under 12) or by a first ID byte that
        // no control ID starts with ('*' is X'5C' in EBCDIC, X'2A' in ASCII); scanReplyStructure
        // classifies everything else and reports bad lengths.
        const ll = (b[scan]! << 8) | b[scan + 1]!;
        const id = b[scan + 4]!;
        if (ll >= ReplyLength.SEGMENT_HEADER && ll <= ReplyLength.MAX_SEGMENT && (ll < 12 || (id !== 0x5c && id !== 0x2a))) {
          const next = scan + ll;
          if (next - start > max) throw this.tooLarge(next - start);
          if (next > end) {
            this.scanRel = scan - start;
            return -this.atLeast(next - start + ReplyLength.CSM);
          }
          scan = next;
          continue;
        }
      }
      // Outside callout mode the LL is the length whatever the structure turns out to be: check it
      // before waiting for the 12 bytes that classify it.
      if (!this.callout && end - scan >= 2 && scan + ((b[scan]! << 8) | b[scan + 1]!) - start > max) {
        throw this.tooLarge(scan + ((b[scan]! << 8) | b[scan + 1]!) - start);
      }
      const s = scanReplyStructure(b, scan, end, this.callout);
      if (s === NEED_MORE) {
        this.scanRel = scan - start;
        return -this.atLeast(scan - start + ReplyLength.CSM);
      }
      const next = scan + structureLength(s);
      if (next - start > max) throw this.tooLarge(next - start);
      const kind = structureKind(s);
      if (kind === StructureKind.CSM || kind === StructureKind.RSM) {
        this.scanRel = scan - start;
        return next - start;
      }
      if (next > end) {
        this.scanRel = scan - start;
        return -this.atLeast(next - start + ReplyLength.CSM);
      }
      if (kind === StructureKind.CORTKN && scan === start) this.callout = true;
      scan = next;
    }
  }

  /** A lower bound of the reply's length, checked against the limit. */
  private atLeast(length: number): number {
    if (length > this.maxFrameSize) throw this.tooLarge(length);
    return length;
  }

  private tooLarge(size: number): CodecError {
    return new CodecError(CodecErrorCode.FRAME_TOO_LARGE, `reply of at least ${size} bytes exceeds the ${this.maxFrameSize}-byte limit`, { details: { size, limit: this.maxFrameSize } });
  }
}
