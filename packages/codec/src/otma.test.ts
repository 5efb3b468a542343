import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LATIN1 } from './ebcdic.js';
import { CodecError } from './errors.js';
import {
  OTMA_CONTROL_LAYOUT,
  OtmaChainState,
  OtmaCommand,
  OtmaMessageType,
  OtmaPrefixFlag,
  OtmaResponseFlag,
  OtmaSecurityFlag,
  type OtmaMessage,
  type OtmaStateData,
  decodeOtmaMessage,
  encodeOtmaMessage,
  otmaControl,
  otmaStateForm,
} from './otma.js';
import { ByteBuilder, hexBytes, toHex } from './testing/replies.js';

function describeOtmaVector(name: string, message: OtmaMessage, bytes: Uint8Array): void {
  describe(name, () => {
    it('decodes', () => expect(decodeOtmaMessage(bytes)).toEqual(message));
    it('encodes byte-exact', () => expect(toHex(encodeOtmaMessage(message))).toBe(toHex(bytes)));
    it('round-trips', () => expect(toHex(encodeOtmaMessage(decodeOtmaMessage(bytes)))).toBe(toHex(bytes)));
  });
}

// ---------------------------------------------------------------------------------------------------
// IBM samples (spec §11.1; state data from IBM's "Sample OTMA resynchronization messages")
// ---------------------------------------------------------------------------------------------------

const CB_CONTROL = hexBytes('01 10 20 00 0C 00 4040404040404040 A0 C0 | 00000000 00000000 00000000 00000000');
const CB_ACK_CONTROL = hexBytes('01 30 80 00 0C 00 4040404040404040 A0 C0 | 00000000 00000000 00000000 00000000');
const CB_STATE = hexBytes(`
0036D4D8 E7C3C6F6 40404040 40404040
40400100 00010002 00010100 00020002
0002C4C6 E2E8C4D9 E4F00800 00007FFF
FFFF0000 0065
`);
// IBM's dump stops before the security section that prefix flag X'40' announces; imsplex supplies
// the smallest one: no RACF checks, no user fields.
const MIN_SECURITY = new ByteBuilder()
  .u16(4) // OMSECLEN
  .u8(0xd5) // OMSECFLG C'N'
  .u8(0) // OMSECFLN: no user ID / group fields
  .bytes();

const cbState: OtmaStateData = {
  form: 'member',
  memberName: 'MQXCF6',
  originatorToken: Uint8Array.from([0x01, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x01]),
  destinationToken: Uint8Array.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x02, 0x00, 0x02]),
  druExitName: 'DFSYDRU0',
  maxBlockSize: 0x0800,
  queueFlags: 0,
  flags2: 0,
  rest: hexBytes('7FFF FFFF 0000 0065'),
};
const cbControl = otmaControl({ messageType: 0x10, responseFlags: 0x20, commandType: 0x0c, chainState: 0xa0, prefixFlags: 0xc0 });

describe('IBM client-bid sample bytes equal the naive builder', () => {
  it('control section', () => {
    const built = new ByteBuilder()
      .u8(0x01) // architecture level
      .u8(0x10) // message type: protocol command
      .u8(0x20) // response flag: response requested
      .u8(0x00) // commit confirmation
      .u8(0x0c) // command type: CBresynch
      .u8(0x00) // processing flags
      .ebcdic('', 8) // tpipe: blanks
      .u8(0xa0) // chain state: first + last
      .u8(0xc0) // prefix flags: state + security
      .u32(0) // send sequence
      .u16(0) // sense
      .u16(0) // reason
      .u32(0) // recoverable sequence
      .u16(0) // segment sequence
      .u16(0) // reserved
      .bytes();
    expect(toHex(built)).toBe(toHex(CB_CONTROL));
  });
});

describeOtmaVector('IBM client-bid (CBresynch) request', { control: cbControl, state: cbState, security: { flag: OtmaSecurityFlag.NONE, rest: new Uint8Array(0) } }, new ByteBuilder().raw(CB_CONTROL).raw(CB_STATE).raw(MIN_SECURITY).bytes());
describeOtmaVector(
  'IBM client-bid ACK',
  { control: { ...cbControl, messageType: OtmaMessageType.COMMAND | OtmaMessageType.RESPONSE, responseFlags: OtmaResponseFlag.ACK }, state: cbState, security: { flag: OtmaSecurityFlag.NONE, rest: new Uint8Array(0) } },
  new ByteBuilder().raw(CB_ACK_CONTROL).raw(CB_STATE).raw(MIN_SECURITY).bytes(),
);

