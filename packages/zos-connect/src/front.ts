/**
 * `HttpFront`: an HTTP/1.1 front for the API fast path. It owns the plain-TCP connections of the
 * main HTTP server in node:http's place and answers fast-path GETs itself (no llhttp callbacks, no
 * IncomingMessage / ServerResponse streams, no per-socket timers); the moment a connection carries
 * anything that is not plainly a fast-path GET, it hands the connection to node:http for good.
 *
 * What it answers itself: a request head that parses strictly (`GET SP origin-form SP HTTP/1.1` or
 * `HTTP/1.0`, header lines `token ":" OWS value OWS` with the bytes node accepts, no obs-fold) and is
 * *eligible* (no Transfer-Encoding, no Content-Length other than one `0`, no Expect, no Upgrade, at
 * most one Host and one for HTTP/1.1, Connection tokens limited to `close` / `keep-alive`, head within
 * node's maxHeaderSize and our header-count bound), and that the host's `serveFast` accepts (route,
 * API, service and server-state checks). The response is written in one `socket.write`, exactly as
 * node's ServerResponse writes the same `writeHead(status, [headers])` + `end(body)`: status line with
 * node's reason phrase, the headers in order, `Date` (cached per second like node's utcDate), then
 * `Connection: keep-alive` + `Keep-Alive: timeout=<floor(keepAliveTimeout / 1000)>` or
 * `Connection: close` (request `Connection: close`, HTTP/1.0 without keep-alive, server closing).
 *
 * Handover: on anything else (or any parse doubt) it stops reading, waits until the responses of the
 * fast requests already accepted on the connection are written (responses follow request order),
 * removes its listeners, `unshift`s every byte not yet consumed and calls node's own connection
 * listener with the socket. node:http then owns it (its GETs still reach `serveFast` through the
 * 'request' event).
 *
 * Lifecycle, as node:http's: keep-alive idle timeout (`keepAliveTimeout` + node's 1 s buffer) after a
 * response, headers timeout (`headersTimeout` / `requestTimeout`) for a partly received head (fired at
 * the deadline, where node checks every `connectionsCheckingInterval`), half-close and late data
 * after `Connection: close` handled as node's parser does, errors reported through the server's
 * 'clientError' event (fastify's handler writes its 400 / 408 answers), so no socket error can crash
 * the process. Timeouts share one `DeadlineQueue` per delay instead of a timer per socket.
 */
