/**
 * `*HWSJAV*` multi-segment input in IBM's type-1 layout ("Input message from client and passed to
 * message exit"): `LLLL | IRM fixed part | OTMA headers | LLZZ data | (OTMA control (32) | LLZZ data)…`
 * with no end-of-message marker, next to the older LLZZ + X'00040000' form. Frames are built byte by
 * byte here with the naive builder; nothing is produced by the code under test.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReasonCode } from './codes.js';
import { CodecErrorCode, isImsplexError } from './errors.js';
import { OtmaChainState, OtmaMessageType, otmaControl } from './otma.js';
import { buildRequest, decodeRequest, encodeRequest, otmaChainControls, type ImsRequest } from './request.js';
import { segmentsText } from './segments.js';
import { describeMalformed, frameChunks } from './testing/describe.js';
import { ByteBuilder, toHex } from './testing/replies.js';

interface Ctl {
  mgt?: number; // OMCTLMGT message type
  rsi?: number; // OMCTLRSI response flags
  tpipe?: string;
  chain: number; // chain state (byte 14)
  pfl: number; // OMCTLPFL prefix flags (byte 15)
  seq?: number; // send sequence
  segSeq?: number; // segment sequence (bytes 28-29)
  arch?: number; // OMCTLALV
}

/** A 32-byte message-control section, field by field (spec §11.1). */
function ctl(b: ByteBuilder, c: Ctl): ByteBuilder {
  return b
    .u8(c.arch ?? 0x01) // OMCTLALV architecture level
    .u8(c.mgt ?? 0x40) // OMCTLMGT: transaction
    .u8(c.rsi ?? 0x00) // OMCTLRSI
    .u8(0x00) // OMCTLCCI
    .u8(0x00) // protocol command type
    .u8(0x00) // processing flags
    .ebcdic(c.tpipe ?? 'CLIENT01', 8) // tpipe
    .u8(c.chain) // chain state
    .u8(c.pfl) // prefix flags
    .u32(c.seq ?? 1) // send sequence number
    .u16(0) // sense code
    .u16(0) // OTMA reason
    .u32(0) // recoverable sequence number
    .u16(c.segSeq ?? 0) // segment sequence number
    .u16(0); // reserved
}

/**
 * The client's OTMA headers: control (state + security + user + application data), 3-byte state,
 * 4-byte security and 61-byte user data (HWSOMUSR).
 */
function headers(b: ByteBuilder, chain: number, mgt = 0x40): ByteBuilder {
  ctl(b, { mgt, chain, pfl: 0xf0, segSeq: chain === OtmaChainState.SINGLE ? 0 : 1 });
  b.u16(3).u8(0x00); // state data: length 3, server state 0
  b.u16(4).u8(0xd5).u8(0x00); // security data: length 4, OMSECFLG 'N', no user-ID fields
  return b
    .u16(61) // OMUSRLEN
    .u16(0) // alignment
    .ebcdic('IMS1', 8) // OMUSR_DESTID
    .fill(0x40, 16) // OMUSR_ORIGID, OMUSR_PORTID
    .fill(0, 8) // OMUSR_LTOKEN
    .u32(0) // OMUSR_RETCODE
    .fill(0x40, 8) // OMUSR_RESCODE
    .fill(0, 4) // OMUSR_RTOKEN
    .fill(0x40, 8) // OMUSR_PASSTICK
    .u8(0x10); // OMUSR_FLAG1: persistent socket
}

/** IRM fixed part of a *HWSJAV* request (28 bytes). */
function irm(b: ByteBuilder): ByteBuilder {
  return b
    .u16(28) // IRM_LEN
    .u8(0x00) // IRM_ARCH
    .u8(0x00) // IRM_F0
    .ebcdic('*HWSJAV*') // IRM_ID
    .u16(0) // IRM_NAK_RSNCDE
    .u16(0) // IRM_RES
    .u8(0xc0) // IRM_F5: OTMA headers, client-translated
    .u8(0x00) // IRM_TIMER
    .u8(0x10) // IRM_SOCT persistent
    .u8(0x00) // IRM_ES
    .ebcdic('CLIENT01', 8); // IRM_CLIENTID
}

