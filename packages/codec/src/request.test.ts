import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReasonCode } from './codes.js';
import { IrmExtensionId } from './constants.js';
import { CP037, LATIN1 } from './ebcdic.js';
import { CodecErrorCode, isImsplexError } from './errors.js';
import { HWSJAV_EXIT, SAMPL1_EXIT } from './exits.js';
import { textExtension, extensionText } from './extensions.js';
import { RequestFrameReader } from './framer.js';
import { irmF0, irmF1, irmF2, irmF3, irmF4, irmF5, irmSize, type Irm, type SampleUserPart } from './irm.js';
import { buildPingRequest, buildRequest, decodeRequest, encodeRequest, messageTypeOf, type ImsRequest } from './request.js';
import { segmentsText, trancodeOf } from './segments.js';
import { describeMalformed, describeVector } from './testing/describe.js';
import { toHex } from './testing/replies.js';
import { naiveRequest, naiveText } from './testing/requests.js';
import {
  ACK_CM1,
  ASCII_ACK,
  ASCII_SAMPLE_SEND_RECEIVE,
  NAK_WITH_REASON,
  PING,
  REQUEST_VECTORS,
  RESUME_TPIPE_ARCH1,
  SEND_RECEIVE_CM1,
  SEND_RECEIVE_CM1_CONFIRM,
  specBytes,
  type RequestVector,
} from './testing/vectors.js';

const common = { clientId: 'CLIENT01', datastore: 'IMS1', racfUserId: 'USER01', racfPassword: 'SECRET', timer: { code: 0x31 } } as const;

/** The message each vector stands for, built with the friendly builder (values, not bytes). */
const MESSAGES = new Map<RequestVector, () => ImsRequest>([
  [SEND_RECEIVE_CM1, () => buildRequest({ ...common, trancode: 'IVTNO', data: 'DISPLAY LAST1', commitMode: 'CM1', syncLevel: 'NONE' })],
  [SEND_RECEIVE_CM1_CONFIRM, () => buildRequest({ ...common, trancode: 'IVTNO', data: 'DISPLAY LAST1', commitMode: 'CM1', syncLevel: 'CONFIRM' })],
  [ACK_CM1, () => buildRequest({ ...common, messageType: 'ACK', trancode: 'IVTNO', commitMode: 'CM1', syncLevel: 'CONFIRM' })],
  [RESUME_TPIPE_ARCH1, () => buildRequest({ ...common, messageType: 'RESUME_TPIPE', altClientId: 'TPIPE01', resumeOption: 'single', syncLevel: 'NONE' })],
  [NAK_WITH_REASON, () => buildRequest({ ...common, messageType: 'NAK', nakReasonCode: 0x0123, timer: 'nowait', commitMode: 'CM0', syncLevel: 'NONE' })],
  [PING, () => buildPingRequest({ clientId: 'CLIENT01', datastore: 'IMS1', timer: { code: 0x31 } })],
  [
    ASCII_SAMPLE_SEND_RECEIVE,
    () => buildRequest({ exit: '*SAMPLE*', codeSet: 'ascii', socketType: 'TRANSACTION', clientId: 'NABS0001', timer: { code: 0x31 }, trancode: 'IVTNO', datastore: 'IMS1', data: 'DISPLAY LAST1' }),
  ],
  [ASCII_ACK, () => buildRequest({ codeSet: 'ascii', messageType: 'ACK', commitMode: 'CM1', syncLevel: 'CONFIRM', clientId: 'CLIENT01', datastore: 'IMS1', timer: { code: 0x31 } })],
]);

function sample(req: ImsRequest): SampleUserPart {
  const u = req.irm.user;
  if (u === null || u.kind !== 'sample') throw new Error('not a sample user part');
  return u;
}

describe('golden vectors (spec §13)', () => {
  for (const v of REQUEST_VECTORS) {
    describe(v.name, () => {
      if (v.hex !== undefined) {
        it('the naive builder reproduces the spec hex byte for byte', () => {
          expect(toHex(v.bytes())).toBe(toHex(specBytes(v)!));
        });
      }
      describeVector(v.name, MESSAGES.get(v)!, v.bytes);
      it('decodes to the documented meaning', () => {
        const req = decodeRequest(v.bytes());
        const page = req.codeSet === 'ascii' ? LATIN1 : CP037;
        expect({
          exitId: req.exit.id,
          codeSet: req.codeSet,
          irmLength: req.irm.length,
          arch: req.irm.arch,
          messageType: messageTypeOf(req),
          clientId: req.irm.clientId,
          trancode: sample(req).trancode,
          datastore: sample(req).datastore,
          dataTrancode: trancodeOf(req.segments, page),
          segmentCount: req.segments.length,
        }).toEqual(v.summary);
      });
    });
  }

  it('§13.1 field by field', () => {
    const req = decodeRequest(SEND_RECEIVE_CM1.bytes());
    const u = sample(req);
    expect(req.irm.timer).toBe(0x31);
    expect(req.irm.socketType).toBe(0x10);
    expect(u.f2.commitMode).toBe('CM1');
    expect(u.f3.syncLevel).toBe('NONE');
    expect(u.racfUserId).toBe('USER01');
    expect(u.racfPassword).toBe('SECRET');
    expect(u.applName).toBeUndefined();
    expect(segmentsText(req.segments, CP037, { skipTrancode: true })).toBe('DISPLAY LAST1');
  });

  it('§13.4 puts the alternate client ID in the ARCH1 slot and sets IRM_F5 ONE', () => {
    const req = decodeRequest(RESUME_TPIPE_ARCH1.bytes());
    expect(sample(req).rerouteName).toBe('TPIPE01');
    expect(sample(req).applName).toBe('');
    expect(req.irm.f5.one).toBe(true);
    expect(sample(req).f2.commitMode).toBe('CM0');
    expect(sample(req).f3.reroute).toBe(false);
  });

  it('§13.6 carries the NAK reason with IRM_F0 X10', () => {
    const req = decodeRequest(NAK_WITH_REASON.bytes());
    expect(req.irm.f0.nakReason).toBe(true);
    expect(req.irm.nakReasonCode).toBe(0x123);
    expect(req.irm.timer).toBe(0xe9);
  });
});

