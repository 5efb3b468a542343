/**
 * IRM_TIMER byte ⇄ duration (spec ims-connect-protocol.md §4).
 *
 * | code          | step   | time                                   |
 * |---------------|--------|----------------------------------------|
 * | X'00'         | —      | default (`TIMEOUT=` etc.)              |
 * | X'01'–X'19'   | 10 ms  | 10 ms … 250 ms                         |
 * | X'1A'–X'27'   | 50 ms  | 300 ms … 950 ms                        |
 * | X'28'–X'63'   | 1 s    | 1 s … 60 s                             |
 * | X'64'–X'9E'   | 1 min  | 2 min … 60 min                         |
 * | X'E9'         | —      | NO_WAIT                                |
 * | X'FF'         | —      | wait forever                           |
 * | anything else | —      | invalid: the default applies (RC 36)   |
 */

/** IRM_TIMER special codes. */
export const IrmTimer = {
  /** Use the default wait. */
  DEFAULT: 0x00,
  /** `C'Z'`: do not wait for IMS output. */
  NO_WAIT: 0xe9,
  /** Wait forever (meant for RESUME TPIPE AUTO). */
  FOREVER: 0xff,
  /** Largest code of the 10 ms range. */
  LAST_10MS: 0x19,
  /** Largest code of the 50 ms range. */
  LAST_50MS: 0x27,
  /**
   * Largest code of the 1 s range (X'63' = 60 s). IBM's summary also calls X'63' the first minute
   * code (60 s = 1 min); [INF] both readings give the same duration.
   */
  LAST_SECONDS: 0x63,
  /** Largest code of the 1 min range (60 min). */
  LAST_MINUTES: 0x9e,
} as const;

/** What an IRM_TIMER byte means. */
export type TimerValue =
  /** A wait of this many milliseconds. */
  | number
  /** X'00': use the default. */
  | 'default'
  /** X'E9': do not wait. */
  | 'nowait'
  /** X'FF': wait forever. */
  | 'forever'
  /** A code outside every range: IMS Connect uses the default and reports expiry as RC 36. */
  | 'invalid';

/** Decode an IRM_TIMER byte. */
export function irmTimerToMs(code: number): TimerValue {
  if (!Number.isInteger(code) || code < 0 || code > 0xff) return 'invalid';
  if (code === IrmTimer.DEFAULT) return 'default';
  if (code === IrmTimer.NO_WAIT) return 'nowait';
  if (code === IrmTimer.FOREVER) return 'forever';
  if (code <= IrmTimer.LAST_10MS) return code * 10;
  if (code <= IrmTimer.LAST_50MS) return 250 + (code - IrmTimer.LAST_10MS) * 50;
  if (code <= IrmTimer.LAST_SECONDS) return (code - 0x27) * 1000;
  if (code <= IrmTimer.LAST_MINUTES) return (code - 0x62) * 60_000;
  return 'invalid';
}

/** True when IMS Connect treats this IRM_TIMER byte as a valid explicit code (not default/invalid). */
export function isExplicitTimer(code: number): boolean {
  const v = irmTimerToMs(code);
  return v !== 'default' && v !== 'invalid';
}

/** Every code with a finite duration, ascending (the codes are monotonic in time). */
const FINITE: ReadonlyArray<readonly [code: number, ms: number]> = (() => {
  const out: Array<readonly [number, number]> = [];
  for (let c = 1; c <= IrmTimer.LAST_MINUTES; c++) {
    const ms = irmTimerToMs(c);
    if (typeof ms === 'number') out.push([c, ms]);
  }
  return out;
})();

/**
 * Choose the IRM_TIMER code for a wait. Numbers pick the code whose duration is nearest to `ms`
 * (ties go to the longer code, so a client never waits less than asked when exactly between two
 * steps); durations above 60 min clamp to X'9E' and durations ≤ 0 give X'E9' (no wait).
 * `'default'`, `'nowait'` and `'forever'` give X'00', X'E9' and X'FF'.
 */
export function msToIrmTimer(ms: number | 'default' | 'nowait' | 'forever'): number {
  if (ms === 'default') return IrmTimer.DEFAULT;
  if (ms === 'nowait') return IrmTimer.NO_WAIT;
  if (ms === 'forever') return IrmTimer.FOREVER;
  if (Number.isNaN(ms)) return IrmTimer.DEFAULT;
  if (ms <= 0) return IrmTimer.NO_WAIT;
  if (ms === Number.POSITIVE_INFINITY) return IrmTimer.FOREVER;
  let lo = 0;
  let hi = FINITE.length - 1;
  if (ms >= FINITE[hi]![1]) return FINITE[hi]![0];
  // binary search for the first entry with duration ≥ ms
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (FINITE[mid]![1] < ms) lo = mid + 1;
    else hi = mid;
  }
  const above = FINITE[lo]!;
  if (lo === 0) return above[0];
  const below = FINITE[lo - 1]!;
  return ms - below[1] < above[1] - ms ? below[0] : above[0];
}

/** A short human description of an IRM_TIMER byte, e.g. `X'31' 10 s`. */
export function describeIrmTimer(code: number): string {
  const hex = `X'${(code & 0xff).toString(16).toUpperCase().padStart(2, '0')}'`;
  const v = irmTimerToMs(code);
  if (typeof v !== 'number') return `${hex} ${v}`;
  if (v < 1000) return `${hex} ${v} ms`;
  if (v < 60_000) return `${hex} ${v / 1000} s`;
  return `${hex} ${v / 60_000} min`;
}
