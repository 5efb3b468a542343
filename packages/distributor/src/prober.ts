/**
 * Health probes (the edge of the health model): a TCP connect to the target's listener, or an HTTP
 * GET of its health endpoint returning {@link HealthReport} JSON. Every probe is bounded by a
 * timeout and a response size limit, and never throws: it resolves to a {@link ProbeOutcome}.
 * Probes run several times a second per target, so they stay cheap: no logging, and the HTTP
 * probe writes one prebuilt request and parses the answer itself.
 */
import { connect } from 'node:net';
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
  readonly request: Buffer;
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
  const request = Buffer.from(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nAccept: application/json\r\nConnection: close\r\n\r\n`, 'latin1');
  const t: HealthTarget = { host, port, request };
  if (healthTargets.size >= MAX_HEALTH_TARGETS) healthTargets.clear();
  healthTargets.set(url, t);
  return t;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** An HTTP/1.x response read so far: `null` = need more bytes, else the status and body or an error. */
type Parsed = null | { readonly status: number; readonly body: Buffer } | { readonly error: string };

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
  const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0]!);
  if (!m) return { error: 'health response is not HTTP/1.x' };
  const status = Number(m[1]);
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
      if (n === 0) return { status, body: parts.length === 1 ? parts[0]! : Buffer.concat(parts) };
      size += n;
      if (size > MAX_HEALTH_BODY) return tooLarge;
      if (buf.length < eol + 2 + n + 2) return ended ? { error: 'health response ended inside its body' } : null;
      parts.push(buf.subarray(eol + 2, eol + 2 + n));
      at = eol + 2 + n + 2;
    }
  }
  if (length !== null) {
    if (length > MAX_HEALTH_BODY) return tooLarge;
    if (buf.length - bodyStart >= length) return { status, body: buf.subarray(bodyStart, bodyStart + length) };
    return ended ? { error: 'health response ended inside its body' } : null;
  }
  if (buf.length - bodyStart > MAX_HEALTH_BODY) return tooLarge;
  return ended ? { status, body: buf.subarray(bodyStart) } : null;
}

/**
 * GETs a health URL (a new connection each time, `Connection: close`) and validates the JSON body.
 * A status other than 200 or 503, or a bad body, is a failed probe. The request bytes are built
 * once per URL and the response is parsed straight from the socket's bytes: no HTTP client
 * machinery per probe, as a distributor probes every target several times a second.
 */
export function probeHttp(url: string, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const target = healthTarget(url);
    if (typeof target === 'string') {
      resolve({ ok: false, refused: false, error: target });
      return;
    }
    let done = false;
    let buf: Buffer | null = null;
    const s = connect({ host: target.host, port: target.port, noDelay: true });
    const timer = setTimeout(() => finish({ ok: false, refused: false, error: `health probe timed out after ${timeoutMs} ms` }), timeoutMs);
    function finish(o: ProbeOutcome): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(o);
    }
    function check(ended: boolean): void {
      const r = parseHealthResponse(buf ?? Buffer.alloc(0), ended);
      if (r === null) return;
      if ('error' in r) return finish({ ok: false, refused: false, error: r.error });
      if (r.status !== 200 && r.status !== 503) return finish({ ok: false, refused: false, error: `health status ${r.status}` });
      try {
        const report = parseHealthReport(JSON.parse(r.body.toString('utf8')));
        finish({ ok: true, latencyMs: performance.now() - started, report });
      } catch (e) {
        finish({ ok: false, refused: false, error: (e as Error).message });
      }
    }
    s.once('connect', () => s.write(target.request));
    s.on('data', (d: Buffer) => {
      buf = buf === null ? d : Buffer.concat([buf, d]);
      if (buf.length > MAX_HEALTH_HEAD + 4 * MAX_HEALTH_BODY) finish({ ok: false, refused: false, error: `health body larger than ${MAX_HEALTH_BODY} bytes` });
      else check(false);
    });
    s.once('end', () => check(true));
    s.once('close', () => finish({ ok: false, refused: false, error: 'health connection closed before a response' }));
    s.once('error', (e: NodeJS.ErrnoException) => finish({ ok: false, refused: e.code === 'ECONNREFUSED', error: e.code ?? e.message }));
  });
}
