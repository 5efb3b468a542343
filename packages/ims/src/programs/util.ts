import type { ProgramContext } from '../program.js';

/** Fixed-width text field: padded with blanks, cut at `width`. */
export function fixed(text: string, width: number): string {
  return text.length >= width ? text.slice(0, width) : text + ' '.repeat(width - text.length);
}

/** The segment's text after an 8-byte transaction code (when the segment starts with `tran`). */
export function afterTrancode(ctx: ProgramContext, seg: Uint8Array, tran: string): string {
  const text = ctx.text(seg);
  const head = text.slice(0, 8).trimEnd();
  if (head.toUpperCase() === tran || text.toUpperCase().startsWith(tran + ' ')) return text.slice(Math.max(8, tran.length + 1)).replace(/^ /, '');
  if (text.toUpperCase() === tran) return '';
  return text;
}

/** All remaining segments of the input message (after GU). */
export async function readRest(ctx: ProgramContext): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (;;) {
    const r = await ctx.io.gn();
    if (r.status !== '  ' || !r.data) return out;
    out.push(r.data);
  }
}
