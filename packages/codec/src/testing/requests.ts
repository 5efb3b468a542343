/**
 * A deliberately naive builder of IMS Connect input messages for tests. It shares no code with the
 * production codec (not the layouts, not the code pages, not the constants): every field is pushed
 * one by one, in wire order, with a comment naming it, so a bug in the encoder cannot also hide in
 * the expected bytes.
 */

/** Just enough CP037 for names and test text; anything else is rejected rather than guessed. */
const EBCDIC: Readonly<Record<string, number>> = (() => {
  const m: Record<string, number> = { ' ': 0x40, '*': 0x5c, '.': 0x4b, ',': 0x6b, ':': 0x7a, '=': 0x7e, '_': 0x6d, '-': 0x60, '/': 0x61, '#': 0x7b, '$': 0x5b, '@': 0x7c };
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

/** Text to bytes, EBCDIC (CP037 subset) or ASCII (printable 7-bit only). */
export function naiveText(text: string, codeSet: 'ebcdic' | 'ascii' = 'ebcdic'): number[] {
  return [...text].map((c) => {
    if (codeSet === 'ascii') {
      const v = c.charCodeAt(0);
      if (v < 0x20 || v > 0x7e) throw new Error(`naiveText: ${JSON.stringify(c)} is not printable ASCII`);
      return v;
    }
    const v = EBCDIC[c];
    if (v === undefined) throw new Error(`naiveText: no EBCDIC byte for ${JSON.stringify(c)}`);
    return v;
  });
}

/** Append-only byte list. */
export class NaiveBytes {
  readonly bytes: number[] = [];
  /** One byte. */
  u8(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new Error(`u8 ${v}`);
    this.bytes.push(v);
    return this;
  }
  /** Big-endian halfword. */
  u16(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new Error(`u16 ${v}`);
    this.bytes.push(Math.floor(v / 256), v % 256);
    return this;
  }
  /** Big-endian fullword. */
  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`u32 ${v}`);
    this.bytes.push(Math.floor(v / 16777216), Math.floor(v / 65536) % 256, Math.floor(v / 256) % 256, v % 256);
    return this;
  }
  /** A fixed character field, left-justified, padded with the code set's blank (or `pad`). */
  char(text: string, length: number, codeSet: 'ebcdic' | 'ascii' = 'ebcdic', pad?: number): this {
    if (text.length > length) throw new Error(`char: ${JSON.stringify(text)} longer than ${length}`);
    const blank = pad ?? (codeSet === 'ascii' ? 0x20 : 0x40);
    this.bytes.push(...naiveText(text, codeSet));
    for (let i = text.length; i < length; i++) this.bytes.push(blank);
    return this;
  }
  /** Raw bytes. */
  raw(bytes: ArrayLike<number>): this {
    for (let i = 0; i < bytes.length; i++) this.u8(bytes[i]!);
    return this;
  }
  get length(): number {
    return this.bytes.length;
  }
  toUint8Array(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** Fields of a HWSSMPL0/1 style request, by IBM name. Bytes are given as numbers, text as strings. */
export interface NaiveRequestFields {
  /** Code set of IRM_ID and the character fields (default ebcdic). */
  codeSet?: 'ebcdic' | 'ascii';
  /** Pad byte for character fields (default the code set's blank). */
  pad?: number;
  /** Overrides the computed LLLL. */
  llll?: number;
  /** IRM_LEN; default: computed from the fields present. */
  irmLen?: number;
  IRM_ARCH?: number;
  IRM_F0?: number;
  IRM_ID?: string;
  IRM_NAK_RSNCDE?: number;
  IRM_RES?: number;
  IRM_F5?: number;
  IRM_TIMER?: number;
  IRM_SOCT?: number;
  IRM_ES?: number;
  IRM_CLIENTID?: string;
  /** Omit the whole user part (HWSJAVA0 style: 28-byte IRM). */
  noUserPart?: boolean;
  IRM_F1?: number;
  IRM_F2?: number;
  IRM_F3?: number;
  /** IRM_F4 byte (e.g. X'C1' for EBCDIC `A`, X'41' for ASCII). */
  IRM_F4?: number;
  IRM_TRNCOD?: string;
  IRM_IMSDESTID?: string;
  IRM_LTERM?: string;
  IRM_RACF_USERID?: string;
  IRM_RACF_GRNAME?: string;
  IRM_RACF_PW?: string;
  IRM_APPL_NM?: string;
  IRM_REROUT_NM?: string;
  IRM_TAG_ADAPT?: string;
  IRM_TAG_MAP?: string;
  IRM_MODNAME?: string;
  IRM_CORTKN?: ArrayLike<number>;
  IRM_SESTKN?: ArrayLike<number>;
  IRM_EXTN_OFF?: number;
  /** Raw bytes appended after the user part (inside IRM_LEN). */
  irmTail?: ArrayLike<number>;
  /** IRM extensions: `{ id, data, ll?, zz? }` (ll defaults to 12 + data length). */
  extensions?: Array<{ id: string; data: ArrayLike<number>; ll?: number; zz?: number; idCodeSet?: 'ebcdic' | 'ascii' }>;
  /** Raw OTMA headers after the IRM. */
  otma?: ArrayLike<number>;
  /** Data segments: `{ data, ll?, zz? }` (ll defaults to 4 + data length) or LLLL segments with `llll`. */
  segments?: Array<{ data: ArrayLike<number>; ll?: number; zz?: number } | { data: ArrayLike<number>; llll: true }>;
  /** Append the end-of-message marker (default true). */
  eom?: boolean;
  /** Raw bytes after the marker. */
  trailing?: ArrayLike<number>;
}

/** Build an input message field by field. */
export function naiveRequest(f: NaiveRequestFields): Uint8Array {
  const cs = f.codeSet ?? 'ebcdic';
  const pad = f.pad;
  const irm = new NaiveBytes();
  // ---- IRM fixed part (28 bytes) ----
  irm.u16(0); // IRM_LEN (patched below)
  irm.u8(f.IRM_ARCH ?? 0); // IRM_ARCH
  irm.u8(f.IRM_F0 ?? 0); // IRM_F0
  irm.char(f.IRM_ID ?? '*SAMPL1*', 8, cs, pad); // IRM_ID
  irm.u16(f.IRM_NAK_RSNCDE ?? 0); // IRM_NAK_RSNCDE
  irm.u16(f.IRM_RES ?? 0); // IRM_RES
  irm.u8(f.IRM_F5 ?? 0); // IRM_F5
  irm.u8(f.IRM_TIMER ?? 0); // IRM_TIMER
  irm.u8(f.IRM_SOCT ?? 0x10); // IRM_SOCT
  irm.u8(f.IRM_ES ?? 0); // IRM_ES
  irm.char(f.IRM_CLIENTID ?? '', 8, cs, pad); // IRM_CLIENTID
  if (!f.noUserPart) {
    // ---- HWSSMPL0/1 user part, ARCH0 (52 bytes) ----
    irm.u8(f.IRM_F1 ?? 0); // IRM_F1
    irm.u8(f.IRM_F2 ?? 0); // IRM_F2
    irm.u8(f.IRM_F3 ?? 0); // IRM_F3
    irm.u8(f.IRM_F4 ?? (cs === 'ascii' ? 0x20 : 0x40)); // IRM_F4
    irm.char(f.IRM_TRNCOD ?? '', 8, cs, pad); // IRM_TRNCOD
    irm.char(f.IRM_IMSDESTID ?? '', 8, cs, pad); // IRM_IMSDESTID
    irm.char(f.IRM_LTERM ?? '', 8, cs, pad); // IRM_LTERM
    irm.char(f.IRM_RACF_USERID ?? '', 8, cs, pad); // IRM_RACF_USERID
    irm.char(f.IRM_RACF_GRNAME ?? '', 8, cs, pad); // IRM_RACF_GRNAME
    irm.char(f.IRM_RACF_PW ?? '', 8, cs, pad); // IRM_RACF_PW
    // ---- optional fields: each one implies the ones before it ----
    const later = (...names: Array<keyof NaiveRequestFields>): boolean => names.some((n) => f[n] !== undefined);
    if (later('IRM_APPL_NM', 'IRM_REROUT_NM', 'IRM_TAG_ADAPT', 'IRM_TAG_MAP', 'IRM_MODNAME', 'IRM_CORTKN', 'IRM_SESTKN', 'IRM_EXTN_OFF')) {
      irm.char(f.IRM_APPL_NM ?? '', 8, cs, pad); // IRM_APPL_NM (ARCH1)
    }
    if (later('IRM_REROUT_NM', 'IRM_TAG_ADAPT', 'IRM_TAG_MAP', 'IRM_MODNAME', 'IRM_CORTKN', 'IRM_SESTKN', 'IRM_EXTN_OFF')) {
      irm.char(f.IRM_REROUT_NM ?? '', 8, cs, pad); // IRM_REROUT_NM / IRM_RT_ALTCID (ARCH1)
    }
    if (later('IRM_TAG_ADAPT', 'IRM_TAG_MAP', 'IRM_MODNAME', 'IRM_CORTKN', 'IRM_SESTKN', 'IRM_EXTN_OFF')) {
      irm.char(f.IRM_TAG_ADAPT ?? '', 8, cs, pad); // IRM_TAG_ADAPT (ARCH2)
    }
    if (later('IRM_TAG_MAP', 'IRM_MODNAME', 'IRM_CORTKN', 'IRM_SESTKN', 'IRM_EXTN_OFF')) {
      irm.char(f.IRM_TAG_MAP ?? '', 8, cs, pad); // IRM_TAG_MAP (ARCH2)
    }
    if (later('IRM_MODNAME', 'IRM_CORTKN', 'IRM_SESTKN', 'IRM_EXTN_OFF')) {
      irm.char(f.IRM_MODNAME ?? '', 8, cs, pad); // IRM_MODNAME (ARCH3)
    }
    if (later('IRM_CORTKN', 'IRM_SESTKN', 'IRM_EXTN_OFF')) {
      irm.raw(f.IRM_CORTKN ?? new Array(40).fill(0)); // IRM_CORTKN, 40 bytes (ARCH3)
    }
    if (later('IRM_SESTKN', 'IRM_EXTN_OFF')) {
      irm.raw(f.IRM_SESTKN ?? new Array(8).fill(0)); // IRM_SESTKN, 8 bytes (ARCH4)
    }
    if (later('IRM_EXTN_OFF')) {
      const tailLength = f.irmTail?.length ?? 0;
      irm.u16(f.IRM_EXTN_OFF === -1 ? 172 + tailLength : f.IRM_EXTN_OFF!); // IRM_EXTN_OFF (ARCH5); -1 = computed
      irm.u16(0); // reserved (ARCH5)
    }
  }
  if (f.irmTail) irm.raw(f.irmTail); // bytes of the IRM the codec does not name
  for (const e of f.extensions ?? []) {
    irm.u16(e.ll ?? 12 + e.data.length); // IRMEXTN_LL
    irm.u16(e.zz ?? 0); // IRMEXTN_ZZ
    irm.char(e.id, 8, e.idCodeSet ?? 'ebcdic'); // IRMEXTN_ID
    irm.raw(e.data); // IRMEXTN_DATA
  }
  const irmLen = f.irmLen ?? irm.length;
  irm.bytes[0] = Math.floor(irmLen / 256); // IRM_LEN (patched)
  irm.bytes[1] = irmLen % 256;

  const body = new NaiveBytes();
  if (f.otma) body.raw(f.otma); // OTMA headers (HWSJAVA0)
  for (const s of f.segments ?? []) {
    if ('llll' in s) {
      body.u32(4 + s.data.length); // LLLL of a callout data segment
    } else {
      body.u16(s.ll ?? 4 + s.data.length); // LL
      body.u16(s.zz ?? 0); // ZZ
    }
    body.raw(s.data); // segment data
  }
  if (f.eom !== false) body.u32(0x00040000); // end of message
  if (f.trailing) body.raw(f.trailing);

  const total = 4 + irm.length + body.length;
  const out = new NaiveBytes();
  out.u32(f.llll ?? total); // LLLL
  out.raw(irm.bytes);
  out.raw(body.bytes);
  return out.toUint8Array();
}