describe('real-client tolerance (spec §14)', () => {
  it('records the client code set from IRM_ID and answers the ASCII F4 letter', () => {
    const req = decodeRequest(ASCII_ACK.bytes());
    expect(req.codeSet).toBe('ascii');
    expect(sample(req).f4).toEqual({ raw: 0x41, type: 'ACK', codeSet: 'ascii' });
  });

  it('accepts an ASCII F4 letter inside an EBCDIC IRM (open-jbi) and round-trips it', () => {
    const bytes = naiveRequest({ IRM_CLIENTID: 'CLIENT01', IRM_F2: 0x20, IRM_F3: 0x01, IRM_F4: 0x41 /* ASCII 'A' */ });
    const req = decodeRequest(bytes);
    expect(req.codeSet).toBe('ebcdic');
    expect(sample(req).f4).toEqual({ raw: 0x41, type: 'ACK', codeSet: 'ascii' });
    expect(toHex(encodeRequest(req))).toBe(toHex(bytes));
  });

  for (const [pad, label] of [
    [0x00, "X'00'"],
    [0x20, "X'20'"],
    [0x40, "X'40'"],
  ] as const) {
    it(`treats ${label} padding as blank in an EBCDIC IRM`, () => {
      const req = decodeRequest(naiveRequest({ pad, IRM_CLIENTID: 'CL1', IRM_TRNCOD: 'IVTNO', IRM_IMSDESTID: 'IMS1', segments: [{ data: naiveText('IVTNO') }] }));
      expect(req.irm.clientId).toBe('CL1');
      expect(sample(req).trancode).toBe('IVTNO');
      expect(sample(req).lterm).toBe('');
      expect(sample(req).racfPassword).toBe('');
    });
  }

  it('treats X00 padding and all-X40 fields as blank in an ASCII IRM, but keeps a trailing @', () => {
    for (const pad of [0x00, 0x40]) {
      const req = decodeRequest(naiveRequest({ codeSet: 'ascii', pad, IRM_ID: '*SAMPLE*', IRM_CLIENTID: 'NABS1', IRM_F4: 0x20, segments: [{ data: naiveText('IVTNO', 'ascii') }] }));
      expect(req.codeSet).toBe('ascii');
      expect(sample(req).lterm).toBe('');
      expect(sample(req).racfPassword).toBe('');
      // X'40' is '@' in ASCII and legal in IMS names: after real characters it is data, as the exit's
      // ASCII→EBCDIC translation would also make it.
      expect(req.irm.clientId).toBe(pad === 0 ? 'NABS1' : 'NABS1@@@');
    }
  });

  it('takes X00 in IRM_F4 as send-receive and keeps the byte', () => {
    const bytes = naiveRequest({ IRM_F4: 0x00, segments: [{ data: naiveText('IVTNO') }] });
    const req = decodeRequest(bytes);
    expect(sample(req).f4.type).toBe('SEND_RECEIVE');
    expect(toHex(encodeRequest(req))).toBe(toHex(bytes));
  });

  it('encodes an ASCII request in ASCII and an EBCDIC request in EBCDIC', () => {
    const ascii = encodeRequest(buildRequest({ codeSet: 'ascii', exit: '*SAMPLE*', messageType: 'ACK', clientId: 'C1' }));
    expect(toHex(ascii.subarray(8, 16))).toBe(toHex(Uint8Array.from(Buffer.from('*SAMPLE*'))));
    expect(ascii[35]).toBe(0x41);
    const ebcdic = encodeRequest(buildRequest({ messageType: 'ACK', clientId: 'C1' }));
    expect(toHex(ebcdic.subarray(8, 16))).toBe('5C E2 C1 D4 D7 D3 F1 5C');
    expect(ebcdic[35]).toBe(0xc1);
  });
});

