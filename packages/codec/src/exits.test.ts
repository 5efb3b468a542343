import { Parser } from 'binary-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { CP037 } from './ebcdic.js';
import { CodecErrorCode } from './errors.js';
import { HWSJAV_EXIT, SAMPL1_EXIT, SAMPLE_EXIT, charFormatter, describeUserData, getExit, listExits, matchExit, registerExit, replyHasLlll, unregisterExit } from './exits.js';
import { irmF0, irmF5, type Irm } from './irm.js';
import { defineLayout } from './layout.js';
import { decodeRequest, encodeRequest, type ImsRequest } from './request.js';
import { toHex } from './testing/replies.js';
import { naiveRequest, naiveText } from './testing/requests.js';
import { SEND_RECEIVE_CM1 } from './testing/vectors.js';

afterEach(() => {
  for (const e of listExits()) if (!e.builtIn) unregisterExit(e.id);
});

const MyUser = defineLayout('MYEXIT user part', [
  { name: 'flags', kind: 'u8' },
  { name: 'trancode', kind: 'char', length: 8 },
  { name: 'counter', kind: 'u16' },
  { name: 'token', kind: 'bytes', length: 3 },
]);

/** A 28-byte fixed part + the custom part, built by hand. */
function myExitBytes(idPad = 0x40): Uint8Array {
  const ebcdicId = [...naiveText('*MYEX'), idPad, idPad, idPad];
  const irm = [
    ...[0x00, 28 + 14], // IRM_LEN
    0x00, // IRM_ARCH
    0x00, // IRM_F0
    ...ebcdicId, // IRM_ID
    0x00, 0x00, // IRM_NAK_RSNCDE
    0x00, 0x00, // IRM_RES
    0x00, // IRM_F5
    0x31, // IRM_TIMER
    0x10, // IRM_SOCT
    0x00, // IRM_ES
    ...naiveText('CLIENT01'), // IRM_CLIENTID
    0x80, // flags
    ...naiveText('IVTNO   '), // trancode
    0x01, 0x02, // counter
    0xaa, 0xbb, 0xcc, // token
  ];
  const seg = [0x00, 0x0d, 0x00, 0x00, ...naiveText('IVTNO   X')];
  // a second segment brings the message over the X'58' minimum
  const pad = [0x00, 44, 0x00, 0x00, ...new Array(40).fill(0x40)];
  const all = [...irm, ...seg, ...pad, 0x00, 0x04, 0x00, 0x00];
  const total = all.length + 4;
  return Uint8Array.from([0, 0, total >> 8, total & 0xff, ...all]);
}

