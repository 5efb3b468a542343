/**
 * The IMS-shaped program API. A program is an async function of a `ProgramContext`; it reads its input
 * message with GU/GN on the IO PCB, inserts output with ISRT, sends to other destinations through a
 * modifiable alternate PCB (CHNG + ISRT: another LTERM, a tpipe, or a transaction = program switch),
 * reads and writes the SPA of a conversation, takes sync points (CHKP/SYNC), backs out (ROLB/ROLL) and
 * abends. Calls answer with DL/I status codes (`'  '` = success).
 *
 * Semantics (PROCLIM=1 style): a program is scheduled for one input message. The first GU returns its
 * first segment (in a conversational transaction: the SPA, and GN then returns the segments); GN returns
 * the next segment or QD; a GU after the message was read returns QC (no more messages), which is
 * how an IMS-style `while (GU == '  ')` loop ends. A sync point (CHKP/SYNC, or the program returning)
 * commits the unit of work: the input message, the inserted output, program switches and database
 * updates, all or nothing.
 */
import type { CodePage } from '@imsplex/codec';
import type { Clock } from './clock.js';
import { sleep } from './clock.js';
import { ImsError, ImsErrorCode } from './errors.js';
import type { InputMessage } from './messages.js';

/** DL/I status codes used by the message and database calls. */
export const DliStatus = {
  /** Successful call (two blanks). */
  OK: '  ',
  /** No more input messages (GU after the message was processed). */
  QC: 'QC',
  /** No more segments in this message (GN at the end). */
  QD: 'QD',
  /** GN issued before GU. */
  QE: 'QE',
  /** IO PCB output has no destination (after the message's sync point). */
  QH: 'QH',
  /** CHNG to a destination that is not defined. */
  A1: 'A1',
  /** ISRT on a modifiable alternate PCB that has no destination (no CHNG yet). */
  A3: 'A3',
  /** Format error (an SPA of the wrong length, ISRT of the SPA after message segments). */
  A5: 'A5',
  /** Output segment longer than the limit. */
  A6: 'A6',
  /** Too many output segments / output bytes in this unit of work. */
  A7: 'A7',
  /** Segment I/O area required (an empty segment). */
  AB: 'AB',
  /** Invalid call for this program (e.g. SPA calls in a non-conversational program). */
  AD: 'AD',
  /** Database: segment not found. */
  GE: 'GE',
  /** Database: segment already exists on ISRT. */
  II: 'II',
} as const;
export type DliStatus = (typeof DliStatus)[keyof typeof DliStatus];

/** Result of a call that returns data. */
export interface DliResult {
  readonly status: DliStatus;
  /** The segment (or SPA) on success. */
  readonly data?: Uint8Array;
}

/** The IO PCB: the input message and the reply to its origin. */
export interface IoPcb {
  /** Get unique: the first segment of the input message (the SPA in a conversation), or QC. */
  gu(): Promise<DliResult>;
  /** Get next: the next segment, QD at the end, QE before GU. */
  gn(): Promise<DliResult>;
  /** Insert one output segment (in a conversation, the first ISRT before any segment is the SPA). */
  isrt(segment: Uint8Array): Promise<DliStatus>;
  /** End the current output message; the next ISRT starts a new one. */
  purg(): Promise<DliStatus>;
  /** Name of the origin: the tpipe name (OTMA) or the LTERM. */
  readonly lterm: string;
  /** User ID that sent the input. */
  readonly userId: string;
}

/** A modifiable alternate PCB. */
export interface AltPcb {
  /** Set the destination: an LTERM, a transaction (program switch) or a tpipe of the origin's OTMA client. */
  chng(destination: string): Promise<DliStatus>;
  isrt(segment: Uint8Array): Promise<DliStatus>;
  purg(): Promise<DliStatus>;
  readonly destination: string | undefined;
}

/** A keyed database (the IVP phone book and the like): reads see this unit of work's own updates. */
export interface KeyedDb {
  get(key: string): Promise<DliResult>;
  /** Insert a new record; II if it exists. */
  isrt(key: string, value: Uint8Array): Promise<DliStatus>;
  /** Replace an existing record; GE if missing. */
  repl(key: string, value: Uint8Array): Promise<DliStatus>;
  /** Delete; GE if missing. */
  dlet(key: string): Promise<DliStatus>;
  keys(): Promise<string[]>;
}

