/**
 * REST requests/s and p99 of the phone-book GET (`GET /phonebook/LAST1`) through z/OS Connect, with
 * every box in its own process, run from the built dist as users run them:
 *
 *   load.mjs ──HTTP──▶ imsplex-zos-connect ──IMS Connect protocol──▶ imsplex-ims-connect ──OTMA──▶ imsplex-ims (IVTNO)
 *   load.mjs ──HTTP──▶ plain-server.mjs (node:http answering the same JSON: the baseline)
 *
 * At 1, 16 and 64 keep-alive connections, in interleaved rounds (plain and z/OS Connect alternate
 * which goes first), a fresh load process per measurement. Each row's ratio is the median over the
 * rounds of z/OS Connect ÷ plain for req/s, and plain ÷ z/OS Connect for p99 (so higher is better in
 * both). No VIPA hops here: the stack's two-hop goal (≥ 0.5×) is measured by apps/stack's bench.
 *
 * Needs the dist of @imsplex/ims, @imsplex/ims-connect and @imsplex/zos-connect (root `pnpm bench`
 * builds first). Environment: BENCH_SECONDS (per measurement, default 2), BENCH_ROUNDS (default 3),
 * BENCH_CONNECTIONS (default "1,16,64"), BENCH_ZCON_LOG_LEVEL (z/OS Connect --log-level, default: the
 * bin's default), BENCH_CPU_PROF=DIR (run z/OS Connect with --cpu-prof into DIR).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const packages = path.resolve(here, '../..');
const BINS = {
  ims: path.join(packages, 'ims/dist/bin.js'),
  hws: path.join(packages, 'ims-connect/dist/bin.js'),
  zcon: path.join(packages, 'zos-connect/dist/bin.js'),
};
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '1,16,64').split(',').map(Number);
const WARM_SECONDS = 0.5;
const START_TIMEOUT_MS = 30_000;
const PATH = '/phonebook/LAST1';

for (const [box, bin] of Object.entries(BINS)) {
  if (!existsSync(bin)) {
    process.stderr.write(`bench: ${bin} is missing (${box}); build first: npx --yes pnpm@12.4.2 build\n`);
    process.exit(1);
  }
}

interface LoadResult {
  count: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  status: number;
  body: string | undefined;
}

const children: ChildProcess[] = [];

/** Start a box and resolve with the first stdout line matching `ready` (its match). */
function startBox(name: string, args: string[], ready: RegExp, env: NodeJS.ProcessEnv = process.env): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  children.push(child);
  const tail: string[] = [];
  const keep = (line: string) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
  };
  createInterface({ input: child.stderr! }).on('line', keep);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms:\n${tail.join('\n')}`)), START_TIMEOUT_MS);
    let found = false;
    // Keep draining stdout for the whole run (a full pipe would stall the box).
    createInterface({ input: child.stdout! }).on('line', (line) => {
      keep(line);
      if (found) return;
      const m = ready.exec(line);
      if (m) {
        found = true;
        clearTimeout(timer);
        resolve({ child, match: m });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!found) reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${tail.join('\n')}`));
    });
  });
}

async function stopAll(): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const t = setTimeout(() => c.kill('SIGKILL'), 5000);
          c.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function runLoad(url: string, connections: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(here, 'load.mjs'), url, String(connections), String(SECONDS), '2000000', String(WARM_SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), (SECONDS + WARM_SECONDS + 30) * 1000);
    child.once('exit', (code) => {
      clearTimeout(t);
      if (code !== 0) reject(new Error(`load generator exited with ${code}`));
      else resolve(JSON.parse(out.trim()) as LoadResult);
    });
  });
}

