/** Configuration directory: the samples load, and every kind of mistake is reported as `file:line: key: what`. */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseDuration, parseLocatedJson, parseXml, XmlSyntaxError, JsonSyntaxError } from '../src/index.js';
import { SAMPLES, tempConfig } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function problems(changes: Record<string, string | null>): string[] {
  const cfg = tempConfig(changes);
  cleanups.push(cfg.cleanup);
  try {
    loadConfig(cfg.dir);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).code).toBe('ZCON_ERR_CONFIG');
    return (e as ConfigError).problems.map((p) => `${p.file}:${p.line}: ${p.key}: ${p.message}`);
  }
  return [];
}

const serverXml = readFileSync(`${SAMPLES}/server.xml`, 'utf8');
const phonebook = readFileSync(`${SAMPLES}/apis/phonebook.json`, 'utf8');

describe('sample configuration', () => {
  it('loads the profiles, services and APIs', () => {
    const c = loadConfig(SAMPLES);
    expect(c.endpoint).toEqual({ host: '127.0.1.1', port: 5595 });
    expect(c.manager).toMatchObject({ asyncRequestTimeout: 30_000, errorProfile: 'ibm', conversationTimeout: 300_000, maxConversations: 200 });
    const conn = c.connections.get('IMSCONN1')!;
    expect(conn).toMatchObject({ host: '127.0.0.100', port: 5801, datastore: 'IMS1', maxConnections: 20, acquireTimeout: 30_000, maxIdleTime: 1_800_000, tls: false, clientIdPrefix: 'ZCON' });
    expect(c.interactions.get('IMSINT1')).toMatchObject({ commitMode: 1, syncLevel: 'none', interactionTimeout: 10_000, imsConnectTimeout: 20_000, codePage: 'cp037' });
    const ivtno = c.services.get('IVTNO')!;
    expect(ivtno).toMatchObject({ trancode: 'IVTNO', conversational: false });
    const seg = ivtno.request[0]!;
    expect(seg.kind === 'copybook' && seg.llzz && seg.trancodeField).toEqual({ offset: 4, size: 10 });
    expect(c.services.get('IVTCV')!.conversational).toBe(true);
    expect(c.apis.get('phonebook')!.basePath).toBe('/phonebook');
    expect(c.apis.get('ivtcv')!.operations.map((o) => `${o.method} ${o.path} ${o.conversation}`)).toEqual([
      'POST /conversations start',
      'PUT /conversations/{conversationId} continue',
      'DELETE /conversations/{conversationId} end',
    ]);
    expect(c.users.find((u) => u.name === 'zcadmin')!.groups).toEqual(['zosConnectAdmin']);
  });
});

