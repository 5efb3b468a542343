import { describe, expect, it } from 'vitest';
import { analysePicture, compileCopybook, CopybookError, CopybookErrorCode, parseCopybook } from '../src/index.js';
import { toHex } from './helpers.js';

const fixed = (seq: string, ind: string, area: string, ident = ''): string => (seq.padEnd(6) + ind + area).padEnd(72) + ident;

describe('reference format', () => {
  it('fixed: sequence area, comment and debug lines, identification columns 73-80', () => {
    const src = [
      fixed('000100', '*', ' A COMMENT THAT SAYS 05 X PIC 9.'),
      fixed('000200', '/', ' PAGE EJECT COMMENT'),
      fixed('000300', ' ', ' 01  REC.', 'PROG0001'),
      fixed('000400', 'D', '     05  DEBUG-ONLY PIC X.'),
      fixed('000500', ' ', '     05  A  PIC X(3).', 'PROG0002'),
      fixed('000600', ' ', '     05  B  PIC 9(2).   *> inline comment'),
    ].join('\n');
    const p = parseCopybook(src);
    expect(p.format).toBe('fixed');
    expect(p.records[0]!.children.map((c) => [c.name, c.line])).toEqual([
      ['A', 5],
      ['B', 6],
    ]);
  });

  it('fixed: a literal continued onto the next line runs to column 72', () => {
    const line1 = fixed('000100', ' ', "     05  MSG PIC X(80) VALUE 'ABC");
    const src = [fixed('000050', ' ', ' 01  REC.'), line1, fixed('000200', '-', "        'DEF'.")].join('\n');
    const expected = line1.slice(line1.indexOf("'ABC") + 1, 72) + 'DEF';
    const book = compileCopybook(src);
    expect(book.decode(book.encode({}))).toEqual({ MSG: expected });
    expect(expected.startsWith('ABC   ')).toBe(true);
  });

  it('fixed: a word continued onto the next line', () => {
    const src = [fixed('', ' ', ' 01  REC.'), fixed('', ' ', '     05  LONG-NA'), fixed('', '-', '    ME PIC X.')].join('\n');
    expect(parseCopybook(src).records[0]!.children[0]!.name).toBe('LONG-NAME');
  });

  it('free format without sequence numbers, * comment lines and tabs', () => {
    const src = '* header comment\n01 REQ.\n\t05 A PIC X.   *> trailing\n   05 B PIC 9.\n';
    const p = parseCopybook(src, { format: 'auto' });
    expect(p.format).toBe('free');
    expect(p.records[0]!.children.map((c) => c.name)).toEqual(['A', 'B']);
  });

  it('lower-case source and a missing final period are tolerated', () => {
    const b = compileCopybook('01 rec.\n   05 acct-id pic 9(3).\n   05 amt pic s9(3)v9 comp-3');
    expect(b.decode(Uint8Array.of(0xf0, 0xf4, 0xf2, 0x01, 0x23, 0x4d))).toEqual({ ACCT_ID: 42, AMT: -123.4 });
  });
});

describe('clauses', () => {
  it('level-88 values with THRU, figurative constants and numbers', () => {
    const p = parseCopybook("01 R.\n 05 C PIC 9(2).\n  88 SMALL VALUE 1 THRU 9, 20.\n  88 NONE VALUE ZERO.\n 05 X PIC X(3) VALUE ALL '*'.");
    const c = p.records[0]!.children[0]!;
    expect(c.conditions[0]!.values).toEqual([{ from: { kind: 'number', text: '1' }, thru: { kind: 'number', text: '9' } }, { from: { kind: 'number', text: '20' } }]);
    expect(c.conditions[1]!.values).toEqual([{ from: { kind: 'figurative', name: 'ZERO' } }]);
    expect(toHex(compileCopybook("01 R.\n 05 X PIC X(3) VALUE ALL '*'.\n 05 Y PIC X(2) VALUE X'C1C2'.\n 05 Z PIC 9(2) VALUE ZEROS.\n 05 H PIC X VALUE HIGH-VALUES.").encode({}))).toBe('5C5C5C' + 'C1C2' + 'F0F0' + 'FF');
  });

  it('OCCURS with KEY and INDEXED BY phrases', () => {
    const p = parseCopybook('01 R.\n 05 T OCCURS 3 TIMES ASCENDING KEY IS K INDEXED BY IX1 IX2.\n  10 K PIC X.');
    expect(p.records[0]!.children[0]!.occurs).toEqual({ min: 3, max: 3, fixed: true });
  });

  it('SYNC, JUSTIFIED, BLANK WHEN ZERO, GLOBAL are accepted', () => {
    const p = parseCopybook('01 R GLOBAL.\n 05 A PIC X(3) JUST RIGHT.\n 05 B PIC 9(3) BLANK ZERO.\n 05 C PIC S9(4) COMP SYNCHRONIZED LEFT.\n 05 D PIC S9(4) COMP-5 SYNC.');
    const [a, b, c] = p.records[0]!.children;
    expect([a!.justified, b!.blankWhenZero, c!.sync]).toEqual([true, true, true]);
  });
});

