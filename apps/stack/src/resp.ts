/**
 * A small bounded Redis client for the supervisor's own calls to the shared-queues Redis: its health
 * (PING / INFO), its request figures, and the operator commands typed on the dashboard. One fresh
 * socket per call (no state across box restarts), TCP_NODELAY, every command of a call pipelined in
 * one write, a timeout and a reply-size cap. RESP2 only (Redis answers RESP2 until a client says HELLO 3).
 *
 * The IMS systems talk to Redis with ioredis (packages/ims); this file is not on their path.
 */
import { connect } from 'node:net';
import { StackError, StackErrorCode } from './errors.js';

/** A RESP2 error reply (`-ERR …`). It is a value, not a throw: a pipeline can hold several. */
export class RespErrorReply {
  constructor(readonly message: string) {}
}

/** A decoded RESP2 reply: simple/bulk string, integer, nil, error, or array of those. */
export type RespValue = string | number | null | RespErrorReply | RespValue[];

/** Where a Redis listens and how to log in. */
export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
}

/** Options of {@link redisCall}. */
export interface RedisCallOptions {
  /** Whole call, connect to last reply (default 2000 ms). */
  readonly timeoutMs?: number;
  /** Largest total reply accepted (default 4 MiB). */
  readonly maxBytes?: number;
}

/** Deepest array nesting accepted in a reply (Redis's own replies nest a few levels). */
export const MAX_RESP_DEPTH = 16;
/** Default cap on a call's replies. */
export const MAX_RESP_BYTES = 4 * 1024 * 1024;

/** The endpoint of a `redis://[user:password@]host[:port][/db]` URL (the db is not needed for PING/INFO). */
export function redisEndpointOf(url: string): RedisEndpoint {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    throw new StackError(StackErrorCode.BAD_REQUEST, `not a Redis URL: ${url.replace(/\/\/([^@/]*)@/, '//***@')}`, { cause: e });
  }
  if (u.protocol !== 'redis:') throw new StackError(StackErrorCode.BAD_REQUEST, `not a redis:// URL (${u.protocol})`);
  const password = decodeURIComponent(u.password);
  const username = decodeURIComponent(u.username);
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
  };
}

