/** The one interface every distribution method implements (one small module per method). */
import type { DistMethodName } from '../config/types.js';
import type { TargetWeight } from '../health.js';
import type { Cursor, PortTable, TargetState } from '../table.js';

/** Everything a method may look at to choose a target. */
export interface MethodContext {
  readonly table: PortTable;
  /** Targets eligible for this connection (available, and for HOTSTANDBY healthy as configured), in DESTIP order. */
  readonly candidates: readonly TargetState[];
  readonly weights: ReadonlyMap<string, TargetWeight>;
  /** Seeded random source in [0, 1); only used to break exact ties. */
  readonly rng: () => number;
}

/** A method's choice and its updated cursor. */
export interface MethodChoice {
  readonly xcf: string;
  readonly cursor: Cursor;
  /** True when the method fell back to round robin because every weight was 0. */
  readonly fallback?: boolean;
}

/** A distribution method: a pure choice among candidates. */
export interface DistributionMethod {
  readonly name: DistMethodName;
  /** Flag word shown in VDPT DETAIL (`BaseWLM`, `ServerWLM`, …). */
  readonly flagWord: string;
  /** Flag letter of the short VDPT report. */
  readonly flagLetter: string;
  choose(ctx: MethodContext): MethodChoice | null;
}

/**
 * Plain rotation over candidates in DESTIP order, starting after the last choice. Used by
 * ROUNDROBIN and as the fallback when every weight is 0 (spec §6.5).
 */
export function rotate(ctx: MethodContext): MethodChoice | null {
  const { table, candidates } = ctx;
  if (candidates.length === 0) return null;
  const n = table.targets.length;
  const ok = new Set(candidates.map((c) => c.xcf));
  for (let step = 1; step <= n; step++) {
    const idx = (table.cursor.rr + step + n) % n;
    const t = table.targets[idx]!;
    if (ok.has(t.xcf)) return { xcf: t.xcf, cursor: { ...table.cursor, rr: idx } };
  }
  return null;
}

/**
 * Smooth weighted round robin (spec §4.7, nginx style): every candidate's current value grows by
 * its weight, the largest wins (first in DESTIP order on ties) and loses the total. Deterministic,
 * exact proportions, no bursts. Non-candidates keep their accumulated value.
 */
export function smoothWeighted(ctx: MethodContext): MethodChoice | null {
  const { table, candidates, weights } = ctx;
  const weighted = candidates.filter((c) => (weights.get(c.xcf)?.wq ?? 0) > 0);
  if (weighted.length === 0) {
    const r = rotate(ctx);
    return r && { ...r, fallback: true };
  }
  const wrr: Record<string, number> = { ...table.cursor.wrr };
  let total = 0;
  let best: TargetState | null = null;
  let bestValue = -Infinity;
  for (const c of weighted) {
    const w = weights.get(c.xcf)!.wq;
    total += w;
    const v = (wrr[c.xcf] ?? 0) + w;
    wrr[c.xcf] = v;
    if (v > bestValue) {
      bestValue = v;
      best = c;
    }
  }
  wrr[best!.xcf] = bestValue - total;
  const idx = table.targets.findIndex((t) => t.xcf === best!.xcf);
  return { xcf: best!.xcf, cursor: { ...table.cursor, wrr, rr: idx } };
}
