/**
 * The reliability drill of issue 8: the seed topology under steady load (REST reads through
 * z/OS Connect, commit-mode-0 IVTNO ADDs through IMS Connect), kill -9 in turn one IMS Connect, one
 * z/OS Connect, the primary distributor and one IMS system, restarting each. Then:
 * - every request is counted (succeeded + failed + in doubt = sent);
 * - 0 duplicate executions: no IVTNO key exists in both IMS systems' phone books, and no output is
 *   delivered twice;
 * - 0 lost commit-mode-0 outputs: every ADD that IMS executed was either answered or found again on
 *   the tpipe hold queue with RESUME TPIPE;
 * - service back within 2 s of each kill, on both load streams, measured on the supervisor's clock
 *   (the kill's timeline entry and the load records share it).
 * Bounded (< 3 minutes) and always stops every box.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { binProblem } from '../src/boxes.js';
import { Supervisor } from '../src/supervisor.js';
import { DEFAULT_TOPOLOGY, parseTopology } from '../src/topology.js';
import { keysOn, recoverOutputs, steadyLoad, type Rec } from './drill-load.js';

/** The goal: service back within 2 s of each kill. */
const SERVICE_BACK_MS = 2000;
const VICTIMS = ['HWS1', 'ZCON1', 'SD1', 'IMS1'] as const;

const problems = (['ims', 'imsconnect', 'zosconnect', 'distributor'] as const).map((k) => binProblem(k, 'source')).filter((p): p is string => p !== null);
const dir = mkdtempSync(join(tmpdir(), 'imsplex-drill-'));
let sup: Supervisor | undefined;

