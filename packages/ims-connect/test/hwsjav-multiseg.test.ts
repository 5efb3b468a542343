/**
 * HWSJAVA0 multi-segment input in IBM's type-1 layout ("Input message from client and passed to
 * message exit"): `LLLL | IRM fixed part | OTMA headers | LLZZ data | (OTMA control (32) | LLZZ data)…`,
 * no end-of-message marker. Every segment reaches the program, in order — checked against the fake
 * datastore (exact reply bytes) and against the real in-process IMS engine with a program that reports
 * what GU/GN returned. A bad chained control section gets the HWSJAVA0 error reply (RC 4, reason 20).
 */
import { duplexPair } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CP037 } from '@imsplex/codec';
import { ByteBuilder, toHex } from '@imsplex/codec/testing';
import { startTestImsSystem, type Program, type TestImsSystem } from '@imsplex/ims';
import { type ImsConnectServer } from '../src/index.js';
import { RawClient, harness, serverOnTestIms, silent, type Harness } from './harness.js';

// ---------------------------------------------------------------------------------------------------
// Naive frame builders (spec §11; imsplex layout of the state data after the server state)

interface Ctl {
  mgt?: number; // OMCTLMGT
  rsi?: number; // OMCTLRSI
  tpipe: string;
  chain: number; // chain state
  pfl: number; // OMCTLPFL
  seq: number; // send sequence
  segSeq?: number; // segment sequence
}

function control(b: ByteBuilder, f: Ctl): ByteBuilder {
  return b
    .u8(0x01) // OMCTLALV architecture level
    .u8(f.mgt ?? 0x40) // OMCTLMGT: transaction
    .u8(f.rsi ?? 0) // OMCTLRSI
    .u8(0) // OMCTLCCI
    .u8(0) // protocol command type
    .u8(0) // processing flags
    .ebcdic(f.tpipe, 8) // tpipe
    .u8(f.chain) // chain state
    .u8(f.pfl) // prefix flags
    .u32(f.seq) // send sequence
    .u16(0) // sense code
    .u16(0) // OTMA reason
    .u32(0) // recoverable sequence
    .u16(f.segSeq ?? 0) // segment sequence
    .u16(0); // reserved
}

/** Transaction state data, 69 bytes: CM1, sync level NONE. */
function txState(b: ByteBuilder): ByteBuilder {
  return b
    .u16(69) // length
    .u8(0) // server state
    .u8(0x20) // sync flags: CM1
    .u8(0x00) // sync level NONE
    .ebcdic('', 8) // MFS map name
    .fill(0, 48) // server token, correlator, context ID
    .ebcdic('', 8); // LTERM override
}

/** Security data without user ID fields (OMSECFLG 'N'). */
const security = (b: ByteBuilder): ByteBuilder => b.u16(4).u8(0xd5).u8(0x00);

function userData(b: ByteBuilder, o: { dest: string; orig?: string; rc?: number; rescode?: string; pw?: string; flag1?: number }): ByteBuilder {
  return b
    .u16(61) // OMUSRLEN
    .u16(0) // alignment
    .ebcdic(o.dest, 8) // OMUSR_DESTID
    .ebcdic(o.orig ?? '', 8) // OMUSR_ORIGID
    .ebcdic('', 8) // OMUSR_PORTID
    .fill(0, 8) // OMUSR_LTOKEN
    .u32(o.rc ?? 0) // OMUSR_RETCODE
    .ebcdic(o.rescode ?? '', 8) // OMUSR_RESCODE
    .fill(0, 4) // OMUSR_RTOKEN
    .ebcdic(o.pw ?? '', 8) // OMUSR_PASSTICK
    .u8(o.flag1 ?? 0x10); // OMUSR_FLAG1: persistent socket
}

const seg = (b: ByteBuilder, text: string): ByteBuilder => {
  const data = new ByteBuilder().ebcdic(text).bytes();
  return b.u16(data.length + 4).u16(0).raw(data); // LL, ZZ, data
};

/** A whole HWSJAVA0 input message: IRM fixed part, then `body` (OTMA headers and data). */
function javFrame(clientId: string, body: (b: ByteBuilder) => void): Uint8Array {
  const b = new ByteBuilder()
    .u16(28) // IRM_LEN
    .u8(0) // IRM_ARCH
    .u8(0) // IRM_F0
    .ebcdic('*HWSJAV*') // IRM_ID
    .u16(0) // IRM_NAK_RSNCDE
    .u16(0) // IRM_RES
    .u8(0xc0) // IRM_F5: OTMA headers, client-translated
    .u8(0x00) // IRM_TIMER: IMS Connect's TIMEOUT
    .u8(0x10) // IRM_SOCT persistent
    .u8(0) // IRM_ES
    .ebcdic(clientId, 8); // IRM_CLIENTID
  body(b);
  return new ByteBuilder().u32(b.length + 4).raw(b.bytes()).bytes();
}

