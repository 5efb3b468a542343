/**
 * Every error class end to end over real sockets: RSMs (IBM and semantic profiles), DFS messages,
 * in-doubt (IMS Connect drops the connection after the request), connect failures, the
 * asyncRequestTimeout (503 BAQR0433W, driven by manual timers), imsConnectTimeout, and graceful stop.
 */
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createZosConnectServer } from '../src/index.js';
import { createTestImsConnect, deferred, ivpHandlers, ManualTimers, tempConfig, type TestImsConnect } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(opts: { handlers?: Record<string, any>; manager?: string; timers?: ManualTimers; interaction?: string } = {}) {
  const ims: TestImsConnect = createTestImsConnect({ handlers: opts.handlers ?? ivpHandlers() });
  const ep = await ims.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(() => ims.close());
  const changes: Record<string, string> = {};
  if (opts.manager || opts.interaction) {
    const { readFileSync } = await import('node:fs');
    const { SAMPLES } = await import('./helpers.js');
    let xml = readFileSync(`${SAMPLES}/server.xml`, 'utf8');
    if (opts.manager) xml = xml.replace(/<zosconnect_zosConnectManager[^>]*\/>/, opts.manager);
    if (opts.interaction) xml = xml.replace(/<imsmobile_interaction[^>]*\/>/, opts.interaction);
    changes['server.xml'] = xml;
  }
  const cfg = tempConfig(changes);
  cleanups.push(cfg.cleanup);
  const server = createZosConnectServer({ config: cfg.dir, host: '127.0.0.1', port: 0, ...(opts.timers ? { timers: opts.timers } : {}), clientOverrides: () => ({ host: ep.host, port: ep.port }) });
  const { url } = await server.start();
  cleanups.push(() => server.stop({ timeout: 0 }));
  return { ims, server, url };
}

async function get(url: string) {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as any };
}

describe('IMS Connect RSM', () => {
  it('datastore not found (RSM 8/72 NFNDDST) is 500 in the ibm profile, with the codes in errorDetails', async () => {
    const { ims, url } = await setup();
    ims.injectRsm({ returnCode: 8, reasonCode: 72 });
    const r = await get(`${url}/phonebook/LAST1`);
    expect(r.status).toBe(500);
    expect(r.body.errorMessage).toMatch(/^ICO0001E: IMS Connect RSM/);
    expect(r.body.errorDetails).toMatchObject({ code: 'IMS_ERR_RSM', statusKey: 'RSM_RSN_NFNDDST', retcode: 8, reasoncode: 72, reasonName: 'NFNDDST', outcome: 'not-run', service: 'IVTNO' });
  });

  it('the semantic profile answers 503 for NFNDDST, 504 for an IRM timer RSM and 401 for a RACF failure', async () => {
    const { ims, url } = await setup({ manager: '<zosconnect_zosConnectManager errorProfile="semantic"/>' });
    ims.injectRsm({ returnCode: 8, reasonCode: 72 });
    expect((await get(`${url}/phonebook/LAST1`)).status).toBe(503);
    ims.injectRsm({ returnCode: 32, reasonCode: 0x19 });
    const t = await get(`${url}/phonebook/LAST1`);
    expect(t.status).toBe(504);
    expect(t.body.errorDetails.statusKey).toBe('RSM_RC_TIMER_EXPIRED_CLOSE');
    ims.injectRsm({ returnCode: 8, reasonCode: 54 });
    expect((await get(`${url}/phonebook/LAST1`)).status).toBe(401);
    ims.injectRsm({ returnCode: 16, reasonCode: 0x1a });
    const n = await get(`${url}/phonebook/LAST1`);
    expect(n.status).toBe(502);
    expect(n.body.errorDetails).toMatchObject({ retcode: 16, otmaSense: 0x1a, statusKey: 'RSM_RC_OTMA_NAK' });
  });
});