describe('architecture levels and IRM_LEN', () => {
  const levels: Array<[number, number, Partial<SampleUserPart>]> = [
    [0, 80, {}],
    [1, 96, { applName: 'APPL1', rerouteName: 'REROUTE1' }],
    [2, 112, { applName: '', rerouteName: '', tagAdapter: 'ADAPT', tagMap: 'MAP1' }],
    [3, 160, { modName: 'MOD1', correlationToken: Uint8Array.from({ length: 40 }, (_, i) => i) }],
    [4, 168, { sessionToken: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) }],
    [5, 172, {}],
  ];
  for (const [arch, len] of levels) {
    it(`ARCH${arch} has IRM_LEN ${len} and round-trips`, () => {
      const req = buildRequest({ arch: arch as 0, trancode: 'IVTNO', data: 'X', clientId: 'C1' });
      expect(req.irm.length).toBe(len);
      const bytes = encodeRequest(req);
      expect((bytes[4]! << 8) | bytes[5]!).toBe(len);
      expect(bytes[6]).toBe(arch);
      expect(decodeRequest(bytes)).toEqual(req);
    });
  }

  it('sizes optional fields from IRM_LEN, not IRM_ARCH (§2.2 note)', () => {
    // ARCH0 but IRM_LEN 88: IRM_APPL_NM present
    const a = decodeRequest(naiveRequest({ IRM_ARCH: 0, IRM_APPL_NM: 'MYAPPL', segments: [{ data: naiveText('IVTNO') }] }));
    expect(a.irm.length).toBe(88);
    expect(sample(a).applName).toBe('MYAPPL');
    expect(sample(a).rerouteName).toBeUndefined();
    // ARCH1 but IRM_LEN 80: no ARCH1 fields
    const b = decodeRequest(naiveRequest({ IRM_ARCH: 1, segments: [{ data: naiveText('IVTNO') }] }));
    expect(b.irm.arch).toBe(1);
    expect(sample(b).applName).toBeUndefined();
  });

  it('keeps IRM bytes that do not make a whole field in tail and round-trips them', () => {
    const bytes = naiveRequest({ irmTail: [1, 2, 3, 4], segments: [{ data: naiveText('IVTNO') }] });
    const req = decodeRequest(bytes);
    expect(req.irm.length).toBe(84);
    expect([...req.irm.tail]).toEqual([1, 2, 3, 4]);
    expect(toHex(encodeRequest(req))).toBe(toHex(bytes));
  });

  it('user-exit style 28-byte IRM is refused for SAMPL1 (minimum X50)', () => {
    const bytes = naiveRequest({ noUserPart: true, IRM_ARCH: 4, segments: [{ data: naiveText('IVTNO   ' + 'X'.repeat(60)) }] });
    expect(() => decodeRequest(bytes)).toThrowError(expect.objectContaining({ code: CodecErrorCode.BAD_IRM_LENGTH }));
  });
});

describe('flag bytes', () => {
  it('keeps unknown bits of every flag byte through decode → encode', () => {
    const bytes = naiveRequest({ IRM_F0: 0x08 | 0x10, IRM_F5: 0x20 | 0x01, IRM_F1: 0x08 | 0x80, IRM_F2: 0x80 | 0x04 | 0x40, IRM_F3: 0xff, IRM_F4: 0x7b, IRM_NAK_RSNCDE: 5 });
    const req = decodeRequest(bytes, { allowEmpty: true });
    const u = sample(req);
    expect(req.irm.f0.nakReason).toBe(true);
    expect(req.irm.f0.raw).toBe(0x18);
    expect(req.irm.f5.one).toBe(true);
    expect(u.f1.mfsRequest).toBe(true);
    expect(u.f2.commitMode).toBe('CM0');
    expect(u.f3).toMatchObject({ syncLevel: 'RESERVED', purge: true, reroute: true, ordered: true, ignorePurg: true, dfs2082: true, cancelClientId: true });
    expect(u.f4.type).toBe('UNKNOWN');
    expect(toHex(encodeRequest(req))).toBe(toHex(bytes));
  });

  it('named flags win over the raw byte for known bits', () => {
    const req = decodeRequest(SEND_RECEIVE_CM1.bytes());
    const u = sample(req);
    u.f2.commitMode = 'CM0';
    u.f3.syncLevel = 'CONFIRM';
    u.f1.clientIdRequest = true;
    u.f4.type = 'SEND_ONLY';
    req.irm.f0.syncNak = true;
    req.irm.f5.noTranslation = true;
    const out = encodeRequest(req);
    expect([out[7], out[20], out[32], out[33], out[34], out[35]]).toEqual([0x20, 0x40, 0x40, 0x40, 0x01, 0xe2]);
  });

  it('each named bit is the documented one', () => {
    expect(irmF0(0x80).syncOnly && irmF0(0x40).syncThenAsync && irmF0(0x20).syncNak && irmF0(0x10).nakReason && irmF0(0x04).extensions).toBe(true);
    expect(irmF1(0x80).mfsRequest && irmF1(0x40).clientIdRequest && irmF1(0x20).unicodeData && irmF1(0x10).unicodeTrancode && irmF1(0x02).noWait).toBe(true);
    expect([irmF2(0x40).commitMode, irmF2(0x20).commitMode, irmF2(0).commitMode, irmF2(0x60).commitMode]).toEqual(['CM0', 'CM1', 'UNSPECIFIED', 'BOTH']);
    expect([irmF3(0).syncLevel, irmF3(1).syncLevel, irmF3(2).syncLevel, irmF3(0x80).cancelClientId]).toEqual(['NONE', 'CONFIRM', 'SYNCPT', true]);
    expect(irmF5(0x80).otmaHeaders && irmF5(0x40).noTranslation && irmF5(0x04).noAuto && irmF5(0x02).auto && irmF5(0x01).one).toBe(true);
    expect(irmF0(0xff).raw).toBe(0xff);
  });
});