/** One command as a RESP array of bulk strings. */
export function encodeCommand(args: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.from(a, 'utf8');
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Incomplete input: wait for more bytes. */
const MORE = Symbol('more');

/**
 * Incremental RESP2 reader: `push` bytes, get back every reply completed so far. Malformed input
 * throws `STACK_ERR_COMMAND`; so does a reply (or the unread rest) larger than `maxBytes`.
 */
export class RespReader {
  #buf: Buffer = Buffer.alloc(0);
  #total = 0;
  constructor(private readonly maxBytes = MAX_RESP_BYTES) {}

  push(chunk: Buffer): RespValue[] {
    this.#total += chunk.length;
    if (this.#total > this.maxBytes) throw new StackError(StackErrorCode.COMMAND, `Redis reply exceeds ${this.maxBytes} bytes`);
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: RespValue[] = [];
    let off = 0;
    for (;;) {
      const r = this.#parse(off, 0);
      if (r === MORE) break;
      out.push(r.value);
      off = r.end;
    }
    this.#buf = this.#buf.subarray(off);
    return out;
  }

  #line(off: number): { text: string; end: number } | typeof MORE {
    const i = this.#buf.indexOf('\r\n', off, 'latin1');
    if (i < 0) {
      // A header line is short; a long one without CRLF is not RESP.
      if (this.#buf.length - off > 64 * 1024) throw bad('header line without CRLF');
      return MORE;
    }
    return { text: this.#buf.toString('utf8', off, i), end: i + 2 };
  }

  #parse(off: number, depth: number): { value: RespValue; end: number } | typeof MORE {
    if (off >= this.#buf.length) return MORE;
    if (depth > MAX_RESP_DEPTH) throw bad(`arrays nested deeper than ${MAX_RESP_DEPTH}`);
    const type = String.fromCharCode(this.#buf[off]!);
    const l = this.#line(off + 1);
    if (l === MORE) return MORE;
    switch (type) {
      case '+':
        return { value: l.text, end: l.end };
      case '-':
        return { value: new RespErrorReply(l.text), end: l.end };
      case ':': {
        if (!/^-?\d{1,19}$/.test(l.text)) throw bad(`integer "${l.text.slice(0, 40)}"`);
        return { value: Number(l.text), end: l.end };
      }
      case '$': {
        const n = lengthOf(l.text);
        if (n < 0) return { value: null, end: l.end };
        if (n > this.maxBytes) throw new StackError(StackErrorCode.COMMAND, `Redis bulk string of ${n} bytes exceeds ${this.maxBytes}`);
        if (this.#buf.length < l.end + n + 2) return MORE;
        if (this.#buf[l.end + n] !== 0x0d || this.#buf[l.end + n + 1] !== 0x0a) throw bad('bulk string not followed by CRLF');
        return { value: this.#buf.toString('utf8', l.end, l.end + n), end: l.end + n + 2 };
      }
      case '*': {
        const n = lengthOf(l.text);
        if (n < 0) return { value: null, end: l.end };
        const items: RespValue[] = [];
        let end = l.end;
        for (let i = 0; i < n; i++) {
          const r = this.#parse(end, depth + 1);
          if (r === MORE) return MORE;
          items.push(r.value);
          end = r.end;
        }
        return { value: items, end };
      }
      default:
        throw bad(`unknown reply type byte 0x${this.#buf[off]!.toString(16).padStart(2, '0')}`);
    }
  }
}

function lengthOf(text: string): number {
  if (!/^-?\d{1,10}$/.test(text)) throw bad(`length "${text.slice(0, 40)}"`);
  const n = Number(text);
  if (n < -1) throw bad(`length ${n}`);
  return n;
}

function bad(what: string): StackError {
  return new StackError(StackErrorCode.COMMAND, `malformed Redis reply: ${what}`);
}

/**
 * Runs `commands` on one fresh connection (after AUTH when the endpoint has a password) and resolves
 * with one reply per command. A failed AUTH rejects; other error replies are returned as
 * {@link RespErrorReply} values. Rejects with `STACK_ERR_COMMAND` on a network error, the timeout or
 * an oversized / malformed reply.
 */
export function redisCall(ep: RedisEndpoint, commands: ReadonlyArray<readonly string[]>, options: RedisCallOptions = {}): Promise<RespValue[]> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const where = `redis://${ep.host}:${ep.port}`;
  const auth: string[][] = ep.password === undefined ? [] : [ep.username ? ['AUTH', ep.username, ep.password] : ['AUTH', ep.password]];
  const all = [...auth, ...commands];
  return new Promise((resolve, reject) => {
    const reader = new RespReader(options.maxBytes ?? MAX_RESP_BYTES);
    const replies: RespValue[] = [];
    let done = false;
    const finish = (err: StackError | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) return reject(err);
      if (auth.length > 0 && replies[0] instanceof RespErrorReply) return reject(new StackError(StackErrorCode.COMMAND, `${where}: AUTH refused: ${replies[0].message}`));
      resolve(replies.slice(auth.length));
    };
    const timer = setTimeout(() => finish(new StackError(StackErrorCode.COMMAND, `${where} did not answer within ${timeoutMs} ms`)), timeoutMs);
    const socket = connect({ host: ep.host, port: ep.port, noDelay: true });
    socket.once('connect', () => {
      socket.setNoDelay(true);
      // One write for the whole pipeline; nothing else is ever written, so backpressure cannot build up.
      socket.write(Buffer.concat(all.map(encodeCommand)));
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        replies.push(...reader.push(chunk));
      } catch (e) {
        finish(e as StackError);
        return;
      }
      if (replies.length >= all.length) finish(null);
    });
    socket.once('error', (e) => finish(new StackError(StackErrorCode.COMMAND, `${where}: ${e.message}`, { cause: e })));
    socket.once('close', () => finish(new StackError(StackErrorCode.COMMAND, `${where} closed the connection after ${replies.length} of ${all.length} replies`)));
  });
}

/** `INFO` text → `field → value` (section headers and blank lines skipped). */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/**
 * Splits an operator's command line into arguments: blanks separate, "double" or 'single' quotes
 * keep blanks (with \" and \\ inside double quotes), as redis-cli reads its input.
 * @throws {StackError} `STACK_ERR_BAD_REQUEST` for an unterminated quote.
 */
export function splitCommandLine(text: string): string[] {
  const args: string[] = [];
  let i = 0;
  const s = text.trim();
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i >= s.length) break;
    let arg = '';
    while (i < s.length && !/\s/.test(s[i]!)) {
      const c = s[i]!;
      if (c === '"' || c === "'") {
        const close = c;
        i++;
        let closed = false;
        while (i < s.length) {
          const d = s[i]!;
          if (close === '"' && d === '\\' && i + 1 < s.length) {
            arg += s[i + 1];
            i += 2;
            continue;
          }
          if (d === close) {
            closed = true;
            i++;
            break;
          }
          arg += d;
          i++;
        }
        if (!closed) throw new StackError(StackErrorCode.BAD_REQUEST, `unterminated ${close} quote in "${text}"`);
      } else {
        arg += c;
        i++;
      }
    }
    args.push(arg);
  }
  return args;
}

/**
 * Commands refused on the admin API: they turn the connection into a stream (MONITOR, SUBSCRIBE…,
 * SYNC) or switch it to RESP3 (HELLO), so they never answer once in RESP2.
 */
export const STREAMING_COMMANDS: ReadonlySet<string> = new Set(['MONITOR', 'SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE', 'SYNC', 'PSYNC', 'HELLO']);

/** A reply as redis-cli prints it: one line per scalar, `1) …` for array items, `(error)`, `(nil)`, `(integer)`. */
export function formatReply(v: RespValue): string[] {
  if (v === null) return ['(nil)'];
  if (typeof v === 'number') return [`(integer) ${v}`];
  if (v instanceof RespErrorReply) return [`(error) ${v.message}`];
  if (typeof v === 'string') return v.replace(/\r\n$/, '').split(/\r?\n/);
  if (v.length === 0) return ['(empty array)'];
  const out: string[] = [];
  const w = String(v.length).length;
  v.forEach((item, i) => {
    const label = `${String(i + 1).padStart(w)}) `;
    const lines = formatReply(item);
    out.push(label + lines[0]!, ...lines.slice(1).map((l) => ' '.repeat(label.length) + l));
  });
  return out;
}
