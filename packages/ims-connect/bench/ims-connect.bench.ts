/**
 * IMS Connect emulator benchmark (`pnpm bench` in this package; the root `pnpm bench` builds first).
 *
 * Every measured process is a plain Node process running built code:
 * - the IMS Connect under test runs `@imsplex/ims-connect` from dist (bench/server.mjs `imsc`, no tsx
 *   loader, no source condition; the resolved module path and execArgv are printed to prove it);
 * - the baseline, a plain LLLL length-prefixed echo server, runs in its own process (server.mjs `echo`);
 * - the load generator runs in a third process (bench/load.mjs) with frames encoded before the clock.
 * This orchestrator only forks them and does arithmetic.
 *
 * 1. SAMPL1 send-receive CM1/NONE against ECHO on 1, 8 and 64 persistent connections: round trips/s and
 *    p50/p99 latency. IMS Connect answers from an in-process ECHO datastore, so the ratio to the plain
 *    echo measures IMS Connect's own work (framing, IRM decode, session, reply encode); goal ≥ 0.85× at
 *    64. Each connection count runs `BENCH_ROUNDS` rounds (default 9 × `BENCH_MS` 1000 ms) of both
 *    servers, interleaved (A B, B A, …); the reported ratio is the median of the per-round ratios, the
 *    rates and latencies the medians of the rounds. Each server's CPU time per round trip
 *    (`process.cpuUsage()` across the run) is reported too: it varies less than throughput when other
 *    processes load the machine.
 * 2. The same load through the real IMS engine (OTMA link, ECHO program), informational, no goal
 *    (`BENCH_ENGINE=0` skips it; the engine process itself runs from source with tsx).
 * 3. 19,000 idle persistent connections (each after one interaction) held by one IMS Connect process
 *    from dist, the connecting side another process: the server's RSS after a GC; goal < 256 MB.
 *
 * Prints a table and one `@@bench` line per row.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const PKG = join(HERE, '..');
const CODEC = join(PKG, '../codec');
const DURATION_MS = Number(process.env.BENCH_MS ?? 1000);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 250);
// Many short interleaved rounds: on a shared machine the load of other processes changes within
// seconds, and a pair of neighbouring runs sees nearly the same conditions.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const IDLE_CONNECTIONS = Number(process.env.BENCH_IDLE ?? 19_000);
const CONNS = (process.env.BENCH_CONNS ?? '1,8,64').split(',').map(Number);
const ONLY = process.env.BENCH_ONLY; // 'throughput' | 'idle'

// ------------------------------------------------------------------------------------------------
// dist checks

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Build this package's dist when missing or older than its sources; refuse a stale codec dist. */
function ensureDist(): void {
  const codecDist = join(CODEC, 'dist/index.js');
  if (!existsSync(codecDist)) throw new Error('@imsplex/codec has no dist: run `npx tsup` in packages/codec (or the root `pnpm bench`, which builds everything) first');
  if (statSync(codecDist).mtimeMs < newest(join(CODEC, 'src'))) {
    // BENCH_STALE_CODEC=1 measures against the codec dist as built (e.g. while its sources are edited).
    if (process.env.BENCH_STALE_CODEC === '1') console.error('warning: @imsplex/codec dist is older than its sources (BENCH_STALE_CODEC=1)');
    else throw new Error(`@imsplex/codec's dist is missing or older than its sources: run \`npx tsup\` in packages/codec (or the root \`pnpm bench\`, which builds everything) first`);
  }
  const dist = join(PKG, 'dist/index.js');
  if (!existsSync(dist) || statSync(dist).mtimeMs < newest(join(PKG, 'src'))) {
    console.error('building @imsplex/ims-connect (dist missing or stale) …');
    execFileSync('npx', ['tsup'], { cwd: PKG, stdio: ['ignore', 'ignore', 'inherit'] });
  }
}

// ------------------------------------------------------------------------------------------------
// child processes

/** Environment for the measured processes: no loader may leak in through NODE_OPTIONS. */
const plainEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
};

interface Proc<T> {
  proc: ChildProcess;
  first: T;
  ask<R>(msg: unknown): Promise<R>;
  stop(): Promise<void>;
}

async function start<T>(file: string, args: string[], execArgv: string[]): Promise<Proc<T>> {
  const proc = fork(file, args, { cwd: PKG, execArgv, env: plainEnv(), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <R>(): Promise<R> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`${file} ${args.join(' ')} exited with ${code}`));
      proc.once('exit', onExit);
      proc.once('message', (m) => {
        proc.off('exit', onExit);
        const e = (m as { error?: string }).error;
        if (e) reject(new Error(e));
        else resolve(m as R);
      });
    });
  const first = await next<T>();
  return {
    proc,
    first,
    ask: <R>(msg: unknown) => {
      const p = next<R>();
      proc.send(msg as never);
      return p;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.send('close' as never, () => undefined);
        proc.send({ cmd: 'exit' } as never, () => undefined);
      }),
  };
}

