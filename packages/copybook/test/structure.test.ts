import { describe, expect, it } from 'vitest';
import { compileCopybook, CopybookErrorCode } from '../src/index.js';
import { hex, toHex } from './helpers.js';

describe('OCCURS DEPENDING ON', () => {
  const src = `
       01  ORDER.
           05  ORDER-ID      PIC 9(4).
           05  ITEM-COUNT    PIC S9(4) COMP.
           05  ITEMS OCCURS 0 TO 5 TIMES DEPENDING ON ITEM-COUNT.
               10  SKU       PIC X(3).
               10  QTY       PIC S9(3) COMP-3.
           05  TRAILER       PIC X(2).
  `;
  const book = compileCopybook(src);
  const two = hex(
    'F0F0F4F2', //        ORDER-ID 0042
    '0002', //            ITEM-COUNT 2 (halfword)
    'C1C2C3', '010C', //  ITEMS(1): SKU 'ABC', QTY +10 (packed, 2 bytes)
    'C4C5C6', '005D', //  ITEMS(2): SKU 'DEF', QTY -5
    'E9E9', //            TRAILER 'ZZ', moved up right after the second item
  );
  const obj = { ORDER_ID: 42, ITEM_COUNT: 2, ITEMS: [{ SKU: 'ABC', QTY: 10 }, { SKU: 'DEF', QTY: -5 }], TRAILER: 'ZZ' };

  it('sizes: max with 5 items, min with none; later fields have variable offsets', () => {
    expect(book.size).toBe(4 + 2 + 5 * 5 + 2);
    expect(book.minSize).toBe(8);
    const trailer = book.field('TRAILER')!;
    expect(trailer.variableOffset).toBe(true);
    expect(trailer.offset).toBe(31);
    expect(book.field('ITEMS')!.occurs).toEqual({ min: 0, max: 5, dependingOn: 'ITEM-COUNT' });
  });

  it('decode sizes the array from the counter and moves later fields', () => {
    expect(book.decode(two)).toEqual(obj);
    expect(book.decode(hex('F0F0F0F1', '0000', 'C1C1'))).toEqual({ ORDER_ID: 1, ITEM_COUNT: 0, ITEMS: [], TRAILER: 'AA' });
  });

  it('encode sets the counter from the array length', () => {
    const { ITEM_COUNT: _, ...noCount } = obj;
    expect(toHex(book.encode(noCount))).toBe(toHex(two));
    expect(toHex(book.encode(obj))).toBe(toHex(two));
  });

  it('a counter that disagrees with the array is an error', () => {
    expect(() => book.encode({ ...obj, ITEM_COUNT: 3 })).toThrow(expect.objectContaining({ code: CopybookErrorCode.ODO_COUNTER_MISMATCH, details: expect.objectContaining({ field: 'ORDER.ITEM-COUNT' }) }));
  });

  it('too many elements, and a counter out of range on decode', () => {
    const six = Array.from({ length: 6 }, () => ({ SKU: 'X', QTY: 1 }));
    expect(() => book.encode({ ITEMS: six })).toThrow(expect.objectContaining({ code: CopybookErrorCode.ARRAY_LENGTH, details: expect.objectContaining({ field: 'ORDER.ITEMS' }) }));
    expect(() => book.decode(hex('F0F0F0F1', '0006', 'C1C1'))).toThrow(expect.objectContaining({ code: CopybookErrorCode.ODO_OUT_OF_RANGE, details: expect.objectContaining({ field: 'ORDER.ITEMS', count: 6 }) }));
    expect(() => book.decode(hex('F0F0F0F1', 'FFFF', 'C1C1'))).toThrow(expect.objectContaining({ code: CopybookErrorCode.ODO_OUT_OF_RANGE }));
  });

  it('records too short or too long for their counts', () => {
    expect(() => book.decode(two.subarray(0, 16))).toThrow(expect.objectContaining({ code: CopybookErrorCode.RECORD_TOO_SHORT, details: expect.objectContaining({ field: 'ORDER.TRAILER' }) }));
    expect(() => book.decode(two.subarray(0, 12))).toThrow(expect.objectContaining({ code: CopybookErrorCode.RECORD_TOO_SHORT, details: expect.objectContaining({ field: 'ORDER.ITEMS' }) }));
    const longer = new Uint8Array([...two, 0x40]);
    expect(() => book.decode(longer)).toThrow(expect.objectContaining({ code: CopybookErrorCode.RECORD_TOO_LONG }));
    expect(book.decode(longer, { allowTrailingBytes: true })).toEqual(obj);
  });

  it('an excluded counter is still read and written', () => {
    const hidden = compileCopybook(src, { exclude: ['ITEM-COUNT'] });
    const { ITEM_COUNT: _, ...noCount } = obj;
    expect(hidden.decode(two)).toEqual(noCount);
    expect(toHex(hidden.encode(noCount))).toBe(toHex(two));
  });

  it('OCCURS n DEPENDING ON without a minimum assumes 1 (IBM)', () => {
    const b = compileCopybook('01 R. 05 N PIC 9. 05 T PIC X OCCURS 3 DEPENDING ON N.');
    expect(b.field('T')!.occurs).toEqual({ min: 1, max: 3, dependingOn: 'N' });
    expect(() => b.encode({ T: [] })).toThrow(expect.objectContaining({ code: CopybookErrorCode.ARRAY_LENGTH }));
    expect(toHex(b.encode({}))).toBe('F140'); // no array: the minimum, with defaults
  });

  it('unsupported ODO shapes are reported with their line', () => {
    expect(() => compileCopybook('01 R.\n 05 N PIC 9.\n 05 T OCCURS 2.\n  10 U PIC X OCCURS 1 TO 3 DEPENDING ON N.', { fileName: 'odo.cpy' })).toThrow(expect.objectContaining({ code: CopybookErrorCode.UNSUPPORTED, message: expect.stringMatching(/^odo\.cpy:4: /) }));
    expect(() => compileCopybook('01 R.\n 05 T PIC X OCCURS 1 TO 3 DEPENDING ON NOPE.')).toThrow(expect.objectContaining({ code: CopybookErrorCode.UNKNOWN_NAME, details: expect.objectContaining({ line: 2 }) }));
    expect(() => compileCopybook('01 R.\n 05 T PIC X OCCURS 1 TO 3 DEPENDING ON N.\n 05 N PIC 9.')).toThrow(expect.objectContaining({ code: CopybookErrorCode.UNKNOWN_NAME, message: expect.stringContaining('before the table') }));
    expect(() => compileCopybook('01 R.\n 05 N PIC X.\n 05 T PIC X OCCURS 1 TO 3 DEPENDING ON N.')).toThrow(expect.objectContaining({ code: CopybookErrorCode.BAD_CLAUSE }));
  });
});