interface ChainOptions {
  clientId: string;
  dest: string;
  texts: string[];
  seq?: number;
  /** Overrides of the chained control sections (index 0 = before segment 2). */
  later?: Array<Partial<Ctl>>;
}

/** IBM's type-1 layout: headers + first segment, then a control section before each later segment. */
function chainRequest(o: ChainOptions): Uint8Array {
  const n = o.texts.length;
  const seq = o.seq ?? 3;
  return javFrame(o.clientId, (b) => {
    control(b, { tpipe: o.clientId, chain: n > 1 ? 0x80 : 0xa0, pfl: 0xf0, seq, segSeq: n > 1 ? 1 : 0 }); // first in chain
    txState(b);
    security(b);
    userData(b, { dest: o.dest });
    seg(b, o.texts[0]!);
    for (let i = 1; i < n; i++) {
      control(b, { tpipe: o.clientId, chain: i === n - 1 ? 0x20 : 0x40, pfl: 0x10, seq, segSeq: i + 1, ...o.later?.[i - 1] }); // middle / last
      seg(b, o.texts[i]!);
    }
  });
}

/** The older form: plain LLZZ segments and the end-of-message marker. */
function eomRequest(o: ChainOptions): Uint8Array {
  return javFrame(o.clientId, (b) => {
    control(b, { tpipe: o.clientId, chain: 0xa0, pfl: 0xf0, seq: o.seq ?? 3 });
    txState(b);
    security(b);
    userData(b, { dest: o.dest });
    for (const t of o.texts) seg(b, t);
    b.u32(0x00040000); // end of message
  });
}

/** Expected reply: LLLL | *HWSJAV* | OTMA message(s). */
function expected(build: (b: ByteBuilder) => void): string {
  const body = new ByteBuilder().ebcdic('*HWSJAV*');
  build(body);
  const bytes = body.bytes();
  return toHex(new ByteBuilder().u32(bytes.length + 4).raw(bytes).bytes());
}

/** The HWSJAVA0 error reply for input IMS Connect could not take (reason 20: OTMA segment length). */
const reason20 = (): string =>
  expected((x) => {
    control(x, { mgt: 0x20, rsi: 0x40, tpipe: '', chain: 0xa0, pfl: 0xa0, seq: 0 }); // response, NAK; no client bound yet; state + user data
    txState(x);
    userData(x, { dest: '', orig: 'HWS1', rc: 4, rescode: '20', flag1: 0 });
  });

/** Application data of a HWSJAVA0 reply: walk the first OTMA message's sections, then each chained piece. */
function replySegments(reply: Uint8Array): string[] {
  const u16 = (o: number): number => (reply[o]! << 8) | reply[o + 1]!;
  const texts: string[] = [];
  let at = 12; // LLLL + ID
  const pfl = reply[at + 15]!;
  at += 32;
  for (const bit of [0x80, 0x40, 0x20]) if (pfl & bit) at += u16(at); // state, security, user data
  for (let first = true; at < reply.length; first = false) {
    if (!first) at += 32; // control section of a later segment
    const ll = u16(at);
    texts.push(CP037.decode(reply.subarray(at + 4, at + ll)));
    at += ll;
  }
  return texts;
}

// ---------------------------------------------------------------------------------------------------

