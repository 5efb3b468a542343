import { describe, expect, it } from 'vitest';
import { compileCopybook, type CompileOptions, CopybookErrorCode } from '../src/index.js';
import { hex, toHex } from './helpers.js';

/** A one-field record `01 R. 05 F <clauses>.` */
function field(clauses: string, options: CompileOptions = {}) {
  const book = compileCopybook(`01 R.\n   05 F ${clauses}.`, options);
  return {
    book,
    enc: (v: unknown): string => toHex(book.encode({ F: v })),
    dec: (h: string): unknown => book.decode(hex(h))['F'],
  };
}

describe('zoned decimal (USAGE DISPLAY)', () => {
  it('unsigned: zone F on every digit', () => {
    const f = field('PIC 9(3)');
    expect(f.enc(123)).toBe('F1F2F3');
    expect(f.enc(7)).toBe('F0F0F7');
    expect(f.dec('F0F4F2')).toBe(42);
  });

  it('signed trailing overpunch: C positive, D negative', () => {
    const f = field('PIC S9(3)');
    expect(f.enc(123)).toBe('F1F2C3');
    expect(f.enc(-123)).toBe('F1F2D3');
    expect(f.enc(0)).toBe('F0F0C0');
    expect(f.dec('F1F2D3')).toBe(-123);
    expect(f.dec('F1F2C3')).toBe(123);
    expect(f.dec('F1F2F3')).toBe(123); // F (unsigned form) reads as positive
    expect(f.dec('F1F2B3')).toBe(-123); // B is an alternative minus
    expect(f.dec('F0F0D0')).toBe(0); // negative zero reads as 0, not -0
    expect(Object.is(f.dec('F0F0D0'), -0)).toBe(false);
  });

  it('SIGN LEADING overpunch and SEPARATE characters', () => {
    expect(field('PIC S9(3) SIGN LEADING').enc(-123)).toBe('D1F2F3');
    expect(field('PIC S9(3) SIGN IS LEADING').dec('C1F2F3')).toBe(123);
    const ts = field('PIC S9(3) SIGN TRAILING SEPARATE CHARACTER');
    expect(ts.book.size).toBe(4);
    expect(ts.enc(-123)).toBe('F1F2F360'); // '-' is X'60' in CP037
    expect(ts.dec('F0F0F54E')).toBe(5); // '+' is X'4E'
    const ls = field('PIC S9(3) LEADING SEPARATE');
    expect(ls.enc(5)).toBe('4EF0F0F5');
    expect(() => ls.dec('40F0F0F5')).toThrow(expect.objectContaining({ code: CopybookErrorCode.INVALID_SIGN, details: expect.objectContaining({ field: 'R.F', offset: 0 }) }));
  });

  it('implied decimal point V as exact decimals', () => {
    const f = field('PIC S9(3)V99');
    expect(f.enc(-1.5)).toBe('F0F0F1F5D0');
    expect(f.enc('12.34')).toBe('F0F1F2F3C4');
    expect(f.enc(0.07)).toBe('F0F0F0F0C7');
    expect(f.dec('F9F9F9F9C9')).toBe(999.99);
    expect(f.dec('F0F0F0F1D0')).toBe(-0.1);
  });

  it('rejects non-digits, naming field and offset', () => {
    const f = field('PIC 9(3)');
    expect(() => f.dec('F140F3')).toThrow(expect.objectContaining({ code: CopybookErrorCode.INVALID_ZONED_DIGIT, details: expect.objectContaining({ field: 'R.F', offset: 1, byte: 0x40 }) }));
    expect(() => f.dec('F1F2D3')).toThrow(expect.objectContaining({ code: CopybookErrorCode.INVALID_ZONED_DIGIT })); // minus in an unsigned field
    expect(() => field('PIC S9(3)').dec('F1F2E3')).not.toThrow(); // E is an alternative plus
    expect(() => field('PIC S9(3)').dec('F1F293')).toThrow(expect.objectContaining({ code: CopybookErrorCode.INVALID_ZONED_DIGIT }));
  });

  it('rejects values that do not fit the PICTURE', () => {
    const f = field('PIC S9(3)V99');
    expect(() => f.enc(1000)).toThrow(expect.objectContaining({ code: CopybookErrorCode.VALUE_TOO_LARGE }));
    expect(() => f.enc(1.234)).toThrow(expect.objectContaining({ code: CopybookErrorCode.VALUE_NOT_REPRESENTABLE }));
    expect(() => f.enc(0.1 + 0.2)).toThrow(expect.objectContaining({ code: CopybookErrorCode.VALUE_NOT_REPRESENTABLE }));
    expect(() => field('PIC 9(3)').enc(-1)).toThrow(expect.objectContaining({ code: CopybookErrorCode.VALUE_NOT_REPRESENTABLE }));
    expect(() => f.enc('abc')).toThrow(expect.objectContaining({ code: CopybookErrorCode.INVALID_VALUE }));
    expect(() => f.enc({})).toThrow(expect.objectContaining({ code: CopybookErrorCode.INVALID_VALUE }));
    expect(() => f.enc(Number.NaN)).toThrow(expect.objectContaining({ code: CopybookErrorCode.INVALID_VALUE }));
    expect(f.enc('12.500')).toBe('F0F1F2F5C0'); // trailing zeros beyond the scale are fine
  });

  it('P scaling positions', () => {
    const right = field('PIC 9(3)PP'); // value = digits × 100
    expect(right.book.size).toBe(3);
    expect(right.enc(12300)).toBe('F1F2F3');
    expect(right.dec('F1F2F3')).toBe(12300);
    expect(() => right.enc(12345)).toThrow(expect.objectContaining({ code: CopybookErrorCode.VALUE_NOT_REPRESENTABLE }));
    const left = field('PIC VPP9'); // .00d
    expect(left.enc(0.005)).toBe('F5');
    expect(left.dec('F7')).toBe(0.007);
  });

  it('BLANK WHEN ZERO', () => {
    const f = field('PIC 9(3) BLANK WHEN ZERO');
    expect(f.enc(0)).toBe('404040');
    expect(f.dec('404040')).toBe(0);
    expect(f.enc(5)).toBe('F0F0F5');
  });

  it('more than 15 digits come back as decimal strings (never float)', () => {
    const f = field('PIC S9(16)V99');
    expect(f.enc('-1234567890123456.78')).toBe('F1F2F3F4F5F6F7F8F9F0F1F2F3F4F5F6F7D8');
    expect(f.dec('F1F2F3F4F5F6F7F8F9F0F1F2F3F4F5F6F7D8')).toBe('-1234567890123456.78');
    expect(f.dec('F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0C5')).toBe('0.05');
  });
});

