import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CommitMode, SyncLevel } from './constants.js';
import { CP037 } from './ebcdic.js';
import { CodecError } from './errors.js';
import {
  OtmaCommand,
  OtmaMemberFlag2,
  OtmaMemberQueueFlag,
  OtmaMessageType,
  OtmaResponseFlag,
  OtmaSecurityFlag,
  OtmaServerState,
  type OtmaMemberState,
  type OtmaMessage,
  type OtmaTransactionState,
  decodeOtmaMessage,
  encodeOtmaMessage,
  otmaControl,
} from './otma.js';
import {
  HOLD_QUEUE_DEPTH_REST_OFFSET,
  MEMBER_STATE_REST,
  MEMBER_STATE_REST_LAYOUT,
  OTMA_HOLD_QUEUE_DEPTH_OFFSET,
  OTMA_MEMBER_EXTENSION_LAYOUT,
  OTMA_TRANSACTION_FIELDS_LAYOUT,
  OTMA_TRANSACTION_STATE_LENGTH,
  OTMA_TRANSACTION_STATE_LENGTH_WITH_DEPTH,
  OtmaSyncOption,
  SyncOption,
  TRANSACTION_STATE_LENGTH,
  TRANSACTION_STATE_REST,
  TRANSACTION_STATE_REST_LAYOUT,
  commitModeOf,
  nameText,
  readHoldQueueDepth,
  readMemberRest,
  readTransactionRest,
  syncLevelOf,
  tokenBytes,
  tokenId,
  transactionSyncFlags,
  transactionSyncLevel,
  writeMemberRest,
  writeTransactionRest,
} from './otma-state.js';
import { naiveOtmaClientBidState, naiveOtmaControl, naiveOtmaSecurity, naiveOtmaSegments, naiveOtmaTransactionState } from './testing/otma.js';
import { ByteBuilder, hexBytes, toHex } from './testing/replies.js';

const concat = (...parts: Uint8Array[]): Uint8Array => new ByteBuilder().raw(parts.flatMap((p) => [...p])).bytes();
const eb = (s: string): Uint8Array => new ByteBuilder().ebcdic(s).bytes();

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof CodecError) return e.code;
    throw e;
  }
  return undefined;
}

/** One vector → decode, encode from the named fields alone, encode of the decoded value, round trip. */
function describeStateVector(name: string, fromFields: OtmaMessage, decoded: OtmaMessage, bytes: Uint8Array): void {
  describe(name, () => {
    it('decodes to the named fields (and the raw rest)', () => expect(decodeOtmaMessage(bytes)).toEqual(decoded));
    it('encodes byte-exact from the named fields alone', () => expect(toHex(encodeOtmaMessage(fromFields))).toBe(toHex(bytes)));
    it('encodes the decoded value byte-exact', () => expect(toHex(encodeOtmaMessage(decoded))).toBe(toHex(bytes)));
    it('round-trips', () => expect(toHex(encodeOtmaMessage(decodeOtmaMessage(bytes)))).toBe(toHex(bytes)));
  });
}

// ---------------------------------------------------------------------------------------------------
// Transaction input: CM1 / CONFIRM, server token, reroute name
// ---------------------------------------------------------------------------------------------------

const TOKEN = Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const CORRELATOR = Array.from({ length: 16 }, (_, i) => i + 1);

const TX_STATE_BYTES = naiveOtmaTransactionState({
  serverState: OtmaServerState.CONVERSATIONAL, // X'80': continued conversation
  syncFlags: 0x20, // CM1
  syncLevel: 0x01 | 0x08, // CONFIRM + reroute undeliverable output
  mapName: 'IVTCVMO',
  serverToken: TOKEN,
  correlator: CORRELATOR,
  ltermOverride: 'HWS$DEF', // reroute tpipe
});
const TX_BYTES = concat(
  naiveOtmaControl({ type: 0x80, responseFlags: 0x20, tpipe: 'CLIENT01', prefixFlags: 0xd0, sendSequence: 7 }),
  TX_STATE_BYTES,
  naiveOtmaSecurity({ flag: 0xc3, userId: 'USER01' }),
  naiveOtmaSegments(eb('NEXT STEP')),
);

