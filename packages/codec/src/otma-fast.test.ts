/**
 * The OTMA fast paths (`encodeOtmaFast` / `decodeOtmaFast` inside otma.ts, with the decoded-name cache
 * and the one-copy prefix) against the previous implementation, kept verbatim in
 * bench/reference/otma.ts: same bytes, same decoded values (`isDeepStrictEqual`: prototypes, Buffer vs
 * Uint8Array, every property), same errors (code and message) — for valid, mutated and invalid input.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ref from '../bench/reference/otma.js';
import { IVTNO_MESSAGE } from '../bench/otma-fixture.js';
import { CP037, getCodePage, LATIN1, registerCodePage, type CodePage } from './ebcdic.js';
import { CodecError } from './errors.js';
import { type OtmaMessage, decodeOtmaMessage, decodeOtmaMessageAt, encodeOtmaMessage, encodeOtmaMessageInto, otmaControl, otmaSingleControl, OtmaMessageType, otmaMessageSize } from './otma.js';
import { writeTransactionRest } from './otma-state.js';
import { decodeXcfFrame, encodeXcfFrame } from './xcf.js';
import { toHex } from './testing/replies.js';

/** What a call did: its value, or its error's class, code and message. */
function outcome<T>(f: () => T): { ok: true; value: T } | { ok: false; error: string } {
  try {
    return { ok: true, value: f() };
  } catch (e) {
    if (!(e instanceof CodecError)) return { ok: false, error: `${(e as Error).constructor.name}: ${(e as Error).message}` };
    return { ok: false, error: `${e.code}: ${e.message}` };
  }
}

function expectSameOutcome<T>(ours: () => T, theirs: () => T): void {
  const a = outcome(ours);
  const b = outcome(theirs);
  if (a.ok && b.ok) {
    if (!isDeepStrictEqual(a.value, b.value)) expect(a.value).toStrictEqual(b.value); // shows the diff
    expect(isDeepStrictEqual(a.value, b.value)).toBe(true);
  } else {
    expect(a).toEqual(b);
  }
}

/** Encode with the fast path into poisoned memory (proves every byte is written). */
function encodePoisoned(m: OtmaMessage, page: CodePage, at = 3): Uint8Array {
  const out = new Uint8Array(at + otmaMessageSize(m) + 2).fill(0xee);
  const n = encodeOtmaMessageInto(m, out, at, { codePage: page });
  expect(n).toBe(otmaMessageSize(m));
  expect(out[at + n]).toBe(0xee);
  return out.subarray(at, at + n);
}

const PAGES: Array<[string, CodePage]> = [
  ['cp037', CP037],
  ['latin1', LATIN1],
];

describe('OTMA fast path: the typical IVTNO message', () => {
  const bytes = ref.encodeOtmaMessage(IVTNO_MESSAGE as ref.OtmaMessage);
  const decoded = ref.decodeOtmaMessage(bytes);

  it('encodes the same bytes as the previous encoder, built and decoded forms, into poisoned memory', () => {
    expect(toHex(encodePoisoned(IVTNO_MESSAGE, CP037))).toBe(toHex(bytes));
    expect(toHex(encodePoisoned(decoded as OtmaMessage, CP037))).toBe(toHex(bytes));
    expect(toHex(encodeOtmaMessage(decoded as OtmaMessage))).toBe(toHex(bytes));
    expect(toHex(encodeXcfFrame(decoded as OtmaMessage).subarray(4))).toBe(toHex(bytes));
  });

  it('decodes to the same values as the previous decoder: plain input, Buffer input, at an offset', () => {
    expect(isDeepStrictEqual(decodeOtmaMessage(bytes), decoded)).toBe(true);
    const buf = Buffer.from(bytes);
    expect(isDeepStrictEqual(decodeOtmaMessage(buf), ref.decodeOtmaMessage(buf))).toBe(true);
    const framed = new Uint8Array(7 + bytes.length);
    framed.set(bytes, 7);
    expect(isDeepStrictEqual(decodeOtmaMessageAt(framed, 7), ref.decodeOtmaMessage(framed.subarray(7)))).toBe(true);
    const frame = encodeXcfFrame(IVTNO_MESSAGE);
    expect(isDeepStrictEqual(decodeXcfFrame(frame), ref.decodeOtmaMessage(frame.subarray(4)))).toBe(true);
  });

  it('decoded values are private copies (but segments, which are views of the input)', () => {
    const b = bytes.slice();
    const m = decodeOtmaMessage(b);
    const before = toHex(encodeOtmaMessage(m));
    const seg = m.segments![0]!;
    b.fill(0x11, 0, b.length - seg.length - 4);
    expect(toHex(encodeOtmaMessage(m))).toBe(before);
    b[b.length - 1] = 0x99;
    expect(seg[seg.length - 1]).toBe(0x99);
  });

  it('decodes the same bytes twice to equal values (the name cache serves the second)', () => {
    const a = decodeOtmaMessage(bytes);
    const b = decodeOtmaMessage(bytes);
    expect(isDeepStrictEqual(a, b)).toBe(true);
    expect(a.control.tpipe).toBe('CLIENT01');
    expect(a.user?.destinationId).toBe('IMS1');
  });
});

