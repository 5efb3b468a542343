/** Test helpers: a naive hex builder, independent of the code under test. */

/** Bytes from hex strings; spaces and `|` separators are ignored. */
export function hex(...parts: string[]): Uint8Array {
  const s = parts.join('').replace(/[\s|]/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(s)) throw new Error(`bad hex: ${s}`);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** `n` copies of a byte, as hex. */
export const rep = (byteHex: string, n: number): string => byteHex.repeat(n);

/** Uppercase hex of bytes, for readable assertion diffs. */
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
