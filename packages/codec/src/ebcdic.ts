/**
 * EBCDIC code pages as 256-entry tables, with fast encode/decode.
 *
 * The tables are facts (IBM's published code page assignments); they are checked byte for byte
 * against the `codepage` npm package in `ebcdic.test.ts`. CP037, CP500 and CP1047 are permutations
 * of Latin-1, so they are stored as byte → Latin-1 code point; CP1140 is CP037 with X'9F' = € (U+20AC).
 */
import { CodecError, CodecErrorCode } from './errors.js';

/** Byte written for a character the code page cannot represent: EBCDIC SUB (X'3F'). */
export const EBCDIC_SUBSTITUTE = 0x3f;
/** EBCDIC blank. */
export const EBCDIC_SPACE = 0x40;
/** ASCII blank. */
export const ASCII_SPACE = 0x20;

const HEX_TABLES = {
  /** IBM-037: EBCDIC byte (index) to Latin-1 code point, as hex pairs. */
  cp037:
    '000102039c09867f978d8e0b0c0d0e0f101112139d8508871819928f1c1d1e1f' +
    '80818283840a171b88898a8b8c050607909116939495960498999a9b14159e1a' +
    '20a0e2e4e0e1e3e5e7f1a22e3c282b7c26e9eaebe8edeeefecdf21242a293bac' +
    '2d2fc2c4c0c1c3c5c7d1a62c255f3e3ff8c9cacbc8cdcecfcc603a2340273d22' +
    'd8616263646566676869abbbf0fdfeb1b06a6b6c6d6e6f707172aabae6b8c6a4' +
    'b57e737475767778797aa1bfd0dddeae5ea3a5b7a9a7b6bcbdbe5b5dafa8b4d7' +
    '7b414243444546474849adf4f6f2f3f57d4a4b4c4d4e4f505152b9fbfcf9faff' +
    '5cf7535455565758595ab2d4d6d2d3d530313233343536373839b3dbdcd9da9f',
  /** IBM-500: EBCDIC byte (index) to Latin-1 code point, as hex pairs. */
  cp500:
    '000102039c09867f978d8e0b0c0d0e0f101112139d8508871819928f1c1d1e1f' +
    '80818283840a171b88898a8b8c050607909116939495960498999a9b14159e1a' +
    '20a0e2e4e0e1e3e5e7f15b2e3c282b2126e9eaebe8edeeefecdf5d242a293b5e' +
    '2d2fc2c4c0c1c3c5c7d1a62c255f3e3ff8c9cacbc8cdcecfcc603a2340273d22' +
    'd8616263646566676869abbbf0fdfeb1b06a6b6c6d6e6f707172aabae6b8c6a4' +
    'b57e737475767778797aa1bfd0dddeaea2a3a5b7a9a7b6bcbdbeac7cafa8b4d7' +
    '7b414243444546474849adf4f6f2f3f57d4a4b4c4d4e4f505152b9fbfcf9faff' +
    '5cf7535455565758595ab2d4d6d2d3d530313233343536373839b3dbdcd9da9f',
  /** IBM-1047: EBCDIC byte (index) to Latin-1 code point, as hex pairs. */
  cp1047:
    '000102039c09867f978d8e0b0c0d0e0f101112139d0a08871819928f1c1d1e1f' +
    '808182838485171b88898a8b8c050607909116939495960498999a9b14159e1a' +
    '20a0e2e4e0e1e3e5e7f1a22e3c282b7c26e9eaebe8edeeefecdf21242a293b5e' +
    '2d2fc2c4c0c1c3c5c7d1a62c255f3e3ff8c9cacbc8cdcecfcc603a2340273d22' +
    'd8616263646566676869abbbf0fdfeb1b06a6b6c6d6e6f707172aabae6b8c6a4' +
    'b57e737475767778797aa1bfd05bdeaeaca3a5b7a9a7b6bcbdbedda8af5db4d7' +
    '7b414243444546474849adf4f6f2f3f57d4a4b4c4d4e4f505152b9fbfcf9faff' +
    '5cf7535455565758595ab2d4d6d2d3d530313233343536373839b3dbdcd9da9f',
} as const;

