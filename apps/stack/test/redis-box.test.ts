/**
 * The Redis box's wrapper (src/redis-box.ts) with a real redis-server: it passes SIGTERM on (redis-server
 * writes its append-only file and exits 0; the data is there after a restart), and it takes
 * redis-server down with it when the supervisor's IPC channel closes (no orphan, even though
 * redis-server cannot preload the guard).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseInfo, redisCall } from '../src/resp.js';
import { alive, freePort, redisMissing, untilGone } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, '..', 'src');
const dir = mkdtempSync(join(tmpdir(), 'imsplex-redisbox-'));
const started: ChildProcess[] = [];
const redisPids: number[] = [];

afterAll(() => {
  const kill = (pid: number): void => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  for (const c of started) if (c.pid && c.exitCode === null && c.signalCode === null) kill(-c.pid);
  for (const p of redisPids) if (alive(p)) kill(p);
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the wrapper as the supervisor does (own process group, IPC, guard); resolves once redis-server is ready. */
async function box(conf: string): Promise<{ child: ChildProcess; exited: Promise<{ code: number | null; signal: string | null }> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@imsplex/source', '--import', join(src, 'guard.ts'), join(src, 'redis-box.ts'), '--', 'redis-server', conf], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true,
  });
  started.push(child);
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`redis-server not ready within 20 s:\n${out}`)), 20_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(t);
        resolve();
      }
    });
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    void exited.then(() => {
      clearTimeout(t);
      reject(new Error(`the wrapper exited early:\n${out}`));
    });
  });
  return { child, exited };
}

describe.skipIf(redisMissing !== undefined)(`the Redis box wrapper${redisMissing ? ` (${redisMissing})` : ''}`, () => {
  it('passes SIGTERM on: redis-server saves its append-only file and exits 0; the data survives a restart', async () => {
    const port = await freePort();
    const conf = join(dir, 'a.conf');
    writeFileSync(conf, `bind 127.0.0.1\nport ${port}\ndir "${dir}"\nappendonly yes\nappendfsync everysec\nsave ""\nlogfile ""\nrequirepass "pw"\n`);
    const ep = { host: '127.0.0.1', port, password: 'pw' };
    const a = await box(conf);
    const [ok, info] = await redisCall(ep, [['SET', 'imsplex:test', 'kept'], ['INFO', 'server']]);
    expect(ok).toBe('OK');
    const pid = Number(parseInfo(info as string).process_id);
    redisPids.push(pid);
    a.child.kill('SIGTERM');
    expect(await a.exited).toEqual({ code: 0, signal: null });
    expect(await untilGone(pid, 5000)).toBe(true);
    const b = await box(conf);
    expect(await redisCall(ep, [['GET', 'imsplex:test']])).toEqual(['kept']);
    redisPids.push(Number(parseInfo((await redisCall(ep, [['INFO', 'server']]))[0] as string).process_id));
    b.child.kill('SIGTERM');
    expect((await b.exited).code).toBe(0);
  }, 40_000);

  it('ends redis-server when the supervisor’s IPC channel closes (a supervisor killed with SIGKILL leaves no orphan)', async () => {
    const port = await freePort();
    const conf = join(dir, 'b.conf');
    writeFileSync(conf, `bind 127.0.0.1\nport ${port}\ndir "${dir}"\nappendonly no\nsave ""\nlogfile ""\n`);
    const c = await box(conf);
    const pid = Number(parseInfo((await redisCall({ host: '127.0.0.1', port }, [['INFO', 'server']]))[0] as string).process_id);
    redisPids.push(pid);
    expect(alive(pid)).toBe(true);
    c.child.disconnect(); // what the kernel does to the channel when the supervisor dies
    await c.exited;
    expect(await untilGone(pid, 10_000)).toBe(true);
  }, 40_000);
});
