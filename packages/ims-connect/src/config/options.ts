/**
 * The typed options object of the emulator and its one validation pass (`resolveOptions`). The
 * HWSCFGxx parser produces the same object, so a server is configured the same way from a file or
 * from code. Every default lives in `DEFAULTS`; the rest of the package never re-checks options.
 */
import { getCodePage } from '@imsplex/codec';
import { ConfigError, type ConfigSource } from '../errors.js';

/** One TCP/IP port (`PORTID=`, `PORT=(ID=…)` or `SSLPORT=`). */
export interface PortOptions {
  /**
   * Port number, 1–65535. imsplex extension: 0 asks the OS for an ephemeral port (tests; at most one
   * port 0 per server) and `ImsConnectServer.boundPort(0)` reports the port it got. IBM requires 1–65535.
   */
  id: number;
  /** TCP keep-alive interval in seconds (`KEEPAV=`); 0 = stack default (keep-alive on, OS interval). */
  keepAlive?: number;
  /** Port edit exit name (`EDIT=`), recorded and displayed; the emulator runs no edit exits. */
  edit?: string;
  /** Idle timeout in ms between interactions (`IDLETO=` in hundredths of a second); 0 = none. */
  idleTimeout?: number;
  /** TLS port (`SSLPORT=`). */
  tls?: boolean;
}

/** One `DATASTORE` statement: an OTMA link to an IMS system. */
export interface DatastoreOptions {
  /** Name clients put in `IRM_IMSDESTID` (1–8 characters). */
  id: string;
  /** XCF group shared with IMS OTMA (`GROUP=`). */
  group?: string;
  /** XCF member name this IMS Connect uses on the link (`MEMBER=`); defaults to the HWS ID. */
  member?: string;
  /** XCF member name of IMS OTMA (`TMEMBER=`). */
  tmember: string;
  /** OTMA destination resolution exit (`DRU=`); recorded only. */
  dru?: string;
  /** RACF APPL for PassTickets (`APPL=`); recorded only. */
  appl?: string;
  /** OTMA ACK timeout in seconds (`ACKTO=`, 0–255); 0 = OTMA default 120 s. */
  ackTimeout?: number;
  /** Default reroute tpipe (`RRNAME=`), else `HWS$DEF`. */
  rerouteName?: string;
  /**
   * Emulator extension (`XCFADDR=host:port`): where the IMS system's OTMA link listens. The real
   * product finds IMS through XCF; here the "XCF" link is TCP on loopback.
   */
  address?: string | { host: string; port: number };
  /**
   * Emulator extension (`ALTDS=(ID,…)`): datastores to route to, in order, when this one is not
   * available — what a site's HWSROUT0-style routing exit would do. Empty = no rerouting.
   */
  alternates?: string[];
  /**
   * imsplex extension (`RECONNECT=(INIT=ms,MAX=ms,JITTER=percent)` on `DATASTORE`): the OTMA link's
   * reconnect backoff for this datastore; unset fields come from the server-wide `reconnect`.
   */
  reconnect?: ReconnectOptions;
}

/**
 * Reconnect backoff of a datastore's OTMA link (imsplex extension; IBM's IMS Connect reconnects to
 * IMS when OTMA tells it through XCF that the member is back, which a TCP link cannot hear).
 */
export interface ReconnectOptions {
  /** Wait after the first failed attempt, ms (default 50). */
  initialDelay?: number;
  /** Cap of the doubling waits, ms (default 1000): the longest a restarted IMS stays unnoticed. */
  maxDelay?: number;
  /** Share (0–1) by which each wait is randomly shortened (default 0.2). */
  jitter?: number;
}

/** One entry of the RACF users file, or given inline. */
export interface UserRecord {
  /** User ID, 1–8 characters, upper case. */
  user: string;
  /** Password hash: `scrypt$N$r$p$saltB64$hashB64` or `pbkdf2-sha256$iter$saltB64$hashB64`. */
  hash: string;
  /** Groups the user may name in `IRM_RACF_GRNAME`; empty = any group is refused except blank. */
  groups?: string[];
  /** Transaction codes the user may run; omitted = all. */
  transactions?: string[];
}

