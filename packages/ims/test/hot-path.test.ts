/**
 * The mechanisms that keep the OTMA path cheap (see the package README, "Performance"): one clock timer
 * per ACKTO value, link frames encoded into one output arena and written together, synchronous CM1 reply outcomes, adopted input
 * segments, metrics counted outside prom-client until a scrape, and the scheduler's fast paths. Each
 * test pins behaviour the optimisation must not change.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CP037, OtmaMessageType, XcfFrameReader, encodeXcfFrame, otmaControl, type OtmaMessage } from '@imsplex/codec';
import { ManualClock, TimeoutQueue, TimeoutQueues } from '../src/clock.js';
import { DEFAULT_SYSTEM_DEFINITION } from '../src/config.js';
import type { Cm1Channel, ReplyMessage, ReplyOutcome } from '../src/engine.js';
import { silentLogger } from '../src/engine.js';
import { Journal } from '../src/journal.js';
import { ImsMetrics } from '../src/metrics.js';
import type { LinkPort, OtmaMember } from '../src/otma/member.js';
import { LinkServer, OutputArena } from '../src/otma/server.js';
import { Scheduler } from '../src/scheduler.js';
import { parseSystemConfig } from '../src/config.js';
import { startTestImsSystem } from '../src/testing.js';
import { dec, enc, engine, flush, origin } from './fixtures.js';
import { client, isCommit, text } from './helpers.js';

describe('TimeoutQueue: many timeouts of one duration on one clock timer', () => {
  it('fires each entry once after its duration, in order, on a single armed timer', () => {
    const clock = new ManualClock();
    const q = new TimeoutQueue(clock, 100);
    const fired: string[] = [];
    q.add(() => fired.push('a'));
    clock.advance(30);
    q.add(() => fired.push('b'));
    q.add(() => fired.push('c'));
    expect(clock.pending).toBe(1);
    expect(q.size).toBe(3);
    clock.advance(69);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual(['a']);
    clock.advance(29);
    expect(fired).toEqual(['a']);
    clock.advance(1);
    expect(fired).toEqual(['a', 'b', 'c']);
    expect(q.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('a cancelled entry never fires; cancelling the last live one disarms the timer; cancel twice is harmless', () => {
    const clock = new ManualClock();
    const q = new TimeoutQueue(clock, 50);
    const fired: number[] = [];
    const h1 = q.add(() => fired.push(1));
    clock.advance(10);
    const h2 = q.add(() => fired.push(2));
    h1.cancel();
    h1.cancel();
    expect(q.size).toBe(1);
    clock.advance(45); // h1's deadline passed: nothing fires, the timer was re-aimed at h2
    expect(fired).toEqual([]);
    clock.advance(5);
    expect(fired).toEqual([2]);
    h2.cancel();
    const h3 = q.add(() => fired.push(3));
    h3.cancel();
    expect(clock.pending).toBe(0);
    clock.advance(1000);
    expect(fired).toEqual([2]);
  });

  it('entries added or cancelled from inside a firing callback behave', () => {
    const clock = new ManualClock();
    const q = new TimeoutQueue(clock, 10);
    const fired: string[] = [];
    const handles: Array<{ cancel(): void }> = [];
    q.add(() => {
      fired.push('first');
      for (const h of handles) h.cancel();
      q.add(() => fired.push('added'));
    });
    handles.push(q.add(() => fired.push('cancelled')));
    clock.advance(10);
    expect(fired).toEqual(['first']);
    clock.advance(10);
    expect(fired).toEqual(['first', 'added']);
  });

  it('memory stays bounded by the live entries when cancellations come out of order', () => {
    const clock = new ManualClock();
    const q = new TimeoutQueue(clock, 1000);
    const keep = q.add(() => undefined); // the oldest entry stays live, so the head never moves
    for (let i = 0; i < 5000; i++) q.add(() => undefined).cancel();
    expect(q.size).toBe(1);
    expect(q.retained).toBeLessThanOrEqual(2 * q.size + 65);
    keep.cancel();
    expect(q.retained).toBe(0);
  });

  it('TimeoutQueues keeps one queue per duration', () => {
    const clock = new ManualClock();
    const qs = new TimeoutQueues(clock);
    const fired: number[] = [];
    qs.add(200, () => fired.push(200));
    qs.add(100, () => fired.push(100));
    qs.add(100, () => fired.push(101));
    expect(qs.size).toBe(3);
    expect(clock.pending).toBe(2);
    clock.advance(100);
    expect(fired).toEqual([100, 101]);
    clock.advance(100);
    expect(fired).toEqual([100, 101, 200]);
    expect(qs.size).toBe(0);
  });
});

/** A LinkServer around a stand-in member that only captures the link port. */
async function linkServer(): Promise<{ server: LinkServer; port: number; link: () => Promise<LinkPort> }> {
  let resolveLink!: (p: LinkPort) => void;
  const linked = new Promise<LinkPort>((r) => (resolveLink = r));
  const member = {
    attach(p: LinkPort) {
      resolveLink(p);
      return 1;
    },
    receive() {},
    malformed() {},
    closed() {},
  } as unknown as OtmaMember;
  const server = new LinkServer(member, { host: '127.0.0.1', port: 0, maxLinks: 4, codePage: CP037, logger: silentLogger });
  const a = await server.listen();
  return { server, port: a.port, link: () => linked };
}

