/**
 * Proxy data plane: the distributor terminates the client's connection and splices it to a new
 * connection to the chosen target. Reads are paused while the other side's writes are backed up,
 * half-closes are passed through (allowHalfOpen on both sides), and an error on either side
 * destroys both. TCP_NODELAY is set on both sockets.
 *
 * Three implementations, same bytes, same half-closes, same byte counts and same `onEnd`:
 * - native (the default where it is built: Linux): both connections are handed to the C I/O
 *   thread of native/splice.c (an epoll loop doing recv/send, as HAProxy does) and the JS sockets
 *   are destroyed; Node is not involved per chunk at all;
 * - direct (the default otherwise): each socket reads straight into a buffer of its own (Node's
 *   `onread` mechanism, the one `net.connect({ onread })` documents), and the bytes go to the other
 *   socket in the same call, with no stream machinery and no allocation per chunk while the other
 *   side keeps up;
 * - stream (`'data'` → `write()`), the fallback for sockets that offer neither (or already
 *   started reading).
 */
import { connect, type Socket } from 'node:net';
import { DistributorError, DistributorErrorCode } from '../errors.js';
import { loadNativeSplice } from './native.js';

/** How a spliced connection ended. */
export interface SpliceResult {
  /** The target side ended with an error (reset), counted as an abnormal termination. */
  readonly abnormal: boolean;
  readonly bytesFromClient: number;
  readonly bytesFromTarget: number;
}

/** Which implementation a {@link splice} uses. */
export type SpliceMode = 'native' | 'direct' | 'stream';

/** Every {@link SpliceMode}, in the order {@link splice} tries them. */
export const SPLICE_MODES: readonly SpliceMode[] = Object.freeze(['native', 'direct', 'stream']);

/** Options of {@link splice}. */
export interface SpliceOptions {
  /**
   * First implementation to try (default `'native'`); when it is not available for these sockets
   * the next one in the order native → direct → stream is used. `'stream'` always works.
   */
  readonly mode?: SpliceMode;
  /** `false` forces the stream path (the same as `mode: 'stream'`); kept from before `mode`. */
  readonly direct?: boolean;
  /**
   * Aborting closes the spliced pair at once (both connections, whichever implementation), as
   * destroying both sockets does on the JS paths; `onEnd` still follows, once.
   */
  readonly signal?: AbortSignal;
}

/**
 * Bytes each socket reads at once on the direct path: one buffer per direction per connection.
 * [INF] 16 KiB, Node's default socket highWaterMark and HAProxy's default `tune.bufsize` (also one
 * buffer per direction per connection): a 32 KiB IMS message arrives in two reads, and 1 000
 * proxied connections hold 32 MiB of read buffers.
 * The native path (native/splice.c, same value) reads into one such buffer per I/O thread and
 * keeps at most this much per direction, only while a peer is slow.
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

interface FdHandle {
  fd?: number;
  reading?: boolean;
}

/**
 * The fd of `s` when it can be handed to the native data plane: a connected TCP socket of ours
 * that has not started reading (no byte of it was taken from the kernel), has nothing buffered
 * either way and has not ended; else -1.
 */
function handOverFd(s: Socket): number {
  const h = (s as unknown as { _handle?: FdHandle | null })._handle;
  if (!h || typeof h.fd !== 'number' || h.fd < 0 || h.reading === true) return -1;
  if (s.destroyed || s.connecting || s.readableLength !== 0 || s.writableLength !== 0 || s.writableEnded || s.readableEnded) return -1;
  return h.fd;
}

/** The native path: hands both fds to the addon and destroys the JS sockets; false when not possible. */
function spliceNative(client: Socket, upstream: Socket, onEnd: (r: SpliceResult) => void, signal: AbortSignal | undefined): boolean {
  const { addon } = loadNativeSplice();
  if (addon === null) return false;
  const cfd = handOverFd(client);
  const tfd = handOverFd(upstream);
  if (cfd < 0 || tfd < 0) return false;
  let onAbort: (() => void) | null = null;
  let id: number;
  try {
    id = addon.attach(cfd, tfd, (_id, abnormal, bytesFromClient, bytesFromTarget) => {
      if (onAbort) signal!.removeEventListener('abort', onAbort);
      onEnd({ abnormal, bytesFromClient, bytesFromTarget });
    });
  } catch {
    // No fd left, queue full, …: the JS paths still have both sockets intact.
    return false;
  }
  // Closes Node's fds only: the addon's dups keep both connections open (no FIN is sent), and
  // libuv removes its epoll registration before closing.
  client.destroy();
  upstream.destroy();
  if (signal) {
    if (signal.aborted) addon.close(id);
    else {
      onAbort = () => addon.close(id);
      signal.addEventListener('abort', onAbort, { once: true });
    }
  }
  return true;
}

/** Shared end-of-splice bookkeeping of one connection. */
class SpliceState {
  fromClient = 0;
  fromTarget = 0;
  abnormal = false;
  closed = 0;
  /** Called once both sides closed, before `onEnd` (drops the abort listener). */
  onClosed: (() => void) | null = null;
  constructor(readonly onEnd: (r: SpliceResult) => void) {}
  closeOne(): void {
    if (++this.closed !== 2) return;
    this.onClosed?.();
    this.onEnd({ abnormal: this.abnormal, bytesFromClient: this.fromClient, bytesFromTarget: this.fromTarget });
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
 * the native or direct path can be used. Tries `options.mode` (default native), then the next
 * implementation in the order native → direct → stream; returns the one taken. On the native path
 * both sockets are destroyed on return (the connections live on in the addon's I/O thread).
 */
export function splice(client: Socket, upstream: Socket, onEnd: (r: SpliceResult) => void, options: SpliceOptions = {}): SpliceMode {
  const first = options.direct === false ? 'stream' : (options.mode ?? 'native');
  const signal = options.signal;
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  if (first === 'native' && spliceNative(client, upstream, onEnd, signal)) return 'native';
  const state = new SpliceState(onEnd);
  const s = first !== 'stream' && canReadDirect(client) && canReadDirect(upstream) ? readSlots(client) : null;
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
  if (signal) {
    const onAbort = (): void => {
      client.destroy();
      upstream.destroy();
    };
    if (signal.aborted) onAbort();
    else {
      signal.addEventListener('abort', onAbort, { once: true });
      state.onClosed = () => signal.removeEventListener('abort', onAbort);
    }
  }
  client.resume();
  upstream.resume();
  return s ? 'direct' : 'stream';
}

/**
 * The implementation {@link splice} tries first for `mode` where it is available in this process:
 * `'native'` when the addon loads (and `mode` is native or unset), else the JS path asked for
 * (`'direct'` unless `'stream'`). Per connection, a JS path may still fall back further (see
 * {@link splice}'s return value).
 */
export function preferredSpliceMode(mode?: SpliceMode): SpliceMode {
  if (mode === 'stream') return 'stream';
  if ((mode === undefined || mode === 'native') && loadNativeSplice().addon !== null) return 'native';
  return 'direct';
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
