/**
 * Benchmark: transactions per second with shared queues on Redis against the embedded queues, in the
 * same run. The workload is the recoverable path the shared queues carry: commit-then-send (CM0)
 * send-receive ECHO transactions — input queued, claimed, processed, committed with its output on the
 * tpipe's hold queue, the output sent, ACKed and deleted — over N concurrent tpipes.
 *
 * Systems (each its own `imsplex-ims` child process; this process is the load generator):
 * - `embedded-memory`  (the baseline): the embedded store without a data directory.
 * - `embedded-journal`: the embedded store journaling to a temporary directory (JOURNAL=(FSYNC), the
 *   default durable mode).
 * - `shared-1-ims`: one IMS system in a shared-queues group on a private redis-server (no persistence).
 * - `shared-2-ims`: two IMS systems in another group on the same Redis; the tpipes are split between
 *   their links (each IMS may process any message; the front end sends the reply).
 *
 * Method (robust to other load on a shared machine): one warm-up per system, then `ROUNDS` rounds that
 * each run every system for `ROUND_MS`, rotating which goes first. Reported rate: all rounds pooled.
 * Ratio: the median of the per-round ratios system / baseline. Prints a table, then one `@@bench` line
 * per row. Skips (exit 0, with a message) when redis-server is not installed.
 *
 * Environment: `SQ_BENCH_ROUNDS` (default 5), `SQ_BENCH_ROUND_MS` (700), `SQ_BENCH_WARMUP_MS` (1000).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  CP037,
  CommitMode,
  OtmaCommand,
  OtmaMessageType,
  OtmaResponseFlag,
  OtmaSecurityFlag,
  SyncLevel,
  XcfFrameReader,
  decodeXcfFrame,
  encodeXcfFrame,
  otmaControl,
} from '@imsplex/codec';
import { DEFAULT_SYSTEM_DEFINITION } from '../src/config.js';
import { writeTransactionRest } from '../src/otma/codec-adapter.js';
import { redisMissing, startRedis, type TestRedis } from '../test/redis-harness.js';

const pkgDir = join(import.meta.dirname, '..');
const PAYLOAD = 'ECHO    ' + 'X'.repeat(92); // 100 bytes of application data
const ROUNDS = intEnv('SQ_BENCH_ROUNDS', 5);
const ROUND_MS = intEnv('SQ_BENCH_ROUND_MS', 700);
const WARMUP_MS = intEnv('SQ_BENCH_WARMUP_MS', 1000);
const CONCURRENCY = [1, 16] as const;
const children: ChildProcess[] = [];

function intEnv(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  if (!/^\d{1,7}$/.test(v)) throw new Error(`${name} must be a whole number, got '${v}'`);
  return Number(v);
}

function startIms(args: string[]): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@imsplex/source', 'src/bin.ts', '--link-port', '0', '--log-level', 'info', ...args], {
    cwd: pkgDir,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const j = JSON.parse(line) as { msg?: string; link?: { port: number } };
        if (j.msg === 'IMS system ready' && j.link) resolve(j.link.port);
      } catch {
        // not JSON
      }
    });
    child.once('exit', (code) => reject(new Error(`imsplex-ims exited with ${code}`)));
  });
}

/** One OTMA link carrying CM0 send-receive transactions on many tpipes; replies are ACKed at once. */
class Cm0Mux {
  private readonly reader = new XcfFrameReader();
  private readonly waiters = new Map<string, () => void>();
  private seq = 100;
  private readonly rest = writeTransactionRest({ syncFlags: CommitMode.CM0, syncLevel: SyncLevel.CONFIRM }, CP037);
  private readonly data = CP037.encode(PAYLOAD);
  private bad = 0;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const f of this.reader.push(chunk)) {
        const m = decodeXcfFrame(f);
        if (!(m.control.messageType & OtmaMessageType.DATA)) continue;
        const tp = typeof m.control.tpipe === 'string' ? m.control.tpipe.trim() : '';
        if (CP037.decode(m.segments?.[0] ?? new Uint8Array(0)) !== PAYLOAD) this.bad++;
        // ACK the output (one frame), then let the lane send its next transaction.
        socket.write(encodeXcfFrame({ control: otmaControl({ messageType: OtmaMessageType.RESPONSE, responseFlags: OtmaResponseFlag.ACK, tpipe: m.control.tpipe, sendSequence: m.control.sendSequence }) }));
        const w = this.waiters.get(tp);
        this.waiters.delete(tp);
        w?.();
      }
    });
  }

  static async open(port: number, member: string): Promise<Cm0Mux> {
    const s = connect({ host: '127.0.0.1', port, noDelay: true });
    await new Promise<void>((r, j) => {
      s.once('connect', r);
      s.once('error', j);
    });
    const reader = new XcfFrameReader();
    s.write(
      encodeXcfFrame({
        control: otmaControl({ messageType: OtmaMessageType.COMMAND, commandType: OtmaCommand.CLIENT_BID, sendSequence: 1 }),
        state: { form: 'member', memberName: member, originatorToken: new Uint8Array(8), destinationToken: new Uint8Array(8), druExitName: '', maxBlockSize: 0, queueFlags: 0xa0, flags2: 0, rest: new Uint8Array(0) },
      }),
    );
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        const frames = reader.push(chunk);
        if (frames.length === 0) return;
        s.off('data', onData);
        const ack = decodeXcfFrame(frames[0]!);
        if (ack.control.responseFlags & OtmaResponseFlag.ACK) resolve();
        else reject(new Error('client-bid refused'));
      };
      s.on('data', onData);
    });
    return new Cm0Mux(s);
  }

  get mismatches(): number {
    return this.bad;
  }

  transact(tpipe: string): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.set(tpipe, resolve);
      this.socket.write(
        encodeXcfFrame({
          control: otmaControl({ messageType: OtmaMessageType.TRANSACTION, tpipe, sendSequence: ++this.seq }),
          state: { form: 'transaction', serverState: 0, rest: this.rest },
          security: { flag: OtmaSecurityFlag.NONE, rest: new Uint8Array(0) },
          segments: [this.data],
        }),
      );
    });
  }

  close(): void {
    this.socket.end(); // after the last ACKs are written
  }
}