const txControl = otmaControl({ messageType: OtmaMessageType.DATA, responseFlags: OtmaResponseFlag.RESPONSE_REQUESTED, tpipe: 'CLIENT01', prefixFlags: 0xd0, sendSequence: 7 });
const txFields = {
  syncFlags: CommitMode.CM1,
  syncLevel: SyncLevel.CONFIRM | OtmaSyncOption.REROUTE,
  mapName: 'IVTCVMO',
  serverToken: Uint8Array.from(TOKEN),
  correlator: Uint8Array.from(CORRELATOR),
  ltermOverride: 'HWS$DEF',
};
const txSecurity = { flag: OtmaSecurityFlag.CHECK, userId: 'USER01', rest: new Uint8Array(0) };
const txSegments = [eb('NEXT STEP')];

describe('transaction state vector: naive builder field by field', () => {
  it('has the imsplex layout', () => {
    expect(TX_STATE_BYTES.length).toBe(OTMA_TRANSACTION_STATE_LENGTH);
    expect(OTMA_TRANSACTION_STATE_LENGTH).toBe(69);
    expect(OTMA_TRANSACTION_FIELDS_LAYOUT.fields.map((f) => [f.name, 3 + f.offset, f.length])).toEqual([
      ['syncFlags', 3, 1],
      ['syncLevel', 4, 1],
      ['mapName', 5, 8],
      ['serverToken', 13, 16],
      ['correlator', 29, 16],
      ['contextId', 45, 16],
      ['ltermOverride', 61, 8],
    ]);
    expect(3 + OTMA_HOLD_QUEUE_DEPTH_OFFSET).toBe(69);
    expect(toHex(TX_STATE_BYTES.subarray(0, 5))).toBe('00 45 80 20 09');
    expect(toHex(TX_STATE_BYTES.subarray(61, 69))).toBe(toHex(eb('HWS$DEF ')));
  });
});

describeStateVector(
  'transaction input: CM1/CONFIRM, server token, reroute name',
  { control: txControl, state: { form: 'transaction', serverState: OtmaServerState.CONVERSATIONAL, rest: new Uint8Array(0), ...txFields }, security: txSecurity, segments: txSegments },
  {
    control: txControl,
    state: { form: 'transaction', serverState: OtmaServerState.CONVERSATIONAL, rest: TX_STATE_BYTES.slice(3), ...txFields, contextId: new Uint8Array(16) },
    security: txSecurity,
    segments: txSegments,
  },
  TX_BYTES,
);

const DEPTH_STATE = naiveOtmaTransactionState({ serverState: 0, syncFlags: 0x20, syncLevel: 0x00, holdQueueDepth: 0x01020304 });
const DEPTH_BYTES = concat(naiveOtmaControl({ type: 0x08, commitConfirmation: 0x80, tpipe: 'CLIENT01', prefixFlags: 0x80, sendSequence: 2 }), DEPTH_STATE);
const depthControl = otmaControl({ messageType: OtmaMessageType.COMMIT_CONFIRMATION, commitConfirmation: 0x80, tpipe: 'CLIENT01', prefixFlags: 0x80, sendSequence: 2 });
describeStateVector(
  'commit confirmation with the hold-queue depth signal (73-byte state)',
  { control: depthControl, state: { form: 'transaction', serverState: 0, rest: new Uint8Array(0), syncFlags: CommitMode.CM1, holdQueueDepth: 0x01020304 } },
  {
    control: depthControl,
    state: {
      form: 'transaction',
      serverState: 0,
      rest: DEPTH_STATE.slice(3),
      syncFlags: 0x20,
      syncLevel: 0,
      mapName: '',
      serverToken: new Uint8Array(16),
      correlator: new Uint8Array(16),
      contextId: new Uint8Array(16),
      ltermOverride: '',
      holdQueueDepth: 0x01020304,
    },
  },
  DEPTH_BYTES,
);

// ---------------------------------------------------------------------------------------------------
// Client-bid: ACK timeout and super-member
// ---------------------------------------------------------------------------------------------------

