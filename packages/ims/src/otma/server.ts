/**
 * The socket edge of the OTMA member: a TCP listener on loopback standing in for XCF. Each connection
 * is one link; bytes are split into frames by the codec's `XcfFrameReader`, decoded, and handed to the
 * member. The frames IMS sends in one tick are encoded back to back into the link's output arena and leave
 * in one `socket.write` at `process.nextTick` (a frame is never split over two writes), so the frames
 * produced while handling one batch of input (a CM1 reply and its commit confirmation, or the replies
 * of many tpipes) cost one system call and no buffer of their own; TCP_NODELAY stays on, so nothing
 * waits for Nagle, and the nextTick runs as soon as the current callbacks and promise reactions are
 * done (no timer, no added latency).
 * Backpressure: while the socket's write buffer is over its high-water mark, or the member holds too
 * many unfinished inputs of the link, reading pauses; a peer that stops reading for `drainTimeoutMs` or
 * lets the buffer pass `maxWriteBuffer` is disconnected.
 */
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import {
  type CodePage,
  CodecError,
  CodecErrorCode,
  XCF_LENGTH_BYTES,
  XcfFrameReader,
  decodeXcfFrame,
  decodeOtmaMessage,
  encodeOtmaMessageInto,
  otmaMessageSize,
  type OtmaMessage,
  isImsplexError,
} from '@imsplex/codec';
import type { Logger } from '../engine.js';
import type { OtmaMember } from './member.js';

export interface LinkServerOptions {
  readonly host: string;
  readonly port: number;
  readonly maxLinks: number;
  readonly codePage: CodePage;
  readonly logger: Logger;
  /** Largest frame accepted (default the codec's 16 MiB). */
  readonly maxFrameSize?: number;
  /** Bytes allowed in a socket's write buffer before the link is dropped (default 64 MiB). */
  readonly maxWriteBuffer?: number;
  /** How long a full write buffer may stay full (default 60 s). */
  readonly drainTimeoutMs?: number;
}

