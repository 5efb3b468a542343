/**
 * Benchmark: ECHO transactions through the OTMA link (send-then-commit, sync level NONE: data + commit
 * confirmation per transaction) with 1 and 64 concurrent tpipes, against a plain length-prefixed echo
 * over TCP loopback with the same payload and concurrency, measured in the same run.
 *
 * The IMS system and the baseline echo server each run in their own child process; this process is the
 * load generator. Counts and time are bounded per case. Prints a table and one `@@bench` line per row.
 * Ratios: throughput = IMS / baseline; latency = baseline / IMS (so higher is better in both).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  CP037,
  CommitMode,
  OtmaMessageType,
  SyncLevel,
  XcfFrameReader,
  decodeXcfFrame,
  encodeXcfFrame,
  otmaControl,
  OtmaSecurityFlag,
} from '@imsplex/codec';
import { OtmaLinkClient } from '../src/otma/client.js';
import { writeTransactionRest } from '../src/otma/codec-adapter.js';

const pkgDir = join(import.meta.dirname, '..');
const PAYLOAD = 'ECHO    ' + 'X'.repeat(92); // 100 bytes of application data
const MAX_MS_PER_CASE = 8000;
const children: ChildProcess[] = [];

function spawnTs(args: string[], ready: (line: string) => number | undefined): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@imsplex/source', ...args], { cwd: pkgDir, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const p = ready(line);
      if (p !== undefined) resolve({ child, port: p });
    });
    child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Result {
  tps: number;
  p50: number;
  p99: number;
  count: number;
}

/** Drive `concurrency` loops of request/response until `total` are done (or time is up). */
async function drive(concurrency: number, total: number, once: (lane: number) => Promise<void>): Promise<Result> {
  const lat: number[] = [];
  let started = 0;
  const t0 = performance.now();
  const deadline = t0 + MAX_MS_PER_CASE;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      while (started < total && performance.now() < deadline) {
        started++;
        const s = performance.now();
        await once(lane);
        lat.push(performance.now() - s);
      }
    }),
  );
  const ms = performance.now() - t0;
  lat.sort((a, b) => a - b);
  return { tps: (lat.length / ms) * 1000, p50: percentile(lat, 50), p99: percentile(lat, 99), count: lat.length };
}

/** A multiplexed OTMA client: one link, many tpipes, waiters by tpipe. */
class OtmaMux {
  private readonly reader = new XcfFrameReader();
  private readonly waiters = new Map<string, () => void>();
  private seq = 0;
  private readonly rest = writeTransactionRest({ syncFlags: CommitMode.CM1, syncLevel: SyncLevel.NONE }, CP037);
  private readonly data = CP037.encode(PAYLOAD);
  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const f of this.reader.push(chunk)) {
        const m = decodeXcfFrame(f);
        if (m.control.messageType === OtmaMessageType.COMMIT_CONFIRMATION) {
          const tp = typeof m.control.tpipe === 'string' ? m.control.tpipe : '';
          const w = this.waiters.get(tp);
          this.waiters.delete(tp);
          w?.();
        }
      }
    });
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
}

