/**
 * decode(encode(x)) = x for arbitrary valid values of generated copybooks, and arbitrary bytes only
 * ever give a value or a CopybookError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileCopybook, CopybookError } from '../src/index.js';

type Leaf =
  | { t: 'x'; len: number }
  | { t: 'num'; usage: 'DISPLAY' | 'COMP-3' | 'COMP' | 'COMP-5'; signed: boolean; int: number; frac: number; sign: '' | 'LEADING' | 'TRAILING SEPARATE' | 'LEADING SEPARATE' }
  | { t: 'float'; usage: 'COMP-1' | 'COMP-2' };
type Item = { leaf: Leaf; occurs: number } | { group: Leaf[]; occurs: number };
interface Book {
  items: Item[];
  odo: Leaf[] | null;
}

const leafArb: fc.Arbitrary<Leaf> = fc.oneof(
  fc.record({ t: fc.constant('x' as const), len: fc.integer({ min: 1, max: 12 }) }),
  fc
    .record({
      t: fc.constant('num' as const),
      usage: fc.constantFrom('DISPLAY' as const, 'COMP-3' as const, 'COMP' as const, 'COMP-5' as const),
      signed: fc.boolean(),
      int: fc.integer({ min: 0, max: 18 }),
      frac: fc.integer({ min: 0, max: 4 }),
      sign: fc.constantFrom('' as const, 'LEADING' as const, 'TRAILING SEPARATE' as const, 'LEADING SEPARATE' as const),
    })
    .map((l) => {
      let int = l.int;
      let frac = l.frac;
      if (int + frac === 0) int = 1;
      if (l.usage === 'COMP-5' && int + frac > 9) int = Math.max(0, 9 - frac) || 1;
      if (int + frac > 18) frac = 18 - int;
      return { ...l, int, frac, sign: l.usage === 'DISPLAY' && l.signed ? l.sign : ('' as const) };
    }),
  fc.record({ t: fc.constant('float' as const), usage: fc.constantFrom('COMP-1' as const, 'COMP-2' as const) }),
);

const bookArb: fc.Arbitrary<Book> = fc.record({
  items: fc.array(
    fc.oneof(
      fc.record({ leaf: leafArb, occurs: fc.constantFrom(1, 1, 2, 3) }),
      fc.record({ group: fc.array(leafArb, { minLength: 1, maxLength: 4 }), occurs: fc.constantFrom(1, 2) }),
    ),
    { minLength: 1, maxLength: 6 },
  ),
  odo: fc.option(fc.array(leafArb, { minLength: 1, maxLength: 3 }), { nil: null }),
});

function pic(l: Leaf): string {
  if (l.t === 'x') return `PIC X(${l.len})`;
  if (l.t === 'float') return l.usage;
  const p = `${l.signed ? 'S' : ''}9(${l.int || 1})${l.frac ? `V9(${l.frac})` : ''}`.replace('9(0)', '');
  const picStr = l.int === 0 ? `${l.signed ? 'S' : ''}V9(${l.frac})` : p;
  return `PIC ${picStr} ${l.usage}${l.sign ? ` SIGN ${l.sign}` : ''}`;
}

function source(b: Book): string {
  const lines = ['01 R.'];
  let n = 0;
  for (const it of b.items) {
    const occ = it.occurs > 1 ? ` OCCURS ${it.occurs}` : '';
    if ('leaf' in it) lines.push(`   05 F${n++} ${pic(it.leaf)}${occ}.`);
    else {
      lines.push(`   05 G${n++}${occ}.`);
      for (const l of it.group) lines.push(`      10 F${n++} ${pic(l)}.`);
    }
  }
  if (b.odo) {
    lines.push('   05 CNT PIC 9(2) COMP.');
    lines.push('   05 TAB OCCURS 0 TO 4 TIMES DEPENDING ON CNT.');
    for (const l of b.odo) lines.push(`      10 F${n++} ${pic(l)}.`);
  }
  return lines.join('\n');
}

/** A valid JSON value for a leaf: what decode must give back. */
function valueArb(l: Leaf): fc.Arbitrary<unknown> {
  if (l.t === 'x') {
    return fc.string({ unit: fc.constantFrom(...'ABCXYZabc0189 -./&$'.split('')), maxLength: l.len }).map((s) => s.trimEnd());
  }
  if (l.t === 'float') {
    if (l.usage === 'COMP-2') return fc.oneof(fc.constant(0), fc.double({ min: 1e-70, max: 1e70, noNaN: true }), fc.double({ min: -1e70, max: -1e-70, noNaN: true }));
    // Short HFP: values with at most 21 significant bits are always exact.
    return fc.tuple(fc.integer({ min: -(2 ** 21), max: 2 ** 21 }), fc.integer({ min: -30, max: 30 })).map(([m, e]) => (m === 0 ? 0 : m * 2 ** e));
  }
  const digits = l.int + l.frac;
  let max = 10n ** BigInt(digits) - 1n;
  let min = l.signed ? -max : 0n;
  if (l.usage === 'COMP-5') {
    const bits = BigInt((digits <= 4 ? 2 : digits <= 9 ? 4 : 8) * 8);
    max = l.signed ? 2n ** (bits - 1n) - 1n : 2n ** bits - 1n;
    min = l.signed ? -(2n ** (bits - 1n)) : 0n;
  }
  const rangeDigits = l.usage === 'COMP-5' ? max.toString().length : digits;
  return fc.bigInt({ min, max }).map((u) => {
    if (rangeDigits <= 15) return Number(u) / 10 ** l.frac;
    const neg = u < 0n;
    let d = (neg ? -u : u).toString().padStart(l.frac + 1, '0');
    if (l.frac) d = `${d.slice(0, d.length - l.frac)}.${d.slice(d.length - l.frac)}`;
    return neg ? `-${d}` : d;
  });
}

