/**
 * Data description entries → a tree of records. No layout here: see compile.ts.
 */
import { CopybookError, CopybookErrorCode, sourceError } from './errors.js';
import { type SourceFormat, type Token, tokenize, toLogicalText } from './source.js';

/** USAGE of an elementary item, normalised (COMPUTATIONAL-n → COMP-n, COMP-4/COMPUTATIONAL → BINARY). */
export type Usage = 'DISPLAY' | 'BINARY' | 'COMP-5' | 'PACKED-DECIMAL' | 'COMP-1' | 'COMP-2';

/** A literal of a VALUE clause. */
export type Literal =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'hex'; readonly bytes: Uint8Array }
  | { readonly kind: 'number'; readonly text: string }
  | { readonly kind: 'figurative'; readonly name: 'ZERO' | 'SPACE' | 'LOW-VALUE' | 'HIGH-VALUE' | 'QUOTE' | 'NULL' }
  | { readonly kind: 'all'; readonly value: string };

/** One VALUE (or `a THRU b` range) of a level-88 condition name. */
export interface ConditionValue {
  readonly from: Literal;
  readonly thru?: Literal;
}

/** A level-88 condition name. No storage: reported in the field list and in the schema. */
export interface Condition {
  readonly name: string;
  readonly values: readonly ConditionValue[];
  readonly line: number;
}

/** A level-66 RENAMES entry (no storage). */
export interface Renames {
  readonly name: string;
  readonly from: string;
  readonly thru?: string;
  readonly line: number;
}

/** A data description entry (level 01–49 or 77), with its subordinate entries. */
export interface DataItem {
  readonly level: number;
  /** Data name as written (`FILLER` when FILLER or omitted). */
  readonly name: string;
  readonly filler: boolean;
  readonly line: number;
  readonly picture?: string;
  /** USAGE as declared on this entry (inherited usage is applied when compiling). */
  readonly usage?: Usage;
  readonly sign?: { readonly position: 'leading' | 'trailing'; readonly separate: boolean };
  readonly occurs?: { readonly min: number; readonly max: number; readonly dependingOn?: string; readonly fixed: boolean };
  readonly redefines?: string;
  readonly value?: Literal;
  readonly sync: boolean;
  readonly justified: boolean;
  readonly blankWhenZero: boolean;
  readonly conditions: Condition[];
  readonly children: DataItem[];
}

/** Every record (level 01/77 item, or the implicit record of a fragment) of a copybook. */
export interface ParsedCopybook {
  readonly format: 'fixed' | 'free';
  readonly records: readonly DataItem[];
  readonly renames: readonly Renames[];
}

/** Options of `parseCopybook`. */
export interface ParseOptions {
  /** Name used in error messages (`file:line: …`). */
  fileName?: string;
  /** Reference format; `auto` (default) detects it. */
  format?: SourceFormat;
  /** Name of the implicit record that wraps a fragment without a level-01 item (default `RECORD`). */
  implicitRecordName?: string;
}

const FIGURATIVE: Record<string, Literal & { kind: 'figurative' }> = {};
for (const [words, name] of [
  [['ZERO', 'ZEROS', 'ZEROES'], 'ZERO'],
  [['SPACE', 'SPACES'], 'SPACE'],
  [['LOW-VALUE', 'LOW-VALUES'], 'LOW-VALUE'],
  [['HIGH-VALUE', 'HIGH-VALUES'], 'HIGH-VALUE'],
  [['QUOTE', 'QUOTES'], 'QUOTE'],
  [['NULL', 'NULLS'], 'NULL'],
] as const) {
  for (const w of words) FIGURATIVE[w] = { kind: 'figurative', name };
}

const USAGES: Record<string, Usage> = {
  DISPLAY: 'DISPLAY',
  COMP: 'BINARY',
  COMPUTATIONAL: 'BINARY',
  'COMP-4': 'BINARY',
  'COMPUTATIONAL-4': 'BINARY',
  BINARY: 'BINARY',
  'COMP-5': 'COMP-5',
  'COMPUTATIONAL-5': 'COMP-5',
  'COMP-3': 'PACKED-DECIMAL',
  'COMPUTATIONAL-3': 'PACKED-DECIMAL',
  'PACKED-DECIMAL': 'PACKED-DECIMAL',
  'COMP-1': 'COMP-1',
  'COMPUTATIONAL-1': 'COMP-1',
  'COMP-2': 'COMP-2',
  'COMPUTATIONAL-2': 'COMP-2',
};
const UNSUPPORTED_USAGES = new Set(['INDEX', 'POINTER', 'POINTER-32', 'FUNCTION-POINTER', 'PROCEDURE-POINTER', 'NATIONAL', 'DISPLAY-1', 'UTF-8', 'OBJECT', 'COMP-6', 'COMPUTATIONAL-6', 'FLOAT-SHORT', 'FLOAT-LONG', 'FLOAT-EXTENDED']);