describe('REDEFINES', () => {
  const src = `
01 MSG.
   05 KIND       PIC X.
   05 BODY       PIC X(6).
   05 BODY-NUM   REDEFINES BODY.
      10 AMOUNT  PIC S9(5)V99 COMP-3.
      10 FILLER  PIC X(2).
   05 BODY-DATE  REDEFINES BODY PIC 9(6).
   05 TAIL       PIC X.
`;

  it('default: the original definition only (spec §4.3)', () => {
    const book = compileCopybook(src);
    expect(book.size).toBe(8);
    expect(book.decode(hex('C1', 'C1C2C3C4C5C6', 'E9'))).toEqual({ KIND: 'A', BODY: 'ABCDEF', TAIL: 'Z' });
    expect(book.field('BODY-DATE')).toMatchObject({ offset: 1, size: 6, redefines: 'BODY', jsonName: null });
  });

  it('an option picks the alternative; encode fills the area and writes the chosen view', () => {
    const book = compileCopybook(src, { redefines: { BODY: 'BODY-NUM' } });
    const bytes = hex('D5', '0000150D', '4040', '40');
    expect(book.decode(bytes)).toEqual({ KIND: 'N', BODY_NUM: { AMOUNT: -1.5 }, TAIL: '' });
    expect(toHex(book.encode({ KIND: 'N', BODY_NUM: { AMOUNT: -1.5 } }))).toBe(toHex(bytes));
  });

  it('several views decode together; encode refuses JSON for two views of the same bytes', () => {
    const book = compileCopybook(src, { redefines: { BODY: ['BODY', 'BODY-DATE'] } });
    expect(book.decode(hex('C4', 'F2F0F2F6F0F1', '40'))).toEqual({ KIND: 'D', BODY: '202601', BODY_DATE: 202601, TAIL: '' });
    expect(toHex(book.encode({ KIND: 'D', BODY_DATE: 202601 }))).toBe('C4F2F0F2F6F0F140');
    expect(() => book.encode({ BODY: 'X', BODY_DATE: 1 })).toThrow(expect.objectContaining({ code: CopybookErrorCode.REDEFINES_CONFLICT }));
    const all = compileCopybook(src, { redefines: { BODY: '*' } });
    expect(all.jsonSchema()['properties']).toHaveProperty('BODY_NUM');
  });

  it('bad REDEFINES and bad options are reported', () => {
    expect(() => compileCopybook('01 R.\n 05 A PIC X.\n 05 B PIC X.\n 05 C REDEFINES A PIC X.')).toThrow(expect.objectContaining({ code: CopybookErrorCode.BAD_CLAUSE, details: expect.objectContaining({ line: 4 }) }));
    expect(() => compileCopybook('01 R.\n 05 C REDEFINES Q PIC X.')).toThrow(expect.objectContaining({ code: CopybookErrorCode.UNKNOWN_NAME }));
    expect(() => compileCopybook(src, { redefines: { BODY: 'TAIL' } })).toThrow(expect.objectContaining({ code: CopybookErrorCode.BAD_OPTION }));
    expect(() => compileCopybook(src, { redefines: { NOPE: '*' } })).toThrow(expect.objectContaining({ code: CopybookErrorCode.BAD_OPTION }));
    expect(() => compileCopybook(src, { exclude: ['NOPE'] })).toThrow(expect.objectContaining({ code: CopybookErrorCode.BAD_OPTION }));
  });
});

