/**
 * The HTTP front's pieces without z/OS Connect: the strict head parser against node's own parser
 * (a real node:http server reports what it read from the same bytes), the Date cache, and the
 * eligibility rules (what the front leaves to node:http).
 */
import http from 'node:http';
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRONT_MAX_HEADER_FIELDS, httpDate, parseHead, type HeadLimits } from '../src/front.js';

const LIMITS: HeadLimits = { joinDuplicateHeaders: false, maxFields: FRONT_MAX_HEADER_FIELDS };

/** Parse a whole raw head (ending in the empty line) as the front does. */
function front(raw: string, limits = LIMITS) {
  const end = raw.indexOf('\r\n\r\n');
  return parseHead(raw.slice(0, end + 2), limits);
}

/** What node's parser made of a request: URL, headers, keep-alive. */
interface NodeView {
  url: string;
  headers: Record<string, unknown>;
  keepAlive: boolean;
}

let oracle: http.Server;
let oraclePort: number;

beforeAll(async () => {
  oracle = http.createServer((req, res) => {
    const view: NodeView = { url: req.url ?? '', headers: req.headers, keepAlive: (res as unknown as { shouldKeepAlive: boolean }).shouldKeepAlive };
    const body = JSON.stringify(view);
    res.writeHead(200, ['content-type', 'application/json', 'content-length', String(Buffer.byteLength(body))]);
    res.end(body);
  });
  await new Promise<void>((resolve) => oracle.listen(0, '127.0.0.1', resolve));
  oraclePort = (oracle.address() as net.AddressInfo).port;
});

afterAll(async () => {
  oracle.closeAllConnections();
  await new Promise<void>((resolve) => oracle.close(() => resolve()));
});

/** Send `raw` (latin1) to node:http; resolves with its view, or undefined when it answered 4xx. */
function nodeView(raw: string): Promise<NodeView | undefined> {
  return new Promise((resolve, reject) => {
    const s = net.connect(oraclePort, '127.0.0.1');
    let buf = Buffer.alloc(0);
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.toString('latin1', 0, end);
      if (!head.startsWith('HTTP/1.1 200')) {
        s.destroy();
        resolve(undefined);
        return;
      }
      const len = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1]);
      if (buf.length >= end + 4 + len) {
        s.destroy();
        resolve(JSON.parse(buf.toString('utf8', end + 4, end + 4 + len)) as NodeView);
      }
    });
    s.on('error', reject);
    s.on('close', () => resolve(undefined));
    s.write(Buffer.from(raw, 'latin1'));
  });
}

/** The front's reading equals node's for every head the front accepts. */
async function agrees(raw: string): Promise<boolean> {
  const f = front(raw);
  if (f === undefined) return true;
  const n = await nodeView(raw);
  expect(n, raw).toBeDefined();
  expect({ url: f.url, headers: { ...f.headers }, keepAlive: f.keepAlive }, raw).toEqual(n);
  return true;
}

