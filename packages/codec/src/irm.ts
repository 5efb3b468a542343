/**
 * The IRM (IMS request message header): the 28-byte fixed part common to every exit, the
 * HWSSMPL0/HWSSMPL1 user part at every architecture level, and IRM extensions (spec §2–§3).
 *
 * Decoding is tolerant the way real clients need (§14): IRM_ID in EBCDIC or ASCII, X'00'/X'40'/X'20'
 * padding in character fields, IRM_F4 as an EBCDIC or an ASCII letter. Each flag byte is decoded into
 * named booleans/enums and keeps its raw byte; encoding writes the raw byte's unknown bits back with
 * the named bits on top, so a decode → encode round trip is byte-exact.
 *
 * Optional user-part fields are sized from **IRM_LEN**, not IRM_ARCH (§2.2 note): a field is present
 * when the IRM is long enough to hold it. Bytes of the IRM past the last whole field (and before any
 * extensions) are kept raw in `tail`.
 *
 * Character fields are normalised: on encode they are padded with the code set's blank, whatever
 * padding the client used.
 */
import { Parser } from 'binary-parser';
import { ReasonCode } from './codes.js';
import {
  IRM_FIXED_LENGTH,
  IrmF0,
  IrmF1,
  IrmF2,
  IrmF3,
  IrmF5,
  MessageTypeAscii,
  MessageTypeEbcdic,
  type MessageType,
} from './constants.js';
import { CP037, LATIN1, type CodePage } from './ebcdic.js';
import { CodecError, CodecErrorCode } from './errors.js';
import { matchExit, unknownExit, type RegisteredExit } from './exits.js';
import { decodeExtensions, encodeExtensions, extensionsSize, type IrmExtension } from './extensions.js';
import { defineLayout, readCharField, type FieldDef, type FieldTransform, type Layout } from './layout.js';
import type { CodeSet } from './reply.js';

// ---------------------------------------------------------------------------------------------------
// Flag bytes
// ---------------------------------------------------------------------------------------------------

/** IRM_F0 decoded. `raw` keeps the byte; unknown bits (X'08') survive encode. */
export interface IrmF0Flags {
  raw: number;
  /** X'80' IRM_F0_SYNONLY — RESUME TPIPE for synchronous callout only. */
  syncOnly: boolean;
  /** X'40' IRM_F0_SYNASYN — callout first, then async output. */
  syncThenAsync: boolean;
  /** X'20' IRM_F0_SYNCNAK — NAK keeps the message queued. */
  syncNak: boolean;
  /** X'10' IRM_F0_NAKRSN — IRM_NAK_RSNCDE is valid. */
  nakReason: boolean;
  /** X'04' IRM_F0_EXTENS — IRM extensions present. */
  extensions: boolean;
  /** X'02' IRM_F0_XML_D — XML carries data only. */
  xmlData: boolean;
  /** X'01' IRM_F0_XMLTD — XML carries trancode and data. */
  xmlTranData: boolean;
}

/** IRM_F1 decoded. */
export interface IrmF1Flags {
  raw: number;
  /** X'80' IRM_F1_MFSREQ — return the MOD name. */
  mfsRequest: boolean;
  /** X'40' IRM_F1_CIDREQ — return the client ID. */
  clientIdRequest: boolean;
  /** X'20' IRM_F1_UC — data is Unicode. */
  unicodeData: boolean;
  /** X'10' IRM_F1_UCTC — trancode is Unicode. */
  unicodeTrancode: boolean;
  /** X'04' IRM_F1_SOARSP — SENDONLYA ACK without text. */
  sendOnlyAckNoText: boolean;
  /** X'02' IRM_F1_NOWAIT — CM0 ACK NOWAIT. */
  noWait: boolean;
  /** X'01' IRM_F1_TRNEXP — transaction expiration. */
  transactionExpiration: boolean;
}

/** Commit mode bits of IRM_F2 (X'60'). `BOTH` is not valid but is kept as sent. */
export type CommitModeName = 'CM0' | 'CM1' | 'UNSPECIFIED' | 'BOTH';

/** IRM_F2 decoded. */
export interface IrmF2Flags {
  raw: number;
  /** X'40' CM0 commit-then-send, X'20' CM1 send-then-commit. */
  commitMode: CommitModeName;
  /** X'02' SENDALTP (ims-injector only, UNV). */
  sendAltp: boolean;
  /** X'01' GENCLID — generate a client ID. */
  generateClientId: boolean;
}

/** Sync level of IRM_F3 (low two bits). `RESERVED` (3) is kept as sent. */
export type SyncLevelName = 'NONE' | 'CONFIRM' | 'SYNCPT' | 'RESERVED';

