/**
 * Write coalescing for the OTMA link: every OTMA message IMS Connect sends to one datastore within one
 * turn of the event loop goes out in one `write` (one system call), in the order sent.
 *
 * Under load many client connections are readable in the same poll phase; each one's input becomes an
 * OTMA frame on the same link. Loopback writes are dear (the sender pays for the receiver's path too),
 * so the frames of one turn are encoded back to back into a staging buffer and handed to the socket as
 * one Buffer when the turn's I/O callbacks are done. The bytes on the wire are exactly the frames the
 * old one-write-per-frame path produced, concatenated: only the write boundaries change, and the link
 * is a byte stream (the peer frames by LLLL).
 */
import { CodecError, CodecErrorCode, XCF_LENGTH_BYTES, encodeOtmaMessageInto, otmaMessageSize, type CodePage, type OtmaMessage } from '@imsplex/codec';

/** Runs `fn` once the current turn's I/O callbacks are done (default: `setImmediate`). */
export type FlushScheduler = (fn: () => void) => void;

/**
 * `setImmediate` as it was when this module loaded. The flush is not a timed wait (it bounds nothing
 * and always runs on the next check phase), so test fake timers must not hold link bytes back: a test
 * that fakes `setImmediate` after loading this module still sees its frames reach the peer.
 */
const immediate: (fn: () => void) => unknown = globalThis.setImmediate;
export const nextTurn: FlushScheduler = (fn) => {
  immediate(fn);
};

/**
 * Staging buffer size. [INF] imsplex choice: 64 KiB holds a few hundred typical OTMA transaction
 * frames (≈200 bytes each); a turn that stages more is flushed early, so the staging stays bounded and
 * a frame larger than a quarter of it is written on its own (after the staged ones) without a copy.
 */
export const LINK_STAGING_BYTES = 64 * 1024;
const LARGE_FRAME = LINK_STAGING_BYTES / 4;

/** Coalesces the OTMA frames of one event-loop turn into one write on the link. */
export class LinkWriter {
  private readonly stage = Buffer.allocUnsafe(LINK_STAGING_BYTES);
  private used = 0;
  private scheduled = false;
  private discarded = false;
  /** Writes handed to the sink / frames encoded (for tests and diagnostics). */
  writes = 0;
  frames = 0;

  private readonly options: { codePage: CodePage };

  constructor(
    /** Receives whole frames, one or more back to back; must not keep a reference it does not own. */
    private readonly sink: (bytes: Buffer) => void,
    codePage: CodePage,
    private readonly schedule: FlushScheduler = nextTurn,
  ) {
    this.options = Object.freeze({ codePage });
  }

  /** Bytes staged and not yet written. */
  get pendingBytes(): number {
    return this.used;
  }

  /**
   * Encode `msg` as an XCF frame (LLLL + OTMA message) behind the frames already staged. Encoding
   * errors (a value that does not fit) are thrown here, synchronously, and stage nothing.
   */
  send(msg: OtmaMessage): void {
    if (this.discarded) return;
    const size = XCF_LENGTH_BYTES + otmaMessageSize(msg);
    // The same check and error as the codec's `encodeXcfFrame`.
    if (size > 0x7fffffff) throw new CodecError(CodecErrorCode.INVALID_VALUE, `XCF frame of ${size} bytes is too large`);
    if (size > LARGE_FRAME) {
      // Encode it on its own (it is checked before anything is written), then keep the order.
      const own = Buffer.allocUnsafe(size);
      writeLlll(own, 0, size);
      encodeOtmaMessageInto(msg, own, XCF_LENGTH_BYTES, this.options);
      this.flush();
      this.frames++;
      this.writes++;
      this.sink(own);
      return;
    }
    if (this.used + size > LINK_STAGING_BYTES) this.flush();
    const at = this.used;
    // A failed encode throws before `used` moves: the partial bytes are overwritten by the next frame.
    encodeOtmaMessageInto(msg, this.stage, at + XCF_LENGTH_BYTES, this.options);
    writeLlll(this.stage, at, size);
    this.used = at + size;
    this.frames++;
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(this.onTurn);
    }
  }

  private readonly onTurn = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /** Write everything staged now (one write). */
  flush(): void {
    const n = this.used;
    if (n === 0) return;
    this.used = 0;
    // A copy the socket may keep while the write is pending (from Node's pool when small): the
    // staging buffer is reused at once.
    const out = Buffer.allocUnsafe(n);
    this.stage.copy(out, 0, 0, n);
    this.writes++;
    this.sink(out);
  }

  /** Drop what is staged and ignore further frames (the link is gone). */
  discard(): void {
    this.used = 0;
    this.discarded = true;
  }
}

function writeLlll(b: Buffer, at: number, size: number): void {
  b[at] = size >>> 24;
  b[at + 1] = (size >>> 16) & 0xff;
  b[at + 2] = (size >>> 8) & 0xff;
  b[at + 3] = size & 0xff;
}