/** What a program sees. */
export interface ProgramContext {
  readonly io: IoPcb;
  /** A new modifiable alternate PCB. */
  alt(): AltPcb;
  /** A keyed database by name. */
  db(name: string): KeyedDb;
  /** Sync point (basic checkpoint). Commits the unit of work; the message is done afterwards. */
  chkp(): Promise<DliStatus>;
  /** Sync point (same as CHKP for a message program). */
  sync(): Promise<DliStatus>;
  /** Back out to the last sync point and continue; returns the first input segment again. */
  rolb(): Promise<DliResult>;
  /** Back out, discard the input message and end the program (abend U0778). */
  roll(): Promise<never>;
  /** Abend with a user abend code (U0001–U4095): back out, DFS555I, discard the message. */
  abend(userCode: number): never;
  /** Wait on the system clock (for the SLOW sample). */
  sleep(ms: number): Promise<void>;
  /** Text ⇄ bytes in the system code page. */
  text(bytes: Uint8Array, start?: number, end?: number): string;
  bytes(text: string): Uint8Array;
  readonly codePage: CodePage;
  readonly tran: string;
  readonly imsId: string;
  /** Size of the SPA (0 when not conversational). */
  readonly spaSize: number;
}

/** A program: an async function of its context. */
export type Program = (ctx: ProgramContext) => Promise<void> | void;

/** Thrown by `abend()`/`roll()`, and built for uncaught errors. */
export class AbendError extends Error {
  /** `U0777`, `S0C4`, ... */
  readonly abendCode: string;
  /** True for ROLL (U0778): backs out but does not count towards stopping the transaction. */
  readonly pseudo: boolean;
  /** Reason shown in DFS555I (`REASON=`), when there is one. */
  readonly reason: string | undefined;
  constructor(abendCode: string, message: string, options: { pseudo?: boolean; reason?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.abendCode = abendCode;
    this.pseudo = options.pseudo ?? false;
    this.reason = options.reason;
  }
}

/** `U0042` from 42. */
export function userAbendCode(n: number): string {
  return `U${String(Math.max(0, Math.min(4095, Math.trunc(n)))).padStart(4, '0')}`;
}

/** Where an alternate PCB destination resolves to. */
export type Destination =
  | { readonly kind: 'tran'; readonly tran: string }
  | { readonly kind: 'lterm'; readonly lterm: string }
  | { readonly kind: 'tpipe'; readonly owner: string; readonly tpipe: string };

/** Output inserted on an alternate PCB. */
export interface AltMessage {
  readonly destination: Destination;
  readonly segments: Uint8Array[];
}

/** Everything a unit of work changed since its last sync point. */
export interface UnitOfWork {
  /** IO PCB output messages (PURG separates them). */
  readonly io: Uint8Array[][];
  readonly alt: AltMessage[];
  /** Pending database changes by database; made on the first change (most units of work have none). */
  db: Map<string, Map<string, Uint8Array | null>> | undefined;
  /** SPA inserted by the program (conversation), if any. */
  spaOut: Uint8Array | undefined;
  bytes: number;
  segments: number;
}

export function emptyUnitOfWork(): UnitOfWork {
  return { io: [], alt: [], db: undefined, spaOut: undefined, bytes: 0, segments: 0 };
}

/**
 * A settled promise of a status code: one shared promise per code (a resolved promise never changes, so
 * every call may hand out the same one), instead of a new one per ISRT.
 */
const STATUS_PROMISES = new Map<DliStatus, Promise<DliStatus>>();
const OK_PROMISE: Promise<DliStatus> = Promise.resolve(DliStatus.OK);
function statusPromise(status: DliStatus): Promise<DliStatus> {
  if (status === DliStatus.OK) return OK_PROMISE;
  let p = STATUS_PROMISES.get(status);
  if (!p) STATUS_PROMISES.set(status, (p = Promise.resolve(status)));
  return p;
}

/** A database read as a DL/I result: a copy of the record, or GE. */
function dbResult(v: Uint8Array | undefined): DliResult {
  return v ? { status: DliStatus.OK, data: v.slice() } : { status: DliStatus.GE };
}

/** Limits on one unit of work (bounded memory per region). */
export const UOW_LIMITS = Object.freeze({
  /** Largest segment data (32767 minus the 4-byte LLZZ). */
  maxSegment: 32763,
  maxSegments: 10_000,
  maxBytes: 8 * 1024 * 1024,
});

/** What the engine gives a running program. */
export interface RunHost {
  readonly clock: Clock;
  readonly codePage: CodePage;
  readonly imsId: string;
  resolveDestination(name: string, input: InputMessage): Destination | undefined;
  dbRead(db: string, key: string): Promise<Uint8Array | undefined>;
  dbKeys(db: string): Promise<string[]>;
  /** Commit the unit of work of `run` (CHKP/SYNC). */
  syncPoint(run: ProgramRun): Promise<void>;
}

/** One scheduling of a program for one input message: the program's context and its unit of work. */
export class ProgramRun implements ProgramContext {
  uow: UnitOfWork = emptyUnitOfWork();
  /** Set once a sync point committed the input message. */
  messageDone = false;
  /** Set when the region ended; any later call is an API error. */
  ended = false;
  /** SPA as read (conversation). */
  spaIn: Uint8Array | undefined;
  /** When the region was scheduled for this run (clock milliseconds; set by the engine). */
  started = 0;
  private cursor = -1; // -1 before GU; in a conversation 0 = SPA returned
  private ioCurrent: Uint8Array[] | undefined;
  readonly io: IoPcb;

