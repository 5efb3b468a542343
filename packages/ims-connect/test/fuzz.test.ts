/**
 * Fuzzing the port: random bytes and mutated valid frames. The server must never throw; each
 * connection gets only well-formed replies (RSM or data + CSM) and is closed when the client leaves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ReplyFrameReader, buildRequest, decodeReply, encodeRequest } from '@imsplex/codec';
import { ByteBuilder, naiveRequest } from '@imsplex/codec/testing';
import { harness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await harness({ maxSize: 64 * 1024 });
});
afterAll(async () => {
  await h.close();
});

const seeds = [
  encodeRequest(buildRequest({ datastore: 'IMS1', clientId: 'FUZZ01', trancode: 'ECHO', data: 'HELLO' })),
  encodeRequest(buildRequest({ datastore: 'IMS1', clientId: 'FUZZ02', trancode: 'IVTNO', data: 'DISPLAY LAST1', syncLevel: 'CONFIRM' })),
  encodeRequest(buildRequest({ datastore: 'IMS1', clientId: 'FUZZ03', messageType: 'RESUME_TPIPE', resumeOption: 'single', timer: 10 })),
  encodeRequest(buildRequest({ exit: '*SAMPLE*', codeSet: 'ascii', datastore: 'IMS1', clientId: 'FUZZ04', trancode: 'ECHO', data: 'ascii' })),
  encodeRequest(buildRequest({ datastore: 'IMS1', clientId: 'FUZZ05', messageType: 'ACK' })),
];

async function exchange(bytes: Uint8Array, llll: boolean, chunk: number): Promise<void> {
  const c = h.memory(undefined, llll);
  for (let i = 0; i < bytes.length; i += chunk) c.send(bytes.subarray(i, i + chunk));
  c.end();
  await c.whenClosed();
  // Everything the server wrote must split into whole, decodable replies.
  const all = Buffer.concat(c.raw);
  const reader = new ReplyFrameReader({ llll });
  const replies = reader.push(all);
  expect(reader.bufferedBytes).toBe(0);
  for (const r of replies) {
    const d = decodeReply(r, { llll });
    expect(['status', 'data']).toContain(d.kind);
  }
}

describe('fuzzing the IMS Connect port', () => {
  it('random bytes: never a crash, only RSMs or a close', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.integer({ min: 1, max: 64 }), async (bytes, chunk) => {
        await exchange(bytes, true, chunk);
      }),
      { numRuns: 150 },
    );
  });

  it('mutated valid frames: never a crash, only RSMs / replies or a close', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: seeds.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 200 }),
        async (i, mutations, chunk) => {
          const seed = seeds[i]!;
          const b = seed.slice();
          for (const [at, v] of mutations) b[at % b.length] = v;
          const sample = b[14] === 0xc5 || b[14] === 0x45; // *SAMPLE* → no LLLL
          await exchange(b, !sample, chunk);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('mutated HWSJAVA0 frames (OTMA headers): never a crash; every reply is LLLL | *HWSJAV* | OTMA control …', async () => {
    const hdr = new ByteBuilder()
      .u8(1).u8(0x40).u8(0).u8(0).u8(0).u8(0).ebcdic('FUZZJAV', 8).u8(0xa0).u8(0xf0).u32(1).fill(0, 12) // control
      .u16(69).u8(0).u8(0x20).u8(0x01).ebcdic('', 8).fill(0, 48).ebcdic('', 8) // state
      .u16(14).u8(0xc3).u8(0x0a).u8(0x0a).u8(0x02).ebcdic('FUZZUSER', 8) // security
      .u16(61).u16(0).ebcdic('IMS1', 8).fill(0x40, 16).fill(0, 8).u32(0).fill(0x40, 8).fill(0, 4).fill(0x40, 8).u8(0x10) // user data
      .bytes();
    const seed = naiveRequest({ IRM_ID: '*HWSJAV*', noUserPart: true, IRM_F5: 0xc0, IRM_TIMER: 0x31, IRM_CLIENTID: 'FUZZJAV', otma: hdr, segments: [{ data: new ByteBuilder().ebcdic('ECHO    FUZZ').bytes() }] });
    const id = new ByteBuilder().ebcdic('*HWSJAV*').bytes();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 16, max: seed.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 200 }), async (mutations, chunk) => {
        const b = seed.slice();
        for (const [at, v] of mutations) b[at] = v;
        const c = h.memory();
        for (let i = 0; i < b.length; i += chunk) c.send(b.subarray(i, i + chunk));
        c.end();
        await c.whenClosed();
        const reader = new ReplyFrameReader({ llll: true });
        const replies = reader.push(Buffer.concat(c.raw));
        expect(reader.bufferedBytes).toBe(0);
        for (const r of replies) {
          expect([...r.subarray(4, 12)]).toEqual([...id]);
          expect(r[12]).toBe(0x01); // OMCTLALV of the reply's control section
          expect(r.length).toBeGreaterThanOrEqual(4 + 8 + 32);
        }
      }),
      { numRuns: 150 },
    );
  });
});
