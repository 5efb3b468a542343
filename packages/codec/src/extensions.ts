/**
 * IRM extensions (ARCH5, spec §2.4): `LL(2) ZZ(2) ID(8) data(n)` laid end to end from
 * `IRM_EXTN_OFF` (an offset from the IRM_LEN field) to the end of the IRM.
 *
 * [INF] IRM_LEN includes the extensions (the first data segment starts at 4 + IRM_LEN); the spec
 * leaves this open and every client we know of that sends extensions behaves so.
 */
import { IRM_EXTENSION_HEADER, IrmExtensionId, MAX_NETSID_LENGTH, MAX_NETUID_LENGTH } from './constants.js';
import { ReasonCode } from './codes.js';
import { CP037, LATIN1, type CodePage } from './ebcdic.js';
import { CodecError, CodecErrorCode } from './errors.js';
import type { CodeSet } from './reply.js';
import { readCharField } from './layout.js';

/** One IRM extension. */
export interface IrmExtension {
  /** `IRMEXTN_ID`, e.g. `*NETUID*` (all 8 characters, no trimming). */
  id: string;
  /** Code set the ID is written in (EBCDIC by IBM's default; ASCII clients may send ASCII). */
  idCodeSet: CodeSet;
  /** `IRMEXTN_ZZ` (reserved, normally 0; kept so a round trip is byte-exact). */
  reserved: number;
  /** `IRMEXTN_DATA`, binary by default (a view into the message on decode). */
  data: Uint8Array;
}

const KNOWN_IDS = Object.values(IrmExtensionId);
const KNOWN_EBCDIC = KNOWN_IDS.map((id) => CP037.encode(id));
const KNOWN_ASCII = KNOWN_IDS.map((id) => LATIN1.encode(id));

function equal8(a: Uint8Array, at: number, b: Uint8Array): boolean {
  for (let i = 0; i < 8; i++) if (a[at + i] !== b[i]) return false;
  return true;
}

function extensionError(reason: number, message: string, details: Record<string, unknown>): CodecError {
  return new CodecError(CodecErrorCode.BAD_EXTENSION, message, { details: { reason, ...details } });
}

/** Largest data length allowed for an extension ID, or undefined when unbounded. */
export function maxExtensionData(id: string): { max: number; reason: number } | undefined {
  if (id === IrmExtensionId.NETUID) return { max: MAX_NETUID_LENGTH, reason: ReasonCode.NETUID_TOO_LONG };
  if (id === IrmExtensionId.NETSID) return { max: MAX_NETSID_LENGTH, reason: ReasonCode.NETSID_TOO_LONG };
  return undefined;
}

/**
 * Read the extensions in `bytes[start, end)` (message offsets). `headerCodeSet` decides how an
 * unknown ID is decoded. Throws `IMS_ERR_BAD_EXTENSION` with `details.reason` 113 (bad length),
 * 117 (NETUID too long) or 118 (NETSID too long).
 */
