/**
 * REST requests/s through the whole stack — client → VIPA:5595 → z/OS Connect → VIPA:5801 →
 * IMS Connect → IMS (IVTNO DISPLAY) and back — against a plain node:http server answering the same
 * JSON in the same run, with the same client (keep-alive agent, same concurrency, same duration).
 * `BENCH_ROUNDS` interleaved rounds (default 5; the order alternates: stack then plain, plain then
 * stack), `BENCH_MS` per measurement (default 4000) after a 1 s warm-up each; the ratio is the median
 * of the per-round ratios, the rates are medians. While the stack is measured, each box's CPU time is
 * read from /proc (Linux), reported as µs per request per box kind (the load generator's own process
 * included), which varies far less than throughput on a shared machine.
 * One series per connection count (`BENCH_CONNECTIONS`, default 16 and 64); each prints a table and
 * two `@@bench` lines (req/s, and p99 latency with plain ÷ stack as its ratio). The data plane is
 * handoff when every target's bin accepts handed-off sockets, else proxy (the row says which).
 */
import { createServer, request, Agent } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binAcceptsHandoffs, binProblem, type Runtime } from '../src/boxes.js';
import { Supervisor } from '../src/supervisor.js';
import { DEFAULT_TOPOLOGY, parseTopology } from '../src/topology.js';

const WARMUP_MS = 1000;
const MEASURE_MS = Number(process.env.BENCH_MS ?? 4000);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
/**
 * Keep-alive connections of the load generator, one measurement series each (`BENCH_CONNECTIONS`,
 * default "16,64"). The stack spreads them over three z/OS Connect servers, so 16 leaves each about
 * five: the low-concurrency case, where every box wakes up for nearly every request.
 */
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '16,64').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
const PATH = '/phonebook/LAST1';

/** Latencies kept per measurement (a bounded sample: the first this many successful requests). */
const MAX_LATENCIES = 1 << 20;

async function measure(host: string, port: number, ms: number, connections: number): Promise<{ rps: number; errors: number; bodies: Set<string>; p99: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies = new Float64Array(MAX_LATENCIES);
  let ok = 0;
  let errors = 0;
  const bodies = new Set<string>();
  const end = performance.now() + ms;
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = request({ host, port, path: PATH, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode === 200) {
            if (ok < MAX_LATENCIES) latencies[ok] = performance.now() - t0;
            ok++;
            if (bodies.size < 4) bodies.add(Buffer.concat(chunks).toString());
          } else errors++;
          resolve();
        });
      });
      req.on('socket', (s) => s.setNoDelay(true));
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end();
    });
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  const elapsed = performance.now() - t0;
  agent.destroy();
  const kept = latencies.subarray(0, Math.min(ok, MAX_LATENCIES)).sort();
  const p99 = kept.length > 0 ? kept[Math.min(kept.length - 1, Math.floor(kept.length * 0.99))]! : NaN;
  return { rps: (ok * 1000) / elapsed, errors, bodies, p99 };
}

/** CPU time (user + system, ms) of a process, or null when /proc is not readable (not Linux, exited). */
function cpuMs(pid: number): number | null {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks at USER_HZ 100
  } catch {
    return null;
  }
}

