/**
 * Benchmark: round trips/s and added p99 latency through the distributor (proxy and handoff data
 * planes) to two echo targets, at 1, 8 and 64 persistent connections, next to HAProxy in TCP mode
 * (same targets, same run) when `haproxy` is on PATH, else next to direct connections.
 *
 * Every box is its own process: two echo targets, the distributor (the package bin), HAProxy, and
 * the load generator (bench/loadgen.ts). This process only orchestrates and routes handoffs (as
 * the stack supervisor would). Each case runs for a bounded time (warm-up + CASE_SECONDS), and
 * BENCH_REPEATS times (default 5) interleaved across planes; the table shows medians. The CPU column
 * is utime+stime of the process in the middle (distributor or HAProxy, /proc/<pid>/stat) over the
 * measured window divided by the round trips: steadier than throughput on a shared machine.
 * The 'proxy' row is the proxy data plane as shipped (the native C I/O thread where it is built),
 * 'proxy (js)' the same distributor forced onto the JS direct path (IMSPLEX_SPLICE=direct), so the
 * native gain shows in the same run.
 * Environment: BENCH_SECONDS (3), BENCH_REPEATS (5), BENCH_CONNS ("1,8,64"), BENCH_PLANES (e.g.
 * "proxy,proxy-js"; the baseline and direct always run), BENCH_STREAM=1 (adds the proxy data
 * plane's stream path, IMSPLEX_SPLICE=stream, as 'proxy-stream': the A of an A/B).
 * Prints a table and one `@@bench {json}` line per row.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HandoffRouter } from '../src/dataplane/handoff.js';

const PKG = join(dirname(fileURLToPath(import.meta.url)), '..');
const CASE_SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const WARMUP = 0.5;
const SIZE = 64;
const CONNS = (process.env.BENCH_CONNS ?? '1,8,64').split(',').map(Number);
/** Data planes to run (comma list of direct, haproxy, proxy, handoff); all by default. */
const PLANES = process.env.BENCH_PLANES?.split(',') ?? null;
// 5 by default: at 1 connection a round trip is one scheduling chain through three processes on
// two cores, and single 3-second runs of the same plane vary by ±15%.
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const SYS1 = '127.0.1.1';
const SYS2 = '127.0.1.2';
const VIPA = '127.0.0.100';
const HAPROXY_HOST = '127.0.0.101';

const children: ChildProcess[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'imsplex-distributor-bench-'));
function cleanup(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

function tsChild(entry: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const c = spawn(process.execPath, ['--conditions=@imsplex/source', '--import', 'tsx', entry, ...args], { cwd: PKG, stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env: { ...process.env, ...env } });
  children.push(c);
  return c;
}

/**
 * The distributor under test: the built bin (`dist/bin.js`, plain node, no loader — as users run
 * it; the root `pnpm bench` builds first), else the TypeScript source through tsx.
 */
function distributorChild(args: string[], env: Record<string, string>): ChildProcess {
  const built = join(PKG, 'dist', 'bin.js');
  if (!existsSync(built)) return tsChild('src/bin.ts', args, env);
  const c = spawn(process.execPath, [built, ...args], { cwd: PKG, stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env: { ...process.env, ...env } });
  children.push(c);
  return c;
}

function message<T>(c: ChildProcess, pred: (m: any) => boolean, ms = 20_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timed out waiting for a child')), ms);
    const h = (m: any) => {
      if (pred(m)) {
        clearTimeout(t);
        c.off('message', h);
        resolve(m as T);
      }
    };
    c.on('message', h);
  });
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host, port: 0 }, () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

interface Result {
  rtps: number;
  p50us: number;
  p99us: number;
  errors: number;
  /** CPU µs per round trip of the process in the middle (distributor or HAProxy); null for direct. */
  cpuUs: number | null;
}

