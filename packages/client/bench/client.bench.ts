/**
 * Send-receive round trips per second through @imsplex/client against the test IMS Connect
 * (`@imsplex/client/testing`) over TCP loopback, at 1, 8 and 64 persistent connections — compared, in
 * the same run, with a plain length-prefixed echo client against a plain echo server (same request
 * size, same concurrency, one request in flight per connection). The ratio is the client + protocol
 * overhead over raw sockets.
 *
 * Both servers run in a child process (`bench/server.ts`), so this process holds only the client
 * being measured, exactly as it holds only the echo client for the baseline. Each case is measured
 * in `BENCH_ROUNDS` rounds that alternate client and echo; the reported ratio is the median of the
 * per-round ratios (robust to load from other processes on a shared machine). The table also shows
 * this process's CPU time per round trip and the server process's, to tell a client-bound run from
 * a server-bound one, and their "CPU ratio" (echo client + echo server CPU per round trip over
 * client + test IMS Connect CPU per round trip), which stays steady on a machine too busy for stable
 * rates.
 *
 * Run: `pnpm --filter @imsplex/client bench` (sources through tsx), or after building the codec and
 * the client (`npx tsup` in each), `pnpm --filter @imsplex/client bench:dist` (the built dists, no
 * source condition). Prints a table and one `@@bench` line per row.
 *
 * Environment: `BENCH_MS` (timed window per round, default 500), `BENCH_ROUNDS` (default 7),
 * `BENCH_CONCURRENCY` (comma-separated, default `1,8,64`), `BENCH_ONLY=client` (skip the echo
 * baseline, e.g. to profile the client alone with `node --cpu-prof`; prints no ratios),
 * `BENCH_SERVER_NODE_ARGS` (extra node flags for the server process, e.g. `--cpu-prof`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type * as ClientModule from '../src/index.js';

const DIST = process.argv.includes('--dist') || process.env.BENCH_DIST === '1';
const DURATION_MS = Number(process.env.BENCH_MS ?? 500);
/** Warm-up before the first round of a case (JIT, connections); later rounds only settle. */
const WARMUP_MS = 300;
const SETTLE_MS = 100;
/** Unmeasured traffic on both paths before the first case, so no case runs unoptimised code. */
const JIT_WARMUP_MS = 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,8,64').split(',').map(Number);
const DATA = 'DISPLAY LAST1 '.repeat(4);
const CLIENT_ONLY = process.env.BENCH_ONLY === 'client';
/** Goals of the ratio per concurrency (the task's targets). */
const GOALS: Record<number, number> = { 1: 0.5, 64: 0.6 };

interface Sample {
  /** Round trips per second. */
  rate: number;
  /** This process's CPU time per round trip, µs. */
  cpuPerOp: number;
  /** Server process CPU time per round trip, µs. */
  serverCpuPerOp: number;
}

/** The child process with both servers. */
class ServerProcess {
  private readonly lines: AsyncIterator<string>;
  private constructor(private readonly child: ChildProcess) {
    this.lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  }

  static async start(): Promise<{ server: ServerProcess; ims: { host: string; port: number }; echo: { host: string; port: number } }> {
    const script = fileURLToPath(new URL('./server.ts', import.meta.url));
    const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const child = spawn(process.execPath, [...extra, '--import', 'tsx', '--conditions=@imsplex/source', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const server = new ServerProcess(child);
    const first = await server.next();
    return { server, ...(JSON.parse(first) as { ims: { host: string; port: number }; echo: { host: string; port: number } }) };
  }

  private async next(): Promise<string> {
    const r = await this.lines.next();
    if (r.done) throw new Error('the bench server process ended');
    return r.value;
  }

  async stats(): Promise<{ cpuMicros: number; lastFrame: number; requests: number }> {
    this.child.stdin!.write('stats\n');
    return JSON.parse(await this.next()) as { cpuMicros: number; lastFrame: number; requests: number };
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      const t = setTimeout(() => this.child.kill('SIGKILL'), 2000);
      this.child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      this.child.stdin!.end();
      this.child.kill('SIGTERM');
    });
  }
}

/**
 * Run `concurrency` loops of `once` (one request in flight each); count completions during a
 * `DURATION_MS` window that starts after `WARMUP_MS`.
 */
async function measure(server: ServerProcess, concurrency: number, warmup: number, once: (worker: number) => Promise<unknown>): Promise<Sample> {
  let stop = false;
  let count = 0;
  let counting = false;
  const loops = Array.from({ length: concurrency }, async (_, w) => {
    while (!stop) {
      await once(w);
      if (counting) count++;
    }
  });
  await new Promise((r) => setTimeout(r, warmup));
  const s0 = await server.stats();
  counting = true;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, DURATION_MS));
  counting = false;
  const c1 = process.cpuUsage(c0);
  const elapsed = performance.now() - t0;
  const s1 = await server.stats();
  stop = true;
  await Promise.all(loops);
  return { rate: (count * 1000) / elapsed, cpuPerOp: (c1.user + c1.system) / Math.max(1, count), serverCpuPerOp: (s1.cpuMicros - s0.cpuMicros) / Math.max(1, count) };
}