describe('HWSJAVA0 chained input through the fake datastore', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('three chained segments: ECHO gets all three and the reply carries them back as a chain', async () => {
    const c = h.memory();
    c.send(chainRequest({ clientId: 'JAVCLI01', dest: 'IMS1', texts: ['ECHO    ONE', 'TWO', 'THREE'], seq: 5 }));
    const reply = (await c.next())!;
    expect(h.ims.log).toEqual(['send ECHO cm1 sync0 tpipe=JAVCLI01']);
    expect(toHex(reply)).toBe(
      expected((b) => {
        control(b, { mgt: 0x80, tpipe: 'JAVCLI01', chain: 0x80, pfl: 0xf0, seq: 5, segSeq: 1 });
        txState(b);
        security(b);
        userData(b, { dest: 'IMS1', pw: '' });
        seg(b, 'ONE');
        control(b, { mgt: 0x80, tpipe: 'JAVCLI01', chain: 0x40, pfl: 0x10, seq: 5, segSeq: 2 });
        seg(b, 'TWO');
        control(b, { mgt: 0x80, tpipe: 'JAVCLI01', chain: 0x20, pfl: 0x10, seq: 5, segSeq: 3 });
        seg(b, 'THREE');
      }),
    );
  });

  it('one segment without an end-of-message marker is a whole message', async () => {
    const c = h.memory();
    c.send(chainRequest({ clientId: 'JAVCLI02', dest: 'IMS1', texts: ['ECHO    ALONE'] }));
    expect(replySegments((await c.next())!)).toEqual(['ALONE']);
  });

  it.each([
    ['a chained section with another message type', { mgt: 0x80 }],
    ['last-in-chain on a middle segment', { chain: 0x20 }],
    ['state data announced on a later segment', { pfl: 0x90 }],
  ])('%s: RC 4, OMUSR_RESCODE 20 in a headers-only NAK, socket closed, nothing reaches IMS', async (_name, bad) => {
    const c = h.memory();
    c.send(chainRequest({ clientId: 'JAVCLI03', dest: 'IMS1', texts: ['ECHO    ONE', 'TWO', 'THREE'], later: [bad] }));
    expect(toHex((await c.next())!)).toBe(reason20());
    await c.whenClosed();
    expect(h.ims.log).toEqual([]);
  });
});

describe('HWSJAVA0 chained input through the real IMS engine (OTMA link)', () => {
  let ims: TestImsSystem;
  let server: ImsConnectServer;
  const runs: string[][] = [];

  /** MULTISEG's program replaced: reports the segments GU/GN returned (count, then length:text of each). */
  const report: Program = async (ctx) => {
    const first = await ctx.io.gu();
    if (first.status !== '  ') return;
    const segs = [first.data!];
    for (let r = await ctx.io.gn(); r.status === '  '; r = await ctx.io.gn()) segs.push(r.data!);
    const texts = segs.map((s) => ctx.text(s));
    runs.push(texts);
    await ctx.io.isrt(ctx.bytes(`SEGMENTS=${segs.length}`));
    for (const [i, s] of segs.entries()) await ctx.io.isrt(ctx.bytes(`${i + 1}:${s.length}:${texts[i]}`));
  };

  beforeAll(async () => {
    ims = await startTestImsSystem({ logger: silent as never, programs: new Map([['MSEGPGM', report]]) });
    server = await serverOnTestIms(ims, 10000);
  });
  afterAll(async () => {
    await server?.close();
    await ims?.stop();
  });

  function client(): RawClient {
    const [a, b] = duplexPair();
    server.handleConnection(b, 0);
    return new RawClient(a);
  }

  it('four chained segments reach the program as four segments, in order, byte for byte', async () => {
    const c = client();
    runs.length = 0;
    c.send(chainRequest({ clientId: 'JAVMSG01', dest: 'IMS1', texts: ['MULTISEG ALPHA', 'BRAVO', 'CHARLIE DELTA', 'E'] }));
    const reply = (await c.next())!;
    expect(runs).toEqual([['MULTISEG ALPHA', 'BRAVO', 'CHARLIE DELTA', 'E']]);
    expect(replySegments(reply)).toEqual(['SEGMENTS=4', '1:14:MULTISEG ALPHA', '2:5:BRAVO', '3:13:CHARLIE DELTA', '4:1:E']);
    // The reply's own chain: first (X'80'), then middle … last (X'20').
    expect(reply[12 + 14]).toBe(0x80);
    expect(reply[reply.length - (4 + 5) - 32 + 14]).toBe(0x20); // the last control section, before LLZZ '4:1:E'
    c.end();
  });

  it('the end-of-message form gives the program the same segments', async () => {
    const c = client();
    runs.length = 0;
    c.send(eomRequest({ clientId: 'JAVMSG02', dest: 'IMS1', texts: ['MULTISEG ALPHA', 'BRAVO', 'CHARLIE DELTA', 'E'] }));
    expect(replySegments((await c.next())!)).toEqual(['SEGMENTS=4', '1:14:MULTISEG ALPHA', '2:5:BRAVO', '3:13:CHARLIE DELTA', '4:1:E']);
    expect(runs).toEqual([['MULTISEG ALPHA', 'BRAVO', 'CHARLIE DELTA', 'E']]);
    c.end();
  });

  it('a bad chained control section: the HWSJAVA0 error reply, and the program never runs', async () => {
    const c = client();
    runs.length = 0;
    c.send(chainRequest({ clientId: 'JAVMSG03', dest: 'IMS1', texts: ['MULTISEG ALPHA', 'BRAVO', 'C'], later: [{}, { chain: 0x40 }] }));
    expect(toHex((await c.next())!)).toBe(reason20());
    await c.whenClosed();
    expect(runs).toEqual([]);
  });
});
