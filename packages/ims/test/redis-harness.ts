/**
 * Test harness for the shared-queue tests: a private `redis-server` (Debian's package) on a loopback
 * port, no persistence, in a temporary directory; always stopped by `stop()` (call it in afterAll).
 * redis-server cannot take `--port 0`, so a free port is found by binding port 0 first.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** Why the tests skip, or undefined when redis-server is installed. */
export const redisMissing: string | undefined = (() => {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : 'redis-server is not installed (apt-get install -y redis-server): shared-queue tests skipped';
})();
if (redisMissing) console.warn(redisMissing);

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** A plain client for assertions (closed by `stop`). */
  readonly client: Redis;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function startOn(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'notice'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      if (/Ready to accept connections/.test(out)) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        child.off('exit', onExit);
        resolve(child);
      }
    };
    const onExit = (code: number | null) => reject(new Error(`redis-server exited with ${code}: ${out.slice(-500)}`));
    child.stdout!.on('data', onData);
    child.stderr!.resume();
    child.once('exit', onExit);
  });
}

/** Start a private redis-server (three tries in case another process takes the port first). */
export async function startRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'imsplex-redis-'));
  let child: ChildProcess | undefined;
  let port = 0;
  let last: unknown;
  for (let i = 0; i < 3 && !child; i++) {
    port = await freePort();
    try {
      child = await startOn(port, dir);
    } catch (e) {
      last = e;
    }
  }
  if (!child) {
    await rm(dir, { recursive: true, force: true });
    throw last instanceof Error ? last : new Error('redis-server did not start');
  }
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  const proc = child;
  return {
    port,
    url,
    client,
    async stop() {
      client.disconnect();
      if (proc.exitCode === null && proc.signalCode === null) {
        const gone = new Promise<void>((r) => proc.once('exit', () => r()));
        proc.kill('SIGKILL');
        await gone;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Resolve once `check()` is true (re-checked every 20 ms); fail after `ms` with a message naming `what`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
