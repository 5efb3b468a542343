/**
 * The proxy data plane's splice on real loopback sockets, for every implementation (the native C
 * I/O thread, the direct read path and the stream path): bytes arrive intact and in order through
 * backpressure, half-close passes through, bytes a target sends first are not lost, and the byte
 * counters are exact. The native suite fails (never skips) on Linux when the addon cannot be built.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loopbackScope } from './helpers.js';
import { NATIVE_EXPECTED, requireNative } from './native-build.js';
import { connectTarget, splice, type SpliceMode, type SpliceResult } from '../src/dataplane/proxy.js';

const scope = loopbackScope();
const { sockets, listen } = scope;
afterEach(() => scope.close());

/** A front listener that splices every connection to `targetPort`, as the distributor does. */
async function front(targetPort: number, mode: SpliceMode, beforeSplice: (upstream: Socket) => Promise<void> = async () => undefined) {
  const modes: SpliceMode[] = [];
  const results: Promise<SpliceResult>[] = [];
  const server = createServer({ pauseOnConnect: true, allowHalfOpen: true, noDelay: true }, (client) => {
    sockets.push(client);
    client.on('error', () => undefined);
    results.push(
      (async () => {
        const { socket: upstream } = await connectTarget('127.0.0.1', targetPort, 5000);
        sockets.push(upstream);
        await beforeSplice(upstream);
        return new Promise<SpliceResult>((resolve) => modes.push(splice(client, upstream, resolve, { mode })));
      })(),
    );
  });
  return { port: await listen(server), modes, results };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Collects everything `s` receives until it ends. */
function collect(s: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.once('end', () => resolve(Buffer.concat(parts)));
    s.once('error', reject);
  });
}

const MODES: { mode: SpliceMode }[] = [...(NATIVE_EXPECTED ? [{ mode: 'native' as const }] : []), { mode: 'direct' }, { mode: 'stream' }];

