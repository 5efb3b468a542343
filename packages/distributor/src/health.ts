/**
 * Health model (spec §6): effective weights per method, TSR analogues from connection statistics,
 * the target-reported health contract, and the health tests OPTLOCAL and HOTSTANDBY use. Pure.
 */
import { DistributorError, DistributorErrorCode } from './errors.js';
import { DEFAULT_WLM_WEIGHT, type PortTable, type TargetState } from './table.js';

/**
 * What a target's health endpoint returns (HTTP 200, `application/json`). IMS Connect and z/OS
 * Connect servers expose it; the distributor polls it every probe interval.
 */
export interface HealthReport {
  /** A listener is bound and accepting on the distributed port. false → Rdy 0, no new connections. */
  readonly ready: boolean;
  /** General server health 0–100 (IMS Connect: the free-socket formula of {@link imsConnectHealth}). */
  readonly health: number;
  /** Optional server-specific WLM weight 0–64, used by SERVERWLM. */
  readonly weight?: number;
  /** Optional abnormal transaction completions per 1000 (0–1000). */
  readonly abnorm?: number;
  /** Optional job name, matched by `VARY … QUIESCE,JOBNAME=`. */
  readonly jobname?: string;
}

/** Validates a decoded health body. @throws {DistributorError} `SD_ERR_BAD_HEALTH_REPORT`. */
export function parseHealthReport(value: unknown): HealthReport {
  const bad = (why: string): never => {
    throw new DistributorError(DistributorErrorCode.BAD_HEALTH_REPORT, `health report ${why}`, { details: { value } });
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('is not a JSON object');
  const o = value as Record<string, unknown>;
  if (typeof o.ready !== 'boolean') bad('needs "ready": boolean');
  if (typeof o.health !== 'number' || !Number.isFinite(o.health) || o.health < 0 || o.health > 100) bad('needs "health": a number from 0 to 100');
  const out: { -readonly [K in keyof HealthReport]: HealthReport[K] } = { ready: o.ready as boolean, health: o.health as number };
  if (o.weight !== undefined) {
    if (typeof o.weight !== 'number' || !Number.isFinite(o.weight) || o.weight < 0 || o.weight > 64) bad('"weight" must be a number from 0 to 64');
    out.weight = o.weight as number;
  }
  if (o.abnorm !== undefined) {
    if (typeof o.abnorm !== 'number' || !Number.isFinite(o.abnorm) || o.abnorm < 0 || o.abnorm > 1000) bad('"abnorm" must be a number from 0 to 1000');
    out.abnorm = o.abnorm as number;
  }
  if (o.jobname !== undefined) {
    if (typeof o.jobname !== 'string' || !/^[A-Za-z@#$][A-Za-z0-9@#$]{0,7}$/.test(o.jobname)) bad('"jobname" must be a job name of 1-8 characters');
    out.jobname = (o.jobname as string).toUpperCase();
  }
  return out;
}

/**
 * IMS Connect's health number from its free sockets [IBM, spec §6.4]: with MAXSOC ≥ 1000, 11–100 %
 * free → 100 and 0–10 % → the free percentage; with MAXSOC < 1000 the knee is at 20 %.
 */
export function imsConnectHealth(maxsoc: number, inUse: number): number {
  if (maxsoc <= 0) return 0;
  const freePct = Math.max(0, Math.min(100, Math.floor(((maxsoc - inUse) * 100) / maxsoc)));
  const knee = maxsoc >= 1000 ? 10 : 20;
  return freePct > knee ? 100 : freePct;
}

/** Weights of one target: `wlm` is the normalized WLM value (VDPT "WLM"), `wq` the value used (VDPT "W/Q"). */
export interface TargetWeight {
  readonly wlm: number;
  readonly wq: number;
}

/** Raw (pre-normalization) weight of a target under its port's method. */
export function rawWeight(table: PortTable, t: TargetState): number {
  switch (table.method) {
    case 'BASEWLM':
      return t.systemWeight;
    case 'SERVERWLM':
      return (t.serverWeight ?? DEFAULT_WLM_WEIGHT) * (t.health / 100) * (1 - t.abnorm / 1000);
    case 'WEIGHTEDACTIVE':
      return t.configWeight * (t.health / 100) * (1 - t.abnorm / 1000);
    case 'ROUNDROBIN':
    case 'HOTSTANDBY':
      return 1;
  }
}

/**
 * Effective weights for every target of a port. BASEWLM and SERVERWLM weights are normalized
 * [IBM: "reduced proportionally, lowest non-zero becomes 1"]; imsplex keeps the quotient exact
 * (no rounding) so small health differences still shift the share, and only the display rounds.
 * The divisor is taken over targets with a ready listener. W/Q = WLM × TSR × (1 − QoS) for the
 * weighted methods [IBM factors; INF arithmetic].
 */
export function computeWeights(table: PortTable): ReadonlyMap<string, TargetWeight> {
  const raw = table.targets.map((t) => rawWeight(table, t));
  let divisor = 1;
  if (table.method === 'BASEWLM' || table.method === 'SERVERWLM') {
    const live = table.targets.map((t, i) => (t.stackUp && t.rdy > 0 ? raw[i]! : 0)).filter((w) => w > 0);
    const pool = live.length > 0 ? live : raw.filter((w) => w > 0);
    divisor = pool.length > 0 ? Math.min(...pool) : 1;
  }
  const out = new Map<string, TargetWeight>();
  table.targets.forEach((t, i) => {
    const wlm = raw[i]! / divisor;
    const weighted = table.method !== 'ROUNDROBIN' && table.method !== 'HOTSTANDBY';
    const wq = weighted ? wlm * (t.tsr / 100) * (1 - t.qos / 100) : wlm;
    out.set(t.xcf, { wlm, wq });
  });
  return out;
}

/**
 * HOTSTANDBY with HEALTHSWITCH: a target is unhealthy when TSR is 0 % or the server-reported values
 * are at their worst (health 0, abnorm 1000). [INF] spec §4.5 / open question 4.
 */
export function isUnhealthy(t: TargetState): boolean {
  return t.tsr === 0 || t.health === 0 || t.abnorm >= 1000;
}

/**
 * OPTLOCAL: the local target is "healthy enough" to keep a local connection local only when nothing
 * indicates trouble. [INF] thresholds (spec §5, open question 1): TSR 100, health 100, abnorm 0.
 */
export const OPTLOCAL_MIN_TSR = 100;
export const OPTLOCAL_MIN_HEALTH = 100;
export const OPTLOCAL_MAX_ABNORM = 0;

/** True when the local target passes the OPTLOCAL health thresholds. */
export function isLocalHealthy(t: TargetState): boolean {
  return t.tsr >= OPTLOCAL_MIN_TSR && t.health >= OPTLOCAL_MIN_HEALTH && t.abnorm <= OPTLOCAL_MAX_ABNORM;
}

/** Connection-setup statistics of one target over one TSR interval. */
export interface TsrSample {
  /** Connections the distributor tried to open to the target (proxy connects and TCP probes). */
  readonly attempts: number;
  /** Attempts answered by a refusal / unreachable. */
  readonly refused: number;
  /** Attempts that completed the handshake. */
  readonly connected: number;
  /** Sum of connect latencies of the completed attempts, ms. */
  readonly latencyMsSum: number;
  /** Connections that ended, and how many of those the target reset. */
  readonly closed: number;
  readonly abnormalClosed: number;
}

export const EMPTY_SAMPLE: TsrSample = Object.freeze({ attempts: 0, refused: 0, connected: 0, latencyMsSum: 0, closed: 0, abnormalClosed: 0 });

/** TSR components computed from one interval's sample. */
export interface TsrResult {
  readonly tcsr: number;
  readonly cer: number;
  readonly sef: number;
  readonly tsr: number;
  /** Observed abnormal terminations per 1000 closed connections. */
  readonly abnormObserved: number;
}

/**
 * TSR analogues (spec §6.1, §11.2) [INF definitions]:
 * - TCSR = connects not refused ÷ connects attempted;
 * - CER  = connects completed ÷ connects not refused (the rest timed out);
 * - SEF  = 100 while the mean connect (accept) latency is at most `sefGoodMs`, then good/mean;
 * - TSR  = TCSR × CER × SEF / 10 000, rounded.
 * An interval without attempts reads as 100 for every component, so a target recovers once traffic
 * or probes stop failing.
 */
export function computeTsr(s: TsrSample, sefGoodMs: number): TsrResult {
  const pct = (num: number, den: number): number => (den === 0 ? 100 : Math.round((num * 100) / den));
  const reached = s.attempts - s.refused;
  const tcsr = pct(reached, s.attempts);
  const cer = pct(s.connected, reached);
  const mean = s.connected === 0 ? 0 : s.latencyMsSum / s.connected;
  const sef = s.connected === 0 || mean <= sefGoodMs ? 100 : Math.max(0, Math.round((100 * sefGoodMs) / mean));
  const tsr = Math.round((tcsr * cer * sef) / 10_000);
  const abnormObserved = s.closed === 0 ? 0 : Math.round((s.abnormalClosed * 1000) / s.closed);
  return { tcsr, cer, sef, tsr, abnormObserved };
}
