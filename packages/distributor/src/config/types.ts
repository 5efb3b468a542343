/** Typed form of the TCP/IP profile's VIPADYNAMIC block plus the imsplex emulator settings. */

/** Distribution methods supported (TARGCONTROLLED is tier-1 only and not emulated). */
export type DistMethodName = 'BASEWLM' | 'SERVERWLM' | 'ROUNDROBIN' | 'WEIGHTEDACTIVE' | 'HOTSTANDBY';

/** `MOVEABLE IMMEDIATE` (default) or `MOVEABLE WHENIDLE`. */
export type Moveable = 'IMMEDIATE' | 'WHENIDLE';

/** `VIPADEFINE [MOVEABLE …] mask addr` — this stack is the normal owner. */
export interface VipaDefine {
  readonly address: string;
  readonly mask: string;
  readonly moveable: Moveable;
  readonly serviceMgr: boolean;
  readonly line: number;
}

/** `VIPABACKUP [rank] [MOVEABLE … mask] addr` — this stack takes the DVIPA over when its owner fails. */
export interface VipaBackup {
  readonly address: string;
  /** 1–254, default 1; higher ranks take over first. */
  readonly rank: number;
  /** Present when `MOVEABLE` was coded: the backup then creates the DVIPA at start if no one owns it. */
  readonly moveable: Moveable | null;
  readonly mask: string | null;
  readonly line: number;
}

/** One `DESTIP` entry. */
export interface DestIp {
  /** Dynamic XCF address of the target stack (a loopback host such as 127.0.1.1). */
  readonly xcf: string;
  /** WEIGHTEDACTIVE weight (1–99, default 10). */
  readonly weight: number;
  /** HOTSTANDBY server type. */
  readonly srvType: 'PREFERRED' | 'BACKUP' | null;
  /** HOTSTANDBY backup rank (1–254); 0 for the preferred target and for other methods. */
  readonly rank: number;
  /** True when the entry came from `DESTIP ALL` ("Dynamic" flag). */
  readonly dynamic: boolean;
}

/** `VIPADISTRIBUTE DEFINE …` for one DVIPA and a list of ports. */
export interface VipaDistribute {
  readonly dvipa: string;
  readonly ports: readonly number[];
  readonly method: DistMethodName;
  /** null = NOOPTLOCAL; 0–16 otherwise (`OPTLOCAL` alone = 1). */
  readonly optLocal: number | null;
  /** Seconds; 0 = no affinity. */
  readonly timedAffinity: number;
  readonly sysplexPorts: boolean;
  /** HOTSTANDBY only; defaults true/true. */
  readonly autoSwitchBack: boolean;
  readonly healthSwitch: boolean;
  /** `PROCTYPE`, `PROCXCOST`, `ILWEIGHTING` values, kept for the VIPADCFG display only. */
  readonly procType: Readonly<Record<string, number>> | null;
  readonly procXCost: Readonly<Record<string, number>> | null;
  readonly ilWeighting: number | null;
  readonly destinations: readonly DestIp[];
  readonly line: number;
}

/** `VIPAROUTE DEFINE dynxcf targetip` (display only: every loopback host is reachable). */
export interface VipaRoute {
  readonly xcf: string;
  readonly targetIp: string;
}

/** Per-target emulator settings from the `IMSPLEX` block (`TARGET …`). */
export interface TargetSettings {
  readonly xcf: string;
  /** The distributed port this entry applies to; null = every port. */
  readonly port: number | null;
  /** Where the target's server listens; default xcf and the distributed port. */
  readonly host: string | null;
  readonly targetPort: number | null;
  /** Health endpoint (`http://host:port/path`) returning the {@link HealthReport} JSON. */
  readonly healthUrl: string | null;
  readonly jobname: string | null;
  /** WLM system weight stand-in (0–64) for BASEWLM; default 64. */
  readonly wlmWeight: number | null;
  /** Optional per-target cap: at this many active connections the target counts as not ready. */
  readonly maxConn: number | null;
}

/** A heartbeat peer: another distributor (owner or backup) of the same DVIPAs. */
export interface PeerSettings {
  readonly xcf: string;
  readonly port: number;
}

/** Emulator settings (the `IMSPLEX … ENDIMSPLEX` block, which is imsplex syntax, not IBM's). */
export interface EmulatorSettings {
  /** This stack: system name (e.g. SYS1) and dynamic XCF address (e.g. 127.0.1.1). */
  readonly stackName: string | null;
  readonly stackXcf: string | null;
  /** TCP/IP procedure name shown in NETSTAT headers. */
  readonly tcpipName: string;
  /** System name → XCF address (used by `RO sys,` and `DESTIP ALL`). */
  readonly systems: Readonly<Record<string, string>>;
  readonly dataPlane: 'PROXY' | 'HANDOFF';
  readonly probeIntervalMs: number;
  readonly probeTimeoutMs: number;
  readonly tsrIntervalMs: number;
  readonly connectTimeoutMs: number;
  /** Mean target connect latency at or below which SEF is 100. */
  readonly sefGoodMs: number;
  readonly heartbeatPort: number | null;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly peers: readonly PeerSettings[];
  readonly targets: readonly TargetSettings[];
  readonly maxConnections: number;
}

/** The whole typed profile. */
export interface ProfileConfig {
  readonly file: string;
  readonly defines: readonly VipaDefine[];
  readonly backups: readonly VipaBackup[];
  readonly distributes: readonly VipaDistribute[];
  readonly routes: readonly VipaRoute[];
  readonly emulator: EmulatorSettings;
}
