/**
 * The pure target choice for one new connection: a function of the port table (targets, weights,
 * cursors), the timed affinities, the client's address, a clock and a seeded random source.
 * Order: eligibility → timed affinity → OPTLOCAL → the distribution method.
 */
import { computeWeights, isLocalHealthy, type TargetWeight } from './health.js';
import { hotStandbyActive, hotStandbyUsable, METHODS } from './methods/index.js';
import { affinityLive, isAvailable, type Affinity, type Cursor, type PortTable, type TargetState } from './table.js';

/** Injectable clock (epoch milliseconds). */
export interface Clock {
  now(): number;
}

/** The system clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** Why a target was chosen. */
export type PickReason = 'affinity' | 'optlocal' | 'method' | 'fallback';

/** Result of {@link pick}: the chosen XCF (null when no target is eligible) and the new cursor. */
export interface PickResult {
  readonly xcf: string | null;
  readonly reason: PickReason | 'none';
  readonly cursor: Cursor;
}

/** mulberry32: a small seeded PRNG returning numbers in [0, 1). */
export function seededRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Chooses the target for a new connection from `clientAddress`. Pure: `table` is not changed; apply
 * the result with {@link commitPick}.
 * @param weights from {@link computeWeights} (passed in so callers can cache it per health update)
 * @param affinities this port's timed affinities by client IP
 */
export function pick(
  table: PortTable,
  weights: ReadonlyMap<string, TargetWeight>,
  affinities: ReadonlyMap<string, Affinity>,
  clientAddress: string,
  clock: Clock,
  rng: () => number,
): PickResult {
  const seqCursor = (c: Cursor): Cursor => ({ ...c, seq: table.cursor.seq + 1 });
  const none: PickResult = { xcf: null, reason: 'none', cursor: table.cursor };
  let candidates: readonly TargetState[];
  if (table.method === 'HOTSTANDBY') {
    const active = hotStandbyActive(table);
    candidates = table.targets.filter((t) => t.xcf === active && hotStandbyUsable(table, t));
  } else candidates = table.targets.filter(isAvailable);
  if (candidates.length === 0) return none;

  // Timed affinity overrides the method, not eligibility (spec §8).
  if (table.timedAffinity > 0) {
    const a = affinities.get(clientAddress);
    if (affinityLive(a, clock.now()) && candidates.some((c) => c.xcf === a.xcf)) {
      return { xcf: a.xcf, reason: 'affinity', cursor: seqCursor(table.cursor) };
    }
  }

  // OPTLOCAL: keep a connection from a target's own host local (spec §5).
  if (table.optLocal !== null && table.method !== 'HOTSTANDBY') {
    const local = candidates.find((c) => c.xcf === clientAddress);
    if (local !== undefined && isLocalHealthy(local)) {
      const wLocal = weights.get(local.xcf)?.wlm ?? 0;
      const v = table.optLocal;
      let keep: boolean;
      if (v === 0) keep = true;
      else if (v === 1) keep = wLocal > 0;
      else {
        // [INF] 2–16: local weight × value must be at least every other candidate's weight.
        const others = candidates.filter((c) => c !== local).map((c) => weights.get(c.xcf)?.wlm ?? 0);
        keep = wLocal > 0 && others.every((w) => wLocal * v >= w);
      }
      if (keep) {
        const idx = table.targets.indexOf(local);
        return { xcf: local.xcf, reason: 'optlocal', cursor: seqCursor({ ...table.cursor, rr: table.method === 'ROUNDROBIN' ? table.cursor.rr : idx }) };
      }
    }
  }

  const choice = METHODS[table.method].choose({ table, candidates, weights, rng });
  if (choice === null) return none;
  return { xcf: choice.xcf, reason: choice.fallback ? 'fallback' : 'method', cursor: seqCursor(choice.cursor) };
}

/** Convenience: {@link pick} with weights computed from the table. */
export function pickFor(table: PortTable, affinities: ReadonlyMap<string, Affinity>, clientAddress: string, clock: Clock, rng: () => number): PickResult {
  return pick(table, computeWeights(table), affinities, clientAddress, clock, rng);
}

/** Applies a pick: new cursor, the target's TotalConn/ActiveConn + 1 and its last-pick sequence. */
export function commitPick(table: PortTable, result: PickResult): PortTable {
  if (result.xcf === null) return table;
  return {
    ...table,
    cursor: result.cursor,
    targets: table.targets.map((t) =>
      t.xcf === result.xcf ? { ...t, totalConn: (t.totalConn + 1) % 2 ** 32, activeConn: t.activeConn + 1, lastPick: result.cursor.seq } : t,
    ),
  };
}

/** A connection to `xcf` ended: ActiveConn − 1. */
export function releaseConnection(table: PortTable, xcf: string): PortTable {
  return { ...table, targets: table.targets.map((t) => (t.xcf === xcf ? { ...t, activeConn: Math.max(0, t.activeConn - 1) } : t)) };
}