/** IRM_F3 decoded. */
export interface IrmF3Flags {
  raw: number;
  /** Low two bits: X'00' NONE, X'01' CONFIRM, X'02' SYNCPT. */
  syncLevel: SyncLevelName;
  /** X'04' IRM_F3_PURGE. */
  purge: boolean;
  /** X'08' IRM_F3_REROUT. */
  reroute: boolean;
  /** X'10' IRM_F3_ORDER — serial send-only delivery. */
  ordered: boolean;
  /** X'20' IRM_F3_IPURG — ignore PURG calls. */
  ignorePurg: boolean;
  /** X'40' IRM_F3_DFS2082. */
  dfs2082: boolean;
  /** X'80' IRM_F3_CANCID — cancel the session holding this client ID. */
  cancelClientId: boolean;
}

/** IRM_F4 decoded: the message type, the code set its letter was written in, and the byte. */
export interface IrmF4 {
  raw: number;
  /** The message type, or `UNKNOWN` for a byte that is no known letter in either code set. */
  type: MessageType | 'UNKNOWN';
  /** Code set of the letter. X'00' (taken as send-receive) and unknown bytes report `ebcdic`. */
  codeSet: CodeSet;
}

/** IRM_F5 decoded. */
export interface IrmF5Flags {
  raw: number;
  /** X'80' — the client supplies OTMA headers. */
  otmaHeaders: boolean;
  /** X'40' — the client translated the data; the exit must not. */
  noTranslation: boolean;
  /** X'10' IRM_F5_SWAIT — RESUME TPIPE single with wait (UNV value). */
  singleWait: boolean;
  /** X'08' IRM_F5_XID — an XID is present (UNV value). */
  xid: boolean;
  /** X'04' IRM_F5_NOAUTO. */
  noAuto: boolean;
  /** X'02' IRM_F5_AUTO. */
  auto: boolean;
  /** X'01' IRM_F5_ONE. */
  one: boolean;
}

const b = (x: boolean): number => (x ? 1 : 0);
const num = (x: unknown): number => (typeof x === 'number' ? x : 0);

/** IRM_F0 ⇄ named flags. */
export const F0: FieldTransform<number, IrmF0Flags> = {
  decode: (v) => ({
    raw: v,
    syncOnly: (v & IrmF0.SYNONLY) !== 0,
    syncThenAsync: (v & IrmF0.SYNASYN) !== 0,
    syncNak: (v & IrmF0.SYNCNAK) !== 0,
    nakReason: (v & IrmF0.NAKRSN) !== 0,
    extensions: (v & IrmF0.EXTENS) !== 0,
    xmlData: (v & IrmF0.XML_D) !== 0,
    xmlTranData: (v & IrmF0.XMLTD) !== 0,
  }),
  encode: (f) =>
    (num(f.raw) & 0x08) |
    (b(f.syncOnly) * IrmF0.SYNONLY) |
    (b(f.syncThenAsync) * IrmF0.SYNASYN) |
    (b(f.syncNak) * IrmF0.SYNCNAK) |
    (b(f.nakReason) * IrmF0.NAKRSN) |
    (b(f.extensions) * IrmF0.EXTENS) |
    (b(f.xmlData) * IrmF0.XML_D) |
    (b(f.xmlTranData) * IrmF0.XMLTD),
};

/** IRM_F1 ⇄ named flags. */
export const F1: FieldTransform<number, IrmF1Flags> = {
  decode: (v) => ({
    raw: v,
    mfsRequest: (v & IrmF1.MFSREQ) !== 0,
    clientIdRequest: (v & IrmF1.CIDREQ) !== 0,
    unicodeData: (v & IrmF1.UC) !== 0,
    unicodeTrancode: (v & IrmF1.UCTC) !== 0,
    sendOnlyAckNoText: (v & IrmF1.SOARSP) !== 0,
    noWait: (v & IrmF1.NOWAIT) !== 0,
    transactionExpiration: (v & IrmF1.TRNEXP) !== 0,
  }),
  encode: (f) =>
    (num(f.raw) & 0x08) |
    (b(f.mfsRequest) * IrmF1.MFSREQ) |
    (b(f.clientIdRequest) * IrmF1.CIDREQ) |
    (b(f.unicodeData) * IrmF1.UC) |
    (b(f.unicodeTrancode) * IrmF1.UCTC) |
    (b(f.sendOnlyAckNoText) * IrmF1.SOARSP) |
    (b(f.noWait) * IrmF1.NOWAIT) |
    (b(f.transactionExpiration) * IrmF1.TRNEXP),
};

const COMMIT_MODES: readonly CommitModeName[] = ['UNSPECIFIED', 'CM1', 'CM0', 'BOTH']; // index = (v >> 5) & 3

