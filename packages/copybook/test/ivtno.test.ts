/**
 * The IMS IVP phone-book transaction IVTNO.
 *
 * Source of the layout: the IVTNOM copybook of a public z/OS Connect IMS workspace
 * (github.com/kenishia/ZCWorkspace_IMS, IVTNOM.cpy): IN-LL/IN-ZZ halfwords, IN-TRANCDE X(10)
 * (the 8-byte trancode plus the blank and one more byte of the command area as the IVP program
 * reads it), IN-COMMAND X(8), then last name X(10), first name X(10), extension X(10), zip X(7);
 * the output adds OUT-MESSAGE X(40) and OUT-SEGMENT-NO X(4), with OUT-LL VALUE +93. IBM's IVP
 * COBOL program DFSIVP34 uses the same widths.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileCopybook, CopybookErrorCode } from '../src/index.js';
import { hex, rep, toHex } from './helpers.js';

const source = readFileSync(new URL('./fixtures/IVTNOM.cpy', import.meta.url), 'utf8');
const input = compileCopybook(source, { fileName: 'IVTNOM.cpy' });
const output = compileCopybook(source, { fileName: 'IVTNOM.cpy', record: 'OUTPUT-MSG' });

// Input: DISPLAY LAST1 (IVTNO), CP037.
const inputBytes = hex(
  '003B', //                                  IN-LL = 59 (halfword, big-endian)
  '0000', //                                  IN-ZZ
  'C9E5E3D5D6', rep('40', 5), //              IN-TRANCDE 'IVTNO     '
  'C4C9E2D7D3C1E840', //                      IN-COMMAND 'DISPLAY '
  'D3C1E2E3F1', rep('40', 5), //              IN-LAST-NAME 'LAST1     '
  rep('40', 10), //                           IN-FIRST-NAME blank
  rep('40', 10), //                           IN-EXTENSION blank
  rep('40', 7), //                            IN-ZIP-CODE blank
);

// Output: ENTRY WAS DISPLAYED, LAST1 FIRST1 8-111-1111 D01/R01, segment 0001.
const outputBytes = hex(
  '005D', //                                  OUT-LL = 93
  '0000', //                                  OUT-ZZ
  'C5D5E3D9E8', '40', 'E6C1E2', '40', 'C4C9E2D7D3C1E8C5C4', rep('40', 21), // OUT-MESSAGE 'ENTRY WAS DISPLAYED' + 21 blanks
  'C4C9E2D7D3C1E840', //                      OUT-COMMAND 'DISPLAY '
  'D3C1E2E3F1', rep('40', 5), //              OUT-LAST-NAME 'LAST1'
  'C6C9D9E2E3F1', rep('40', 4), //            OUT-FIRST-NAME 'FIRST1'
  'F860F1F1F160F1F1F1F1', //                  OUT-EXTENSION '8-111-1111'
  'C4F0F161D9F0F1', //                        OUT-ZIP-CODE 'D01/R01'
  'F0F0F0F1', //                              OUT-SEGMENT-NO '0001'
);

describe('IVTNO input message', () => {
  it('has the IVP layout: 59 bytes, offsets as in the copybook', () => {
    expect(input.size).toBe(59);
    expect(inputBytes.length).toBe(59);
    expect(input.recordNames).toEqual(['INPUT-MSG', 'OUTPUT-MSG']);
    const at = (n: string): [number, number] => [input.field(n)!.offset, input.field(n)!.size];
    expect(at('IN-LL')).toEqual([0, 2]);
    expect(at('IN-TRANCDE')).toEqual([4, 10]);
    expect(at('IN-COMMAND')).toEqual([14, 8]);
    expect(at('IN-LAST-NAME')).toEqual([22, 10]);
    expect(at('IN-ZIP-CODE')).toEqual([52, 7]);
    expect(input.field('IN-ZIP-CODE')!.line).toBe(15);
  });

  it('decodes, trimming trailing blanks and nesting IN-RECORD', () => {
    expect(input.decode(inputBytes)).toEqual({
      IN_LL: 59,
      IN_ZZ: 0,
      IN_TRANCDE: 'IVTNO',
      IN_COMMAND: 'DISPLAY',
      IN_RECORD: { IN_LAST_NAME: 'LAST1', IN_FIRST_NAME: '', IN_EXTENSION: '', IN_ZIP_CODE: '' },
    });
  });

  it('encodes the same bytes, padding with X40 and defaulting missing fields', () => {
    const bytes = input.encode({ IN_LL: 59, IN_TRANCDE: 'IVTNO', IN_COMMAND: 'DISPLAY', IN_RECORD: { IN_LAST_NAME: 'LAST1' } });
    expect(toHex(bytes)).toBe(toHex(inputBytes));
  });

  it('hides LL/ZZ/trancode with exclude, filling them from VALUE or zero', () => {
    const book = compileCopybook(source, { exclude: ['IN-LL', 'IN-ZZ', 'IN-TRANCDE'], names: 'camel' });
    const obj = book.decode(inputBytes);
    expect(obj).toEqual({ inCommand: 'DISPLAY', inRecord: { inLastName: 'LAST1', inFirstName: '', inExtension: '', inZipCode: '' } });
    // Excluded fields are encoded as defaults: LL and ZZ zero, trancode blank.
    expect(toHex(book.encode(obj))).toBe(toHex(hex('0000', '0000', rep('40', 10))) + toHex(inputBytes.subarray(14)));
  });

  it('names the field when a string does not fit', () => {
    expect(() => input.encode({ IN_COMMAND: 'DISPLAYXX' })).toThrow(expect.objectContaining({ code: CopybookErrorCode.STRING_TOO_LONG, details: expect.objectContaining({ field: 'INPUT-MSG.IN-COMMAND', offset: 14 }) }));
  });

  it('rejects a short record naming the first field that does not fit', () => {
    expect(() => input.decode(inputBytes.subarray(0, 50))).toThrow(expect.objectContaining({ code: CopybookErrorCode.RECORD_TOO_SHORT, details: expect.objectContaining({ field: 'INPUT-MSG.IN-RECORD.IN-EXTENSION' }) }));
  });
});

describe('IVTNO output message', () => {
  it('is 93 bytes, matching OUT-LL VALUE +93', () => {
    expect(output.size).toBe(93);
    expect(outputBytes.length).toBe(93);
  });

  it('decodes the reply', () => {
    expect(output.decode(outputBytes)).toEqual({
      OUT_LL: 93,
      OUT_ZZ: 0,
      OUT_MESSAGE: 'ENTRY WAS DISPLAYED',
      OUT_COMMAND: 'DISPLAY',
      OUT_RECORD: { OUT_LAST_NAME: 'LAST1', OUT_FIRST_NAME: 'FIRST1', OUT_EXTENSION: '8-111-1111', OUT_ZIP_CODE: 'D01/R01' },
      OUT_SEGMENT_NO: '0001',
    });
  });

  it('encodes with VALUE clauses for OUT-LL and OUT-SEGMENT-NO', () => {
    const bytes = output.encode({
      OUT_MESSAGE: 'ENTRY WAS DISPLAYED',
      OUT_COMMAND: 'DISPLAY',
      OUT_RECORD: { OUT_LAST_NAME: 'LAST1', OUT_FIRST_NAME: 'FIRST1', OUT_EXTENSION: '8-111-1111', OUT_ZIP_CODE: 'D01/R01' },
    });
    expect(toHex(bytes)).toBe(toHex(outputBytes));
  });
});