describe('IRM extensions', () => {
  const netuid = (n: number) => Array.from({ length: n }, () => 0xc1);

  it('decodes *NETUID* / *NETSID* and unknown extensions (kept raw) located via IRM_EXTN_OFF', () => {
    const bytes = naiveRequest({
      IRM_ARCH: 5,
      IRM_F0: 0x04,
      IRM_EXTN_OFF: -1,
      extensions: [
        { id: '*NETUID*', data: naiveText('NETUSER1') },
        { id: '*ZZZZZZ*', data: [1, 2, 3], zz: 7 },
        { id: '*NETSID*', data: naiveText('SESSION'), idCodeSet: 'ascii' },
      ],
      segments: [{ data: naiveText('IVTNO') }],
    });
    const req = decodeRequest(bytes);
    expect(req.irm.length).toBe(172 + 20 + 15 + 19);
    expect(sample(req).extensionOffset).toBe(172);
    expect(req.irm.extensions.map((e) => [e.id, e.idCodeSet, e.reserved, e.data.length])).toEqual([
      ['*NETUID*', 'ebcdic', 0, 8],
      ['*ZZZZZZ*', 'ebcdic', 7, 3],
      ['*NETSID*', 'ascii', 0, 7],
    ]);
    expect(extensionText(req.irm.extensions[0]!)).toBe('NETUSER1');
    expect(toHex(encodeRequest(req))).toBe(toHex(bytes));
  });

  it('builds extensions with ARCH5 and IRM_F0 X04', () => {
    const req = buildRequest({ trancode: 'IVTNO', data: 'X', extensions: [textExtension(IrmExtensionId.NETUID, 'NETUSER1')] });
    expect(req.irm.arch).toBe(5);
    expect(req.irm.f0.extensions).toBe(true);
    const bytes = encodeRequest(req);
    expect((bytes[172]! << 8) | bytes[173]!).toBe(172); // IRM_EXTN_OFF
    expect(decodeRequest(bytes).irm.extensions[0]!.id).toBe('*NETUID*');
  });

  describeMalformed(CodecErrorCode.BAD_EXTENSION, () => naiveRequest({ IRM_ARCH: 5, IRM_F0: 0x04, IRM_EXTN_OFF: -1, extensions: [{ id: '*NETUID*', data: netuid(247) }] }), ReasonCode.NETUID_TOO_LONG, 'NETUID of 247 bytes');
  describeMalformed(CodecErrorCode.BAD_EXTENSION, () => naiveRequest({ IRM_ARCH: 5, IRM_F0: 0x04, IRM_EXTN_OFF: -1, extensions: [{ id: '*NETSID*', data: netuid(255) }] }), ReasonCode.NETSID_TOO_LONG, 'NETSID of 255 bytes');
  describeMalformed(CodecErrorCode.BAD_EXTENSION, () => naiveRequest({ IRM_ARCH: 5, IRM_F0: 0x04, IRM_EXTN_OFF: 0 }), ReasonCode.EXTENSION_OFFSET_ZERO, 'IRM_F0 X04 with IRM_EXTN_OFF 0');
  describeMalformed(CodecErrorCode.BAD_EXTENSION, () => naiveRequest({ IRM_F0: 0x04, segments: [{ data: naiveText('IVTNO') }] }), ReasonCode.EXTENSION_OFFSET_ZERO, 'IRM_F0 X04 on an ARCH0 IRM');
  describeMalformed(CodecErrorCode.BAD_EXTENSION, () => naiveRequest({ IRM_ARCH: 5, IRM_F0: 0x04, IRM_EXTN_OFF: 400 }), ReasonCode.BAD_EXTENSION, 'IRM_EXTN_OFF past the IRM');
  describeMalformed(CodecErrorCode.BAD_EXTENSION, () => naiveRequest({ IRM_ARCH: 5, IRM_F0: 0x04, IRM_EXTN_OFF: -1, extensions: [{ id: '*NETUID*', data: [1, 2], ll: 99 }] }), ReasonCode.BAD_EXTENSION, 'extension LL past the IRM');
  describeMalformed(CodecErrorCode.BAD_EXTENSION, () => naiveRequest({ IRM_ARCH: 5, IRM_F0: 0x04, IRM_EXTN_OFF: -1, extensions: [{ id: '*NETUID*', data: [], ll: 4 }] }), ReasonCode.BAD_EXTENSION, 'extension LL below 12');

  it('refuses to encode a NETUID over 246 bytes, with reason 117', () => {
    const req = buildRequest({ trancode: 'IVTNO', data: 'X', extensions: [{ id: '*NETUID*', idCodeSet: 'ebcdic', reserved: 0, data: new Uint8Array(247) }] });
    expect(() => encodeRequest(req)).toThrowError(expect.objectContaining({ code: CodecErrorCode.INVALID_VALUE, details: expect.objectContaining({ reason: 117 }) }));
  });
});

