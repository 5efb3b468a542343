/**
 * The Redis shared-queue store against a real redis-server: mirrors, exclusive claims, fenced commits
 * after recovery, idempotent retries, front-end ownership of direct output, local CM1 input, resync.
 * Stores run on a ManualClock, so heartbeats happen only when a test calls `heartbeat()`; a member's
 * death is simulated by deleting its lease key (what its expiry does).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isImsplexError } from '@imsplex/codec';
import { AbendError } from '../src/program.js';
import { ManualClock } from '../src/clock.js';
import type { InputMessage, OutputMessage } from '../src/messages.js';
import { RedisQueueStore, SharedQueueError, decodeSharedInput, decodeSharedOutput, encodeSharedInput, encodeSharedOutput, parseRedisUrl } from '../src/queues/redis.js';
import { dec, enc, origin } from './fixtures.js';
import { redisMissing, startRedis, type TestRedis, until } from './redis-harness.js';

const EMPTY: ReadonlySet<string> = new Set();
let redis: TestRedis;
const stores: RedisQueueStore[] = [];
const clocks = new Map<RedisQueueStore, ManualClock>();
const logs = new Map<RedisQueueStore, string[]>();
let groupSeq = 0;

function input(id: string, over: Partial<InputMessage> = {}): InputMessage {
  return {
    id,
    tran: 'ECHO',
    segments: [enc(`ECHO    ${id}`), enc('SECOND')],
    origin: origin({ commitMode: 0, syncLevel: 1, context: new Uint8Array([1, 2, 3, 0xff]) }),
    enqueuedAt: 1_700_000_000_000,
    recoverable: true,
    conversationId: undefined,
    ...over,
  };
}

function output(id: string, over: Partial<OutputMessage> = {}): OutputMessage {
  return { id, segments: [enc(`OUT ${id}`)], tran: 'ECHO', enqueuedAt: 1, direct: true, rerouted: false, member: 'HWS1', context: undefined, rerouteTpipe: undefined, purgeUndeliverable: false, ...over };
}

/** Two members (IMS1, IMS2) of a fresh group. */
async function pair(): Promise<[RedisQueueStore, RedisQueueStore, string]> {
  const group = `T${++groupSeq}`;
  const a = await member(group, 'IMS1');
  const b = await member(group, 'IMS2');
  return [a, b, group];
}

async function member(group: string, imsId: string): Promise<RedisQueueStore> {
  const clock = new ManualClock();
  const lines: string[] = [];
  const log = (_o: object, msg?: string) => void lines.push(msg ?? '');
  const s = new RedisQueueStore({ url: redis.url, group, imsId, leaseMs: 60_000, clock, logger: { info: log, warn: log, error: log, debug: log } });
  stores.push(s);
  clocks.set(s, clock);
  logs.set(s, lines);
  await s.open();
  return s;
}

/** Wait until `b` has applied everything `a` has (both mirrors at the same group sequence). */
async function synced(...s: RedisQueueStore[]): Promise<void> {
  const seq = Number((await redis.client.get(`${s[0]!.keyPrefix}seq`)) ?? 0);
  await until('mirrors to catch up', () => s.every((x) => x.appliedSequence >= seq));
}

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(isImsplexError(e)).toBe(true);
  expect((e as SharedQueueError).code).toBe(code);
}

