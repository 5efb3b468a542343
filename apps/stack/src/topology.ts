/**
 * The topology file: which boxes make up the stack, on which loopback "LPAR" each runs, and how the
 * VIPA distributes. The format is an INI-like text of our own (IBM has no file for a whole sysplex):
 *
 * ```ini
 * # comment (also ';'); blank lines are ignored
 * [section]            or   [kind NAME]
 * key = value          values are words separated by blanks; a trailing '# …' is a comment
 * ```
 *
 * Sections (keys in brackets are optional, defaults after '='):
 *
 * | section | keys |
 * | --- | --- |
 * | `[stack]` | [data-dir = ./.data/stack] [dashboard = 127.0.0.1:7700] [data-plane = proxy\|handoff (handoff)] [start-timeout = 30000 ms] |
 * | `[host NAME]` | address = 127.x.y.z (a loopback address: the LPAR's own IP, also its dynamic XCF address) |
 * | `[vipa]` | address = 127.x.y.z (the distributed dynamic VIPA) |
 * | `[distribute PORT]` | targets = zosconnect\|imsconnect, [method = ROUNDROBIN\|BASEWLM\|SERVERWLM\|WEIGHTEDACTIVE\|HOTSTANDBY (BASEWLM, IBM's default)], [optlocal = 0–16 \| no (no)] |
 * | `[distributor NAME]` | host, [role = primary\|backup (primary)], [rank = 1–254 (100)], [admin-port = 7100], [heartbeat-port = 7150] |
 * | `[ims NAME]` | host, [otma-port = 7200], [admin-port = 7250] — NAME is the IMSID and OTMA member |
 * | `[imsconnect NAME]` | host, [port = 5801], [admin-port = 7300], [datastores = IMS1 IMS2 … (every IMS)], [maxsoc = 200] — NAME is the HWS ID |
 * | `[zosconnect NAME]` | host, [port = 5595], [admin-port = 7400], [datastore = first IMS] |
 * | `[sharedq]` | [group = SQGRP1], [lease = 10000 ms], and either url = redis://127.x.y.z:port[/db] (a Redis of your own) or the stack's own redis-server: [name = REDIS], [host = first host], [port = 6379], [fsync = always\|everysec\|no (everysec)], [server = redis-server] |
 *
 * Every problem is reported at once as `file:line: key: message` in one {@link TopologyError}.
 */
import { checkRedisUrl } from '@imsplex/ims';
import { TopologyError, type TopologyProblem } from './errors.js';

/** Distribution methods the distributor accepts (`DISTMETHOD`). */
export const DIST_METHODS = ['BASEWLM', 'SERVERWLM', 'ROUNDROBIN', 'WEIGHTEDACTIVE', 'HOTSTANDBY'] as const;
export type DistMethod = (typeof DIST_METHODS)[number];

/** The kinds of box a topology can hold. */
export type BoxKind = 'distributor' | 'ims' | 'imsconnect' | 'zosconnect' | 'redis';

/** One LPAR: a loopback address. */
export interface HostDef {
  readonly name: string;
  readonly address: string;
  readonly line: number;
}

/** One distributed port of the VIPA. */
export interface DistributeDef {
  readonly port: number;
  readonly targets: 'zosconnect' | 'imsconnect';
  readonly method: DistMethod;
  /** null = NOOPTLOCAL. */
  readonly optLocal: number | null;
  readonly line: number;
}

interface BoxBase {
  readonly kind: BoxKind;
  readonly name: string;
  /** Host name (a `[host]` section). */
  readonly host: string;
  readonly adminPort: number;
  readonly line: number;
}

export interface DistributorDef extends BoxBase {
  readonly kind: 'distributor';
  readonly role: 'primary' | 'backup';
  readonly rank: number;
  readonly heartbeatPort: number;
}

export interface ImsDef extends BoxBase {
  readonly kind: 'ims';
  readonly otmaPort: number;
}

export interface ImsConnectDef extends BoxBase {
  readonly kind: 'imsconnect';
  readonly port: number;
  readonly datastores: readonly string[];
  readonly maxsoc: number;
}

export interface ZosConnectDef extends BoxBase {
  readonly kind: 'zosconnect';
  readonly port: number;
  readonly datastore: string;
}