/** IRM_F2 ⇄ commit mode and options. */
export const F2: FieldTransform<number, IrmF2Flags> = {
  decode: (v) => ({
    raw: v,
    commitMode: COMMIT_MODES[(v >> 5) & 3]!,
    sendAltp: (v & IrmF2.SENDALTP) !== 0,
    generateClientId: (v & IrmF2.GENCLID) !== 0,
  }),
  encode: (f) => {
    const m = f.commitMode;
    // comparisons, not a keyed lookup: this runs on every encode
    const cm = m === 'CM1' ? IrmF2.CM1 : m === 'CM0' ? IrmF2.CM0 : m === 'UNSPECIFIED' ? 0 : m === 'BOTH' ? IrmF2.CM0 | IrmF2.CM1 : undefined;
    if (cm === undefined) throw new CodecError(CodecErrorCode.INVALID_VALUE, `IRM_F2 commit mode ${JSON.stringify(f.commitMode)} is not CM0, CM1, UNSPECIFIED or BOTH`);
    return (num(f.raw) & 0x9c) | cm | (b(f.sendAltp) * IrmF2.SENDALTP) | (b(f.generateClientId) * IrmF2.GENCLID);
  },
};

const SYNC_LEVELS: readonly SyncLevelName[] = ['NONE', 'CONFIRM', 'SYNCPT', 'RESERVED'];

/** IRM_F3 ⇄ sync level and options. */
export const F3: FieldTransform<number, IrmF3Flags> = {
  decode: (v) => ({
    raw: v,
    syncLevel: SYNC_LEVELS[v & IrmF3.SYNC_MASK]!,
    purge: (v & IrmF3.PURGE) !== 0,
    reroute: (v & IrmF3.REROUT) !== 0,
    ordered: (v & IrmF3.ORDER) !== 0,
    ignorePurg: (v & IrmF3.IPURG) !== 0,
    dfs2082: (v & IrmF3.DFS2082) !== 0,
    cancelClientId: (v & IrmF3.CANCID) !== 0,
  }),
  encode: (f) => {
    const l = f.syncLevel;
    const sl = l === 'NONE' ? 0 : l === 'CONFIRM' ? 1 : l === 'SYNCPT' ? 2 : l === 'RESERVED' ? 3 : undefined;
    if (sl === undefined) throw new CodecError(CodecErrorCode.INVALID_VALUE, `IRM_F3 sync level ${JSON.stringify(f.syncLevel)} is not NONE, CONFIRM, SYNCPT or RESERVED`);
    return (
      sl |
      (b(f.purge) * IrmF3.PURGE) |
      (b(f.reroute) * IrmF3.REROUT) |
      (b(f.ordered) * IrmF3.ORDER) |
      (b(f.ignorePurg) * IrmF3.IPURG) |
      (b(f.dfs2082) * IrmF3.DFS2082) |
      (b(f.cancelClientId) * IrmF3.CANCID)
    );
  },
};

/** Byte → [type, code set] for IRM_F4. */
const F4_TYPES: Array<readonly [MessageType, CodeSet] | undefined> = new Array(256);
for (const [type, byte] of Object.entries(MessageTypeEbcdic) as Array<[MessageType, number]>) F4_TYPES[byte] = [type, 'ebcdic'];
for (const [type, byte] of Object.entries(MessageTypeAscii) as Array<[MessageType, number]>) F4_TYPES[byte] = [type, 'ascii'];
// [INF] X'00' is treated as send-receive (blank), per the §14 rule that X'00' pads like a blank.
F4_TYPES[0x00] = ['SEND_RECEIVE', 'ebcdic'];

/** IRM_F4 ⇄ message type. */
export const F4: FieldTransform<number, IrmF4> = {
  decode: (v) => {
    const t = F4_TYPES[v];
    return t === undefined ? { raw: v, type: 'UNKNOWN', codeSet: 'ebcdic' } : { raw: v, type: t[0], codeSet: t[1] };
  },
  encode: (f) => {
    const raw = num(f.raw);
    const t = F4_TYPES[raw & 0xff];
    if (f.type === 'UNKNOWN' || (t !== undefined && t[0] === f.type && raw === (raw & 0xff))) return raw;
    const table = f.codeSet === 'ascii' ? MessageTypeAscii : MessageTypeEbcdic;
    const byte = table[f.type];
    if (byte === undefined) throw new CodecError(CodecErrorCode.INVALID_VALUE, `IRM_F4 message type ${JSON.stringify(f.type)} is not known`);
    return byte;
  },
};

/** IRM_F5 ⇄ named flags. X'20' (reserved) survives via `raw`. */
export const F5: FieldTransform<number, IrmF5Flags> = {
  decode: (v) => ({
    raw: v,
    otmaHeaders: (v & IrmF5.OTMA) !== 0,
    noTranslation: (v & IrmF5.NOTRAN) !== 0,
    singleWait: (v & IrmF5.SWAIT) !== 0,
    xid: (v & IrmF5.XID) !== 0,
    noAuto: (v & IrmF5.NOAUTO) !== 0,
    auto: (v & IrmF5.AUTO) !== 0,
    one: (v & IrmF5.ONE) !== 0,
  }),
  encode: (f) =>
    (num(f.raw) & 0x20) |
    (b(f.otmaHeaders) * IrmF5.OTMA) |
    (b(f.noTranslation) * IrmF5.NOTRAN) |
    (b(f.singleWait) * IrmF5.SWAIT) |
    (b(f.xid) * IrmF5.XID) |
    (b(f.noAuto) * IrmF5.NOAUTO) |
    (b(f.auto) * IrmF5.AUTO) |
    (b(f.one) * IrmF5.ONE),
};

