import { describe, expect, it } from 'vitest';
import { computeWeights } from '../src/health.js';
import { hotStandbyActive } from '../src/methods/index.js';
import { commitPick, pick, seededRng } from '../src/pick.js';
import { affinityClosed, affinityRouted, type Affinity } from '../src/table.js';
import { counts, fixedClock, run, table, target } from './helpers.js';

const A = '127.0.1.1';
const B = '127.0.1.2';
const C = '127.0.1.3';

describe('pick: eligibility', () => {
  it('returns null when no target has a ready listener', () => {
    const t = table('ROUNDROBIN', [target(A, { rdy: 0 }), target(B, { rdy: 0 })]);
    expect(run(t, 3).seq).toEqual([null, null, null]);
  });
  it('skips quiesced, not-ready, stack-down and capped targets for every method', () => {
    for (const m of ['BASEWLM', 'SERVERWLM', 'ROUNDROBIN', 'WEIGHTEDACTIVE'] as const) {
      const t = table(m, [target(A, { quiesced: true }), target(B, { rdy: 0 }), target(C)]);
      expect(new Set(run(t, 6).seq)).toEqual(new Set([C]));
      const t2 = table(m, [target(A, { stackUp: false }), target(B, { maxConn: 1, activeConn: 1 }), target(C)]);
      expect(new Set(run(t2, 6).seq)).toEqual(new Set([C]));
    }
  });
  it('does not change the table it is given (pure)', () => {
    const t = table('ROUNDROBIN', [target(A), target(B)]);
    const snapshot = JSON.stringify(t);
    pick(t, computeWeights(t), new Map(), '10.0.0.1', fixedClock(), () => 0);
    expect(JSON.stringify(t)).toBe(snapshot);
  });
});

describe('ROUNDROBIN', () => {
  it('rotates one connection per stack in DESTIP order and ignores weights and TSR', () => {
    const t = table('ROUNDROBIN', [target(A, { systemWeight: 64 }), target(B, { systemWeight: 1, tsr: 10 }), target(C)]);
    expect(run(t, 6).seq).toEqual([A, B, C, A, B, C]);
  });
  it('continues the rotation after a target drops out', () => {
    const t = table('ROUNDROBIN', [target(A), target(B, { rdy: 0 }), target(C)]);
    expect(run(t, 4).seq).toEqual([A, C, A, C]);
  });
});

describe('BASEWLM', () => {
  it('spreads in proportion to normalized WLM weights, smoothly', () => {
    const t = table('BASEWLM', [target(A, { systemWeight: 64 }), target(B, { systemWeight: 32 }), target(C, { systemWeight: 16 })]);
    const { seq } = run(t, 70);
    expect(counts(seq)).toEqual({ [A]: 40, [B]: 20, [C]: 10 });
    // Smooth: A never gets more than two in a row at 4:2:1.
    expect(seq.slice(0, 7)).toEqual([A, B, A, C, A, B, A]);
  });
  it('normalizes so the lowest non-zero weight is 1', () => {
    const t = table('BASEWLM', [target(A, { systemWeight: 64 }), target(B, { systemWeight: 16 }), target(C, { systemWeight: 0 })]);
    const w = computeWeights(t);
    expect(w.get(A)!.wlm).toBe(4);
    expect(w.get(B)!.wlm).toBe(1);
    expect(w.get(C)!.wlm).toBe(0);
    expect(run(t, 10).seq).not.toContain(C);
  });
  it('reduces the weight by TSR (W/Q)', () => {
    const t = table('BASEWLM', [target(A, { tsr: 50 }), target(B)]);
    expect(computeWeights(t).get(A)!.wq).toBe(0.5);
    expect(counts(run(t, 30).seq)).toEqual({ [A]: 10, [B]: 20 });
  });
  it('falls back to round robin when every weight is 0', () => {
    const t = table('BASEWLM', [target(A, { systemWeight: 0 }), target(B, { systemWeight: 0 })]);
    const r = pick(t, computeWeights(t), new Map(), '10.0.0.1', fixedClock(), () => 0);
    expect(r.reason).toBe('fallback');
    expect(run(t, 4).seq).toEqual([A, B, A, B]);
  });
});

describe('SERVERWLM', () => {
  it('uses reported server weights lowered by health and abnormal completions', () => {
    const t = table('SERVERWLM', [target(A, { serverWeight: 40 }), target(B, { serverWeight: 40, health: 50 }), target(C, { serverWeight: 40, abnorm: 750 })]);
    expect(counts(run(t, 70).seq)).toEqual({ [A]: 40, [B]: 20, [C]: 10 });
  });
  it('gives nothing to a target whose health is 0 while others have weight', () => {
    const t = table('SERVERWLM', [target(A, { health: 0 }), target(B)]);
    expect(new Set(run(t, 10).seq)).toEqual(new Set([B]));
  });
});

