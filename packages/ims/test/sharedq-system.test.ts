/**
 * Two IMS systems in one shared-queues group (in process, one redis-server): work entered through one
 * is processed by the other, the front end sends the reply, hold-queue output is retrievable through
 * either, and IVTNO's phone book is one database for the group.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OtmaCommand, OtmaDeliveryOption } from '@imsplex/codec';
import { DEFAULT_SYSTEM_DEFINITION, parseSystemConfig } from '../src/config.js';
import { ImsSystem } from '../src/ims-system.js';
import { RedisQueueStore } from '../src/queues/redis.js';
import type { OtmaLinkClient } from '../src/otma/client.js';
import { dec } from './fixtures.js';
import { client, isAck, isCommit, isData, text } from './helpers.js';
import { redisMissing, startRedis, type TestRedis, until } from './redis-harness.js';

let redis: TestRedis;
const systems: ImsSystem[] = [];
const clients: OtmaLinkClient[] = [];
let groupSeq = 0;

function definition(imsId: string, group: string, url: string): string {
  return DEFAULT_SYSTEM_DEFINITION.replace('IMSID=IMS1', `IMSID=${imsId}`).replace('MEMBER=IMS1', `MEMBER=${imsId}`) + `SHAREDQ  GROUP=${group},URL=${url},LEASE=60000\n`;
}

async function group(): Promise<[ImsSystem, ImsSystem]> {
  const g = `SYS${++groupSeq}`;
  const a = await ImsSystem.start({ configText: definition('IMS1', g, redis.url), configFile: 'ims1.cfg', linkPort: 0, linkHost: '127.0.0.1' });
  systems.push(a);
  const b = await ImsSystem.start({ configText: definition('IMS2', g, redis.url), configFile: 'ims2.cfg', linkPort: 0, linkHost: '127.0.0.1' });
  systems.push(b);
  return [a, b];
}

async function connect(sys: ImsSystem, member = 'HWS1'): Promise<OtmaLinkClient> {
  const c = await client(sys.linkAddress.port, member);
  clients.push(c);
  return c;
}

async function cm1(c: OtmaLinkClient, tpipe: string, data: string): Promise<string[]> {
  c.sendTransaction({ tpipe, segments: [data], commitMode: 1, syncLevel: 0 });
  const out = await c.next();
  expect(isData(out)).toBe(true);
  expect(isCommit(await c.next())).toBe(true);
  return text(out);
}

const ivtno = (cmd: string, last: string, first = '', ext = '', zip = '') => `IVTNO     ${cmd.padEnd(8)}${last.padEnd(10)}${first.padEnd(10)}${ext.padEnd(10)}${zip.padEnd(7)}`;

describe.skipIf(redisMissing !== undefined)('shared queues: two IMS systems in one process', () => {
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const s of systems.splice(0)) await s.stop();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('uses the Redis store when the definition has SHAREDQ', async () => {
    const [a] = await group();
    expect(a.engine.store).toBeInstanceOf(RedisQueueStore);
    expect(a.config.sharedQueues).toMatchObject({ group: `SYS${groupSeq}`, leaseMs: 60000 });
    expect((a.engine.store as RedisQueueStore).memberId).toMatch(/^IMS1\.[0-9a-f]{12}$/);
  });

  it('processes CM0 input entered through IMS1 on IMS2; IMS1 (the front end) sends the reply', async () => {
    const [a, b] = await group();
    a.engine.scheduler.setSchedulingStopped('ECHO', true); // IMS1 queues ECHO but does not run it
    const c = await connect(a);
    c.sendTransaction({ tpipe: 'TP1', segments: ['ECHO    FROM IMS1'], commitMode: 0 });
    const out = await c.next();
    expect(isData(out)).toBe(true);
    expect(text(out)).toEqual(['ECHO    FROM IMS1']);
    c.respond(out!, true);
    await until('the output to be deleted everywhere', () => a.engine.store.outputDepth('HWS1/TP1') === 0 && b.engine.store.outputDepth('HWS1/TP1') === 0);
    expect(b.engine.transaction('ECHO')!.stats.processed).toBe(1);
    expect(a.engine.transaction('ECHO')!.stats.processed).toBe(0);
    expect(a.engine.transaction('ECHO')!.queued).toBe(0);
  });

  it('delivers SENDONLY output queued through IMS1 to a RESUME TPIPE on IMS2', async () => {
    const [a, b] = await group();
    const c1 = await connect(a);
    for (const n of [1, 2]) {
      c1.sendTransaction({ tpipe: 'HOLD', segments: [`ECHO    HELD ${n}`], commitMode: 0, sendOnly: true, ackRequested: true });
      expect(isAck(await c1.next())).toBe(true);
    }
    await until('both outputs on the shared hold queue', () => b.engine.store.outputDepth('HWS1/HOLD') === 2);
    c1.close();
    const c2 = await connect(b);
    c2.resumeTpipe('HOLD', OtmaDeliveryOption.NO_AUTO);
    const got: string[] = [];
    for (;;) {
      const m = await c2.next();
      if (m?.control.commandType === OtmaCommand.NO_MESSAGES) break;
      expect(isData(m)).toBe(true);
      got.push(...text(m));
      c2.respond(m!, true);
    }
    expect(got).toEqual(['ECHO    HELD 1', 'ECHO    HELD 2']);
    await until('the hold queue to empty on IMS1 too', () => a.engine.store.outputDepth('HWS1/HOLD') === 0);
  });

  it('shares IVTNO’s phone book: added through IMS1, displayed through IMS2', async () => {
    const [a, b] = await group();
    const c1 = await connect(a);
    const c2 = await connect(b, 'HWS2');
    expect((await cm1(c2, 'T1', ivtno('DISPLAY', 'LAST1')))[0]).toMatch(/^ENTRY WAS DISPLAYED.*FIRST1/);
    expect((await cm1(c1, 'T1', ivtno('ADD', 'SHARED', 'SUE', '8-555', 'D99')))[0]).toMatch(/^ENTRY WAS ADDED/);
    expect((await cm1(c2, 'T1', ivtno('DISPLAY', 'SHARED')))[0]).toMatch(/^ENTRY WAS DISPLAYED.*SUE/);
    // the phone book was loaded once, by the first IMS of the group
    expect(await redis.client.hlen(`imsplex:sq:{SYS${groupSeq}}:db:IVPDB1`)).toBe(6);
    // CM1 input stays with the IMS it arrived on
    expect(a.engine.transaction('IVTNO')!.stats.processed).toBe(1);
    expect(b.engine.transaction('IVTNO')!.stats.processed).toBe(2);
  });

  it('an IMS that loses its lease mid-transaction backs out (U0777, no abend count); the other commits once', { timeout: 20_000 }, async () => {
    const [a, b] = await group();
    const sa = a.engine.store as RedisQueueStore;
    const sb = b.engine.store as RedisQueueStore;
    b.engine.scheduler.setSchedulingStopped('SLOW', true); // only IMS1 can start it
    const c = await connect(a);
    c.sendTransaction({ tpipe: 'LATE', segments: ['SLOW    1500'], commitMode: 0, sendOnly: true, ackRequested: true });
    expect(isAck(await c.next())).toBe(true);
    const held = () => redis.client.hlen(`${sa.keyPrefix}f:${sa.memberId}`);
    await until('IMS1 to run SLOW', async () => (await held()) === 1);
    // IMS1 stalls past its lease (simulated: the lease key expires); IMS2 takes the message over.
    await redis.client.del(`${sa.keyPrefix}l:${sa.memberId}`);
    expect(await sb.heartbeat()).toBe(1);
    b.engine.scheduler.setSchedulingStopped('SLOW', false);
    await b.command('/STA TRAN SLOW');
    await until('IMS2 to run it', async () => (await redis.client.hlen(`${sb.keyPrefix}f:${sb.memberId}`)) === 1);
    // IMS1's commit is refused; IMS2's goes through: one output, one processing.
    await until('both to finish', () => a.engine.transaction('SLOW')!.stats.backouts === 1 && b.engine.transaction('SLOW')!.stats.processed === 1, 15_000);
    expect(a.engine.transaction('SLOW')!.stats).toMatchObject({ processed: 0, abends: 0, consecutiveAbends: 0, backouts: 1 });
    expect(a.engine.transaction('SLOW')!.ustopped).toBe(false);
    await until('the output on the hold queue', () => a.engine.store.outputDepth('HWS1/LATE') === 1);
    expect(a.engine.store.listOutput('HWS1/LATE').map((m) => m.segments.map(dec))).toEqual([['SLOW DONE 1500']]);
  });

  it('parses SHAREDQ and names file, line and key on errors', () => {
    const ok = parseSystemConfig(definition('IMS1', 'SQG', 'redis://127.0.0.1:7777/3'), 'a.cfg');
    expect(ok.sharedQueues).toEqual({ group: 'SQG', url: 'redis://127.0.0.1:7777/3', leaseMs: 60000, line: ok.sharedQueues!.line });
    expect(parseSystemConfig(DEFAULT_SYSTEM_DEFINITION, 'd.cfg').sharedQueues).toBeUndefined();
    const cases: Array<[string, string, RegExp]> = [
      ['SHAREDQ GROUP=G', 'URL', /URL: is required/],
      ['SHAREDQ URL=redis://127.0.0.1:1', 'GROUP', /GROUP: is required/],
      ['SHAREDQ GROUP=G,URL=redis://10.0.0.5:6379', 'URL', /loopback/],
      ["SHAREDQ GROUP=G,URL='http://127.0.0.1:1'", 'URL', /redis:\/\//],
      ['SHAREDQ GROUP=G,URL=redis://127.0.0.1:1,LEASE=5', 'LEASE', /must be 100\.\.3600000/],
      ['SHAREDQ GROUP=G,URL=redis://127.0.0.1:1,SIZE=5', 'SIZE', /unknown keyword/],
      ['SHAREDQ GROUP=G,URL=redis://127.0.0.1:1\nSHAREDQ GROUP=H,URL=redis://127.0.0.1:1', 'SHAREDQ', /defined twice/],
    ];
    for (const [stmt, key, re] of cases) {
      const lines = DEFAULT_SYSTEM_DEFINITION.split('\n').length;
      let err: unknown;
      try {
        parseSystemConfig(DEFAULT_SYSTEM_DEFINITION + stmt + '\n', 'x.cfg');
      } catch (e) {
        err = e;
      }
      expect((err as { code?: string }).code).toBe('IMS_ERR_CONFIG');
      expect((err as Error).message).toMatch(new RegExp(`^x\\.cfg:${lines + (key === 'SHAREDQ' ? 1 : 0)}: ${key}: `));
      expect((err as Error).message).toMatch(re);
    }
  });
});