describe('parseHead', () => {
  it('reads a GET as node does: URL, lower-cased names, duplicates joined or dropped as node does, OWS trimmed', async () => {
    const raw =
      'GET /phonebook/LAST1?x=1&y=%20#frag HTTP/1.1\r\nHost: zcon:5595\r\nX-A:  v \t \r\nX-B:\t\r\nx-a: second\r\nCookie: a=1\r\nCOOKIE: b=2\r\n' +
      'Authorization: one\r\nAuthorization: two\r\nSet-Cookie: s1\r\nset-cookie: s2\r\nAccept: */*\r\nAccept: text/plain\r\nX-Latin: caf\xe9\r\n\r\n';
    const f = front(raw)!;
    expect(f).toEqual({
      url: '/phonebook/LAST1?x=1&y=%20#frag',
      headers: { host: 'zcon:5595', 'x-a': 'v, second', 'x-b': '', cookie: 'a=1; b=2', authorization: 'one', 'set-cookie': ['s1', 's2'], accept: '*/*, text/plain', 'x-latin': 'café' },
      keepAlive: true,
    });
    await agrees(raw);
    // joinDuplicateHeaders (a server option) joins the fields node otherwise drops.
    expect(front(raw, { ...LIMITS, joinDuplicateHeaders: true })!.headers.authorization).toBe('one, two');
  });

  it("keep-alive by llhttp's rules: HTTP/1.1 unless close, HTTP/1.0 only with keep-alive", async () => {
    const cases: [string, boolean][] = [
      ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', true],
      ['GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', false],
      ['GET / HTTP/1.1\r\nHost: x\r\nConnection:Close\r\n\r\n', false],
      ['GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, close\r\n\r\n', false],
      ['GET / HTTP/1.0\r\n\r\n', false],
      ['GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n', true],
      ['GET / HTTP/1.0\r\nConnection: close, keep-alive\r\n\r\n', true],
      ['GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n', true],
    ];
    for (const [raw, keepAlive] of cases) {
      expect(front(raw)?.keepAlive, raw).toBe(keepAlive);
      await agrees(raw);
    }
  });

  it('leaves to node:http what is not plainly a GET without body, or what it would read differently', () => {
    const refused = [
      'HEAD / HTTP/1.1\r\nHost: x\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\n\r\n',
      'get / HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET * HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET  / HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET / HTTP/1.1 \r\nHost: x\r\n\r\n',
      'GET / HTTP/2.0\r\nHost: x\r\n\r\n',
      'GET / HTTP/1.2\r\nHost: x\r\n\r\n',
      'GET /a\x7fb HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /a\xe9 HTTP/1.1\r\nHost: x\r\n\r\n',
      '\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET / HTTP/1.1\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 00\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nConnection: close x\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive,\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\xa0\r\n\r\n',
      'GET / HTTP/1.1\r\nHost : x\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nX(: v\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\nb\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb\r\n\r\n',
      'GET / HTTP/1.1\nHost: x\r\n\r\n',
    ];
    for (const raw of refused) expect(front(raw), JSON.stringify(raw)).toBeUndefined();
    // Content-Length: 0 alone is a GET without body.
    expect(front('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n')).toBeDefined();
    // Too many fields: node's maxHeadersCount (when set lower) or the front's own bound.
    const many = (n: number) => `GET / HTTP/1.1\r\nHost: x\r\n${Array.from({ length: n - 1 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`;
    expect(front(many(FRONT_MAX_HEADER_FIELDS))).toBeDefined();
    expect(front(many(FRONT_MAX_HEADER_FIELDS + 1))).toBeUndefined();
    expect(front(many(10), { ...LIMITS, maxFields: 9 })).toBeUndefined();
  });

  it('never throws, and agrees with node on every generated head it accepts', async () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'GET /HTP1.0\r\n:ab,Host-Connection close keep-alive\t\x7f\xe9'.split('')), maxLength: 120 }), (text) => {
        parseHead(text, LIMITS);
        return true;
      }),
      { numRuns: 200 },
    );
    const name = fc.constantFrom('Accept', 'Cookie', 'Set-Cookie', 'Authorization', 'X-Trace', 'x-trace', 'User-Agent', 'Connection', "X-!#$%&'*+.^_`|~9");
    const value = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', '\t', ',', ';', '=', '"', '/', '\xe9', '\xff', 'close', 'keep-alive'), maxLength: 12 });
    const head = fc.record({
      path: fc.string({ unit: fc.constantFrom('a', '/', '?', '=', '&', '%', '~', '!', '$', "'", '(', '*', ':', '@', '[', '`', '{', '|', '^'), maxLength: 20 }),
      version: fc.constantFrom('1.1', '1.0'),
      fields: fc.array(fc.tuple(name, value), { maxLength: 8 }),
    });
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(head, async ({ path, version, fields }) => {
        const raw = `GET /${path} HTTP/${version}\r\nHost: h\r\n${fields.map(([n, v]) => `${n}:${v}\r\n`).join('')}\r\n`;
        if (front(raw)) accepted++;
        return agrees(raw);
      }),
      { numRuns: 100 },
    );
    // Most generated heads are the front's (the rest: Connection tokens it leaves to node, bodies).
    expect(accepted).toBeGreaterThan(40);
  });
});

describe('httpDate', () => {
  it("is the UTC date node writes, the same string within a second, a new one at the next", () => {
    const t = Date.UTC(2026, 10, 27, 12, 0, 0, 250);
    expect(httpDate(t)).toBe('Fri, 27 Nov 2026 12:00:00 GMT');
    const first = httpDate(t + 500);
    expect(first).toBe('Fri, 27 Nov 2026 12:00:00 GMT');
    expect(httpDate(t + 750)).toBe('Fri, 27 Nov 2026 12:00:01 GMT');
    // A clock that steps back is not answered from the cache.
    expect(httpDate(t - 60_000)).toBe('Fri, 27 Nov 2026 11:59:00 GMT');
  });
});
