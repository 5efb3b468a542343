/**
 * Datastore reconnect (imsplex extension): capped, jittered backoff on injected timers and random
 * numbers; an immediate first attempt after an active link drops; an early attempt when a client asks
 * for a reconnecting datastore (rate-limited); OPENDS tries at once; and a real IMS restart brought
 * back into service by the next request instead of the end of the backoff.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { duplexPair } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CP037, buildRequest, decodeReply, encodeRequest } from '@imsplex/codec';
import { ImsSystem } from '@imsplex/ims';
import { DEFAULTS, ImsConnectServer, OtmaDatastoreLink, loadHwsCfg, resolveOptions, type ReconnectOptions, type Timers } from '../src/index.js';
import { RawClient, silent } from './harness.js';

/** Timers advanced by hand; records every delay asked for. */
class ManualTimers implements Timers {
  now = 0;
  readonly delays: number[] = [];
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.delays.push(ms);
    this.pending.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.pending.delete(h as number);
  }
  advance(ms: number): void {
    this.now += ms;
    for (const [id, t] of [...this.pending].sort((a, b) => a[1].at - b[1].at)) {
      if (t.at <= this.now && this.pending.has(id)) {
        this.pending.delete(id);
        t.fn();
      }
    }
  }
  /** Delay until the earliest pending timer, or undefined. */
  get next(): number | undefined {
    const ats = [...this.pending.values()].map((t) => t.at - this.now);
    return ats.length ? Math.min(...ats) : undefined;
  }
}

/** A socket whose connect attempt the test refuses by hand. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  setNoDelay(): this {
    return this;
  }
  write(): boolean {
    return true;
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
  refuse(): void {
    this.emit('error', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    this.emit('close');
  }
}

function fakeLink(reconnect: ReconnectOptions | undefined, random: () => number) {
  const timers = new ManualTimers();
  const sockets: FakeSocket[] = [];
  const ds = resolveOptions({ id: 'HWS1', ports: [1], datastores: [{ id: 'IMS1', tmember: 'IMS1', address: '127.0.0.1:9', ...(reconnect ? { reconnect } : {}) }] }).datastores[0]!;
  const link = new OtmaDatastoreLink(ds, {
    hwsId: 'HWS1',
    timers,
    log: () => {},
    reconnect: ds.reconnect,
    random,
    now: () => timers.now,
    connect: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s as unknown as Socket;
    },
  });
  return { link, timers, sockets };
}

/** Refuse `n` attempts in a row, advancing to each retry; returns the retry delays. */
function refuse(f: ReturnType<typeof fakeLink>, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    f.sockets.at(-1)!.refuse();
    out.push(f.timers.delays.at(-1)!);
    f.timers.advance(f.timers.next!);
  }
  return out;
}

