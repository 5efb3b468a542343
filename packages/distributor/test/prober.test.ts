/**
 * Health probes against real loopback servers: the HTTP probe's request bytes, the response forms
 * it accepts (Content-Length, chunked, close-delimited; 200 and 503), and every way it fails.
 */
import { createServer as createHttp } from 'node:http';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loopbackScope } from './helpers.js';
import { HealthProbePool, MAX_HEALTH_BODY, MAX_HEALTH_HEAD, parseHealthResponse, probeHttp, probeTcp } from '../src/prober.js';

const scope = loopbackScope();
const { servers, sockets, listen } = scope;
afterEach(() => scope.close());

/** A raw server: records the request head, then answers with `pieces` (one write each, a loop turn apart) and closes. */
async function raw(pieces: (string | Buffer)[], opts: { close?: boolean } = {}) {
  const requests: string[] = [];
  const port = await listen(
    createServer((s) => {
      sockets.push(s);
      let head = '';
      s.on('data', (d: Buffer) => {
        head += d.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        requests.push(head);
        let i = 0;
        const next = (): void => {
          if (i < pieces.length) {
            s.write(pieces[i++]!);
            setImmediate(next);
          } else if (opts.close !== false) s.end();
        };
        next();
      });
      s.on('error', () => undefined);
    }),
  );
  return { port, requests };
}

const OK = '{"ready":true,"health":87,"weight":12,"jobname":"ims1"}';

