/**
 * API definitions: `apis/<name>.json`, one OpenAPI 3 document each. The base path is `servers[0].url`
 * (a path such as `/phonebook`); each operation names the service it calls and maps the HTTP request
 * into the service request and the IMS output into the HTTP response with `x-zosconnect-*`
 * extensions (README "API files"). The extensions are removed from the document the server serves.
 */
import * as path from 'node:path';
import { type ProblemList } from '../errors.js';
import { jsonPath, JsonSyntaxError, parseLocatedJson, type LocatedJson } from './json.js';
import { type ApiConfig, type OperationConfig, type ParameterConfig, type ResponseCondition, type ServiceConfig, type Template } from './model.js';
import { readText } from './server-xml.js';
import { parseTemplate, REQUEST_ROOTS, RESPONSE_ROOTS } from './templates.js';

/** HTTP methods an OpenAPI path item may hold. */
export const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

const OP_KEYS = new Set(['x-zosconnect-service', 'x-zosconnect-request', 'x-zosconnect-response', 'x-zosconnect-conversation', 'x-zosconnect-conversation-id']);

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Load one API file. */
export function loadApi(dir: string, abs: string, problems: ProblemList, services: ReadonlyMap<string, ServiceConfig>): ApiConfig | undefined {
  const file = path.relative(dir, abs);
  const name = path.basename(abs).replace(/\.json$/, '');
  const text = readText(abs, file, problems);
  if (text === undefined) return undefined;
  let parsed: LocatedJson;
  try {
    parsed = parseLocatedJson(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) {
      problems.add(file, e.line, 'json', e.message);
      return undefined;
    }
    throw e;
  }
  const lineOf = (p: string): number => {
    for (let q = p; ; q = q.replace(/(\.[^.[]*|\[\d+\])$/, '')) {
      const l = parsed.lines.get(q);
      if (l !== undefined) return l;
      if (q === '') return 1;
    }
  };
  const bad = (p: string, message: string): void => problems.add(file, lineOf(p), p || '(document)', message);
  const doc = parsed.value;
  if (!isObj(doc)) {
    bad('', 'an API file must hold an OpenAPI 3 document (a JSON object)');
    return undefined;
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(name)) problems.add(file, 1, '(file name)', 'the API name (file name without .json) must be 1–128 characters of letters, digits, _ . -');
  if (typeof doc['openapi'] !== 'string' || !doc['openapi'].startsWith('3.')) bad('openapi', 'must be an OpenAPI 3 version string such as "3.0.3"');
  const info = doc['info'];
  if (!isObj(info) || typeof info['title'] !== 'string' || typeof info['version'] !== 'string') bad('info', 'needs "title" and "version" strings');
  const servers = doc['servers'];
  const basePath = Array.isArray(servers) && isObj(servers[0]) && typeof servers[0]['url'] === 'string' ? (servers[0]['url'] as string).replace(/\/+$/, '') : undefined;
  if (basePath === undefined || !/^\/[A-Za-z0-9_.~\-/]+$/.test(basePath) || basePath.startsWith('/zosConnect')) {
    bad('servers', 'servers[0].url must be the API base path, e.g. "/phonebook" (not under /zosConnect)');
  }
  const status = doc['x-zosconnect-status'];
  if (status !== undefined && status !== 'started' && status !== 'stopped') bad('x-zosconnect-status', 'must be "started" or "stopped"');
  const paths = doc['paths'];
  const operations: OperationConfig[] = [];
  if (!isObj(paths)) bad('paths', 'must be an object of path items');
  else {
    for (const [p, item] of Object.entries(paths)) {
      const pp = jsonPath('paths', p);
      if (!p.startsWith('/')) bad(pp, 'a path must start with /');
      if (!isObj(item)) {
        bad(pp, 'must be a path item object');
        continue;
      }
      const templateParams = [...p.matchAll(/\{([^}/]+)\}/g)].map((m) => m[1]!);
      if (/\{[^}]*$|\}\{/.test(p)) bad(pp, 'malformed path template');
      const common = readParameters(item['parameters'], jsonPath(pp, 'parameters'), doc, bad);
      for (const m of METHODS) {
        const op = item[m];
        if (op === undefined) continue;
        const op_ = jsonPath(pp, m);
        if (!isObj(op)) {
          bad(op_, 'must be an operation object');
          continue;
        }
        const own = readParameters(op['parameters'], jsonPath(op_, 'parameters'), doc, bad);
        const params = [...common.filter((c) => !own.some((o) => o.name === c.name && o.in === c.in)), ...own];
        for (const t of templateParams) {
          if (!params.some((x) => x.in === 'path' && x.name === t)) bad(op_, `path parameter {${t}} is not declared in "parameters" with "in": "path"`);
        }
        for (const x of params) if (x.in === 'path' && !templateParams.includes(x.name)) bad(jsonPath(op_, 'parameters'), `path parameter "${x.name}" does not appear in the path`);
        const o = readOperation(op, op_, m, p, params, services, bad, lineOf);
        if (o) operations.push(o);
      }
      for (const k of Object.keys(item)) {
        if (!(METHODS as readonly string[]).includes(k) && !['parameters', 'summary', 'description', 'servers', '$ref'].includes(k) && !k.startsWith('x-')) bad(jsonPath(pp, k), 'unknown key in a path item');
      }
    }
  }
  if (operations.length === 0 && isObj(paths)) bad('paths', 'the API defines no operation');
  if (!isObj(info) || basePath === undefined) return undefined;
  return Object.freeze({
    name,
    version: String(info['version']),
    description: typeof info['description'] === 'string' ? info['description'] : String(info['title']),
    basePath,
    document: stripExtensions(doc) as Record<string, unknown>,
    operations: Object.freeze(operations),
    initialStatus: status === 'stopped' ? 'stopped' : 'started',
    file,
  });
}