const CLAUSE_WORDS = new Set([
  'PIC', 'PICTURE', 'USAGE', 'VALUE', 'VALUES', 'OCCURS', 'REDEFINES', 'SIGN', 'LEADING', 'TRAILING', 'SYNC', 'SYNCHRONIZED',
  'JUST', 'JUSTIFIED', 'BLANK', 'GLOBAL', 'EXTERNAL', 'RENAMES', 'IS', 'ARE', 'INDEXED', 'ASCENDING', 'DESCENDING', 'DEPENDING', 'TIMES', 'TO', 'THRU', 'THROUGH',
  ...Object.keys(USAGES), ...UNSUPPORTED_USAGES,
]);

const NUMERIC_LITERAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;
const NAME = /^[A-Z0-9]+(?:[-_]+[A-Z0-9]+)*$/i;

interface Mutable {
  level: number;
  name: string;
  filler: boolean;
  line: number;
  picture?: string;
  usage?: Usage;
  sign?: { position: 'leading' | 'trailing'; separate: boolean };
  occurs?: { min: number; max: number; dependingOn?: string; fixed: boolean };
  redefines?: string;
  value?: Literal;
  sync: boolean;
  justified: boolean;
  blankWhenZero: boolean;
  conditions: Condition[];
  children: Mutable[];
}

class Parser {
  private i = 0;
  constructor(
    private readonly toks: readonly Token[],
    private readonly file: string | undefined,
  ) {}

  err(code: CopybookErrorCode, line: number, what: string): CopybookError {
    return sourceError(code, this.file, line, what);
  }
  peek(): Token | undefined {
    return this.toks[this.i];
  }
  lastLine(): number {
    return this.toks[Math.min(this.i, this.toks.length - 1)]?.line ?? 1;
  }
  peekWord(): string | undefined {
    const t = this.toks[this.i];
    return t?.type === 'word' ? t.upper : undefined;
  }
  next(): Token | undefined {
    return this.toks[this.i++];
  }
  /** Consume the word if it is one of `words`. */
  opt(...words: string[]): string | undefined {
    const w = this.peekWord();
    if (w !== undefined && words.includes(w)) {
      this.i++;
      return w;
    }
    return undefined;
  }
  word(what: string, entryName: string): { text: string; upper: string; line: number } {
    const t = this.next();
    if (t?.type !== 'word') throw this.err(CopybookErrorCode.SYNTAX, t?.line ?? this.lastLine(), `expected ${what} in the description of ${entryName}, found ${describe(t)}`);
    return t;
  }
  integer(what: string, entryName: string): number {
    const t = this.word(what, entryName);
    if (!/^\d{1,9}$/.test(t.upper)) throw this.err(CopybookErrorCode.SYNTAX, t.line, `expected ${what} (an unsigned integer) in the description of ${entryName}, found '${t.text}'`);
    return Number(t.upper);
  }
  dataName(what: string, entryName: string): string {
    const t = this.word(what, entryName);
    if (CLAUSE_WORDS.has(t.upper) || !NAME.test(t.text) || !/[A-Z]/i.test(t.text)) throw this.err(CopybookErrorCode.SYNTAX, t.line, `expected ${what} in the description of ${entryName}, found '${t.text}'`);
    // Qualification (`A OF B`) is accepted and the qualifier ignored.
    while (this.peekWord() === 'OF' || this.peekWord() === 'IN') {
      this.i++;
      this.word('a qualifier name', entryName);
    }
    return t.text.toUpperCase();
  }

  /** A literal, or undefined when the next token is not one. */
  literal(): Literal | undefined {
    const t = this.peek();
    if (!t) return undefined;
    if (t.type === 'string') {
      this.i++;
      return { kind: 'string', value: t.value };
    }
    if (t.type === 'hex') {
      this.i++;
      return { kind: 'hex', bytes: t.bytes };
    }
    if (t.type !== 'word') return undefined;
    if (NUMERIC_LITERAL.test(t.text)) {
      this.i++;
      return { kind: 'number', text: t.text };
    }
    const fig = FIGURATIVE[t.upper];
    if (fig) {
      this.i++;
      return fig;
    }
    if (t.upper === 'ALL') {
      const after = this.toks[this.i + 1];
      if (after?.type === 'string') {
        this.i += 2;
        return { kind: 'all', value: after.value };
      }
      if (after?.type === 'word' && FIGURATIVE[after.upper]) {
        this.i += 2;
        return FIGURATIVE[after.upper];
      }
    }
    return undefined;
  }