/** utime+stime of a process, in clock ticks (1/100 s on Linux). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}
const CLK_TCK = 100;

function load(targets: { host: string; port: number }[], conns: number, pid: number | null): Promise<Result> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', 'bench/loadgen.ts', JSON.stringify({ targets, conns, seconds: CASE_SECONDS, warmup: WARMUP, size: SIZE })], { cwd: PKG, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(c);
    let out = '';
    let pending = '';
    let t0: number | null = null;
    let t1: number | null = null;
    c.stdout!.on('data', (d) => {
      out += d;
      pending += d;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (pid === null) continue;
        if (line === '{"mark":"start"}') t0 = cpuTicks(pid);
        else if (line === '{"mark":"stop"}') t1 = cpuTicks(pid);
      }
    });
    const timer = setTimeout(() => c.kill('SIGKILL'), (CASE_SECONDS + WARMUP + 15) * 1000);
    c.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
      const r = JSON.parse(out.trim().split('\n').pop()!) as Omit<Result, 'cpuUs'> & { roundTrips: number };
      const cpuUs = t0 !== null && t1 !== null && r.roundTrips > 0 ? (((t1 - t0) / CLK_TCK) * 1e6) / r.roundTrips : null;
      resolve({ rtps: r.rtps, p50us: r.p50us, p99us: r.p99us, errors: r.errors, cpuUs });
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Median of each figure over the repeats (each figure on its own); errors are summed. */
function medianResult(rs: Result[]): Result {
  const cpus = rs.map((r) => r.cpuUs).filter((x): x is number => x !== null);
  return { rtps: median(rs.map((r) => r.rtps)), p50us: median(rs.map((r) => r.p50us)), p99us: median(rs.map((r) => r.p99us)), errors: rs.reduce((s, r) => s + r.errors, 0), cpuUs: cpus.length ? median(cpus) : null };
}