export function decodeExtensions(bytes: Uint8Array, start: number, end: number, headerCodeSet: CodeSet): IrmExtension[] {
  const out: IrmExtension[] = [];
  let at = start;
  while (at < end) {
    if (at + IRM_EXTENSION_HEADER > end) {
      throw extensionError(ReasonCode.BAD_EXTENSION, `IRM extension at IRM offset ${at - 4} has only ${end - at} bytes; a header needs ${IRM_EXTENSION_HEADER}`, { offset: at });
    }
    const ll = (bytes[at]! << 8) | bytes[at + 1]!;
    if (ll < IRM_EXTENSION_HEADER || at + ll > end) {
      throw extensionError(ReasonCode.BAD_EXTENSION, `IRM extension at IRM offset ${at - 4} has length ${ll}; it must be ${IRM_EXTENSION_HEADER}–${end - at}`, { offset: at, length: ll });
    }
    let id: string | undefined;
    let idCodeSet: CodeSet = headerCodeSet;
    for (let k = 0; k < KNOWN_IDS.length && id === undefined; k++) {
      if (equal8(bytes, at + 4, KNOWN_EBCDIC[k]!)) {
        id = KNOWN_IDS[k]!;
        idCodeSet = 'ebcdic';
      } else if (equal8(bytes, at + 4, KNOWN_ASCII[k]!)) {
        id = KNOWN_IDS[k]!;
        idCodeSet = 'ascii';
      }
    }
    // unknown IDs: decoded untrimmed in the header's code set (both pages are bijective, so exact)
    id ??= (headerCodeSet === 'ascii' ? LATIN1 : CP037).decode(bytes, at + 4, at + 12);
    const data = bytes.subarray(at + IRM_EXTENSION_HEADER, at + ll);
    const limit = maxExtensionData(id);
    if (limit && data.length > limit.max) {
      throw extensionError(limit.reason, `IRM extension ${id} carries ${data.length} bytes; at most ${limit.max} are allowed`, { offset: at, id, length: data.length });
    }
    out.push({ id, idCodeSet, reserved: (bytes[at + 2]! << 8) | bytes[at + 3]!, data });
    at += ll;
  }
  return out;
}

/** Encoded size of a list of extensions. */
export function extensionsSize(extensions: readonly IrmExtension[]): number {
  let n = 0;
  for (const e of extensions) n += IRM_EXTENSION_HEADER + e.data.length;
  return n;
}

/**
 * Write extensions at `target[offset]`; returns the offset after them. Validates the limits with
 * `IMS_ERR_INVALID_VALUE` (carrying IBM's reason in `details.reason`).
 */
export function encodeExtensions(extensions: readonly IrmExtension[], target: Uint8Array, offset: number): number {
  let at = offset;
  for (const e of extensions) {
    const ll = IRM_EXTENSION_HEADER + e.data.length;
    if (typeof e.id !== 'string' || e.id.length !== 8) {
      throw new CodecError(CodecErrorCode.INVALID_VALUE, `IRM extension id must be 8 characters, got ${JSON.stringify(e.id)}`, { details: { id: e.id } });
    }
    const limit = maxExtensionData(e.id);
    if (limit && e.data.length > limit.max) {
      throw new CodecError(CodecErrorCode.INVALID_VALUE, `IRM extension ${e.id} carries ${e.data.length} bytes; at most ${limit.max} are allowed`, {
        details: { id: e.id, length: e.data.length, reason: limit.reason },
      });
    }
    if (ll > 0xffff) throw new CodecError(CodecErrorCode.INVALID_VALUE, `IRM extension ${e.id} is ${ll} bytes; LL is a halfword`, { details: { id: e.id, length: ll } });
    const reserved = e.reserved ?? 0;
    target[at] = ll >>> 8;
    target[at + 1] = ll & 0xff;
    target[at + 2] = (reserved >>> 8) & 0xff;
    target[at + 3] = reserved & 0xff;
    (e.idCodeSet === 'ascii' ? LATIN1 : CP037).encodeInto(e.id, target, at + 4, 8);
    target.set(e.data, at + IRM_EXTENSION_HEADER);
    at += ll;
  }
  return at;
}

/**
 * Build an extension from text data (e.g. a network user ID), encoded with `page` (default CP037).
 * The ID is written in EBCDIC unless `idCodeSet` says otherwise.
 */
export function textExtension(id: string, text: string, options: { page?: CodePage; idCodeSet?: CodeSet } = {}): IrmExtension {
  const padded = id.padEnd(8, ' ');
  return { id: padded, idCodeSet: options.idCodeSet ?? 'ebcdic', reserved: 0, data: (options.page ?? CP037).encode(text) };
}

/** Decode an extension's data as text in `page` (default CP037), trailing padding removed. */
export function extensionText(extension: IrmExtension, page: CodePage = CP037): string {
  return readCharField(extension.data, 0, extension.data.length, page);
}
