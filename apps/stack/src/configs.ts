/**
 * Generates every box's configuration, in IBM's syntax where IBM has one, into the data folder:
 *
 * ```
 * <data-dir>/
 *   supervisor.json            endpoint + token of the running supervisor (mode 0600)
 *   distributor/PROFILE.TCPIP  the TCP/IP profile (VIPADYNAMIC + IMSPLEX blocks), shared by primary and backup
 *   imsconnect/HWSCFG.<NAME>   one HWSCFGxx member per IMS Connect
 *   ims/<NAME>/IMS.DEF         the stage-1-style system definition; its journals live beside it
 *   zosconnect/                one configuration directory shared by every z/OS Connect server
 *   redis/redis.conf           the shared-queues redis-server (with [sharedq] and no url); its
 *                              append-only file (appendonlydir/) lives beside it
 *   logs/<NAME>.log            stdout and stderr of each box
 * ```
 */
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { hostAddress, xcfOf, type BoxDef, type DistributorDef, type ImsConnectDef, type ImsDef, type RedisDef, type Topology, type ZosConnectDef } from './topology.js';

/**
 * Health-probe and heartbeat timings written into the generated profile. IBM's TSR interval is 60 s
 * and its takeover is driven by XCF group monitoring; on one machine we choose faster values so a
 * killed target leaves the rotation, and a killed distributor is replaced, well within the drills'
 * 2-second service-recovery goal: a target is probed every 250 ms (a refused connect marks it down
 * at once), a peer is declared dead after 800 ms without heartbeats (sent every 200 ms).
 */
export const PROFILE_TIMINGS = Object.freeze({
  probeIntervalMs: 250,
  probeTimeoutMs: 200,
  tsrIntervalMs: 5000,
  heartbeatIntervalMs: 200,
  heartbeatTimeoutMs: 800,
  connectTimeoutMs: 1000,
});

/** IMS Connect's TIMEOUT= in hundredths of a second: 10 s (IBM's default is 5 s; z/OS Connect's chain needs more). */
export const HWS_TIMEOUT_HUNDREDTHS = 1000;

/** XCF group shared by IMS OTMA and the IMS Connect datastores (IBM samples use XCFGRP1). */
export const XCF_GROUP = 'XCFGRP1';

/** Where each generated file lives. */
export interface ConfigPaths {
  readonly dataDir: string;
  readonly profile: string;
  readonly hwscfg: (name: string) => string;
  readonly imsDir: (name: string) => string;
  readonly imsDef: (name: string) => string;
  readonly zosConnectDir: string;
  /** Data folder of the stack's shared-queues redis-server (its `dir`). */
  readonly redisDir: string;
  readonly redisConf: string;
  readonly logDir: string;
  readonly supervisorFile: string;
}

/** The paths for a data folder. */
export function configPaths(dataDir: string): ConfigPaths {
  const d = resolve(dataDir);
  return {
    dataDir: d,
    profile: join(d, 'distributor', 'PROFILE.TCPIP'),
    hwscfg: (name) => join(d, 'imsconnect', `HWSCFG.${name}`),
    imsDir: (name) => join(d, 'ims', name),
    imsDef: (name) => join(d, 'ims', name, 'IMS.DEF'),
    zosConnectDir: join(d, 'zosconnect'),
    redisDir: join(d, 'redis'),
    redisConf: join(d, 'redis', 'redis.conf'),
    logDir: join(d, 'logs'),
    supervisorFile: join(d, 'supervisor.json'),
  };
}

/**
 * Health endpoint of a box: every imsplex box serves `GET /health` on its admin port; the shared-queues
 * redis-server answers PING on its own port (`redis://host:port`).
 */
export function healthUrl(t: Topology, b: BoxDef): string {
  if (b.kind === 'redis') return `redis://${hostAddress(t, b.host)}:${b.port}`;
  return `http://${hostAddress(t, b.host)}:${b.adminPort}/health`;
}

/** The stack's own shared-queues redis-server box, when the topology has one. */
export function redisBoxOf(t: Topology): RedisDef | null {
  const name = t.sharedQueues?.box;
  if (!name) return null;
  return t.boxes.find((b): b is RedisDef => b.kind === 'redis' && b.name === name) ?? null;
}

