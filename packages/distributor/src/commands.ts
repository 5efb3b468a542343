/**
 * Operator commands, accepted verbatim and case-insensitively with IBM's minimum abbreviations
 * (capital letters of the syntax diagram: `Vary`, `SYSplex`, `QUIesce`, `RESUME`, `DEACTivate`,
 * `REACTivate`, `LEAVEgroup`, `JOINgroup`, `POrt`; `Display`, `Netstat`):
 *
 *   [RO sys,]V TCPIP,[proc],SYSPLEX,QUIESCE,TARGET | PORT=n[,JOBNAME=j[,ASID=a]] | JOBNAME=j[,ASID=a]
 *   [RO sys,]V TCPIP,[proc],SYSPLEX,RESUME,…       (same operands)
 *   V TCPIP,[proc],SYSPLEX,DEACTIVATE,DVIPA=a  |  REACTIVATE,DVIPA=a  |  LEAVEGROUP  |  JOINGROUP
 *   D TCPIP,[proc],NETSTAT,VDPT|VCRT|VIPADCFG|VIPADYN[,DETAIL][,IPADDR=a][,PORT=n]
 *   NETSTAT VDPT|VCRT|VIPADCFG|VIPADYN [DETAIL] [IPADDR a] [PORT n]     (TSO form)
 *   netstat -O|-V|-F|-v [-d]                                           (z/OS UNIX form)
 *
 * QUIESCE and RESUME are entered on the target stack on z/OS; here they apply to this stack's own
 * targets unless routed with the MVS `RO sysname,` prefix to another system's targets.
 */
import { DistributorError, DistributorErrorCode } from './errors.js';
import { isIpv4 } from './config/profile.js';
import { renderVcrt, renderVdpt, renderVipadcfg, renderVipadyn, type DisplaySource, type ReportFilter } from './displays.js';

/** Which targets a QUIESCE / RESUME applies to. */
export interface TargetSelector {
  /** XCF address of the target stack. */
  readonly xcf: string;
  /** Only this distributed port (PORT=). */
  readonly port?: number;
  /** Only targets whose server has this job name (JOBNAME=; `*` wildcard at the end allowed). */
  readonly jobname?: string;
}

/** A parsed command. */
export type Command =
  | { readonly kind: 'netstat'; readonly report: 'VDPT' | 'VCRT' | 'VIPADCFG' | 'VIPADYN'; readonly filter: ReportFilter }
  | { readonly kind: 'quiesce' | 'resume'; readonly system: string | null; readonly selector: Omit<TargetSelector, 'xcf'>; readonly scope: 'TARGET' | 'PORT' | 'JOBNAME' }
  | { readonly kind: 'deactivate' | 'reactivate'; readonly dvipa: string }
  | { readonly kind: 'leavegroup' | 'joingroup' };

/** What a command runs against (implemented by the Distributor). */
export interface CommandHost {
  readonly tcpipName: string;
  readonly systemName: string;
  /** System name → XCF address. */
  readonly systems: Readonly<Record<string, string>>;
  displaySource(): DisplaySource;
  /** Returns how many target entries changed state. */
  quiesce(sel: TargetSelector): number;
  resume(sel: TargetSelector): number;
  deactivate(dvipa: string): void;
  reactivate(dvipa: string): void;
  leaveGroup(): void;
  joinGroup(): void;
}

/** Outcome of a command: console lines. */
export interface CommandResult {
  readonly ok: boolean;
  readonly command: string;
  readonly lines: readonly string[];
}

/** True when `word` is `full` or an abbreviation of it at least `min` characters long. */
export function abbrev(word: string, full: string, min: number): boolean {
  const w = word.toUpperCase();
  return w.length >= min && w.length <= full.length && full.startsWith(w);
}

const fail = (message: string): never => {
  throw new DistributorError(DistributorErrorCode.BAD_COMMAND, message);
};

const REPORTS: readonly { name: 'VDPT' | 'VCRT' | 'VIPADCFG' | 'VIPADYN'; min: number; unix: string }[] = [
  { name: 'VDPT', min: 4, unix: '-O' },
  { name: 'VCRT', min: 4, unix: '-V' },
  { name: 'VIPADCFG', min: 6, unix: '-F' },
  { name: 'VIPADYN', min: 6, unix: '-v' },
];

function reportName(word: string): 'VDPT' | 'VCRT' | 'VIPADCFG' | 'VIPADYN' {
  const r = REPORTS.find((x) => abbrev(word, x.name, x.min));
  return r ? r.name : fail(`unknown NETSTAT report "${word}" (VDPT, VCRT, VIPADCFG or VIPADYN)`);
}