  constructor(
    readonly input: InputMessage,
    readonly tran: string,
    readonly spaSize: number,
    private readonly host: RunHost,
    spa: Uint8Array | undefined,
  ) {
    this.spaIn = spa;
    const origin = input.origin;
    // Method shorthand over the captured run (not arrows): same behaviour, `const { gu } = ctx.io` works
    // too, and no per-run function-name bookkeeping under transpilers that keep names (tsx).
    const run: ProgramRun = this.self();
    this.io = {
      lterm: origin.kind === 'otma' ? origin.tpipe : origin.lterm,
      userId: origin.userId,
      gu() {
        return run.gu();
      },
      gn() {
        return run.gn();
      },
      isrt(s) {
        return run.ioIsrt(s);
      },
      purg() {
        return run.ioPurg();
      },
    };
  }

  get imsId(): string {
    return this.host.imsId;
  }

  get codePage(): CodePage {
    return this.host.codePage;
  }

  private check(): void {
    if (this.ended) throw new ImsError(ImsErrorCode.PROGRAM_API, `DL/I call after program ${this.tran} ended`);
  }

  private get conversational(): boolean {
    return this.spaSize > 0;
  }

  // The DL/I calls below are plain functions returning settled promises (what an `async` body without
  // `await` returns, failures included), not async functions: same results and timing, without an
  // async frame per call on the hot path.

