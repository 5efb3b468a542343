/**
 * A small stack with shared queues: the stack's own redis-server (a box), two IMS systems in one
 * shared-queues group, one IMS Connect and one distributor. CM0 send-only work with no consumer waits
 * on the tpipe's hold queue, which both IMS systems show (over the dashboard's SSE stream); after
 * kill -9 of the IMS that took the work, RESUME TPIPE through IMS Connect gets the output from the
 * other IMS. Then kill -9 of the Redis box takes redis-server down with its wrapper, and a restart
 * brings the queues back from its append-only file in the data folder.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@imsplex/client';
import { formatStatus } from '../src/cli.js';
import { startDashboard, type Dashboard } from '../src/dashboard.js';
import { redisCall } from '../src/resp.js';
import { Supervisor, type ImsQueues, type StackSnapshot } from '../src/supervisor.js';
import { parseTopology } from '../src/topology.js';
import { freePort, redisMissing, sseSnapshot, untilGone, waitTimeline } from './helpers.js';

const HWS = { host: '127.0.11.1', port: 15811 };
const TPIPE = 'SQTEST01';

/** Two LPARs on 127.0.11.x (apart from the other stack tests), shared queues on the stack's own Redis. */
function topologyText(dataDir: string, redisPort: number): string {
  return `[stack]
data-dir  = ${dataDir}
dashboard = 127.0.0.1:0
start-timeout = 60000
[host SYS1]
address = 127.0.11.1
[host SYS2]
address = 127.0.11.2
[vipa]
address = 127.0.11.100
[distribute ${HWS.port}]
targets = imsconnect
method  = ROUNDROBIN
[distributor SD1]
host = SYS1
[ims IMS1]
host = SYS1
[ims IMS2]
host = SYS2
[imsconnect HWS1]
host = SYS1
[sharedq]
group = SQSTACK
host  = SYS1
port  = ${redisPort}
fsync = always        # every queue change on disk before Redis answers: the restart below finds it all
`;
}

const dir = mkdtempSync(join(tmpdir(), 'imsplex-sharedq-'));
let sup: Supervisor | undefined;
let dash: Dashboard | undefined;
const pids = new Set<number>();

const queuesOf = (s: StackSnapshot, ims: string): ImsQueues | undefined => s.queues.find((q) => q.ims === ims);
const holdDepth = (s: StackSnapshot, ims: string): number | undefined => queuesOf(s, ims)?.hold.find((h) => h.owner === 'HWS1' && h.tpipe === TPIPE)?.depth;
const redisPid = (s: Supervisor): number => (s.status('REDIS').health as { pid: number }).pid;