describe('WEIGHTEDACTIVE', () => {
  it('keeps active connections proportional to the configured weights', () => {
    const t = table('WEIGHTEDACTIVE', [target(A, { configWeight: 30 }), target(B, { configWeight: 10 })]);
    const { table: after } = run(t, 40, { close: false });
    expect(after.targets.map((x) => x.activeConn)).toEqual([30, 10]);
  });
  it('balances active counts, not arrivals: a target with many open connections gets the new ones elsewhere', () => {
    const t = table('WEIGHTEDACTIVE', [target(A, { activeConn: 5 }), target(B, { activeConn: 0 })]);
    expect(run(t, 5, { close: false }).seq).toEqual([B, B, B, B, B]);
  });
  it('breaks exact ties by least recent pick, then by the seeded rng (deterministic per seed)', () => {
    const t = table('WEIGHTEDACTIVE', [target(A), target(B), target(C)]);
    const s1 = run(t, 9, { rng: seededRng(42) }).seq;
    const s2 = run(t, 9, { rng: seededRng(42) }).seq;
    expect(s1).toEqual(s2);
    expect(counts(s1)).toEqual({ [A]: 3, [B]: 3, [C]: 3 });
  });
});

describe('HOTSTANDBY', () => {
  const hs = (patchA = {}, patchB = {}, patchC = {}, opts = {}) =>
    table('HOTSTANDBY', [target(A, { srvType: 'PREFERRED', ...patchA }), target(B, { srvType: 'BACKUP', rank: 50, ...patchB }), target(C, { srvType: 'BACKUP', rank: 100, ...patchC })], opts);

  it('sends everything to the preferred target while it is available', () => {
    expect(run(hs(), 5).seq).toEqual([A, A, A, A, A]);
  });
  it('uses the highest-ranked available backup when the preferred one is unavailable', () => {
    expect(run(hs({ rdy: 0 }), 3).seq).toEqual([C, C, C]);
    expect(run(hs({ rdy: 0 }, {}, { quiesced: true }), 2).seq).toEqual([B, B]);
  });
  it('AUTOSWITCHBACK returns to the preferred target once it is back', () => {
    const t = { ...hs(), cursor: { wrr: {}, rr: -1, active: C, seq: 0 } };
    expect(hotStandbyActive(t)).toBe(A);
  });
  it('NOAUTOSWITCHBACK keeps the active backup while it stays available', () => {
    const t = { ...hs({}, {}, {}, { autoSwitchBack: false }), cursor: { wrr: {}, rr: -1, active: C, seq: 0 } };
    expect(run(t, 3).seq).toEqual([C, C, C]);
    const down = { ...t, targets: t.targets.map((x) => (x.xcf === C ? { ...x, rdy: 0 } : x)) };
    expect(hotStandbyActive(down)).toBe(A);
  });
  it('HEALTHSWITCH switches away from an unhealthy preferred target; NOHEALTHSWITCH does not', () => {
    expect(run(hs({ health: 0 }), 2).seq).toEqual([C, C]);
    expect(run(hs({ tsr: 0 }), 1).seq).toEqual([C]);
    expect(run(hs({ abnorm: 1000 }), 1).seq).toEqual([C]);
    expect(run(hs({ health: 0 }, {}, {}, { healthSwitch: false }), 2).seq).toEqual([A, A]);
  });
  it('returns null when nothing is usable', () => {
    expect(run(hs({ rdy: 0 }, { rdy: 0 }, { rdy: 0 }), 1).seq).toEqual([null]);
  });
});

