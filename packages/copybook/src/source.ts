/**
 * Copybook text → tokens. Handles IBM fixed format (columns 1–6 sequence area, column 7 indicator:
 * `*` and `/` comment lines, `D` debugging lines (treated as comments), `-` continuation, area A+B
 * columns 8–72, columns 73–80 ignored) and free format (no columns; a line whose first non-blank
 * character is `*` is a comment). `*>` starts an inline comment in both formats.
 */
import { CopybookErrorCode, sourceError } from './errors.js';

/** Reference format of the copybook text. `auto` (default) detects it from the text. */
export type SourceFormat = 'auto' | 'fixed' | 'free';

/** A token of the copybook text, with the (1-based) line it starts on. */
export type Token =
  | { readonly type: 'word'; readonly text: string; readonly upper: string; readonly line: number }
  | { readonly type: 'string'; readonly value: string; readonly line: number }
  | { readonly type: 'hex'; readonly bytes: Uint8Array; readonly line: number }
  | { readonly type: 'period'; readonly line: number };

const INDICATORS = new Set([' ', '*', '/', '-', 'D', 'd']);

function expandTabs(line: string): string {
  if (!line.includes('\t')) return line;
  let out = '';
  for (const ch of line) {
    if (ch === '\t') out += ' '.repeat(8 - (out.length % 8));
    else out += ch;
  }
  return out;
}

/**
 * Detect the reference format. Fixed when every non-blank line either is a bare sequence number
 * (shorter than 7 columns) or has a valid indicator in column 7 — unless no line uses the sequence
 * area and some line has text past column 72, which only free format allows.
 */
export function detectFormat(lines: readonly string[]): 'fixed' | 'free' {
  let seqUsed = false;
  let pastCol72 = false;
  for (const line of lines) {
    if (line.trim() === '') continue;
    if (line.length < 7) {
      if (!/^[0-9 ]*$/.test(line)) return 'free';
      seqUsed = true;
      continue;
    }
    if (!INDICATORS.has(line[6]!)) return 'free';
    if (line.slice(0, 6).trim() !== '') seqUsed = true;
    if (line.length > 72 && line.slice(72).trim() !== '') pastCol72 = true;
  }
  return pastCol72 && !seqUsed ? 'free' : 'fixed';
}

/** Quote state after scanning `text` from `open` (null = outside a literal). Stops at `*>`. */
function quoteState(text: string, open: string | null): string | null {
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (open) {
      if (c === open) open = null; // a doubled quote closes and reopens: same end state
    } else if (c === "'" || c === '"') open = c;
    else if (c === '*' && text[i + 1] === '>') break;
  }
  return open;
}

/** The logical text of a copybook (comments removed, continuations joined) with a line map. */
export interface LogicalText {
  readonly text: string;
  readonly format: 'fixed' | 'free';
  lineAt(pos: number): number;
}

