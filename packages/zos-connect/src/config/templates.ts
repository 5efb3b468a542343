/**
 * Mapping expressions of API operations (README "Mapping expressions"), parsed once at load time.
 *
 * A template is any JSON value. Strings that start with `$` are references:
 * - request side: `$path.NAME`, `$query.NAME`, `$header.NAME`, `$body` or `$body.a.b`;
 * - response side: `$` (the whole decoded IMS output), `$.A.B`, `$conversation.id`, `$conversation.open`;
 * - `$$text` is the literal string `$text`.
 * Objects and arrays are built member by member; other values are constants. A reference that finds
 * nothing yields `undefined`, and undefined members are left out of objects.
 */
import { type Template } from './model.js';

/** Roots allowed on each side. */
export const REQUEST_ROOTS = ['path', 'query', 'header', 'body'] as const;
export const RESPONSE_ROOTS = ['output', 'conversation'] as const;

/** Parse a template; `problem(path, message)` is called for each bad reference. */
export function parseTemplate(value: unknown, roots: readonly string[], problem: (where: string, message: string) => void, where = ''): Template {
  if (typeof value === 'string' && value.startsWith('$')) {
    if (value.startsWith('$$')) return { kind: 'const', value: value.slice(1) };
    if (value === '$') return roots.includes('output') ? { kind: 'ref', root: 'output', path: [] } : bad();
    if (value.startsWith('$.')) return roots.includes('output') ? { kind: 'ref', root: 'output', path: splitPath(value.slice(2)) } : bad();
    const m = /^\$([a-z]+)(?:\.(.+))?$/.exec(value);
    if (!m || !roots.includes(m[1]!)) return bad();
    const root = m[1]!;
    const path = m[2] === undefined ? [] : splitPath(m[2]);
    if ((root === 'path' || root === 'query' || root === 'header' || root === 'conversation') && path.length !== 1) {
      problem(where, `"${value}" must name exactly one ${root} ${root === 'conversation' ? 'property (id or open)' : 'parameter'}`);
    }
    if (root === 'conversation' && path[0] !== 'id' && path[0] !== 'open') problem(where, `"${value}": only $conversation.id and $conversation.open exist`);
    return { kind: 'ref', root, path: root === 'header' ? path.map((p) => p.toLowerCase()) : path };
  }
  if (Array.isArray(value)) return { kind: 'array', items: value.map((v, i) => parseTemplate(v, roots, problem, `${where}[${i}]`)) };
  if (value !== null && typeof value === 'object') {
    return { kind: 'object', entries: Object.entries(value).map(([k, v]) => [k, parseTemplate(v, roots, problem, where ? `${where}.${k}` : k)] as const) };
  }
  return { kind: 'const', value };

  function bad(): Template {
    const allowed = roots.map((r) => (r === 'output' ? '$ / $.FIELD' : `$${r}`)).join(', ');
    problem(where, `unknown reference "${String(value)}" (allowed here: ${allowed}; write $$ for a literal $)`);
    return { kind: 'const', value: undefined };
  }
}

/** `a.b[0].c` → `['a','b','0','c']`. */
export function splitPath(p: string): string[] {
  return p
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((s) => s !== '');
}

/** Values the references read from. */
export type TemplateScope = Readonly<Record<string, unknown>>;

/** Evaluate a template against its scope. */
export function evaluate(t: Template, scope: TemplateScope): unknown {
  switch (t.kind) {
    case 'const':
      return t.value;
    case 'ref': {
      let cur: unknown = scope[t.root];
      for (const k of t.path) {
        if (cur === null || cur === undefined) return undefined;
        if (Array.isArray(cur)) cur = /^\d+$/.test(k) ? cur[Number(k)] : undefined;
        else if (typeof cur === 'object') cur = Object.prototype.hasOwnProperty.call(cur, k) ? (cur as Record<string, unknown>)[k] : undefined;
        else return undefined;
      }
      return cur;
    }
    case 'object': {
      const o: Record<string, unknown> = {};
      for (const [k, v] of t.entries) {
        const x = evaluate(v, scope);
        if (x !== undefined) o[k] = x;
      }
      return o;
    }
    case 'array':
      return t.items.map((i) => evaluate(i, scope)).filter((x) => x !== undefined);
  }
}