describe('malformed messages (each a distinct code with the RSM reason)', () => {
  const good = () => SEND_RECEIVE_CM1.bytes();
  describeMalformed(CodecErrorCode.TRUNCATED, () => Uint8Array.of(0, 0, 0), ReasonCode.INVALID_TOTAL_LENGTH, 'fewer than 4 bytes');
  describeMalformed(CodecErrorCode.BAD_LENGTH, () => naiveRequest({ llll: 87 }), ReasonCode.INVALID_TOTAL_LENGTH, 'LLLL below X58');
  describeMalformed(CodecErrorCode.TRUNCATED, () => good().slice(0, 100), ReasonCode.INVALID_TOTAL_LENGTH, 'LLLL longer than the frame');
  describeMalformed(CodecErrorCode.BAD_LENGTH, () => Uint8Array.from([...good(), 0]), ReasonCode.INVALID_TOTAL_LENGTH, 'frame longer than LLLL');
  describeMalformed(CodecErrorCode.BAD_IRM_LENGTH, () => naiveRequest({ irmLen: 0x4f, segments: [{ data: naiveText('IVTNO') }] }), ReasonCode.INVALID_IRM_LENGTH, 'IRM_LEN below X50');
  describeMalformed(CodecErrorCode.BAD_IRM_LENGTH, () => naiveRequest({ irmLen: 0x200 }), ReasonCode.INVALID_IRM_LENGTH, 'IRM_LEN past the message');
  describeMalformed(CodecErrorCode.BAD_IRM_LENGTH, () => naiveRequest({ irmLen: 84 }), ReasonCode.INVALID_IRM_LENGTH, 'IRM_LEN eating the end-of-message marker');
  describeMalformed(CodecErrorCode.UNKNOWN_EXIT, () => naiveRequest({ IRM_ID: '*NOSUCH*' }), undefined, 'an unknown IRM_ID');
  describeMalformed(CodecErrorCode.BAD_SEGMENT, () => naiveRequest({ segments: [{ data: [1, 2], ll: 2 }] }), ReasonCode.NEGATIVE_LENGTH, 'segment LL 2');
  describeMalformed(CodecErrorCode.BAD_SEGMENT, () => naiveRequest({ segments: [{ data: [1, 2], ll: 0x8000 }] }), ReasonCode.NEGATIVE_LENGTH, 'segment LL X8000');
  describeMalformed(CodecErrorCode.BAD_SEGMENT, () => naiveRequest({ segments: [{ data: [], ll: 4, zz: 1 }] }), ReasonCode.NEGATIVE_LENGTH, 'empty segment with ZZ');
  describeMalformed(CodecErrorCode.TRUNCATED, () => naiveRequest({ segments: [{ data: naiveText('IVTNO'), ll: 40 }] }), ReasonCode.MESSAGE_INCOMPLETE, 'segment past the end');
  describeMalformed(CodecErrorCode.MISSING_EOM, () => naiveRequest({ segments: [{ data: naiveText('IVTNO') }], eom: false }), ReasonCode.MESSAGE_INCOMPLETE, 'no end-of-message marker');
  describeMalformed(CodecErrorCode.MISSING_EOM, () => naiveRequest({ segments: [{ data: naiveText('IVTNO') }], eom: false, trailing: [0, 9] }), ReasonCode.MESSAGE_INCOMPLETE, 'a 2-byte stub instead of the marker');
  describeMalformed(CodecErrorCode.TRAILING_BYTES, () => naiveRequest({ segments: [{ data: naiveText('IVTNO') }], trailing: [1, 2, 3] }), ReasonCode.INVALID_TOTAL_LENGTH, 'bytes after the marker');
  describeMalformed(CodecErrorCode.NO_DATA, () => naiveRequest({ IRM_F4: 0x40 }), ReasonCode.NO_DATA, 'send-receive without data');
  describeMalformed(CodecErrorCode.NO_DATA, () => naiveRequest({ IRM_F4: 0xe2 }), ReasonCode.NO_DATA, 'send-only without data');

  it('allowEmpty accepts a data type without segments', () => {
    expect(decodeRequest(naiveRequest({ IRM_F4: 0x40 }), { allowEmpty: true }).segments).toEqual([]);
  });
});

