/**
 * The IMS system definition file: IMS stage-1-style macro statements, one per line, in the spirit of
 * IMS system generation (`APPLCTN` followed by its `TRANSACT`s) and of IMS Connect's HWSCFG members.
 *
 * Syntax (decided here; IBM's stage-1 is assembler macros, which we only imitate):
 * - A statement is `NAME  KEY=value,KEY=(v1,v2),...`. Names and keys are case-insensitive.
 * - A line whose first non-blank character is `*` is a comment; text after the operands, separated by
 *   one or more blanks, is a comment too (as in assembler source).
 * - A statement continues on the next line when its operands end with a comma.
 * - Values: bare words, numbers, `'quoted strings'` (blanks allowed, `''` for a quote), hex `X'0033'`,
 *   and parenthesised lists (one level).
 * - Every error names the file, the line and the key: `ims.cfg:12: MAXRGN: must be 0..999`.
 *
 * Statements and keys:
 *   IMSCTRL  IMSID=IMS1 [,CODEPAGE=CP037] [,MAXQ=100000 (all input queues)] [,ABENDLIM=3]
 *            [,JOURNAL=(FSYNC|NOFSYNC)] [,CHKPT=8388608 (journal bytes before compaction)]
 *   OTMA     GROUP=XCFGRP1 [,MEMBER=IMS1] [,HOST=127.0.0.1] [,PORT=0] [,ACKTO=120] [,MAXTPIPE=10000]
 *            [,HOLDQ=10000 (per tpipe)] [,MAXCONV=1000] [,CONVTO=3600 (s)] [,SECSENSE=X'00C3']
 *            [,FLOODSENSE=X'0030'] [,MAXLINKS=16]
 *   ADMIN    [HOST=127.0.0.1] [,PORT=0] [,TOKEN='secret' (needed for /command)]
 *   APPLCTN  PSB=name ,IMPL=sample|MODULE='path.js' [,PGMTYPE=TP]
 *   TRANSACT CODE=name [,MSGTYPE=(SNGLSEG|MULTSEG,RESPONSE|NONRESPONSE,class)] [,PRTY=(npri,lpri,lct)]
 *            [,SCHDTYP=SERIAL|PARALLEL] [,MAXRGN=n] [,MAXQ=n] [,SPA=(size)] [,STATUS=STARTED|STOPPED]
 *   LTERM    NAME=name
 *   REGION   NAME=name [,CLASS=(1,2,...)] [,COUNT=n]
 *   RACF     USER=name|* ,TRAN=(name,...)|*     (when any RACF statement exists, OTMA input with
 *            security checking C/F must be authorised by one of them)
 *   SHAREDQ  GROUP=name ,URL=redis://127.0.0.1:6379[/db] [,LEASE=10000 (ms)]
 *            (shared queues: every IMS system with the same GROUP and Redis shares its input queues,
 *            hold queues and databases; see src/queues/redis.ts. Without it the queues are embedded.)
 */
import { ImsConfigError } from './errors.js';

/** One transaction (`TRANSACT`). */
export interface TransactionDef {
  readonly code: string;
  /** PSB (program) that processes it: the `APPLCTN` it follows. */
  readonly psb: string;
  readonly msgClass: number;
  readonly normalPriority: number;
  readonly limitPriority: number;
  /** Queue count at which the limit priority applies. */
  readonly limitCount: number;
  /** Parallel limit: how many regions may run it at once (1 for SCHDTYP=SERIAL). */
  readonly maxRegions: number;
  /** Input queue bound for this transaction. */
  readonly maxQueue: number;
  readonly responseMode: boolean;
  readonly multiSegment: boolean;
  /** SPA size for a conversational transaction; 0 when not conversational. */
  readonly spaSize: number;
  /** Initial status: STOPPED means /STO TRAN at start (queuing and scheduling stopped). */
  readonly stopped: boolean;
  readonly line: number;
}

/** One program (`APPLCTN`). */
export interface ProgramDef {
  readonly psb: string;
  /** Name of a built-in sample program (`ECHO`, `IVTNO`, ...), when no module is given. */
  readonly impl: string | undefined;
  /** Path of a JS/TS module whose default export is the program, relative to the config file. */
  readonly module: string | undefined;
  readonly line: number;
}

