/**
 * Health probes (the edge of the health model): a TCP connect to the target's listener, or an HTTP
 * GET of its health endpoint returning {@link HealthReport} JSON. Every probe is bounded by a
 * timeout and a response size limit, and never throws: it resolves to a {@link ProbeOutcome}.
 * Probes run several times a second per target, so they stay cheap: no logging, and the HTTP
 * probe writes one prebuilt request and parses the answer itself.
 */
import { connect, type Socket } from 'node:net';
import { parseHealthReport, type HealthReport } from './health.js';

/** Largest health response body accepted. */
export const MAX_HEALTH_BODY = 16 * 1024;

/** Result of one probe. */
export type ProbeOutcome =
  | { readonly ok: true; readonly latencyMs: number; readonly report: HealthReport | null }
  | { readonly ok: false; readonly refused: boolean; readonly error: string };

/** Connects to `host:port` and closes at once; `refused` is true for ECONNREFUSED. */
export function probeTcp(host: string, port: number, timeoutMs: number, localAddress?: string): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const s = connect({ host, port, noDelay: true, ...(localAddress ? { localAddress } : {}) });
    const timer = setTimeout(() => finish({ ok: false, refused: false, error: `connect timed out after ${timeoutMs} ms` }), timeoutMs);
    let done = false;
    function finish(o: ProbeOutcome): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(o);
    }
    s.once('connect', () => finish({ ok: true, latencyMs: performance.now() - started, report: null }));
    s.once('error', (e: NodeJS.ErrnoException) => finish({ ok: false, refused: e.code === 'ECONNREFUSED', error: e.code ?? e.message }));
  });
}

/** Largest response head (status line and headers) accepted from a health endpoint. */
export const MAX_HEALTH_HEAD = 8 * 1024;

/** A health URL, parsed once: where to connect and the request bytes to send. */
interface HealthTarget {
  readonly host: string;
  readonly port: number;
  /** The GET with `Connection: close` (one probe per connection). */
  readonly request: Buffer;
  /** The same GET with `Connection: keep-alive` (a {@link HealthProbePool}'s probes). */
  readonly keepAliveRequest: Buffer;
}
/** Parsed health URLs (a handful per profile; bounded in case URLs keep changing). */
const healthTargets = new Map<string, HealthTarget>();
const MAX_HEALTH_TARGETS = 1024;

function healthTarget(url: string): HealthTarget | string {
  const known = healthTargets.get(url);
  if (known) return known;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `bad health URL ${url}`;
  }
  if (u.protocol !== 'http:') return `health URL must be http://, got ${u.protocol}`;
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === '' ? 80 : Number(u.port);
  // One GET per connection, closed by the server after the answer (as the probe always did).
  const head = `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nAccept: application/json\r\nConnection: `;
  const request = Buffer.from(`${head}close\r\n\r\n`, 'latin1');
  const keepAliveRequest = Buffer.from(`${head}keep-alive\r\n\r\n`, 'latin1');
  const t: HealthTarget = { host, port, request, keepAliveRequest };
  if (healthTargets.size >= MAX_HEALTH_TARGETS) healthTargets.clear();
  healthTargets.set(url, t);
  return t;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * An HTTP/1.x response read so far: `null` = need more bytes, else the status and body or an error.
 * A complete response also says where it ended (`end`, bytes of `buf` it used) and whether the
 * connection can carry another request (`reusable`: HTTP/1.1, no `Connection: close`, a
 * Content-Length or chunked body without trailers).
 */
type Parsed = null | { readonly status: number; readonly body: Buffer; readonly end: number; readonly reusable: boolean } | { readonly error: string };

/**
 * Parses a health response from the bytes received so far (`ended`: the server closed). Handles
 * Content-Length, chunked and close-delimited bodies; bounded by {@link MAX_HEALTH_HEAD} and
 * {@link MAX_HEALTH_BODY}.
 */