/**
 * The Redis URL the IMS systems use: the external one of `[sharedq] url`, or the stack's own
 * redis-server, with `secret` as its password (`requirepass`) when given. Null without shared queues.
 */
export function sharedQueuesUrl(t: Topology, secret?: string): string | null {
  const sq = t.sharedQueues;
  if (!sq) return null;
  if (sq.url !== null) return sq.url;
  const r = redisBoxOf(t);
  if (!r) return null;
  const auth = secret ? `:${encodeURIComponent(secret)}@` : '';
  return `redis://${auth}${hostAddress(t, r.host)}:${r.port}`;
}

/** A Redis URL with its password replaced by `***`, for consoles, logs and the dashboard. */
export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

/**
 * The stack's redis-server configuration (redis.conf syntax). It binds its host's loopback address
 * only, keeps an append-only file in the data folder (so the shared queues survive a restart of the
 * box or of the stack, as the IMS journals do), never forks for RDB snapshots, and logs to stdout
 * (the box's log file). With `secret`, clients must AUTH with it (the IMS systems' SHAREDQ URL
 * carries it; the file is then written with mode 0600).
 */
export function redisConf(t: Topology, r: RedisDef, secret?: string): string {
  const paths = configPaths(t.dataDir);
  const q = (v: string): string => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  const out = [
    `# redis-server of the shared message queues (group ${t.sharedQueues?.group ?? '?'}), generated by imsplex-stack from ${t.file}`,
    `bind ${hostAddress(t, r.host)}`,
    `port ${r.port}`,
    // Only a loopback address is bound; protected mode would add nothing but refuse 127.0.1.x peers
    // in some Redis versions.
    'protected-mode no',
    'daemonize no',
    `dir ${q(paths.redisDir)}`,
    // The AOF's own name and folder are left at the defaults (Redis 7: appendonlydir/; Redis 6 has no
    // appenddirname and writes appendonly.aof), so the file works with either.
    'appendonly yes',
    `appendfsync ${r.fsync}`,
    'save ""',
    'logfile ""',
  ];
  if (secret) out.push(`requirepass ${q(secret)}`);
  return out.join('\n') + '\n';
}

/** The TCP/IP profile of the distributing stacks: one text for primary and backup (`--role`). */
export function distributorProfile(t: Topology): string {
  const T = PROFILE_TIMINGS;
  const out: string[] = [];
  out.push('; TCP/IP profile generated by imsplex-stack from ' + t.file);
  out.push('; The same profile serves the owner (--role primary: VIPADEFINE) and its backups (--role backup).');
  out.push('VIPADYNAMIC');
  out.push(`  VIPADEFINE MOVEABLE IMMEDIATE 255.255.255.255 ${t.vipa}`);
  for (const d of t.distributes) {
    const targets = t.boxes.filter((b) => b.kind === d.targets);
    const xcfs = [...new Set(targets.map((b) => xcfOf(t, b.host)))];
    const opt = d.optLocal === null ? 'NOOPTLOCAL' : `OPTLOCAL ${d.optLocal}`;
    out.push(`  VIPADISTRIBUTE DEFINE DISTMETHOD ${d.method} ${opt}`);
    out.push(`     ${t.vipa} PORT ${d.port} DESTIP ${xcfs.join(' ')}`);
  }
  out.push('ENDVIPADYNAMIC');
  out.push('IMSPLEX');
  for (const h of t.hosts) out.push(`  SYSTEM ${h.name} ${xcfOf(t, h.name)}`);
  out.push(`  DATAPLANE ${t.dataPlane.toUpperCase()}`);
  out.push(`  PROBE INTERVAL ${T.probeIntervalMs} TIMEOUT ${T.probeTimeoutMs}`);
  out.push(`  TSR INTERVAL ${T.tsrIntervalMs}`);
  out.push(`  CONNECTTIMEOUT ${T.connectTimeoutMs}`);
  out.push(`  HEARTBEAT INTERVAL ${T.heartbeatIntervalMs} TIMEOUT ${T.heartbeatTimeoutMs}`);
  for (const d of t.boxes.filter((b): b is DistributorDef => b.kind === 'distributor')) {
    out.push(`  PEER ${distributorXcf(t, d)} PORT ${d.heartbeatPort}`);
  }
  for (const d of t.distributes) {
    for (const b of t.boxes) {
      if (b.kind !== d.targets) continue;
      const port = (b as ImsConnectDef | ZosConnectDef).port;
      out.push(`  TARGET ${xcfOf(t, b.host)} PORT ${d.port} ADDRESS ${hostAddress(t, b.host)}:${port} HEALTH ${healthUrl(t, b)} JOBNAME ${b.name}`);
    }
  }
  out.push('ENDIMSPLEX');
  return out.join('\n') + '\n';
}