describe('OTMA fast path: name encoding', () => {
  it('encodes names as the page does: characters beyond Latin-1, unmappable characters, every page', () => {
    const pages: CodePage[] = [CP037, LATIN1, getCodePage('cp1140'), getCodePage('cp500'), getCodePage('cp1047')];
    for (const page of pages) {
      for (const name of ['\u20ac1', 'A\u20acB', '\u0100', '[]!|^', 'a\u00e9 z', '', '12345678']) {
        const m: OtmaMessage = { ...IVTNO_MESSAGE, control: { ...IVTNO_MESSAGE.control, tpipe: name }, security: { flag: 0xc3, userId: name, rest: new Uint8Array(0) } };
        expect(outcome(() => toHex(encodePoisoned(m, page)))).toEqual(outcome(() => toHex(ref.encodeOtmaMessage(m as ref.OtmaMessage, { codePage: page }))));
      }
    }
  });
});

describe('OTMA fast path: a caller-made CodePage object', () => {
  it('is used through its methods only (general path): same results as before, and no stale cache', () => {
    let upper = true;
    const chars = (): readonly string[] => (upper ? CP037.chars : CP037.chars.map((c) => c.toLowerCase()));
    const custom: CodePage = {
      name: 'custom',
      ebcdic: true,
      space: 0x40,
      get chars() {
        return chars();
      },
      decode: (b, s, e) => CP037.decode(b, s, e),
      encode: (t) => CP037.encode(t.toUpperCase()),
      encodeInto: (t, target, o, l, pad) => CP037.encodeInto(t.toUpperCase(), target, o, l, pad),
      byteOf: (u) => CP037.byteOf(u),
    };
    const bytes = ref.encodeOtmaMessage(IVTNO_MESSAGE as ref.OtmaMessage);
    for (const u of [true, false, true]) {
      upper = u;
      expectSameOutcome(() => decodeOtmaMessage(bytes, { codePage: custom }), () => ref.decodeOtmaMessage(bytes, { codePage: custom }));
      const m: OtmaMessage = { ...IVTNO_MESSAGE, control: { ...IVTNO_MESSAGE.control, tpipe: 'client01' } };
      expect(toHex(encodePoisoned(m, custom))).toBe(toHex(ref.encodeOtmaMessage(m as ref.OtmaMessage, { codePage: custom })));
    }
    upper = false;
    expect(decodeOtmaMessage(bytes, { codePage: custom }).control.tpipe).toBe('client01');
  });
});