describe('exit registry', () => {
  it('registers the IBM exits', () => {
    expect(getExit('*SAMPLE*')).toBe(SAMPLE_EXIT);
    expect([SAMPLE_EXIT.replyHasLlll, SAMPL1_EXIT.replyHasLlll, HWSJAV_EXIT.otmaHeaders]).toEqual([false, true, true]);
    expect(replyHasLlll('*SAMPL1*')).toBe(true);
    expect(replyHasLlll(SAMPLE_EXIT)).toBe(false);
    expect(replyHasLlll(SAMPL1_EXIT.asciiId)).toBe(true);
    expect(() => replyHasLlll('*NOPE*')).toThrowError(expect.objectContaining({ code: CodecErrorCode.UNKNOWN_EXIT }));
  });

  it('recognises IRM_ID in EBCDIC or ASCII with any blank padding', () => {
    registerExit({ id: 'MYEX', minIrmLength: 36, userPart: 'none', replyHasLlll: false });
    const cases: Array<[number[], string]> = [
      [[...naiveText('MYEX'), 0x40, 0x40, 0x40, 0x40], 'ebcdic'],
      [[...naiveText('MYEX'), 0x00, 0x00, 0x00, 0x00], 'ebcdic'],
      [[...naiveText('MYEX'), 0x40, 0x00, 0x20, 0x40], 'ebcdic'],
      [[...Buffer.from('MYEX'), 0x20, 0x20, 0x20, 0x20], 'ascii'],
      [[...Buffer.from('MYEX'), 0x00, 0x00, 0x00, 0x00], 'ascii'],
    ];
    for (const [bytes, codeSet] of cases) expect(matchExit(Uint8Array.from(bytes), 0)).toMatchObject({ exit: { id: 'MYEX' }, codeSet });
    expect(matchExit(Uint8Array.from(naiveText('NOTMINE ')), 0)).toBeUndefined();
    expect(matchExit(new Uint8Array(4), 0)).toBeUndefined();
  });

  it('refuses bad definitions, duplicates and unregistering built-ins', () => {
    const bad = [
      { id: 'lower', minIrmLength: 36, userPart: 'none', replyHasLlll: false },
      { id: 'TOOLONGID', minIrmLength: 36, userPart: 'none', replyHasLlll: false },
      { id: 'X', minIrmLength: 10, userPart: 'none', replyHasLlll: false },
      { id: 'X', minIrmLength: 36, userPart: 'weird', replyHasLlll: false },
      { id: 'X', minIrmLength: 36, userPart: 'none', replyHasLlll: 'yes' },
      { id: 'X', minIrmLength: 36, userPart: MyUser, replyHasLlll: false },
      { id: 'X', minIrmLength: 36, userPart: 'sample', replyHasLlll: false },
    ];
    for (const def of bad) expect(() => registerExit(def as never)).toThrowError(expect.objectContaining({ code: CodecErrorCode.INVALID_VALUE }));
    expect(() => registerExit({ id: '*SAMPL1*', minIrmLength: 80, userPart: 'sample', replyHasLlll: false })).toThrowError(expect.objectContaining({ code: CodecErrorCode.INVALID_VALUE }));
    expect(() => unregisterExit('*SAMPL1*')).toThrowError(expect.objectContaining({ code: CodecErrorCode.INVALID_VALUE }));
    expect(unregisterExit('*NONE*')).toBe(false);
  });

  it('decodes and re-encodes a custom exit described by a layout', () => {
    registerExit({ id: '*MYEX', minIrmLength: 42, userPart: MyUser, replyHasLlll: true, description: 'site exit' });
    for (const pad of [0x40, 0x00]) {
      const bytes = myExitBytes(pad);
      const req = decodeRequest(bytes);
      expect(req.exit.id).toBe('*MYEX');
      expect(req.irm.user).toMatchObject({ kind: 'custom', value: { flags: 0x80, trancode: 'IVTNO', counter: 0x0102, token: Uint8Array.of(0xaa, 0xbb, 0xcc) } });
      expect(req.segments.length).toBe(2);
      // the encoder pads IRM_ID with blanks, so compare against the X'40' form
      expect(toHex(encodeRequest(req))).toBe(toHex(myExitBytes(0x40)));
    }
    expect(replyHasLlll('*MYEX')).toBe(true);
  });

  it('decodes a custom exit described by a binary-parser Parser and re-sends its raw bytes', () => {
    registerExit({
      id: '*MYEX',
      minIrmLength: 42,
      userPart: new Parser().uint8('flags').buffer('trancode', { length: 8, formatter: charFormatter(CP037) }).uint16be('counter').buffer('token', { length: 3 }),
      replyHasLlll: false,
    });
    const bytes = myExitBytes();
    const req = decodeRequest(bytes);
    expect(req.irm.user).toMatchObject({ kind: 'custom', value: { flags: 0x80, trancode: 'IVTNO', counter: 0x0102 } });
    expect(toHex(encodeRequest(req))).toBe(toHex(bytes));
  });

  it('a parser that fails on the user part gives IMS_ERR_BAD_IRM_LENGTH, not a RangeError', () => {
    registerExit({ id: '*MYEX', minIrmLength: 42, userPart: new Parser().buffer('head', { length: 12 }).uint32be('beyond'), replyHasLlll: false });
    expect(() => decodeRequest(myExitBytes())).toThrowError(expect.objectContaining({ code: CodecErrorCode.BAD_IRM_LENGTH }));
  });

  it('an exit re-registered with replace: true takes effect', () => {
    registerExit({ id: '*MYEX', minIrmLength: 42, userPart: 'none', replyHasLlll: false });
    registerExit({ id: '*MYEX', minIrmLength: 42, userPart: MyUser, replyHasLlll: true }, { replace: true });
    expect(getExit('*MYEX')?.replyHasLlll).toBe(true);
  });

  it('encodes a hand-built custom request', () => {
    const exit = registerExit({ id: '*MYEX', minIrmLength: 42, userPart: MyUser, replyHasLlll: true });
    const irm: Irm = {
      length: 0,
      arch: 0,
      f0: irmF0(),
      id: '*MYEX',
      nakReasonCode: 0,
      reserved: 0,
      f5: irmF5(),
      timer: 0x31,
      socketType: 0x10,
      encodingScheme: 0,
      clientId: 'CLIENT01',
      user: { kind: 'custom', value: { flags: 0x80, trancode: 'IVTNO', counter: 0x0102, token: Uint8Array.of(0xaa, 0xbb, 0xcc) }, raw: new Uint8Array(0) },
      tail: new Uint8Array(0),
      extensions: [],
    };
    const req: ImsRequest = { irm, codeSet: 'ebcdic', exit, segments: [Uint8Array.from(naiveText('IVTNO   X')), new Uint8Array(40).fill(0x40)], segmentFormat: 'llzz' };
    expect(toHex(encodeRequest(req))).toBe(toHex(myExitBytes()));
  });
});

describe('describeUserData', () => {
  const Phonebook = describeUserData<{ command: string; name: string; extension: number }>(
    new Parser().buffer('command', { length: 8, formatter: charFormatter(CP037) }).buffer('name', { length: 10, formatter: charFormatter(CP037) }).uint16be('extension'),
  );

  it('parses segment data after the trancode, typed', () => {
    const req = decodeRequest(
      naiveRequest({ segments: [{ data: [...naiveText('IVTNO   DISPLAY LAST1     '), 0x01, 0x02] }] }),
    );
    expect(Phonebook.parse(req.segments[0]!, { skipTrancode: true })).toEqual({ command: 'DISPLAY', name: 'LAST1', extension: 0x0102 });
    expect(Phonebook.parseSegments([req.segments[0]!.subarray(0, 12), req.segments[0]!.subarray(12)], { skipTrancode: true }).name).toBe('LAST1');
  });

  it('turns a short buffer into IMS_ERR_TRUNCATED', () => {
    expect(() => Phonebook.parse(Uint8Array.of(1, 2, 3))).toThrowError(expect.objectContaining({ code: CodecErrorCode.TRUNCATED }));
    expect(() => describeUserData({} as Parser)).toThrowError(expect.objectContaining({ code: CodecErrorCode.INVALID_VALUE }));
  });

  it('decodes the SAMPL1 vector data through a layout too', () => {
    const data = decodeRequest(SEND_RECEIVE_CM1.bytes()).segments[0]!;
    const Cmd = defineLayout('IVTNO input', [
      { name: 'trancode', kind: 'char', length: 8 },
      { name: 'command', kind: 'char', length: 8 },
    ]);
    expect(Cmd.read(data, 0, CP037)).toEqual({ trancode: 'IVTNO', command: 'DISPLAY' });
  });
});