describe('callout responses (F4 L/M) with LLLL segments', () => {
  const token = Array.from({ length: 40 }, (_, i) => 0x10 + i);
  const big = Array.from({ length: 40000 }, (_, i) => i % 251);

  it('decodes an LLLL data segment over 32 KB and round-trips it', () => {
    const bytes = naiveRequest({ IRM_ARCH: 3, IRM_F2: 0x40, IRM_F4: 0xd3, IRM_CORTKN: token, segments: [{ data: big, llll: true }] });
    const req = decodeRequest(bytes);
    expect(req.segmentFormat).toBe('llll');
    expect(req.segments[0]!.length).toBe(40000);
    expect([...sample(req).correlationToken!]).toEqual(token);
    expect(toHex(encodeRequest(req))).toBe(toHex(bytes));
  });

  it('still reads ordinary LLZZ segments in a callout response', () => {
    const req = decodeRequest(naiveRequest({ IRM_ARCH: 3, IRM_F2: 0x40, IRM_F4: 0xd4, IRM_CORTKN: token, segments: [{ data: [1, 2, 3] }, { data: [4] }] }));
    expect(req.segmentFormat).toBe('llzz');
    expect(req.segments.map((s) => [...s])).toEqual([[1, 2, 3], [4]]);
  });

  it('reports the LLZZ error when neither framing fits', () => {
    expect(() => decodeRequest(naiveRequest({ IRM_ARCH: 3, IRM_F4: 0xd3, IRM_CORTKN: token, segments: [{ data: [1], ll: 3 }] }))).toThrowError(
      expect.objectContaining({ code: CodecErrorCode.BAD_SEGMENT }),
    );
  });

  it('builds a callout response with the correlation token at ARCH3', () => {
    const req = buildRequest({ messageType: 'CALLOUT_RESPONSE_ACK', correlationToken: Uint8Array.from(token), segments: [Uint8Array.from(big)], segmentFormat: 'llll' });
    expect(req.irm.arch).toBe(3);
    expect(req.irm.length).toBe(160);
    expect(toHex(encodeRequest(req))).toBe(toHex(naiveRequest({ IRM_ARCH: 3, IRM_F2: 0x40, IRM_F3: 0x01, IRM_F4: 0xd3, IRM_CORTKN: token, segments: [{ data: big, llll: true }] })));
  });
});

describe('*HWSJAV* requests with OTMA headers', () => {
  // 32-byte message control: arch 1, transaction, tpipe CLIENT01, single segment, prefix flags
  // state + security + application data (X'D0', IBM's transaction sample), send sequence 1.
  const control = [0x01, 0x40, 0x00, 0x00, 0x00, 0x00, ...naiveText('CLIENT01'), 0xa0, 0xd0, 0, 0, 0, 1, ...new Array(12).fill(0)];
  const state = [0x00, 0x03, 0x00]; // length 3, server state 0
  const security = [0x00, 0x04, 0xd5, 0x00]; // length 4, OMSECFLG 'N', no user ID fields
  const otma = [...control, ...state, ...security];
  const bytes = () => naiveRequest({ IRM_ID: '*HWSJAV*', noUserPart: true, IRM_F5: 0xc0, IRM_CLIENTID: 'CLIENT01', otma, segments: [{ data: naiveText('IVTNO   HELLO') }] });

  it('keeps the OTMA headers raw and decoded, and round-trips', () => {
    const req = decodeRequest(bytes());
    expect(req.exit).toBe(HWSJAV_EXIT);
    expect(req.irm.length).toBe(28);
    expect(req.irm.user).toBeNull();
    expect(req.irm.f5.otmaHeaders && req.irm.f5.noTranslation).toBe(true);
    expect([...req.otmaHeaders!]).toEqual(otma);
    expect(req.otma?.control.prefixFlags).toBe(0xd0);
    expect(req.otma?.security?.flag).toBe(0xd5);
    expect(trancodeOf(req.segments)).toBe('IVTNO');
    expect(toHex(encodeRequest(req))).toBe(toHex(bytes()));
  });

  it('builds the same bytes', () => {
    const req = buildRequest({ exit: '*HWSJAV*', clientId: 'CLIENT01', socketType: 'PERSISTENT', otmaHeaders: Uint8Array.from(otma), trancode: 'IVTNO', data: 'HELLO' });
    expect(toHex(encodeRequest(req))).toBe(toHex(bytes()));
  });

  describeMalformed(
    CodecErrorCode.BAD_OTMA,
    () => naiveRequest({ IRM_ID: '*HWSJAV*', noUserPart: true, IRM_F5: 0xc0, otma: [...control, 0x00, 0x50], segments: [{ data: naiveText('IVTNO   HELLO'.repeat(5)) }] }),
    ReasonCode.OTMA_SEGMENT_LENGTH,
    'an OTMA state section past the message',
  );
});

