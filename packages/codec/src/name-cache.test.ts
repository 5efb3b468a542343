/**
 * The 8-byte name cache behind `readCharField` (layout.ts) against a naive reading of the padding rule,
 * and the pooled outputs of `writeTransactionRest` / `encodeXcfFrame`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CP037, getCodePage, LATIN1, registerCodePage, type CodePage } from './ebcdic.js';
import { readCharField } from './layout.js';
import { OTMA_TRANSACTION_FIELDS_LAYOUT, readTransactionRest, writeTransactionRest } from './otma-state.js';
import { toHex } from './testing/replies.js';

/** The documented rule, written plainly: trailing X'00' / blank (and X'20' on EBCDIC pages) are padding; on an ASCII page a trailing '@' is data unless the field is all padding. */
function naiveRead(b: Uint8Array, page: CodePage): string {
  const pads = page.ebcdic ? [0x00, 0x40, 0x20] : [0x00, 0x20];
  let end = b.length;
  while (end > 0 && pads.includes(b[end - 1]!)) end--;
  if (!page.ebcdic && end > 0 && b[end - 1] === 0x40 && b.subarray(0, end).every((x) => x === 0x40 || x === 0x00 || x === 0x20)) return '';
  let s = '';
  for (let i = 0; i < end; i++) s += page.chars[b[i]!];
  return s;
}

const PAGES: CodePage[] = [CP037, LATIN1, getCodePage('cp500'), getCodePage('cp1140')];

const fieldArb = fc.oneof(
  fc.uint8Array({ minLength: 8, maxLength: 8 }),
  fc.tuple(fc.uint8Array({ minLength: 0, maxLength: 8 }), fc.constantFrom(0x00, 0x20, 0x40)).map(([head, pad]) => {
    const b = new Uint8Array(8).fill(pad);
    b.set(head.subarray(0, 8));
    return b;
  }),
);

describe('readCharField name cache (8-byte fields)', () => {
  it('reads what the padding rule says, on every page, first read and cached read alike', () => {
    fc.assert(
      fc.property(fieldArb, fc.nat(7), (field, at) => {
        const buf = new Uint8Array(at + 8 + 3).fill(0x5a);
        buf.set(field, at);
        for (const page of PAGES) {
          const want = naiveRead(field, page);
          expect(readCharField(buf, at, 8, page)).toBe(want);
          expect(readCharField(buf, at, 8, page)).toBe(want);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('stays right through collisions and evictions (5000 distinct names, read twice)', () => {
    const names: Uint8Array[] = [];
    for (let i = 0; i < 5000; i++) names.push(CP037.encode(`N${i.toString(36).toUpperCase()}`.padEnd(8)));
    for (let pass = 0; pass < 2; pass++) for (const n of names) expect(readCharField(n, 0, 8, CP037)).toBe(naiveRead(n, CP037));
  });

  it('keys the cache by page: the same bytes read per page, pages interleaved', () => {
    const b = CP037.encode('CLIENT01');
    for (let i = 0; i < 3; i++) {
      expect(readCharField(b, 0, 8, CP037)).toBe('CLIENT01');
      expect(readCharField(b, 0, 8, LATIN1)).toBe(naiveRead(b, LATIN1));
    }
    const odd = registerCodePage('imsplex-test-cache', Array.from({ length: 256 }, (_, i) => (i === 0xc3 ? 0x5a : i)), { ebcdic: false });
    expect(readCharField(b, 0, 8, odd)).toBe(naiveRead(b, odd));
  });
});

describe('pooled outputs', () => {
  it('the transaction block writer writes every byte: into poisoned memory it gives writeTransactionRest bytes', () => {
    const cases = [{}, { syncFlags: 0x40, syncLevel: 1, ltermOverride: 'LTERM1' }, { mapName: 'IVTCVMO', serverToken: Uint8Array.of(1, 2, 3), contextId: new Uint8Array(16).fill(7) }];
    for (const v of cases) {
      const poisoned = new Uint8Array(OTMA_TRANSACTION_FIELDS_LAYOUT.size).fill(0xee);
      OTMA_TRANSACTION_FIELDS_LAYOUT.write(
        { syncFlags: v.syncFlags ?? 0, syncLevel: v.syncLevel ?? 0, mapName: v.mapName ?? '', serverToken: v.serverToken ?? new Uint8Array(16), correlator: new Uint8Array(16), contextId: v.contextId ?? new Uint8Array(16), ltermOverride: v.ltermOverride ?? '' },
        poisoned,
        0,
        CP037,
      );
      const rest = writeTransactionRest(v, CP037);
      expect(rest.length).toBe(66);
      expect(toHex(rest)).toBe(toHex(poisoned));
      expect(readTransactionRest(rest, CP037).ltermOverride).toBe(v.ltermOverride ?? '');
    }
  });

  it('successive transaction blocks do not share bytes', () => {
    const a = writeTransactionRest({ ltermOverride: 'AAAA' }, CP037);
    const b = writeTransactionRest({ ltermOverride: 'BBBB' }, CP037);
    a.fill(0xff);
    expect(readTransactionRest(b, CP037).ltermOverride).toBe('BBBB');
  });
});