/**
 * The stack's own redis-server holding the shared message queues (the Coupling Facility's place in a
 * real sysplex). It has no admin port of its own: `adminPort` equals `port`, where it answers PING/INFO.
 */
export interface RedisDef extends BoxBase {
  readonly kind: 'redis';
  readonly port: number;
  /** `appendfsync` of its append-only file. */
  readonly fsync: RedisFsync;
  /** The redis-server executable (a path, or a name looked up on PATH). */
  readonly server: string;
}

/** `appendfsync` policies of redis-server. */
export const REDIS_FSYNC = ['always', 'everysec', 'no'] as const;
export type RedisFsync = (typeof REDIS_FSYNC)[number];

/** Any box. */
export type BoxDef = DistributorDef | ImsDef | ImsConnectDef | ZosConnectDef | RedisDef;

/**
 * Shared message queues (`[sharedq]`): every IMS system of the topology gets a `SHAREDQ` statement
 * with this group, on either an external Redis (`url`) or the stack's own redis-server box (`box`).
 */
export interface SharedQueuesDef {
  /** Shared-queues group name (IMS's SHAREDQ GROUP=). */
  readonly group: string;
  /** Member lease in ms (IMS's SHAREDQ LEASE=). */
  readonly leaseMs: number;
  /** The Redis to use, or null when the stack runs its own redis-server (`box`). */
  readonly url: string | null;
  /** Name of the stack's redis-server box, or null with an external `url`. */
  readonly box: string | null;
  readonly line: number;
}

/** A validated topology. */
export interface Topology {
  readonly file: string;
  readonly dataDir: string;
  readonly dashboard: { readonly host: string; readonly port: number };
  readonly dataPlane: 'proxy' | 'handoff';
  readonly startTimeoutMs: number;
  readonly hosts: readonly HostDef[];
  readonly vipa: string;
  readonly distributes: readonly DistributeDef[];
  /** Every box, in start order: the shared-queues Redis, IMS systems, IMS Connects, z/OS Connects, distributors. */
  readonly boxes: readonly BoxDef[];
  /** Shared message queues across the IMS systems, or null for embedded queues (a journal per IMS). */
  readonly sharedQueues: SharedQueuesDef | null;
  /** True when every host was mapped onto 127.0.0.1 (see {@link toSingleHost}). */
  readonly singleHost: boolean;
}

/** Default ports of the boxes' side channels (imsplex choices; IBM's ports are 5595 and 5801). */
export const DEFAULT_PORTS = Object.freeze({
  dashboard: 7700,
  distributorAdmin: 7100,
  heartbeat: 7150,
  otma: 7200,
  imsAdmin: 7250,
  imsConnectAdmin: 7300,
  zosConnectAdmin: 7400,
  /** IMS Connect's port in IBM's z/OS Connect HA sample. */
  imsConnect: 5801,
  /** z/OS Connect's HTTP port in IBM's sample. */
  zosConnect: 5595,
  /** Redis's own default port, for the stack's shared-queues redis-server. */
  redis: 6379,
});

/** Defaults of `[sharedq]`. */
export const SHAREDQ_DEFAULTS = Object.freeze({
  /** [INF] IBM's samples name shared-queues groups freely; SQGRP1 follows XCFGRP1's pattern. */
  group: 'SQGRP1',
  /** The IMS engine's own default LEASE (packages/ims config.ts). */
  leaseMs: 10_000,
  /** Box name of the stack's redis-server. */
  name: 'REDIS',
  /** everysec: at most a second of queue changes lost if the machine (not the process) fails. */
  fsync: 'everysec' as RedisFsync,
  server: 'redis-server',
});

/**
 * The seed's topology: VIPA 127.0.0.100 distributing 5595 (three z/OS Connect servers sharing one
 * configuration directory) and 5801 (two IMS Connects, OPTLOCAL), two IMS systems, the distributor on
 * SYS1 with its backup on SYS2 (spec sysplex-distributor.md §2.4).
 */
