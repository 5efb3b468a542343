/**
 * Health probes (the edge of the health model): a TCP connect to the target's listener, or an HTTP
 * GET of its health endpoint returning {@link HealthReport} JSON. Every probe is bounded by a
 * timeout and a response size limit, and never throws: it resolves to a {@link ProbeOutcome}.
 */
import { request } from 'node:http';
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

/** GETs a health URL and validates the JSON body. A non-200 status or a bad body is a failed probe. */
export function probeHttp(url: string, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    let done = false;
    const finish = (o: ProbeOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(o);
    };
    const req = request(url, { method: 'GET', agent: false, headers: { accept: 'application/json', connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_HEALTH_BODY) finish({ ok: false, refused: false, error: `health body larger than ${MAX_HEALTH_BODY} bytes` });
        else chunks.push(c);
      });
      res.on('end', () => {
        if (res.statusCode !== 200 && res.statusCode !== 503) return finish({ ok: false, refused: false, error: `health status ${res.statusCode}` });
        try {
          const report = parseHealthReport(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          finish({ ok: true, latencyMs: performance.now() - started, report });
        } catch (e) {
          finish({ ok: false, refused: false, error: (e as Error).message });
        }
      });
      res.on('error', (e) => finish({ ok: false, refused: false, error: e.message }));
    });
    req.on('socket', (s) => s.setNoDelay(true));
    req.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, refused: e.code === 'ECONNREFUSED', error: e.code ?? e.message }));
    const timer = setTimeout(() => finish({ ok: false, refused: false, error: `health probe timed out after ${timeoutMs} ms` }), timeoutMs);
    req.end();
  });
}
