/**
 * `server.xml`: the Liberty-style server configuration (spec §3.1) — the z/OS Connect manager, the
 * HTTP endpoint, the basic user registry, IMS connection profiles (`imsmobile_imsConnection` →
 * `connectionFactory` → `properties.gmoa`, `authData`, `connectionManager`) and IMS interaction
 * profiles (`imsmobile_interaction`). `<include location="…"/>` pulls in shared files, so several
 * servers can share one configuration (spec §6.2).
 */
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { type IrmTimerSetting } from '@imsplex/client';
import { getCodePage } from '@imsplex/codec';
import { type ProblemList } from '../errors.js';
import { type ConnectionProfile, type EndpointConfig, type InteractionProfile, type ManagerConfig, type Role, type UserConfig } from './model.js';
import { Attrs, IMS_NAME } from './values.js';
import { parseXml, XmlSyntaxError, type XmlElement } from './xml.js';

/** Largest configuration file read. */
export const MAX_CONFIG_FILE = 4 * 1024 * 1024;
/** Deepest include chain. */
const MAX_INCLUDES = 16;

/** Defaults of `zosconnect_zosConnectManager` (choices of this emulator where IBM gives none). */
export const MANAGER_DEFAULTS: ManagerConfig = Object.freeze({
  // IBM's asyncRequestTimeout default is 600 s [spec §2.4 names the attribute, not the default: INF].
  asyncRequestTimeout: 600_000,
  errorProfile: 'ibm',
  requireAuth: false,
  roleGroups: Object.freeze({ Admin: 'zosConnectAdmin', Operations: 'zosConnectOperations', Invoke: 'zosConnectInvoke', Reader: 'zosConnectReader' }),
  maxInFlight: 1024,
  maxRequestBodySize: 1024 * 1024,
  conversationTimeout: 300_000,
  maxConversations: 1000,
  stopTimeout: 30_000,
  jobname: undefined,
});

/** What server.xml (with its includes) defines. */
export interface ServerXml {
  readonly manager: ManagerConfig;
  readonly endpoint: EndpointConfig | undefined;
  readonly users: UserConfig[];
  readonly connections: Map<string, ConnectionProfile>;
  readonly interactions: Map<string, InteractionProfile>;
}

