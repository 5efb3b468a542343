/**
 * Benchmark: ECHO transactions through the OTMA link (send-then-commit, sync level NONE: data + commit
 * confirmation per transaction) with 1 and 64 concurrent tpipes, against a plain length-prefixed echo
 * over TCP loopback with the same payload and concurrency, measured in the same run.
 *
 * The IMS system and the baseline echo server each run in their own child process; this process is the
 * load generator. Both load generators do the least their protocol needs: the echo client writes a
 * fresh frame and matches the reply by the lane number in it; the OTMA client writes a fresh copy of a
 * pre-encoded transaction frame (tpipe and sequence number set) and matches the commit confirmation by
 * message type and tpipe bytes, read at their layout offsets. Before each case one transaction is
 * decoded in full and checked (the DATA reply echoes the input, the commit confirmation says
 * committed), and every commit confirmation of the run must say committed.
 *
 * Method (robust to load from other processes on a shared machine): per case, a warm-up of both sides
 * (so V8 has optimised the hot code of both servers), then `ROUNDS` rounds that each run the echo and
 * IMS for `ROUND_MS` back to back, alternating which goes first. The ratio reported is the median of the
 * per-round ratios; rates and percentiles pool every round.
 *
 * Ratios: throughput = IMS / baseline; latency = baseline / IMS (so higher is better in both).
 *
 * Environment: `IMS_BENCH_ENTRY` — the IMS entry point to run (default `src/bin.ts` under tsx;
 * `dist/bin.js` after `npx tsup` runs the built code under plain node); `IMS_BENCH_ROUNDS`,
 * `IMS_BENCH_ROUND_MS`, `IMS_BENCH_WARMUP_MS` tune the method.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  CP037,
  CommitMode,
  OTMA_CONTROL_LAYOUT,
  OtmaCommand,
  OtmaCommitConfirmation,
  OtmaMessageType,
  OtmaResponseFlag,
  SyncLevel,
  XCF_LENGTH_BYTES,
  XcfFrameReader,
  decodeXcfFrame,
  encodeXcfFrame,
  otmaControl,
  OtmaSecurityFlag,
} from '@imsplex/codec';
import { writeTransactionRest } from '../src/otma/codec-adapter.js';

const pkgDir = join(import.meta.dirname, '..');
const PAYLOAD = 'ECHO    ' + 'X'.repeat(92); // 100 bytes of application data
const ROUNDS = intEnv('IMS_BENCH_ROUNDS', 5);
const ROUND_MS = intEnv('IMS_BENCH_ROUND_MS', 600);
const WARMUP_MS = intEnv('IMS_BENCH_WARMUP_MS', 1500);
/** Latency samples kept per side and case (bounds memory whatever the rate). */
const MAX_SAMPLES = 2_000_000;
const GOALS: Record<number, number> = { 1: 0.6, 64: 0.5 };
const children: ChildProcess[] = [];

function intEnv(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  if (!/^\d{1,7}$/.test(v)) throw new Error(`${name} must be a whole number, got '${v}'`);
  return Number(v);
}

/** Offsets in a frame (LLLL + control section) of the control fields the OTMA client reads or sets. */
function controlOffset(name: string): number {
  const f = OTMA_CONTROL_LAYOUT.fields.find((x) => x.name === name);
  if (!f) throw new Error(`OTMA control layout has no ${name}`);
  return XCF_LENGTH_BYTES + f.offset;
}
const MESSAGE_TYPE_AT = controlOffset('messageType');
const COMMIT_CONFIRMATION_AT = controlOffset('commitConfirmation');
const TPIPE_AT = controlOffset('tpipe');
const SEQUENCE_AT = controlOffset('sendSequence');

function spawnChild(args: string[], ready: (line: string) => number | undefined): Promise<{ child: ChildProcess; port: number }> {
  const entry = args[0]!;
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx', '--conditions=@imsplex/source'] : [];
  const child = spawn(process.execPath, [...loader, ...args], { cwd: pkgDir, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const p = ready(line);
      if (p !== undefined) resolve({ child, port: p });
    });
    child.once('exit', (code) => reject(new Error(`${entry} exited ${code}`)));
  });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** One side's samples over all rounds of a case. */
