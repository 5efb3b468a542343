/**
 * The API fast path (GETs answered straight from node:http) against the fastify route: the same
 * request to a server with `fastPath` (the default) and one without gives the same bytes (status
 * line, headers in order, body; only the Date header differs), and the same logs and metrics.
 */
import net from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createZosConnectServer, type ZosConnectServer } from '../src/index.js';
import { basic, createTestImsConnect, ivpHandlers, PhoneBook, tempConfig, type TestImsConnect } from './helpers.js';
import { readFileSync } from 'node:fs';
import { SAMPLES } from './helpers.js';

interface Box {
  server: ZosConnectServer;
  host: string;
  port: number;
  lines: Record<string, unknown>[];
  fast: ReturnType<typeof vi.fn>;
}

let ims: TestImsConnect;
let cleanupConfig: () => void;
const boxes: Box[] = [];

async function box(fastPath: boolean, dir: string, ep: { host: string; port: number }): Promise<Box> {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const server = createZosConnectServer({ config: dir, host: '127.0.0.1', port: 0, fastPath, requestLog: 'all', logger: pino({ level: 'info' }, sink), clientOverrides: () => ({ host: ep.host, port: ep.port }) });
  // Which requests the fast path answered (it returns false for those it hands to fastify).
  const fast = vi.fn();
  const serveFast = (server as unknown as { serveFast: (...a: unknown[]) => boolean }).serveFast.bind(server);
  (server as unknown as { serveFast: (...a: unknown[]) => boolean }).serveFast = (...a: unknown[]) => {
    const r = serveFast(...a);
    fast(r);
    return r;
  };
  const { address } = await server.start();
  lines.length = 0;
  return { server, host: address.address, port: address.port, lines, fast };
}

beforeAll(async () => {
  ims = createTestImsConnect({ handlers: ivpHandlers(new PhoneBook()), datastores: ['IMS1'] });
  const ep = await ims.listen({ host: '127.0.0.1', port: 0 });
  // Basic auth on API calls, so that a 401 goes through both paths too.
  const xml = readFileSync(`${SAMPLES}/server.xml`, 'utf8').replace('requireAuth="false"', 'requireAuth="true"');
  const cfg = tempConfig({ 'server.xml': xml });
  cleanupConfig = cfg.cleanup;
  boxes.push(await box(true, cfg.dir, ep), await box(false, cfg.dir, ep));
});

afterAll(async () => {
  for (const b of boxes) await b.server.stop({ timeout: 0 });
  await ims.close();
  cleanupConfig();
});

/** One raw HTTP/1.1 request on a new connection; resolves with the whole response (Content-Length framed). */
function raw(b: Box, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: b.host, port: b.port });
    s.setNoDelay(true);
    let buf = Buffer.alloc(0);
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const m = /\r\ncontent-length: (\d+)/i.exec(buf.subarray(0, end).toString('latin1'));
      if (m && buf.length >= end + 4 + Number(m[1])) {
        s.destroy();
        resolve(buf.toString('utf8'));
      }
    });
    s.on('error', reject);
    s.write(request);
  });
}

/** The Date header and the (random per server) IMS client ID are the only expected differences. */
const masked = (r: string) => r.replace(/\r\ndate: [^\r]*/i, '\r\nDate: (masked)').replace(/"clientId":"ZCON[0-9A-Z]{4}"/, '"clientId":"ZCONxxxx"');

async function both(request: string): Promise<[string, string]> {
  const [f, s] = [await raw(boxes[0]!, request), await raw(boxes[1]!, request)];
  return [masked(f), masked(s)];
}

const AUTH = `Authorization: ${basic('zcadmin', 'zcadmin')}\r\n`;