describe('probeHttp', () => {
  it('sends one prebuilt GET with Connection: close and reads a Content-Length answer from a Node HTTP server', async () => {
    let seen: { url?: string; headers?: Record<string, unknown> } = {};
    const port = await listen(
      createHttp((req, res) => {
        seen = { url: req.url, headers: req.headers };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(OK);
      }) as unknown as Server,
    );
    const r = await probeHttp(`http://127.0.0.1:${port}/health?x=1`, 2000);
    expect(r).toMatchObject({ ok: true, report: { ready: true, health: 87, weight: 12, jobname: 'IMS1' } });
    expect(seen.url).toBe('/health?x=1');
    expect(seen.headers).toMatchObject({ host: `127.0.0.1:${port}`, accept: 'application/json', connection: 'close' });
  });

  it('writes exactly the request bytes', async () => {
    const s = await raw([`HTTP/1.1 200 OK\r\nContent-Length: ${OK.length}\r\n\r\n${OK}`]);
    await probeHttp(`http://127.0.0.1:${s.port}/health`, 2000);
    expect(s.requests).toEqual([`GET /health HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nAccept: application/json\r\nConnection: close\r\n\r\n`]);
  });

  it('accepts 503 (not ready) with its report', async () => {
    const body = '{"ready":false,"health":0}';
    const s = await raw([`HTTP/1.1 503 Service Unavailable\r\ncontent-length: ${body.length}\r\n\r\n${body}`]);
    expect(await probeHttp(`http://127.0.0.1:${s.port}/health`, 2000)).toMatchObject({ ok: true, report: { ready: false, health: 0 } });
  });

  it('reads a chunked answer split across writes, and a close-delimited one', async () => {
    const a = OK.slice(0, 10);
    const b = OK.slice(10);
    const chunked = await raw(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', `${a.length.toString(16)}\r\n${a}\r\n`, `${b.length.toString(16)};ext=1\r\n${b}`, '\r\n0\r\n\r\n']);
    expect(await probeHttp(`http://127.0.0.1:${chunked.port}/health`, 2000)).toMatchObject({ ok: true, report: { health: 87 } });
    const closeDelimited = await raw(['HTTP/1.0 200 OK\r\n\r\n', OK]);
    expect(await probeHttp(`http://127.0.0.1:${closeDelimited.port}/health`, 2000)).toMatchObject({ ok: true, report: { health: 87 } });
  });

  it('fails on other statuses, bad bodies, oversized bodies and truncated answers', async () => {
    const notFound = await raw(['HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n']);
    expect(await probeHttp(`http://127.0.0.1:${notFound.port}/health`, 2000)).toEqual({ ok: false, refused: false, error: 'health status 404' });
    const badJson = await raw(['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{nope']);
    expect(await probeHttp(`http://127.0.0.1:${badJson.port}/health`, 2000)).toMatchObject({ ok: false, refused: false });
    const badReport = await raw(['HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n{"ready":true}']);
    expect(await probeHttp(`http://127.0.0.1:${badReport.port}/health`, 2000)).toMatchObject({ ok: false, error: expect.stringContaining('"health"') });
    const big = await raw([`HTTP/1.1 200 OK\r\nContent-Length: ${MAX_HEALTH_BODY + 1}\r\n\r\n`], { close: false });
    expect(await probeHttp(`http://127.0.0.1:${big.port}/health`, 2000)).toEqual({ ok: false, refused: false, error: `health body larger than ${MAX_HEALTH_BODY} bytes` });
    const bigStream = await raw(['HTTP/1.1 200 OK\r\n\r\n', Buffer.alloc(MAX_HEALTH_BODY + 10, 0x20)], { close: false });
    expect(await probeHttp(`http://127.0.0.1:${bigStream.port}/health`, 2000)).toEqual({ ok: false, refused: false, error: `health body larger than ${MAX_HEALTH_BODY} bytes` });
    const truncated = await raw([`HTTP/1.1 200 OK\r\nContent-Length: ${OK.length}\r\n\r\n${OK.slice(0, 5)}`]);
    expect(await probeHttp(`http://127.0.0.1:${truncated.port}/health`, 2000)).toEqual({ ok: false, refused: false, error: 'health response ended inside its body' });
    const notHttp = await raw(['SSH-2.0-OpenSSH\r\n\r\n']);
    expect(await probeHttp(`http://127.0.0.1:${notHttp.port}/health`, 2000)).toEqual({ ok: false, refused: false, error: 'health response is not HTTP/1.x' });
  });

  it('reports a refused connect as refused and a silent server as a timeout', async () => {
    const s = createServer();
    const port = await listen(s);
    await new Promise((r) => s.close(r));
    servers.splice(servers.indexOf(s), 1);
    expect(await probeHttp(`http://127.0.0.1:${port}/health`, 2000)).toEqual({ ok: false, refused: true, error: 'ECONNREFUSED' });
    expect(await probeTcp('127.0.0.1', port, 2000)).toEqual({ ok: false, refused: true, error: 'ECONNREFUSED' });
    const silent = await raw([], { close: false });
    expect(await probeHttp(`http://127.0.0.1:${silent.port}/health`, 50)).toEqual({ ok: false, refused: false, error: 'health probe timed out after 50 ms' });
  });
});

/** A raw keep-alive health server: answers each request head on a connection with `answer(n)` (n = request number on that connection, from 1); `null` = destroy the connection instead. */
async function keepAliveServer(answer: (n: number) => string | null) {
  const requests: string[] = [];
  let connections = 0;
  const port = await listen(
    createServer((s) => {
      sockets.push(s);
      connections++;
      let pending = '';
      let n = 0;
      s.on('data', (d: Buffer) => {
        pending += d.toString('latin1');
        let i: number;
        while ((i = pending.indexOf('\r\n\r\n')) >= 0) {
          requests.push(pending.slice(0, i + 4));
          pending = pending.slice(i + 4);
          const a = answer(++n);
          if (a === null) {
            s.destroy();
            return;
          }
          s.write(a);
        }
      });
      s.on('error', () => undefined);
    }),
  );
  return { port, requests, connections: () => connections };
}

const OK_KEEP = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${OK.length}\r\n\r\n${OK}`;

describe('HealthProbePool', () => {
  it('reuses one kept-alive connection for consecutive probes of a URL, with Connection: keep-alive', async () => {
    const srv = await keepAliveServer(() => OK_KEEP);
    const pool = new HealthProbePool();
    const url = `http://127.0.0.1:${srv.port}/health`;
    for (let i = 0; i < 3; i++) expect(await pool.probe(url, 2000)).toMatchObject({ ok: true, report: { health: 87 } });
    expect(srv.connections()).toBe(1);
    expect(srv.requests).toEqual(Array(3).fill(`GET /health HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nAccept: application/json\r\nConnection: keep-alive\r\n\r\n`));
    expect(pool.idle).toBe(1);
    pool.close();
    expect(pool.idle).toBe(0);
    // Closed: a new connection per probe, none kept.
    expect(await pool.probe(url, 2000)).toMatchObject({ ok: true });
    expect(srv.connections()).toBe(2);
    expect(pool.idle).toBe(0);
  });

  it('keeps a 503 answer\'s connection too, but not one the target says it closes, nor an HTTP/1.0 or close-delimited one', async () => {
    const notReady = await keepAliveServer(() => `HTTP/1.1 503 Service Unavailable\r\nContent-Length: ${OK.length}\r\n\r\n${OK}`);
    const pool = new HealthProbePool();
    await pool.probe(`http://127.0.0.1:${notReady.port}/health`, 2000);
    expect(await pool.probe(`http://127.0.0.1:${notReady.port}/health`, 2000)).toMatchObject({ ok: true });
    expect(notReady.connections()).toBe(1);
    for (const answer of [`HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: ${OK.length}\r\n\r\n${OK}`, `HTTP/1.0 200 OK\r\nContent-Length: ${OK.length}\r\n\r\n${OK}`]) {
      const srv = await keepAliveServer(() => answer);
      const url = `http://127.0.0.1:${srv.port}/health`;
      expect(await pool.probe(url, 2000)).toMatchObject({ ok: true });
      expect(await pool.probe(url, 2000)).toMatchObject({ ok: true });
      expect(srv.connections()).toBe(2);
    }
    const closeDelimited = await raw([`HTTP/1.1 200 OK\r\n\r\n${OK}`]);
    expect(await pool.probe(`http://127.0.0.1:${closeDelimited.port}/health`, 2000)).toMatchObject({ ok: true });
    expect(pool.idle).toBe(1); // only notReady's
    pool.close();
  });

  it('drops a kept connection the target closes, and retries once on a new connection when a reused one dies unanswered', async () => {
    // The second request on each connection is not answered: the connection is destroyed instead
    // (what a target's keep-alive timer does when it fires just as the probe is sent).
    const srv = await keepAliveServer((n) => (n === 1 ? OK_KEEP : null));
    const pool = new HealthProbePool();
    const url = `http://127.0.0.1:${srv.port}/health`;
    expect(await pool.probe(url, 2000)).toMatchObject({ ok: true });
    expect(await pool.probe(url, 2000)).toMatchObject({ ok: true, report: { health: 87 } });
    expect(srv.connections()).toBe(2);
    expect(srv.requests).toHaveLength(3);
    // The target ends the idle connection: the pool lets it go and the next probe connects anew.
    for (const s of sockets) s.end();
    await vi.waitFor(() => expect(pool.idle).toBe(0));
    expect(await pool.probe(url, 2000)).toMatchObject({ ok: true });
    expect(srv.connections()).toBe(3);
    pool.close();
  });

  it('reports a refused new connection as refused and a failed check without keeping the connection', async () => {
    const spare = createServer();
    const port = await listen(spare);
    await new Promise((r) => spare.close(r));
    const pool = new HealthProbePool();
    expect(await pool.probe(`http://127.0.0.1:${port}/health`, 2000)).toEqual({ ok: false, refused: true, error: 'ECONNREFUSED' });
    const badJson = await keepAliveServer(() => 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{x');
    expect(await pool.probe(`http://127.0.0.1:${badJson.port}/health`, 2000)).toMatchObject({ ok: false, refused: false });
    expect(pool.idle).toBe(0);
    pool.close();
  });
});

