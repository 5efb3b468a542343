/**
 * The admin port (node:http): `GET /health`, `GET /metrics` (Prometheus text), and type-1 commands with
 * `POST /command` (body: the command text) or `GET /command?cmd=/DIS%20TRAN%20ALL`. When a token is
 * configured (`ADMIN TOKEN='...'`), /command needs `Authorization: Bearer <token>`.
 */
import { type AddressInfo } from 'node:net';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { CommandProcessor } from './commands.js';
import type { TransactionManager } from './engine.js';
import type { ImsMetrics } from './metrics.js';

export interface AdminServerOptions {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
}

const MAX_BODY = 4096;

export class AdminServer {
  private server: Server | undefined;

  constructor(
    private readonly engine: TransactionManager,
    private readonly commands: CommandProcessor,
    private readonly metrics: ImsMetrics,
    private readonly options: AdminServerOptions,
    private readonly health: () => Record<string, unknown>,
  ) {}

  async listen(): Promise<AddressInfo> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (s) => s.setNoDelay(true));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server.address() as AddressInfo;
  }

  get address(): AddressInfo | undefined {
    return (this.server?.address() as AddressInfo | null) ?? undefined;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private authorized(req: IncomingMessage): boolean {
    const token = this.options.token;
    if (!token) return true;
    const h = req.headers.authorization ?? '';
    const given = Buffer.from(h.startsWith('Bearer ') ? h.slice(7) : '');
    const want = Buffer.from(token);
    return given.length === want.length && timingSafeEqual(given, want);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://admin');
      if (req.method === 'GET' && url.pathname === '/health') {
        const body = { status: this.engine.isActive ? 'UP' : 'DOWN', ...this.health() };
        return send(res, this.engine.isActive ? 200 : 503, 'application/json', JSON.stringify(body));
      }
      if (req.method === 'GET' && url.pathname === '/metrics') {
        return send(res, 200, this.metrics.registry.contentType, await this.metrics.registry.metrics());
      }
      if (url.pathname === '/command' && (req.method === 'POST' || req.method === 'GET')) {
        if (!this.authorized(req)) return send(res, 401, 'text/plain', 'unauthorized\n');
        let text = url.searchParams.get('cmd') ?? '';
        if (req.method === 'POST') {
          const body = await readBody(req);
          if (body === undefined) return send(res, 413, 'text/plain', 'command too long\n');
          text = body;
        }
        const lines = await this.commands.run(text);
        return send(res, 200, 'text/plain; charset=utf-8', lines.join('\n') + '\n');
      }
      send(res, 404, 'text/plain', 'not found\n');
    } catch (e) {
      send(res, 500, 'text/plain', `error: ${(e as Error).message}\n`);
    }
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > MAX_BODY) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
