/**
 * A small bounded HTTP client for the supervisor's own calls (health, metrics, stats, commands):
 * TCP_NODELAY, a timeout and a body cap. By default one fresh socket per call; the supervisor's
 * periodic polls pass a keep-alive agent instead (a poll every 500 ms per box would otherwise cost a
 * connect, an accept and a TIME_WAIT each), and a poll that finds its pooled socket closed by a
 * restarted box is sent once more on a fresh one.
 */
import { request, type Agent } from 'node:http';
import type { AdminAuth } from './boxes.js';
import { StackError, StackErrorCode } from './errors.js';

/** Largest response body read (health, stats and metrics are small). */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export interface HttpResult {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

export interface HttpOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
  /** A keep-alive agent to reuse sockets with (default: a fresh socket per call, `connection: close`). */
  readonly agent?: Agent;
}

/** Performs one request; rejects with `STACK_ERR_COMMAND` on a network error, timeout or oversize body. */
export function httpCall(url: string, options: HttpOptions = {}): Promise<HttpResult> {
  return once(url, options, true);
}

/** Errors that mean the peer closed a pooled keep-alive socket just before it was reused. */
const STALE_SOCKET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

function once(url: string, options: HttpOptions, mayRetry: boolean): Promise<HttpResult> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const maxBytes = options.maxBytes ?? MAX_RESPONSE_BYTES;
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const body = options.body === undefined ? undefined : Buffer.from(options.body, 'utf8');
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: options.method ?? 'GET',
        agent: options.agent ?? false,
        headers: { ...(options.headers ?? {}), ...(body ? { 'content-length': String(body.length) } : {}), ...(options.agent ? {} : { connection: 'close' }) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            req.destroy(new StackError(StackErrorCode.COMMAND, `response from ${url} exceeds ${maxBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => reject(wrap(url, e)));
      },
    );
    req.on('socket', (s) => s.setNoDelay(true));
    req.setTimeout(timeoutMs, () => req.destroy(new StackError(StackErrorCode.COMMAND, `${url} did not answer within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (mayRetry && req.reusedSocket && e.code !== undefined && STALE_SOCKET.has(e.code)) once(url, options, false).then(resolve, reject);
      else reject(wrap(url, e));
    });
    req.end(body);
  });
}

function wrap(url: string, e: Error): StackError {
  return e instanceof StackError ? e : new StackError(StackErrorCode.COMMAND, `${url}: ${e.message}`, { cause: e });
}

/** Authorization header for a box's HTTP admin endpoint. @throws {StackError} `STACK_ERR_BAD_STATE` for Redis AUTH, which is no HTTP header. */
export function authHeader(auth: AdminAuth): string {
  if (auth.scheme === 'redis') throw new StackError(StackErrorCode.BAD_STATE, 'a Redis box has no HTTP admin endpoint');
  return auth.scheme === 'basic' ? `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}` : `Bearer ${auth.token}`;
}

/**
 * Sums the Prometheus counters whose name ends in `_requests_total` or `_transactions_total`
 * (every sample line, all labels). Comment lines and other metrics are skipped.
 */
export function sumRequestCounters(text: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+([-+0-9.eE]+|NaN|[+-]Inf)(?:\s+\d+)?$/.exec(line.trim());
    if (!m) continue;
    if (!/_(requests|transactions)_total$/.test(m[1]!)) continue;
    const v = Number(m[2]);
    if (Number.isFinite(v)) total += v;
  }
  return total;
}
