/**
 * PICTURE strings. `analysePicture('S9(5)V99')` → category numeric, 7 digits, scale 2, signed.
 */

/** What a PICTURE describes. */
export type PictureCategory = 'alphabetic' | 'alphanumeric' | 'alphanumeric-edited' | 'numeric' | 'numeric-edited';

/** The facts of one PICTURE string. */
export interface Picture {
  /** The string as written. */
  readonly source: string;
  /** The string with every repetition `x(n)` expanded, upper case. */
  readonly expanded: readonly string[];
  readonly category: PictureCategory;
  /** Character positions when USAGE DISPLAY (S and V and P take none; CR/DB take two). */
  readonly displayLength: number;
  /** Numeric only: number of digit positions (the 9s). */
  readonly digits: number;
  /**
   * Numeric only: decimal places. Positive = digits right of the implied point (V, or P on the
   * left); negative = scaling positions P on the right (value = digits × 10^-scale).
   */
  readonly scale: number;
  /** Numeric only: the PICTURE starts with S. */
  readonly signed: boolean;
}

/** A PICTURE problem; the caller turns it into a CopybookError with the line number. */
export class PictureProblem extends Error {}

const SYMBOLS = new Set(['A', 'X', '9', 'S', 'V', 'P', 'Z', '*', 'B', '0', '/', ',', '.', '+', '-', 'CR', 'DB', '$', 'E', 'N', 'G', '1', 'U']);
const EDIT = new Set(['Z', '*', 'B', '0', '/', ',', '.', '+', '-', 'CR', 'DB', '$', 'E']);

/** Expand and classify a PICTURE string. Throws PictureProblem when it is not valid. */
export function analysePicture(source: string): Picture {
  const s = source.toUpperCase();
  if (s.length === 0) throw new PictureProblem('empty PICTURE string');
  if (s.length > 50) throw new PictureProblem(`PICTURE string '${source}' is longer than 50 characters`);
  const expanded: string[] = [];
  let i = 0;
  while (i < s.length) {
    let sym = s[i]!;
    if ((sym === 'C' && s[i + 1] === 'R') || (sym === 'D' && s[i + 1] === 'B')) {
      sym += s[i + 1];
      i += 2;
    } else i++;
    if (!SYMBOLS.has(sym)) throw new PictureProblem(`'${sym}' is not a PICTURE symbol in '${source}'`);
    let count = 1;
    if (s[i] === '(') {
      const close = s.indexOf(')', i);
      if (close < 0) throw new PictureProblem(`unclosed '(' in PICTURE '${source}'`);
      const num = s.slice(i + 1, close);
      if (!/^\d{1,7}$/.test(num) || Number(num) === 0) throw new PictureProblem(`repetition '(${num})' in PICTURE '${source}' must be a positive integer`);
      count = Number(num);
      i = close + 1;
    }
    if (count > 1_000_000) throw new PictureProblem(`repetition in PICTURE '${source}' is too large`);
    for (let k = 0; k < count; k++) expanded.push(sym);
  }
  const has = (sym: string): boolean => expanded.includes(sym);
  if (has('N') || has('G') || has('U')) throw new PictureProblem(`national/DBCS/UTF-8 PICTURE '${source}' is not supported`);
  if (has('1')) throw new PictureProblem(`boolean PICTURE '${source}' is not supported`);
  const count = (sym: string): number => expanded.filter((e) => e === sym).length;

  const onlyNumeric = expanded.every((e) => e === '9' || e === 'S' || e === 'V' || e === 'P');
  if (onlyNumeric) {
    const sCount = count('S');
    if (sCount > 1 || (sCount === 1 && expanded[0] !== 'S')) throw new PictureProblem(`S must appear once, first, in PICTURE '${source}'`);
    const body = sCount ? expanded.slice(1) : expanded;
    if (count('V') > 1) throw new PictureProblem(`V appears more than once in PICTURE '${source}'`);
    const digits = count('9');
    if (digits === 0) throw new PictureProblem(`numeric PICTURE '${source}' has no digit position 9`);
    const pCount = count('P');
    let scale: number;
    const v = body.indexOf('V');
    if (pCount === 0) {
      scale = v < 0 ? 0 : body.length - v - 1;
    } else {
      // The Ps must be one block, at the left or right end of the digits (V may touch it).
      const noV = body.filter((e) => e !== 'V');
      const firstP = noV.indexOf('P');
      const lastP = noV.lastIndexOf('P');
      if (lastP - firstP + 1 !== pCount) throw new PictureProblem(`P positions must be contiguous in PICTURE '${source}'`);
      if (firstP === 0) {
        // PP99 or VPP99: the point is left of the Ps.
        if (v > 0) throw new PictureProblem(`V must precede leading P positions in PICTURE '${source}'`);
        scale = pCount + digits;
      } else if (lastP === noV.length - 1) {
        // 99PP or 99PPV: the point is right of the Ps.
        if (v >= 0 && v !== body.length - 1) throw new PictureProblem(`V must follow trailing P positions in PICTURE '${source}'`);
        scale = -pCount;
      } else throw new PictureProblem(`P positions must be at the left or right end of PICTURE '${source}'`);
    }
    if (digits + pCount > 31) throw new PictureProblem(`PICTURE '${source}' has more than 31 digit positions`);
    return { source, expanded, category: 'numeric', displayLength: digits, digits, scale, signed: sCount === 1 };
  }
  if (has('S') || has('V') || has('P')) {
    if (expanded.some((e) => e === 'A' || e === 'X')) throw new PictureProblem(`PICTURE '${source}' mixes character (A/X) and numeric (S/V/P) symbols`);
  }
  const displayLength = expanded.reduce((n, e) => n + (e === 'CR' || e === 'DB' ? 2 : e === 'S' || e === 'V' || e === 'P' ? 0 : 1), 0);
  const charOnly = expanded.every((e) => e === 'A' || e === 'X' || e === '9');
  if (charOnly) {
    const category = expanded.every((e) => e === 'A') ? 'alphabetic' : 'alphanumeric';
    return { source, expanded, category, displayLength, digits: 0, scale: 0, signed: false };
  }
  const hasX = expanded.some((e) => e === 'A' || e === 'X');
  if (hasX) {
    if (expanded.some((e) => EDIT.has(e) && e !== 'B' && e !== '0' && e !== '/')) throw new PictureProblem(`PICTURE '${source}' mixes character symbols with numeric editing symbols`);
    return { source, expanded, category: 'alphanumeric-edited', displayLength, digits: 0, scale: 0, signed: false };
  }
  return { source, expanded, category: 'numeric-edited', displayLength, digits: 0, scale: 0, signed: false };
}
