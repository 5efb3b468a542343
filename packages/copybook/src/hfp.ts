/**
 * IBM hexadecimal floating point (HFP), the format of COBOL COMP-1 (short, 4 bytes) and COMP-2
 * (long, 8 bytes) on z/Architecture — not IEEE 754.
 *
 *   bit 0      sign
 *   bits 1–7   characteristic: exponent of 16, excess 64
 *   the rest   fraction: 6 (short) or 14 (long) hex digits, value = 0.F × 16^(c − 64)
 *
 * Decoding: a short fraction (24 bits) is exact in a double; a long fraction (56 bits) is rounded
 * once, to nearest-even, which is the best a double can hold. Encoding a double into long HFP is
 * exact: a 53-bit significand shifted by 0–3 bits to reach a hex exponent fits in 56 bits. Encoding
 * into short HFP rounds the fraction to nearest, ties to even (our choice [INF]; IBM's LEDR/LEXR
 * instructions offer several modes). Values below the smallest normalised HFP number
 * (16^-65) encode as true zero; values of 16^63 or more cannot be encoded.
 */

const TWO_32 = 2 ** 32;
const dvScratch = new DataView(new ArrayBuffer(8));

/** Read an HFP number at `offset`: 4 bytes when `long` is false, 8 when true. */
export function readHfp(dv: DataView, offset: number, long: boolean): number {
  const w0 = dv.getUint32(offset);
  const negative = (w0 & 0x80000000) !== 0;
  const characteristic = (w0 >>> 24) & 0x7f;
  const hi = w0 & 0x00ffffff;
  let value: number;
  if (long) {
    const lo = dv.getUint32(offset + 4);
    // hi·2^32 is exact; adding lo rounds once (to nearest even) into the 53-bit significand.
    value = (hi * TWO_32 + lo) * 2 ** (4 * (characteristic - 64) - 56);
  } else {
    value = hi * 2 ** (4 * (characteristic - 64) - 24);
  }
  if (value === 0) return 0;
  return negative ? -value : value;
}

/** Why an HFP encode failed, or null on success. */
export type HfpProblem = 'not-finite' | 'overflow' | null;

/** Write `value` as HFP at `offset`. Returns a problem instead of throwing so callers name the field. */
export function writeHfp(dv: DataView, offset: number, value: number, long: boolean): HfpProblem {
  if (!Number.isFinite(value)) return 'not-finite';
  if (value === 0) {
    dv.setUint32(offset, 0);
    if (long) dv.setUint32(offset + 4, 0);
    return null;
  }
  dvScratch.setFloat64(0, value);
  const bitsHi = dvScratch.getUint32(0);
  const bitsLo = dvScratch.getUint32(4);
  const negative = bitsHi >>> 31 === 1;
  const biased = (bitsHi >>> 20) & 0x7ff;
  if (biased === 0) {
    // Subnormal doubles are far below HFP's range (16^-65 ≈ 5.4e-79): true zero.
    dv.setUint32(offset, 0);
    if (long) dv.setUint32(offset + 4, 0);
    return null;
  }
  // value = M × 2^b with M a 53-bit integer.
  const M = (bitsHi & 0xfffff) * TWO_32 + bitsLo + 2 ** 52;
  const b = biased - 1075;
  // Want value = F × 2^(4k − 56) with 2^52 ≤ F < 2^56 (first hex digit non-zero).
  const shift = (((b + 56) % 4) + 4) % 4;
  let k = (b + 56 - shift) / 4;
  const F = M * 2 ** shift; // exact: < 2^56 with at most 53 significant bits
  let hi: number;
  let lo = 0;
  if (long) {
    hi = Math.floor(F / TWO_32);
    lo = F - hi * TWO_32;
  } else {
    hi = Math.floor(F / TWO_32);
    const rest = F - hi * TWO_32;
    if (rest > 2 ** 31 || (rest === 2 ** 31 && (hi & 1) === 1)) hi++;
    if (hi === 0x1000000) {
      hi = 0x100000;
      k++;
    }
  }
  const characteristic = k + 64;
  if (characteristic > 127) return 'overflow';
  if (characteristic < 0) {
    dv.setUint32(offset, 0);
    if (long) dv.setUint32(offset + 4, 0);
    return null;
  }
  dv.setUint32(offset, ((negative ? 0x80 : 0) | characteristic) * 0x1000000 + hi);
  if (long) dv.setUint32(offset + 4, lo);
  return null;
}
