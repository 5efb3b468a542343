/** Test helpers: build port tables by hand, count picks, start/stop processes and loopback servers. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commitPick, pick, releaseConnection } from '../src/pick.js';
import { computeWeights } from '../src/health.js';
import type { Affinity, PortTable, TargetState } from '../src/table.js';
import type { DistMethodName } from '../src/config/types.js';

export const PKG = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A target with sensible defaults: ready, healthy, no connections. */
export function target(xcf: string, patch: Partial<TargetState> = {}): TargetState {
  return {
    xcf,
    host: xcf,
    port: 5801,
    healthUrl: null,
    jobname: null,
    maxConn: null,
    srvType: null,
    rank: 0,
    configWeight: 10,
    dynamic: false,
    rdy: 1,
    stackUp: true,
    quiesced: false,
    systemWeight: 64,
    serverWeight: null,
    health: 100,
    abnorm: 0,
    tcsr: 100,
    cer: 100,
    sef: 100,
    tsr: 100,
    qos: 0,
    totalConn: 0,
    activeConn: 0,
    lastPick: 0,
    ...patch,
  };
}

export function table(method: DistMethodName, targets: TargetState[], patch: Partial<PortTable> = {}): PortTable {
  return {
    dvipa: '127.0.0.100',
    port: 5801,
    method,
    optLocal: null,
    timedAffinity: 0,
    autoSwitchBack: true,
    healthSwitch: true,
    targets,
    cursor: { wrr: {}, rr: -1, active: null, seq: 0 },
    ...patch,
  };
}

export const fixedClock = (t = 1_000_000) => ({ now: () => t });

/**
 * Runs `n` picks from `client`, committing each; with `close` the connection ends right away
 * (arrival balancing), else it stays open (active balancing). Returns the sequence of XCFs.
 */
export function run(t: PortTable, n: number, opts: { client?: string; close?: boolean; rng?: () => number; affinities?: Map<string, Affinity> } = {}): { seq: (string | null)[]; table: PortTable } {
  let cur = t;
  const seq: (string | null)[] = [];
  for (let i = 0; i < n; i++) {
    const r = pick(cur, computeWeights(cur), opts.affinities ?? new Map(), opts.client ?? '10.0.0.1', fixedClock(), opts.rng ?? (() => 0));
    seq.push(r.xcf);
    cur = commitPick(cur, r);
    if (r.xcf && opts.close !== false) cur = releaseConnection(cur, r.xcf);
  }
  return { seq, table: cur };
}

export function counts(seq: (string | null)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of seq) out[String(x)] = (out[String(x)] ?? 0) + 1;
  return out;
}

/** Reserves a free port on `host` (bind 0, read, close). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host, port: 0 }, () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * The loopback servers and sockets a test file opens: `listen` binds a server on 127.0.0.1 port 0 and
 * resolves with its port; `close` (for `afterEach`) destroys the tracked sockets and closes the servers.
 */
export function loopbackScope(): { readonly servers: Server[]; readonly sockets: Socket[]; listen(s: Server): Promise<number>; close(): Promise<void> } {
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  return {
    servers,
    sockets,
    listen(s) {
      servers.push(s);
      return new Promise((resolve, reject) => {
        s.once('error', reject);
        s.listen({ host: '127.0.0.1', port: 0 }, () => resolve((s.address() as { port: number }).port));
      });
    },
    async close() {
      for (const s of sockets.splice(0)) s.destroy();
      await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
    },
  };
}

/** A random loopback /24 of our own, e.g. 127.73.18.x, so tests never collide with other suites. */
export function randomNet(): string {
  return `127.${20 + Math.floor(Math.random() * 200)}.${1 + Math.floor(Math.random() * 250)}`;
}

/** An echo server that answers "WHO\n" with its name; tracks connections. */
export async function echoServer(host: string, name: string, port = 0): Promise<{ server: Server; port: number; sockets: Set<Socket>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true, allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    s.on('data', (d: Buffer) => s.write(d.toString() === 'WHO\n' ? `${name}\n` : d));
    s.on('end', () => s.end());
  });
  await new Promise<void>((r) => server.listen({ host, port }, () => r()));
  const bound = (server.address() as { port: number }).port;
  return {
    server,
    port: bound,
    sockets,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Spawns a TS entry with tsx and the source condition, with an IPC channel. */
export function spawnTs(entry: string, args: string[], opts: { stdin?: 'pipe' | 'ignore' } = {}): ChildProcess {
  return spawn(process.execPath, ['--conditions=@imsplex/source', '--import', 'tsx', entry, ...args], {
    cwd: PKG,
    stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
}

/** Resolves with the first IPC message satisfying `pred`, or rejects after `ms`. */
export function nextMessage<T = any>(child: ChildProcess, pred: (m: any) => boolean, ms = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', h);
      reject(new Error(`no matching message within ${ms} ms`));
    }, ms);
    const h = (m: any): void => {
      if (pred(m)) {
        clearTimeout(timer);
        child.off('message', h);
        resolve(m as T);
      }
    };
    child.on('message', h);
  });
}

/** Kills a child and waits for its exit (bounded). */
export function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, 5000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill(signal);
  });
}
