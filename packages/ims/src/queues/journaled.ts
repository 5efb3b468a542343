/**
 * The embedded queue store: in memory, with an optional append-only journal (`src/journal.ts`) that
 * makes durable batches survive a crash. Without a directory it is a plain memory store.
 */
import { join } from 'node:path';
import { Journal } from '../journal.js';
import type { InputMessage, MessageOrigin, OutputMessage } from '../messages.js';
import { Deque } from './deque.js';
import type { QueueStore, RecoveryReport, StoreOp } from './store.js';
import { ImsError, ImsErrorCode } from '../errors.js';

export interface JournaledQueueStoreOptions {
  /** Data directory; the journal is `<dir>/ims.journal`. Omit for a memory-only store. */
  dir?: string;
  /** fdatasync every batch (default true). */
  fsync?: boolean;
  /** Journal size that triggers compaction (default 8 MiB). */
  checkpointBytes?: number;
}

type Json = Record<string, unknown>;

const b64 = (u: Uint8Array): string => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64');
const unb64 = (s: unknown): Uint8Array => {
  if (typeof s !== 'string') throw new Error('expected base64 string');
  return new Uint8Array(Buffer.from(s, 'base64'));
};

function originToJson(o: MessageOrigin): Json {
  if (o.kind === 'lterm') return { ...o };
  // replyId is process-local: never journaled.
  return { ...o, replyId: undefined, context: o.context ? b64(o.context) : undefined };
}
function originFromJson(j: Json): MessageOrigin {
  if (j.kind === 'lterm') return { kind: 'lterm', lterm: String(j.lterm), userId: String(j.userId ?? '') };
  return {
    kind: 'otma',
    member: String(j.member),
    queueOwner: String(j.queueOwner ?? j.member),
    tpipe: String(j.tpipe),
    commitMode: j.commitMode === 1 ? 1 : 0,
    syncLevel: j.syncLevel === 0 ? 0 : 1,
    userId: String(j.userId ?? ''),
    sendOnly: j.sendOnly === true,
    wantDfs2082: j.wantDfs2082 === true,
    rerouteTpipe: typeof j.rerouteTpipe === 'string' ? j.rerouteTpipe : undefined,
    purgeUndeliverable: j.purgeUndeliverable === true,
    replyId: undefined,
    context: typeof j.context === 'string' ? unb64(j.context) : undefined,
  };
}

/** Serialise ops for the journal. */
export function opsToJson(ops: readonly StoreOp[]): Json[] {
  return ops.map((op): Json => {
    switch (op.op) {
      case 'in+':
        return { op: op.op, msg: { ...op.msg, segments: op.msg.segments.map(b64), origin: originToJson(op.msg.origin), conversationId: undefined } };
      case 'out+':
        return { op: op.op, key: op.key, msg: { ...op.msg, segments: op.msg.segments.map(b64), context: op.msg.context ? b64(op.msg.context) : undefined } };
      case 'db':
        return { op: op.op, db: op.db, key: op.key, value: op.value === null ? null : b64(op.value) };
      default:
        return { ...op };
    }
  });
}

/** Parse journaled ops (throws on a malformed record). */
export function opsFromJson(list: unknown): StoreOp[] {
  if (!Array.isArray(list)) throw new Error('journal record is not a list of operations');
  return list.map((raw): StoreOp => {
    const j = raw as Json;
    switch (j.op) {
      case 'in+': {
        const m = j.msg as Json;
        return {
          op: 'in+',
          msg: {
            id: String(m.id),
            tran: String(m.tran),
            segments: (m.segments as unknown[]).map(unb64),
            origin: originFromJson(m.origin as Json),
            enqueuedAt: Number(m.enqueuedAt),
            recoverable: true,
            conversationId: undefined,
          },
        };
      }
      case 'in-':
        return { op: 'in-', tran: String(j.tran), id: String(j.id) };
      case 'out+': {
        const m = j.msg as Json;
        return {
          op: 'out+',
          key: String(j.key),
          msg: {
            id: String(m.id),
            segments: (m.segments as unknown[]).map(unb64),
            tran: String(m.tran),
            enqueuedAt: Number(m.enqueuedAt),
            direct: m.direct === true,
            rerouted: m.rerouted === true,
            member: typeof m.member === 'string' ? m.member : undefined,
            context: typeof m.context === 'string' ? unb64(m.context) : undefined,
            rerouteTpipe: typeof m.rerouteTpipe === 'string' ? m.rerouteTpipe : undefined,
            purgeUndeliverable: m.purgeUndeliverable === true,
          },
        };
      }
      case 'out-':
        return { op: 'out-', key: String(j.key), id: String(j.id) };
      case 'outh':
        return { op: 'outh', key: String(j.key), id: String(j.id) };
      case 'db':
        return { op: 'db', db: String(j.db), key: String(j.key), value: j.value === null ? null : unb64(j.value) };
      case 'tst':
        return { op: 'tst', tran: String(j.tran), stopped: j.stopped === true, ustopped: j.ustopped === true };
      default:
        throw new Error(`unknown journal operation ${String(j.op)}`);
    }
  });
}