/** Build a flag object from a byte (all named fields consistent with it). */
export const irmF0 = (byte = 0): IrmF0Flags => F0.decode(byte);
/** Build IRM_F1 flags from a byte. */
export const irmF1 = (byte = 0): IrmF1Flags => F1.decode(byte);
/** Build IRM_F2 flags from a byte. */
export const irmF2 = (byte = 0): IrmF2Flags => F2.decode(byte);
/** Build IRM_F3 flags from a byte. */
export const irmF3 = (byte = 0): IrmF3Flags => F3.decode(byte);
/** Build IRM_F5 flags from a byte. */
export const irmF5 = (byte = 0): IrmF5Flags => F5.decode(byte);
/** IRM_F4 for a message type, written in `codeSet`. */
export function irmF4(type: MessageType, codeSet: CodeSet = 'ebcdic'): IrmF4 {
  return { raw: (codeSet === 'ascii' ? MessageTypeAscii : MessageTypeEbcdic)[type], type, codeSet };
}

// ---------------------------------------------------------------------------------------------------
// Layouts
// ---------------------------------------------------------------------------------------------------

/** The IRM fixed part (message offsets 4–31), identical for every exit (§2.1). */
export const IRM_FIXED_LAYOUT = defineLayout(
  'IRM fixed part',
  [
  { name: 'length', kind: 'u16', ibm: 'IRM_LEN', doc: 'length of the IRM, from this field to the end of the IRM (recomputed on encode)' },
  { name: 'arch', kind: 'u8', ibm: 'IRM_ARCH', doc: "architecture level X'00'–X'05'" },
  { name: 'f0', kind: 'u8', ibm: 'IRM_F0', doc: 'callout / NAK / extension / XML flags', transform: F0 },
  { name: 'id', kind: 'char', length: 8, ibm: 'IRM_ID', doc: 'user message exit ID; its code set is the client code set' },
  { name: 'nakReasonCode', kind: 'u16', ibm: 'IRM_NAK_RSNCDE', doc: "NAK / callout error reason (valid with IRM_F0 X'10')" },
  { name: 'reserved', kind: 'u16', ibm: 'IRM_RES', doc: 'reserved (IRM_F6 is believed to be its first byte)' },
  { name: 'f5', kind: 'u8', ibm: 'IRM_F5', doc: 'input format / RESUME TPIPE option', transform: F5 },
  { name: 'timer', kind: 'u8', ibm: 'IRM_TIMER', doc: 'wait interval code (timer.ts)' },
  { name: 'socketType', kind: 'u8', ibm: 'IRM_SOCT', doc: "X'00' transaction, X'10' persistent, X'40' non-persistent" },
  { name: 'encodingScheme', kind: 'u8', ibm: 'IRM_ES', doc: "Unicode encoding scheme, X'00' none" },
  { name: 'clientId', kind: 'char', length: 8, ibm: 'IRM_CLIENTID', doc: 'client ID = OTMA tpipe name; blank → generated' },
  ],
  // completed by decodeIrm; declared so every decoded IRM has one shape
  { extra: { user: null, tail: null, extensions: null } },
);

/**
 * Fields of the HWSSMPL0/1 user part in wire order (§2.2). The first ten (through IRM_RACF_PW, IRM_LEN
 * 80) are always present; each later one is present when IRM_LEN reaches its end.
 */
