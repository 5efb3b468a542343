/**
 * NETSTAT reports (VDPT, VCRT, VIPADCFG, VIPADYN) rendered as text shaped like IBM's (spec §10),
 * from the machine-readable snapshot the distributor exposes (`stats()`, same field names as
 * spec §10.5). Column widths follow the samples in the spec; exact IBM widths are unverified.
 */
import type { ProfileConfig } from './config/types.js';
import { prefixLength } from './config/profile.js';

/** One VDPT entry (one DVIPA port × target). */
export interface VdptEntry {
  readonly dest: string;
  readonly dvipa: string;
  readonly port: number;
  readonly destXcf: string;
  readonly rdy: number;
  readonly totalConn: number;
  readonly activeConn: number;
  /** Normalized WLM weight (rounded for display). */
  readonly wlm: number;
  readonly tsr: number;
  readonly tcsr: number;
  readonly cer: number;
  readonly sef: number;
  readonly abnorm: number;
  readonly health: number;
  /** Weight used after TSR and QoS (rounded). */
  readonly wq: number;
  readonly flags: readonly string[];
  readonly flagLetters: string;
  readonly distMethod: string;
  readonly srvType: 'Preferred' | 'Backup' | null;
  readonly rank: number;
  readonly quiesced: boolean;
  readonly qosPlcAct: string;
}

/** One VCRT entry. */
export interface VcrtEntry {
  readonly dest: string;
  readonly dvipa: string;
  readonly port: number;
  readonly srcIp: string;
  readonly srcPort: number;
  readonly destXcf: string;
  readonly since: number;
}

/** One timed affinity (shown in VCRT DETAIL). */
export interface AffinityEntry {
  readonly dest: string;
  readonly srcIp: string;
  readonly destXcf: string;
  readonly timedAffinity: number;
  readonly count: number;
  /** Seconds left once the count is 0; null while connections are open. */
  readonly timeLeft: number | null;
}

/** One DVIPA on this stack (VIPADYN). */
export interface VipaDynEntry {
  readonly dvipa: string;
  readonly prefixLen: number;
  readonly status: 'Active' | 'Backup' | 'Moving' | 'Deactivated' | 'Quiescing';
  readonly origin: 'VIPADefine' | 'VIPABackup';
  readonly rank: number;
  readonly distStat: 'Dist' | 'Dest' | 'Dist/Dest' | '';
  readonly owns: boolean;
  readonly activeConns: number;
  readonly activeSince: number | null;
}

/** What the reports need. */
export interface DisplaySource {
  readonly tcpipName: string;
  readonly xcf: string;
  readonly now: number;
  readonly config: ProfileConfig;
  readonly vdpt: readonly VdptEntry[];
  readonly vcrt: readonly VcrtEntry[];
  readonly affinities: readonly AffinityEntry[];
  readonly vipadyn: readonly VipaDynEntry[];
  readonly deactivated: readonly string[];
}

const pad = (s: string | number, n: number): string => String(s).padEnd(n);
const zero = (v: number, n: number): string => String(Math.max(0, Math.round(v))).padStart(n, '0');
const hhmmss = (t: number): string => new Date(t).toISOString().slice(11, 19);
const mmddyyyy = (t: number): string => {
  const d = new Date(t).toISOString();
  return `${d.slice(5, 7)}/${d.slice(8, 10)}/${d.slice(0, 4)}`;
};

/** The NETSTAT header line. [UNV] release shown as V2R5, the level the spec was written against. */
export function header(src: DisplaySource): string {
  return `MVS TCP/IP NETSTAT CS V2R5       TCPIP Name: ${pad(src.tcpipName, 8)}        ${hhmmss(src.now)}`;
}

function filterVdpt(src: DisplaySource, f: ReportFilter): readonly VdptEntry[] {
  return src.vdpt.filter((e) => (f.ipaddr === undefined || e.dvipa === f.ipaddr) && (f.port === undefined || e.port === f.port));
}

/** Filters accepted by the reports (`IPADDR=`, `PORT=`). */
export interface ReportFilter {
  readonly detail?: boolean;
  readonly ipaddr?: string;
  readonly port?: number;
}

