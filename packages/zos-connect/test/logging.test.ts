/**
 * Request logging (`requestLog`): one line per request with `all`, only error answers with `errors`
 * (the default), only server errors with `off`; no fastify request logs either way.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createZosConnectServer, type RequestLogMode } from '../src/index.js';
import { createTestImsConnect, ivpHandlers, SAMPLES, type TestImsConnect } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A server whose pino logger writes JSON lines into `lines`. */
async function setup(requestLog?: RequestLogMode) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const ims: TestImsConnect = createTestImsConnect({ handlers: ivpHandlers(), datastores: ['IMS1'] });
  const ep = await ims.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(() => ims.close());
  const server = createZosConnectServer({ config: SAMPLES, host: '127.0.0.1', port: 0, logger: pino({ level: 'info' }, sink), ...(requestLog ? { requestLog } : {}), clientOverrides: () => ({ host: ep.host, port: ep.port }) });
  const { url } = await server.start();
  cleanups.push(() => server.stop({ timeout: 0 }));
  lines.length = 0; // drop the start-up line
  return { ims, url, lines };
}

const requestLines = (lines: Record<string, unknown>[]) => lines.filter((l) => l['msg'] === 'request');

/** The request line is written when the response has finished, which may be just after the client has it. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  expect(cond()).toBe(true);
}

describe('requestLog', () => {
  it('all: one info line per request with method, URL, status, time, API and operation', async () => {
    const { url, lines } = await setup('all');
    expect((await fetch(`${url}/phonebook/LAST1`)).status).toBe(200);
    expect((await fetch(`${url}/nothing`)).status).toBe(404);
    await until(() => requestLines(lines).length === 2);
    const req = requestLines(lines);
    expect(req[0]).toMatchObject({ level: 30, method: 'GET', url: '/phonebook/LAST1', status: 200, api: 'phonebook', operation: 'getEntry' });
    expect(typeof req[0]!['ms']).toBe('number');
    expect(req[1]).toMatchObject({ method: 'GET', url: '/nothing', status: 404 });
    // The 404 is also logged as an error answer; nothing else (no fastify "incoming request" lines).
    expect(lines.filter((l) => l['msg'] !== 'request').map((l) => l['code'])).toEqual(['ZCON_ERR_NOT_FOUND']);
  });

  it('errors (default): nothing for a success, an info line for a 4xx, an error line with the cause for a 5xx', async () => {
    const { url, lines, ims } = await setup();
    expect((await fetch(`${url}/phonebook/LAST1`)).status).toBe(200);
    expect(lines).toEqual([]);
    expect((await fetch(`${url}/nothing`)).status).toBe(404);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, method: 'GET', url: '/nothing', code: 'ZCON_ERR_NOT_FOUND' });
    ims.injectRsm({ returnCode: 8, reasonCode: 72 });
    expect((await fetch(`${url}/phonebook/LAST1`)).status).toBe(500);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ level: 50, url: '/phonebook/LAST1', code: 'IMS_ERR_RSM' });
    expect(lines[1]!['err']).toBeDefined();
  });

  it('off: 4xx answers are not logged, 5xx still are', async () => {
    const { url, lines, ims } = await setup('off');
    expect((await fetch(`${url}/nothing`)).status).toBe(404);
    expect((await fetch(`${url}/phonebook/LAST1`)).status).toBe(200);
    expect(lines).toEqual([]);
    ims.injectRsm({ returnCode: 8, reasonCode: 72 });
    expect((await fetch(`${url}/phonebook/LAST1`)).status).toBe(500);
    expect(lines.map((l) => [l['level'], l['code']])).toEqual([[50, 'IMS_ERR_RSM']]);
  });

  it('refuses an unknown mode', () => {
    expect(() => createZosConnectServer({ config: SAMPLES, requestLog: 'some' as RequestLogMode })).toThrow(expect.objectContaining({ code: 'ZCON_ERR_CONFIG' }));
  });
});