export const SAMPLE_USER_FIELDS = [
  { name: 'f1', kind: 'u8', ibm: 'IRM_F1', doc: 'MFS/client-ID request, Unicode, NOWAIT flags', transform: F1 },
  { name: 'f2', kind: 'u8', ibm: 'IRM_F2', doc: 'commit mode', transform: F2 },
  { name: 'f3', kind: 'u8', ibm: 'IRM_F3', doc: 'sync level and CM0 options', transform: F3 },
  { name: 'f4', kind: 'u8', ibm: 'IRM_F4', doc: 'message type (a letter in the client code set)', transform: F4 },
  { name: 'trancode', kind: 'char', length: 8, ibm: 'IRM_TRNCOD', doc: 'transaction code (the data segment is authoritative)' },
  { name: 'datastore', kind: 'char', length: 8, ibm: 'IRM_IMSDESTID', doc: 'datastore ID (DATASTORE ID=)' },
  { name: 'lterm', kind: 'char', length: 8, ibm: 'IRM_LTERM', doc: 'LTERM override' },
  { name: 'racfUserId', kind: 'char', length: 8, ibm: 'IRM_RACF_USERID', doc: 'RACF user ID' },
  { name: 'racfGroup', kind: 'char', length: 8, ibm: 'IRM_RACF_GRNAME', doc: 'RACF group' },
  { name: 'racfPassword', kind: 'char', length: 8, ibm: 'IRM_RACF_PW', doc: 'password or PassTicket' },
  { name: 'applName', kind: 'char', length: 8, ibm: 'IRM_APPL_NM', doc: 'RACF application name (IRM_LEN ≥ 88)' },
  { name: 'rerouteName', kind: 'char', length: 8, ibm: 'IRM_REROUT_NM / IRM_RT_ALTCID', doc: 'reroute tpipe, or alternate client ID on RESUME TPIPE (IRM_LEN ≥ 96)' },
  { name: 'tagAdapter', kind: 'char', length: 8, ibm: 'IRM_TAG_ADAPT', doc: 'XML adapter name (IRM_LEN ≥ 104)' },
  { name: 'tagMap', kind: 'char', length: 8, ibm: 'IRM_TAG_MAP', doc: 'XML converter name (IRM_LEN ≥ 112)' },
  // [UNV] ARCH3 order MODNAME then CORTKN follows go-imstm (spec Uncertain item 5).
  { name: 'modName', kind: 'char', length: 8, ibm: 'IRM_MODNAME', doc: 'MFS MOD name (IRM_LEN ≥ 120)' },
  { name: 'correlationToken', kind: 'bytes', length: 40, ibm: 'IRM_CORTKN', doc: 'synchronous callout correlation token (IRM_LEN ≥ 160)' },
  { name: 'sessionToken', kind: 'bytes', length: 8, ibm: 'IRM_SESTKN', doc: 'IMS-to-IMS session token (IRM_LEN ≥ 168)' },
  { name: 'extensionOffset', kind: 'u16', ibm: 'IRM_EXTN_OFF', doc: 'offset of the first IRM extension from IRM_LEN (IRM_LEN ≥ 170)' },
  { name: 'reserved5', kind: 'u16', ibm: '(reserved)', doc: 'reserved, zeros (IRM_LEN ≥ 172)' },
] as const satisfies readonly FieldDef[];

/** Number of always-present sample user fields (F1 … IRM_RACF_PW). */
const SAMPLE_BASE_FIELDS = 10;

/** The complete HWSSMPL0/1 user part (ARCH5, 144 bytes, IRM_LEN 172). */
export const SAMPLE_USER_LAYOUT = defineLayout('HWSSMPL0/1 IRM user part', SAMPLE_USER_FIELDS);

/** Decoded HWSSMPL0/1 user part. Fields after `racfPassword` are present only when IRM_LEN holds them. */
export interface SampleUserPart {
  kind: 'sample';
  f1: IrmF1Flags;
  f2: IrmF2Flags;
  f3: IrmF3Flags;
  f4: IrmF4;
  trancode: string;
  datastore: string;
  lterm: string;
  racfUserId: string;
  racfGroup: string;
  racfPassword: string;
  applName?: string;
  /** IRM_REROUT_NM, or IRM_RT_ALTCID on RESUME TPIPE (one slot). */
  rerouteName?: string;
  tagAdapter?: string;
  tagMap?: string;
  modName?: string;
  correlationToken?: Uint8Array;
  sessionToken?: Uint8Array;
  /** IRM_EXTN_OFF as sent; recomputed on encode when extensions are present. */
  extensionOffset?: number;
  reserved5?: number;
}

/** A custom exit's user part. */
export interface CustomUserPart {
  kind: 'custom';
  /** Decoded fields (from the exit's layout or binary-parser parser). */
  value: Record<string, unknown>;
  /** The user-part bytes as sent (a view). Encoded as-is for parser-described exits. */
  raw: Uint8Array;
}

/** A decoded IRM. */
export interface Irm {
  /** IRM_LEN as sent; recomputed on encode. */
  length: number;
  arch: number;
  f0: IrmF0Flags;
  /** IRM_ID, e.g. `*SAMPL1*`. */
  id: string;
  nakReasonCode: number;
  /** IRM_RES halfword (kept as sent). */
  reserved: number;
  f5: IrmF5Flags;
  /** IRM_TIMER code (see `irmTimerToMs`). */
  timer: number;
  /** IRM_SOCT (see `SocketType`). */
  socketType: number;
  /** IRM_ES (see `EncodingScheme`). */
  encodingScheme: number;
  clientId: string;
  /** The user part: the HWSSMPL0/1 format, a custom exit's, or null (e.g. `*HWSJAV*`). */
  user: SampleUserPart | CustomUserPart | null;
  /** IRM bytes after the known user-part fields and before the extensions (a view; usually empty). */
  tail: Uint8Array;
  /** IRM extensions (ARCH5). */
  extensions: IrmExtension[];
}