/** A single-byte code page: decode bytes to text and encode text to bytes. */
export interface CodePage {
  /** Canonical name, e.g. `cp037`. */
  readonly name: string;
  /** True for an EBCDIC page (blank is X'40'); false for ASCII/Latin-1 (blank is X'20'). */
  readonly ebcdic: boolean;
  /** The byte of the blank character in this page. */
  readonly space: number;
  /** Byte → character, 256 entries. */
  readonly chars: readonly string[];
  /** Decode `bytes[start, end)` to a string. */
  decode(bytes: Uint8Array, start?: number, end?: number): string;
  /** Encode `text`; unmappable characters become the page's substitute byte. */
  encode(text: string): Uint8Array;
  /**
   * Encode `text` into `target` at `offset`, exactly `length` bytes: padded on the right with `pad`
   * (default the page's blank). Throws `IMS_ERR_INVALID_VALUE` if the text is longer than `length`.
   */
  encodeInto(text: string, target: Uint8Array, offset: number, length: number, pad?: number): void;
  /** Byte for one UTF-16 code unit, or -1 if unmappable. */
  byteOf(codeUnit: number): number;
}

class TableCodePage implements CodePage {
  readonly chars: readonly string[];
  readonly space: number;
  private readonly low: Int16Array; // code unit < 256 → byte, -1 unmapped
  private readonly high: Map<number, number>; // code unit ≥ 256 → byte
  private readonly latin1Bytes: Uint8Array | null; // byte → Latin-1 code point, when the page is a Latin-1 permutation
  private scratch: Buffer = Buffer.allocUnsafe(256);

  constructor(
    readonly name: string,
    codePoints: ArrayLike<number>,
    readonly ebcdic: boolean,
    private readonly substitute: number,
  ) {
    if (codePoints.length !== 256) throw new CodecError(CodecErrorCode.BAD_CODE_PAGE, `code page ${name}: table must have 256 entries, got ${codePoints.length}`);
    const chars: string[] = [];
    this.low = new Int16Array(256).fill(-1);
    this.high = new Map();
    let latin1 = true;
    for (let b = 0; b < 256; b++) {
      const cp = codePoints[b]!;
      if (!Number.isInteger(cp) || cp < 0 || cp > 0xffff) throw new CodecError(CodecErrorCode.BAD_CODE_PAGE, `code page ${name}: entry ${b} is not a BMP code point`);
      chars.push(String.fromCharCode(cp));
      if (cp < 256) {
        if (this.low[cp] === -1) this.low[cp] = b;
      } else {
        latin1 = false;
        if (!this.high.has(cp)) this.high.set(cp, b);
      }
    }
    this.chars = Object.freeze(chars);
    this.latin1Bytes = latin1 ? Uint8Array.from(codePoints) : null;
    this.space = this.byteOf(0x20);
    if (this.space < 0) throw new CodecError(CodecErrorCode.BAD_CODE_PAGE, `code page ${name}: no blank character`);
  }

  byteOf(codeUnit: number): number {
    return codeUnit < 256 ? this.low[codeUnit]! : (this.high.get(codeUnit) ?? -1);
  }

  decode(bytes: Uint8Array, start = 0, end = bytes.length): string {
    const n = end - start;
    if (n <= 0) return '';
    const chars = this.chars;
    if (n <= 24 || this.latin1Bytes === null) {
      let s = '';
      for (let i = start; i < end; i++) s += chars[bytes[i]!];
      return s;
    }
    if (this.scratch.length < n) this.scratch = Buffer.allocUnsafe(Math.max(n, this.scratch.length * 2));
    const t = this.latin1Bytes;
    const out = this.scratch;
    for (let i = 0; i < n; i++) out[i] = t[bytes[start + i]!]!;
    return out.toString('latin1', 0, n);
  }

  encode(text: string): Uint8Array {
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const b = this.byteOf(text.charCodeAt(i));
      out[i] = b < 0 ? this.substitute : b;
    }
    return out;
  }

  encodeInto(text: string, target: Uint8Array, offset: number, length: number, pad = this.space): void {
    if (text.length > length) {
      throw new CodecError(CodecErrorCode.INVALID_VALUE, `"${text}" is ${text.length} characters; the field holds ${length}`, { details: { value: text, length } });
    }
    let i = 0;
    for (; i < text.length; i++) {
      const b = this.byteOf(text.charCodeAt(i));
      target[offset + i] = b < 0 ? this.substitute : b;
    }
    for (; i < length; i++) target[offset + i] = pad;
  }
}