/** LLZZ segment of EBCDIC text. */
function seg(b: ByteBuilder, text: string, zz = 0): ByteBuilder {
  const data = new ByteBuilder().ebcdic(text).bytes();
  return b.u16(data.length + 4).u16(zz).raw(data);
}

/** LLLL + body. */
function frame(body: (b: ByteBuilder) => void): Uint8Array {
  const b = new ByteBuilder();
  irm(b);
  body(b);
  return new ByteBuilder().u32(b.length + 4).raw(b.bytes()).bytes();
}

/** IBM's type-1 layout: three segments, each later one after its own control section. */
const CHAIN3 = (): Uint8Array =>
  frame((b) => {
    headers(b, OtmaChainState.FIRST);
    seg(b, 'IVTNO   ONE');
    ctl(b, { chain: 0x40, pfl: 0x10, segSeq: 2 }); // middle
    seg(b, 'TWO');
    ctl(b, { chain: 0x20, pfl: 0x10, segSeq: 3 }); // last
    seg(b, 'THREE');
  });

function expectCoded(bytes: Uint8Array, code: string, reason: number, message?: RegExp): void {
  let caught: unknown;
  try {
    decodeRequest(bytes);
  } catch (e) {
    caught = e;
  }
  expect(isImsplexError(caught)).toBe(true);
  expect((caught as { code: string }).code).toBe(code);
  expect((caught as { details: { reason?: number } }).details.reason).toBe(reason);
  if (message) expect((caught as Error).message).toMatch(message);
}

describe('*HWSJAV* type-1 layout (OTMA control section before each later segment, no EOM)', () => {
  it('decodes three segments, keeps the control sections raw and decoded, and re-encodes the same bytes', () => {
    const bytes = CHAIN3();
    const req = decodeRequest(bytes);
    expect(req.segments.map((s) => segmentsText([s]))).toEqual(['IVTNO   ONE', 'TWO', 'THREE']);
    expect(req.otma?.control.chainState).toBe(0x80);
    expect(req.segmentHeaders?.map(toHex)).toEqual([
      toHex(ctl(new ByteBuilder(), { chain: 0x40, pfl: 0x10, segSeq: 2 }).bytes()),
      toHex(ctl(new ByteBuilder(), { chain: 0x20, pfl: 0x10, segSeq: 3 }).bytes()),
    ]);
    expect(req.segmentControls).toHaveLength(2);
    expect(req.segmentControls![0]).toMatchObject({ architectureLevel: 1, messageType: 0x40, chainState: 0x40, prefixFlags: 0x10, sendSequence: 1, segmentSequence: 2 });
    expect(req.segmentControls![1]).toMatchObject({ chainState: 0x20, segmentSequence: 3 });
    expect(String(req.segmentControls![1]!.tpipe).trim()).toBe('CLIENT01');
    expect(req.segmentReserved).toBeUndefined();
    expect(toHex(encodeRequest(req))).toBe(toHex(bytes));
  });

  it('encodes from decoded controls alone (segmentHeaders dropped) to the same bytes', () => {
    const req = decodeRequest(CHAIN3());
    const { segmentHeaders: _h, ...rest } = req;
    expect(toHex(encodeRequest(rest as ImsRequest))).toBe(toHex(CHAIN3()));
  });

  it('buildRequest + otmaChainControls write the same bytes as the hand-built frame', () => {
    const otmaHeaders = headers(new ByteBuilder(), OtmaChainState.FIRST).bytes();
    const first = otmaControl({ messageType: OtmaMessageType.TRANSACTION, tpipe: 'CLIENT01', chainState: OtmaChainState.FIRST, sendSequence: 1, segmentSequence: 1 });
    const req = buildRequest({ exit: '*HWSJAV*', clientId: 'CLIENT01', otmaHeaders, trancode: 'IVTNO', data: ['ONE', 'TWO', 'THREE'], segmentControls: otmaChainControls(first, 3) });
    expect(toHex(encodeRequest(req))).toBe(toHex(CHAIN3()));
  });

  it('frames on LLLL alone (no end-of-message marker needed), split anywhere', () => {
    const b = CHAIN3();
    for (let cut = 0; cut <= b.length; cut++) {
      const frames = frameChunks([b.slice(0, cut), b.slice(cut)]);
      expect(frames.map(toHex)).toEqual([toHex(b)]);
    }
  });

  it('one segment and no marker; headers alone and nothing else: both the type-1 layout', () => {
    const one = frame((b) => {
      headers(b, OtmaChainState.SINGLE);
      seg(b, 'IVTNO   ONLY');
    });
    const r1 = decodeRequest(one);
    expect(r1.segments.map((s) => segmentsText([s]))).toEqual(['IVTNO   ONLY']);
    expect(r1.segmentHeaders).toEqual([]);
    expect(toHex(encodeRequest(r1))).toBe(toHex(one));
    const none = frame((b) => headers(b, OtmaChainState.SINGLE));
    const r0 = decodeRequest(none);
    expect(r0.segments).toEqual([]);
    expect(r0.segmentHeaders).toEqual([]);
    expect(toHex(encodeRequest(r0))).toBe(toHex(none));
  });

  it('keeps non-zero ZZ of chained segments', () => {
    const bytes = frame((b) => {
      headers(b, OtmaChainState.FIRST);
      seg(b, 'IVTNO   A');
      ctl(b, { chain: 0x20, pfl: 0x10, segSeq: 2 });
      seg(b, 'B', 0x0102);
    });
    const req = decodeRequest(bytes);
    expect(req.segmentReserved).toEqual([0, 0x0102]);
    expect(toHex(encodeRequest(req))).toBe(toHex(bytes));
    const { segmentHeaders: _h, ...rest } = req;
    expect(toHex(encodeRequest(rest as ImsRequest))).toBe(toHex(bytes));
  });
});