/** The IMS Connect configuration (HWS + TCPIP + DATASTORE statements, plus emulator settings). */
export interface ImsConnectOptions {
  /** IMS Connect name (`HWS ID=`), 1–8 alphanumeric, alphabetic first. */
  id: string;
  /** `RACF=Y`: check user, password and group of every request. */
  racf?: boolean;
  /** Default RACF user ID when `IRM_RACF_USERID` is blank (`RACFID=`). */
  racfId?: string;
  /** Address every protocol port binds (emulator extension; loopback only). Default 127.0.0.1. */
  host?: string;
  /** The protocol ports. */
  ports: Array<number | PortOptions>;
  /** Maximum sockets across all ports, listeners included (`MAXSOC=`, 50–65535; default 50). */
  maxSockets?: number;
  /** Warning threshold in percent of MAXSOC (`WARNSOC=`, default 80). */
  warnSockets?: number;
  /** Warning increment in percent (`WARNINC=`, default 5). */
  warnIncrement?: number;
  /** Default IMS wait and first-input wait in ms (`TIMEOUT=` in hundredths); 0 = no limit. */
  timeout?: number;
  /** Default idle timeout between interactions in ms (`IDLETO=`); 0 = none. */
  idleTimeout?: number;
  /** Largest input message in bytes (`MAXSIZE=`). */
  maxSize?: number;
  /** User message exits to load (`EXIT=`); the built-in ones are always available. */
  exits?: string[];
  /** Datastores. */
  datastores?: DatastoreOptions[];
  /** TLS material for `tls` ports (emulator extension: PEM text or file paths resolved by the caller). */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer };
  /** Admin/health HTTP endpoint (emulator extension). */
  admin?: { host?: string; port: number; token?: string };
  /** RACF users (already loaded); see `loadUsersFile`. */
  users?: UserRecord[];
  /** Path of the users file (recorded; `loadUsersFile` reads it). */
  usersFile?: string;
  /** Code page of EBCDIC clients' payload when translating for ASCII clients (default cp037). */
  codePage?: string;
  /** How long a blocked write may wait for 'drain' before the socket is destroyed, ms. */
  drainTimeout?: number;
  /** How long a started frame may stay incomplete before the socket is closed, ms. */
  readTimeout?: number;
  /** Datastore reconnect backoff, for every datastore without its own `reconnect`. */
  reconnect?: ReconnectOptions;
  /** Protocol level reported in CSM byte 3 (X'02' = CM0 ACK NOWAIT supported). */
  protocolLevel?: number;
}

/** Normalised, validated, frozen options. */
export interface ResolvedOptions {
  readonly id: string;
  readonly racf: boolean;
  readonly racfId: string;
  readonly host: string;
  readonly ports: readonly Required<PortOptions>[];
  readonly maxSockets: number;
  readonly warnSockets: number;
  readonly warnIncrement: number;
  readonly timeout: number;
  readonly idleTimeout: number;
  readonly maxSize: number;
  readonly exits: readonly string[];
  readonly datastores: readonly ResolvedDatastore[];
  readonly tls: ImsConnectOptions['tls'] | undefined;
  readonly admin: { readonly host: string; readonly port: number; readonly token: string | undefined } | undefined;
  readonly users: readonly UserRecord[];
  readonly usersFile: string | undefined;
  readonly codePage: string;
  readonly drainTimeout: number;
  readonly readTimeout: number;
  readonly reconnect: ResolvedReconnect;
  readonly protocolLevel: number;
}

/** A validated reconnect backoff. */
export interface ResolvedReconnect {
  readonly initialDelay: number;
  readonly maxDelay: number;
  readonly jitter: number;
}

/** A validated datastore. */
export interface ResolvedDatastore {
  readonly id: string;
  readonly group: string;
  readonly member: string;
  readonly tmember: string;
  readonly dru: string;
  readonly appl: string;
  readonly ackTimeout: number;
  readonly rerouteName: string;
  readonly address: { readonly host: string; readonly port: number } | undefined;
  readonly alternates: readonly string[];
  readonly reconnect: ResolvedReconnect;
}

