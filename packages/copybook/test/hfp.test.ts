import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileCopybook, CopybookErrorCode, readHfp, writeHfp } from '../src/index.js';
import { hex, toHex } from './helpers.js';

const book = compileCopybook(`
01 R.
   05 SHORT-F COMP-1.
   05 LONG-F  USAGE IS COMP-2.
`);
const enc = (s: number, l: number): string => toHex(book.encode({ SHORT_F: s, LONG_F: l }));

describe('COMP-1 / COMP-2: IBM hexadecimal floating point', () => {
  it('sizes: 4 and 8 bytes', () => {
    expect(book.size).toBe(12);
  });

  it('known values (characteristic excess 64, base 16)', () => {
    // 1.0 = 0.1(hex) × 16^1: characteristic 0x41, fraction 0x100000…
    expect(enc(1, 1)).toBe('41100000' + '4110000000000000');
    expect(enc(-1, -1)).toBe('C1100000' + 'C110000000000000');
    // 100 = 0x64 = 0.64(hex) × 16^2
    expect(enc(100, 100)).toBe('42640000' + '4264000000000000');
    // -118.625 = -0x76.A = -0.76A(hex) × 16^2
    expect(enc(-118.625, -118.625)).toBe('C276A000' + 'C276A00000000000');
    // 0.1 (the double) is 0x1.999999999999Ap-4 = 0.1999999999999A(hex) × 16^0: exact in long HFP
    expect(enc(0, 0.1)).toBe('00000000' + '401999999999999A');
    // 0.5 = 0.8(hex) × 16^0
    expect(enc(0.5, 0.5)).toBe('40800000' + '4080000000000000');
  });

  it('decodes the same bytes back', () => {
    expect(book.decode(hex('41100000', '4110000000000000'))).toEqual({ SHORT_F: 1, LONG_F: 1 });
    expect(book.decode(hex('C276A000', '401999999999999A'))).toEqual({ SHORT_F: -118.625, LONG_F: 0.1 });
    expect(book.decode(hex('00000000', '8000000000000000'))).toEqual({ SHORT_F: 0, LONG_F: 0 });
  });

  it('short HFP rounds the fraction to nearest (0.1 → 0x4019999A)', () => {
    expect(enc(0.1, 0).slice(0, 8)).toBe('4019999A');
  });

  it('overflow and non-finite values are coded errors naming the field', () => {
    expect(() => book.encode({ LONG_F: 1e76 })).toThrow(expect.objectContaining({ code: CopybookErrorCode.VALUE_TOO_LARGE, details: expect.objectContaining({ field: 'R.LONG-F' }) }));
    expect(() => book.encode({ LONG_F: Number.POSITIVE_INFINITY })).toThrow(expect.objectContaining({ code: CopybookErrorCode.INVALID_VALUE }));
    expect(() => book.encode({ SHORT_F: 'x' })).toThrow(expect.objectContaining({ code: CopybookErrorCode.INVALID_VALUE }));
    // Below 16^-65: true zero.
    expect(enc(0, 1e-300)).toBe('00000000' + '0000000000000000');
  });

  it('long HFP holds every double in range exactly (property)', () => {
    const dv = new DataView(new ArrayBuffer(8));
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e70, max: 1e70 }), (x) => {
        if (x !== 0 && Math.abs(x) < 1e-75) return true;
        expect(writeHfp(dv, 0, x, true)).toBeNull();
        expect(readHfp(dv, 0, true)).toBe(x === 0 ? 0 : x);
      }),
      { numRuns: 200 },
    );
  });

  it('short HFP keeps 24-bit fractions exactly (property)', () => {
    const dv = new DataView(new ArrayBuffer(4));
    fc.assert(
      fc.property(fc.integer({ min: -0xffffff, max: 0xffffff }), fc.integer({ min: -40, max: 40 }), (m, e) => {
        const x = m * 2 ** e;
        expect(writeHfp(dv, 0, x, false)).toBeNull();
        // A 24-bit integer may need up to 27 bits after hex normalisation; compare with the rounded value.
        const back = readHfp(dv, 0, false);
        expect(Math.abs(back - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -20);
      }),
      { numRuns: 200 },
    );
  });
});