describe('API fast path', () => {
  it('answers a GET byte for byte as the fastify route does (200, 404 by condition, 401, RSM 500)', async () => {
    const cases: [string, number][] = [
      [`GET /phonebook/LAST1 HTTP/1.1\r\nHost: zcon\r\n${AUTH}\r\n`, 200],
      [`GET /phonebook/NOBODY HTTP/1.1\r\nHost: zcon\r\n${AUTH}\r\n`, 404],
      [`GET /phonebook/LAST1 HTTP/1.1\r\nHost: zcon\r\n\r\n`, 401],
      [`GET /phonebook/LAST1?x=1 HTTP/1.1\r\nHost: zcon\r\nConnection: close\r\n${AUTH}\r\n`, 200],
    ];
    for (const [request, status] of cases) {
      const [f, s] = await both(request);
      expect(f.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
      expect(f).toBe(s);
    }
    ims.injectRsm({ returnCode: 8, reasonCode: 72 });
    const f = masked(await raw(boxes[0]!, cases[0]![0]));
    ims.injectRsm({ returnCode: 8, reasonCode: 72 });
    const s = masked(await raw(boxes[1]!, cases[0]![0]));
    expect(f.startsWith('HTTP/1.1 500 ')).toBe(true);
    expect(f).toBe(s);
    // The 200 answer in full: fastify's headers, in fastify's order.
    const [ok] = await both(cases[0]![0]);
    expect(ok).toBe(
      'HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: 118\r\nDate: (masked)\r\nConnection: keep-alive\r\nKeep-Alive: timeout=72\r\n\r\n' +
        '{"lastName":"LAST1","firstName":"FIRST1","extension":"8-111-1111","zipCode":"D01/R01","message":"ENTRY WAS DISPLAYED"}',
    );
    // Every one of these went through the fast path on the first server, none on the second.
    expect(boxes[0]!.fast.mock.calls.map((c) => c[0])).toEqual([true, true, true, true, true, true]);
    expect(boxes[1]!.fast).not.toHaveBeenCalled();
  });

  it('leaves other requests to fastify: admin, api-docs, percent-encoded paths, other methods', async () => {
    const b = boxes[0]!;
    b.fast.mockClear();
    const requests = [
      `GET /zosConnect/apis HTTP/1.1\r\nHost: zcon\r\n${AUTH}\r\n`,
      `GET /phonebook/api-docs HTTP/1.1\r\nHost: zcon\r\n\r\n`,
      `GET /phonebook/LAST%31 HTTP/1.1\r\nHost: zcon\r\n${AUTH}\r\n`,
      `DELETE /phonebook/NOBODY HTTP/1.1\r\nHost: zcon\r\n${AUTH}\r\n`,
      `GET /nowhere HTTP/1.1\r\nHost: zcon\r\n${AUTH}\r\n`,
    ];
    for (const r of requests) {
      // (Sent to both servers, so that their metrics stay comparable.)
      const [f, s] = await both(r);
      expect(f.startsWith('HTTP/1.1 ')).toBe(true);
      expect(f).toBe(s);
    }
    expect(b.fast.mock.calls.map((c) => c[0])).toEqual([false, false, false, false, false]);
  });

  it('logs and counts a fast-path request as fastify does', async () => {
    for (const b of boxes) b.lines.length = 0;
    const [f, s] = await both(`GET /phonebook/LAST2 HTTP/1.1\r\nHost: zcon\r\n${AUTH}\r\n`);
    expect(f).toBe(s);
    await vi.waitFor(() => expect(boxes[1]!.lines.some((l) => l['msg'] === 'request')).toBe(true));
    const strip = (l: Record<string, unknown>) => {
      const { time: _t, pid: _p, hostname: _h, ms, reqId, ...rest } = l;
      expect(typeof ms).toBe('number');
      expect(reqId).toMatch(/^req-[0-9a-z]+$/);
      return rest;
    };
    expect(boxes[0]!.lines.map(strip)).toEqual(boxes[1]!.lines.map(strip));
    expect(boxes[0]!.lines.map(strip)).toEqual([{ level: 30, method: 'GET', url: '/phonebook/LAST2', status: 200, api: 'phonebook', operation: 'getEntry', msg: 'request' }]);
    const count = async (b: Box) => (await b.server.metrics.registry.getSingleMetricAsString('zosconnect_http_requests_total')).split('\n').filter((l) => l.startsWith('zosconnect_http_requests_total{') && l.includes('getEntry')).sort();
    expect(await count(boxes[0]!)).toEqual(await count(boxes[1]!));
    const hist = async (b: Box) => (await b.server.metrics.registry.getSingleMetricAsString('zosconnect_http_request_duration_seconds')).split('\n').filter((l) => l.includes('_count') && l.includes('"api"'));
    expect(await hist(boxes[0]!)).toEqual(await hist(boxes[1]!));
  });
});

describe('a conversational reply to a plain API call', () => {
  it('opens a conversation and answers with its ID, on both paths alike', async () => {
    const reply = ivpHandlers(new PhoneBook());
    const ims2 = createTestImsConnect({
      datastores: ['IMS1'],
      handlers: {
        ...reply,
        // IVTNO's answer, but IMS keeps the conversation going (CSM X'40').
        IVTNO: (tx) => ({ output: (reply['IVTNO'] as (t: typeof tx) => string)(tx), conversation: { spa: 'x' } }),
      },
    });
    const ep = await ims2.listen({ host: '127.0.0.1', port: 0 });
    const answers: string[] = [];
    for (const fastPath of [true, false]) {
      const server = createZosConnectServer({ config: SAMPLES, host: '127.0.0.1', port: 0, fastPath, clientOverrides: () => ({ host: ep.host, port: ep.port }) });
      const { address } = await server.start();
      const res = await raw({ server, host: address.address, port: address.port, lines: [], fast: vi.fn() }, `GET /phonebook/LAST1 HTTP/1.1\r\nHost: zcon\r\n\r\n`);
      const id = /\r\nx-zosconnect-conversation-id: ([0-9a-f-]{36})\r\n/.exec(res)?.[1];
      expect(id).toBeDefined();
      expect(server.backend.openConversations).toBe(1);
      answers.push(masked(res).replace(id!, '(id)'));
      await server.stop({ timeout: 0 });
    }
    await ims2.close();
    expect(answers[0]).toBe(answers[1]);
    expect(answers[0]!.startsWith('HTTP/1.1 200 OK\r\nx-zosconnect-conversation-id: (id)\r\ncontent-type: application/json; charset=utf-8\r\n')).toBe(true);
  });
});
