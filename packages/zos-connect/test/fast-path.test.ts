/**
 * The API fast path (GETs answered by the HTTP front, or straight from node:http on connections the
 * front handed over) against the fastify route: the same raw bytes sent to a server with `fastPath`
 * (the default) and one without give the same bytes back (status lines, headers in order, bodies,
 * who closes the connection; only the Date header and the random IMS client ID differ), and the same
 * logs and metrics. Sequences cover keep-alive, pipelining, handover in the middle of a connection,
 * HTTP/1.0, heads split byte by byte, oversized and malformed heads, a client gone mid-request, and
 * the server's stop.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { IncomingMessage } from 'node:http';
import net from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { acceptHandoffs, createZosConnectServer, FRONT_MAX_PIPELINE, type ZosConnectServer } from '../src/index.js';
import { basic, createTestImsConnect, ivpHandlers, ManualTimers, PhoneBook, SAMPLES, tempConfig, type TestImsConnect } from './helpers.js';

interface Box {
  server: ZosConnectServer;
  host: string;
  port: number;
  lines: Record<string, unknown>[];
  /** serveFast's answers: [accepted, 'front' | 'node'] per call. */
  fast: ReturnType<typeof vi.fn>;
}

let ims: TestImsConnect;
let imsEndpoint: { host: string; port: number };
let configDir: string;
let cleanupConfig: () => void;
const boxes: Box[] = [];

/** `GET /phonebook/SLOW…` calls parked in "IMS" until the test resumes them. */
const parkedCalls: { text: string; resume: () => void }[] = [];
let onPark: (() => void) | undefined;
/** Calls parked now, and the most at once since the last reset. */
let inIms = 0;
let maxInIms = 0;

/** Wait until a call whose input contains `name` is parked in IMS; returns what resumes it. */
async function parked(name: string): Promise<() => void> {
  for (;;) {
    const i = parkedCalls.findIndex((p) => p.text.includes(name));
    if (i >= 0) return parkedCalls.splice(i, 1)[0]!.resume;
    await new Promise<void>((resolve) => (onPark = resolve));
  }
}