import { channel } from 'node:diagnostics_channel';
import http, { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import { type Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import { type Clock, type Timers } from '@imsplex/client';
import { ImsplexError } from '@imsplex/codec';
import { DeadlineQueue } from './deadlines.js';

// ------------------------------------------------------------------------------------------------
// The request/response interface shared by the node:http fast path and the front
// ------------------------------------------------------------------------------------------------

/**
 * A request as the fast path reads it, shaped like node's `IncomingMessage`: `headers` with
 * lower-cased names and duplicates joined as node joins them, and the socket for the peer address.
 */
export interface FastRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly socket?: { readonly remoteAddress?: string | undefined } | null;
}

/** Where a fast-path answer goes: the status, header fields (name, value, …) and body in one write. */
export interface FastSink {
  respond(status: number, headers: readonly string[], body: string): void;
}

/** What the front asks its server: answer this request on the fast path, or return false. */
export interface FrontHost {
  serveFast(req: FastRequest, out: FastSink): boolean;
}

/**
 * Errors the front reports through the server's 'clientError' event, with node's own codes (so a
 * 'clientError' handler — fastify's — answers them as it answers node's): a connection half-closed
 * in the middle of a request head, data after a `Connection: close` request, a head not received
 * within headersTimeout / requestTimeout.
 */
export const HttpFrontErrorCode = {
  /** The peer ended its side in the middle of a request head (node: llhttp's finish at EOF). */
  EOF_IN_HEAD: 'HPE_INVALID_EOF_STATE',
  /** Bytes other than CR/LF after a request that closes the connection. */
  DATA_AFTER_CLOSE: 'HPE_CLOSED_CONNECTION',
  /** A request head was not complete within headersTimeout (or requestTimeout). */
  REQUEST_TIMEOUT: 'ERR_HTTP_REQUEST_TIMEOUT',
} as const;
/** A code of `HttpFrontError`. */
export type HttpFrontErrorCode = (typeof HttpFrontErrorCode)[keyof typeof HttpFrontErrorCode];

/** An HTTP protocol error on a connection the front owns (emitted as 'clientError'). */
export class HttpFrontError extends ImsplexError {
  declare readonly code: HttpFrontErrorCode;
  constructor(code: HttpFrontErrorCode, message: string) {
    super(code, message);
  }
}

// ------------------------------------------------------------------------------------------------
// Constants
// ------------------------------------------------------------------------------------------------

/** End of a request head. */
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

/**
 * Accepted requests whose responses are not written yet, per connection, before the front stops
 * reading it [INF: our bound; node:http has none besides the outgoing high-water mark]. Pipelining
 * clients rarely send more than a handful; the rest waits in the socket.
 */
export const FRONT_MAX_PIPELINE = 16;

/**
 * Header fields a head may have to be answered here [INF: our bound, well under node's 2000-entry
 * `maxHeaderPairs`]; a head with more is handed to node:http (which also honours maxHeadersCount).
 */
export const FRONT_MAX_HEADER_FIELDS = 64;

/** node's HTTP_SERVER_KEEP_ALIVE_TIMEOUT_BUFFER: the socket idles this much past the advertised value. */
const KEEP_ALIVE_BUFFER_MS = 1000;

/** Reasons to stop reading a connection (bit flags). */
const PAUSE_PIPELINE = 1;
const PAUSE_DRAIN = 2;
const PAUSE_HANDOVER = 4;

/** tchar (RFC 9110 §5.6.2): the bytes node's parser accepts in a header name. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/** Header fields node keeps the first of (the rest are dropped unless joinDuplicateHeaders). */
const SINGLE_FIELDS = new Set(['age', 'host', 'from', 'etag', 'server', 'referer', 'expires', 'location', 'user-agent', 'retry-after', 'content-type', 'max-forwards', 'authorization', 'last-modified', 'content-length', 'if-modified-since', 'proxy-authorization', 'if-unmodified-since']);

/** node publishes every request on these channels; with a subscriber the front leaves the socket to node. */
const REQUEST_START = channel('http.server.request.start');
const RESPONSE_FINISH = channel('http.server.response.finish');

/** node's own answers when no 'clientError' listener writes one (`socketOnError`). */
const NODE_ERROR_ANSWERS: Readonly<Record<string, string>> = {
  HPE_HEADER_OVERFLOW: `HTTP/1.1 431 ${STATUS_CODES[431]}\r\nConnection: close\r\n\r\n`,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: `HTTP/1.1 413 ${STATUS_CODES[413]}\r\nConnection: close\r\n\r\n`,
  ERR_HTTP_REQUEST_TIMEOUT: `HTTP/1.1 408 ${STATUS_CODES[408]}\r\nConnection: close\r\n\r\n`,
};
const NODE_BAD_REQUEST = `HTTP/1.1 400 ${STATUS_CODES[400]}\r\nConnection: close\r\n\r\n`;

const noop = (): void => undefined;

// ------------------------------------------------------------------------------------------------
// Date header, cached per second as node's utcDate
// ------------------------------------------------------------------------------------------------

let dateText = '';
let dateUntil = 0;

/** `Date` header value: node caches `toUTCString()` until the next second; so does this, without a timer. */
export function httpDate(now = Date.now()): string {
  if (now >= dateUntil || now < dateUntil - 1000) {
    const d = new Date(now);
    dateText = d.toUTCString();
    dateUntil = now - d.getUTCMilliseconds() + 1000;
  }
  return dateText;
}

// ------------------------------------------------------------------------------------------------
// Request head parsing
// ------------------------------------------------------------------------------------------------

/** A strictly parsed, eligible request head. */
export interface FrontHead {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** node's `shouldKeepAlive` for this request (llhttp's rules for HTTP/1.1 and HTTP/1.0). */
  readonly keepAlive: boolean;
}

