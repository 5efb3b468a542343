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

/** A template turned into a function of its scope (same result as `evaluate`). */
export type CompiledTemplate = (scope: TemplateScope) => unknown;

const compiledTemplates = new WeakMap<Template, CompiledTemplate>();

/**
 * The compiled form of a template, made once per template object (templates are immutable once
 * loaded; a reload makes new ones). Evaluating it gives exactly what `evaluate` gives, without
 * walking the template tree per request.
 */
export function compileTemplate(t: Template): CompiledTemplate {
  let f = compiledTemplates.get(t);
  if (f === undefined) {
    f = build(t);
    compiledTemplates.set(t, f);
  }
  return f;
}

const DIGITS = /^\d+$/;
const hasOwn = Object.prototype.hasOwnProperty;

/** One step of a reference path (`evaluate`'s rules: own properties, array indexes only). */
function step(cur: unknown, k: string, index: number): unknown {
  if (cur === null || cur === undefined) return undefined;
  if (Array.isArray(cur)) return index >= 0 ? cur[index] : undefined;
  if (typeof cur === 'object') return hasOwn.call(cur, k) ? (cur as Record<string, unknown>)[k] : undefined;
  return undefined;
}

function build(t: Template): CompiledTemplate {
  switch (t.kind) {
    case 'const': {
      const v = t.value;
      return () => v;
    }
    case 'ref': {
      const root = t.root;
      const keys = t.path;
      const indexes = keys.map((k) => (DIGITS.test(k) ? Number(k) : -1));
      if (keys.length === 0) return (scope) => scope[root];
      if (keys.length === 1) {
        const k = keys[0]!;
        const n = indexes[0]!;
        return (scope) => step(scope[root], k, n);
      }
      return (scope) => {
        let cur: unknown = scope[root];
        for (let i = 0; i < keys.length; i++) {
          if (cur === null || cur === undefined) return undefined;
          if (!Array.isArray(cur) && typeof cur !== 'object') return undefined;
          cur = step(cur, keys[i]!, indexes[i]!);
        }
        return cur;
      };
    }
    case 'object': {
      const keys = t.entries.map(([k]) => k);
      const fns = t.entries.map(([, v]) => build(v));
      return (scope) => {
        const o: Record<string, unknown> = {};
        for (let i = 0; i < fns.length; i++) {
          const x = fns[i]!(scope);
          if (x !== undefined) o[keys[i]!] = x;
        }
        return o;
      };
    }
    case 'array': {
      const fns = t.items.map(build);
      return (scope) => {
        const out: unknown[] = [];
        for (let i = 0; i < fns.length; i++) {
          const x = fns[i]!(scope);
          if (x !== undefined) out.push(x);
        }
        return out;
      };
    }
  }
}