const MEMBER_TOKEN = [0, 0, 0, 1, 0, 0, 0, 2];
const CB_STATE = naiveOtmaClientBidState({
  memberName: 'HWS1',
  originatorToken: MEMBER_TOKEN,
  queueFlags: 0xa0, // create hold queue + IMS Connect client
  flags2: 0x28, // CM1 ACK timeout + super member
  ackTimeout: 30,
  superMember: 'SM01',
});
const CB_BYTES = concat(naiveOtmaControl({ type: 0x10, command: 0x04, tpipe: '', prefixFlags: 0xc0, sendSequence: 1 }), CB_STATE, naiveOtmaSecurity({ flag: 0xd5 }));
const cbControl = otmaControl({ messageType: OtmaMessageType.COMMAND, commandType: OtmaCommand.CLIENT_BID, prefixFlags: 0xc0, sendSequence: 1 });
const cbBase = {
  form: 'member' as const,
  memberName: 'HWS1',
  originatorToken: Uint8Array.from(MEMBER_TOKEN),
  destinationToken: new Uint8Array(8),
  druExitName: 'DFSYDRU0',
  maxBlockSize: 0,
  queueFlags: OtmaMemberQueueFlag.CREATE_HOLD_QUEUE | OtmaMemberQueueFlag.IMS_CONNECT_CLIENT,
};
const cbSecurity = { flag: OtmaSecurityFlag.NONE, rest: new Uint8Array(0) };

describeStateVector(
  'client-bid with ACK timeout and super-member (OMHDRFL2 bits set by the encoder)',
  { control: cbControl, state: { ...cbBase, flags2: 0, rest: new Uint8Array(0), ackTimeout: 30, superMember: 'SM01' }, security: cbSecurity },
  {
    control: cbControl,
    // inputLimit is not decoded: OMHDRFL2 X'80' is off
    state: { ...cbBase, flags2: OtmaMemberFlag2.CM1_ACK_TIMEOUT | OtmaMemberFlag2.SUPER_MEMBER, rest: CB_STATE.slice(46), ackTimeout: 30, superMember: 'SM01' },
    security: cbSecurity,
  },
  CB_BYTES,
);

describe('client-bid extension', () => {
  it('sits at state offsets 46–53', () => {
    expect(OTMA_MEMBER_EXTENSION_LAYOUT.fields.map((f) => [f.name, 46 + f.offset, f.length])).toEqual([
      ['inputLimit', 46, 2],
      ['ackTimeout', 48, 2],
      ['superMember', 50, 4],
    ]);
    expect(toHex(CB_STATE.subarray(44))).toBe(`A0 28 00 00 00 1E ${toHex(eb('SM01'))}`);
  });
  it('decodes only the fields whose OMHDRFL2 bit is set', () => {
    const all = naiveOtmaClientBidState({ memberName: 'HWS1', queueFlags: 0, flags2: 0xa8, inputLimit: 500, ackTimeout: 30, superMember: 'SM' });
    const bytes = concat(naiveOtmaControl({ type: 0x10, command: 0x04, tpipe: '', prefixFlags: 0x80 }), all);
    const st = decodeOtmaMessage(bytes).state as OtmaMemberState;
    expect([st.inputLimit, st.ackTimeout, st.superMember]).toEqual([500, 30, 'SM']);
    for (const [flags2, want] of [
      [0x80, [500, undefined, undefined]],
      [0x20, [undefined, 30, undefined]],
      [0x08, [undefined, undefined, 'SM']],
      [0x00, [undefined, undefined, undefined]],
    ] as const) {
      const b = bytes.slice();
      b[32 + 45] = flags2;
      const s = decodeOtmaMessage(b).state as OtmaMemberState;
      expect([s.inputLimit, s.ackTimeout, s.superMember]).toEqual(want);
      expect(toHex(encodeOtmaMessage(decodeOtmaMessage(b)))).toBe(toHex(b));
    }
  });
  it("IBM's CBresynch sample (OMHDRFL2 X'00') keeps its bytes after OMHDRFL2 raw", () => {
    const cb = hexBytes(`
      01102000 0C004040 40404040 4040A0C0 00000000 00000000 00000000 00000000
      0036D4D8 E7C3C6F6 40404040 40404040 40400100 00010002 00010100 00020002
      0002C4C6 E2E8C4D9 E4F00800 00007FFF FFFF0000 0065 | 0004 D5 00`);
    const st = decodeOtmaMessage(cb).state as OtmaMemberState;
    expect([st.inputLimit, st.ackTimeout, st.superMember]).toEqual([undefined, undefined, undefined]);
    expect(toHex(st.rest)).toBe('7F FF FF FF 00 00 00 65');
  });
});