describe('OTMA fast path: decoded-name cache', () => {
  it('gives the right name for thousands of distinct tpipes (collisions and evictions), CP037 and LATIN1', () => {
    for (const [, page] of PAGES) {
      const names: Array<string | Uint8Array> = [];
      for (let i = 0; i < 3000; i++) names.push(i % 7 === 0 ? Uint8Array.of(0xc1 + (i % 9), i & 0xff, 0, 0, 0, 0, 0, i >> 8) : `T${i.toString(36).toUpperCase()}`);
      // Twice: the second pass reads what the first left in the cache.
      for (let pass = 0; pass < 2; pass++) {
        for (const tpipe of names) {
          const b = ref.encodeOtmaMessage({ control: ref.otmaControl({ messageType: OtmaMessageType.TRANSACTION, tpipe }) }, { codePage: page });
          const ours = decodeOtmaMessage(b, { codePage: page });
          const theirs = ref.decodeOtmaMessage(b, { codePage: page });
          if (!isDeepStrictEqual(ours, theirs)) expect(ours).toStrictEqual(theirs);
        }
      }
    }
  });

  it('keys the cache by code page: the same bytes decode per page', () => {
    const b = ref.encodeOtmaMessage({ control: ref.otmaControl({ tpipe: 'ABC' }) });
    expect(decodeOtmaMessage(b).control.tpipe).toBe('ABC');
    const latin = decodeOtmaMessage(b, { codePage: LATIN1 }).control.tpipe;
    expect(latin).toStrictEqual(ref.decodeOtmaMessage(b, { codePage: LATIN1 }).control.tpipe);
    expect(latin).not.toBe('ABC');
    expect(decodeOtmaMessage(b).control.tpipe).toBe('ABC');
  });

  it('follows a page whose characters do not all round-trip (two bytes for one character)', () => {
    const table = Array.from({ length: 256 }, (_, i) => i);
    table[0xc1] = 0x41; // X'C1' and X'41' both 'A': X'C1' encodes back as X'41'
    const odd = registerCodePage('imsplex-test-odd', table, { ebcdic: false });
    for (const raw of [Uint8Array.of(0x41, 0x42, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20), Uint8Array.of(0xc1, 0x42, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20), Uint8Array.of(0x41, 0x42, 0, 0, 0, 0, 0, 0)]) {
      const b = ref.encodeOtmaMessage({ control: ref.otmaControl({ tpipe: raw }) }, { codePage: odd });
      for (let pass = 0; pass < 2; pass++) expectSameOutcome(() => decodeOtmaMessage(b, { codePage: odd }), () => ref.decodeOtmaMessage(b, { codePage: odd }));
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// Properties: the fast-path shape (transaction state with named fields, security, user, segments)
// ---------------------------------------------------------------------------------------------------

const byte = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytesN = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n });
/** Names: upper-case text, text with characters of either code set, raw bytes (often X'00' or blank padded). */
const nameArb = (n: number): fc.Arbitrary<string | Uint8Array> =>
  fc.oneof(
    fc.stringMatching(new RegExp(`^[A-Z][A-Z0-9#$@]{0,${n - 1}}$`)),
    fc.string({ maxLength: n, unit: fc.constantFrom('A', 'z', '@', ' ', '#', '\u00e9', '1') }),
    bytesN(n),
    fc.tuple(fc.uint8Array({ minLength: 1, maxLength: n }), fc.constantFrom(0x00, 0x40, 0x20)).map(([head, pad]) => {
      const b = new Uint8Array(n).fill(pad);
      b.set(head.subarray(0, n));
      return b;
    }),
  );

const transactionStateArb = fc.oneof(
  fc.record({ serverState: byte, rest: fc.uint8Array({ maxLength: 80 }) }),
  fc.record(
    {
      serverState: byte,
      rest: fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 66, maxLength: 72 })),
      syncFlags: byte,
      syncLevel: byte,
      mapName: nameArb(8),
      serverToken: fc.uint8Array({ maxLength: 16 }),
      correlator: fc.uint8Array({ maxLength: 16 }),
      contextId: fc.uint8Array({ maxLength: 16 }),
      ltermOverride: nameArb(8),
      holdQueueDepth: u32,
    },
    { requiredKeys: ['serverState', 'rest'] },
  ),
);

const messageArb: fc.Arbitrary<OtmaMessage> = fc
  .record({
    control: fc.record({
      architectureLevel: byte,
      messageType: fc.oneof(fc.constantFrom(0x40, 0x80, 0x20, 0x08, 0x48), byte),
      responseFlags: byte,
      commitConfirmation: byte,
      commandType: byte,
      processingFlags: byte,
      tpipe: nameArb(8),
      chainState: byte,
      prefixFlags: byte,
      sendSequence: u32,
      senseCode: u16,
      reasonCode: u16,
      recoverableSequence: u32,
      segmentSequence: u16,
      reserved: u16,
    }),
    state: fc.option(transactionStateArb, { nil: undefined }),
    security: fc.option(fc.record({ flag: byte, userId: nameArb(8), groupName: nameArb(8), rest: fc.uint8Array({ maxLength: 12 }) }, { requiredKeys: ['flag', 'rest'] }), { nil: undefined }),
    user: fc.option(
      fc.record({ align: u16, destinationId: nameArb(8), originId: nameArb(8), portId: nameArb(8), logonToken: fc.uint8Array({ maxLength: 8 }), returnCode: u32, reasonName: nameArb(8), responseToken: fc.uint8Array({ maxLength: 4 }), passTicket: nameArb(8), flag1: byte, rest: fc.uint8Array({ maxLength: 12 }) }),
      { nil: undefined },
    ),
    segments: fc.option(fc.array(fc.uint8Array({ maxLength: 70 }), { maxLength: 3 }), { nil: undefined }),
    zz: fc.option(fc.array(u16, { maxLength: 3 }), { nil: undefined }),
  })
  .map((r) => {
    const m: Record<string, unknown> = { control: r.control };
    if (r.state) m.state = { form: 'transaction', ...r.state };
    if (r.security) m.security = r.security;
    if (r.user) m.user = r.user;
    if (r.segments) m.segments = r.segments;
    if (r.segments && r.zz && r.zz.length === r.segments.length) m.zz = r.zz;
    return m as unknown as OtmaMessage;
  });

