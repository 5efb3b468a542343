/**
 * Reading hex dumps as people paste them: plain hex (`00 00 00 71 …` or `00000071…`), dumps with an
 * offset column (`0000  00 00 00 71 …`, the spec's style), `xxd` (`00000000: 0000 0071 …  ..q.P..`)
 * and `hexdump -C` (`00000000  00 00 00 71 …  |...q|`). Offsets and the ASCII column are dropped.
 */
import { CliError, CliErrorCode } from './errors.js';

/** Largest dump read (a 4 MiB message is far above any IMS Connect frame the CLI decodes). */
export const MAX_HEX_BYTES = 4 * 1024 * 1024;

/**
 * Parses a hex dump into bytes. A leading token of 4–8 hex digits followed by a colon or two blanks
 * is taken as an offset column only when it equals the number of bytes read so far (so plain hex is
 * never mistaken for offsets); after an offset, a run of two or more blanks ends the hex part (the
 * ASCII column of `xxd` / `hexdump -C`). @throws {CliError} `CLI_ERR_BAD_HEX`.
 */
export function parseHex(text: string): Uint8Array {
  const digits: string[] = [];
  let count = 0;
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n]!.replace(/\|.*\|\s*$/, '');
    const off = /^\s*(?:0x)?([0-9a-fA-F]{4,8})(:\s*|\s{2,}|\s*$)(.*)$/.exec(line);
    if (off && parseInt(off[1]!, 16) === count) {
      // xxd ("offset: groups  ascii") has no double blank inside its hex part; hexdump -C puts its
      // ASCII column between bars (removed above) and does have one.
      line = off[2]!.startsWith(':') ? (off[3]!.split(/\s{2,}/)[0] ?? '') : off[3]!;
      if (line.trim() === '' && off[2]!.trim() === '') continue; // closing offset line of hexdump -C
    }
    const cleaned = line.replace(/0x/gi, '').replace(/[\s,;:]/g, '');
    if (cleaned === '') continue;
    if (!/^[0-9a-fA-F]+$/.test(cleaned)) {
      const bad = /[^0-9a-fA-F]/.exec(cleaned)![0];
      throw new CliError(CliErrorCode.BAD_HEX, `line ${n + 1}: "${bad}" is not a hex digit`, { details: { line: n + 1 } });
    }
    if (cleaned.length % 2 !== 0) throw new CliError(CliErrorCode.BAD_HEX, `line ${n + 1}: odd number of hex digits (${cleaned.length})`, { details: { line: n + 1 } });
    count += cleaned.length / 2;
    if (count > MAX_HEX_BYTES) throw new CliError(CliErrorCode.BAD_HEX, `dump larger than ${MAX_HEX_BYTES} bytes`);
    digits.push(cleaned);
  }
  return Uint8Array.from(Buffer.from(digits.join(''), 'hex'));
}

/** Formats bytes as the spec's dumps: 16 per line, 4-digit hex offset, two blanks. */
export function hexDump(bytes: Uint8Array): string {
  const out: string[] = [];
  for (let o = 0; o < bytes.length; o += 16) {
    const row = [...bytes.subarray(o, o + 16)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(' ');
    out.push(`${o.toString(16).padStart(4, '0').toUpperCase()}  ${row}`);
  }
  return out.join('\n');
}
