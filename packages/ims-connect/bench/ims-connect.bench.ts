/**
 * IMS Connect emulator benchmark (run: `pnpm bench` in this package).
 *
 * 1. Round trips/s and p50/p99 latency of SAMPL1 send-receive CM1/NONE against ECHO on 1, 8 and 64
 *    persistent connections, against a plain length-prefixed echo server measured in the same run
 *    with the same frames. The IMS Connect under test answers from an in-process ECHO datastore, so
 *    the ratio measures IMS Connect's own work (framing, IRM decode, session, reply encode); goal ≥ 0.85×
 *    at 64 connections. The same load through the real IMS engine (OTMA link, ECHO program) is
 *    reported too, without a goal (it includes the IMS engine's scheduling and sync point).
 * 2. 19,000 idle persistent connections held by one IMS Connect process (the connecting side is
 *    another process); reports the server's RSS growth; goal < 256 MB.
 *
 * The load generator is a separate process (fork of this file with `load` / `hold`), so client and
 * server do not share an event loop. Prints a table and one `@@bench` line per row.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { buildRequest, encodeRequest } from '@imsplex/codec';
import { startTestImsSystem } from '@imsplex/ims';
import { pino } from 'pino';
import { ImsConnectServer, type DatastoreExchange, type DatastoreLink, type DatastoreStatus, type ImsEvent, type ImsInput } from '../src/index.js';

const SELF = fileURLToPath(import.meta.url);
const DURATION_MS = Number(process.env.BENCH_MS ?? 3000);
const WARMUP_MS = 500;
const IDLE_CONNECTIONS = Number(process.env.BENCH_IDLE ?? 19_000);

// ------------------------------------------------------------------------------------------------
// Load generator (child)

interface LoadResult {
  count: number;
  p50: number;
  p99: number;
  seconds: number;
}

/** Read LLLL-prefixed replies (SAMPL1 replies and the plain echo frames are both LLLL-framed). */
function frames(socket: Socket, onFrame: () => void): void {
  let buf: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= 4) {
      const n = buf.readUInt32BE(0);
      if (buf.length < n) break;
      buf = buf.subarray(n);
      onFrame();
    }
  });
}

async function load(port: number, conns: number, clientIds: boolean): Promise<LoadResult> {
  const lat: number[] = [];
  let measuring = false;
  let stop = false;
  const sockets: Socket[] = [];
  await Promise.all(
    Array.from({ length: conns }, (_, i) => {
      const frame = Buffer.from(encodeRequest(buildRequest({ datastore: 'IMS1', clientId: clientIds ? `BENCH${String(i).padStart(3, '0')}` : '', trancode: 'ECHO', data: 'DISPLAY LAST1', commitMode: 'CM1', syncLevel: 'NONE', timer: 10_000 })));
      return new Promise<void>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port, noDelay: true }, () => {
          let t0 = 0;
          const send = () => {
            if (stop) return;
            t0 = performance.now();
            s.write(frame);
          };
          frames(s, () => {
            if (measuring) lat.push(performance.now() - t0);
            send();
          });
          send();
          resolve();
        });
        s.on('error', reject);
        sockets.push(s);
      });
    }),
  );
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  measuring = true;
  const start = performance.now();
  await new Promise((r) => setTimeout(r, DURATION_MS));
  measuring = false;
  stop = true;
  const seconds = (performance.now() - start) / 1000;
  for (const s of sockets) s.destroy();
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] ?? 0;
  return { count: lat.length, p50: q(0.5), p99: q(0.99), seconds };
}

async function hold(port: number, n: number): Promise<number> {
  const frameFor = (i: number) => Buffer.from(encodeRequest(buildRequest({ datastore: 'IMS1', clientId: `I${i.toString(36).toUpperCase().padStart(7, '0')}`, trancode: 'ECHO', data: 'HI', timer: 10_000 })));
  const sockets: Socket[] = [];
  let opened = 0;
  const batch = 500;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, (_, k) => {
        const idx = i + k;
        return new Promise<void>((resolve) => {
          const s = connect({ host: '127.0.0.1', port, noDelay: true }, () => s.write(frameFor(idx)));
          frames(s, () => {
            opened++;
            resolve();
          });
          s.on('error', () => resolve());
          s.on('close', () => resolve());
          sockets.push(s);
        });
      }),
    );
  }
  process.send!({ type: 'held', opened });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  for (const s of sockets) s.destroy();
  return opened;
}

// ------------------------------------------------------------------------------------------------
// Servers (parent)