describe('parseHealthResponse', () => {
  it('says where a response ends and whether its connection can be reused', () => {
    const at = (text: string) => {
      const r = parseHealthResponse(Buffer.from(text), false);
      return r && 'body' in r ? { end: r.end, reusable: r.reusable } : r;
    };
    expect(at('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}')).toEqual({ end: 40, reusable: true });
    expect(at('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}extra')).toEqual({ end: 40, reusable: true });
    expect(at('HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 2\r\n\r\n{}')).toEqual({ end: 71, reusable: false });
    expect(at('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}')).toEqual({ end: 40, reusable: false });
    expect(at('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n')).toEqual({ end: 59, reusable: true });
    // Trailers (or a last chunk whose CRLF has not arrived): the body is complete, the connection is not reused.
    expect(at('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-T: 1\r\n\r\n')).toMatchObject({ reusable: false });
    expect(parseHealthResponse(Buffer.from('HTTP/1.1 200 OK\r\n\r\n{}'), true)).toMatchObject({ status: 200, reusable: false });
  });

  it('waits for more bytes, then bounds the head', () => {
    expect(parseHealthResponse(Buffer.from('HTTP/1.1 200 OK\r\nContent-'), false)).toBeNull();
    expect(parseHealthResponse(Buffer.from('HTTP/1.1 200 OK\r\nContent-'), true)).toEqual({ error: 'health response ended before its head' });
    expect(parseHealthResponse(Buffer.alloc(MAX_HEALTH_HEAD + 1, 0x41), false)).toEqual({ error: `health response head larger than ${MAX_HEALTH_HEAD} bytes` });
    expect(parseHealthResponse(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n'), false)).toEqual({ error: 'health response has a bad Content-Length' });
    expect(parseHealthResponse(Buffer.from('HTTP/1.1 200 OK\r\nno colon\r\n\r\n'), false)).toEqual({ error: 'health response has a bad header line' });
    const r = parseHealthResponse(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}extra'), false);
    expect(r && 'body' in r ? [r.status, r.body.toString()] : r).toEqual([200, '{}']);
  });

  it('decodes chunked bodies and rejects bad chunk sizes', () => {
    const r = parseHealthResponse(Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n'), false);
    expect(r && 'body' in r ? r.body.toString() : r).toBe('{}');
    expect(parseHealthResponse(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'), false)).toEqual({ error: 'health response has a bad chunk' });
    expect(parseHealthResponse(Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${(MAX_HEALTH_BODY + 1).toString(16)}\r\n`), false)).toEqual({ error: `health body larger than ${MAX_HEALTH_BODY} bytes` });
  });
});
