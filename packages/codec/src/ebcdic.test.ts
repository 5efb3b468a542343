import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CP037, codePageNames, decodeField, getCodePage, isBlankField, registerCodePage } from './ebcdic.js';
import { CodecError } from './errors.js';

const cptable = createRequire(import.meta.url)('codepage') as Record<number, { dec: string[] }>;

describe('EBCDIC code pages against the codepage package', () => {
  for (const n of [37, 500, 1047, 1140]) {
    it(`cp${String(n).padStart(3, '0')} decodes and encodes all 256 bytes like codepage`, () => {
      const page = getCodePage(n);
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      const expected = Array.from({ length: 256 }, (_, i) => cptable[n]!.dec[i]).join('');
      expect(page.decode(all)).toBe(expected);
      for (let b = 0; b < 256; b++) expect(page.decode(all, b, b + 1)).toBe(expected[b]);
      expect(Buffer.from(page.encode(expected)).equals(Buffer.from(all))).toBe(true);
    });
  }

  it('differs between pages exactly where IBM says (brackets, !, |, euro)', () => {
    const [c37, c500, c1047, c1140] = ['cp037', 'cp500', 'cp1047', 'cp1140'].map((n) => getCodePage(n));
    expect([...c37!.encode('[]')]).toEqual([0xba, 0xbb]);
    expect([...c1047!.encode('[]')]).toEqual([0xad, 0xbd]);
    expect([...c500!.encode('[]!|')]).toEqual([0x4a, 0x5a, 0x4f, 0xbb]);
    expect([...c1140!.encode('€')]).toEqual([0x9f]);
    expect([...c37!.encode('€')]).toEqual([0x3f]);
  });

  it('encodes the IMS control IDs identically in every EBCDIC page', () => {
    for (const name of ['cp037', 'cp500', 'cp1047', 'cp1140']) {
      expect(Buffer.from(getCodePage(name).encode('*SAMPL1*')).toString('hex')).toBe('5ce2c1d4d7d3f15c');
    }
  });

  it('round-trips arbitrary Latin-1 text through every page', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 300 }), (s) => {
        for (const name of ['cp037', 'cp500', 'cp1047']) {
          const p = getCodePage(name);
          expect(p.decode(p.encode(s))).toBe(s);
        }
      }),
    );
  });
});

describe('code page registry', () => {
  it('accepts IBM spellings of names', () => {
    for (const n of ['037', 'CP037', 'IBM-037', 'ccsid 37', 37, 'ebcdic']) expect(getCodePage(n).name).toBe('cp037');
    expect(getCodePage('ascii').name).toBe('latin1');
    expect(codePageNames()).toEqual(expect.arrayContaining(['cp037', 'cp500', 'cp1047', 'cp1140', 'latin1']));
  });

  it('rejects an unknown page with a coded error', () => {
    expect(() => getCodePage('cp9999')).toThrowError(expect.objectContaining({ code: 'IMS_ERR_BAD_CODE_PAGE' }));
  });

  it('registers a custom page', () => {
    const table = Array.from({ length: 256 }, (_, i) => CP037.chars[i]!.charCodeAt(0));
    table[0x4a] = 0x00a3; // a site page with £ at X'4A'
    const page = registerCodePage('cp9285', table);
    expect(page.ebcdic).toBe(true);
    expect([...getCodePage('9285').encode('£A')]).toEqual([0x4a, 0xc1]);
    expect(() => registerCodePage('bad', [1, 2, 3])).toThrow(CodecError);
  });

  it('pads and trims fixed fields', () => {
    const buf = new Uint8Array(8);
    CP037.encodeInto('IVTNO', buf, 0, 8);
    expect(Buffer.from(buf).toString('hex')).toBe('c9e5e3d5d6404040');
    expect(decodeField(buf, 0, 8, CP037)).toBe('IVTNO');
    expect(decodeField(Uint8Array.of(0xc1, 0, 0, 0), 0, 4, CP037)).toBe('A');
    expect(isBlankField(Uint8Array.of(0, 0x40, 0x20), 0, 3)).toBe(true);
    expect(() => CP037.encodeInto('TOOLONGNAME', buf, 0, 8)).toThrowError(expect.objectContaining({ code: 'IMS_ERR_INVALID_VALUE' }));
  });
});
