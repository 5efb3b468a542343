/**
 * The direct read path of plain TCP connections (connection.ts): bytes read into the connection's own
 * buffer must give exactly the replies the stream path gives, whatever the chunking, for frames larger
 * than the read buffer, for pipelined frames, and across many reads (the copies never alias).
 */
import { describe, expect, it, vi } from 'vitest';
import { buildRequest, CP037, encodeRequest, type BuildRequestOptions } from '@imsplex/codec';
import { CONNECTION_READ_BUFFER, type Connection } from '../src/index.js';
import { harness, toHex, type RawClient } from './harness.js';

const req = (o: Partial<BuildRequestOptions>) => encodeRequest(buildRequest({ datastore: 'IMS1', clientId: 'DIRECT01', trancode: 'ECHO', data: 'X', ...o }));

async function replies(c: RawClient, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await c.next();
    if (r === undefined) throw new Error(`connection closed after ${i} replies`);
    out.push(toHex(r));
  }
  return out;
}

/** Yield to the event loop so separate writes are likely (not required) to arrive as separate reads. */
const tick = () => new Promise<void>((r) => setImmediate(r));

describe('direct read path', () => {
  it('plain TCP connections read directly; in-memory ones use data events', async () => {
    const h = await harness({}, {}, true);
    const spy = vi.spyOn(h.server, 'handleConnection');
    const t = await h.tcp();
    t.send(req({ data: 'TCP' }));
    await t.next();
    const m = h.memory();
    const tcpConn = spy.mock.results[0]!.value as Connection;
    const memConn = spy.mock.results[1]!.value as Connection;
    expect(tcpConn.directRead).toBe(true);
    expect(memConn.directRead).toBe(false);
    m.end();
    await h.close();
  });

  it('keeps the partial frames of connections that share the read buffer apart', async () => {
    const h = await harness({}, {}, true);
    const a = await h.tcp();
    const b = await h.tcp();
    const fa = req({ clientId: 'SHAREA', data: 'A'.repeat(300) });
    const fb = req({ clientId: 'SHAREB', data: 'B'.repeat(300) });
    // A's frame is left half read while B's reads go through the same buffer.
    a.send(fa.subarray(0, 150));
    await tick();
    b.send(fb.subarray(0, 200));
    await tick();
    b.send(fb.subarray(200));
    const rb = (await b.next())!;
    a.send(fa.subarray(150));
    const ra = (await a.next())!;
    expect(toHex(ra)).toContain(toHex(CP037.encode('A'.repeat(300))));
    expect(toHex(rb)).toContain(toHex(CP037.encode('B'.repeat(300))));
    await h.close();
  });

  it('gives the stream path’s bytes for split, pipelined, large and many frames', async () => {
    const big = 'B'.repeat(CONNECTION_READ_BUFFER + 5000);
    const frames = [
      req({ data: 'FIRST' }),
      req({ data: 'SECOND' }),
      req({ data: 'THIRD' }),
      req({ data: big }),
      ...Array.from({ length: 150 }, (_, i) => req({ data: `MSG${String(i).padStart(4, '0')}-${'Z'.repeat(i % 40)}` })),
    ];
    const run = async (c: RawClient): Promise<string[]> => {
      const out: string[] = [];
      // One frame split byte-wise over three writes.
      const f0 = frames[0]!;
      c.send(f0.subarray(0, 3));
      await tick();
      c.send(f0.subarray(3, 20));
      await tick();
      c.send(f0.subarray(20));
      out.push(...(await replies(c, 1)));
      // Two frames in one write, the second's tail in the next.
      const two = Buffer.concat([frames[1]!, frames[2]!]);
      c.send(two.subarray(0, two.length - 7));
      await tick();
      c.send(two.subarray(two.length - 7));
      out.push(...(await replies(c, 2)));
      // A frame larger than the read buffer.
      c.send(frames[3]!);
      out.push(...(await replies(c, 1)));
      // Many frames, one at a time: every read is copied out of the one read buffer.
      for (const f of frames.slice(4)) {
        c.send(f);
        out.push(...(await replies(c, 1)));
      }
      return out;
    };
    const h = await harness({}, {}, true);
    const viaMemory = await run(h.memory());
    h.server.stopClient(0, 'DIRECT01'); // the same client ID again below
    const viaTcp = await run(await h.tcp());
    expect(viaTcp.length).toBe(frames.length);
    expect(viaTcp).toEqual(viaMemory);
    // Each reply carries its own request's data (no reply saw bytes of a later read).
    for (let i = 0; i < 150; i++) expect(viaTcp[4 + i]).toContain(toHex(CP037.encode(`MSG${String(i).padStart(4, '0')}-`)));
    expect(viaTcp[3]).toContain(toHex(CP037.encode('BBBBBBBBBBBBBBBB')));
    await h.close();
  });
});

describe('shutdown with many clients', () => {
  it('closes thousands of idle connections without recursing once per connection', async () => {
    const h = await harness({ maxSockets: 10_000 });
    const clients = Array.from({ length: 4000 }, () => h.memory());
    expect(h.server.socketsInUse()).toBe(4000);
    await h.server.close();
    expect(h.server.socketsInUse()).toBe(0);
    await Promise.all(clients.slice(0, 10).map((c) => c.whenClosed()));
  });
});
