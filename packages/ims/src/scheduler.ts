/**
 * The scheduler: a pure state machine that assigns message regions to transactions.
 *
 * IMS-like rules:
 * - a region serves the classes it lists, scanning them in the order given (first = most preferred);
 * - within a class, the transaction with the highest current priority wins: its normal priority, or
 *   its limit priority once its queue count reaches the limit count (`PRTY=(npri,lpri,lct)`); ties go to
 *   the transaction scheduled least recently;
 * - a transaction runs in at most `maxRegions` regions at once (1 for SCHDTYP=SERIAL), and never when
 *   its scheduling is stopped (/STO TRAN or USTOPPED after repeated abends);
 * - a region with priority 0 transactions only schedules them when nothing else is queued (IMS priority
 *   0 means "only when idle").
 *
 * The scheduler keeps its own count of queued messages, told by `enqueued` / `dequeued`; it never
 * touches the queues. `assign()` returns the decisions and marks the regions busy until `release`.
 */
import type { RegionDef, TransactionDef } from './config.js';

export interface Assignment {
  readonly regionId: number;
  readonly regionName: string;
  readonly tran: string;
}

interface TranState {
  readonly def: TransactionDef;
  queued: number;
  active: number;
  schedulingStopped: boolean;
  lastScheduled: number;
}

export interface RegionState {
  readonly id: number;
  readonly name: string;
  readonly classes: readonly number[];
  /** Transaction running in the region, if any. */
  tran: string | undefined;
  /** Times the region was scheduled. */
  scheduled: number;
}

const NONE: readonly TranState[] = [];

export class Scheduler {
  private readonly trans = new Map<string, TranState>();
  /** Transactions of each class, in definition order (what `pick` scans). */
  private readonly byClass = new Map<number, TranState[]>();
  private readonly regionList: RegionState[] = [];
  private tick = 0;
  /** Sum of `queued` over all transactions, and regions with nothing running: `assign` returns at once when either is 0. */
  private queuedTotal = 0;
  private freeRegions = 0;

  constructor(regions: readonly RegionDef[], transactions: Iterable<TransactionDef>) {
    let id = 1;
    for (const r of regions) {
      for (let i = 0; i < r.count; i++) {
        this.regionList.push({ id: id++, name: r.count === 1 ? r.name : `${r.name}.${i + 1}`, classes: r.classes, tran: undefined, scheduled: 0 });
      }
    }
    for (const def of transactions) {
      const t: TranState = { def, queued: 0, active: 0, schedulingStopped: false, lastScheduled: 0 };
      this.trans.set(def.code, t);
      let list = this.byClass.get(def.msgClass);
      if (!list) this.byClass.set(def.msgClass, (list = []));
      list.push(t);
    }
    this.freeRegions = this.regionList.length;
  }

  /** A message was queued for `tran`. */
  enqueued(tran: string, n = 1): void {
    const t = this.trans.get(tran);
    if (t) {
      t.queued += n;
      this.queuedTotal += n;
    }
  }

  /** Messages left `tran`'s queue without being processed (purge). */
  dequeued(tran: string, n = 1): void {
    const t = this.trans.get(tran);
    if (t) {
      const left = Math.max(0, t.queued - n);
      this.queuedTotal -= t.queued - left;
      t.queued = left;
    }
  }

  /** Stop or start scheduling of `tran`. */
  setSchedulingStopped(tran: string, stopped: boolean): void {
    const t = this.trans.get(tran);
    if (t) t.schedulingStopped = stopped;
  }

  /** Queue count as the scheduler sees it. */
  queued(tran: string): number {
    return this.trans.get(tran)?.queued ?? 0;
  }

  /** Regions running `tran`. */
  active(tran: string): number {
    return this.trans.get(tran)?.active ?? 0;
  }

  get regions(): readonly Readonly<RegionState>[] {
    return this.regionList;
  }

  /** Current priority of a transaction (limit priority once the queue reaches the limit count). */
  priority(tran: string): number {
    const t = this.trans.get(tran);
    if (!t) return -1;
    return t.queued >= t.def.limitCount ? t.def.limitPriority : t.def.normalPriority;
  }

  /** Assign every free region that has eligible work. Each assignment takes one queued message. */
  assign(): Assignment[] {
    if (this.queuedTotal <= 0 || this.freeRegions === 0) return [];
    const out: Assignment[] = [];
    // Class lists (shared by the regions of one REGION statement) that found no eligible work in this
    // round: the other regions with that list find none either (nothing changes until an assignment).
    let noWork: Array<readonly number[]> | undefined;
    for (const r of this.regionList) {
      if (r.tran !== undefined) continue;
      if (noWork !== undefined && noWork.includes(r.classes)) continue;
      const t = this.pick(r);
      if (!t) {
        (noWork ??= []).push(r.classes);
        continue;
      }
      t.queued--;
      this.queuedTotal--;
      this.freeRegions--;
      t.active++;
      t.lastScheduled = ++this.tick;
      r.tran = t.def.code;
      r.scheduled++;
      out.push({ regionId: r.id, regionName: r.name, tran: t.def.code });
      if (this.queuedTotal <= 0 || this.freeRegions === 0) break;
    }
    return out;
  }

  /** The region finished its message. */
  release(regionId: number): void {
    // Region ids are 1..n in list order; the search is the fallback.
    const guess = this.regionList[regionId - 1];
    const r = guess?.id === regionId ? guess : this.regionList.find((x) => x.id === regionId);
    if (!r || r.tran === undefined) return;
    const t = this.trans.get(r.tran);
    if (t) t.active = Math.max(0, t.active - 1);
    r.tran = undefined;
    this.freeRegions++;
  }

  private pick(r: RegionState): TranState | undefined {
    let idleOnly: TranState | undefined;
    for (const cls of r.classes) {
      let best: TranState | undefined;
      let bestPri = -1;
      for (const t of this.byClass.get(cls) ?? NONE) {
        if (t.queued <= 0 || t.schedulingStopped || t.active >= t.def.maxRegions) continue;
        const pri = t.queued >= t.def.limitCount ? t.def.limitPriority : t.def.normalPriority;
        if (pri === 0) {
          if (!idleOnly || t.lastScheduled < idleOnly.lastScheduled) idleOnly = t;
          continue;
        }
        if (pri > bestPri || (pri === bestPri && best !== undefined && t.lastScheduled < best.lastScheduled)) {
          best = t;
          bestPri = pri;
        }
      }
      if (best) return best;
    }
    return idleOnly;
  }
}