const data = (tpipe: string, seq: number, text: string): OtmaMessage => ({
  control: otmaControl({ messageType: OtmaMessageType.DATA, tpipe, sendSequence: seq }),
  segments: [CP037.encode(text)],
});

/** Read `n` frames (or until the socket closes). */
function frames(s: Socket, n: number): Promise<Uint8Array[]> {
  const reader = new XcfFrameReader();
  const got: Uint8Array[] = [];
  return new Promise((resolve) => {
    s.on('data', (chunk: Buffer) => {
      got.push(...reader.push(chunk));
      if (got.length >= n) resolve(got);
    });
    s.on('close', () => resolve(got));
  });
}

describe('link writes: the frames of one tick in one write, same bytes as the codec', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('frames sent in one tick reach the kernel in one write, back to back, byte-identical to encodeXcfFrame', async () => {
    const { server, port, link } = await linkServer();
    const s = connect({ host: '127.0.0.1', port, noDelay: true });
    try {
      const p = await link();
      const writev = vi.spyOn(Socket.prototype as unknown as { _writev: (chunks: unknown[], cb: () => void) => void }, '_writev');
      const write = vi.spyOn(Socket.prototype as unknown as { _write: (chunk: unknown, enc: string, cb: () => void) => void }, '_write');
      const sent = [data('TPIPE001', 1, 'FIRST'), data('TPIPE002', 2, 'SECOND'), { ...data('TPIPE001', 3, 'THIRD'), control: otmaControl({ messageType: OtmaMessageType.DATA, tpipe: CP037.encode('RAWNAME1'), sendSequence: 3 }) }];
      const got = frames(s, sent.length);
      for (const m of sent) p.send(m);
      const received = await got;
      const serverSide = (calls: { contexts: unknown[] }) => calls.contexts.filter((c) => (c as Socket).localPort === port).length;
      expect(serverSide(writev.mock)).toBe(0);
      expect(serverSide(write.mock)).toBe(1);
      const idx = write.mock.contexts.findIndex((c) => (c as Socket).localPort === port);
      const expected = sent.map((m) => Buffer.from(encodeXcfFrame(m)).toString('hex'));
      expect(Buffer.from(write.mock.calls[idx]![0] as Uint8Array).toString('hex')).toBe(expected.join(''));
      expect(received.map((f) => Buffer.from(f).toString('hex'))).toEqual(expected);
    } finally {
      s.destroy();
      await server.close();
    }
  });

  it('a tick with more frames than one arena slab: two writes, each of whole frames, every frame intact and in order', async () => {
    const { server, port, link } = await linkServer();
    const s = connect({ host: '127.0.0.1', port, noDelay: true });
    try {
      const p = await link();
      const write = vi.spyOn(Socket.prototype as unknown as { _write: (chunk: unknown, enc: string, cb: () => void) => void }, '_write');
      // 40 frames of ~3 KiB: more than the 64 KiB slab.
      const sent = Array.from({ length: 40 }, (_, i) => data(`TP${String(i).padStart(6, '0')}`, i + 1, `${i} `.padEnd(3000, String.fromCharCode(65 + (i % 26)))));
      const got = frames(s, sent.length);
      for (const m of sent) p.send(m);
      const received = await got;
      const chunks = write.mock.calls.filter((_, i) => (write.mock.contexts[i] as Socket).localPort === port).map((c) => Buffer.from(c[0] as Uint8Array));
      expect(chunks).toHaveLength(2);
      for (const c of chunks) {
        // Whole frames only: the 4-byte lengths walk the chunk exactly to its end.
        let off = 0;
        while (off < c.length) off += c.readUInt32BE(off);
        expect(off).toBe(c.length);
      }
      expect(received.map((f) => Buffer.from(f).toString('hex'))).toEqual(sent.map((m) => Buffer.from(encodeXcfFrame(m)).toString('hex')));
    } finally {
      s.destroy();
      await server.close();
    }
  });

  it('closing a link delivers the frames written before the close in the same tick', async () => {
    const { server, port, link } = await linkServer();
    const s = connect({ host: '127.0.0.1', port, noDelay: true });
    try {
      const p = await link();
      const got = frames(s, 2);
      p.send(data('TPIPE001', 1, 'LAST WORDS'));
      p.send(data('TPIPE001', 2, 'REALLY'));
      p.close('test');
      const received = await got;
      expect(received.map((f) => CP037.decode(f.subarray(f.length - 6)))).toEqual([' WORDS', 'REALLY']);
    } finally {
      s.destroy();
      await server.close();
    }
  });

  it('a CM1 reply and its commit confirmation leave IMS in one write', async () => {
    const ims = await startTestImsSystem();
    const c = await client(ims.link.port);
    try {
      const writev = vi.spyOn(Socket.prototype as unknown as { _writev: (chunks: unknown[], cb: () => void) => void }, '_writev');
      const write = vi.spyOn(Socket.prototype as unknown as { _write: (chunk: unknown, enc: string, cb: () => void) => void }, '_write');
      c.sendTransaction({ tpipe: 'ONEWRITE', segments: ['ECHO    TOGETHER'], commitMode: 1, syncLevel: 0 });
      expect(text(await c.next())).toEqual(['ECHO    TOGETHER']);
      expect(isCommit(await c.next())).toBe(true);
      const fromIms = (ctx: unknown) => (ctx as Socket).localPort === ims.link.port;
      expect(writev.mock.contexts.filter(fromIms)).toHaveLength(0);
      expect(write.mock.contexts.filter(fromIms)).toHaveLength(1);
    } finally {
      c.close();
      await ims.stop();
    }
  });
});