// IBM SRVresynch sample: X'00' tpipe, segment sequence 1, state data of an unmodelled command.
const SRV_RESYNCH = hexBytes(`
01102000 2C000000 00000000 0000A080
00000000 00000000 00000000 00010000
000AD1C2 D1F0F0F0 F0C5
`);
describeOtmaVector(
  'IBM SRVresynch (X\'00\' tpipe kept as bytes, raw state)',
  {
    control: otmaControl({ messageType: 0x10, responseFlags: 0x20, commandType: OtmaCommand.SRV_RESYNCH, tpipe: new Uint8Array(8), chainState: 0xa0, prefixFlags: 0x80, segmentSequence: 1 }),
    state: { form: 'raw', bytes: hexBytes('D1C2 D1F0F0F0 F0C5') },
  },
  SRV_RESYNCH,
);

// ---------------------------------------------------------------------------------------------------
// imsplex messages built field by field
// ---------------------------------------------------------------------------------------------------

function control(b: ByteBuilder, f: { type: number; rsi?: number; cmd?: number; tpipe: string; chain?: number; pfl: number; seq?: number; sense?: number; reason?: number; reserved?: number }): ByteBuilder {
  return b
    .u8(0x01) // architecture level
    .u8(f.type) // OMCTLMGT
    .u8(f.rsi ?? 0) // OMCTLRSI
    .u8(0) // OMCTLCCI
    .u8(f.cmd ?? 0) // command type
    .u8(0) // processing flags
    .ebcdic(f.tpipe, 8) // tpipe
    .u8(f.chain ?? 0xa0) // chain state
    .u8(f.pfl) // prefix flags
    .u32(f.seq ?? 0) // send sequence
    .u16(f.sense ?? 0) // sense [offset UNV]
    .u16(f.reason ?? 0) // reason [offset UNV]
    .u32(0) // recoverable sequence
    .u16(0) // segment sequence
    .u16(f.reserved ?? 0); // reserved
}

const userDataBuilt = (b: ByteBuilder): ByteBuilder =>
  b
    .u16(61 + 3) // OMUSRLEN
    .u16(0) // align
    .ebcdic('IMS1', 8) // OMUSR_DESTID
    .ebcdic('HWS1', 8) // OMUSR_ORIGID
    .ebcdic('PORT9999', 8) // OMUSR_PORTID
    .raw([1, 2, 3, 4, 5, 6, 7, 8]) // OMUSR_LTOKEN
    .u32(0) // OMUSR_RETCODE
    .ebcdic('', 8) // OMUSR_RESCODE
    .raw([0, 0, 0, 9]) // OMUSR_RTOKEN
    .ebcdic('SECRET', 8) // OMUSR_PASSTICK
    .u8(0x10) // OMUSR_FLAG1: persistent socket
    .raw([0xee, 0xee, 0xee]); // remainder, carried raw

const TRANSACTION = userDataBuilt(
  control(new ByteBuilder(), { type: 0x40, tpipe: 'CLIENT01', pfl: 0xf0, seq: 1, reserved: 0x0400 })
    .u16(3 + 5) // state length
    .u8(0x10) // server state: hold-queue capable
    .raw([0x20, 0x00, 0x00, 0x00, 0x00]) // sync flags, level … (raw)
    .u16(4 + 20) // OMSECLEN
    .u8(0xc3) // OMSECFLG C'C'
    .u8(0x14) // OMSECFLN: user ID + group
    .u8(0x0a) // sub-field length
    .u8(0x02) // type: user ID [UNV]
    .ebcdic('USER01', 8) // user ID
    .u8(0x0a) // sub-field length
    .u8(0x03) // type: group [UNV]
    .ebcdic('GROUP1', 8), // group
)
  .u16(4 + 13) // segment LL
  .u16(0) // ZZ
  .ebcdic('IVTNO    DATA') // trancode + data
  .u16(4 + 2) // segment LL
  .u16(0) // ZZ
  .ebcdic('XY') // data
  .bytes();