describe('packed decimal (COMP-3 / PACKED-DECIMAL)', () => {
  it('odd digit count: sign in the last nibble, C + / D - / F unsigned', () => {
    const s = field('PIC S9(5) COMP-3');
    expect(s.book.size).toBe(3);
    expect(s.enc(12345)).toBe('12345C');
    expect(s.enc(-12345)).toBe('12345D');
    expect(s.dec('00001D')).toBe(-1);
    expect(s.dec('12345F')).toBe(12345); // F: positive
    expect(s.dec('12345A')).toBe(12345); // A, E: alternative plus
    expect(s.dec('12345B')).toBe(-12345); // B: alternative minus
    const u = field('PIC 9(5) PACKED-DECIMAL');
    expect(u.enc(12345)).toBe('12345F');
  });

  it('even digit count: a leading zero pad nibble', () => {
    const f = field('PIC S9(4) COMP-3');
    expect(f.book.size).toBe(3);
    expect(f.enc(1234)).toBe('01234C');
    expect(f.dec('09999D')).toBe(-9999);
    expect(() => f.dec('10000C')).toThrow(expect.objectContaining({ code: CopybookErrorCode.INVALID_PACKED_DIGIT }));
  });

  it('scaled: S9(7)V99 COMP-3', () => {
    const f = field('PIC S9(7)V99 COMP-3');
    expect(f.enc(-12345.67)).toBe('001234567D');
    expect(f.dec('001234567D')).toBe(-12345.67);
    expect(f.dec('000000005C')).toBe(0.05);
  });

  it('invalid sign nibble and digit nibble name the field', () => {
    const f = field('PIC S9(5) COMP-3');
    expect(() => f.dec('123456')).toThrow(expect.objectContaining({ code: CopybookErrorCode.INVALID_PACKED_SIGN, details: expect.objectContaining({ field: 'R.F', offset: 2 }) }));
    expect(() => f.dec('1A345C')).toThrow(expect.objectContaining({ code: CopybookErrorCode.INVALID_PACKED_DIGIT, details: expect.objectContaining({ field: 'R.F', offset: 0 }) }));
    expect(() => field('PIC 9(5) COMP-3').dec('12345D')).toThrow(expect.objectContaining({ code: CopybookErrorCode.INVALID_PACKED_SIGN }));
    expect(() => f.enc(123456)).toThrow(expect.objectContaining({ code: CopybookErrorCode.VALUE_TOO_LARGE }));
  });

  it('18 and 31 digits stay exact', () => {
    const f = field('PIC S9(18) COMP-3');
    expect(f.book.size).toBe(10);
    expect(f.enc('123456789012345678')).toBe('0123456789012345678C');
    expect(f.dec('0123456789012345678D')).toBe('-123456789012345678');
    const g = field('PIC S9(29)V99 COMP-3');
    expect(g.book.size).toBe(16);
    const max = '99999999999999999999999999999.99';
    expect(f.enc(123n)).toBe('0000000000000000123C');
    expect(g.dec(g.enc(max))).toBe(max);
    expect(g.enc(`-${max}`)).toBe(`${'9'.repeat(31)}D`);
  });
});