/** CPU time (user + system) of a process in ms, from /proc (Linux); undefined elsewhere. */
function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in clock ticks of 1/100 s
  } catch {
    return undefined;
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const tmp = mkdtempSync(path.join(tmpdir(), 'zcon-bench-'));
try {
  // IMS: the default system with IVTNO scheduled in parallel (as the stack defines it).
  const imsCfg = path.join(tmp, 'IMS1.cfg');
  const { DEFAULT_SYSTEM_DEFINITION } = (await import(path.join(packages, 'ims/dist/index.js'))) as { DEFAULT_SYSTEM_DEFINITION: string };
  writeFileSync(imsCfg, DEFAULT_SYSTEM_DEFINITION.replace('TRANSACT CODE=IVTNO,MSGTYPE=(SNGLSEG,RESPONSE,1),PRTY=(7,10,2)', 'TRANSACT CODE=IVTNO,MSGTYPE=(SNGLSEG,RESPONSE,1),PRTY=(7,10,2),SCHDTYP=PARALLEL'));
  const boxes: { name: string; pid: number | undefined }[] = [];
  const ims = await startBox('imsplex-ims', [BINS.ims, '--config', imsCfg, '--link-port', '0', '--log-level', 'info'], /"msg":"IMS system ready"/);
  const link = (JSON.parse(ims.match.input) as { link: { host: string; port: number } }).link;
  boxes.push({ name: 'ims', pid: ims.child.pid });
  const group = /GROUP=(\w+)/.exec(DEFAULT_SYSTEM_DEFINITION)![1]!;
  const member = /MEMBER=(\w+)/.exec(DEFAULT_SYSTEM_DEFINITION)![1]!;

  // IMS Connect.
  const hwsPort = await freePort();
  const hwscfg = path.join(tmp, 'HWSCFG00');
  writeFileSync(hwscfg, `HWS (ID=HWS1,RACF=N)\nTCPIP (HOSTNAME=TCP1,PORTID=(${hwsPort}),MAXSOC=2000,TIMEOUT=5000)\nDATASTORE (ID=IMS1,GROUP=${group},TMEMBER=${member},XCFADDR=${link.host}:${link.port})\n`);
  const hws = await startBox('imsplex-ims-connect', [BINS.hws, '--config', hwscfg], /READY PORTS=(\d+)/);
  boxes.push({ name: 'ims-connect', pid: hws.child.pid });

  // z/OS Connect: the sample configuration, pointed at that IMS Connect, a pool for 64 connections.
  const conf = path.join(tmp, 'zcon');
  cpSync(path.join(here, '../samples/config'), conf, { recursive: true });
  const serverXml = path.join(conf, 'server.xml');
  const maxPool = Math.max(...CONNECTIONS);
  writeFileSync(
    serverXml,
    readFileSync(serverXml, 'utf8')
      .replace(/hostName="[^"]*"/, 'hostName="127.0.0.1"')
      .replace(/portNumber="\d+"/, `portNumber="${hwsPort}"`)
      .replace(/maxPoolSize="\d+"/, `maxPoolSize="${maxPool}"`),
  );
  const zconArgs = [BINS.zcon, '--config', conf, '--host', '127.0.0.1', '--port', '0'];
  if (process.env.BENCH_ZCON_LOG_LEVEL) zconArgs.push('--log-level', process.env.BENCH_ZCON_LOG_LEVEL);
  const prof = process.env.BENCH_CPU_PROF;
  if (prof) {
    mkdirSync(prof, { recursive: true });
    zconArgs.unshift('--cpu-prof', '--cpu-prof-dir', path.resolve(prof));
  }
  const zcon = await startBox('imsplex-zos-connect', zconArgs, /listening on (http:\/\/\S+)/);
  const zconUrl = `${zcon.match[1]!}${PATH}`;
  boxes.unshift({ name: 'zos-connect', pid: zcon.child.pid });
  const probe = await fetch(zconUrl);
  const body = await probe.text();
  if (probe.status !== 200) throw new Error(`phone-book GET answered ${probe.status}: ${body}`);

  const plain = await startBox('plain-server', [path.join(here, 'plain-server.mjs'), Buffer.from(body).toString('base64')], /LISTENING (http:\/\/\S+)/);
  const plainUrl = `${plain.match[1]!}${PATH}`;

  const results = new Map<number, { z: LoadResult[]; p: LoadResult[] }>(CONNECTIONS.map((c) => [c, { z: [], p: [] }]));
  // CPU spent by each box while z/OS Connect is under load, per request (µs): where the time goes.
  const cpu = new Map<number, { requests: number; ms: number[]; plainRequests: number; plainMs: number }>(CONNECTIONS.map((c) => [c, { requests: 0, ms: boxes.map(() => 0), plainRequests: 0, plainMs: 0 }]));
  const loadPlain = async (c: number): Promise<LoadResult> => {
    const before = cpuMs(plain.child.pid) ?? 0;
    const r = await runLoad(plainUrl, c);
    const e = cpu.get(c)!;
    e.plainMs += (cpuMs(plain.child.pid) ?? 0) - before;
    e.plainRequests += r.count * ((SECONDS + WARM_SECONDS) / SECONDS);
    return r;
  };
  const loadZcon = async (c: number): Promise<LoadResult> => {
    const before = boxes.map((b) => cpuMs(b.pid) ?? 0);
    const r = await runLoad(zconUrl, c);
    const e = cpu.get(c)!;
    boxes.forEach((b, i) => (e.ms[i]! += (cpuMs(b.pid) ?? 0) - before[i]!));
    // The load process's warm-up requests are not in r.count: scale by the measured share.
    e.requests += r.count * ((SECONDS + WARM_SECONDS) / SECONDS);
    return r;
  };
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of CONNECTIONS) {
      const r = results.get(c)!;
      if (round % 2 === 0) {
        r.p.push(await loadPlain(c));
        r.z.push(await loadZcon(c));
      } else {
        r.z.push(await loadZcon(c));
        r.p.push(await loadPlain(c));
      }
    }
  }

  console.log(`z/OS Connect phone-book GET, each box its own process (dist), ${ROUNDS} interleaved rounds of ${SECONDS} s per measurement`);
  console.log('| connections | z/OS Connect req/s | plain req/s | ratio | z/OS Connect p99 | plain p99 | p99 ratio | errors (z/OS Connect, plain) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  const rows: { case: string; value: number; unit: string; baselineValue: number; ratio: number; goal?: number }[] = [];
  for (const c of CONNECTIONS) {
    const { z, p } = results.get(c)!;
    const zr = median(z.map((x) => x.rps));
    const pr = median(p.map((x) => x.rps));
    const zp = median(z.map((x) => x.p99));
    const pp = median(p.map((x) => x.p99));
    const ratio = median(z.map((x, i) => x.rps / p[i]!.rps));
    const p99ratio = median(z.map((x, i) => p[i]!.p99 / x.p99));
    const errs = `${z.reduce((a, x) => a + x.errors, 0)}, ${p.reduce((a, x) => a + x.errors, 0)}`;
    console.log(`| ${c} | ${zr.toFixed(0)} | ${pr.toFixed(0)} | ${ratio.toFixed(3)}× | ${zp.toFixed(2)} ms | ${pp.toFixed(2)} ms | ${p99ratio.toFixed(3)}× | ${errs} |`);
    rows.push({ case: `phonebook GET req/s, ${c} conn`, value: zr, unit: 'req/s', baselineValue: pr, ratio });
    rows.push({ case: `phonebook GET p99, ${c} conn`, value: zp, unit: 'ms', baselineValue: pp, ratio: p99ratio });
  }
  if (boxes.every((b) => cpuMs(b.pid) !== undefined) && cpuMs(plain.child.pid) !== undefined) {
    console.log(`\nCPU per request while z/OS Connect is under load (µs, approximate: warm-up scaled in)`);
    console.log(`| connections | ${boxes.map((b) => b.name).join(' | ')} | plain server (its own runs) |`);
    console.log(`| --- | ${boxes.map(() => '---').join(' | ')} | --- |`);
    for (const c of CONNECTIONS) {
      const e = cpu.get(c)!;
      console.log(`| ${c} | ${e.ms.map((ms) => ((ms * 1000) / Math.max(1, e.requests)).toFixed(0)).join(' | ')} | ${((e.plainMs * 1000) / Math.max(1, e.plainRequests)).toFixed(0)} |`);
    }
  }
  for (const r of rows) {
    console.log(`@@bench ${JSON.stringify({ suite: 'zos-connect', case: r.case, value: Number(r.value.toFixed(3)), unit: r.unit, baseline: 'plain node http server, same JSON, own process', baselineValue: Number(r.baselineValue.toFixed(3)), ratio: Number(r.ratio.toFixed(4)) })}`);
  }
} finally {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
}
