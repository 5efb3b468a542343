/**
 * Type-1 commands (`/DIS TRAN`, `/DIS Q`, `/DIS TPIPE`, `/DIS OTMA`, `/DIS ACTIVE`, `/STO TRAN`,
 * `/STA TRAN`, `/PUR TRAN`), answered with lines shaped like IMS's: column headings, one line per
 * resource, and IMS's closing time stamp `*yyddd/hhmmss*`. Verbs and keywords accept IMS's long forms
 * and abbreviations (`/DISPLAY TRANSACTION`, `/DIS TRAN`, `/STOP`, `/STO`, `/START`, `/STA`,
 * `/PURGE`, `/PUR`, `ACTIVE`, `A`, `QUEUE`, `Q`, `TMEMBER name TPIPE`, `TPIPE`).
 */
import type { TransactionManager } from './engine.js';
import type { OtmaMember } from './otma/member.js';

function stamp(now: number): string {
  const d = new Date(now);
  const start = Date.UTC(d.getUTCFullYear(), 0, 0);
  const ddd = String(Math.floor((now - start) / 86_400_000)).padStart(3, '0');
  const yy = String(d.getUTCFullYear() % 100).padStart(2, '0');
  const t = d.toISOString().slice(11, 19).replace(/:/g, '');
  return `*${yy}${ddd}/${t}*`;
}

const r = (v: string | number, w: number) => String(v).padStart(w);
const l = (v: string | number, w: number) => String(v).padEnd(w);

const VERBS: Record<string, 'DIS' | 'STO' | 'STA' | 'PUR'> = { DIS: 'DIS', DISPLAY: 'DIS', STO: 'STO', STOP: 'STO', STA: 'STA', START: 'STA', PUR: 'PUR', PURGE: 'PUR' };

/** Runs type-1 commands against one IMS system. */
export class CommandProcessor {
  constructor(
    private readonly engine: TransactionManager,
    private readonly member: OtmaMember | undefined,
  ) {}

