/**
 * Proxy data plane: the distributor terminates the client's connection and splices it to a new
 * connection to the chosen target. Reads are paused while the other side's writes are backed up,
 * half-closes are passed through (allowHalfOpen on both sides), and an error on either side
 * destroys both. TCP_NODELAY is set on both sockets.
 *
 * Two implementations, same bytes and same events:
 * - the direct path (used whenever Node exposes it): each socket reads straight into a buffer of
 *   its own (Node's `onread` mechanism, the one `net.connect({ onread })` documents), and the
 *   bytes go to the other socket in the same call, with no stream machinery and no allocation per
 *   chunk while the other side keeps up;
 * - the stream path (`'data'` → `write()`), the fallback for sockets that do not offer the direct
 *   path (or already started reading).
 */
import { connect, type Socket } from 'node:net';
import { DistributorError, DistributorErrorCode } from '../errors.js';

/** How a spliced connection ended. */
export interface SpliceResult {
  /** The target side ended with an error (reset), counted as an abnormal termination. */
  readonly abnormal: boolean;
  readonly bytesFromClient: number;
  readonly bytesFromTarget: number;
}

/** Which implementation a {@link splice} uses. */
export type SpliceMode = 'direct' | 'stream';

/** Options of {@link splice}. */
export interface SpliceOptions {
  /** Use the direct read path when available (default true); false forces the stream path. */
  readonly direct?: boolean;
}

/**
 * Bytes each socket reads at once on the direct path: one buffer per direction per connection.
 * [INF] 16 KiB, Node's default socket highWaterMark and HAProxy's default `tune.bufsize` (also one
 * buffer per direction per connection): a 32 KiB IMS message arrives in two reads, and 1 000
 * proxied connections hold 32 MiB of read buffers.
 */
export const SPLICE_READ_BUFFER = 16 * 1024;

/** Node's per-socket user-buffer slots (net.Socket's `onread` option), found once by description. */
interface ReadSlots {
  readonly buffer: symbol;
  readonly callback: symbol;
  readonly generator: symbol;
}
let slots: ReadSlots | null | undefined;

function readSlots(s: Socket): ReadSlots | null {
  if (slots !== undefined) return slots;
  const own = Object.getOwnPropertySymbols(s);
  const find = (d: string): symbol | undefined => own.find((x) => x.description === d);
  const buffer = find('kBuffer');
  const callback = find('kBufferCb');
  const generator = find('kBufferGen');
  slots = buffer && callback && generator ? { buffer, callback, generator } : null;
  return slots;
}

interface SocketHandle {
  reading?: boolean;
  useUserBuffer?: (b: Uint8Array) => void;
}

/** True when `s` can be switched to the direct read path: Node offers it and reading has not started. */
function canReadDirect(s: Socket): boolean {
  const h = (s as unknown as { _handle?: SocketHandle | null })._handle;
  return !!h && typeof h.useUserBuffer === 'function' && h.reading !== true && s.readableLength === 0 && !s.destroyed && readSlots(s) !== null;
}

/** Shared end-of-splice bookkeeping of one connection. */
class SpliceState {
  fromClient = 0;
  fromTarget = 0;
  abnormal = false;
  closed = 0;
  constructor(readonly onEnd: (r: SpliceResult) => void) {}
  closeOne(): void {
    if (++this.closed === 2) this.onEnd({ abnormal: this.abnormal, bytesFromClient: this.fromClient, bytesFromTarget: this.fromTarget });
  }
}

/**
 * One direction on the direct path: `from` reads into `buf`, the bytes are written to `to` at once.
 * When the write cannot complete on the spot, `to` still references `buf`, so the next read goes
 * into a fresh buffer; while `to` is backed up, later chunks are copied to their exact size (so a
 * slow peer never pins a whole read buffer per small chunk). `to.write()` returning false stops
 * reading until `to` drains.
 */
class DirectPipe {
  buf: Buffer;
  /** A fresh read buffer is needed before the next read (the current one is still referenced). */
  retire = false;
  /**
   * The last view `buf[0, viewLength)` written: reused when the next chunk has the same length
   * (request/response traffic repeats sizes), as a view whose write completed is referenced by
   * nothing. Dropped with the buffer it looks into.
   */
  view: Buffer | null = null;
  waiting = false;
  readonly onDrain: () => void;
  constructor(
    readonly from: Socket,
    readonly to: Socket,
    readonly state: SpliceState,
    readonly fromClient: boolean,
  ) {
    this.buf = Buffer.allocUnsafeSlow(SPLICE_READ_BUFFER);
    this.onDrain = () => {
      this.waiting = false;
      if (!this.from.destroyed) this.from.resume();
    };
  }