/** One compiled prefix of the sample user part per IRM length step. */
const SAMPLE_PREFIXES: ReadonlyArray<Layout<Record<string, unknown>>> = (() => {
  const out: Array<Layout<Record<string, unknown>>> = [];
  for (let k = SAMPLE_BASE_FIELDS; k <= SAMPLE_USER_FIELDS.length; k++) {
    out.push(
      defineLayout(`HWSSMPL0/1 IRM user part (IRM_LEN ${IRM_FIXED_LENGTH + fieldsEnd(k)})`, SAMPLE_USER_FIELDS.slice(0, k), { extra: { kind: 'sample' } }) as unknown as Layout<Record<string, unknown>>,
    );
  }
  return out;
})();

function fieldsEnd(k: number): number {
  let n = 0;
  for (let i = 0; i < k; i++) {
    const f = SAMPLE_USER_FIELDS[i]!;
    n += f.kind === 'u8' ? 1 : f.kind === 'u16' ? 2 : f.length;
  }
  return n;
}

/** Index in SAMPLE_USER_FIELDS of IRM_EXTN_OFF. */
const EXTN_OFF_INDEX = SAMPLE_USER_FIELDS.findIndex((f) => f.name === 'extensionOffset');
/** IRM offset of IRM_EXTN_OFF (168). */
const EXTN_OFF_IRM_OFFSET = IRM_FIXED_LENGTH + fieldsEnd(EXTN_OFF_INDEX);

/** IRM_LEN → the longest sample prefix it holds (index = IRM_LEN, capped at the full length). */
const PREFIX_BY_LENGTH: ReadonlyArray<Layout<Record<string, unknown>>> = (() => {
  const full = IRM_FIXED_LENGTH + SAMPLE_PREFIXES[SAMPLE_PREFIXES.length - 1]!.size;
  const out: Array<Layout<Record<string, unknown>>> = [];
  for (let len = 0; len <= full; len++) {
    let best = SAMPLE_PREFIXES[0]!;
    for (const p of SAMPLE_PREFIXES) if (IRM_FIXED_LENGTH + p.size <= len) best = p;
    out.push(best);
  }
  return out;
})();

function samplePrefixFor(irmLength: number): Layout<Record<string, unknown>> {
  return PREFIX_BY_LENGTH[Math.min(irmLength, PREFIX_BY_LENGTH.length - 1)]!;
}

// ---------------------------------------------------------------------------------------------------
// Decode
// ---------------------------------------------------------------------------------------------------

/** Options for IRM and request decoding. */
export interface DecodeIrmOptions {
  /** EBCDIC code page for character fields of an EBCDIC IRM (default CP037; names are identical in 037/500/1047). */
  ebcdicPage?: CodePage;
}

/** An IRM with what its IRM_ID told. */
export interface DecodedIrm {
  irm: Irm;
  exit: RegisteredExit;
  codeSet: CodeSet;
  /** Message offset of the first byte after the IRM. */
  end: number;
}

function irmLengthError(message: string, details: Record<string, unknown>): CodecError {
  return new CodecError(CodecErrorCode.BAD_IRM_LENGTH, message, { details: { reason: ReasonCode.INVALID_IRM_LENGTH, ...details } });
}

/**
 * Decode the IRM that starts at `bytes[offset]` (the IRM_LEN field; offset 4 in a message) and ends
 * no later than `limit`. Throws `IMS_ERR_UNKNOWN_EXIT`, `IMS_ERR_BAD_IRM_LENGTH` (reason 6) or
 * `IMS_ERR_BAD_EXTENSION` (reasons 113/114/117/118).
 */