/** Every default in one place. */
export const DEFAULTS = Object.freeze({
  racf: false,
  host: '127.0.0.1',
  maxSockets: 50, // [IBM] MAXSOC default
  warnSockets: 80, // [IBM] WARNSOC default, percent
  warnIncrement: 5, // [IBM] WARNINC default, percent
  // [INF] TIMEOUT= is in hundredths of a second (spec §12.2 "TIMEOUT=6000 = 60 s"); IBM's default
  // was not found, we choose 60 s. 0 means "no limit" as in the VIEWHWS sample (TIMEOUT=0).
  timeout: 60_000,
  idleTimeout: 0, // [IBM] IDLETO default 0 = none
  // [INF] MAXSIZE default: IBM cites 10 MB for callout responses; we use it for every input.
  maxSize: 10_000_000,
  keepAlive: 0,
  codePage: 'cp037',
  drainTimeout: 30_000,
  readTimeout: 30_000,
  // [INF] imsplex choice: a restarted IMS must be back in service within the stack's 2 s drill, so the
  // doubling backoff (50, 100, 200, 400, 800 ms) is capped at 1 s and each wait is shortened by up to
  // 20 % at random (no lock-step retries from several IMS Connects).
  reconnectInitialDelay: 50,
  reconnectMaxDelay: 1000,
  reconnectJitter: 0.2,
  ackTimeout: 120, // [IBM] OTMA default ACK timeout, seconds
  rerouteName: 'HWS$DEF', // [IBM]
  protocolLevel: 0x02, // [IBM] CM0 ACK NOWAIT supported (spec §13.2 byte 1E)
});

/** Resolves a dotted option path (e.g. `datastores.1.tmember`) to where it was written. */
export type Locate = (path: string) => ConfigSource | undefined;

const NAME8 = /^[A-Z0-9@#$]{1,8}$/;
const HWS_ID = /^[A-Z][A-Z0-9]{0,7}$/;

function isLoopback(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === 'localhost' || host === '::1';
}

/** Parse `host:port` (the emulator's `XCFADDR=` value). */
export function parseAddress(text: string): { host: string; port: number } | undefined {
  const m = /^([^:\s]+):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 0 || port > 65535) return undefined;
  return { host: m[1]!, port };
}

/**
 * Validate `input`, apply defaults, and return a frozen normalised object. Errors are
 * `ConfigError`s naming the source of the bad value (`locate` maps option paths to file:line;
 * without it the "file" is `<options>`).
 */
