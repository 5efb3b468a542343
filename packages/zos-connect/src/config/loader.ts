/**
 * `loadConfig(dir)`: read and validate a z/OS Connect configuration directory (README
 * "Configuration directory"):
 *
 * ```
 * DIR/server.xml          manager, HTTP endpoint, users, IMS connection and interaction profiles
 * DIR/services/*.xml      services (IMS transaction + request/response segment mappings)
 * DIR/apis/*.json         APIs (OpenAPI 3 documents with x-zosconnect-* mappings)
 * DIR/copybooks/…         copybooks the services name
 * ```
 *
 * Every problem of every file is collected and thrown once as a `ConfigError` whose message lists
 * `file:line: key: what is wrong` lines.
 */
import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { ProblemList } from '../errors.js';
import { loadApi } from './apis.js';
import { type ApiConfig, type ServiceConfig, type ZosConnectConfig } from './model.js';
import { loadServerXml } from './server-xml.js';
import { loadService } from './services.js';

/** Most services or APIs read from one directory. */
export const MAX_DEFINITIONS = 10_000;

function listFiles(dir: string, sub: string, ext: string, problems: ProblemList): string[] {
  const abs = path.join(dir, sub);
  let names: string[];
  try {
    if (!statSync(abs).isDirectory()) {
      problems.add(sub, 0, sub, 'must be a directory');
      return [];
    }
    names = readdirSync(abs);
  } catch {
    return [];
  }
  const files = names.filter((n) => n.endsWith(ext)).sort();
  if (files.length > MAX_DEFINITIONS) {
    problems.add(sub, 0, sub, `holds ${files.length} definitions; the limit is ${MAX_DEFINITIONS}`);
    return [];
  }
  return files.map((n) => path.join(abs, n));
}

/** Read and validate the configuration directory. Throws `ConfigError` listing every problem. */
export function loadConfig(dir: string): ZosConnectConfig {
  const root = path.resolve(dir);
  const problems = new ProblemList();
  try {
    if (!statSync(root).isDirectory()) throw new Error('not a directory');
  } catch {
    problems.add(dir, 0, 'config', 'the configuration directory does not exist or is not a directory');
    problems.throwIfAny();
  }
  const server = loadServerXml(root, problems);
  const services = new Map<string, ServiceConfig>();
  for (const f of listFiles(root, 'services', '.xml', problems)) {
    const s = loadService(root, f, problems, server.connections, server.interactions);
    if (!s) continue;
    const prev = services.get(s.name);
    if (prev) problems.add(s.file, 1, 'service.name', `"${s.name}" is also defined by ${prev.file}`);
    else services.set(s.name, s);
  }
  const apis = new Map<string, ApiConfig>();
  const bases = new Map<string, string>();
  for (const f of listFiles(root, 'apis', '.json', problems)) {
    const a = loadApi(root, f, problems, services);
    if (!a) continue;
    const other = bases.get(a.basePath.toLowerCase());
    if (other) problems.add(a.file, 1, 'servers', `base path ${a.basePath} is also used by API "${other}"`);
    else bases.set(a.basePath.toLowerCase(), a.name);
    apis.set(a.name, a);
  }
  problems.throwIfAny();
  return Object.freeze({
    dir: root,
    manager: server.manager,
    endpoint: server.endpoint,
    users: Object.freeze(server.users),
    connections: server.connections,
    interactions: server.interactions,
    services,
    apis,
  });
}