describeOtmaVector(
  'transaction with state, security, user data and two segments',
  {
    control: otmaControl({ messageType: OtmaMessageType.TRANSACTION, tpipe: 'CLIENT01', prefixFlags: 0xf0, sendSequence: 1, reserved: 0x0400 }),
    state: { form: 'transaction', serverState: 0x10, rest: Uint8Array.from([0x20, 0, 0, 0, 0]) },
    security: { flag: OtmaSecurityFlag.CHECK, userId: 'USER01', groupName: 'GROUP1', rest: new Uint8Array(0) },
    user: { align: 0, destinationId: 'IMS1', originId: 'HWS1', portId: 'PORT9999', logonToken: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), returnCode: 0, reasonName: '', responseToken: Uint8Array.from([0, 0, 0, 9]), passTicket: 'SECRET', flag1: 0x10, rest: Uint8Array.from([0xee, 0xee, 0xee]) },
    segments: [new ByteBuilder().ebcdic('IVTNO    DATA').bytes(), new ByteBuilder().ebcdic('XY').bytes()],
  },
  TRANSACTION,
);

const TOKEN = [0xc1, 0xc2, 0xc3, 0xc4, 0, 0, 0, 1];
describeOtmaVector(
  'RESUME TPIPE (resume output for hold queue, one only, callout only)',
  { control: otmaControl({ messageType: OtmaMessageType.COMMAND, commandType: OtmaCommand.RESUME_HOLD_QUEUE, tpipe: 'TPIPE01', prefixFlags: 0x80 }), state: { form: 'resume-hold-queue', deliveryOption: 1, calloutMode: 0x80, token: Uint8Array.from(TOKEN), rest: new Uint8Array(0) } },
  control(new ByteBuilder(), { type: 0x10, cmd: 0x3c, tpipe: 'TPIPE01', pfl: 0x80 })
    .u16(12) // state length
    .u8(0x01) // delivery option: one only
    .u8(0x80) // callout mode: callout only
    .raw(TOKEN) // RESUME TPIPE token
    .bytes(),
);
describeOtmaVector(
  'no messages on hold queue',
  { control: otmaControl({ messageType: OtmaMessageType.COMMAND, commandType: OtmaCommand.NO_MESSAGES, tpipe: 'TPIPE01', prefixFlags: 0x80 }), state: { form: 'no-messages', reserved: 0, token: Uint8Array.from(TOKEN), rest: new Uint8Array(0) } },
  control(new ByteBuilder(), { type: 0x10, cmd: 0x40, tpipe: 'TPIPE01', pfl: 0x80 })
    .u16(12) // state length
    .u16(0) // reserved
    .raw(TOKEN) // token
    .bytes(),
);
describeOtmaVector(
  'NAK with sense and reason, no sections',
  { control: otmaControl({ messageType: OtmaMessageType.RESPONSE, responseFlags: OtmaResponseFlag.NAK, tpipe: 'CLIENT01', sendSequence: 7, senseCode: 0x33, reasonCode: 7 }) },
  control(new ByteBuilder(), { type: 0x20, rsi: 0x40, tpipe: 'CLIENT01', pfl: 0, seq: 7, sense: 0x33, reason: 7 }).bytes(),
);
describeOtmaVector(
  'continuation segment (control + application data only, non-zero ZZ)',
  { control: otmaControl({ messageType: OtmaMessageType.DATA, tpipe: 'CLIENT01', chainState: OtmaChainState.MIDDLE, prefixFlags: 0x10 }), segments: [Uint8Array.from([1, 2, 3])], zz: [0x0102] },
  control(new ByteBuilder(), { type: 0x80, tpipe: 'CLIENT01', chain: 0x40, pfl: 0x10 })
    .u16(7) // LL
    .u16(0x0102) // ZZ
    .raw([1, 2, 3]) // data
    .bytes(),
);

