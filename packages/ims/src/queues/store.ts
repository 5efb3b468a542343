/**
 * The queue store: transaction input queues, tpipe hold queues, LTERM queues and the keyed databases
 * of the sample programs, changed only through atomic batches of operations (`apply`).
 *
 * The interface is asynchronous so a shared-queue implementation (Redis, planned) can sit behind it:
 * `apply` maps onto MULTI/EXEC, `claimInput` onto a move to an in-flight list, and the listeners onto
 * keyspace notifications. Depth getters are synchronous because the scheduler needs them on every
 * decision; a shared implementation keeps them as cached counters.
 */
import type { InputMessage, OutputMessage } from '../messages.js';

/** One change to the store. A list of them is applied atomically. */
export type StoreOp =
  /** Put a message at the tail of its transaction's input queue. */
  | { readonly op: 'in+'; readonly msg: InputMessage }
  /** Delete an input message (committed, purged or discarded after an abend). */
  | { readonly op: 'in-'; readonly tran: string; readonly id: string }
  /** Put an output message at the tail of a hold queue / LTERM queue. */
  | { readonly op: 'out+'; readonly key: string; readonly msg: OutputMessage }
  /** Delete an output message (delivered and ACKed, or purged). */
  | { readonly op: 'out-'; readonly key: string; readonly id: string }
  /** Mark an output message as held (only a RESUME TPIPE delivers it from now on). */
  | { readonly op: 'outh'; readonly key: string; readonly id: string }
  /** Set (value) or delete (null) a record of a keyed database. */
  | { readonly op: 'db'; readonly db: string; readonly key: string; readonly value: Uint8Array | null }
  /** Record a transaction's command status (so /STO TRAN survives a restart). */
  | { readonly op: 'tst'; readonly tran: string; readonly stopped: boolean; readonly ustopped: boolean };

/** What `open()` recovered. */
export interface RecoveryReport {
  readonly inputMessages: number;
  readonly outputMessages: number;
  readonly dbRecords: number;
  readonly records: number;
  readonly truncatedBytes: number;
  /** True when the store had never been opened before (a cold start). */
  readonly fresh: boolean;
}

export interface QueueStore {
  /** True when `apply(ops, true)` survives a crash of the process. */
  readonly durable: boolean;
  /** Load (replay) the store. */
  open(): Promise<RecoveryReport>;
  close(): Promise<void>;
  /**
   * Apply `ops` atomically. With `durable` (and a durable store) the promise resolves only once the
   * batch is on disk, and the batch becomes visible to readers at that moment, never before.
   */
  apply(ops: readonly StoreOp[], durable: boolean): Promise<void>;
  /**
   * `apply(ops, false)` done at once, for a store whose non-durable batches need no wait (the memory /
   * journal store); absent when they do (a shared store). Visible to readers when it returns.
   */
  applyVolatile?(ops: readonly StoreOp[]): void;
  /** Take the oldest waiting message of `tran` into processing (in flight). */
  claimInput(tran: string): Promise<InputMessage | undefined>;
  /**
   * `claimInput` without the promise, for a store that answers at once (the memory / journal store);
   * absent when the claim has to wait (a shared store).
   */
  claimInputNow?(tran: string): InputMessage | undefined;
  /** Return an in-flight message to the head of its queue (backout, requeue). */
  releaseInput(msg: InputMessage): void;
  /** Forget an in-flight message without deleting it durably (a non-recoverable message that ended). */
  dropInFlight(msg: InputMessage): void;
  /** Messages waiting on `tran` (not in flight), including batches applying. */
  inputDepth(tran: string): number;
  /** Messages waiting on all transactions, including batches applying. */
  totalInputDepth(): number;
  /** Output messages on a hold queue or LTERM queue (including ones in delivery). */
  outputDepth(key: string): number;
  /** Keys of non-empty output queues. */
  outputKeys(): string[];
  /** The oldest output message of `key` whose id is not in `skip`, optionally only direct ones. */
  peekOutput(key: string, skip: ReadonlySet<string>, directOnly: boolean): OutputMessage | undefined;
  /** Every output message of `key`, oldest first (for displays and tests). */
  listOutput(key: string): readonly OutputMessage[];
  /** Input message ids waiting on `tran`, oldest first (for displays and tests). */
  listInput(tran: string): readonly InputMessage[];
  dbGet(db: string, key: string): Promise<Uint8Array | undefined>;
  /** Keys of a database, sorted. */
  dbKeys(db: string): Promise<string[]>;
  /** Command status recorded by `tst` ops. */
  tranStatus(tran: string): { stopped: boolean; ustopped: boolean } | undefined;
  /** Called after input becomes visible on `tran` (applied or released). */
  onInput(listener: (tran: string) => void): void;
  /** Called after output becomes visible on `key`. */
  onOutput(listener: (key: string) => void): void;
}
