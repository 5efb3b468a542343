/**
 * Service definitions: `services/<name>.xml`, one `<service>` each — the emulator's documented
 * stand-in for IBM's service archive (.sar, spec §1.1): metadata, the IMS provider properties
 * (connection and interaction profile, transaction code) and the service interface, i.e. the
 * request and response segments mapped through COBOL copybooks (spec §4.2).
 */
import * as path from 'node:path';
import { compileCopybook, type CompileOptions, type Copybook, type NameStyle } from '@imsplex/copybook';
import { isImsplexError } from '@imsplex/codec';
import { type ProblemList } from '../errors.js';
import { type InteractionProfile, type SegmentMap, type ServiceConfig, type ConnectionProfile } from './model.js';
import { readText, readTimer, readXml } from './server-xml.js';
import { Attrs, IMS_NAME } from './values.js';
import { type XmlElement } from './xml.js';

interface Ctx {
  dir: string;
  file: string;
  problems: ProblemList;
  codePage: string;
}

/** Load one service file. */
export function loadService(dir: string, abs: string, problems: ProblemList, connections: ReadonlyMap<string, ConnectionProfile>, interactions: ReadonlyMap<string, InteractionProfile>): ServiceConfig | undefined {
  const file = path.relative(dir, abs);
  const root = readXml(abs, file, problems);
  if (!root) return undefined;
  if (root.name !== 'service') {
    problems.add(file, root.line, root.name, 'the root element must be <service>');
    return undefined;
  }
  const a = new Attrs(root, { file, problems });
  const name = a.required('name');
  if (name && !/^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,127}$/.test(name)) a.problem('name', 'must be 1–128 characters of letters, digits, _ . - /');
  const description = a.str('description') ?? '';
  const version = a.str('version') ?? '1.0.0';
  const initialStatus = a.oneOf('status', ['started', 'stopped'] as const, 'started');
  const detectDfs = a.bool('detectDfsMessages', true);
  a.finish();

  const imsEls = root.children.filter((c) => c.name === 'ims');
  if (imsEls.length !== 1) problems.add(file, root.line, 'service.ims', 'exactly one <ims connectionRef=… interactionRef=… transactionCode=…/> is required');
  for (const c of root.children) if (!['ims', 'request', 'response'].includes(c.name)) problems.add(file, c.line, c.name, 'unknown element in <service> (expected <ims>, <request>, <response>)');
  const imsEl = imsEls[0];
  if (!imsEl) return undefined;
  const ia = new Attrs(imsEl, { file, problems });
  const connectionRef = ia.required('connectionRef');
  const interactionRef = ia.required('interactionRef');
  const tranRaw = ia.required('transactionCode');
  const trancode = tranRaw?.toUpperCase();
  if (trancode && !IMS_NAME.test(trancode)) ia.problem('transactionCode', `must be 1–8 characters of A–Z, 0–9, @, #, $; got "${tranRaw}"`);
  const conversational = ia.bool('conversational', false);
  const dsRaw = ia.str('imsDatastoreName')?.trim().toUpperCase();
  if (dsRaw && !IMS_NAME.test(dsRaw)) ia.problem('imsDatastoreName', 'must be 1–8 characters of A–Z, 0–9, @, #, $');
  const ltermRaw = ia.str('ltermOverrideName')?.trim().toUpperCase();
  if (ltermRaw && !IMS_NAME.test(ltermRaw)) ia.problem('ltermOverrideName', 'must be 1–8 characters of A–Z, 0–9, @, #, $');
  const timer = readTimer(ia, 'interactionTimeout');
  ia.finish();
  const connection = connectionRef ? connections.get(connectionRef) : undefined;
  if (connectionRef && !connection) ia.problem('connectionRef', `no IMS connection profile "${connectionRef}" in server.xml`);
  const interaction = interactionRef ? interactions.get(interactionRef) : undefined;
  if (interactionRef && !interaction) ia.problem('interactionRef', `no IMS interaction profile "${interactionRef}" in server.xml`);
  if (connection && interaction && !dsRaw && !interaction.datastore && !connection.datastore) {
    ia.problem('imsDatastoreName', `no datastore: set imsDatastoreName here, on interaction "${interaction.id}" or dataStoreName on connection "${connection.id}"`);
  }
  if (conversational && interaction && interaction.commitMode !== 1) ia.problem('conversational', `conversational transactions need commit mode 1; interaction "${interaction.id}" uses 0`);

  const ctx: Ctx = { dir, file, problems, codePage: interaction?.codePage ?? 'cp037' };
  const side = (kind: 'request' | 'response'): SegmentMap[] => {
    const els = root.children.filter((c) => c.name === kind);
    if (els.length > 1) problems.add(file, els[1]!.line, kind, `<${kind}> is given twice`);
    const el = els[0];
    if (!el) {
      problems.add(file, root.line, `service.${kind}`, `<${kind}> is required`);
      return [];
    }
    const segs = el.children.filter((c) => c.name === 'segment');
    const out: SegmentMap[] = [];
    if (segs.length === 0 && el.attributes.size > 0) {
      const s = readSegment(el, kind, ctx);
      if (s) out.push(s);
    } else {
      for (const c of el.children) if (c.name !== 'segment') problems.add(file, c.line, c.name, `unknown element in <${kind}> (expected <segment>)`);
      new Attrs(el, { file, problems }).finish();
      if (segs.length === 0) problems.add(file, el.line, kind, 'needs at least one <segment> (or segment attributes on the element itself)');
      for (const s of segs) {
        const m = readSegment(s, kind, ctx);
        if (m) out.push(m);
      }
    }
    const repeatAt = out.findIndex((s) => s.repeat);
    if (repeatAt >= 0 && repeatAt !== out.length - 1) problems.add(file, el.line, `${kind}.segment.repeat`, 'only the last segment may repeat');
    const names = new Set<string>();
    for (const s of out) {
      if (s.name === undefined) continue;
      if (names.has(s.name)) problems.add(file, el.line, `${kind}.segment.name`, `"${s.name}" is used by two segments`);
      names.add(s.name);
    }
    if (kind === 'request' && out[0]?.kind === 'copybook' && out[0].trancodeField === undefined) {
      // Fine: the client puts the transaction code in front of the first segment.
    }
    return out;
  };
  const request = side('request');
  const response = side('response');
  for (const [i, s] of request.entries()) {
    if (i > 0 && s.kind === 'copybook' && s.trancodeField) problems.add(file, root.line, 'request.segment.trancodeField', 'only the first segment carries the transaction code');
  }
  if (!name || !connectionRef || !interactionRef || !trancode) return undefined;
  return Object.freeze({
    name,
    description,
    version,
    connectionRef,
    interactionRef,
    trancode,
    conversational,
    overrides: Object.freeze({ ...(dsRaw ? { datastore: dsRaw } : {}), ...(ltermRaw ? { lterm: ltermRaw } : {}), ...(timer !== undefined ? { interactionTimeout: timer } : {}) }),
    request: Object.freeze(request),
    response: Object.freeze(response),
    detectDfsMessages: detectDfs,
    initialStatus,
    requestSchema: sideSchema(request, 'request', name),
    responseSchema: sideSchema(response, 'response', name),
    file,
  });
}

