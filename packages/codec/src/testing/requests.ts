/**
 * A deliberately naive builder of IMS Connect input messages for tests. It shares no code with the
 * production codec (not the layouts, not the code pages, not the constants): every field is pushed
 * one by one, in wire order, with a comment naming it, so a bug in the encoder cannot also hide in
 * the expected bytes.
 */

import { ByteBuilder, naiveText } from './replies.js';

export { naiveText };

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
  const irm = new ByteBuilder();
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
  irm.patchU16(0, irmLen); // IRM_LEN (patched)

  const body = new ByteBuilder();
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
  const out = new ByteBuilder();
  out.u32(f.llll ?? total); // LLLL
  out.raw(irm.bytes());
  out.raw(body.bytes());
  return out.bytes();
}
