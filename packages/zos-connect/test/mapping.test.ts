/** JSON ⇄ segments through the sample IVTNO service, byte for byte. */
import { describe, expect, it } from 'vitest';
import { getCodePage } from '@imsplex/codec';
import { decodeResponse, dfsError, encodeRequest, loadConfig } from '../src/index.js';
import { SAMPLES } from './helpers.js';

const c = loadConfig(SAMPLES);
const ivtno = c.services.get('IVTNO')!;
const cp037 = getCodePage('cp037');

describe('IVTNO mapping', () => {
  it('encodes INPUT-MSG without LL/ZZ: the trancode in IN-TRANCDE X(10), the default command', () => {
    const enc = encodeRequest(ivtno, { IN_RECORD: { IN_LAST_NAME: 'LAST1' } }, cp037);
    expect(enc.includesTrancode).toBe(true);
    expect(enc.segments).toHaveLength(1);
    expect(cp037.decode(enc.segments[0]!)).toBe('IVTNO     ' + 'DIS     ' + 'LAST1     ' + ' '.repeat(27));
    expect(enc.segments[0]!.length + 4).toBe(59);
  });

  it('rejects a non-object and names the field that does not fit', () => {
    expect(() => encodeRequest(ivtno, [], cp037)).toThrow(expect.objectContaining({ code: 'ZCON_ERR_BAD_REQUEST' }));
    expect(() => encodeRequest(ivtno, { IN_RECORD: { IN_ZIP_CODE: '12345678' } }, cp037)).toThrow(expect.objectContaining({ code: 'ZCON_ERR_BAD_REQUEST', details: expect.objectContaining({ causeCode: 'COPYBOOK_ERR_STRING_TOO_LONG' }) }));
  });

  it('decodes the 89-byte OUTPUT-MSG (LL 93, LL/ZZ supplied by the runtime), and pads a short one', () => {
    const text = 'ENTRY WAS DISPLAYED'.padEnd(40) + 'DIS     ' + 'LAST1     ' + 'FIRST1    ' + '8-111-1111' + 'D01/R01' + '0001';
    expect(text.length + 4).toBe(93);
    expect(decodeResponse(ivtno, [cp037.encode(text)], cp037)).toEqual({
      OUT_MESSAGE: 'ENTRY WAS DISPLAYED',
      OUT_COMMAND: 'DIS',
      OUT_RECORD: { OUT_LAST_NAME: 'LAST1', OUT_FIRST_NAME: 'FIRST1', OUT_EXTENSION: '8-111-1111', OUT_ZIP_CODE: 'D01/R01' },
      OUT_SEGMENT_NO: '0001',
    });
    expect(decodeResponse(ivtno, [cp037.encode('SHORT')], cp037)).toMatchObject({ OUT_MESSAGE: 'SHORT', OUT_SEGMENT_NO: '' });
    expect(() => decodeResponse(ivtno, [cp037.encode('x'.repeat(95))], cp037)).toThrow(expect.objectContaining({ code: 'ZCON_ERR_BAD_RESPONSE' }));
  });

  it('recognises DFS messages', () => {
    expect(dfsError([cp037.encode('DFS064 10:11:12 DESTINATION CAN NOT BE FOUND OR CREATED, DEST=X')], cp037, 'S')!.code).toBe('ZCON_ERR_IMS_DESTINATION');
    expect(dfsError([cp037.encode('DFS2082 10:11:12 RESPONSE MODE TRANSACTION TERMINATED WITHOUT REPLY')], cp037, 'S')!.code).toBe('ZCON_ERR_IMS_NO_REPLY');
    expect(dfsError([cp037.encode('DFS3649A SIGN ON REQUIRED')], cp037, 'S')!.code).toBe('ZCON_ERR_IMS_MESSAGE');
    expect(dfsError([cp037.encode('ENTRY WAS DISPLAYED')], cp037, 'S')).toBeUndefined();
  });
});