function readParameters(v: unknown, where: string, doc: Record<string, unknown>, bad: (p: string, m: string) => void): ParameterConfig[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    bad(where, 'must be an array');
    return [];
  }
  const out: ParameterConfig[] = [];
  for (const [i, raw] of v.entries()) {
    const w = jsonPath(where, i);
    let p: unknown = raw;
    if (isObj(raw) && typeof raw['$ref'] === 'string') {
      const m = /^#\/components\/parameters\/([^/]+)$/.exec(raw['$ref']);
      const comps = isObj(doc['components']) && isObj(doc['components']['parameters']) ? doc['components']['parameters'] : {};
      p = m ? comps[m[1]!] : undefined;
      if (p === undefined) {
        bad(w, `cannot resolve ${raw['$ref']} (only #/components/parameters/NAME)`);
        continue;
      }
    }
    if (!isObj(p) || typeof p['name'] !== 'string' || !['path', 'query', 'header', 'cookie'].includes(String(p['in']))) {
      bad(w, 'a parameter needs "name" and "in" (path, query or header)');
      continue;
    }
    if (p['in'] === 'cookie') continue;
    const schema = isObj(p['schema']) ? p['schema'] : {};
    const t = schema['type'] ?? 'string';
    if (!['string', 'integer', 'number', 'boolean'].includes(String(t))) {
      bad(jsonPath(w, 'schema'), 'parameters must have a scalar schema type (string, integer, number, boolean)');
      continue;
    }
    if (p['in'] === 'path' && p['required'] !== true) bad(w, 'path parameters must have "required": true');
    out.push({ name: p['in'] === 'header' ? p['name'].toLowerCase() : p['name'], in: p['in'] as ParameterConfig['in'], required: p['required'] === true, type: t as ParameterConfig['type'] });
  }
  return out;
}

function readOperation(
  op: Record<string, unknown>,
  where: string,
  method: string,
  p: string,
  parameters: ParameterConfig[],
  services: ReadonlyMap<string, ServiceConfig>,
  bad: (p: string, m: string) => void,
  lineOf: (p: string) => number,
): OperationConfig | undefined {
  for (const k of Object.keys(op)) if (k.startsWith('x-zosconnect') && !OP_KEYS.has(k)) bad(jsonPath(where, k), 'unknown x-zosconnect extension');
  const svcName = op['x-zosconnect-service'];
  if (typeof svcName !== 'string') {
    bad(where, 'needs "x-zosconnect-service": the name of the service this operation calls');
    return undefined;
  }
  const service = services.get(svcName);
  if (!service) bad(jsonPath(where, 'x-zosconnect-service'), `no service "${svcName}" in services/`);
  const conv = op['x-zosconnect-conversation'];
  if (conv !== undefined && conv !== 'start' && conv !== 'continue' && conv !== 'end') bad(jsonPath(where, 'x-zosconnect-conversation'), 'must be "start", "continue" or "end"');
  const conversation = conv === 'start' || conv === 'continue' || conv === 'end' ? conv : undefined;
  if (conversation && service && !service.conversational) bad(jsonPath(where, 'x-zosconnect-conversation'), `service "${svcName}" is not conversational`);
  if (!conversation && service?.conversational) bad(jsonPath(where, 'x-zosconnect-service'), `service "${svcName}" is conversational: set "x-zosconnect-conversation" (start, continue or end)`);
  const convIdRaw = op['x-zosconnect-conversation-id'];
  let conversationParam: string | undefined;
  if (conversation === 'continue' || conversation === 'end') {
    conversationParam = typeof convIdRaw === 'string' ? convIdRaw : 'conversationId';
    if (!parameters.some((x) => x.in === 'path' && x.name === conversationParam)) bad(where, `a conversation ${conversation} operation needs the path parameter {${conversationParam}}`);
  } else if (convIdRaw !== undefined) bad(jsonPath(where, 'x-zosconnect-conversation-id'), 'only continue and end operations take a conversation ID');
  const rq = op['x-zosconnect-request'];
  let request: Template | undefined;
  if (rq !== undefined) {
    const w = jsonPath(where, 'x-zosconnect-request');
    if (!isObj(rq) && !(typeof rq === 'string' && rq.startsWith('$body'))) bad(w, 'must be an object of field: expression, or "$body"');
    request = parseTemplate(rq, REQUEST_ROOTS, (at, m) => bad(at ? `${w}.${at}` : w, m));
    checkParamRefs(request, parameters, w, bad);
  }
  const rs = op['x-zosconnect-response'];
  let conditions: ResponseCondition[] = [];
  let status = conversation === 'start' ? 201 : 200;
  let body: Template | undefined;
  if (rs !== undefined) {
    const w = jsonPath(where, 'x-zosconnect-response');
    if (!isObj(rs)) bad(w, 'must be an object with "status", "body" and/or "conditions"');
    else {
      for (const k of Object.keys(rs)) if (!['status', 'body', 'conditions'].includes(k)) bad(jsonPath(w, k), 'unknown key (expected status, body, conditions)');
      if (rs['status'] !== undefined) status = httpStatus(rs['status'], jsonPath(w, 'status'), bad) ?? status;
      if (rs['body'] !== undefined) body = parseTemplate(rs['body'], RESPONSE_ROOTS, (at, m) => bad(`${w}.body${at ? `.${at}` : ''}`, m));
      const cs = rs['conditions'];
      if (cs !== undefined && !Array.isArray(cs)) bad(jsonPath(w, 'conditions'), 'must be an array');
      if (Array.isArray(cs)) conditions = cs.flatMap((c, i) => readCondition(c, jsonPath(jsonPath(w, 'conditions'), i), bad));
    }
  }
  const rb = op['requestBody'];
  const bodyRequired = isObj(rb) && rb['required'] === true;
  return Object.freeze({
    method: method.toUpperCase(),
    path: p,
    operationId: typeof op['operationId'] === 'string' ? op['operationId'] : `${method}${p.replace(/[^A-Za-z0-9]+/g, '_')}`,
    service: svcName,
    conversation,
    conversationParam,
    parameters: Object.freeze(parameters),
    bodyRequired,
    request,
    conditions: Object.freeze(conditions),
    status,
    body,
    line: lineOf(where),
  });
}

