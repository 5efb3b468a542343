import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReasonCode, ReturnCode } from './codes.js';
import { CP037, getCodePage } from './ebcdic.js';
import { CodecError } from './errors.js';
import {
  CORRELATION_TOKEN_LAYOUT,
  CSM_LAYOUT,
  RSM_LAYOUT,
  type DataReply,
  type ImsReply,
  ProtocolLevel,
  ReplyLength,
  StatusFlag,
  ackRequired,
  buildCorrelationToken,
  csm,
  decodeReply,
  deallocateReply,
  encodeReply,
  encodeReplyInto,
  replySize,
  parseCorrelationToken,
  statusReply,
} from './reply.js';
import { ReplyFrameReader } from './reply-framer.js';
import { ByteBuilder, hexBytes, toHex, withLlll } from './testing/replies.js';

const eb = (s: string): Uint8Array => new ByteBuilder().ebcdic(s).bytes();
const as = (s: string): Uint8Array => new ByteBuilder().ascii(s).bytes();

/** Strip the decoder-only fields so a reply can be compared with what was encoded. */
function comparable(r: ImsReply): unknown {
  const copy: Record<string, unknown> = { ...r };
  if (r.kind === 'data') copy.segments = r.segments.map((s) => Array.from(s));
  if (r.kind === 'data' && r.correlationToken) copy.correlationToken = Array.from(r.correlationToken);
  if (r.kind === 'data' && r.netsid) copy.netsid = Array.from(r.netsid);
  if (r.kind === 'data' && r.netuid) copy.netuid = Array.from(r.netuid);
  if (r.kind === 'status') {
    const { reasonName: _n, ...rsm } = r.rsm;
    copy.rsm = rsm;
  }
  return copy;
}

/** Feed `bytes` to a fresh reader in the given chunks; return the frames. */
function frames(bytes: Uint8Array, llll: boolean, cuts: number[]): Uint8Array[] {
  const reader = new ReplyFrameReader({ llll, maxFrameSize: 1 << 20 });
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    out.push(...reader.push(bytes.subarray(prev, c)));
    prev = c;
  }
  expect(reader.bufferedBytes).toBe(0);
  return out;
}

/**
 * One golden vector → decode, encode (hex compare), round trip, and framing split at every offset and
 * one byte at a time, for the SAMPL1 form (`withLlll(body)`) and the SAMPLE form (`body`).
 */
