/**
 * Internal: the buffer logic shared by the three stream readers (`RequestFrameReader`,
 * `ReplyFrameReader`, `XcfFrameReader`). A subclass only says how long the frame at a position is
 * (`measure`); this class keeps the bytes.
 *
 * - Pushed chunks are **borrowed**, not copied: they sit in a queue, and a frame that lies within one
 *   chunk is returned as a view of that chunk (a plain `Uint8Array`, even when the chunk is a Node
 *   `Buffer`, so `frame.slice()` copies as the decoders expect; a plain `Uint8Array` chunk that is
 *   exactly one frame is returned itself).
 * - A frame that spans chunks is assembled in a buffer nobody else writes, copying each of its bytes
 *   once, and only its bytes: the assembly stops at the frame's end (or at a lower bound of it while the
 *   length is still unknown), so the frames after it stay views of their chunk. The assembled buffer is
 *   handed out as the frame and never written again. When the length is known the buffer comes from
 *   `allocOutput` (a region of a shared slab under 4 KB, uninitialised memory of its own above; every
 *   byte is written before the frame is returned); while it is unknown, from a zeroed array.
 *
 * Lifetime rule for callers: a returned frame aliases the chunk it came from (or its own buffer), so it
 * stays valid as long as the caller does not modify the chunks it pushed — which socket `data` chunks
 * never are. A kept frame keeps its whole chunk alive; copy (`frame.slice()`) what must outlive it
 * cheaply.
 */
import { allocOutput } from './alloc.js';
import { CodecError } from './errors.js';

/** More queued chunks than this are merged into one (only when a caller writes without reading). */
const MAX_QUEUED_CHUNKS = 1024;
/** Placeholder for a consumed queue slot. */
const EMPTY = new Uint8Array(0);
/** Smallest buffer allocated to assemble a frame whose length is not known yet. */
const MIN_ASSEMBLY = 256;

/** Options of `StreamFramer`. */
export interface StreamFramerOptions {
  /** Most bytes held at once; `append` throws (before taking the chunk) beyond it. */
  readonly maxBufferedBytes: number;
  /** Drop what is buffered when `measure` fails (the stream cannot be re-synchronised anyway). */
  readonly discardOnError: boolean;
}

export abstract class StreamFramer {
  private readonly maxHeld: number;
  private readonly discardOnError: boolean;
  /**
   * Borrowed chunks in `queue[qHead, qEnd)`; `queue[qHead]` from `qOffset` on is the oldest unread byte
   * outside `asm`. The array is reused (never shrunk) so queueing a chunk does not allocate.
   */
  private queue: Uint8Array[] = [];
  private qHead = 0;
  private qEnd = 0;
  private qOffset = 0;
  /** The start of a frame that spans chunks, copied; null when no frame is being assembled. */
  private asm: Uint8Array | null = null;
  private asmLength = 0;
  /** Bytes buffered and not yet returned (queued + assembled). */
  private held = 0;
  private failure: CodecError | undefined;

  protected constructor(options: StreamFramerOptions) {
    this.maxHeld = options.maxBufferedBytes;
    this.discardOnError = options.discardOnError;
  }

  /**
   * Length of the frame that starts at `bytes[start]`, `end` being the end of the bytes available:
   * - a positive number: the frame's total length (it may exceed `end - start`);
   * - a negative number `-n`: the length is not known yet, and at least `n` bytes (`n > end - start`,
   *   `n` not above the frame's true length) are needed before asking again.
   * Throws `CodecError` for an impossible or oversized length.
   */
  protected abstract measure(bytes: Uint8Array, start: number, end: number): number;

  /** Forget per-frame measuring state: the frame at the head was taken or the buffer reset. */
  protected frameDone(): void {}

  /** The error for a chunk that would make the reader hold `total` bytes. */
  protected abstract overLimit(total: number): CodecError;

  /** Bytes buffered and not yet returned. */
  get bufferedBytes(): number {
    return this.held;
  }

  /** True after an error: every later call rethrows it until `reset()`. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Drop everything buffered and any error. */
  reset(): void {
    this.discard();
    this.failure = undefined;
  }

  /** Forget the error (keeping the bytes), for a reader whose framing changed. */
  protected clearFailure(): void {
    this.failure = undefined;
  }