describe('*HWSJAV* end-of-message form (kept for compatibility)', () => {
  const legacy = (): Uint8Array =>
    frame((b) => {
      headers(b, OtmaChainState.SINGLE);
      seg(b, 'IVTNO   ONE');
      seg(b, 'TWO');
      b.u32(0x00040000); // end of message
    });

  it('LLZZ segments then X\'00040000\': no segment headers, and re-encodes with the marker', () => {
    const req = decodeRequest(legacy());
    expect(req.segments.map((s) => segmentsText([s]))).toEqual(['IVTNO   ONE', 'TWO']);
    expect(req.segmentHeaders).toBeUndefined();
    expect(req.segmentControls).toBeUndefined();
    expect(toHex(encodeRequest(req))).toBe(toHex(legacy()));
  });

  it('the marker alone after the headers: no segments', () => {
    const bytes = frame((b) => {
      headers(b, OtmaChainState.SINGLE);
      b.u32(0x00040000);
    });
    const req = decodeRequest(bytes);
    expect(req.segments).toEqual([]);
    expect(req.segmentHeaders).toBeUndefined();
    expect(toHex(encodeRequest(req))).toBe(toHex(bytes));
  });

  it('a second LLZZ segment that starts like a control section (LL X\'0140\', data bytes 11-12 X\'40\' X\'10\') still reads as the end-of-message form', () => {
    // LL X'0140' = transaction type X'40' after X'01'; data[10] X'40' = "middle"; data[11] X'10' =
    // "application data only". The chain cannot parse (its next LL would be X'4040'), the EOM form can.
    const data = new Array<number>(0x140 - 4).fill(0x40);
    data[11] = 0x10;
    const bytes = frame((b) => {
      headers(b, OtmaChainState.SINGLE);
      seg(b, 'IVTNO   ONE');
      b.u16(0x140).u16(0).raw(data);
      b.u32(0x00040000);
    });
    const req = decodeRequest(bytes);
    expect(req.segmentHeaders).toBeUndefined();
    expect(req.segments).toHaveLength(2);
    expect([...req.segments[1]!]).toEqual(data);
  });
});