class Side {
  count = 0;
  ms = 0;
  readonly lat: number[] = [];
  readonly roundRates: number[] = [];
  get tps(): number {
    return this.ms > 0 ? (this.count / this.ms) * 1000 : 0;
  }
}

/** Drive `concurrency` request/response loops for `ms` milliseconds. */
async function drive(concurrency: number, ms: number, once: (lane: number) => Promise<void>, side?: Side): Promise<void> {
  let count = 0;
  const t0 = performance.now();
  const deadline = t0 + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      while (performance.now() < deadline) {
        const s = performance.now();
        await once(lane);
        count++;
        if (side && side.lat.length < MAX_SAMPLES) side.lat.push(performance.now() - s);
      }
    }),
  );
  const elapsed = performance.now() - t0;
  if (side) {
    side.count += count;
    side.ms += elapsed;
    side.roundRates.push((count / elapsed) * 1000);
  }
}

const tpipeName = (lane: number): string => `T${String(lane).padStart(7, '0')}`;

/** A multiplexed OTMA client: one link, one tpipe per lane, waiters by tpipe. */
class OtmaMux {
  private readonly reader = new XcfFrameReader();
  private readonly waiters = new Map<string, () => void>();
  private readonly templates: Uint8Array[] = [];
  private readonly names: string[] = [];
  private seq = 0;
  /** When set, every frame is decoded in full and handed here (the correctness check). */
  inspect: ((frame: Uint8Array) => void) | undefined;
  aborted = 0;

  constructor(
    private readonly socket: Socket,
    lanes: number,
  ) {
    const rest = writeTransactionRest({ syncFlags: CommitMode.CM1, syncLevel: SyncLevel.NONE }, CP037);
    const data = CP037.encode(PAYLOAD);
    for (let lane = 0; lane < lanes; lane++) {
      this.names.push(tpipeName(lane));
      this.templates.push(
        encodeXcfFrame({
          control: otmaControl({ messageType: OtmaMessageType.TRANSACTION, tpipe: tpipeName(lane), sendSequence: 0 }),
          state: { form: 'transaction', serverState: 0, rest },
          security: { flag: OtmaSecurityFlag.NONE, rest: new Uint8Array(0) },
          segments: [data],
        }),
      );
    }
    socket.on('data', (chunk: Buffer) => {
      for (const f of this.reader.push(chunk)) {
        this.inspect?.(f);
        if (f[MESSAGE_TYPE_AT] !== OtmaMessageType.COMMIT_CONFIRMATION) continue;
        if (f[COMMIT_CONFIRMATION_AT] !== OtmaCommitConfirmation.COMMITTED) this.aborted++;
        const tp = CP037.decode(f, TPIPE_AT, TPIPE_AT + 8);
        const w = this.waiters.get(tp);
        this.waiters.delete(tp);
        w?.();
      }
    });
  }

  transact(lane: number): Promise<void> {
    const frame = this.templates[lane]!.slice();
    const seq = ++this.seq;
    frame[SEQUENCE_AT] = seq >>> 24;
    frame[SEQUENCE_AT + 1] = (seq >>> 16) & 0xff;
    frame[SEQUENCE_AT + 2] = (seq >>> 8) & 0xff;
    frame[SEQUENCE_AT + 3] = seq & 0xff;
    return new Promise((resolve) => {
      this.waiters.set(this.names[lane]!, resolve);
      this.socket.write(frame);
    });
  }