/** One group of message regions (`REGION`). */
export interface RegionDef {
  readonly name: string;
  /** Classes served, in priority order (the first listed is scanned first). */
  readonly classes: readonly number[];
  readonly count: number;
}

/** One `RACF` authorisation rule. */
export interface RacfRule {
  readonly user: string;
  /** `'*'` for every transaction. */
  readonly trans: ReadonlySet<string> | '*';
}

export interface OtmaDef {
  readonly group: string;
  readonly member: string;
  readonly host: string;
  readonly port: number;
  /** ACK timeout for output that needs an ACK, seconds (OTMA default 120). */
  readonly ackTimeoutSec: number;
  readonly maxTpipes: number;
  /** Bound of each tpipe hold queue. */
  readonly maxHoldQueue: number;
  readonly maxConversations: number;
  readonly conversationTimeoutSec: number;
  /** Sense code on a NAK for a security failure (DFS1292E). */
  readonly securitySense: number;
  /** Sense code on a NAK when an input queue is full (message flood). */
  readonly floodSense: number;
  readonly maxLinks: number;
}

/** Shared queues (`SHAREDQ`): the group and the Redis that holds its queues. */
export interface SharedQueuesDef {
  /** Shared-queues group name (1-8 characters, like the other names here). */
  readonly group: string;
  /** `redis://host:port[/db]` on a loopback host. */
  readonly url: string;
  /** Member lease, ms: how long a silent IMS keeps its in-flight messages before the group takes them. */
  readonly leaseMs: number;
  readonly line: number;
}

/** A whole IMS system definition. */
export interface SystemConfig {
  /** File the definition came from (or `<default>`). */
  readonly file: string;
  readonly imsId: string;
  readonly codePage: string;
  /** Bound of all input queues together. */
  readonly maxInputTotal: number;
  /** Abends in a row after which a transaction is USTOPPED. */
  readonly abendLimit: number;
  /** Whether journal writes are fsynced before they count as done. */
  readonly journalFsync: boolean;
  /** Journal size (bytes) that triggers a compaction checkpoint. */
  readonly checkpointBytes: number;
  readonly otma: OtmaDef;
  readonly admin: { readonly host: string; readonly port: number; readonly token: string | undefined } | undefined;
  readonly transactions: ReadonlyMap<string, TransactionDef>;
  readonly programs: ReadonlyMap<string, ProgramDef>;
  readonly regions: readonly RegionDef[];
  readonly lterms: ReadonlySet<string>;
  readonly racf: readonly RacfRule[];
  /** Present when the system's queues are shared through Redis (`SHAREDQ`); absent = embedded queues. */
  readonly sharedQueues?: SharedQueuesDef;
}

type Value = string | string[];
interface Operand {
  key: string;
  value: Value;
}
interface Statement {
  name: string;
  line: number;
  operands: Operand[];
}

const NAME_RE = /^[A-Z@#$][A-Z0-9@#$]{0,7}$/;

/** Split the text into statements. */
function tokenize(text: string, file: string): Statement[] {
  const out: Statement[] = [];
  const lines = text.split(/\r?\n/);
  let current: { name: string; line: number; body: string } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const lineNo = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('*')) {
      if (current && trimmed === '') {
        // a blank line ends a continued statement
        out.push(parseOperands(current, file));
        current = undefined;
      }
      continue;
    }
    let body: string;
    if (current) {
      body = cutComment(trimmed, file, lineNo);
      current.body += body;
    } else {
      const m = /^([A-Za-z@#$][A-Za-z0-9@#$]*)(?:\s+(.*))?$/.exec(trimmed);
      if (!m) throw new ImsConfigError(file, lineNo, trimmed.split(/\s/)[0] ?? '?', 'expected a statement name');
      body = m[2] === undefined ? '' : cutComment(m[2], file, lineNo);
      current = { name: m[1]!.toUpperCase(), line: lineNo, body };
    }
    if (!body.endsWith(',')) {
      out.push(parseOperands(current, file));
      current = undefined;
    }
  }
  if (current) throw new ImsConfigError(file, current.line, current.name, 'statement ends with a comma but nothing follows');
  return out;
}

/** Keep the operand field: up to the first blank outside quotes. */
function cutComment(s: string, file: string, line: number): string {
  let inQuote = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "'") inQuote = !inQuote;
    else if (!inQuote && (c === ' ' || c === '\t')) return s.slice(0, i);
  }
  if (inQuote) throw new ImsConfigError(file, line, '?', 'unterminated quoted string');
  return s;
}