describe('server.xml problems', () => {
  it('XML syntax errors name the line', () => {
    const p = problems({ 'server.xml': '<server>\n  <httpEndpoint host="a"\n</server>' });
    expect(p[0]).toBe('server.xml:3: xml: expected an attribute name in <httpEndpoint>');
  });

  it('unknown elements and attributes, bad values, missing references', () => {
    const xml = serverXml
      .replace('<httpEndpoint id="defaultHttpEndpoint"', '<httpEndpoint id="defaultHttpEndpoint" hots="x"')
      .replace('asyncRequestTimeout="30s"', 'asyncRequestTimeout="soon"')
      .replace('connectionFactoryRef="IMSCF1"', 'connectionFactoryRef="NOPE"')
      .replace('commitMode="1" syncLevel="0"', 'commitMode="0" syncLevel="0"')
      .replace('</server>', '  <bogus/>\n</server>');
    const p = problems({ 'server.xml': xml });
    const line = (needle: string) => xml.split('\n').findIndex((l) => l.includes(needle)) + 1;
    expect(p).toContain(`server.xml:${line('hots=')}: httpEndpoint.hots: unknown attribute`);
    expect(p).toContain(`server.xml:${line('asyncRequestTimeout=')}: zosconnect_zosConnectManager.asyncRequestTimeout: must be a duration such as 500ms, 30s, 5m or a number of milliseconds (at most 86400000 ms), got "soon"`);
    expect(p).toContain(`server.xml:${line('connectionFactoryRef="NOPE"')}: imsmobile_imsConnection.connectionFactoryRef: no <connectionFactory id="NOPE">`);
    expect(p).toContain(`server.xml:${line('commitMode="0"')}: imsmobile_interaction.syncLevel: commit mode 0 supports only sync level 1 (CONFIRM)`);
    expect(p).toContain(`server.xml:${line('<bogus/>')}: bogus: unknown element`);
    // The services that named the broken connection profile are reported too.
    expect(p.some((x) => x.startsWith('services/IVTNO.xml:') && x.includes('no IMS connection profile "IMSCONN1"'))).toBe(true);
  });

  it('includes resolve relative to the including file, and cycles are reported', () => {
    const shared = serverXml.replace(/<httpEndpoint[^>]*\/>/, '');
    const local = '<server>\n  <include location="shared/ha.xml"/>\n  <httpEndpoint host="127.0.1.2" httpPort="5595"/>\n</server>\n';
    const cfg = tempConfig({ 'server.xml': local, 'shared/ha.xml': shared });
    cleanups.push(cfg.cleanup);
    const c = loadConfig(cfg.dir);
    expect(c.endpoint).toEqual({ host: '127.0.1.2', port: 5595 });
    expect(c.connections.has('IMSCONN1')).toBe(true);
    const p = problems({ 'server.xml': '<server>\n<include location="server.xml"/>\n</server>' });
    expect(p).toContain('server.xml:2: include.location: includes server.xml a second time (include cycle or duplicate)');
  });
});

describe('service problems', () => {
  it('copybook errors carry the copybook file and line', () => {
    const p = problems({ 'copybooks/IVTNOM.cpy': '       01  OUTPUT-MSG.\n           05  OUT-LL   PIC S9(3) COMP.\n           05  OUT-ZZ   PIC S9(3) COMPX.\n' });
    expect(p.some((x) => /^copybooks\/IVTNOM\.cpy:3: segment\.copybook: /.test(x))).toBe(true);
  });

  it('LL/ZZ/trancode fields must be where the runtime writes them', () => {
    const svc = readFileSync(`${SAMPLES}/services/IVTNO.xml`, 'utf8').replace('trancodeField="IN-TRANCDE"', 'trancodeField="IN-COMMAND"').replace('<field name="IN-COMMAND" default="DIS"/>', '<field name="IN-NOPE" default="X"/>');
    const p = problems({ 'services/IVTNO.xml': svc });
    const line = svc.split('\n').findIndex((l) => l.includes('trancodeField')) + 1;
    expect(p).toContain(`services/IVTNO.xml:${line}: request.trancodeField: IN-COMMAND must be a PIC X field of at least 8 bytes at offset 4 (it is alphanumeric 8 bytes at offset 14)`);
    expect(p.some((x) => x.includes('field.IN-NOPE: names no field of the JSON interface'))).toBe(true);
  });

  it('response defaults are refused', () => {
    const svc = readFileSync(`${SAMPLES}/services/IVTNO.xml`, 'utf8').replace('<response copybook="copybooks/IVTNOM.cpy" record="OUTPUT-MSG" llField="OUT-LL" zzField="OUT-ZZ"/>', '<response copybook="copybooks/IVTNOM.cpy" record="OUTPUT-MSG" llField="OUT-LL" zzField="OUT-ZZ">\n<field name="OUT-MESSAGE" default="x"/>\n</response>');
    expect(problems({ 'services/IVTNO.xml': svc }).some((x) => x.includes('field.default: response fields cannot have defaults'))).toBe(true);
  });
});