describe('OTMA details', () => {
  it('chooses the state form from the control section', () => {
    expect(otmaStateForm({ messageType: 0x40, commandType: 0x04 })).toBe('transaction');
    expect(otmaStateForm({ messageType: 0x30, commandType: 0x04 })).toBe('member');
    expect(otmaStateForm({ messageType: 0x10, commandType: 0x08 })).toBe('member');
    expect(otmaStateForm({ messageType: 0x10, commandType: 0x3c })).toBe('resume-hold-queue');
    expect(otmaStateForm({ messageType: 0x10, commandType: 0x30 })).toBe('raw');
  });
  it('sets the section bits of the prefix flags from the sections present and keeps the low bits', () => {
    const bytes = encodeOtmaMessage({ control: otmaControl({ prefixFlags: 0xe5 }), segments: [] });
    expect(bytes[15]).toBe(0x15);
    expect(decodeOtmaMessage(bytes).control.prefixFlags).toBe(OtmaPrefixFlag.APPLICATION_DATA | 0x05);
  });
  it('reads ASCII headers with LATIN1', () => {
    const m: OtmaMessage = { control: otmaControl({ tpipe: 'CLIENT01' }) };
    const bytes = encodeOtmaMessage(m, { codePage: LATIN1 });
    expect(toHex(bytes.subarray(6, 14))).toBe(toHex(new ByteBuilder().ascii('CLIENT01').bytes()));
    expect(decodeOtmaMessage(bytes, { codePage: LATIN1 }).control.tpipe).toBe('CLIENT01');
  });
  it('the control layout parses the IBM sample with binary-parser too', () => {
    expect(OTMA_CONTROL_LAYOUT.parse(CB_CONTROL)).toEqual(OTMA_CONTROL_LAYOUT.read(CB_CONTROL));
  });
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof CodecError) return e.code;
    throw e;
  }
  return undefined;
}

describe('malformed OTMA', () => {
  it('short control, short or overlong sections, stray bytes', () => {
    expect(codeOf(() => decodeOtmaMessage(CB_CONTROL.subarray(0, 31)))).toBe('IMS_ERR_TRUNCATED');
    expect(codeOf(() => decodeOtmaMessage(CB_CONTROL))).toBe('IMS_ERR_TRUNCATED'); // flags announce state data
    const shortState = new ByteBuilder().raw(CB_CONTROL).u16(10).fill(0, 8).raw(MIN_SECURITY).bytes();
    expect(codeOf(() => decodeOtmaMessage(shortState))).toBe('IMS_ERR_BAD_OTMA');
    const stray = new ByteBuilder().raw(control(new ByteBuilder(), { type: 0x20, tpipe: 'X', pfl: 0 }).bytes()).u8(1).bytes();
    expect(codeOf(() => decodeOtmaMessage(stray))).toBe('IMS_ERR_BAD_OTMA');
    const badSeg = new ByteBuilder().raw(control(new ByteBuilder(), { type: 0x80, tpipe: 'X', pfl: 0x10 }).bytes()).u16(2).u16(0).bytes();
    expect(codeOf(() => decodeOtmaMessage(badSeg))).toBe('IMS_ERR_BAD_LENGTH');
  });
  it('security sub-fields out of the chosen layout', () => {
    const sec = new ByteBuilder().u16(14).u8(0xc3).u8(0x0a).u8(0x0a).u8(0x07).ebcdic('USER01', 8).bytes();
    const bytes = new ByteBuilder().raw(control(new ByteBuilder(), { type: 0x20, tpipe: 'X', pfl: 0x40 }).bytes()).raw(sec).bytes();
    expect(codeOf(() => decodeOtmaMessage(bytes))).toBe('IMS_ERR_BAD_OTMA');
  });
  it('encoder rejects a state form that does not match the control section', () => {
    expect(codeOf(() => encodeOtmaMessage({ control: otmaControl({ messageType: 0x40 }), state: { form: 'raw', bytes: new Uint8Array(2) } }))).toBe('IMS_ERR_INVALID_VALUE');
    expect(codeOf(() => encodeOtmaMessage({ control: otmaControl({ tpipe: new Uint8Array(7) }) }))).toBe('IMS_ERR_INVALID_VALUE');
    expect(codeOf(() => encodeOtmaMessage({ control: otmaControl({ sendSequence: -1 }) }))).toBe('IMS_ERR_INVALID_VALUE');
  });
});

// ---------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------

const byte = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytesN = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n });
const nameArb = (n: number): fc.Arbitrary<string | Uint8Array> => fc.oneof(fc.stringMatching(new RegExp(`^[A-Z][A-Z0-9#$@]{0,${n - 1}}$`)), bytesN(n));
const restArb = fc.uint8Array({ maxLength: 12 });

