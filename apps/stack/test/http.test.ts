/**
 * The supervisor's HTTP client: fresh sockets by default; with a keep-alive agent, sockets are
 * reused, and a request whose pooled socket the peer closed (a restarted box) is sent once more on a
 * fresh socket — but a failure on a fresh socket is reported, never retried.
 */
import { Agent } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpCall } from '../src/http.js';
import { StackErrorCode } from '../src/errors.js';

const OK = 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: keep-alive\r\nkeep-alive: timeout=30\r\n\r\nok';

let server: Server | null = null;
const agents: Agent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) a.destroy();
  if (server) await new Promise<void>((r) => server!.close(() => r()));
  server = null;
});

/**
 * A raw HTTP server: `plan(connectionIndex, requestIndexOnConnection)` says whether to answer or to
 * destroy the socket without answering. Resolves with its URL and the connection count.
 */
async function rawServer(plan: (conn: number, req: number) => 'answer' | 'drop'): Promise<{ url: string; connections: () => number }> {
  let conns = 0;
  server = createServer((s: Socket) => {
    const conn = conns++;
    let reqs = 0;
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      while (buf.includes('\r\n\r\n')) {
        buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
        if (plan(conn, reqs++) === 'answer') s.write(OK);
        else s.destroy();
      }
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  return { url: `http://127.0.0.1:${a && typeof a === 'object' ? a.port : 0}/health`, connections: () => conns };
}

describe('httpCall', () => {
  it('reuses a keep-alive socket across calls', async () => {
    const s = await rawServer(() => 'answer');
    const agent = new Agent({ keepAlive: true });
    agents.push(agent);
    for (let i = 0; i < 3; i++) expect((await httpCall(s.url, { agent })).body).toBe('ok');
    expect(s.connections()).toBe(1);
  });

  it('retries once on a fresh socket when the pooled socket was closed by the peer', async () => {
    // Connection 0 answers its first request and drops the second (a box restarting under it).
    const s = await rawServer((conn, req) => (conn === 0 && req === 1 ? 'drop' : 'answer'));
    const agent = new Agent({ keepAlive: true });
    agents.push(agent);
    expect((await httpCall(s.url, { agent })).status).toBe(200);
    const second = await httpCall(s.url, { agent });
    expect(second.status).toBe(200);
    expect(s.connections()).toBe(2);
  });

  it('does not retry a failure on a fresh socket', async () => {
    const s = await rawServer(() => 'drop');
    await expect(httpCall(s.url)).rejects.toMatchObject({ code: StackErrorCode.COMMAND });
    expect(s.connections()).toBe(1);
    const agent = new Agent({ keepAlive: true });
    agents.push(agent);
    await expect(httpCall(s.url, { agent })).rejects.toMatchObject({ code: StackErrorCode.COMMAND });
    expect(s.connections()).toBe(2);
  });
});
