/**
 * Shared queues across processes: two `imsplex-ims` processes in one group on one redis-server.
 * 1. Load through both; SIGKILL one while it has messages in flight; every accepted message is processed
 *    exactly once (one database count and one output per message), the dead one's in-flight messages by
 *    the survivor, and all output is retrievable through the survivor.
 * 2. A commit-mode-0 transaction in flight on an IMS that is killed: its output reaches the client
 *    that reconnects through the other IMS and issues RESUME TPIPE.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CP037, OtmaCommand, OtmaDeliveryOption } from '@imsplex/codec';
import type { OtmaLinkClient } from '../src/otma/client.js';
import { client, isAck, isCommit, isData, text } from './helpers.js';
import { redisMissing, startRedis, type TestRedis, until } from './redis-harness.js';

const pkgDir = join(import.meta.dirname, '..');
const GROUP = 'SQKILL';
const PREFIX = `imsplex:sq:{${GROUP}}:`;
let redis: TestRedis;
let dir = '';
const children: ChildProcess[] = [];
const clients: OtmaLinkClient[] = [];

/** COUNT: counts each token in the shared database and answers `DONE <token> <count> <imsId>`. */
const COUNT_PROGRAM = `
export default async function count(ctx) {
  for (;;) {
    const m = await ctx.io.gu();
    if (m.status !== '  ') return;
    const token = ctx.text(m.data, 8).trim();
    await ctx.sleep(40);
    const db = ctx.db('COUNTS');
    const r = await db.get(token);
    const n = r.status === '  ' ? Number(ctx.text(r.data).trim()) + 1 : 1;
    if (r.status === '  ') await db.repl(token, ctx.bytes(String(n)));
    else await db.isrt(token, ctx.bytes(String(n)));
    await ctx.io.isrt(ctx.bytes('DONE ' + token + ' ' + n + ' ' + ctx.imsId));
  }
}
`;

function definition(imsId: string, slowStatus: 'STARTED' | 'STOPPED'): string {
  return `IMSCTRL  IMSID=${imsId}
OTMA     GROUP=XCFGRP1,MEMBER=${imsId},HOST=127.0.0.1,PORT=0
SHAREDQ  GROUP=${GROUP},URL=${redis.url},LEASE=1000
APPLCTN  PSB=CNTPGM,MODULE='./count.mjs'
TRANSACT CODE=COUNT,MSGTYPE=(SNGLSEG,RESPONSE,1),SCHDTYP=PARALLEL,MAXRGN=0
APPLCTN  PSB=SLOWPGM,IMPL=SLOW
TRANSACT CODE=SLOW,MSGTYPE=(SNGLSEG,RESPONSE,1),SCHDTYP=PARALLEL,MAXRGN=0,STATUS=${slowStatus}
REGION   NAME=MPP1,CLASS=(1),COUNT=4
`;
}

/** Start the bin on a definition file; resolve with its link port once it logs "IMS system ready". */
function startIms(cfg: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@imsplex/source', 'src/bin.ts', '--config', cfg, '--link-port', '0', '--log-level', 'info'], {
    cwd: pkgDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const j = JSON.parse(line) as { msg?: string; link?: { port: number } };
        if (j.msg === 'IMS system ready' && j.link) resolve({ child, port: j.link.port });
      } catch {
        // not JSON
      }
    });
    child.once('exit', (code) => reject(new Error(`imsplex-ims exited with ${code}: ${stderr}`)));
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGKILL');
  await gone;
}

async function connect(port: number, member: string): Promise<OtmaLinkClient> {
  const c = await client(port, member);
  clients.push(c);
  return c;
}

/** In-flight message ids of the members of `imsId` (from Redis). */
async function inFlight(imsId: string): Promise<string[]> {
  const keys = await redis.client.keys(`${PREFIX}f:${imsId}.*`);
  const ids: string[] = [];
  for (const k of keys) ids.push(...(await redis.client.hkeys(k)));
  return ids;
}

/** Drain a hold queue through a RESUME TPIPE (no-auto), ACKing each message. */
async function drain(c: OtmaLinkClient, tpipe: string): Promise<string[]> {
  c.resumeTpipe(tpipe, OtmaDeliveryOption.NO_AUTO);
  const got: string[] = [];
  for (;;) {
    const m = await c.next();
    if (!m) throw new Error('link closed while draining');
    if (m.control.commandType === OtmaCommand.NO_MESSAGES) return got;
    expect(isData(m)).toBe(true);
    got.push(...text(m));
    c.respond(m, true);
  }
}