// ---------------------------------------------------------------------------------------------------
// The link as @imsplex/ims documents it (packages/ims/OTMA-LINK.md, checked there against its encoder)
// ---------------------------------------------------------------------------------------------------

describe('vectors of the imsplex XCF link (OTMA-LINK.md) decode with the codec fields', () => {
  const unframed = (dump: string): Uint8Array => hexBytes(dump).subarray(4); // drop the XCF LLLL
  it('client-bid: ACK timeout 30 s', () => {
    const m = decodeOtmaMessage(
      unframed(`
      00 00 00 5E 01 10 00 00 04 00 40 40 40 40 40 40
      40 40 A0 C0 00 00 00 01 00 00 00 00 00 00 00 00
      00 00 00 00 00 36 C8 E6 E2 F1 40 40 40 40 40 40
      40 40 40 40 40 40 00 00 00 00 00 00 00 00 00 00
      00 00 00 00 00 00 C4 C6 E2 E8 C4 D9 E4 F0 00 00
      A0 20 00 00 00 1E 40 40 40 40 00 04 D5 00`),
    );
    expect(m.state).toMatchObject({ form: 'member', memberName: 'HWS1', flags2: 0x20, ackTimeout: 30 });
    expect((m.state as OtmaMemberState).superMember).toBeUndefined();
  });
  it('cm1-none-input and nak-reroute', () => {
    const input = decodeOtmaMessage(
      unframed(`
      00 00 00 86 01 40 00 00 00 00 C3 D3 C9 C5 D5 E3
      F0 F1 A0 D0 00 00 00 02 00 00 00 00 00 00 00 00
      00 00 00 00 00 45 00 20 00 40 40 40 40 40 40 40
      40 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
      00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
      00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
      00 40 40 40 40 40 40 40 40 00 04 D5 00 00 19 00
      00 C9 E5 E3 D5 D6 40 40 40 C4 C9 E2 D7 D3 C1 E8
      40 D3 C1 E2 E3 F1`),
    );
    expect(input.state).toMatchObject({ form: 'transaction', syncFlags: CommitMode.CM1, syncLevel: SyncLevel.NONE, mapName: '', ltermOverride: '' });
    const nak = decodeOtmaMessage(
      unframed(`
      00 00 00 69 01 20 40 00 00 00 C3 D3 C9 C5 D5 E3
      F0 F1 A0 80 00 00 00 05 00 00 00 00 00 00 00 00
      00 00 00 00 00 45 20 40 09 40 40 40 40 40 40 40
      40 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
      00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
      00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
      00 C8 E6 E2 5B C4 C5 C6 40`),
    );
    const st = nak.state as OtmaTransactionState;
    expect([st.serverState, st.syncFlags, st.syncLevel! & OtmaSyncOption.REROUTE, st.ltermOverride]).toEqual([OtmaServerState.FROM_HOLD_QUEUE, CommitMode.CM0, OtmaSyncOption.REROUTE, 'HWS$DEF']);
  });
});

// ---------------------------------------------------------------------------------------------------
// Encoder rules: fields written over rest, short sections, validation
// ---------------------------------------------------------------------------------------------------