  gu(): Promise<DliResult> {
    try {
      return Promise.resolve(this.guNow());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  gn(): Promise<DliResult> {
    try {
      return Promise.resolve(this.gnNow());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  ioIsrt(segment: Uint8Array): Promise<DliStatus> {
    try {
      return statusPromise(this.ioIsrtNow(segment));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  ioPurg(): Promise<DliStatus> {
    try {
      this.check();
      this.ioCurrent = undefined;
      return statusPromise(DliStatus.OK);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private guNow(): DliResult {
    this.check();
    if (this.messageDone || this.cursor >= 0) return { status: DliStatus.QC };
    if (this.conversational) {
      this.cursor = 0;
      return { status: DliStatus.OK, data: this.spaIn!.slice() };
    }
    this.cursor = 1;
    return { status: DliStatus.OK, data: this.input.segments[0]!.slice() };
  }

  private gnNow(): DliResult {
    this.check();
    if (this.cursor < 0) return { status: DliStatus.QE };
    if (this.messageDone) return { status: DliStatus.QD };
    const seg = this.input.segments[this.cursor];
    if (!seg) return { status: DliStatus.QD };
    this.cursor++;
    return { status: DliStatus.OK, data: seg.slice() };
  }

  private account(segment: Uint8Array): DliStatus {
    if (segment.length === 0) return DliStatus.AB;
    if (segment.length > UOW_LIMITS.maxSegment) return DliStatus.A6;
    if (this.uow.segments + 1 > UOW_LIMITS.maxSegments || this.uow.bytes + segment.length > UOW_LIMITS.maxBytes) return DliStatus.A7;
    this.uow.segments++;
    this.uow.bytes += segment.length;
    return DliStatus.OK;
  }

  private ioIsrtNow(segment: Uint8Array): DliStatus {
    this.check();
    if (this.messageDone) return DliStatus.QH;
    if (this.conversational && this.ioCurrent === undefined && this.uow.io.length === 0 && this.uow.spaOut === undefined) {
      if (segment.length !== this.spaSize) return DliStatus.A5;
      this.uow.spaOut = segment.slice();
      return DliStatus.OK;
    }
    const st = this.account(segment);
    if (st !== DliStatus.OK) return st;
    if (!this.ioCurrent) {
      this.ioCurrent = [];
      this.uow.io.push(this.ioCurrent);
    }
    this.ioCurrent.push(segment.slice());
    return DliStatus.OK;
  }

  alt(): AltPcb {
    this.check();
    let destination: Destination | undefined;
    let destName: string | undefined;
    let current: AltMessage | undefined;
    const run: ProgramRun = this.self();
    return {
      get destination() {
        return destName;
      },
      async chng(name: string) {
        run.check();
        const d = run.host.resolveDestination(name.trim().toUpperCase(), run.input);
        if (!d) return DliStatus.A1;
        destination = d;
        destName = name.trim().toUpperCase();
        current = undefined;
        return DliStatus.OK;
      },
      async isrt(segment: Uint8Array) {
        run.check();
        if (!destination) return DliStatus.A3;
        const st = run.account(segment);
        if (st !== DliStatus.OK) return st;
        if (!current) {
          current = { destination, segments: [] };
          run.uow.alt.push(current);
        }
        current.segments.push(segment.slice());
        return DliStatus.OK;
      },
      async purg() {
        run.check();
        current = undefined;
        return DliStatus.OK;
      },
    };
  }

  db(name: string): KeyedDb {
    this.check();
    const run: ProgramRun = this.self();
    return {
      get(key) {
        // A plain function with one `then` (what the async version did, without its async frame).
        try {
          run.check();
          return run.dbReadThrough(name, key).then(dbResult);
        } catch (e) {
          return Promise.reject(e);
        }
      },
      async isrt(key, value) {
        run.check();
        if (await run.dbReadThrough(name, key)) return DliStatus.II;
        run.dbPending(name).set(key, value.slice());
        return DliStatus.OK;
      },
      async repl(key, value) {
        run.check();
        if (!(await run.dbReadThrough(name, key))) return DliStatus.GE;
        run.dbPending(name).set(key, value.slice());
        return DliStatus.OK;
      },
      async dlet(key) {
        run.check();
        if (!(await run.dbReadThrough(name, key))) return DliStatus.GE;
        run.dbPending(name).set(key, null);
        return DliStatus.OK;
      },
      async keys() {
        run.check();
        const base = new Set(await run.host.dbKeys(name));
        for (const [k, v] of run.uow.db?.get(name) ?? []) {
          if (v === null) base.delete(k);
          else base.add(k);
        }
        return [...base].sort();
      },
    };
  }

  /** This unit of work's pending changes to `db`. */
  private dbPending(db: string): Map<string, Uint8Array | null> {
    const dbs = (this.uow.db ??= new Map());
    let m = dbs.get(db);
    if (!m) dbs.set(db, (m = new Map()));
    return m;
  }

  /** A record as this unit of work sees it: its own pending change, else the store. */
  private dbReadThrough(db: string, key: string): Promise<Uint8Array | undefined> {
    const p = this.uow.db?.get(db);
    if (p?.has(key)) return Promise.resolve(p.get(key) ?? undefined);
    return this.host.dbRead(db, key);
  }

  /** This run, for the closures of PCB and database objects. */
  private self(): ProgramRun {
    return this;
  }

  async chkp(): Promise<DliStatus> {
    this.check();
    if (!this.messageDone) await this.host.syncPoint(this);
    return DliStatus.OK;
  }

  sync(): Promise<DliStatus> {
    return this.chkp();
  }

  async rolb(): Promise<DliResult> {
    this.check();
    this.uow = emptyUnitOfWork();
    this.ioCurrent = undefined;
    if (this.messageDone) return { status: DliStatus.QC };
    this.cursor = -1;
    return this.gu();
  }

  async roll(): Promise<never> {
    this.check();
    throw new AbendError('U0778', 'ROLL call', { pseudo: true });
  }

  abend(userCode: number): never {
    this.check();
    throw new AbendError(userAbendCode(userCode), `program abend ${userAbendCode(userCode)}`);
  }

  sleep(ms: number): Promise<void> {
    this.check();
    return sleep(this.host.clock, ms);
  }

  text(bytes: Uint8Array, start?: number, end?: number): string {
    return this.host.codePage.decode(bytes, start, end);
  }

  bytes(text: string): Uint8Array {
    return this.host.codePage.encode(text);
  }
}