function readSegment(el: XmlElement, kind: 'request' | 'response', ctx: Ctx): SegmentMap | undefined {
  const { file, problems } = ctx;
  const a = new Attrs(el, { file, problems });
  const format = a.oneOf('format', ['copybook', 'text'] as const, 'copybook');
  const name = a.str('name')?.trim() || undefined;
  const repeat = a.bool('repeat', false);
  if (repeat && kind === 'request') a.problem('repeat', 'only response segments repeat');
  if (format === 'text') {
    const property = a.str('property')?.trim() || 'text';
    a.finish();
    for (const c of el.children) problems.add(file, c.line, c.name, 'a text segment has no child elements');
    return Object.freeze({ kind: 'text', name, property, repeat });
  }
  const cbFile = a.str('copybook')?.trim();
  const record = a.str('record')?.trim() || undefined;
  const llField = a.str('llField')?.trim().toUpperCase();
  const zzField = a.str('zzField')?.trim().toUpperCase();
  const tranField = a.str('trancodeField')?.trim().toUpperCase();
  if (tranField && kind === 'response') a.problem('trancodeField', 'only a request segment carries the transaction code');
  const codePage = a.str('codePage')?.trim() || ctx.codePage;
  const names = a.oneOf<NameStyle>('names', ['underscore', 'cobol', 'camel'], 'underscore');
  const stringOverflow = a.oneOf('stringOverflow', ['error', 'truncate'] as const, 'error');
  const allowTrailingBytes = a.bool('allowTrailingBytes', false);
  a.finish();
  if ((llField === undefined) !== (zzField === undefined)) a.problem(llField ? 'zzField' : 'llField', 'llField and zzField go together');

  let source: string | undefined;
  let sourceName: string;
  const inline = el.children.filter((c) => c.name === 'copybook');
  if (cbFile && inline.length > 0) a.problem('copybook', 'give the copybook as an attribute or as a <copybook> element, not both');
  if (cbFile) {
    const abs = path.resolve(ctx.dir, cbFile);
    sourceName = path.relative(ctx.dir, abs);
    source = readText(abs, sourceName, problems);
    if (source === undefined) a.problem('copybook', `cannot read ${cbFile}`);
  } else if (inline.length === 1) {
    source = inline[0]!.text;
    sourceName = `${file}:<copybook line ${inline[0]!.line}>`;
  } else {
    a.problem('copybook', 'a copybook segment needs copybook="FILE" or an inline <copybook> element');
    return undefined;
  }
  const rename: Record<string, string> = {};
  const exclude: string[] = [];
  const redefines: Record<string, string | string[]> = {};
  const defaults: { cobol: string; value: string; line: number }[] = [];
  if (llField) exclude.push(llField);
  if (zzField) exclude.push(zzField);
  if (tranField) exclude.push(tranField);
  for (const c of el.children) {
    if (c.name === 'copybook') continue;
    const ca = new Attrs(c, { file, problems });
    if (c.name === 'field') {
      const fname = ca.required('name')?.toUpperCase();
      const rn = ca.str('rename')?.trim();
      const ex = ca.bool('exclude', false);
      const def = ca.str('default');
      ca.finish();
      if (!fname) continue;
      if (rn) rename[fname] = rn;
      if (ex) exclude.push(fname);
      if (def !== undefined) {
        if (kind === 'response') ca.problem('default', 'response fields cannot have defaults (IBM: response interfaces may not contain defaults)');
        else defaults.push({ cobol: fname, value: def, line: c.line });
      }
    } else if (c.name === 'redefines') {
      const orig = ca.required('original')?.toUpperCase();
      const use = ca.required('use');
      ca.finish();
      if (orig && use) redefines[orig] = use.trim() === '*' ? '*' : use.split(',').map((s) => s.trim().toUpperCase());
    } else problems.add(file, c.line, c.name, 'unknown element in <segment> (expected <field>, <redefines>, <copybook>)');
  }
  if (source === undefined) return undefined;
  let book: Copybook;
  try {
    const opts: CompileOptions = {
      fileName: sourceName,
      codePage: /^\d+$/.test(codePage) ? Number(codePage) : codePage,
      names,
      rename,
      exclude,
      redefines,
      stringOverflow,
      allowTrailingBytes,
      ...(record ? { record } : {}),
    };
    book = compileCopybook(source, opts);
  } catch (e) {
    if (isImsplexError(e)) {
      const line = typeof e.details['line'] === 'number' ? (e.details['line'] as number) : 0;
      const where = typeof e.details['file'] === 'string' ? (e.details['file'] as string) : sourceName;
      // The copybook's own message already starts with `file:line:`; keep only the text after it.
      problems.add(where, line, `segment.copybook`, e.message.replace(/^[^:]+:\d+:\s*/, ''));
      return undefined;
    }
    throw e;
  }
  const check = (fname: string | undefined, key: string, offset: number, ok: (f: NonNullable<ReturnType<Copybook['field']>>) => boolean, what: string) => {
    if (!fname) return undefined;
    const f = book.field(fname);
    if (!f) {
      a.problem(key, `the copybook has no field ${fname}`);
      return undefined;
    }
    if (f.offset !== offset || !ok(f)) {
      a.problem(key, `${fname} must be ${what} at offset ${offset} (it is ${f.kind} ${f.size} bytes at offset ${f.offset})`);
      return undefined;
    }
    return f;
  };
  check(llField, 'llField', 0, (f) => f.kind === 'binary' && f.size === 2, 'a binary halfword');
  check(zzField, 'zzField', 2, (f) => f.kind === 'binary' && f.size === 2, 'a binary halfword');
  const tf = check(tranField, 'trancodeField', llField ? 4 : 0, (f) => f.kind === 'alphanumeric' && f.size >= 8, 'a PIC X field of at least 8 bytes');
  const jsonPathOf = (cobol: string): string[] | undefined => {
    const f = book.field(cobol);
    if (!f || f.jsonName === null) return undefined;
    const parts = f.path.split('.');
    const out: string[] = [];
    for (let i = 2; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('.');
      const g = book.fields.find((x) => x.path === p);
      if (!g || g.jsonName === null) return undefined;
      out.push(g.jsonName);
    }
    return out;
  };
  const resolvedDefaults: { path: string[]; value: string }[] = [];
  for (const d of defaults) {
    const p = jsonPathOf(d.cobol);
    if (!p) problems.add(file, d.line, `field.${d.cobol}`, 'names no field of the JSON interface (unknown, excluded or FILLER)');
    else resolvedDefaults.push({ path: p, value: d.value });
  }
  return Object.freeze({
    kind: 'copybook',
    name,
    copybook: book,
    llzz: llField !== undefined,
    trancodeField: tf ? Object.freeze({ offset: tf.offset, size: tf.size }) : undefined,
    defaults: Object.freeze(resolvedDefaults),
    repeat,
    allowTrailingBytes,
  });
}

/** JSON schema of one side of a service (segments merged or nested as the runtime maps them). */
function sideSchema(segs: readonly SegmentMap[], kind: 'request' | 'response', service: string): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const s of segs) {
    let schema: Record<string, unknown>;
    if (s.kind === 'text') schema = { type: 'object', properties: { [s.property]: { type: 'string' } } };
    else {
      const { title: _t, ...rest } = s.copybook.openApiSchema();
      schema = rest;
    }
    if (s.repeat) schema = { type: 'array', items: schema };
    if (s.name !== undefined) properties[s.name] = schema;
    else if (s.repeat) properties['segments'] = schema;
    else Object.assign(properties, (schema['properties'] as Record<string, unknown> | undefined) ?? {});
  }
  return { title: `${service} ${kind}`, type: 'object', properties };
}