/** Read and write syscalls so far of a process (`/proc/PID/io`), or null when not readable. */
function ioCalls(pid: number): { r: number; w: number } | null {
  try {
    const f = readFileSync(`/proc/${pid}/io`, 'utf8');
    const r = /syscr: (\d+)/.exec(f);
    const w = /syscw: (\d+)/.exec(f);
    return r && w ? { r: Number(r[1]), w: Number(w[1]) } : null;
  } catch {
    return null;
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const runtime: Runtime = (['ims', 'imsconnect', 'zosconnect', 'distributor'] as const).every((k) => binProblem(k, 'dist') === null) ? 'dist' : 'source';
  const handoff = binAcceptsHandoffs('zosconnect', runtime) && binAcceptsHandoffs('imsconnect', runtime);
  const dir = mkdtempSync(join(tmpdir(), 'imsplex-bench-'));
  const text = DEFAULT_TOPOLOGY.replaceAll('127.0.1.', '127.0.13.').replace('127.0.0.100', '127.0.13.100').replace('127.0.0.1:7700', '127.0.0.1:0').replace('data-plane = proxy', `data-plane = ${handoff ? 'handoff' : 'proxy'}`);
  const t = { ...parseTopology(text, 'bench'), dataDir: join(dir, 'data') };
  const sup = new Supervisor({ topology: t, runtime, logLevel: 'warn' });
  // The baseline: a plain node:http server with the stack's answer as a constant.
  let body = '{}';
  const plain = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  plain.on('connection', (s) => s.setNoDelay(true));
  try {
    await sup.start();
    const restPort = t.distributes.find((d) => d.targets === 'zosconnect')!.port;
    // The stack's answer becomes the plain server's constant body.
    const first = await measure(t.vipa, restPort, WARMUP_MS, CONNECTIONS[0] ?? 16);
    body = [...first.bodies][0] ?? body;
    await new Promise<void>((r) => plain.listen({ host: '127.0.0.1', port: 0 }, () => r()));
    const a = plain.address();
    const plainPort = a && typeof a === 'object' ? a.port : 0;
    const boxes = sup.snapshot(0).boxes.filter((b) => b.pid !== null);
    const kinds = [...new Set(boxes.map((b) => b.kind))];
    const caseBase = `REST GET ${PATH} via 2 VIPA hops (${handoff ? 'handoff' : 'proxy'} data plane, ${runtime} bins)`;
    const lines: string[] = [];
    for (const connections of CONNECTIONS) {
      const r = await series(connections);
      // The 16-connection row keeps the case name it has always had, so its history stays comparable.
      const caseName = connections === 16 ? caseBase : `${caseBase}, ${connections} connections`;
      console.log(`\n${connections} keep-alive connections: ${ROUNDS} interleaved rounds × ${MEASURE_MS} ms, one load generator (node:http Agent) for both`);
      console.log('\n| case | req/s (median) | p99 ms (median) | errors | baseline (plain node:http) req/s / p99 ms (medians) | ratio (median of rounds) | per-round ratios | goal |');
      console.log('|---|---|---|---|---|---|---|---|');
      console.log(`| ${caseName} | ${r.stackRps.toFixed(0)} | ${r.stackP99.toFixed(2)} | ${r.stackErrors} | ${r.plainRps.toFixed(0)} / ${r.plainP99.toFixed(2)} | ${r.ratio.toFixed(3)}x | ${r.ratios.map((x) => x.toFixed(2)).join(' ')} | 0.5x |`);
      if (r.stackRequests > 0 && r.cpu.size > 0) {
        console.log('\nCPU µs per request while the stack is measured (all rounds; per box kind, summed over its boxes)');
        console.log('| ' + [...kinds, 'load generator + supervisor'].join(' | ') + ' | total |');
        console.log('|' + ' --- |'.repeat(kinds.length + 2));
        const per = [...kinds, 'load generator + supervisor'].map((k) => ((r.cpu.get(k) ?? 0) * 1000) / r.stackRequests);
        console.log('| ' + per.map((x) => x.toFixed(0)).join(' | ') + ` | ${per.reduce((x, y) => x + y, 0).toFixed(0)} |`);
        if (r.calls.size > 0) {
          console.log('\nread / write syscalls per request (per box kind, summed over its boxes; /proc/PID/io)');
          console.log('| ' + kinds.join(' | ') + ' |');
          console.log('|' + ' --- |'.repeat(kinds.length));
          console.log('| ' + kinds.map((k) => { const c = r.calls.get(k); return c ? `${(c.r / r.stackRequests).toFixed(2)} / ${(c.w / r.stackRequests).toFixed(2)}` : 'n/a'; }).join(' | ') + ' |');
        }
      }
      lines.push(
        '@@bench ' + JSON.stringify({ suite: 'stack', case: caseName, value: Math.round(r.stackRps), unit: 'req/s', baseline: 'plain node:http server, same client', baselineValue: Math.round(r.plainRps), ratio: Number(r.ratio.toFixed(4)), goal: 0.5 }),
        '@@bench ' + JSON.stringify({ suite: 'stack', case: `${caseName} p99`, value: Number(r.stackP99.toFixed(3)), unit: 'ms', baseline: 'plain node:http server, same client', baselineValue: Number(r.plainP99.toFixed(3)), ratio: Number((r.plainP99 / r.stackP99).toFixed(4)) }),
      );
    }
    console.log(`\nanswer: ${body}`);
    for (const l of lines) console.log(l);

    /** One series at `connections`: ROUNDS interleaved rounds of stack and plain. */
    async function series(connections: number) {
      const stackRps: number[] = [];
      const plainRps: number[] = [];
      const ratios: number[] = [];
      const stackP99: number[] = [];
      const plainP99: number[] = [];
      let stackErrors = 0;
      const cpu = new Map<string, number>(); // kind → CPU ms over all stack measurements
      const calls = new Map<string, { r: number; w: number }>(); // kind → read/write syscalls over all stack measurements
      let stackRequests = 0;
      const runStack = async (): Promise<number> => {
        await measure(t.vipa, restPort, WARMUP_MS, connections);
        const before = boxes.map((b) => cpuMs(b.pid!));
        const ioBefore = boxes.map((b) => ioCalls(b.pid!));
        const self0 = process.cpuUsage();
        const r = await measure(t.vipa, restPort, MEASURE_MS, connections);
        const self = process.cpuUsage(self0);
        boxes.forEach((b, i) => {
          const a0 = before[i];
          const a1 = cpuMs(b.pid!);
          if (a0 !== null && a0 !== undefined && a1 !== null) cpu.set(b.kind, (cpu.get(b.kind) ?? 0) + a1 - a0);
          const i0 = ioBefore[i];
          const i1 = ioCalls(b.pid!);
          if (i0 && i1) {
            const c = calls.get(b.kind) ?? { r: 0, w: 0 };
            calls.set(b.kind, { r: c.r + i1.r - i0.r, w: c.w + i1.w - i0.w });
          }
        });
        cpu.set('load generator + supervisor', (cpu.get('load generator + supervisor') ?? 0) + (self.user + self.system) / 1000);
        stackRequests += (r.rps * MEASURE_MS) / 1000;
        stackErrors += r.errors;
        stackP99.push(r.p99);
        return r.rps;
      };
      const runPlain = async (): Promise<number> => {
        await measure('127.0.0.1', plainPort, WARMUP_MS, connections);
        const r = await measure('127.0.0.1', plainPort, MEASURE_MS, connections);
        plainP99.push(r.p99);
        return r.rps;
      };
      for (let round = 0; round < ROUNDS; round++) {
        let st: number;
        let pl: number;
        if (round % 2 === 0) {
          st = await runStack();
          pl = await runPlain();
        } else {
          pl = await runPlain();
          st = await runStack();
        }
        stackRps.push(st);
        plainRps.push(pl);
        ratios.push(st / pl);
      }
      return { stackRps: median(stackRps), plainRps: median(plainRps), stackP99: median(stackP99), plainP99: median(plainP99), ratio: median(ratios), ratios, stackErrors, cpu, calls, stackRequests };
    }
  } finally {
    await sup.stop();
    await new Promise<void>((r) => plain.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