  /** One transaction decoded in full: the reply must echo the input and the commit must be confirmed. */
  async check(): Promise<void> {
    const seen: string[] = [];
    this.inspect = (f) => {
      const m = decodeXcfFrame(f);
      if (m.control.messageType === OtmaMessageType.DATA) seen.push(`DATA ${(m.segments ?? []).map((s) => CP037.decode(s)).join('|')}`);
      else if (m.control.messageType === OtmaMessageType.COMMIT_CONFIRMATION) seen.push(`CC ${m.control.commitConfirmation === OtmaCommitConfirmation.COMMITTED ? 'committed' : 'aborted'}`);
      else seen.push(`type ${m.control.messageType}`);
    };
    await this.transact(0);
    this.inspect = undefined;
    const want = [`DATA ${PAYLOAD}`, 'CC committed'];
    if (seen.join('\n') !== want.join('\n')) throw new Error(`ECHO check failed: got ${JSON.stringify(seen)}`);
  }
}

/** Baseline client: frames `LLLL | lane(4) | payload`. */
class EchoMux {
  private readonly reader = new XcfFrameReader();
  private readonly waiters = new Map<number, () => void>();
  private readonly payload = CP037.encode(PAYLOAD);
  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const f of this.reader.push(chunk)) {
        const lane = (f[4]! << 24) | (f[5]! << 16) | (f[6]! << 8) | f[7]!;
        const w = this.waiters.get(lane);
        this.waiters.delete(lane);
        w?.();
      }
    });
  }
  echo(lane: number): Promise<void> {
    // Same application data as the OTMA transaction carries; the baseline has no prefix work.
    const frame = new Uint8Array(8 + Math.max(32, this.payload.length));
    const dv = new DataView(frame.buffer);
    dv.setUint32(0, frame.length);
    dv.setUint32(4, lane);
    frame.set(this.payload, 8);
    return new Promise((resolve) => {
      this.waiters.set(lane, resolve);
      this.socket.write(frame);
    });
  }
}

async function open(port: number): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port, noDelay: true });
  await new Promise<void>((r, j) => {
    s.once('connect', r);
    s.once('error', j);
  });
  return s;
}

/** Client-bid on a raw socket (the multiplexer takes over afterwards). */
async function bidOn(s: Socket): Promise<void> {
  const reader = new XcfFrameReader();
  s.write(
    encodeXcfFrame({
      control: otmaControl({ messageType: OtmaMessageType.COMMAND, commandType: OtmaCommand.CLIENT_BID, sendSequence: 1 }),
      state: { form: 'member', memberName: 'BENCH', originatorToken: new Uint8Array(8), destinationToken: new Uint8Array(8), druExitName: '', maxBlockSize: 0, queueFlags: 0xa0, flags2: 0, rest: new Uint8Array(0) },
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      const frames = reader.push(chunk);
      if (frames.length === 0) return;
      s.off('data', onData);
      const m = decodeXcfFrame(frames[0]!);
      if (m.control.messageType === (OtmaMessageType.COMMAND | OtmaMessageType.RESPONSE) && m.control.responseFlags & OtmaResponseFlag.ACK) resolve();
      else reject(new Error('client-bid was not ACKed'));
    };
    s.on('data', onData);
  });
}

interface Row {
  case: string;
  concurrency: number;
  ims: Side;
  base: Side;
  ratio: number;
}