/** NETSTAT VDPT / netstat -O. */
export function renderVdpt(src: DisplaySource, f: ReportFilter = {}): string[] {
  const rows = filterVdpt(src, f);
  const out = [header(src), 'Dynamic VIPA Destination Port Table for TCP/IP stacks:'];
  if (!f.detail) {
    out.push('Dest IPaddr     DPort DestXCF Addr    Rdy TotalConn  WLM TSR Flg');
    out.push('-----------     ----- ------------    --- ---------  --- --- ---');
    for (const e of rows) out.push(`${pad(e.dvipa, 15)} ${zero(e.port, 5)} ${pad(e.destXcf, 15)} ${zero(e.rdy, 3)} ${zero(e.totalConn, 10)} ${zero(e.wlm, 2)}  ${zero(e.tsr, 3)} ${e.flagLetters}`);
  } else {
    for (const e of rows) {
      out.push(`Dest:        ${e.dest}`);
      out.push(`  DestXCF:   ${e.destXcf}`);
      out.push(`  TotalConn: ${zero(e.totalConn, 10)}  Rdy: ${zero(e.rdy, 3)}  WLM: ${zero(e.wlm, 2)}  TSR: ${zero(e.tsr, 3)}`);
      if (e.srvType) out.push(`  DistMethod: ${e.distMethod}  SrvType: ${e.srvType}${e.srvType === 'Backup' ? `  Rank: ${zero(e.rank, 6)}` : ''}`);
      out.push(`  Flg: ${e.flags.join(', ')}`);
      out.push(`    TCSR: ${zero(e.tcsr, 3)}  CER: ${zero(e.cer, 3)}  SEF: ${zero(e.sef, 3)}`);
      out.push(`    Abnorm: ${zero(e.abnorm, 4)}  Health: ${zero(e.health, 3)}`);
      out.push(`  ActiveConn: ${zero(e.activeConn, 10)}`);
      out.push(`    QosPlcAct: ${e.qosPlcAct}`);
      out.push(`    W/Q: ${zero(e.wq, 2)}`);
    }
  }
  out.push(`${rows.length} of ${rows.length} records displayed`);
  return out;
}

/** NETSTAT VCRT / netstat -V. */
export function renderVcrt(src: DisplaySource, f: ReportFilter = {}): string[] {
  const rows = src.vcrt.filter((e) => (f.ipaddr === undefined || e.dvipa === f.ipaddr) && (f.port === undefined || e.port === f.port));
  const out = [header(src), 'Dynamic VIPA Connection Routing Table:'];
  if (!f.detail) {
    out.push('Dest IPaddr     DPort Src IPaddr      SPort DestXCF Addr');
    out.push('-----------     ----- ----------      ----- ------------');
    for (const e of rows) out.push(`${pad(e.dvipa, 15)} ${zero(e.port, 5)} ${pad(e.srcIp, 15)} ${zero(e.srcPort, 5)} ${e.destXcf}`);
  } else {
    for (const e of rows) {
      out.push(`Dest:        ${e.dest}`);
      out.push(`  Source:    ${e.srcIp}..${e.srcPort}`);
      out.push(`  DestXCF:   ${e.destXcf}`);
      out.push(`    PolicyRule:   *NONE*`);
      out.push(`    PolicyAction: *NONE*`);
      out.push(`    Intf: XCF  Since: ${mmddyyyy(e.since)} ${hhmmss(e.since)}`);
    }
    const affs = src.affinities.filter((a) => f.ipaddr === undefined || a.dest.startsWith(`${f.ipaddr}..`));
    for (const a of affs) {
      out.push(`Dest:        ${a.dest}`);
      out.push(`  Source:    ${a.srcIp}`);
      out.push(`  DestXCF:   ${a.destXcf}`);
      out.push(`    TimedAffinity: ${zero(a.timedAffinity, 5)}  Count: ${zero(a.count, 5)}  TimeLeft: ${a.timeLeft === null ? '-----' : zero(a.timeLeft, 5)}`);
    }
  }
  out.push(`${rows.length} of ${rows.length} records displayed`);
  return out;
}

const methodWord: Record<string, string> = { BASEWLM: 'BaseWLM', SERVERWLM: 'ServerWLM', ROUNDROBIN: 'RoundRobin', WEIGHTEDACTIVE: 'WeightedActive', HOTSTANDBY: 'HotStandby' };
const cap = (s: string): string => s.charAt(0) + s.slice(1).toLowerCase();