export function decodeIrm(bytes: Uint8Array, offset = 4, limit = bytes.length, options: DecodeIrmOptions = {}): DecodedIrm {
  if (offset + IRM_FIXED_LENGTH > limit) {
    throw irmLengthError(`the IRM fixed part needs ${IRM_FIXED_LENGTH} bytes; ${Math.max(0, limit - offset)} remain`, { offset });
  }
  const match = matchExit(bytes, offset + 4);
  if (match === undefined) throw unknownExit(readCharField(bytes, offset + 4, 8, CP037), { asciiId: readCharField(bytes, offset + 4, 8, LATIN1) });
  const { exit, codeSet } = match;
  const irmLength = (bytes[offset]! << 8) | bytes[offset + 1]!;
  if (irmLength < exit.minIrmLength || offset + irmLength > limit) {
    throw irmLengthError(`IRM_LEN ${irmLength} is invalid for ${exit.id}: it must be ${exit.minIrmLength}–${limit - offset}`, {
      irmLength,
      min: exit.minIrmLength,
      max: limit - offset,
    });
  }
  const page = codeSet === 'ascii' ? LATIN1 : (options.ebcdicPage ?? CP037);
  const fixed = IRM_FIXED_LAYOUT.read(bytes, offset, page);
  const irm = fixed as unknown as Irm;
  const end = offset + irmLength;
  let at = offset + IRM_FIXED_LENGTH;
  const up = exit.userPart;
  if (up === 'sample') {
    const prefix = samplePrefixFor(irmLength);
    const user = prefix.read(bytes, at, page) as unknown as SampleUserPart;
    irm.user = user;
    at += prefix.size;
    const extnOff = user.extensionOffset;
    if (irm.f0.extensions || (extnOff !== undefined && extnOff !== 0)) {
      if (extnOff === undefined || extnOff === 0) {
        throw new CodecError(CodecErrorCode.BAD_EXTENSION, `IRM_F0 says extensions are present but IRM_EXTN_OFF is ${extnOff === undefined ? 'missing (IRM_LEN < 170)' : 'zero'}`, {
          details: { reason: ReasonCode.EXTENSION_OFFSET_ZERO, irmLength },
        });
      }
      const first = offset + extnOff;
      if (first < at || first > end) {
        throw new CodecError(CodecErrorCode.BAD_EXTENSION, `IRM_EXTN_OFF ${extnOff} is outside the IRM extension area ${at - offset}–${irmLength}`, {
          details: { reason: ReasonCode.BAD_EXTENSION, extensionOffset: extnOff, irmLength },
        });
      }
      irm.tail = bytes.subarray(at, first);
      irm.extensions = decodeExtensions(bytes, first, end, codeSet);
    } else {
      irm.tail = bytes.subarray(at, end);
      irm.extensions = [];
    }
  } else {
    if (up === 'none') {
      irm.user = null;
    } else if (up instanceof Parser) {
      const raw = bytes.subarray(at, end);
      let value: Record<string, unknown>;
      try {
        value = up.parse(raw) as Record<string, unknown>;
      } catch (err) {
        throw irmLengthError(`the ${exit.id} user part does not parse: ${(err as Error)?.message ?? String(err)}`, { irmLength, cause: String(err) });
      }
      irm.user = { kind: 'custom', value, raw };
      at = end;
    } else {
      const raw = bytes.subarray(at, at + up.size);
      irm.user = { kind: 'custom', value: up.read(bytes, at, page), raw };
      at += up.size;
    }
    irm.tail = bytes.subarray(at, end);
    irm.extensions = [];
  }
  return { irm, exit, codeSet, end };
}

// ---------------------------------------------------------------------------------------------------
// Encode
// ---------------------------------------------------------------------------------------------------

function badIrm(message: string, details: Record<string, unknown> = {}): CodecError {
  return new CodecError(CodecErrorCode.INVALID_VALUE, message, { details });
}

const FIELD_DEFAULTS: Record<string, unknown> = {};
for (const f of SAMPLE_USER_FIELDS) FIELD_DEFAULTS[f.name] = f.kind === 'char' ? '' : f.kind === 'bytes' ? new Uint8Array(f.length) : undefined;

/** Which sample prefix an IRM encodes with: the one holding its last present optional field. */
function samplePrefixIndex(u: SampleUserPart, needExtensions: boolean): number {
  // explicit property reads (not a keyed loop): this runs on every encode
  let n: number; // number of optional fields present
  if (u.reserved5 !== undefined) n = 9;
  else if (u.extensionOffset !== undefined) n = 8;
  else if (u.sessionToken !== undefined) n = 7;
  else if (u.correlationToken !== undefined) n = 6;
  else if (u.modName !== undefined) n = 5;
  else if (u.tagMap !== undefined) n = 4;
  else if (u.tagAdapter !== undefined) n = 3;
  else if (u.rerouteName !== undefined) n = 2;
  else if (u.applName !== undefined) n = 1;
  else n = 0;
  if (needExtensions && SAMPLE_BASE_FIELDS + n < EXTN_OFF_INDEX + 1) n = SAMPLE_USER_FIELDS.length - SAMPLE_BASE_FIELDS;
  return n;
}

/** Plan for writing one IRM: computed once, used for size and write. */
interface IrmPlan {
  size: number;
  userLayout: Layout<Record<string, unknown>> | null;
  userValue: Record<string, unknown> | null;
  userRaw: Uint8Array | null;
  extensionsAt: number; // IRM offset of the first extension, or -1
}