interface System {
  readonly name: string;
  /** Link ports; lanes are spread over them. */
  readonly ports: number[];
}

/** Run `lanes` request/response loops for `ms`; returns completed transactions and elapsed ms. */
async function drive(sys: System, lanes: number, ms: number, round: number): Promise<{ n: number; ms: number; bad: number }> {
  const muxes = await Promise.all(sys.ports.map((p, i) => Cm0Mux.open(p, `BENCH${i + 1}`)));
  let n = 0;
  const t0 = performance.now();
  const deadline = t0 + ms;
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      const mux = muxes[lane % muxes.length]!;
      const tpipe = `R${round % 10}L${String(lane).padStart(4, '0')}`;
      while (performance.now() < deadline) {
        await mux.transact(tpipe);
        n++;
      }
    }),
  );
  const elapsed = performance.now() - t0;
  const bad = muxes.reduce((s, m) => s + m.mismatches, 0);
  for (const m of muxes) m.close();
  return { n, ms: elapsed, bad };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function round(n: number, d = 3): number {
  const k = 10 ** d;
  return Math.round(n * k) / k;
}

async function run(): Promise<void> {
  if (redisMissing) {
    console.log(`sharedq bench skipped: ${redisMissing}`);
    return;
  }
  let redis: TestRedis | undefined;
  const dir = await mkdtemp(join(tmpdir(), 'imsplex-sqbench-'));
  try {
    redis = await startRedis();
    const def = (imsId: string, extra = '') => DEFAULT_SYSTEM_DEFINITION.replace('IMSID=IMS1', `IMSID=${imsId}`).replace('MEMBER=IMS1', `MEMBER=${imsId}`) + extra;
    const shared = (group: string) => `SHAREDQ  GROUP=${group},URL=${redis!.url}\n`;
    await writeFile(join(dir, 'mem.cfg'), def('IMSM'));
    await writeFile(join(dir, 'jrn.cfg'), def('IMSJ'));
    await writeFile(join(dir, 's1.cfg'), def('IMSS', shared('BENCH1')));
    await writeFile(join(dir, 's2a.cfg'), def('IMSA', shared('BENCH2')));
    await writeFile(join(dir, 's2b.cfg'), def('IMSB', shared('BENCH2')));
    const [mem, jrn, s1, s2a, s2b] = await Promise.all([
      startIms(['--config', join(dir, 'mem.cfg')]),
      startIms(['--config', join(dir, 'jrn.cfg'), '--data', join(dir, 'journal')]),
      startIms(['--config', join(dir, 's1.cfg')]),
      startIms(['--config', join(dir, 's2a.cfg')]),
      startIms(['--config', join(dir, 's2b.cfg')]),
    ]);
    const systems: System[] = [
      { name: 'embedded-memory', ports: [mem] },
      { name: 'embedded-journal', ports: [jrn] },
      { name: 'shared-1-ims', ports: [s1] },
      { name: 'shared-2-ims', ports: [s2a, s2b] },
    ];
    const rows: Array<{ sys: string; lanes: number; tps: number; ratio: number; base: number; n: number }> = [];
    let bad = 0;
    for (const lanes of CONCURRENCY) {
      for (const s of systems) bad += (await drive(s, lanes, WARMUP_MS, 9)).bad;
      const totals = new Map<string, { n: number; ms: number; perRound: number[] }>(systems.map((s) => [s.name, { n: 0, ms: 0, perRound: [] }]));
      for (let r = 0; r < ROUNDS; r++) {
        const order = systems.map((_, i) => systems[(i + r) % systems.length]!);
        for (const s of order) {
          const res = await drive(s, lanes, ROUND_MS, r);
          bad += res.bad;
          const t = totals.get(s.name)!;
          t.n += res.n;
          t.ms += res.ms;
          t.perRound.push((res.n / res.ms) * 1000);
        }
      }
      const baseRounds = totals.get('embedded-memory')!.perRound;
      const base = totals.get('embedded-memory')!;
      const baseTps = (base.n / base.ms) * 1000;
      for (const s of systems) {
        const t = totals.get(s.name)!;
        rows.push({ sys: s.name, lanes, tps: (t.n / t.ms) * 1000, ratio: median(t.perRound.map((v, i) => v / baseRounds[i]!)), base: baseTps, n: t.n });
      }
    }
    if (bad > 0) throw new Error(`${bad} replies did not echo the input`);

    const f = (n: number, d = 0) => n.toFixed(d).padStart(9);
    console.log(`\nCM0 send-receive ECHO (queue, claim, process, commit, send, ACK, delete): shared queues on Redis vs embedded; ${ROUNDS} rounds of ${ROUND_MS} ms`);
    console.log('| system | tpipes | tx/s | baseline tx/s (embedded-memory) | ratio (median per round) | n |');
    console.log('|---|---|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.sys} | ${r.lanes} | ${f(r.tps)} | ${f(r.base)} | ${r.ratio.toFixed(3)} | ${r.n} |`);
    for (const r of rows) {
      console.log(
        `@@bench ${JSON.stringify({ suite: 'ims-shared-queues', case: `throughput ${r.sys} ${r.lanes}-tpipe${r.lanes > 1 ? 's' : ''}`, value: round(r.tps, 1), unit: 'tx/s', baseline: 'embedded-memory', baselineValue: round(r.base, 1), ratio: round(r.ratio, 4) })}`,
      );
    }
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

run().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    for (const c of children) c.kill('SIGKILL');
    process.exit(1);
  },
);
