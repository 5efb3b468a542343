/**
 * Exact decimal helpers. A numeric COBOL value is handled as its *unscaled* integer (the digits as
 * stored, without the implied point): a JS number while it is a safe integer, a bigint beyond.
 */

/** 10^0 … 10^22, all exact doubles. */
export const POW10: readonly number[] = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** Why a value cannot be turned into an unscaled integer. */
export type DecimalProblem = { problem: 'type' | 'syntax' | 'scale' | 'huge'; detail: string };

const DEC = /^\s*([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?\s*$/;

/** Normalise a decimal digit string: no leading zeros ("0" for zero). */
function stripZeros(d: string): string {
  let i = 0;
  while (i < d.length - 1 && d.charCodeAt(i) === 48) i++;
  return d.slice(i);
}

function fromDigits(neg: boolean, digits: string): number | bigint {
  const d = stripZeros(digits);
  if (d.length <= 15) {
    const n = Number(d);
    return neg && n !== 0 ? -n : n;
  }
  const b = BigInt(d);
  return neg ? -b : b;
}

/**
 * Unscaled integer of `value` at `scale` (value × 10^scale), exactly, or a problem: more decimal
 * places than the scale allows is `scale`; a value that is not a number/decimal string/bigint is
 * `type` or `syntax`.
 */
export function toUnscaled(value: unknown, scale: number): number | bigint | DecimalProblem {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { problem: 'type', detail: `${value} is not a finite number` };
    if (scale === 0 && Number.isSafeInteger(value)) return value === 0 ? 0 : value;
    if (scale > 0 && scale <= 22) {
      const u = Math.round(value * POW10[scale]!);
      if (Number.isSafeInteger(u) && u / POW10[scale]! === value) return u === 0 ? 0 : u;
    }
    // Shortest round-trip text of the double, then exact decimal arithmetic.
    return toUnscaled(String(value), scale);
  }
  if (typeof value === 'bigint') {
    if (scale >= 0) return value * 10n ** BigInt(scale);
    const d = 10n ** BigInt(-scale);
    if (value % d !== 0n) return { problem: 'scale', detail: `${value} is not a multiple of ${d}` };
    return value / d;
  }
  if (typeof value !== 'string') return { problem: 'type', detail: `expected a number or a decimal string, got ${describeValue(value)}` };
  const m = DEC.exec(value);
  if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) return { problem: 'syntax', detail: `'${value}' is not a decimal number` };
  const neg = m[1] === '-';
  let int = m[2] ?? '';
  let frac = m[3] ?? '';
  const exp = m[4] === undefined ? 0 : Number(m[4]);
  if (exp > 0) {
    const take = frac.slice(0, exp);
    int += take.padEnd(exp, '0');
    frac = frac.slice(exp);
  } else if (exp < 0) {
    const n = -exp;
    const padded = int.padStart(n, '0');
    frac = padded.slice(padded.length - n) + frac;
    int = padded.slice(0, padded.length - n);
  }
  if (int.length > 400) return { problem: 'huge', detail: `'${value}' has too many digits` };
  if (scale >= 0) {
    const extra = frac.slice(scale);
    if (/[1-9]/.test(extra)) return { problem: 'scale', detail: `'${value}' has more than ${scale} decimal place${scale === 1 ? '' : 's'}` };
    return fromDigits(neg, int + frac.slice(0, scale).padEnd(scale, '0'));
  }
  const p = -scale;
  if (/[1-9]/.test(frac)) return { problem: 'scale', detail: `'${value}' must be an integer multiple of 10^${p}` };
  const tail = int.slice(Math.max(0, int.length - p));
  if (/[1-9]/.test(tail)) return { problem: 'scale', detail: `'${value}' must be a multiple of 10^${p} (PICTURE P positions)` };
  return fromDigits(neg, int.slice(0, Math.max(0, int.length - p)) || '0');
}

export function isProblem(v: number | bigint | DecimalProblem): v is DecimalProblem {
  return typeof v === 'object';
}

/** Decimal text of an unscaled magnitude given as digits, e.g. ("1250", 2, true) → "-12.50". */
export function formatDecimal(neg: boolean, digits: string, scale: number): string {
  let d = stripZeros(digits);
  const zero = d === '0';
  if (scale > 0) {
    if (d.length <= scale) d = d.padStart(scale + 1, '0');
    d = `${d.slice(0, d.length - scale)}.${d.slice(d.length - scale)}`;
  } else if (scale < 0 && !zero) d += '0'.repeat(-scale);
  return neg && !zero ? `-${d}` : d;
}

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