/** Read a text file within the size limit, recording a problem instead of throwing. */
export function readText(abs: string, rel: string, problems: ProblemList): string | undefined {
  try {
    const st = statSync(abs);
    if (!st.isFile()) {
      problems.add(rel, 0, 'file', 'is not a regular file');
      return undefined;
    }
    if (st.size > MAX_CONFIG_FILE) {
      problems.add(rel, 0, 'file', `is ${st.size} bytes; the limit is ${MAX_CONFIG_FILE}`);
      return undefined;
    }
    return readFileSync(abs, 'utf8');
  } catch (e) {
    problems.add(rel, 0, 'file', `cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return undefined;
  }
}

/** Parse an XML file, recording syntax errors. */
export function readXml(abs: string, rel: string, problems: ProblemList): XmlElement | undefined {
  const text = readText(abs, rel, problems);
  if (text === undefined) return undefined;
  try {
    return parseXml(text);
  } catch (e) {
    if (e instanceof XmlSyntaxError) {
      problems.add(rel, e.line, 'xml', e.message);
      return undefined;
    }
    throw e;
  }
}

interface Raw {
  el: XmlElement;
  file: string;
}

/** Load server.xml (and includes) from `dir`. */
export function loadServerXml(dir: string, problems: ProblemList): ServerXml {
  const elements: Raw[] = [];
  const seen = new Set<string>();
  const rel = (abs: string) => path.relative(dir, abs) || path.basename(abs);
  const visit = (abs: string, depth: number, from?: { file: string; line: number }): void => {
    if (seen.has(abs)) {
      if (from) problems.add(from.file, from.line, 'include.location', `includes ${rel(abs)} a second time (include cycle or duplicate)`);
      return;
    }
    if (depth > MAX_INCLUDES) {
      if (from) problems.add(from.file, from.line, 'include.location', `includes nest deeper than ${MAX_INCLUDES}`);
      return;
    }
    seen.add(abs);
    const file = rel(abs);
    const root = readXml(abs, file, problems);
    if (!root) return;
    if (root.name !== 'server') {
      problems.add(file, root.line, root.name, 'the root element must be <server>');
      return;
    }
    for (const el of root.children) {
      if (el.name === 'include') {
        const a = new Attrs(el, { file, problems });
        const loc = a.required('location');
        a.str('optional');
        const optional = a.bool('optional', false);
        a.finish();
        if (loc === undefined) continue;
        const resolved = path.resolve(path.dirname(abs), loc.replace(/\$\{shared\.config\.dir\}/g, dir).replace(/\$\{server\.config\.dir\}/g, dir));
        try {
          statSync(resolved);
        } catch {
          if (!optional) problems.add(file, el.line, 'include.location', `${loc} does not exist`);
          continue;
        }
        visit(resolved, depth + 1, { file, line: el.line });
      } else elements.push({ el, file });
    }
  };
  visit(path.join(dir, 'server.xml'), 0);

  let manager: ManagerConfig = MANAGER_DEFAULTS;
  let endpoint: EndpointConfig | undefined;
  const users: UserConfig[] = [];
  const groups = new Map<string, string[]>();
  const connectionEls: Raw[] = [];
  const factories = new Map<string, Raw>();
  const auths = new Map<string, Raw>();
  const managers = new Map<string, Raw>();
  const interactions = new Map<string, InteractionProfile>();
  const byId = (map: Map<string, Raw>, r: Raw, kind: string): void => {
    const id = r.el.attributes.get('id')?.value;
    if (!id) return problems.add(r.file, r.el.line, `${kind}.id`, 'is required');
    if (map.has(id)) return problems.add(r.file, r.el.line, `${kind}.id`, `"${id}" is defined twice (also ${map.get(id)!.file}:${map.get(id)!.el.line})`);
    map.set(id, r);
  };
  let managerSeen: Raw | undefined;

  for (const r of elements) {
    const { el, file } = r;
    const at = { file, problems };
    switch (el.name) {
      case 'featureManager':
      case 'webApplication':
        break; // Liberty elements that a shared server.xml may carry; nothing to configure here.
      case 'zosconnect_zosConnectManager': {
        if (managerSeen) problems.add(file, el.line, el.name, `is given twice (also ${managerSeen.file}:${managerSeen.el.line})`);
        managerSeen = r;
        manager = readManager(new Attrs(el, at));
        break;
      }
      case 'httpEndpoint': {
        const a = new Attrs(el, at);
        a.str('id');
        const host = a.str('host') ?? '127.0.0.1';
        const port = a.int('httpPort', 0, 65535, 5595);
        a.finish();
        if (host === '*') problems.add(file, el.line, 'httpEndpoint.host', 'must be an address on 127.0.0.0/8 (loopback only), not *');
        endpoint = { host, port };
        break;
      }
      case 'basicRegistry': {
        const a = new Attrs(el, at);
        a.str('id');
        a.str('realm');
        a.finish();
        for (const c of el.children) {
          const ca = new Attrs(c, at);
          if (c.name === 'user') {
            const name = ca.required('name');
            const password = ca.required('password');
            ca.finish();
            if (name && password) {
              if (users.some((u) => u.name === name)) ca.problem('name', `user "${name}" is defined twice`);
              else users.push({ name, password, groups: [] });
            }
          } else if (c.name === 'group') {
            const name = ca.required('name');
            ca.finish();
            const members: string[] = [];
            for (const m of c.children) {
              const ma = new Attrs(m, at);
              if (m.name !== 'member') {
                problems.add(file, m.line, m.name, 'unknown element in <group> (expected <member name="…"/>)');
                continue;
              }
              const mn = ma.required('name');
              ma.finish();
              if (mn) members.push(mn);
            }
            if (name) groups.set(name, [...(groups.get(name) ?? []), ...members]);
          } else problems.add(file, c.line, c.name, 'unknown element in <basicRegistry> (expected <user> or <group>)');
        }
        break;
      }
      case 'imsmobile_imsConnection':
      case 'zosconnect_imsConnection':
        connectionEls.push(r);
        break;
      case 'connectionFactory':
        byId(factories, r, el.name);
        break;
      case 'authData':
        byId(auths, r, el.name);
        break;
      case 'connectionManager':
        byId(managers, r, el.name);
        break;
      case 'imsmobile_interaction': {
        const p = readInteraction(new Attrs(el, at), file);
        if (p) {
          if (interactions.has(p.id)) problems.add(file, el.line, `${el.name}.id`, `"${p.id}" is defined twice`);
          else interactions.set(p.id, p);
        }
        break;
      }
      default:
        problems.add(file, el.line, el.name, 'unknown element');
    }
  }

  for (const [g, members] of groups) {
    for (const m of members) {
      const u = users.find((x) => x.name === m);
      if (!u) {
        problems.add('server.xml', 0, `group.${g}`, `member "${m}" is not a user of the registry`);
        continue;
      }
      (u.groups as string[]).push(g);
    }
  }

  const connections = new Map<string, ConnectionProfile>();
  const usedFactories = new Map<string, string>();
  for (const r of connectionEls) {
    const p = readConnection(r, { factories, auths, managers, usedFactories, problems });
    if (p) {
      if (connections.has(p.id)) problems.add(r.file, r.el.line, `${r.el.name}.id`, `"${p.id}" is defined twice`);
      else connections.set(p.id, p);
    }
  }
  return { manager, endpoint, users, connections, interactions };
}

function readManager(a: Attrs): ManagerConfig {
  a.str('id');
  const useJson = a.bool('useJsonErrorResponses', true);
  if (!useJson) a.problem('useJsonErrorResponses', 'only true is supported: every error is answered with the JSON error body');
  const group = (key: string, role: Role) => a.str(key)?.trim() || MANAGER_DEFAULTS.roleGroups[role];
  const jobname = a.str('jobname');
  if (jobname !== undefined && !/^[A-Za-z@#$][A-Za-z0-9@#$]{0,7}$/.test(jobname)) a.problem('jobname', 'must be a job name of 1–8 characters');
  const m: ManagerConfig = Object.freeze({
    asyncRequestTimeout: a.duration('asyncRequestTimeout', 'ms', MANAGER_DEFAULTS.asyncRequestTimeout),
    errorProfile: a.oneOf('errorProfile', ['ibm', 'semantic'] as const, 'ibm'),
    requireAuth: a.bool('requireAuth', false),
    roleGroups: Object.freeze({
      Admin: group('globalAdminGroup', 'Admin'),
      Operations: group('globalOperationsGroup', 'Operations'),
      Invoke: group('globalInvokeGroup', 'Invoke'),
      Reader: group('globalReaderGroup', 'Reader'),
    }),
    maxInFlight: a.int('maxInFlight', 1, 1_000_000, MANAGER_DEFAULTS.maxInFlight),
    maxRequestBodySize: a.int('maxRequestBodySize', 64, 64 * 1024 * 1024, MANAGER_DEFAULTS.maxRequestBodySize),
    conversationTimeout: a.duration('conversationTimeout', 'ms', MANAGER_DEFAULTS.conversationTimeout),
    maxConversations: a.int('maxConversations', 0, 1_000_000, MANAGER_DEFAULTS.maxConversations),
    stopTimeout: a.duration('stopTimeout', 'ms', MANAGER_DEFAULTS.stopTimeout),
    jobname: jobname?.toUpperCase(),
  });
  a.finish();
  return m;
}

function imsName(a: Attrs, key: string): string | undefined {
  const v = a.str(key)?.trim();
  if (v === undefined || v === '') return undefined;
  const u = v.toUpperCase();
  if (!IMS_NAME.test(u)) {
    a.problem(key, `must be 1–8 characters of A–Z, 0–9, @, #, $; got "${v}"`);
    return undefined;
  }
  return u;
}

/** Parse an IRM timer attribute (IBM `interactionTimeout`: −1 no limit, 0 IMS Connect's TIMEOUT, 1–3 600 000 ms). */
export function readTimer(a: Attrs, key: string): IrmTimerSetting | undefined {
  const v = a.str(key)?.trim();
  if (v === undefined || v === '') return undefined;
  if (v === '-1') return 'forever';
  if (v === '0') return 'default';
  if (/^\d{1,7}$/.test(v) && Number(v) >= 1 && Number(v) <= 3_600_000) return Number(v);
  a.problem(key, `must be -1 (no limit), 0 (IMS Connect's TIMEOUT) or 1–3600000 ms, got "${v}"`);
  return undefined;
}

function readInteraction(a: Attrs, file: string): InteractionProfile | undefined {
  const id = a.required('id');
  a.str('comment');
  const commitMode = a.oneOf('commitMode', ['0', '1'] as const, '1') === '0' ? 0 : 1;
  const syncRaw = a.oneOf('syncLevel', ['0', '1', 'none', 'confirm'] as const, commitMode === 0 ? '1' : '0');
  const syncLevel = syncRaw === '1' || syncRaw === 'confirm' ? 'confirm' : 'none';
  if (commitMode === 0 && syncLevel !== 'confirm') a.problem('syncLevel', 'commit mode 0 supports only sync level 1 (CONFIRM)');
  const codePage = a.str('imsConnectCodepage')?.trim() || 'cp037';
  try {
    getCodePage(/^\d+$/.test(codePage) ? Number(codePage) : codePage);
  } catch {
    a.problem('imsConnectCodepage', `"${codePage}" is not a known code page (cp037, cp500, cp1047, cp1140, latin1, or their numbers)`);
  }
  const purge = a.bool('purgeAsyncOutput', false);
  const reroute = a.bool('reRoute', false);
  const rerouteName = imsName(a, 'reRouteName');
  if (reroute && !rerouteName) a.problem('reRouteName', 'is required when reRoute is true');
  if (purge && reroute) a.problem('purgeAsyncOutput', 'purgeAsyncOutput and reRoute are mutually exclusive');
  const p: InteractionProfile = Object.freeze({
    id: id ?? '',
    commitMode,
    syncLevel,
    datastore: imsName(a, 'imsDatastoreName'),
    interactionTimeout: readTimer(a, 'interactionTimeout') ?? 'default',
    imsConnectTimeout: a.duration('imsConnectTimeout', 'ms', 0),
    lterm: imsName(a, 'ltermOverrideName'),
    codePage: /^\d+$/.test(codePage) ? `cp${Number(codePage)}` : codePage.toLowerCase(),
    purgeAsyncOutput: purge,
    rerouteName: reroute ? rerouteName : undefined,
    file,
    line: a.line(),
  });
  a.finish();
  return id ? p : undefined;
}

function readConnection(
  r: Raw,
  ctx: {
    factories: Map<string, Raw>;
    auths: Map<string, Raw>;
    managers: Map<string, Raw>;
    usedFactories: Map<string, string>;
    problems: ProblemList;
  },
): ConnectionProfile | undefined {
  const { problems } = ctx;
  const a = new Attrs(r.el, { file: r.file, problems });
  const id = a.required('id');
  a.str('comment');
  const factoryRef = a.required('connectionFactoryRef');
  const ping = a.bool('pingIMSConnectOnInvoke', false);
  const localAddress = a.str('localAddress')?.trim() || undefined;
  const connDatastore = imsName(a, 'imsDatastoreName');
  const connectTimeout = a.duration('connectTimeout', 'ms', 10_000, 600_000);
  a.finish();
  if (!id || !factoryRef) return undefined;
  const f = ctx.factories.get(factoryRef);
  if (!f) {
    a.problem('connectionFactoryRef', `no <connectionFactory id="${factoryRef}">`);
    return undefined;
  }
  const other = ctx.usedFactories.get(factoryRef);
  if (other) a.problem('connectionFactoryRef', `connection factory "${factoryRef}" is already used by connection "${other}" (one factory per profile)`);
  ctx.usedFactories.set(factoryRef, id);
  const fa = new Attrs(f.el, { file: f.file, problems });
  fa.str('id');
  const authRef = fa.str('containerAuthDataRef');
  const cmRef = fa.str('connectionManagerRef');
  fa.finish();
  const gmoas = f.el.children.filter((c) => c.name === 'properties.gmoa');
  for (const c of f.el.children) if (c.name !== 'properties.gmoa') problems.add(f.file, c.line, c.name, 'unknown element in <connectionFactory> (expected <properties.gmoa>)');
  if (gmoas.length !== 1) {
    problems.add(f.file, f.el.line, 'connectionFactory.properties.gmoa', 'exactly one <properties.gmoa hostName=… portNumber=…/> is required');
    return undefined;
  }
  const g = new Attrs(gmoas[0]!, { file: f.file, problems });
  const host = g.required('hostName');
  const port = g.int('portNumber', 1, 65535, 0);
  if (!g.has('portNumber')) g.problem('portNumber', 'is required');
  const datastore = imsName(g, 'dataStoreName');
  const sslEnabled = g.bool('SSLEnabled', false);
  const trust = g.str('SSLTrustStoreName')?.trim() || undefined;
  const verify = g.bool('SSLVerifyHost', true);
  const servername = g.str('SSLServerName')?.trim() || undefined;
  const prefix = (g.str('clientIdPrefix')?.trim() || 'ZCON').toUpperCase();
  if (!/^[A-Z@#$][A-Z0-9@#$]{0,6}$/.test(prefix) || prefix.startsWith('HWS')) g.problem('clientIdPrefix', 'must be 1–7 characters of A–Z 0–9 @ # $, not starting with a digit or HWS');
  let user = g.str('userName')?.trim() || undefined;
  let password = g.str('password') || undefined;
  const group = g.str('groupName')?.trim().toUpperCase() || undefined;
  g.finish();
  if (authRef) {
    const ad = ctx.auths.get(authRef);
    if (!ad) fa.problem('containerAuthDataRef', `no <authData id="${authRef}">`);
    else {
      const aa = new Attrs(ad.el, { file: ad.file, problems });
      aa.str('id');
      user = aa.required('user')?.toUpperCase() ?? user;
      password = aa.str('password') ?? password;
      aa.finish();
      if (user && user.length > 8) aa.problem('user', 'a RACF user ID has at most 8 characters');
      if (password && password.length > 8) aa.problem('password', 'a RACF password or PassTicket has at most 8 characters');
    }
  }
  let minConnections = 0;
  let maxConnections = 50; // Liberty connectionManager maxPoolSize default [spec §3.1, R].
  let acquireTimeout = 30_000; // Liberty connectionTimeout default 30 s.
  let maxIdleTime = 1_800_000; // Liberty maxIdleTime default 30 min.
  if (cmRef) {
    const cm = ctx.managers.get(cmRef);
    if (!cm) fa.problem('connectionManagerRef', `no <connectionManager id="${cmRef}">`);
    else {
      const ca = new Attrs(cm.el, { file: cm.file, problems });
      ca.str('id');
      maxConnections = ca.int('maxPoolSize', 1, 10_000, maxConnections);
      minConnections = ca.int('minPoolSize', 0, 10_000, 0);
      if (minConnections > maxConnections) ca.problem('minPoolSize', `must not exceed maxPoolSize (${maxConnections})`);
      acquireTimeout = ca.duration('connectionTimeout', 's', acquireTimeout);
      maxIdleTime = ca.duration('maxIdleTime', 's', maxIdleTime);
      ca.str('reapTime');
      ca.str('agedTimeout');
      ca.str('purgePolicy');
      ca.finish();
    }
  }
  if (!host || port === 0) return undefined;
  return Object.freeze({
    id,
    host,
    port,
    localAddress,
    datastore: connDatastore ?? datastore,
    tls: sslEnabled ? Object.freeze({ caFile: trust, rejectUnauthorized: verify, servername }) : false,
    user,
    password,
    group,
    clientIdPrefix: prefix,
    minConnections,
    maxConnections: Math.max(maxConnections, minConnections),
    acquireTimeout,
    maxIdleTime,
    connectTimeout,
    pingOnInvoke: ping,
    file: r.file,
    line: r.el.line,
  });
}
