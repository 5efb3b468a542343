import { describe, expect, it } from 'vitest';
import { computeTsr, imsConnectHealth, parseHealthReport, EMPTY_SAMPLE } from '../src/health.js';

describe('computeTsr', () => {
  it('reads 100 everywhere when nothing was attempted', () => {
    expect(computeTsr(EMPTY_SAMPLE, 100)).toEqual({ tcsr: 100, cer: 100, sef: 100, tsr: 100, abnormObserved: 0 });
  });
  it('TSR is the product of TCSR, CER and SEF (IBM sample: 100 × 75 × 100 → 75)', () => {
    // 4 attempts, none refused, 3 completed (1 timed out): CER 75.
    expect(computeTsr({ ...EMPTY_SAMPLE, attempts: 4, connected: 3, latencyMsSum: 3 }, 100)).toMatchObject({ tcsr: 100, cer: 75, sef: 100, tsr: 75 });
  });
  it('refusals lower TCSR, slow accepts lower SEF, resets give abnormal terminations per 1000', () => {
    const r = computeTsr({ attempts: 10, refused: 5, connected: 5, latencyMsSum: 5 * 400, closed: 8, abnormalClosed: 2 }, 100);
    expect(r).toEqual({ tcsr: 50, cer: 100, sef: 25, tsr: 13, abnormObserved: 250 });
  });
  it('all refused → TSR 0', () => {
    expect(computeTsr({ ...EMPTY_SAMPLE, attempts: 3, refused: 3 }, 100).tsr).toBe(0);
  });
});

describe('imsConnectHealth (spec §6.4)', () => {
  it('MAXSOC ≥ 1000: 100 above 10 % free, else the free percentage', () => {
    expect(imsConnectHealth(2000, 0)).toBe(100);
    expect(imsConnectHealth(2000, 1780)).toBe(100); // 11 % free
    expect(imsConnectHealth(2000, 1800)).toBe(10);
    expect(imsConnectHealth(2000, 1990)).toBe(0);
  });
  it('MAXSOC < 1000: the knee is at 20 %', () => {
    expect(imsConnectHealth(100, 79)).toBe(100);
    expect(imsConnectHealth(100, 80)).toBe(20);
    expect(imsConnectHealth(100, 95)).toBe(5);
    expect(imsConnectHealth(0, 0)).toBe(0);
  });
});

describe('parseHealthReport (the target health contract)', () => {
  it('accepts the documented shape', () => {
    expect(parseHealthReport({ ready: true, health: 100 })).toEqual({ ready: true, health: 100 });
    expect(parseHealthReport({ ready: false, health: 40, weight: 12, abnorm: 3, jobname: 'imscon1' })).toEqual({ ready: false, health: 40, weight: 12, abnorm: 3, jobname: 'IMSCON1' });
  });
  it.each([
    [null, 'is not a JSON object'],
    [[], 'is not a JSON object'],
    [{ health: 1 }, 'needs "ready": boolean'],
    [{ ready: true, health: 101 }, 'needs "health": a number from 0 to 100'],
    [{ ready: true, health: 'x' }, 'needs "health": a number from 0 to 100'],
    [{ ready: true, health: 1, weight: 65 }, '"weight" must be a number from 0 to 64'],
    [{ ready: true, health: 1, abnorm: -1 }, '"abnorm" must be a number from 0 to 1000'],
    [{ ready: true, health: 1, jobname: 'TOOLONGNAME' }, '"jobname" must be a job name of 1-8 characters'],
  ])('rejects %j with SD_ERR_BAD_HEALTH_REPORT', (value, why) => {
    expect(() => parseHealthReport(value)).toThrowError(expect.objectContaining({ code: 'SD_ERR_BAD_HEALTH_REPORT', message: `health report ${why}` }));
  });
});