/** Baseline client: frames `LLLL | lane(4) | payload`. */
class EchoMux {
  private readonly reader = new XcfFrameReader();
  private readonly waiters = new Map<number, () => void>();
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
    // Same size as the OTMA transaction frame would carry in data; the baseline has no prefix work.
    const payload = CP037.encode(PAYLOAD);
    const frame = new Uint8Array(8 + Math.max(32, payload.length));
    const dv = new DataView(frame.buffer);
    dv.setUint32(0, frame.length);
    dv.setUint32(4, lane);
    frame.set(payload, 8);
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

async function run(): Promise<void> {
  // IMS child (memory store: CM1 input is never journaled anyway), logs at info to find its port.
  const imsP = spawnTs(['src/bin.ts', '--link-port', '0', '--log-level', 'info'], (line) => {
    try {
      const j = JSON.parse(line) as { msg?: string; link?: { port: number } };
      return j.msg === 'IMS system ready' ? j.link?.port : undefined;
    } catch {
      return undefined;
    }
  });
  const echoP = spawnTs(['bench/echo-server.ts'], (line) => {
    try {
      return (JSON.parse(line) as { port?: number }).port;
    } catch {
      return undefined;
    }
  });
  const [ims, echo] = await Promise.all([imsP, echoP]);
  // client-bid through the reference client, then hand the socket over to the multiplexer
  const bidClient = await OtmaLinkClient.connect({ host: '127.0.0.1', port: ims.port, member: 'BENCH' });
  bidClient.close();
  const rows: Array<{ case: string; ims: Result; base: Result }> = [];
  for (const [concurrency, total] of [
    [1, 3000],
    [64, 20000],
  ] as const) {
    const s1 = await open(ims.port);
    await bidOn(s1);
    const mux = new OtmaMux(s1);
    const s2 = await open(echo.port);
    const emux = new EchoMux(s2);
    const tp = (lane: number) => `T${String(lane).padStart(7, '0')}`;
    // warm-up
    await drive(concurrency, Math.min(500, total / 4), (lane) => mux.transact(tp(lane)));
    await drive(concurrency, Math.min(500, total / 4), (lane) => emux.echo(lane));
    const base = await drive(concurrency, total, (lane) => emux.echo(lane));
    const imsR = await drive(concurrency, total, (lane) => mux.transact(tp(lane)));
    rows.push({ case: `${concurrency}-tpipe${concurrency > 1 ? 's' : ''}`, ims: imsR, base });
    s1.destroy();
    s2.destroy();
  }
  for (const c of children) c.kill('SIGTERM');

  const f = (n: number, d = 0) => n.toFixed(d).padStart(10);
  console.log('\nECHO through the OTMA link vs plain length-prefixed TCP echo (same run, loopback)');
  console.log('| case | IMS tx/s | TCP echo/s | ratio | IMS p50 ms | TCP p50 ms | IMS p99 ms | TCP p99 ms | n |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.case} | ${f(r.ims.tps)} | ${f(r.base.tps)} | ${(r.ims.tps / r.base.tps).toFixed(3)} | ${f(r.ims.p50, 3)} | ${f(r.base.p50, 3)} | ${f(r.ims.p99, 3)} | ${f(r.base.p99, 3)} | ${r.ims.count} |`);
  }
  for (const r of rows) {
    const line = (k: string, value: number, unit: string, baselineValue: number, ratio: number) =>
      console.log(`@@bench ${JSON.stringify({ suite: 'ims-otma-echo', case: `${k} ${r.case}`, value: round(value), unit, baseline: 'tcp-length-prefixed-echo', baselineValue: round(baselineValue), ratio: round(ratio, 4) })}`);
    line('throughput', r.ims.tps, 'tx/s', r.base.tps, r.ims.tps / r.base.tps);
    line('p50', r.ims.p50, 'ms', r.base.p50, r.base.p50 / r.ims.p50);
    line('p99', r.ims.p99, 'ms', r.base.p99, r.base.p99 / r.ims.p99);
  }
}

function round(n: number, d = 3): number {
  const k = 10 ** d;
  return Math.round(n * k) / k;
}

/** Client-bid on a raw socket (the multiplexer takes over afterwards). */
async function bidOn(s: Socket): Promise<void> {
  const { OtmaCommand } = await import('@imsplex/codec');
  const reader = new XcfFrameReader();
  s.write(
    encodeXcfFrame({
      control: otmaControl({ messageType: OtmaMessageType.COMMAND, commandType: OtmaCommand.CLIENT_BID, sendSequence: 1 }),
      state: { form: 'member', memberName: 'BENCH', originatorToken: new Uint8Array(8), destinationToken: new Uint8Array(8), druExitName: '', maxBlockSize: 0, queueFlags: 0xa0, flags2: 0, rest: new Uint8Array(0) },
    }),
  );
  await new Promise<void>((resolve) => {
    const onData = (chunk: Buffer) => {
      if (reader.push(chunk).length > 0) {
        s.off('data', onData);
        resolve();
      }
    };
    s.on('data', onData);
  });
}

run().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    for (const c of children) c.kill('SIGKILL');
    process.exit(1);
  },
);
