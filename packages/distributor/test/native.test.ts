/**
 * The native data plane (native/splice.c) on real loopback sockets: closing pairs while bytes
 * flow, no fd left behind, a slow reader pinning at most SPLICE_READ_BUFFER per direction, what
 * counts as abnormal, 1 000 concurrent pairs, exactly one completion per pair, a process or worker
 * whose only remaining work is a pair (alive while it is active, exits or cleans up after). The
 * addon is built first if missing; on Linux the suite fails when it cannot be built.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readdirSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadNativeSplice, type NativeSplice } from '../src/dataplane/native.js';
import { connectTarget, preferredSpliceMode, splice, SPLICE_READ_BUFFER, type SpliceResult } from '../src/dataplane/proxy.js';
import { loopbackScope, PKG } from './helpers.js';
import { NATIVE_EXPECTED, requireNative } from './native-build.js';

const scope = loopbackScope();
const { sockets, listen } = scope;
afterEach(() => scope.close());

let addon: NativeSplice;
beforeAll(() => {
  addon = requireNative();
});

interface Front {
  port: number;
  /** Completion of each spliced connection, in accept order. */
  results: Promise<SpliceResult>[];
  /** How many times each connection's completion was called. */
  calls: number[];
  /** Aborts connection i (closes its pair). */
  aborts: AbortController[];
}

/** A listener that splices every connection natively to `targetPort` (asserting the native path). */
async function front(targetPort: number): Promise<Front> {
  const f: Front = { port: 0, results: [], calls: [], aborts: [] };
  const server = createServer({ pauseOnConnect: true, allowHalfOpen: true, noDelay: true }, (client) => {
    sockets.push(client);
    client.on('error', () => undefined);
    const ac = new AbortController();
    const i = f.aborts.push(ac) - 1;
    f.calls.push(0);
    f.results.push(
      (async () => {
        const { socket: upstream } = await connectTarget('127.0.0.1', targetPort, 5000);
        sockets.push(upstream);
        return new Promise<SpliceResult>((resolve, reject) => {
          const mode = splice(client, upstream, (r) => (f.calls[i]!++, resolve(r)), { mode: 'native', signal: ac.signal });
          if (mode !== 'native') reject(new Error(`expected the native path, got ${mode}`));
        });
      })(),
    );
  });
  f.port = await listen(server);
  return f;
}

/** An echo target (half-close passed back); `closed` counts its connections that closed. */
async function echoTarget(): Promise<{ port: number; server: Server; closed: () => number }> {
  let closed = 0;
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => {
      if (!s.write(d)) {
        s.pause();
        s.once('drain', () => s.resume());
      }
    });
    s.on('end', () => s.end());
    s.once('close', () => closed++);
  });
  return { port: await listen(server), server, closed: () => closed };
}

function client(port: number, opts: { allowHalfOpen?: boolean } = {}): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const c = connect({ host: '127.0.0.1', port, noDelay: true, allowHalfOpen: opts.allowHalfOpen ?? false }, () => resolve(c));
    sockets.push(c);
    c.once('error', reject);
  });
}

/** Sends `text` and resolves once that many bytes came back. */
function roundTrip(c: Socket, text: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const onData = (d: Buffer): void => {
      got += d.toString();
      if (got.length >= text.length) {
        c.off('data', onData);
        resolve(got);
      }
    };
    c.on('data', onData);
    c.write(text);
  });
}

const closedP = (s: Socket): Promise<void> => new Promise((r) => (s.destroyed && s.closed ? r() : s.once('close', () => r())));
const fdCount = (): number => readdirSync('/proc/self/fd').length;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Waits (turn by turn, bounded) until `pred` holds; for state the addon reports from its own thread. */
async function until(pred: () => boolean, what: string, turns = 20_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (pred()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`never happened: ${what}`);
}