describe('buildRequest', () => {
  it('applies IBM defaults', () => {
    const req = buildRequest({ trancode: 'IVTNO', data: 'HI' });
    const u = sample(req);
    expect(req.exit).toBe(SAMPL1_EXIT);
    expect(req.codeSet).toBe('ebcdic');
    expect(req.irm).toMatchObject({ length: 80, arch: 0, timer: 0, socketType: 0x10, clientId: '' });
    expect([u.f2.commitMode, u.f3.syncLevel, u.f4.type]).toEqual(['CM1', 'NONE', 'SEND_RECEIVE']);
    expect(buildRequest({ messageType: 'RESUME_TPIPE' }).irm.user).toMatchObject({ f2: { commitMode: 'CM0' }, f3: { syncLevel: 'CONFIRM' } });
    expect(trancodeOf(req.segments)).toBe('IVTNO');
  });

  it('chooses the nearest timer code for milliseconds', () => {
    expect(buildRequest({ timer: 10_000 }).irm.timer).toBe(0x31);
    expect(buildRequest({ timer: 'forever' }).irm.timer).toBe(0xff);
  });

  it('splits long data into segments of at most 32,763 bytes', () => {
    const req = buildRequest({ trancode: 'IVTNO', data: new Uint8Array(70000) });
    expect(req.segments.map((s) => s.length)).toEqual([32763, 32763, 4482]);
    expect(decodeRequest(encodeRequest(req)).segments.length).toBe(3);
  });

  it('rejects bad options with IMS_ERR_INVALID_VALUE', () => {
    for (const bad of [
      () => buildRequest({ clientId: 'TOOLONGNAME' }),
      () => buildRequest({ arch: 0, altClientId: 'X' }),
      () => buildRequest({ correlationToken: new Uint8Array(3) }),
      () => buildRequest({ rerouteName: 'A', altClientId: 'B' }),
      () => buildRequest({ timer: { code: 300 } }),
      () => buildRequest({ messageType: 'BOGUS' as 'ACK' }),
      () => buildRequest({ resumeOption: 'x' as 'auto' }),
      () => encodeRequest(buildRequest({ clientId: 'TOOLONGNAME1' })),
    ]) {
      expect(bad).toThrowError(expect.objectContaining({ code: CodecErrorCode.INVALID_VALUE }));
    }
    expect(() => buildRequest({ exit: '*NOSUCH*' })).toThrowError(expect.objectContaining({ code: CodecErrorCode.UNKNOWN_EXIT }));
  });
});

// ---------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------

// An all-'@' name reads as padding in an ASCII IRM (X'40'), so names never start with '@'.
const NAME = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789#$@'), minLength: 0, maxLength: 8 }).map((s) => (s.startsWith('@') ? `A${s.slice(1)}` : s));
const TYPES = ['SEND_RECEIVE', 'ACK', 'CANCEL_TIMER', 'DEALLOCATE', 'SEND_ONLY_ERRORS', 'SEND_ONLY_ACK', 'CALLOUT_RESPONSE_ACK', 'CALLOUT_RESPONSE', 'NAK', 'RESUME_TPIPE', 'SEND_ONLY'] as const;
/** Length of the field after each sample prefix (the tail must stay shorter, or it would be that field). */
const NEXT_FIELD = [8, 8, 8, 8, 8, 40, 8, 2, 2, Infinity];