  /** Parse every entry; returns flat entries in order (88s attached, 66s separate). */
  entries(): { items: Mutable[]; renames: Renames[] } {
    const items: Mutable[] = [];
    const renames: Renames[] = [];
    let last: Mutable | undefined;
    while (this.i < this.toks.length) {
      const t = this.next()!;
      if (t.type === 'period') continue;
      if (t.type !== 'word') throw this.err(CopybookErrorCode.SYNTAX, t.line, `expected a level number, found ${describe(t)}`);
      const u = t.upper;
      if (u === 'COPY' || u === 'REPLACE' || u === 'EXEC') throw this.err(CopybookErrorCode.UNSUPPORTED, t.line, `${u} statements are not supported; expand them before compiling`);
      if (u === 'EJECT' || u === 'SKIP1' || u === 'SKIP2' || u === 'SKIP3') continue;
      if (u === 'TITLE') {
        this.literal();
        continue;
      }
      if (/^\d{1,2}$/.test(u) === false) {
        // `WORKING-STORAGE SECTION.`, `DATA DIVISION.` headers are tolerated.
        const w = this.peekWord();
        if (w === 'SECTION' || w === 'DIVISION') {
          this.i++;
          continue;
        }
        throw this.err(CopybookErrorCode.SYNTAX, t.line, `expected a level number, found '${t.text}'`);
      }
      const level = Number(u);
      if (!((level >= 1 && level <= 49) || level === 66 || level === 77 || level === 88)) throw this.err(CopybookErrorCode.BAD_LEVEL, t.line, `level number ${u} is not 01–49, 66, 77 or 88`);
      if (level === 88) {
        const c = this.condition(t.line);
        if (!last) throw this.err(CopybookErrorCode.BAD_LEVEL, t.line, `level-88 ${c.name} has no data item to belong to`);
        last.conditions.push(c);
        continue;
      }
      if (level === 66) {
        renames.push(this.renames(t.line));
        continue;
      }
      const item = this.entry(level, t.line);
      items.push(item);
      last = item;
    }
    return { items, renames };
  }

  condition(line: number): Condition {
    const name = this.dataName('a condition name', 'a level-88 entry');
    if (!this.opt('VALUE', 'VALUES')) throw this.err(CopybookErrorCode.SYNTAX, this.lastLine(), `level-88 ${name} needs a VALUE clause`);
    this.opt('IS', 'ARE');
    const values: ConditionValue[] = [];
    for (;;) {
      const from = this.literal();
      if (!from) break;
      if (this.opt('THRU', 'THROUGH')) {
        const thru = this.literal();
        if (!thru) throw this.err(CopybookErrorCode.SYNTAX, this.lastLine(), `THRU in level-88 ${name} needs a literal after it`);
        values.push({ from, thru });
      } else values.push({ from });
    }
    if (values.length === 0) throw this.err(CopybookErrorCode.SYNTAX, this.lastLine(), `level-88 ${name}: VALUE needs at least one literal, found ${describe(this.peek())}`);
    this.endOfEntry(name);
    return { name, values, line };
  }

  renames(line: number): Renames {
    const name = this.dataName('a data name', 'a level-66 entry');
    if (!this.opt('RENAMES')) throw this.err(CopybookErrorCode.SYNTAX, this.lastLine(), `level-66 ${name} needs a RENAMES clause`);
    const from = this.dataName('the renamed item', name);
    const thru = this.opt('THRU', 'THROUGH') ? this.dataName('the last renamed item', name) : undefined;
    this.endOfEntry(name);
    return thru === undefined ? { name, from, line } : { name, from, thru, line };
  }

  endOfEntry(name: string): void {
    const t = this.peek();
    if (t === undefined) return; // a missing period at the very end is tolerated
    if (t.type !== 'period') throw this.err(CopybookErrorCode.SYNTAX, t.line, `unexpected ${describe(t)} in the description of ${name} (missing period?)`);
    this.i++;
  }

