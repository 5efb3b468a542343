/** Timeouts, pool behaviour, failover, in-doubt, retries and lifecycle. */
import * as net from 'node:net';
import { duplexPair, type Duplex } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientErrorCode, ImsInDoubtError, createClient, type ImsConnectClient } from '../src/index.js';
import { createTestImsConnect, type TestImsConnect } from '../src/testing/index.js';
import { ManualTimers, gate, hex, setup, tick, until } from './helpers.js';

let ims: TestImsConnect | undefined;
let client: ImsConnectClient | undefined;
const extra: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  await client?.destroy();
  await ims?.close();
  for (const f of extra.splice(0)) await f();
  ims = undefined;
  client = undefined;
});

/** A peer that accepts bytes and answers only what the test writes. */
function silentPeer(): { connector: () => Duplex; peer: () => Duplex; received: Uint8Array[] } {
  let server: Duplex | undefined;
  const received: Uint8Array[] = [];
  return {
    connector: () => {
      const [c, s] = duplexPair();
      c.on('close', () => s.destroy());
      s.on('close', () => c.destroy());
      s.on('data', (d: Uint8Array) => received.push(d));
      server = s;
      return c;
    },
    peer: () => server!,
    received,
  };
}

// A SAMPL1 reply: LLLL, one data segment "ENTRY WAS DISPLAYED", CSM (spec §13.2).
const REPLY_13_2 = hex('00 00 00 27 00 17 00 00 C5 D5 E3 D9 E8 40 E6 C1 E2 40 C4 C9 E2 D7 D3 C1 E8 C5 C4 00 0C 10 02 5C C3 E2 D4 D6 D2 E8 5C');

describe('timeouts (injected timers)', () => {
  it('connect timeout: IMS_ERR_CONNECT_TIMEOUT', async () => {
    const t = new ManualTimers();
    client = createClient({ connector: () => new Promise<never>(() => undefined), datastore: 'IMS1', timers: t.timers, clock: t.clock, connectTimeout: 5000, maxConnectAttempts: 1 });
    const p = client.sendReceive({ trancode: 'IVTNO' });
    p.catch(() => undefined);
    await until(() => t.pending > 0, 'connect timer');
    t.advance(4999);
    await tick();
    t.advance(1);
    await expect(p).rejects.toMatchObject({ code: ClientErrorCode.CONNECT_TIMEOUT });
  });

  it('response timeout after the write: in doubt for a transaction, IMS_ERR_RESPONSE_TIMEOUT for a PING', async () => {
    const t = new ManualTimers();
    const peer = silentPeer();
    client = createClient({ connector: peer.connector, datastore: 'IMS1', timers: t.timers, clock: t.clock, responseTimeout: 3000, clientId: 'RT1', maxConnections: 1 });
    const p = client.sendReceive({ trancode: 'IVTNO', commitMode: 0 });
    p.catch(() => undefined);
    await until(() => peer.received.length > 0, 'request');
    t.advance(3000);
    const err = (await p.catch((e: unknown) => e)) as ImsInDoubtError;
    expect(err).toBeInstanceOf(ImsInDoubtError);
    expect(err).toMatchObject({ code: ClientErrorCode.IN_DOUBT, clientId: 'RT1', commitMode: 0, trancode: 'IVTNO' });
    expect((err.cause as { code: string }).code).toBe(ClientErrorCode.RESPONSE_TIMEOUT);

    const ping = client.ping();
    ping.catch(() => undefined);
    await until(() => peer.received.length > 1, 'ping');
    t.advance(3000);
    await expect(ping).rejects.toMatchObject({ code: ClientErrorCode.RESPONSE_TIMEOUT });
  });

  it('idle timeout is refreshed by each chunk and fires on a stalled reply', async () => {
    const t = new ManualTimers();
    const peer = silentPeer();
    client = createClient({ connector: peer.connector, datastore: 'IMS1', timers: t.timers, clock: t.clock, responseTimeout: 60_000, idleTimeout: 1000, maxConnections: 1 });
    const p = client.sendReceive({ trancode: 'IVTNO' });
    await until(() => peer.received.length > 0, 'request');
    peer.peer().write(REPLY_13_2.subarray(0, 10));
    await tick();
    t.advance(999);
    peer.peer().write(REPLY_13_2.subarray(10, 20));
    await tick();
    t.advance(999); // 1998 ms since the first chunk, but only 999 since the last
    peer.peer().write(REPLY_13_2.subarray(20));
    expect((await p).text).toBe('ENTRY WAS DISPLAYED');

    const ping = client.ping();
    ping.catch(() => undefined);
    await until(() => peer.received.length > 1, 'ping');
    peer.peer().write(REPLY_13_2.subarray(0, 6));
    await tick();
    t.advance(1000);
    await expect(ping).rejects.toMatchObject({ code: ClientErrorCode.IDLE_TIMEOUT });
  });

  it('the default timers follow vitest fake timers (globals read at call time)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const peer = silentPeer();
      client = createClient({ connector: peer.connector, datastore: 'IMS1', responseTimeout: 2000, maxConnections: 1 });
      const ping = client.ping();
      ping.catch(() => undefined);
      await until(() => peer.received.length > 0, 'ping');
      vi.advanceTimersByTime(2000);
      await expect(ping).rejects.toMatchObject({ code: ClientErrorCode.RESPONSE_TIMEOUT });
    } finally {
      vi.useRealTimers();
    }
  });

  it('a reply above maxReplySize fails with IMS_ERR_REPLY_TOO_LARGE', async () => {
    const peer = silentPeer();
    client = createClient({ connector: peer.connector, datastore: 'IMS1', maxReplySize: 1000, maxConnections: 1 });
    const ping = client.ping();
    await until(() => peer.received.length > 0, 'ping');
    peer.peer().write(hex('00 00 10 00'));
    await expect(ping).rejects.toMatchObject({ code: ClientErrorCode.REPLY_TOO_LARGE });
  });
});