/** The address a distributor binds (its heartbeat) and names itself by. */
export function distributorXcf(t: Topology, d: DistributorDef): string {
  return t.singleHost ? hostAddress(t, d.host) : xcfOf(t, d.host);
}

/** HWSCFGxx member of one IMS Connect. Every other datastore is an alternate (ALTDS) for rerouting. */
export function hwsCfg(t: Topology, c: ImsConnectDef): string {
  const addr = hostAddress(t, c.host);
  const out: string[] = [];
  out.push(`* HWSCFG member of IMS Connect ${c.name}, generated by imsplex-stack from ${t.file}`);
  out.push(`HWS      (ID=${c.name},RACF=N)`);
  out.push(`TCPIP    (HOSTNAME=TCPIP,PORTID=(${c.port}),MAXSOC=${c.maxsoc},TIMEOUT=${HWS_TIMEOUT_HUNDREDTHS},`);
  out.push('          EXIT=(HWSSMPL0,HWSSMPL1))');
  for (const ds of c.datastores) {
    const ims = t.boxes.find((b): b is ImsDef => b.kind === 'ims' && b.name === ds);
    if (!ims) continue;
    const alternates = c.datastores.filter((x) => x !== ds);
    const alt = alternates.length ? `,ALTDS=(${alternates.join(',')})` : '';
    out.push(`DATASTORE (ID=${ds},GROUP=${XCF_GROUP},MEMBER=${c.name},TMEMBER=${ims.name},`);
    out.push(`          XCFADDR=${hostAddress(t, ims.host)}:${ims.otmaPort}${alt})`);
  }
  out.push(`EMULATOR (BIND=${addr},ADMINHOST=${addr},ADMINPORT=${c.adminPort})`);
  return out.join('\n') + '\n';
}

/**
 * The stage-1-style system definition of one IMS: the IVP phone book and the test programs. `token`
 * protects its `/command` endpoint (the file is written with mode 0600).
 */
