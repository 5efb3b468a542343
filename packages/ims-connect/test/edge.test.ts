/** Timers, limits and robustness at the edge: injected timers, MAXSOC, partial frames, backpressure, TLS, admin, quiesce. */
import { describe, expect, it, vi } from 'vitest';
import { Duplex, duplexPair } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRequest, decodeReply, encodeRequest, type BuildRequestOptions } from '@imsplex/codec';
import { FrameWriter, startAdmin, type Timers } from '../src/index.js';
import { RawClient, harness } from './harness.js';

/** Timers advanced by hand. */
class ManualTimers implements Timers {
  now = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.pending.delete(h as number);
  }
  advance(ms: number): void {
    this.now += ms;
    for (const [id, t] of [...this.pending].sort((a, b) => a[1].at - b[1].at)) {
      if (t.at <= this.now && this.pending.has(id)) {
        this.pending.delete(id);
        t.fn();
      }
    }
  }
  get size(): number {
    return this.pending.size;
  }
}

const req = (o: BuildRequestOptions) => encodeRequest(buildRequest({ datastore: 'IMS1', clientId: 'EDGE01', ...o }));
const rsmOf = (b: Uint8Array | undefined) => {
  const r = b && decodeReply(b, { llll: true });
  return r?.kind === 'status' ? [r.rsm.returnCode, r.rsm.reasonCode] : r;
};
const tick = () => new Promise((r) => setImmediate(r));

describe('timers (injected)', () => {
  it('default timer (X\'00\') expiry uses TIMEOUT= and answers RC 36 with reason 0, then closes', async () => {
    const timers = new ManualTimers();
    const h = await harness({ timeout: 30_000 }, { timers });
    const c = h.memory();
    c.send(req({ trancode: 'SLOW', data: 'X', timer: 'default' }));
    await vi.waitFor(() => expect(h.ims.waiting.size).toBe(1));
    timers.advance(29_999);
    await tick();
    expect(c.queued).toBe(0);
    timers.advance(1);
    expect(rsmOf(await c.next())).toEqual([36, 0]);
    await c.whenClosed();
    await h.close();
  });

  it('an invalid timer code counts as default: RC 36 with the code as reason', async () => {
    const timers = new ManualTimers();
    const h = await harness({ timeout: 1000 }, { timers });
    const c = h.memory();
    c.send(req({ trancode: 'SLOW', data: 'X', timer: { code: 0xa5 } }));
    await vi.waitFor(() => expect(h.ims.waiting.size).toBe(1));
    timers.advance(1000);
    expect(rsmOf(await c.next())).toEqual([36, 0xa5]);
    await h.close();
  });

  it('NO_WAIT on send-receive waits 2 s (IBM substitution) and reports RC 40 reason X\'E9\'', async () => {
    const timers = new ManualTimers();
    const h = await harness({}, { timers });
    const c = h.memory();
    c.send(req({ trancode: 'SLOW', data: 'X', timer: 'nowait' }));
    await vi.waitFor(() => expect(h.ims.waiting.size).toBe(1));
    timers.advance(1999);
    await tick();
    expect(c.queued).toBe(0);
    timers.advance(1);
    expect(rsmOf(await c.next())).toEqual([40, 0xe9]);
    await h.close();
  });

  it('a connection that sends nothing within TIMEOUT is closed; IDLETO closes idle persistent sockets', async () => {
    const timers = new ManualTimers();
    const h = await harness({ timeout: 5000, idleTimeout: 7000 }, { timers });
    const c = h.memory();
    timers.advance(5000);
    await c.whenClosed();
    const d = h.memory();
    d.send(req({ trancode: 'ECHO', data: 'X' }));
    await d.next();
    timers.advance(6999);
    await tick();
    expect(d.closed).toBe(false);
    timers.advance(1);
    await d.whenClosed();
    await h.close();
  });

  it('a partial frame that stalls past the read timeout is dropped', async () => {
    const timers = new ManualTimers();
    const h = await harness({ readTimeout: 3000 }, { timers });
    const c = h.memory();
    const full = req({ trancode: 'ECHO', data: 'X' });
    c.send(full.subarray(0, 20));
    await tick();
    timers.advance(3000);
    await c.whenClosed();
    expect(c.queued).toBe(0);
    await h.close();
  });

  it('FrameWriter: write() === false blocks, a missing drain destroys the stream with IMS_ERR_DRAIN_TIMEOUT', async () => {
    const timers = new ManualTimers();
    let destroyedWith: Error | null = null;
    const stuck = new Duplex({
      read() {},
      write(_c, _e, _cb) {
        /* never calls back: the peer does not read */
      },
      highWaterMark: 4,
    });
    stuck.on('error', () => undefined);
    const orig = stuck.destroy.bind(stuck);
    stuck.destroy = (e?: Error) => {
      destroyedWith = e ?? null;
      return orig(e);
    };
    const w = new FrameWriter(stuck, 500, timers);
    expect(w.write(new Uint8Array(16))).toBe(false);
    expect(w.blocked).toBe(true);
    timers.advance(499);
    expect(destroyedWith).toBeNull();
    timers.advance(1);
    expect((destroyedWith as unknown as { code: string }).code).toBe('IMS_ERR_DRAIN_TIMEOUT');
  });
});