describe('*HWSJAV* bad chained control sections: IMS_ERR_BAD_OTMA, reason 20', () => {
  const chain = (mutate: { second?: Partial<Ctl>; third?: Partial<Ctl>; first?: number; tail?: number[] }): Uint8Array =>
    frame((b) => {
      headers(b, mutate.first ?? OtmaChainState.FIRST);
      seg(b, 'IVTNO   ONE');
      ctl(b, { chain: 0x40, pfl: 0x10, segSeq: 2, ...mutate.second });
      seg(b, 'TWO');
      ctl(b, { chain: 0x20, pfl: 0x10, segSeq: 3, ...mutate.third });
      seg(b, 'THREE');
      if (mutate.tail) b.raw(mutate.tail);
    });
  const BAD = CodecErrorCode.BAD_OTMA;
  const R20 = ReasonCode.OTMA_SEGMENT_LENGTH;

  it('a different message type in a later control section', () => expectCoded(chain({ second: { mgt: 0x80 } }), BAD, R20, /message type X'80'.*X'40'/));
  it('last on a middle segment', () => expectCoded(chain({ second: { chain: 0x20 } }), BAD, R20, /says last in chain \(X'20'\) but \d+ bytes follow/));
  it('middle on the last segment', () => expectCoded(chain({ third: { chain: 0x40 } }), BAD, R20, /chain state X'40'.*last/));
  it('first-in-chain on a later segment', () => expectCoded(chain({ third: { chain: 0x80 } }), BAD, R20, /chain state X'80'/));
  it('a chain after a single-segment first section (X\'A0\')', () => expectCoded(chain({ first: OtmaChainState.SINGLE }), BAD, R20, /X'A0'.*X'80'/));
  it('state data announced on a later segment', () => expectCoded(chain({ second: { pfl: 0x90 } }), BAD, R20, /prefix flags X'90'/));
  it('architecture level X\'02\' on the third control section', () => expectCoded(chain({ third: { arch: 0x02 } }), BAD, R20, /architecture level X'02'/));
  it('an end-of-message marker after a chain', () => expectCoded(chain({ tail: [0x00, 0x04, 0x00, 0x00] }), BAD, R20, /says last in chain \(X'20'\) but 4 bytes follow/));
  it('a fourth control section cut short by LLLL', () => expectCoded(chain({ third: { chain: 0x40 }, tail: [0x01, 0x40, 0x00, 0x00, 0x00, 0x00] }), BAD, R20, /does not fit: .* 6 remain/));

  describeMalformed(
    CodecErrorCode.BAD_SEGMENT,
    () =>
      frame((b) => {
        headers(b, OtmaChainState.FIRST);
        seg(b, 'IVTNO   ONE');
        ctl(b, { chain: 0x20, pfl: 0x10 });
        b.u16(3).u16(0).u8(0xc1).u8(0xc2).u8(0xc3).u8(0xc4); // LL 3: below the 4-byte LLZZ
      }),
    ReasonCode.NEGATIVE_LENGTH,
    'a chained segment with LL 3',
  );
  describeMalformed(
    CodecErrorCode.TRUNCATED,
    () =>
      frame((b) => {
        headers(b, OtmaChainState.FIRST);
        seg(b, 'IVTNO   ONE');
        ctl(b, { chain: 0x20, pfl: 0x10 });
        b.u16(40).u16(0).ebcdic('SHORT'); // LL 40, 5 data bytes
      }),
    ReasonCode.MESSAGE_INCOMPLETE,
    'a chained segment running past LLLL',
  );
});