describe('DFS messages in place of output', () => {
  it('DFS064 (unknown transaction) is 500 (ibm) with the DFS text', async () => {
    const { url } = await setup({ handlers: {} });
    const r = await get(`${url}/phonebook/LAST1`);
    expect(r.status).toBe(500);
    expect(r.body.errorMessage).toMatch(/^ICO0079E: IMS returned DFS064/);
    expect(r.body.errorDetails).toMatchObject({ code: 'ZCON_ERR_IMS_DESTINATION', dfsId: 'DFS064' });
    expect(r.body.errorDetails.dfsMessage).toMatch(/^DFS064 .*DEST=IVTNO/);
  });

  it('DFS065 (stopped) is 503 and DFS555I (abend) 502 in the semantic profile', async () => {
    const { url } = await setup({
      manager: '<zosconnect_zosConnectManager errorProfile="semantic"/>',
      handlers: { IVTNO: (tx: any) => (tx.text.includes('LAST1') ? 'DFS065 10:00:00 TRAN/LTERM STOPPED, DEST=IVTNO' : 'DFS555I TRAN IVTNO    ABEND S000,U0100; MSG IN PROCESS: x 10:00:00') },
    });
    const a = await get(`${url}/phonebook/LAST1`);
    expect(a.status).toBe(503);
    expect(a.body.errorDetails.code).toBe('ZCON_ERR_IMS_STOPPED');
    const b = await get(`${url}/phonebook/LAST2`);
    expect(b.status).toBe(502);
    expect(b.body.errorDetails.code).toBe('ZCON_ERR_IMS_ABEND');
  });
});

describe('in doubt', () => {
  it('IMS Connect drops the connection after the request: 500, outcome unknown, client ID, not retried', async () => {
    const { ims, url } = await setup({ handlers: { IVTNO: () => ({ drop: true }) } });
    const before = ims.requests.length;
    const r = await get(`${url}/phonebook/LAST1`);
    expect(r.status).toBe(500);
    expect(r.body.errorMessage).toMatch(/^ICO0005E: outcome unknown: .*The request was not retried\.$/);
    expect(r.body.errorDetails).toMatchObject({ code: 'IMS_ERR_IN_DOUBT', outcome: 'unknown', commitMode: 1, trancode: 'IVTNO' });
    expect(r.body.errorDetails.clientId).toMatch(/^ZCON[0-9A-Z]{4}$/);
    expect(r.body.errorDetails.imsConnectTarget).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(ims.requests.length - before).toBe(1);
  });

  it('semantic profile: in doubt is 502', async () => {
    const { url } = await setup({ manager: '<zosconnect_zosConnectManager errorProfile="semantic"/>', handlers: { IVTNO: () => ({ drop: true }) } });
    expect((await get(`${url}/phonebook/LAST1`)).status).toBe(502);
  });
});

describe('cannot reach IMS Connect', () => {
  it('connection refused is 500 (ibm) with outcome not-run', async () => {
    const { url, server } = await setup();
    // A port that refuses: bind and close one.
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    await server.stop({ timeout: 0 });
    const cfg2 = tempConfig();
    cleanups.push(cfg2.cleanup);
    const s2 = createZosConnectServer({ config: cfg2.dir, host: '127.0.0.1', port: 0, clientOverrides: () => ({ host: '127.0.0.1', port, maxConnectAttempts: 1, backoff: { initialDelay: 0, maxDelay: 0 } as any }) });
    const { url: url2 } = await s2.start();
    cleanups.push(() => s2.stop({ timeout: 0 }));
    void url;
    const r = await get(`${url2}/phonebook/LAST1`);
    expect(r.status).toBe(500);
    expect(r.body.errorDetails).toMatchObject({ code: 'IMS_ERR_CONNECT_FAILED', outcome: 'not-run' });
    expect(s2.health()).toEqual({ ready: true, health: 10 });
  });
});

