/**
 * The dashboard and admin API the supervisor serves (node:http, server-sent events, one HTML page
 * with plain JS and SVG — no framework, no build step):
 *
 * | route | what |
 * | --- | --- |
 * | `GET /` | the dashboard page |
 * | `GET /api/state` | the {@link StackSnapshot} JSON |
 * | `GET /api/events` | SSE: `snapshot` events (after every stats poll) and `timeline` events (each new entry) |
 * | `GET /api/boxes/:name/logs` | last log lines of a box (token) |
 * | `POST /api/boxes/:name/kill[?signal=SIGTERM]` | kill (default SIGKILL) (token) |
 * | `POST /api/boxes/:name/restart` · `/quiesce` · `/resume` | (token) |
 * | `POST /api/boxes/:name/command` | body = one operator command; answers `{ lines }` (token) |
 *
 * Mutating routes need `Authorization: Bearer <token>`; the token is embedded in the page the
 * dashboard serves (readable only by same-origin scripts) and written to `<data-dir>/supervisor.json`.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isImsplexError } from '@imsplex/codec';
import { dashboardPage } from './dashboard-page.js';
import { StackErrorCode } from './errors.js';
import type { BoxStatus, StackSnapshot, TimelineEntry } from './supervisor.js';

/** What the dashboard drives (the {@link Supervisor} implements it). */
export interface DashboardSource {
  snapshot(timelineTail?: number): StackSnapshot;
  kill(name: string, signal?: NodeJS.Signals): Promise<BoxStatus>;
  restart(name: string): Promise<BoxStatus>;
  quiesce(name: string): Promise<string[]>;
  resume(name: string): Promise<string[]>;
  command(name: string, text: string): Promise<string[]>;
  logs(name: string): string[];
  on(event: 'timeline', listener: (e: TimelineEntry) => void): unknown;
  /** `stats`: new figures after a poll; `box`: a box changed state. */
  on(event: 'stats' | 'box', listener: () => void): unknown;
  off(event: 'timeline', listener: (e: TimelineEntry) => void): unknown;
  off(event: 'stats' | 'box', listener: () => void): unknown;
}

/** Options of {@link startDashboard}. */
export interface DashboardOptions {
  readonly host: string;
  /** 0 = any free port. */
  readonly port: number;
  readonly token: string;
  /** Most concurrent SSE clients (default 32). */
  readonly maxClients?: number;
}