  entry(level: number, line: number): Mutable {
    let name = 'FILLER';
    let filler = true;
    const w = this.peekWord();
    if (w !== undefined && w === 'FILLER') this.i++;
    else if (w !== undefined && !CLAUSE_WORDS.has(w) && !NUMERIC_LITERAL.test(w)) {
      name = this.dataName('a data name', `the level-${level} entry`);
      filler = false;
    }
    const e: Mutable = { level, name, filler, line, sync: false, justified: false, blankWhenZero: false, conditions: [], children: [] };
    const once = (key: string, present: boolean, l: number): void => {
      if (present) throw this.err(CopybookErrorCode.BAD_CLAUSE, l, `${key} is given twice for ${name}`);
    };
    for (;;) {
      const t = this.peek();
      if (t === undefined || t.type === 'period') break;
      if (t.type !== 'word') throw this.err(CopybookErrorCode.SYNTAX, t.line, `unexpected ${describe(t)} in the description of ${name}`);
      const u = t.upper;
      this.i++;
      if (u === 'REDEFINES') {
        once('REDEFINES', e.redefines !== undefined, t.line);
        e.redefines = this.dataName('the redefined item', name);
      } else if (u === 'PIC' || u === 'PICTURE') {
        once('PICTURE', e.picture !== undefined, t.line);
        this.opt('IS');
        e.picture = this.word('a PICTURE string', name).text;
      } else if (u === 'USAGE' || USAGES[u] !== undefined || UNSUPPORTED_USAGES.has(u)) {
        let uw = u;
        if (u === 'USAGE') {
          this.opt('IS');
          uw = this.word('a usage', name).upper;
        }
        if (UNSUPPORTED_USAGES.has(uw)) throw this.err(CopybookErrorCode.UNSUPPORTED, t.line, `USAGE ${uw} (${name}) is not supported`);
        const usage = USAGES[uw];
        if (!usage) throw this.err(CopybookErrorCode.SYNTAX, t.line, `unknown USAGE '${uw}' for ${name}`);
        once('USAGE', e.usage !== undefined, t.line);
        e.usage = usage;
      } else if (u === 'SIGN' || u === 'LEADING' || u === 'TRAILING') {
        once('SIGN', e.sign !== undefined, t.line);
        let pos = u;
        if (u === 'SIGN') {
          this.opt('IS');
          pos = this.word('LEADING or TRAILING', name).upper;
        }
        if (pos !== 'LEADING' && pos !== 'TRAILING') throw this.err(CopybookErrorCode.SYNTAX, t.line, `SIGN of ${name} must be LEADING or TRAILING, found '${pos}'`);
        const separate = this.opt('SEPARATE') !== undefined;
        if (separate) this.opt('CHARACTER');
        e.sign = { position: pos === 'LEADING' ? 'leading' : 'trailing', separate };
      } else if (u === 'OCCURS') {
        once('OCCURS', e.occurs !== undefined, t.line);
        e.occurs = this.occurs(name, t.line);
      } else if (u === 'VALUE' || u === 'VALUES') {
        once('VALUE', e.value !== undefined, t.line);
        this.opt('IS', 'ARE');
        const lit = this.literal();
        if (!lit) throw this.err(CopybookErrorCode.SYNTAX, t.line, `VALUE of ${name} needs a literal, found ${describe(this.peek())}`);
        e.value = lit;
      } else if (u === 'SYNC' || u === 'SYNCHRONIZED') {
        e.sync = true;
        this.opt('LEFT', 'RIGHT');
      } else if (u === 'JUST' || u === 'JUSTIFIED') {
        e.justified = true;
        this.opt('RIGHT');
      } else if (u === 'BLANK') {
        this.opt('WHEN');
        if (!this.opt('ZERO', 'ZEROS', 'ZEROES')) throw this.err(CopybookErrorCode.SYNTAX, t.line, `BLANK WHEN must be followed by ZERO in ${name}`);
        e.blankWhenZero = true;
      } else if (u === 'GLOBAL' || u === 'EXTERNAL') {
        // no effect on the layout
      } else if (u === 'RENAMES') {
        throw this.err(CopybookErrorCode.BAD_LEVEL, t.line, `RENAMES belongs to a level-66 entry, not level ${level} (${name})`);
      } else if (/^\d{1,2}$/.test(u)) {
        throw this.err(CopybookErrorCode.SYNTAX, t.line, `unexpected '${t.text}' in the description of ${name} (missing period before the next entry?)`);
      } else {
        throw this.err(CopybookErrorCode.SYNTAX, t.line, `unexpected '${t.text}' in the description of ${name}`);
      }
    }
    this.endOfEntry(name);
    return e;
  }