export const DEFAULT_TOPOLOGY = `# imsplex topology: the seed's high-availability sample (the default of \`imsplex-stack up\`).
[stack]
data-dir   = ./.data/stack        # journals, generated configs and logs of every box
dashboard  = 127.0.0.1:7700
data-plane = handoff              # proxy | handoff (the distributor passes sockets to the targets)

[host SYS1]
address = 127.0.1.1
[host SYS2]
address = 127.0.1.2
[host SYS3]
address = 127.0.1.3

[vipa]
address = 127.0.0.100             # stands in for 192.0.2.1 of IBM's sample configuration

[distribute 5595]                 # REST: z/OS Connect servers
targets = zosconnect
method  = ROUNDROBIN

[distribute 5801]                 # IMS Connect protocol, prefer the IMS Connect on the caller's LPAR
targets  = imsconnect
method   = SERVERWLM
optlocal = 1

[distributor SD1]
host = SYS1
role = primary

[distributor SD2]
host = SYS2
role = backup
rank = 100

[ims IMS1]
host = SYS1
[ims IMS2]
host = SYS2

[imsconnect HWS1]
host       = SYS1
datastores = IMS1 IMS2
[imsconnect HWS2]
host       = SYS2
datastores = IMS1 IMS2

[zosconnect ZCON1]
host = SYS1
[zosconnect ZCON2]
host = SYS2
[zosconnect ZCON3]
host = SYS3
`;

const LOOPBACK = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** True for a dotted IPv4 address in 127.0.0.0/8. */
export function isLoopbackAddress(a: string): boolean {
  const m = LOOPBACK.exec(a);
  return m !== null && m.slice(1).every((p) => Number(p) <= 255);
}

