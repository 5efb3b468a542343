/**
 * Admin endpoint (node:http, loopback only):
 * - `GET /health` — liveness and ownership, open;
 * - `GET /metrics` — Prometheus text from a registry of our own (never prom-client's global one), open;
 * - `GET /stats` — the {@link DistributorStats} JSON, Basic auth;
 * - `POST /command` — body is one operator command (`V TCPIP,,SYSPLEX,QUI,TARGET`, `NETSTAT VDPT`, …),
 *   answers `{ ok, command, lines }`, Basic auth.
 * Without a configured password the authenticated routes answer 403: commands are never open.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import type { AdminOptions } from './config/options.js';
import type { Distributor } from './distributor.js';

/** Largest command body accepted. */
export const MAX_COMMAND_BODY = 4096;

/**
 * Builds the Prometheus registry for a distributor; values are read from `stats()` at scrape time,
 * one snapshot per scrape (every metric's collect() runs in the same turn and shares it).
 */
export function createMetrics(d: Distributor): Registry {
  const registry = new Registry();
  let snap: ReturnType<Distributor['stats']> | null = null;
  const stats = (): ReturnType<Distributor['stats']> => {
    if (snap === null) {
      snap = d.stats();
      setImmediate(() => (snap = null));
    }
    return snap;
  };
  const labels = ['dvipa', 'port', 'target'] as const;
  const perTarget = (name: string, help: string, field: 'rdy' | 'activeConn' | 'tsr' | 'wq' | 'health' | 'abnorm'): void => {
    new Gauge({
      name,
      help,
      labelNames: labels,
      registers: [registry],
      collect() {
        this.reset();
        for (const e of stats().vdpt) this.set({ dvipa: e.dvipa, port: String(e.port), target: e.destXcf }, e[field]);
      },
    });
  };
  new Counter({
    name: 'imsplex_distributor_connections_total',
    help: 'Connections forwarded to each target (VDPT TotalConn).',
    labelNames: labels,
    registers: [registry],
    collect() {
      this.reset();
      for (const e of stats().vdpt) this.inc({ dvipa: e.dvipa, port: String(e.port), target: e.destXcf }, e.totalConn);
    },
  });
  perTarget('imsplex_distributor_active_connections', 'Active connections per target (VDPT ActiveConn).', 'activeConn');
  perTarget('imsplex_distributor_target_ready', 'Ready listeners per target (VDPT Rdy).', 'rdy');
  perTarget('imsplex_distributor_target_tsr', 'Target server responsiveness 0-100.', 'tsr');
  perTarget('imsplex_distributor_target_weight', 'Weight used for distribution (VDPT W/Q).', 'wq');
  perTarget('imsplex_distributor_target_health', 'Server-reported health 0-100.', 'health');
  perTarget('imsplex_distributor_target_abnorm', 'Abnormal completions per 1000.', 'abnorm');
  new Gauge({
    name: 'imsplex_distributor_vipa_owned',
    help: '1 when this stack owns (advertises) the DVIPA.',
    labelNames: ['dvipa'],
    registers: [registry],
    collect() {
      this.reset();
      for (const v of stats().vipas) this.set({ dvipa: v.dvipa }, v.owns ? 1 : 0);
    },
  });
  const counter = (name: string, help: string, key: keyof ReturnType<Distributor['stats']>['counters']): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(stats().counters[key]);
      },
    });
  };
  counter('imsplex_distributor_rejected_total', 'Connections reset because no target was eligible.', 'rejected');
  counter('imsplex_distributor_abnormal_total', 'Proxied connections the target reset.', 'abnormal');
  counter('imsplex_distributor_handoff_failed_total', 'Socket handoffs that failed.', 'handoffFailed');
  counter('imsplex_distributor_connect_failed_total', 'Target connects that failed (proxy mode).', 'connectFailed');
  counter('imsplex_distributor_takeovers_total', 'DVIPA takeovers by this stack.', 'takeovers');
  return registry;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function authorized(req: IncomingMessage, user: string, password: string): boolean {
  const h = req.headers.authorization ?? '';
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(h);
  if (!m) return false;
  const given = Buffer.from(m[1]!, 'base64').toString('utf8');
  return timingSafeEqual(digest(given), digest(`${user}:${password}`));
}

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** A running admin endpoint. */
export interface AdminServer {
  readonly server: Server;
  readonly registry: Registry;
  /** Bound address. */
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

/** Starts the admin endpoint for `d`. */
export async function startAdmin(d: Distributor, options: AdminOptions): Promise<AdminServer> {
  const registry = createMetrics(d);
  const user = options.user ?? 'admin';
  const password = options.password;
  const server = createServer((req, res) => {
    req.socket.setNoDelay(true);
    const url = new URL(req.url ?? '/', 'http://admin');
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /health') return send(res, 200, d.healthSummary());
    if (route === 'GET /metrics') {
      registry.metrics().then(
        (text) => send(res, 200, text, registry.contentType),
        (e: Error) => send(res, 500, { error: e.message }),
      );
      return;
    }
    if (route !== 'GET /stats' && route !== 'POST /command') return send(res, 404, { error: 'not found' });
    if (password === undefined) return send(res, 403, { error: 'admin commands are disabled: no password configured' });
    if (!authorized(req, user, password)) {
      res.setHeader('www-authenticate', 'Basic realm="imsplex-distributor"');
      return send(res, 401, { error: 'authentication required' });
    }
    if (route === 'GET /stats') return send(res, 200, d.stats());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_COMMAND_BODY) chunks.push(c);
      else if (!res.headersSent) {
        // Answer at once and drop the rest of the body unread-into-memory; the connection closes after.
        res.setHeader('connection', 'close');
        send(res, 413, { error: `command body larger than ${MAX_COMMAND_BODY} bytes` });
      }
    });
    req.on('end', () => {
      if (res.headersSent) return;
      const r = d.command(Buffer.concat(chunks).toString('utf8'));
      send(res, r.ok ? 200 : 400, r);
    });
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address();
  const address = { host: options.host, port: a && typeof a === 'object' ? a.port : options.port };
  let closing: Promise<void> | null = null;
  return {
    server,
    registry,
    address,
    close() {
      closing ??= new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
