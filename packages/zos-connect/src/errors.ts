/**
 * Errors of @imsplex/zos-connect. Every failure is an `ImsplexError` (from @imsplex/codec) with a
 * stable string `code`; match on `code`, never on the message. The codes are listed once in
 * `ZosConnectErrorCode`; `status.ts` maps each of them (and every client / RSM code) to an HTTP status.
 */
import { ImsplexError } from '@imsplex/codec';

/** Codes of the errors the z/OS Connect emulator raises itself. */
export const ZosConnectErrorCode = {
  /** A configuration file is invalid; `details.problems` lists each `file:line: key: what`. */
  CONFIG: 'ZCON_ERR_CONFIG',
  /** The request body is not JSON, not an object, or does not fit the service's request record. */
  BAD_REQUEST: 'ZCON_ERR_BAD_REQUEST',
  /** A path or query parameter is missing or does not fit its field. */
  BAD_PARAMETER: 'ZCON_ERR_BAD_PARAMETER',
  /** No API path, service or admin resource matches the URL. */
  NOT_FOUND: 'ZCON_ERR_NOT_FOUND',
  /** The URL exists but not with this method. */
  METHOD_NOT_ALLOWED: 'ZCON_ERR_METHOD_NOT_ALLOWED',
  /** The request body is larger than `maxRequestBodySize`. */
  PAYLOAD_TOO_LARGE: 'ZCON_ERR_PAYLOAD_TOO_LARGE',
  /** The content type is not supported here (e.g. an archive upload). */
  UNSUPPORTED_MEDIA_TYPE: 'ZCON_ERR_UNSUPPORTED_MEDIA_TYPE',
  /** The service or API is stopped: new requests fail, in-flight ones complete. */
  STOPPED: 'ZCON_ERR_STOPPED',
  /** The admin operation conflicts with the current state (e.g. delete a started service). */
  CONFLICT: 'ZCON_ERR_CONFLICT',
  /** The server is paused or stopping and accepts no new work. */
  UNAVAILABLE: 'ZCON_ERR_UNAVAILABLE',
  /** `asyncRequestTimeout` expired before IMS answered (IBM BAQR0433W); the IMS work is not cancelled. */
  TIMEOUT: 'ZCON_ERR_TIMEOUT',
  /** Credentials are missing or wrong (basic auth). */
  UNAUTHORIZED: 'ZCON_ERR_UNAUTHORIZED',
  /** The user is authenticated but lacks the role the operation needs. */
  FORBIDDEN: 'ZCON_ERR_FORBIDDEN',
  /** Too many requests are in flight (`maxInFlight`) or too many conversations are open. */
  OVERLOADED: 'ZCON_ERR_OVERLOADED',
  /** The response record from IMS does not fit the response copybook (conversion error). */
  BAD_RESPONSE: 'ZCON_ERR_BAD_RESPONSE',
  /** IMS answered DFS064: the transaction (destination) is unknown. */
  IMS_DESTINATION: 'ZCON_ERR_IMS_DESTINATION',
  /** IMS answered DFS065: the transaction or LTERM is stopped. */
  IMS_STOPPED: 'ZCON_ERR_IMS_STOPPED',
  /** IMS answered DFS555I: the program abended; its work was backed out. */
  IMS_ABEND: 'ZCON_ERR_IMS_ABEND',
  /** IMS answered DFS2082: the transaction ended without a reply. */
  IMS_NO_REPLY: 'ZCON_ERR_IMS_NO_REPLY',
  /** IMS answered with another DFS message instead of the application's output. */
  IMS_MESSAGE: 'ZCON_ERR_IMS_MESSAGE',
  /** The conversation ID is unknown here (ended, expired, or held by another server). */
  CONVERSATION_NOT_FOUND: 'ZCON_ERR_CONVERSATION_NOT_FOUND',
  /** Anything unexpected; the original error is kept as `cause`. */
  INTERNAL: 'ZCON_ERR_INTERNAL',
} as const;
/** A z/OS Connect emulator error code. */
export type ZosConnectErrorCode = (typeof ZosConnectErrorCode)[keyof typeof ZosConnectErrorCode];

/** Base class of the errors this package raises. */
export class ZosConnectError extends ImsplexError {
  declare readonly code: ZosConnectErrorCode;
  constructor(code: ZosConnectErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, options);
  }
}

/** One configuration problem, located in its file. */
export interface ConfigProblem {
  /** Path of the file, relative to the configuration directory when inside it. */
  readonly file: string;
  /** 1-based line (0 when the problem concerns the whole file). */
  readonly line: number;
  /** The key (attribute, element or JSON path) at fault. */
  readonly key: string;
  /** What is wrong. */
  readonly message: string;
}

/** Format one problem as `file:line: key: what is wrong`. */
export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}: ${p.key}: ${p.message}`;
}

/** The configuration directory is invalid. The message lists every problem, one per line. */
export class ConfigError extends ZosConnectError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    const lines = problems.map(formatProblem);
    super(ZosConnectErrorCode.CONFIG, lines.length === 1 ? lines[0]! : `${lines.length} configuration problems:\n${lines.join('\n')}`, {
      details: { problems: lines },
    });
    this.problems = Object.freeze([...problems]);
  }
}

/** Collects problems while a file is checked, so one run reports all of them. */
export class ProblemList {
  readonly items: ConfigProblem[] = [];
  add(file: string, line: number, key: string, message: string): void {
    this.items.push({ file, line, key, message });
  }
  get empty(): boolean {
    return this.items.length === 0;
  }
  /** Throw a `ConfigError` when anything was collected. */
  throwIfAny(): void {
    if (this.items.length > 0) throw new ConfigError(this.items);
  }
}