describe('OutputArena: frames back to back in a slab that only moves forward', () => {
  const page = { codePage: CP037 };
  const msg = (n: number, size: number): OtmaMessage => ({ control: otmaControl({ messageType: OtmaMessageType.DATA, tpipe: 'ARENA', sendSequence: n }), segments: [new Uint8Array(size).fill(0xc1 + (n % 9))] });

  it('encodes exactly encodeXcfFrame, hands out what was encoded since the last take, never rewrites taken bytes', () => {
    const a = new OutputArena();
    expect(a.take()).toBeUndefined();
    expect(a.encodeFrame(msg(1, 10), page)).toBe(true);
    expect(a.encodeFrame(msg(2, 20), page)).toBe(true);
    const first = a.take()!;
    expect(first.toString('hex')).toBe(Buffer.concat([encodeXcfFrame(msg(1, 10)), encodeXcfFrame(msg(2, 20))]).toString('hex'));
    const copy = Buffer.from(first);
    expect(a.encodeFrame(msg(3, 30), page)).toBe(true);
    expect(first.equals(copy)).toBe(true); // the next frame went after it, not over it
    expect(a.take()!.toString('hex')).toBe(Buffer.from(encodeXcfFrame(msg(3, 30))).toString('hex'));
    expect(a.pending).toBe(0);
  });

  it('refuses a frame that does not fit while frames are pending; forced (or with nothing pending) it gets a new slab', () => {
    const a = new OutputArena();
    expect(a.encodeFrame(msg(1, 60_000), page)).toBe(true);
    const before = a.pending;
    expect(a.encodeFrame(msg(2, 10_000), page)).toBe(false);
    expect(a.pending).toBe(before);
    const firstChunk = a.take()!;
    expect(a.encodeFrame(msg(2, 10_000), page, true)).toBe(true);
    expect(firstChunk.toString('hex')).toBe(Buffer.from(encodeXcfFrame(msg(1, 60_000))).toString('hex'));
    expect(a.take()!.toString('hex')).toBe(Buffer.from(encodeXcfFrame(msg(2, 10_000))).toString('hex'));
    // Larger than a slab: a slab of its own.
    const big: OtmaMessage = { ...msg(3, 30_000), segments: [1, 2, 3].map((i) => new Uint8Array(30_000).fill(0xc0 + i)) };
    expect(a.encodeFrame(big, page)).toBe(true);
    const bigChunk = a.take()!;
    expect(bigChunk.length).toBeGreaterThan(OutputArena.SLAB);
    expect(bigChunk.toString('hex')).toBe(Buffer.from(encodeXcfFrame(big)).toString('hex'));
  });

  it('a frame the encoder refuses leaves nothing behind', () => {
    const a = new OutputArena();
    expect(a.encodeFrame(msg(1, 10), page)).toBe(true);
    const bad: OtmaMessage = { control: otmaControl({ messageType: OtmaMessageType.DATA, tpipe: 'X', sendSequence: 2 }), zz: [1, 2], segments: [new Uint8Array(1)] };
    expect(() => a.encodeFrame(bad, page)).toThrow();
    expect(a.take()!.toString('hex')).toBe(Buffer.from(encodeXcfFrame(msg(1, 10))).toString('hex'));
  });
});