describe.skipIf(redisMissing !== undefined)('shared queues: two IMS processes, one killed', () => {
  let ims1: { child: ChildProcess; port: number };
  let ims2: { child: ChildProcess; port: number };

  beforeAll(async () => {
    redis = await startRedis();
    dir = await mkdtemp(join(tmpdir(), 'imsplex-sq-'));
    await writeFile(join(dir, 'count.mjs'), COUNT_PROGRAM);
    await writeFile(join(dir, 'ims1.cfg'), definition('IMS1', 'STARTED'));
    // IMS2 starts with SLOW stopped, so in test 2 only IMS1 can be running it when it dies.
    await writeFile(join(dir, 'ims2.cfg'), definition('IMS2', 'STOPPED'));
    [ims1, ims2] = await Promise.all([startIms(join(dir, 'ims1.cfg')), startIms(join(dir, 'ims2.cfg'))]);
  }, 30_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    for (const c of children) await kill(c);
    await redis?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('kill one mid-load: every accepted message is processed exactly once', { timeout: 40_000 }, async () => {
    const a = await connect(ims1.port, 'HWS1');
    const b = await connect(ims2.port, 'HWS2');
    const N = 150;
    const acked = new Set<string>();
    const sent: string[] = [];
    // SENDONLY with an ACK: the ACK means "on the shared queue"; the output is held on tpipe LOAD.
    const load = async (c: OtmaLinkClient, prefix: string) => {
      const bySeq = new Map<number, string>();
      for (let i = 0; i < N; i++) {
        const token = `${prefix}${String(i).padStart(4, '0')}`;
        sent.push(token);
        bySeq.set(c.sendTransaction({ tpipe: 'LOAD', segments: [`COUNT   ${token}`], commitMode: 0, sendOnly: true, ackRequested: true }), token);
      }
      let mine = 0;
      while (mine < N) {
        const m = await c.next();
        if (!m) return; // the link died with its IMS
        const t = isAck(m) ? bySeq.get(m.control.sendSequence) : undefined;
        if (t && !acked.has(t)) {
          acked.add(t);
          mine++;
        }
      }
    };
    const loads = [load(a, 'A'), load(b, 'B')];

    // Kill IMS1 once work is under way and it has messages in flight.
    await until('IMS1 to have messages in flight with work done', async () => (await redis.client.hlen(`${PREFIX}db:COUNTS`)) >= 20 && (await inFlight('IMS1')).length > 0);
    await kill(ims1.child);
    const orphans = await inFlight('IMS1');
    expect(orphans.length).toBeGreaterThan(0);
    const orphanTokens: string[] = [];
    for (const id of orphans) {
      const payload = await redis.client.hget(`${PREFIX}m`, id);
      const seg = (JSON.parse(payload!) as { seg: string[] }).seg[0]!;
      orphanTokens.push(CP037.decode(Buffer.from(seg, 'base64')).slice(8).trim());
    }
    await Promise.all(loads);
    expect(acked.size).toBeGreaterThan(N); // all of IMS2's and part of IMS1's

    // The survivor finishes everything, including the dead member's in-flight messages.
    await until(
      'every accepted message to be processed',
      async () => {
        const counts = await redis.client.hgetall(`${PREFIX}db:COUNTS`);
        return [...acked].every((t) => counts[t] !== undefined) && (await redis.client.llen(`${PREFIX}q:COUNT`)) === 0 && (await inFlight('IMS1')).length === 0 && (await inFlight('IMS2')).length === 0;
      },
      20_000,
    );
    // values are EBCDIC text, as the program wrote them
    const counts = Object.fromEntries(Object.entries(await redis.client.hgetallBuffer(`${PREFIX}db:COUNTS`)).map(([k, v]) => [k, CP037.decode(v)]));
    for (const t of acked) expect(counts[t], t).toBe('1');
    for (const [t, n] of Object.entries(counts)) expect(n, t).toBe('1'); // nothing twice, accepted or not
    for (const t of Object.keys(counts)) expect(sent).toContain(t);

    // All output, including what IMS1 queued for HWS1, comes out through IMS2.
    const a2 = await connect(ims2.port, 'HWS1');
    const outs = [...(await drain(a2, 'LOAD')), ...(await drain(b, 'LOAD'))];
    const byToken = new Map<string, string[]>();
    for (const o of outs) {
      const [, token, n, imsId] = o.split(' ');
      expect(n).toBe('1');
      byToken.set(token!, [...(byToken.get(token!) ?? []), imsId!]);
    }
    for (const t of Object.keys(counts)) expect(byToken.get(t), t).toHaveLength(1);
    expect(byToken.size).toBe(Object.keys(counts).length);
    // the messages IMS1 had in flight when it died were done by IMS2
    for (const t of orphanTokens) expect(byToken.get(t), t).toEqual(['IMS2']);
    expect(await redis.client.scard(`${PREFIX}ok`)).toBe(0);
  });

  it('commit-mode-0 output of a killed IMS reaches the client through the other IMS', { timeout: 40_000 }, async () => {
    ims1 = await startIms(join(dir, 'ims1.cfg')); // a new incarnation of IMS1
    const c = await connect(ims1.port, 'HWS3');
    c.sendTransaction({ tpipe: 'CM0T', segments: ['SLOW    800'], commitMode: 0 });
    await until('SLOW to be in flight on IMS1', async () => (await inFlight('IMS1')).length === 1);
    await kill(ims1.child);
    expect(await c.next()).toBeUndefined(); // the link went down with IMS1

    // The client reconnects through IMS2. The operator lets IMS2 run SLOW; IMS2 recovers the message
    // once IMS1's lease expires, runs it, and holds the output for the tpipe.
    const c2 = await connect(ims2.port, 'HWS3');
    c2.sendTransaction({ tpipe: 'CMD', segments: ['/STA TRAN SLOW'], commitMode: 1, syncLevel: 0 });
    expect(isData(await c2.next())).toBe(true);
    expect(isCommit(await c2.next())).toBe(true);
    c2.resumeTpipe('CM0T', OtmaDeliveryOption.AUTO_ONE);
    const out = await c2.next();
    expect(isData(out)).toBe(true);
    expect(text(out)).toEqual(['SLOW DONE 800']);
    c2.respond(out!, true);
    await until('the output to be deleted', async () => (await redis.client.llen(`${PREFIX}o:HWS3/CM0T`)) === 0);
  });
});
