/**
 * asyncRequestTimeout with a shared timer (`DeadlineQueue`): every wait fires exactly when its own
 * delay has passed on the clock, never before and never after it was removed; one timer serves any
 * number of concurrent waits; and through the server, requests time out at their own deadlines.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultClock, defaultTimers } from '@imsplex/client';
import { createZosConnectServer } from '../src/index.js';
import { DeadlineQueue } from '../src/deadlines.js';
import { createTestImsConnect, deferred, ivpHandlers, ManualTimers, tempConfig, type TestImsConnect } from './helpers.js';

describe('DeadlineQueue', () => {
  it('fires each wait at its own deadline with one timer; removed waits never fire', () => {
    const timers = new ManualTimers();
    const q = new DeadlineQueue(timers, timers.clock, 5000);
    const fired: string[] = [];
    const a = q.add(() => fired.push('a'));
    timers.advance(1000);
    q.add(() => fired.push('b'));
    timers.advance(1000);
    const c = q.add(() => fired.push('c'));
    expect(timers.armed(3000)).toBe(1); // one timer, for a (due at 5000)
    q.remove(a);
    q.remove(a); // twice: nothing
    timers.advance(2999); // t = 4999
    expect(fired).toEqual([]);
    timers.advance(1); // t = 5000: a's timer fires early for b, re-arms for b at 6000
    expect(fired).toEqual([]);
    expect(timers.armed(1000)).toBe(1);
    timers.advance(999);
    expect(fired).toEqual([]);
    timers.advance(1); // t = 6000
    expect(fired).toEqual(['b']);
    expect(q.size).toBe(1);
    q.remove(c);
    timers.advance(10_000);
    expect(fired).toEqual(['b']);
    expect(q.size).toBe(0);
    expect(timers.armed(5000) + timers.armed(1000) + timers.armed(0)).toBe(0);
  });

  it('waits due together fire in order; a wait added by a callback gets its full delay', () => {
    const timers = new ManualTimers();
    const q = new DeadlineQueue(timers, timers.clock, 100);
    const fired: string[] = [];
    q.add(() => {
      fired.push('a');
      q.add(() => fired.push('late'));
    });
    q.add(() => fired.push('b'));
    timers.advance(100);
    expect(fired).toEqual(['a', 'b']);
    expect(timers.armed(100)).toBe(1); // exactly one timer for 'late'
    timers.advance(99);
    expect(fired).toEqual(['a', 'b']);
    timers.advance(1);
    expect(fired).toEqual(['a', 'b', 'late']);
  });

  it('with vitest fake timers and the default timers and clock', () => {
    vi.useFakeTimers();
    try {
      const q = new DeadlineQueue(defaultTimers, defaultClock, 30_000);
      const fired: number[] = [];
      for (let i = 0; i < 1000; i++) {
        const d = q.add(() => fired.push(i));
        if (i % 2 === 0) q.remove(d);
        vi.advanceTimersByTime(10);
      }
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(30_000 - 10_000 + 10 - 1); // just before #1's deadline (10 + 30000)
      expect(fired).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(fired).toEqual([1]);
      vi.advanceTimersByTime(10_000);
      expect(fired).toHaveLength(500);
      expect(q.size).toBe(0);
      q.dispose();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('asyncRequestTimeout through the shared queue', () => {
  it('two requests started apart time out at their own deadlines, with one timer', async () => {
    const timers = new ManualTimers();
    const arrivals: (() => void)[] = [];
    const held: ((text: string) => void)[] = [];
    const ims: TestImsConnect = createTestImsConnect({
      handlers: {
        ...ivpHandlers(),
        IVTNO: () => {
          arrivals.shift()?.();
          return new Promise<string>((resolve) => held.push(resolve));
        },
      },
    });
    const ep = await ims.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => ims.close());
    const { readFileSync } = await import('node:fs');
    const { SAMPLES } = await import('./helpers.js');
    const xml = readFileSync(`${SAMPLES}/server.xml`, 'utf8').replace(/asyncRequestTimeout="[^"]*"/, 'asyncRequestTimeout="5s"');
    const cfg = tempConfig({ 'server.xml': xml });
    cleanups.push(cfg.cleanup);
    const server = createZosConnectServer({ config: cfg.dir, host: '127.0.0.1', port: 0, timers, clock: timers.clock, clientOverrides: () => ({ host: ep.host, port: ep.port }) });
    const { url } = await server.start();
    cleanups.push(() => server.stop({ timeout: 0 }));
    // Late IMS answers (discarded), so that the IMS connections are free when the server stops.
    cleanups.push(() => held.forEach((release) => release('x'.repeat(89))));
    const first = deferred();
    arrivals.push(first.resolve);
    const r1 = fetch(`${url}/phonebook/LAST1`).then(async (r) => ({ status: r.status, body: (await r.json()) as { errorMessage: string } }));
    await first.promise;
    timers.advance(2000);
    const second = deferred();
    arrivals.push(second.resolve);
    const r2 = fetch(`${url}/phonebook/LAST2`).then((r) => r.status);
    await second.promise;
    expect(timers.armed(3000)).toBe(1); // the first request's deadline; no timer of the second's own
    let settled2 = false;
    void r2.then(() => (settled2 = true));
    timers.advance(3000); // t = 5000: the first times out
    expect(await r1).toEqual({ status: 503, body: expect.objectContaining({ errorMessage: 'BAQR0433W: The asynchronous request has timed out after 5000 milliseconds.' }) });
    expect(settled2).toBe(false);
    expect(timers.armed(2000)).toBe(1);
    timers.advance(2000); // t = 7000: the second
    expect(await r2).toBe(503);
  });
});