/** IMS names: 1–8 of A–Z 0–9 @ # $, first not a digit. */
const NAME = /^[A-Z@#$][A-Z0-9@#$]{0,7}$/;

interface Entry {
  readonly key: string;
  readonly value: string;
  readonly line: number;
}
interface Section {
  readonly kind: string;
  readonly name: string | null;
  readonly line: number;
  readonly entries: Map<string, Entry>;
}

const SECTION_KEYS: Readonly<Record<string, readonly string[]>> = {
  stack: ['data-dir', 'dashboard', 'data-plane', 'start-timeout'],
  host: ['address'],
  vipa: ['address'],
  distribute: ['targets', 'method', 'optlocal'],
  distributor: ['host', 'role', 'rank', 'admin-port', 'heartbeat-port'],
  ims: ['host', 'otma-port', 'admin-port'],
  imsconnect: ['host', 'port', 'admin-port', 'datastores', 'maxsoc'],
  zosconnect: ['host', 'port', 'admin-port', 'datastore'],
  sharedq: ['group', 'lease', 'url', 'name', 'host', 'port', 'fsync', 'server'],
};
const NAMED = new Set(['host', 'distribute', 'distributor', 'ims', 'imsconnect', 'zosconnect']);

/**
 * Parses and validates a topology. `file` names the source in errors.
 * @throws {TopologyError} with every problem found.
 */
export function parseTopology(text: string, file = 'topology'): Topology {
  const problems: TopologyProblem[] = [];
  const report = (line: number, key: string, message: string): void => {
    problems.push({ file, line, key, message });
  };
  const sections: Section[] = [];
  let current: Section | null = null;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!.replace(/\s[#;].*$/, '').trim();
    if (raw === '' || raw.startsWith('#') || raw.startsWith(';')) continue;
    const sec = /^\[\s*([A-Za-z-]+)(?:\s+([^\]\s]+))?\s*\]$/.exec(raw);
    if (sec) {
      const kind = sec[1]!.toLowerCase();
      const name = sec[2] ?? null;
      if (!(kind in SECTION_KEYS)) {
        report(lineNo, `[${kind}]`, `unknown section (known: ${Object.keys(SECTION_KEYS).join(', ')})`);
        current = null;
        continue;
      }
      if (NAMED.has(kind) && name === null) report(lineNo, `[${kind}]`, `needs a name, e.g. [${kind} ${kind === 'distribute' ? '5595' : 'NAME'}]`);
      if (!NAMED.has(kind) && name !== null) report(lineNo, `[${kind}]`, 'takes no name');
      const dup = sections.find((s) => s.kind === kind && s.name?.toUpperCase() === name?.toUpperCase());
      if (dup) report(lineNo, `[${kind}${name ? ' ' + name : ''}]`, `defined twice (first at line ${dup.line})`);
      current = { kind, name, line: lineNo, entries: new Map() };
      sections.push(current);
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9-]*)\s*=\s*(.*)$/.exec(raw);
    if (!kv) {
      report(lineNo, 'syntax', `expected "[section]" or "key = value", got "${raw}"`);
      continue;
    }
    const key = kv[1]!.toLowerCase();
    if (!current) {
      report(lineNo, key, 'key outside any section');
      continue;
    }
    if (!SECTION_KEYS[current.kind]!.includes(key)) {
      report(lineNo, key, `unknown key in [${current.kind}] (known: ${SECTION_KEYS[current.kind]!.join(', ')})`);
      continue;
    }
    const prev = current.entries.get(key);
    if (prev) report(lineNo, key, `given twice (first at line ${prev.line})`);
    current.entries.set(key, { key, value: kv[2]!.trim(), line: lineNo });
  }

  const get = (s: Section, key: string): Entry | undefined => s.entries.get(key);
  const int = (s: Section, key: string, min: number, max: number, dflt: number): number => {
    const e = get(s, key);
    if (!e) return dflt;
    if (!/^\d{1,9}$/.test(e.value) || Number(e.value) < min || Number(e.value) > max) {
      report(e.line, key, `must be an integer from ${min} to ${max}, got "${e.value}"`);
      return dflt;
    }
    return Number(e.value);
  };
  const port = (s: Section, key: string, dflt: number): number => int(s, key, 1, 65535, dflt);
  const required = (s: Section, key: string): Entry | undefined => {
    const e = get(s, key);
    if (!e || e.value === '') report(e?.line ?? s.line, key, `is required in [${s.kind}${s.name ? ' ' + s.name : ''}]`);
    return e && e.value !== '' ? e : undefined;
  };
  const boxName = (s: Section): string => {
    const n = (s.name ?? '').toUpperCase();
    if (s.name !== null && !NAME.test(n)) report(s.line, `[${s.kind} ${s.name}]`, 'name must be 1-8 characters of A-Z, 0-9, @, #, $ (not starting with a digit)');
    return n;
  };

  // [stack]
  const stack = sections.find((s) => s.kind === 'stack');
  let dataDir = './.data/stack';
  let dashboard: { host: string; port: number } = { host: '127.0.0.1', port: DEFAULT_PORTS.dashboard };
  let dataPlane: 'proxy' | 'handoff' = 'proxy';
  let startTimeoutMs = 30_000;
  if (stack) {
    const d = get(stack, 'data-dir');
    if (d) {
      if (d.value === '') report(d.line, 'data-dir', 'must not be empty');
      else dataDir = d.value;
    }
    const db = get(stack, 'dashboard');
    if (db) {
      const m = /^([\d.]+):(\d{1,5})$/.exec(db.value);
      if (!m || !isLoopbackAddress(m[1]!) || Number(m[2]) > 65535) report(db.line, 'dashboard', `must be a loopback host:port, got "${db.value}"`);
      else dashboard = { host: m[1]!, port: Number(m[2]) };
    }
    const dp = get(stack, 'data-plane');
    if (dp) {
      if (dp.value !== 'proxy' && dp.value !== 'handoff') report(dp.line, 'data-plane', `must be proxy or handoff, got "${dp.value}"`);
      else dataPlane = dp.value;
    }
    startTimeoutMs = int(stack, 'start-timeout', 1000, 600_000, startTimeoutMs);
  }

  // [host NAME]
  const hosts: HostDef[] = [];
  for (const s of sections.filter((x) => x.kind === 'host')) {
    const name = boxName(s);
    const a = required(s, 'address');
    if (!a) continue;
    if (!isLoopbackAddress(a.value)) report(a.line, 'address', `must be a loopback address (127.0.0.0/8), got "${a.value}"`);
    else {
      const same = hosts.find((h) => h.address === a.value);
      if (same) report(a.line, 'address', `${a.value} is already host ${same.name}`);
      hosts.push({ name, address: a.value, line: s.line });
    }
  }
  if (hosts.length === 0) report(1, '[host]', 'at least one [host NAME] section is required');
  const hostOf = (s: Section): string => {
    const e = required(s, 'host');
    if (!e) return '';
    const h = e.value.toUpperCase();
    if (!hosts.some((x) => x.name === h) && hosts.length > 0) report(e.line, 'host', `unknown host "${e.value}" (defined: ${hosts.map((x) => x.name).join(', ')})`);
    return h;
  };

  // [vipa]
  const vipaSecs = sections.filter((s) => s.kind === 'vipa');
  let vipa = '';
  if (vipaSecs.length === 0) report(1, '[vipa]', 'a [vipa] section is required');
  else {
    const a = required(vipaSecs[0]!, 'address');
    if (a) {
      if (!isLoopbackAddress(a.value)) report(a.line, 'address', `must be a loopback address (127.0.0.0/8), got "${a.value}"`);
      else if (hosts.some((h) => h.address === a.value)) report(a.line, 'address', `${a.value} is also a host address; the VIPA must be an address of its own`);
      else vipa = a.value;
    }
  }

  // [distribute PORT]
  const distributes: DistributeDef[] = [];
  for (const s of sections.filter((x) => x.kind === 'distribute')) {
    const p = s.name !== null && /^\d{1,5}$/.test(s.name) ? Number(s.name) : NaN;
    if (!(p >= 1 && p <= 65535)) report(s.line, `[distribute ${s.name ?? ''}]`, 'the section name must be the distributed port (1-65535)');
    const t = required(s, 'targets');
    let targets: 'zosconnect' | 'imsconnect' = 'zosconnect';
    if (t) {
      if (t.value !== 'zosconnect' && t.value !== 'imsconnect') report(t.line, 'targets', `must be zosconnect or imsconnect, got "${t.value}"`);
      else targets = t.value;
    }
    const m = get(s, 'method');
    let method: DistMethod = 'BASEWLM';
    if (m) {
      const u = m.value.toUpperCase();
      if (!(DIST_METHODS as readonly string[]).includes(u)) report(m.line, 'method', `must be one of ${DIST_METHODS.join(', ')}, got "${m.value}"`);
      else if (u === 'HOTSTANDBY') report(m.line, 'method', 'HOTSTANDBY needs PREFERRED/BACKUP ranks per target, which a topology cannot express yet; write the profile by hand');
      else method = u as DistMethod;
    }
    const o = get(s, 'optlocal');
    let optLocal: number | null = null;
    if (o && o.value.toLowerCase() !== 'no') {
      if (!/^\d{1,2}$/.test(o.value) || Number(o.value) > 16) report(o.line, 'optlocal', `must be 0-16 or no, got "${o.value}"`);
      else optLocal = Number(o.value);
    }
    if (t && distributes.some((d) => d.targets === targets)) report(t.line, 'targets', `${targets} is already distributed on another port`);
    if (Number.isFinite(p)) distributes.push({ port: p, targets, method, optLocal, line: s.line });
  }
  if (distributes.length === 0) report(1, '[distribute]', 'at least one [distribute PORT] section is required');

  // Boxes.
  const distributors: DistributorDef[] = [];
  const imsList: ImsDef[] = [];
  const icons: ImsConnectDef[] = [];
  const zcons: ZosConnectDef[] = [];
  const portOf = (kind: 'zosconnect' | 'imsconnect'): number =>
    distributes.find((d) => d.targets === kind)?.port ?? (kind === 'zosconnect' ? DEFAULT_PORTS.zosConnect : DEFAULT_PORTS.imsConnect);
  for (const s of sections) {
    switch (s.kind) {
      case 'distributor': {
        const name = boxName(s);
        const host = hostOf(s);
        const r = get(s, 'role');
        let role: 'primary' | 'backup' = 'primary';
        if (r) {
          if (r.value !== 'primary' && r.value !== 'backup') report(r.line, 'role', `must be primary or backup, got "${r.value}"`);
          else role = r.value;
        }
        distributors.push({
          kind: 'distributor',
          name,
          host,
          role,
          rank: int(s, 'rank', 1, 254, 100),
          adminPort: port(s, 'admin-port', DEFAULT_PORTS.distributorAdmin),
          heartbeatPort: port(s, 'heartbeat-port', DEFAULT_PORTS.heartbeat),
          line: s.line,
        });
        break;
      }
      case 'ims':
        imsList.push({ kind: 'ims', name: boxName(s), host: hostOf(s), otmaPort: port(s, 'otma-port', DEFAULT_PORTS.otma), adminPort: port(s, 'admin-port', DEFAULT_PORTS.imsAdmin), line: s.line });
        break;
      case 'imsconnect': {
        const ds = get(s, 'datastores');
        icons.push({
          kind: 'imsconnect',
          name: boxName(s),
          host: hostOf(s),
          port: port(s, 'port', portOf('imsconnect')),
          adminPort: port(s, 'admin-port', DEFAULT_PORTS.imsConnectAdmin),
          datastores: ds ? ds.value.split(/[\s,]+/).filter(Boolean).map((d) => d.toUpperCase()) : [],
          maxsoc: int(s, 'maxsoc', 50, 65535, 200),
          line: s.line,
        });
        break;
      }
      case 'zosconnect': {
        const d = get(s, 'datastore');
        zcons.push({
          kind: 'zosconnect',
          name: boxName(s),
          host: hostOf(s),
          port: port(s, 'port', portOf('zosconnect')),
          adminPort: port(s, 'admin-port', DEFAULT_PORTS.zosConnectAdmin),
          datastore: d ? d.value.toUpperCase() : '',
          line: s.line,
        });
        break;
      }
    }
  }

  // [sharedq]
  const sq = parseSharedQueues(sections, hosts, imsList.length, report, { get, int, port, hostOf, boxName });
  const redisBoxes: RedisDef[] = sq?.redis ? [sq.redis] : [];

  // Cross-checks.
  const imsNames = new Set(imsList.map((i) => i.name));
  // datastores defaults to every IMS of the topology.
  for (let i = 0; i < icons.length; i++) if (icons[i]!.datastores.length === 0) icons[i] = { ...icons[i]!, datastores: [...imsNames] };
  for (const c of icons) {
    const sec = sections.find((s) => s.kind === 'imsconnect' && s.name?.toUpperCase() === c.name)!;
    const e = get(sec, 'datastores');
    for (const d of c.datastores) if (e && !imsNames.has(d)) report(e.line, 'datastores', `names unknown IMS "${d}" (defined: ${[...imsNames].join(', ') || 'none'})`);
    if (e && new Set(c.datastores).size !== c.datastores.length) report(e.line, 'datastores', 'lists an IMS twice');
  }
  const zconsFixed = zcons.map((z) => {
    const sec = sections.find((s) => s.kind === 'zosconnect' && s.name?.toUpperCase() === z.name)!;
    const e = get(sec, 'datastore');
    if (z.datastore === '') return { ...z, datastore: imsList[0]?.name ?? '' };
    if (!imsNames.has(z.datastore)) report(e?.line ?? z.line, 'datastore', `names unknown IMS "${z.datastore}"`);
    return z;
  });
  const all: BoxDef[] = [...redisBoxes, ...imsList, ...icons, ...zconsFixed, ...distributors];
  const seen = new Map<string, BoxDef>();
  for (const b of all) {
    const prev = seen.get(b.name);
    if (prev && b.name) report(b.line, `[${b.kind} ${b.name}]`, `box name ${b.name} is already used by [${prev.kind}] at line ${prev.line}`);
    seen.set(b.name, b);
  }
  if (distributors.length === 0) report(1, '[distributor]', 'at least one [distributor NAME] section is required');
  const primaries = distributors.filter((d) => d.role === 'primary');
  if (distributors.length > 0 && primaries.length !== 1) report(primaries[1]?.line ?? distributors[0]!.line, 'role', `exactly one distributor must be primary, found ${primaries.length}`);
  for (const d of distributes) {
    const n = d.targets === 'zosconnect' ? zconsFixed.length : icons.length;
    if (n === 0) report(d.line, 'targets', `no [${d.targets}] box is defined`);
  }
  checkPortClashes(all, hosts, vipa, distributes, dashboard, file, report);

  if (problems.length > 0) throw new TopologyError([...problems].sort((a, b) => a.line - b.line));
  return Object.freeze({ file, dataDir, dashboard, dataPlane, startTimeoutMs, hosts, vipa, distributes, boxes: all, sharedQueues: sq?.def ?? null, singleHost: false });
}