describe('older IMS Connect (raw peer)', () => {
  it('CM0 without ACK NOWAIT support: ACK with the IRM timer, then read the timeout RSM', async () => {
    const peer = silentPeer();
    client = createClient({ connector: peer.connector, datastore: 'IMS1', maxConnections: 1, interactionTimeout: 10_000 });
    const p = client.sendReceive({ trancode: 'IVTNO', commitMode: 0 });
    await until(() => peer.received.length === 1, 'request');
    // LLLL | LLZZ "ENTRY WAS DISPLAYED" | CSM flags X'20' (ACK required), no protocol level
    const reply = REPLY_13_2.slice();
    reply[0x1d] = 0x20;
    reply[0x1e] = 0x00;
    peer.peer().write(reply);
    await until(() => peer.received.length === 2, 'ACK');
    const ack = peer.received[1]!;
    expect(ack[0x23]).toBe(0xc1);
    expect(ack[0x20] & 0x02).toBe(0); // no IRM_F1_NOWAIT
    expect(ack[0x15]).toBe(0x31); // the interaction's IRM timer (10 s)
    // RSM RC 40 (timer expired, socket kept), reason = timer value
    peer.peer().write(hex('00 00 00 18 00 14 00 00 5C D9 C5 D8 E2 E3 E2 5C 00 00 00 28 00 00 00 31'));
    const res = await p;
    expect(res).toMatchObject({ text: 'ENTRY WAS DISPLAYED', acknowledged: 'ack', additionalOutput: [] });
    expect(client.stats().pool.idle).toBe(1);
  });
});

