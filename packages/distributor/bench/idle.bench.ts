/**
 * Idle CPU of the distributing stacks: a primary and a backup distributor (handoff data plane,
 * the stack's timings: probes every 250 ms, heartbeats every 200 ms) with five targets that answer
 * HTTP health probes, and no client connection at all. Reports each distributor process's CPU
 * (utime+stime from /proc/<pid>/stat) over IDLE_SECONDS (default 10) after a warm-up, as ms of CPU
 * per second (= per mille of a core).
 *
 * Runs the built bin (dist/bin.js; `npx tsup` first; the sources when there is no build or with
 * IDLE_SOURCE=1), or the bin at IDLE_BIN
 * (e.g. another build, for an A/B). Prints a table and one `@@bench` line per distributor.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttp, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PKG = join(dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.IDLE_SECONDS ?? 10);
const WARMUP_MS = 2000;
const NET = '127.0.1';
const VIPA = '127.0.0.110';
const TARGETS = 5;
const CLK_TCK = 100;

const children: ChildProcess[] = [];
const servers: (Server | HttpServer)[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'imsplex-distributor-idle-'));
function cleanup(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of servers) s.close();
  rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

function listen<S extends Server | HttpServer>(s: S, host: string): Promise<number> {
  servers.push(s);
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen({ host, port: 0 }, () => resolve((s.address() as { port: number }).port));
  });
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function waitFor(c: ChildProcess, event: string, ms = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), ms);
    const h = (m: { type?: string; event?: string }) => {
      if (m?.type === 'imsplex:event' && m.event === event) {
        clearTimeout(t);
        c.off('message', h);
        resolve();
      }
    };
    c.on('message', h);
  });
}

async function main(): Promise<void> {
  const hosts = Array.from({ length: TARGETS }, (_, i) => `${NET}.${i + 1}`);
  const targets: { host: string; port: number; health: number }[] = [];
  for (const host of hosts) {
    const port = await listen(createServer((s) => s.destroy()), host);
    const health = await listen(
      createHttp((_req, res) => {
        const body = '{"ready":true,"health":100}';
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
        res.end(body);
      }),
      host,
    );
    targets.push({ host, port, health });
  }
  const free = async (host: string): Promise<number> => {
    const s = createServer();
    const p = await listen(s, host);
    await new Promise((r) => s.close(r));
    return p;
  };
  const [zcPort, icPort, hb1, hb2] = [await free(VIPA), await free(VIPA), await free(hosts[0]!), await free(hosts[1]!)];
  const zc = targets.slice(0, 3);
  const ic = targets.slice(3);
  const profile = `VIPADYNAMIC
  VIPADEFINE MOVEABLE IMMEDIATE 255.255.255.255 ${VIPA}
  VIPADISTRIBUTE DEFINE DISTMETHOD ROUNDROBIN NOOPTLOCAL
     ${VIPA} PORT ${zcPort} DESTIP ${zc.map((t) => t.host).join(' ')}
  VIPADISTRIBUTE DEFINE DISTMETHOD SERVERWLM NOOPTLOCAL
     ${VIPA} PORT ${icPort} DESTIP ${ic.map((t) => t.host).join(' ')}
ENDVIPADYNAMIC
IMSPLEX
${hosts.map((h, i) => `  SYSTEM SYS${i + 1} ${h}`).join('\n')}
  DATAPLANE HANDOFF
  PROBE INTERVAL 250 TIMEOUT 200
  TSR INTERVAL 5000
  CONNECTTIMEOUT 1000
  HEARTBEAT INTERVAL 200 TIMEOUT 800
  PEER ${hosts[0]} PORT ${hb1}
  PEER ${hosts[1]} PORT ${hb2}
${zc.map((t, i) => `  TARGET ${t.host} PORT ${zcPort} ADDRESS ${t.host}:${t.port} HEALTH http://${t.host}:${t.health}/health JOBNAME ZCON${i + 1}`).join('\n')}
${ic.map((t, i) => `  TARGET ${t.host} PORT ${icPort} ADDRESS ${t.host}:${t.port} HEALTH http://${t.host}:${t.health}/health JOBNAME ICON${i + 1}`).join('\n')}
ENDIMSPLEX
`;
  const file = join(tmp, 'profile.txt');
  writeFileSync(file, profile);
  const source = process.env.IDLE_SOURCE === '1' || (!process.env.IDLE_BIN && !existsSync(join(PKG, 'dist/bin.js')));
  const start = (role: 'primary' | 'backup', stack: string): ChildProcess => {
    const entry = source ? ['--conditions=@imsplex/source', '--import', 'tsx', 'src/bin.ts'] : [process.env.IDLE_BIN ?? 'dist/bin.js'];
    const c = spawn(process.execPath, [...entry, '--config', file, '--role', role, '--stack', stack, '--log-level', 'warn'], { cwd: PKG, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    children.push(c);
    return c;
  };
  const primary = start('primary', 'SYS1');
  const acquired = waitFor(primary, 'vipa:acquired');
  const backup = start('backup', 'SYS2');
  await Promise.all([acquired, waitFor(backup, 'started')]);
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const procs = [
    { name: 'primary', pid: primary.pid! },
    { name: 'backup', pid: backup.pid! },
  ];
  const t0 = process.hrtime.bigint();
  const before = procs.map((p) => cpuTicks(p.pid));
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const after = procs.map((p) => cpuTicks(p.pid));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`\nIdle distributors (handoff, probes 250 ms × ${TARGETS} HTTP targets, heartbeats 200 ms), ${secs.toFixed(1)} s`);
  console.log('| process | CPU ms/s (‰ of a core) |');
  console.log('|---|---|');
  procs.forEach((p, i) => {
    const msPerS = (((after[i]! - before[i]!) * 1000) / CLK_TCK) / secs;
    console.log(`| ${p.name} | ${msPerS.toFixed(1)} |`);
    console.log(`@@bench ${JSON.stringify({ suite: 'distributor', case: `idle CPU, ${p.name} (handoff)`, value: Number(msPerS.toFixed(2)), unit: 'ms/s', baseline: 'none', baselineValue: 0, ratio: 0 })}`);
  });
  // A graceful stop (bounded), so a profiler preloaded with NODE_OPTIONS can write its file.
  await Promise.all(
    [primary, backup].map(
      (c) =>
        new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 5000);
          c.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
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
