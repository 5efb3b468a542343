import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultVictims, killReports, runChaos } from '../src/chaos.js';
import type { LoadTarget, RequestRecord } from '../src/load.js';
import { cli } from './helpers.js';

/** A stand-in for the supervisor's admin API: records calls, answers like imsplex-stack. */
let server: Server;
let url = '';
const calls: string[] = [];
const down = new Set<string>();
const TOKEN = 'test-token';
const dir = mkdtempSync(join(tmpdir(), 'imsplex-chaos-'));

const state = {
  vipa: '127.0.0.100',
  vipaOwner: 'SD1',
  distributes: [
    { port: 5595, targets: 'zosconnect' },
    { port: 5801, targets: 'imsconnect' },
  ],
  hosts: [{ name: 'SYS1', address: '127.0.1.1' }],
  boxes: [
    { name: 'IMS1', kind: 'ims', state: 'up', host: 'SYS1', address: '127.0.1.1' },
    { name: 'HWS1', kind: 'imsconnect', state: 'up', host: 'SYS1', address: '127.0.1.1' },
    { name: 'ZCON1', kind: 'zosconnect', state: 'up', host: 'SYS1', address: '127.0.1.1' },
    { name: 'SD2', kind: 'distributor', state: 'up', host: 'SYS2', address: '127.0.1.2' },
    { name: 'SD1', kind: 'distributor', state: 'up', host: 'SYS1', address: '127.0.1.1' },
  ],
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, { error: 'token', code: 'STACK_ERR_UNAUTHORIZED' });
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      calls.push(`${req.method} ${u.pathname}${u.search}${body ? ` ${body}` : ''}`);
      if (u.pathname === '/api/state') return send(200, state);
      const m = /^\/api\/boxes\/(\w+)\/(\w+)$/.exec(u.pathname);
      if (!m) return send(404, { error: 'not found' });
      if (m[1] === 'NOPE') return send(404, { error: 'no box named NOPE', code: 'STACK_ERR_UNKNOWN_BOX' });
      if (m[2] === 'kill') down.add(m[1]!);
      if (m[2] === 'restart') down.delete(m[1]!);
      if (m[2] === 'command') return send(200, { lines: [`${m[1]}: ${body}`, 'HWSC0001I OK'] });
      send(200, { box: { name: m[1] } });
    });
  });
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, () => r()));
  const a = server.address();
  url = `http://127.0.0.1:${a && typeof a === 'object' ? a.port : 0}`;
  writeFileSync(join(dir, 'supervisor.json'), JSON.stringify({ dashboard: url, token: TOKEN }));
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

describe('chaos', () => {
  it('picks one box per kind in the drill order, the VIPA owner as distributor', () => {
    expect(defaultVictims(state)).toEqual(['HWS1', 'ZCON1', 'SD1', 'IMS1']);
  });
  it('measures service recovery per kill from the request records', () => {
    const rec = (startedAt: number, endedAt: number, ok: boolean): RequestRecord => ({ id: `R${startedAt}`, startedAt, endedAt, outcome: ok ? { kind: 'succeeded' } : { kind: 'failed', code: 'X' } });
    const records = [rec(0, 5, true), rec(100, 105, false), rec(110, 400, false), rec(120, 130, false), rec(300, 310, true), rec(1000, 1001, false), rec(1500, 1520, true)];
    expect(killReports(records, [
      { box: 'A', at: 100, restartedAt: 200 },
      { box: 'B', at: 1000, restartedAt: null },
    ])).toEqual([
      { box: 'A', killedAt: 100, restartedAt: 200, serviceBackMs: 210, failedAfter: 3 },
      { box: 'B', killedAt: 1000, restartedAt: null, serviceBackMs: 520, failedAfter: 1 },
    ]);
    expect(killReports([rec(0, 1, false)], [{ box: 'C', at: 0, restartedAt: null }])[0]!.serviceBackMs).toBeNull();
  });
  it('kills and restarts each box in turn under load and accounts for every request', async () => {
    calls.length = 0;
    // A target that fails while any box is down: stands in for the stack under load.
    const target: LoadTarget = {
      describe: 'stub',
      send: async (id) => {
        await new Promise((r) => setTimeout(r, 2));
        return down.size > 0 ? { kind: 'in-doubt', code: 'IMS_ERR_IN_DOUBT', clientId: 'C1' } : { kind: 'succeeded', echoedId: id };
      },
      recover: async (inDoubt) => inDoubt.slice(0, 1).map((x) => x.id),
      close: async () => undefined,
    };
    const r = await runChaos({ stack: { url, token: TOKEN }, target, kill: ['HWS1', 'SD1'], warmupMs: 30, downMs: 40, settleMs: 30, concurrency: 2 });
    expect(calls).toEqual(['POST /api/boxes/HWS1/kill?signal=SIGKILL', 'POST /api/boxes/HWS1/restart', 'POST /api/boxes/SD1/kill?signal=SIGKILL', 'POST /api/boxes/SD1/restart']);
    const l = r.load;
    expect(l.succeeded + l.failed + l.inDoubt).toBe(l.sent);
    expect(l.inDoubt).toBeGreaterThan(0);
    expect(l.recovered).toBe(1);
    expect(l.lost).toBe(l.inDoubt - 1);
    expect(r.kills.map((k) => k.box)).toEqual(['HWS1', 'SD1']);
    for (const k of r.kills) expect(k.serviceBackMs).not.toBeNull();
  });
});

describe('cmd', () => {
  it('sends an operator command through the running stack', async () => {
    calls.length = 0;
    const r = await cli(['cmd', 'HWS1', 'VIEWHWS', 'SUMMARY', '--data-dir', dir]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('HWS1: VIEWHWS SUMMARY\nHWSC0001I OK\n');
    expect(calls).toEqual(['POST /api/boxes/HWS1/command VIEWHWS SUMMARY']);
  });
  it('reports an unknown box and a missing stack with their codes', async () => {
    const r = await cli(['cmd', 'NOPE', 'X', '--data-dir', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('STACK_ERR_UNKNOWN_BOX');
    const r2 = await cli(['cmd', 'HWS1', 'X', '--data-dir', join(dir, 'none')]);
    expect(r2.err).toContain('CLI_ERR_STACK');
  });
  it("talks to a box's admin endpoint directly with --url", async () => {
    const admin = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const ok = req.headers.authorization === 'Bearer t0k';
        res.writeHead(ok ? 200 : 401, { 'content-type': 'text/plain' });
        res.end(ok ? `HWSC0001I ${body}\n` : 'HWSC0011E NOT AUTHORIZED\n');
      });
    });
    await new Promise<void>((r) => admin.listen({ host: '127.0.0.1', port: 0 }, () => r()));
    const a = admin.address();
    const u = `http://127.0.0.1:${a && typeof a === 'object' ? a.port : 0}`;
    try {
      expect((await cli(['cmd', 'HWS1', 'VIEWHWS', '--url', u, '--token', 't0k'])).out).toBe('HWSC0001I VIEWHWS\n');
      const bad = await cli(['cmd', 'HWS1', 'VIEWHWS', '--url', u, '--token', 'wrong']);
      expect(bad.code).toBe(1);
      expect(bad.out).toContain('NOT AUTHORIZED');
    } finally {
      await new Promise<void>((r) => admin.close(() => r()));
    }
  });
});