function describeVector(name: string, reply: ImsReply, body: Uint8Array, expected: { decoded?: Partial<DataReply> | Record<string, unknown> } = {}): void {
  describe(name, () => {
    for (const llll of [true, false]) {
      const bytes = llll ? withLlll(body) : body;
      const form = llll ? 'SAMPL1' : 'SAMPLE';
      it(`${form}: decodes`, () => {
        const decoded = decodeReply(bytes, { llll });
        expect(comparable(decoded)).toEqual(comparable(reply));
        if (expected.decoded) expect(decoded).toMatchObject(expected.decoded);
      });
      it(`${form}: encodes byte-exact`, () => {
        expect(toHex(encodeReply(reply, { llll }))).toBe(toHex(bytes));
      });
      it(`${form}: round-trips`, () => {
        expect(toHex(encodeReply(decodeReply(bytes, { llll }), { llll }))).toBe(toHex(bytes));
      });
      it(`${form}: writes every byte (encodeReplyInto over poisoned memory; replySize)`, () => {
        // encodeReply's output may come from a slab that is not zeroed: every byte must be written.
        const target = new Uint8Array(bytes.length + 5).fill(0xaa);
        expect(encodeReplyInto(reply, { llll }, target, 3)).toBe(bytes.length);
        expect(replySize(reply, { llll })).toBe(bytes.length);
        expect(toHex(target.subarray(3, 3 + bytes.length))).toBe(toHex(bytes));
        expect([target[2], target[3 + bytes.length]]).toEqual([0xaa, 0xaa]);
      });
      it(`${form}: frames identically when split at every offset and byte by byte`, () => {
        for (let cut = 0; cut <= bytes.length; cut++) expect(frames(bytes, llll, [cut]).map(toHex)).toEqual([toHex(bytes)]);
        const each = Array.from({ length: bytes.length }, (_, i) => i);
        expect(frames(bytes, llll, each).map(toHex)).toEqual([toHex(bytes)]);
        // two back-to-back replies in one stream
        const two = new Uint8Array(bytes.length * 2);
        two.set(bytes, 0);
        two.set(bytes, bytes.length);
        for (let cut = 0; cut <= two.length; cut += 3) expect(frames(two, llll, [cut]).length).toBe(2);
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// Spec §13 hex, pasted literally
// ---------------------------------------------------------------------------------------------------

const SPEC_13_2 = hexBytes(`
0000  00 00 00 27 00 17 00 00 C5 D5 E3 D9 E8 40 E6 C1
0010  E2 40 C4 C9 E2 D7 D3 C1 E8 C5 C4 00 0C 10 02 5C
0020  C3 E2 D4 D6 D2 E8 5C
`);
const SPEC_13_3_RESPONSE = hexBytes(`
0000  00 00 00 27 00 17 00 00 C5 D5 E3 D9 E8 40 E6 C1
0010  E2 40 C4 C9 E2 D7 D3 C1 E8 C5 C4 00 0C 30 02 5C
0020  C3 E2 D4 D6 D2 E8 5C
`);
const SPEC_13_3_DEALLOCATE = hexBytes(`
0000  00 00 00 18 00 14 00 00 5C D9 C5 D8 E2 E3 E2 5C
0010  00 00 00 00 00 00 00 61
`);
const SPEC_13_4_QUEUED = hexBytes('00000022 0012 0000 C1E2E8D5C340D6E4E3D7E4E340F1 000C 30 02 5CC3E2D4D6D2E85C');
const SPEC_13_4_RC40 = hexBytes('00000018 0014 0000 5CD9C5D8E2E3E25C 00000028 00000031');
const SPEC_13_5 = hexBytes(`
0000  00 00 00 18 00 14 00 00 5C D9 C5 D8 E2 E3 E2 5C
0010  00 00 00 08 00 00 00 48
`);

// ---------------------------------------------------------------------------------------------------
// The same bytes, built field by field with the naive builder
// ---------------------------------------------------------------------------------------------------

const DISPLAYED = 'ENTRY WAS DISPLAYED';

/** §13.2 body (SAMPLE form). */
const BUILT_13_2 = new ByteBuilder()
  .u16(4 + DISPLAYED.length) // LL = 23
  .u16(0) // ZZ
  .ebcdic(DISPLAYED) // data
  .u16(12) // CSM_LEN
  .u8(0x10) // CSM_FLG1: protocol level present
  .u8(0x02) // CSM_PRLVLFLG: CM0 ACK NOWAIT supported
  .ebcdic('*CSMOKY*') // CSM_ID
  .bytes();

const BUILT_13_3_RESPONSE = new ByteBuilder()
  .u16(4 + DISPLAYED.length) // LL
  .u16(0) // ZZ
  .ebcdic(DISPLAYED) // data
  .u16(12) // CSM_LEN
  .u8(0x30) // CSM_FLG1: ACK/NAK required + protocol level
  .u8(0x02) // CSM_PRLVLFLG
  .ebcdic('*CSMOKY*') // CSM_ID
  .bytes();

function builtRsm(rc: number, rsn: number, flags = 0, byte3 = 0, codeSet: 'ebcdic' | 'ascii' = 'ebcdic'): Uint8Array {
  return new ByteBuilder()
    .u16(20) // RSM_LEN
    .u8(flags) // RSM_FLG1
    .u8(byte3) // RSM_RACFRC / RSM_OTMRSN
    .text(codeSet, '*REQSTS*') // RSM_ID
    .u32(rc) // RSM_RETCOD
    .u32(rsn) // RSM_RSNCOD
    .bytes();
}

const BUILT_13_4_QUEUED = new ByteBuilder()
  .u16(18) // LL
  .u16(0) // ZZ
  .ebcdic('ASYNC OUTPUT 1') // data
  .u16(12) // CSM_LEN
  .u8(0x30) // CSM_FLG1: ACK required + protocol level
  .u8(0x02) // CSM_PRLVLFLG
  .ebcdic('*CSMOKY*') // CSM_ID
  .bytes();

const PING_TEXT = 'HWSC0030I *PING RESPONSE*';
function builtPing(codeSet: 'ebcdic' | 'ascii'): Uint8Array {
  return new ByteBuilder()
    .u16(4 + PING_TEXT.length) // LL
    .u16(0) // ZZ
    .text(codeSet, PING_TEXT) // data
    .u16(12) // CSM_LEN
    .u8(0x10) // CSM_FLG1
    .u8(0x02) // CSM_PRLVLFLG
    .text(codeSet, '*CSMOKY*') // CSM_ID
    .bytes();
}

// [UNV] DFS064 text after the message number; imsplex's emulator makes it configurable.
const DFS064 = 'DFS064 11:32:07 DESTINATION CAN NOT BE FOUND OR CREATED, DEST=BADTRAN';
const BUILT_13_8 = new ByteBuilder()
  .u16(4 + DFS064.length) // LL
  .u16(0) // ZZ
  .ebcdic(DFS064) // DFS064 text as data
  .u16(12) // CSM_LEN
  .u8(0x10) // CSM_FLG1
  .u8(0x02) // CSM_PRLVLFLG
  .ebcdic('*CSMOKY*') // CSM_ID
  .bytes();

describe('spec §13 bytes equal the naive builder', () => {
  it('§13.2', () => expect(toHex(withLlll(BUILT_13_2))).toBe(toHex(SPEC_13_2)));
  it('§13.3 response and deallocate confirm', () => {
    expect(toHex(withLlll(BUILT_13_3_RESPONSE))).toBe(toHex(SPEC_13_3_RESPONSE));
    expect(toHex(withLlll(builtRsm(0, 97)))).toBe(toHex(SPEC_13_3_DEALLOCATE));
  });
  it('§13.4 queued message and RC 40', () => {
    expect(toHex(withLlll(BUILT_13_4_QUEUED))).toBe(toHex(SPEC_13_4_QUEUED));
    expect(toHex(withLlll(builtRsm(40, 0x31)))).toBe(toHex(SPEC_13_4_RC40));
  });
  it('§13.5', () => expect(toHex(withLlll(builtRsm(8, 72)))).toBe(toHex(SPEC_13_5)));
  it('§13.2 SAMPLE form is bytes 04–26 of the SAMPL1 form', () => {
    expect(BUILT_13_2.length).toBe(35);
    expect(toHex(SPEC_13_2.subarray(4))).toBe(toHex(BUILT_13_2));
  });
});

// ---------------------------------------------------------------------------------------------------
// Golden vectors
// ---------------------------------------------------------------------------------------------------

describeVector('§13.2 send-receive response', { kind: 'data', segments: [eb(DISPLAYED)], csm: { flags: 0x10, protocolLevel: 2 }, codeSet: 'ebcdic' }, SPEC_13_2.subarray(4));
describeVector('§13.3 CM1 CONFIRM response (ACK required)', { kind: 'data', segments: [eb(DISPLAYED)], csm: csm(StatusFlag.ACK_REQUIRED), codeSet: 'ebcdic' }, SPEC_13_3_RESPONSE.subarray(4));
describeVector('§13.3 deallocate confirm', { ...deallocateReply(true), codeSet: 'ebcdic' }, SPEC_13_3_DEALLOCATE.subarray(4), { decoded: { rsm: { returnCode: 0, reasonCode: 97, reasonName: 'DEAL_CTD' } } });
describeVector('§13.3 deallocate abort [INF]', { ...deallocateReply(false), codeSet: 'ebcdic' }, builtRsm(0, 98), { decoded: { rsm: { reasonName: 'DEAL_ABT' } } });
describeVector('§13.4 queued message', { kind: 'data', segments: [eb('ASYNC OUTPUT 1')], csm: { flags: 0x30, protocolLevel: 2 }, codeSet: 'ebcdic' }, SPEC_13_4_QUEUED.subarray(4));
describeVector('§13.4 RC 40 timer RSM', { ...statusReply(ReturnCode.TIMER_EXPIRED_KEEP, 0x31), codeSet: 'ebcdic' }, SPEC_13_4_RC40.subarray(4));
describeVector('§13.5 unknown datastore RSM', { ...statusReply(ReturnCode.IMS_CONNECT_ERROR, ReasonCode.NFNDDST), codeSet: 'ebcdic' }, SPEC_13_5.subarray(4), { decoded: { rsm: { reasonName: 'NFNDDST' } } });
describeVector('§13.7 PING reply (EBCDIC)', { kind: 'data', segments: [eb(PING_TEXT)], csm: csm(), codeSet: 'ebcdic' }, builtPing('ebcdic'));
describeVector('§13.7 PING reply (ASCII client)', { kind: 'data', segments: [as(PING_TEXT)], csm: csm(), codeSet: 'ascii' }, builtPing('ascii'));
describeVector('§13.8 DFS064 unknown transaction', { kind: 'data', segments: [eb(DFS064)], csm: csm(), codeSet: 'ebcdic' }, BUILT_13_8);
describeVector('ASCII RSM (DUPECLNT)', { ...statusReply(ReturnCode.IMS_CONNECT_ERROR, ReasonCode.DUPECLNT), codeSet: 'ascii' }, builtRsm(8, 56, 0, 0, 'ascii'), { decoded: { rsm: { reasonName: 'DUPECLNT' } } });
describeVector('RSM RC 16 with OTMA reason byte and flags', { ...statusReply(ReturnCode.OTMA_NAK, 0x33, { flags: 0x80, racfOrOtmaReason: 7 }), codeSet: 'ebcdic' }, builtRsm(16, 0x33, 0x80, 7));

const RMM_GENCID_BODY = new ByteBuilder()
  .u16(20) // RMM LL
  .u16(0) // ZZ
  .ebcdic('*REQMOD*') // ID
  .ebcdic('IVTNOMOD', 8) // MOD name
  .u16(20) // GENCID LL
  .u16(0) // ZZ
  .ebcdic('*GENCID*') // ID
  .ebcdic('HWS00001', 8) // client ID
  .u16(4 + 5) // LL
  .u16(0) // ZZ
  .ebcdic('FIRST') // segment 1
  .u16(4 + 6) // LL
  .u16(0x0100) // ZZ (non-zero, carried through)
  .ebcdic('SECOND') // segment 2
  .u16(12) // CSM_LEN
  .u8(0xf0) // CSM_FLG1: async queued + conversation + ACK + protocol level
  .u8(0x03) // CSM_PRLVLFLG
  .ebcdic('*CSMOKY*') // CSM_ID
  .bytes();
describeVector(
  'RMM + GENCID + two segments (non-zero ZZ) + CSM',
  { kind: 'data', mod: 'IVTNOMOD', generatedClientId: 'HWS00001', segments: [eb('FIRST'), eb('SECOND')], zz: [0, 0x100], csm: { flags: 0xf0, protocolLevel: 3 }, codeSet: 'ebcdic' },
  RMM_GENCID_BODY,
);

const TOKEN = new ByteBuilder()
  .u16(40) // COR_LL
  .u16(3) // COR_PSTNR region
  .ebcdic('IMS1') // COR_IMSID
  .raw([1, 2, 3, 4, 5, 6, 7, 8]) // COR_MEMTK
  .raw([9, 10, 11, 12, 13, 14, 15, 16]) // COR_AWETK
  .ebcdic('TPIPE01', 8) // COR_TPIPE
  .ebcdic('USER01', 8) // COR_USERID
  .bytes();
const BIG = new Uint8Array(40000).map((_, i) => i & 0xff);
const CALLOUT_BODY = new ByteBuilder()
  .u16(52) // COR_Len
  .u16(0) // COR_Rsvd
  .ebcdic('*CORTKN*') // COR_Id
  .raw(TOKEN) // 40-byte token
  .u16(20) // RMM LL
  .u16(0) // ZZ
  .ebcdic('*REQMOD*') // ID
  .ebcdic('CALLMOD', 8) // MOD name
  .u32(4 + BIG.length) // LLLL callout data (over 32 KB)
  .raw(BIG) // data
  .u32(4 + 3) // LLLL second data segment
  .ebcdic('END') // data
  .u16(12) // CSM_LEN
  .u8(0x30) // CSM_FLG1
  .u8(0x02) // CSM_PRLVLFLG
  .ebcdic('*CSMOKY*') // CSM_ID
  .bytes();
describe('callout reply', () => {
  const reply: ImsReply = { kind: 'data', correlationToken: TOKEN, mod: 'CALLMOD', segments: [BIG, eb('END')], csm: csm(StatusFlag.ACK_REQUIRED), codeSet: 'ebcdic' };
  for (const llll of [true, false]) {
    const bytes = llll ? withLlll(CALLOUT_BODY) : CALLOUT_BODY;
    it(`${llll ? 'SAMPL1' : 'SAMPLE'}: decode, encode, frame`, () => {
      expect(comparable(decodeReply(bytes, { llll }))).toEqual(comparable(reply));
      expect(encodeReply(reply, { llll })).toEqual(bytes);
      for (const cut of [1, 2, 11, 12, 52, 53, 63, 72, 73, 75, 76, 40000, bytes.length - 13, bytes.length - 1]) {
        expect(frames(bytes, llll, [cut]).map((f) => f.length)).toEqual([bytes.length]);
      }
    });
  }
  it('parses and builds the correlation token fields', () => {
    const fields = parseCorrelationToken(TOKEN);
    expect(fields).toEqual({ regionId: 3, imsId: 'IMS1', memberToken: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), messageToken: Uint8Array.from([9, 10, 11, 12, 13, 14, 15, 16]), tpipe: 'TPIPE01', userId: 'USER01' });
    expect(buildCorrelationToken(fields)).toEqual(TOKEN);
    expect(CORRELATION_TOKEN_LAYOUT.parse(TOKEN)).toMatchObject({ tokenLength: 40, regionId: 3, tpipe: 'TPIPE01' });
  });
});

describe('NETSID / NETUID', () => {
  const body = new ByteBuilder()
    .u16(16 + 4) // LL
    .u16(0) // reserved
    .ascii('*NETSID*') // ID
    .u32(0) // reserved
    .raw([0xaa, 0xbb, 0xcc, 0xdd]) // data
    .u16(16 + 2) // LL
    .u16(0) // reserved
    .ascii('*NETUID*') // ID
    .u32(0) // reserved
    .raw([0x11, 0x22]) // data
    .u16(4 + 2) // LL
    .u16(0) // ZZ
    .ascii('hi') // data
    .u16(12) // CSM_LEN
    .u8(0x30) // FLG1
    .u8(0x02) // level
    .ascii('*CSMOKY*') // ID
    .bytes();
  const reply: ImsReply = { kind: 'data', netsid: Uint8Array.from([0xaa, 0xbb, 0xcc, 0xdd]), netuid: Uint8Array.from([0x11, 0x22]), segments: [as('hi')], csm: csm(StatusFlag.ACK_REQUIRED), codeSet: 'ascii' };
  it('decodes, encodes (NETSID first [UNV]) and frames', () => {
    expect(comparable(decodeReply(body, { llll: false }))).toEqual(comparable(reply));
    expect(toHex(encodeReply(reply, { llll: false }))).toBe(toHex(body));
    for (let cut = 0; cut <= body.length; cut++) expect(frames(body, false, [cut]).length).toBe(1);
  });
  it('accepts NETUID before NETSID', () => {
    const swapped = new Uint8Array(body.length);
    swapped.set(body.subarray(20, 38), 0);
    swapped.set(body.subarray(0, 20), 18);
    swapped.set(body.subarray(38), 38);
    expect(comparable(decodeReply(swapped, { llll: false }))).toEqual(comparable(reply));
  });
});

describe('decode details', () => {
  it('agrees with the layouts and their binary-parser parsers', () => {
    const rsmBytes = SPEC_13_5.subarray(4);
    const viaLayout = RSM_LAYOUT.read(rsmBytes);
    const viaParser = RSM_LAYOUT.parse(rsmBytes);
    expect(viaParser).toEqual(viaLayout);
    expect(viaLayout).toMatchObject({ length: 20, id: '*REQSTS*', returnCode: 8, reasonCode: 72 });
    expect(CSM_LAYOUT.parse(SPEC_13_2, 27)).toEqual({ length: 12, flags: 0x10, protocolLevel: 2, id: '*CSMOKY*' });
  });
  it('gives no reason name where the reason field is a sense code, CSL code or timer value', () => {
    for (const rc of [16, 24, 28, 32, 36, 40]) {
      const r = decodeReply(builtRsm(rc, 56), { llll: false });
      expect(r.kind === 'status' && r.rsm.reasonName).toBe(undefined);
    }
    const r = decodeReply(builtRsm(8, 56), { llll: false });
    expect(r.kind === 'status' && r.rsm.reasonName).toBe('DUPECLNT');
  });
  it('reads name fields with another EBCDIC code page', () => {
    const cp500 = getCodePage('cp500');
    const r = decodeReply(RMM_GENCID_BODY, { llll: false, codePage: cp500 });
    expect(r.kind === 'data' && r.mod).toBe('IVTNOMOD');
  });
  it('a data segment that merely starts with *CSMOKY* (LL ≠ 12) stays data', () => {
    const body = new ByteBuilder()
      .u16(4 + 10) // LL 14
      .u16(0) // ZZ
      .ebcdic('*CSMOKY*AB') // data that looks like an ID
      .u16(12) // CSM_LEN
      .u8(0) // FLG1
      .u8(0) // level
      .ebcdic('*CSMOKY*') // CSM_ID
      .bytes();
    const r = decodeReply(body, { llll: false });
    expect(r.kind === 'data' && r.segments.length).toBe(1);
  });
  it('ackRequired reads X\'20\'', () => {
    expect(ackRequired(0x30)).toBe(true);
    expect(ackRequired(0x10)).toBe(false);
    expect(ProtocolLevel.CM0_ACK_NOWAIT).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------------------
// Malformed input
// ---------------------------------------------------------------------------------------------------

function expectCode(fn: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(CodecError);
  expect((thrown as CodecError).code).toBe(code);
}

describe('malformed replies', () => {
  const rsm = builtRsm(8, 72);
  const csmBytes = BUILT_13_2.subarray(23);
  it('LLLL not equal to the byte count', () => {
    const bad = withLlll(BUILT_13_2);
    bad[3] = 40;
    expectCode(() => decodeReply(bad, { llll: true }), 'IMS_ERR_BAD_LENGTH');
    expectCode(() => decodeReply(Uint8Array.of(0, 0), { llll: true }), 'IMS_ERR_TRUNCATED');
  });
  it('LL below 4 or a negative halfword', () => {
    expectCode(() => decodeReply(Uint8Array.of(0, 3, 0, 0), { llll: false }), 'IMS_ERR_BAD_LENGTH');
    expectCode(() => decodeReply(Uint8Array.of(0x80, 0, 0, 0), { llll: false }), 'IMS_ERR_BAD_LENGTH');
  });
  it('no CSM or RSM at the end', () => {
    expectCode(() => decodeReply(BUILT_13_2.subarray(0, 23), { llll: false }), 'IMS_ERR_TRUNCATED');
    expectCode(() => decodeReply(BUILT_13_2.subarray(0, 30), { llll: false }), 'IMS_ERR_TRUNCATED');
  });
  it('bytes after the CSM or RSM', () => {
    expectCode(() => decodeReply(withLlll(new ByteBuilder().raw(BUILT_13_2).raw([0, 4, 0, 0]).bytes()), { llll: true }), 'IMS_ERR_BAD_REPLY');
    expectCode(() => decodeReply(new ByteBuilder().raw(rsm).raw(csmBytes).bytes(), { llll: false }), 'IMS_ERR_BAD_REPLY');
  });
  it('RSM after other structures', () => {
    expectCode(() => decodeReply(new ByteBuilder().raw(BUILT_13_2.subarray(0, 23)).raw(rsm).bytes(), { llll: false }), 'IMS_ERR_BAD_REPLY');
  });
  it('pieces out of the §7.7 order', () => {
    const gencid = RMM_GENCID_BODY.subarray(20, 40);
    const rmm = RMM_GENCID_BODY.subarray(0, 20);
    expectCode(() => decodeReply(new ByteBuilder().raw(gencid).raw(rmm).raw(csmBytes).bytes(), { llll: false }), 'IMS_ERR_BAD_REPLY');
    expectCode(() => decodeReply(new ByteBuilder().raw(BUILT_13_2.subarray(0, 23)).raw(rmm).raw(csmBytes).bytes(), { llll: false }), 'IMS_ERR_BAD_REPLY');
    expectCode(() => decodeReply(new ByteBuilder().raw(rmm).raw(CALLOUT_BODY.subarray(0, 52)).raw(csmBytes).bytes(), { llll: false }), 'IMS_ERR_BAD_REPLY');
  });
  it('mixed EBCDIC and ASCII control IDs', () => {
    const asciiCsm = new ByteBuilder().u16(12).u8(0x10).u8(2).ascii('*CSMOKY*').bytes();
    expectCode(() => decodeReply(new ByteBuilder().raw(RMM_GENCID_BODY.subarray(0, 20)).raw(asciiCsm).bytes(), { llll: false }), 'IMS_ERR_BAD_REPLY');
  });
});

describe('encoding into memory that is not zeroed', () => {
  it('writes every byte of every structure: CORTKN, RMM, GENCID, NETSID, NETUID, LLZZ and LLLL segments, CSM, RSM', () => {
    const token = buildCorrelationToken({ regionId: 1, imsId: 'IMS1', memberToken: new Uint8Array(8).fill(1), messageToken: new Uint8Array(8).fill(2), tpipe: 'TP01', userId: 'USER01' });
    const replies: ImsReply[] = [
      { kind: 'data', mod: 'MOD1', generatedClientId: 'HWS00001', netsid: eb('SESSION'), netuid: eb('USER'), segments: [eb('A'), eb('BC')], csm: csm(0x20) },
      { kind: 'data', correlationToken: token, mod: 'MOD2', segments: [eb('CALLOUT DATA')], csm: csm() },
      { kind: 'data', segments: [eb('Z')], zz: [0x0102], csm: csm() },
      statusReply(ReturnCode.OTMA_NAK, 0x33, { flags: 0x80, racfOrOtmaReason: 7 }),
    ];
    for (const reply of replies) {
      for (const llll of [true, false]) {
        for (const codeSet of ['ebcdic', 'ascii'] as const) {
          const clean = encodeReply(reply, { llll, codeSet });
          const target = new Uint8Array(clean.length + 2).fill(0xaa);
          encodeReplyInto(reply, { llll, codeSet }, target, 1);
          expect(toHex(target.subarray(1, 1 + clean.length))).toBe(toHex(clean));
          expect(comparable(decodeReply(target.subarray(1, 1 + clean.length), { llll }))).toEqual(comparable({ ...reply, codeSet }));
        }
      }
    }
  });
  it('refuses a target without room, writing nothing', () => {
    const target = new Uint8Array(10).fill(0xaa);
    expectCode(() => encodeReplyInto(statusReply(8, 72), { llll: true }, target, 0), 'IMS_ERR_INVALID_VALUE');
    expect(target.every((b) => b === 0xaa)).toBe(true);
  });
  it('outputs are independent even when they share a slab', () => {
    const a = encodeReply({ kind: 'data', segments: [new Uint8Array(100).fill(1)], csm: csm() }, { llll: true });
    const b = encodeReply({ kind: 'data', segments: [new Uint8Array(100).fill(2)], csm: csm() }, { llll: true });
    a.fill(0);
    expect(b[8]).toBe(2);
    expect(b.length).toBe(4 + 104 + 12);
  });
});

describe('encode validation', () => {
  it('rejects values that do not fit', () => {
    expectCode(() => encodeReply({ kind: 'data', segments: [], csm: { flags: 256, protocolLevel: 0 } }, { llll: true }), 'IMS_ERR_INVALID_VALUE');
    expectCode(() => encodeReply(statusReply(-1, 0), { llll: true }), 'IMS_ERR_INVALID_VALUE');
    expectCode(() => encodeReply({ kind: 'data', segments: [new Uint8Array(ReplyLength.MAX_SEGMENT)], csm: csm() }, { llll: true }), 'IMS_ERR_INVALID_VALUE');
    expectCode(() => encodeReply({ kind: 'data', mod: 'TOOLONGMOD', segments: [], csm: csm() }, { llll: true }), 'IMS_ERR_INVALID_VALUE');
    expectCode(() => encodeReply({ kind: 'data', correlationToken: new Uint8Array(39), segments: [], csm: csm() }, { llll: true }), 'IMS_ERR_INVALID_VALUE');
    expectCode(() => encodeReply({ kind: 'data', segments: [new Uint8Array(1)], zz: [], csm: csm() }, { llll: true }), 'IMS_ERR_INVALID_VALUE');
  });
  it('the largest LLZZ segment fits', () => {
    const r = encodeReply({ kind: 'data', segments: [new Uint8Array(ReplyLength.MAX_SEGMENT - 4)], csm: csm() }, { llll: false });
    expect((r[0]! << 8) | r[1]!).toBe(0x7fff);
  });
  it('codeSet option overrides the reply', () => {
    const r = encodeReply({ ...statusReply(8, 72), codeSet: 'ebcdic' }, { llll: false, codeSet: 'ascii' });
    expect(toHex(r)).toBe(toHex(builtRsm(8, 72, 0, 0, 'ascii')));
  });
});

// ---------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------

// Names start with a letter: an ASCII field of only "@" reads as padding (layout.ts readCharField).
const nameArb = fc.stringMatching(/^[A-Z][A-Z0-9#$@]{0,7}$/);
const byteArb = fc.integer({ min: 0, max: 255 });
const u32Arb = fc.integer({ min: 0, max: 0xffffffff });
const bytesArb = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });

const dataReplyArb: fc.Arbitrary<ImsReply> = fc
  .record(
    {
      callout: fc.boolean(),
      segments: fc.array(bytesArb(64), { maxLength: 4 }),
      zzSeed: fc.option(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 4, maxLength: 4 }), { nil: undefined }),
      csm: fc.record({ flags: byteArb, protocolLevel: byteArb }),
      mod: fc.option(nameArb, { nil: undefined }),
      generatedClientId: fc.option(nameArb, { nil: undefined }),
      token: fc.uint8Array({ minLength: 40, maxLength: 40 }),
      netsid: fc.option(bytesArb(20), { nil: undefined }),
      netuid: fc.option(bytesArb(20), { nil: undefined }),
      codeSet: fc.constantFrom('ebcdic' as const, 'ascii' as const),
    },
    { requiredKeys: ['callout', 'segments', 'csm', 'token', 'codeSet'] },
  )
  .map((r) => {
    const out: Record<string, unknown> = { kind: 'data', segments: r.segments, csm: r.csm, codeSet: r.codeSet };
    if (r.callout) out.correlationToken = r.token;
    const zz = r.zzSeed?.slice(0, r.segments.length);
    if (!r.callout && zz !== undefined && zz.some((z) => z !== 0)) out.zz = zz;
    if (r.mod !== undefined) out.mod = r.mod;
    if (r.generatedClientId !== undefined) out.generatedClientId = r.generatedClientId;
    if (r.netsid !== undefined) out.netsid = r.netsid;
    if (r.netuid !== undefined) out.netuid = r.netuid;
    return out as unknown as ImsReply;
  });
const statusReplyArb: fc.Arbitrary<ImsReply> = fc
  .record({ flags: byteArb, racfOrOtmaReason: byteArb, returnCode: u32Arb, reasonCode: u32Arb, codeSet: fc.constantFrom('ebcdic' as const, 'ascii' as const) })
  .map(({ codeSet, ...rsm }) => ({ kind: 'status', rsm, codeSet }));
const replyArb = fc.oneof(dataReplyArb, statusReplyArb);

/** True when a data segment's bytes would be read back as a control structure (accepted IBM ambiguity). */
function looksLikeStructure(r: ImsReply): boolean {
  if (r.kind !== 'data') return false;
  const ids = ['*CSMOKY*', '*REQSTS*', '*REQMOD*', '*GENCID*', '*CORTKN*', '*NETSID*', '*NETUID*'];
  return r.segments.some((s) => ids.some((id) => [CP037.encode(id), new TextEncoder().encode(id)].some((idb) => s.length >= 8 && idb.every((b, i) => s[i] === b))));
}

describe('properties', () => {
  it('encode → decode is the identity, and encode(decode(bytes)) = bytes, in both framings', () => {
    fc.assert(
      fc.property(replyArb, fc.boolean(), (reply, llll) => {
        fc.pre(!looksLikeStructure(reply));
        const bytes = encodeReply(reply, { llll });
        const back = decodeReply(bytes, { llll });
        expect(comparable(back)).toEqual(comparable(reply));
        expect(encodeReply(back, { llll })).toEqual(bytes);
      }),
      { numRuns: 200 },
    );
  });
  it('framing is independent of chunking', () => {
    fc.assert(
      fc.property(fc.array(replyArb, { minLength: 1, maxLength: 3 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 6 }), (replies, llll, rawCuts) => {
        const encoded = replies.map((r) => encodeReply(r, { llll }));
        const all = new ByteBuilder();
        for (const e of encoded) all.raw(e);
        const bytes = all.bytes();
        const cuts = [...new Set(rawCuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        expect(frames(bytes, llll, cuts).map(toHex)).toEqual(encoded.map(toHex));
      }),
      { numRuns: 100 },
    );
  });
  it('arbitrary and mutated bytes give a value or a CodecError, never anything else', () => {
    const mutated = fc
      .tuple(replyArb, fc.boolean(), fc.array(fc.tuple(fc.nat(), byteArb), { minLength: 1, maxLength: 4 }), fc.nat())
      .map(([r, llll, edits, cut]) => {
        const b = encodeReply(r, { llll }).slice();
        for (const [at, v] of edits) b[at % b.length] = v;
        return { bytes: cut % 3 === 0 ? b.subarray(0, cut % (b.length + 1)) : b, llll };
      });
    const random = fc.record({ bytes: fc.uint8Array({ maxLength: 80 }), llll: fc.boolean() });
    fc.assert(
      fc.property(fc.oneof(mutated, random), ({ bytes, llll }) => {
        for (const fn of [
          () => decodeReply(bytes, { llll }),
          () => {
            const reader = new ReplyFrameReader({ llll, maxFrameSize: 4096 });
            for (let i = 0; i < bytes.length; i += 7) reader.push(bytes.subarray(i, i + 7));
            for (const f of [reader.read()]) if (f) decodeReply(f, { llll });
          },
        ]) {
          try {
            fn();
          } catch (e) {
            if (!(e instanceof CodecError)) throw e;
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