describe.runIf(NATIVE_EXPECTED)('native data plane', () => {
  it('is found by the loader from the sources, and its buffer size is SPLICE_READ_BUFFER', () => {
    const l = loadNativeSplice();
    expect(l.reason).toBeNull();
    expect(l.path).toBe(join(PKG, 'dist', 'native', `${process.platform}-${process.arch}`, 'imsplex-splice.node'));
    expect(addon.readBufferSize).toBe(SPLICE_READ_BUFFER);
    expect(preferredSpliceMode()).toBe('native');
    expect(preferredSpliceMode('native')).toBe('native');
    expect(preferredSpliceMode('direct')).toBe('direct');
    expect(preferredSpliceMode('stream')).toBe('stream');
  });

  it('rejects bad arguments with a TypeError and fds that are not stream sockets with a coded error', () => {
    expect(() => (addon.attach as (...a: unknown[]) => number)('x', 1, () => undefined)).toThrow(TypeError);
    expect(() => addon.attach(-1, 1, () => undefined)).toThrow(TypeError);
    expect(() => addon.attach(5, 5, () => undefined)).toThrow(TypeError);
    expect(() => addon.attach(0, 1, 'no' as unknown as () => void)).toThrow(TypeError);
    expect(() => addon.close(Number.NaN)).toThrow(TypeError);
    // A file is not a stream socket: refused (ENOTSOCK) before anything is dup()ed or registered.
    const fd = openSync(join(PKG, 'package.json'), 'r');
    const fd2 = openSync(join(PKG, 'package.json'), 'r');
    let err: (Error & { code?: string }) | null = null;
    try {
      addon.attach(fd, fd2, () => undefined);
    } catch (e) {
      err = e as Error & { code?: string };
    } finally {
      closeSync(fd);
      closeSync(fd2);
    }
    expect(err?.code).toBe('ERR_IMSPLEX_SPLICE');
    expect(err?.message).toMatch(/client fd: Socket operation on non-socket/);
    expect(addon.stats().active).toBe(0);
  });

  it('close(id) while bytes flow closes that pair only, once, as normal; closing it again is a no-op', async () => {
    const t = await echoTarget();
    const f = await front(t.port);
    const [c1, c2] = [await client(f.port), await client(f.port)];
    c1.on('error', () => undefined);
    // c1 streams continuously until it is closed.
    let streaming = true;
    const chunk = Buffer.alloc(4096, 0x61);
    const pump = (): void => {
      while (streaming && c1.write(chunk));
      if (streaming) c1.once('drain', pump);
    };
    c1.on('data', () => undefined);
    pump();
    await roundTrip(c2, 'other');
    await until(() => addon.stats().pairs >= 2, 'both pairs registered');
    const c1Closed = closedP(c1);
    f.aborts[0]!.abort();
    await c1Closed;
    streaming = false;
    const r1 = await f.results[0]!;
    expect(r1.abnormal).toBe(false);
    expect(r1.bytesFromClient).toBeGreaterThan(0);
    // The other pair is untouched, and a second close of the first changes nothing.
    f.aborts[0]!.abort();
    expect(await roundTrip(c2, 'still here')).toBe('still here');
    c2.end();
    expect(await f.results[1]!).toEqual({ abnormal: false, bytesFromClient: 15, bytesFromTarget: 15 });
  });

  it('closeAll() while bytes flow closes every pair; each completes once', async () => {
    const t = await echoTarget();
    const f = await front(t.port);
    const cs = await Promise.all(Array.from({ length: 5 }, () => client(f.port)));
    for (const c of cs) {
      c.on('error', () => undefined);
      c.on('data', () => undefined);
    }
    await Promise.all(cs.map((c) => roundTrip(c, 'x'.repeat(100))));
    for (const c of cs) c.write(randomBytes(64 * 1024));
    const before = addon.stats().completed;
    const closed = Promise.all(cs.map(closedP));
    addon.closeAll();
    await closed;
    const rs = await Promise.all(f.results);
    expect(rs.every((r) => !r.abnormal && r.bytesFromClient >= 100)).toBe(true);
    await until(() => addon.stats().pairs === 0, 'pairs gone');
    expect(addon.stats().completed - before).toBe(5);
    expect(addon.stats().active).toBe(0);
  });

  it('leaves no fd behind after 200 pairs (/proc/self/fd), and the completion fires once per pair', async () => {
    const t = await echoTarget();
    const f = await front(t.port);
    // One pair first: the I/O thread's epoll fd and eventfd are opened on the first attach.
    const warm = await client(f.port);
    await roundTrip(warm, 'w');
    warm.end();
    await Promise.all([closedP(warm), f.results[0]!]);
    await until(() => t.closed() === 1, 'warm-up target socket closed');
    const baseline = fdCount();
    const completedBefore = addon.stats().completed;
    for (let batch = 0; batch < 4; batch++) {
      const cs = await Promise.all(Array.from({ length: 50 }, () => client(f.port)));
      await Promise.all(cs.map((c, i) => roundTrip(c, `pair ${batch}/${i}`)));
      for (const c of cs) c.end();
      await Promise.all(cs.map(closedP));
    }
    const rs = await Promise.all(f.results.slice(1));
    expect(rs).toHaveLength(200);
    expect(rs.every((r) => !r.abnormal && r.bytesFromClient === r.bytesFromTarget && r.bytesFromClient > 0)).toBe(true);
    await until(() => t.closed() === 201, 'target sockets closed');
    // Closing ended pairs again reports nothing: a later pair's completion comes after anything
    // those commands could have produced (one command queue, one completion queue, both in order).
    for (const ac of f.aborts) ac.abort();
    const last = await client(f.port);
    await roundTrip(last, 'last');
    last.end();
    await Promise.all([closedP(last), f.results[201]!]);
    await until(() => t.closed() === 202, 'last target socket closed');
    expect(f.calls).toEqual(new Array(202).fill(1));
    expect(addon.stats().completed - completedBefore).toBe(201);
    await until(() => addon.stats().pairs === 0, 'pairs gone');
    // Exact at once in a forks-pool worker (the process is this file's alone); a threads-pool run
    // shares /proc/self/fd with other files, whose fds come and go, but a leak never goes away.
    await until(() => fdCount() === baseline, `fd count back to ${baseline} (now ${fdCount()})`);
  });

  it('a slow reader pins at most SPLICE_READ_BUFFER per direction; the rest waits in the kernel and the sender', async () => {
    // The target reads nothing until told to, then hashes what it got.
    let target!: Socket;
    let targetReady!: () => void;
    const targetConnected = new Promise<void>((r) => (targetReady = r));
    const server = createServer({ pauseOnConnect: true, allowHalfOpen: true, noDelay: true }, (s) => {
      sockets.push(s);
      target = s;
      targetReady();
    });
    const f = await front(await listen(server));
    const c = await client(f.port, { allowHalfOpen: true });
    await targetConnected;
    const before = addon.stats().partialWrites;
    // More than the kernel can hold between the addon and a target that does not read (its
    // receive buffer stays at tcp_rmem's default without reads; the send buffer is at most
    // tcp_wmem's maximum, 4 MiB here).
    const payload = randomBytes(16 * 1024 * 1024);
    c.write(payload);
    c.end();
    await until(() => addon.stats().partialWrites > before && addon.stats().bufferedBytes > 0, 'the addon kept a remainder (target full)');
    const s = addon.stats();
    expect(s.bufferedBytes).toBeGreaterThan(0);
    expect(s.bufferedBytes).toBeLessThanOrEqual(SPLICE_READ_BUFFER);
    expect(s.peakBufferedBytes).toBeLessThanOrEqual(SPLICE_READ_BUFFER);
    // The backlog stayed with the sender: most of the payload has not left the client process.
    expect(c.writableLength).toBeGreaterThan(0);
    // Now read: every byte arrives, in order; the half-close follows.
    const parts: Buffer[] = [];
    target.on('data', (d: Buffer) => parts.push(d));
    const got = new Promise<Buffer>((r) => target.once('end', () => r(Buffer.concat(parts))));
    target.resume();
    const all = await got;
    expect(all.length).toBe(payload.length);
    expect(sha(all)).toBe(sha(payload));
    target.end();
    expect(await f.results[0]!).toEqual({ abnormal: false, bytesFromClient: payload.length, bytesFromTarget: 0 });
    expect(addon.stats().bufferedBytes).toBe(0);
    expect(addon.stats().peakBufferedBytes).toBeLessThanOrEqual(SPLICE_READ_BUFFER);
  });

  it('abnormal: true when the target resets, false when both sides close cleanly', async () => {
    const reset = createServer({ noDelay: true }, (s) => {
      sockets.push(s);
      s.once('data', () => s.resetAndDestroy());
    });
    const fr = await front(await listen(reset));
    const c1 = await client(fr.port);
    c1.on('error', () => undefined);
    const c1Closed = closedP(c1);
    c1.write('boom');
    await c1Closed;
    expect(await fr.results[0]!).toEqual({ abnormal: true, bytesFromClient: 4, bytesFromTarget: 0 });

    const t = await echoTarget();
    const f = await front(t.port);
    const c2 = await client(f.port);
    expect(await roundTrip(c2, 'fine')).toBe('fine');
    c2.end();
    expect(await f.results[0]!).toEqual({ abnormal: false, bytesFromClient: 4, bytesFromTarget: 4 });
  });

  it('1 000 concurrent pairs each echo their own bytes', async () => {
    const t = await echoTarget();
    const f = await front(t.port);
    const N = 1000;
    const cs: Socket[] = [];
    for (let i = 0; i < N; i += 100) cs.push(...(await Promise.all(Array.from({ length: 100 }, () => client(f.port)))));
    const msgs = cs.map((_, i) => `${String(i).padStart(4, '0')}:${randomBytes(30).toString('hex')}`);
    const echoed = await Promise.all(cs.map((c, i) => roundTrip(c, msgs[i]!)));
    expect(echoed).toEqual(msgs);
    // All 1 000 are open at once in the addon.
    await until(() => addon.stats().pairs >= N, '1 000 pairs registered');
    expect(addon.stats().active).toBeGreaterThanOrEqual(N);
    for (const c of cs) c.end();
    const rs = await Promise.all(f.results);
    expect(rs.every((r, i) => !r.abnormal && r.bytesFromClient === msgs[i]!.length && r.bytesFromTarget === msgs[i]!.length)).toBe(true);
    await Promise.all(cs.map(closedP));
    await until(() => addon.stats().pairs === 0, 'pairs gone');
  });
});