describe('OPTLOCAL', () => {
  // Client on A's host; A has weight 16, B and C 64 (A's share would be 1/9 without OPTLOCAL).
  const base = (optLocal: number | null, patchA = {}) =>
    table('BASEWLM', [target(A, { systemWeight: 16, ...patchA }), target(B, { systemWeight: 64 }), target(C, { systemWeight: 64 })], { optLocal });

  it('NOOPTLOCAL distributes local clients normally', () => {
    expect(counts(run(base(null), 9, { client: A }).seq)).toEqual({ [A]: 1, [B]: 4, [C]: 4 });
  });
  it('every value 0–16 keeps a healthy local connection local exactly when its rule allows', () => {
    // Normalized weights: A 1, B 4, C 4. Rule for v ≥ 2: 1 × v ≥ 4  ⇔  v ≥ 4.
    for (let v = 0; v <= 16; v++) {
      const r = pick(base(v), computeWeights(base(v)), new Map(), A, fixedClock(), () => 0);
      const local = v <= 1 || v >= 4;
      expect({ v, xcf: r.xcf, reason: r.reason }).toEqual({ v, xcf: local ? A : B, reason: local ? 'optlocal' : 'method' });
    }
  });
  it('OPTLOCAL 1 needs a non-zero local weight; OPTLOCAL 0 does not', () => {
    const w0 = base(0, { systemWeight: 0 });
    const w1 = base(1, { systemWeight: 0 });
    expect(pick(w0, computeWeights(w0), new Map(), A, fixedClock(), () => 0).xcf).toBe(A);
    expect(pick(w1, computeWeights(w1), new Map(), A, fixedClock(), () => 0).xcf).not.toBe(A);
  });
  it('never keeps a connection local when the local target is not ready, quiesced or unhealthy', () => {
    for (const patch of [{ rdy: 0 }, { quiesced: true }, { health: 90 }, { tsr: 80 }, { abnorm: 1 }]) {
      for (const v of [0, 1, 16]) {
        const t = base(v, patch);
        const r = pick(t, computeWeights(t), new Map(), A, fixedClock(), () => 0);
        expect(r.reason).toBe('method');
      }
    }
  });
  it('does not affect clients that are not on a target host', () => {
    const t = base(0);
    expect(pick(t, computeWeights(t), new Map(), '127.0.9.9', fixedClock(), () => 0).reason).toBe('method');
  });
  it('works with ROUNDROBIN and WEIGHTEDACTIVE too', () => {
    for (const m of ['ROUNDROBIN', 'WEIGHTEDACTIVE'] as const) {
      const t = table(m, [target(A), target(B)], { optLocal: 1 });
      expect(run(t, 4, { client: B }).seq).toEqual([B, B, B, B]);
    }
  });
});

describe('TIMEDAFFINITY', () => {
  it('sends a client back to its target while connections are open and until the timer runs out', () => {
    const t = table('ROUNDROBIN', [target(A), target(B)], { timedAffinity: 30 });
    let aff: Affinity | undefined;
    const now = 1_000_000;
    const pickAt = (cur: typeof t, at: number) => pick(cur, computeWeights(cur), new Map(aff ? [['10.0.0.7', aff]] : []), '10.0.0.7', fixedClock(at), () => 0);
    const r1 = pickAt(t, now);
    expect(r1.xcf).toBe(A);
    aff = affinityRouted(aff, '10.0.0.7', A, now);
    let cur = commitPick(t, r1);
    // Without affinity round robin would now give B.
    expect(pickAt(cur, now + 1).reason).toBe('affinity');
    expect(pickAt(cur, now + 1).xcf).toBe(A);
    // Close the only connection: timer of 30 s starts.
    aff = affinityClosed(aff, A, now + 10_000, 30);
    expect(aff.expiresAt).toBe(now + 40_000);
    expect(pickAt(cur, now + 39_999).xcf).toBe(A);
    const expired = pickAt(cur, now + 40_000);
    expect(expired.reason).toBe('method');
    expect(expired.xcf).toBe(B);
    cur = commitPick(cur, expired);
    expect(cur.targets.map((x) => x.totalConn)).toEqual([1, 1]);
  });
  it('affinity does not override eligibility: a quiesced affinity target is skipped', () => {
    const t = table('ROUNDROBIN', [target(A, { quiesced: true }), target(B)], { timedAffinity: 30 });
    const aff = affinityRouted(undefined, '10.0.0.7', A, 0);
    const r = pick(t, computeWeights(t), new Map([['10.0.0.7', aff]]), '10.0.0.7', fixedClock(), () => 0);
    expect(r).toMatchObject({ xcf: B, reason: 'method' });
  });
  it('counts connections: the timer starts only when the last one closes', () => {
    let a = affinityRouted(undefined, 'c', A, 0);
    a = affinityRouted(a, 'c', A, 1);
    expect(a.count).toBe(2);
    a = affinityClosed(a, A, 5, 10);
    expect(a).toMatchObject({ count: 1, expiresAt: null });
    a = affinityClosed(a, A, 6, 10);
    expect(a).toMatchObject({ count: 0, expiresAt: 10_006 });
    // A close for a connection routed to another target leaves the affinity alone.
    expect(affinityClosed(a, B, 7, 10)).toBe(a);
  });
});

describe('seeded rng', () => {
  it('is deterministic and in [0, 1)', () => {
    const a = seededRng(7);
    const b = seededRng(7);
    const xs = Array.from({ length: 100 }, () => a());
    expect(xs).toEqual(Array.from({ length: 100 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBe(100);
  });
});
