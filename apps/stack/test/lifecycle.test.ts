/**
 * The supervisor as its own process, as people run it: Ctrl-C (SIGINT) stops every box and exits 0;
 * a supervisor killed with SIGKILL leaves no orphans (each box's preloaded guard sees the IPC channel
 * close and shuts the box down).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { httpCall } from '../src/http.js';
import { alive, miniTopology } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const main = join(here, '..', 'src', 'main.ts');
const dir = mkdtempSync(join(tmpdir(), 'imsplex-life-'));
const started: ChildProcess[] = [];
afterAll(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `imsplex-stack up` as a process; resolves once it printed that the stack is up. */
async function up(name: string): Promise<{ child: ChildProcess; pids: number[]; output: () => string; exited: Promise<{ code: number | null; signal: string | null }> }> {
  const data = join(dir, name);
  const file = join(dir, `${name}.topology`);
  // Its own addresses and port, apart from stack.test.ts.
  writeFileSync(file, miniTopology(data, 15802).replaceAll('127.0.9.', '127.0.10.'));
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@imsplex/source', main, 'up', '-t', file, '--runtime', 'source', '--log-level', 'warn'], {
    cwd: join(here, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`stack did not come up within 60 s:\n${out}`)), 60_000);
    const check = (): void => {
      if (out.includes('The stack is up.')) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(t);
      reject(new Error(`stack exited early:\n${out}`));
    });
  });
  const sup = JSON.parse(readFileSync(join(data, 'supervisor.json'), 'utf8')) as { dashboard: string; pid: number };
  expect(sup.pid).toBe(child.pid);
  const state = JSON.parse((await httpCall(`${sup.dashboard}/api/state`)).body) as { boxes: Array<{ pid: number | null }> };
  const pids = state.boxes.map((b) => b.pid).filter((p): p is number => p !== null);
  expect(pids).toHaveLength(4);
  return { child, pids, output: () => out, exited };
}

async function allGone(pids: number[], ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (pids.every((p) => !alive(p))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return pids.every((p) => !alive(p));
}

describe('supervisor process life cycle', () => {
  it('Ctrl-C (SIGINT) stops every box cleanly and exits 0', async () => {
    const s = await up('sigint');
    s.child.kill('SIGINT');
    const e = await s.exited;
    expect(e).toEqual({ code: 0, signal: null });
    expect(s.output()).toContain('stopping every box');
    expect(await allGone(s.pids, 1000)).toBe(true);
  }, 90_000);

  it('a supervisor killed with SIGKILL leaves no orphan boxes', async () => {
    const s = await up('sigkill');
    s.child.kill('SIGKILL');
    await s.exited;
    // The guard sends SIGTERM to its own box and forces an exit after 5 s at the latest.
    expect(await allGone(s.pids, 15_000)).toBe(true);
  }, 90_000);
});