describe.skipIf(redisMissing !== undefined)('RedisQueueStore', () => {
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('shares queued input: every member mirrors it in order, with its bytes and origin', async () => {
    const [a, b] = await pair();
    const seen: string[] = [];
    b.onInput((t) => seen.push(t));
    await a.apply([{ op: 'in+', msg: input('M1') }, { op: 'in+', msg: input('M2') }], true);
    await a.apply([{ op: 'in+', msg: input('M3') }], true);
    // read-your-writes on the member that wrote
    expect(a.inputDepth('ECHO')).toBe(3);
    await synced(a, b);
    expect(b.inputDepth('ECHO')).toBe(3);
    expect(b.totalInputDepth()).toBe(3);
    expect(seen).toContain('ECHO');
    const list = b.listInput('ECHO');
    expect(list.map((m) => m.id)).toEqual(['M1', 'M2', 'M3']);
    expect(list[0]!.segments.map(dec)).toEqual(['ECHO    M1', 'SECOND']);
    expect(list[0]!.origin).toEqual({ ...input('M1').origin, replyId: undefined });
    expect([...(list[0]!.origin.kind === 'otma' ? list[0]!.origin.context! : [])]).toEqual([1, 2, 3, 0xff]);
  });

  it('hands each message to exactly one member, oldest first', async () => {
    const [a, b] = await pair();
    for (let i = 1; i <= 6; i++) await a.apply([{ op: 'in+', msg: input(`M${i}`) }], true);
    const got = await Promise.all([a, b, a, b, a, b, a, b].map((s) => s.claimInput('ECHO')));
    const ids = got.filter((m) => m !== undefined).map((m) => m.id);
    expect(ids.sort()).toEqual(['M1', 'M2', 'M3', 'M4', 'M5', 'M6']);
    expect(got.filter((m) => m === undefined)).toHaveLength(2);
    await synced(a, b);
    expect(a.inputDepth('ECHO')).toBe(0);
    expect(b.inputDepth('ECHO')).toBe(0);
    const inflight = await Promise.all([a, b].map((s) => redis.client.hlen(`${s.keyPrefix}f:${s.memberId}`)));
    expect(inflight[0]! + inflight[1]!).toBe(6);
  });

  it('commits atomically: input gone, output and database visible to every member', async () => {
    const [a, b] = await pair();
    await a.apply([{ op: 'in+', msg: input('M1') }], true);
    const m = (await b.claimInput('ECHO'))!;
    expect(m.id).toBe('M1');
    await b.apply(
      [
        { op: 'in-', tran: 'ECHO', id: 'M1' },
        { op: 'out+', key: 'HWS1/TP1', msg: output('O1') },
        { op: 'db', db: 'IVPDB1', key: 'LAST9', value: enc('FIRST9') },
        { op: 'db', db: 'IVPDB1', key: 'LAST0', value: enc('FIRST0') },
      ],
      true,
    );
    await synced(a, b);
    for (const s of [a, b]) {
      expect(s.outputDepth('HWS1/TP1')).toBe(1);
      expect(s.outputKeys()).toEqual(['HWS1/TP1']);
      expect(dec(s.listOutput('HWS1/TP1')[0]!.segments[0])).toBe('OUT O1');
      expect(dec(await s.dbGet('IVPDB1', 'LAST9'))).toBe('FIRST9');
      expect(await s.dbKeys('IVPDB1')).toEqual(['LAST0', 'LAST9']);
    }
    expect(await redis.client.hlen(`${a.keyPrefix}m`)).toBe(0);
    expect(await redis.client.hlen(`${b.keyPrefix}f:${b.memberId}`)).toBe(0);
    await a.apply([{ op: 'db', db: 'IVPDB1', key: 'LAST9', value: null }, { op: 'out-', key: 'HWS1/TP1', id: 'O1' }], true);
    await synced(a, b);
    expect(await b.dbGet('IVPDB1', 'LAST9')).toBeUndefined();
    expect(b.outputKeys()).toEqual([]);
    expect(await redis.client.scard(`${a.keyPrefix}ok`)).toBe(0);
  });

  it('sends direct output only from the front end; a RESUME TPIPE anywhere gets it; held output is not direct', async () => {
    const [a, b] = await pair();
    // Input entered through IMS1 (a), processed by IMS2 (b): its reply and its program switch belong to IMS1.
    await a.apply([{ op: 'in+', msg: input('M1') }], true);
    const m = (await b.claimInput('ECHO'))!;
    const sw = input('SW1', { tran: 'SWITCHB' });
    await b.apply([{ op: 'in-', tran: 'ECHO', id: m.id }, { op: 'out+', key: 'HWS1/TP1', msg: output('O1') }, { op: 'in+', msg: sw }], true);
    await synced(a, b);
    expect(a.peekOutput('HWS1/TP1', EMPTY, true)?.id).toBe('O1');
    expect(b.peekOutput('HWS1/TP1', EMPTY, true)).toBeUndefined();
    expect(b.peekOutput('HWS1/TP1', EMPTY, false)?.id).toBe('O1');
    expect(a.peekOutput('HWS1/TP1', new Set(['O1']), false)).toBeUndefined();
    const sw2 = (await b.claimInput('SWITCHB'))!;
    await b.apply([{ op: 'in-', tran: 'SWITCHB', id: sw2.id }, { op: 'out+', key: 'HWS1/TP1', msg: output('O2') }], true);
    await synced(a, b);
    expect(b.peekOutput('HWS1/TP1', new Set(['O1']), true)).toBeUndefined();
    expect(a.peekOutput('HWS1/TP1', new Set(['O1']), true)?.id).toBe('O2');
    // NAKed: held, no longer direct, on every member
    await a.apply([{ op: 'outh', key: 'HWS1/TP1', id: 'O1' }], true);
    await synced(a, b);
    for (const s of [a, b]) expect(s.listOutput('HWS1/TP1').map((o) => [o.id, o.direct])).toEqual([
      ['O1', false],
      ['O2', true],
    ]);
    // a member joining later sees the same (snapshot)
    const c = await member(a.group, 'IMS3');
    expect(c.listOutput('HWS1/TP1').map((o) => [o.id, o.direct])).toEqual([
      ['O1', false],
      ['O2', true],
    ]);
  });

  it('recovers a dead member’s in-flight messages; its late commit is fenced; the message is applied once', async () => {
    const [a, b] = await pair();
    await a.apply([{ op: 'in+', msg: input('M1') }, { op: 'in+', msg: input('M2') }], true);
    const m1 = (await a.claimInput('ECHO'))!;
    expect(m1.id).toBe('M1');
    await redis.client.del(`${a.keyPrefix}l:${a.memberId}`); // a's lease expires
    expect(await b.heartbeat()).toBe(1);
    await synced(a, b);
    expect(b.listInput('ECHO').map((m) => m.id)).toEqual(['M1', 'M2']); // back at the head
    expect(await redis.client.sismember(`${a.keyPrefix}mem`, a.memberId)).toBe(0);
    const again = (await b.claimInput('ECHO'))!;
    expect(again.id).toBe('M1');
    // a finishes its unit of work too late: nothing of it is applied
    const late = await a.apply([{ op: 'in-', tran: 'ECHO', id: 'M1' }, { op: 'out+', key: 'HWS1/TP1', msg: output('LATE') }], true).catch((e: unknown) => e);
    expect((late as SharedQueueError).code).toBe('IMS_ERR_SQ_FENCED');
    // for the engine it is a pseudo-abend (backed out, not counted towards stopping the transaction)
    expect(late).toBeInstanceOf(AbendError);
    expect(late).toMatchObject({ abendCode: 'U0777', pseudo: true });
    // and the backout that follows is refused too (no DFS555I for a message someone else owns)
    await expectCode(a.apply([{ op: 'in-', tran: 'ECHO', id: 'M1' }, { op: 'out+', key: 'HWS1/TP1', msg: output('DFS555I') }], true), 'IMS_ERR_SQ_FENCED');
    await b.apply([{ op: 'in-', tran: 'ECHO', id: 'M1' }, { op: 'out+', key: 'HWS1/TP1', msg: output('ONCE') }], true);
    await synced(a, b);
    expect(a.listOutput('HWS1/TP1').map((o) => o.id)).toEqual(['ONCE']);
    // a claims again: its lease is renewed on the way
    const m2 = (await a.claimInput('ECHO'))!;
    expect(m2.id).toBe('M2');
    expect(await redis.client.exists(`${a.keyPrefix}l:${a.memberId}`)).toBe(1);
  });

  it('lets the holder commit a recovered message nobody has claimed again', async () => {
    const [a, b] = await pair();
    await a.apply([{ op: 'in+', msg: input('M1') }], true);
    await a.claimInput('ECHO');
    await redis.client.del(`${a.keyPrefix}l:${a.memberId}`);
    await b.heartbeat();
    await synced(a, b);
    expect(b.inputDepth('ECHO')).toBe(1);
    await a.apply([{ op: 'in-', tran: 'ECHO', id: 'M1' }], true);
    await synced(a, b);
    expect(b.inputDepth('ECHO')).toBe(0);
    expect(await b.claimInput('ECHO')).toBeUndefined();
  });

  it('gives its in-flight messages back when it closes', async () => {
    const [a, b] = await pair();
    await a.apply([{ op: 'in+', msg: input('M1', { enqueuedAt: 5 }) }, { op: 'in+', msg: input('M2', { enqueuedAt: 6 }) }, { op: 'in+', msg: input('M3', { enqueuedAt: 7 }) }], true);
    await a.claimInput('ECHO');
    await a.claimInput('ECHO');
    await a.close();
    await synced(b);
    expect(b.listInput('ECHO').map((m) => m.id)).toEqual(['M1', 'M2', 'M3']);
    expect(await redis.client.exists(`${b.keyPrefix}l:${a.memberId}`)).toBe(0);
  });

  it('ignores a resent batch and returns the same message to a resent claim', async () => {
    const [a] = await pair();
    const script = (a as unknown as { script(name: string, ...args: Array<string | number>): Promise<unknown> }).script.bind(a);
    expect(await script('sqApply', a.memberId, 900, 900, '', 1, 'db', 'D', 'K', 'first', 's')).toEqual([0, 0]);
    const dup = (await script('sqApply', a.memberId, 900, 900, '', 1, 'db', 'D', 'K', 'second', 's')) as number[];
    expect(dup[0]).toBe(1);
    expect(Buffer.from((await a.dbGet('D', 'K'))!).toString('latin1')).toBe('first');
    // batches below the floor are forgotten
    await script('sqApply', a.memberId, 905, 905, '', 1, 'db', 'D', 'K2', 'x', 's');
    expect(await redis.client.zrange(`${a.keyPrefix}d:${a.memberId}`, 0, -1)).toEqual(['905']);

    await a.apply([{ op: 'in+', msg: input('M1') }, { op: 'in+', msg: input('M2') }], true);
    const claim = (a as unknown as { claimShared(t: string, token: string): Promise<InputMessage | undefined> }).claimShared.bind(a);
    const first = await claim('ECHO', 'TOKEN1');
    const again = await claim('ECHO', 'TOKEN1');
    expect(first?.id).toBe('M1');
    expect(again?.id).toBe('M1');
    expect(await redis.client.lrange(`${a.keyPrefix}q:ECHO`, 0, -1)).toEqual(['M2']);
    // a message id is queued once only
    await expectCode(a.apply([{ op: 'in+', msg: input('M2') }], true), 'IMS_ERR_SQ_DUPLICATE');
  });

  it('keeps send-then-commit input and command status local to the IMS system', async () => {
    const [a, b] = await pair();
    const cm1 = input('C1', { recoverable: false, origin: origin({ commitMode: 1, replyId: 7 }) });
    await a.apply([{ op: 'in+', msg: cm1 }], false);
    await a.apply([{ op: 'in+', msg: input('S1') }, { op: 'tst', tran: 'ECHO', stopped: true, ustopped: false }], true);
    await synced(a, b);
    expect(a.inputDepth('ECHO')).toBe(2);
    expect(b.inputDepth('ECHO')).toBe(1);
    expect(a.tranStatus('ECHO')).toEqual({ stopped: true, ustopped: false });
    expect(b.tranStatus('ECHO')).toBeUndefined();
    // local input first; it keeps its in-memory reply handle
    const c = (await a.claimInput('ECHO'))!;
    expect(c.id).toBe('C1');
    expect(c.origin.kind === 'otma' && c.origin.replyId).toBe(7);
    a.dropInFlight(c);
    expect((await b.claimInput('ECHO'))?.id).toBe('S1');
    // a new incarnation of IMS1 finds its command status
    const a2 = await member(a.group, 'IMS1');
    expect(a2.tranStatus('ECHO')).toEqual({ stopped: true, ustopped: false });
    const members = await a2.members();
    expect(members.map((m) => m.imsId).sort()).toEqual(['IMS1', 'IMS1', 'IMS2']);
  });

  it('reloads its mirror after losing the subscriber connection', async () => {
    const [a, b] = await pair();
    await a.apply([{ op: 'in+', msg: input('M1') }], true);
    await synced(a, b);
    await redis.client.client('KILL', 'TYPE', 'pubsub');
    // changes made while the subscribers reconnect are not lost
    await redis.client.hset(`${a.keyPrefix}x`, 'y', 'z'); // unrelated write
    const other = await member(a.group, 'IMS3');
    await other.apply([{ op: 'in+', msg: input('M2') }, { op: 'out+', key: 'HWS1/TP1', msg: output('O1', { direct: false }) }], true);
    await until('mirrors to reload', () => b.inputDepth('ECHO') === 2 && a.outputDepth('HWS1/TP1') === 1);
    expect(b.listInput('ECHO').map((m) => m.id)).toEqual(['M1', 'M2']);
  });

  it('reloads its mirror when an event is lost (a gap that outlasts the gap timeout)', async () => {
    const [a, b] = await pair();
    await a.apply([{ op: 'in+', msg: input('M1') }], true);
    await synced(a, b);
    expect(logs.get(b)!.filter((l) => l.includes('reloading'))).toEqual([]); // in-order delivery needs no reload
    await redis.client.incr(`${a.keyPrefix}seq`); // an event nobody will ever see
    const applying = b.apply([{ op: 'in+', msg: input('M2') }], true);
    const early = (s: RedisQueueStore) => (s as unknown as { early: Map<number, string> }).early.size > 0;
    await until('both members to hold the event that came too early', () => early(a) && early(b));
    expect(b.inputDepth('ECHO')).toBe(1); // not applied past the gap
    clocks.get(a)!.advance(250);
    clocks.get(b)!.advance(250);
    await applying;
    await synced(a, b);
    for (const s of [a, b]) {
      expect(s.listInput('ECHO').map((m) => m.id)).toEqual(['M1', 'M2']);
      expect(logs.get(s)!.some((l) => l.includes('reloading'))).toBe(true);
    }
  });

  it('notices at its heartbeat that it missed the last event of a quiet group', async () => {
    const [, b] = await pair();
    const seq = await redis.client.incr(`${b.keyPrefix}seq`); // lost, and nothing follows it
    await b.heartbeat();
    expect(b.appliedSequence).toBe(seq - 1);
    await b.heartbeat(); // still behind what the previous beat saw: reload
    await until('the reload', () => b.appliedSequence === seq);
    expect(logs.get(b)!.some((l) => l.includes('reloading'))).toBe(true);
  });

  it('fails to open with a coded error when Redis is not there', async () => {
    const s = new RedisQueueStore({ url: 'redis://127.0.0.1:1', group: 'G', imsId: 'IMS1', connectTimeoutMs: 300 });
    await expectCode(s.open(), 'IMS_ERR_SQ_UNAVAILABLE');
    await expectCode(s.apply([], true), 'IMS_ERR_SQ_CLOSED');
  });
});