/** Turn source text into logical text. */
export function toLogicalText(source: string, format: SourceFormat, file?: string): LogicalText {
  const lines = source.replace(/\r\n?/g, '\n').split('\n').map(expandTabs);
  const fmt = format === 'auto' ? detectFormat(lines) : format;
  let text = '';
  const starts: number[] = [];
  const lineNos: number[] = [];
  let open: string | null = null; // quote state at the end of `text`
  const push = (chunk: string, lineNo: number, sep: boolean): void => {
    if (sep && text.length > 0) text += '\n';
    starts.push(text.length);
    lineNos.push(lineNo);
    text += chunk;
    open = quoteState(chunk, open);
  };
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    if (fmt === 'free') {
      const t = raw.trimStart();
      if (t.startsWith('*') || raw.startsWith('/')) return;
      push(raw, lineNo, true);
      return;
    }
    if (raw.length < 7) return; // sequence number only, or empty
    const ind = raw[6]!;
    if (!INDICATORS.has(ind)) throw sourceError(CopybookErrorCode.SYNTAX, file, lineNo, `invalid indicator '${ind}' in column 7 (fixed format)`);
    if (ind === '*' || ind === '/' || ind === 'D' || ind === 'd') return;
    const area = raw.slice(7, 72);
    if (ind !== '-') {
      push(area, lineNo, true);
      return;
    }
    // Continuation line.
    const body = area.trimStart();
    if (body === '') return;
    if (open) {
      // The continued literal runs to column 72 of the previous line; the continuation line
      // resumes it after its first quote.
      const lastStart = starts[starts.length - 1] ?? 0;
      const prevLen = text.length - lastStart;
      if (prevLen < 65) text += ' '.repeat(65 - prevLen);
      if (body[0] !== open) throw sourceError(CopybookErrorCode.SYNTAX, file, lineNo, `a continued literal must resume with ${open} on the continuation line`);
      const quote = open;
      push(body.slice(1), lineNo, false);
      // push() scanned the chunk as if outside a literal; rescan it from inside the open literal.
      open = quoteState(body.slice(1), quote);
    } else {
      text = text.replace(/[ ]+$/, '');
      push(body, lineNo, false);
    }
  });
  const lineAt = (pos: number): number => {
    let lo = 0;
    let hi = starts.length - 1;
    if (hi < 0) return 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lineNos[lo]!;
  };
  return { text, format: fmt, lineAt };
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\n' || c === '\t' || c === '\r' || c === '\f';

/** Split logical text into tokens. */
export function tokenize(lt: LogicalText, file?: string): Token[] {
  const { text } = lt;
  const out: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === '*' && text[i + 1] === '>') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if ((c === ',' || c === ';') && (i + 1 >= n || isSpace(text[i + 1]))) {
      i++;
      continue;
    }
    if (c === '.' && (i + 1 >= n || isSpace(text[i + 1]))) {
      out.push({ type: 'period', line: lt.lineAt(i) });
      i++;
      continue;
    }
    const line = lt.lineAt(i);
    let prefix = '';
    let q = c;
    if ((c === 'X' || c === 'x' || c === 'N' || c === 'n' || c === 'G' || c === 'g' || c === 'Z' || c === 'z') && (text[i + 1] === "'" || text[i + 1] === '"')) {
      prefix = c.toUpperCase();
      q = text[i + 1]!;
      i++;
    }
    if (q === "'" || q === '"') {
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= n || text[j] === '\n') throw sourceError(CopybookErrorCode.SYNTAX, file, line, 'literal is not closed on its line (use a continuation line with - in column 7)');
        if (text[j] === q) {
          if (text[j + 1] === q) {
            value += q;
            j += 2;
            continue;
          }
          break;
        }
        value += text[j];
        j++;
      }
      i = j + 1;
      if (prefix === 'N' || prefix === 'G') throw sourceError(CopybookErrorCode.UNSUPPORTED, file, line, `${prefix}-literals (national/DBCS) are not supported`);
      if (prefix === 'X') {
        if (!/^(?:[0-9A-Fa-f]{2})*$/.test(value)) throw sourceError(CopybookErrorCode.SYNTAX, file, line, `hexadecimal literal X'${value}' needs an even number of hex digits`);
        const bytes = new Uint8Array(value.length / 2);
        for (let k = 0; k < bytes.length; k++) bytes[k] = parseInt(value.slice(2 * k, 2 * k + 2), 16);
        out.push({ type: 'hex', bytes, line });
      } else {
        out.push({ type: 'string', value, line });
      }
      continue;
    }
    let j = i;
    while (j < n && !isSpace(text[j])) {
      if (text[j] === '*' && text[j + 1] === '>') break;
      j++;
    }
    let word = text.slice(i, j);
    i = j;
    let period = false;
    if (word.endsWith('.')) {
      word = word.slice(0, -1);
      period = true;
    }
    while (word.endsWith(',') || word.endsWith(';')) word = word.slice(0, -1);
    if (word.length > 0) out.push({ type: 'word', text: word, upper: word.toUpperCase(), line });
    if (period) out.push({ type: 'period', line });
  }
  return out;
}
