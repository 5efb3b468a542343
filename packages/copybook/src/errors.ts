/**
 * Errors of @imsplex/copybook. Match on `code`, never on the message.
 *
 * Parse and compile errors carry `details.file` (when a file name was given) and `details.line`;
 * their message reads `file:line: what is wrong`. Record errors (decode/encode) carry
 * `details.field` (the COBOL name, qualified with its parents) and, where it applies,
 * `details.offset` (byte offset in the record).
 */
import { ImsplexError } from '@imsplex/codec';

/** Stable codes of every error this package throws. */
export const CopybookErrorCode = {
  // ---- parsing the copybook text
  /** A word, literal or period is not where COBOL grammar allows it. */
  SYNTAX: 'COPYBOOK_ERR_SYNTAX',
  /** A PICTURE string is malformed or does not fit the item's USAGE. */
  BAD_PICTURE: 'COPYBOOK_ERR_BAD_PICTURE',
  /** A level number is out of range or does not fit the hierarchy. */
  BAD_LEVEL: 'COPYBOOK_ERR_BAD_LEVEL',
  /** A clause is malformed or contradicts another clause of the same item. */
  BAD_CLAUSE: 'COPYBOOK_ERR_BAD_CLAUSE',
  /** REDEFINES, DEPENDING ON or RENAMES names an item that does not exist where it must. */
  UNKNOWN_NAME: 'COPYBOOK_ERR_UNKNOWN_NAME',
  /** Valid COBOL this package does not map (COPY, NATIONAL, POINTER, SYNC slack bytes, …). */
  UNSUPPORTED: 'COPYBOOK_ERR_UNSUPPORTED',
  /** The copybook has no data item, or `options.record` names none of its records. */
  NO_RECORD: 'COPYBOOK_ERR_NO_RECORD',
  /** Two JSON properties of the same object would get the same name. */
  DUPLICATE_NAME: 'COPYBOOK_ERR_DUPLICATE_NAME',
  /** A compile option is invalid (unknown value, names no field, …). */
  BAD_OPTION: 'COPYBOOK_ERR_BAD_OPTION',
  /** The record would exceed `maxRecordSize`. */
  RECORD_TOO_LARGE: 'COPYBOOK_ERR_RECORD_TOO_LARGE',

  // ---- decoding a record
  /** The record is shorter than its layout needs. */
  RECORD_TOO_SHORT: 'COPYBOOK_ERR_RECORD_TOO_SHORT',
  /** The record is longer than its layout (and `allowTrailingBytes` is off). */
  RECORD_TOO_LONG: 'COPYBOOK_ERR_RECORD_TOO_LONG',
  /** A packed-decimal sign nibble is not A–F. */
  INVALID_PACKED_SIGN: 'COPYBOOK_ERR_INVALID_PACKED_SIGN',
  /** A packed-decimal digit nibble is not 0–9. */
  INVALID_PACKED_DIGIT: 'COPYBOOK_ERR_INVALID_PACKED_DIGIT',
  /** A zoned-decimal byte is not a digit (or the sign byte has an invalid zone). */
  INVALID_ZONED_DIGIT: 'COPYBOOK_ERR_INVALID_ZONED_DIGIT',
  /** A SIGN SEPARATE character is neither `+` nor `-`. */
  INVALID_SIGN: 'COPYBOOK_ERR_INVALID_SIGN',
  /** An OCCURS DEPENDING ON counter holds a value outside `m TO n`. */
  ODO_OUT_OF_RANGE: 'COPYBOOK_ERR_ODO_OUT_OF_RANGE',

  // ---- encoding a record
  /** A JSON value has the wrong type (e.g. an object where a number belongs). */
  INVALID_VALUE: 'COPYBOOK_ERR_INVALID_VALUE',
  /** A number has more integer digits than the PICTURE (or exceeds the binary range). */
  VALUE_TOO_LARGE: 'COPYBOOK_ERR_VALUE_TOO_LARGE',
  /** A number has more decimal places than the PICTURE, or is negative for an unsigned PICTURE. */
  VALUE_NOT_REPRESENTABLE: 'COPYBOOK_ERR_VALUE_NOT_REPRESENTABLE',
  /** A string is longer than its field (and `stringOverflow` is `error`). */
  STRING_TOO_LONG: 'COPYBOOK_ERR_STRING_TOO_LONG',
  /** An array has more elements than OCCURS allows, or fewer than the ODO minimum. */
  ARRAY_LENGTH: 'COPYBOOK_ERR_ARRAY_LENGTH',
  /** The JSON gives an ODO counter that disagrees with its array's length. */
  ODO_COUNTER_MISMATCH: 'COPYBOOK_ERR_ODO_COUNTER_MISMATCH',
  /** The JSON addresses more than one definition of the same bytes (REDEFINES). */
  REDEFINES_CONFLICT: 'COPYBOOK_ERR_REDEFINES_CONFLICT',
} as const;
export type CopybookErrorCode = (typeof CopybookErrorCode)[keyof typeof CopybookErrorCode];

/** Any error of the copybook package. */
export class CopybookError extends ImsplexError {
  declare readonly code: CopybookErrorCode;
  constructor(code: CopybookErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, options);
  }
}

/** Build a parse/compile error whose message starts with `file:line:` (or `line N:`). */
export function sourceError(code: CopybookErrorCode, file: string | undefined, line: number, what: string, details: Record<string, unknown> = {}): CopybookError {
  const where = file ? `${file}:${line}` : `line ${line}`;
  return new CopybookError(code, `${where}: ${what}`, { details: { ...(file ? { file } : {}), line, ...details } });
}

/** Build a record error naming the field (and the byte offset when known). */
export function fieldError(code: CopybookErrorCode, field: string, what: string, details: Record<string, unknown> = {}): CopybookError {
  const at = typeof details['offset'] === 'number' ? ` (offset ${details['offset']})` : '';
  return new CopybookError(code, `${field}${at}: ${what}`, { details: { field, ...details } });
}