describe('transaction fields over rest', () => {
  const control = otmaControl({ messageType: OtmaMessageType.TRANSACTION, tpipe: 'CLIENT01', prefixFlags: 0x80 });
  it('a field set on a decoded state is written; the other bytes, and bytes past the block, are kept', () => {
    const extra = Uint8Array.of(0xee, 0xef); // bytes after the depth, carried
    const state = concat(naiveOtmaTransactionState({ serverState: 0, syncFlags: 0x40, syncLevel: 0x01, serverToken: TOKEN, holdQueueDepth: 5 }), extra);
    state[1] = state.length; // section length covers the extra bytes
    const bytes = concat(naiveOtmaControl({ type: 0x40, tpipe: 'CLIENT01', prefixFlags: 0x80 }), state);
    const m = decodeOtmaMessage(bytes);
    const st = m.state as OtmaTransactionState;
    expect(st.holdQueueDepth).toBe(5);
    const changed = encodeOtmaMessage({ ...m, state: { ...st, syncFlags: CommitMode.CM1, ltermOverride: 'TP2' } });
    const want = bytes.slice();
    want[32 + 3] = 0x20;
    want.set(eb('TP2     '), 32 + 61);
    expect(toHex(changed)).toBe(toHex(want));
  });
  it('sections shorter than the block stay raw, and a field given extends them with defaults', () => {
    const short = concat(naiveOtmaControl({ type: 0x40, tpipe: 'CLIENT01', prefixFlags: 0x80 }), new ByteBuilder().u16(5).u8(0x10).u8(0x20).u8(0x01).bytes());
    const m = decodeOtmaMessage(short);
    expect(m.state).toEqual({ form: 'transaction', serverState: 0x10, rest: Uint8Array.of(0x20, 0x01) });
    expect(toHex(encodeOtmaMessage(m))).toBe(toHex(short));
    const extended = encodeOtmaMessage({ control, state: { form: 'transaction', serverState: 0x10, rest: Uint8Array.of(0x20, 0x01), mapName: 'MOD1' } });
    expect(toHex(extended)).toBe(toHex(concat(naiveOtmaControl({ type: 0x40, tpipe: 'CLIENT01', prefixFlags: 0x80 }), naiveOtmaTransactionState({ serverState: 0x10, syncFlags: 0x20, syncLevel: 0x01, mapName: 'MOD1' }))));
  });
  it('16-byte fields may be shorter (zero-filled); names may be raw bytes', () => {
    const bytes = encodeOtmaMessage({ control, state: { form: 'transaction', serverState: 0, rest: new Uint8Array(0), serverToken: Uint8Array.of(1, 2), ltermOverride: Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0) } });
    const st = decodeOtmaMessage(bytes).state as OtmaTransactionState;
    expect(toHex(st.serverToken!)).toBe(toHex(Uint8Array.from([1, 2, ...new Array<number>(14).fill(0)])));
    expect(st.ltermOverride).toEqual(new Uint8Array(8)); // X'00' padding does not re-encode as text: kept as bytes
    expect(st.mapName).toBe('');
  });
  it('rejects values that do not fit', () => {
    const tx = (f: Partial<OtmaTransactionState>): OtmaMessage => ({ control, state: { form: 'transaction', serverState: 0, rest: new Uint8Array(0), ...f } });
    expect(codeOf(() => encodeOtmaMessage(tx({ serverToken: new Uint8Array(17) })))).toBe('IMS_ERR_INVALID_VALUE');
    expect(codeOf(() => encodeOtmaMessage(tx({ mapName: 'TOOLONGNAME' })))).toBe('IMS_ERR_INVALID_VALUE');
    expect(codeOf(() => encodeOtmaMessage(tx({ ltermOverride: new Uint8Array(7) })))).toBe('IMS_ERR_INVALID_VALUE');
    expect(codeOf(() => encodeOtmaMessage(tx({ syncFlags: 256 })))).toBe('IMS_ERR_INVALID_VALUE');
    expect(codeOf(() => encodeOtmaMessage(tx({ holdQueueDepth: -1 })))).toBe('IMS_ERR_INVALID_VALUE');
    const cb = (f: Partial<OtmaMemberState>): OtmaMessage => ({ control: cbControl, state: { ...cbBase, flags2: 0, rest: new Uint8Array(0), ...f } });
    expect(codeOf(() => encodeOtmaMessage(cb({ superMember: 'TOOLONG' })))).toBe('IMS_ERR_INVALID_VALUE');
    expect(codeOf(() => encodeOtmaMessage(cb({ ackTimeout: 70000 })))).toBe('IMS_ERR_INVALID_VALUE');
  });
});

