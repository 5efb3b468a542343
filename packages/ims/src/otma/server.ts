/**
 * The socket edge of the OTMA member: a TCP listener on loopback standing in for XCF. Each connection
 * is one link; bytes are split into frames by the codec's `XcfFrameReader`, decoded, and handed to the
 * member. Every frame IMS sends is written with one `socket.write`. The socket is corked from the first
 * write of a tick until `process.nextTick`, so the frames produced while handling one batch of input
 * (a CM1 reply and its commit confirmation, or the replies of many tpipes) leave in one `writev` system
 * call instead of one `write` each; TCP_NODELAY stays on, so nothing waits for Nagle, and the nextTick
 * runs as soon as the current callbacks and promise reactions are done (no timer, no added latency).
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
    for (const s of this.sockets) closeSocket(s);
    this.sockets.clear();
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
    const names = new TpipeNames(page);
    // Cork per tick: frames written in the same tick are flushed together by one writev.
    let corked = false;
    const uncork = () => {
      corked = false;
      if (!socket.destroyed && socket.writableCorked > 0) socket.uncork();
    };
    const id = this.member.attach(
      {
        peer,
        send: (message: OtmaMessage) => {
          if (closed || socket.destroyed) return;
          let frame: Uint8Array;
          try {
            frame = encodeFrame(names.encoded(message), codecOptions);
          } catch (e) {
            log.error({ err: e, peer }, 'could not encode an OTMA message');
            return;
          }
          if (!corked) {
            corked = true;
            socket.cork();
            process.nextTick(uncork);
          }
          const ok = socket.write(frame);
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
        },
        close: (reason: string) => {
          log.info({ peer, reason }, 'closing OTMA link');
          closeSocket(socket);
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
      this.member.closed(id);
    };
    socket.on('error', () => done());
    socket.on('close', () => done());
    log.info({ peer, link: id }, 'OTMA link connected');
  }
}

/**
 * Close a link on purpose: frames written earlier in this tick (still corked) go to the kernel first, as
 * they would have without the cork, then the socket is destroyed.
 */
function closeSocket(socket: Socket): void {
  if (!socket.destroyed && socket.writableCorked > 0) socket.uncork();
  socket.destroy();
}

/**
 * Encoded tpipe names of one link. The encoder turns a string tpipe into 8 bytes (a fresh array each
 * time); a message whose tpipe is given as those same bytes encodes identically, so each name is
 * encoded once and reused. Bounded: the cache starts over once it holds `MAX_NAMES` names.
 */
class TpipeNames {
  static readonly MAX_NAMES = 4096;
  private readonly names = new Map<string, Uint8Array>();
  constructor(private readonly page: CodePage) {}

  /** `message`, with its control section's tpipe as cached bytes when it is a string. */
  encoded(message: OtmaMessage): OtmaMessage {
    const tpipe = message.control.tpipe;
    if (typeof tpipe !== 'string') return message;
    let bytes = this.names.get(tpipe);
    if (!bytes) {
      bytes = new Uint8Array(8);
      this.page.encodeInto(tpipe, bytes, 0, 8);
      if (this.names.size >= TpipeNames.MAX_NAMES) this.names.clear();
      this.names.set(tpipe, bytes);
    }
    return { ...message, control: { ...message.control, tpipe: bytes } };
  }
}

/**
 * `encodeXcfFrame` (same bytes, same checks) into a Buffer from Node's shared pool: a frame of a few
 * hundred bytes then costs a slice of a preallocated slab instead of an ArrayBuffer of its own, and
 * `socket.write` takes it as it is (a plain Uint8Array is wrapped in a Buffer first).
 */
function encodeFrame(message: OtmaMessage, options: { codePage: CodePage }): Buffer {
  const size = XCF_LENGTH_BYTES + otmaMessageSize(message);
  if (size > 0x7fffffff) throw new CodecError(CodecErrorCode.INVALID_VALUE, `XCF frame of ${size} bytes is too large`);
  const out = Buffer.allocUnsafe(size);
  out.fill(0, XCF_LENGTH_BYTES); // the encoder writes every byte today; zero-fill keeps that from mattering
  out.writeUInt32BE(size, 0);
  encodeOtmaMessageInto(message, out, XCF_LENGTH_BYTES, options);
  return out;
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