/** A running dashboard. */
export interface Dashboard {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Largest request body accepted (operator commands are one line). */
export const MAX_BODY = 4096;
const SIGNALS = new Set(['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGHUP', 'SIGSTOP', 'SIGCONT']);

/** Starts the dashboard; resolves once it listens. */
export function startDashboard(source: DashboardSource, options: DashboardOptions): Promise<Dashboard> {
  const clients = new Set<ServerResponse>();
  const maxClients = options.maxClients ?? 32;
  const page = dashboardPage(options.token);
  const token = Buffer.from(options.token);

  const authorised = (req: IncomingMessage): boolean => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m) return false;
    const given = Buffer.from(m[1]!);
    return given.length === token.length && timingSafeEqual(given, token);
  };
  const json = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const fail = (res: ServerResponse, e: unknown): void => {
    if (isImsplexError(e)) {
      const status = e.code === StackErrorCode.UNKNOWN_BOX ? 404 : e.code === StackErrorCode.BAD_STATE || e.code === StackErrorCode.BAD_REQUEST ? 409 : 502;
      json(res, status, { error: e.message, code: e.code });
    } else json(res, 500, { error: (e as Error).message ?? String(e), code: 'STACK_ERR_INTERNAL' });
  };
  const readBody = (req: IncomingMessage): Promise<string> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) {
          reject(Object.assign(new Error(`body larger than ${MAX_BODY} bytes`), { status: 413 }));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const sse = (res: ServerResponse, event: string, data: unknown): void => {
    // Snapshots are idempotent: a client that cannot keep up (write() === false) skips them until it drains.
    if ((res as ServerResponse & { __blocked?: boolean }).__blocked && event === 'snapshot') return;
    const ok = res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    if (!ok) {
      (res as ServerResponse & { __blocked?: boolean }).__blocked = true;
      res.once('drain', () => ((res as ServerResponse & { __blocked?: boolean }).__blocked = false));
    }
  };
  const onStats = (): void => {
    if (clients.size === 0) return;
    const snap = source.snapshot(50);
    for (const c of clients) sse(c, 'snapshot', snap);
  };
  const onTimeline = (e: TimelineEntry): void => {
    for (const c of clients) sse(c, 'timeline', e);
  };
  // Box state changes push a snapshot too, coalesced so a burst of changes sends one.
  let pending: NodeJS.Timeout | null = null;
  const onBox = (): void => {
    pending ??= setTimeout(() => {
      pending = null;
      onStats();
    }, 20);
  };
  source.on('stats', onStats);
  source.on('box', onBox);
  source.on('timeline', onTimeline);

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://dashboard');
      const path = url.pathname;
      try {
        if (req.method === 'GET' && (path === '/' || path === '/index.html')) {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(page) });
          res.end(page);
          return;
        }
        if (req.method === 'GET' && path === '/api/state') return json(res, 200, source.snapshot(200));
        if (req.method === 'GET' && path === '/api/events') {
          if (clients.size >= maxClients) return json(res, 503, { error: `at most ${maxClients} event streams`, code: 'STACK_ERR_BUSY' });
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
          res.write(': imsplex stack events\n\n');
          clients.add(res);
          sse(res, 'snapshot', source.snapshot(50));
          req.on('close', () => clients.delete(res));
          return;
        }
        const m = /^\/api\/boxes\/([A-Za-z0-9@#$]{1,8})\/(logs|kill|restart|quiesce|resume|command)$/.exec(path);
        if (!m) return json(res, 404, { error: 'not found', code: 'STACK_ERR_NOT_FOUND' });
        const [, name, action] = m as unknown as [string, string, string];
        if (!authorised(req)) {
          res.setHeader('www-authenticate', 'Bearer');
          return json(res, 401, { error: 'a Bearer token is required (see supervisor.json)', code: 'STACK_ERR_UNAUTHORIZED' });
        }
        if (action === 'logs') {
          if (req.method !== 'GET') return json(res, 405, { error: 'use GET', code: 'STACK_ERR_METHOD' });
          return json(res, 200, { lines: source.logs(name) });
        }
        if (req.method !== 'POST') return json(res, 405, { error: 'use POST', code: 'STACK_ERR_METHOD' });
        switch (action) {
          case 'kill': {
            const signal = (url.searchParams.get('signal') ?? 'SIGKILL').toUpperCase();
            if (!SIGNALS.has(signal)) return json(res, 400, { error: `signal must be one of ${[...SIGNALS].join(', ')}`, code: StackErrorCode.BAD_REQUEST });
            return json(res, 200, { box: await source.kill(name, signal as NodeJS.Signals) });
          }
          case 'restart':
            return json(res, 200, { box: await source.restart(name) });
          case 'quiesce':
            return json(res, 200, { lines: await source.quiesce(name) });
          case 'resume':
            return json(res, 200, { lines: await source.resume(name) });
          case 'command': {
            const text = (await readBody(req)).trim();
            if (!text) return json(res, 400, { error: 'the body must be one operator command', code: StackErrorCode.BAD_REQUEST });
            return json(res, 200, { lines: await source.command(name, text) });
          }
        }
      } catch (e) {
        if ((e as { status?: number }).status === 413) return json(res, 413, { error: (e as Error).message, code: StackErrorCode.BAD_REQUEST });
        fail(res, e);
      }
    })();
  });
  server.on('connection', (s) => s.setNoDelay(true));
  server.requestTimeout = 60_000;
  server.headersTimeout = 10_000;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      const a = server.address();
      const port = a && typeof a === 'object' ? a.port : options.port;
      let closeP: Promise<void> | null = null;
      resolve({
        url: `http://${options.host}:${port}`,
        server,
        close: () =>
          (closeP ??= new Promise<void>((r) => {
            source.off('stats', onStats);
            source.off('box', onBox);
            source.off('timeline', onTimeline);
            if (pending) clearTimeout(pending);
            for (const c of clients) c.end();
            clients.clear();
            server.close(() => r());
            server.closeAllConnections();
          })),
      });
    });
  });
}