// ---------------------------------------------------------------------------------------------------
// Adapter-shaped helpers (same names and results as the ims / ims-connect adapters)
// ---------------------------------------------------------------------------------------------------

describe('adapter-shaped helpers', () => {
  it('export the adapters’ names for the same tables', () => {
    expect(TRANSACTION_STATE_REST_LAYOUT).toBe(OTMA_TRANSACTION_FIELDS_LAYOUT);
    expect(TRANSACTION_STATE_REST).toBe(OTMA_TRANSACTION_FIELDS_LAYOUT);
    expect(MEMBER_STATE_REST_LAYOUT).toBe(OTMA_MEMBER_EXTENSION_LAYOUT);
    expect(MEMBER_STATE_REST).toBe(OTMA_MEMBER_EXTENSION_LAYOUT);
    expect([TRANSACTION_STATE_LENGTH, HOLD_QUEUE_DEPTH_REST_OFFSET, OTMA_TRANSACTION_STATE_LENGTH_WITH_DEPTH]).toEqual([69, 66, 73]);
    expect(SyncOption).toEqual({ LEVEL_MASK: 0x03, PURGE: 0x04, REROUTE: 0x08 });
  });
  it('writeTransactionRest / readTransactionRest match the naive block', () => {
    const rest = writeTransactionRest({ syncFlags: 0x20, syncLevel: 0x09, mapName: 'IVTCVMO', serverToken: Uint8Array.from(TOKEN), correlator: Uint8Array.from(CORRELATOR), ltermOverride: 'HWS$DEF' }, CP037);
    expect(toHex(rest)).toBe(toHex(TX_STATE_BYTES.subarray(3)));
    expect(readTransactionRest(rest, CP037)).toEqual({ ...txFields, syncLevel: 0x09, contextId: new Uint8Array(16) });
    expect(toHex(writeTransactionRest({}, CP037))).toBe(toHex(naiveOtmaTransactionState({ serverState: 0, syncFlags: 0, syncLevel: 0 }).subarray(3)));
    // short sections read as zero-padded
    expect(readTransactionRest(Uint8Array.of(0x20), CP037)).toMatchObject({ syncFlags: 0x20, syncLevel: 0, mapName: '' });
    expect([transactionSyncFlags(rest), transactionSyncLevel(rest), transactionSyncFlags(new Uint8Array(0)), transactionSyncLevel(Uint8Array.of(1))]).toEqual([0x20, 0x09, 0, 0]);
  });
  it('writeMemberRest / readMemberRest match the naive extension', () => {
    const rest = writeMemberRest({ ackTimeout: 30, superMember: 'SM01' }, CP037);
    expect(toHex(rest)).toBe(toHex(CB_STATE.subarray(46)));
    expect(readMemberRest(rest, CP037)).toEqual({ inputLimit: 0, ackTimeout: 30, superMember: 'SM01' });
    expect(readMemberRest(Uint8Array.of(0, 9), CP037)).toEqual({ inputLimit: 9, ackTimeout: 0, superMember: '' });
  });
  it('readHoldQueueDepth reads state bytes 69–72 of the rest, or nothing', () => {
    expect(readHoldQueueDepth(DEPTH_STATE.subarray(3))).toBe(0x01020304);
    expect(readHoldQueueDepth(TX_STATE_BYTES.subarray(3))).toBeUndefined();
    expect(readHoldQueueDepth(Uint8Array.from([...new Array<number>(66).fill(0), 0xff, 0xff, 0xff, 0xff]))).toBe(0xffffffff);
  });
  it('commitModeOf / syncLevelOf', () => {
    expect([commitModeOf(CommitMode.CM1), commitModeOf(CommitMode.CM0), commitModeOf(0), commitModeOf(CommitMode.CM0 | CommitMode.CM1)]).toEqual([1, 0, 0, 0]);
    expect([syncLevelOf(SyncLevel.NONE, 1), syncLevelOf(SyncLevel.CONFIRM, 1), syncLevelOf(SyncLevel.SYNCPT, 1), syncLevelOf(SyncLevel.NONE, 0), syncLevelOf(SyncLevel.NONE | OtmaSyncOption.REROUTE, 1)]).toEqual([0, 1, 1, 1, 0]);
  });
  it('tokenBytes / tokenId', () => {
    const id = 'A0A1A2A3A4A5A6A7A8A9AAABACADAEAF';
    expect(Array.from(tokenBytes(id))).toEqual(TOKEN);
    expect(tokenId(tokenBytes(id))).toBe(id);
    expect(tokenId(tokenBytes(id.toLowerCase()))).toBe(id);
    expect(Array.from(tokenBytes('not hex'))).toEqual(new Array<number>(16).fill(0));
    expect(Array.from(tokenBytes(undefined))).toEqual(new Array<number>(16).fill(0));
    expect(tokenId(new Uint8Array(16))).toBeUndefined();
    expect(tokenId(Uint8Array.of(0, 1))).toBe('0001');
  });
  it('nameText', () => {
    expect(nameText(' tp01 ', CP037)).toBe('TP01');
    expect(nameText(undefined, CP037)).toBe('');
    expect(nameText(Uint8Array.from([...eb('TP01'), 0, 0, 0x40, 0]), CP037)).toBe('TP01');
    expect(nameText(new Uint8Array(8), CP037)).toBe('');
  });
});