function parseOperands(st: { name: string; line: number; body: string }, file: string): Statement {
  const ops: Operand[] = [];
  const s = st.body;
  let i = 0;
  const readAtom = (key: string): string => {
    if (s[i] === "'" || (/[Xx]/.test(s[i] ?? '') && s[i + 1] === "'")) {
      const hex = s[i] !== "'";
      if (hex) i++;
      i++;
      let v = '';
      for (;;) {
        if (i >= s.length) throw new ImsConfigError(file, st.line, key, 'unterminated quoted string');
        if (s[i] === "'") {
          if (s[i + 1] === "'") {
            v += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += s[i++];
      }
      if (hex) {
        if (!/^[0-9A-Fa-f]+$/.test(v)) throw new ImsConfigError(file, st.line, key, `bad hex literal X'${v}'`);
        return String(parseInt(v, 16));
      }
      return v;
    }
    let v = '';
    while (i < s.length && s[i] !== ',' && s[i] !== ')' && s[i] !== '(') v += s[i++];
    return v.trim();
  };
  while (i < s.length) {
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new ImsConfigError(file, st.line, s.slice(i).split(',')[0] || st.name, 'expected KEY=value');
    const key = s.slice(i, eq).trim().toUpperCase();
    if (!/^[A-Z][A-Z0-9]*$/.test(key)) throw new ImsConfigError(file, st.line, key || st.name, 'bad keyword');
    i = eq + 1;
    let value: Value;
    if (s[i] === '(') {
      i++;
      const list: string[] = [];
      for (;;) {
        if (i >= s.length) throw new ImsConfigError(file, st.line, key, 'missing )');
        list.push(readAtom(key));
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === ')') {
          i++;
          break;
        }
        throw new ImsConfigError(file, st.line, key, `unexpected '${s[i] ?? 'end'}' in list`);
      }
      value = list;
    } else {
      value = readAtom(key);
    }
    if (ops.some((o) => o.key === key)) throw new ImsConfigError(file, st.line, key, 'given twice');
    ops.push({ key, value });
    if (i < s.length) {
      if (s[i] !== ',') throw new ImsConfigError(file, st.line, key, `unexpected '${s[i]}' after value`);
      i++;
    }
  }
  return { name: st.name, line: st.line, operands: ops };
}

/** Typed access to one statement's operands, consuming them so unknown keys can be reported. */
class Ops {
  private readonly left: Map<string, Value>;
  constructor(
    private readonly st: Statement,
    private readonly file: string,
  ) {
    this.left = new Map(st.operands.map((o) => [o.key, o.value]));
  }
  err(key: string, msg: string): never {
    throw new ImsConfigError(this.file, this.st.line, key, msg);
  }
  raw(key: string): Value | undefined {
    const v = this.left.get(key);
    this.left.delete(key);
    return v;
  }
  str(key: string): string | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (Array.isArray(v)) {
      if (v.length === 1) return v[0]!;
      this.err(key, 'expected one value, not a list');
    }
    return v;
  }
  name(key: string, required: true): string;
  name(key: string, required?: false): string | undefined;
  name(key: string, required = false): string | undefined {
    const v = this.str(key);
    if (v === undefined) {
      if (required) this.err(key, `is required on ${this.st.name}`);
      return undefined;
    }
    const up = v.toUpperCase();
    if (!NAME_RE.test(up)) this.err(key, `'${v}' is not a valid name (1-8 characters A-Z 0-9 @ # $, not starting with a digit)`);
    return up;
  }
  int(key: string, min: number, max: number, dflt: number): number {
    const v = this.str(key);
    if (v === undefined) return dflt;
    return this.toInt(key, v, min, max);
  }
  toInt(key: string, v: string, min: number, max: number): number {
    if (!/^\d+$/.test(v)) this.err(key, `'${v}' is not a number`);
    const n = Number(v);
    if (n < min || n > max) this.err(key, `must be ${min}..${max}, got ${n}`);
    return n;
  }
  list(key: string): string[] | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    return Array.isArray(v) ? v : [v];
  }
  choice<T extends string>(key: string, allowed: readonly T[], dflt: T): T {
    const v = this.str(key);
    if (v === undefined) return dflt;
    const up = v.toUpperCase() as T;
    if (!allowed.includes(up)) this.err(key, `must be one of ${allowed.join(', ')}, got '${v}'`);
    return up;
  }
  done(): void {
    for (const key of this.left.keys()) this.err(key, `unknown keyword on ${this.st.name}`);
  }
}

