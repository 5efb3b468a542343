/**
 * HOTSTANDBY (spec §4.5): no balancing; every new connection goes to the one active target.
 * With AUTOSWITCHBACK the preferred target is active whenever it is usable, else the highest-ranked
 * usable backup. With NOAUTOSWITCHBACK the active target stays active until it becomes unusable.
 * "Usable" = available, and with HEALTHSWITCH also not unhealthy.
 */
import { isUnhealthy } from '../health.js';
import { isAvailable, type PortTable, type TargetState } from '../table.js';
import type { DistributionMethod, MethodChoice, MethodContext } from './method.js';

/** True when HOTSTANDBY may use the target. */
export function hotStandbyUsable(table: PortTable, t: TargetState): boolean {
  return isAvailable(t) && !(table.healthSwitch && isUnhealthy(t));
}

/** The target that should be active now, given the current one (pure). */
export function hotStandbyActive(table: PortTable): string | null {
  const usable = table.targets.filter((t) => hotStandbyUsable(table, t));
  if (usable.length === 0) return null;
  const current = table.cursor.active;
  if (!table.autoSwitchBack && current !== null && usable.some((t) => t.xcf === current)) return current;
  const preferred = usable.find((t) => t.srvType === 'PREFERRED');
  if (preferred) return preferred.xcf;
  // Highest rank first; DESTIP order among equal ranks.
  const backups = usable.filter((t) => t.srvType === 'BACKUP');
  let best: TargetState | undefined;
  for (const b of backups) if (best === undefined || b.rank > best.rank) best = b;
  return best?.xcf ?? null;
}

function choose(ctx: MethodContext): MethodChoice | null {
  const active = hotStandbyActive(ctx.table);
  if (active === null || !ctx.candidates.some((c) => c.xcf === active)) return null;
  const idx = ctx.table.targets.findIndex((t) => t.xcf === active);
  return { xcf: active, cursor: { ...ctx.table.cursor, active, rr: idx } };
}

export const hotStandby: DistributionMethod = {
  name: 'HOTSTANDBY',
  flagWord: 'HotStandby',
  flagLetter: 'H',
  choose,
};
