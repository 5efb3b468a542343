/** Pure parts: options, back-off, endpoint ordering, error classes. */
import { describe, expect, it } from 'vitest';
import { ImsConnectRsmError, ImsInDoubtError, backoffDelay, resolveBackoff, resolveConnection, resolveInteraction } from '../src/index.js';
import { EndpointSet } from '../src/transport.js';
import { ManualTimers } from './helpers.js';

describe('options', () => {
  it('applies IBM defaults: *SAMPL1*, CP037, CM1, sync NONE, IRM timer default', () => {
    const io = resolveInteraction({ datastore: 'ims1' });
    expect(io).toMatchObject({ exitId: '*SAMPL1*', commitMode: 1, syncLevel: 'none', interactionTimeout: 'default', datastore: 'IMS1' });
    expect(io.codePage.name).toBe('cp037');
    expect(resolveInteraction({ commitMode: 0 }).syncLevel).toBe('confirm');
  });

  it('validates names, exclusive options and ranges with IMS_ERR_INVALID_ARGUMENT', () => {
    expect(() => resolveInteraction({ datastore: 'TOO-LONG-NAME' })).toThrow(expect.objectContaining({ code: 'IMS_ERR_INVALID_ARGUMENT' }));
    expect(() => resolveInteraction({ rerouteName: 'RR', purgeUndeliverableOutput: true })).toThrow(/mutually exclusive/);
    expect(() => resolveInteraction({ interactionTimeout: 0 })).toThrow(/interactionTimeout/);
    expect(() => resolveInteraction({ codePage: 'cp9999' })).toThrow(/code page/);
    expect(() => resolveConnection({})).toThrow(/address is required/);
    expect(() => resolveConnection({ host: 'h', port: 70000 })).toThrow(/port/);
    expect(() => resolveConnection({ host: 'h', port: 1, socketType: 'transaction', minConnections: 1 })).toThrow(/persistent/);
    expect(() => resolveConnection({ host: 'h', port: 1, clientIdPrefix: 'HWSX' })).toThrow(/clientIdPrefix/);
    const c = resolveConnection({ host: 'h', port: 1 });
    expect(c).toMatchObject({ socketType: 'persistent', connectTimeout: 10_000, responseTimeout: 60_000, maxReplySize: 10_000_000, maxConnections: 10 });
    expect(Object.isFrozen(c)).toBe(true);
  });
});

describe('back-off', () => {
  it('grows exponentially, caps, and draws the jitter from the injected rng', () => {
    const b = resolveBackoff({ initialDelay: 100, maxDelay: 1000, factor: 2, jitter: 1 });
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(b, n, () => 0.5))).toEqual([50, 100, 200, 400, 500, 500]);
    expect(backoffDelay(b, 2, () => 0)).toBe(0);
    const fixed = resolveBackoff({ initialDelay: 100, jitter: 0 });
    expect(backoffDelay(fixed, 1, () => 0.9)).toBe(200);
    expect(() => resolveBackoff({ jitter: 2 })).toThrow(/jitter/);
  });
});

describe('endpoint ordering', () => {
  it('tries healthy endpoints first and a failed one again after its cool-down', () => {
    const t = new ManualTimers();
    const s = resolveConnection({ endpoints: [{ host: 'a', port: 1 }, { host: 'b', port: 2 }], timers: t.timers, clock: t.clock, endpointCooldown: 1000 });
    const set = new EndpointSet(s);
    expect(set.order()).toEqual([0, 1]);
    set.mark(0, false);
    expect(set.order()).toEqual([1, 0]);
    t.advance(1000);
    expect(set.order()).toEqual([0, 1]);
    set.mark(0, false);
    set.mark(0, false); // cool-down grows with consecutive failures
    t.advance(1000);
    expect(set.order()).toEqual([1, 0]);
    set.mark(0, true);
    expect(set.order()).toEqual([0, 1]);
  });
});

describe('errors', () => {
  it('RSM errors name the reason by return code and know whether the socket closed', () => {
    const keep = new ImsConnectRsmError({ returnCode: 40, reasonCode: 0x31 });
    expect(keep).toMatchObject({ code: 'IMS_ERR_RSM', reasonName: 'TIMER', socketClosed: false, returnCodeName: 'TIMER_EXPIRED_KEEP' });
    const ds = new ImsConnectRsmError({ returnCode: 8, reasonCode: 74 }, { clientId: 'C1' });
    expect(ds).toMatchObject({ reasonName: 'STP/CLSE', socketClosed: true, clientId: 'C1' });
    expect(ds.message).toMatch(/RC 8/);
  });

  it('in-doubt errors carry the tpipe and commit mode', () => {
    const e = new ImsInDoubtError({ clientId: 'TP', commitMode: 0, interaction: 'send-receive', trancode: 'PAY' }, new Error('reset'));
    expect(e).toMatchObject({ code: 'IMS_ERR_IN_DOUBT', clientId: 'TP', commitMode: 0 });
    expect(e.message).toMatch(/RESUME TPIPE/);
    expect(e.details).toMatchObject({ clientId: 'TP', trancode: 'PAY' });
  });
});
