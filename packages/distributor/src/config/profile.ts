/**
 * Parser for the TCP/IP profile's `VIPADYNAMIC … ENDVIPADYNAMIC` block (IBM syntax) and the
 * `IMSPLEX … ENDIMSPLEX` block (imsplex's emulator settings, not IBM syntax). Statements outside
 * those blocks are other profile statements (TCPCONFIG, PORT, …) and are skipped, as a real stack
 * would handle them elsewhere. Every problem is reported as `file:line: key: what is wrong`, all of
 * them at once, in one {@link ConfigError}.
 */
import { ConfigError, type ConfigProblem } from '../errors.js';
import type {
  DestIp,
  DistMethodName,
  EmulatorSettings,
  Moveable,
  PeerSettings,
  ProfileConfig,
  TargetSettings,
  VipaBackup,
  VipaDefine,
  VipaDistribute,
  VipaRoute,
} from './types.js';

interface Token {
  readonly text: string;
  readonly upper: string;
  readonly line: number;
}

/** Default system name → XCF map (ARCHITECTURE.md "Hosts on one machine"). */
export const DEFAULT_SYSTEMS: Readonly<Record<string, string>> = Object.freeze({
  SYS1: '127.0.1.1',
  SYS2: '127.0.1.2',
  SYS3: '127.0.1.3',
});

/** Emulator defaults. TSR every 60 s as on z/OS [IBM]; the others are imsplex choices. */
export const DEFAULT_EMULATOR: EmulatorSettings = Object.freeze({
  stackName: null,
  stackXcf: null,
  tcpipName: 'TCPCS',
  systems: DEFAULT_SYSTEMS,
  dataPlane: 'PROXY',
  probeIntervalMs: 2000,
  probeTimeoutMs: 1000,
  tsrIntervalMs: 60_000,
  connectTimeoutMs: 2000,
  sefGoodMs: 100,
  heartbeatPort: null,
  heartbeatIntervalMs: 500,
  heartbeatTimeoutMs: 2000,
  peers: [],
  targets: [],
  maxConnections: 10_000,
});

/** WEIGHTEDACTIVE default weight. [INF] spec §4.4: range 1–99, default 10 — not re-verified. */
export const WEIGHTEDACTIVE_DEFAULT_WEIGHT = 10;
export const WEIGHTEDACTIVE_MAX_WEIGHT = 99;
/** HOTSTANDBY allows at most 31 backups [IBM]. */
export const HOTSTANDBY_MAX_BACKUPS = 31;
/** Ports per VIPADISTRIBUTE statement we accept (bounds port ranges). */
const MAX_PORTS_PER_STATEMENT = 64;

const VIPADYNAMIC_STATEMENTS = new Set(['VIPADEFINE', 'VIPABACKUP', 'VIPADISTRIBUTE', 'VIPADELETE', 'VIPAROUTE', 'VIPARANGE', 'VIPASMPARMS', 'VIPASERVICEMGR', 'ENDVIPADYNAMIC']);
const IMSPLEX_STATEMENTS = new Set(['STACK', 'SYSTEM', 'TCPIPNAME', 'DATAPLANE', 'PROBE', 'TSR', 'CONNECTTIMEOUT', 'SEF', 'HEARTBEAT', 'PEER', 'TARGET', 'MAXCONNECTIONS', 'ENDIMSPLEX']);
const METHODS: readonly DistMethodName[] = ['BASEWLM', 'SERVERWLM', 'ROUNDROBIN', 'WEIGHTEDACTIVE', 'HOTSTANDBY'];

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      i++;
    } else if (c === ';') {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      i += 2;
      while (i < n && !(text[i] === '*' && text[i + 1] === '/')) {
        if (text[i] === '\n') line++;
        i++;
      }
      i += 2;
    } else {
      const start = i;
      while (i < n && !/[\s;]/.test(text[i]!)) i++;
      const word = text.slice(start, i);
      out.push({ text: word, upper: word.toUpperCase(), line });
    }
  }
  return out;
}

/** True for a dotted-quad IPv4 address. */
export function isIpv4(s: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255 && String(Number(o)) === o);
}

/** True for an address in 127.0.0.0/8. */
export function isLoopback(s: string): boolean {
  return isIpv4(s) && s.startsWith('127.');
}