/** A plain length-prefixed echo client connection: one frame out, wait for it to come back. */
class EchoConnection {
  private buf: Buffer = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      if (this.buf.length >= 4 && this.buf.length >= this.buf.readUInt32BE(0)) {
        this.buf = this.buf.subarray(this.buf.readUInt32BE(0));
        const w = this.waiting;
        this.waiting = undefined;
        w?.();
      }
    });
  }
  static open(host: string, port: number): Promise<EchoConnection> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port, noDelay: true }, () => resolve(new EchoConnection(s)));
      s.once('error', reject);
    });
  }
  roundTrip(frame: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.socket.write(frame);
    });
  }
  close(): void {
    this.socket.destroy();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Row {
  n: number;
  ims: Sample[];
  echo: Sample[];
  ratios: number[];
}

async function main(): Promise<void> {
  const spec = DIST ? '../dist/index.js' : '../src/index.js';
  const { createClient } = (await import(spec)) as typeof ClientModule;
  const codecPath = fileURLToPath(import.meta.resolve('@imsplex/codec'));
  const { server, ims, echo } = await ServerProcess.start();
  const rows: Row[] = [];
  let requestSize: number;
  try {
    // The request the client sends, measured at the server, sizes the echo frame.
    const probe = createClient({ endpoints: [ims], datastore: 'IMS1', maxConnections: 1 });
    await probe.sendReceive({ trancode: 'ECHO', data: DATA });
    await probe.close();
    requestSize = (await server.stats()).lastFrame;
    const frame = new Uint8Array(requestSize);
    new DataView(frame.buffer).setUint32(0, requestSize);
    // Warm both processes' JIT on both paths before the first measured case.
    {
      const warm = createClient({ endpoints: [ims], datastore: 'IMS1', maxConnections: 8 });
      const conns = await Promise.all(Array.from({ length: 8 }, () => EchoConnection.open(echo.host, echo.port)));
      await measure(server, 8, JIT_WARMUP_MS, () => warm.sendReceive({ trancode: 'ECHO', data: DATA }));
      await measure(server, 8, JIT_WARMUP_MS / 2, (w) => conns[w]!.roundTrip(frame));
      await warm.close();
      conns.forEach((c) => c.close());
    }
    for (const n of CONCURRENCY) {
      const client = createClient({ endpoints: [ims], datastore: 'IMS1', maxConnections: n, minConnections: n });
      while (client.stats().pool.idle < n) await new Promise((r) => setTimeout(r, 5));
      const conns = await Promise.all(Array.from({ length: n }, () => EchoConnection.open(echo.host, echo.port)));
      const row: Row = { n, ims: [], echo: [], ratios: [] };
      const runIms = (r: number) => measure(server, n, r === 0 ? WARMUP_MS : SETTLE_MS, () => client.sendReceive({ trancode: 'ECHO', data: DATA }));
      const runEcho = (r: number) => measure(server, n, r === 0 ? WARMUP_MS : SETTLE_MS, (w) => conns[w]!.roundTrip(frame));
      for (let r = 0; r < ROUNDS; r++) {
        if (CLIENT_ONLY) {
          row.ims.push(await runIms(r));
          continue;
        }
        // Alternate the order so a drift in machine load hits both sides alike.
        let a: Sample;
        let b: Sample;
        if (r % 2 === 0) {
          a = await runIms(r);
          b = await runEcho(r);
        } else {
          b = await runEcho(r);
          a = await runIms(r);
        }
        row.ims.push(a);
        row.echo.push(b);
        row.ratios.push(a.rate / b.rate);
      }
      await client.close();
      conns.forEach((c) => c.close());
      rows.push(row);
    }
  } finally {
    await server.stop();
  }

  const fmt = (x: number) => Math.round(x).toLocaleString('en');
  const cpu = (xs: Sample[]) => median(xs.map((s) => s.cpuPerOp));
  const serverCpu = (xs: Sample[]) => median(xs.map((s) => s.serverCpuPerOp));
  if (CLIENT_ONLY) {
    for (const r of rows) console.log(`x${r.n}: ${fmt(median(r.ims.map((s) => s.rate)))} round trips/s, client CPU ${median(r.ims.map((s) => s.cpuPerOp)).toFixed(1)} µs/rt, server CPU ${median(r.ims.map((s) => s.serverCpuPerOp)).toFixed(1)} µs/rt`);
    return;
  }
  console.log(
    `\n@imsplex/client send-receive round trips/s (${DIST ? 'built dists' : 'TS sources via tsx'}; codec from ${codecPath.replace(/.*packages\//, 'packages/')}; ` +
      `TCP loopback, ${requestSize}-byte request, servers in a child process, ${ROUNDS} × ${DURATION_MS} ms per case, median)\n`,
  );
  console.log('| connections | client → test IMS Connect | plain echo (baseline) | ratio (per round) | client CPU µs/rt (client / echo client) | server CPU µs/rt (IMS / echo) | CPU ratio |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.n} | ${fmt(median(r.ims.map((s) => s.rate)))} | ${fmt(median(r.echo.map((s) => s.rate)))} | ${median(r.ratios).toFixed(2)} (${r.ratios.map((x) => x.toFixed(2)).join(' ')}) | ` +
        `${cpu(r.ims).toFixed(1)} / ${cpu(r.echo).toFixed(1)} | ${serverCpu(r.ims).toFixed(1)} / ${serverCpu(r.echo).toFixed(1)} | ${((cpu(r.echo) + serverCpu(r.echo)) / (cpu(r.ims) + serverCpu(r.ims))).toFixed(2)} |`,
    );
  }
  console.log('');
  for (const r of rows) {
    const goal = GOALS[r.n];
    console.log(
      `@@bench ${JSON.stringify({
        suite: 'client',
        case: `send-receive x${r.n} persistent${DIST ? ' (dist)' : ''}`,
        value: Math.round(median(r.ims.map((s) => s.rate))),
        unit: 'round trips/s',
        baseline: `length-prefixed echo x${r.n}`,
        baselineValue: Math.round(median(r.echo.map((s) => s.rate))),
        ratio: Number(median(r.ratios).toFixed(3)),
        ...(goal !== undefined ? { goal } : {}),
      })}`,
    );
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