describe('encodeRequest: chained segments', () => {
  const base = (): ImsRequest => decodeRequest(CHAIN3());
  const invalid = (fn: () => unknown): void => {
    let caught: unknown;
    try {
      fn();
    } catch (e) {
      caught = e;
    }
    expect((caught as { code?: string }).code).toBe(CodecErrorCode.INVALID_VALUE);
  };
  it('rejects a control-section count that does not match the segments', () => invalid(() => encodeRequest({ ...base(), segmentHeaders: base().segmentHeaders!.slice(1) })));
  it('rejects a control section that is not 32 bytes', () => invalid(() => encodeRequest({ ...base(), segmentHeaders: [new Uint8Array(31), new Uint8Array(32)] })));
  it('rejects an empty segment', () => invalid(() => encodeRequest({ ...base(), segments: [base().segments[0]!, new Uint8Array(0), base().segments[2]!] })));
  it('rejects chained segments on an exit without OTMA headers', () =>
    invalid(() => encodeRequest({ ...buildRequest({ trancode: 'IVTNO', data: ['A', 'B'] }), segmentControls: otmaChainControls(otmaControl(), 2) })));
  it('otmaChainControls numbers and flags the later sections', () => {
    const c = otmaChainControls(otmaControl({ messageType: 0x80, tpipe: 'TP', sendSequence: 9, chainState: 0x80 }), 4);
    expect(c.map((x) => [x.messageType, x.tpipe, x.sendSequence, x.chainState, x.prefixFlags, x.segmentSequence])).toEqual([
      [0x80, 'TP', 9, 0x40, 0x10, 2],
      [0x80, 'TP', 9, 0x40, 0x10, 3],
      [0x80, 'TP', 9, 0x20, 0x10, 4],
    ]);
    expect(otmaChainControls(otmaControl(), 1)).toEqual([]);
  });
});

describe('property: encode → decode over 1–5 chained segments', () => {
  it('round-trips segments, ZZ and control sections, byte-exact on re-encode', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ data: fc.uint8Array({ minLength: 1, maxLength: 300 }), zz: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })) }), { minLength: 1, maxLength: 5 }),
        fc.constantFrom(OtmaMessageType.TRANSACTION, OtmaMessageType.DATA),
        fc.integer({ min: 0, max: 0xffffffff }),
        (segs, mgt, sendSequence) => {
          const n = segs.length;
          const chain = n > 1 ? OtmaChainState.FIRST : OtmaChainState.SINGLE;
          const otmaHeaders = headers(new ByteBuilder(), chain, mgt).bytes();
          const first = otmaControl({ messageType: mgt, tpipe: 'CLIENT01', chainState: chain, sendSequence });
          const zz = segs.map((s) => s.zz);
          const req: ImsRequest = {
            ...buildRequest({ exit: '*HWSJAV*', clientId: 'CLIENT01', otmaHeaders, segments: segs.map((s) => s.data), segmentControls: otmaChainControls(first, n) }),
            ...(zz.some((z) => z !== 0) ? { segmentReserved: zz } : {}),
          };
          const bytes = encodeRequest(req);
          // LLLL + IRM + headers + LLZZ per segment + 32 per later segment, no marker.
          expect(bytes.length).toBe(4 + 28 + otmaHeaders.length + segs.reduce((a, s) => a + 4 + s.data.length, 0) + 32 * (n - 1));
          const back = decodeRequest(bytes);
          expect(back.segments.map((s) => toHex(s))).toEqual(segs.map((s) => toHex(s.data)));
          expect(back.segmentReserved ?? zz.map(() => 0)).toEqual(zz);
          expect(back.segmentHeaders).toHaveLength(n - 1);
          expect(back.segmentControls?.map((c) => [c.messageType, c.chainState, c.sendSequence, c.segmentSequence])).toEqual(
            req.segmentControls!.map((c) => [c.messageType, c.chainState, sendSequence, c.segmentSequence]),
          );
          expect(toHex(encodeRequest(back))).toBe(toHex(bytes));
        },
      ),
      { numRuns: 100 },
    );
  });
});