export class LinkServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Per socket: write the frames encoded in this tick now (before a close). */
  private readonly flushers = new Map<Socket, () => void>();

  constructor(
    private readonly member: OtmaMember,
    private readonly options: LinkServerOptions,
  ) {}

  async listen(): Promise<AddressInfo> {
    const server = createServer({ noDelay: true }, (s) => this.accept(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server.address() as AddressInfo;
  }

  get address(): AddressInfo | undefined {
    return (this.server?.address() as AddressInfo | null) ?? undefined;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) {
      // Frames written earlier in this tick go to the kernel first, as they would have without the close.
      this.flushers.get(s)?.();
      s.destroy();
    }
    this.sockets.clear();
    this.flushers.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    const log = this.options.logger;
    if (this.sockets.size >= this.options.maxLinks) {
      log.warn({ peer: socket.remoteAddress }, 'OTMA link refused: MAXLINKS reached');
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    this.sockets.add(socket);
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const reader = new XcfFrameReader({ maxFrameSize: this.options.maxFrameSize, codePage: this.options.codePage });
    const maxWrite = this.options.maxWriteBuffer ?? 64 * 1024 * 1024;
    const drainMs = this.options.drainTimeoutMs ?? 60_000;
    let drainTimer: NodeJS.Timeout | undefined;
    let memberPaused = false;
    let drainPaused = false;
    let closed = false;
    const updateFlow = () => {
      if (memberPaused || drainPaused) socket.pause();
      else socket.resume();
    };
    const page = this.options.codePage;
    const codecOptions = { codePage: page };
    // Frames produced in one tick are encoded back to back into the link's output arena and leave in
    // one socket.write (one system call) when the tick ends.
    const out = new OutputArena();
    let flushScheduled = false;
    const flush = () => {
      flushScheduled = false;
      const chunk = out.take();
      if (!chunk || closed || socket.destroyed) return;
      const ok = socket.write(chunk);
      if (socket.writableLength > maxWrite) {
        log.warn({ peer, buffered: socket.writableLength }, 'OTMA link dropped: peer is not reading');
        socket.destroy();
        return;
      }
      if (!ok && !drainPaused) {
        drainPaused = true;
        updateFlow();
        drainTimer = setTimeout(() => {
          log.warn({ peer }, 'OTMA link dropped: drain timeout');
          socket.destroy();
        }, drainMs);
        drainTimer.unref();
      }
    };
    this.flushers.set(socket, flush);
    const id = this.member.attach(
      {
        peer,
        send: (message: OtmaMessage) => {
          if (closed || socket.destroyed) return;
          try {
            // A frame that does not fit the arena's free space flushes what is there first (order kept).
            if (!out.encodeFrame(message, codecOptions)) {
              flush();
              out.encodeFrame(message, codecOptions, true);
            }
          } catch (e) {
            log.error({ err: e, peer }, 'could not encode an OTMA message');
            return;
          }
          if (!flushScheduled) {
            flushScheduled = true;
            process.nextTick(flush);
          }
        },
        close: (reason: string) => {
          log.info({ peer, reason }, 'closing OTMA link');
          flush();
          socket.destroy();
        },
      },
      {
        pause: () => {
          memberPaused = true;
          updateFlow();
        },
        resume: () => {
          memberPaused = false;
          updateFlow();
        },
      },
    );
    socket.on('drain', () => {
      if (drainTimer) clearTimeout(drainTimer);
      drainTimer = undefined;
      drainPaused = false;
      updateFlow();
    });
    socket.on('data', (chunk: Buffer) => {
      let frames: Uint8Array[];
      try {
        frames = reader.push(chunk);
      } catch (e) {
        log.warn({ peer, err: isImsplexError(e) ? e.code : e }, 'OTMA link framing error; closing');
        socket.destroy();
        return;
      }
      for (const f of frames) {
        let msg: OtmaMessage;
        try {
          msg = decodeXcfFrame(f, codecOptions);
        } catch (e) {
          log.warn({ peer, err: isImsplexError(e) ? e.message : e }, 'undecodable OTMA message');
          const control = controlOnly(f, page);
          if (control) this.member.malformed(id, control);
          continue;
        }
        this.member.receive(id, msg);
      }
    });
    const done = () => {
      if (closed) return;
      closed = true;
      if (drainTimer) clearTimeout(drainTimer);
      this.sockets.delete(socket);
      this.flushers.delete(socket);
      this.member.closed(id);
    };
    socket.on('error', () => done());
    socket.on('close', () => done());
    log.info({ peer, link: id }, 'OTMA link connected');
  }
}

/**
 * The output buffer of one link: frames are encoded (`encodeXcfFrame`'s bytes and checks) back to back
 * into a preallocated slab, and `take()` hands everything encoded since the last call to one
 * `socket.write`. The slab only moves forward: bytes handed to the socket are never written again (the
 * socket may still hold them), and a full slab is replaced by a new one (the old one lives until its
 * last write is done). A frame larger than the slab gets a slab of its own.
 */
export class OutputArena {
  static readonly SLAB = 64 * 1024;
  private slab: Buffer = Buffer.allocUnsafe(0);
  private start = 0;
  private end = 0;

  /** Bytes encoded and not yet taken. */
  get pending(): number {
    return this.end - this.start;
  }

  /**
   * Encode one XCF frame (4-byte length, then the OTMA message) after the pending ones. Returns false,
   * writing nothing, when it does not fit the free space while frames are pending (take them first);
   * with `force`, or when nothing is pending, a new slab is made for it.
   */
  encodeFrame(message: OtmaMessage, options: { codePage: CodePage }, force = false): boolean {
    const size = XCF_LENGTH_BYTES + otmaMessageSize(message);
    if (size > 0x7fffffff) throw new CodecError(CodecErrorCode.INVALID_VALUE, `XCF frame of ${size} bytes is too large`);
    if (this.end + size > this.slab.length) {
      if (this.end > this.start && !force) return false;
      this.slab = Buffer.allocUnsafe(Math.max(OutputArena.SLAB, size));
      this.start = this.end = 0;
    }
    const at = this.end;
    const out = this.slab;
    out.fill(0, at + XCF_LENGTH_BYTES, at + size); // the encoder writes every byte today; zero-fill keeps that from mattering
    out.writeUInt32BE(size, at);
    encodeOtmaMessageInto(message, out, at + XCF_LENGTH_BYTES, options);
    // Only a frame encoded in full counts: a failed encode leaves its bytes to be overwritten.
    this.end = at + size;
    return true;
  }

  /** Everything encoded since the last call, as one Buffer (a view of the slab), or undefined. */
  take(): Buffer | undefined {
    if (this.end === this.start) return undefined;
    const chunk = this.slab.subarray(this.start, this.end);
    this.start = this.end;
    return chunk;
  }
}

/** The control section alone of a frame whose sections do not decode (for a NAK). */
function controlOnly(frame: Uint8Array, page: CodePage): OtmaMessage['control'] | undefined {
  if (frame.length < 36) return undefined;
  const head = frame.slice(4, 36);
  head[15] = 0; // no sections
  try {
    return decodeOtmaMessage(head, { codePage: page }).control;
  } catch {
    return undefined;
  }
}