interface ParseTools {
  get(s: Section, key: string): Entry | undefined;
  int(s: Section, key: string, min: number, max: number, dflt: number): number;
  port(s: Section, key: string, dflt: number): number;
  hostOf(s: Section): string;
  boxName(s: Section): string;
}

const MANAGED_ONLY = ['name', 'host', 'port', 'fsync', 'server'] as const;

/** `[sharedq]`: the group, and an external Redis (`url`) or the stack's own redis-server box. */
function parseSharedQueues(
  sections: readonly Section[],
  hosts: readonly HostDef[],
  imsCount: number,
  report: (line: number, key: string, message: string) => void,
  tools: ParseTools,
): { def: SharedQueuesDef; redis: RedisDef | null } | null {
  const s = sections.find((x) => x.kind === 'sharedq');
  if (!s) return null;
  const { get, int } = tools;
  if (imsCount === 0) report(s.line, '[sharedq]', 'no [ims] box is defined: shared queues are shared by IMS systems');
  let group: string = SHAREDQ_DEFAULTS.group;
  const g = get(s, 'group');
  if (g) {
    if (!NAME.test(g.value.toUpperCase())) report(g.line, 'group', `must be 1-8 characters of A-Z, 0-9, @, #, $ (not starting with a digit), got "${g.value}"`);
    else group = g.value.toUpperCase();
  }
  // [INF] The IMS engine accepts LEASE=100..3600000 ms (packages/ims config.ts); the same bounds here.
  const leaseMs = int(s, 'lease', 100, 3_600_000, SHAREDQ_DEFAULTS.leaseMs);
  const u = get(s, 'url');
  if (u) {
    for (const k of MANAGED_ONLY) {
      const e = get(s, k);
      if (e) report(e.line, k, 'applies only to the stack\'s own redis-server; remove it, or remove url to have the stack run one');
    }
    const checked = checkRedisUrl(u.value);
    if ('error' in checked) report(u.line, 'url', checked.error);
    return { def: { group, leaseMs, url: 'url' in checked ? checked.url : u.value, box: null, line: s.line }, redis: null };
  }
  // The stack's own redis-server.
  const n = get(s, 'name');
  const name = n ? n.value.toUpperCase() : SHAREDQ_DEFAULTS.name;
  if (n && !NAME.test(name)) report(n.line, 'name', `must be 1-8 characters of A-Z, 0-9, @, #, $ (not starting with a digit), got "${n.value}"`);
  const h = get(s, 'host');
  const host = h ? tools.hostOf(s) : (hosts[0]?.name ?? '');
  const f = get(s, 'fsync');
  let fsync: RedisFsync = SHAREDQ_DEFAULTS.fsync;
  if (f) {
    if (!(REDIS_FSYNC as readonly string[]).includes(f.value)) report(f.line, 'fsync', `must be one of ${REDIS_FSYNC.join(', ')}, got "${f.value}"`);
    else fsync = f.value as RedisFsync;
  }
  const sv = get(s, 'server');
  let server: string = SHAREDQ_DEFAULTS.server;
  if (sv) {
    if (sv.value === '' || /\s/.test(sv.value)) report(sv.line, 'server', `must be one executable path or name, got "${sv.value}"`);
    else server = sv.value;
  }
  const port = tools.port(s, 'port', DEFAULT_PORTS.redis);
  const redis: RedisDef = { kind: 'redis', name, host, port, adminPort: port, fsync, server, line: s.line };
  return { def: { group, leaseMs, url: null, box: name, line: s.line }, redis };
}