/** An in-process ECHO datastore: IMS's ECHO program answer (the input segments back), no OTMA hop. */
class EchoDatastore implements DatastoreLink {
  readonly id = 'IMS1';
  status(): DatastoreStatus {
    return 'ACTIVE';
  }
  onStatus(): void {}
  send(input: ImsInput, sink: (ev: ImsEvent) => void): DatastoreExchange {
    return {
      start: () => sink({ ev: 'output', segments: input.segments, conversational: false, ackRequired: false }),
      ack() {},
      nak() {},
      abandon() {},
    };
  }
  resume(_t: string, _o: unknown, _c: unknown, _u: string, sink: (ev: ImsEvent) => void): DatastoreExchange {
    return { start: () => sink({ ev: 'empty' }), ack() {}, nak() {}, abandon() {} };
  }
  deallocate(_t: string, sink: (ev: ImsEvent) => void): DatastoreExchange {
    return { start: () => sink({ ev: 'committed' }), ack() {}, nak() {}, abandon() {} };
  }
  open(): void {}
  stop(): void {}
  close(): void {}
}

/** A bare IMS Connect process for the idle-connection test: reports its port, then its RSS on request. */
async function serve(): Promise<void> {
  const s = new ImsConnectServer({ id: 'IDLE', ports: [{ id: 0 }], datastores: [{ id: 'IMS1', tmember: 'IMS1' }], maxSockets: 65535, timeout: 600_000 }, { logger: pino({ level: 'silent' }), datastoreFactory: () => new EchoDatastore() });
  await s.start();
  global.gc?.();
  process.send!({ port: s.boundPort(0), rss: process.memoryUsage().rss });
  process.on('message', (m) => {
    if (m === 'rss') {
      global.gc?.();
      const m = process.memoryUsage();
      process.send!({ rss: m.rss, heap: m.heapUsed, external: m.external + m.arrayBuffers, sockets: s.socketsInUse() - 1 });
    } else void s.close().then(() => process.exit(0));
  });
}

function plainEcho(): Promise<{ port: number; close: () => void }> {
  const server = createServer({ noDelay: true }, (s) => {
    let buf: Buffer = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 4) {
        const n = buf.readUInt32BE(0);
        if (n < 4 || buf.length < n) break;
        s.write(buf.subarray(0, n));
        buf = buf.subarray(n);
      }
    });
    s.on('error', () => undefined);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port, close: () => server.close() })));
}