async function main(): Promise<void> {
  // Targets: echo servers that also accept handed-off sockets.
  const ta = tsChild('test/fixtures/echo-target.ts', ['--host', SYS1, '--handoff', '--name', 'A']);
  const tb = tsChild('test/fixtures/echo-target.ts', ['--host', SYS2, '--handoff', '--name', 'B']);
  const [ra, rb] = (await Promise.all([ta, tb].map((t) => message<{ port: number }>(t, (m) => m?.type === 'ready')))) as [{ port: number }, { port: number }];
  const targets = [
    { host: SYS1, port: ra.port },
    { host: SYS2, port: rb.port },
  ];

  const profile = (port: number, plane: 'PROXY' | 'HANDOFF') => `VIPADYNAMIC
  VIPADEFINE MOVEABLE IMMEDIATE 255.255.255.255 ${VIPA}
  VIPADISTRIBUTE DEFINE DISTMETHOD ROUNDROBIN ${VIPA} PORT ${port} DESTIP ${SYS1} ${SYS2}
ENDVIPADYNAMIC
IMSPLEX
  STACK SYS1 ${SYS1}
  DATAPLANE ${plane}
  PROBE INTERVAL 1000
  TARGET ${SYS1} ADDRESS ${SYS1}:${ra.port}
  TARGET ${SYS2} ADDRESS ${SYS2}:${rb.port}
ENDIMSPLEX
`;
  const startDistributor = async (plane: 'PROXY' | 'HANDOFF', env: Record<string, string> = {}) => {
    const port = await freePort(VIPA);
    const file = join(tmp, `profile-${plane}-${port}.txt`);
    writeFileSync(file, profile(port, plane));
    const d = distributorChild(['--config', file, '--log-level', 'warn'], env);
    let router: HandoffRouter | null = null;
    if (plane === 'HANDOFF') {
      router = new HandoffRouter();
      router.addDistributor(d);
      router.addTarget(SYS1, ta);
      router.addTarget(SYS2, tb);
    }
    const started = message<{ data: { splice: string | null } }>(d, (m) => m?.type === 'imsplex:event' && m.event === 'started');
    await message(d, (m) => m?.type === 'imsplex:event' && m.event === 'vipa:acquired');
    const splice = (await started).data.splice;
    // A graceful, bounded stop, so a profiler preloaded with NODE_OPTIONS can write its file.
    const stop = (): Promise<void> =>
      new Promise((resolve) => {
        router?.close();
        if (d.exitCode !== null || d.signalCode !== null) return resolve();
        const t = setTimeout(resolve, 5000);
        d.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        d.kill('SIGTERM');
      });
    return { port, pid: d.pid!, stop, splice };
  };

  // HAProxy in TCP mode, same targets, one thread (the distributor is one Node thread).
  let haproxy: { port: number; pid: number; stop: () => void } | null = null;
  const hasHaproxy = spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).status === 0;
  if (hasHaproxy) {
    const port = await freePort(HAPROXY_HOST);
    const cfg = join(tmp, 'haproxy.cfg');
    writeFileSync(
      cfg,
      `global
  nbthread 1
  maxconn 4096
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend fe
  bind ${HAPROXY_HOST}:${port}
  default_backend be
backend be
  balance roundrobin
  server a ${SYS1}:${ra.port}
  server b ${SYS2}:${rb.port}
`,
    );
    const h = spawn('haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(h);
    // Wait until it listens.
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((r) => probeListening(HAPROXY_HOST, port, r));
      if (ok) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    haproxy = { port, pid: h.pid!, stop: () => h.kill('SIGTERM') };
  }

  // The machine is small and shared: every case runs REPEATS times, interleaved across data planes,
  // and the median of each figure is kept. CPU per round trip (utime+stime of the process in the
  // middle over the measured window) is far steadier than throughput under load.
  const proxy = await startDistributor('PROXY');
  const proxyJs = await startDistributor('PROXY', { IMSPLEX_SPLICE: 'direct' });
  const proxySplice = proxy.splice;
  const handoff = await startDistributor('HANDOFF');
  // BENCH_STREAM=1 adds the proxy data plane's stream path (IMSPLEX_SPLICE=stream) as 'proxy-stream'.
  const proxyStream = process.env.BENCH_STREAM === '1' ? await startDistributor('PROXY', { IMSPLEX_SPLICE: 'stream' }) : null;
  const endpoints: Record<string, { eps: { host: string; port: number }[]; pid: number | null }> = {
    direct: { eps: targets, pid: null },
    ...(haproxy ? { haproxy: { eps: [{ host: HAPROXY_HOST, port: haproxy.port }], pid: haproxy.pid } } : {}),
    ...(proxyStream ? { 'proxy-stream': { eps: [{ host: VIPA, port: proxyStream.port }], pid: proxyStream.pid } } : {}),
    proxy: { eps: [{ host: VIPA, port: proxy.port }], pid: proxy.pid },
    'proxy (js)': { eps: [{ host: VIPA, port: proxyJs.port }], pid: proxyJs.pid },
    handoff: { eps: [{ host: VIPA, port: handoff.port }], pid: handoff.pid },
  };
  const baseName = haproxy ? 'haproxy' : 'direct';
  const rows: { plane: string; conns: number; r: Result }[] = [];
  for (const conns of CONNS) {
    const runs: Record<string, Result[]> = {};
    for (let rep = 0; rep < REPEATS; rep++) {
      for (const [plane, { eps, pid }] of Object.entries(endpoints)) {
        if (PLANES && !PLANES.includes(plane.replace(' (js)', '-js')) && plane !== baseName && plane !== 'direct') continue;
        (runs[plane] ??= []).push(await load(eps, conns, pid));
      }
    }
    for (const plane of Object.keys(runs)) rows.push({ plane, conns, r: medianResult(runs[plane]!) });
  }
  await Promise.all([proxy.stop(), proxyJs.stop(), handoff.stop(), proxyStream?.stop()]);
  haproxy?.stop();

  const get = (plane: string, conns: number) => rows.find((x) => x.plane === plane && x.conns === conns)!.r;
  console.log(`\nDistributor benchmark: ${SIZE}-byte echo round trips, median of ${REPEATS} interleaved × ${CASE_SECONDS} s per case, baseline ${baseName}${haproxy ? ' (TCP mode, nbthread 1)' : ' (haproxy not on PATH)'}`);
  console.log(`proxy: splice ${proxySplice} (the default); proxy (js): splice ${proxyJs.splice} (IMSPLEX_SPLICE=direct)`);
  console.log('| data plane | conns | round trips/s | p50 µs | p99 µs | added p99 µs (vs direct) | ratio vs ' + baseName + ' | CPU µs/round trip | CPU ratio (' + baseName + '/plane) |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const { plane, conns, r } of rows) {
    const base = get(baseName, conns);
    const direct = get('direct', conns);
    console.log(`| ${plane} | ${conns} | ${Math.round(r.rtps)} | ${r.p50us.toFixed(0)} | ${r.p99us.toFixed(0)} | ${(r.p99us - direct.p99us).toFixed(0)} | ${(r.rtps / base.rtps).toFixed(2)} | ${r.cpuUs === null ? '-' : r.cpuUs.toFixed(1)} | ${r.cpuUs === null || base.cpuUs === null || r.cpuUs < 0.5 ? '-' : (base.cpuUs / r.cpuUs).toFixed(2)} |`);
  }
  for (const { plane, conns, r } of rows) {
    if (plane === baseName || plane === 'direct') continue;
    const base = get(baseName, conns);
    const goal = plane === 'handoff' ? 1.0 : plane === 'proxy' && conns <= 8 ? 0.9 : undefined;
    if (plane === 'proxy-stream') continue;
    // 'proxy' keeps its case names (the default data plane, native where built); 'proxy (js)' has its own.
    const row = { suite: 'distributor', case: `${plane} round trips/s, ${conns} conn`, value: Math.round(r.rtps), unit: 'rt/s', baseline: baseName, baselineValue: Math.round(base.rtps), ratio: Number((r.rtps / base.rtps).toFixed(3)), ...(plane === 'haproxy' || goal === undefined ? {} : { goal }) };
    console.log(`@@bench ${JSON.stringify(row)}`);
    // Handoff leaves the data path (about 0 µs per round trip): a ratio against ~0 says nothing.
    if (r.cpuUs !== null && base.cpuUs !== null && r.cpuUs >= 0.5) console.log(`@@bench ${JSON.stringify({ suite: 'distributor', case: `${plane} CPU per round trip, ${conns} conn`, value: Number(r.cpuUs.toFixed(2)), unit: 'µs', baseline: `${baseName} CPU`, baselineValue: Number(base.cpuUs.toFixed(2)), ratio: Number((base.cpuUs / Math.max(0.01, r.cpuUs)).toFixed(3)) })}`);
    console.log(`@@bench ${JSON.stringify({ suite: 'distributor', case: `${plane} p99 latency, ${conns} conn`, value: Math.round(r.p99us), unit: 'µs', baseline: `${baseName} p99`, baselineValue: Math.round(base.p99us), ratio: Number((base.p99us / Math.max(1, r.p99us)).toFixed(3)) })}`);
  }
  const errors = rows.reduce((s, x) => s + x.r.errors, 0);
  if (errors > 0) {
    console.error(`${errors} connection errors during the run`);
    process.exitCode = 1;
  }
}

function probeListening(host: string, port: number, done: (ok: boolean) => void) {
  const s = connect({ host, port });
  s.once('connect', () => {
    s.destroy();
    done(true);
  });
  s.once('error', () => done(false));
  return s;
}

main().then(
  () => {
    cleanup();
    process.exit();
  },
  (e) => {
    console.error(e);
    cleanup();
    process.exit(1);
  },
);
