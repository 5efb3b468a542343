/**
 * Distributor state as plain data: the Destination Port Table (one {@link PortTable} per DVIPA
 * and port, each listing its {@link TargetState}s), timed affinities, and the Connection Routing
 * Table (VCRT). Everything here is pure: functions take state and return new values.
 */
import type { DistMethodName, ProfileConfig, TargetSettings, VipaDistribute } from './config/types.js';

/** Emulated WLM system weight when none is configured: the top of WLM's 0–64 scale. */
export const DEFAULT_WLM_WEIGHT = 64;

/** Live state of one target (one DestXCF) for one DVIPA port. */
export interface TargetState {
  /** Dynamic XCF address of the target stack (its loopback host). */
  readonly xcf: string;
  /** Where the server listens (default: xcf and the distributed port). */
  readonly host: string;
  readonly port: number;
  readonly healthUrl: string | null;
  readonly jobname: string | null;
  readonly maxConn: number | null;
  readonly srvType: 'PREFERRED' | 'BACKUP' | null;
  readonly rank: number;
  /** WEIGHTEDACTIVE configured weight. */
  readonly configWeight: number;
  readonly dynamic: boolean;
  /** Ready listeners on the distributed port (0 or 1 here). */
  readonly rdy: number;
  /** The target stack is up and in the group (a heartbeat/probe has answered). */
  readonly stackUp: boolean;
  /** QUIESCE (TARGET, PORT or JOBNAME) is in force. */
  readonly quiesced: boolean;
  /** WLM system weight stand-in, 0–64 (BASEWLM). */
  readonly systemWeight: number;
  /** Server-specific weight reported by the target, 0–64 (SERVERWLM); null until reported. */
  readonly serverWeight: number | null;
  /** Server-reported health 0–100. */
  readonly health: number;
  /** Abnormal completions per 1000 (max of reported and observed). */
  readonly abnorm: number;
  readonly tcsr: number;
  readonly cer: number;
  readonly sef: number;
  readonly tsr: number;
  /** QoS weight fraction in percent (Policy Agent hook; 0 here unless set). */
  readonly qos: number;
  readonly totalConn: number;
  readonly activeConn: number;
  /** Pick sequence number of the last connection given to this target (0 = never). */
  readonly lastPick: number;
}

/** Method cursors: everything a method remembers between picks. */
export interface Cursor {
  /** Smooth weighted round robin current values by XCF. */
  readonly wrr: Readonly<Record<string, number>>;
  /** Index (in `targets`) of the last ROUNDROBIN / fallback choice; -1 = none. */
  readonly rr: number;
  /** HOTSTANDBY: XCF of the active target, or null. */
  readonly active: string | null;
  /** Number of picks made so far. */
  readonly seq: number;
}

/** One distributed DVIPA port with its targets (one VDPT group). */
export interface PortTable {
  readonly dvipa: string;
  readonly port: number;
  readonly method: DistMethodName;
  readonly optLocal: number | null;
  /** Seconds. */
  readonly timedAffinity: number;
  readonly autoSwitchBack: boolean;
  readonly healthSwitch: boolean;
  readonly targets: readonly TargetState[];
  readonly cursor: Cursor;
}

/** A timed affinity: every connection from `client` goes to `xcf` while it lives. */
export interface Affinity {
  readonly client: string;
  readonly xcf: string;
  /** Connections currently open under this affinity. */
  readonly count: number;
  /** Epoch ms at which it expires once `count` is 0; null while connections are open. */
  readonly expiresAt: number | null;
}

/** One VCRT entry. */
export interface ConnectionEntry {
  readonly id: number;
  readonly dvipa: string;
  readonly port: number;
  readonly srcIp: string;
  readonly srcPort: number;
  readonly xcf: string;
  readonly since: number;
}

/** `dvipa..port`, IBM's way of writing a destination. */
export function destKey(dvipa: string, port: number): string {
  return `${dvipa}..${port}`;
}

/** Key of a target within the whole table. */
export function targetKey(dvipa: string, port: number, xcf: string): string {
  return `${dvipa}..${port}@${xcf}`;
}

