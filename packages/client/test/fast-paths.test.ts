/**
 * The hot path's shortcuts keep the bytes and the behaviour of the general path:
 * - request frames from cached IRM templates (`FrameBuilder`) equal `buildRequest`'s, byte for byte;
 * - per-call interaction overrides are resolved once per profile and still validated every time;
 *   a shared frozen `interaction` object is resolved once by identity and gives the same bytes;
 * - `Deadline` reuses one refreshable timer per connection and fires exactly as a fresh timer would;
 * - `Pool.tryAcquire` hands out idle resources with `acquire`'s rules;
 * - responses keep their shape; the test server bounds what it records.
 */
import { CP037, ReplyFrameReader, segmentsText } from '@imsplex/codec';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient, resolveInteraction, type ImsConnectClient, type InteractionOptions, type ResolvedInteraction, type Timers } from '../src/index.js';
import { Deadline, defaultTimers } from '../src/timers.js';
import { Pool, type PoolResource } from '../src/pool.js';
import { FrameBuilder, buildRequest, buildSegments, type TemplateKind } from '../src/wire.js';
import { createTestImsConnect, type TestImsConnect } from '../src/testing/index.js';
import type { SocketType } from '../src/options.js';
import { ManualTimers, setup, toHex } from './helpers.js';

let ims: TestImsConnect | undefined;
let client: ImsConnectClient | undefined;
afterEach(async () => {
  await client?.destroy();
  await ims?.close();
  ims = undefined;
  client = undefined;
});

const PROFILES: Record<string, InteractionOptions> = {
  defaults: { datastore: 'IMS1' },
  sample0: { datastore: 'IMS1', exitId: '*SAMPLE*' },
  ascii: { datastore: 'IMS1', codePage: 'latin1' },
  cp500: { datastore: 'IMS1', codePage: 'cp500' },
  cp1140: { datastore: 'IMS1', codePage: 'cp1140' },
  cm0: { datastore: 'IMS1', commitMode: 0 },
  confirm: { datastore: 'IMS1', syncLevel: 'confirm', interactionTimeout: 10_000 },
  timers: { datastore: 'IMS1', interactionTimeout: 'nowait' },
  forever: { datastore: 'IMS1', interactionTimeout: 'forever' },
  racf: { datastore: 'IMS2', racfUserId: 'user01', racfGroupName: 'grp', racfPassword: 'Secret1', ltermOverrideName: 'LTERM1' },
  arch1: { datastore: 'IMS1', racfApplName: 'APPL1', rerouteName: 'RR01', commitMode: 0 },
  arch3: { datastore: 'IMS1', mfsModname: 'MOD1', returnMfsModname: true, returnClientId: true },
  purge: { datastore: 'IMS1', commitMode: 0, purgeUndeliverableOutput: true, cancelClientId: true },
  arch2: { datastore: 'IMS1', irmArchitecture: 2 },
};
const KINDS: TemplateKind[] = ['send-receive', 'send-only', 'send-only-ordered', 'send-only-ack', 'send-only-errors'];
const SOCKETS: SocketType[] = ['persistent', 'transaction', 'non-persistent'];
const PAYLOADS: Array<[string, string | Uint8Array]> = [
  ['text', 'DISPLAY LAST1'],
  ['empty text', ''],
  ['bytes', Uint8Array.of(0xc1, 0x00, 0xff, 0x40)],
  ['unmappable text', 'PRICE 5 € ✓'],
  ['one full segment', 'X'.repeat(32_763 - 8)],
  ['split text', 'Y'.repeat(40_000)],
];

/** The general path: `buildRequest` with the segments `buildSegments` makes. */
function reference(kind: TemplateKind, io: ResolvedInteraction, trancode: string, clientId: string, socketType: SocketType, segments: readonly Uint8Array[]): Uint8Array {
  return buildRequest({ kind, io, trancode, segments, clientId, socketType });
}

/** Byte equality, shown as hex only when it fails (frames go up to 40 KB). */
function expectSame(got: Uint8Array, want: Uint8Array, label: string): void {
  if (Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength))) return;
  expect(toHex(got), label).toBe(toHex(want));
}