export function imsDefinition(t: Topology, ims: ImsDef, token?: string): string {
  const addr = hostAddress(t, ims.host);
  const sq = t.sharedQueues;
  const url = sharedQueuesUrl(t, token);
  // SHAREDQ: every IMS of the topology in one group on one Redis (packages/ims README, "Shared queues").
  const shared = sq && url ? `SHAREDQ  GROUP=${sq.group},URL=${url},LEASE=${sq.leaseMs}\n` : '';
  return `* IMS system ${ims.name}, generated by imsplex-stack from ${t.file}
IMSCTRL  IMSID=${ims.name},CODEPAGE=CP037,MAXQ=100000,ABENDLIM=3
OTMA     GROUP=${XCF_GROUP},MEMBER=${ims.name},HOST=${addr},PORT=${ims.otmaPort},ACKTO=120
ADMIN    HOST=${addr},PORT=${ims.adminPort}${token ? `,TOKEN='${token.replace(/'/g, "''")}'` : ''}
${shared}*
APPLCTN  PSB=DFSIVP1,IMPL=IVTNO            IMS IVP phone book
TRANSACT CODE=IVTNO,MSGTYPE=(SNGLSEG,RESPONSE,1),PRTY=(7,10,2),SCHDTYP=PARALLEL
APPLCTN  PSB=DFSIVP4,IMPL=IVTCV            IVP conversational sample
TRANSACT CODE=IVTCV,MSGTYPE=(SNGLSEG,RESPONSE,1),SPA=(80),SCHDTYP=PARALLEL
APPLCTN  PSB=ECHOPGM,IMPL=ECHO
TRANSACT CODE=ECHO,MSGTYPE=(MULTSEG,RESPONSE,1),SCHDTYP=PARALLEL,MAXRGN=0
APPLCTN  PSB=SLOWPGM,IMPL=SLOW             delay from input, for timeout drills
TRANSACT CODE=SLOW,MSGTYPE=(SNGLSEG,RESPONSE,2),SCHDTYP=PARALLEL,MAXRGN=0
*
LTERM    NAME=MASTER
REGION   NAME=MPP1,CLASS=(1,2),COUNT=8
REGION   NAME=MPP2,CLASS=(2,1),COUNT=8
`;
}

/**
 * Finds the sample configuration directory that ships with @imsplex/zos-connect (the IVTNO phone-book
 * API). Returns null while the package has none.
 */
export function zosConnectSampleDir(): string | null {
  let pkg: string;
  try {
    pkg = dirname(createRequire(import.meta.url).resolve('@imsplex/zos-connect/package.json'));
  } catch {
    return null;
  }
  for (const candidate of ['samples/config', 'samples/ivtno', 'samples']) {
    const dir = join(pkg, candidate);
    if (existsSync(dir) && readdirSync(dir).length > 0) return dir;
  }
  return null;
}

/** What {@link writeConfigs} wrote. */
export interface WrittenConfigs {
  readonly paths: ConfigPaths;
  readonly files: readonly string[];
  /** Problems that do not stop the stack (e.g. no z/OS Connect sample yet). */
  readonly warnings: readonly string[];
}

/**
 * Points the shared z/OS Connect configuration at this topology's VIPA: the IMS connection factory's
 * `properties.gmoa` hostName / portNumber / dataStoreName (IBM's attribute names). Each server's own
 * address and port come from its command line (`--host`, `--port`), and it binds its outbound IMS
 * Connect connections to that address, so OPTLOCAL sees which LPAR calls.
 */
export function patchServerXml(xml: string, t: Topology): string {
  const ims = t.distributes.find((d) => d.targets === 'imsconnect');
  const zc = t.boxes.find((b): b is ZosConnectDef => b.kind === 'zosconnect');
  return xml.replace(/<properties\.gmoa\b[^>]*>/g, (el) => {
    let out = el.replace(/hostName="[^"]*"/, `hostName="${t.vipa}"`);
    if (ims) out = out.replace(/portNumber="[^"]*"/, `portNumber="${ims.port}"`);
    if (zc?.datastore) out = out.replace(/dataStoreName="[^"]*"/, `dataStoreName="${zc.datastore}"`);
    return out;
  });
}

/** Writes every box's configuration into the data folder (creating it). Journals are left alone. */
export function writeConfigs(t: Topology, options: { secret?: string } = {}): WrittenConfigs {
  const paths = configPaths(t.dataDir);
  const files: string[] = [];
  const warnings: string[] = [];
  const write = (file: string, text: string): void => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    files.push(file);
  };
  mkdirSync(paths.logDir, { recursive: true });
  write(paths.profile, distributorProfile(t));
  for (const b of t.boxes) {
    if (b.kind === 'redis' && t.sharedQueues?.box === b.name) {
      write(paths.redisConf, redisConf(t, b, options.secret));
      chmodSync(paths.redisConf, 0o600);
    }
    if (b.kind === 'imsconnect') write(paths.hwscfg(b.name), hwsCfg(t, b));
    if (b.kind === 'ims') {
      write(paths.imsDef(b.name), imsDefinition(t, b, options.secret));
      chmodSync(paths.imsDef(b.name), 0o600);
    }
  }
  if (t.boxes.some((b) => b.kind === 'zosconnect')) {
    mkdirSync(paths.zosConnectDir, { recursive: true });
    const sample = zosConnectSampleDir();
    if (sample) {
      cpSync(sample, paths.zosConnectDir, { recursive: true, force: true });
      const xml = join(paths.zosConnectDir, 'server.xml');
      if (existsSync(xml)) writeFileSync(xml, patchServerXml(readFileSync(xml, 'utf8'), t));
      files.push(paths.zosConnectDir);
    } else warnings.push('@imsplex/zos-connect ships no sample configuration directory yet; the z/OS Connect servers start with an empty one');
  }
  return { paths, files, warnings };
}
