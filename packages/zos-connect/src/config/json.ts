/**
 * A strict JSON reader that also records the line of every value, keyed by its path
 * (`paths./phonebook/{lastName}.get.parameters[0].name`), so configuration errors can name the line.
 */

/** A syntax error at a line. */
export class JsonSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** Parsed JSON with the line of each value by path. */
export interface LocatedJson {
  readonly value: unknown;
  /** Path → 1-based line. The root is `''`. */
  readonly lines: ReadonlyMap<string, number>;
}

/** Deepest nesting accepted. */
export const MAX_JSON_DEPTH = 128;

/** Join a path and a key the way `LocatedJson.lines` does. */
export function jsonPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base === '' ? key : `${base}.${key}`;
}

/** Parse JSON text, recording lines. Throws `JsonSyntaxError`. */
export function parseLocatedJson(source: string): LocatedJson {
  const lines = new Map<string, number>();
  let i = source.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = source.length;
  const fail = (what: string): never => {
    throw new JsonSyntaxError(line, what);
  };
  const ws = (): void => {
    while (i < n) {
      const c = source.charCodeAt(i);
      if (c === 10) line++;
      else if (c !== 32 && c !== 9 && c !== 13) return;
      i++;
    }
  };
  const str = (): string => {
    i++; // opening quote
    let out = '';
    let start = i;
    for (;;) {
      if (i >= n) fail('string is not closed');
      const c = source.charCodeAt(i);
      if (c === 34) {
        out += source.slice(start, i);
        i++;
        return out;
      }
      if (c < 32) fail('control character in a string');
      if (c === 92) {
        out += source.slice(start, i);
        const e = source[i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && simple[e] !== undefined) {
          out += simple[e];
          i += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(source.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(source.slice(i + 2, i + 6), 16));
          i += 6;
        } else fail('invalid escape in a string');
        start = i;
        continue;
      }
      i++;
    }
  };
  const value = (path: string, depth: number): unknown => {
    if (depth > MAX_JSON_DEPTH) fail(`values nest deeper than ${MAX_JSON_DEPTH}`);
    ws();
    lines.set(path, line);
    const c = source[i];
    if (c === '{') {
      i++;
      const o: Record<string, unknown> = {};
      ws();
      if (source[i] === '}') {
        i++;
        return o;
      }
      for (;;) {
        ws();
        if (source[i] !== '"') fail('expected a property name in double quotes');
        const key = str();
        if (Object.prototype.hasOwnProperty.call(o, key)) fail(`property "${key}" is given twice`);
        ws();
        if (source[i] !== ':') fail(`expected ':' after "${key}"`);
        i++;
        const v = value(jsonPath(path, key), depth + 1);
        Object.defineProperty(o, key, { value: v, enumerable: true, writable: true, configurable: true });
        ws();
        if (source[i] === ',') {
          i++;
          continue;
        }
        if (source[i] === '}') {
          i++;
          return o;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const a: unknown[] = [];
      ws();
      if (source[i] === ']') {
        i++;
        return a;
      }
      for (;;) {
        a.push(value(jsonPath(path, a.length), depth + 1));
        ws();
        if (source[i] === ',') {
          i++;
          continue;
        }
        if (source[i] === ']') {
          i++;
          return a;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(source.slice(i, i + 64));
    if (m && m[0] !== '' && m[0] !== '-') {
      i += m[0].length;
      return Number(m[0]);
    }
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (source.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return fail(i >= n ? 'unexpected end of the file' : `unexpected character ${JSON.stringify(source[i])}`);
  };
  const v = value('', 0);
  ws();
  if (i < n) fail('content after the JSON value');
  return { value: v, lines };
}