describe.each(MODES)('splice ($mode path)', ({ mode }) => {
  beforeAll(() => {
    if (mode === 'native') requireNative();
  });

  it('echoes 8 MiB intact through a slow target (backpressure both ways), passes the half-close, and counts bytes', async () => {
    // The target echoes with backpressure and takes a turn of the event loop between chunks.
    const target = createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
      sockets.push(s);
      s.on('data', (d: Buffer) => {
        s.pause();
        const ok = s.write(d);
        const next = () => setImmediate(() => s.resume());
        if (ok) next();
        else s.once('drain', next);
      });
      s.on('end', () => s.end());
    });
    const f = await front(await listen(target), mode);
    const payload = randomBytes(8 * 1024 * 1024);
    const c = connect({ host: '127.0.0.1', port: f.port, noDelay: true, allowHalfOpen: true });
    sockets.push(c);
    const echoed = collect(c);
    // Write in pieces of varied sizes, then half-close.
    let off = 0;
    let i = 0;
    while (off < payload.length) {
      const n = Math.min(payload.length - off, [1, 100, 1500, 16384, 70000][i++ % 5]!);
      if (!c.write(payload.subarray(off, off + n))) await new Promise((r) => c.once('drain', r));
      off += n;
    }
    c.end();
    const got = await echoed;
    expect(got.length).toBe(payload.length);
    expect(sha(got)).toBe(sha(payload));
    const r = await f.results[0]!;
    expect(f.modes).toEqual([mode]);
    expect(r).toEqual({ abnormal: false, bytesFromClient: payload.length, bytesFromTarget: payload.length });
  });

  // JS paths only: it holds back the upstream socket's JS writes, which the native path never uses
  // (its remainder copy is covered by the 8 MiB test and the bounded-buffer test of native.test.ts).
  if (mode !== 'native') {
    it('never changes bytes handed to a write that has not completed yet (writes held back, one read per chunk)', async () => {
      const target = createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
        sockets.push(s);
        s.on('data', (d: Buffer) => s.write(d));
        s.on('end', () => s.end());
      });
      // The upstream's writes are held (as when the kernel buffer is full) until every chunk was read.
      const held: Buffer[] = [];
      let heldBytes = 0;
      let onWrite: (() => void) | null = null;
      let release!: () => void;
      const f = await front(await listen(target), mode, async (upstream) => {
        let proto: object | null = upstream;
        let desc: PropertyDescriptor | undefined;
        while (proto && !(desc = Object.getOwnPropertyDescriptor(proto, 'writableLength'))) proto = Object.getPrototypeOf(proto) as object | null;
        const realLength = desc!.get!;
        const realWrite = upstream.write.bind(upstream) as (b: Buffer) => boolean;
        Object.defineProperty(upstream, 'writableLength', { configurable: true, get: () => heldBytes + (realLength.call(upstream) as number) });
        (upstream as { write: (b: Buffer) => boolean }).write = (b: Buffer) => {
          held.push(b);
          heldBytes += b.length;
          onWrite?.();
          return true;
        };
        release = () => {
          const all = held.splice(0);
          heldBytes = 0;
          for (const b of all) realWrite(b);
          (upstream as { write: unknown }).write = realWrite;
        };
      });
      const c = connect({ host: '127.0.0.1', port: f.port, noDelay: true, allowHalfOpen: true });
      sockets.push(c);
      const echoed = collect(c);
      const chunks = Array.from({ length: 6 }, (_, i) => Buffer.alloc(1000 + i, 0x30 + i));
      for (const chunk of chunks) {
        // Send the next chunk only once the proxy forwarded this one: each chunk is its own read.
        const forwarded = new Promise<void>((r) => (onWrite = r));
        c.write(chunk);
        await forwarded;
      }
      release();
      c.end();
      expect((await echoed).equals(Buffer.concat(chunks))).toBe(true);
      expect(f.modes).toEqual([mode]);
    });
  }

  it('delivers bytes the target sent before the splice started', async () => {
    let greeted!: () => void;
    const greetingSent = new Promise<void>((r) => (greeted = r));
    const target = createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
      sockets.push(s);
      s.write('HELLO\r\n', () => greeted());
      s.on('data', (d: Buffer) => s.write(Buffer.concat([Buffer.from('>'), d])));
      s.on('end', () => s.end());
    });
    // Splice only once the greeting is in the target connection's receive queue.
    const f = await front(await listen(target), mode, () => greetingSent);
    const c = connect({ host: '127.0.0.1', port: f.port, noDelay: true, allowHalfOpen: true });
    sockets.push(c);
    const got = collect(c);
    c.once('data', () => c.end('ping'));
    expect((await got).toString()).toBe('HELLO\r\n>ping');
    expect(f.modes).toEqual([mode]);
    expect(await f.results[0]!).toEqual({ abnormal: false, bytesFromClient: 4, bytesFromTarget: 12 });
  });

  it('a target reset ends the splice as abnormal and closes the client', async () => {
    const target = createServer({ noDelay: true }, (s) => {
      sockets.push(s);
      s.once('data', () => s.resetAndDestroy());
    });
    const f = await front(await listen(target), mode);
    const c = connect({ host: '127.0.0.1', port: f.port, noDelay: true });
    sockets.push(c);
    c.on('error', () => undefined);
    const closed = new Promise((r) => c.once('close', r));
    c.write('x');
    await closed;
    expect(f.modes).toEqual([mode]);
    expect(await f.results[0]!).toMatchObject({ abnormal: true, bytesFromClient: 1, bytesFromTarget: 0 });
  });

  it('a client reset ends the splice as normal (not abnormal) and closes the target connection', async () => {
    let targetClosed!: () => void;
    const closedAtTarget = new Promise<void>((r) => (targetClosed = r));
    const target = createServer({ noDelay: true }, (s) => {
      sockets.push(s);
      s.on('error', () => undefined);
      s.on('data', (d: Buffer) => s.write(d));
      s.once('close', () => targetClosed());
    });
    const f = await front(await listen(target), mode);
    const c = connect({ host: '127.0.0.1', port: f.port, noDelay: true });
    sockets.push(c);
    c.on('error', () => undefined);
    await new Promise<void>((r) => {
      c.once('data', () => r());
      c.write('ab');
    });
    c.resetAndDestroy();
    await closedAtTarget;
    expect(f.modes).toEqual([mode]);
    expect(await f.results[0]!).toEqual({ abnormal: false, bytesFromClient: 2, bytesFromTarget: 2 });
  });

  it('aborting the signal closes both connections while they are open, and ends once as normal', async () => {
    const target = createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
      sockets.push(s);
      s.on('error', () => undefined);
      s.on('data', (d: Buffer) => s.write(d));
    });
    const targetPort = await listen(target);
    const ac = new AbortController();
    const modes: SpliceMode[] = [];
    let ends = 0;
    let resolveEnd!: (r: SpliceResult) => void;
    const ended = new Promise<SpliceResult>((r) => (resolveEnd = r));
    const server = createServer({ pauseOnConnect: true, allowHalfOpen: true, noDelay: true }, (client) => {
      sockets.push(client);
      void connectTarget('127.0.0.1', targetPort, 5000).then(({ socket: upstream }) => {
        sockets.push(upstream);
        modes.push(splice(client, upstream, (r) => (ends++, resolveEnd(r)), { mode, signal: ac.signal }));
      });
    });
    const frontPort = await listen(server);
    const c = connect({ host: '127.0.0.1', port: frontPort, noDelay: true });
    sockets.push(c);
    c.on('error', () => undefined);
    const clientClosed = new Promise((r) => c.once('close', r));
    await new Promise<void>((r) => {
      c.once('data', () => r());
      c.write('live');
    });
    ac.abort();
    await clientClosed;
    expect(await ended).toEqual({ abnormal: false, bytesFromClient: 4, bytesFromTarget: 4 });
    expect(modes).toEqual([mode]);
    expect(ends).toBe(1);
  });
});