function isMask(s: string): boolean {
  if (!isIpv4(s)) return false;
  const v = s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const inv = 0xffffffff - v;
  return (inv & (inv + 1)) === 0; // contiguous leading ones
}

function maskBits(mask: string): number {
  return mask.split('.').reduce((a, o) => a + Number(o).toString(2).replace(/0/g, '').length, 0);
}

/** Prefix length of a dotted mask (255.255.255.0 → 24). */
export function prefixLength(mask: string): number {
  return maskBits(mask);
}

class Cursor {
  i = 0;
  constructor(
    readonly tokens: readonly Token[],
    readonly key: string,
    readonly line: number,
    private readonly report: (line: number, key: string, message: string) => void,
  ) {}
  get done(): boolean {
    return this.i >= this.tokens.length;
  }
  peek(): Token | undefined {
    return this.tokens[this.i];
  }
  next(): Token | undefined {
    return this.tokens[this.i++];
  }
  lineHere(): number {
    return (this.tokens[this.i] ?? this.tokens[this.tokens.length - 1])?.line ?? this.line;
  }
  error(message: string, key = this.key): void {
    this.report(this.lineHere(), key, message);
  }
  /** Reads an integer in [min, max]; reports and returns null otherwise. */
  int(what: string, min: number, max: number): number | null {
    const t = this.next();
    if (t === undefined || !/^\d+$/.test(t.text)) {
      this.i = Math.min(this.i, this.tokens.length);
      this.report(t?.line ?? this.lineHere(), this.key, `${what} needs a number from ${min} to ${max}${t ? `, got "${t.text}"` : ''}`);
      return null;
    }
    const v = Number(t.text);
    if (v < min || v > max) {
      this.report(t.line, this.key, `${what} must be from ${min} to ${max}, got ${v}`);
      return null;
    }
    return v;
  }
  peekInt(): boolean {
    const t = this.peek();
    return t !== undefined && /^\d+$/.test(t.text);
  }
}

/**
 * Parses a TCP/IP profile. `file` names the source in error messages.
 * @throws {ConfigError} with every problem found.
 */