describe.runIf(NATIVE_EXPECTED)('native data plane: process and worker lifetime', () => {
  const fixture = join(PKG, 'test', 'fixtures', 'native-pair.mjs');

  /** Two listeners standing for the client and the target of a pair the fixture splices. */
  async function ends(): Promise<{ a: number; b: number; sa: Promise<Socket>; sb: Promise<Socket> }> {
    const accepted = (srv: Server): Promise<Socket> =>
      new Promise((r) =>
        srv.once('connection', (s: Socket) => {
          sockets.push(s);
          s.on('error', () => undefined);
          r(s);
        }),
      );
    const la = createServer({ allowHalfOpen: true });
    const lb = createServer({ allowHalfOpen: true });
    const sa = accepted(la);
    const sb = accepted(lb);
    return { a: await listen(la), b: await listen(lb), sa, sb };
  }

  /** Bytes written on one end arrive at the other: the pair is being served. */
  function crosses(from: Socket, to: Socket, text: string): Promise<string> {
    return new Promise((r) => {
      to.once('data', (d: Buffer) => r(d.toString()));
      from.write(text);
    });
  }

  it('a process whose only work is an active pair stays alive, and exits by itself once the pair ends', async () => {
    const e = await ends();
    const child = spawn(process.execPath, [fixture, loadNativeSplice().path, String(e.a), String(e.b)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: Record<string, unknown>[] = [];
    let out = '';
    const gotLine = (type: string): Promise<Record<string, unknown>> =>
      new Promise((resolve) => {
        const check = (): void => {
          const m = lines.find((l) => l.type === type);
          if (m) resolve(m);
          else child.stdout!.once('data', check);
        };
        check();
      });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(out.slice(0, nl)) as Record<string, unknown>);
        out = out.slice(nl + 1);
      }
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await gotLine('attached');
      const [sa, sb] = [await e.sa, await e.sb];
      // The JS sockets are gone in the child; only the native pair (and its ref'd tsfn) remains.
      expect(await crosses(sa, sb, 'ping')).toBe('ping');
      expect(await crosses(sb, sa, 'pong')).toBe('pong');
      sa.end();
      sb.end();
      expect(await gotLine('done')).toMatchObject({ abnormal: false, fromClient: 4, fromTarget: 4 });
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a process that loads the addon and attaches nothing exits', async () => {
    const child = spawn(process.execPath, [fixture, loadNativeSplice().path, '0', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(0);
    expect(JSON.parse(out.trim())).toMatchObject({ type: 'loaded', stats: { active: 0, attached: 0, running: false } });
  });

  it('a worker thread gets its own I/O thread; terminating it closes the pairs it owns', async () => {
    const e = await ends();
    const w = new Worker(fixture, { workerData: { addon: loadNativeSplice().path, a: e.a, b: e.b } });
    const exited = new Promise<number>((r) => w.once('exit', r));
    try {
      await new Promise<void>((resolve, reject) => {
        w.on('message', (m: { type: string }) => m.type === 'attached' && resolve());
        w.once('error', reject);
      });
      const [sa, sb] = [await e.sa, await e.sb];
      expect(await crosses(sa, sb, 'via worker')).toBe('via worker');
      // This thread's own instance is separate: the worker's pair is not in it.
      expect(addon.stats().pairs).toBe(0);
      const bothEnded = Promise.all([sa, sb].map((s) => new Promise((r) => s.once('end', r))));
      await w.terminate();
      // The environment cleanup hook stopped the worker's I/O thread and closed both fds (FIN).
      await bothEnded;
      await exited;
    } finally {
      await w.terminate();
    }
  });
});