function logSink(lines: Record<string, unknown>[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
}

async function box(fastPath: boolean, extra: { timers?: ManualTimers; config?: string } = {}): Promise<Box> {
  const lines: Record<string, unknown>[] = [];
  const server = createZosConnectServer({
    config: extra.config ?? configDir,
    host: '127.0.0.1',
    port: 0,
    fastPath,
    requestLog: 'all',
    logger: pino({ level: 'info' }, logSink(lines)),
    clientOverrides: () => ({ host: imsEndpoint.host, port: imsEndpoint.port }),
    ...(extra.timers ? { timers: extra.timers, clock: extra.timers.clock } : {}),
  });
  // Which requests the fast path answered (it returns false for those it leaves to node/fastify),
  // and who asked: the front or node:http's 'request' event.
  const fast = vi.fn();
  const target = server as unknown as { serveFast: (...a: unknown[]) => boolean };
  const serveFast = target.serveFast.bind(server);
  target.serveFast = (...a: unknown[]) => {
    const r = serveFast(...a);
    fast(r, a[0] instanceof IncomingMessage ? 'node' : 'front');
    return r;
  };
  const { address } = await server.start();
  lines.length = 0;
  return { server, host: address.address, port: address.port, lines, fast };
}

beforeAll(async () => {
  const book = ivpHandlers(new PhoneBook());
  ims = createTestImsConnect({
    datastores: ['IMS1'],
    handlers: {
      ...book,
      IVTNO: async (tx) => {
        if (tx.text.includes('SLOW')) {
          maxInIms = Math.max(maxInIms, ++inIms);
          await new Promise<void>((resume) => {
            parkedCalls.push({ text: tx.text, resume });
            onPark?.();
          });
          inIms--;
        }
        return book.IVTNO(tx);
      },
    },
  });
  imsEndpoint = await ims.listen({ host: '127.0.0.1', port: 0 });
  // Basic auth on API calls, so that a 401 goes through both paths too.
  const xml = readFileSync(`${SAMPLES}/server.xml`, 'utf8').replace('requireAuth="false"', 'requireAuth="true"');
  const cfg = tempConfig({ 'server.xml': xml });
  configDir = cfg.dir;
  cleanupConfig = cfg.cleanup;
  boxes.push(await box(true), await box(false));
});

afterAll(async () => {
  for (const b of boxes) await b.server.stop({ timeout: 0 });
  await ims.close();
  cleanupConfig();
});

/**
 * A raw client connection. It frames responses by Content-Length (none: no body; `bodyless` marks
 * answers to HEAD) and waits on socket events only.
 */
class Raw {
  readonly socket: net.Socket;
  private buf = Buffer.alloc(0);
  private scan = 0;
  /** Complete responses received. */
  count = 0;
  /** The server closed (or reset) the connection. */
  closed = false;
  /** Indexes of responses that have no body whatever their Content-Length (HEAD). */
  readonly bodyless = new Set<number>();
  private readonly waiters: (() => void)[] = [];

  constructor(host: string, port: number) {
    this.socket = net.connect({ host, port });
    this.socket.setNoDelay(true);
    this.socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.frame();
      this.wake();
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  private frame(): void {
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n', this.scan);
      if (end < 0) return;
      const m = /\r\ncontent-length: *(\d+)/i.exec(this.buf.toString('latin1', this.scan, end));
      const len = this.bodyless.has(this.count) || !m ? 0 : Number(m[1]);
      if (this.buf.length < end + 4 + len) return;
      this.scan = end + 4 + len;
      this.count++;
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Wait (on socket events) until `cond` holds. */
  async until(cond: () => boolean): Promise<void> {
    while (!cond()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Wait for `n` responses in all (or for the close, if it comes first). */
  async responses(n: number): Promise<void> {
    await this.until(() => this.count >= n || this.closed);
    expect(this.count).toBe(n);
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Send one byte per write, letting the event loop turn between writes. */
  async trickle(data: string): Promise<void> {
    const bytes = Buffer.from(data, 'latin1');
    for (let i = 0; i < bytes.length; i++) {
      this.socket.write(bytes.subarray(i, i + 1));
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Everything received, Date and the random IMS client ID masked; `<closed>` when the server closed. */
  text(): string {
    return masked(this.buf.toString('utf8')) + (this.closed ? '<closed>' : '');
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** The Date header and the (random per server) IMS client ID are the only expected differences. */
const masked = (r: string) => r.replace(/\r\ndate: [^\r]*/gi, '\r\nDate: (masked)').replace(/"clientId":"ZCON[0-9A-Z]{4}"/g, '"clientId":"ZCONxxxx"');

/** Run `script` on a new connection to `b`; resolves with everything received (masked). */
async function session(b: { host: string; port: number }, script: (c: Raw) => Promise<void>): Promise<string> {
  const c = new Raw(b.host, b.port);
  try {
    await script(c);
    return c.text();
  } finally {
    c.destroy();
  }
}

/** The same script on the server with the front and on the one without fast path. */
async function both(script: (c: Raw) => Promise<void>): Promise<[string, string]> {
  return [await session(boxes[0]!, script), await session(boxes[1]!, script)];
}

/** One request on a new connection; resolves with the whole response. */
async function one(b: Box, request: string): Promise<string> {
  return session(b, async (c) => {
    c.send(request);
    await c.responses(1);
  });
}

const AUTH = `Authorization: ${basic('zcadmin', 'zcadmin')}\r\n`;
const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: zcon\r\n${AUTH}${extra}\r\n`;

/** Wait for a condition driven by I/O events (polls on the event loop, no wall-clock assertion). */
async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  expect(cond()).toBe(true);
}

function calls(b: Box): [boolean, string][] {
  return b.fast.mock.calls.map((c) => [c[0] as boolean, c[1] as string]);
}

describe('API fast path', () => {
  it('answers a GET byte for byte as the fastify route does (200, 404 by condition, 401, RSM 500)', async () => {
    boxes[0]!.fast.mockClear();
    const cases: [string, number][] = [
      [get('/phonebook/LAST1'), 200],
      [get('/phonebook/NOBODY'), 404],
      [`GET /phonebook/LAST1 HTTP/1.1\r\nHost: zcon\r\n\r\n`, 401],
      [get('/phonebook/LAST1?x=1', 'Connection: close\r\n'), 200],
    ];
    for (const [request, status] of cases) {
      const [f, s] = await both(async (c) => {
        c.send(request);
        await c.responses(1);
      });
      expect(f.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
      expect(f).toBe(s);
    }
    ims.injectRsm({ returnCode: 8, reasonCode: 72 });
    const f = await one(boxes[0]!, cases[0]![0]);
    ims.injectRsm({ returnCode: 8, reasonCode: 72 });
    const s = await one(boxes[1]!, cases[0]![0]);
    expect(f.startsWith('HTTP/1.1 500 ')).toBe(true);
    expect(f).toBe(s);
    // The 200 answer in full: fastify's headers, in fastify's order.
    const [ok, ok2] = await both(async (c) => {
      c.send(cases[0]![0]);
      await c.responses(1);
    });
    expect(ok2).toBe(ok);
    expect(ok).toBe(
      'HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: 118\r\nDate: (masked)\r\nConnection: keep-alive\r\nKeep-Alive: timeout=72\r\n\r\n' +
        '{"lastName":"LAST1","firstName":"FIRST1","extension":"8-111-1111","zipCode":"D01/R01","message":"ENTRY WAS DISPLAYED"}',
    );
    // Every one of these was answered by the front on the first server, none on the second.
    expect(calls(boxes[0]!)).toEqual(Array.from({ length: 6 }, () => [true, 'front']));
    expect(boxes[1]!.fast).not.toHaveBeenCalled();
  });

  it('leaves other requests to node:http and fastify: admin, api-docs, percent-encoded paths, other methods', async () => {
    const b = boxes[0]!;
    b.fast.mockClear();
    const requests = [
      get('/zosConnect/apis'),
      `GET /phonebook/api-docs HTTP/1.1\r\nHost: zcon\r\n\r\n`,
      get('/phonebook/LAST%31'),
      `DELETE /phonebook/NOBODY HTTP/1.1\r\nHost: zcon\r\n${AUTH}\r\n`,
      get('/nowhere'),
    ];
    for (const r of requests) {
      // (Sent to both servers, so that their metrics stay comparable.)
      const [f, s] = await both(async (c) => {
        c.send(r);
        await c.responses(1);
      });
      expect(f.startsWith('HTTP/1.1 ')).toBe(true);
      expect(f).toBe(s);
    }
    // The front asks serveFast about GETs (and hands over on false); node asks again for each request.
    expect(calls(b)).toEqual([
      [false, 'front'],
      [false, 'node'],
      [false, 'front'],
      [false, 'node'],
      [false, 'front'],
      [false, 'node'],
      [false, 'node'],
      [false, 'front'],
      [false, 'node'],
    ]);
    expect(b.server.httpFront!.stats.handedOver).toBeGreaterThanOrEqual(5);
  });

  it('logs and counts a fast-path request as fastify does', async () => {
    for (const b of boxes) b.lines.length = 0;
    const [f, s] = await both(async (c) => {
      c.send(get('/phonebook/LAST2'));
      await c.responses(1);
    });
    expect(f).toBe(s);
    await waitFor(() => boxes.every((b) => b.lines.some((l) => l['msg'] === 'request')));
    const strip = (l: Record<string, unknown>) => {
      const { time: _t, pid: _p, hostname: _h, ms, reqId, ...rest } = l;
      expect(typeof ms).toBe('number');
      expect(reqId).toMatch(/^req-[0-9a-z]+$/);
      return rest;
    };
    expect(boxes[0]!.lines.map(strip)).toEqual(boxes[1]!.lines.map(strip));
    expect(boxes[0]!.lines.map(strip)).toEqual([{ level: 30, method: 'GET', url: '/phonebook/LAST2', status: 200, api: 'phonebook', operation: 'getEntry', msg: 'request' }]);
    const count = async (b: Box) => (await b.server.metrics.registry.getSingleMetricAsString('zosconnect_http_requests_total')).split('\n').filter((l) => l.startsWith('zosconnect_http_requests_total{') && l.includes('getEntry')).sort();
    expect(await count(boxes[0]!)).toEqual(await count(boxes[1]!));
    const hist = async (b: Box) => (await b.server.metrics.registry.getSingleMetricAsString('zosconnect_http_request_duration_seconds')).split('\n').filter((l) => l.includes('_count') && l.includes('"api"'));
    expect(await hist(boxes[0]!)).toEqual(await hist(boxes[1]!));
  });
});

describe('HTTP front: same bytes as node:http', () => {
  it('keep-alive: several requests one after another on one connection', async () => {
    boxes[0]!.fast.mockClear();
    const [f, s] = await both(async (c) => {
      for (const [i, name] of ['LAST1', 'NOBODY', 'LAST3', 'LAST1'].entries()) {
        c.send(get(`/phonebook/${name}`));
        await c.responses(i + 1);
      }
    });
    expect(f.match(/HTTP\/1\.1 /g)).toHaveLength(4);
    expect(f).toBe(s);
    expect(calls(boxes[0]!)).toEqual(Array.from({ length: 4 }, () => [true, 'front']));
  });

  it('pipelined GETs in one write are answered in request order, even when a later one is ready first', async () => {
    const [f, s] = await both(async (c) => {
      c.send(get('/phonebook/LAST1') + get('/phonebook/LAST2') + get('/phonebook/NOBODY'));
      await c.responses(3);
    });
    expect(f.indexOf('LAST1')).toBeLessThan(f.indexOf('LAST2'));
    expect(f.indexOf('LAST2')).toBeLessThan(f.indexOf('SPECIFIED PERSON WAS NOT FOUND'));
    expect(f).toBe(s);
    const order: string[] = [];
    for (const b of boxes) {
      const text = await session(b, async (c) => {
        c.send(get('/phonebook/SLOW') + get('/phonebook/LAST2'));
        (await parked('SLOW'))();
        await c.responses(2);
      });
      order.push(text);
    }
    expect(order[0]!.indexOf('SPECIFIED PERSON')).toBeLessThan(order[0]!.indexOf('LAST2'));
    expect(order[0]).toBe(order[1]);
  });

  it('hands a connection over in the middle: after a fast GET, a POST / GET with a body / encoded path / HEAD / admin route, then more GETs', async () => {
    const others: [string, string, boolean][] = [
      ['POST', `POST /phonebook HTTP/1.1\r\nHost: zcon\r\n${AUTH}content-type: application/json\r\ncontent-length: 17\r\n\r\n{"lastName":"X9"}`, false],
      ['GET with a body', `GET /phonebook/LAST2 HTTP/1.1\r\nHost: zcon\r\n${AUTH}content-length: 2\r\n\r\n{}`, false],
      ['encoded path', get('/phonebook/LAST%32'), false],
      ['HEAD', `HEAD /phonebook/LAST2 HTTP/1.1\r\nHost: zcon\r\n${AUTH}\r\n`, true],
      ['admin route', get('/zosConnect/services'), false],
    ];
    for (const [what, request, headless] of others) {
      const b = boxes[0]!;
      b.fast.mockClear();
      const handed = b.server.httpFront!.stats.handedOver;
      const [f, s] = await both(async (c) => {
        c.send(get('/phonebook/LAST1'));
        await c.responses(1);
        if (headless) c.bodyless.add(1);
        c.send(request);
        await c.responses(2);
        c.send(get('/phonebook/LAST3'));
        await c.responses(3);
        c.send(get('/phonebook/NOBODY'));
        await c.responses(4);
      });
      expect(f, what).toBe(s);
      expect(f.match(/HTTP\/1\.1 /g), what).toHaveLength(4);
      expect(b.server.httpFront!.stats.handedOver, what).toBe(handed + 1);
      // The first GET by the front; after the handover, node:http's 'request' reaches serveFast.
      const seen = calls(b);
      expect(seen[0], what).toEqual([true, 'front']);
      expect(seen.slice(-2), what).toEqual([
        [true, 'node'],
        [true, 'node'],
      ]);
    }
  });

  it('a handover waits for the answers already due on the connection (pipelined fast GET, then a POST)', async () => {
    const post = `POST /phonebook HTTP/1.1\r\nHost: zcon\r\n${AUTH}content-type: application/json\r\ncontent-length: 17\r\n\r\n{"lastName":"X8"}`;
    const [f, s] = await both(async (c) => {
      c.send(get('/phonebook/SLOW') + post + get('/phonebook/LAST1'));
      (await parked('SLOW'))();
      await c.responses(3);
    });
    expect(f.indexOf('SPECIFIED PERSON WAS NOT FOUND')).toBeGreaterThan(0);
    expect(f.indexOf('SPECIFIED PERSON WAS NOT FOUND')).toBeLessThan(f.indexOf('HTTP/1.1 ', 20));
    expect(f).toBe(s);
  });

  it('Connection: close, and HTTP/1.0 with and without keep-alive', async () => {
    const scripts: ((c: Raw) => Promise<void>)[] = [
      async (c) => {
        c.send(get('/phonebook/LAST1', 'Connection: close\r\n'));
        await c.responses(1);
        await c.until(() => c.closed);
      },
      async (c) => {
        c.send(`GET /phonebook/LAST1 HTTP/1.0\r\n${AUTH}\r\n`);
        await c.responses(1);
        await c.until(() => c.closed);
      },
      async (c) => {
        c.send(`GET /phonebook/LAST1 HTTP/1.0\r\nConnection: Keep-Alive\r\n${AUTH}\r\n`);
        await c.responses(1);
        c.send(`GET /phonebook/LAST2 HTTP/1.0\r\nconnection: keep-alive\r\n${AUTH}\r\n`);
        await c.responses(2);
        c.send(`GET /phonebook/LAST3 HTTP/1.0\r\n${AUTH}\r\n`);
        await c.responses(3);
        await c.until(() => c.closed);
      },
      async (c) => {
        // Only CR/LF may follow a request that closes the connection; they are skipped.
        c.send(get('/phonebook/LAST1', 'Connection: keep-alive, close\r\n') + '\r\n');
        await c.responses(1);
        await c.until(() => c.closed);
      },
    ];
    for (const script of scripts) {
      const [f, s] = await both(script);
      expect(f.endsWith('<closed>')).toBe(true);
      expect(f).toBe(s);
    }
    const [f] = await both(scripts[2]!);
    expect(f.match(/Connection: keep-alive\r\nKeep-Alive: timeout=72\r\n/g)).toHaveLength(2);
    expect(f.match(/Connection: close\r\n/g)).toHaveLength(1);
  });

  it('a head split across many writes (byte by byte), alone and after a pipelined request', async () => {
    const [f, s] = await both(async (c) => {
      await c.trickle(get('/phonebook/LAST1'));
      await c.responses(1);
      await c.trickle(get('/phonebook/LAST2') + get('/phonebook/NOBODY'));
      await c.responses(3);
    });
    expect(f.match(/HTTP\/1\.1 /g)).toHaveLength(3);
    expect(f).toBe(s);
  });

  it("an oversized head gets node's 431, malformed request lines and headers node's 400, also after a fast GET", async () => {
    const big = `GET /phonebook/LAST1 HTTP/1.1\r\nHost: zcon\r\n${AUTH}X-Pad: ${'a'.repeat(17_000)}\r\n\r\n`;
    const atLimit = (() => {
      const r = get('/phonebook/LAST1', 'X-Pad: \r\n');
      return r.replace('X-Pad: ', `X-Pad: ${'a'.repeat(16_384 - r.length)}`);
    })();
    expect(atLimit.length).toBe(16_384);
    const malformed = [
      `GET /phonebook/LAST1 HTTP/1.1 x\r\nHost: zcon\r\n\r\n`,
      `GET /phonebook/LAST1 HTTP/1.1\r\nHost zcon\r\n\r\n`,
      `GET /phonebook/LAST1 HTTP/1.1\r\nHost: zcon\r\nX-A : b\r\n\r\n`,
      `GET /phonebook/LAST1 HTTP/1.1\r\nHost: zcon\r\n folded\r\n\r\n`,
      `GET /phonebook/LAST1 HTTP/1.1\r\nHost: zcon\r\nX-A: b\nc\r\n\r\n`,
      `GET /phonebook/LAST1 HTTP/1.1\r\nHost: zcon\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n`,
      `GET /phonebook/LAST1 HTTP/1.1\r\n${AUTH}\r\n`,
    ];
    for (const bad of [big, ...malformed]) {
      for (const first of [false, true]) {
        const [f, s] = await both(async (c) => {
          if (first) {
            c.send(get('/phonebook/LAST1'));
            await c.responses(1);
          }
          c.send(bad);
          await c.until(() => c.closed);
        });
        expect(f, bad.slice(0, 60)).toBe(s);
        expect(f.includes(bad === big ? 'HTTP/1.1 431 Request Header Fields Too Large' : 'HTTP/1.1 400 Bad Request'), bad.slice(0, 60)).toBe(true);
      }
    }
    // What node's parser tolerates and the front does not parse (two spaces before the target) is
    // handed over, and node answers it.
    const [g, t] = await both(async (c) => {
      c.send(get('/phonebook/LAST1'));
      await c.responses(1);
      c.send(`GET  /phonebook/LAST2 HTTP/1.1\r\nHost: zcon\r\n${AUTH}\r\n`);
      await c.responses(2);
    });
    expect(g.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    expect(g).toBe(t);
    // A head of exactly maxHeaderSize bytes is still a request (and answered by the front).
    boxes[0]!.fast.mockClear();
    const [f, s] = await both(async (c) => {
      c.send(atLimit);
      await c.responses(1);
    });
    expect(f.startsWith('HTTP/1.1 200 OK')).toBe(true);
    expect(f).toBe(s);
    expect(calls(boxes[0]!)).toEqual([[true, 'front']]);
  });

  it('a client that half-closes in the middle of a head gets the 400 node gives; data after Connection: close too', async () => {
    const [f, s] = await both(async (c) => {
      c.send('GET /phonebook/LAST1 HTTP/1.1\r\nHost: zc');
      c.socket.end();
      await c.until(() => c.closed);
    });
    expect(f.startsWith('HTTP/1.1 400 Bad Request\r\n')).toBe(true);
    expect(f).toBe(s);
    const [g, t] = await both(async (c) => {
      c.send(get('/phonebook/SLOW', 'Connection: close\r\n'));
      const resume = await parked('SLOW');
      c.send(get('/phonebook/LAST1'));
      await c.until(() => c.closed);
      resume();
    });
    expect(g.startsWith('HTTP/1.1 400 Bad Request\r\n')).toBe(true);
    expect(g).toBe(t);
  });

  it('a client gone in the middle of a request: the call finishes, its answer is dropped, logs and metrics as on node:http', async () => {
    // The baseline is the node:http fast path (fastify logs no request whose client is gone): the
    // same server, on a connection the front handed over first.
    const b = boxes[0]!;
    const front = b.server.httpFront!;
    const lines: Record<string, unknown>[][] = [];
    for (const via of ['front', 'node']) {
      b.lines.length = 0;
      b.fast.mockClear();
      const c = new Raw(b.host, b.port);
      if (via === 'node') {
        c.send(get('/nowhere'));
        await c.responses(1);
      }
      c.send(get('/phonebook/SLOW1'));
      const resume = await parked('SLOW1');
      c.destroy();
      await c.until(() => c.closed);
      await waitFor(() => front.stats.connections === 0);
      expect(b.lines.some((l) => l['url'] === '/phonebook/SLOW1')).toBe(false);
      resume();
      await waitFor(() => b.server.requestsInFlight === 0 && b.lines.some((l) => l['msg'] === 'request' && l['url'] === '/phonebook/SLOW1'));
      expect(calls(b).at(-1)).toEqual([true, via]);
      lines.push(
        b.lines
          .filter((l) => l['url'] === '/phonebook/SLOW1')
          .map((l) => {
            const { time: _t, pid: _p, hostname: _h, ms: _m, reqId: _r, ...rest } = l;
            return rest;
          }),
      );
    }
    expect(lines[0]).toEqual(lines[1]);
    expect(lines[0]).toEqual([{ level: 30, method: 'GET', url: '/phonebook/SLOW1', status: 404, api: 'phonebook', operation: 'getEntry', msg: 'request' }]);
  });
});

describe('HTTP front: lifecycle', () => {
  it('server stop: the idle connection closes, the in-flight one is answered, then closed (as node:http)', async () => {
    const texts: string[][] = [];
    for (const fastPath of [true, false]) {
      const b = await box(fastPath);
      const idle = new Raw(b.host, b.port);
      idle.send(get('/phonebook/LAST1'));
      await idle.responses(1);
      const busy = new Raw(b.host, b.port);
      busy.send(get('/phonebook/SLOW'));
      const resume = await parked('SLOW');
      const stopped = b.server.stop();
      resume();
      await busy.responses(1);
      await busy.until(() => busy.closed);
      await idle.until(() => idle.closed);
      await stopped;
      expect(b.server.state).toBe('stopped');
      if (fastPath) expect(b.server.httpFront!.stats.connections).toBe(0);
      texts.push([idle.text(), busy.text()]);
    }
    expect(texts[0]![1]).toContain('Connection: keep-alive');
    expect(texts[0]).toEqual(texts[1]);
  });

  it(`reads no further than ${FRONT_MAX_PIPELINE} pipelined requests ahead of the answers`, async () => {
    // A pool larger than the bound, so that only the front limits what reaches IMS.
    const xml = readFileSync(`${configDir}/server.xml`, 'utf8').replace(/maxPoolSize="\d+"/, 'maxPoolSize="64"');
    const cfg = tempConfig({ 'server.xml': xml });
    const b = await box(true, { config: cfg.dir });
    maxInIms = inIms;
    const names = Array.from({ length: FRONT_MAX_PIPELINE + 8 }, (_, i) => `SLOW${String(i + 1).padStart(2, '0')}`);
    const text = await session(b, async (c) => {
      c.send(names.map((n) => get(`/phonebook/${n}`)).join(''));
      // The first FRONT_MAX_PIPELINE reach IMS; each answer written lets one more in.
      // (serveFast counts a request in flight at once, so more read ahead would show here.)
      const resumes: (() => void)[] = [];
      for (const n of names.slice(0, FRONT_MAX_PIPELINE)) resumes.push(await parked(n));
      expect(b.server.requestsInFlight).toBe(FRONT_MAX_PIPELINE);
      for (const n of names.slice(FRONT_MAX_PIPELINE)) {
        resumes.shift()!();
        resumes.push(await parked(n));
        expect(b.server.requestsInFlight).toBe(FRONT_MAX_PIPELINE);
      }
      for (const r of resumes) r();
      await c.responses(names.length);
    });
    expect(text.match(/HTTP\/1\.1 404 Not Found/g)).toHaveLength(names.length);
    expect(maxInIms).toBe(FRONT_MAX_PIPELINE);
    await b.server.stop();
    cfg.cleanup();
  });

  it('stop timeout with a request in flight: the front answers it with Connection: close and closes; nothing is left behind', async () => {
    const timers = new ManualTimers();
    const b = await box(true, { timers });
    const busy = new Raw(b.host, b.port);
    busy.send(get('/phonebook/SLOW'));
    const resume = await parked('SLOW');
    const stopped = b.server.stop({ timeout: 10 });
    timers.advance(10);
    // The listener is closing; the connection waits for its answer.
    await waitFor(() => b.server.httpFront!.closing);
    expect(busy.closed).toBe(false);
    resume();
    await busy.responses(1);
    await busy.until(() => busy.closed);
    await stopped;
    expect(busy.text()).toMatch(/^HTTP\/1\.1 404 Not Found\r\n[^]*\r\nConnection: close\r\n\r\n\{[^]*<closed>$/);
    expect(b.server.httpFront!.stats.connections).toBe(0);
    expect(timers.size).toBe(0);
  });

  it('keep-alive timeout: an idle connection closes keepAliveTimeout + 1 s after its last answer, on one shared timer', async () => {
    const timers = new ManualTimers();
    const b = await box(true, { timers });
    const c1 = new Raw(b.host, b.port);
    const c2 = new Raw(b.host, b.port);
    c1.send(get('/phonebook/LAST1'));
    c2.send(get('/phonebook/LAST2'));
    await c1.responses(1);
    await c2.responses(1);
    // fastify's keepAliveTimeout is 72 s; node idles 1 s more. Two connections, one timer.
    await waitFor(() => timers.armed(73_000) === 1);
    timers.advance(72_999);
    c1.send(get('/phonebook/LAST3'));
    await c1.responses(2);
    timers.advance(1);
    await c2.until(() => c2.closed);
    expect(c1.closed).toBe(false);
    timers.advance(72_999);
    await c1.until(() => c1.closed);
    expect(c2.text()).not.toContain('408');
    await waitFor(() => b.server.httpFront!.stats.connections === 0);
    await b.server.stop();
    expect(timers.size).toBe(0);
  });

  it("headers timeout: a head not complete within headersTimeout gets fastify's 408 and the connection closes", async () => {
    const timers = new ManualTimers();
    const b = await box(true, { timers });
    const c = new Raw(b.host, b.port);
    c.send('GET /phonebook/LAST1 HTTP/1.1\r\nHost: zc');
    // node's default headersTimeout (fastify leaves it): 60 s from the head's first byte.
    await waitFor(() => timers.armed(60_000) === 1);
    timers.advance(59_999);
    expect(c.closed).toBe(false);
    timers.advance(1);
    await c.until(() => c.closed);
    expect(c.text()).toBe('HTTP/1.1 408 Request Timeout\r\nContent-Length: 71\r\nContent-Type: application/json\r\n\r\n{"error":"Request Timeout","message":"Client Timeout","statusCode":408}<closed>');
    await b.server.stop();
    expect(timers.size).toBe(0);
  });

  it('handed-off sockets (the distributor handoff data plane) go through the front too, handover included', async () => {
    const b = boxes[0]!;
    const front = b.server.httpFront!;
    // The IPC channel of acceptHandoffs, in process: the socket travels as a net.Socket.
    const reports: unknown[] = [];
    const channel = Object.assign(new EventEmitter(), { connected: true, send: (m: unknown) => (reports.push(m), true) });
    const stop = acceptHandoffs(b.server.app.server, channel as never);
    const vipa = net.createServer((socket) => {
      channel.emit('message', { type: 'imsplex:handoff', id: 7, owner: 'TEST/1', dvipa: '127.0.0.1', port: b.port, xcf: 'SYS1', clientAddress: '127.0.0.1', clientPort: 1 }, socket);
    });
    await new Promise<void>((resolve) => vipa.listen(0, '127.0.0.1', resolve));
    try {
      const answered = front.stats.answered;
      const handed = front.stats.handedOver;
      const port = (vipa.address() as net.AddressInfo).port;
      // A fast GET, an admin GET (handover), then a fast GET again on the handed-over connection.
      const script = async (c: Raw): Promise<void> => {
        c.send(get('/phonebook/LAST1'));
        await c.responses(1);
        c.send(get('/zosConnect/apis'));
        await c.responses(2);
        c.send(get('/phonebook/LAST2'));
        await c.responses(3);
      };
      const viaVipa = await session({ host: '127.0.0.1', port }, script);
      expect(front.stats.answered).toBe(answered + 1);
      expect(front.stats.handedOver).toBe(handed + 1);
      const direct = await session(b, script);
      expect(viaVipa).toBe(direct);
      await waitFor(() => reports.some((r) => (r as { type?: string }).type === 'imsplex:handoff:closed'));
    } finally {
      stop();
      await new Promise<void>((resolve) => vipa.close(() => resolve()));
    }
  });
});

describe('a conversational reply to a plain API call', () => {
  it('opens a conversation and answers with its ID, on both paths alike', async () => {
    const reply = ivpHandlers(new PhoneBook());
    const ims2 = createTestImsConnect({
      datastores: ['IMS1'],
      handlers: {
        ...reply,
        // IVTNO's answer, but IMS keeps the conversation going (CSM X'40').
        IVTNO: (tx) => ({ output: (reply['IVTNO'] as (t: typeof tx) => string)(tx), conversation: { spa: 'x' } }),
      },
    });
    const ep = await ims2.listen({ host: '127.0.0.1', port: 0 });
    const answers: string[] = [];
    for (const fastPath of [true, false]) {
      const server = createZosConnectServer({ config: SAMPLES, host: '127.0.0.1', port: 0, fastPath, clientOverrides: () => ({ host: ep.host, port: ep.port }) });
      const { address } = await server.start();
      const res = await session({ host: address.address, port: address.port }, async (c) => {
        c.send(`GET /phonebook/LAST1 HTTP/1.1\r\nHost: zcon\r\n\r\n`);
        await c.responses(1);
      });
      const id = /\r\nx-zosconnect-conversation-id: ([0-9a-f-]{36})\r\n/.exec(res)?.[1];
      expect(id).toBeDefined();
      expect(server.backend.openConversations).toBe(1);
      answers.push(res.replace(id!, '(id)'));
      await server.stop({ timeout: 0 });
    }
    await ims2.close();
    expect(answers[0]).toBe(answers[1]);
    expect(answers[0]!.startsWith('HTTP/1.1 200 OK\r\nx-zosconnect-conversation-id: (id)\r\ncontent-type: application/json; charset=utf-8\r\n')).toBe(true);
  });
});