  /** Run one command; returns the output lines (never throws for a bad command). */
  async run(text: string): Promise<string[]> {
    const now = this.engine.clock.now();
    const words = text.trim().replace(/\.$/, '').toUpperCase().split(/\s+/).filter(Boolean);
    const verbWord = (words[0] ?? '').replace(/^\//, '');
    const verb = VERBS[verbWord];
    const tail = [stamp(now)];
    if (!verb) return [`DFS2077I COMMAND VERB ${verbWord || '?'} INVALID`, ...tail];
    const kw = words[1] ?? '';
    const args = words.slice(2);
    try {
      if (verb === 'DIS') {
        if (kw === 'TRAN' || kw === 'TRANSACTION') return [...this.disTran(args), ...tail];
        if (kw === 'Q' || kw === 'QUEUE') return [...this.disQueue(), ...tail];
        if (kw === 'A' || kw === 'ACTIVE') return [...this.disActive(), ...tail];
        if (kw === 'OTMA') return [...this.disOtma(), ...tail];
        if (kw === 'TPIPE' || kw === 'TMEMBER' || kw === 'TMEM') return [...this.disTpipe(kw === 'TPIPE' ? [] : args.filter((a) => a !== 'TPIPE' && a !== 'ALL')), ...tail];
        return [`DFS110I COMMAND KEYWORD ${kw || '?'} INVALID FOR DISPLAY`, ...tail];
      }
      if (kw !== 'TRAN' && kw !== 'TRANSACTION') return [`DFS110I COMMAND KEYWORD ${kw || '?'} INVALID FOR ${verbWord}`, ...tail];
      const names = args.includes('ALL') ? [...this.engine.config.transactions.keys()] : args;
      if (names.length === 0) return [`DFS110I TRANSACTION NAME MISSING`, ...tail];
      const unknown: string[] = [];
      for (const n of names) {
        let ok: boolean;
        if (verb === 'STO') ok = await this.engine.stopTransaction(n);
        else if (verb === 'STA') ok = await this.engine.startTransaction(n);
        else ok = this.engine.purgeTransaction(n);
        if (!ok) unknown.push(n);
      }
      const what = verb === 'STO' ? 'STOP' : verb === 'STA' ? 'START' : 'PURGE';
      const hhmmss = new Date(now).toISOString().slice(11, 19);
      const lines =
        unknown.length === 0 ? [`DFS058I ${hhmmss} ${what} COMMAND COMPLETED`] : [`DFS058I ${hhmmss} ${what} COMMAND COMPLETED EXCEPT TRAN ${unknown.join(' ')}`];
      return [...lines, ...tail];
    } catch (e) {
      return [`DFS2077I COMMAND FAILED: ${(e as Error).message}`, ...tail];
    }
  }

  private disTran(args: string[]): string[] {
    const all = args.length === 0 || args.includes('ALL');
    const list = all ? this.engine.transactions() : args.map((a) => this.engine.transaction(a) ?? a);
    const out = [`${l('TRAN', 9)}${r('CLS', 4)}${r('ENQCT', 6)}${r('QCT', 6)}${r('LCT', 6)}${r('PLCT', 6)}${r('CP', 3)}${r('NP', 3)}${r('LP', 3)}${r('SEGSZ', 6)}${r('SEGNO', 6)}${r('PARLM', 6)}${r('RC', 4)}`];
    for (const t of list) {
      if (typeof t === 'string') {
        out.push(`${l(t, 9)} IS INVALID`);
        continue;
      }
      const d = t.def;
      const cp = t.queued >= d.limitCount ? d.limitPriority : d.normalPriority;
      const maxRgn = d.maxRegions > 999 ? 0 : d.maxRegions;
      out.push(
        `${l(d.code, 9)}${r(d.msgClass, 4)}${r(t.stats.enqueued, 6)}${r(t.queued, 6)}${r(d.limitCount, 6)}${r(65535, 6)}${r(cp, 3)}${r(d.normalPriority, 3)}${r(d.limitPriority, 3)}${r(0, 6)}${r(0, 6)}${r('NONE', 6)}${r(maxRgn, 4)}`,
      );
      out.push(`${l(d.code, 9)}    PSBNAME: ${d.psb}`);
      const status = [t.stopped ? 'STOP' : '', t.purged ? 'PUR' : '', t.ustopped ? 'USTOP' : '', d.spaSize > 0 ? 'CONV' : '', t.active > 0 ? 'SCHD' : ''].filter(Boolean);
      if (status.length) out.push(`${l(d.code, 9)}    STATUS: ${status.join(',')}`);
      out.push(`${l(d.code, 9)}    STATS: PROCESSED ${t.stats.processed} ABENDS ${t.stats.abends} BACKOUTS ${t.stats.backouts} REJECTED ${t.stats.rejected}`);
    }
    return out;
  }

  private disQueue(): string[] {
    const out = [`${r('CLS', 4)}${r('PRTY', 6)}  ${l('TRAN', 9)}${r('MSG CT', 7)}  PSBNAME`];
    const rows = this.engine.transactions().filter((t) => t.queued > 0);
    rows.sort((a, b) => a.def.msgClass - b.def.msgClass || b.def.normalPriority - a.def.normalPriority || a.def.code.localeCompare(b.def.code));
    for (const t of rows) out.push(`${r(t.def.msgClass, 4)}${r(t.queued >= t.def.limitCount ? t.def.limitPriority : t.def.normalPriority, 6)}  ${l(t.def.code, 9)}${r(t.queued, 7)}  ${t.def.psb}`);
    if (rows.length === 0) out.push('*NO QUEUES*');
    const outKeys = this.engine.store.outputKeys();
    if (outKeys.length) {
      out.push(`${l('OUTPUT QUEUE', 26)}${r('MSG CT', 7)}`);
      for (const k of outKeys) out.push(`${l(k, 26)}${r(this.engine.store.outputDepth(k), 7)}`);
    }
    return out;
  }

  private disActive(): string[] {
    const out = [`${r('REGID', 5)} ${l('JOBNAME', 10)}${l('TYPE', 5)} ${l('TRAN/STEP', 9)} ${l('PROGRAM', 9)}${l('STATUS', 13)}CLASS`];
    for (const g of this.engine.regions()) {
      const t = g.tran ? this.engine.config.transactions.get(g.tran) : undefined;
      out.push(`${r(g.id, 5)} ${l(g.name, 10)}${l('TP', 5)} ${l(g.tran ?? '', 9)} ${l(t?.psb ?? '', 9)}${l(g.tran ? '' : 'WAITING', 13)}${g.classes.join(',')}`);
    }
    const busy = this.engine.regions().filter((g) => g.tran).length;
    out.push(`${this.engine.imsId} ${this.engine.isActive ? 'ACTIVE' : 'STOPPED'}, REGIONS ${this.engine.regions().length}, BUSY ${busy}, CONVERSATIONS ${this.engine.conversationCount}`);
    return out;
  }

  private disOtma(): string[] {
    const otma = this.engine.config.otma;
    const out = [`${l('GROUP/MEMBER', 17)}${l('XCF-STATUS', 12)}${l('USER-STATUS', 16)}${l('SMEM', 6)}${r('T/O', 4)}  ${l('TPIPES', 7)}PEER`];
    out.push(otma.group);
    out.push(`-${l(otma.member, 16)}${l('ACTIVE', 12)}${l('SERVER', 16)}`);
    for (const m of this.member?.members() ?? []) {
      out.push(`-${l(m.member, 16)}${l('ACTIVE', 12)}${l('ACCEPT TRAFFIC', 16)}${l(m.owner === m.member ? '' : m.owner, 6)}${r(m.ackTimeoutSec, 4)}  ${l(m.tpipes, 7)}${m.peer}`);
    }
    return out;
  }

  private disTpipe(filter: string[]): string[] {
    const out = [`${l('MEMBER/TPIPE', 18)}${r('ENQCT', 7)}${r('DEQCT', 7)}${r('QCT', 7)}  STATUS`];
    const rows = (this.member?.tpipeList() ?? []).filter((t) => filter.length === 0 || filter.includes(t.owner) || filter.includes(t.member));
    let owner = '';
    for (const t of rows) {
      if (t.owner !== owner) {
        owner = t.owner;
        out.push(owner);
      }
      out.push(`-${l(t.tpipe, 17)}${r(t.inputs, 7)}${r(t.outputs, 7)}${r(t.queued, 7)}  ${t.status}`);
    }
    if (rows.length === 0) out.push('*NO TPIPES*');
    return out;
  }
}
