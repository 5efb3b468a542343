/**
 * User message exits: IRM_ID → user-part format and reply shape.
 *
 * IMS Connect picks the user message exit from the 8-byte `IRM_ID` of every input message; the exit
 * decides how the rest of the IRM looks and how the reply is framed. This module is a registry of
 * those formats. The IBM samples (`*SAMPLE*`, `*SAMPL1*`, `*HWSJAV*`, `*IRMREQ*`) are registered with
 * the same `registerExit` call any tool can use for a site-specific exit.
 *
 * `IRM_ID` is recognised in EBCDIC (CP037 spelling; IDs use only characters that are identical in every
 * EBCDIC page) or in ASCII, with X'40', X'20' or X'00' padding (spec §10, §14).
 */
import { Parser } from 'binary-parser';
import { IrmId, MIN_IRM_LENGTH_SAMPLE, IRM_FIXED_LENGTH } from './constants.js';
import { CP037, LATIN1, type CodePage } from './ebcdic.js';
import { CodecError, CodecErrorCode } from './errors.js';
import { readCharField, type Layout } from './layout.js';
import type { CodeSet } from './reply.js';


/**
 * How the user part of the IRM (after the 28-byte fixed part) is laid out:
 * - `'sample'` — the HWSSMPL0/HWSSMPL1 user part, sized from IRM_LEN, with IRM extensions;
 * - `'none'` — no user part (e.g. `*HWSJAV*`, where OTMA headers follow the fixed part);
 * - a `Layout` from `defineLayout` — fixed fields, decoded and re-encoded;
 * - a binary-parser `Parser` — decoded only; the raw bytes are re-sent unchanged on encode.
 */
export type UserPartFormat = 'sample' | 'none' | Layout<Record<string, unknown>> | Parser;

/** What a tool states about a user message exit. */
export interface ExitDefinition {
  /** The IRM_ID, 1–8 characters (`*MYEXIT*`). Upper-case letters, digits and `*#$@_-` only. */
  readonly id: string;
  /** Smallest IRM_LEN the exit accepts (≥ 28; IBM: X'24' for user-written exits, X'50' for the samples). */
  readonly minIrmLength: number;
  /** Format of the IRM user part. */
  readonly userPart: UserPartFormat;
  /** True when the exit's replies start with a 4-byte LLLL (HWSSMPL1), false when not (HWSSMPL0). */
  readonly replyHasLlll: boolean;
  /** True when the client sends OTMA headers between the IRM and the data (HWSJAVA0). */
  readonly otmaHeaders?: boolean;
  /** One-line description. */
  readonly description?: string;
}

/** A registered exit, with its ID encoded in both code sets. */
export interface RegisteredExit extends ExitDefinition {
  readonly otmaHeaders: boolean;
  /** True for the exits imsplex registers itself. */
  readonly builtIn: boolean;
  /** IRM_ID bytes in EBCDIC, blank padded. */
  readonly ebcdicId: Uint8Array;
  /** IRM_ID bytes in ASCII, blank padded. */
  readonly asciiId: Uint8Array;
}

/** Result of recognising an IRM_ID. */
export interface ExitMatch {
  readonly exit: RegisteredExit;
  readonly codeSet: CodeSet;
}

