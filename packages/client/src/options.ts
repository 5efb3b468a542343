/**
 * Options of the client, validated once and frozen (`resolve*` functions). Property names mirror
 * IBM's IMS Connect API for Java (`com.ibm.ims.connect.TmInteraction` / `TmConnection`) where one
 * exists; the IBM name is given in each doc comment.
 */
import { type ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { getCodePage, type CodePage } from '@imsplex/codec';
import { resolveBackoff, type BackoffOptions, type ResolvedBackoff } from './backoff.js';
import { ClientErrorCode, ImsClientError, invalidArgument } from './errors.js';
import { defaultClock, defaultTimers, type Clock, type Timers } from './timers.js';
import { type Connector, type Endpoint } from './transport.js';

/** IMS Connect socket types (`IRM_SOCT`; IBM `socketType`). */
export type SocketType = 'transaction' | 'persistent' | 'non-persistent';
/** Commit mode: 0 = commit-then-send (CM0), 1 = send-then-commit (CM1). IBM `commitMode`. */
export type CommitMode = 0 | 1;
/** Sync level (IBM `syncLevel`). `syncpt` (two-phase commit) is TM RA only and not offered. */
export type SyncLevel = 'none' | 'confirm';
/**
 * IRM timer (IBM `interactionTimeout`): milliseconds (rounded up to the nearest IRM_TIMER step),
 * `'default'` (X'00': IMS Connect's `TIMEOUT=`), `'nowait'` (X'E9') or `'forever'` (X'FF').
 */
export type IrmTimerSetting = number | 'default' | 'nowait' | 'forever';

/**
 * Options of one interaction (IBM `TmInteraction` properties). Set defaults on the client, override
 * per call.
 */
export interface InteractionOptions {
  /**
   * User message exit ID (IBM `imsConnectUserMessageExitIdentifier`). Default `*SAMPL1*` (HWSSMPL1,
   * whose replies carry an LLLL prefix); `*SAMPLE*` selects HWSSMPL0.
   */
  readonly exitId?: '*SAMPL1*' | '*SAMPLE*';
  /** Code page of the IRM's character fields and of text data (IBM `imsConnectCodepage`). Default `cp037`. */
  readonly codePage?: string;
  /** Datastore ID = `DATASTORE ID=` of HWSCFG (IBM `imsDatastoreName`). Required somewhere. */
  readonly datastore?: string;
  /** Commit mode (IBM `commitMode`). Default 1 (send-then-commit). */
  readonly commitMode?: CommitMode;
  /**
   * Sync level (IBM `syncLevel`). Default `none`; commit mode 0 always runs with `confirm` (IBM: CM0
   * supports only CONFIRM), so `none` with CM0 is rejected.
   */
  readonly syncLevel?: SyncLevel;
  /** IRM timer (IBM `interactionTimeout`). Default `'default'`. */
  readonly interactionTimeout?: IrmTimerSetting;
  /** LTERM override name for the I/O PCB (IBM `ltermOverrideName`). */
  readonly ltermOverrideName?: string;
  /** RACF user ID (IBM `racfUserId`). */
  readonly racfUserId?: string;
  /** RACF group (IBM `racfGroupName`). */
  readonly racfGroupName?: string;
  /** RACF password or PassTicket (IBM `racfPassword`). Sent in clear on the wire; use TLS. */
  readonly racfPassword?: string;
  /** RACF application name for PassTickets (IBM `racfApplName`). Needs IRM architecture ≥ 1. */
  readonly racfApplName?: string;
  /** MFS MOD name to pass to IMS (IRM_MODNAME, IBM `mfsModname`). Needs IRM architecture ≥ 3. */
  readonly mfsModname?: string;
  /** Ask IMS Connect to return the MFS MOD name (`*REQMOD*`, IBM `returnMfsModname`). Default false. */
  readonly returnMfsModname?: boolean;
  /** Ask IMS Connect to return the client ID (`*GENCID*`, IBM `returnClientId`). Default false. */
  readonly returnClientId?: boolean;
  /**
   * Reroute undeliverable CM0 output to this tpipe (IRM_F3 X'08' + IRM_REROUT_NM; IBM `rerouteName`
   * with `reroute`). Mutually exclusive with `purgeUndeliverableOutput` and with an alternate client ID.
   */
  readonly rerouteName?: string;
  /** Purge undeliverable CM0 output (IRM_F3 X'04'; IBM `purgeUndeliverableOutput`). Default false. */
  readonly purgeUndeliverableOutput?: boolean;
  /** Cancel another session holding this client ID (IRM_F3 X'80'; IBM `cancelClientId`). Default false. */
  readonly cancelClientId?: boolean;
  /**
   * IRM architecture level (IBM `irmArchitectureLevel`-like). Default: the lowest level that holds
   * every field set (0 unless APPL name / reroute / alternate client ID (1) or MOD name (3) is used).
   */
  readonly irmArchitecture?: 0 | 1 | 2 | 3 | 4 | 5;
}

/** Interaction options after defaults. */
export interface ResolvedInteraction {
  readonly exitId: '*SAMPL1*' | '*SAMPLE*';
  readonly codePage: CodePage;
  readonly datastore: string;
  readonly commitMode: CommitMode;
  readonly syncLevel: SyncLevel;
  readonly interactionTimeout: IrmTimerSetting;
  readonly ltermOverrideName: string;
  readonly racfUserId: string;
  readonly racfGroupName: string;
  readonly racfPassword: string;
  readonly racfApplName: string;
  readonly mfsModname: string;
  readonly returnMfsModname: boolean;
  readonly returnClientId: boolean;
  readonly rerouteName: string;
  readonly purgeUndeliverableOutput: boolean;
  readonly cancelClientId: boolean;
  readonly irmArchitecture: 0 | 1 | 2 | 3 | 4 | 5 | undefined;
}

/** Names of IMS: 1–8 of A–Z 0–9 @ # $ (IBM, for client IDs, datastores, LTERMs, tpipes). */
const IMS_NAME = /^[A-Z0-9@#$]{1,8}$/;
/** Characters of a RACF password / PassTicket (8 bytes; mixed case allowed). */
const RACF_FIELD = /^[\x20-\x7e]{0,8}$/;

/** Validate an 8-character IMS name (upper-cases it); `label` names the option in the error. */
export function imsName(value: string, label: string, allowEmpty = true): string {
  const v = value.trim().toUpperCase();
  if (v === '' && allowEmpty) return '';
  if (!IMS_NAME.test(v)) throw invalidArgument(`${label} must be 1–8 characters of A–Z, 0–9, @, #, $; got ${JSON.stringify(value)}`, { option: label, value });
  return v;
}

/** Validate a client ID (an IMS name that must not start with `HWS`, reserved for IMS Connect). */
export function clientIdName(value: string, label = 'clientId'): string {
  const v = imsName(value, label, false);
  if (v.startsWith('HWS')) throw invalidArgument(`${label} must not start with HWS (reserved for IDs IMS Connect generates); got ${v}`, { option: label, value });
  return v;
}

function racfField(value: string | undefined, label: string, upper: boolean): string {
  if (value === undefined) return '';
  if (!RACF_FIELD.test(value)) throw invalidArgument(`${label} must be at most 8 printable characters`, { option: label });
  return upper ? value.trim().toUpperCase() : value;
}

/** Check an IRM timer setting. */
export function checkTimer(t: IrmTimerSetting, label: string): IrmTimerSetting {
  if (t === 'default' || t === 'nowait' || t === 'forever') return t;
  // IRM_TIMER's longest finite step is 60 minutes (spec §4.1).
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0 || t > 3_600_000) {
    throw invalidArgument(`${label} must be 1–3600000 ms, 'default', 'nowait' or 'forever'; got ${String(t)}`, { option: label, value: t });
  }
  return t;
}

/** Apply `override` over `base` and validate the merged interaction options. */
export function resolveInteraction(base: InteractionOptions | undefined, override?: InteractionOptions): ResolvedInteraction {
  const o: InteractionOptions = { ...(base ?? {}), ...(override ?? {}) };
  const exitId = o.exitId ?? '*SAMPL1*';
  if (exitId !== '*SAMPL1*' && exitId !== '*SAMPLE*') throw invalidArgument(`exitId must be '*SAMPL1*' or '*SAMPLE*'; got ${String(exitId)}`);
  let codePage: CodePage;
  try {
    codePage = getCodePage((o.codePage ?? 'cp037') as Parameters<typeof getCodePage>[0]);
  } catch (e) {
    throw new ImsClientError(ClientErrorCode.INVALID_ARGUMENT, `codePage ${JSON.stringify(o.codePage)} is not a known code page`, { cause: e, details: { option: 'codePage' } });
  }
  const commitMode = o.commitMode ?? 1;
  if (commitMode !== 0 && commitMode !== 1) throw invalidArgument(`commitMode must be 0 or 1; got ${String(commitMode)}`);
  // IBM: commit mode 0 supports only sync level CONFIRM; an unset sync level with CM0 means CONFIRM.
  const syncLevel = o.syncLevel ?? (commitMode === 0 ? 'confirm' : 'none');
  if (syncLevel !== 'none' && syncLevel !== 'confirm') throw invalidArgument(`syncLevel must be 'none' or 'confirm'; got ${String(syncLevel)}`);
  if (commitMode === 0 && syncLevel !== 'confirm') throw invalidArgument('commit mode 0 requires syncLevel confirm (IBM: CM0 supports only CONFIRM)');
  const rerouteName = o.rerouteName === undefined ? '' : imsName(o.rerouteName, 'rerouteName');
  const purge = o.purgeUndeliverableOutput ?? false;
  if (purge && rerouteName) throw invalidArgument('purgeUndeliverableOutput and rerouteName are mutually exclusive');
  const arch = o.irmArchitecture;
  if (arch !== undefined && !(Number.isInteger(arch) && arch >= 0 && arch <= 5)) throw invalidArgument(`irmArchitecture must be 0–5; got ${String(arch)}`);
  return Object.freeze({
    exitId,
    codePage,
    datastore: o.datastore === undefined ? '' : imsName(o.datastore, 'datastore'),
    commitMode,
    syncLevel,
    interactionTimeout: checkTimer(o.interactionTimeout ?? 'default', 'interactionTimeout'),
    ltermOverrideName: o.ltermOverrideName === undefined ? '' : imsName(o.ltermOverrideName, 'ltermOverrideName'),
    racfUserId: racfField(o.racfUserId, 'racfUserId', true),
    racfGroupName: racfField(o.racfGroupName, 'racfGroupName', true),
    racfPassword: racfField(o.racfPassword, 'racfPassword', false),
    racfApplName: racfField(o.racfApplName, 'racfApplName', true),
    mfsModname: o.mfsModname === undefined ? '' : imsName(o.mfsModname, 'mfsModname'),
    returnMfsModname: o.returnMfsModname ?? false,
    returnClientId: o.returnClientId ?? false,
    rerouteName,
    purgeUndeliverableOutput: purge,
    cancelClientId: o.cancelClientId ?? false,
    irmArchitecture: arch,
  });
}

/** Options of the connections (IBM `TmConnection` properties) and of the pool. */
export interface ConnectionOptions {
  /** IMS Connect endpoints, tried in order with failover. Or give `host` + `port`. */
  readonly endpoints?: readonly Endpoint[];
  /** Shorthand for one endpoint (IBM `hostName`). */
  readonly host?: string;
  /** Shorthand for one endpoint (IBM `portNumber`). */
  readonly port?: number;
  /** Local source address for the `host`/`port` shorthand. */
  readonly localAddress?: string;
  /** Socket type (IBM `socketType`). Default `persistent`. */
  readonly socketType?: SocketType;
  /**
   * Fixed client ID (IBM `clientId`). Only with `maxConnections: 1`: a client ID may be in use once per
   * IMS Connect port. Without it the client generates `clientIdPrefix` + a sequence per connection.
   */
  readonly clientId?: string;
  /** Prefix of generated client IDs (1–7 characters, not `HWS`). Default `IMSP`. */
  readonly clientIdPrefix?: string;
  /** TLS for every endpoint (IBM `useSslConnection`): `true` or `node:tls` connect options. Default off. */
  readonly tls?: boolean | TlsConnectionOptions;
  /** Time allowed to establish a TCP/TLS connection, ms (IBM `socketConnectTimeout`). Default 10000. */
  readonly connectTimeout?: number;
  /**
   * Time allowed from writing a request to the first byte of its reply, ms (IBM `imsConnectTimeout`,
   * the client-side socket wait). Default 60000. Keep it longer than `interactionTimeout` so the IRM
   * timer (IMS Connect's RSM) expires first. 0 = no limit.
   */
  readonly responseTimeout?: number;
  /** Longest silence allowed inside a reply once it started, ms (refreshed per chunk). Default 30000. */
  readonly idleTimeout?: number;
  /** Largest reply accepted, bytes. Default 10,000,000 (the IMS TM resource adapter's maximum). */
  readonly maxReplySize?: number;
  /** Connect rounds over all endpoints before giving up. Default 3. */
  readonly maxConnectAttempts?: number;
  /** Back-off between connect rounds. */
  readonly backoff?: BackoffOptions;
  /** How long a failed endpoint is tried last, ms (× consecutive failures, up to 8×). Default 1000. */
  readonly endpointCooldown?: number;
  /** Pool: connections kept open even when idle. Default 0. */
  readonly minConnections?: number;
  /** Pool: most connections open at once. Default 10. */
  readonly maxConnections?: number;
  /** Pool: callers allowed to wait for a connection. Default 1000. */
  readonly maxWaiters?: number;
  /** Pool: longest wait for a free connection, ms (Liberty `connectionTimeout`). Default 30000. */
  readonly acquireTimeout?: number;
  /** Pool: close connections idle this long (above `minConnections`), ms. 0 = never. Default 300000. */
  readonly maxIdleTime?: number;
  /**
   * Pool: PING a connection that was idle at least this long before handing it out, ms
   * (z/OS Connect `pingIMSConnectOnInvoke` with a threshold). 0 = always, -1 = never. Default -1.
   */
  readonly pingIdleAfter?: number;
  /** Pool: interval of the background health check (PING idle connections), ms. 0 = off. Default 0. */
  readonly healthCheckInterval?: number;
  /** Retries of a request whose connection failed before the request was written. Default 2. */
  readonly maxRetries?: number;
  /** Injectable timers (default: the globals, read at call time). */
  readonly timers?: Timers;
  /** Injectable clock (default `Date.now`). */
  readonly clock?: Clock;
  /** Injectable random source in [0, 1) for back-off jitter and client-ID seeds (default `Math.random`). */
  readonly rng?: () => number;
  /** Custom stream opener (e.g. `testServer.connector`); replaces TCP/TLS. */
  readonly connector?: Connector;
}

/** Connection options after defaults. */
export interface ResolvedConnection {
  readonly endpoints: readonly Endpoint[];
  readonly socketType: SocketType;
  readonly clientId: string | undefined;
  readonly clientIdPrefix: string;
  readonly tls: boolean | TlsConnectionOptions;
  readonly connectTimeout: number;
  readonly responseTimeout: number;
  readonly idleTimeout: number;
  readonly maxReplySize: number;
  readonly maxConnectAttempts: number;
  readonly backoff: ResolvedBackoff;
  readonly endpointCooldown: number;
  readonly minConnections: number;
  readonly maxConnections: number;
  readonly maxWaiters: number;
  readonly acquireTimeout: number;
  readonly maxIdleTime: number;
  readonly pingIdleAfter: number;
  readonly healthCheckInterval: number;
  readonly maxRetries: number;
  readonly timers: Timers;
  readonly clock: Clock;
  readonly rng: () => number;
  readonly connector: Connector | undefined;
}

function int(value: unknown, label: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(`${label} must be an integer within ${min}…${max}; got ${String(value)}`, { option: label, value });
  }
  return value;
}

