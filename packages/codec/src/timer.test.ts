import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeIrmTimer, irmTimerToMs, isExplicitTimer, msToIrmTimer } from './timer.js';

describe('IRM_TIMER', () => {
  it('decodes each range at its edges (spec §4.1)', () => {
    expect([0x00, 0xe9, 0xff].map(irmTimerToMs)).toEqual(['default', 'nowait', 'forever']);
    expect([0x01, 0x15, 0x19].map(irmTimerToMs)).toEqual([10, 210, 250]);
    expect([0x1a, 0x27].map(irmTimerToMs)).toEqual([300, 950]);
    expect([0x28, 0x31, 0x63].map(irmTimerToMs)).toEqual([1000, 10_000, 60_000]);
    expect([0x64, 0x9e].map(irmTimerToMs)).toEqual([120_000, 3_600_000]);
    expect([0x9f, 0xa0, 0xe8, 0xea, 0xfe, 256, -1, 1.5].map(irmTimerToMs)).toEqual(Array(8).fill('invalid'));
    expect(isExplicitTimer(0x31)).toBe(true);
    expect(isExplicitTimer(0)).toBe(false);
    expect(isExplicitTimer(0xa0)).toBe(false);
  });

  it('picks the nearest code for a duration', () => {
    expect(msToIrmTimer(10_000)).toBe(0x31);
    expect(msToIrmTimer(250)).toBe(0x19);
    expect(msToIrmTimer(260)).toBe(0x19);
    expect(msToIrmTimer(275)).toBe(0x1a); // tie → longer
    expect(msToIrmTimer(1)).toBe(0x01);
    expect(msToIrmTimer(0)).toBe(0xe9);
    expect(msToIrmTimer(10 * 3_600_000)).toBe(0x9e);
    expect(msToIrmTimer(Number.POSITIVE_INFINITY)).toBe(0xff);
    expect([msToIrmTimer('default'), msToIrmTimer('nowait'), msToIrmTimer('forever')]).toEqual([0x00, 0xe9, 0xff]);
  });

  it('every finite code maps back to itself', () => {
    for (let c = 1; c <= 0x9e; c++) {
      const ms = irmTimerToMs(c);
      expect(typeof ms).toBe('number');
      expect(msToIrmTimer(ms as number)).toBe(c);
    }
  });

  it('the chosen code is never further from the request than a neighbour', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3_600_000 }), (ms) => {
        const c = msToIrmTimer(ms);
        const d = Math.abs((irmTimerToMs(c) as number) - ms);
        for (const n of [c - 1, c + 1]) {
          const v = irmTimerToMs(n);
          if (typeof v === 'number') expect(d).toBeLessThanOrEqual(Math.abs(v - ms));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('describes codes for humans', () => {
    expect(describeIrmTimer(0x31)).toBe("X'31' 10 s");
    expect(describeIrmTimer(0x64)).toBe("X'64' 2 min");
    expect(describeIrmTimer(0x15)).toBe("X'15' 210 ms");
    expect(describeIrmTimer(0xe9)).toBe("X'E9' nowait");
  });
});