/** NETSTAT VIPADCFG / netstat -F. */
export function renderVipadcfg(src: DisplaySource, f: ReportFilter = {}): string[] {
  const c = src.config;
  const out = [header(src), 'Dynamic VIPA Information:'];
  if (c.backups.length > 0) {
    out.push('  VIPA Backup:');
    for (const b of c.backups) {
      out.push(`    IpAddr/PrefixLen: ${b.address}${b.mask ? `/${prefixLength(b.mask)}` : ''}`);
      out.push(`      Rank: ${zero(b.rank, 6)}  Moveable: ${b.moveable ? cap(b.moveable) : ''}  SrvMgr: No`);
    }
  }
  if (c.defines.length > 0) {
    out.push('  VIPA Define:');
    for (const d of c.defines) {
      out.push(`    IpAddr/PrefixLen: ${d.address}/${prefixLength(d.mask)}`);
      out.push(`      Moveable: ${d.moveable === 'IMMEDIATE' ? 'Immediate' : 'WhenIdle'}  SrvMgr: ${d.serviceMgr ? 'Yes' : 'No'}`);
    }
  }
  if (c.distributes.length > 0) {
    out.push('  VIPA Distribute:');
    for (const d of c.distributes) {
      if (f.ipaddr !== undefined && d.dvipa !== f.ipaddr) continue;
      for (const port of d.ports) {
        if (f.port !== undefined && port !== f.port) continue;
        for (const dest of d.destinations) {
          out.push(`    Dest:        ${d.dvipa}..${port}`);
          out.push(`      DestXCF:   ${dest.xcf}`);
          out.push(`        DistMethod: ${methodWord[d.method]}${dest.srvType ? `  SrvType: ${cap(dest.srvType)}` : ''}${dest.srvType === 'BACKUP' ? `  Rank: ${zero(dest.rank, 3)}` : ''}`);
          if (d.method === 'HOTSTANDBY') out.push(`        AutoSwitchBack: ${d.autoSwitchBack ? 'Yes' : 'No'}  HealthSwitch: ${d.healthSwitch ? 'Yes' : 'No'}`);
          out.push(`        SysPt: ${d.sysplexPorts ? 'Yes' : 'No'}  TimAff: ${d.timedAffinity > 0 ? d.timedAffinity : 'No'}  Flg: ${dest.dynamic ? 'Dynamic' : ''}`);
          out.push(`        OptLoc: ${d.optLocal === null ? 'No' : d.optLocal}`);
          if (f.detail) {
            if (d.method === 'WEIGHTEDACTIVE') out.push(`        Weight: ${zero(dest.weight, 2)}`);
            if (d.procType) out.push(`        ProcType: ${Object.entries(d.procType).map(([k, v]) => `${k} ${zero(v, 2)}`).join('  ')}`);
            if (d.procXCost) out.push(`        ProcXCost: ${Object.entries(d.procXCost).map(([k, v]) => `${k} ${zero(v, 3)}`).join('  ')}`);
            if (d.ilWeighting !== null) out.push(`        ILWeighting: ${d.ilWeighting}`);
          }
        }
      }
    }
  }
  if (c.routes.length > 0) {
    out.push('  VIPA Route:');
    for (const r of c.routes) {
      out.push(`    DestXCF: ${r.xcf}`);
      out.push(`      TargetIp: ${r.targetIp}`);
    }
  }
  if (src.deactivated.length > 0) {
    out.push('  Deactivated Dynamic VIPA Information:');
    for (const a of src.deactivated) out.push(`    IpAddr/PrefixLen: ${a}/32`);
  }
  return out;
}

/** NETSTAT VIPADYN / netstat -v. */
export function renderVipadyn(src: DisplaySource, f: ReportFilter = {}): string[] {
  const rows = src.vipadyn.filter((e) => f.ipaddr === undefined || e.dvipa === f.ipaddr);
  const out = [header(src), 'Dynamic VIPA:'];
  for (const e of rows) {
    out.push(`  IpAddr/PrefixLen: ${e.dvipa}/${e.prefixLen}`);
    out.push(`    Status: ${pad(e.status, 11)} Origin: ${pad(e.origin, 11)} DistStat: ${e.distStat}`);
    out.push(`    ActTime: ${e.activeSince === null ? 'n/a' : `${mmddyyyy(e.activeSince)} ${hhmmss(e.activeSince)}`}`);
  }
  out.push(`${rows.length} of ${rows.length} records displayed`);
  return out;
}