export function resolveOptions(input: ImsConnectOptions, locate: Locate = () => undefined): ResolvedOptions {
  const fail = (path: string, message: string): never => {
    throw new ConfigError(locate(path) ?? { file: '<options>', line: 0, key: path }, message);
  };
  const int = (path: string, v: unknown, min: number, max: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(path, `must be an integer from ${min} to ${max}, got ${String(v)}`);
    return v as number;
  };
  if (typeof input !== 'object' || input === null) fail('options', 'must be an object');
  const id = String(input.id ?? '').toUpperCase();
  if (!HWS_ID.test(id)) fail('id', `HWS ID must be 1-8 alphanumeric characters starting with a letter, got "${input.id}"`);

  const host = input.host ?? DEFAULTS.host;
  if (!isLoopback(host)) fail('host', `must be a loopback address (127.0.0.0/8), got "${host}"`);

  if (!Array.isArray(input.ports) || input.ports.length === 0) fail('ports', 'at least one port is required');
  if (input.ports.length > 200) fail('ports', 'at most 200 ports may be defined');
  const seen = new Set<number>();
  const ports = input.ports.map((p, i) => {
    const o: PortOptions = typeof p === 'number' ? { id: p } : p;
    const pid = int(`ports.${i}.id`, o.id, 0, 65535);
    // Port 0 (imsplex extension, for tests) binds an ephemeral port; `boundPort(0)` reports it. Ports are
    // keyed by their configured ID, so 0 may appear once.
    if (seen.has(pid)) fail(`ports.${i}.id`, pid === 0 ? 'the ephemeral port 0 may be defined once' : `port ${pid} is defined twice`);
    seen.add(pid);
    return Object.freeze({
      id: pid,
      keepAlive: int(`ports.${i}.keepAlive`, o.keepAlive ?? DEFAULTS.keepAlive, 0, 2_147_460),
      edit: (o.edit ?? '').toUpperCase(),
      idleTimeout: int(`ports.${i}.idleTimeout`, o.idleTimeout ?? input.idleTimeout ?? DEFAULTS.idleTimeout, 0, 2_147_483_647),
      tls: Boolean(o.tls),
    });
  });
  const tlsPort = ports.findIndex((p) => p.tls);
  if (tlsPort >= 0 && !input.tls) fail(`ports.${tlsPort}.id`, 'a TLS port (SSLPORT) needs a certificate and key (EMULATOR SSLCERT=, SSLKEY=)');

  const maxSockets = int('maxSockets', input.maxSockets ?? DEFAULTS.maxSockets, 1, 65535);
  const racfId = (input.racfId ?? '').toUpperCase();
  if (racfId && !NAME8.test(racfId)) fail('racfId', `must be 1-8 characters A-Z 0-9 @ # $, got "${input.racfId}"`);

  const reconnectOf = (path: string, r: ReconnectOptions | undefined, base: ResolvedReconnect | undefined): ResolvedReconnect => {
    if (r !== undefined && (typeof r !== 'object' || r === null)) fail(path, 'must be an object { initialDelay, maxDelay, jitter }');
    const initialDelay = int(`${path}.initialDelay`, r?.initialDelay ?? base?.initialDelay ?? DEFAULTS.reconnectInitialDelay, 1, 3_600_000);
    const maxDelay = int(`${path}.maxDelay`, r?.maxDelay ?? Math.max(base?.maxDelay ?? DEFAULTS.reconnectMaxDelay, initialDelay), initialDelay, 3_600_000);
    const jitter = r?.jitter ?? base?.jitter ?? DEFAULTS.reconnectJitter;
    if (typeof jitter !== 'number' || !Number.isFinite(jitter) || jitter < 0 || jitter > 1) fail(`${path}.jitter`, `must be a number from 0 to 1, got ${String(jitter)}`);
    return Object.freeze({ initialDelay, maxDelay, jitter });
  };
  const reconnect = reconnectOf('reconnect', input.reconnect, undefined);

  const dsIds = new Set<string>();
  const datastores = (input.datastores ?? []).map((d, i) => {
    const dsId = String(d.id ?? '').toUpperCase();
    if (!NAME8.test(dsId)) fail(`datastores.${i}.id`, `must be 1-8 characters A-Z 0-9 @ # $, got "${d.id}"`);
    if (dsIds.has(dsId)) fail(`datastores.${i}.id`, `datastore ${dsId} is defined twice`);
    dsIds.add(dsId);
    const tmember = String(d.tmember ?? '').toUpperCase();
    if (!tmember || tmember.length > 16) fail(`datastores.${i}.tmember`, 'TMEMBER is required (1-16 characters)');
    let address: { host: string; port: number } | undefined;
    if (d.address !== undefined) {
      address = typeof d.address === 'string' ? parseAddress(d.address) : d.address;
      if (!address || !Number.isInteger(address.port) || address.port < 1 || address.port > 65535) fail(`datastores.${i}.address`, `must be host:port, got "${String(d.address)}"`);
      if (!isLoopback(address!.host)) fail(`datastores.${i}.address`, `must be a loopback address, got "${address!.host}"`);
    }
    const rerouteName = (d.rerouteName ?? DEFAULTS.rerouteName).toUpperCase();
    if (!NAME8.test(rerouteName)) fail(`datastores.${i}.rerouteName`, `must be 1-8 characters, got "${d.rerouteName}"`);
    return Object.freeze({
      id: dsId,
      group: (d.group ?? '').toUpperCase(),
      member: (d.member ?? id).toUpperCase(),
      tmember,
      dru: (d.dru ?? '').toUpperCase(),
      appl: (d.appl ?? '').toUpperCase(),
      ackTimeout: int(`datastores.${i}.ackTimeout`, d.ackTimeout ?? 0, 0, 255) || DEFAULTS.ackTimeout,
      rerouteName,
      address: address ? Object.freeze({ ...address }) : undefined,
      alternates: Object.freeze((d.alternates ?? []).map((a) => a.toUpperCase())),
      reconnect: d.reconnect === undefined ? reconnect : reconnectOf(`datastores.${i}.reconnect`, d.reconnect, reconnect),
    });
  });
  datastores.forEach((d, i) => {
    d.alternates.forEach((a, j) => {
      if (!dsIds.has(a)) fail(`datastores.${i}.alternates.${j}`, `names unknown datastore "${a}"`);
      if (a === d.id) fail(`datastores.${i}.alternates.${j}`, 'a datastore cannot be its own alternate');
    });
  });

  const codePage = input.codePage ?? DEFAULTS.codePage;
  try {
    if (!getCodePage(codePage).ebcdic) fail('codePage', `must be an EBCDIC code page, got "${codePage}"`);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    fail('codePage', (e as Error).message);
  }

  let admin: ResolvedOptions['admin'];
  if (input.admin) {
    const ahost = input.admin.host ?? host;
    if (!isLoopback(ahost)) fail('admin.host', `must be a loopback address, got "${ahost}"`);
    admin = Object.freeze({ host: ahost, port: int('admin.port', input.admin.port, 0, 65535), token: input.admin.token || undefined });
  }
  const users = (input.users ?? []).map((u, i) => {
    const user = String(u.user ?? '').toUpperCase();
    if (!NAME8.test(user)) fail(`users.${i}.user`, `must be 1-8 characters, got "${u.user}"`);
    if (typeof u.hash !== 'string' || !/^(scrypt|pbkdf2-sha256|pbkdf2-sha512)\$/.test(u.hash)) fail(`users.${i}.hash`, 'must be a scrypt$… or pbkdf2-sha256$… hash');
    return Object.freeze({ user, hash: u.hash, groups: (u.groups ?? []).map((g) => g.toUpperCase()), transactions: u.transactions?.map((t) => t.toUpperCase()) });
  });
  if (input.racf && users.length === 0) fail('racf', 'RACF=Y needs a users file (EMULATOR USERS=) or inline users');


  return Object.freeze({
    id,
    racf: Boolean(input.racf ?? DEFAULTS.racf),
    racfId,
    host,
    ports: Object.freeze(ports),
    maxSockets,
    warnSockets: int('warnSockets', input.warnSockets ?? DEFAULTS.warnSockets, 1, 100),
    warnIncrement: int('warnIncrement', input.warnIncrement ?? DEFAULTS.warnIncrement, 1, 50),
    timeout: int('timeout', input.timeout ?? DEFAULTS.timeout, 0, 2_147_483_647),
    idleTimeout: int('idleTimeout', input.idleTimeout ?? DEFAULTS.idleTimeout, 0, 2_147_483_647),
    maxSize: int('maxSize', input.maxSize ?? DEFAULTS.maxSize, 88, 0x7fffffff),
    exits: Object.freeze((input.exits ?? []).map((e) => e.toUpperCase())),
    datastores: Object.freeze(datastores),
    tls: input.tls,
    admin,
    users: Object.freeze(users),
    usersFile: input.usersFile,
    codePage,
    drainTimeout: int('drainTimeout', input.drainTimeout ?? DEFAULTS.drainTimeout, 1, 3_600_000),
    readTimeout: int('readTimeout', input.readTimeout ?? DEFAULTS.readTimeout, 1, 3_600_000),
    reconnect,
    protocolLevel: int('protocolLevel', input.protocolLevel ?? DEFAULTS.protocolLevel, 0, 3),
  });
}