/** Limits a head must fit to be answered by the front. */
export interface HeadLimits {
  /** node's `joinDuplicateHeaders` (server option). */
  readonly joinDuplicateHeaders: boolean;
  /** Header fields allowed (node's maxHeadersCount when smaller than the front's bound). */
  readonly maxFields: number;
}

/**
 * Parse the head `text` (latin1: request line and header lines, each ending in CRLF, without the
 * final empty line). Returns undefined for anything the front does not answer itself: not a GET in
 * origin form, another version than HTTP/1.1 or HTTP/1.0, a byte node would refuse or read otherwise,
 * a body (Transfer-Encoding, Content-Length other than one `0`), Expect, Upgrade, Host missing (1.1)
 * or repeated, a Connection token other than close / keep-alive, too many fields.
 */
export function parseHead(text: string, limits: HeadLimits): FrontHead | undefined {
  if (!text.startsWith('GET /')) return undefined;
  const lineEnd = text.indexOf('\r\n');
  const sp = text.indexOf(' ', 5);
  if (sp < 0 || sp > lineEnd) return undefined;
  for (let i = 5; i < sp; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return undefined;
  }
  let http11: boolean;
  if (lineEnd - sp === 9 && text.startsWith('HTTP/1.', sp + 1)) {
    const minor = text.charCodeAt(sp + 8);
    if (minor === 0x31) http11 = true;
    else if (minor === 0x30) http11 = false;
    else return undefined;
  } else return undefined;
  const url = text.slice(4, sp);

  const headers: IncomingHttpHeaders = {};
  const dest = headers as Record<string, string | string[] | undefined>;
  let hosts = 0;
  let lengths = 0;
  let fields = 0;
  let close = false;
  let keepAlive = false;
  let pos = lineEnd + 2;
  while (pos < text.length) {
    const end = text.indexOf('\r\n', pos);
    if (end < 0) return undefined;
    if (++fields > limits.maxFields) return undefined;
    // Name: one or more tchar, then ':' at once (no whitespace before the colon).
    let i = pos;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c >= 128 || TCHAR[c] !== 1) break;
    }
    if (i === pos || i === end || text.charCodeAt(i) !== 0x3a) return undefined;
    const name = text.slice(pos, i).toLowerCase();
    // Value: OWS trimmed on both sides; HTAB, SP, visible ASCII and obs-text only.
    let v = i + 1;
    let w = end;
    while (v < w && (text.charCodeAt(v) === 0x20 || text.charCodeAt(v) === 0x09)) v++;
    while (w > v && (text.charCodeAt(w - 1) === 0x20 || text.charCodeAt(w - 1) === 0x09)) w--;
    for (let k = v; k < w; k++) {
      const c = text.charCodeAt(k);
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) return undefined;
    }
    const value = text.slice(v, w);
    switch (name) {
      case 'host':
        if (++hosts > 1) return undefined;
        break;
      case 'content-length':
        if (++lengths > 1 || value !== '0') return undefined;
        break;
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
        return undefined;
      case 'connection':
        for (const token of value.split(',')) {
          const t = trimOws(token).toLowerCase();
          if (t === 'close') close = true;
          else if (t === 'keep-alive') keepAlive = true;
          else return undefined;
        }
        break;
      default:
        break;
    }
    // Store as node's IncomingMessage._addHeaderLine does.
    if (name === 'set-cookie') {
      const prev = dest[name];
      if (Array.isArray(prev)) prev.push(value);
      else dest[name] = [value];
    } else if (SINGLE_FIELDS.has(name)) {
      const prev = dest[name];
      if (prev === undefined) dest[name] = value;
      else if (limits.joinDuplicateHeaders) dest[name] = `${prev as string}, ${value}`;
    } else {
      const prev = dest[name];
      dest[name] = typeof prev === 'string' ? `${prev}${name === 'cookie' ? '; ' : ', '}${value}` : value;
    }
    pos = end + 2;
  }
  if (http11 && hosts === 0) return undefined;
  // llhttp_should_keep_alive: HTTP/1.1 unless "close"; HTTP/1.0 only with "keep-alive".
  return { url, headers, keepAlive: http11 ? !close : keepAlive };
}