afterAll(async () => {
  await sup?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `VIEWDS ALL` until every datastore of every IMS Connect is ACTIVE; returns what is not. */
async function datastoresNotActive(s: Supervisor, boxes: readonly string[], ms: number): Promise<string[]> {
  const deadline = Date.now() + ms;
  let bad: string[];
  do {
    bad = [];
    for (const b of boxes) {
      for (const l of await s.command(b, 'VIEWDS ALL')) {
        const m = /DATASTORE=(\S+)\s+STATUS=(\S+)/.exec(l);
        if (m && m[2] !== 'ACTIVE') bad.push(`${b} ${m[1]} ${m[2]}`);
      }
    }
    if (bad.length === 0) return bad;
    await sleep(250);
  } while (Date.now() < deadline);
  return bad;
}

/** ms from `at` to the end of the first request started at or after `at` that succeeded. */
function serviceBack(records: readonly Rec[], stream: Rec['stream'], at: number, until: number): number | null {
  const ok = records.filter((r) => r.stream === stream && r.kind === 'succeeded' && r.startedAt >= at && r.startedAt < until).sort((a, b) => a.endedAt - b.endedAt)[0];
  return ok ? ok.endedAt - at : null;
}

describe('reliability drill: kill -9 under steady load', () => {
  if (problems.length > 0) {
    it.todo(`needs every box's bin: ${problems.join('; ')}`);
    return;
  }
  it('loses no commit-mode-0 output, executes nothing twice, counts every failure, and recovers within 2 s of each kill', async () => {
    // The seed topology on addresses of its own (127.0.12.x), so it cannot meet another stack.
    const text = DEFAULT_TOPOLOGY.replaceAll('127.0.1.', '127.0.12.').replace('127.0.0.100', '127.0.12.100').replace('127.0.0.1:7700', '127.0.0.1:0');
    const t = { ...parseTopology(text, 'drill'), dataDir: join(dir, 'data') };
    const clock = { now: () => performance.timeOrigin + performance.now() };
    sup = new Supervisor({ topology: t, runtime: 'source', clock, logLevel: 'warn' });
    await sup.start();
    const restPort = t.distributes.find((d) => d.targets === 'zosconnect')!.port;
    const imsPort = t.distributes.find((d) => d.targets === 'imsconnect')!.port;
    const load = steadyLoad({ vipa: t.vipa, restPort, imsPort, now: clock.now });
    const kills: Array<{ box: string; at: number }> = [];
    try {
      await sleep(2000);
      for (const box of VICTIMS) {
        const entry = sup.timelineSince(0).at(-1)!.seq;
        await sup.kill(box);
        const killed = sup.timelineSince(entry).find((e) => e.kind === 'kill' && e.box === box)!;
        kills.push({ box, at: killed.at });
        await sleep(2500); // the load runs on the survivors
        await sup.restart(box);
        await sleep(1500);
      }
    } finally {
      await load.stop();
    }
    const recs = load.records;

    // Every request is counted, in exactly one bucket.
    for (const stream of ['rest', 'ims'] as const) {
      const rs = recs.filter((r) => r.stream === stream);
      const by = (k: Rec['kind']) => rs.filter((r) => r.kind === k).length;
      expect(by('succeeded') + by('failed') + by('in-doubt')).toBe(rs.length);
      expect(new Set(rs.map((r) => r.id)).size).toBe(rs.length);
      expect(by('succeeded')).toBeGreaterThan(0);
    }

    // Every IMS Connect must be back on every datastore (IBM's IMS Connect reconnects by itself when
    // IMS comes back). Until then requests for IMS1 are rerouted (ALTDS) and IMS1's phone book cannot be
    // read, so the checks below would be meaningless.
    const notBack = await datastoresNotActive(sup, ['HWS1', 'HWS2'], 10_000);
    expect(notBack, 'datastores still not ACTIVE 10 s after the last restart').toEqual([]);

    // What IMS executed: the IVTNO keys present in each system's phone book.
    const ims = recs.filter((r) => r.stream === 'ims');
    const keys = ims.map((r) => r.id);
    const on1 = await keysOn({ vipa: t.vipa, imsPort, datastore: 'IMS1', keys });
    const on2 = await keysOn({ vipa: t.vipa, imsPort, datastore: 'IMS2', keys });
    const executedTwice = keys.filter((k) => on1.has(k) && on2.has(k));
    expect(executedTwice).toEqual([]);

    // Outputs: answered ones, plus those found again on the hold queues of every tpipe whose request
    // was not answered (in doubt, or failed with an RSM after it reached IMS Connect).
    const answered = ims.filter((r) => r.kind === 'succeeded');
    const inDoubt = ims.filter((r) => r.kind === 'in-doubt');
    const unanswered = ims.filter((r) => r.kind !== 'succeeded' && r.clientId !== undefined);
    const endpoints = t.boxes.filter((b) => b.kind === 'imsconnect').map((b) => ({ host: t.hosts.find((h) => h.name === b.host)!.address, port: (b as { port: number }).port }));
    const recovered = await recoverOutputs({ endpoints, clientIds: [...new Set(unanswered.map((r) => r.clientId!))], datastores: ['IMS1', 'IMS2'] });
    const outputKey = (text: string) => /ADD {5}(D\d{7})/.exec(text)?.[1];
    const delivered = [...answered.map((r) => outputKey(r.text ?? '')), ...recovered.map(outputKey)].filter((k): k is string => k !== undefined);
    const deliveredTwice = delivered.filter((k, i) => delivered.indexOf(k) !== i);
    expect(deliveredTwice).toEqual([]);
    const deliveredSet = new Set(delivered);
    const lost = keys.filter((k) => (on1.has(k) || on2.has(k)) && !deliveredSet.has(k));
    if (lost.length > 0) {
      const t0 = kills[0]!.at;
      console.log('kills at', kills.map((k) => `${k.box} +${Math.round(k.at - t0)} ms`).join(', '));
      for (const k of lost.slice(0, 5)) {
        const r = ims.find((x) => x.id === k)!;
        console.log(`lost ${k}: ${r.kind} ${r.code ?? ''} tpipe ${r.clientId ?? '?'} started +${Math.round(r.startedAt - t0)} ended +${Math.round(r.endedAt - t0)} on ${on1.has(k) ? 'IMS1' : 'IMS2'}`);
      }
      for (const i of ['IMS1', 'IMS2']) console.log(i, (await sup.command(i, '/DIS TPIPE ALL')).filter((l) => /\s[1-9]\d*\s*$/.test(l) || l.includes(lost[0]!)).slice(0, 10).join(' | '));
    }
    expect(lost).toEqual([]);
    // Every answered ADD really ran (on one system).
    expect(answered.filter((r) => !on1.has(r.id) && !on2.has(r.id)).map((r) => r.id)).toEqual([]);

    // Service back within 2 s of each kill, on the supervisor's clock.
    const report = kills.map((k, i) => {
      const until = kills[i + 1]?.at ?? Infinity;
      return { box: k.box, rest: serviceBack(recs, 'rest', k.at, until), ims: serviceBack(recs, 'ims', k.at, until) };
    });
    console.log('drill recovery (ms after kill):', JSON.stringify(report), 'requests:', recs.length, 'in doubt:', inDoubt.length, 'recovered:', recovered.length);
    for (const r of report) {
      expect(r.rest, `REST after killing ${r.box}`).not.toBeNull();
      expect(r.ims, `IMS Connect after killing ${r.box}`).not.toBeNull();
      expect(r.rest!, `REST after killing ${r.box}`).toBeLessThanOrEqual(SERVICE_BACK_MS);
      expect(r.ims!, `IMS Connect after killing ${r.box}`).toBeLessThanOrEqual(SERVICE_BACK_MS);
    }
  }, 170_000);
});