describe('reconnect backoff (injected timers and random numbers)', () => {
  it('defaults: doubling from 50 ms, capped at 1 s, each wait shortened by up to 20 %', () => {
    expect([DEFAULTS.reconnectInitialDelay, DEFAULTS.reconnectMaxDelay, DEFAULTS.reconnectJitter]).toEqual([50, 1000, 0.2]);
    const top = fakeLink(undefined, () => 0);
    top.link.open();
    expect(refuse(top, 8)).toEqual([50, 100, 200, 400, 800, 1000, 1000, 1000]);
    expect(top.sockets).toHaveLength(9);
    const low = fakeLink(undefined, () => 0.999999);
    low.link.open();
    expect(refuse(low, 7)).toEqual([40, 80, 160, 320, 640, 800, 800]);
    const mid = fakeLink(undefined, () => 0.5);
    mid.link.open();
    expect(refuse(mid, 6)).toEqual([45, 90, 180, 360, 720, 900]);
    expect(mid.link.status()).toBe('DISCONNECT');
  });

  it('per-datastore settings; jitter 0 gives the bare doubling; a random source out of range is clamped', () => {
    const f = fakeLink({ initialDelay: 10, maxDelay: 35, jitter: 0 }, () => 0.7);
    f.link.open();
    expect(refuse(f, 4)).toEqual([10, 20, 35, 35]);
    const g = fakeLink({ initialDelay: 100, maxDelay: 100, jitter: 1 }, () => 7);
    g.link.open();
    expect(refuse(g, 2)).toEqual([0, 0]);
  });

  it('a client asking for the datastore (kick) retries at once, at most once per initial delay', () => {
    const f = fakeLink(undefined, () => 0);
    f.link.open();
    refuse(f, 4); // next wait 800 ms, started at the last attempt
    f.sockets.at(-1)!.refuse();
    expect(f.timers.next).toBe(800);
    const before = f.sockets.length;
    f.timers.advance(49);
    f.link.kick();
    expect(f.sockets).toHaveLength(before); // 49 ms since the attempt: too soon
    f.timers.advance(1);
    f.link.kick();
    expect(f.sockets).toHaveLength(before + 1); // 50 ms: a new attempt now
    expect(f.timers.next).toBeUndefined(); // and the 800 ms retry is gone
    f.link.kick(); // an attempt is in flight: nothing more
    expect(f.sockets).toHaveLength(before + 1);
    f.sockets.at(-1)!.refuse();
    expect(f.timers.delays.at(-1)).toBe(1000); // the backoff carries on from where it was
  });

  it('OPENDS while waiting to reconnect tries at once; STOPDS cancels the retry', () => {
    const f = fakeLink(undefined, () => 0);
    f.link.open();
    refuse(f, 2);
    f.sockets.at(-1)!.refuse();
    expect(f.timers.next).toBe(200);
    f.link.open();
    expect(f.sockets).toHaveLength(4);
    expect(f.timers.next).toBeUndefined();
    f.sockets.at(-1)!.refuse();
    f.link.stop();
    expect(f.link.status()).toBe('STOPPED');
    expect(f.timers.next).toBeUndefined();
  });
});

describe('RECONNECT= on DATASTORE (imsplex extension)', () => {
  const cfg = (ds: string) => `HWS (ID=HWS1)\nTCPIP (PORTID=(5801))\nDATASTORE (ID=IMS1,TMEMBER=IMS1${ds})\nDATASTORE (ID=IMS2,TMEMBER=IMS2)\n`;

  it('sets INIT/MAX in ms and JITTER in percent for that datastore; others keep the defaults', () => {
    const { options } = loadHwsCfg(cfg(',RECONNECT=(INIT=20,MAX=500,JITTER=10)'), 'HWSCFG01');
    expect(options.datastores[0]!.reconnect).toEqual({ initialDelay: 20, maxDelay: 500, jitter: 0.1 });
    expect(options.datastores[1]!.reconnect).toEqual({ initialDelay: 50, maxDelay: 1000, jitter: 0.2 });
    expect(loadHwsCfg(cfg(',RECONNECT=(MAX=300)'), 'HWSCFG01').options.datastores[0]!.reconnect).toEqual({ initialDelay: 50, maxDelay: 300, jitter: 0.2 });
  });

  it.each([
    [',RECONNECT=(INIT=20,MAX=10)', 'HWSCFG01:3: RECONNECT MAX: must be an integer from 20 to 3600000, got 10'],
    [',RECONNECT=(JITTER=101)', 'HWSCFG01:3: JITTER: must be from 0 to 100, got 101'],
    [',RECONNECT=(WAIT=1)', 'HWSCFG01:3: WAIT: unknown RECONNECT keyword (INIT, MAX, JITTER)'],
    [',RECONNECT=5', 'HWSCFG01:3: RECONNECT: must be a list (KEY=value,…)'],
  ])('%s → %s', (ds, message) => {
    expect(() => loadHwsCfg(cfg(ds), 'HWSCFG01')).toThrow(message);
  });

  it('the options object: server-wide default, per-datastore override, validated', () => {
    const o = resolveOptions({ id: 'HWS1', ports: [1], reconnect: { maxDelay: 400 }, datastores: [{ id: 'A', tmember: 'A' }, { id: 'B', tmember: 'B', reconnect: { jitter: 0 } }] });
    expect(o.datastores.map((d) => d.reconnect)).toEqual([
      { initialDelay: 50, maxDelay: 400, jitter: 0.2 },
      { initialDelay: 50, maxDelay: 400, jitter: 0 },
    ]);
    expect(() => resolveOptions({ id: 'HWS1', ports: [1], reconnect: { jitter: 2 } })).toThrow('reconnect.jitter: must be a number from 0 to 1, got 2');
  });
});

