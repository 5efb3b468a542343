/**
 * Errors of the IMS Connect emulator. Match on `code`; the classes exist for `instanceof` only.
 * Protocol errors a client could cause are never thrown at the client: they become RSMs.
 * These errors are for the operator (bad configuration, bad command, bad users file) and for
 * programmatic callers of the server API.
 */
import { ImsplexError } from '@imsplex/codec';

/** Stable codes of every error this package throws. */
export const ImsConnectErrorCode = {
  /** A HWSCFG member or options object is invalid; `details` has file, line and key. */
  CONFIG: 'IMS_ERR_CONFIG',
  /** The RACF users file is missing, malformed or holds an unsupported hash. */
  USERS_FILE: 'IMS_ERR_USERS_FILE',
  /** An operator command is not known or its arguments are wrong. */
  COMMAND: 'IMS_ERR_COMMAND',
  /** A write stayed blocked (write() === false) longer than the drain timeout. */
  DRAIN_TIMEOUT: 'IMS_ERR_DRAIN_TIMEOUT',
  /** A client sent part of a frame and then nothing for longer than the read timeout. */
  READ_TIMEOUT: 'IMS_ERR_READ_TIMEOUT',
  /** A datastore link failed (XCF connect refused, link dropped, bad OTMA frame from IMS). */
  DATASTORE: 'IMS_ERR_DATASTORE',
  /** A port could not be opened (address in use, permission). */
  PORT: 'IMS_ERR_PORT',
  /** The server is shutting down and refuses new work. */
  SHUTDOWN: 'IMS_ERR_SHUTDOWN',
} as const;
export type ImsConnectErrorCode = (typeof ImsConnectErrorCode)[keyof typeof ImsConnectErrorCode];

/** An error of the IMS Connect emulator. */
export class ImsConnectError extends ImsplexError {
  declare readonly code: ImsConnectErrorCode;
  constructor(code: ImsConnectErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, options);
  }
}

/** Where a configuration value came from, for `file:line: key` messages. */
export interface ConfigSource {
  file: string;
  line: number;
  key: string;
}

/** A configuration error naming the file, line and key, formatted `file:line: KEY: message`. */
export class ConfigError extends ImsConnectError {
  readonly file: string;
  readonly line: number;
  readonly key: string;
  constructor(source: ConfigSource, message: string) {
    super(ImsConnectErrorCode.CONFIG, `${source.file}:${source.line}: ${source.key}: ${message}`, { details: { ...source } });
    this.file = source.file;
    this.line = source.line;
    this.key = source.key;
  }
}
