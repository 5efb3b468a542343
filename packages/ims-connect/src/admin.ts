/**
 * The admin/health HTTP endpoint (emulator extension; every imsplex box has one):
 * - `GET /health` → `{ ready, health, … }` JSON for the distributor (no auth; status 200 when ready,
 *   503 when not);
 * - `GET /metrics` → Prometheus text from the server's own registry (no auth);
 * - `POST /command` with the command line as the body → the HWSC response lines as text/plain.
 *   Needs `Authorization: Bearer <token>`; without a configured token, commands are refused.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { ImsConnectServer } from './server.js';

/** Largest command body accepted. */
const MAX_BODY = 4096;

function authorised(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return false;
  const h = req.headers.authorization ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(h);
  if (!m) return false;
  const a = Buffer.from(m[1]!.trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Start the admin endpoint for `server`; resolves with the HTTP server once listening. */
export function startAdmin(server: ImsConnectServer, options: { host: string; port: number; token: string | undefined }): Promise<Server> {
  const http = createServer((req, res) => void handle(server, options.token, req, res));
  http.on('connection', (s) => s.setNoDelay(true));
  http.requestTimeout = 10_000;
  http.headersTimeout = 5_000;
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host, () => {
      http.off('error', reject);
      resolve(http);
    });
  });
}

async function handle(server: ImsConnectServer, token: string | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const url = new URL(req.url ?? '/', 'http://admin');
    if (req.method === 'GET' && (url.pathname === '/health' || url.pathname === '/ready')) {
      const h = server.health();
      res.writeHead(h.ready ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(h));
      return;
    }
    if (req.method === 'GET' && url.pathname === '/metrics') {
      const body = await server.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': server.metrics.registry.contentType });
      res.end(body);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/command') {
      if (!authorised(req, token)) {
        res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' });
        res.end(token ? 'HWSC0011E NOT AUTHORIZED\n' : 'HWSC0011E COMMANDS DISABLED: NO ADMIN TOKEN CONFIGURED\n');
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of req) {
        size += (c as Buffer).length;
        if (size > MAX_BODY) {
          res.writeHead(413, { 'content-type': 'text/plain' });
          res.end('HWSC0011E COMMAND TOO LONG\n');
          return;
        }
        chunks.push(c as Buffer);
      }
      const line = Buffer.concat(chunks).toString('utf8').trim();
      const lines = await server.command(line);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(lines.join('\n') + '\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  } catch (e) {
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`error: ${(e as Error).message}\n`);
  }
}
