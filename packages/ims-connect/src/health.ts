/**
 * IMS Connect's health figure for the distributor (spec sysplex-distributor.md §6.4): 0–100 from the
 * share of free sockets under MAXSOC.
 * - MAXSOC ≥ 1000: free 11–100 % → 100; free 0–10 % → the free percentage itself.
 * - MAXSOC < 1000: free 21–100 % → 100; free 0–20 % → the free percentage itself.
 */

/** Health 0–100 given MAXSOC and sockets in use (listeners included). */
export function socketHealth(maxSockets: number, socketsInUse: number): number {
  if (maxSockets <= 0) return 0;
  const free = Math.max(0, maxSockets - socketsInUse);
  // Integer percentage, rounded down, so "just under 11 %" still reads as 10.
  const pct = Math.floor((free * 100) / maxSockets);
  const threshold = maxSockets >= 1000 ? 10 : 20;
  return pct > threshold ? 100 : pct;
}

/** The health document served on the admin port. */
export interface HealthReport {
  /** True when at least one port listens, IMS Connect is not shutting down, and a datastore is active (or none are defined). */
  ready: boolean;
  /** 0–100 from free sockets vs MAXSOC. */
  health: number;
  /** IMS Connect name. */
  id: string;
  /** Sockets in use (listeners + clients) and the limit. */
  sockets: { inUse: number; max: number };
  /** State of the server. */
  state: 'starting' | 'active' | 'quiescing' | 'closed';
  /** Per-port listening state. */
  ports: Array<{ id: number; listening: boolean; clients: number; tls: boolean }>;
  /** Per-datastore state. */
  datastores: Array<{ id: string; status: string }>;
}