describe('binary (COMP / COMP-4 / BINARY / COMP-5)', () => {
  it('halfword, fullword and doubleword sizes from the digits', () => {
    expect(field('PIC S9(4) COMP').book.size).toBe(2);
    expect(field('PIC S9(5) COMP').book.size).toBe(4);
    expect(field('PIC S9(9) BINARY').book.size).toBe(4);
    expect(field('PIC S9(10) COMP-4').book.size).toBe(8);
    expect(field('PIC 9(18) COMP').book.size).toBe(8);
  });

  it('signed halfword / fullword / doubleword, big-endian two\'s complement', () => {
    expect(field('PIC S9(4) COMP').enc(-1)).toBe('FFFF');
    expect(field('PIC S9(4) COMP').enc(1234)).toBe('04D2');
    expect(field('PIC S9(9) COMP').enc(123456789)).toBe('075BCD15');
    expect(field('PIC S9(9) COMP').enc(-2)).toBe('FFFFFFFE');
    expect(field('PIC S9(9) COMP').dec('80000000')).toBe(-2147483648); // decode never truncates
    expect(field('PIC S9(18) COMP').enc(-1)).toBe('FFFFFFFFFFFFFFFF');
    expect(field('PIC S9(18) COMP').dec('FFFFFFFFFFFFFFFF')).toBe('-1'); // 18 digits: string in auto mode
    expect(field('PIC S9(15) COMP').dec('FFFFFFFFFFFFFFFE')).toBe(-2);
  });

  it('unsigned halfword / fullword / doubleword', () => {
    expect(field('PIC 9(4) COMP').enc(9999)).toBe('270F');
    expect(field('PIC 9(9) COMP').dec('FFFFFFFF')).toBe(4294967295);
    expect(field('PIC 9(18) COMP').enc('999999999999999999')).toBe('0DE0B6B3A763FFFF');
    expect(field('PIC 9(18) COMP').dec('FFFFFFFFFFFFFFFF')).toBe('18446744073709551615');
    expect(() => field('PIC 9(4) COMP').enc(-1)).toThrow(expect.objectContaining({ code: CopybookErrorCode.VALUE_NOT_REPRESENTABLE }));
  });

  it('TRUNC(STD) limits COMP to the PICTURE; COMP-5 and trunc:bin use the whole halfword', () => {
    expect(() => field('PIC S9(4) COMP').enc(10000)).toThrow(expect.objectContaining({ code: CopybookErrorCode.VALUE_TOO_LARGE, details: expect.objectContaining({ field: 'R.F' }) }));
    expect(field('PIC S9(4) COMP-5').enc(32767)).toBe('7FFF');
    expect(field('PIC S9(4) COMP-5').enc(-32768)).toBe('8000');
    expect(() => field('PIC S9(4) COMP-5').enc(32768)).toThrow(expect.objectContaining({ code: CopybookErrorCode.VALUE_TOO_LARGE }));
    expect(field('PIC 9(4) COMP-5').enc(65535)).toBe('FFFF');
    expect(field('PIC S9(4) COMP', { trunc: 'bin' }).enc(32767)).toBe('7FFF');
    expect(field('PIC S9(18) COMP-5').enc('-9223372036854775808')).toBe('8000000000000000');
    expect(() => field('PIC S9(18) COMP-5').enc('9223372036854775808')).toThrow(expect.objectContaining({ code: CopybookErrorCode.VALUE_TOO_LARGE }));
  });

  it('scaled binary', () => {
    const f = field('PIC S9(2)V99 COMP'); // 4 digits: halfword
    expect(f.enc(-1.25)).toBe('FF83');
    expect(field('PIC S9(3)V99 COMP').enc(-1.25)).toBe('FFFFFF83'); // 5 digits: fullword
    expect(f.dec('FF83')).toBe(-1.25);
  });
});