/** Built-in sample program names that `IMPL=` accepts. */
export const SAMPLE_PROGRAMS = ['ECHO', 'IVTNO', 'IVTCV', 'SLOW', 'ABEND', 'MULTISEG', 'SWITCH', 'SWITCHB'] as const;

/** Parse an IMS system definition. `file` is only used in error messages. */
export function parseSystemConfig(text: string, file = '<config>'): SystemConfig {
  const statements = tokenize(text, file);
  let imsctrl: Statement | undefined;
  let otmaSt: Statement | undefined;
  let adminSt: Statement | undefined;
  const transactions = new Map<string, TransactionDef>();
  const programs = new Map<string, ProgramDef>();
  const regions: RegionDef[] = [];
  const lterms = new Set<string>();
  const racf: RacfRule[] = [];
  let currentPsb: string | undefined;
  let imsId = 'IMS1';
  let codePage = 'cp037';
  let maxInputTotal = 100_000;
  let abendLimit = 3;
  let journalFsync = true;
  let checkpointBytes = 8 * 1024 * 1024;
  let otma: OtmaDef | undefined;
  let admin: SystemConfig['admin'];
  let sharedSt: Statement | undefined;
  let sharedQueues: SharedQueuesDef | undefined;

  for (const st of statements) {
    const o: Ops = new Ops(st, file);
    switch (st.name) {
      case 'IMSCTRL': {
        if (imsctrl) o.err('IMSCTRL', `defined twice (first on line ${imsctrl.line})`);
        imsctrl = st;
        imsId = o.name('IMSID', true);
        const cp = o.str('CODEPAGE');
        if (cp !== undefined) {
          const c = cp.toLowerCase();
          if (!['cp037', 'cp500', 'cp1047', 'cp1140'].includes(c)) o.err('CODEPAGE', `must be CP037, CP500, CP1047 or CP1140, got '${cp}'`);
          codePage = c;
        }
        maxInputTotal = o.int('MAXQ', 1, 10_000_000, maxInputTotal);
        abendLimit = o.int('ABENDLIM', 1, 255, abendLimit);
        const j = o.list('JOURNAL');
        if (j) {
          for (const item of j) {
            const up = item.toUpperCase();
            if (up === 'FSYNC') journalFsync = true;
            else if (up === 'NOFSYNC') journalFsync = false;
            else o.err('JOURNAL', `must be FSYNC or NOFSYNC, got '${item}'`);
          }
        }
        checkpointBytes = o.int('CHKPT', 4096, 1 << 30, checkpointBytes);
        o.done();
        break;
      }
      case 'OTMA': {
        if (otmaSt) o.err('OTMA', `defined twice (first on line ${otmaSt.line})`);
        otmaSt = st;
        const group = o.name('GROUP', true);
        const member = o.name('MEMBER') ?? imsId;
        const host = o.str('HOST') ?? '127.0.0.1';
        if (!isLoopback(host)) o.err('HOST', `must be a loopback address (127.0.0.0/8), got '${host}'`);
        otma = {
          group,
          member,
          host,
          port: o.int('PORT', 0, 65535, 0),
          ackTimeoutSec: o.int('ACKTO', 1, 255, 120),
          maxTpipes: o.int('MAXTPIPE', 1, 1_000_000, 10_000),
          maxHoldQueue: o.int('HOLDQ', 1, 10_000_000, 10_000),
          maxConversations: o.int('MAXCONV', 1, 1_000_000, 1000),
          conversationTimeoutSec: o.int('CONVTO', 1, 86400 * 7, 3600),
          // [UNV] IBM documents DFS1292E + a NAK for a security failure but not the sense code;
          // X'00C3' is our choice (configurable here).
          securitySense: o.int('SECSENSE', 1, 0xffff, 0x00c3),
          // [INF] OTMA input flood protection NAKs input past its limit; X'0030' is our choice.
          floodSense: o.int('FLOODSENSE', 1, 0xffff, 0x0030),
          maxLinks: o.int('MAXLINKS', 1, 1000, 16),
        };
        o.done();
        break;
      }
      case 'ADMIN': {
        if (adminSt) o.err('ADMIN', `defined twice (first on line ${adminSt.line})`);
        adminSt = st;
        const host = o.str('HOST') ?? '127.0.0.1';
        if (!isLoopback(host)) o.err('HOST', `must be a loopback address (127.0.0.0/8), got '${host}'`);
        admin = { host, port: o.int('PORT', 0, 65535, 0), token: o.str('TOKEN') };
        o.done();
        break;
      }
      case 'APPLCTN': {
        const psb = o.name('PSB', true);
        if (programs.has(psb)) o.err('PSB', `program ${psb} defined twice`);
        const pgmType = o.list('PGMTYPE');
        if (pgmType && pgmType[0]?.toUpperCase() !== 'TP') o.err('PGMTYPE', 'only TP (message processing) programs are supported');
        const impl = o.str('IMPL');
        const module = o.str('MODULE');
        if (impl === undefined && module === undefined) o.err('IMPL', `APPLCTN ${psb} needs IMPL=<sample> or MODULE='path'`);
        if (impl !== undefined && module !== undefined) o.err('MODULE', 'give IMPL= or MODULE=, not both');
        if (impl !== undefined && !(SAMPLE_PROGRAMS as readonly string[]).includes(impl.toUpperCase()))
          o.err('IMPL', `unknown sample program '${impl}' (known: ${SAMPLE_PROGRAMS.join(', ')})`);
        programs.set(psb, { psb, impl: impl?.toUpperCase(), module, line: st.line });
        currentPsb = psb;
        o.done();
        break;
      }
      case 'TRANSACT': {
        if (!currentPsb) o.err('TRANSACT', 'must follow an APPLCTN statement');
        const code = o.name('CODE', true);
        if (transactions.has(code)) o.err('CODE', `transaction ${code} defined twice`);
        const mt = o.list('MSGTYPE') ?? ['SNGLSEG', 'RESPONSE', '1'];
        const seg = (mt[0] ?? 'SNGLSEG').toUpperCase();
        if (seg !== 'SNGLSEG' && seg !== 'MULTSEG') o.err('MSGTYPE', `first value must be SNGLSEG or MULTSEG, got '${mt[0]}'`);
        const resp = (mt[1] ?? 'RESPONSE').toUpperCase();
        if (resp !== 'RESPONSE' && resp !== 'NONRESPONSE') o.err('MSGTYPE', `second value must be RESPONSE or NONRESPONSE, got '${mt[1]}'`);
        const msgClass = o.toInt('MSGTYPE', mt[2] ?? '1', 1, 999);
        const prty = o.list('PRTY') ?? [];
        const npri = prty[0] === undefined || prty[0] === '' ? 1 : o.toInt('PRTY', prty[0], 0, 14);
        const lpri = prty[1] === undefined || prty[1] === '' ? npri : o.toInt('PRTY', prty[1], 0, 14);
        const lct = prty[2] === undefined || prty[2] === '' ? 65535 : o.toInt('PRTY', prty[2], 1, 65535);
        const schd = o.choice('SCHDTYP', ['SERIAL', 'PARALLEL'] as const, 'SERIAL');
        let maxRegions = o.int('MAXRGN', 0, 999, schd === 'SERIAL' ? 1 : 0);
        if (schd === 'SERIAL') maxRegions = 1;
        if (maxRegions === 0) maxRegions = Number.MAX_SAFE_INTEGER;
        const spa = o.list('SPA');
        const spaSize = spa ? o.toInt('SPA', spa[0] ?? '', 16, 32767) : 0;
        const status = o.choice('STATUS', ['STARTED', 'STOPPED'] as const, 'STARTED');
        transactions.set(code, {
          code,
          psb: currentPsb,
          msgClass,
          normalPriority: npri,
          limitPriority: lpri,
          limitCount: lct,
          maxRegions,
          maxQueue: o.int('MAXQ', 1, 10_000_000, 10_000),
          responseMode: resp === 'RESPONSE',
          multiSegment: seg === 'MULTSEG',
          spaSize,
          stopped: status === 'STOPPED',
          line: st.line,
        });
        o.done();
        break;
      }
      case 'LTERM': {
        const name = o.name('NAME', true);
        if (lterms.has(name)) o.err('NAME', `LTERM ${name} defined twice`);
        lterms.add(name);
        o.done();
        break;
      }
      case 'REGION': {
        const name = o.name('NAME', true);
        if (regions.some((r) => r.name === name)) o.err('NAME', `REGION ${name} defined twice`);
        const classes = (o.list('CLASS') ?? ['1']).map((c) => o.toInt('CLASS', c, 1, 999));
        regions.push({ name, classes, count: o.int('COUNT', 1, 256, 1) });
        o.done();
        break;
      }
      case 'RACF': {
        const user = o.str('USER');
        if (user === undefined) o.err('USER', 'is required on RACF');
        const tr = o.list('TRAN');
        if (tr === undefined) o.err('TRAN', 'is required on RACF');
        racf.push({
          user: user === '*' ? '*' : user.toUpperCase(),
          trans: tr.length === 1 && tr[0] === '*' ? '*' : new Set(tr.map((t) => t.toUpperCase())),
        });
        o.done();
        break;
      }
      case 'SHAREDQ': {
        if (sharedSt) o.err('SHAREDQ', `defined twice (first on line ${sharedSt.line})`);
        sharedSt = st;
        const group = o.name('GROUP', true);
        const url = o.str('URL');
        if (url === undefined) o.err('URL', 'is required on SHAREDQ (redis://127.0.0.1:6379)');
        const checked = checkRedisUrl(url);
        if ('error' in checked) o.err('URL', checked.error);
        const normalised = checked.url;
        // [INF] IMS takes a failed system's messages over through CQS once XCF declares it gone; the
        // delay here is ours. 10 s by default; at least 100 ms (heartbeats run every LEASE/3).
        const leaseMs = o.int('LEASE', 100, 3_600_000, 10_000);
        sharedQueues = { group, url: normalised, leaseMs, line: st.line };
        o.done();
        break;
      }
      default:
        throw new ImsConfigError(file, st.line, st.name, 'unknown statement (known: IMSCTRL, OTMA, ADMIN, APPLCTN, TRANSACT, LTERM, REGION, RACF, SHAREDQ)');
    }
  }
  if (!otma) {
    otma = {
      group: 'XCFGRP1',
      member: imsId,
      host: '127.0.0.1',
      port: 0,
      ackTimeoutSec: 120,
      maxTpipes: 10_000,
      maxHoldQueue: 10_000,
      maxConversations: 1000,
      conversationTimeoutSec: 3600,
      securitySense: 0x00c3,
      floodSense: 0x0030,
      maxLinks: 16,
    };
  }
  if (regions.length === 0) throw new ImsConfigError(file, statements.at(-1)?.line ?? 1, 'REGION', 'at least one REGION statement is required');
  // Every transaction class must be served by some region, or its messages would wait forever.
  const served = new Set(regions.flatMap((r) => r.classes));
  for (const t of transactions.values()) {
    if (!served.has(t.msgClass)) throw new ImsConfigError(file, t.line, 'MSGTYPE', `class ${t.msgClass} of ${t.code} is not served by any REGION`);
    if (lterms.has(t.code)) throw new ImsConfigError(file, t.line, 'CODE', `${t.code} is also an LTERM name`);
  }
  return {
    file,
    imsId,
    codePage,
    maxInputTotal,
    abendLimit,
    journalFsync,
    checkpointBytes,
    otma,
    admin,
    transactions,
    programs,
    regions,
    lterms,
    racf,
    ...(sharedQueues ? { sharedQueues } : {}),
  };
}