describe('shared-queue records and options', () => {
  it('round-trips messages and refuses malformed records with a code', () => {
    const m = input('M1', { origin: { kind: 'lterm', lterm: 'MASTER', userId: 'U1' } });
    expect(decodeSharedInput(encodeSharedInput(m, 'IMS9'))).toEqual({ msg: m, fe: 'IMS9' });
    const o = output('O1', { context: new Uint8Array([9, 8]), rerouteTpipe: 'RR', purgeUndeliverable: true, rerouted: true });
    expect(decodeSharedOutput(encodeSharedOutput(o, 'IMS1'))).toEqual({ msg: o, fe: 'IMS1' });
    expect(decodeSharedOutput(encodeSharedOutput(o, 'IMS1'), true).msg.direct).toBe(false);
    for (const bad of ['not json', '[]', '{"id":1}', JSON.stringify({ id: 'x', tran: 'T', seg: ['!!'], origin: { kind: 'lterm', lterm: 'L', userId: 'U' }, at: 1, fe: 'F' }), JSON.stringify({ id: 'x', tran: 'T', seg: [], origin: { kind: 'tcp' }, at: 1, fe: 'F' })]) {
      expect(() => decodeSharedInput(bad)).toThrow(SharedQueueError);
      try {
        decodeSharedInput(bad);
      } catch (e) {
        expect((e as SharedQueueError).code).toBe('IMS_ERR_SQ_BAD_DATA');
      }
    }
  });

  it('validates its options', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379/2')).toBe('redis://127.0.0.1:6379/2');
    for (const [url, why] of [
      ['redis://10.1.1.1:6379', 'loopback'],
      ['http://127.0.0.1', 'redis://'],
      ['redis://127.0.0.1:6379/99', 'database'],
      ['nonsense', 'not a URL'],
    ] as const) {
      expect(() => parseRedisUrl(url)).toThrow(why);
    }
    expect(() => new RedisQueueStore({ url: 'redis://127.0.0.1', group: 'bad group', imsId: 'IMS1' })).toThrow(/group/);
    expect(() => new RedisQueueStore({ url: 'redis://127.0.0.1', group: 'G', imsId: 'IMS1', leaseMs: 5 })).toThrow(/leaseMs/);
  });
});