const ID_CHARS = /^[A-Z0-9*#$@_-]{1,8}$/;

const byKey = new Map<string, RegisteredExit>();
/** Fast path: first 4 ID bytes as a u32 → candidates whose last 4 bytes are compared. */
const byPrefix = new Map<number, Array<{ tail: number; match: ExitMatch }>>();

function u32(b: Uint8Array, o: number): number {
  return (b[o]! * 16777216) + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

function rebuildIndex(): void {
  byPrefix.clear();
  for (const exit of byKey.values()) {
    for (const [codeSet, bytes, blank] of [
      ['ebcdic', exit.ebcdicId, 0x40],
      ['ascii', exit.asciiId, 0x20],
    ] as const) {
      // the ID as registered, and with X'00' / the other blank as padding
      for (const pad of [blank, 0x00, blank === 0x40 ? 0x20 : 0x40]) {
        const v = bytes.slice();
        for (let i = exit.id.length; i < 8; i++) v[i] = pad;
        const head = u32(v, 0);
        const list = byPrefix.get(head) ?? [];
        const tail = u32(v, 4);
        if (!list.some((e) => e.tail === tail)) list.push({ tail, match: { exit, codeSet } });
        byPrefix.set(head, list);
      }
    }
  }
}

function checkDefinition(def: ExitDefinition): void {
  const fail = (why: string): never => {
    throw new CodecError(CodecErrorCode.INVALID_VALUE, `registerExit(${JSON.stringify(def?.id)}): ${why}`, { details: { id: def?.id } });
  };
  if (typeof def !== 'object' || def === null) fail('expected an exit definition object');
  if (typeof def.id !== 'string' || !ID_CHARS.test(def.id)) fail('id must be 1–8 characters of A–Z 0–9 * # $ @ _ -');
  if (!Number.isInteger(def.minIrmLength) || def.minIrmLength < IRM_FIXED_LENGTH || def.minIrmLength > 0xffff) {
    fail(`minIrmLength must be an integer ${IRM_FIXED_LENGTH}–65535`);
  }
  if (typeof def.replyHasLlll !== 'boolean') fail('replyHasLlll must be a boolean');
  const up = def.userPart;
  const isLayout = typeof up === 'object' && up !== null && 'read' in up && 'write' in up && 'size' in up;
  if (up !== 'sample' && up !== 'none' && !isLayout && !(up instanceof Parser)) fail("userPart must be 'sample', 'none', a Layout or a binary-parser Parser");
  if (isLayout && IRM_FIXED_LENGTH + (up as Layout<unknown>).size > def.minIrmLength) {
    fail(`minIrmLength ${def.minIrmLength} is smaller than the fixed part plus the user-part layout (${IRM_FIXED_LENGTH + (up as Layout<unknown>).size})`);
  }
  if (up === 'sample' && def.minIrmLength < MIN_IRM_LENGTH_SAMPLE) fail(`the sample user part needs minIrmLength ≥ ${MIN_IRM_LENGTH_SAMPLE}`);
}

/**
 * Register (or, with `replace: true`, re-register) a user message exit format so `decodeRequest`,
 * `encodeRequest` and the reply reader know it. Returns the registered exit.
 * Throws `IMS_ERR_INVALID_VALUE` for a bad definition or an ID already registered.
 */
export function registerExit(def: ExitDefinition, options: { replace?: boolean } = {}): RegisteredExit {
  return register(def, options.replace === true, false);
}

function register(def: ExitDefinition, replace: boolean, builtIn: boolean): RegisteredExit {
  checkDefinition(def);
  const existing = byKey.get(def.id);
  if (existing && !replace) {
    throw new CodecError(CodecErrorCode.INVALID_VALUE, `an exit with IRM_ID ${def.id} is already registered; pass { replace: true } to replace it`, { details: { id: def.id } });
  }
  const ebcdicId = new Uint8Array(8);
  CP037.encodeInto(def.id, ebcdicId, 0, 8);
  const asciiId = new Uint8Array(8);
  LATIN1.encodeInto(def.id, asciiId, 0, 8);
  const exit: RegisteredExit = Object.freeze({
    ...def,
    otmaHeaders: def.otmaHeaders === true,
    builtIn,
    ebcdicId,
    asciiId,
  });
  byKey.set(def.id, exit);
  rebuildIndex();
  return exit;
}

/** Remove a registered exit (not the built-in ones). Returns true when one was removed. */
export function unregisterExit(id: string): boolean {
  const exit = byKey.get(id);
  if (!exit) return false;
  if (exit.builtIn) throw new CodecError(CodecErrorCode.INVALID_VALUE, `the built-in exit ${id} cannot be unregistered (re-register it with { replace: true })`);
  byKey.delete(id);
  rebuildIndex();
  return true;
}

/** The exit registered under `id` (e.g. `'*SAMPL1*'`), or undefined. */
export function getExit(id: string): RegisteredExit | undefined {
  return byKey.get(id.trim());
}

/** All registered exits. */
export function listExits(): RegisteredExit[] {
  return [...byKey.values()];
}

/**
 * Recognise the 8-byte IRM_ID at `bytes[offset]` in EBCDIC or ASCII (any of X'40', X'20', X'00'
 * padding). Returns the exit and the client's code set, or undefined when no exit matches.
 */
export function matchExit(bytes: Uint8Array, offset: number): ExitMatch | undefined {
  if (offset < 0 || offset + 8 > bytes.length) return undefined;
  const list = byPrefix.get(u32(bytes, offset));
  if (list !== undefined) {
    const tail = u32(bytes, offset + 4);
    for (const e of list) if (e.tail === tail) return e.match;
  }
  // slow path: mixed padding
  for (const [codeSet, page] of [
    ['ebcdic', CP037],
    ['ascii', LATIN1],
  ] as const) {
    const exit = byKey.get(readCharField(bytes, offset, 8, page));
    if (exit) return { exit, codeSet };
  }
  return undefined;
}

/**
 * Does this exit's reply carry a leading LLLL? Accepts an IRM_ID string, a registered exit, or
 * the raw 8 IRM_ID bytes. Throws `IMS_ERR_UNKNOWN_EXIT` when the ID is not registered.
 */
export function replyHasLlll(exit: string | RegisteredExit | Uint8Array): boolean {
  if (typeof exit === 'string') {
    const e = getExit(exit);
    if (!e) throw unknownExit(exit);
    return e.replyHasLlll;
  }
  if (exit instanceof Uint8Array) {
    const m = matchExit(exit, 0);
    if (!m) throw unknownExit(readCharField(exit, 0, Math.min(8, exit.length), CP037));
    return m.exit.replyHasLlll;
  }
  return exit.replyHasLlll;
}

/** The coded error for an IRM_ID no exit is registered for. */
export function unknownExit(id: string, details: Record<string, unknown> = {}): CodecError {
  return new CodecError(CodecErrorCode.UNKNOWN_EXIT, `no user message exit is registered for IRM_ID ${JSON.stringify(id)} (known: ${[...byKey.keys()].join(', ')})`, {
    // IMS Connect answers an unknown exit ID with no RSM at all: it logs HWSP1445E and closes the
    // socket, since without an exit there is nobody to build the reply. [INF]
    details: { id, ...details },
  });
}

// ---------------------------------------------------------------------------------------------------
// Application data described with binary-parser
// ---------------------------------------------------------------------------------------------------

/** A typed reader of application data built from a binary-parser `Parser`. */
export interface UserDataDescription<T> {
  /** The underlying parser. */
  readonly parser: Parser;
  /**
   * Parse segment data. With `skipTrancode` (default false) the first 8 bytes (the transaction code
   * of a first segment) are skipped. Any failure (too short, bad assert) becomes `IMS_ERR_TRUNCATED`
   * or `IMS_ERR_INVALID_VALUE` — never a RangeError.
   */
  parse(data: Uint8Array, options?: { skipTrancode?: boolean }): T;
  /** Parse the data segments of a message, joined in order (the trancode is skipped when `skipTrancode`). */
  parseSegments(segments: readonly Uint8Array[], options?: { skipTrancode?: boolean }): T;
}

/**
 * Describe application data (the bytes of LLZZ segments) with a binary-parser `Parser`, and get a
 * typed, error-safe reader. Use `charFormatter(page)` for EBCDIC text fields:
 *
 * ```ts
 * const Phone = describeUserData<{ cmd: string; name: string }>(
 *   new Parser().buffer('cmd', { length: 8, formatter: charFormatter(CP037) })
 *               .buffer('name', { length: 10, formatter: charFormatter(CP037) }));
 * Phone.parse(request.segments[0], { skipTrancode: true });
 * ```
 */
export function describeUserData<T>(parser: Parser): UserDataDescription<T> {
  if (!(parser instanceof Parser)) throw new CodecError(CodecErrorCode.INVALID_VALUE, 'describeUserData expects a binary-parser Parser');
  const parse = (data: Uint8Array, options?: { skipTrancode?: boolean }): T => {
    const bytes = options?.skipTrancode ? data.subarray(Math.min(8, data.length)) : data;
    try {
      return parser.parse(bytes) as T;
    } catch (err) {
      if (err instanceof CodecError) throw err;
      const isRange = err instanceof RangeError;
      throw new CodecError(isRange ? CodecErrorCode.TRUNCATED : CodecErrorCode.INVALID_VALUE, `user data: ${(err as Error)?.message ?? String(err)}`, {
        cause: err,
        details: { length: bytes.length },
      });
    }
  };
  return Object.freeze({
    parser,
    parse,
    parseSegments(segments: readonly Uint8Array[], options?: { skipTrancode?: boolean }): T {
      let total = 0;
      for (const s of segments) total += s.length;
      const joined = new Uint8Array(total);
      let at = 0;
      for (const s of segments) {
        joined.set(s, at);
        at += s.length;
      }
      return parse(joined, options);
    },
  });
}

/** A binary-parser `formatter` that decodes a `.buffer()` field as padded text in `page`. */
export function charFormatter(page: CodePage = CP037): (buf: Uint8Array) => string {
  return (buf: Uint8Array) => readCharField(buf, 0, buf.length, page);
}

// ---------------------------------------------------------------------------------------------------
// Built-in exits
// ---------------------------------------------------------------------------------------------------

/** HWSSMPL0: the sample user part; replies have no leading LLLL. */
export const SAMPLE_EXIT: RegisteredExit = register(
  { id: IrmId.SAMPLE, minIrmLength: MIN_IRM_LENGTH_SAMPLE, userPart: 'sample', replyHasLlll: false, description: 'HWSSMPL0 sample exit (no reply LLLL)' },
  false,
  true,
);
/** HWSSMPL1: the sample user part; replies start with an LLLL. */
export const SAMPL1_EXIT: RegisteredExit = register(
  { id: IrmId.SAMPL1, minIrmLength: MIN_IRM_LENGTH_SAMPLE, userPart: 'sample', replyHasLlll: true, description: 'HWSSMPL1 sample exit (reply LLLL)' },
  false,
  true,
);
/**
 * HWSJAVA0 (IMS TM Resource Adapter): the 28-byte fixed part, then OTMA headers, then LLZZ data.
 * [INF] Replies carry a leading LLLL like HWSSMPL1 (the RA reads a 4-byte length first).
 */
export const HWSJAV_EXIT: RegisteredExit = register(
  {
    id: IrmId.HWSJAV,
    minIrmLength: IRM_FIXED_LENGTH,
    userPart: 'none',
    replyHasLlll: true,
    otmaHeaders: true,
    description: 'HWSJAVA0 (IMS TM Resource Adapter): IRM fixed part, OTMA headers, data',
  },
  false,
  true,
);
/**
 * HWSIMSO0/1 (`*IRMREQ*`), the older ITOC-style exit. [INF] Its user part is taken to be the sample
 * layout and minimum (the exit predates HWSSMPL1 and uses the same fields as far as third-party docs
 * show); replies are assumed to have no LLLL. Re-register with `{ replace: true }` to change.
 */
export const IRMREQ_EXIT: RegisteredExit = register(
  { id: IrmId.IRMREQ, minIrmLength: MIN_IRM_LENGTH_SAMPLE, userPart: 'sample', replyHasLlll: false, description: 'HWSIMSO0/1 ITOC-style exit (sample user part assumed)' },
  false,
  true,
);