interface ServerInfo {
  port: number;
  module: string;
  execArgv: string[];
  rss: number;
}
interface LoadResult {
  count: number;
  seconds: number;
  p50: number;
  p99: number;
}
interface CpuUsage {
  user: number;
  system: number;
}
interface Measured extends LoadResult {
  /** Server CPU µs (user + system) per round trip. */
  cpuPerRt: number;
}
interface Row {
  suite: string;
  case: string;
  value: number;
  unit: string;
  baseline: string;
  baselineValue: number;
  ratio: number;
  goal?: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// ------------------------------------------------------------------------------------------------
// 1 + 2: throughput

let runNo = 0;
function prefix(): string {
  return (runNo++ % 1296).toString(36).toUpperCase().padStart(2, '0');
}

async function throughput(rows: Row[], table: string[]): Promise<Map<number, number>> {
  const echo = await start<ServerInfo>(join(HERE, 'server.mjs'), ['echo'], []);
  const imsc = await start<ServerInfo>(join(HERE, 'server.mjs'), ['imsc'], []);
  const gen = await start<{ ready: boolean }>(join(HERE, 'load.mjs'), [], []);
  table.push(`IMS Connect under test: ${imsc.first.module} (execArgv ${JSON.stringify(imsc.first.execArgv)})`, '');
  table.push(`SAMPL1 send-receive CM1/NONE, ECHO; ${ROUNDS} interleaved rounds × ${DURATION_MS} ms per server and connection count (medians; ratio = median of per-round ratios)`, '');
  table.push('| connections | plain echo rt/s | IMS Connect rt/s | ratio (per-round ratios) | IMS Connect p50 / p99 ms | plain echo p50 / p99 ms | server CPU µs/rt: echo / IMS Connect |', '|---|---|---|---|---|---|---|');
  const baseRates = new Map<number, number>();
  try {
    for (const conns of CONNS) {
      const e: Measured[] = [];
      const i: Measured[] = [];
      const ratios: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const run = async (srv: Proc<ServerInfo>): Promise<Measured> => {
          const c0 = await srv.ask<CpuUsage>('cpu');
          const res = await gen.ask<LoadResult>({ cmd: 'load', port: srv.first.port, conns, ms: DURATION_MS, warmupMs: WARMUP_MS, prefix: prefix() });
          const c1 = await srv.ask<CpuUsage>('cpu');
          // CPU over warm-up + run, per round trip measured (the warm-up share is the same for both).
          return { ...res, cpuPerRt: (c1.user - c0.user + c1.system - c0.system) / Math.max(1, res.count) };
        };
        let a: Measured;
        let b: Measured;
        if (r % 2 === 0) {
          a = await run(echo);
          b = await run(imsc);
        } else {
          b = await run(imsc);
          a = await run(echo);
        }
        e.push(a);
        i.push(b);
        ratios.push(b.count / b.seconds / (a.count / a.seconds));
      }
      const eRate = median(e.map((x) => x.count / x.seconds));
      const iRate = median(i.map((x) => x.count / x.seconds));
      const ratio = median(ratios);
      baseRates.set(conns, eRate);
      const ip50 = median(i.map((x) => x.p50));
      const ip99 = median(i.map((x) => x.p99));
      const ep50 = median(e.map((x) => x.p50));
      const ep99 = median(e.map((x) => x.p99));
      const eCpu = median(e.map((x) => x.cpuPerRt));
      const iCpu = median(i.map((x) => x.cpuPerRt));
      table.push(`| ${conns} | ${Math.round(eRate)} | ${Math.round(iRate)} | ${ratio.toFixed(2)}× (${ratios.map((x) => x.toFixed(2)).join(' ')}) | ${ip50.toFixed(3)} / ${ip99.toFixed(3)} | ${ep50.toFixed(3)} / ${ep99.toFixed(3)} | ${eCpu.toFixed(1)} / ${iCpu.toFixed(1)} |`);
      rows.push({ suite: 'sampl1-echo', case: `${conns} conn server CPU per round trip`, value: iCpu, unit: 'µs', baseline: 'plain LLLL echo (own process)', baselineValue: eCpu, ratio: iCpu > 0 ? eCpu / iCpu : 0 });
      rows.push({ suite: 'sampl1-echo', case: `${conns} conn round trips/s`, value: iRate, unit: 'rt/s', baseline: 'plain LLLL echo (own process)', baselineValue: eRate, ratio, ...(conns === 64 ? { goal: 0.85 } : {}) });
      rows.push({ suite: 'sampl1-echo', case: `${conns} conn p50 latency`, value: ip50, unit: 'ms', baseline: 'plain LLLL echo (own process)', baselineValue: ep50, ratio: ip50 > 0 ? ep50 / ip50 : 0 });
      rows.push({ suite: 'sampl1-echo', case: `${conns} conn p99 latency`, value: ip99, unit: 'ms', baseline: 'plain LLLL echo (own process)', baselineValue: ep99, ratio: ip99 > 0 ? ep99 / ip99 : 0 });
    }
  } finally {
    await imsc.stop();
    await echo.stop();
    await gen.stop();
  }
  return baseRates;
}