async function run(): Promise<void> {
  const entry = process.env.IMS_BENCH_ENTRY ?? 'src/bin.ts';
  const entryPath = isAbsolute(entry) ? entry : join(pkgDir, entry);
  if (!existsSync(entryPath)) throw new Error(`IMS entry ${entryPath} not found${entry.startsWith('dist') ? ' (run `npx tsup` first)' : ''}`);
  // IMS child: the built-in sample system without --data (memory store; CM1 input is never journaled
  // anyway), logs at info to find its port.
  const imsP = spawnChild([entryPath, '--link-port', '0', '--log-level', 'info'], (line) => {
    try {
      const j = JSON.parse(line) as { msg?: string; link?: { port: number } };
      return j.msg === 'IMS system ready' ? j.link?.port : undefined;
    } catch {
      return undefined;
    }
  });
  const echoP = spawnChild(['bench/echo-server.ts'], (line) => {
    try {
      return (JSON.parse(line) as { port?: number }).port;
    } catch {
      return undefined;
    }
  });
  const [ims, echo] = await Promise.all([imsP, echoP]);
  const rows: Row[] = [];
  for (const concurrency of [1, 64]) {
    const s1 = await open(ims.port);
    await bidOn(s1);
    const mux = new OtmaMux(s1, concurrency);
    const s2 = await open(echo.port);
    const emux = new EchoMux(s2);
    await mux.check();
    const imsOnce = (lane: number) => mux.transact(lane);
    const echoOnce = (lane: number) => emux.echo(lane);
    await drive(concurrency, WARMUP_MS, imsOnce);
    await drive(concurrency, WARMUP_MS, echoOnce);
    const imsSide = new Side();
    const baseSide = new Side();
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) {
        await drive(concurrency, ROUND_MS, echoOnce, baseSide);
        await drive(concurrency, ROUND_MS, imsOnce, imsSide);
      } else {
        await drive(concurrency, ROUND_MS, imsOnce, imsSide);
        await drive(concurrency, ROUND_MS, echoOnce, baseSide);
      }
    }
    if (mux.aborted > 0) throw new Error(`${mux.aborted} ECHO transactions were not committed`);
    imsSide.lat.sort((a, b) => a - b);
    baseSide.lat.sort((a, b) => a - b);
    const ratio = median(imsSide.roundRates.map((x, i) => x / baseSide.roundRates[i]!));
    rows.push({ case: `${concurrency}-tpipe${concurrency > 1 ? 's' : ''}`, concurrency, ims: imsSide, base: baseSide, ratio });
    s1.destroy();
    s2.destroy();
  }
  for (const c of children) c.kill('SIGTERM');

  const f = (n: number, d = 0) => n.toFixed(d).padStart(10);
  console.log(`\nECHO through the OTMA link vs plain length-prefixed TCP echo (same run, loopback; IMS entry ${entry})`);
  console.log(`warm-up ${WARMUP_MS} ms per side, then ${ROUNDS} alternating rounds of ${ROUND_MS} ms per side; ratio = median of the per-round ratios`);
  console.log('| case | IMS tx/s | TCP echo/s | ratio | IMS p50 ms | TCP p50 ms | IMS p99 ms | TCP p99 ms | IMS n |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const [i, b] = [r.ims, r.base];
    console.log(
      `| ${r.case} | ${f(i.tps)} | ${f(b.tps)} | ${r.ratio.toFixed(3)} | ${f(percentile(i.lat, 50), 3)} | ${f(percentile(b.lat, 50), 3)} | ${f(percentile(i.lat, 99), 3)} | ${f(percentile(b.lat, 99), 3)} | ${i.count} |`,
    );
  }
  for (const r of rows) {
    const line = (k: string, value: number, unit: string, baselineValue: number, ratio: number, goal?: number) =>
      console.log(
        `@@bench ${JSON.stringify({ suite: 'ims-otma-echo', case: `${k} ${r.case}`, value: round(value), unit, baseline: 'tcp-length-prefixed-echo', baselineValue: round(baselineValue), ratio: round(ratio, 4), ...(goal === undefined ? {} : { goal }) })}`,
      );
    const [i, b] = [r.ims, r.base];
    line('throughput', i.tps, 'tx/s', b.tps, r.ratio, GOALS[r.concurrency]);
    const [ip50, bp50, ip99, bp99] = [percentile(i.lat, 50), percentile(b.lat, 50), percentile(i.lat, 99), percentile(b.lat, 99)];
    line('p50', ip50, 'ms', bp50, ip50 > 0 ? bp50 / ip50 : 0);
    line('p99', ip99, 'ms', bp99, ip99 > 0 ? bp99 / ip99 : 0);
  }
}

function round(n: number, d = 3): number {
  const k = 10 ** d;
  return Math.round(n * k) / k;
}

run().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    for (const c of children) c.kill('SIGKILL');
    process.exit(1);
  },
);