  /** Record `err` as the reader's error and return it. */
  protected fail(err: CodecError): CodecError {
    this.failure = err;
    return err;
  }

  /** Queue a chunk (borrowed). Throws the reader's error, or `overLimit`, before taking it. */
  protected append(chunk: Uint8Array): void {
    if (this.failure !== undefined) throw this.failure;
    const n = chunk.length;
    if (n === 0) return;
    if (this.held + n > this.maxHeld) throw this.fail(this.overLimit(this.held + n));
    this.queue[this.qEnd++] = chunk;
    this.held += n;
    if (this.qEnd - this.qHead > MAX_QUEUED_CHUNKS) this.coalesce();
  }

  /**
   * Length of the frame at the head if it is complete, else -1. A complete frame is then either the
   * first bytes of `asm` or lies in `queue[qHead]` at `qOffset`. Assembles a frame that spans chunks.
   */
  protected pending(): number {
    if (this.failure !== undefined) throw this.failure;
    try {
      for (;;) {
        const asm = this.asm;
        if (asm === null) {
          if (this.qHead === this.qEnd) return -1;
          const chunk = this.queue[this.qHead]!;
          const start = this.qOffset;
          const m = this.measure(chunk, start, chunk.length);
          if (m > 0 && m <= chunk.length - start) return m;
          if (this.qHead + 1 === this.qEnd) return -1;
          // The frame runs past this chunk: assemble it. Every byte left in the chunk belongs to it.
          const avail = chunk.length - start;
          // Known length: exactly the frame, every byte of which is written before it is returned.
          // Unknown length: zeroed, as spare capacity may stay in the frame's ArrayBuffer.
          const buf = m > 0 ? allocOutput(m) : new Uint8Array(Math.max(-m, MIN_ASSEMBLY, avail * 2));
          buf.set(start === 0 ? chunk : chunk.subarray(start), 0);
          this.asm = buf;
          this.asmLength = avail;
          this.dropHead();
          continue;
        }
        const m = this.measure(asm, 0, this.asmLength);
        if (m > 0 && m <= this.asmLength) return m;
        if (this.qHead === this.qEnd) return -1;
        const need = m > 0 ? m : -m;
        // measure's contract (n > bytes available) is what makes this loop progress.
        if (need <= this.asmLength) throw new Error(`StreamFramer: measure asked for ${need} bytes with ${this.asmLength} available`);
        if (need > asm.length) this.grow(m > 0 ? need : Math.max(need, asm.length * 2), m > 0);
        this.fill(need);
      }
    } catch (err) {
      throw this.raise(err);
    }
  }

  /** Record a `CodecError` from `measure` as the reader's error (dropping the bytes if so configured). */
  private raise(err: unknown): unknown {
    if (!(err instanceof CodecError)) return err;
    if (this.discardOnError) this.discard();
    return this.fail(err);
  }

  /** Take the complete frame of `length` bytes that `pending()` found. */
  protected take(length: number): Uint8Array {
    let frame: Uint8Array;
    const asm = this.asm;
    if (asm !== null) {
      frame = length === asm.length ? asm : new Uint8Array(asm.buffer, asm.byteOffset, length);
      if (this.asmLength > length) {
        // Only after a change of framing: bytes assembled past the frame go back to the queue.
        this.unshift(new Uint8Array(asm.buffer, asm.byteOffset + length, this.asmLength - length));
      }
      this.asm = null;
      this.asmLength = 0;
    } else {
      const chunk = this.queue[this.qHead]!;
      const start = this.qOffset;
      frame = new Uint8Array(chunk.buffer, chunk.byteOffset + start, length);
      if (start + length === chunk.length) this.dropHead();
      else this.qOffset = start + length;
    }
    this.held -= length;
    this.frameDone();
    return frame;
  }

  /**
   * Append bytes (the chunk is kept, not copied, until its frames are read). Throws, before taking the
   * chunk, if the buffer limit would be exceeded; throws as soon as a frame's length is known to be bad
   * or over the maximum frame size.
   */
  write(chunk: Uint8Array): void {
    this.append(chunk);
    this.pending();
  }

  /** The next complete frame (a view of the pushed bytes, length prefix included), or undefined. */
  read(): Uint8Array | undefined {
    return this.nextFrame();
  }

