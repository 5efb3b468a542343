/**
 * Reconnect back-off: exponential growth capped at a maximum, with "full jitter" (a uniform draw
 * between 0 and the exponential value) so many clients that lost the same IMS Connect do not
 * reconnect in lock-step. The random source is injectable for deterministic tests.
 */
import { invalidArgument } from './errors.js';

/** Back-off settings. */
export interface BackoffOptions {
  /** Delay before the first retry, ms. Default 100. */
  readonly initialDelay?: number;
  /** Cap on any delay, ms. Default 5000. */
  readonly maxDelay?: number;
  /** Growth factor per attempt. Default 2. */
  readonly factor?: number;
  /** Fraction of the delay that is randomised, 0 (none) … 1 (full jitter). Default 1. */
  readonly jitter?: number;
}

/** Resolved back-off settings. */
export type ResolvedBackoff = Required<BackoffOptions>;

/** Validate and apply defaults. */
export function resolveBackoff(input: BackoffOptions | undefined): ResolvedBackoff {
  const b = { initialDelay: 100, maxDelay: 5000, factor: 2, jitter: 1, ...(input ?? {}) };
  if (!(b.initialDelay >= 0) || !Number.isFinite(b.initialDelay)) throw invalidArgument(`backoff.initialDelay must be a finite number ≥ 0, got ${b.initialDelay}`);
  if (!(b.maxDelay >= b.initialDelay) || !Number.isFinite(b.maxDelay)) throw invalidArgument(`backoff.maxDelay must be finite and ≥ initialDelay, got ${b.maxDelay}`);
  if (!(b.factor >= 1) || !Number.isFinite(b.factor)) throw invalidArgument(`backoff.factor must be ≥ 1, got ${b.factor}`);
  if (!(b.jitter >= 0 && b.jitter <= 1)) throw invalidArgument(`backoff.jitter must be within 0…1, got ${b.jitter}`);
  return Object.freeze(b);
}

/**
 * Delay before retry number `attempt` (0-based): `min(maxDelay, initialDelay × factor^attempt)`, of
 * which the `jitter` fraction is replaced by a uniform draw from `rng()` (0 ≤ rng() < 1).
 */
export function backoffDelay(b: ResolvedBackoff, attempt: number, rng: () => number): number {
  const exp = Math.min(b.maxDelay, b.initialDelay * Math.pow(b.factor, Math.max(0, attempt)));
  const fixed = exp * (1 - b.jitter);
  const r = rng();
  const u = r >= 0 && r < 1 ? r : 0;
  return Math.round(fixed + exp * b.jitter * u);
}