function readFilter(parts: readonly string[]): ReportFilter {
  let detail = false;
  let ipaddr: string | undefined;
  let port: number | undefined;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!.toUpperCase();
    if (p === '') continue;
    const [k, v0] = p.includes('=') ? (p.split('=', 2) as [string, string]) : [p, undefined];
    if (abbrev(k, 'DETAIL', 3)) detail = true;
    else if (k === 'IPADDR' || k === 'IPA') {
      const v = v0 ?? parts[++i];
      if (!v || !isIpv4(v)) fail(`IPADDR needs an IPv4 address`);
      ipaddr = v;
    } else if (abbrev(k, 'PORT', 2)) {
      const v = v0 ?? parts[++i];
      if (!v || !/^\d{1,5}$/.test(v) || Number(v) > 65535) fail('PORT needs a port number');
      port = Number(v);
    } else fail(`unexpected "${parts[i]}"`);
  }
  return { detail, ...(ipaddr ? { ipaddr } : {}), ...(port !== undefined ? { port } : {}) };
}

/**
 * Parses one command line.
 * @returns the command and the procname it named (null if omitted)
 * @throws {DistributorError} `SD_ERR_BAD_COMMAND`
 */
export function parseCommand(text: string): { command: Command; procname: string | null } {
  let line = text.trim();
  if (line === '') fail('empty command');
  if (line.length > 256) fail('command longer than 256 characters');
  let system: string | null = null;
  const ro = /^RO\s+([A-Za-z0-9@#$]{1,8})\s*,\s*(.*)$/i.exec(line);
  if (ro) {
    system = ro[1]!.toUpperCase();
    line = ro[2]!.trim();
  }
  const [verb = '', ...rest] = line.split(/\s+/);
  const tail = rest.join(' ');

  // z/OS UNIX: netstat -O [-d]
  if (verb === 'netstat' && tail.startsWith('-')) {
    const flags = tail.split(/\s+/);
    const r = REPORTS.find((x) => flags.includes(x.unix));
    if (!r) fail(`unknown netstat option "${tail}" (-O, -V, -F or -v)`);
    return { command: { kind: 'netstat', report: r!.name, filter: { detail: flags.includes('-d') } }, procname: null };
  }
  if (abbrev(verb, 'NETSTAT', 2) && !tail.includes(',')) {
    const words = tail.replace(/[()]/g, ' ').split(/\s+/).filter(Boolean);
    if (words.length === 0) fail('NETSTAT needs a report name');
    return { command: { kind: 'netstat', report: reportName(words[0]!), filter: readFilter(words.slice(1)) }, procname: null };
  }
  const ops = tail.split(',').map((s) => s.trim());
  if (ops[0]?.toUpperCase() !== 'TCPIP') fail(`expected TCPIP after ${verb.toUpperCase()}`);
  const procname = ops[1] ? ops[1].toUpperCase() : null;
  if (abbrev(verb, 'DISPLAY', 1)) {
    if (!ops[2] || !abbrev(ops[2], 'NETSTAT', 1)) fail('only DISPLAY TCPIP,,NETSTAT,… is supported');
    const rep = ops[3] ?? fail('NETSTAT needs a report name');
    return { command: { kind: 'netstat', report: reportName(rep), filter: readFilter(ops.slice(4)) }, procname };
  }
  if (!abbrev(verb, 'VARY', 1)) fail(`unknown command "${verb}" (VARY, DISPLAY or NETSTAT)`);
  if (!ops[2] || !abbrev(ops[2], 'SYSPLEX', 3)) fail('only VARY TCPIP,,SYSPLEX,… is supported');
  const sub = ops[3] ?? fail('VARY TCPIP,,SYSPLEX needs a request (QUIESCE, RESUME, DEACTIVATE, REACTIVATE, LEAVEGROUP, JOINGROUP)');
  const params = ops.slice(4);
  const kv = (): Map<string, string> => {
    const m = new Map<string, string>();
    for (const p of params) {
      const [k = '', v] = p.split('=', 2);
      const K = k.toUpperCase();
      if (K === 'TARGET' && v === undefined) m.set('TARGET', '');
      else if (v === undefined || v === '') fail(`"${p}" needs a value`);
      else if (abbrev(K, 'PORT', 2)) m.set('PORT', v);
      else if (K === 'JOBNAME' || K === 'ASID' || K === 'DVIPA') m.set(K, v.toUpperCase());
      else fail(`unexpected "${p}"`);
    }
    return m;
  };
  if (abbrev(sub, 'QUIESCE', 3) || abbrev(sub, 'RESUME', 6)) {
    const kind = abbrev(sub, 'QUIESCE', 3) ? 'quiesce' : 'resume';
    const m = kv();
    if (m.has('DVIPA')) fail('DVIPA= is not valid with QUIESCE or RESUME');
    if (m.has('TARGET')) {
      if (m.size > 1) fail('TARGET cannot be combined with PORT or JOBNAME');
      return { command: { kind, system, selector: {}, scope: 'TARGET' }, procname };
    }
    if (m.has('ASID') && !m.has('JOBNAME')) fail('ASID= needs JOBNAME=');
    const portText = m.get('PORT');
    if (portText !== undefined && (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)) fail('PORT= needs a port number from 1 to 65535');
    const jobname = m.get('JOBNAME');
    if (jobname !== undefined && !/^[A-Z@#$][A-Z0-9@#$]{0,7}\*?$/.test(jobname)) fail('JOBNAME= needs a job name of 1-8 characters');
    if (portText === undefined && jobname === undefined) fail(`${kind.toUpperCase()} needs TARGET, PORT= or JOBNAME=`);
    const selector = { ...(portText !== undefined ? { port: Number(portText) } : {}), ...(jobname !== undefined ? { jobname } : {}) };
    return { command: { kind, system, selector, scope: portText !== undefined ? 'PORT' : 'JOBNAME' }, procname };
  }
  if (abbrev(sub, 'DEACTIVATE', 5) || abbrev(sub, 'REACTIVATE', 5)) {
    const m = kv();
    const dvipa = m.get('DVIPA');
    if (!dvipa || !isIpv4(dvipa) || m.size !== 1) fail(`${sub.toUpperCase()} needs DVIPA=address and nothing else`);
    return { command: { kind: abbrev(sub, 'DEACTIVATE', 5) ? 'deactivate' : 'reactivate', dvipa: dvipa! }, procname };
  }
  if (abbrev(sub, 'LEAVEGROUP', 5) || abbrev(sub, 'JOINGROUP', 4)) {
    if (params.length > 0) fail(`${sub.toUpperCase()} takes no operands`);
    return { command: { kind: abbrev(sub, 'LEAVEGROUP', 5) ? 'leavegroup' : 'joingroup' }, procname };
  }
  return fail(`unknown SYSPLEX request "${sub}"`);
}

const VERB_NAME: Record<string, string> = { quiesce: 'QUIESCE', resume: 'RESUME', deactivate: 'DEACTIVATE', reactivate: 'REACTIVATE', leavegroup: 'LEAVEGROUP', joingroup: 'JOINGROUP' };

/**
 * Parses and runs a command against `host`; never throws for bad input (the result says why).
 * VARY replies use EZZ0060I / EZZ0053I [UNV: message numbers from memory, texts paraphrased];
 * failures are reported with imsplex's own `IMX` prefix, not an IBM message number.
 */
export function executeCommand(host: CommandHost, text: string): CommandResult {
  const command = text.trim();
  try {
    const { command: cmd, procname } = parseCommand(command);
    if (procname !== null && procname !== host.tcpipName) fail(`procname ${procname} is not this stack (${host.tcpipName})`);
    if (cmd.kind === 'netstat') {
      const src = host.displaySource();
      const render = { VDPT: renderVdpt, VCRT: renderVcrt, VIPADCFG: renderVipadcfg, VIPADYN: renderVipadyn }[cmd.report];
      return { ok: true, command, lines: render(src, cmd.filter) };
    }
    const lines = [`EZZ0060I PROCESSING COMMAND: ${command.toUpperCase()}`];
    switch (cmd.kind) {
      case 'quiesce':
      case 'resume': {
        const sys = cmd.system ?? host.systemName;
        const xcf = host.systems[sys] ?? fail(`system ${sys} is not known (SYSTEM statements of the IMSPLEX block)`);
        const sel: TargetSelector = { xcf, ...cmd.selector };
        const n = cmd.kind === 'quiesce' ? host.quiesce(sel) : host.resume(sel);
        if (n === 0) fail(`no distributed target on ${sys} matches ${cmd.scope}${cmd.selector.port !== undefined ? ` PORT=${cmd.selector.port}` : ''}${cmd.selector.jobname ? ` JOBNAME=${cmd.selector.jobname}` : ''}`);
        break;
      }
      case 'deactivate':
        host.deactivate(cmd.dvipa);
        break;
      case 'reactivate':
        host.reactivate(cmd.dvipa);
        break;
      case 'leavegroup':
        host.leaveGroup();
        break;
      case 'joingroup':
        host.joinGroup();
        break;
    }
    lines.push(`EZZ0053I COMMAND VARY ${VERB_NAME[cmd.kind]} COMPLETED SUCCESSFULLY`);
    return { ok: true, command, lines };
  } catch (e) {
    const msg = e instanceof DistributorError ? e.message : `internal error: ${(e as Error).message}`;
    return { ok: false, command, lines: [`IMX0001E ${command.toUpperCase()} REJECTED: ${msg}`] };
  }
}
