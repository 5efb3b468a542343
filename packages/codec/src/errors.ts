/**
 * Errors of imsplex. One base class with a stable string `code` per failure; match on `code`, not on
 * the class or the message. The brand is a global symbol, so `instanceof` and `isImsplexError` work
 * across two copies of the package (for example one bundled by a tool and one installed beside it).
 */

const BRAND = Symbol.for('imsplex.error');

/** Base class of every error thrown by an imsplex package. */
export class ImsplexError extends Error {
  /** Stable machine-readable code, e.g. `IMS_ERR_FRAME_TOO_LARGE`. */
  readonly code: string;
  /** Extra structured facts about the failure (offsets, lengths, names). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = Object.freeze({ ...(options?.details ?? {}) });
    Object.defineProperty(this, BRAND, { value: true });
  }

  override get name(): string {
    return this.constructor.name;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === ImsplexError) return isImsplexError(value);
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/** True for any imsplex error, from any copy of the package. */
export function isImsplexError(value: unknown): value is ImsplexError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** Codes of the errors the codec throws. Arbitrary bytes only ever give a value or one of these. */
export const CodecErrorCode = {
  /** A length prefix announces more bytes than the configured maximum frame size. */
  FRAME_TOO_LARGE: 'IMS_ERR_FRAME_TOO_LARGE',
  /** The bytes end before the structure they started is complete. */
  TRUNCATED: 'IMS_ERR_TRUNCATED',
  /** A length field is impossible (smaller than its own header, past its container, negative). */
  BAD_LENGTH: 'IMS_ERR_BAD_LENGTH',
  /** The IRM_LEN is below the minimum for its exit, or past the message. */
  BAD_IRM_LENGTH: 'IMS_ERR_BAD_IRM_LENGTH',
  /** No exit is registered for this IRM_ID. */
  UNKNOWN_EXIT: 'IMS_ERR_UNKNOWN_EXIT',
  /** The message has no X'00040000' end-of-message marker where one is required. */
  MISSING_EOM: 'IMS_ERR_MISSING_EOM',
  /** A data segment's LL is impossible (below 4, or above X'7FFF', i.e. a negative halfword). */
  BAD_SEGMENT: 'IMS_ERR_BAD_SEGMENT',
  /** Bytes follow the end-of-message marker inside the announced length. */
  TRAILING_BYTES: 'IMS_ERR_TRAILING_BYTES',
  /** A message type that must carry data (send-receive, send-only, callout response) has no segment. */
  NO_DATA: 'IMS_ERR_NO_DATA',
  /** An IRM extension has a bad length or offset. */
  BAD_EXTENSION: 'IMS_ERR_BAD_EXTENSION',
  /** A reply structure is not what the reply grammar allows here. */
  BAD_REPLY: 'IMS_ERR_BAD_REPLY',
  /** An OTMA prefix section is malformed. */
  BAD_OTMA: 'IMS_ERR_BAD_OTMA',
  /** A value given to an encoder does not fit its field. */
  INVALID_VALUE: 'IMS_ERR_INVALID_VALUE',
  /** A code page name or table is not known or not valid. */
  BAD_CODE_PAGE: 'IMS_ERR_BAD_CODE_PAGE',
} as const;
export type CodecErrorCode = (typeof CodecErrorCode)[keyof typeof CodecErrorCode];

/** An error decoding or encoding IMS Connect / OTMA bytes. */
export class CodecError extends ImsplexError {
  declare readonly code: CodecErrorCode;
  constructor(code: CodecErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, options);
  }
}