describe('groups, OCCURS, FILLER, names', () => {
  const src = `
01 CUST.
   05 NAME.
      10 FIRST-NAME PIC X(5).
      10 LAST-NAME  PIC X(5).
   05 PHONES OCCURS 2 TIMES.
      10 KIND PIC X.
      10 NUM  PIC 9(3).
   05 SCORES PIC S9(2) COMP-3 OCCURS 3.
   05 FILLER PIC X(2) VALUE 'ZZ'.
   05 STATUS-CODE PIC X.
      88 ACTIVE   VALUE 'A'.
      88 CLOSED   VALUES 'C' 'X' THRU 'Z'.
`;
  const book = compileCopybook(src);
  const bytes = hex(
    'C1D5D54040', 'C2D6C24040', //      NAME: FIRST-NAME 'ANN', LAST-NAME 'BOB' (5 + 5 bytes)
    'C8', 'F1F2F3', //                    PHONES(1): 'H', 123
    '40', 'F0F0F0', //                    PHONES(2): defaults (blank, zero)
    '001C', '002D', '000C', //            SCORES: +1, -2, default 0
    'E9E9', //                            FILLER VALUE 'ZZ'
    'C1', //                              STATUS-CODE 'A'
  );

  it('encodes nested groups, pads fixed OCCURS with defaults, fills FILLER from VALUE', () => {
    expect(book.size).toBe(10 + 8 + 6 + 2 + 1);
    expect(toHex(book.encode({ NAME: { FIRST_NAME: 'ANN', LAST_NAME: 'BOB' }, PHONES: [{ KIND: 'H', NUM: 123 }], SCORES: [1, -2], STATUS_CODE: 'A' }))).toBe(toHex(bytes));
  });

  it('decodes every occurrence and omits FILLER', () => {
    expect(book.decode(bytes)).toEqual({
      NAME: { FIRST_NAME: 'ANN', LAST_NAME: 'BOB' },
      PHONES: [{ KIND: 'H', NUM: 123 }, { KIND: '', NUM: 0 }],
      SCORES: [1, -2, 0],
      STATUS_CODE: 'A',
    });
  });

  it('level-88 condition names are reported on the field', () => {
    const f = book.field('STATUS-CODE')!;
    expect(f.conditions.map((c) => c.name)).toEqual(['ACTIVE', 'CLOSED']);
    expect(f.conditions[1]!.values).toEqual([{ from: { kind: 'string', value: 'C' } }, { from: { kind: 'string', value: 'X' }, thru: { kind: 'string', value: 'Z' } }]);
  });

  it('names: cobol, camel and per-field rename', () => {
    expect(Object.keys(compileCopybook(src, { names: 'cobol' }).decode(bytes))).toEqual(['NAME', 'PHONES', 'SCORES', 'STATUS-CODE']);
    const camel = compileCopybook(src, { names: 'camel', rename: { 'LAST-NAME': 'surname' } }).decode(bytes);
    expect(camel['name']).toEqual({ firstName: 'ANN', surname: 'BOB' });
    expect(camel).toHaveProperty('statusCode', 'A');
  });

  it('wrong JSON shapes are coded errors naming the field', () => {
    expect(() => book.encode({ NAME: 'x' })).toThrow(expect.objectContaining({ code: CopybookErrorCode.INVALID_VALUE, details: expect.objectContaining({ field: 'CUST.NAME' }) }));
    expect(() => book.encode({ PHONES: {} })).toThrow(expect.objectContaining({ code: CopybookErrorCode.INVALID_VALUE, details: expect.objectContaining({ field: 'CUST.PHONES' }) }));
    expect(() => book.encode({ SCORES: [1, 2, 3, 4] })).toThrow(expect.objectContaining({ code: CopybookErrorCode.ARRAY_LENGTH }));
    expect(() => book.encode(null as never)).toThrow(expect.objectContaining({ code: CopybookErrorCode.INVALID_VALUE }));
    expect(() => book.decode('abc' as never)).toThrow(expect.objectContaining({ code: CopybookErrorCode.INVALID_VALUE }));
  });

  it('duplicate JSON names in one object are refused', () => {
    expect(() => compileCopybook('01 R.\n 05 A-B PIC X.\n 05 A_B PIC X.')).toThrow(expect.objectContaining({ code: CopybookErrorCode.DUPLICATE_NAME, details: expect.objectContaining({ line: 3 }) }));
  });

  it('level 77, fragments without 01, and RENAMES', () => {
    const b77 = compileCopybook('       77  WS-COUNT PIC S9(3) COMP-3 VALUE +5.');
    expect(toHex(b77.encode({}))).toBe('005C');
    expect(b77.decode(hex('123D'))).toEqual({ WS_COUNT: -123 });
    const frag = compileCopybook('05 A PIC X.\n05 B PIC 9.', { implicitRecordName: 'FRAG' });
    expect(frag.name).toBe('FRAG');
    expect(frag.decode(hex('C1F7'))).toEqual({ A: 'A', B: 7 });
    const ren = compileCopybook('01 R.\n 05 A PIC X.\n 05 B PIC X.\n66 AB RENAMES A THRU B.');
    expect(ren.renames).toEqual([{ name: 'AB', from: 'A', thru: 'B', line: 4 }]);
    expect(ren.decode(hex('C1C2'))).toEqual({ A: 'A', B: 'B' });
    expect(() => compileCopybook('01 R.\n 05 A PIC X.\n66 AB RENAMES Q.')).toThrow(expect.objectContaining({ code: CopybookErrorCode.UNKNOWN_NAME, details: expect.objectContaining({ line: 3 }) }));
  });

  it('SYNC is accepted when no slack bytes are needed, refused otherwise', () => {
    expect(compileCopybook('01 R.\n 05 A PIC XX.\n 05 B PIC S9(4) COMP SYNC.').size).toBe(4);
    expect(() => compileCopybook('01 R.\n 05 A PIC X.\n 05 B PIC S9(4) COMP SYNC.')).toThrow(expect.objectContaining({ code: CopybookErrorCode.UNSUPPORTED, details: expect.objectContaining({ line: 3 }) }));
  });

  it('USAGE on a group applies to its items', () => {
    const b = compileCopybook('01 R.\n 05 G USAGE COMP-3.\n  10 A PIC S9(3).\n  10 B PIC S9(3).');
    expect(b.size).toBe(4);
    expect(toHex(b.encode({ G: { A: 1, B: -1 } }))).toBe('001C001D');
  });
});