describe('pool', () => {
  it('queues waiters FIFO, bounds the queue, and reports stats', async () => {
    const gates = new Map<string, ReturnType<typeof gate<string>>>();
    const order: string[] = [];
    ({ ims, client } = setup(
      {
        handlers: {
          WORK: (tx) => {
            order.push(tx.text);
            const g = gate<string>();
            gates.set(tx.text, g);
            return g.promise;
          },
        },
      },
      { maxConnections: 1, maxWaiters: 2 },
    ));
    const a = client!.sendReceive({ trancode: 'WORK', data: 'A' });
    await until(() => gates.has('A'), 'A running');
    const b = client!.sendReceive({ trancode: 'WORK', data: 'B' });
    const c = client!.sendReceive({ trancode: 'WORK', data: 'C' });
    await tick();
    expect(client!.stats().pool).toMatchObject({ size: 1, busy: 1, waiting: 2, maxSize: 1 });
    await expect(client!.sendReceive({ trancode: 'WORK', data: 'D' })).rejects.toMatchObject({ code: ClientErrorCode.POOL_EXHAUSTED });
    gates.get('A')!.open('a');
    await until(() => gates.has('B'), 'B running');
    gates.get('B')!.open('b');
    await until(() => gates.has('C'), 'C running');
    gates.get('C')!.open('c');
    expect((await Promise.all([a, b, c])).map((r) => r.text)).toEqual(['a', 'b', 'c']);
    expect(order).toEqual(['A', 'B', 'C']);
    expect(client!.stats().pool).toMatchObject({ size: 1, idle: 1, busy: 0, created: 1, exhausted: 1 });
  });

  it('a bounded wait fails with IMS_ERR_POOL_TIMEOUT', async () => {
    const t = new ManualTimers();
    const g = gate<string>();
    ({ ims, client } = setup({ handlers: { SLOW: () => g.promise } }, { maxConnections: 1, acquireTimeout: 500, timers: t.timers, clock: t.clock, responseTimeout: 0 }));
    const a = client!.sendReceive({ trancode: 'SLOW' });
    await until(() => ims!.frames.length === 1, 'first request');
    const b = client!.sendReceive({ trancode: 'SLOW' });
    b.catch(() => undefined);
    await tick();
    t.advance(500);
    await expect(b).rejects.toMatchObject({ code: ClientErrorCode.POOL_TIMEOUT });
    g.open('done');
    expect((await a).text).toBe('done');
    expect(client!.stats().pool.timedOut).toBe(1);
  });

  it('evicts idle connections after maxIdleTime and keeps minConnections', async () => {
    const t = new ManualTimers();
    ({ ims, client } = setup({ handlers: { X: () => 'x' } }, { minConnections: 1, maxConnections: 3, maxIdleTime: 1000, timers: t.timers, clock: t.clock }));
    await until(() => client!.stats().pool.idle === 1, 'min connection');
    await Promise.all([client!.sendReceive({ trancode: 'X' }), client!.sendReceive({ trancode: 'X' }), client!.sendReceive({ trancode: 'X' })]);
    expect(client!.stats().pool.idle).toBe(3);
    t.advance(1000);
    await tick();
    expect(client!.stats().pool).toMatchObject({ idle: 1, evicted: 2 });
  });

  it('health checks PING idle connections and return them to the pool', async () => {
    const t = new ManualTimers();
    ({ ims, client } = setup({ handlers: { X: () => 'x' } }, { minConnections: 2, maxConnections: 2, healthCheckInterval: 10_000, maxIdleTime: 0, timers: t.timers, clock: t.clock }));
    await until(() => client!.stats().pool.idle === 2, 'min connections');
    t.advance(10_000);
    await until(() => ims!.requests.length === 2, 'pings');
    expect(ims!.requests.every((r) => r.irm.user?.kind === 'sample' && r.irm.user.trancode === 'PING')).toBe(true);
    await until(() => client!.stats().pool.idle === 2, 'back to idle');
    expect(client!.stats().pool.checkFailures).toBe(0);
  });

  it('persistent connections keep their client IDs, one per connection', async () => {
    const g = gate<string>();
    ({ ims, client } = setup({ handlers: { W: () => g.promise } }, { maxConnections: 2, clientIdPrefix: 'ABC', rng: () => 0 }));
    const both = Promise.all([client!.sendReceive({ trancode: 'W' }), client!.sendReceive({ trancode: 'W' })]);
    await until(() => ims!.frames.length === 2, 'two requests');
    g.open('ok');
    const ids = (await both).map((r) => r.clientId).sort();
    expect(ids).toEqual(['ABC00000', 'ABC00001']);
    const again = await client!.sendReceive({ trancode: 'W' });
    expect(ids).toContain(again.clientId);
  });
});

