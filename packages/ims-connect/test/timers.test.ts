/**
 * The connection's one reusable timer (armed once per pump, disarmed lazily, refreshed when re-armed
 * with the same delay) and the coarse display clock, under vitest fake timers: no real waiting.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildRequest, decodeReply, encodeRequest, type BuildRequestOptions } from '@imsplex/codec';
import { CoarseClock } from '../src/index.js';
import { harness, type Harness } from './harness.js';

const req = (o: BuildRequestOptions) => encodeRequest(buildRequest({ datastore: 'IMS1', clientId: 'TIMER01', ...o }));

describe('IMS wait timer reuse', () => {
  let h: Harness;
  beforeEach(async () => {
    vi.useFakeTimers();
    h = await harness();
  });
  afterEach(async () => {
    await h.close();
    vi.useRealTimers();
  });

  it('a wait that ended does not fire later; the same delay re-armed still expires with the RSM', async () => {
    const c = h.memory();
    // IRM_TIMER X'05' = 0.05 s. ECHO answers at once: the wait is armed and ended in one interaction.
    for (const data of ['ONE', 'TWO']) {
      c.send(req({ trancode: 'ECHO', data, timer: { code: 0x05 } }));
      const r = decodeReply((await c.next())!, { llll: true });
      expect(r.kind).toBe('data');
    }
    await vi.advanceTimersByTimeAsync(1000);
    expect(c.queued).toBe(0); // no stray timeout RSM
    expect(c.closed).toBe(false);
    // Now IMS does not answer: the same 0.05 s wait expires → RC 40 with the timer byte.
    c.send(req({ trancode: 'SLOW', data: 'X', timer: { code: 0x05 } }));
    await vi.advanceTimersByTimeAsync(49);
    expect(c.queued).toBe(0);
    await vi.advanceTimersByTimeAsync(2);
    const r = decodeReply((await c.next())!, { llll: true });
    expect(r.kind === 'status' && [r.rsm.returnCode, r.rsm.reasonCode]).toEqual([40, 0x05]);
  });

  it('a different delay replaces the pending timer', async () => {
    const c = h.memory();
    c.send(req({ trancode: 'ECHO', data: 'A', timer: { code: 0x05 } }));
    await c.next();
    c.send(req({ trancode: 'SLOW', data: 'X', timer: { code: 0x0a } })); // 0.10 s
    await vi.advanceTimersByTimeAsync(60); // past the old 0.05 s: nothing yet
    expect(c.queued).toBe(0);
    await vi.advanceTimersByTimeAsync(41);
    const r = decodeReply((await c.next())!, { llll: true });
    expect(r.kind === 'status' && [r.rsm.returnCode, r.rsm.reasonCode]).toEqual([40, 0x0a]);
  });
});

describe('CoarseClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads Date.now() until started, then the value sampled every resolution ms; stop() goes back', () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
    const clock = new CoarseClock(100);
    expect(clock.now()).toBe(1_000_000);
    clock.start();
    vi.setSystemTime(1_000_050); // the system clock moves, the sample does not yet
    expect(clock.now()).toBe(1_000_000);
    vi.advanceTimersByTime(100);
    expect(clock.now()).toBe(1_000_150);
    clock.stop();
    vi.setSystemTime(1_000_170);
    expect(clock.now()).toBe(1_000_170);
    expect(vi.getTimerCount()).toBe(0);
  });
});
