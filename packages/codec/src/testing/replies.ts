/**
 * A deliberately naive byte builder for reply and OTMA test fixtures. It shares no code with the
 * production encoders (not even the code page tables): tests build expected bytes field by field with
 * it, so an encoder bug cannot hide in both the fixture and the result.
 */

/** EBCDIC (CP037) for the few characters fixtures use; anything else is rejected, not guessed. */
const EBCDIC: Readonly<Record<string, number>> = (() => {
  const m: Record<string, number> = { ' ': 0x40, '*': 0x5c, '.': 0x4b, ',': 0x6b, ':': 0x7a, '=': 0x7e, '_': 0x6d, '-': 0x60, '/': 0x61, '#': 0x7b, '$': 0x5b, '@': 0x7c, '(': 0x4d, ')': 0x5d };
  const rows: Array<[string, number]> = [
    ['ABCDEFGHI', 0xc1],
    ['JKLMNOPQR', 0xd1],
    ['STUVWXYZ', 0xe2],
    ['abcdefghi', 0x81],
    ['jklmnopqr', 0x91],
    ['stuvwxyz', 0xa2],
    ['0123456789', 0xf0],
  ];
  for (const [chars, first] of rows) for (let i = 0; i < chars.length; i++) m[chars[i]!] = first + i;
  return m;
})();

/** Append-only byte builder: each call writes one field. */
export class ByteBuilder {
  private readonly parts: number[] = [];

  /** One byte. */
  u8(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`u8 ${v}`);
    this.parts.push(v);
    return this;
  }
  /** Big-endian halfword. */
  u16(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`u16 ${v}`);
    this.parts.push(Math.floor(v / 256), v % 256);
    return this;
  }
  /** Big-endian fullword. */
  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`u32 ${v}`);
    this.parts.push(Math.floor(v / 16777216) % 256, Math.floor(v / 65536) % 256, Math.floor(v / 256) % 256, v % 256);
    return this;
  }
  /** Text in EBCDIC CP037, right-padded with X'40' to `width` when given. */
  ebcdic(text: string, width?: number): this {
    for (const ch of text) {
      const b = EBCDIC[ch];
      if (b === undefined) throw new RangeError(`fixture EBCDIC table has no ${JSON.stringify(ch)}`);
      this.parts.push(b);
    }
    for (let i = text.length; i < (width ?? 0); i++) this.parts.push(0x40);
    return this;
  }
  /** Text in ASCII, right-padded with X'20' to `width` when given. */
  ascii(text: string, width?: number): this {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7e) throw new RangeError(`not ASCII: ${text}`);
      this.parts.push(c);
    }
    for (let i = text.length; i < (width ?? 0); i++) this.parts.push(0x20);
    return this;
  }
  /** Text in the given code set (see `ebcdic` / `ascii`). */
  text(codeSet: 'ebcdic' | 'ascii', text: string, width?: number): this {
    return codeSet === 'ebcdic' ? this.ebcdic(text, width) : this.ascii(text, width);
  }
  /** A fixed character field of `length` bytes, left-justified, padded with the code set's blank (or `pad`). */
  char(text: string, length: number, codeSet: 'ebcdic' | 'ascii' = 'ebcdic', pad?: number): this {
    if (text.length > length) throw new RangeError(`char: ${JSON.stringify(text)} longer than ${length}`);
    this.raw(naiveText(text, codeSet));
    return this.fill(pad ?? (codeSet === 'ascii' ? 0x20 : 0x40), length - text.length);
  }
  /** Overwrite the big-endian halfword at `offset` (a length field known only at the end). */
  patchU16(offset: number, v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff || offset + 2 > this.parts.length) throw new RangeError(`patchU16 ${offset} ${v}`);
    this.parts[offset] = Math.floor(v / 256);
    this.parts[offset + 1] = v % 256;
    return this;
  }
  /** Raw bytes. */
  raw(bytes: ArrayLike<number>): this {
    for (let i = 0; i < bytes.length; i++) this.u8(bytes[i]!);
    return this;
  }
  /** `n` copies of a byte. */
  fill(byte: number, n: number): this {
    for (let i = 0; i < n; i++) this.u8(byte);
    return this;
  }
  /** Bytes written so far. */
  get length(): number {
    return this.parts.length;
  }
  /** The bytes. */
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/**
 * Text to bytes: EBCDIC (this file's CP037 subset) or printable 7-bit ASCII. Anything else is rejected
 * rather than guessed.
 */
export function naiveText(text: string, codeSet: 'ebcdic' | 'ascii' = 'ebcdic'): number[] {
  return [...text].map((c) => {
    if (codeSet === 'ascii') {
      const v = c.charCodeAt(0);
      if (v < 0x20 || v > 0x7e) throw new RangeError(`naiveText: ${JSON.stringify(c)} is not printable ASCII`);
      return v;
    }
    const v = EBCDIC[c];
    if (v === undefined) throw new RangeError(`naiveText: no EBCDIC byte for ${JSON.stringify(c)}`);
    return v;
  });
}

/** Parse a hex dump: whitespace, `|` and a leading `0000`-style offset column per line are ignored. */
export function hexBytes(dump: string): Uint8Array {
  const out: number[] = [];
  for (const rawLine of dump.split('\n')) {
    const line = rawLine.replace(/^\s*[0-9A-Fa-f]{4}\s{2}/, '');
    for (const tok of line.split(/[\s|]+/)) {
      if (tok === '') continue;
      if (!/^([0-9A-Fa-f]{2})+$/.test(tok)) throw new RangeError(`bad hex token "${tok}"`);
      for (let i = 0; i < tok.length; i += 2) out.push(parseInt(tok.slice(i, i + 2), 16));
    }
  }
  return Uint8Array.from(out);
}

/** Bytes as upper-case hex pairs separated by spaces (for readable assertion diffs). */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
}

/** Prefix `body` with a 4-byte total length counting itself (HWSSMPL1 framing, XCF link framing). */
export function withLlll(body: Uint8Array): Uint8Array {
  return new ByteBuilder()
    .u32(body.length + 4) // LLLL, total length including itself
    .raw(body)
    .bytes();
}
