/**
 * The transaction manager: input queues → scheduler → regions running programs → sync point, with the
 * OTMA commit-mode flows. No sockets: an OTMA client is represented by the `Cm1Channel` it registers
 * for each send-then-commit input and by the hold queues in the store; the OTMA member (src/otma/)
 * turns link messages into `submit()` calls and delivers hold-queue output.
 *
 * Commit modes at sync point (spec §6.1):
 * - CM1 (send-then-commit): the IO PCB reply is sent through the input's channel BEFORE commit. Sync
 *   level CONFIRM waits for the client's ACK (bounded by ACKTO); a NAK, the ACK timeout or a lost link
 *   backs the unit of work out (abend U0119, the input is discarded, the channel gets a commit
 *   confirmation saying "aborted"). Sync level NONE commits once the reply is written (a lost link
 *   still backs out). After commit the channel gets a commit confirmation saying "committed".
 *   No reply and no program switch → DFS2082 is the reply. A program switch without a reply passes the
 *   duty to reply (and the channel) to the switched-to transaction [INF].
 * - CM0 (commit-then-send): the unit of work commits first (journaled when recoverable); the IO PCB
 *   output lands on the origin tpipe's hold queue, marked `direct` for a send-receive so the OTMA member
 *   sends it at once; SENDONLY output is held for RESUME TPIPE.
 */
import { randomBytes } from 'node:crypto';
import type { CodePage } from '@imsplex/codec';
import { getCodePage } from '@imsplex/codec';
import { type Clock, systemClock, type TimerHandle, TimeoutQueues } from './clock.js';
import type { SystemConfig, TransactionDef } from './config.js';
import { dfs064, dfs065, dfs1292e, dfs2082, dfs555i } from './dfs.js';
import { ImsError, ImsErrorCode } from './errors.js';
import { holdKey, ltermKey, type InputMessage, type MessageOrigin, type OtmaOrigin, type OutputMessage } from './messages.js';
import { AbendError, type AltMessage, type Destination, type Program, ProgramRun, type RunHost, emptyUnitOfWork } from './program.js';
import { IVP_CONV_DB, IVP_DB, IVP_INITIAL_RECORDS } from './programs/samples.js';
import { fixed } from './programs/util.js';
import type { QueueStore, StoreOp } from './queues/store.js';
import { type Assignment, Scheduler } from './scheduler.js';

/** Minimal logger (pino fits). */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {}, debug() {} };

/** A reply the engine asks a CM1 channel to send. */
export interface ReplyMessage {
  /** Application data segments (without LLZZ). */
  readonly segments: readonly Uint8Array[];
  /** Sync level CONFIRM: the client must ACK or NAK. */
  readonly ackRequired: boolean;
  /** `data` for program output, `error` for an IMS message text (DFS555I, DFS2082). */
  readonly kind: 'data' | 'error';
  /** Set when the output belongs to a conversation. */
  readonly conversationId: string | undefined;
  /** True when the conversation goes on after this output (SPA transaction code not blank). */
  readonly conversationContinues: boolean;
  /** The transaction that produced it. */
  readonly tran: string;
}

/** How a CM1 reply ended. */
export type ReplyOutcome =
  | { readonly kind: 'sent' }
  | { readonly kind: 'ack' }
  | { readonly kind: 'nak'; readonly sense: number; readonly reason: number }
  | { readonly kind: 'lost' }
  | { readonly kind: 'timeout' };

/** The way back to the client of one send-then-commit input (implemented by the OTMA member). */
export interface Cm1Channel {
  /** ACK timeout for this client (the member's ACKTO); the system's OTMA ACKTO when absent. */
  readonly ackTimeoutMs?: number;
  /**
   * Send the reply. Resolve with `sent` once written when no ACK is required, else with the client's
   * ACK/NAK; with `lost` if the link is gone. Must not reject. A channel that knows the outcome at once
   * (written, no ACK required; or the link is gone) may return it directly instead of a promise, which
   * spares the engine its ACK-timeout bookkeeping for that reply.
   */
  sendReply(reply: ReplyMessage): ReplyOutcome | Promise<ReplyOutcome>;
  /** The sync point finished: committed or backed out. Sent after the reply (if any). */
  commitConfirmation(committed: boolean, tran: string): void;
  /** The engine stopped waiting (ACK timeout); drop the pending reply. */
  cancel(): void;
}

/** What the client gets back when input is rejected before it is queued. */
export type SubmitRejection =
  /** An IMS message text for the client (DFS064 unknown, DFS065 stopped), sent as data. */
  | { readonly ok: false; readonly kind: 'message'; readonly msgId: 'DFS064' | 'DFS065'; readonly text: string }
  /** A NAK with an OTMA sense code (security failure, queue full, conversation errors). */
  | { readonly ok: false; readonly kind: 'sense'; readonly sense: number; readonly reason: number; readonly why: string };

export type SubmitResult = { readonly ok: true; readonly messageId: string; readonly tran: string; readonly conversationId: string | undefined } | SubmitRejection;

