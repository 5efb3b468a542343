/**
 * Declarative layouts for fixed binary structures.
 *
 * One `defineLayout(name, fields)` call describes a structure once and drives three things:
 *
 * 1. a **fast reader and writer**, generated as specialised JavaScript (`new Function`) from the
 *    field list, so the hot path costs what a hand-written DataView reader costs;
 * 2. a **binary-parser `Parser`** built from the same definition, for declarative tools, custom exits
 *    and the cross-check tests (binary-parser only parses, and its `.string()` is ~9× slower than
 *    generated code — TOOLCHAIN §8 — which is why it is not the hot path);
 * 3. the **field table** (`layout.fields`, `describeLayout`) for docs and tools.
 *
 * Integers are big-endian and unsigned. Character fields are fixed length, left-justified and padded
 * on the right; they are translated through a `CodePage` on read and write.
 */
import { Parser } from 'binary-parser';
import { CodecError, CodecErrorCode } from './errors.js';
import { CP037, type CodePage } from './ebcdic.js';
import { isTablePage } from './page-kind.js';

/** Kinds of field a layout can hold. */
export type FieldKind = 'u8' | 'u16' | 'u32' | 'char' | 'bytes';

/** One field as written in a layout definition. `length` is required for `char` and `bytes`. */
export interface FieldDef {
  /** Property name in the decoded object; must be a plain identifier (`[A-Za-z_$][A-Za-z0-9_$]*`). */
  readonly name: string;
  /** Field kind: `u8`/`u16`/`u32` big-endian unsigned, `char` code-page text, `bytes` raw. */
  readonly kind: FieldKind;
  /** Byte length of a `char` or `bytes` field (ignored for integers). */
  readonly length?: number;
  /** IBM's name of the field (e.g. `IRM_LEN`), for docs and tools. */
  readonly ibm?: string;
  /** One-line description. */
  readonly doc?: string;
  /**
   * Optional value mapping for an integer field: `decode` turns the wire number into a richer value
   * (e.g. a flag byte into named booleans) and `encode` turns it back. Both run on the hot path.
   */
  readonly transform?: FieldTransform<number, unknown>;
}

/** A value mapping between a field's wire value `W` and its decoded value `T`. */
export interface FieldTransform<W, T> {
  decode(wire: W): T;
  encode(value: T): W;
}

/** A field with its resolved offset and length. */
export interface LayoutField extends FieldDef {
  readonly offset: number;
  readonly length: number;
}

type FieldValue<D extends FieldDef> = D extends { readonly transform: FieldTransform<number, infer T> }
  ? T
  : D['kind'] extends 'char'
    ? string
    : D['kind'] extends 'bytes'
      ? Uint8Array
      : number;

/**
 * The decoded object type of a field list: numbers for integers (or the `transform`'s type),
 * strings for `char`, bytes for `bytes`.
 */
export type LayoutValueOf<F extends readonly FieldDef[]> = {
  -readonly [D in F[number] as D['name']]: FieldValue<D>;
};

/** The decoded object type of a layout. */
export type LayoutValue<L> = L extends Layout<infer T> ? T : never;