/** A channel that knows every outcome at once (what the OTMA member's channel does for sync NONE). */
class ImmediateChannel implements Cm1Channel {
  replies: ReplyMessage[] = [];
  confirmations: boolean[] = [];
  cancelled = 0;
  constructor(private readonly outcome: ReplyOutcome) {}
  sendReply(reply: ReplyMessage): ReplyOutcome {
    this.replies.push(reply);
    return this.outcome;
  }
  commitConfirmation(committed: boolean): void {
    this.confirmations.push(committed);
  }
  cancel(): void {
    this.cancelled++;
  }
}

describe('engine: CM1 outcomes known at once, adopted segments', () => {
  it('a channel may answer sendReply synchronously, and the outcome counts as before', async () => {
    const { tm } = await engine();
    const ok = new ImmediateChannel({ kind: 'sent' });
    await tm.submit({ segments: [enc('ECHO    NOW')], origin: origin({ syncLevel: 0 }), channel: ok });
    await flush();
    expect(ok.replies.map((r) => r.segments.map(dec))).toEqual([['ECHO    NOW']]);
    expect(ok.confirmations).toEqual([true]);
    const lost = new ImmediateChannel({ kind: 'lost' });
    await tm.submit({ segments: [enc('ECHO    GONE')], origin: origin({ tpipe: 'TP2', syncLevel: 0 }), channel: lost });
    await flush();
    expect(lost.confirmations).toEqual([false]);
    expect(tm.transaction('ECHO')!.stats.backouts).toBe(1);
  });

  it('while a reply waits for its ACK, exactly one clock timer serves every waiting reply', async () => {
    const { tm, clock } = await engine(DEFAULT_SYSTEM_DEFINITION.replace('ACKTO=120', 'ACKTO=5'));
    const waiting: Array<(o: ReplyOutcome) => void> = [];
    const channel = (): Cm1Channel => ({
      sendReply: () => new Promise<ReplyOutcome>((r) => waiting.push(r)),
      commitConfirmation: () => undefined,
      cancel: () => undefined,
    });
    for (let i = 0; i < 5; i++) await tm.submit({ segments: [enc(`ECHO    ${i}`)], origin: origin({ tpipe: `W${i}` }), channel: channel() });
    await flush();
    expect(waiting).toHaveLength(5);
    expect(clock.pending).toBe(1);
    for (const w of waiting) w({ kind: 'ack' });
    await flush();
    expect(clock.pending).toBe(0);
    expect(tm.transaction('ECHO')!.stats.processed).toBe(5);
  });

  it('adoptSegments keeps the caller arrays; by default the engine copies them', async () => {
    const { tm, store } = await engine();
    tm.scheduler.setSchedulingStopped('ECHO', true); // keep both messages on the queue to look at them
    const given = enc('ECHO    KEEP');
    await tm.submit({ segments: [given], origin: origin({ commitMode: 0, tpipe: 'HELD' }), adoptSegments: true });
    const copied = enc('ECHO    COPY');
    await tm.submit({ segments: [copied], origin: origin({ commitMode: 0, tpipe: 'HELD' }) });
    const queued = store.listInput('ECHO');
    expect(queued).toHaveLength(2);
    expect(queued[0]!.segments[0]).toBe(given);
    expect(queued[1]!.segments[0]).not.toBe(copied);
    expect(queued[1]!.segments[0]).toEqual(copied);
    await tm.startTransaction('ECHO');
    await flush();
    expect(store.listOutput('HWS1/HELD').map((m) => dec(m.segments[0]))).toEqual(['ECHO    KEEP', 'ECHO    COPY']);
  });
});