const arbRequest: fc.Arbitrary<ImsRequest> = fc
  .record({
    exit: fc.constantFrom('*SAMPLE*', '*SAMPL1*', '*IRMREQ*'),
    codeSet: fc.constantFrom('ebcdic', 'ascii'),
    level: fc.integer({ min: 0, max: 9 }),
    type: fc.constantFrom(...TYPES),
    f4Ascii: fc.boolean(),
    bytes: fc.record({ f0: fc.integer({ min: 0, max: 255 }), f1: fc.integer({ min: 0, max: 255 }), f2: fc.integer({ min: 0, max: 255 }), f3: fc.integer({ min: 0, max: 255 }), f5: fc.integer({ min: 0, max: 255 }) }),
    ints: fc.record({ arch: fc.integer({ min: 0, max: 255 }), nak: fc.integer({ min: 0, max: 0xffff }), res: fc.integer({ min: 0, max: 0xffff }), timer: fc.integer({ min: 0, max: 255 }), soct: fc.integer({ min: 0, max: 255 }), es: fc.integer({ min: 0, max: 255 }) }),
    names: fc.array(NAME, { minLength: 12, maxLength: 12 }),
    tokens: fc.tuple(fc.uint8Array({ minLength: 40, maxLength: 40 }), fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 0xffff })),
    tail: fc.uint8Array({ maxLength: 12 }),
    extensions: fc.array(
      fc.record({
        id: fc.oneof(fc.constantFrom(...Object.values(IrmExtensionId)), fc.string({ unit: fc.constantFrom(...'ABCXYZ09'), minLength: 8, maxLength: 8 })),
        ascii: fc.boolean(),
        reserved: fc.integer({ min: 0, max: 0xffff }),
        data: fc.uint8Array({ maxLength: 30 }),
      }),
      { maxLength: 3 },
    ),
    segments: fc.array(fc.uint8Array({ minLength: 1, maxLength: 50 }), { maxLength: 3 }),
    zz: fc.option(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 3, maxLength: 3 }), { nil: undefined }),
    llll: fc.boolean(),
  })
  .map((g) => {
    const req = buildRequest({ exit: g.exit, codeSet: g.codeSet as 'ebcdic' | 'ascii', messageType: g.type, segments: g.segments });
    const irm: Irm = req.irm;
    const u = sample(req);
    const [n0, n1, n2, n3, n4, n5, n6, n7, n8, n9, n10, n11] = g.names as [string, string, string, string, string, string, string, string, string, string, string, string];
    irm.arch = g.ints.arch;
    irm.nakReasonCode = g.ints.nak;
    irm.reserved = g.ints.res;
    irm.timer = g.ints.timer;
    irm.socketType = g.ints.soct;
    irm.encodingScheme = g.ints.es;
    irm.clientId = n0;
    const withExt = g.level === 9 && g.extensions.length > 0;
    irm.f0 = irmF0(withExt ? g.bytes.f0 | 0x04 : g.bytes.f0 & ~0x04);
    irm.f5 = irmF5(g.bytes.f5);
    Object.assign(u, { f1: irmF1(g.bytes.f1), f2: irmF2(g.bytes.f2), f3: irmF3(g.bytes.f3) });
    u.f4 = irmF4(g.type, g.f4Ascii ? 'ascii' : 'ebcdic');
    Object.assign(u, { trancode: n1, datastore: n2, lterm: n3, racfUserId: n4, racfGroup: n5, racfPassword: n6 });
    const optional: Array<[keyof SampleUserPart, unknown]> = [
      ['applName', n7],
      ['rerouteName', n8],
      ['tagAdapter', n9],
      ['tagMap', n10],
      ['modName', n11],
      ['correlationToken', g.tokens[0]],
      ['sessionToken', g.tokens[1]],
      ['extensionOffset', 0],
      ['reserved5', g.tokens[2]],
    ];
    optional.forEach(([k, v], i) => {
      if (i < g.level) (u as unknown as Record<string, unknown>)[k] = v;
    });
    irm.tail = g.tail.slice(0, Math.min(g.tail.length, NEXT_FIELD[g.level]! - 1));
    if (withExt) {
      irm.extensions = g.extensions.map((e) => ({ id: e.id, idCodeSet: Object.values(IrmExtensionId).includes(e.id as '*NETUID*') ? (e.ascii ? 'ascii' : 'ebcdic') : (g.codeSet as 'ebcdic' | 'ascii'), reserved: e.reserved, data: e.data }));
      u.extensionOffset = 28 + 144 + irm.tail.length;
    }
    if (g.zz !== undefined && g.segments.length > 0 && g.zz.slice(0, g.segments.length).some((z) => z !== 0)) req.segmentReserved = g.zz.slice(0, g.segments.length);
    if (g.llll && (g.type === 'CALLOUT_RESPONSE' || g.type === 'CALLOUT_RESPONSE_ACK') && g.segments.length > 0) {
      req.segmentFormat = 'llll';
      delete req.segmentReserved;
    }
    irm.length = irmSize(irm, req.exit);
    return req;
  });

describe('properties', () => {
  it('encode → decode is the identity for arbitrary valid requests', () => {
    fc.assert(
      fc.property(arbRequest, (req) => {
        const bytes = encodeRequest(req);
        const back = decodeRequest(bytes, { allowEmpty: true });
        expect(back).toEqual(req);
        expect(toHex(encodeRequest(back))).toBe(toHex(bytes));
      }),
      { numRuns: 200 },
    );
  });

  const onlyCoded = (fn: () => unknown): void => {
    try {
      fn();
    } catch (err) {
      if (!isImsplexError(err)) throw err;
    }
  };

  it('arbitrary bytes give a request or a CodecError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        onlyCoded(() => decodeRequest(bytes));
        onlyCoded(() => new RequestFrameReader({ maxFrameSize: 1000 }).push(bytes));
      }),
      { numRuns: 200 },
    );
  });

  it('mutated valid frames give a request or a CodecError, never anything else', () => {
    fc.assert(
      fc.property(
        arbRequest,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 20 }),
        (req, edits, fixLength, cut) => {
          const orig = encodeRequest(req);
          let bytes = orig.slice(0, Math.max(0, orig.length - (cut > 15 ? cut : 0)));
          for (const [pos, v] of edits) bytes[pos % Math.max(1, bytes.length)] = v;
          if (fixLength && bytes.length >= 4) new DataView(bytes.buffer).setUint32(0, bytes.length);
          onlyCoded(() => decodeRequest(bytes));
          onlyCoded(() => decodeRequest(bytes, { allowEmpty: true }));
          const reader = new RequestFrameReader();
          onlyCoded(() => {
            for (let i = 0; i < bytes.length; i += 7) for (const frame of reader.push(bytes.subarray(i, i + 7))) onlyCoded(() => decodeRequest(frame));
          });
          bytes = Uint8Array.from(orig);
        },
      ),
      { numRuns: 200 },
    );
  });
});
