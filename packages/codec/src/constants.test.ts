import { describe, expect, it } from 'vitest';
import { IRM_LENGTH_BY_ARCH, IrmId, MessageTypeAscii, MessageTypeChar, MessageTypeEbcdic, MIN_MESSAGE_LENGTH, type MessageType } from './constants.js';
import { CP037, LATIN1, getCodePage } from './ebcdic.js';
import { IRM_FIXED_LAYOUT, SAMPLE_USER_LAYOUT } from './irm.js';
import { describeLayout } from './layout.js';

describe('IRM constants', () => {
  it('IRM_F4 byte tables are the letters in CP037 and ASCII (and the same in every EBCDIC page)', () => {
    for (const [type, ch] of Object.entries(MessageTypeChar) as Array<[MessageType, string]>) {
      expect(MessageTypeEbcdic[type]).toBe(CP037.encode(ch)[0]);
      expect(MessageTypeAscii[type]).toBe(LATIN1.encode(ch)[0]);
      for (const page of ['cp500', 'cp1047', 'cp1140']) expect(getCodePage(page).encode(ch)[0]).toBe(MessageTypeEbcdic[type]);
    }
  });

  it('IRM_LEN per architecture level matches the sample user-part layout', () => {
    const ends = new Map(SAMPLE_USER_LAYOUT.fields.map((f) => [f.name, 28 + f.offset + f.length]));
    expect(IRM_LENGTH_BY_ARCH[0]).toBe(ends.get('racfPassword'));
    expect(IRM_LENGTH_BY_ARCH[1]).toBe(ends.get('rerouteName'));
    expect(IRM_LENGTH_BY_ARCH[2]).toBe(ends.get('tagMap'));
    expect(IRM_LENGTH_BY_ARCH[3]).toBe(ends.get('correlationToken'));
    expect(IRM_LENGTH_BY_ARCH[4]).toBe(ends.get('sessionToken'));
    expect(IRM_LENGTH_BY_ARCH[5]).toBe(ends.get('reserved5'));
    expect(4 + IRM_LENGTH_BY_ARCH[0] + 4).toBe(MIN_MESSAGE_LENGTH);
  });

  it('IRM field offsets are IBM message offsets (spec §2.1–§2.2)', () => {
    const at = (name: string): number => 4 + IRM_FIXED_LAYOUT.fields.find((f) => f.name === name)!.offset;
    const user = (name: string): number => 32 + SAMPLE_USER_LAYOUT.fields.find((f) => f.name === name)!.offset;
    expect([at('length'), at('arch'), at('f0'), at('id'), at('nakReasonCode'), at('reserved'), at('f5'), at('timer'), at('socketType'), at('encodingScheme'), at('clientId')]).toEqual([
      4, 6, 7, 8, 16, 18, 20, 21, 22, 23, 24,
    ]);
    expect([user('f1'), user('f4'), user('trancode'), user('datastore'), user('racfPassword'), user('applName'), user('rerouteName'), user('modName'), user('correlationToken'), user('sessionToken'), user('extensionOffset')]).toEqual([
      0x20, 0x23, 0x24, 0x2c, 0x4c, 0x54, 0x5c, 0x74, 0x7c, 0xa4, 0xac,
    ]);
    expect(describeLayout(IRM_FIXED_LAYOUT, { base: 4 })).toContain("| 24 (X'18') | 8 | char | `clientId` | `IRM_CLIENTID` |");
  });

  it('the exit IDs encode to the bytes the spec shows', () => {
    expect([...CP037.encode(IrmId.SAMPL1)]).toEqual([0x5c, 0xe2, 0xc1, 0xd4, 0xd7, 0xd3, 0xf1, 0x5c]);
  });
});