function httpStatus(v: unknown, where: string, bad: (p: string, m: string) => void): number | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 200 || v > 599) {
    bad(where, 'must be an HTTP status from 200 to 599');
    return undefined;
  }
  return v;
}

function readCondition(c: unknown, w: string, bad: (p: string, m: string) => void): ResponseCondition[] {
  if (!isObj(c)) {
    bad(w, 'a condition is an object with "field", a test and "status"');
    return [];
  }
  for (const k of Object.keys(c)) if (!['field', 'equals', 'in', 'matches', 'startsWith', 'present', 'status', 'body'].includes(k)) bad(jsonPath(w, k), 'unknown key in a condition');
  if (typeof c['field'] !== 'string') {
    bad(w, 'needs "field": a reference such as "$.OUT_MESSAGE"');
    return [];
  }
  const field = parseTemplate(c['field'], RESPONSE_ROOTS, (_a, m) => bad(jsonPath(w, 'field'), m));
  const tests = ['equals', 'in', 'matches', 'startsWith', 'present'].filter((k) => c[k] !== undefined);
  if (tests.length !== 1) {
    bad(w, 'needs exactly one test: equals, in, matches, startsWith or present');
    return [];
  }
  let test: ResponseCondition['test'];
  switch (tests[0]) {
    case 'equals':
      test = { op: 'equals', value: c['equals'] };
      break;
    case 'in':
      if (!Array.isArray(c['in'])) {
        bad(jsonPath(w, 'in'), 'must be an array');
        return [];
      }
      test = { op: 'in', values: c['in'] };
      break;
    case 'matches':
      try {
        test = { op: 'matches', regex: new RegExp(String(c['matches'])) };
      } catch (e) {
        bad(jsonPath(w, 'matches'), `invalid regular expression: ${(e as Error).message}`);
        return [];
      }
      break;
    case 'startsWith':
      test = { op: 'startsWith', value: String(c['startsWith']) };
      break;
    default:
      test = { op: 'present' };
  }
  const status = httpStatus(c['status'], jsonPath(w, 'status'), bad);
  if (status === undefined) return [];
  const body = c['body'] === undefined ? undefined : parseTemplate(c['body'], RESPONSE_ROOTS, (at, m) => bad(`${w}.body${at ? `.${at}` : ''}`, m));
  return [Object.freeze({ field, test, status, body })];
}

function checkParamRefs(t: Template, params: readonly ParameterConfig[], w: string, bad: (p: string, m: string) => void): void {
  if (t.kind === 'ref' && (t.root === 'path' || t.root === 'query' || t.root === 'header')) {
    const n = t.path[0];
    if (n !== undefined && !params.some((p) => p.in === t.root && p.name === n)) bad(w, `$${t.root}.${n} is not a declared ${t.root} parameter of the operation`);
  } else if (t.kind === 'object') for (const [, v] of t.entries) checkParamRefs(v, params, w, bad);
  else if (t.kind === 'array') for (const v of t.items) checkParamRefs(v, params, w, bad);
}

function stripExtensions(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripExtensions);
  if (!isObj(v)) return v;
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('x-zosconnect')) o[k] = stripExtensions(x);
  return o;
}