describe('errors carry file:line', () => {
  const cases: Array<[string, string, string, number]> = [
    ['bad PICTURE repetition', '01 R.\n 05 A PIC X(0).', CopybookErrorCode.BAD_PICTURE, 2],
    ['unknown PICTURE symbol', '01 R.\n 05 A PIC 9Q.', CopybookErrorCode.BAD_PICTURE, 2],
    ['missing period', '01 R.\n 05 A PIC X\n 05 B PIC X.', CopybookErrorCode.SYNTAX, 3],
    ['unsupported USAGE', '01 R.\n 05 A USAGE POINTER.', CopybookErrorCode.UNSUPPORTED, 2],
    ['COPY statement', '01 R.\n COPY OTHER.', CopybookErrorCode.UNSUPPORTED, 2],
    ['COMP-3 on PIC X', '01 R.\n 05 A PIC X(3) COMP-3.', CopybookErrorCode.BAD_PICTURE, 2],
    ['PICTURE on COMP-2', '01 R.\n 05 A PIC 9 COMP-2.', CopybookErrorCode.BAD_PICTURE, 2],
    ['child of an elementary item', '01 R.\n 05 A PIC X.\n  10 B PIC X.', CopybookErrorCode.BAD_LEVEL, 3],
    ['level out of range', '01 R.\n 50 A PIC X.', CopybookErrorCode.BAD_LEVEL, 2],
    ['unclosed literal', "01 R.\n 05 A PIC X VALUE 'AB.", CopybookErrorCode.SYNTAX, 2],
    ['88 without VALUE', '01 R.\n 05 A PIC X.\n  88 ON-FLAG.', CopybookErrorCode.SYNTAX, 3],
    ['elementary without PICTURE', '01 R.\n 05 A.\n 05 B PIC X.', CopybookErrorCode.BAD_PICTURE, 2],
    ['SIGN on unsigned', '01 R.\n 05 A PIC 9(3) SIGN LEADING.', CopybookErrorCode.BAD_CLAUSE, 2],
    ['OCCURS TO without DEPENDING', '01 R.\n 05 A PIC X OCCURS 1 TO 5.', CopybookErrorCode.BAD_CLAUSE, 2],
    ['unexpected word', '01 R.\n 05 A PIC X BANANA.', CopybookErrorCode.SYNTAX, 2],
    ['binary over 18 digits', '01 R.\n 05 A PIC 9(19) COMP.', CopybookErrorCode.BAD_PICTURE, 2],
    ['VALUE too long', "01 R.\n 05 A PIC X(2) VALUE 'ABC'.", CopybookErrorCode.BAD_CLAUSE, 2],
    ['VALUE not numeric', "01 R.\n 05 A PIC 9(2) VALUE 'AB'.", CopybookErrorCode.BAD_CLAUSE, 2],
  ];
  it.each(cases)('%s', (_name, src, code, line) => {
    let err: unknown;
    try {
      compileCopybook(src, { fileName: 'BOOK.cpy' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CopybookError);
    const e = err as CopybookError;
    expect(e.code).toBe(code);
    expect(e.details['line']).toBe(line);
    expect(e.details['file']).toBe('BOOK.cpy');
    expect(e.message.startsWith(`BOOK.cpy:${line}: `)).toBe(true);
  });

  it('without a file name the message starts with "line N:"', () => {
    expect(() => compileCopybook('01 R.\n 05 A PIC X(0).')).toThrow(/^line 2: /);
  });

  it('an invalid indicator in explicit fixed format', () => {
    expect(() => parseCopybook('000100X01 R.', { format: 'fixed' })).toThrow(expect.objectContaining({ code: CopybookErrorCode.SYNTAX, details: expect.objectContaining({ line: 1 }) }));
  });

  it('no records, and an unknown record name', () => {
    expect(() => compileCopybook('      * only a comment')).toThrow(expect.objectContaining({ code: CopybookErrorCode.NO_RECORD }));
    expect(() => compileCopybook('01 A PIC X.', { record: 'B' })).toThrow(expect.objectContaining({ code: CopybookErrorCode.NO_RECORD }));
  });

  it('bad options', () => {
    expect(() => compileCopybook('01 A PIC X.', { names: 'snake' as never })).toThrow(expect.objectContaining({ code: CopybookErrorCode.BAD_OPTION }));
    expect(() => compileCopybook('01 A PIC X.', { codePage: 'cp9999' })).toThrow(expect.objectContaining({ code: 'IMS_ERR_BAD_CODE_PAGE' }));
    expect(() => compileCopybook('01 R. 05 A PIC X(100) OCCURS 100.', { maxRecordSize: 5000 })).toThrow(expect.objectContaining({ code: CopybookErrorCode.RECORD_TOO_LARGE }));
  });
});

describe('analysePicture', () => {
  it.each([
    ['S9(5)V99', 'numeric', 7, 2, true, 7],
    ['9(3)PP', 'numeric', 3, -2, false, 3],
    ['PPP99', 'numeric', 2, 5, false, 2],
    ['SVPP9', 'numeric', 1, 3, true, 1],
    ['X(10)', 'alphanumeric', 0, 0, false, 10],
    ['A(3)', 'alphabetic', 0, 0, false, 3],
    ['XXBXX', 'alphanumeric-edited', 0, 0, false, 5],
    ['ZZ9.99', 'numeric-edited', 0, 0, false, 6],
    ['$$,$$9.99CR', 'numeric-edited', 0, 0, false, 11],
  ] as const)('%s', (pic, category, digits, scale, signed, length) => {
    const p = analysePicture(pic);
    expect([p.category, p.digits, p.scale, p.signed, p.displayLength]).toEqual([category, digits, scale, signed, length]);
  });

  it.each(['S9S9', 'X(', '9V9V9', 'Q', '9P9P', 'NNN', 'X(3)V9'])('rejects %s', (pic) => {
    expect(() => analysePicture(pic)).toThrow();
  });
});
