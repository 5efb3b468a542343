/**
 * REST requests/s through the whole stack — client → VIPA:5595 → z/OS Connect → VIPA:5801 →
 * IMS Connect → IMS (IVTNO DISPLAY) and back — against a plain node:http server answering the same
 * JSON in the same run, with the same client (keep-alive agent, same concurrency, same duration).
 * Prints a table and one `@@bench` line. The data plane is handoff when every target's bin accepts
 * handed-off sockets, else proxy (the row says which).
 */
import { createServer, request, Agent } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binAcceptsHandoffs, binProblem, type Runtime } from '../src/boxes.js';
import { Supervisor } from '../src/supervisor.js';
import { DEFAULT_TOPOLOGY, parseTopology } from '../src/topology.js';

const WARMUP_MS = 1500;
const MEASURE_MS = Number(process.env.BENCH_MS ?? 6000);
const CONCURRENCY = 16;
const PATH = '/phonebook/LAST1';

async function measure(host: string, port: number, ms: number): Promise<{ rps: number; errors: number; bodies: Set<string> }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let ok = 0;
  let errors = 0;
  const bodies = new Set<string>();
  const end = performance.now() + ms;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = request({ host, port, path: PATH, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode === 200) {
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
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  const elapsed = performance.now() - t0;
  agent.destroy();
  return { rps: (ok * 1000) / elapsed, errors, bodies };
}

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
    await measure(t.vipa, restPort, WARMUP_MS);
    const stack = await measure(t.vipa, restPort, MEASURE_MS);
    body = [...stack.bodies][0] ?? body;
    await new Promise<void>((r) => plain.listen({ host: '127.0.0.1', port: 0 }, () => r()));
    const a = plain.address();
    const plainPort = a && typeof a === 'object' ? a.port : 0;
    await measure('127.0.0.1', plainPort, WARMUP_MS);
    const base = await measure('127.0.0.1', plainPort, MEASURE_MS);
    const ratio = stack.rps / base.rps;
    const caseName = `REST GET ${PATH} via 2 VIPA hops (${handoff ? 'handoff' : 'proxy'} data plane, ${runtime} bins)`;
    console.log('\n| case | req/s | errors | baseline (plain node:http) req/s | ratio | goal |');
    console.log('|---|---|---|---|---|---|');
    console.log(`| ${caseName} | ${stack.rps.toFixed(0)} | ${stack.errors} | ${base.rps.toFixed(0)} | ${ratio.toFixed(3)}x | 0.5x |`);
    console.log(`answer: ${body}`);
    console.log(
      '@@bench ' +
        JSON.stringify({ suite: 'stack', case: caseName, value: Math.round(stack.rps), unit: 'req/s', baseline: 'plain node:http server, same client', baselineValue: Math.round(base.rps), ratio: Number(ratio.toFixed(4)), goal: 0.5 }),
    );
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