export function parseHealthResponse(buf: Buffer, ended: boolean): Parsed {
  const headEnd = buf.indexOf(CRLFCRLF);
  if (headEnd < 0) {
    if (buf.length > MAX_HEALTH_HEAD) return { error: `health response head larger than ${MAX_HEALTH_HEAD} bytes` };
    return ended ? { error: 'health response ended before its head' } : null;
  }
  if (headEnd > MAX_HEALTH_HEAD) return { error: `health response head larger than ${MAX_HEALTH_HEAD} bytes` };
  const lines = buf.toString('latin1', 0, headEnd).split('\r\n');
  const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0]!);
  if (!m) return { error: 'health response is not HTTP/1.x' };
  const status = Number(m[2]);
  // HTTP/1.0 answers are not reused (keep-alive there is opt-in; not worth the rules for a probe).
  let persistent = m[1] === '1';
  let length: number | null = null;
  let chunked = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return { error: 'health response has a bad header line' };
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (!/^\d{1,9}$/.test(value) || (length !== null && length !== Number(value))) return { error: 'health response has a bad Content-Length' };
      length = Number(value);
    } else if (name === 'transfer-encoding') chunked = value.toLowerCase().split(',').some((x) => x.trim() === 'chunked');
    else if (name === 'connection' && value.toLowerCase().split(',').some((x) => x.trim() === 'close')) persistent = false;
  }
  const bodyStart = headEnd + 4;
  const tooLarge = { error: `health body larger than ${MAX_HEALTH_BODY} bytes` };
  if (chunked) {
    const parts: Buffer[] = [];
    let size = 0;
    let at = bodyStart;
    for (;;) {
      const eol = buf.indexOf('\r\n', at, 'latin1');
      if (eol < 0) return ended ? { error: 'health response ended inside its body' } : buf.length - at > 64 ? { error: 'health response has a bad chunk' } : null;
      const sizeText = buf.toString('latin1', at, eol).split(';')[0]!.trim();
      if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) return { error: 'health response has a bad chunk' };
      const n = parseInt(sizeText, 16);
      if (n === 0) {
        // The last chunk: reusable only when the empty trailer section (CRLF) is already here.
        const bare = buf.length >= eol + 4 && buf[eol + 2] === 13 && buf[eol + 3] === 10;
        return { status, body: parts.length === 1 ? parts[0]! : Buffer.concat(parts), end: bare ? eol + 4 : buf.length, reusable: persistent && bare };
      }
      size += n;
      if (size > MAX_HEALTH_BODY) return tooLarge;
      if (buf.length < eol + 2 + n + 2) return ended ? { error: 'health response ended inside its body' } : null;
      parts.push(buf.subarray(eol + 2, eol + 2 + n));
      at = eol + 2 + n + 2;
    }
  }
  if (length !== null) {
    if (length > MAX_HEALTH_BODY) return tooLarge;
    if (buf.length - bodyStart >= length) return { status, body: buf.subarray(bodyStart, bodyStart + length), end: bodyStart + length, reusable: persistent };
    return ended ? { error: 'health response ended inside its body' } : null;
  }
  if (buf.length - bodyStart > MAX_HEALTH_BODY) return tooLarge;
  return ended ? { status, body: buf.subarray(bodyStart), end: buf.length, reusable: false } : null;
}

/**
 * GETs a health URL (a new connection each time, `Connection: close`) and validates the JSON body.
 * A status other than 200 or 503, or a bad body, is a failed probe. The request bytes are built
 * once per URL and the response is parsed straight from the socket's bytes: no HTTP client
 * machinery per probe, as a distributor probes every target several times a second.
 * {@link HealthProbePool} does the same over kept-alive connections.
 */
export function probeHttp(url: string, timeoutMs: number): Promise<ProbeOutcome> {
  const target = healthTarget(url);
  if (typeof target === 'string') return Promise.resolve({ ok: false, refused: false, error: target });
  return httpProbe(target, timeoutMs, null, url);
}

/**
 * Health probes over kept-alive connections: at most one idle connection per health URL, reused
 * by the next probe of that URL, so a probe costs one request and one response instead of a TCP
 * connect, accept and close on both sides (a stack's two distributors probe five targets four
 * times a second). Same requests (but `Connection: keep-alive`), same parsing, same outcomes as
 * {@link probeHttp}. A kept connection the target closed is dropped at once; a probe that finds
 * its reused connection dead before any answer byte retries once on a new connection, within the
 * same timeout, so a target's keep-alive timer never shows as a failed probe. A refused new
 * connection is `refused`, as with {@link probeHttp}. Idle connections do not keep the process
 * alive; {@link HealthProbePool.close} ends them.
 */
export class HealthProbePool {
  readonly #idle = new Map<string, Socket>();
  #closed = false;