describe('limits', () => {
  it('MAXSOC: connections over the limit are refused (listener counts), health drops, recovers', async () => {
    const h = await harness({ maxSockets: 3 }, {}, true);
    const a = await h.tcp();
    const b = await h.tcp();
    await vi.waitFor(() => expect(h.server.socketsInUse()).toBe(3));
    expect(h.server.health().health).toBe(0);
    const c = await h.tcp();
    await c.whenClosed();
    expect(c.queued).toBe(0);
    a.end();
    await a.whenClosed();
    await vi.waitFor(() => expect(h.server.socketsInUse()).toBe(2));
    const d = await h.tcp();
    d.send(req({ trancode: 'ECHO', data: 'OK', clientId: 'MAX01' }));
    expect(decodeReply((await d.next())!, { llll: true }).kind).toBe('data');
    b.end();
    await h.close();
  });

  it('oversize frames are rejected with RSM reason 7 or a close, never buffered', async () => {
    const h = await harness({ maxSize: 1000 });
    const c = h.memory();
    const big = req({ trancode: 'ECHO', data: 'X'.repeat(2000) });
    c.send(big);
    expect(rsmOf(await c.next())).toEqual([8, 7]);
    await c.whenClosed();
    // a frame whose LLLL is below the X'58' minimum: same answer
    const d = h.memory();
    const small = req({ trancode: 'ECHO', data: 'X' });
    small.set([0, 0, 0, 0x20], 0);
    d.send(small);
    expect(rsmOf(await d.next())).toEqual([8, 7]);
    await h.close();
  });

  it('QUIESCE: stops accepting, lets the in-flight interaction finish, then closes', async () => {
    const h = await harness({}, {}, true);
    const busy = await h.tcp();
    busy.send(req({ trancode: 'SLOW', data: 'X', timer: { code: 0x31 }, clientId: 'BUSY01' }));
    await vi.waitFor(() => expect(h.ims.waiting.size).toBe(1));
    const idle = await h.tcp();
    const done = h.server.command('CLOSEHWS QUIESCE');
    await idle.whenClosed();
    expect(h.server.health().ready).toBe(false);
    // finish the in-flight work: IMS answers
    for (const w of h.ims.waiting) w({ ev: 'output', segments: [new Uint8Array([0xc4, 0xd6, 0xd5, 0xc5])], conversational: false, ackRequired: false });
    expect(decodeReply((await busy.next())!, { llll: true }).kind).toBe('data');
    expect(await done).toEqual(['HWSC0020I IMS CONNECT QUIESCED; IN-FLIGHT WORK COMPLETE']);
    await busy.whenClosed();
    await h.close();
  });
});

describe('TLS port and admin endpoint', () => {
  it('serves the protocol over TLS (SSLPORT)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imsc-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
      const cert = readFileSync(join(dir, 'c.pem'));
      const key = readFileSync(join(dir, 'k.pem'));
      const h = await harness({ ports: [{ id: 0, tls: true }], tls: { cert, key } }, {}, true);
      const s = tlsConnect({ host: '127.0.0.1', port: h.server.boundPort(0), ca: cert, servername: 'localhost' });
      await new Promise<void>((resolve, reject) => {
        s.once('secureConnect', resolve);
        s.once('error', reject);
      });
      const c = new RawClient(s);
      c.send(req({ trancode: 'ECHO', data: 'SECURE', clientId: 'TLS01' }));
      const r = decodeReply((await c.next())!, { llll: true });
      expect(r.kind).toBe('data');
      s.destroy();
      await h.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('admin: /health JSON without auth, /metrics, /command needs the bearer token', async () => {
    const h = await harness({ maxSockets: 100 }, {}, true);
    const admin = await startAdmin(h.server, { host: '127.0.0.1', port: 0, token: 'tok' });
    const port = (admin.address() as { port: number }).port;
    try {
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ ready: true, health: 100, id: 'HWS1', sockets: { inUse: 1, max: 100 } });
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain('imsconnect_health');
      expect((await fetch(`http://127.0.0.1:${port}/command`, { method: 'POST', body: 'VIEWHWS' })).status).toBe(401);
      const ok = await fetch(`http://127.0.0.1:${port}/command`, { method: 'POST', body: 'VIEWHWS SUMMARY', headers: { authorization: 'Bearer tok' } });
      expect((await ok.text()).split('\n')[0]).toBe('HWSC0001I HWS ID=HWS1 RACF=N PSWDMC=N');
    } finally {
      admin.close();
      admin.closeAllConnections();
      await h.close();
    }
  });
});

describe('in-memory duplex pair sanity', () => {
  it('two clients on two ports may use the same client ID', async () => {
    const h = await harness({ ports: [{ id: 7001 }, { id: 7002 }] });
    const a = h.memory(7001);
    const b = h.memory(7002);
    a.send(req({ trancode: 'ECHO', data: 'A', clientId: 'SAME01' }));
    b.send(req({ trancode: 'ECHO', data: 'B', clientId: 'SAME01' }));
    expect(decodeReply((await a.next())!, { llll: true }).kind).toBe('data');
    expect(decodeReply((await b.next())!, { llll: true }).kind).toBe('data');
    await h.close();
  });
});
void duplexPair;
