/** The standalone process: `imsplex-zos-connect --config DIR`. */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SAMPLES, tempConfig } from './helpers.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const loader = pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function run(args: string[]) {
  const child = spawn(process.execPath, ['--import', loader, '--conditions=@imsplex/source', bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, out: () => out, err: () => err };
}

describe('imsplex-zos-connect', () => {
  it('starts from a config directory, serves health, stops on SIGTERM', async () => {
    const p = run(['--config', SAMPLES, '--host', '127.0.0.1', '--port', '0', '--log-level', 'silent']);
    const url = await new Promise<string>((resolve, reject) => {
      p.child.stdout!.on('data', () => {
        const m = /listening on (http:\/\/\S+)/.exec(p.out());
        if (m) resolve(m[1]!);
      });
      void p.exited.then((c) => reject(new Error(`exited ${c}: ${p.err()}`)));
    });
    const res = await fetch(`${url}/health`);
    expect(await res.json()).toEqual({ ready: true, health: 100 });
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  }, 30_000);

  it('reports configuration problems as file:line and exits 2', async () => {
    const cfg = tempConfig({ 'services/BAD.xml': '<service name="BAD">\n  <ims connectionRef="NOPE" interactionRef="IMSINT1" transactionCode="BAD"/>\n  <request format="text"/><response format="text"/>\n</service>\n' });
    try {
      const p = run(['--config', cfg.dir, '--port', '0']);
      expect(await p.exited).toBe(2);
      expect(p.err()).toContain('services/BAD.xml:2: ims.connectionRef: no IMS connection profile "NOPE" in server.xml');
    } finally {
      cfg.cleanup();
    }
  }, 30_000);

  it('rejects bad arguments', async () => {
    const p = run(['--port', '1']);
    expect(await p.exited).toBe(2);
    expect(p.err()).toContain('--config is required');
    const q = run(['--config', SAMPLES, '--request-log', 'some']);
    expect(await q.exited).toBe(2);
    expect(q.err()).toContain('--request-log must be all, errors or off');
  }, 30_000);

  it('--request-log all writes one JSON line per request to stdout, flushed by the time it exits', async () => {
    const p = run(['--config', SAMPLES, '--host', '127.0.0.1', '--port', '0', '--request-log', 'all']);
    const url = await new Promise<string>((resolve, reject) => {
      p.child.stdout!.on('data', () => {
        const m = /listening on (http:\/\/\S+)/.exec(p.out());
        if (m) resolve(m[1]!);
      });
      void p.exited.then((c) => reject(new Error(`exited ${c}: ${p.err()}`)));
    });
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect((await fetch(`${url}/nothing`)).status).toBe(404);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    const lines = p
      .out()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l['msg'] === 'request').map((l) => [l['url'], l['status']])).toEqual([
      ['/health', 200],
      ['/nothing', 404],
    ]);
    expect(lines.at(-1)!['msg']).toBe('z/OS Connect server stopped');
  }, 30_000);
});
