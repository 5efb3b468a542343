/**
 * Errors of the stack supervisor. Match on `code`, never on the message.
 */
import { ImsplexError } from '@imsplex/codec';

/** Stable codes of {@link StackError}. */
export const StackErrorCode = {
  /** The topology file is invalid; `details.problems` lists every `file:line: key: message`. */
  TOPOLOGY: 'STACK_ERR_TOPOLOGY',
  /** A box name that the topology does not define. */
  UNKNOWN_BOX: 'STACK_ERR_UNKNOWN_BOX',
  /** A box's package has no runnable bin (not built, or still a placeholder). */
  NO_BIN: 'STACK_ERR_NO_BIN',
  /** A box did not become healthy within its start timeout. */
  START_TIMEOUT: 'STACK_ERR_START_TIMEOUT',
  /** A box exited while it was starting. */
  START_FAILED: 'STACK_ERR_START_FAILED',
  /** An operation is not valid in the box's current state (e.g. restart while starting). */
  BAD_STATE: 'STACK_ERR_BAD_STATE',
  /** An operator command could not be delivered to a box's admin endpoint. */
  COMMAND: 'STACK_ERR_COMMAND',
  /** The host addresses of the topology cannot be bound on this machine. */
  HOSTS_UNAVAILABLE: 'STACK_ERR_HOSTS_UNAVAILABLE',
  /** A request to the supervisor's admin API was malformed. */
  BAD_REQUEST: 'STACK_ERR_BAD_REQUEST',
} as const;
export type StackErrorCode = (typeof StackErrorCode)[keyof typeof StackErrorCode];

/** An error of the stack supervisor. */
export class StackError extends ImsplexError {
  declare readonly code: StackErrorCode;
  constructor(code: StackErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, options);
  }
}

/** One topology problem, located. */
export interface TopologyProblem {
  readonly file: string;
  readonly line: number;
  readonly key: string;
  readonly message: string;
}

/** `file:line: key: message`. */
export function formatProblem(p: TopologyProblem): string {
  return `${p.file}:${p.line}: ${p.key}: ${p.message}`;
}

/** Every problem of a topology file at once. */
export class TopologyError extends StackError {
  readonly problems: readonly TopologyProblem[];
  constructor(problems: readonly TopologyProblem[]) {
    super(StackErrorCode.TOPOLOGY, problems.map(formatProblem).join('\n'), { details: { problems } });
    this.problems = problems;
  }
}