export class JournaledQueueStore implements QueueStore {
  private readonly inputs = new Map<string, Deque<InputMessage>>();
  private readonly inFlight = new Map<string, InputMessage>();
  private readonly outputs = new Map<string, OutputMessage[]>();
  private readonly dbs = new Map<string, Map<string, Uint8Array>>();
  private readonly status = new Map<string, { stopped: boolean; ustopped: boolean }>();
  private readonly pendingInputs = new Map<string, number>();
  private pendingTotal = 0;
  private total = 0;
  private journal: Journal | undefined;
  private compacting = false;
  private readonly inputListeners: Array<(tran: string) => void> = [];
  private readonly outputListeners: Array<(key: string) => void> = [];

  constructor(private readonly options: JournaledQueueStoreOptions = {}) {}

  get durable(): boolean {
    return this.options.dir !== undefined;
  }

  async open(): Promise<RecoveryReport> {
    if (!this.options.dir) return { inputMessages: 0, outputMessages: 0, dbRecords: 0, records: 0, truncatedBytes: 0, fresh: true };
    const { journal, replay } = await Journal.open(join(this.options.dir, 'ims.journal'), { fsync: this.options.fsync ?? true });
    this.journal = journal;
    let n = 0;
    for (const rec of replay.records) {
      n++;
      let ops: StoreOp[];
      try {
        ops = opsFromJson(rec);
      } catch (e) {
        throw new ImsError(ImsErrorCode.JOURNAL_CORRUPT, `journal record ${n} is not valid: ${(e as Error).message}`, { cause: e });
      }
      this.applyNow(ops, false);
    }
    let outs = 0;
    for (const q of this.outputs.values()) outs += q.length;
    let dbRecords = 0;
    for (const d of this.dbs.values()) dbRecords += d.size;
    return { inputMessages: this.total, outputMessages: outs, dbRecords, records: replay.records.length, truncatedBytes: replay.truncatedBytes, fresh: replay.records.length === 0 };
  }

  async close(): Promise<void> {
    await this.journal?.close();
  }

  applyVolatile(ops: readonly StoreOp[]): void {
    this.applyNow(ops, true);
  }

  apply(ops: readonly StoreOp[], durable: boolean): Promise<void> {
    if (!durable || !this.journal) {
      this.applyNow(ops, true);
      return Promise.resolve();
    }
    const adds = ops.filter((o): o is Extract<StoreOp, { op: 'in+' }> => o.op === 'in+' && o.msg.recoverable);
    for (const a of adds) this.pendingInputs.set(a.msg.tran, (this.pendingInputs.get(a.msg.tran) ?? 0) + 1);
    this.pendingTotal += adds.length;
    // Non-recoverable input (CM1) never reaches the journal, even inside a durable batch.
    const journaled = ops.filter((o) => !(o.op === 'in+' && !o.msg.recoverable));
    const p = this.journal.append(opsToJson(journaled), () => {
      this.undoPending(adds);
      this.applyNow(ops, true);
    });
    return p.then(
      () => this.maybeCompact(),
      (e: unknown) => {
        // applied() never ran: release the pending counts
        this.undoPending(adds);
        throw e;
      },
    );
  }

  /** Inputs of a durable batch stop counting as pending (applied, or the write failed). */
  private undoPending(adds: ReadonlyArray<Extract<StoreOp, { op: 'in+' }>>): void {
    for (const a of adds) this.pendingInputs.set(a.msg.tran, (this.pendingInputs.get(a.msg.tran) ?? 1) - 1);
    this.pendingTotal -= adds.length;
  }

  private maybeCompact(): void {
    const j = this.journal;
    if (!j || this.compacting || j.size < (this.options.checkpointBytes ?? 8 * 1024 * 1024)) return;
    this.compacting = true;
    j.compact(() => [opsToJson(this.snapshotOps())])
      .catch(() => undefined)
      .finally(() => {
        this.compacting = false;
      });
  }

  /** The whole durable state as ops (in-flight recoverable inputs count as waiting). */
  snapshotOps(): StoreOp[] {
    const ops: StoreOp[] = [];
    const inflight = [...this.inFlight.values()].filter((m) => m.recoverable);
    for (const m of inflight) ops.push({ op: 'in+', msg: m });
    for (const q of this.inputs.values()) for (const m of q) if (m.recoverable) ops.push({ op: 'in+', msg: m });
    for (const [key, q] of this.outputs) for (const m of q) ops.push({ op: 'out+', key, msg: m });
    for (const [db, d] of this.dbs) for (const [key, value] of d) ops.push({ op: 'db', db, key, value });
    for (const [tran, s] of this.status) ops.push({ op: 'tst', tran, ...s });
    return ops;
  }