/** Input for `submit`. */
export interface SubmitInput {
  /** Segments; the first starts with the transaction code unless `conversationId` is given. */
  readonly segments: readonly Uint8Array[];
  /**
   * The caller hands the segment arrays over (it will neither change nor reuse them): the engine keeps
   * them as they are instead of copying each one. Default false (the engine copies).
   */
  readonly adoptSegments?: boolean;
  readonly origin: MessageOrigin;
  /** Continue this conversation (OTMA data message with the conversation's server token). */
  readonly conversationId?: string;
  /** Check RACF rules (OTMA security flag C or F). */
  readonly securityCheck?: boolean;
  /** The CM1 channel for the reply (required for CM1 OTMA input). */
  readonly channel?: Cm1Channel;
  /** Called once the message is queued (durable when recoverable), before any program can run it. */
  readonly onAccepted?: () => void;
}

/**
 * Sense codes the engine uses for rejections that IBM documents only as "a NAK" without the value.
 * [INF] our choices, all in IBM's range; a shared codec table would be their proper home (see report).
 */
export const EngineSense = Object.freeze({
  /** Conversational transaction sent with commit mode 0 (OTMA conversations are always CM1). */
  CONVERSATION_NEEDS_CM1: 0x0019,
  /** Continuation for a conversation IMS does not know (ended, expired, or IMS restarted). */
  CONVERSATION_NOT_FOUND: 0x001b,
  /** Continuation while the previous step of the conversation is still running. */
  CONVERSATION_BUSY: 0x001c,
});

/** Per-transaction statistics. */
export interface TranStats {
  enqueued: number;
  processed: number;
  abends: number;
  backouts: number;
  rejected: number;
  totalMs: number;
  maxMs: number;
  consecutiveAbends: number;
}

/** Live status of a transaction. */
export interface TranStatus {
  readonly def: TransactionDef;
  /** /STO TRAN: queuing and scheduling stopped. */
  readonly stopped: boolean;
  /** /PUR TRAN: queuing stopped, scheduling goes on. */
  readonly purged: boolean;
  /** Scheduling stopped after repeated abends. */
  readonly ustopped: boolean;
  readonly queued: number;
  readonly active: number;
  readonly stats: Readonly<TranStats>;
}

interface Conversation {
  readonly id: string;
  tran: string;
  spa: Uint8Array;
  busy: boolean;
  timer: TimerHandle | undefined;
  readonly owner: string;
}

export interface TransactionManagerOptions {
  readonly config: SystemConfig;
  readonly store: QueueStore;
  /** Programs by PSB name. */
  readonly programs: ReadonlyMap<string, Program>;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** Events for metrics and displays. */
export interface EngineEvents {
  onTransactionEnd?(tran: string, outcome: 'committed' | 'abend' | 'backout', ms: number): void;
}

const SPA_TRAN_OFFSET = 6;

export class TransactionManager implements RunHost {
  readonly config: SystemConfig;
  readonly store: QueueStore;
  readonly clock: Clock;
  readonly codePage: CodePage;
  readonly logger: Logger;
  readonly scheduler: Scheduler;
  readonly events: EngineEvents = {};
  private readonly programs: ReadonlyMap<string, Program>;
  private readonly status = new Map<string, { stopped: boolean; purged: boolean; ustopped: boolean; stats: TranStats }>();
  private readonly channels = new Map<number, Cm1Channel>();
  private readonly conversations = new Map<string, Conversation>();
  /** Runs in progress by region id (`ProgramRun.started` is when the region was scheduled). */
  private readonly running = new Map<number, ProgramRun>();
  private readonly idle: Array<() => void> = [];
  private seq = 0;
  private channelSeq = 0;
  private active = false;
  private readonly idPrefix: string;
  /** ACK timeouts of CM1 replies waiting for the client (one clock timer per ACKTO value). */
  private readonly replyTimeouts: TimeoutQueues;

  constructor(options: TransactionManagerOptions) {
    this.config = options.config;
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.programs = options.programs;
    this.replyTimeouts = new TimeoutQueues(this.clock);
    this.codePage = getCodePage(this.config.codePage);
    this.scheduler = new Scheduler(this.config.regions, this.config.transactions.values());
    for (const def of this.config.transactions.values()) {
      this.status.set(def.code, { stopped: def.stopped, purged: false, ustopped: false, stats: newStats() });
      if (def.stopped) this.scheduler.setSchedulingStopped(def.code, true);
    }
    // Message ids must stay unique across restarts: prefix with the start time.
    this.idPrefix = `${this.config.imsId}.${this.clock.now().toString(36)}`;
    for (const def of this.config.transactions.values()) {
      if (!this.programs.has(def.psb)) throw new ImsError(ImsErrorCode.PROGRAM_LOAD, `transaction ${def.code}: no program for PSB ${def.psb}`);
    }
  }

  get imsId(): string {
    return this.config.imsId;
  }