export function parseProfile(text: string, file = 'PROFILE'): ProfileConfig {
  const problems: ConfigProblem[] = [];
  const report = (line: number, key: string, message: string): void => {
    problems.push({ file, line, key, message });
  };
  const tokens = tokenize(text);
  const defines: VipaDefine[] = [];
  const backups: VipaBackup[] = [];
  let distributes: VipaDistribute[] = [];
  const routes: VipaRoute[] = [];
  const emu: { -readonly [K in keyof EmulatorSettings]: EmulatorSettings[K] } = {
    ...DEFAULT_EMULATOR,
    systems: { ...DEFAULT_SYSTEMS },
    peers: [],
    targets: [],
  };
  const systems = emu.systems as Record<string, string>;
  const peers: PeerSettings[] = [];
  const targets: TargetSettings[] = [];
  let sawVipaDynamic = false;

  // Split a block's tokens into statements beginning with a keyword of `keywords`.
  const statements = (from: number, keywords: Set<string>, end: string, blockKey: string, blockLine: number): { stmts: { key: Token; args: Token[] }[]; next: number } => {
    const stmts: { key: Token; args: Token[] }[] = [];
    let i = from;
    let current: { key: Token; args: Token[] } | null = null;
    const lineOriented = end === 'ENDIMSPLEX';
    while (i < tokens.length) {
      const t = tokens[i]!;
      if (t.upper === end) return { stmts: current ? [...stmts, current] : stmts, next: i + 1 };
      const lineStart = i === from || tokens[i - 1]!.line !== t.line;
      if (keywords.has(t.upper) || (end === 'ENDVIPADYNAMIC' && t.upper.startsWith('VIPA')) || (lineOriented && lineStart)) {
        // In the IMSPLEX block (imsplex syntax) every line is one statement; IBM statements may continue.
        if (current) stmts.push(current);
        current = { key: t, args: [] };
      } else if (current) {
        current.args.push(t);
      } else {
        report(t.line, t.text, `unknown statement in ${blockKey} block`);
      }
      i++;
    }
    report(blockLine, blockKey, `no ${end} before the end of the file`);
    return { stmts: current ? [...stmts, current] : stmts, next: i };
  };

  const readAddress = (c: Cursor, what: string): string | null => {
    const t = c.next();
    if (t === undefined || !isIpv4(t.text)) {
      report(t?.line ?? c.lineHere(), c.key, `${what} must be an IPv4 address${t ? `, got "${t.text}"` : ''}`);
      return null;
    }
    if (!isLoopback(t.text)) {
      report(t.line, c.key, `${what} ${t.text} is not a loopback address (imsplex uses 127.0.0.0/8 only)`);
      return null;
    }
    return t.text;
  };

  const readMoveable = (c: Cursor): Moveable | null => {
    const t = c.next();
    const u = t?.upper ?? '';
    if (u === 'IMMEDIATE' || u === 'IMMED') return 'IMMEDIATE';
    if (u === 'WHENIDLE') return 'WHENIDLE';
    report(t?.line ?? c.lineHere(), c.key, `MOVEABLE must be followed by IMMEDIATE or WHENIDLE${t ? `, got "${t.text}"` : ''}`);
    return null;
  };

  const parseDefine = (key: Token, args: Token[]): void => {
    const c = new Cursor(args, 'VIPADEFINE', key.line, report);
    let moveable: Moveable = 'IMMEDIATE';
    let serviceMgr = false;
    while (!c.done && !isIpv4(c.peek()!.text)) {
      const t = c.next()!;
      if (t.upper === 'MOVEABLE' || t.upper === 'MOVE') moveable = readMoveable(c) ?? moveable;
      else if (t.upper === 'SERVICEMGR') serviceMgr = true;
      else if (t.upper === 'TIER1' || t.upper === 'TIER2' || t.upper === 'CPCSCOPE') report(t.line, 'VIPADEFINE', `${t.upper} (multi-tier) is not supported by imsplex`);
      else report(t.line, 'VIPADEFINE', `unexpected "${t.text}"`);
    }
    const maskTok = c.next();
    if (!maskTok || !isMask(maskTok.text)) {
      report(maskTok?.line ?? key.line, 'VIPADEFINE', `needs an address mask such as 255.255.255.255 before the addresses${maskTok ? `, got "${maskTok.text}"` : ''}`);
      return;
    }
    if (c.done) report(key.line, 'VIPADEFINE', 'needs at least one DVIPA address after the mask');
    while (!c.done) {
      const line = c.lineHere();
      const a = readAddress(c, 'DVIPA');
      if (a) defines.push({ address: a, mask: maskTok.text, moveable, serviceMgr, line });
    }
  };

  const parseBackup = (key: Token, args: Token[]): void => {
    const c = new Cursor(args, 'VIPABACKUP', key.line, report);
    let rank = 1;
    let moveable: Moveable | null = null;
    let mask: string | null = null;
    if (c.peekInt()) rank = c.int('rank', 1, 254) ?? 1;
    while (!c.done && !isIpv4(c.peek()!.text)) {
      const t = c.next()!;
      if (t.upper === 'MOVEABLE' || t.upper === 'MOVE') {
        moveable = readMoveable(c);
        const m = c.next();
        if (!m || !isMask(m.text)) report(m?.line ?? t.line, 'VIPABACKUP', `MOVEABLE needs an address mask after IMMEDIATE/WHENIDLE${m ? `, got "${m.text}"` : ''}`);
        else mask = m.text;
      } else if (t.upper === 'SERVICEMGR') {
        // accepted, display only
      } else report(t.line, 'VIPABACKUP', `unexpected "${t.text}"`);
    }
    if (c.done) report(key.line, 'VIPABACKUP', 'needs at least one DVIPA address');
    while (!c.done) {
      const line = c.lineHere();
      const a = readAddress(c, 'DVIPA');
      if (a) backups.push({ address: a, rank, moveable, mask, line });
    }
  };

  const parsePorts = (c: Cursor): number[] => {
    const ports: number[] = [];
    while (!c.done && c.peek()!.upper !== 'DESTIP') {
      const t = c.next()!;
      const m = /^(\d+)(?:-(\d+))?$/.exec(t.text);
      if (!m) {
        report(t.line, 'VIPADISTRIBUTE', `PORT expects port numbers or ranges n-m before DESTIP, got "${t.text}"`);
        continue;
      }
      const lo = Number(m[1]);
      const hi = m[2] === undefined ? lo : Number(m[2]);
      if (lo < 1 || hi > 65535 || hi < lo) {
        report(t.line, 'VIPADISTRIBUTE', `port ${t.text} is out of range 1-65535`);
        continue;
      }
      if (ports.length + (hi - lo + 1) > MAX_PORTS_PER_STATEMENT) {
        report(t.line, 'VIPADISTRIBUTE', `more than ${MAX_PORTS_PER_STATEMENT} ports in one statement`);
        break;
      }
      for (let p = lo; p <= hi; p++) ports.push(p);
    }
    return ports;
  };

  const parseDistribute = (key: Token, args: Token[]): void => {
    const c = new Cursor(args, 'VIPADISTRIBUTE', key.line, report);
    let verb: 'DEFINE' | 'DELETE' = 'DEFINE';
    if (c.peek()?.upper === 'DEFINE' || c.peek()?.upper === 'DELETE') verb = c.next()!.upper as 'DEFINE' | 'DELETE';
    let method: DistMethodName = 'BASEWLM';
    let optLocal: number | null = null;
    let timedAffinity = 0;
    let sysplexPorts = false;
    let autoSwitchBack = true;
    let healthSwitch = true;
    let procType: Record<string, number> | null = null;
    let procXCost: Record<string, number> | null = null;
    let ilWeighting: number | null = null;
    const readProcList = (names: readonly string[]): Record<string, number> => {
      const out: Record<string, number> = {};
      while (!c.done && names.includes(c.peek()!.upper)) {
        const n = c.next()!.upper;
        const v = c.int(n, 1, 99);
        if (v !== null) out[n] = v;
      }
      return out;
    };
    while (!c.done && !isIpv4(c.peek()!.text)) {
      const t = c.next()!;
      switch (t.upper) {
        case 'DISTMETHOD': {
          const m = c.next();
          const mu = m?.upper ?? '';
          if (mu === 'TARGCONTROLLED') report(m!.line, 'DISTMETHOD', 'TARGCONTROLLED (tier-1 non-z/OS targets) is not supported by imsplex');
          else if (!(METHODS as readonly string[]).includes(mu)) report(m?.line ?? t.line, 'DISTMETHOD', `must be one of ${METHODS.join(', ')}${m ? `, got "${m.text}"` : ''}`);
          else method = mu as DistMethodName;
          // Method sub-options.
          while (!c.done) {
            const s = c.peek()!.upper;
            if (method === 'HOTSTANDBY' && (s === 'AUTOSWITCHBACK' || s === 'NOAUTOSWITCHBACK')) autoSwitchBack = c.next()!.upper === 'AUTOSWITCHBACK';
            else if (method === 'HOTSTANDBY' && (s === 'HEALTHSWITCH' || s === 'NOHEALTHSWITCH')) healthSwitch = c.next()!.upper === 'HEALTHSWITCH';
            else if (method === 'BASEWLM' && s === 'PROCTYPE') {
              c.next();
              procType = readProcList(['CP', 'ZAAP', 'ZIIP']);
            } else if (method === 'SERVERWLM' && s === 'PROCXCOST') {
              c.next();
              procXCost = readProcList(['ZAAP', 'ZIIP']);
            } else if (method === 'SERVERWLM' && s === 'ILWEIGHTING') {
              c.next();
              ilWeighting = c.int('ILWEIGHTING', 0, 3);
            } else break;
          }
          break;
        }
        case 'OPTLOCAL':
          optLocal = c.peekInt() ? c.int('OPTLOCAL', 0, 16) : 1;
          break;
        case 'NOOPTLOCAL':
          optLocal = null;
          break;
        case 'SYSPLEXPORTS':
          sysplexPorts = true;
          break;
        case 'TIMEDAFFINITY':
          timedAffinity = c.int('TIMEDAFFINITY', 0, 99_999) ?? 0;
          break;
        case 'TIER1':
        case 'TIER2':
        case 'CPCSCOPE':
        case 'ENCAP':
        case 'GRE':
          report(t.line, 'VIPADISTRIBUTE', `${t.upper} (multi-tier) is not supported by imsplex`);
          break;
        default:
          report(t.line, 'VIPADISTRIBUTE', `unexpected "${t.text}"`);
      }
    }
    const dvipa = readAddress(c, 'DVIPA');
    if (dvipa === null) return;
    const portTok = c.next();
    if (portTok?.upper !== 'PORT') {
      report(portTok?.line ?? key.line, 'VIPADISTRIBUTE', `PORT must follow the DVIPA${portTok ? `, got "${portTok.text}"` : ''}`);
      return;
    }
    const ports = parsePorts(c);
    if (ports.length === 0) report(portTok.line, 'PORT', 'needs at least one port');
    if (verb === 'DELETE') {
      distributes = distributes
        .map((d) => (d.dvipa === dvipa ? { ...d, ports: d.ports.filter((p) => !ports.includes(p)) } : d))
        .filter((d) => d.ports.length > 0);
      return;
    }
    const destTok = c.next();
    if (destTok?.upper !== 'DESTIP') {
      report(destTok?.line ?? key.line, 'VIPADISTRIBUTE', 'DESTIP must follow the ports');
      return;
    }
    const destinations: DestIp[] = [];
    if (c.peek()?.upper === 'ALL') {
      c.next();
      for (const xcf of Object.values(systems)) destinations.push({ xcf, weight: WEIGHTEDACTIVE_DEFAULT_WEIGHT, srvType: null, rank: 0, dynamic: true });
    } else {
      while (!c.done) {
        const line = c.lineHere();
        const xcf = readAddress(c, 'DESTIP');
        if (xcf === null) continue;
        let weight = WEIGHTEDACTIVE_DEFAULT_WEIGHT;
        let srvType: 'PREFERRED' | 'BACKUP' | null = null;
        let rank = 0;
        while (!c.done && !isIpv4(c.peek()!.text)) {
          const t = c.next()!;
          if (t.upper === 'WEIGHT') {
            if (method !== 'WEIGHTEDACTIVE') report(t.line, 'DESTIP', 'WEIGHT is valid only with DISTMETHOD WEIGHTEDACTIVE');
            weight = c.int('WEIGHT', 1, WEIGHTEDACTIVE_MAX_WEIGHT) ?? weight;
          } else if (t.upper === 'PREFERRED') {
            srvType = 'PREFERRED';
          } else if (t.upper === 'BACKUP') {
            srvType = 'BACKUP';
            rank = c.int('BACKUP rank', 1, 254) ?? 1;
          } else report(t.line, 'DESTIP', `unexpected "${t.text}"`);
        }
        if (srvType !== null && method !== 'HOTSTANDBY') report(line, 'DESTIP', `${srvType} is valid only with DISTMETHOD HOTSTANDBY`);
        if (destinations.some((d) => d.xcf === xcf)) report(line, 'DESTIP', `${xcf} is listed twice`);
        else destinations.push({ xcf, weight, srvType, rank, dynamic: false });
      }
    }
    if (destinations.length === 0) report(destTok.line, 'DESTIP', 'needs ALL or at least one target XCF address');
    if (method === 'HOTSTANDBY') {
      const preferred = destinations.filter((d) => d.srvType === 'PREFERRED').length;
      const backupsN = destinations.filter((d) => d.srvType === 'BACKUP').length;
      const untyped = destinations.filter((d) => d.srvType === null).length;
      // IBM rejects these statements (EZZ0826I/EZZ0827I/EZZ0829I); the exact message texts are not reproduced.
      if (preferred !== 1) report(destTok.line, 'DESTIP', `HOTSTANDBY needs exactly one PREFERRED target, found ${preferred}`);
      if (backupsN < 1) report(destTok.line, 'DESTIP', 'HOTSTANDBY needs at least one BACKUP target');
      if (backupsN > HOTSTANDBY_MAX_BACKUPS) report(destTok.line, 'DESTIP', `HOTSTANDBY allows at most ${HOTSTANDBY_MAX_BACKUPS} BACKUP targets`);
      if (untyped > 0) report(destTok.line, 'DESTIP', 'with HOTSTANDBY every target needs PREFERRED or BACKUP rank');
    }
    distributes.push({
      dvipa,
      ports,
      method,
      optLocal,
      timedAffinity,
      sysplexPorts,
      autoSwitchBack,
      healthSwitch,
      procType,
      procXCost,
      ilWeighting,
      destinations,
      line: key.line,
    });
  };

  const parseVipaDynamic = (from: number, blockLine: number): number => {
    sawVipaDynamic = true;
    const { stmts, next } = statements(from, VIPADYNAMIC_STATEMENTS, 'ENDVIPADYNAMIC', 'VIPADYNAMIC', blockLine);
    for (const { key, args } of stmts) {
      switch (key.upper) {
        case 'VIPADEFINE':
          parseDefine(key, args);
          break;
        case 'VIPABACKUP':
          parseBackup(key, args);
          break;
        case 'VIPADISTRIBUTE':
          parseDistribute(key, args);
          break;
        case 'VIPADELETE': {
          const c = new Cursor(args, 'VIPADELETE', key.line, report);
          if (c.peek() && isMask(c.peek()!.text) && args.length > 1) c.next();
          while (!c.done) {
            const a = readAddress(c, 'DVIPA');
            if (a === null) continue;
            const di = defines.findIndex((d) => d.address === a);
            const bi = backups.findIndex((d) => d.address === a);
            if (di < 0 && bi < 0) report(key.line, 'VIPADELETE', `${a} is not defined by an earlier VIPADEFINE or VIPABACKUP`);
            if (di >= 0) defines.splice(di, 1);
            if (bi >= 0) backups.splice(bi, 1);
            distributes = distributes.filter((d) => d.dvipa !== a);
          }
          break;
        }
        case 'VIPAROUTE': {
          const c = new Cursor(args, 'VIPAROUTE', key.line, report);
          if (c.peek()?.upper === 'DEFINE') c.next();
          else if (c.peek()?.upper === 'DELETE') {
            c.next();
            const x = readAddress(c, 'dynamic XCF address');
            const idx = routes.findIndex((r) => r.xcf === x);
            if (idx >= 0) routes.splice(idx, 1);
            break;
          }
          const xcf = readAddress(c, 'dynamic XCF address');
          const ip = readAddress(c, 'target IP address');
          if (xcf && ip) routes.push({ xcf, targetIp: ip });
          break;
        }
        case 'VIPARANGE':
        case 'VIPASMPARMS':
        case 'VIPASERVICEMGR':
          report(key.line, key.upper, 'is not supported by imsplex');
          break;
        default:
          report(key.line, key.text, 'unknown statement in VIPADYNAMIC block');
      }
    }
    return next;
  };

  const parseImsplex = (from: number, blockLine: number): number => {
    const { stmts, next } = statements(from, IMSPLEX_STATEMENTS, 'ENDIMSPLEX', 'IMSPLEX', blockLine);
    for (const { key, args } of stmts) {
      const c = new Cursor(args, key.upper, key.line, report);
      const named = (allowed: Record<string, (c: Cursor) => void>): void => {
        while (!c.done) {
          const t = c.next()!;
          const f = allowed[t.upper];
          if (f) f(c);
          else report(t.line, key.upper, `unexpected "${t.text}" (expected ${Object.keys(allowed).join(', ')})`);
        }
      };
      switch (key.upper) {
        case 'STACK': {
          const name = c.next();
          if (!name || isIpv4(name.text)) {
            report(key.line, 'STACK', 'expects a system name and an XCF address, e.g. STACK SYS1 127.0.1.1');
            break;
          }
          const xcf = readAddress(c, 'XCF address');
          emu.stackName = name.upper;
          if (xcf) {
            emu.stackXcf = xcf;
            systems[name.upper] = xcf;
          }
          break;
        }
        case 'SYSTEM': {
          const name = c.next();
          const xcf = readAddress(c, 'XCF address');
          if (name && xcf) systems[name.upper] = xcf;
          break;
        }
        case 'TCPIPNAME': {
          const name = c.next();
          if (!name || !/^[A-Z@#$][A-Z0-9@#$]{0,7}$/.test(name.upper)) report(key.line, 'TCPIPNAME', 'expects a procedure name of 1-8 characters');
          else emu.tcpipName = name.upper;
          break;
        }
        case 'DATAPLANE': {
          const m = c.next();
          if (m?.upper === 'PROXY' || m?.upper === 'HANDOFF') emu.dataPlane = m.upper;
          else report(m?.line ?? key.line, 'DATAPLANE', `must be PROXY or HANDOFF${m ? `, got "${m.text}"` : ''}`);
          break;
        }
        case 'PROBE':
          named({
            INTERVAL: (c) => (emu.probeIntervalMs = c.int('PROBE INTERVAL (ms)', 10, 3_600_000) ?? emu.probeIntervalMs),
            TIMEOUT: (c) => (emu.probeTimeoutMs = c.int('PROBE TIMEOUT (ms)', 10, 600_000) ?? emu.probeTimeoutMs),
          });
          break;
        case 'TSR':
          named({ INTERVAL: (c) => (emu.tsrIntervalMs = c.int('TSR INTERVAL (ms)', 10, 3_600_000) ?? emu.tsrIntervalMs) });
          break;
        case 'CONNECTTIMEOUT':
          emu.connectTimeoutMs = c.int('CONNECTTIMEOUT (ms)', 10, 600_000) ?? emu.connectTimeoutMs;
          break;
        case 'SEF':
          named({ GOOD: (c) => (emu.sefGoodMs = c.int('SEF GOOD (ms)', 1, 600_000) ?? emu.sefGoodMs) });
          break;
        case 'MAXCONNECTIONS':
          emu.maxConnections = c.int('MAXCONNECTIONS', 1, 1_000_000) ?? emu.maxConnections;
          break;
        case 'HEARTBEAT':
          named({
            PORT: (c) => (emu.heartbeatPort = c.int('HEARTBEAT PORT', 1, 65535)),
            INTERVAL: (c) => (emu.heartbeatIntervalMs = c.int('HEARTBEAT INTERVAL (ms)', 10, 600_000) ?? emu.heartbeatIntervalMs),
            TIMEOUT: (c) => (emu.heartbeatTimeoutMs = c.int('HEARTBEAT TIMEOUT (ms)', 20, 3_600_000) ?? emu.heartbeatTimeoutMs),
          });
          break;
        case 'PEER': {
          const xcf = readAddress(c, 'peer XCF address');
          const p = c.next();
          if (p?.upper !== 'PORT') {
            report(p?.line ?? key.line, 'PEER', 'expects PEER xcf PORT n');
            break;
          }
          const port = c.int('PEER PORT', 1, 65535);
          if (xcf && port !== null) {
            if (peers.some((x) => x.xcf === xcf)) report(key.line, 'PEER', `${xcf} is listed twice`);
            else peers.push({ xcf, port });
          }
          if (!c.done) report(c.lineHere(), 'PEER', `unexpected "${c.peek()!.text}"`);
          break;
        }
        case 'TARGET': {
          const xcf = readAddress(c, 'target XCF address');
          const t: { -readonly [K in keyof TargetSettings]: TargetSettings[K] } = {
            xcf: xcf ?? '',
            port: null,
            host: null,
            targetPort: null,
            healthUrl: null,
            jobname: null,
            wlmWeight: null,
            maxConn: null,
          };
          named({
            PORT: (c) => (t.port = c.int('TARGET PORT', 1, 65535)),
            ADDRESS: (c) => {
              const a = c.next();
              const m = a ? /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(a.text) : null;
              if (!a || !m || !isLoopback(m[1]!) || Number(m[2]) < 1 || Number(m[2]) > 65535) report(a?.line ?? key.line, 'TARGET', `ADDRESS expects a loopback host:port${a ? `, got "${a.text}"` : ''}`);
              else {
                t.host = m[1]!;
                t.targetPort = Number(m[2]);
              }
            },
            HEALTH: (c) => {
              const u = c.next();
              let ok = false;
              if (u) {
                try {
                  const url = new URL(u.text);
                  ok = url.protocol === 'http:' && isLoopback(url.hostname);
                } catch {
                  ok = false;
                }
              }
              if (!ok) report(u?.line ?? key.line, 'TARGET', `HEALTH expects an http:// URL on a loopback host${u ? `, got "${u.text}"` : ''}`);
              else t.healthUrl = u!.text;
            },
            JOBNAME: (c) => {
              const j = c.next();
              if (!j || !/^[A-Z@#$*][A-Z0-9@#$*]{0,7}$/.test(j.upper)) report(j?.line ?? key.line, 'TARGET', 'JOBNAME expects a job name of 1-8 characters');
              else t.jobname = j.upper;
            },
            WLMWEIGHT: (c) => (t.wlmWeight = c.int('WLMWEIGHT', 0, 64)),
            MAXCONN: (c) => (t.maxConn = c.int('MAXCONN', 1, 1_000_000)),
          });
          if (xcf) targets.push(t);
          break;
        }
        default:
          report(key.line, key.text, 'unknown statement in IMSPLEX block');
      }
    }
    return next;
  };

  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i]!;
    if (t.upper === 'VIPADYNAMIC') i = parseVipaDynamic(i + 1, t.line);
    else if (t.upper === 'IMSPLEX') i = parseImsplex(i + 1, t.line);
    else if (t.upper === 'ENDVIPADYNAMIC' || t.upper === 'ENDIMSPLEX') {
      report(t.line, t.upper, 'has no matching block start');
      i++;
    } else if (VIPADYNAMIC_STATEMENTS.has(t.upper)) {
      report(t.line, t.upper, 'is valid only inside a VIPADYNAMIC block');
      i++;
    } else i++;
  }

  // Cross-statement checks.
  if (!sawVipaDynamic) report(1, 'VIPADYNAMIC', 'the profile has no VIPADYNAMIC block');
  const seen = new Map<string, number>();
  for (const d of defines) {
    if (seen.has(d.address)) report(d.line, 'VIPADEFINE', `${d.address} is already defined on line ${seen.get(d.address)} (use VIPADELETE first)`);
    seen.set(d.address, d.line);
  }
  for (const b of backups) {
    if (seen.has(b.address)) report(b.line, 'VIPABACKUP', `${b.address} is already defined on line ${seen.get(b.address)} (one VIPADEFINE or VIPABACKUP per DVIPA)`);
    seen.set(b.address, b.line);
  }
  const portOwners = new Map<string, number>();
  for (const d of distributes) {
    if (!seen.has(d.dvipa)) report(d.line, 'VIPADISTRIBUTE', `${d.dvipa} has no VIPADEFINE or VIPABACKUP in this profile`);
    for (const p of d.ports) {
      const k = `${d.dvipa}..${p}`;
      if (portOwners.has(k)) report(d.line, 'VIPADISTRIBUTE', `${k} is already distributed by the statement on line ${portOwners.get(k)}`);
      portOwners.set(k, d.line);
    }
  }
  const allDest = new Set(distributes.flatMap((d) => d.destinations.map((x) => x.xcf)));
  for (const t of targets) {
    if (!allDest.has(t.xcf)) report(0, 'TARGET', `${t.xcf} is not a DESTIP of any VIPADISTRIBUTE`);
    if (t.port !== null && !distributes.some((d) => d.ports.includes(t.port!))) report(0, 'TARGET', `port ${t.port} is not distributed`);
  }
  if (emu.stackXcf && peers.some((p) => p.xcf === emu.stackXcf && p.port === emu.heartbeatPort)) report(0, 'PEER', 'a peer cannot be this stack itself');
  if (emu.probeTimeoutMs > emu.probeIntervalMs) emu.probeTimeoutMs = emu.probeIntervalMs;
  if (emu.heartbeatTimeoutMs <= emu.heartbeatIntervalMs) report(0, 'HEARTBEAT', `TIMEOUT (${emu.heartbeatTimeoutMs} ms) must be longer than INTERVAL (${emu.heartbeatIntervalMs} ms)`);

  if (problems.length > 0) throw new ConfigError(problems.map((p) => (p.line === 0 ? { ...p, line: lineOfKey(tokens, p.key) } : p)));
  emu.peers = peers;
  emu.targets = targets;
  return deepFreeze({ file, defines, backups, distributes, routes, emulator: emu });
}

function lineOfKey(tokens: readonly Token[], key: string): number {
  return tokens.find((t) => t.upper === key)?.line ?? 1;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}
