/**
 * Errors of @imsplex/distributor. The distributor has no package dependency (ARCHITECTURE.md), so it
 * does not import `ImsplexError` from @imsplex/codec; instead `DistributorError` carries the same
 * global brand (`Symbol.for('imsplex.error')`), which is what codec's `isImsplexError` and
 * `instanceof ImsplexError` check. Match on `code`, never on the message.
 */

const BRAND = Symbol.for('imsplex.error');

/** Stable codes of every error the distributor throws or emits. */
export const DistributorErrorCode = {
  /** The TCP/IP profile (VIPADYNAMIC / IMSPLEX blocks) is not valid; `details.errors` lists each `file:line: key: problem`. */
  CONFIG: 'SD_ERR_CONFIG',
  /** An option given to the programmatic API is not valid. */
  BAD_OPTION: 'SD_ERR_BAD_OPTION',
  /** An operator command could not be parsed or is not valid in the current state. */
  BAD_COMMAND: 'SD_ERR_BAD_COMMAND',
  /** A target's health endpoint answered with something that is not the documented JSON contract. */
  BAD_HEALTH_REPORT: 'SD_ERR_BAD_HEALTH_REPORT',
  /** A heartbeat peer sent a frame that is too large or not valid. */
  BAD_HEARTBEAT: 'SD_ERR_BAD_HEARTBEAT',
  /** No target is eligible for a new connection: the client's connection is reset. */
  NO_TARGET: 'SD_ERR_NO_TARGET',
  /** Connecting to the chosen target failed or timed out (proxy data plane). */
  TARGET_CONNECT: 'SD_ERR_TARGET_CONNECT',
  /** Passing an accepted socket to a target's process failed (handoff data plane). */
  HANDOFF: 'SD_ERR_HANDOFF',
  /** The distributor is closed or destroyed. */
  CLOSED: 'SD_ERR_CLOSED',
  /** A listen on the VIPA failed for a reason other than the address being held by a peer. */
  LISTEN: 'SD_ERR_LISTEN',
} as const;
export type DistributorErrorCode = (typeof DistributorErrorCode)[keyof typeof DistributorErrorCode];

/** The error class of this package; an imsplex error by brand. */
export class DistributorError extends Error {
  /** Stable machine-readable code. */
  readonly code: DistributorErrorCode;
  /** Structured facts about the failure. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: DistributorErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = Object.freeze({ ...(options?.details ?? {}) });
    Object.defineProperty(this, BRAND, { value: true });
  }

  override get name(): string {
    return 'DistributorError';
  }
}

/** One problem found in a profile, located by file, line and statement keyword. */
export interface ConfigProblem {
  readonly file: string;
  readonly line: number;
  readonly key: string;
  readonly message: string;
}

/** Formats a problem as `file:line: key: what is wrong`. */
export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}: ${p.key}: ${p.message}`;
}

/** Thrown when a profile has one or more problems; the message has one problem per line. */
export class ConfigError extends DistributorError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(DistributorErrorCode.CONFIG, problems.map(formatProblem).join('\n'), { details: { problems } });
    this.problems = problems;
  }
  override get name(): string {
    return 'ConfigError';
  }
}
