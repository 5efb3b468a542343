import { ImsplexError } from '@imsplex/codec';

/** Stable codes of the errors @imsplex/ims throws. Match on `code`, never on the message. */
export const ImsErrorCode = {
  /** The IMS system definition file is invalid (the message names file, line and key). */
  CONFIG: 'IMS_ERR_CONFIG',
  /** A transaction input queue is full (per-transaction `MAXQ=` or the system-wide limit). */
  QUEUE_FULL: 'IMS_ERR_QUEUE_FULL',
  /** A tpipe hold queue is full. */
  HOLD_QUEUE_FULL: 'IMS_ERR_HOLD_QUEUE_FULL',
  /** The transaction code is not defined. */
  UNKNOWN_TRANSACTION: 'IMS_ERR_UNKNOWN_TRANSACTION',
  /** The transaction is stopped for queuing (/STO TRAN). */
  TRANSACTION_STOPPED: 'IMS_ERR_TRANSACTION_STOPPED',
  /** The journal file is damaged in a way replay cannot skip (not a torn tail). */
  JOURNAL_CORRUPT: 'IMS_ERR_JOURNAL_CORRUPT',
  /** The journal is closed or failed; nothing more can be made durable. */
  JOURNAL_CLOSED: 'IMS_ERR_JOURNAL_CLOSED',
  /** A record is larger than the journal accepts. */
  JOURNAL_RECORD_TOO_LARGE: 'IMS_ERR_JOURNAL_RECORD_TOO_LARGE',
  /** The system is not started or is stopping. */
  NOT_ACTIVE: 'IMS_ERR_NOT_ACTIVE',
  /** A program used the DL/I API wrongly (for example a call after its region ended). */
  PROGRAM_API: 'IMS_ERR_PROGRAM_API',
  /** A program module named in the configuration could not be loaded. */
  PROGRAM_LOAD: 'IMS_ERR_PROGRAM_LOAD',
  /** Too many conversations, tpipes or links: a bound was reached. */
  LIMIT: 'IMS_ERR_LIMIT',
  /** An OTMA link peer broke the protocol. */
  OTMA_PROTOCOL: 'IMS_ERR_OTMA_PROTOCOL',
  /** A type-1 command is not valid. */
  COMMAND: 'IMS_ERR_COMMAND',
} as const;
export type ImsErrorCode = (typeof ImsErrorCode)[keyof typeof ImsErrorCode];

/** An error of the IMS transaction engine. */
export class ImsError extends ImsplexError {
  declare readonly code: ImsErrorCode;
  constructor(code: ImsErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, options);
  }
}

/** A configuration error naming the file, line and key, as `file:line: KEY: message`. */
export class ImsConfigError extends ImsError {
  readonly file: string;
  readonly line: number;
  readonly key: string;
  constructor(file: string, line: number, key: string, message: string) {
    super(ImsErrorCode.CONFIG, `${file}:${line}: ${key}: ${message}`, { details: { file, line, key } });
    this.file = file;
    this.line = line;
    this.key = key;
  }
}