async function viaEngine(rows: Row[], table: string[], baseRates: Map<number, number>): Promise<void> {
  let ims: Proc<{ host: string; port: number; member: string }> | undefined;
  let imsc: Proc<ServerInfo> | undefined;
  let gen: Proc<{ ready: boolean }> | undefined;
  try {
    ims = await start(join(HERE, 'ims-engine.ts'), [], ['--import', 'tsx', '--conditions=@imsplex/source']);
    imsc = await start<ServerInfo>(join(HERE, 'server.mjs'), ['imsc-otma', ims.first.host, String(ims.first.port), ims.first.member], []);
    gen = await start(join(HERE, 'load.mjs'), [], []);
    table.push('', 'Through the IMS engine (OTMA link to @imsplex/ims, ECHO program; one run each; informational, no goal)', '', '| connections | rt/s | p50 / p99 ms | vs plain echo |', '|---|---|---|---|');
    for (const conns of CONNS) {
      const r = await gen.ask<LoadResult>({ cmd: 'load', port: imsc.first.port, conns, ms: DURATION_MS, warmupMs: WARMUP_MS, prefix: prefix() });
      const rate = r.count / r.seconds;
      const base = baseRates.get(conns) ?? NaN;
      table.push(`| ${conns} | ${Math.round(rate)} | ${r.p50.toFixed(3)} / ${r.p99.toFixed(3)} | ${(rate / base).toFixed(2)}× |`);
      rows.push({ suite: 'sampl1-ims-engine', case: `${conns} conn round trips/s`, value: rate, unit: 'rt/s', baseline: 'plain LLLL echo (median above)', baselineValue: base, ratio: rate / base });
    }
  } catch (e) {
    table.push('', `(IMS engine rows skipped: ${(e as Error).message.split('\n')[0]})`);
  } finally {
    await gen?.stop();
    await imsc?.stop();
    await ims?.stop();
  }
}

// ------------------------------------------------------------------------------------------------
// 3: idle connections

async function idle(rows: Row[], table: string[]): Promise<void> {
  const srv = await start<ServerInfo>(join(HERE, 'server.mjs'), ['imsc'], ['--expose-gc']);
  const gen = await start<{ ready: boolean }>(join(HERE, 'load.mjs'), [], []);
  try {
    const { opened } = await gen.ask<{ opened: number }>({ cmd: 'hold', port: srv.first.port, n: IDLE_CONNECTIONS });
    const after = await srv.ask<{ rss: number; heap: number; external: number; sockets: number }>('rss');
    await gen.ask({ cmd: 'release' });
    const mb = (n: number) => n / 1048576;
    table.push(
      '',
      `Idle persistent connections (IMS Connect from dist, ${JSON.stringify(srv.first.execArgv)}): ${opened} opened, server holds ${after.sockets}; RSS ${mb(srv.first.rss).toFixed(0)} MB before → ${mb(after.rss).toFixed(0)} MB with them (${((after.rss - srv.first.rss) / Math.max(1, after.sockets) / 1024).toFixed(1)} KB/connection; V8 heap ${mb(after.heap).toFixed(0)} MB, buffers ${mb(after.external).toFixed(0)} MB); goal < 256 MB`,
    );
    rows.push({ suite: 'idle-connections', case: `${after.sockets} idle persistent: server RSS`, value: mb(after.rss), unit: 'MB', baseline: 'goal 256 MB', baselineValue: 256, ratio: 256 / mb(after.rss), goal: 1 });
  } finally {
    await gen.stop();
    await srv.stop();
  }
}

async function main(): Promise<void> {
  ensureDist();
  const rows: Row[] = [];
  const table: string[] = [];
  if (ONLY !== 'idle') {
    const base = await throughput(rows, table);
    if (process.env.BENCH_ENGINE !== '0') await viaEngine(rows, table, base);
  }
  if (ONLY !== 'throughput') await idle(rows, table);
  console.log(`\nIMS Connect emulator benchmark (load generator, baseline and server each in its own process)\n`);
  console.log(table.join('\n'));
  for (const r of rows) console.log(`@@bench ${JSON.stringify(r)}`);
}

main().catch((e: unknown) => {
  console.error((e as Error).stack ?? e);
  process.exit(1);
});