describe.skipIf(redisMissing !== undefined)(`shared queues on the stack's own Redis${redisMissing ? ` (${redisMissing})` : ''}`, () => {
  beforeAll(async () => {
    // redis-server cannot take port 0; a port free on 127.0.0.1 now is free on 127.0.11.1 as well in practice.
    const t = parseTopology(topologyText(join(dir, 'data'), await freePort()), 'sharedq.topology');
    sup = new Supervisor({ topology: t, runtime: 'source', logLevel: 'warn' });
    dash = await startDashboard(sup, { host: '127.0.0.1', port: 0, token: sup.secret });
    await sup.start();
    for (const b of sup.snapshot().boxes) if (b.pid) pids.add(b.pid);
    pids.add(redisPid(sup));
  }, 90_000);

  afterAll(async () => {
    await dash?.close();
    await sup?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('starts its redis-server first, as a box, and points every IMS at it (SHAREDQ)', () => {
    const s = sup!.snapshot();
    expect(s.boxes.map((b) => `${b.name}:${b.kind}:${b.state}`)).toEqual(['REDIS:redis:up', 'IMS1:ims:up', 'IMS2:ims:up', 'HWS1:imsconnect:up', 'SD1:distributor:up']);
    expect(s.sharedQueues).toEqual({ group: 'SQSTACK', url: expect.stringMatching(/^redis:\/\/\*\*\*@127\.0\.11\.1:\d+$/) as string, box: 'REDIS', leaseMs: 10_000 });
    expect(sup!.status('REDIS').health).toMatchObject({ status: 'UP', aof: true, pid: expect.any(Number) as number });
    expect(formatStatus(s)).toMatch(/^shared queues: group SQSTACK on REDIS \(redis:\/\/\*\*\*@127\.0\.11\.1:\d+\)$/m);
    expect(formatStatus(s)).toMatch(/^REDIS\s+redis\s+SYS1 127\.0\.11\.1\s+up/m);
    const def = readFileSync(join(dir, 'data', 'ims', 'IMS2', 'IMS.DEF'), 'utf8');
    expect(def).toMatch(/^SHAREDQ {2}GROUP=SQSTACK,URL=redis:\/\/:[^@]+@127\.0\.11\.1:\d+,LEASE=10000$/m);
    // Redis 7 writes appendonlydir/, Redis 6 appendonly.aof.
    expect(readdirSync(join(dir, 'data', 'redis')).some((f) => f.startsWith('appendonly'))).toBe(true);
    expect(sup!.timelineSince(0).some((e) => e.text === `shared queues: group SQSTACK on redis-server REDIS`)).toBe(true);
  });

  it('CM0 send-only work with no consumer waits on the hold queue, and both IMS systems show it live (SSE)', async () => {
    const client = createClient({ host: HWS.host, port: HWS.port, datastore: 'IMS1', clientId: TPIPE, maxConnections: 1, responseTimeout: 10_000 });
    try {
      // SENDONLYA: IMS Connect answers once IMS has queued the input.
      await client.sendOnly({ trancode: 'ECHO', data: 'SHARED 1', mode: 'ack' });
      await client.sendOnly({ trancode: 'ECHO', data: 'SHARED 2', mode: 'ack' });
    } finally {
      await client.close();
    }
    const snap = await sseSnapshot(dash!.url, (s) => holdDepth(s, 'IMS1') === 2 && holdDepth(s, 'IMS2') === 2);
    for (const ims of ['IMS1', 'IMS2']) {
      const q = queuesOf(snap, ims)!;
      expect(q.error).toBeNull();
      expect(q.input.map((i) => i.tran)).toEqual(['ECHO', 'IVTCV', 'IVTNO', 'SLOW']);
      expect(q.input.find((i) => i.tran === 'ECHO')!.depth).toBe(0);
    }
  }, 30_000);

  it('kill -9 of IMS1: RESUME TPIPE through IMS Connect gets the output from IMS2', async () => {
    const killed = await sup!.kill('IMS1');
    expect(killed.state).toBe('down');
    const texts: string[] = [];
    const client = createClient({ host: HWS.host, port: HWS.port, datastore: 'IMS2', clientId: TPIPE, maxConnections: 1, responseTimeout: 10_000 });
    try {
      for await (const m of client.resumeTpipe({ mode: 'no-auto', timer: 300 })) texts.push(m.text);
    } finally {
      await client.close();
    }
    expect(texts).toEqual(['ECHO    SHARED 1', 'ECHO    SHARED 2']);
    const snap = await sseSnapshot(dash!.url, (s) => holdDepth(s, 'IMS2') === 0);
    expect(queuesOf(snap, 'IMS1')!.error).toBe('IMS1 is down; depths as last read');
  }, 30_000);

  it('kill -9 of the Redis box takes redis-server down with it; a restart brings the queues back from its AOF', async () => {
    const seq = sup!.timelineSince(0).at(-1)!.seq;
    const before = redisPid(sup!);
    const r = sup!.spec('REDIS');
    const ep = { host: r.address, port: r.protocolPort!, password: sup!.secret };
    // The group's databases (IVTNO's phone book, loaded once by the first IMS): stable while nothing
    // updates them, unlike the lease keys, which expire.
    const P = 'imsplex:sq:{SQSTACK}:';
    const databases = async (): Promise<Record<string, unknown>> => {
      const [names] = await redisCall(ep, [['SMEMBERS', `${P}dbs`]]);
      const list = (names as string[]).sort();
      const sizes = list.length ? await redisCall(ep, list.map((n) => ['HLEN', `${P}db:${n}`])) : [];
      return Object.fromEntries(list.map((n, i) => [n, sizes[i]]));
    };
    // One more output waiting on a hold queue when Redis dies.
    const sender = createClient({ host: HWS.host, port: HWS.port, datastore: 'IMS2', clientId: 'SQTEST02', maxConnections: 1, responseTimeout: 10_000 });
    try {
      await sender.sendOnly({ trancode: 'ECHO', data: 'BEFORE REDIS DIED', mode: 'ack' });
    } finally {
      await sender.close();
    }
    await sseSnapshot(dash!.url, (s) => queuesOf(s, 'IMS2')?.hold.find((h) => h.tpipe === 'SQTEST02')?.depth === 1);
    const dbBefore = await databases();
    expect(Object.keys(dbBefore).length).toBeGreaterThan(0);
    expect(await sup!.command('REDIS', 'DBSIZE')).toEqual([expect.stringMatching(/^\(integer\) [1-9]\d*$/) as string]);
    const st = await sup!.kill('REDIS');
    expect(st).toMatchObject({ state: 'down', lastExit: { code: null, signal: 'SIGKILL' } });
    expect(await untilGone(before, 5000)).toBe(true);
    await expect(sup!.quiesce('REDIS')).rejects.toMatchObject({ code: 'STACK_ERR_BAD_STATE' });
    await sup!.restart('REDIS');
    await waitTimeline(sup!, (e) => e.kind === 'up' && e.box === 'REDIS', 1000, seq);
    pids.add(redisPid(sup!));
    expect(redisPid(sup!)).not.toBe(before);
    expect(await databases()).toEqual(dbBefore);
    // IMS2 reconnects to the restarted Redis and delivers the output it kept.
    const texts: string[] = [];
    const client = createClient({ host: HWS.host, port: HWS.port, datastore: 'IMS2', clientId: 'SQTEST02', maxConnections: 1, responseTimeout: 10_000 });
    try {
      for await (const m of client.resumeTpipe({ mode: 'no-auto', timer: 300 })) texts.push(m.text);
    } finally {
      await client.close();
    }
    expect(texts).toEqual(['ECHO    BEFORE REDIS DIED']);
    await expect(sup!.command('REDIS', 'MONITOR')).rejects.toMatchObject({ code: 'STACK_ERR_BAD_REQUEST' });
  }, 30_000);

  it('stop ends every box, redis-server included', async () => {
    for (const b of sup!.snapshot().boxes) if (b.pid) pids.add(b.pid);
    await dash!.close();
    await sup!.stop();
    expect(sup!.snapshot().boxes.every((b) => b.state === 'stopped' || b.state === 'down')).toBe(true);
    for (const pid of pids) expect(await untilGone(pid, 5000), `pid ${pid}`).toBe(true);
  }, 60_000);
});