describe('schemas', () => {
  const book = compileCopybook(`
01 R.
   05 NAME    PIC X(10).
   05 QTY     PIC S9(3) COMP-3.
   05 PRICE   PIC 9(5)V99.
   05 BIG     PIC S9(18) COMP.
   05 RATE    COMP-2.
   05 CNT     PIC 9(2) COMP.
   05 LINES   OCCURS 1 TO 4 DEPENDING ON CNT.
      10 TXT  PIC X(3).
`);

  it('JSON Schema 2020-12 with lengths, ranges, patterns and arrays', () => {
    const s = book.jsonSchema({ required: true });
    expect(s['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    const p = s['properties'] as Record<string, Record<string, unknown>>;
    expect(p['NAME']).toMatchObject({ type: 'string', maxLength: 10 });
    expect(p['QTY']).toMatchObject({ type: 'integer', minimum: -999, maximum: 999 });
    expect(p['PRICE']).toMatchObject({ type: 'number', minimum: 0, maximum: 99999.99 });
    expect(p['BIG']).toMatchObject({ type: 'string', pattern: '^-?\\d{1,18}$' });
    expect(new RegExp(p['BIG']!['pattern'] as string).test('-123456789012345678')).toBe(true);
    expect(p['RATE']).toMatchObject({ type: 'number' });
    expect(p['LINES']).toMatchObject({ type: 'array', minItems: 1, maxItems: 4, items: { type: 'object', properties: { TXT: { type: 'string', maxLength: 3 } } } });
    expect(s['required']).toEqual(['NAME', 'QTY', 'PRICE', 'BIG', 'RATE', 'CNT', 'LINES']);
    expect(s['additionalProperties']).toBe(false);
  });

  it('OpenAPI 3.0 schema object: no $schema, formats for floats and int64', () => {
    const s = book.openApiSchema();
    expect(s).not.toHaveProperty('$schema');
    const p = s['properties'] as Record<string, Record<string, unknown>>;
    expect(p['RATE']).toMatchObject({ type: 'number', format: 'double' });
    const big = compileCopybook('01 R. 05 BIG PIC S9(18) COMP.', { numbers: 'bigint' }).openApiSchema();
    expect((big['properties'] as Record<string, unknown>)['BIG']).toMatchObject({ type: 'integer', format: 'int64' });
  });
});