describe('FrameBuilder: cached IRM templates are byte-identical to buildRequest', () => {
  for (const [name, options] of Object.entries(PROFILES)) {
    it(`profile ${name}: every kind, socket type and payload`, () => {
      const io = resolveInteraction(options);
      for (const socketType of SOCKETS) {
        const builder = new FrameBuilder('CLIENT01', socketType);
        for (const kind of KINDS) {
          for (const trancode of ['IVTNO', 'ABCDEFGH']) {
            for (const [label, data] of PAYLOADS) {
              const segments = buildSegments(trancode, data, io.codePage, false);
              const want = reference(kind, io, trancode, 'CLIENT01', socketType, segments);
              // twice each: the first builds the template, the second uses the cached one
              for (let i = 0; i < 2; i++) {
                expectSame(builder.frame(kind, io, trancode, { data }), want, `${kind} ${socketType} ${trancode} ${label} (data)`);
                expectSame(builder.frame(kind, io, trancode, { segments }), want, `${kind} ${socketType} ${trancode} ${label} (segments)`);
              }
            }
          }
        }
      }
    });
  }

  it('segments given as-is (data with its own trancode, several parts) match too', () => {
    const io = resolveInteraction({ datastore: 'IMS1' });
    const builder = new FrameBuilder('C1', 'persistent');
    for (const segments of [[], buildSegments('IVTNO', ['IVTNO    DATA', Uint8Array.of(1, 2, 3), 'MORE'], io.codePage, true)]) {
      expect(toHex(builder.frame('send-receive', io, 'IVTNO', { segments }))).toBe(toHex(reference('send-receive', io, 'IVTNO', 'C1', 'persistent', segments)));
    }
  });

  it('stays correct past its bound (templates are dropped, not wrong)', () => {
    const io = resolveInteraction({ datastore: 'IMS1' });
    const builder = new FrameBuilder('C1', 'persistent');
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 300; i++) {
        const trancode = `T${i}`;
        const want = reference('send-receive', io, trancode, 'C1', 'persistent', buildSegments(trancode, 'D', io.codePage, false));
        expect(toHex(builder.frame('send-receive', io, trancode, { data: 'D' }))).toBe(toHex(want));
      }
    }
  });

  it('an interaction object that is not frozen is never cached (it could change between calls)', () => {
    const io = { ...resolveInteraction({ datastore: 'IMS1' }) } as { -readonly [K in keyof ResolvedInteraction]: ResolvedInteraction[K] };
    const builder = new FrameBuilder('C1', 'persistent');
    const first = builder.frame('send-receive', io, 'IVTNO', { data: 'X' });
    io.racfUserId = 'OTHER';
    const second = builder.frame('send-receive', io, 'IVTNO', { data: 'X' });
    expect(toHex(second)).not.toBe(toHex(first));
    expect(toHex(second)).toBe(toHex(reference('send-receive', io, 'IVTNO', 'C1', 'persistent', buildSegments('IVTNO', 'X', io.codePage, false))));
  });

  it('reports bad segments with IMS_ERR_INVALID_ARGUMENT, as buildRequest does', () => {
    const io = resolveInteraction({ datastore: 'IMS1' });
    const builder = new FrameBuilder('C1', 'persistent');
    expect(() => builder.frame('send-receive', io, 'IVTNO', { segments: [new Uint8Array(0)] })).toThrow(expect.objectContaining({ code: 'IMS_ERR_INVALID_ARGUMENT' }));
    expect(() => buildRequest({ kind: 'send-receive', io, trancode: 'IVTNO', segments: [new Uint8Array(0)], clientId: 'C1', socketType: 'persistent' })).toThrow(
      expect.objectContaining({ code: 'IMS_ERR_INVALID_ARGUMENT' }),
    );
  });
});