describe('timeouts', () => {
  it('asyncRequestTimeout answers 503 BAQR0433W; the late IMS result is discarded', async () => {
    const timers = new ManualTimers();
    const arrived = deferred();
    const release = deferred<string>();
    const { url, server } = await setup({
      timers,
      manager: '<zosconnect_zosConnectManager asyncRequestTimeout="5s"/>',
      handlers: {
        IVTNO: async () => {
          arrived.resolve();
          return release.promise;
        },
      },
    });
    const pending = get(`${url}/phonebook/LAST1`);
    await arrived.promise;
    expect(timers.armed(5000)).toBe(1);
    timers.advance(5000);
    const r = await pending;
    expect(r.status).toBe(503);
    expect(r.body.errorMessage).toBe('BAQR0433W: The asynchronous request has timed out after 5000 milliseconds.');
    expect(r.body.errorDetails.code).toBe('ZCON_ERR_TIMEOUT');
    release.resolve('x'.repeat(89));
    // The next request works (the connection was freed by the late reply).
    const stats = server.registry.services.get('IVTNO')!.stats;
    await vitestWaitFor(() => stats.inFlight === 0);
  });

  it('imsConnectTimeout aborts the wait: in doubt (the request was written)', async () => {
    const timers = new ManualTimers();
    const arrived = deferred();
    const { url } = await setup({
      timers,
      interaction: '<imsmobile_interaction id="IMSINT1" commitMode="1" syncLevel="0" imsConnectTimeout="2000"/>',
      handlers: {
        IVTNO: async () => {
          arrived.resolve();
          return new Promise<string>(() => undefined);
        },
      },
    });
    const pending = get(`${url}/phonebook/LAST1`);
    await arrived.promise;
    timers.advance(2000);
    const r = await pending;
    expect(r.status).toBe(500);
    expect(r.body.errorDetails).toMatchObject({ code: 'IMS_ERR_IN_DOUBT', outcome: 'unknown' });
  });
});

describe('imsConnectTimeout per call', () => {
  it('two interaction profiles with different timeouts on one connection: each call keeps its own', async () => {
    const timers = new ManualTimers();
    const arrived = deferred();
    const ims: TestImsConnect = createTestImsConnect({
      handlers: {
        ...ivpHandlers(),
        IVTNO: async () => {
          arrived.resolve();
          return new Promise<string>(() => undefined);
        },
      },
    });
    const ep = await ims.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => ims.close());
    const { readFileSync } = await import('node:fs');
    const { SAMPLES } = await import('./helpers.js');
    // IVTNO on IMSINT2 (1500 ms), IVTCV stays on IMSINT1 (20 s): the client's own response timeout
    // cannot serve both, so IVTNO's calls carry their own timer.
    const xml = readFileSync(`${SAMPLES}/server.xml`, 'utf8').replace('</server>', '  <imsmobile_interaction id="IMSINT2" commitMode="1" syncLevel="0" imsConnectTimeout="1500"/>\n</server>');
    const svc = readFileSync(`${SAMPLES}/services/IVTNO.xml`, 'utf8').replace('interactionRef="IMSINT1"', 'interactionRef="IMSINT2"');
    const cfg = tempConfig({ 'server.xml': xml, 'services/IVTNO.xml': svc });
    cleanups.push(cfg.cleanup);
    const server = createZosConnectServer({ config: cfg.dir, host: '127.0.0.1', port: 0, timers, clientOverrides: () => ({ host: ep.host, port: ep.port }) });
    const { url } = await server.start();
    cleanups.push(() => server.stop({ timeout: 0 }));
    const pending = get(`${url}/phonebook/LAST1`);
    await arrived.promise;
    expect(timers.armed(1500)).toBe(1);
    timers.advance(1500);
    const r = await pending;
    expect(r.status).toBe(500);
    expect(r.body.errorDetails).toMatchObject({ code: 'IMS_ERR_IN_DOUBT', outcome: 'unknown' });
  });
});

describe('graceful stop', () => {
  it('finishes in-flight requests and refuses new ones with 503', async () => {
    const arrived = deferred();
    const release = deferred<string>();
    const book = ivpHandlers();
    const { url, server } = await setup({
      handlers: {
        IVTNO: async (tx: any) => {
          if (tx.text.includes('SLOW')) {
            arrived.resolve();
            await release.promise;
          }
          return book.IVTNO(tx);
        },
      },
    });
    const inflight = get(`${url}/phonebook/SLOW`);
    await arrived.promise;
    const stopped = server.stop();
    expect(server.state).toBe('stopping');
    const refused = await get(`${url}/phonebook/LAST1`);
    expect(refused.status).toBe(503);
    expect(refused.body.errorDetails.code).toBe('ZCON_ERR_UNAVAILABLE');
    expect(server.health().ready).toBe(false);
    release.resolve('');
    const done = await inflight;
    expect(done.status).toBe(404);
    expect(done.body.message).toBe('SPECIFIED PERSON WAS NOT FOUND');
    await stopped;
    expect(server.state).toBe('stopped');
  });
});

/** Wait for a condition driven by I/O events (polls on the event loop, no wall-clock assertion). */
async function vitestWaitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  expect(cond()).toBe(true);
}