function objectArb(b: Book): fc.Arbitrary<Record<string, unknown>> {
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  let n = 0;
  for (const it of b.items) {
    let one: fc.Arbitrary<unknown>;
    if ('leaf' in it) one = valueArb(it.leaf);
    else {
      const g: Record<string, fc.Arbitrary<unknown>> = {};
      n++;
      for (const l of it.group) g[`F${n++}`] = valueArb(l);
      one = fc.record(g);
      shape[`G${n - it.group.length - 1}`] = it.occurs > 1 ? fc.array(one, { minLength: it.occurs, maxLength: it.occurs }) : one;
      continue;
    }
    shape[`F${n++}`] = it.occurs > 1 ? fc.array(one, { minLength: it.occurs, maxLength: it.occurs }) : one;
  }
  if (b.odo) {
    const g: Record<string, fc.Arbitrary<unknown>> = {};
    for (const l of b.odo) g[`F${n++}`] = valueArb(l);
    return fc.record(shape).chain((base) => fc.array(fc.record(g), { maxLength: 4 }).map((tab) => ({ ...base, CNT: tab.length, TAB: tab })));
  }
  return fc.record(shape);
}

describe('property: decode(encode(x)) = x', () => {
  it('for generated copybooks and values', () => {
    fc.assert(
      fc.property(
        bookArb.chain((b) => fc.tuple(fc.constant(b), objectArb(b), fc.constantFrom('cp037', 'cp1047', 'latin1'))),
        ([b, obj, page]) => {
          const book = compileCopybook(source(b), { codePage: page });
          const bytes = book.encode(obj);
          expect(bytes.length).toBeLessThanOrEqual(book.size);
          expect(bytes.length).toBeGreaterThanOrEqual(book.minSize);
          expect(book.decode(bytes)).toEqual(obj);
          // And the bytes are stable: encoding the decoded object again gives the same record.
          expect(book.encode(book.decode(bytes))).toEqual(bytes);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('arbitrary bytes give a value or a CopybookError, never another exception', () => {
    fc.assert(
      fc.property(bookArb, fc.uint8Array({ maxLength: 120 }), (b, junk) => {
        const book = compileCopybook(source(b));
        try {
          book.decode(junk, { allowTrailingBytes: true });
        } catch (e) {
          expect(e).toBeInstanceOf(CopybookError);
        }
      }),
      { numRuns: 150 },
    );
  });
});