describe('API problems', () => {
  it('JSON syntax errors name the line', () => {
    expect(problems({ 'apis/phonebook.json': '{\n  "openapi": "3.0.3",\n  "info": {,}\n}' })).toEqual(['apis/phonebook.json:3: json: expected a property name in double quotes']);
  });

  it('unknown service, undeclared path parameter, bad reference and bad condition name their lines', () => {
    const doc = JSON.parse(phonebook);
    const get = doc.paths['/{lastName}'].get;
    get['x-zosconnect-service'] = 'NOPE';
    doc.paths['/{lastName}'].post['x-zosconnect-request'].IN_RECORD.IN_LAST_NAME = '$path.lastname';
    doc.paths['/{lastName}'].put['x-zosconnect-request'].IN_RECORD.IN_ZIP_CODE = '$bogus';
    doc.paths['/{lastName}'].delete['x-zosconnect-response'].conditions[0].status = 700;
    doc.paths['/x/{id}'] = { get: { 'x-zosconnect-service': 'IVTNO' } };
    const text = JSON.stringify(doc, null, 2);
    const p = problems({ 'apis/phonebook.json': text });
    const lines = text.split('\n');
    const at = (needle: string, from = 0) => lines.findIndex((l, i) => i >= from && l.includes(needle)) + 1;
    expect(p).toContain(`apis/phonebook.json:${at('"x-zosconnect-service": "NOPE"')}: paths./{lastName}.get.x-zosconnect-service: no service "NOPE" in services/`);
    expect(p.some((x) => x.includes('$path.lastname is not a declared path parameter'))).toBe(true);
    expect(p.some((x) => x.includes('unknown reference "$bogus"'))).toBe(true);
    expect(p).toContain(`apis/phonebook.json:${at('"status": 700')}: paths./{lastName}.delete.x-zosconnect-response.conditions[0].status: must be an HTTP status from 200 to 599`);
    expect(p).toContain(`apis/phonebook.json:${at('"get"', at('"/x/{id}"'))}: paths./x/{id}.get: path parameter {id} is not declared in "parameters" with "in": "path"`);
  });

  it('two APIs on one base path are refused', () => {
    expect(problems({ 'apis/copy.json': phonebook })).toContain('apis/phonebook.json:1: servers: base path /phonebook is also used by API "copy"');
  });
});

describe('parsers', () => {
  it('XML: entities, CDATA, comments, lines', () => {
    const el = parseXml('<?xml version="1.0"?>\n<!-- c -->\n<a x="1 &amp; &#65;&#x42;">\n  <b y=\'2\'><![CDATA[ <raw> ]]></b>\n</a>');
    expect(el.attributes.get('x')).toEqual({ value: '1 & AB', line: 3 });
    expect(el.children[0]!.line).toBe(4);
    expect(el.children[0]!.text).toBe(' <raw> ');
    expect(() => parseXml('<a><b></a>')).toThrow(XmlSyntaxError);
    expect(() => parseXml('<!DOCTYPE a><a/>')).toThrow(/DOCTYPE/);
    expect(() => parseXml('<a x="&bogus;"/>')).toThrow(/unknown entity/);
  });

  it('JSON: lines by path, duplicate keys refused', () => {
    const j = parseLocatedJson('{\n "a": [\n  1,\n  {"b": true}\n ]\n}');
    expect(j.value).toEqual({ a: [1, { b: true }] });
    expect(j.lines.get('a[1].b')).toBe(4);
    expect(() => parseLocatedJson('{"a":1,\n"a":2}')).toThrow(JsonSyntaxError);
    try {
      parseLocatedJson('{"a":1,\n"a":2}');
    } catch (e) {
      expect((e as JsonSyntaxError).line).toBe(2);
    }
  });

  it('durations', () => {
    expect([parseDuration('500ms', 's'), parseDuration('30s', 'ms'), parseDuration('5m', 'ms'), parseDuration('2', 's'), parseDuration('2', 'ms'), parseDuration('x', 'ms')]).toEqual([500, 30_000, 300_000, 2000, 2, undefined]);
  });
});