  /** Recover the store and start scheduling. */
  async start(): Promise<void> {
    const report = await this.store.open();
    if (report.fresh) {
      const ops: StoreOp[] = [];
      for (const db of [IVP_DB, IVP_CONV_DB]) {
        for (const [last, first, ext, zip] of IVP_INITIAL_RECORDS) {
          ops.push({ op: 'db', db, key: last, value: this.codePage.encode(fixed(first, 10) + fixed(ext, 10) + fixed(zip, 7)) });
        }
      }
      await this.store.apply(ops, true);
    }
    for (const def of this.config.transactions.values()) {
      const st = this.store.tranStatus(def.code);
      const s = this.status.get(def.code)!;
      if (st) {
        s.stopped = st.stopped;
        s.ustopped = st.ustopped;
      }
      this.scheduler.setSchedulingStopped(def.code, s.stopped || s.ustopped);
      this.scheduler.enqueued(def.code, this.store.inputDepth(def.code));
    }
    this.active = true;
    this.logger.info({ imsId: this.imsId, recovered: report }, 'IMS system started');
    this.pump();
  }

  /** Stop scheduling, wait for running programs (bounded by `graceMs`), close the store. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.active) return;
    this.active = false;
    if (this.running.size > 0) {
      await new Promise<void>((resolve) => {
        const t = this.clock.setTimer(graceMs, resolve);
        this.idle.push(() => {
          t.cancel();
          resolve();
        });
      });
    }
    for (const c of this.conversations.values()) c.timer?.cancel();
    this.conversations.clear();
    await this.store.close();
  }

  get isActive(): boolean {
    return this.active;
  }

  /** Register the channel of a CM1 input; returns the id to put in the origin's `replyId`. */
  registerChannel(channel: Cm1Channel): number {
    const id = ++this.channelSeq;
    this.channels.set(id, channel);
    return id;
  }

  private nextId(): string {
    return `${this.idPrefix}.${(++this.seq).toString(36)}`;
  }

  /** The transaction code in a first segment: up to 8 characters, ended by a blank. */
  trancodeOf(segment: Uint8Array | undefined): string {
    if (!segment) return '';
    let end = 0;
    while (end < segment.length && end < 8 && segment[end] !== this.codePage.space && segment[end] !== 0) end++;
    return this.codePage.decode(segment, 0, end).toUpperCase();
  }

  /** RACF rules: allowed when there are none, or when one matches user and transaction. */
  authorized(user: string, tran: string): boolean {
    const rules = this.config.racf;
    if (rules.length === 0) return true;
    const u = user.trim().toUpperCase();
    return rules.some((r) => (r.user === '*' || r.user === u) && (r.trans === '*' || r.trans.has(tran)));
  }