/** A compiled layout. */
export interface Layout<T> {
  /** Name of the structure (e.g. `IRM fixed part`). */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /** Fields with offsets, in order. */
  readonly fields: readonly LayoutField[];
  /**
   * Read the structure at `bytes[offset]`. Character fields are decoded with `page` (default CP037)
   * and lose their right padding: trailing X'00' and the page's blank always, plus, for EBCDIC pages,
   * ASCII blank X'20' (never a valid name character in EBCDIC). For ASCII pages a trailing X'40'
   * (`@`) is kept unless the whole field is padding, because `@` is legal in IMS names.
   * Throws `IMS_ERR_TRUNCATED` when fewer than `size` bytes are available.
   */
  read(bytes: Uint8Array, offset?: number, page?: CodePage): T;
  /**
   * Write `value` at `target[offset]`. Integers must fit their field, `char` values are encoded with
   * `page` and padded with its blank, `bytes` values may be shorter than the field (zero-filled)
   * but not longer. Throws `IMS_ERR_INVALID_VALUE` on a value that does not fit and
   * `IMS_ERR_TRUNCATED` when the target is too small.
   */
  write(value: T, target: Uint8Array, offset?: number, page?: CodePage): void;
  /** Allocate `size` bytes and write `value` into them. */
  encode(value: T, page?: CodePage): Uint8Array;
  /** binary-parser `Parser` for this layout with CP037 character fields. */
  readonly parser: Parser;
  /** binary-parser `Parser` for this layout with the given code page (cached per page). */
  parserFor(page: CodePage): Parser;
  /** Parse with binary-parser (slow path, same result as `read`), typed. */
  parse(bytes: Uint8Array, offset?: number, page?: CodePage): T;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

/** Padding tables: 1 where a trailing byte counts as padding. */
const PAD_EBCDIC = new Uint8Array(256);
PAD_EBCDIC[0x00] = PAD_EBCDIC[0x40] = PAD_EBCDIC[0x20] = 1;
const PAD_ASCII = new Uint8Array(256);
PAD_ASCII[0x00] = PAD_ASCII[0x20] = 1;

/**
 * Decode a padded character field (see `Layout.read` for the padding rule). Exported for code that
 * reads character fields outside a layout, so every character field in the codec is read alike.
 */
export function readCharField(bytes: Uint8Array, start: number, length: number, page: CodePage): string {
  return length === 8 ? readName8(bytes, start, page) : readCharFieldUncached(bytes, start, length, page);
}

/**
 * Decoded 8-byte fields of one code page, direct-mapped (`NAME_CACHE_SLOTS` slots, so bounded): the
 * field's bytes as two int32s and its text. Eight-byte names (IRM_ID, client ID, transaction code,
 * datastore, LTERM, user ID, tpipe …) repeat from message to message; a hit costs two compares instead
 * of a string built character by character.
 */
interface NameCache {
  readonly hi: Int32Array;
  readonly lo: Int32Array;
  readonly text: Array<string | undefined>;
}
const NAME_CACHE_BITS = 10;
const NAME_CACHE_SLOTS = 1 << NAME_CACHE_BITS;
const nameCaches = new WeakMap<CodePage, NameCache | null>();
let lastCachePage: CodePage | undefined;
let lastCache: NameCache | null = null;

/**
 * The name cache of `page`, or null for a page that is not one of the codec's table pages (a caller's
 * own `CodePage` object could change its characters; it is read uncached).
 */
function nameCacheOf(page: CodePage): NameCache | null {
  if (page === lastCachePage) return lastCache;
  let c = nameCaches.get(page);
  if (c === undefined) {
    c = isTablePage(page) ? { hi: new Int32Array(NAME_CACHE_SLOTS), lo: new Int32Array(NAME_CACHE_SLOTS), text: new Array<string | undefined>(NAME_CACHE_SLOTS).fill(undefined) } : null;
    nameCaches.set(page, c);
  }
  lastCachePage = page;
  lastCache = c;
  return c;
}

/** `readCharField` of an 8-byte field, through the page's name cache. */
function readName8(b: Uint8Array, at: number, page: CodePage): string {
  if (!(at >= 0) || at + 8 > b.length) return readCharFieldUncached(b, at, 8, page);
  const hi = (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
  const lo = (b[at + 4]! << 24) | (b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!;
  const slot = Math.imul(hi ^ Math.imul(lo, 0x9e3779b1), 0x85ebca6b) >>> (32 - NAME_CACHE_BITS);
  const c = nameCacheOf(page);
  if (c === null) return readCharFieldUncached(b, at, 8, page);
  const cached = c.text[slot];
  if (cached !== undefined && c.hi[slot] === hi && c.lo[slot] === lo) return cached;
  const text = readCharFieldUncached(b, at, 8, page);
  c.hi[slot] = hi;
  c.lo[slot] = lo;
  c.text[slot] = text;
  return text;
}

function readCharFieldUncached(bytes: Uint8Array, start: number, length: number, page: CodePage): string {
  const pad = page.ebcdic ? PAD_EBCDIC : PAD_ASCII;
  let end = start + length;
  while (end > start && pad[bytes[end - 1]!] === 1) end--;
  if (end > start && !page.ebcdic && bytes[end - 1] === 0x40) {
    // ASCII page: trailing '@' is data unless the whole field is padding (X'40'-padded by an EBCDIC habit).
    let i = start;
    while (i < end && (bytes[i] === 0x40 || PAD_ASCII[bytes[i]!] === 1)) i++;
    if (i === end) return '';
  }
  if (end === start) return '';
  const chars = page.chars;
  if (end - start <= 16) {
    let s = '';
    for (let i = start; i < end; i++) s += chars[bytes[i]!];
    return s;
  }
  return page.decode(bytes, start, end);
}

/** Copy `length` bytes into a plain `Uint8Array` (never a Buffer, never a view). */
function copyBytes(bytes: Uint8Array, start: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  // A loop for short fields: cheaper than making the `subarray` view that `set` needs.
  if (length <= 64) for (let i = 0; i < length; i++) out[i] = bytes[start + i]!;
  else out.set(bytes.subarray(start, start + length));
  return out;
}

function truncated(name: string, size: number, offset: number, available: number): CodecError {
  return new CodecError(CodecErrorCode.TRUNCATED, `${name}: needs ${size} bytes at offset ${offset}, ${Math.max(0, available - offset)} available`, {
    details: { structure: name, size, offset, available },
  });
}

function badValue(layout: string, field: string, value: unknown, why: string): CodecError {
  return new CodecError(CodecErrorCode.INVALID_VALUE, `${layout}.${field}: ${why} (got ${typeof value === 'string' ? JSON.stringify(value) : String(value)})`, {
    details: { structure: layout, field, value },
  });
}

function writeBytes(layout: string, field: string, v: unknown, t: Uint8Array, at: number, length: number): void {
  if (!(v instanceof Uint8Array)) throw badValue(layout, field, v, 'expected a Uint8Array');
  if (v.length > length) throw badValue(layout, field, `${v.length} bytes`, `field holds ${length} bytes`);
  t.set(v, at);
  if (v.length < length) t.fill(0, at + v.length, at + length);
}

function writeChar(layout: string, field: string, v: unknown, t: Uint8Array, at: number, length: number, page: CodePage): void {
  if (typeof v !== 'string') throw badValue(layout, field, v, 'expected a string');
  if (v.length > length) throw badValue(layout, field, v, `field holds ${length} characters`);
  page.encodeInto(v, t, at, length);
}

/** Options of `defineLayout`. */
export interface LayoutOptions {
  /**
   * Extra properties the reader puts on every decoded object, with constant values (JSON-serialisable
   * primitives or null). Useful when the caller completes the object after `read` (e.g. a `kind` tag
   * or slots filled later): declaring them here keeps one object shape, which keeps the hot path fast.
   * The writer ignores them.
   */
  readonly extra?: Readonly<Record<string, string | number | boolean | null>>;
}

/**
 * Define a fixed structure. `fields` is read in order; offsets are the running sum of lengths. The
 * value type is inferred from the field list (`as const` is not needed):
 *
 * ```ts
 * const Header = defineLayout('header', [
 *   { name: 'len', kind: 'u16' },
 *   { name: 'id', kind: 'char', length: 8 },
 * ]);
 * Header.read(bytes, 0, CP037); // { len: number; id: string }
 * ```
 */
export function defineLayout<const F extends readonly FieldDef[]>(name: string, fields: F, options: LayoutOptions = {}): Layout<LayoutValueOf<F>> {
  type T = LayoutValueOf<F>;
  const resolved: LayoutField[] = [];
  const seen = new Set<string>();
  let offset = 0;
  for (const f of fields) {
    if (!IDENT.test(f.name) || RESERVED.has(f.name)) throw new CodecError(CodecErrorCode.INVALID_VALUE, `layout ${name}: field name "${f.name}" is not a plain identifier`);
    if (seen.has(f.name)) throw new CodecError(CodecErrorCode.INVALID_VALUE, `layout ${name}: duplicate field "${f.name}"`);
    seen.add(f.name);
    let length: number;
    switch (f.kind) {
      case 'u8':
        length = 1;
        break;
      case 'u16':
        length = 2;
        break;
      case 'u32':
        length = 4;
        break;
      case 'char':
      case 'bytes':
        if (!Number.isInteger(f.length) || f.length! < 1 || f.length! > 0xffff) {
          throw new CodecError(CodecErrorCode.INVALID_VALUE, `layout ${name}: field "${f.name}" needs a length of 1–65535`);
        }
        length = f.length!;
        break;
      default:
        throw new CodecError(CodecErrorCode.INVALID_VALUE, `layout ${name}: field "${f.name}" has unknown kind "${String((f as FieldDef).kind)}"`);
    }
    resolved.push(Object.freeze({ ...f, offset, length }));
    offset += length;
  }
  const size = offset;
  Object.freeze(resolved);

  // ---- generated reader ----
  // Names are checked against IDENT above, so they can be spliced into source safely.
  const readBody: string[] = [];
  const transforms: FieldTransform<number, unknown>[] = [];
  for (const f of resolved) {
    const at = `o + ${f.offset}`;
    let expr: string;
    switch (f.kind) {
      case 'u8':
        expr = `b[${at}]`;
        break;
      case 'u16':
        expr = `(b[${at}] << 8) | b[${at} + 1]`;
        break;
      case 'u32':
        expr = `(b[${at}] * 16777216) + ((b[${at} + 1] << 16) | (b[${at} + 2] << 8) | b[${at} + 3])`;
        break;
      case 'char':
        expr = `readChar(b, ${at}, ${f.length}, page)`;
        break;
      case 'bytes':
        expr = `copyBytes(b, ${at}, ${f.length})`;
        break;
    }
    if (f.transform) {
      if (f.kind === 'char' || f.kind === 'bytes') throw new CodecError(CodecErrorCode.INVALID_VALUE, `layout ${name}: transform is only for integer fields ("${f.name}")`);
      expr = `d${transforms.length}(${expr})`;
      transforms.push(f.transform);
    }
    readBody.push(`    ${f.name}: ${expr},`);
  }
  for (const [k, v] of Object.entries(options.extra ?? {})) {
    if (!IDENT.test(k) || RESERVED.has(k) || seen.has(k)) throw new CodecError(CodecErrorCode.INVALID_VALUE, `layout ${name}: extra property "${k}" is not a new plain identifier`);
    if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new CodecError(CodecErrorCode.INVALID_VALUE, `layout ${name}: extra property "${k}" must be a primitive`);
    readBody.push(`    ${k}: ${JSON.stringify(v)},`);
  }
  const hoisted = transforms.map((_, i) => `const d${i} = tx[${i}].decode, e${i} = tx[${i}].encode;`).join('\n');
  const readSource = `
${hoisted}
return function read(b, o, page) {
  if (o === undefined) o = 0;
  if (page === undefined) page = defaultPage;
  if (!(o >= 0) || o + ${size} > b.length) throw truncated(layoutName, ${size}, o, b.length);
  return {
${readBody.join('\n')}
  };
};`;
  const read = new Function('readChar', 'copyBytes', 'truncated', 'layoutName', 'defaultPage', 'tx', readSource)(readCharField, copyBytes, truncated, name, CP037, transforms) as Layout<T>['read'];

  // ---- generated writer ----
  const writeBody: string[] = [];
  let txIndex = 0;
  for (const f of resolved) {
    const at = `o + ${f.offset}`;
    const v = f.transform ? `e${txIndex++}(value.${f.name})` : `value.${f.name}`;
    const n = JSON.stringify(f.name);
    switch (f.kind) {
      case 'u8':
        writeBody.push(`  x = ${v}; if (!(x >= 0 && x <= 255) || x !== (x | 0)) throw bad(layoutName, ${n}, x, 'expected an integer 0–255'); t[${at}] = x;`);
        break;
      case 'u16':
        writeBody.push(`  x = ${v}; if (!(x >= 0 && x <= 65535) || x !== (x | 0)) throw bad(layoutName, ${n}, x, 'expected an integer 0–65535'); t[${at}] = x >>> 8; t[${at} + 1] = x & 255;`);
        break;
      case 'u32':
        writeBody.push(
          `  x = ${v}; if (!(x >= 0 && x <= 4294967295) || x !== Math.floor(x)) throw bad(layoutName, ${n}, x, 'expected an integer 0–4294967295'); t[${at}] = x >>> 24; t[${at} + 1] = (x >>> 16) & 255; t[${at} + 2] = (x >>> 8) & 255; t[${at} + 3] = x & 255;`,
        );
        break;
      case 'char':
        writeBody.push(`  writeChar(layoutName, ${n}, ${v}, t, ${at}, ${f.length}, page);`);
        break;
      case 'bytes':
        writeBody.push(`  writeBytes(layoutName, ${n}, ${v}, t, ${at}, ${f.length});`);
        break;
    }
  }
  const writeSource = `
${hoisted}
return function write(value, t, o, page) {
  if (o === undefined) o = 0;
  if (page === undefined) page = defaultPage;
  if (!(o >= 0) || o + ${size} > t.length) throw truncated(layoutName, ${size}, o, t.length);
  let x;
${writeBody.join('\n')}
};`;
  const write = new Function('bad', 'writeChar', 'writeBytes', 'truncated', 'layoutName', 'defaultPage', 'tx', writeSource)(
    badValue,
    writeChar,
    writeBytes,
    truncated,
    name,
    CP037,
    transforms,
  ) as Layout<T>['write'];

  // ---- binary-parser, from the same definition ----
  const parsers = new Map<CodePage, Parser>();
  const parserFor = (page: CodePage): Parser => {
    let p = parsers.get(page);
    if (p) return p;
    p = new Parser().endianness('big');
    for (const f of resolved) {
      switch (f.kind) {
        case 'u8':
          p = f.transform ? p.uint8(f.name, { formatter: (v: number) => f.transform!.decode(v) }) : p.uint8(f.name);
          break;
        case 'u16':
          p = f.transform ? p.uint16be(f.name, { formatter: (v: number) => f.transform!.decode(v) }) : p.uint16be(f.name);
          break;
        case 'u32':
          p = f.transform ? p.uint32be(f.name, { formatter: (v: number) => f.transform!.decode(v) }) : p.uint32be(f.name);
          break;
        case 'char':
          // binary-parser's own string encodings know no EBCDIC (TOOLCHAIN §8): decode via the page.
          p = p.buffer(f.name, { length: f.length, formatter: (buf: Uint8Array) => readCharField(buf, 0, buf.length, page) });
          break;
        case 'bytes':
          p = p.buffer(f.name, { length: f.length, formatter: (buf: Uint8Array) => new Uint8Array(buf) });
          break;
      }
    }
    parsers.set(page, p);
    return p;
  };

  const layout: Layout<T> = {
    name,
    size,
    fields: resolved,
    read,
    write,
    encode(value: T, page: CodePage = CP037): Uint8Array {
      const out = new Uint8Array(size);
      write(value, out, 0, page);
      return out;
    },
    get parser(): Parser {
      return parserFor(CP037);
    },
    parserFor,
    parse(bytes: Uint8Array, offset = 0, page: CodePage = CP037): T {
      if (!(offset >= 0) || offset + size > bytes.length) throw truncated(name, size, offset, bytes.length);
      return { ...(parserFor(page).parse(bytes.subarray(offset, offset + size)) as T) };
    },
  };
  return Object.freeze(layout);
}

/** The field table of a layout as Markdown (offset, length, kind, name, IBM name, description). */
export function describeLayout(layout: Layout<unknown>, options: { base?: number } = {}): string {
  const base = options.base ?? 0;
  const rows = layout.fields.map((f) => {
    const off = base + f.offset;
    return `| ${off} (X'${off.toString(16).toUpperCase().padStart(2, '0')}') | ${f.length} | ${f.kind} | \`${f.name}\` | ${f.ibm ? `\`${f.ibm}\`` : ''} | ${f.doc ?? ''} |`;
  });
  return [`**${layout.name}** (${layout.size} bytes)`, '', '| offset | length | kind | field | IBM name | description |', '|---|---|---|---|---|---|', ...rows].join('\n');
}