function child(args: string[]): { proc: ChildProcess; result: Promise<unknown> } {
  const proc = fork(SELF, args, { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const result = new Promise((resolve, reject) => {
    proc.once('message', resolve);
    proc.once('exit', (code) => code !== 0 && reject(new Error(`load generator exited with ${code}`)));
  });
  return { proc, result };
}

async function runLoad(port: number, conns: number, ids: boolean): Promise<LoadResult> {
  return (await child(['load', String(port), String(conns), ids ? '1' : '0']).result) as LoadResult;
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

async function main(): Promise<void> {
  const logger: import('pino').Logger = pino({ level: 'silent' });
  const rows: Row[] = [];
  const table: string[] = [];
  const echo = await plainEcho();
  const imsc = new ImsConnectServer({ id: 'BENCH', ports: [{ id: 0 }], datastores: [{ id: 'IMS1', tmember: 'IMS1' }], maxSockets: 65535, timeout: 600_000 }, { logger, datastoreFactory: () => new EchoDatastore() });
  await imsc.start();
  if (process.env.BENCH_ONLY === 'idle') await idleOnly(rows, table);
  else await throughput(rows, table, logger, echo, imsc);
  echo.close();
  await imsc.close();
  console.log(`\nIMS Connect emulator benchmark (${DURATION_MS} ms per run, load generator in a separate process)\n`);
  console.log(table.join('\n'));
  for (const r of rows) console.log(`@@bench ${JSON.stringify(r)}`);
  process.exit(0);
}

async function throughput(rows: Row[], table: string[], logger: import('pino').Logger, echo: { port: number }, imsc: ImsConnectServer): Promise<void> {
  const ims = await startTestImsSystem({ logger: logger as never });
  const real = new ImsConnectServer(
    { id: 'BENCHR', ports: [{ id: 0 }], datastores: [{ id: 'IMS1', tmember: ims.member, address: { host: ims.link.host, port: ims.link.port } }], maxSockets: 65535, timeout: 600_000 },
    { logger },
  );
  await real.start();
  while (real.health().datastores[0]!.status !== 'ACTIVE') await new Promise((r) => setTimeout(r, 20));
  table.push('| connections | plain echo rt/s | IMS Connect rt/s (p50 / p99 ms) | ratio | via IMS engine rt/s (p50 / p99 ms) |', '|---|---|---|---|---|');
  for (const conns of [1, 8, 64]) {
    const base = await runLoad(echo.port, conns, false);
    const ic = await runLoad(imsc.boundPort(0), conns, true);
    const viaIms = await runLoad(real.boundPort(0), conns, true);
    const bRate = base.count / base.seconds;
    const iRate = ic.count / ic.seconds;
    const rRate = viaIms.count / viaIms.seconds;
    table.push(`| ${conns} | ${Math.round(bRate)} | ${Math.round(iRate)} (${ic.p50.toFixed(3)} / ${ic.p99.toFixed(3)}) | ${(iRate / bRate).toFixed(2)}× | ${Math.round(rRate)} (${viaIms.p50.toFixed(3)} / ${viaIms.p99.toFixed(3)}) |`);
    rows.push({ suite: 'sampl1-echo', case: `${conns} conn round trips/s`, value: iRate, unit: 'rt/s', baseline: 'plain LLLL echo', baselineValue: bRate, ratio: iRate / bRate, ...(conns === 64 ? { goal: 0.85 } : {}) });
    rows.push({ suite: 'sampl1-echo', case: `${conns} conn p50 latency`, value: ic.p50, unit: 'ms', baseline: 'plain LLLL echo', baselineValue: base.p50, ratio: ic.p50 > 0 ? base.p50 / ic.p50 : 0 });
    rows.push({ suite: 'sampl1-echo', case: `${conns} conn p99 latency`, value: ic.p99, unit: 'ms', baseline: 'plain LLLL echo', baselineValue: base.p99, ratio: ic.p99 > 0 ? base.p99 / ic.p99 : 0 });
    rows.push({ suite: 'sampl1-ims-engine', case: `${conns} conn round trips/s`, value: rRate, unit: 'rt/s', baseline: 'plain LLLL echo', baselineValue: bRate, ratio: rRate / bRate });
  }
  await real.close();
  await ims.stop();
  await idleOnly(rows, table);
}

async function idleOnly(rows: Row[], table: string[]): Promise<void> {
  // Idle connections: a fresh IMS Connect process holds them; another process connects.
  const srv = fork(SELF, ['serve'], { execArgv: [...process.execArgv, '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = (await new Promise((resolve) => srv.once('message', resolve))) as { port: number; rss: number };
  const holder = fork(SELF, ['hold', String(ready.port), String(IDLE_CONNECTIONS)], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const held = (await new Promise((resolve) => holder.once('message', resolve))) as { opened: number };
  await new Promise((r) => setTimeout(r, 500));
  srv.send('rss');
  const after = (await new Promise((resolve) => srv.once('message', resolve))) as { rss: number; heap: number; external: number; sockets: number };
  holder.send('done');
  await new Promise((r) => holder.once('exit', r));
  srv.send('close');
  await new Promise((r) => srv.once('exit', r));
  const before = ready.rss;
  const sockets = after.sockets;
  table.push('', `idle persistent connections held: ${held.opened} (server sees ${sockets}); IMS Connect process RSS ${(before / 1048576).toFixed(0)} MB idle → ${(after.rss / 1048576).toFixed(0)} MB with the connections (${((after.rss - before) / Math.max(1, sockets) / 1024).toFixed(1)} KB/connection; V8 heap ${(after.heap / 1048576).toFixed(0)} MB, buffers ${(after.external / 1048576).toFixed(0)} MB)`);
  rows.push({ suite: 'idle-connections', case: `${held.opened} idle persistent: server RSS`, value: after.rss / 1048576, unit: 'MB', baseline: 'goal 256 MB', baselineValue: 256, ratio: 256 / (after.rss / 1048576), goal: 1 });
}

// Dispatch last: every class and function above is initialised by now.
if (process.argv[2] === 'load') {
  const [port, conns, ids] = process.argv.slice(3).map(Number) as [number, number, number];
  void load(port, conns, ids === 1).then((r) => {
    process.send!(r);
    process.exit(0);
  });
} else if (process.argv[2] === 'serve') {
  void serve();
} else if (process.argv[2] === 'hold') {
  const [port, n] = process.argv.slice(3).map(Number) as [number, number];
  void hold(port, n).then(() => process.exit(0));
} else {
  void main();
}