const registry = new Map<string, CodePage>();

function hexToCodePoints(hex: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < hex.length; i += 2) out.push(parseInt(hex.slice(i, i + 2), 16));
  return out;
}

function normalise(name: string | number): string {
  const s = String(name).trim().toLowerCase().replace(/[\s_-]/g, '');
  const m = /^(?:cp|ibm|ccsid)?0*(\d+)$/.exec(s);
  if (m) return `cp${m[1]!.padStart(3, '0')}`;
  return s;
}

/**
 * Register a custom single-byte code page. `table` gives, for each byte 0–255, the character it
 * stands for: a 256-character string or 256 UTF-16 code units. `ebcdic` says whether blank is X'40'
 * (inferred from the table when omitted). Returns the page; later lookups by `name` find it.
 */
export function registerCodePage(name: string, table: string | ArrayLike<number>, options: { ebcdic?: boolean; substitute?: number } = {}): CodePage {
  const codePoints = typeof table === 'string' ? Array.from({ length: table.length }, (_, i) => table.charCodeAt(i)) : table;
  const key = normalise(name);
  if (!key) throw new CodecError(CodecErrorCode.BAD_CODE_PAGE, 'code page name is empty');
  const ebcdic = options.ebcdic ?? codePoints[0x40] === 0x20;
  const substitute = options.substitute ?? (ebcdic ? EBCDIC_SUBSTITUTE : 0x3f /* ASCII '?' */);
  const page = new TableCodePage(key, codePoints, ebcdic, substitute);
  registry.set(key, page);
  return page;
}

/**
 * Look up a code page by name. Accepts `cp037`, `037`, `37`, `IBM-037`, `CCSID 1140` … and `latin1`
 * / `ascii` (ISO-8859-1 identity, for ASCII clients). Throws `IMS_ERR_BAD_CODE_PAGE` if unknown.
 */
export function getCodePage(name: string | number): CodePage {
  const key = normalise(name);
  const page = registry.get(key) ?? registry.get(ALIASES[key] ?? '');
  if (!page) throw new CodecError(CodecErrorCode.BAD_CODE_PAGE, `unknown code page "${name}"; known: ${[...registry.keys()].join(', ')}`);
  return page;
}

/** Names of every registered code page. */
export function codePageNames(): string[] {
  return [...registry.keys()];
}

const ALIASES: Record<string, string> = { ascii: 'latin1', iso88591: 'latin1', usascii: 'latin1', binary: 'latin1', cp819: 'latin1', ebcdic: 'cp037' };

registerCodePage('cp037', hexToCodePoints(HEX_TABLES.cp037), { ebcdic: true });
registerCodePage('cp500', hexToCodePoints(HEX_TABLES.cp500), { ebcdic: true });
registerCodePage('cp1047', hexToCodePoints(HEX_TABLES.cp1047), { ebcdic: true });
{
  // CCSID 1140 = CCSID 37 with the euro sign at X'9F' (replacing ¤).
  const t = hexToCodePoints(HEX_TABLES.cp037);
  t[0x9f] = 0x20ac;
  registerCodePage('cp1140', t, { ebcdic: true });
}
registerCodePage('latin1', Array.from({ length: 256 }, (_, i) => i), { ebcdic: false });

/** CP037, the default EBCDIC code page of IBM's IMS Connect API for Java and of this codec. */
export const CP037: CodePage = getCodePage('cp037');
/** ISO-8859-1 identity page, used for ASCII clients' character fields. */
export const LATIN1: CodePage = getCodePage('latin1');

/** Decode a fixed character field, dropping trailing blanks (X'40' or X'20') and X'00' padding. */
export function decodeField(bytes: Uint8Array, offset: number, length: number, page: CodePage): string {
  let end = offset + length;
  while (end > offset) {
    const b = bytes[end - 1];
    if (b === 0x00 || b === page.space || b === 0x40 || b === 0x20) end--;
    else break;
  }
  return page.decode(bytes, offset, end);
}

/** True when a fixed field is "not supplied": all blanks (either code set) or all X'00'. */
export function isBlankField(bytes: Uint8Array, offset: number, length: number): boolean {
  for (let i = offset; i < offset + length; i++) {
    const b = bytes[i];
    if (b !== 0x00 && b !== 0x40 && b !== 0x20) return false;
  }
  return true;
}
