/**
 * REST requests/s and p99 for the phone-book GET (`GET /phonebook/LAST1`) end to end —
 * HTTP → z/OS Connect → IMS Connect protocol → @imsplex/ims-connect → OTMA → @imsplex/ims (IVTNO) —
 * next to a plain Node http server that returns the same JSON, measured in the same run. The load
 * generator runs in a separate process (bench/load.mjs), bounded in time and request count.
 *
 * Prints a table and one `@@bench` line per row. Ratios are z/OS Connect ÷ plain server (for p99,
 * plain ÷ z/OS Connect, so higher is better in both rows). Goal ≥ 0.5× is the goal for the
 * full stack with the handoff data plane; this bench has no VIPA hops (the distributor is not in
 * the path here).
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import { type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startTestImsSystem } from '@imsplex/ims';
import { ImsConnectServer } from '@imsplex/ims-connect';
import { createZosConnectServer } from '../src/index.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const MAX_REQUESTS = 200_000;
const load = fileURLToPath(new URL('./load.mjs', import.meta.url));
const samples = fileURLToPath(new URL('../samples/config', import.meta.url));

interface LoadResult {
  count: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
}

function runLoad(url: string): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [load, url, String(CONNECTIONS), String(SECONDS), String(MAX_REQUESTS)], { timeout: (SECONDS + 30) * 1000 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(JSON.parse(stdout.trim()) as LoadResult);
    });
  });
}

const ims = await startTestImsSystem();
const hws = new ImsConnectServer(
  { id: 'HWS1', host: '127.0.0.1', ports: [{ id: 0 }], maxSockets: 1000, timeout: 5000, datastores: [{ id: 'IMS1', group: ims.group, tmember: ims.member, address: { host: ims.link.host, port: ims.link.port } }] },
  { logger: pino({ level: 'silent' }) as never },
);
await hws.start();
const hwsPort = hws.boundPort(0);
const zcon = createZosConnectServer({ config: samples, host: '127.0.0.1', port: 0, clientOverrides: () => ({ host: '127.0.0.1', port: hwsPort, minConnections: CONNECTIONS, maxConnections: CONNECTIONS }) });
const { url } = await zcon.start();
const target = `${url}/phonebook/LAST1`;
const sample = await fetch(target);
const body = await sample.text();
if (sample.status !== 200) throw new Error(`phone-book GET answered ${sample.status}: ${body}`);

const plain = http.createServer((req, res) => {
  req.socket.setNoDelay(true);
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
const plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/phonebook/LAST1`;

try {
  const base = await runLoad(plainUrl);
  const z = await runLoad(target);
  const rows = [
    { case: 'phonebook GET throughput', value: z.rps, unit: 'req/s', baselineValue: base.rps, ratio: z.rps / base.rps, goal: 0.5 },
    { case: 'phonebook GET p99', value: z.p99, unit: 'ms', baselineValue: base.p99, ratio: base.p99 / z.p99 },
  ];
  console.log(`z/OS Connect phone-book GET, ${CONNECTIONS} keep-alive connections, ${SECONDS} s (errors: zcon ${z.errors}, plain ${base.errors})`);
  console.log('| case | z/OS Connect | plain node http | ratio |');
  console.log('| --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.case} | ${r.value.toFixed(r.unit === 'ms' ? 2 : 0)} ${r.unit} | ${r.baselineValue.toFixed(r.unit === 'ms' ? 2 : 0)} ${r.unit} | ${r.ratio.toFixed(3)}× |`);
  for (const r of rows) {
    console.log(`@@bench ${JSON.stringify({ suite: 'zos-connect', case: r.case, value: Number(r.value.toFixed(3)), unit: r.unit, baseline: 'plain node http server, same JSON', baselineValue: Number(r.baselineValue.toFixed(3)), ratio: Number(r.ratio.toFixed(4)), ...(r.goal !== undefined ? { goal: r.goal } : {}) })}`);
  }
} finally {
  await new Promise<void>((r) => plain.close(() => r()));
  await zcon.stop({ timeout: 1000 });
  await hws.close();
  await ims.stop();
}
