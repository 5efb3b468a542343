/**
 * WEIGHTEDACTIVE: keep active connection counts proportional to the configured weights (spec §4.4):
 * choose the candidate with the least (active + 1) / weight — IPVS `wlc` — breaking ties by the
 * least recent pick, then by the seeded random source.
 */
import { rotate, type DistributionMethod, type MethodChoice, type MethodContext } from './method.js';
import type { TargetState } from '../table.js';

function choose(ctx: MethodContext): MethodChoice | null {
  const { table, candidates, weights, rng } = ctx;
  const weighted = candidates.filter((c) => (weights.get(c.xcf)?.wq ?? 0) > 0);
  if (weighted.length === 0) {
    const r = rotate(ctx);
    return r && { ...r, fallback: true };
  }
  let best: TargetState[] = [];
  let bestScore = Infinity;
  for (const c of weighted) {
    const score = (c.activeConn + 1) / weights.get(c.xcf)!.wq;
    if (score < bestScore - 1e-12) {
      bestScore = score;
      best = [c];
    } else if (Math.abs(score - bestScore) <= 1e-12) best.push(c);
  }
  const oldest = Math.min(...best.map((c) => c.lastPick));
  const tied = best.filter((c) => c.lastPick === oldest);
  const chosen = tied.length === 1 ? tied[0]! : tied[Math.min(tied.length - 1, Math.floor(rng() * tied.length))]!;
  const idx = table.targets.findIndex((t) => t.xcf === chosen.xcf);
  return { xcf: chosen.xcf, cursor: { ...table.cursor, rr: idx } };
}

export const weightedActive: DistributionMethod = {
  name: 'WEIGHTEDACTIVE',
  flagWord: 'WeightedActive',
  flagLetter: 'W',
  choose,
};