  private applyNow(ops: readonly StoreOp[], notify: boolean): void {
    // Keys whose queues got messages (made only when a batch adds some and listeners are to be told).
    let touchedIn: Set<string> | undefined;
    let touchedOut: Set<string> | undefined;
    for (const op of ops) {
      switch (op.op) {
        case 'in+': {
          let q = this.inputs.get(op.msg.tran);
          if (!q) this.inputs.set(op.msg.tran, (q = new Deque()));
          q.push(op.msg);
          this.total++;
          if (notify && this.inputListeners.length > 0) (touchedIn ??= new Set()).add(op.msg.tran);
          break;
        }
        case 'in-': {
          if (this.inFlight.delete(op.id)) break;
          const q = this.inputs.get(op.tran);
          if (q?.remove((m) => m.id === op.id)) this.total--;
          break;
        }
        case 'out+': {
          let q = this.outputs.get(op.key);
          if (!q) this.outputs.set(op.key, (q = []));
          q.push(op.msg);
          if (notify && this.outputListeners.length > 0) (touchedOut ??= new Set()).add(op.key);
          break;
        }
        case 'out-': {
          const q = this.outputs.get(op.key);
          if (!q) break;
          const i = q.findIndex((m) => m.id === op.id);
          if (i >= 0) q.splice(i, 1);
          if (q.length === 0) this.outputs.delete(op.key);
          break;
        }
        case 'outh': {
          const q = this.outputs.get(op.key);
          const i = q ? q.findIndex((m) => m.id === op.id) : -1;
          if (q && i >= 0) q[i] = { ...q[i]!, direct: false };
          break;
        }
        case 'db': {
          let d = this.dbs.get(op.db);
          if (!d) this.dbs.set(op.db, (d = new Map()));
          if (op.value === null) d.delete(op.key);
          else d.set(op.key, op.value);
          break;
        }
        case 'tst':
          this.status.set(op.tran, { stopped: op.stopped, ustopped: op.ustopped });
          break;
      }
    }
    if (!notify) return;
    if (touchedIn) for (const t of touchedIn) for (const l of this.inputListeners) l(t);
    if (touchedOut) for (const k of touchedOut) for (const l of this.outputListeners) l(k);
  }

  claimInput(tran: string): Promise<InputMessage | undefined> {
    return Promise.resolve(this.claimInputNow(tran));
  }

  claimInputNow(tran: string): InputMessage | undefined {
    const q = this.inputs.get(tran);
    const msg = q?.shift();
    if (msg) {
      this.total--;
      this.inFlight.set(msg.id, msg);
    }
    return msg;
  }

  releaseInput(msg: InputMessage): void {
    if (!this.inFlight.delete(msg.id)) return;
    let q = this.inputs.get(msg.tran);
    if (!q) this.inputs.set(msg.tran, (q = new Deque()));
    q.unshift(msg);
    this.total++;
    for (const l of this.inputListeners) l(msg.tran);
  }

  dropInFlight(msg: InputMessage): void {
    this.inFlight.delete(msg.id);
  }

  inputDepth(tran: string): number {
    return (this.inputs.get(tran)?.length ?? 0) + (this.pendingInputs.get(tran) ?? 0);
  }

  totalInputDepth(): number {
    return this.total + this.pendingTotal;
  }

  outputDepth(key: string): number {
    return this.outputs.get(key)?.length ?? 0;
  }

  outputKeys(): string[] {
    return [...this.outputs.keys()].sort();
  }

  peekOutput(key: string, skip: ReadonlySet<string>, directOnly: boolean): OutputMessage | undefined {
    const q = this.outputs.get(key);
    if (!q) return undefined;
    for (const m of q) {
      if (skip.has(m.id)) continue;
      if (directOnly && !m.direct) continue;
      return m;
    }
    return undefined;
  }

  listOutput(key: string): readonly OutputMessage[] {
    return [...(this.outputs.get(key) ?? [])];
  }

  listInput(tran: string): readonly InputMessage[] {
    return [...(this.inputs.get(tran) ?? [])];
  }

  dbGet(db: string, key: string): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.dbs.get(db)?.get(key));
  }

  dbKeys(db: string): Promise<string[]> {
    return Promise.resolve([...(this.dbs.get(db)?.keys() ?? [])].sort());
  }

  tranStatus(tran: string): { stopped: boolean; ustopped: boolean } | undefined {
    return this.status.get(tran);
  }

  onInput(listener: (tran: string) => void): void {
    this.inputListeners.push(listener);
  }

  onOutput(listener: (key: string) => void): void {
    this.outputListeners.push(listener);
  }
}