describe('failover, retries and in-doubt', () => {
  it('fails over from a refusing endpoint to the next over TCP', async () => {
    ims = createTestImsConnect({ handlers: { IVTNO: () => 'FROM B' } });
    const good = await ims.listen();
    const dead = net.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadPort = (dead.address() as net.AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const errors: string[] = [];
    client = createClient({ endpoints: [{ host: '127.0.0.1', port: deadPort }, good], datastore: 'IMS1' });
    client.on('connectError', (e: { endpoint: string }) => errors.push(e.endpoint));
    const res = await client.sendReceive({ trancode: 'IVTNO' });
    expect(res.text).toBe('FROM B');
    expect(res.endpoint).toBe(`127.0.0.1:${good.port}`);
    expect(errors).toEqual([`127.0.0.1:${deadPort}`]);
    expect(client.stats().endpoints[0]).toMatchObject({ failures: 1, down: true });
  });

  it('binds localAddress as the source address', async () => {
    const seen: string[] = [];
    const srv = net.createServer((s) => {
      seen.push(s.remoteAddress ?? '');
      s.destroy();
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    extra.push(() => new Promise<void>((r) => srv.close(() => r())));
    const port = (srv.address() as net.AddressInfo).port;
    client = createClient({ endpoints: [{ host: '127.0.0.1', port, localAddress: '127.0.1.2' }], datastore: 'IMS1', maxConnectAttempts: 1 });
    await client.ping().catch(() => undefined);
    expect(seen[0]).toBe('127.0.1.2');
  });

  it('never re-sends a transaction whose connection died after the write', async () => {
    ({ ims, client } = setup({ handlers: { PAY: () => ({ drop: true }) } }, { clientIdPrefix: 'DOUBT', maxRetries: 3 }));
    const err = (await client!.sendReceive({ trancode: 'PAY', data: '100 EUR', commitMode: 0 }).catch((e: unknown) => e)) as ImsInDoubtError;
    expect(err).toBeInstanceOf(ImsInDoubtError);
    expect(err.clientId).toMatch(/^DOUBT/);
    expect(err.commitMode).toBe(0);
    expect(err.interaction).toBe('send-receive');
    await tick();
    expect(ims!.requests.length).toBe(1);
    expect(client!.stats()).toMatchObject({ inDoubt: 1, retries: 0 });
  });

  it('retries on a fresh connection when the request was never written', async () => {
    ims = createTestImsConnect({ handlers: { IVTNO: () => 'OK' } });
    let calls = 0;
    client = createClient({
      connector: (endpoint, signal) => {
        calls++;
        const d = ims!.connector(endpoint, signal) as Duplex;
        if (calls === 1) d.destroy();
        return d;
      },
      datastore: 'IMS1',
    });
    const res = await client.sendReceive({ trancode: 'IVTNO' });
    expect(res.text).toBe('OK');
    expect(client.stats().retries).toBe(1);
    expect(ims.requests.length).toBe(1);
  });

  it('drops pooled connections IMS Connect closed while idle', async () => {
    ({ ims, client } = setup({ handlers: { IVTNO: () => 'OK' } }));
    await client!.sendReceive({ trancode: 'IVTNO' });
    expect(client!.stats().pool.idle).toBe(1);
    ims!.disconnectAll();
    await until(() => client!.stats().pool.idle === 0, 'eviction of closed socket');
    expect((await client!.sendReceive({ trancode: 'IVTNO' })).text).toBe('OK');
    expect(client!.stats().inDoubt).toBe(0);
  });
});

describe('lifecycle', () => {
  it('close() lets in-flight work finish, refuses new work, and is idempotent', async () => {
    const g = gate<string>();
    ({ ims, client } = setup({ handlers: { SLOW: () => g.promise } }));
    const inflight = client!.sendReceive({ trancode: 'SLOW' });
    await until(() => ims!.frames.length === 1, 'request');
    const c1 = client!.close();
    const c2 = client!.close();
    expect(c1).toBe(c2);
    await expect(client!.sendReceive({ trancode: 'SLOW' })).rejects.toMatchObject({ code: ClientErrorCode.CLOSED });
    g.open('finished');
    expect((await inflight).text).toBe('finished');
    await c1;
    expect(client!.closed).toBe(true);
    await until(() => ims!.stats().openConnections === 0, 'server side closed');
  });

  it('destroy(err) fails waiting and running calls and is idempotent', async () => {
    const g = gate<string>();
    ({ ims, client } = setup({ handlers: { SLOW: () => g.promise } }, { maxConnections: 1 }));
    const running = client!.sendReceive({ trancode: 'SLOW', commitMode: 0 });
    await until(() => ims!.frames.length === 1, 'request');
    const waiting = client!.sendReceive({ trancode: 'SLOW' });
    const boom = new Error('shutdown');
    const d1 = client!.destroy(boom);
    expect(client!.destroy()).toBe(d1);
    await d1;
    await expect(waiting).rejects.toBe(boom);
    const err = (await running.catch((e: unknown) => e)) as ImsInDoubtError;
    expect(err.code).toBe(ClientErrorCode.IN_DOUBT);
    expect(err.cause).toBe(boom);
    g.open('late');
  });
});