/** Every (address, port) a box binds, for clash detection and for the dashboard. */
export function boxBinds(b: BoxDef, hostAddress: string): Array<{ address: string; port: number; what: string }> {
  // redis-server answers PING/INFO on its one port.
  if (b.kind === 'redis') return [{ address: hostAddress, port: b.port, what: 'port' }];
  const out = [{ address: hostAddress, port: b.adminPort, what: 'admin-port' }];
  switch (b.kind) {
    case 'distributor':
      out.push({ address: hostAddress, port: b.heartbeatPort, what: 'heartbeat-port' });
      break;
    case 'ims':
      out.push({ address: hostAddress, port: b.otmaPort, what: 'otma-port' });
      break;
    case 'imsconnect':
    case 'zosconnect':
      out.push({ address: hostAddress, port: b.port, what: 'port' });
      break;
  }
  return out;
}

function checkPortClashes(
  boxes: readonly BoxDef[],
  hosts: readonly HostDef[],
  vipa: string,
  distributes: readonly DistributeDef[],
  dashboard: { host: string; port: number },
  _file: string,
  report: (line: number, key: string, message: string) => void,
): void {
  const used = new Map<string, string>();
  const claim = (address: string, port: number, who: string, line: number, key: string): void => {
    const k = `${address}:${port}`;
    const prev = used.get(k);
    if (prev) report(line, key, `${k} is already used by ${prev}`);
    else used.set(k, who);
  };
  claim(dashboard.host, dashboard.port, 'the dashboard', 1, 'dashboard');
  for (const d of distributes) if (vipa) claim(vipa, d.port, `the VIPA port ${d.port}`, d.line, 'port');
  // The Redis box starts first but its [sharedq] section is usually written last: it claims last, so a
  // clash is reported on its own line.
  const ordered = [...boxes.filter((b) => b.kind !== 'redis'), ...boxes.filter((b) => b.kind === 'redis')];
  for (const b of ordered) {
    const h = hosts.find((x) => x.name === b.host);
    if (!h) continue;
    for (const bind of boxBinds(b, h.address)) claim(bind.address, bind.port, `${b.kind} ${b.name} (${bind.what})`, b.line, bind.what);
  }
}

