import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad, restTarget, imsConnectTarget, type LoadTarget } from '../src/load.js';
import { cli } from './helpers.js';
import { startFakeImsConnect, type FakeImsConnect } from './fake-ims-connect.js';

let ims: FakeImsConnect;
let http: Server;
let httpPort = 0;
let hits = 0;

beforeAll(async () => {
  ims = await startFakeImsConnect(['IMS1']);
  http = createServer((req, res) => {
    hits++;
    const id = (req.url ?? '').split('/').pop() ?? '';
    if (id.endsWith('13')) {
      // One request in the run is answered with an error status.
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"errorMessage":"BAQR0433W"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id }));
  });
  http.on('connection', (s) => s.setNoDelay(true));
  await new Promise<void>((r) => http.listen({ host: '127.0.0.1', port: 0 }, () => r()));
  const a = http.address();
  httpPort = a && typeof a === 'object' ? a.port : 0;
});
afterAll(async () => {
  await ims.close();
  await new Promise<void>((r) => http.close(() => r()));
});

describe('imsplex send', () => {
  it('sends a transaction with the IRM options given and prints the decoded reply', async () => {
    const r = await cli(['send', '--connect', `127.0.0.1:${ims.port}`, '-t', 'IVTNO', '-D', 'DISPLAY LAST1', '--datastore', 'IMS1', '--client-id', 'CLIENT01', '--timer', '10s', '--user', 'USER01', '--password', 'SECRET']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('(client ID CLIENT01)');
    expect(r.out).toContain('segment 1: "ECHO DISPLAY LAST1"');
    expect(ims.received.at(-1)).toBe('IVTNO   DISPLAY LAST1');
  });
  it('prints an RSM with its return and reason code, exit code 1', async () => {
    const r = await cli(['send', '--connect', `127.0.0.1:${ims.port}`, '-t', 'IVTNO', '--datastore', 'BADDS']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('return code 8 (IMS_CONNECT_ERROR), reason 72 (NFNDDST)');
  });
  it('reports a dropped connection after the request as in doubt', async () => {
    ims.dropNext = 1;
    const r = await cli(['send', '--connect', `127.0.0.1:${ims.port}`, '-t', 'ECHO', '-D', 'X', '--datastore', 'IMS1']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('IMS_ERR_IN_DOUBT');
  });
  it('pings', async () => {
    const r = await cli(['send', '--connect', `127.0.0.1:${ims.port}`, '--type', 'ping', '--datastore', 'IMS1']);
    expect(r.out).toContain('HWSC0030I');
  });
  it('rejects bad options with exit code 2', async () => {
    expect((await cli(['send', '--connect', 'nohost', '-t', 'X'])).code).toBe(2);
    const r = await cli(['send', '--connect', `127.0.0.1:${ims.port}`, '--timer', 'soon', '-t', 'X']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('CLI_ERR_BAD_OPTION');
  });
});

describe('load', () => {
  it('counts every request in exactly one bucket and checks the echoed ids (IMS Connect)', async () => {
    const target = imsConnectTarget({ host: '127.0.0.1', port: ims.port, trancode: 'ECHO', datastore: 'IMS1' });
    ims.dropNext = 2;
    const r = await runLoad({ target, count: 40, concurrency: 4 });
    await target.close();
    expect(r.sent).toBe(40);
    expect(r.succeeded + r.failed + r.inDoubt).toBe(40);
    expect(r.inDoubt).toBe(2);
    expect(r.errors['IMS_ERR_IN_DOUBT']).toBe(2);
    expect(r.duplicated).toBe(0);
    expect(r.mismatched).toBe(0);
    // commit mode 1: nothing to recover with RESUME TPIPE, the in-doubt ones are reported as lost.
    expect(r.lost).toBe(2);
  });
  it('detects an answer that carries another request id', async () => {
    let n = 0;
    const crossed: LoadTarget = { describe: 'crossed', send: async (id) => ({ kind: 'succeeded', echoedId: ++n === 3 ? 'R0000001' : id }), close: async () => undefined };
    const r = await runLoad({ target: crossed, count: 5, concurrency: 1 });
    expect(r.mismatched).toBe(1);
    expect(r.duplicated).toBe(1);
  });
  it('is always bounded', async () => {
    const t: LoadTarget = { describe: 't', send: async () => ({ kind: 'succeeded' }), close: async () => undefined };
    await expect(runLoad({ target: t })).rejects.toMatchObject({ code: 'CLI_ERR_BAD_OPTION' });
    await expect(runLoad({ target: t, count: 1, concurrency: 1000 })).rejects.toMatchObject({ code: 'CLI_ERR_BAD_OPTION' });
  });
  it('runs a REST load through the CLI and prints the summary', async () => {
    hits = 0;
    const r = await cli(['load', '--rest', `http://127.0.0.1:${httpPort}/phonebook/{id}`, '-n', '20', '-C', '2']);
    expect(r.code).toBe(0);
    expect(hits).toBe(20);
    expect(r.out).toMatch(/sent\s+20/);
    expect(r.out).toMatch(/succeeded\s+19/);
    expect(r.out).toMatch(/failed\s+1/);
    expect(r.out).toMatch(/HTTP_503\s+1/);
    expect(r.out).toContain('latency ms');
  });
  it('counts a refused REST connection as failed, not in doubt', async () => {
    const t = restTarget({ url: 'http://127.0.0.1:1/x' });
    const r = await runLoad({ target: t, count: 2, concurrency: 1 });
    expect(r.failed).toBe(2);
    expect(r.inDoubt).toBe(0);
  });
  it('draws a progress bar when asked', async () => {
    let drawn = '';
    const { run } = await import('../src/program.js');
    const { PassThrough } = await import('node:stream');
    const stream = new PassThrough();
    stream.on('data', (c: Buffer) => (drawn += c.toString()));
    let out = '';
    const code = await run(['load', '--ims', `127.0.0.1:${ims.port}`, '-n', '10'], { out: (t) => (out += t), err: () => undefined, progress: stream });
    expect(code).toBe(0);
    expect(out).toMatch(/succeeded\s+10/);
    expect(drawn).toContain('10/10');
  });
});