describe('number representations', () => {
  it("numbers: 'string' gives decimal strings with the PICTURE's scale", () => {
    const f = field('PIC S9(3)V99 COMP-3', { numbers: 'string' });
    expect(f.dec('01250D')).toBe('-12.50');
    expect(f.dec('00000C')).toBe('0.00');
    expect(field('PIC 9(3)', { numbers: 'string' }).dec('F0F4F2')).toBe('42');
  });

  it("numbers: 'bigint' gives bigint integers and strings for scaled values", () => {
    expect(field('PIC S9(18) COMP', { numbers: 'bigint' }).dec('FFFFFFFFFFFFFFFF')).toBe(-1n);
    expect(field('PIC S9(4) COMP', { numbers: 'bigint' }).dec('0005')).toBe(5n);
    expect(field('PIC 9(3)PP', { numbers: 'bigint' }).dec('F1F2F3')).toBe(12300n);
    expect(field('PIC S9(3)V9 COMP-3', { numbers: 'bigint' }).dec('01234D')).toBe('-123.4');
  });

  it('encode accepts numbers, decimal strings, exponent strings and bigints', () => {
    const f = field('PIC S9(5)V99 COMP-3');
    expect(f.enc('-12.5')).toBe('0001250D');
    expect(f.enc('1.25e2')).toBe('0012500C');
    expect(f.enc(125n)).toBe('0012500C');
    expect(f.enc('+.5')).toBe('0000050C');
  });
});

describe('character fields', () => {
  it('JUSTIFIED RIGHT pads on the left and trims leading blanks', () => {
    const f = field('PIC X(5) JUSTIFIED RIGHT');
    expect(f.enc('AB')).toBe('404040C1C2');
    expect(f.dec('404040C1C2')).toBe('AB');
  });

  it('stringOverflow: truncate', () => {
    expect(field('PIC X(3)', { stringOverflow: 'truncate' }).enc('ABCD')).toBe('C1C2C3');
    expect(() => field('PIC X(3)').enc('ABCD')).toThrow(expect.objectContaining({ code: CopybookErrorCode.STRING_TOO_LONG }));
    expect(() => field('PIC X(3)').enc(12)).toThrow(expect.objectContaining({ code: CopybookErrorCode.INVALID_VALUE }));
  });

  it('trimStrings: false keeps the blanks; low-values are kept as U+0000', () => {
    expect(field('PIC X(3)', { trimStrings: false }).dec('C140 40')).toBe('A  ');
    expect(field('PIC X(3)').dec('C10040')).toBe('A\u0000');
  });

  it('numeric-edited pictures are display text', () => {
    const f = field('PIC ZZ,ZZ9.99-');
    expect(f.book.size).toBe(10);
    expect(f.book.fields[1]!.kind).toBe('edited');
    expect(f.dec('40F16BF2F3F44BF5F060')).toBe(' 1,234.50-');
    expect(f.enc(' 1,234.50-')).toBe('40F16BF2F3F44BF5F060');
  });

  it('code pages: cp1140 euro sign and latin1 (ASCII) zoned digits', () => {
    expect(field('PIC X(2)', { codePage: 'cp1140' }).enc('€1')).toBe('9FF1');
    const a = field('PIC S9(3)', { codePage: 'latin1' });
    expect(a.enc(123)).toBe('313233');
    expect(a.enc(-123)).toBe('313273');
    expect(a.dec('313273')).toBe(-123);
  });
});