describe('client requests on the wire', () => {
  it('every send-receive frame equals the general path, with defaults and with per-call profiles', async () => {
    ({ ims, client } = setup({ handlers: { IVTNO: (tx) => tx.text } }, { clientId: 'WIRE0001', maxConnections: 1 }));
    const calls: Array<{ io: InteractionOptions; data: string }> = [
      { io: {}, data: 'A' },
      { io: { racfUserId: 'U1', interactionTimeout: 5000 }, data: 'B' },
      { io: {}, data: 'C' },
      { io: { racfUserId: 'U1', interactionTimeout: 5000 }, data: 'D' },
      { io: { racfUserId: 'U2', interactionTimeout: 5000 }, data: 'E' },
    ];
    for (const c of calls) {
      const r = await client.sendReceive({ trancode: 'ivtno', data: c.data, ...c.io });
      expect(r.text).toBe(c.data);
    }
    expect(ims.frames).toHaveLength(calls.length);
    calls.forEach((c, i) => {
      const io = resolveInteraction({ datastore: 'IMS1' }, c.io);
      const want = reference('send-receive', io, 'IVTNO', 'WIRE0001', 'persistent', buildSegments('IVTNO', c.data, io.codePage, false));
      expect(toHex(ims!.frames[i]!)).toBe(toHex(want));
    });
  });

  it('a shared interaction object gives the bytes of the same options given inline; call fields override it', async () => {
    ({ ims, client } = setup({ handlers: { IVTNO: (tx) => tx.text } }, { clientId: 'SHARED01', maxConnections: 1 }));
    const profile = Object.freeze({ racfUserId: 'U1', interactionTimeout: 5000, ltermOverrideName: 'LTERM1' } satisfies InteractionOptions);
    const unfrozen: InteractionOptions = { racfUserId: 'U3', ltermOverrideName: 'LT3' };
    const calls: Array<{ inline: InteractionOptions; shared: Parameters<ImsConnectClient['sendReceive']>[0] }> = [
      { inline: { racfUserId: 'U1', interactionTimeout: 5000, ltermOverrideName: 'LTERM1' }, shared: { trancode: 'IVTNO', data: 'A', interaction: profile } },
      { inline: { racfUserId: 'U1', interactionTimeout: 5000, ltermOverrideName: 'LTERM1' }, shared: { trancode: 'IVTNO', data: 'B', interaction: profile } },
      { inline: { racfUserId: 'U2', interactionTimeout: 5000, ltermOverrideName: 'LTERM1' }, shared: { trancode: 'IVTNO', data: 'C', interaction: profile, racfUserId: 'U2' } },
      { inline: { racfUserId: 'U3', ltermOverrideName: 'LT3' }, shared: { trancode: 'IVTNO', data: 'D', interaction: unfrozen } },
    ];
    for (const c of calls) await client.sendReceive(c.shared);
    for (const c of calls) await client.sendReceive({ trancode: 'IVTNO', data: (c.shared.data as string) + '2', ...c.inline });
    expect(ims.frames).toHaveLength(calls.length * 2);
    calls.forEach((c, i) => {
      const io = resolveInteraction({ datastore: 'IMS1' }, c.inline);
      const want = reference('send-receive', io, 'IVTNO', 'SHARED01', 'persistent', buildSegments('IVTNO', c.shared.data as string, io.codePage, false));
      expect(toHex(ims!.frames[i]!)).toBe(toHex(want));
      const want2 = reference('send-receive', io, 'IVTNO', 'SHARED01', 'persistent', buildSegments('IVTNO', `${c.shared.data as string}2`, io.codePage, false));
      expect(toHex(ims!.frames[calls.length + i]!)).toBe(toHex(want2));
    });
    // A bad shared profile is refused every time, frozen or not, and nothing is written.
    const bad = Object.freeze({ datastore: 'BAD-NAME!' });
    for (let i = 0; i < 2; i++) {
      await expect(client.sendReceive({ trancode: 'IVTNO', interaction: bad })).rejects.toMatchObject({ code: 'IMS_ERR_INVALID_ARGUMENT' });
      await expect(client.sendReceive({ trancode: 'IVTNO', interaction: { commitMode: 0, syncLevel: 'none' } })).rejects.toMatchObject({ code: 'IMS_ERR_INVALID_ARGUMENT' });
      await expect(client.sendReceive({ trancode: 'IVTNO', interaction: null as never })).rejects.toMatchObject({ code: 'IMS_ERR_INVALID_ARGUMENT' });
    }
    expect(ims.frames).toHaveLength(calls.length * 2);
  });

  it('per-call overrides are validated on every call (a bad profile is never cached)', async () => {
    ({ ims, client } = setup({ handlers: { IVTNO: () => 'ok' } }, { maxConnections: 1 }));
    for (let i = 0; i < 3; i++) {
      await expect(client.sendReceive({ trancode: 'IVTNO', datastore: 'BAD-NAME!' })).rejects.toMatchObject({ code: 'IMS_ERR_INVALID_ARGUMENT' });
      await expect(client.sendReceive({ trancode: 'IVTNO', commitMode: 0, syncLevel: 'none' })).rejects.toMatchObject({ code: 'IMS_ERR_INVALID_ARGUMENT' });
      await expect(client.sendReceive({ trancode: 'BAD TRAN' })).rejects.toMatchObject({ code: 'IMS_ERR_INVALID_ARGUMENT' });
    }
    expect(ims.frames).toHaveLength(0);
  });

  it('many distinct profiles (past the cache bound) each give their own bytes', async () => {
    ({ ims, client } = setup({ handlers: { IVTNO: () => 'ok' } }, { clientId: 'MANY0001', maxConnections: 1 }));
    const ids = Array.from({ length: 80 }, (_, i) => `U${i}`);
    for (const id of [...ids, ...ids.slice(0, 5)]) await client.sendReceive({ trancode: 'IVTNO', data: 'X', racfUserId: id });
    const users = ims.requests.map((r) => (r.irm.user?.kind === 'sample' ? r.irm.user.racfUserId : '?'));
    expect(users).toEqual([...ids, ...ids.slice(0, 5)]);
  });

  it('a send-receive response keeps its shape: frozen, same fields in the same order', async () => {
    ({ ims, client } = setup({ handlers: { IVTNO: (tx) => [`A${tx.text}`, 'B'] } }, { maxConnections: 1 }));
    const r = await client.sendReceive({ trancode: 'IVTNO', data: 'X' });
    expect(Object.isFrozen(r)).toBe(true);
    expect(Object.keys(r)).toEqual([
      'segments', 'flags', 'ackRequired', 'conversational', 'asyncOutputAvailable', 'protocolLevel', 'modname', 'generatedClientId',
      'clientId', 'text', 'endpoint', 'acknowledged', 'committed', 'additionalOutput', 'conversation',
    ]);
    expect(r.text).toBe('AXB');
    expect(r.segments.map((s) => [...s])).toEqual([[0xc1, 0xe7], [0xc2]]);
    expect(r.additionalOutput).toEqual([]);
    expect(Object.isFrozen(r.additionalOutput)).toBe(true);
    expect(r).toMatchObject({ ackRequired: false, conversational: false, acknowledged: undefined, committed: undefined, conversation: undefined, endpoint: 'imsconnect:0' });
  });

  it('creates no timer per request: the response timeout is refreshed, whole replies arm no idle timer', async () => {
    let created = 0;
    const counting: Timers = {
      setTimeout: (fn, ms) => {
        created++;
        return defaultTimers.setTimeout(fn, ms);
      },
      clearTimeout: (h) => defaultTimers.clearTimeout(h),
    };
    ({ ims, client } = setup({ handlers: { IVTNO: (tx) => tx.text } }, { maxConnections: 1, timers: counting, maxIdleTime: 0 }));
    await client.sendReceive({ trancode: 'IVTNO', data: 'warm-up' });
    const before = created;
    for (let i = 0; i < 50; i++) await client.sendReceive({ trancode: 'IVTNO', data: `#${i}` });
    expect(created - before).toBe(0);
  });
});