describe('metrics: counted per label, handed to prom-client at each scrape', () => {
  it('scrapes show exact totals and never count twice', async () => {
    const ims = await startTestImsSystem();
    const metrics = new ImsMetrics(ims.system.engine, ims.system.member);
    const c = await client(ims.link.port);
    const received = async () => (await metrics.registry.getSingleMetricAsString('ims_otma_messages_received_total')).match(/kind="transaction"[^}]*\} (\d+)/)?.[1];
    const committed = async () => (await metrics.registry.getSingleMetricAsString('ims_transactions_total')).match(/tran="ECHO",outcome="committed"[^}]*\} (\d+)/)?.[1];
    try {
      for (let i = 0; i < 3; i++) {
        c.sendTransaction({ tpipe: 'METRICS', segments: [`ECHO    ${i}`], commitMode: 1, syncLevel: 0 });
        await c.next();
        await c.next();
      }
      expect(await received()).toBe('3');
      expect(await received()).toBe('3');
      expect(await committed()).toBe('3');
      c.sendTransaction({ tpipe: 'METRICS', segments: ['ECHO    4'], commitMode: 1, syncLevel: 0 });
      await c.next();
      await c.next();
      expect(await received()).toBe('4');
      expect(await committed()).toBe('4');
      const sent = await metrics.registry.getSingleMetricAsString('ims_otma_messages_sent_total');
      expect(sent).toMatch(/kind="cm1-reply"[^}]*\} 4/);
      expect(sent).toMatch(/kind="commit-confirmed"[^}]*\} 4/);
    } finally {
      c.close();
      await ims.stop();
    }
  });
});

describe('scheduler fast paths', () => {
  const config = parseSystemConfig(DEFAULT_SYSTEM_DEFINITION, 'test.cfg');

  it('assign returns nothing when nothing is queued or no region is free, and picks up again after release', () => {
    const s = new Scheduler(config.regions, config.transactions.values());
    expect(s.assign()).toEqual([]);
    const regions = s.regions.length;
    s.enqueued('ECHO', regions + 2);
    const first = s.assign();
    expect(first).toHaveLength(regions);
    expect(s.assign()).toEqual([]); // all busy, 2 still queued
    s.release(first[3]!.regionId);
    const next = s.assign();
    expect(next).toEqual([{ regionId: first[3]!.regionId, regionName: first[3]!.regionName, tran: 'ECHO' }]);
    s.dequeued('ECHO', 99); // more than queued: clamps at zero
    expect(s.queued('ECHO')).toBe(0);
    s.release(first[4]!.regionId);
    expect(s.assign()).toEqual([]);
    s.enqueued('ECHO');
    expect(s.assign()).toHaveLength(1);
  });

  it('a class list with no eligible work is not searched again in the same round; other lists still get theirs', () => {
    const cfg = parseSystemConfig(
      `IMSCTRL  IMSID=IMS1\nAPPLCTN  PSB=P1,IMPL=ECHO\nTRANSACT CODE=SER1,MSGTYPE=(SNGLSEG,RESPONSE,1)\nAPPLCTN  PSB=P2,IMPL=ECHO\nTRANSACT CODE=PAR2,MSGTYPE=(SNGLSEG,RESPONSE,2),SCHDTYP=PARALLEL\nREGION   NAME=A,CLASS=(1),COUNT=4\nREGION   NAME=B,CLASS=(2),COUNT=2\n`,
      'test.cfg',
    );
    const s = new Scheduler(cfg.regions, cfg.transactions.values());
    s.enqueued('SER1', 5);
    s.enqueued('PAR2', 3);
    const got = s.assign();
    // SER1 is serial: one A region; the other A regions find nothing; both B regions take PAR2.
    expect(got.map((a) => `${a.regionName}:${a.tran}`)).toEqual(['A.1:SER1', 'B.1:PAR2', 'B.2:PAR2']);
    expect(s.queued('SER1')).toBe(4);
    expect(s.queued('PAR2')).toBe(1);
    s.release(got[0]!.regionId);
    expect(s.assign().map((a) => `${a.regionName}:${a.tran}`)).toEqual(['A.1:SER1']);
  });

  it('release finds a region by id whatever the list order', () => {
    const s = new Scheduler(config.regions, config.transactions.values());
    s.enqueued('ECHO', 2);
    const [a, b] = s.assign();
    s.release(9999); // unknown: ignored
    s.release(b!.regionId);
    s.release(a!.regionId);
    expect(s.regions.filter((r) => r.tran !== undefined)).toHaveLength(0);
    expect(s.active('ECHO')).toBe(0);
  });
});

describe('journal group commit', () => {
  it('records appended in one tick share one batch (one write, one fdatasync); later ones join the next', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ims-hot-'));
    try {
      const { journal } = await Journal.open(join(dir, 'j'));
      const applied: number[] = [];
      const first = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => journal.append({ n }, () => applied.push(n)));
      expect(applied).toEqual([]); // nothing is applied before its batch is synced
      await Promise.all(first);
      expect(journal.batches).toBe(1);
      expect(applied).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      await journal.append({ n: 9 });
      expect(journal.batches).toBe(2);
      await journal.close();
      const again = await Journal.open(join(dir, 'j'));
      expect(again.replay.records).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => ({ n })));
      await again.journal.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