  /** Append bytes and return every frame now complete. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.append(chunk);
    const out: Uint8Array[] = [];
    this.drain(out);
    return out;
  }

  /** The next complete frame, or undefined. */
  protected nextFrame(): Uint8Array | undefined {
    const n = this.pending();
    return n < 0 ? undefined : this.take(n);
  }

  /** Append every complete frame to `out`. On an error, the frames appended before it stay in `out`. */
  protected drain(out: Uint8Array[]): void {
    for (;;) {
      if (this.asm === null && this.qHead < this.qEnd) this.drainHead(out);
      const n = this.pending();
      if (n < 0) return;
      out.push(this.take(n));
    }
  }

  /** The hot path of `drain`: the frames that lie inside the head chunk, as views, in one loop. */
  private drainHead(out: Uint8Array[]): void {
    const chunk = this.queue[this.qHead]!;
    const end = chunk.length;
    const buffer = chunk.buffer;
    const base = chunk.byteOffset;
    const start = this.qOffset;
    let at = start;
    let error: unknown;
    try {
      while (at < end) {
        const m = this.measure(chunk, at, end);
        if (m <= 0 || m > end - at) break;
        // A plain Uint8Array chunk that is exactly one frame is that frame (no second view of it).
        out.push(m === end && at === 0 && chunk.constructor === Uint8Array ? chunk : new Uint8Array(buffer, base + at, m));
        at += m;
        this.frameDone();
      }
    } catch (err) {
      error = err;
    }
    this.held -= at - start;
    if (at === end) this.dropHead();
    else this.qOffset = at;
    if (error !== undefined) throw this.raise(error);
  }

  private discard(): void {
    this.queue = [];
    this.qHead = 0;
    this.qEnd = 0;
    this.qOffset = 0;
    this.asm = null;
    this.asmLength = 0;
    this.held = 0;
    this.frameDone();
  }

  private dropHead(): void {
    this.queue[this.qHead++] = EMPTY; // do not keep the chunk alive
    this.qOffset = 0;
    if (this.qHead === this.qEnd) {
      this.qHead = this.qEnd = 0;
    } else if (this.qHead >= 64 && this.qHead * 2 >= this.qEnd) {
      const n = this.qEnd - this.qHead;
      this.queue.copyWithin(0, this.qHead, this.qEnd);
      this.queue.fill(EMPTY, n, this.qEnd);
      this.qHead = 0;
      this.qEnd = n;
    }
  }

  private unshift(chunk: Uint8Array): void {
    if (this.qOffset > 0) {
      const head = this.queue[this.qHead]!;
      this.queue[this.qHead] = head.subarray(this.qOffset);
      this.qOffset = 0;
    }
    if (this.qHead > 0) this.queue[--this.qHead] = chunk;
    else {
      this.queue.unshift(chunk);
      this.qEnd++;
    }
  }

  private grow(capacity: number, exact: boolean): void {
    const next = exact ? allocOutput(capacity) : new Uint8Array(capacity);
    next.set(this.asm!.subarray(0, this.asmLength), 0);
    this.asm = next;
  }

  /** Copy queued bytes into `asm` until it holds `need` bytes or the queue is empty. */
  private fill(need: number): void {
    const asm = this.asm!;
    while (this.asmLength < need && this.qHead < this.qEnd) {
      const chunk = this.queue[this.qHead]!;
      const start = this.qOffset;
      const take = Math.min(need - this.asmLength, chunk.length - start);
      asm.set(start === 0 && take === chunk.length ? chunk : chunk.subarray(start, start + take), this.asmLength);
      this.asmLength += take;
      if (start + take === chunk.length) this.dropHead();
      else this.qOffset = start + take;
    }
  }

  /** Merge the queued chunks into one (a caller that writes many chunks without reading). */
  private coalesce(): void {
    const merged = new Uint8Array(this.held - this.asmLength);
    let at = 0;
    for (let i = this.qHead; i < this.qEnd; i++) {
      const c = i === this.qHead ? this.queue[i]!.subarray(this.qOffset) : this.queue[i]!;
      merged.set(c, at);
      at += c.length;
    }
    this.queue = [merged];
    this.qHead = 0;
    this.qEnd = 1;
    this.qOffset = 0;
  }
}