/** `s` without leading and trailing SP / HTAB (HTTP's OWS; not String#trim, which also drops NBSP). */
function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** True when `b` holds something besides CR and LF (which node's parser skips between requests). */
function hasContent(b: Buffer | undefined): boolean {
  if (b === undefined) return false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c !== 13 && c !== 10) return true;
  }
  return false;
}

// ------------------------------------------------------------------------------------------------
// The front
// ------------------------------------------------------------------------------------------------

/** Options of `installHttpFront`. */
export interface HttpFrontOptions {
  /** Timers for the keep-alive and headers timeouts (default: the globals, unref'd). */
  readonly timers: Timers;
  /** The clock of `timers`; with it, each timeout kind shares one timer (`DeadlineQueue`). */
  readonly clock: Clock | undefined;
}

/** A timeout of one connection: the shared queue it is in, or its own timer. */
interface Armed {
  queue: DeadlineQueue | undefined;
  handle: unknown;
}

type ConnectionListener = (this: http.Server, socket: Socket) => void;

/** Counters of the front (for tests, status and metrics). */
export interface HttpFrontStats {
  /** Connections the front owns now. */
  readonly connections: number;
  /** Connections it handed to node:http since it was installed. */
  readonly handedOver: number;
  /** Requests it answered (answers to clients already gone included: they are counted, not written). */
  readonly answered: number;
}

/** The front on one node:http server (see the module comment). */
export class HttpFront {
  private readonly connections = new Set<FrontConnection>();
  private readonly queues = new Map<number, DeadlineQueue>();
  private handedOverCount = 0;
  /** @internal */ answeredCount = 0;
  /** @internal server.close() was called: idle connections close, in-flight ones after their answer. */
  closing = false;
  private keepAliveFor = -1;
  private limits: HeadLimits | undefined;
  private keepAliveText = '';

  constructor(
    /** The HTTP server whose connections the front takes. */
    readonly server: http.Server,
    /** @internal */ readonly host: FrontHost,
    /** node's own 'connection' listener of `server`. */
    private readonly nodeListener: ConnectionListener,
    private readonly options: HttpFrontOptions,
  ) {}

  /** Counters. */
  get stats(): HttpFrontStats {
    return { connections: this.connections.size, handedOver: this.handedOverCount, answered: this.answeredCount };
  }

  /** The 'connection' listener that replaces node's. */
  readonly onConnection = (socket: Socket): void => {
    if (!this.takes(socket)) {
      this.handedOverCount++;
      this.nodeListener.call(this.server, socket);
      return;
    }
    this.connections.add(new FrontConnection(this, socket));
  };

  /** Whether a new connection is the front's: otherwise node's rules differ from what it emulates. */
  private takes(socket: Socket): boolean {
    const s = this.server;
    return (
      !this.closing &&
      !socket.destroyed &&
      s.listenerCount('request') === 1 &&
      !s.timeout &&
      !((s.maxRequestsPerSocket ?? 0) > 0) &&
      !(s as { httpAllowHalfOpen?: boolean }).httpAllowHalfOpen &&
      !REQUEST_START.hasSubscribers &&
      !RESPONSE_FINISH.hasSubscribers
    );
  }

  /** @internal The largest head node accepts (server option, else `http.maxHeaderSize`). */
  get maxHeaderSize(): number {
    return (this.server as { maxHeaderSize?: number }).maxHeaderSize || http.maxHeaderSize;
  }