  install(s: ReadSlots): void {
    const from = this.from as unknown as Record<symbol, unknown> & { _handle: SocketHandle };
    from[s.buffer] = this.buf;
    from[s.callback] = (n: number): boolean => this.onRead(n);
    from[s.generator] = (): Buffer | undefined => this.next();
    from._handle.useUserBuffer!(this.buf);
  }

  onRead(n: number): boolean {
    if (this.fromClient) this.state.fromClient += n;
    else this.state.fromTarget += n;
    const to = this.to;
    let ok: boolean;
    if (to.writableLength > 0) {
      // Queued behind earlier bytes anyway: queue an exact-size copy, keep the read buffer.
      ok = to.write(Buffer.copyBytesFrom(this.buf, 0, n));
    } else {
      let view = this.view;
      if (view === null || view.length !== n) view = this.view = this.buf.subarray(0, n);
      ok = to.write(view);
      if (to.writableLength > 0) {
        this.retire = true;
        this.view = null;
      }
    }
    if (ok) return true;
    if (!this.waiting) {
      this.waiting = true;
      to.once('drain', this.onDrain);
    }
    // Returning false makes Node stop reading `from` (resumed by onDrain).
    return false;
  }

  next(): Buffer | undefined {
    if (!this.retire) return undefined;
    this.retire = false;
    this.buf = Buffer.allocUnsafeSlow(SPLICE_READ_BUFFER);
    return this.buf;
  }
}

function pump(from: Socket, to: Socket, state: SpliceState, fromClient: boolean): void {
  let waiting = false;
  const onDrain = (): void => {
    waiting = false;
    from.resume();
  };
  from.on('data', (chunk: Buffer) => {
    if (fromClient) state.fromClient += chunk.length;
    else state.fromTarget += chunk.length;
    if (!to.write(chunk) && !waiting) {
      waiting = true;
      from.pause();
      to.once('drain', onDrain);
    }
  });
}

/**
 * Splices `client` and `upstream` until both are closed, then calls `onEnd` once. Both sockets
 * must have been created with `allowHalfOpen: true` for half-close to pass through, and should not
 * have started reading (`pauseOnConnect` on the server, {@link connectTarget} for the target) so
 * the direct read path can be used. Returns the path taken.
 */
export function splice(client: Socket, upstream: Socket, onEnd: (r: SpliceResult) => void, options: SpliceOptions = {}): SpliceMode {
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  const state = new SpliceState(onEnd);
  const s = options.direct !== false && canReadDirect(client) && canReadDirect(upstream) ? readSlots(client) : null;
  if (s) {
    new DirectPipe(client, upstream, state, true).install(s);
    new DirectPipe(upstream, client, state, false).install(s);
  } else {
    pump(client, upstream, state, true);
    pump(upstream, client, state, false);
  }
  // A half-close passes through: once one side ended, end the other's writable side.
  client.once('end', () => {
    if (!upstream.destroyed) upstream.end();
  });
  upstream.once('end', () => {
    if (!client.destroyed) client.end();
  });
  client.once('error', () => upstream.destroy());
  upstream.once('error', () => {
    state.abnormal = true;
    client.destroy();
  });
  // A side that finished both directions closes; once one is fully closed and the other ended, close both.
  client.once('close', () => {
    if (!upstream.destroyed && upstream.writableEnded === false) upstream.destroy();
    state.closeOne();
  });
  upstream.once('close', () => {
    if (!client.destroyed && client.writableEnded === false) client.destroy();
    state.closeOne();
  });
  client.resume();
  upstream.resume();
  return s ? 'direct' : 'stream';
}

/**
 * Opens a connection to a target, bounded by `timeoutMs`; resolves with the socket and the connect
 * latency. The socket is paused (not reading) until {@link splice} starts it, so bytes a target
 * sends first wait in the kernel.
 */
export function connectTarget(host: string, port: number, timeoutMs: number): Promise<{ socket: Socket; latencyMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const s = connect({ host, port, noDelay: true, allowHalfOpen: true });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new DistributorError(DistributorErrorCode.TARGET_CONNECT, `connect to ${host}:${port} timed out after ${timeoutMs} ms`, { details: { host, port, timeout: true, refused: false } }));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.pause();
      s.removeAllListeners('error');
      resolve({ socket: s, latencyMs: performance.now() - started });
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      s.destroy();
      reject(new DistributorError(DistributorErrorCode.TARGET_CONNECT, `connect to ${host}:${port} failed: ${e.code ?? e.message}`, { cause: e, details: { host, port, timeout: false, refused: e.code === 'ECONNREFUSED' } }));
    });
  });
}