function planIrm(irm: Irm, exit: RegisteredExit): IrmPlan {
  const up = exit.userPart;
  const tail = irm.tail ?? EMPTY;
  const extensions = irm.extensions ?? [];
  if (up === 'sample') {
    const user = irm.user;
    if (user === null || user === undefined || user.kind !== 'sample') throw badIrm(`${exit.id} needs a sample user part (irm.user.kind === 'sample')`, { id: exit.id });
    const needExt = extensions.length > 0 || irm.f0.extensions === true;
    const prefix = SAMPLE_PREFIXES[samplePrefixIndex(user, needExt)]!;
    let value = user as unknown as Record<string, unknown>;
    // fill optional fields below the last present one
    for (let i = SAMPLE_BASE_FIELDS; i < prefix.fields.length; i++) {
      const name = SAMPLE_USER_FIELDS[i]!.name;
      if (value[name] === undefined) {
        if (value === (user as unknown as Record<string, unknown>)) value = { ...value };
        value[name] = FIELD_DEFAULTS[name] ?? 0;
      }
    }
    const base = IRM_FIXED_LENGTH + prefix.size + tail.length;
    if (needExt) {
      const extensionsAt = base;
      if (value.extensionOffset !== extensionsAt) {
        if (value === (user as unknown as Record<string, unknown>)) value = { ...value };
        value.extensionOffset = extensionsAt;
      }
      return { size: base + extensionsSize(extensions), userLayout: prefix, userValue: value, userRaw: null, extensionsAt };
    }
    return { size: base, userLayout: prefix, userValue: value, userRaw: null, extensionsAt: -1 };
  }
  if (extensions.length > 0) throw badIrm(`IRM extensions are only supported with the sample user part, not ${exit.id}`, { id: exit.id });
  if (up === 'none') {
    return { size: IRM_FIXED_LENGTH + tail.length, userLayout: null, userValue: null, userRaw: null, extensionsAt: -1 };
  }
  const user = irm.user;
  if (user === null || user === undefined || user.kind !== 'custom') throw badIrm(`${exit.id} needs a custom user part (irm.user.kind === 'custom')`, { id: exit.id });
  if (up instanceof Parser) {
    if (!(user.raw instanceof Uint8Array)) throw badIrm(`${exit.id}: a parser-described user part is encoded from irm.user.raw`, { id: exit.id });
    return { size: IRM_FIXED_LENGTH + user.raw.length + tail.length, userLayout: null, userValue: null, userRaw: user.raw, extensionsAt: -1 };
  }
  return { size: IRM_FIXED_LENGTH + up.size + tail.length, userLayout: up, userValue: user.value, userRaw: null, extensionsAt: -1 };
}

const EMPTY = new Uint8Array(0);

/** Encoded size of an IRM for `exit`. */
export function irmSize(irm: Irm, exit: RegisteredExit): number {
  return planIrm(irm, exit).size;
}

/** Options for IRM encoding. */
export interface EncodeIrmOptions {
  /** Code set of the IRM's character fields and IRM_ID (default `ebcdic`). */
  codeSet?: CodeSet;
  /** EBCDIC page for character fields (default CP037). */
  ebcdicPage?: CodePage;
}

/**
 * Write `irm` for `exit` at `target[offset]` (the IRM_LEN position); returns the offset after it.
 * IRM_LEN (and IRM_EXTN_OFF when extensions are present) are computed.
 */
export function writeIrm(irm: Irm, exit: RegisteredExit, target: Uint8Array, offset: number, options: EncodeIrmOptions = {}): number {
  const plan = planIrm(irm, exit);
  return writePlanned(irm, plan, target, offset, pageFor(options.codeSet, options.ebcdicPage));
}

/** The page of an IRM's character fields. */
function pageFor(codeSet: CodeSet | undefined, ebcdicPage: CodePage | undefined): CodePage {
  return codeSet === 'ascii' ? LATIN1 : (ebcdicPage ?? CP037);
}

function writePlanned(irm: Irm, plan: IrmPlan, target: Uint8Array, offset: number, page: CodePage): number {
  if (plan.size > 0xffff) throw badIrm(`the IRM would be ${plan.size} bytes; IRM_LEN is a halfword`, { size: plan.size });
  IRM_FIXED_LAYOUT.write(irm.length === plan.size ? irm : { ...irm, length: plan.size }, target, offset, page);
  let at = offset + IRM_FIXED_LENGTH;
  if (plan.userLayout !== null) {
    plan.userLayout.write(plan.userValue!, target, at, page);
    at += plan.userLayout.size;
  } else if (plan.userRaw !== null) {
    target.set(plan.userRaw, at);
    at += plan.userRaw.length;
  }
  const tail = irm.tail ?? EMPTY;
  if (tail.length > 0) {
    target.set(tail, at);
    at += tail.length;
  }
  if (plan.extensionsAt >= 0) at = encodeExtensions(irm.extensions, target, at);
  return at;
}

/** Encode an IRM on its own (without LLLL). */
export function encodeIrm(irm: Irm, exit: RegisteredExit, options: EncodeIrmOptions = {}): Uint8Array {
  const plan = planIrm(irm, exit);
  const out = new Uint8Array(plan.size);
  writePlanned(irm, plan, out, 0, pageFor(options.codeSet, options.ebcdicPage));
  return out;
}

/** @internal plan + write, for request.ts (avoids planning twice). */
export const irmInternals = { planIrm, writePlanned, pageFor };
export type { IrmPlan };

/** IRM offset of IRM_EXTN_OFF (168). */
export const IRM_EXTN_OFF_OFFSET = EXTN_OFF_IRM_OFFSET;