// ---------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------

const byte = fc.integer({ min: 0, max: 255 });
const name = (n: number): fc.Arbitrary<string> => fc.stringMatching(new RegExp(`^[A-Z0-9#$@]{0,${n}}$`));
const bytes16 = fc.uint8Array({ minLength: 16, maxLength: 16 });

describe('state field properties', () => {
  it('transaction: fields given over any rest round-trip byte-exact and decode back to what was given', () => {
    const arb = fc.record(
      { syncFlags: byte, syncLevel: byte, mapName: name(8), serverToken: bytes16, correlator: bytes16, contextId: bytes16, ltermOverride: name(8), holdQueueDepth: fc.integer({ min: 0, max: 0xffffffff }) },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(arb, fc.uint8Array({ maxLength: 80 }), byte, (fields, rest, serverState) => {
        const m: OtmaMessage = { control: otmaControl({ messageType: OtmaMessageType.TRANSACTION, prefixFlags: 0x80 }), state: { form: 'transaction', serverState, rest, ...fields } };
        const bytes = encodeOtmaMessage(m);
        const back = decodeOtmaMessage(bytes);
        expect(toHex(encodeOtmaMessage(back))).toBe(toHex(bytes));
        const st = back.state as OtmaTransactionState;
        for (const [k, v] of Object.entries(fields)) expect(st[k as keyof typeof fields]).toEqual(v);
      }),
      { numRuns: 200 },
    );
  });
  it('member: extension fields round-trip, with their OMHDRFL2 bits', () => {
    const arb = fc.record({ inputLimit: fc.integer({ min: 0, max: 0xffff }), ackTimeout: fc.integer({ min: 0, max: 0xffff }), superMember: name(4) }, { requiredKeys: [] });
    fc.assert(
      fc.property(arb, fc.uint8Array({ maxLength: 12 }), byte, (fields, rest, flags2) => {
        const m: OtmaMessage = { control: cbControl, state: { ...cbBase, flags2, rest, ...fields } };
        const bytes = encodeOtmaMessage(m);
        const back = decodeOtmaMessage(bytes);
        expect(toHex(encodeOtmaMessage(back))).toBe(toHex(bytes));
        const st = back.state as OtmaMemberState;
        for (const [k, v] of Object.entries(fields)) expect(st[k as keyof typeof fields]).toEqual(v);
        if (fields.ackTimeout !== undefined) expect(st.flags2 & OtmaMemberFlag2.CM1_ACK_TIMEOUT).not.toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
