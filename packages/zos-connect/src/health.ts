/**
 * Health for the VIPA distributor (the contract it polls: HTTP 200 or 503 with
 * `{ "ready": boolean, "health": 0..100, "jobname"?: string }`).
 *
 * - `ready` is true only while the server is running (not paused, stopping or stopped).
 * - `health` follows IMS Connect's free-capacity formula [INF — z/OS Connect reports no such number;
 *   the same shape keeps the distributor's weights comparable]: the free share of `maxInFlight`,
 *   100 above 20 % free, else the free percentage; and at most 10 while IMS Connect connections are
 *   failing (the server can still answer, but every IMS call would fail).
 */

/** The health body. */
export interface HealthReport {
  readonly ready: boolean;
  readonly health: number;
  readonly jobname?: string;
}

/** Inputs of the health number. */
export interface HealthInputs {
  readonly state: string;
  readonly inFlight: number;
  readonly maxInFlight: number;
  readonly connectFailures: number;
  readonly jobname: string | undefined;
}

/** Free share (%) below which health drops to the free share itself. */
export const HEALTH_KNEE_PERCENT = 20;
/** Health while IMS Connect connections fail. */
export const HEALTH_BACKEND_FAILING = 10;

/** Compute the health report. Pure. */
export function computeHealth(i: HealthInputs): HealthReport {
  const ready = i.state === 'running';
  const free = i.maxInFlight <= 0 ? 0 : Math.max(0, Math.min(100, Math.floor(((i.maxInFlight - i.inFlight) * 100) / i.maxInFlight)));
  let health = ready ? (free > HEALTH_KNEE_PERCENT ? 100 : free) : 0;
  if (i.connectFailures > 0) health = Math.min(health, HEALTH_BACKEND_FAILING);
  return { ready, health, ...(i.jobname ? { jobname: i.jobname } : {}) };
}