  /** @internal Limits of heads answered here (from the server's current options; one object while they stay). */
  headLimits(): HeadLimits {
    const s = this.server as { joinDuplicateHeaders?: boolean; maxHeadersCount: number | null };
    const join = s.joinDuplicateHeaders === true;
    const count = typeof s.maxHeadersCount === 'number' && s.maxHeadersCount > 0 ? Math.min(s.maxHeadersCount, FRONT_MAX_HEADER_FIELDS) : FRONT_MAX_HEADER_FIELDS;
    const l = this.limits;
    if (l !== undefined && l.joinDuplicateHeaders === join && l.maxFields === count) return l;
    return (this.limits = Object.freeze({ joinDuplicateHeaders: join, maxFields: count }));
  }

  /** @internal `Connection: keep-alive` and `Keep-Alive` lines as node's _storeHeader writes them. */
  keepAliveLines(): string {
    const ms = this.server.keepAliveTimeout;
    if (ms !== this.keepAliveFor) {
      this.keepAliveFor = ms;
      this.keepAliveText = ms ? `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(ms / 1000)}\r\n` : 'Connection: keep-alive\r\n';
    }
    return this.keepAliveText;
  }

  /** @internal Arm `slot` to call `fire` in `ms`. */
  arm(slot: Armed, ms: number, fire: () => void): void {
    const clock = this.options.clock;
    if (clock === undefined) {
      slot.queue = undefined;
      slot.handle = this.options.timers.setTimeout(fire, ms);
      return;
    }
    let q = this.queues.get(ms);
    if (q === undefined) {
      q = new DeadlineQueue(this.options.timers, clock, ms);
      this.queues.set(ms, q);
    }
    slot.queue = q;
    slot.handle = q.add(fire);
  }

  /** @internal Cancel `slot` (no-op when not armed). */
  disarm(slot: Armed): void {
    if (slot.handle === undefined) return;
    if (slot.queue !== undefined) slot.queue.remove(slot.handle as ReturnType<DeadlineQueue['add']>);
    else this.options.timers.clearTimeout(slot.handle);
    slot.handle = undefined;
  }

  /** @internal A connection left the front (closed, failed or handed over). */
  forget(c: FrontConnection, handedOver: boolean): void {
    this.connections.delete(c);
    if (handedOver) this.handedOverCount++;
  }

  /** @internal Hand `socket` to node:http. */
  toNode(socket: Socket): void {
    this.nodeListener.call(this.server, socket);
  }

  /** Destroy the front's idle connections (as node's closeIdleConnections does for its own). */
  closeIdle(): void {
    for (const c of [...this.connections]) if (c.idle) c.socket.destroy();
  }

  /** Destroy every connection the front owns (closeAllConnections). */
  closeAll(): void {
    for (const c of [...this.connections]) c.socket.destroy();
  }

  /** Cancel the timers of empty deadline queues (a queue re-arms when used again). */
  dispose(): void {
    for (const [ms, q] of this.queues) {
      if (q.size > 0) continue;
      q.dispose();
      this.queues.delete(ms);
    }
  }
}

/** One request the front accepted: its request view, and its answer once `respond` was called. */
class FrontExchange implements FastRequest, FastSink {
  /** The answer's bytes (head and body), once known. */
  out: string | undefined = undefined;
  /** Close the connection after this answer. */
  last = false;
  constructor(
    private readonly conn: FrontConnection,
    readonly url: string,
    readonly headers: IncomingHttpHeaders,
    readonly keepAlive: boolean,
  ) {}

  get method(): string {
    return 'GET';
  }

  get socket(): Socket {
    return this.conn.socket;
  }

