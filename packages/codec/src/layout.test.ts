import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CP037, LATIN1, getCodePage } from './ebcdic.js';
import { CodecError } from './errors.js';
import { defineLayout, describeLayout, readCharField } from './layout.js';

const Sample = defineLayout('sample', [
  { name: 'len', kind: 'u16', ibm: 'X_LEN', doc: 'length' },
  { name: 'flag', kind: 'u8' },
  { name: 'big', kind: 'u32' },
  { name: 'id', kind: 'char', length: 8, ibm: 'X_ID' },
  { name: 'token', kind: 'bytes', length: 4 },
]);

describe('defineLayout', () => {
  it('resolves offsets and size', () => {
    expect(Sample.size).toBe(19);
    expect(Sample.fields.map((f) => [f.name, f.offset, f.length])).toEqual([
      ['len', 0, 2],
      ['flag', 2, 1],
      ['big', 3, 4],
      ['id', 7, 8],
      ['token', 15, 4],
    ]);
  });

  it('reads big-endian integers, EBCDIC text and raw bytes at an offset', () => {
    const bytes = Buffer.from('ff' + '0102' + '7f' + 'fedcba98' + '5ce2c1d4d7d3f15c' + 'deadbeef', 'hex');
    const v = Sample.read(bytes, 1, CP037);
    expect(v).toEqual({ len: 0x0102, flag: 0x7f, big: 0xfedcba98, id: '*SAMPL1*', token: Uint8Array.of(0xde, 0xad, 0xbe, 0xef) });
    expect(v.token).toBeInstanceOf(Uint8Array);
    // the returned bytes are a copy, not a view
    bytes[16] = 0;
    expect(v.token[0]).toBe(0xde);
  });

  it('writes byte-exact, padding text with the page blank and zero-filling short bytes', () => {
    const out = new Uint8Array(21).fill(0xaa);
    Sample.write({ len: 80, flag: 1, big: 0x80000001, id: 'IVTNO', token: Uint8Array.of(1, 2) }, out, 1, CP037);
    expect(Buffer.from(out).toString('hex')).toBe('aa' + '0050' + '01' + '80000001' + 'c9e5e3d5d6404040' + '01020000' + 'aa');
    const ascii = Sample.encode({ len: 0, flag: 0, big: 0, id: 'IVTNO', token: new Uint8Array(4) }, LATIN1);
    expect(Buffer.from(ascii.subarray(7, 15)).toString('hex')).toBe('4956544e4f202020');
  });

  it('rejects values that do not fit with IMS_ERR_INVALID_VALUE', () => {
    const ok = { len: 0, flag: 0, big: 0, id: '', token: new Uint8Array(4) };
    const cases: Array<Partial<typeof ok> | Record<string, unknown>> = [
      { len: 65536 },
      { len: -1 },
      { flag: 1.5 },
      { flag: 256 },
      { big: 2 ** 32 },
      { big: Number.NaN },
      { id: 'NINECHARS' },
      { id: 7 },
      { token: new Uint8Array(5) },
      { token: 'abcd' },
    ];
    for (const c of cases) {
      expect(() => Sample.encode({ ...ok, ...c } as typeof ok)).toThrowError(expect.objectContaining({ code: 'IMS_ERR_INVALID_VALUE' }));
    }
  });

  it('throws IMS_ERR_TRUNCATED instead of reading or writing out of bounds', () => {
    expect(() => Sample.read(new Uint8Array(18))).toThrowError(expect.objectContaining({ code: 'IMS_ERR_TRUNCATED' }));
    expect(() => Sample.read(new Uint8Array(19), 1)).toThrow(CodecError);
    expect(() => Sample.read(new Uint8Array(19), -1)).toThrow(CodecError);
    expect(() => Sample.write({ len: 0, flag: 0, big: 0, id: '', token: new Uint8Array(4) }, new Uint8Array(10))).toThrowError(
      expect.objectContaining({ code: 'IMS_ERR_TRUNCATED' }),
    );
  });

  it('rejects unsafe or duplicate field names and bad lengths', () => {
    expect(() => defineLayout('x', [{ name: 'a; evil()', kind: 'u8' }])).toThrow(CodecError);
    expect(() => defineLayout('x', [{ name: '__proto__', kind: 'u8' }])).toThrow(CodecError);
    expect(() => defineLayout('x', [{ name: 'a', kind: 'u8' }, { name: 'a', kind: 'u8' }])).toThrow(CodecError);
    expect(() => defineLayout('x', [{ name: 'a', kind: 'char' }])).toThrow(CodecError);
    expect(() => defineLayout('x', [{ name: 'a', kind: 'f64' as 'u8' }])).toThrow(CodecError);
  });

  it('the binary-parser Parser built from the same definition agrees with the fast reader', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 19, maxLength: 40 }), fc.constantFrom('cp037', 'cp500', 'latin1'), (bytes, pageName) => {
        const page = getCodePage(pageName);
        const off = bytes.length - 19;
        expect(Sample.parse(bytes, off, page)).toEqual(Sample.read(bytes, off, page));
      }),
      { numRuns: 200 },
    );
    expect(Sample.parser.sizeOf()).toBe(Sample.size);
  });

  it('write then read is the identity for values that fit', () => {
    const text = fc.string({ unit: fc.constantFrom(...'ABCXYZ0189#$@*'), maxLength: 8 });
    fc.assert(
      fc.property(
        fc.record({ len: fc.integer({ min: 0, max: 0xffff }), flag: fc.integer({ min: 0, max: 255 }), big: fc.integer({ min: 0, max: 0xffffffff }), id: text, token: fc.uint8Array({ minLength: 4, maxLength: 4 }) }),
        (v) => {
          expect(Sample.read(Sample.encode(v, CP037), 0, CP037)).toEqual(v);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('prints a field table', () => {
    const md = describeLayout(Sample, { base: 4 });
    expect(md).toContain("| 4 (X'04') | 2 | u16 | `len` | `X_LEN` | length |");
    expect(md).toContain("| 11 (X'0B') | 8 | char | `id` | `X_ID` |");
  });
});

describe('readCharField padding rules', () => {
  it('treats X00, X40 and X20 padding alike in EBCDIC', () => {
    expect(readCharField(Buffer.from('c9e5e3d5d6000000', 'hex'), 0, 8, CP037)).toBe('IVTNO');
    expect(readCharField(Buffer.from('c9e5e3d5d6202020', 'hex'), 0, 8, CP037)).toBe('IVTNO');
    expect(readCharField(Buffer.from('c9e5e3d5d6404000', 'hex'), 0, 8, CP037)).toBe('IVTNO');
    expect(readCharField(new Uint8Array(8), 0, 8, CP037)).toBe('');
  });

  it('keeps a trailing @ in ASCII names but treats an all-X40 field as blank', () => {
    expect(readCharField(Buffer.from('USER@   '), 0, 8, LATIN1)).toBe('USER@');
    expect(readCharField(Buffer.from('USER@\0\0\0', 'latin1'), 0, 8, LATIN1)).toBe('USER@');
    expect(readCharField(Buffer.from('@@@@@@@@'), 0, 8, LATIN1)).toBe('');
    expect(readCharField(Buffer.from('IVTNO\0\0\0', 'latin1'), 0, 8, LATIN1)).toBe('IVTNO');
  });

  it('decodes long fields through the page', () => {
    const bytes = CP037.encode('A LONGER FIELD THAN SIXTEEN');
    expect(readCharField(bytes, 0, bytes.length, CP037)).toBe('A LONGER FIELD THAN SIXTEEN');
  });
});

describe('layout transforms and extra properties', () => {
  const Flags = defineLayout(
    'flags',
    [
      { name: 'bits', kind: 'u8', transform: { decode: (v: number) => ({ raw: v, high: (v & 0x80) !== 0 }), encode: (f: { raw: number; high: boolean }) => (f.raw & 0x7f) | (f.high ? 0x80 : 0) } },
      { name: 'n', kind: 'u16' },
    ],
    { extra: { kind: 'flags', later: null } },
  );

  it('maps integer fields through the transform in the reader, the writer and the binary-parser parser', () => {
    const v = Flags.read(Uint8Array.of(0x81, 0, 5));
    expect(v).toEqual({ bits: { raw: 0x81, high: true }, n: 5, kind: 'flags', later: null });
    expect(Flags.parse(Uint8Array.of(0x81, 0, 5))).toEqual({ bits: { raw: 0x81, high: true }, n: 5 });
    v.bits.high = false;
    expect([...Flags.encode(v)]).toEqual([0x01, 0, 5]);
  });

  it('rejects a transform on a text field and clashing extras', () => {
    const t = { decode: (v: number) => v, encode: (v: number) => v };
    expect(() => defineLayout('x', [{ name: 'a', kind: 'char', length: 2, transform: t }])).toThrow(CodecError);
    expect(() => defineLayout('x', [{ name: 'a', kind: 'u8' }], { extra: { a: 1 } })).toThrow(CodecError);
    expect(() => defineLayout('x', [{ name: 'a', kind: 'u8' }], { extra: { b: {} as never } })).toThrow(CodecError);
  });
});