  /** Probes `url` (see {@link probeHttp}). */
  probe(url: string, timeoutMs: number): Promise<ProbeOutcome> {
    const target = healthTarget(url);
    if (typeof target === 'string') return Promise.resolve({ ok: false, refused: false, error: target });
    return httpProbe(target, timeoutMs, this.#closed ? null : this, url);
  }

  /** Idle kept-alive connections (for tests and displays). */
  get idle(): number {
    return this.#idle.size;
  }

  /** Ends every idle connection; later probes use a new connection each and keep none. */
  close(): void {
    this.#closed = true;
    for (const s of this.#idle.values()) s.destroy();
    this.#idle.clear();
  }

  /** @internal Takes the idle connection of `url`, if any. */
  take(url: string): Socket | undefined {
    const s = this.#idle.get(url);
    if (s === undefined) return undefined;
    this.#idle.delete(url);
    s.removeListener('close', onIdleGone);
    s.removeListener('end', onIdleGone);
    s.removeListener('error', onIdleGone);
    s.ref();
    return s.destroyed || !s.writable ? (s.destroy(), undefined) : s;
  }

  /** @internal Keeps `s` as the idle connection of `url` (or ends it when one is kept already, or closed). */
  keep(url: string, s: Socket): void {
    if (this.#closed || this.#idle.has(url) || this.#idle.size >= MAX_HEALTH_TARGETS) {
      s.destroy();
      return;
    }
    const drop = (): void => {
      if (this.#idle.get(url) === s) this.#idle.delete(url);
      s.destroy();
    };
    idleDrops.set(s, drop);
    s.on('close', onIdleGone);
    s.on('end', onIdleGone);
    s.on('error', onIdleGone);
    s.unref();
    this.#idle.set(url, s);
  }
}

/** How an idle kept connection removes itself from its pool when the target closes or resets it. */
const idleDrops = new WeakMap<Socket, () => void>();
function onIdleGone(this: Socket): void {
  idleDrops.get(this)?.();
}

function httpProbe(target: HealthTarget, timeoutMs: number, pool: HealthProbePool | null, url: string): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    let done = false;
    let buf: Buffer | null = null;
    let s: Socket;
    let reused = false;
    const timer = setTimeout(() => finish({ ok: false, refused: false, error: `health probe timed out after ${timeoutMs} ms` }), timeoutMs);
    function finish(o: ProbeOutcome, keep = false): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (keep && pool) {
        s.removeAllListeners('data');
        s.removeAllListeners('end');
        s.removeAllListeners('close');
        s.removeAllListeners('error');
        s.removeAllListeners('connect');
        pool.keep(url, s);
      } else s.destroy();
      resolve(o);
    }
    /** A reused connection that died before any answer byte: the target's keep-alive ended it; try once more on a new one. */
    function retryFresh(): boolean {
      if (!reused || buf !== null || done) return false;
      reused = false;
      s.removeAllListeners();
      s.on('error', () => undefined);
      s.destroy();
      open(null);
      return true;
    }
    function check(ended: boolean): void {
      const r = parseHealthResponse(buf ?? Buffer.alloc(0), ended);
      if (r === null) return;
      if ('error' in r) return finish({ ok: false, refused: false, error: r.error });
      const keep = !ended && r.reusable && r.end === buf!.length;
      if (r.status !== 200 && r.status !== 503) return finish({ ok: false, refused: false, error: `health status ${r.status}` }, keep);
      try {
        const report = parseHealthReport(JSON.parse(r.body.toString('utf8')));
        finish({ ok: true, latencyMs: performance.now() - started, report }, keep);
      } catch (e) {
        finish({ ok: false, refused: false, error: (e as Error).message });
      }
    }
    function open(existing: Socket | undefined | null): void {
      const request = pool ? target.keepAliveRequest : target.request;
      if (existing) {
        s = existing;
        reused = true;
        s.write(request);
      } else {
        s = connect({ host: target.host, port: target.port, noDelay: true });
        s.once('connect', () => s.write(request));
      }
      s.on('data', (d: Buffer) => {
        buf = buf === null ? d : Buffer.concat([buf, d]);
        if (buf.length > MAX_HEALTH_HEAD + 4 * MAX_HEALTH_BODY) finish({ ok: false, refused: false, error: `health body larger than ${MAX_HEALTH_BODY} bytes` });
        else check(false);
      });
      s.once('end', () => {
        if (!retryFresh()) check(true);
      });
      s.once('close', () => {
        if (!retryFresh()) finish({ ok: false, refused: false, error: 'health connection closed before a response' });
      });
      s.once('error', (e: NodeJS.ErrnoException) => {
        if (!retryFresh()) finish({ ok: false, refused: !reused && e.code === 'ECONNREFUSED', error: e.code ?? e.message });
      });
    }
    open(pool?.take(url));
  });
}