const otmaMessageArb: fc.Arbitrary<OtmaMessage> = fc
  .record({
    control: fc.record({
      architectureLevel: byte,
      messageType: byte,
      responseFlags: byte,
      commitConfirmation: byte,
      commandType: fc.oneof(byte, fc.constantFrom(0x04, 0x08, 0x0c, 0x3c, 0x40)),
      processingFlags: byte,
      tpipe: nameArb(8),
      chainState: byte,
      prefixLow: fc.integer({ min: 0, max: 15 }),
      sendSequence: u32,
      senseCode: u16,
      reasonCode: u16,
      recoverableSequence: u32,
      segmentSequence: u16,
      reserved: u16,
    }),
    hasState: fc.boolean(),
    member: fc.record({ memberName: nameArb(16), originatorToken: bytesN(8), destinationToken: bytesN(8), druExitName: nameArb(8), maxBlockSize: u16, queueFlags: byte, flags2: byte, rest: restArb }),
    serverState: byte,
    resume: fc.record({ deliveryOption: byte, calloutMode: byte, token: bytesN(8), rest: restArb }),
    noMessages: fc.record({ reserved: u16, token: bytesN(8), rest: restArb }),
    rest: restArb,
    security: fc.option(fc.record({ flag: byte, userId: fc.option(nameArb(8), { nil: undefined }), groupName: fc.option(nameArb(8), { nil: undefined }), rest: restArb }, { requiredKeys: ['flag', 'rest'] }), { nil: undefined }),
    user: fc.option(
      fc.record({ align: u16, destinationId: nameArb(8), originId: nameArb(8), portId: nameArb(8), logonToken: bytesN(8), returnCode: u32, reasonName: nameArb(8), responseToken: bytesN(4), passTicket: nameArb(8), flag1: byte, rest: restArb }),
      { nil: undefined },
    ),
    segments: fc.option(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 3 }), { nil: undefined }),
  })
  .map((r) => {
    const { prefixLow, ...c } = r.control;
    const m: Record<string, unknown> = {};
    let flags = prefixLow;
    if (r.hasState) {
      flags |= 0x80;
      const form = otmaStateForm(c);
      m.state =
        form === 'transaction'
          ? { form, serverState: r.serverState, rest: r.rest }
          : form === 'member'
            ? { form, ...r.member }
            : form === 'resume-hold-queue'
              ? { form, ...r.resume }
              : form === 'no-messages'
                ? { form, ...r.noMessages }
                : { form, bytes: r.rest };
    }
    if (r.security) {
      flags |= 0x40;
      const s: Record<string, unknown> = { flag: r.security.flag, rest: r.security.rest };
      if (r.security.userId !== undefined) s.userId = r.security.userId;
      if (r.security.groupName !== undefined) s.groupName = r.security.groupName;
      m.security = s;
    }
    if (r.user) {
      flags |= 0x20;
      m.user = r.user;
    }
    if (r.segments) {
      flags |= 0x10;
      m.segments = r.segments;
    }
    m.control = { ...c, prefixFlags: flags };
    return m as unknown as OtmaMessage;
  });

/** Names given as bytes decode as strings when the string reproduces them: compare by bytes. */
function normalised(m: OtmaMessage): string {
  return toHex(encodeOtmaMessage(m));
}

describe('OTMA properties', () => {
  it('encode → decode → encode is byte-exact, and decode gives back the same message', () => {
    fc.assert(
      fc.property(otmaMessageArb, (m) => {
        const bytes = encodeOtmaMessage(m);
        const back = decodeOtmaMessage(bytes);
        expect(normalised(back)).toBe(toHex(bytes));
        expect(decodeOtmaMessage(encodeOtmaMessage(back))).toEqual(back);
      }),
      { numRuns: 200 },
    );
  });
  it('arbitrary and mutated bytes give a message or a CodecError', () => {
    const mutated = fc.tuple(otmaMessageArb, fc.array(fc.tuple(fc.nat(), byte), { minLength: 1, maxLength: 4 }), fc.nat()).map(([m, edits, cut]) => {
      const b = encodeOtmaMessage(m).slice();
      for (const [at, v] of edits) b[at % b.length] = v;
      return cut % 3 === 0 ? b.subarray(0, cut % (b.length + 1)) : b;
    });
    fc.assert(
      fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 120 })), (bytes) => {
        try {
          decodeOtmaMessage(bytes);
        } catch (e) {
          if (!(e instanceof CodecError)) throw e;
        }
      }),
      { numRuns: 200 },
    );
  });
});