  occurs(name: string, line: number): NonNullable<Mutable['occurs']> {
    const first = this.integer('the number of occurrences', name);
    let min = first;
    let max = first;
    let fixed = true;
    if (this.opt('TO')) {
      max = this.integer('the maximum number of occurrences', name);
      fixed = false;
    }
    this.opt('TIMES');
    let dependingOn: string | undefined;
    if (this.opt('DEPENDING')) {
      this.opt('ON');
      dependingOn = this.dataName('the DEPENDING ON counter', name);
    }
    for (;;) {
      if (this.opt('ASCENDING', 'DESCENDING')) {
        this.opt('KEY');
        this.opt('IS');
        this.names(name);
      } else if (this.opt('INDEXED')) {
        this.opt('BY');
        this.names(name);
      } else break;
    }
    if (!fixed && dependingOn === undefined) throw this.err(CopybookErrorCode.BAD_CLAUSE, line, `OCCURS ${min} TO ${max} of ${name} needs DEPENDING ON`);
    if (max < min) throw this.err(CopybookErrorCode.BAD_CLAUSE, line, `OCCURS ${min} TO ${max} of ${name}: the maximum is below the minimum`);
    if (max === 0) throw this.err(CopybookErrorCode.BAD_CLAUSE, line, `OCCURS of ${name} must allow at least one occurrence`);
    if (fixed && dependingOn !== undefined) {
      // `OCCURS n TIMES DEPENDING ON x`: IBM assumes a minimum of 1 when integer-1 is omitted
      // [IBM: Enterprise COBOL LR, "Variable-length tables"].
      min = 1;
      fixed = false;
    }
    return dependingOn === undefined ? { min, max, fixed } : { min, max, dependingOn, fixed };
  }

  names(entryName: string): void {
    let n = 0;
    for (;;) {
      const w = this.peekWord();
      if (w === undefined || CLAUSE_WORDS.has(w) || w === 'KEY' || w === 'BY') break;
      if (!NAME.test(w)) break;
      this.i++;
      n++;
    }
    if (n === 0) throw this.err(CopybookErrorCode.SYNTAX, this.lastLine(), `expected a name list in the OCCURS clause of ${entryName}`);
  }
}

function describe(t: Token | undefined): string {
  if (!t) return 'the end of the copybook';
  if (t.type === 'period') return "'.'";
  if (t.type === 'word') return `'${t.text}'`;
  if (t.type === 'hex') return 'a hexadecimal literal';
  return `literal '${t.value}'`;
}

/**
 * Parse a copybook into records. Each level-01 or 77 item starts a record; entries before the
 * first 01 (a fragment starting at, say, level 05) form an implicit record. Level numbers are
 * read the way the compiler does: an entry belongs to the nearest preceding entry with a smaller
 * level number.
 */
export function parseCopybook(source: string, options: ParseOptions = {}): ParsedCopybook {
  const file = options.fileName;
  const lt = toLogicalText(source, options.format ?? 'auto', file);
  const toks = tokenize(lt, file);
  const { items, renames } = new Parser(toks, file).entries();
  const records: Mutable[] = [];
  let stack: Mutable[] = [];
  for (const it of items) {
    if (it.level === 1 || it.level === 77) {
      records.push(it);
      stack = [it];
      continue;
    }
    if (stack.length === 0) {
      const root: Mutable = { level: 0, name: (options.implicitRecordName ?? 'RECORD').toUpperCase(), filler: false, line: it.line, sync: false, justified: false, blankWhenZero: false, conditions: [], children: [] };
      records.push(root);
      stack = [root];
    }
    while (stack.length > 1 && stack[stack.length - 1]!.level >= it.level) stack.pop();
    const parent = stack[stack.length - 1]!;
    if (parent.level >= it.level) throw sourceError(CopybookErrorCode.BAD_LEVEL, file, it.line, `level ${String(it.level).padStart(2, '0')} ${it.name} cannot follow the level-${String(parent.level).padStart(2, '0')} record ${parent.name}`);
    if (parent.level === 77) throw sourceError(CopybookErrorCode.BAD_LEVEL, file, it.line, `level-77 item ${parent.name} cannot have subordinate items (${it.name})`);
    if (parent.picture !== undefined || parent.usage === 'COMP-1' || parent.usage === 'COMP-2') {
      throw sourceError(CopybookErrorCode.BAD_LEVEL, file, it.line, `${parent.name} is an elementary item (it has a PICTURE or USAGE COMP-1/COMP-2), so ${it.name} cannot be subordinate to it`);
    }
    parent.children.push(it);
    stack.push(it);
  }
  if (records.length === 0) throw new CopybookError(CopybookErrorCode.NO_RECORD, `${file ? `${file}: ` : ''}the copybook has no data description entries`, { details: file ? { file } : {} });
  return { format: lt.format, records, renames };
}