/**
 * Check a Redis URL, `redis://[user:password@]host[:port][/db]`: the host must be a loopback address
 * (imsplex never leaves 127.0.0.0/8, see ARCHITECTURE.md) or `localhost`, the database 0..15.
 * Returns the normalised URL or the reason it is refused.
 */
export function checkRedisUrl(url: string): { url: string } | { error: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { error: `'${url}' is not a URL (expected redis://127.0.0.1:6379)` };
  }
  if (u.protocol !== 'redis:') return { error: `must start with redis://, got '${u.protocol}'` };
  if (!(u.hostname === 'localhost' || isLoopback(u.hostname))) return { error: `host must be a loopback address (127.0.0.0/8 or localhost), got '${u.hostname}'` };
  if (u.pathname !== '' && u.pathname !== '/' && !/^\/(\d|1[0-5])$/.test(u.pathname)) return { error: `database must be /0 to /15, got '${u.pathname}'` };
  if (u.search || u.hash) return { error: 'takes no query or fragment' };
  return { url: u.toString() };
}

function isLoopback(host: string): boolean {
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return m !== null && m.slice(1).every((p) => Number(p) <= 255);
}

/** The default system: every sample program with its transaction, two regions. */
export const DEFAULT_SYSTEM_DEFINITION = `* imsplex default IMS system definition (stage-1 style)
IMSCTRL  IMSID=IMS1,CODEPAGE=CP037,MAXQ=100000,ABENDLIM=3
OTMA     GROUP=XCFGRP1,MEMBER=IMS1,HOST=127.0.0.1,PORT=0,ACKTO=120
*
APPLCTN  PSB=DFSIVP1,IMPL=IVTNO            IMS IVP phone book
TRANSACT CODE=IVTNO,MSGTYPE=(SNGLSEG,RESPONSE,1),PRTY=(7,10,2)
APPLCTN  PSB=DFSIVP4,IMPL=IVTCV            IVP conversational sample
TRANSACT CODE=IVTCV,MSGTYPE=(SNGLSEG,RESPONSE,1),SPA=(80),SCHDTYP=PARALLEL
APPLCTN  PSB=ECHOPGM,IMPL=ECHO
TRANSACT CODE=ECHO,MSGTYPE=(MULTSEG,RESPONSE,1),SCHDTYP=PARALLEL,MAXRGN=0
APPLCTN  PSB=SLOWPGM,IMPL=SLOW             delay from input, for timeout tests
TRANSACT CODE=SLOW,MSGTYPE=(SNGLSEG,RESPONSE,2),SCHDTYP=PARALLEL,MAXRGN=0
APPLCTN  PSB=ABNDPGM,IMPL=ABEND
TRANSACT CODE=ABEND,MSGTYPE=(SNGLSEG,RESPONSE,1)
APPLCTN  PSB=MSEGPGM,IMPL=MULTISEG
TRANSACT CODE=MULTISEG,MSGTYPE=(MULTSEG,RESPONSE,1),SCHDTYP=PARALLEL
APPLCTN  PSB=SWCHPGM,IMPL=SWITCH           program switch to SWITCHB
TRANSACT CODE=SWITCH,MSGTYPE=(SNGLSEG,RESPONSE,1),SCHDTYP=PARALLEL
APPLCTN  PSB=SWCBPGM,IMPL=SWITCHB
TRANSACT CODE=SWITCHB,MSGTYPE=(SNGLSEG,RESPONSE,1),SCHDTYP=PARALLEL
*
LTERM    NAME=MASTER
REGION   NAME=MPP1,CLASS=(1,2),COUNT=8
REGION   NAME=MPP2,CLASS=(2,1),COUNT=8
`;