describe('Deadline', () => {
  it('with refreshable timers (vitest fake timers): one timer, fires ms after the latest arm, never after clear', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      let fired = 0;
      const d = new Deadline(defaultTimers, () => fired++);
      d.arm(100);
      vi.advanceTimersByTime(60);
      d.clear();
      vi.advanceTimersByTime(100);
      expect(fired).toBe(0);
      d.arm(100);
      vi.advanceTimersByTime(99);
      expect(fired).toBe(0);
      d.refresh();
      vi.advanceTimersByTime(99);
      expect(fired).toBe(0);
      vi.advanceTimersByTime(1);
      expect(fired).toBe(1);
      expect(d.armed).toBe(false);
      // re-arming after expiry works, with another delay too
      d.arm(100);
      vi.advanceTimersByTime(100);
      expect(fired).toBe(2);
      d.arm(30);
      vi.advanceTimersByTime(30);
      expect(fired).toBe(3);
      d.arm(50);
      d.dispose();
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(1000);
      expect(fired).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it('fake timers installed after the first arm take over (the real timer is not refreshed)', () => {
    let fired = 0;
    const d = new Deadline(defaultTimers, () => fired++);
    d.arm(100);
    d.clear();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      d.arm(100);
      vi.advanceTimersByTime(100);
      expect(fired).toBe(1);
    } finally {
      vi.useRealTimers();
      d.dispose();
    }
  });

  it('with plain timers (no refresh): a timer per arm, cancelled by clear', () => {
    const t = new ManualTimers();
    let fired = 0;
    const d = new Deadline(t.timers, () => fired++);
    d.arm(100);
    expect(t.pending).toBe(1);
    d.clear();
    expect(t.pending).toBe(0);
    d.arm(100);
    t.advance(50);
    d.refresh();
    expect(t.pending).toBe(1);
    t.advance(99);
    expect(fired).toBe(0);
    t.advance(1);
    expect(fired).toBe(1);
    expect(t.pending).toBe(0);
    d.arm(0); // 0 = never
    expect(t.pending).toBe(0);
    expect(d.armed).toBe(false);
  });
});