describe('OTMA fast path: properties against the previous implementation', () => {
  it('encode: same bytes or the same error, for both pages; decode of those bytes: same values (plain and Buffer)', () => {
    fc.assert(
      fc.property(messageArb, fc.constantFrom(...PAGES), (m, [, page]) => {
        const theirs = outcome(() => ref.encodeOtmaMessage(m as ref.OtmaMessage, { codePage: page }));
        const ours = outcome(() => toHex(encodePoisoned(m, page)));
        if (!theirs.ok) {
          expect(ours).toEqual(theirs);
          return;
        }
        expect(ours).toEqual({ ok: true, value: toHex(theirs.value) });
        const bytes = theirs.value;
        expectSameOutcome(() => decodeOtmaMessage(bytes, { codePage: page }), () => ref.decodeOtmaMessage(bytes, { codePage: page }));
        const buf = Buffer.from(bytes);
        expectSameOutcome(() => decodeOtmaMessage(buf, { codePage: page }), () => ref.decodeOtmaMessage(buf, { codePage: page }));
        // Re-encoding the decoded form (named fields as views of `rest`) gives the bytes again.
        const back = decodeOtmaMessage(bytes, { codePage: page });
        expect(toHex(encodePoisoned(back, page))).toBe(toHex(bytes));
      }),
      { numRuns: 200 },
    );
  });

  it('decode of mutated and truncated messages: same value or the same error, also through decodeXcfFrame', () => {
    const mutated = fc
      .tuple(messageArb, fc.array(fc.tuple(fc.nat(), byte), { minLength: 1, maxLength: 4 }), fc.nat())
      .map(([m, edits, cut]) => {
        const o = outcome(() => ref.encodeOtmaMessage(m as ref.OtmaMessage));
        const b = o.ok ? o.value.slice() : new Uint8Array(40);
        for (const [at, v] of edits) b[at % b.length] = v;
        return cut % 3 === 0 ? b.subarray(0, cut % (b.length + 1)) : b;
      });
    fc.assert(
      fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 160 })), (bytes) => {
        expectSameOutcome(() => decodeOtmaMessage(bytes), () => ref.decodeOtmaMessage(bytes));
        const frame = new Uint8Array(bytes.length + 4);
        new DataView(frame.buffer).setUint32(0, frame.length);
        frame.set(bytes, 4);
        expectSameOutcome(() => decodeXcfFrame(frame), () => ref.decodeOtmaMessage(frame.subarray(4)));
      }),
      { numRuns: 200 },
    );
  });

  it('encode of out-of-range values: the same error as the previous encoder', () => {
    const base = ref.decodeOtmaMessage(ref.encodeOtmaMessage(IVTNO_MESSAGE as ref.OtmaMessage)) as OtmaMessage;
    const bad: unknown[] = [-1, 256, 1.5, 70000, 2 ** 32, Number.NaN, '1', 'TOOLONGNAME', new Uint8Array(3), new Uint8Array(17)];
    const variants: Array<(v: unknown) => OtmaMessage> = [
      (v) => ({ ...base, control: { ...base.control, messageType: v as number } }),
      (v) => ({ ...base, control: { ...base.control, prefixFlags: v as number } }),
      (v) => ({ ...base, control: { ...base.control, sendSequence: v as number } }),
      (v) => ({ ...base, control: { ...base.control, senseCode: v as number } }),
      (v) => ({ ...base, control: { ...base.control, tpipe: v as string } }),
      (v) => ({ ...base, state: { ...(base.state as ref.OtmaTransactionState), serverState: v as number } }),
      (v) => ({ ...base, state: { ...(base.state as ref.OtmaTransactionState), syncLevel: v as number } }),
      (v) => ({ ...base, state: { ...(base.state as ref.OtmaTransactionState), mapName: v as string } }),
      (v) => ({ ...base, state: { ...(base.state as ref.OtmaTransactionState), serverToken: v as Uint8Array } }),
      (v) => ({ ...base, state: { ...(base.state as ref.OtmaTransactionState), holdQueueDepth: v as number } }),
      (v) => ({ ...base, security: { ...base.security!, flag: v as number } }),
      (v) => ({ ...base, security: { ...base.security!, userId: v as string } }),
      (v) => ({ ...base, user: { ...base.user!, align: v as number } }),
      (v) => ({ ...base, user: { ...base.user!, returnCode: v as number } }),
      (v) => ({ ...base, user: { ...base.user!, originId: v as string } }),
      (v) => ({ ...base, user: { ...base.user!, logonToken: v as Uint8Array } }),
      (v) => ({ ...base, user: { ...base.user!, responseToken: v as Uint8Array } }),
      (v) => ({ ...base, zz: [v as number] }),
    ];
    let errors = 0;
    for (const make of variants) {
      for (const v of bad) {
        const m = make(v);
        const theirs = outcome(() => toHex(ref.encodeOtmaMessage(m as ref.OtmaMessage)));
        expect(outcome(() => toHex(encodeOtmaMessage(m)))).toEqual(theirs);
        if (!theirs.ok) errors++;
      }
    }
    expect(errors).toBeGreaterThan(100);
  });

  it('the target must hold the message: same error as before, nothing written past the end', () => {
    const target = new Uint8Array(otmaMessageSize(IVTNO_MESSAGE) - 1);
    expect(outcome(() => encodeOtmaMessageInto(IVTNO_MESSAGE, target, 0))).toEqual(outcome(() => ref.encodeOtmaMessageInto(IVTNO_MESSAGE as ref.OtmaMessage, target, 0)));
  });

  it('protocol commands and the other state forms take the general path and agree with it', () => {
    const bid: OtmaMessage = {
      control: otmaControl({ messageType: OtmaMessageType.COMMAND, commandType: 0x04, sendSequence: 1 }),
      state: { form: 'member', memberName: 'HWS1', originatorToken: new Uint8Array(8), destinationToken: new Uint8Array(8), druExitName: 'DFSYDRU0', maxBlockSize: 0, queueFlags: 0xa0, flags2: 0, rest: new Uint8Array(0), ackTimeout: 30 },
    };
    const bytes = ref.encodeOtmaMessage(bid as ref.OtmaMessage);
    expect(toHex(encodeOtmaMessage(bid))).toBe(toHex(bytes));
    expect(isDeepStrictEqual(decodeOtmaMessage(bytes), ref.decodeOtmaMessage(bytes))).toBe(true);
    const ack: OtmaMessage = { control: otmaControl({ messageType: OtmaMessageType.RESPONSE, responseFlags: 0x80, tpipe: 'CLIENT01' }), state: { form: 'transaction', serverState: 0, rest: writeTransactionRest({ syncLevel: 1 }, CP037) } };
    const ackBytes = ref.encodeOtmaMessage(ack as ref.OtmaMessage);
    expect(toHex(encodeOtmaMessage(ack))).toBe(toHex(ackBytes));
    expect(isDeepStrictEqual(decodeOtmaMessage(ackBytes), ref.decodeOtmaMessage(ackBytes))).toBe(true);
  });
});

describe('otmaSingleControl', () => {
  it('is otmaControl for the same fields, with the same field order', () => {
    const fields = { messageType: 0x80, responseFlags: 0x40, commitConfirmation: 0x20, commandType: 0x3c, processingFlags: 0x08, tpipe: 'TPIPE01', sendSequence: 7, reasonCode: 3 };
    const a = otmaSingleControl(0x80, 0x40, 0x20, 0x3c, 0x08, 'TPIPE01', 7, 3);
    const b = otmaControl(fields);
    expect(a).toEqual(b);
    expect(Object.keys(a)).toEqual(Object.keys(b));
    expect(otmaSingleControl(1, 0, 0, 0, 0, 'T', 1)).toEqual(otmaControl({ messageType: 1, tpipe: 'T', sendSequence: 1 }));
  });
});
