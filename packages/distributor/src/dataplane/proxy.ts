/**
 * Proxy data plane: the distributor terminates the client's connection and splices it to a new
 * connection to the chosen target. Reads are paused while the other side's writes are backed up,
 * half-closes are passed through (allowHalfOpen on both sides), and an error on either side
 * destroys both. TCP_NODELAY is set on both sockets.
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

function pump(from: Socket, to: Socket, count: (n: number) => void): void {
  let waiting = false;
  const onDrain = (): void => {
    waiting = false;
    from.resume();
  };
  from.on('data', (chunk: Buffer) => {
    count(chunk.length);
    if (!to.write(chunk) && !waiting) {
      waiting = true;
      from.pause();
      to.once('drain', onDrain);
    }
  });
  from.once('end', () => {
    if (!to.destroyed) to.end();
  });
}

/**
 * Splices `client` and `upstream` until both are closed, then calls `onEnd` once. Both sockets
 * must have been created with `allowHalfOpen: true` for half-close to pass through.
 */
export function splice(client: Socket, upstream: Socket, onEnd: (r: SpliceResult) => void): void {
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  let fromClient = 0;
  let fromTarget = 0;
  let abnormal = false;
  let closed = 0;
  const closeOne = (): void => {
    if (++closed === 2) onEnd({ abnormal, bytesFromClient: fromClient, bytesFromTarget: fromTarget });
  };
  pump(client, upstream, (n) => (fromClient += n));
  pump(upstream, client, (n) => (fromTarget += n));
  client.once('error', () => upstream.destroy());
  upstream.once('error', () => {
    abnormal = true;
    client.destroy();
  });
  // A side that finished both directions closes; once one is fully closed and the other ended, close both.
  client.once('close', () => {
    if (!upstream.destroyed && upstream.writableEnded === false) upstream.destroy();
    closeOne();
  });
  upstream.once('close', () => {
    if (!client.destroyed && client.writableEnded === false) client.destroy();
    closeOne();
  });
  client.resume();
}

/** Opens a connection to a target, bounded by `timeoutMs`; resolves with the socket and the connect latency. */
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