/** How `--single-host` moved things: one line per change, for the console. */
export interface SingleHostMapping {
  readonly topology: Topology;
  readonly notes: readonly string[];
}

/**
 * Maps every host and the VIPA onto 127.0.0.1 for machines where only that address can be bound
 * (macOS without `lo0` aliases, some containers). The VIPA keeps its ports; every box port moves up
 * by 10 × (host index + 1) so nothing clashes. Only the primary distributor runs (takeover needs
 * two XCF addresses), and OPTLOCAL cannot tell hosts apart (every client comes from 127.0.0.1).
 */
export function toSingleHost(t: Topology): SingleHostMapping {
  const notes: string[] = [];
  const offset = (host: string): number => 10 * (t.hosts.findIndex((h) => h.name === host) + 1);
  const boxes: BoxDef[] = [];
  for (const b of t.boxes) {
    const o = offset(b.host);
    switch (b.kind) {
      case 'distributor':
        if (b.role === 'backup') {
          notes.push(`distributor ${b.name} (backup) is not started: takeover needs one XCF address per stack`);
          continue;
        }
        boxes.push({ ...b, adminPort: b.adminPort + o, heartbeatPort: b.heartbeatPort + o });
        break;
      case 'ims':
        boxes.push({ ...b, adminPort: b.adminPort + o, otmaPort: b.otmaPort + o });
        break;
      case 'redis':
        boxes.push({ ...b, adminPort: b.port + o, port: b.port + o });
        notes.push(`redis ${b.name} (shared queues) listens on 127.0.0.1:${b.port + o} instead of ${t.hosts.find((h) => h.name === b.host)?.address}:${b.port}`);
        break;
      case 'imsconnect':
      case 'zosconnect':
        boxes.push({ ...b, adminPort: b.adminPort + o, port: b.port + o });
        notes.push(`${b.kind} ${b.name} listens on 127.0.0.1:${b.port + o} instead of ${t.hosts.find((h) => h.name === b.host)?.address}:${b.port}`);
        break;
    }
  }
  notes.push(`VIPA ${t.vipa} is served on 127.0.0.1 (ports ${t.distributes.map((d) => d.port).join(', ')})`);
  if (t.distributes.some((d) => d.optLocal !== null)) notes.push('OPTLOCAL has no effect: every connection comes from 127.0.0.1');
  const hosts = t.hosts.map((h) => ({ ...h, address: '127.0.0.1' }));
  const topology: Topology = Object.freeze({ ...t, hosts, vipa: '127.0.0.1', boxes, singleHost: true });
  const problems: TopologyProblem[] = [];
  checkPortClashes(boxes, hosts, '127.0.0.1', t.distributes, t.dashboard, t.file, (line, key, message) => problems.push({ file: t.file, line, key, message: `(single-host) ${message}` }));
  if (problems.length > 0) throw new TopologyError(problems);
  return { topology, notes };
}

/** The address of a host by name. */
export function hostAddress(t: Topology, host: string): string {
  const h = t.hosts.find((x) => x.name === host);
  if (!h) throw new TopologyError([{ file: t.file, line: 1, key: 'host', message: `unknown host ${host}` }]);
  return h.address;
}

/**
 * The logical XCF address of a host: its own address normally; with `--single-host` the original
 * 127.0.1.n identity is kept as a label only (nothing binds it), so the distributor can tell the
 * targets apart.
 */
export function xcfOf(t: Topology, host: string): string {
  if (!t.singleHost) return hostAddress(t, host);
  const i = t.hosts.findIndex((h) => h.name === host);
  return `127.0.1.${i + 1}`;
}