const REMOVED: Record<string, string> = {
  hostName: "use 'host' (or 'endpoints')",
  portNumber: "use 'port' (or 'endpoints')",
  timeout: "use 'responseTimeout' (client wait) or 'interactionTimeout' (IRM timer)",
  imsConnectTimeout: "use 'responseTimeout'",
  socketConnectTimeout: "use 'connectTimeout'",
};

/** Validate connection options and apply defaults. */
export function resolveConnection(input: ConnectionOptions): ResolvedConnection {
  for (const [k, hint] of Object.entries(REMOVED)) {
    if (k in (input as object)) throw invalidArgument(`option '${k}' is not supported: ${hint}`, { option: k });
  }
  let endpoints: Endpoint[];
  if (input.endpoints !== undefined) {
    if (input.host !== undefined || input.port !== undefined) throw invalidArgument("give either 'endpoints' or 'host'/'port', not both");
    endpoints = [...input.endpoints];
  } else if (input.host !== undefined || input.port !== undefined || input.connector !== undefined) {
    endpoints = [{ host: input.host ?? 'imsconnect', port: input.port ?? 0, ...(input.localAddress !== undefined ? { localAddress: input.localAddress } : {}) }];
  } else throw invalidArgument("an IMS Connect address is required: 'endpoints' or 'host' and 'port'");
  if (endpoints.length === 0) throw invalidArgument("'endpoints' must not be empty");
  for (const [i, e] of endpoints.entries()) {
    if (typeof e?.host !== 'string' || e.host === '') throw invalidArgument(`endpoints[${i}].host must be a non-empty string`);
    int(e.port, `endpoints[${i}].port`, input.connector ? 0 : 1, 65535);
  }
  const socketType = input.socketType ?? 'persistent';
  if (!['transaction', 'persistent', 'non-persistent'].includes(socketType)) throw invalidArgument(`socketType must be transaction, persistent or non-persistent; got ${String(socketType)}`);
  const maxConnections = int(input.maxConnections ?? 10, 'maxConnections', 1, 10_000);
  const minConnections = int(input.minConnections ?? 0, 'minConnections', 0, maxConnections);
  if (minConnections > 0 && socketType !== 'persistent') throw invalidArgument('minConnections needs persistent sockets (other socket types close after each interaction)');
  const clientId = input.clientId === undefined ? undefined : clientIdName(input.clientId);
  if (clientId !== undefined && maxConnections !== 1) {
    throw invalidArgument('a fixed clientId needs maxConnections: 1 (a client ID is unique per IMS Connect port); use clientIdPrefix for a pool');
  }
  const prefix = input.clientIdPrefix ?? 'IMSP';
  if (!/^[A-Z@#$][A-Z0-9@#$]{0,6}$/.test(prefix) || prefix.startsWith('HWS')) {
    throw invalidArgument(`clientIdPrefix must be 1–7 characters of A–Z 0–9 @ # $, start with a letter or @#$, not HWS; got ${JSON.stringify(prefix)}`);
  }
  return Object.freeze({
    endpoints: Object.freeze(endpoints.map((e) => Object.freeze({ ...e }))),
    socketType,
    clientId,
    clientIdPrefix: prefix,
    tls: input.tls ?? false,
    connectTimeout: int(input.connectTimeout ?? 10_000, 'connectTimeout', 1, 600_000),
    responseTimeout: int(input.responseTimeout ?? 60_000, 'responseTimeout', 0, 86_400_000),
    idleTimeout: int(input.idleTimeout ?? 30_000, 'idleTimeout', 0, 86_400_000),
    // IMS TM resource adapter maximum message size X'00989680' = 10,000,000 (spec §1.3).
    maxReplySize: int(input.maxReplySize ?? 10_000_000, 'maxReplySize', 64, 0x7fffffff),
    maxConnectAttempts: int(input.maxConnectAttempts ?? 3, 'maxConnectAttempts', 1, 1000),
    backoff: resolveBackoff(input.backoff),
    endpointCooldown: int(input.endpointCooldown ?? 1000, 'endpointCooldown', 0, 3_600_000),
    minConnections,
    maxConnections,
    maxWaiters: int(input.maxWaiters ?? 1000, 'maxWaiters', 0, 1_000_000),
    acquireTimeout: int(input.acquireTimeout ?? 30_000, 'acquireTimeout', 0, 86_400_000),
    maxIdleTime: int(input.maxIdleTime ?? 300_000, 'maxIdleTime', 0, 86_400_000),
    pingIdleAfter: int(input.pingIdleAfter ?? -1, 'pingIdleAfter', -1, 86_400_000),
    healthCheckInterval: int(input.healthCheckInterval ?? 0, 'healthCheckInterval', 0, 86_400_000),
    maxRetries: int(input.maxRetries ?? 2, 'maxRetries', 0, 100),
    timers: input.timers ?? defaultTimers,
    clock: input.clock ?? defaultClock,
    rng: input.rng ?? Math.random,
    connector: input.connector,
  });
}