describe('IMS restart (real engine over the XCF link, injected timers)', () => {
  let ims: ImsSystem | undefined;
  let server: ImsConnectServer | undefined;
  afterEach(async () => {
    await server?.close();
    await ims?.stop();
    server = ims = undefined;
  });

  it('the first attempt after losing an active link is immediate; a request for the restarted IMS brings it back without waiting out the backoff', async () => {
    ims = await ImsSystem.start({ linkPort: 0, linkHost: '127.0.0.1', logger: silent as never });
    const { host, port } = ims.linkAddress;
    const group = ims.config.otma.group;
    const member = ims.config.otma.member;
    const timers = new ManualTimers();
    server = new ImsConnectServer(
      { id: 'HWS1', ports: [{ id: 0 }], timeout: 5000, datastores: [{ id: 'IMS1', group, member: 'HWS1', tmember: member, address: { host, port } }] },
      { logger: silent, timers, now: () => timers.now, random: () => 0 },
    );
    await server.start();
    const link = server.datastoreLinks().get('IMS1')!;
    await vi.waitFor(() => expect(link.status()).toBe('ACTIVE'), { timeout: 5000 });

    await ims.stop();
    ims = undefined;
    await vi.waitFor(() => expect(link.status()).toBe('DISCONNECT'), { timeout: 5000 });
    expect(timers.delays.at(-1)).toBe(0); // a fresh loss: retry now, not after a backoff
    // IMS stays down: the attempts fail and back off (50, 100, 200, 400, 800, then the 1 s cap).
    for (const want of [50, 100, 200, 400, 800, 1000]) {
      const n = timers.delays.length;
      timers.advance(timers.next!);
      await vi.waitFor(() => expect(timers.delays.length).toBeGreaterThan(n), { timeout: 5000 });
      expect(timers.delays.at(-1)).toBe(want);
    }

    ims = await ImsSystem.start({ linkPort: port, linkHost: host, logger: silent as never });
    timers.advance(100); // time passes, well short of the 1 s retry
    const [a, b] = duplexPair();
    server.handleConnection(b, 0);
    const c = new RawClient(a);
    const req = (data: string) => encodeRequest(buildRequest({ datastore: 'IMS1', clientId: 'RECON01', trancode: 'ECHO', data, timer: 3000 }));
    // This request still finds the datastore down (RC 8 reason 74 STP/CLSE) but kicks the link …
    c.send(req('FIRST'));
    const first = decodeReply((await c.next())!, { llll: true });
    expect(first.kind === 'status' && [first.rsm.returnCode, first.rsm.reasonCode]).toEqual([8, 74]);
    // … which reconnects now: no timer is advanced from here on.
    await vi.waitFor(() => expect(link.status()).toBe('ACTIVE'), { timeout: 5000 });
    const [a2, b2] = duplexPair();
    server.handleConnection(b2, 0);
    const c2 = new RawClient(a2);
    c2.send(req('AGAIN'));
    const again = decodeReply((await c2.next())!, { llll: true });
    expect(again.kind === 'data' && again.segments.map((s) => CP037.decode(s)).join('')).toBe('ECHO    AGAIN');
  });
});