  /** Queue an input message. Rejections come back as values, not errors. */
  submit(input: SubmitInput): Promise<SubmitResult> {
    // A plain function with one `then` on the store's promise (what the async version did, without an
    // async frame per message); failures still come back as a rejected promise, never a throw.
    try {
      const r = this.submitNow(input);
      return isThenable(r) ? r : Promise.resolve(r);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private submitNow(input: SubmitInput): SubmitResult | Promise<SubmitResult> {
    if (!this.active) throw new ImsError(ImsErrorCode.NOT_ACTIVE, `IMS ${this.imsId} is not active`);
    if (input.segments.length === 0) throw new ImsError(ImsErrorCode.PROGRAM_API, 'input message has no segments');
    const origin = input.origin;
    let conv: Conversation | undefined;
    let tran: string;
    if (input.conversationId !== undefined) {
      conv = this.conversations.get(input.conversationId);
      if (!conv) return this.reject(undefined, EngineSense.CONVERSATION_NOT_FOUND, `conversation ${input.conversationId} not found`);
      if (conv.busy) return this.reject(conv.tran, EngineSense.CONVERSATION_BUSY, `conversation ${conv.id} is busy`);
      tran = conv.tran;
    } else {
      tran = this.trancodeOf(input.segments[0]);
    }
    const def = this.config.transactions.get(tran);
    const st = this.status.get(tran);
    if (!def || !st) {
      this.logger.info({ tran, origin: describeOrigin(origin) }, 'DFS064 unknown destination');
      return { ok: false, kind: 'message', msgId: 'DFS064', text: dfs064(tran || this.codePage.decode(input.segments[0]!, 0, Math.min(8, input.segments[0]!.length)).trim(), this.clock.now()) };
    }
    if (st.stopped || st.purged) {
      st.stats.rejected++;
      return { ok: false, kind: 'message', msgId: 'DFS065', text: dfs065(tran, this.clock.now()) };
    }
    if (input.securityCheck && !this.authorized(origin.userId, tran)) {
      st.stats.rejected++;
      this.logger.warn({ user: origin.userId, tran }, dfs1292e(origin.userId, tran, this.clock.now()));
      return this.reject(tran, this.config.otma.securitySense, `user ${origin.userId} not authorised for ${tran}`);
    }
    if (this.store.inputDepth(tran) >= def.maxQueue || this.store.totalInputDepth() >= this.config.maxInputTotal) {
      st.stats.rejected++;
      return this.reject(tran, this.config.otma.floodSense, `input queue of ${tran} is full`);
    }
    const cm1 = origin.kind === 'otma' && origin.commitMode === 1;
    if (def.spaSize > 0 && origin.kind === 'otma' && !cm1) {
      st.stats.rejected++;
      return this.reject(tran, EngineSense.CONVERSATION_NEEDS_CM1, `conversational ${tran} needs commit mode 1`);
    }
    let conversationId: string | undefined;
    if (def.spaSize > 0) {
      if (!conv) {
        if (this.conversations.size >= this.config.otma.maxConversations) {
          return this.reject(tran, this.config.otma.floodSense, 'too many conversations');
        }
        const spa = new Uint8Array(def.spaSize).fill(this.codePage.space);
        spa[0] = (def.spaSize >> 8) & 0xff;
        spa[1] = def.spaSize & 0xff;
        spa.fill(0, 2, SPA_TRAN_OFFSET);
        this.codePage.encodeInto(tran, spa, SPA_TRAN_OFFSET, 8);
        conv = { id: randomBytes(16).toString('hex').toUpperCase(), tran, spa, busy: false, timer: undefined, owner: origin.kind === 'otma' ? holdKey(origin.queueOwner, origin.tpipe) : origin.lterm };
        this.conversations.set(conv.id, conv);
      }
      conv.busy = true;
      conv.timer?.cancel();
      conv.timer = undefined;
      conversationId = conv.id;
    }
    let replyId: number | undefined;
    if (cm1) {
      if (!input.channel) throw new ImsError(ImsErrorCode.PROGRAM_API, 'CM1 input needs a channel');
      replyId = this.registerChannel(input.channel);
    }
    const o: MessageOrigin = origin.kind === 'otma' ? { ...origin, replyId } : origin;
    const msg: InputMessage = {
      id: this.nextId(),
      tran,
      segments: input.adoptSegments ? input.segments.slice() : copySegments(input.segments),
      origin: o,
      enqueuedAt: this.clock.now(),
      // Send-then-commit input is not recoverable: nobody could get its reply after a restart.
      recoverable: !cm1,
      conversationId,
    };
    const ops: StoreOp[] = [{ op: 'in+', msg }];
    if (!msg.recoverable && this.store.applyVolatile) {
      // Nothing to wait for (a volatile batch on a store that applies it at once): queued now.
      try {
        this.store.applyVolatile(ops);
      } catch (e) {
        return this.unsubmit(replyId, conv, e);
      }
      return this.accepted(input, st, msg, conversationId);
    }
    let applied: Promise<void>;
    try {
      applied = this.store.apply(ops, msg.recoverable);
    } catch (e) {
      return this.unsubmit(replyId, conv, e);
    }
    const queued = conv;
    return applied.then(
      () => this.accepted(input, st, msg, conversationId),
      (e: unknown) => this.unsubmit(replyId, queued, e),
    );
  }

  /**
   * Queue an input message like `submit`, but hand the result back directly when it is known at once
   * (input that needs no journal write, on a store that applies it at once), else a promise. Throws
   * instead of returning a rejected promise when the input fails before anything waits.
   */
  trySubmit(input: SubmitInput): SubmitResult | Promise<SubmitResult> {
    return this.submitNow(input);
  }

  /** The input is on its queue: count it, tell the submitter, let the scheduler run it. */
  private accepted(input: SubmitInput, st: { stats: TranStats }, msg: InputMessage, conversationId: string | undefined): SubmitResult {
    st.stats.enqueued++;
    input.onAccepted?.();
    this.scheduler.enqueued(msg.tran);
    this.pump();
    return { ok: true as const, messageId: msg.id, tran: msg.tran, conversationId };
  }

  /** The input could not be queued: forget its channel and conversation, and fail with `e`. */
  private unsubmit(replyId: number | undefined, conv: Conversation | undefined, e: unknown): never {
    if (replyId !== undefined) this.channels.delete(replyId);
    if (conv) this.endConversation(conv.id);
    throw e;
  }

  private reject(tran: string | undefined, sense: number, why: string): SubmitRejection {
    this.logger.info({ tran, sense, why }, 'input rejected');
    return { ok: false, kind: 'sense', sense, reason: 0, why };
  }

  /** End a conversation (client deallocate, expiry, or backout). */
  endConversation(id: string): boolean {
    const c = this.conversations.get(id);
    if (!c) return false;
    c.timer?.cancel();
    this.conversations.delete(id);
    return true;
  }

  /** Conversations now active. */
  get conversationCount(): number {
    return this.conversations.size;
  }

  hasConversation(id: string): boolean {
    return this.conversations.has(id);
  }

  private pump(): void {
    if (!this.active) return;
    for (const a of this.scheduler.assign()) void this.runAssignment(a);
  }

  /**
   * One region runs one message: claim it, run the program, take the sync point (unless the program did),
   * back out on an abend. One async frame per message (the program's own calls aside).
   */
  private async runAssignment(a: Assignment): Promise<void> {
    const started = this.clock.now();
    try {
      const msg = this.store.claimInputNow ? this.store.claimInputNow(a.tran) : await this.store.claimInput(a.tran);
      if (!msg) return;
      const def = this.config.transactions.get(msg.tran)!;
      const st = this.status.get(msg.tran)!;
      const program = this.programs.get(def.psb)!;
      const conv = msg.conversationId ? this.conversations.get(msg.conversationId) : undefined;
      if (msg.conversationId && !conv) {
        // conversation expired while queued: drop the input
        this.discard(msg);
        return;
      }
      const run = new ProgramRun(msg, msg.tran, def.spaSize, this, conv?.spa.slice());
      run.started = started;
      this.running.set(a.regionId, run);
      let abend: AbendError | undefined;
      try {
        await program(run);
        if (!run.messageDone) {
          const waiting = this.syncPointNow(run);
          if (waiting) await waiting;
        }
      } catch (e) {
        abend = e instanceof AbendError ? e : new AbendError('S0C4', (e as Error)?.message ?? String(e), { cause: e });
      }
      run.ended = true;
      const ms = this.clock.now() - started;
      if (abend) {
        await this.handleAbend(run, abend);
        this.events.onTransactionEnd?.(msg.tran, abend.abendCode === 'U0119' ? 'backout' : 'abend', ms);
      } else {
        st.stats.processed++;
        st.stats.consecutiveAbends = 0;
        this.events.onTransactionEnd?.(msg.tran, 'committed', ms);
      }
      st.stats.totalMs += ms;
      st.stats.maxMs = Math.max(st.stats.maxMs, ms);
    } catch (e) {
      this.logger.error({ err: e, tran: a.tran }, 'region failure');
    } finally {
      this.running.delete(a.regionId);
      this.scheduler.release(a.regionId);
      if (this.running.size === 0) for (const f of this.idle.splice(0)) f();
      this.pump();
    }
  }

  /** Remove a message that will not be processed. */
  private discard(msg: InputMessage): void {
    if (msg.recoverable) void this.store.apply([{ op: 'in-', tran: msg.tran, id: msg.id }], true).catch((e) => this.logger.error({ err: e }, 'discard failed'));
    else this.store.dropInFlight(msg);
    if (msg.origin.kind === 'otma' && msg.origin.replyId !== undefined) this.channels.delete(msg.origin.replyId);
  }

  /** RunHost: CHNG destination resolution. */
  resolveDestination(name: string, input: InputMessage): Destination | undefined {
    if (this.config.transactions.has(name)) return { kind: 'tran', tran: name };
    if (this.config.lterms.has(name)) return { kind: 'lterm', lterm: name };
    // [INF] like the default OTMA destination resolution: any other 8-character name is a tpipe of the
    // OTMA client that sent the input.
    if (input.origin.kind === 'otma' && /^[A-Z0-9@#$]{1,8}$/.test(name)) return { kind: 'tpipe', owner: input.origin.queueOwner, tpipe: name };
    return undefined;
  }

  dbRead(db: string, key: string): Promise<Uint8Array | undefined> {
    return this.store.dbGet(db, key);
  }

  dbKeys(db: string): Promise<string[]> {
    return this.store.dbKeys(db);
  }

  /**
   * Send a CM1 reply and wait (bounded by ACKTO) for its outcome. An outcome the channel knows at once
   * comes back as it is (no timer, no promise); otherwise the wait is bounded by ACKTO.
   */
  private sendReply(channel: Cm1Channel, reply: ReplyMessage): ReplyOutcome | Promise<ReplyOutcome> {
    const sent = channel.sendReply(reply);
    if (!isThenable(sent)) {
      if (sent.kind === 'timeout') channel.cancel();
      return sent;
    }
    return new Promise<ReplyOutcome>((resolve, reject) => {
      let settled = false;
      const timer = this.replyTimeouts.add(channel.ackTimeoutMs ?? this.config.otma.ackTimeoutSec * 1000, () => {
        if (settled) return;
        settled = true;
        channel.cancel();
        resolve(TIMEOUT);
      });
      sent.then(
        (outcome) => {
          if (settled) return;
          settled = true;
          timer.cancel();
          if (outcome.kind === 'timeout') channel.cancel();
          resolve(outcome);
        },
        (e: unknown) => {
          // The contract says a channel never rejects; if one does, fail like the race used to.
          if (settled) return;
          settled = true;
          timer.cancel();
          reject(e);
        },
      );
    });
  }

  /** RunHost: the sync point of `run` (CHKP/SYNC or the program's end). */
  syncPoint(run: ProgramRun): Promise<void> {
    try {
      return this.syncPointNow(run) ?? DONE;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * The sync point, in three steps: the CM1 reply (send-then-commit), the commit (one store batch), the
   * aftermath (commit confirmation, conversation, program switches). Returns a promise only when a step
   * has to wait — for the client's ACK, or for the store to write the batch — so a unit of work that
   * needs neither (CM1 sync level NONE with nothing to journal) commits without a promise or an async
   * frame. Throws (or rejects with) `AbendError` when the unit of work must be backed out.
   */
  private syncPointNow(run: ProgramRun): Promise<void> | undefined {
    const msg = run.input;
    const uow = run.uow;
    const origin = msg.origin;
    const conv = msg.conversationId ? this.conversations.get(msg.conversationId) : undefined;
    const now = this.clock.now();

    // Conversation: the SPA decides whether it goes on.
    let convContinues = false;
    if (conv) {
      const spa = uow.spaOut ?? conv.spa;
      const next = this.codePage.decode(spa, SPA_TRAN_OFFSET, SPA_TRAN_OFFSET + 8).trim().toUpperCase();
      convContinues = next !== '' && (this.config.transactions.get(next)?.spaSize ?? 0) > 0;
      if (convContinues) {
        conv.tran = next;
        conv.spa = spa.slice();
      }
    }

    const cm1 = origin.kind === 'otma' && origin.commitMode === 1 && origin.replyId !== undefined;
    const channel = cm1 ? this.channels.get((origin as OtmaOrigin).replyId!) : undefined;
    let ioMessages: readonly Uint8Array[][] = uow.io;
    const switches = uow.alt.length === 0 ? NO_ALT : uow.alt.filter((m) => m.destination.kind === 'tran');
    let passReply = false;

    if (cm1) {
      let reply: Uint8Array[] | undefined = ioMessages[0];
      let kind: ReplyMessage['kind'] = 'data';
      if (!reply) {
        if (switches.length > 0) passReply = true;
        else {
          reply = [this.codePage.encode(dfs2082(now))];
          kind = 'error';
        }
      }
      ioMessages = ioMessages.length <= 1 ? NO_IO : ioMessages.slice(1);
      if (reply && channel) {
        const o = origin as OtmaOrigin;
        const outcome = this.sendReply(channel, {
          segments: reply,
          ackRequired: o.syncLevel === 1,
          kind,
          conversationId: conv?.id,
          conversationContinues: convContinues,
          tran: msg.tran,
        });
        const pass = passReply;
        const rest = ioMessages;
        if (isThenable(outcome)) return outcome.then((out) => this.commitUnitOfWork(run, now, conv, convContinues, channel, rest, switches, pass, out));
        return this.commitUnitOfWork(run, now, conv, convContinues, channel, ioMessages, switches, passReply, outcome);
      } else if (reply && !channel) {
        throw new AbendError('U0119', 'send-then-commit channel gone');
      }
    }
    return this.commitUnitOfWork(run, now, conv, convContinues, channel, ioMessages, switches, passReply, undefined);
  }

  /** Sync point, step 2: check the CM1 reply's outcome, then commit the unit of work as one batch. */
  private commitUnitOfWork(
    run: ProgramRun,
    now: number,
    conv: Conversation | undefined,
    convContinues: boolean,
    channel: Cm1Channel | undefined,
    ioMessages: readonly Uint8Array[][],
    switches: readonly AltMessage[],
    passReply: boolean,
    outcome: ReplyOutcome | undefined,
  ): Promise<void> | undefined {
    if (outcome && (outcome.kind === 'nak' || outcome.kind === 'timeout' || outcome.kind === 'lost')) {
      const reason = outcome.kind === 'timeout' ? '00000008' : outcome.kind === 'nak' ? '00000012' : undefined;
      throw new AbendError('U0119', `send-then-commit reply ${outcome.kind}`, { reason });
    }
    const msg = run.input;
    const uow = run.uow;
    const origin = msg.origin;
    const cm1 = origin.kind === 'otma' && origin.commitMode === 1 && origin.replyId !== undefined;
    const ops: StoreOp[] = [];
    let durable = msg.recoverable;

    // Remove the input message.
    if (msg.recoverable) ops.push({ op: 'in-', tran: msg.tran, id: msg.id });

    // IO PCB output that is not the CM1 reply.
    const direct = origin.kind === 'otma' && origin.commitMode === 0 && !origin.sendOnly;
    const outs: Uint8Array[][] = [...ioMessages];
    if (!cm1 && uow.io.length === 0 && origin.kind === 'otma' && origin.wantDfs2082 && switches.length === 0) outs.push([this.codePage.encode(dfs2082(now))]);
    if (outs.length > 0) {
      const ioKey = origin.kind === 'otma' ? holdKey(origin.queueOwner, origin.tpipe) : ltermKey(origin.lterm);
      for (const segments of outs) {
        ops.push({ op: 'out+', key: ioKey, msg: this.output(msg.tran, segments, cm1 ? false : direct, now, origin) });
        durable = true;
      }
    }
    // Alternate PCB output.
    const newInputs: InputMessage[] = [];
    for (const m of uow.alt) {
      const d = m.destination;
      if (d.kind === 'tran') {
        const inherit = passReply && m === switches[0];
        const o: MessageOrigin = origin.kind === 'otma' ? { ...origin, replyId: inherit ? origin.replyId : undefined, commitMode: inherit ? 1 : 0 } : origin;
        const sw: InputMessage = { id: this.nextId(), tran: d.tran, segments: m.segments, origin: o, enqueuedAt: now, recoverable: !inherit, conversationId: undefined };
        if (this.store.totalInputDepth() + newInputs.length >= this.config.maxInputTotal) {
          throw new AbendError('U0758', `message queue full for program switch to ${d.tran}`);
        }
        newInputs.push(sw);
        ops.push({ op: 'in+', msg: sw });
        if (sw.recoverable) durable = true;
      } else {
        const key = d.kind === 'lterm' ? ltermKey(d.lterm) : holdKey(d.owner, d.tpipe);
        ops.push({ op: 'out+', key, msg: this.output(msg.tran, m.segments, false, now, d.kind === 'tpipe' ? origin : undefined) });
        durable = true;
      }
    }
    // Database updates.
    for (const [db, changes] of uow.db ?? NO_DB_CHANGES) {
      for (const [key, value] of changes) {
        ops.push({ op: 'db', db, key, value });
        durable = true;
      }
    }
    if (ops.length > 0) return this.store.apply(ops, durable).then(() => this.afterCommit(run, conv, convContinues, channel, passReply, newInputs));
    this.afterCommit(run, conv, convContinues, channel, passReply, newInputs);
    return undefined;
  }

  /** Sync point, step 3: the batch is committed; release the input, confirm, go on. */
  private afterCommit(run: ProgramRun, conv: Conversation | undefined, convContinues: boolean, channel: Cm1Channel | undefined, passReply: boolean, newInputs: readonly InputMessage[]): void {
    const msg = run.input;
    const origin = msg.origin;
    const cm1 = origin.kind === 'otma' && origin.commitMode === 1 && origin.replyId !== undefined;
    if (!msg.recoverable) this.store.dropInFlight(msg);
    for (const sw of newInputs) {
      const s = this.status.get(sw.tran);
      if (s) s.stats.enqueued++;
      this.scheduler.enqueued(sw.tran);
    }
    run.messageDone = true;
    run.uow = emptyUnitOfWork();

    if (conv) {
      conv.busy = false;
      if (convContinues) this.armConversationTimer(conv);
      else this.endConversation(conv.id);
    }
    if (cm1 && !passReply) {
      channel?.commitConfirmation(true, msg.tran);
      this.channels.delete((origin as OtmaOrigin).replyId!);
    }
    if (newInputs.length > 0) this.pump();
  }

  private output(tran: string, segments: readonly Uint8Array[], direct: boolean, now: number, origin?: MessageOrigin): OutputMessage {
    const o = origin?.kind === 'otma' ? origin : undefined;
    return {
      id: this.nextId(),
      segments: segments.map((s) => s.slice()),
      tran,
      enqueuedAt: now,
      direct,
      rerouted: false,
      member: o?.member,
      context: o?.context,
      rerouteTpipe: o?.rerouteTpipe,
      purgeUndeliverable: o?.purgeUndeliverable ?? false,
    };
  }

  private armConversationTimer(conv: Conversation): void {
    conv.timer?.cancel();
    conv.timer = this.clock.setTimer(this.config.otma.conversationTimeoutSec * 1000, () => {
      if (!conv.busy) {
        this.logger.info({ conversation: conv.id }, 'conversation expired');
        this.endConversation(conv.id);
      }
    });
  }

  /** Back out, tell the client (DFS555I / abort), count abends, stop the transaction if needed. */
  private async handleAbend(run: ProgramRun, abend: AbendError): Promise<void> {
    const msg = run.input;
    const origin = msg.origin;
    const st = this.status.get(msg.tran)!;
    const now = this.clock.now();
    run.uow = emptyUnitOfWork();
    st.stats.backouts++;
    const isReplyFailure = abend.abendCode === 'U0119';
    if (!abend.pseudo && !isReplyFailure) {
      st.stats.abends++;
      st.stats.consecutiveAbends++;
    }
    this.logger.warn({ tran: msg.tran, abend: abend.abendCode, err: abend.message }, 'program abend; unit of work backed out');
    const inputText = this.codePage.decode(msg.segments[0] ?? new Uint8Array(0));
    const text = dfs555i(msg.tran, abend.abendCode, inputText, now, abend.reason);
    const ops: StoreOp[] = [];
    if (msg.recoverable) ops.push({ op: 'in-', tran: msg.tran, id: msg.id });
    const cm1 = origin.kind === 'otma' && origin.commitMode === 1 && origin.replyId !== undefined;
    // The client of a send-then-commit input hears about the abend on its channel; others get DFS555I
    // on their queue (CM0: the tpipe, direct unless SENDONLY; LTERM input: the LTERM).
    if (!cm1 && !isReplyFailure && !run.messageDone) {
      const key = origin.kind === 'otma' ? holdKey(origin.queueOwner, origin.tpipe) : ltermKey(origin.lterm);
      const direct = origin.kind === 'otma' && !origin.sendOnly;
      ops.push({ op: 'out+', key, msg: this.output(msg.tran, [this.codePage.encode(text)], direct, now, origin) });
    }
    let stopNow = false;
    if (!abend.pseudo && !isReplyFailure && st.stats.consecutiveAbends >= this.config.abendLimit && !st.ustopped) {
      st.ustopped = true;
      stopNow = true;
      ops.push({ op: 'tst', tran: msg.tran, stopped: st.stopped, ustopped: true });
      this.scheduler.setSchedulingStopped(msg.tran, true);
      this.logger.warn({ tran: msg.tran, abends: st.stats.consecutiveAbends }, `transaction ${msg.tran} USTOPPED after repeated abends`);
    }
    if (!run.messageDone) {
      try {
        if (ops.length > 0) await this.store.apply(ops, msg.recoverable || ops.some((o) => o.op !== 'in-'));
      } catch (e) {
        this.logger.error({ err: e }, 'backout journal write failed');
      }
      if (!msg.recoverable) this.store.dropInFlight(msg);
    } else if (stopNow) {
      await this.store.apply([{ op: 'tst', tran: msg.tran, stopped: st.stopped, ustopped: true }], true).catch(() => undefined);
    }
    if (msg.conversationId) this.endConversation(msg.conversationId);
    if (cm1 && !run.messageDone) {
      const channel = this.channels.get(origin.replyId!);
      this.channels.delete(origin.replyId!);
      if (channel && !isReplyFailure) {
        await this.sendReply(channel, { segments: [this.codePage.encode(text)], ackRequired: false, kind: 'error', conversationId: undefined, conversationContinues: false, tran: msg.tran });
      }
      channel?.commitConfirmation(false, msg.tran);
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Operator view and commands
  // -------------------------------------------------------------------------------------------------

  /** Status of one transaction, or undefined. */
  transaction(code: string): TranStatus | undefined {
    const def = this.config.transactions.get(code);
    const st = this.status.get(code);
    if (!def || !st) return undefined;
    return { def, stopped: st.stopped, purged: st.purged, ustopped: st.ustopped, queued: this.store.inputDepth(code), active: this.scheduler.active(code), stats: { ...st.stats } };
  }

  transactions(): TranStatus[] {
    return [...this.config.transactions.keys()].map((c) => this.transaction(c)!);
  }

  /** Regions and what they run now. */
  regions(): Array<{ id: number; name: string; classes: readonly number[]; tran: string | undefined; since: number | undefined; scheduled: number }> {
    return this.scheduler.regions.map((r) => ({ id: r.id, name: r.name, classes: r.classes, tran: r.tran, since: this.running.get(r.id)?.started, scheduled: r.scheduled }));
  }

  /** /STO TRAN: stop queuing and scheduling. */
  async stopTransaction(code: string): Promise<boolean> {
    const st = this.status.get(code);
    if (!st) return false;
    st.stopped = true;
    this.scheduler.setSchedulingStopped(code, true);
    await this.store.apply([{ op: 'tst', tran: code, stopped: true, ustopped: st.ustopped }], true);
    return true;
  }

  /** /STA TRAN: start queuing and scheduling, clear USTOP and PUR. */
  async startTransaction(code: string): Promise<boolean> {
    const st = this.status.get(code);
    if (!st) return false;
    st.stopped = false;
    st.purged = false;
    st.ustopped = false;
    st.stats.consecutiveAbends = 0;
    this.scheduler.setSchedulingStopped(code, false);
    await this.store.apply([{ op: 'tst', tran: code, stopped: false, ustopped: false }], true);
    this.pump();
    return true;
  }

  /** /PUR TRAN: stop queuing, keep scheduling what is queued. */
  purgeTransaction(code: string): boolean {
    const st = this.status.get(code);
    if (!st) return false;
    st.purged = true;
    return true;
  }

  /** Delete every waiting input message of `code` (the /DEQUEUE-like operator action). */
  async dequeueAll(code: string): Promise<number> {
    const msgs = this.store.listInput(code);
    if (msgs.length === 0) return 0;
    const claimed: InputMessage[] = [];
    for (let i = 0; i < msgs.length; i++) {
      const m = await this.store.claimInput(code);
      if (m) claimed.push(m);
    }
    const ops: StoreOp[] = claimed.filter((m) => m.recoverable).map((m) => ({ op: 'in-', tran: code, id: m.id }) as const);
    if (ops.length) await this.store.apply(ops, true);
    for (const m of claimed) {
      if (!m.recoverable) this.store.dropInFlight(m);
      if (m.origin.kind === 'otma' && m.origin.replyId !== undefined) {
        this.channels.get(m.origin.replyId)?.commitConfirmation(false, code);
        this.channels.delete(m.origin.replyId);
      }
    }
    this.scheduler.dequeued(code, claimed.length);
    return claimed.length;
  }
}

const TIMEOUT: ReplyOutcome = Object.freeze({ kind: 'timeout' });
const NO_DB_CHANGES: ReadonlyMap<string, ReadonlyMap<string, Uint8Array | null>> = new Map();
const NO_ALT: readonly AltMessage[] = Object.freeze([]);
const NO_IO: readonly Uint8Array[][] = Object.freeze([]);
/** What `syncPoint` returns when nothing had to wait. */
const DONE: Promise<void> = Promise.resolve();

function isThenable<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

/** Private copies of input segments (they may be views of a socket chunk). */
function copySegments(segments: readonly Uint8Array[]): Uint8Array[] {
  const out = new Array<Uint8Array>(segments.length);
  for (let i = 0; i < segments.length; i++) out[i] = segments[i]!.slice();
  return out;
}

function newStats(): TranStats {
  return { enqueued: 0, processed: 0, abends: 0, backouts: 0, rejected: 0, totalMs: 0, maxMs: 0, consecutiveAbends: 0 };
}

function describeOrigin(o: MessageOrigin): string {
  return o.kind === 'otma' ? `${o.member}/${o.tpipe}` : `LTERM ${o.lterm}`;
}
