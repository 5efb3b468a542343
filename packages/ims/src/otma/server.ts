/**
 * The socket edge of the OTMA member: a TCP listener on loopback standing in for XCF. Each connection
 * is one link; bytes are split into frames by the codec's `XcfFrameReader`, decoded, and handed to the
 * member. Every frame IMS sends is written with one `socket.write`. Backpressure: while the socket's
 * write buffer is over its high-water mark, or the member holds too many unfinished inputs of the link,
 * reading pauses; a peer that stops reading for `drainTimeoutMs` or lets the buffer pass
 * `maxWriteBuffer` is disconnected.
 */
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { type CodePage, XcfFrameReader, decodeXcfFrame, encodeXcfFrame, decodeOtmaMessage, type OtmaMessage, isImsplexError } from '@imsplex/codec';
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
    for (const s of this.sockets) s.destroy();
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
    const id = this.member.attach(
      {
        peer,
        send: (message: OtmaMessage) => {
          if (closed || socket.destroyed) return;
          let frame: Uint8Array;
          try {
            frame = encodeXcfFrame(message, { codePage: page });
          } catch (e) {
            log.error({ err: e, peer }, 'could not encode an OTMA message');
            return;
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
          msg = decodeXcfFrame(f, { codePage: page });
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