describe('Pool.tryAcquire', () => {
  class R implements PoolResource {
    closed = false;
    close(): Promise<void> {
      this.closed = true;
      return Promise.resolve();
    }
    destroy(): void {
      this.closed = true;
    }
  }
  const settings = (over: Partial<ConstructorParameters<typeof Pool<R>>[0]> = {}) => {
    const t = new ManualTimers();
    return {
      minSize: 0,
      maxSize: 2,
      maxWaiters: 10,
      acquireTimeout: 0,
      maxIdleTime: 0,
      checkIdleAfter: -1,
      healthCheckInterval: 0,
      timers: t.timers,
      clock: t.clock,
      create: () => Promise.resolve(new R()),
      ...over,
    };
  };

  it('hands out the most recently released idle resource, with acquire’s bookkeeping', async () => {
    const pool = new Pool<R>(settings());
    expect(pool.tryAcquire()).toBeUndefined();
    const a = await pool.acquire();
    const b = await pool.acquire();
    pool.release(a);
    pool.release(b);
    expect(pool.tryAcquire()).toBe(b);
    expect(pool.tryAcquire()).toBe(a);
    expect(pool.tryAcquire()).toBeUndefined();
    expect(pool.stats()).toMatchObject({ busy: 2, idle: 0, acquired: 4 });
    await pool.destroy();
  });

  it('skips closed idle resources and defers to acquire when a check is due, callers wait, or the pool is closed', async () => {
    const pool = new Pool<R>(settings());
    const a = await pool.acquire();
    const b = await pool.acquire();
    pool.release(a);
    pool.release(b);
    b.closed = true;
    expect(pool.tryAcquire()).toBe(a);
    expect(pool.stats()).toMatchObject({ idle: 0, destroyed: 1 });
    const waiting = pool.acquire(); // maxSize reached (a busy, creating one more): a waiter or a new one
    const c = await waiting;
    pool.release(c);
    const checked = new Pool<R>(settings({ checkIdleAfter: 0, check: () => Promise.resolve() }));
    const d = await checked.acquire();
    checked.release(d);
    expect(checked.tryAcquire()).toBeUndefined(); // a check is due: acquire runs it
    expect(await checked.acquire()).toBe(d);
    checked.release(d);
    await checked.close();
    expect(checked.tryAcquire()).toBeUndefined();
    await pool.destroy();
  });
});

describe('test IMS Connect', () => {
  it('answers requests that arrive together in order, an asynchronous handler included', async () => {
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    ims = createTestImsConnect({ handlers: { SLOW: async () => (await slow, 'slow'), FAST: () => 'fast' } });
    const io = resolveInteraction({ datastore: 'IMS1' });
    const frame = (trancode: string) => buildRequest({ kind: 'send-receive', io, trancode, segments: buildSegments(trancode, '', io.codePage, false), clientId: 'PIPE0001', socketType: 'persistent' });
    const raw = await ims.connector({ host: 'test', port: 0 }, new AbortController().signal);
    const reader = new ReplyFrameReader({ llll: true });
    const texts: string[] = [];
    raw.on('data', (chunk: Uint8Array) => {
      reader.write(chunk);
      for (let r = reader.readReply(); r !== undefined; r = reader.readReply()) texts.push(r.kind === 'data' ? segmentsText(r.segments, CP037) : `RSM ${r.rsm.returnCode}`);
    });
    raw.write(Buffer.concat([frame('SLOW'), frame('FAST'), frame('FAST')]));
    await new Promise((r) => setImmediate(r));
    expect(texts).toEqual([]); // FAST waits behind SLOW
    release();
    for (let i = 0; i < 50 && texts.length < 3; i++) await new Promise((r) => setImmediate(r));
    expect(texts).toEqual(['slow', 'fast', 'fast']);
    raw.destroy();
  });

  it('keeps only the last maxRecorded requests and frames', async () => {
    ims = createTestImsConnect({ handlers: { IVTNO: (tx) => tx.text }, maxRecorded: 3 });
    client = createClient({ connector: ims.connector, datastore: 'IMS1', maxConnections: 1 });
    for (let i = 0; i < 7; i++) await client.sendReceive({ trancode: 'IVTNO', data: `M${i}` });
    expect(ims.frames).toHaveLength(3);
    expect(ims.requests.map((r) => segmentsText(r.segments, CP037, { skipTrancode: true }))).toEqual(['M4', 'M5', 'M6']);
    expect(ims.stats().requests).toBe(7);
    expect(() => createTestImsConnect({ maxRecorded: 0 })).toThrow(expect.objectContaining({ code: 'IMS_ERR_INVALID_ARGUMENT' }));
  });
});