  /** Compose the answer as node's `writeHead(status, headers)` + `end(body)` sends it, then flush in order. */
  respond(status: number, headers: readonly string[], body: string): void {
    if (this.out !== undefined) return;
    const front = this.conn.front;
    front.answeredCount++;
    if (this.conn.gone) {
      // The client is gone: nothing to write (the call's logs and metrics are the caller's).
      this.out = '';
      return;
    }
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]!}: ${headers[i + 1]!}\r\n`;
    head += `Date: ${httpDate()}\r\n`;
    if (this.keepAlive && !front.closing) head += front.keepAliveLines();
    else {
      head += 'Connection: close\r\n';
      this.last = true;
    }
    // node: 204, 304 and 1xx responses have no body (end(body) writes nothing after the head).
    const bodyless = status === 204 || status === 304 || (status >= 100 && status <= 199);
    this.out = bodyless ? `${head}\r\n` : `${head}\r\n${body}`;
    this.conn.flush();
  }
}

/** A connection the front owns. */
class FrontConnection {
  /** Bytes received and not consumed yet. */
  private buf: Buffer | undefined = undefined;
  /** Accepted requests, in order; their answers are written in this order. */
  private readonly queue: FrontExchange[] = [];
  /** Set when the connection must go to node:http: the bytes from the first request not answered here. */
  private handover: Buffer | undefined = undefined;
  /** A request that closes the connection was accepted: no more requests. */
  private inputClosed = false;
  /** At least one answer was written (node arms the keep-alive timeout only after a response). */
  private served = false;
  private pauses = 0;
  private parsing = false;
  private dead = false;
  private readonly idleTimer: Armed = { queue: undefined, handle: undefined };
  private readonly headTimer: Armed = { queue: undefined, handle: undefined };

  constructor(
    readonly front: HttpFront,
    readonly socket: Socket,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('drain', this.onDrain);
  }

  /** The connection failed, closed or was handed over: answers are dropped. */
  get gone(): boolean {
    return this.dead;
  }

  /** Idle as node's closeIdleConnections sees it: no request in progress or waiting for its answer. */
  get idle(): boolean {
    return this.queue.length === 0 && this.handover === undefined && !hasContent(this.buf);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.dead) return;
    if (this.handover !== undefined) {
      this.handover = Buffer.concat([this.handover, chunk]);
      return;
    }
    if (this.inputClosed) {
      // node's parser: only CR/LF may follow a request that closes the connection.
      if (hasContent(chunk)) this.fail(new HttpFrontError(HttpFrontErrorCode.DATA_AFTER_CLOSE, 'Parse Error: Data after `Connection: close`'));
      return;
    }
    // Activity: node refreshes the socket's keep-alive timeout on every read.
    this.front.disarm(this.idleTimer);
    this.buf = this.buf === undefined ? chunk : Buffer.concat([this.buf, chunk]);
    this.parse();
    this.settle();
  };

  /** Answer (or queue) every complete head in `buf`, until one needs node:http. */
  private parse(): void {
    const buf = this.buf;
    if (buf === undefined || this.parsing) return;
    this.parsing = true;
    let pos = 0;
    try {
      while (pos < buf.length && !this.dead) {
        if (this.queue.length >= FRONT_MAX_PIPELINE) {
          this.pause(PAUSE_PIPELINE);
          break;
        }
        const max = this.front.maxHeaderSize;
        const end = buf.indexOf(HEAD_END, pos);
        if (end < 0) {
          // A partial head: wait for more, up to node's limit (node then decides: 431 or a request).
          if (buf.length - pos > max) this.handOver(buf.subarray(pos));
          break;
        }
        if (end + 4 - pos > max) {
          this.handOver(buf.subarray(pos));
          break;
        }
        const head = parseHead(buf.toString('latin1', pos, end + 2), this.front.headLimits());
        if (head === undefined) {
          this.handOver(buf.subarray(pos));
          break;
        }
        const x = new FrontExchange(this, head.url, head.headers, head.keepAlive);
        // Queued first: serveFast may answer at once (401, 503 …).
        this.queue.push(x);
        let taken: boolean;
        try {
          taken = this.front.host.serveFast(x, x);
        } catch (e) {
          // Never expected (serveFast answers its own errors); the connection fails, not the process.
          this.fail(e instanceof Error ? e : new Error(String(e)));
          break;
        }
        if (!taken) {
          this.queue.pop();
          this.handOver(buf.subarray(pos));
          break;
        }
        this.front.disarm(this.headTimer);
        pos = end + 4;
        if (!head.keepAlive) {
          this.inputClosed = true;
          const rest = buf.subarray(pos);
          pos = buf.length;
          if (hasContent(rest)) this.fail(new HttpFrontError(HttpFrontErrorCode.DATA_AFTER_CLOSE, 'Parse Error: Data after `Connection: close`'));
        }
      }
    } finally {
      this.parsing = false;
    }
    if (this.handover !== undefined || pos >= buf.length) this.buf = undefined;
    else if (pos > 0) this.buf = buf.subarray(pos);
  }

  /** Write the answers that are ready, in request order. */
  flush(): void {
    const q = this.queue;
    while (q.length > 0) {
      const x = q[0]!;
      if (x.out === undefined) break;
      q.shift();
      if (this.dead) continue;
      // A half-closed connection (node ended it) or a destroyed one drops the answer, as node does.
      if (this.socket.writable && !this.socket.write(x.out)) this.pause(PAUSE_DRAIN);
      this.served = true;
      if (x.last) {
        this.finish();
        return;
      }
    }
    this.settle();
  }

  /** After input or output: handover, idle close, reading, timeouts. */
  private settle(): void {
    if (this.dead || this.parsing) return;
    if (this.queue.length === 0 && this.handover !== undefined) {
      this.completeHandover();
      return;
    }
    if (this.pauses & PAUSE_PIPELINE && this.queue.length < FRONT_MAX_PIPELINE) {
      this.pauses &= ~PAUSE_PIPELINE;
      this.parse();
      if (this.dead) return;
      if (this.queue.length === 0 && this.handover !== undefined) {
        this.completeHandover();
        return;
      }
    }
    const partial = hasContent(this.buf);
    if (this.queue.length === 0 && !partial && this.front.closing) {
      this.socket.destroy();
      return;
    }
    if (this.pauses === 0 && this.socket.isPaused()) this.socket.resume();
    // Headers timeout: from the first byte of a head until it is complete.
    if (partial && this.headTimer.handle === undefined) {
      const ms = this.headDeadline();
      if (ms > 0) this.front.arm(this.headTimer, ms, this.onHeadTimeout);
    } else if (!partial) this.front.disarm(this.headTimer);
    // Keep-alive: idle after a response, refreshed by any read (onData disarms it).
    if (this.queue.length === 0 && this.served && !this.inputClosed && this.idleTimer.handle === undefined) {
      const ka = this.front.server.keepAliveTimeout;
      if (ka) this.front.arm(this.idleTimer, ka + KEEP_ALIVE_BUFFER_MS, this.onIdleTimeout);
    } else if (this.queue.length > 0) this.front.disarm(this.idleTimer);
  }

  /** headersTimeout, or requestTimeout when shorter (a GET without body is complete with its head). */
  private headDeadline(): number {
    const s = this.front.server;
    const h = s.headersTimeout > 0 ? s.headersTimeout : 0;
    const r = s.requestTimeout > 0 ? s.requestTimeout : 0;
    return h === 0 ? r : r === 0 ? h : Math.min(h, r);
  }

  private pause(reason: number): void {
    if (this.pauses === 0) this.socket.pause();
    this.pauses |= reason;
  }

  /** Stop here; hand `rest` over once the accepted requests are answered. */
  private handOver(rest: Buffer): void {
    this.handover = Buffer.from(rest);
    this.pause(PAUSE_HANDOVER);
    this.front.disarm(this.headTimer);
    this.front.disarm(this.idleTimer);
  }

  private completeHandover(): void {
    const bytes = this.handover!;
    this.handover = undefined;
    this.dead = true;
    this.detach(true);
    const socket = this.socket;
    if (socket.destroyed) return;
    if (bytes.length > 0) socket.unshift(bytes);
    this.front.toNode(socket);
    // node's listener reads on: what is buffered (our bytes first) reaches its parser on the next tick.
    socket.resume();
  }

  /** A response that closes the connection was written: node calls destroySoon. */
  private finish(): void {
    this.front.disarm(this.idleTimer);
    this.front.disarm(this.headTimer);
    this.socket.destroySoon();
  }

  private detach(handedOver: boolean): void {
    const s = this.socket;
    s.removeListener('data', this.onData);
    s.removeListener('end', this.onEnd);
    s.removeListener('error', this.onError);
    s.removeListener('close', this.onClose);
    s.removeListener('drain', this.onDrain);
    this.front.disarm(this.idleTimer);
    this.front.disarm(this.headTimer);
    this.front.forget(this, handedOver);
    this.buf = undefined;
  }

  /** node's socketOnError: 'clientError' if someone listens, else node's short answer; then destroy. */
  private fail(e: Error): void {
    if (this.dead) return;
    this.dead = true;
    const s = this.socket;
    this.front.disarm(this.idleTimer);
    this.front.disarm(this.headTimer);
    this.buf = undefined;
    s.removeListener('error', this.onError);
    if (s.listenerCount('error') === 0) s.on('error', noop);
    if (!this.front.server.emit('clientError', e, s)) {
      if (s.writable) s.write(NODE_ERROR_ANSWERS[(e as { code?: string }).code ?? ''] ?? NODE_BAD_REQUEST);
      s.destroy(e);
    }
  }

  private readonly onEnd = (): void => {
    if (this.dead) return;
    // node: llhttp's finish in the middle of a head is an error; otherwise the server ends its side
    // too (httpAllowHalfOpen false), and answers not yet written are dropped.
    if (hasContent(this.buf)) this.fail(new HttpFrontError(HttpFrontErrorCode.EOF_IN_HEAD, 'Parse Error: Invalid EOF state'));
    else this.socket.end();
  };

  private readonly onError = (e: Error): void => {
    this.fail(e);
  };

  private readonly onClose = (): void => {
    this.dead = true;
    this.detach(false);
  };

  private readonly onDrain = (): void => {
    if (!(this.pauses & PAUSE_DRAIN)) return;
    this.pauses &= ~PAUSE_DRAIN;
    this.settle();
  };

  private readonly onIdleTimeout = (): void => {
    this.idleTimer.handle = undefined;
    if (this.dead) return;
    // node's socketOnTimeout: no request, no response → the server's 'timeout' listeners, else destroy.
    if (!this.front.server.emit('timeout', this.socket)) this.socket.destroy();
  };

  private readonly onHeadTimeout = (): void => {
    this.headTimer.handle = undefined;
    if (this.dead) return;
    this.fail(new HttpFrontError(HttpFrontErrorCode.REQUEST_TIMEOUT, 'Request timeout'));
  };
}

/**
 * Put a front on `server` (a node:http server made by fastify): node's own 'connection' listener is
 * replaced (and kept, to hand connections over); `close`, `closeIdleConnections` and
 * `closeAllConnections` also act on the front's connections. TLS servers are left alone (undefined).
 */
export function installHttpFront(server: http.Server, host: FrontHost, options: HttpFrontOptions): HttpFront | undefined {
  if (server instanceof TlsServer) return undefined;
  const nodeListener = server.listeners('connection').find((l) => l.name === 'connectionListener') as ConnectionListener | undefined;
  if (nodeListener === undefined) return undefined;
  const front = new HttpFront(server, host, nodeListener, options);
  server.removeListener('connection', nodeListener);
  server.prependListener('connection', front.onConnection);
  const closeIdle = server.closeIdleConnections;
  const closeAll = server.closeAllConnections;
  const close = server.close;
  server.closeIdleConnections = function closeIdleConnections(this: http.Server): void {
    front.closeIdle();
    closeIdle.call(this);
  };
  server.closeAllConnections = function closeAllConnections(this: http.Server): void {
    front.closeAll();
    closeAll.call(this);
  };
  // node's close() calls closeIdleConnections(): the front's idle connections go there; the others
  // close once their answers are written (closing is set first).
  server.close = function closeServer(this: http.Server, ...args: Parameters<http.Server['close']>): http.Server {
    front.closing = true;
    return close.apply(this, args);
  };
  server.on('close', () => front.dispose());
  return front;
}