/** Merges every TARGET statement for (xcf, port): generic ones first, port-specific ones override; later statements win. */
function settingsFor(targets: readonly TargetSettings[], xcf: string, port: number): Partial<TargetSettings> | undefined {
  const matching = [...targets.filter((t) => t.xcf === xcf && t.port === null), ...targets.filter((t) => t.xcf === xcf && t.port === port)];
  if (matching.length === 0) return undefined;
  const out: Record<string, unknown> = {};
  for (const t of matching) for (const [k, v] of Object.entries(t)) if (v !== null) out[k] = v;
  return out as Partial<TargetSettings>;
}

/** Builds the initial port tables for a profile: every target not ready until probed. */
export function buildTables(config: ProfileConfig): PortTable[] {
  const out: PortTable[] = [];
  for (const d of config.distributes) {
    for (const port of d.ports) out.push(buildTable(d, port, config.emulator.targets));
  }
  return out;
}

function buildTable(d: VipaDistribute, port: number, settings: readonly TargetSettings[]): PortTable {
  return {
    dvipa: d.dvipa,
    port,
    method: d.method,
    optLocal: d.optLocal,
    timedAffinity: d.timedAffinity,
    autoSwitchBack: d.autoSwitchBack,
    healthSwitch: d.healthSwitch,
    targets: d.destinations.map((dest) => {
      const s = settingsFor(settings, dest.xcf, port);
      return {
        xcf: dest.xcf,
        host: s?.host ?? dest.xcf,
        port: s?.targetPort ?? port,
        healthUrl: s?.healthUrl ?? null,
        jobname: s?.jobname ?? null,
        maxConn: s?.maxConn ?? null,
        srvType: dest.srvType,
        rank: dest.rank,
        configWeight: dest.weight,
        dynamic: dest.dynamic,
        rdy: 0,
        stackUp: false,
        quiesced: false,
        systemWeight: s?.wlmWeight ?? DEFAULT_WLM_WEIGHT,
        serverWeight: null,
        health: 100,
        abnorm: 0,
        tcsr: 100,
        cer: 100,
        sef: 100,
        tsr: 100,
        qos: 0,
        totalConn: 0,
        activeConn: 0,
        lastPick: 0,
      };
    }),
    cursor: { wrr: {}, rr: -1, active: null, seq: 0 },
  };
}

/** Returns a copy of `table` with the target `xcf` changed by `patch`. */
export function updateTarget(table: PortTable, xcf: string, patch: Partial<TargetState> | ((t: TargetState) => Partial<TargetState>)): PortTable {
  let changed = false;
  const targets = table.targets.map((t) => {
    if (t.xcf !== xcf) return t;
    changed = true;
    return { ...t, ...(typeof patch === 'function' ? patch(t) : patch) };
  });
  return changed ? { ...table, targets } : table;
}

/** A target can take a new connection: stack up, a ready listener, not quiesced, under its cap. */
export function isAvailable(t: TargetState): boolean {
  return t.stackUp && t.rdy > 0 && !t.quiesced && (t.maxConn === null || t.activeConn < t.maxConn);
}

// ---- Timed affinity (spec §8): the timer starts when the last connection closes. ----

/** True while the affinity holds: connections are open, or its timer has not run out. */
export function affinityLive(a: Affinity | undefined, now: number): a is Affinity {
  return a !== undefined && (a.count > 0 || (a.expiresAt !== null && now < a.expiresAt));
}

/** A connection from `client` was routed to `xcf`: create, reuse or replace the affinity. */
export function affinityRouted(a: Affinity | undefined, client: string, xcf: string, now: number): Affinity {
  if (affinityLive(a, now) && a.xcf === xcf) return { ...a, count: a.count + 1, expiresAt: null };
  return { client, xcf, count: 1, expiresAt: null };
}

/** A connection under the affinity closed; at count 0 the `ttlSeconds` timer starts. */
export function affinityClosed(a: Affinity, xcf: string, now: number, ttlSeconds: number): Affinity {
  if (a.xcf !== xcf) return a; // the affinity moved to another target meanwhile
  const count = Math.max(0, a.count - 1);
  return { ...a, count, expiresAt: count === 0 ? now + ttlSeconds * 1000 : null };
}
