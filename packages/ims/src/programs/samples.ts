/**
 * The sample programs defined by the default system (`IMPL=` names in the system definition).
 * They use only the public program API, like a customer program would.
 */
import type { Program, ProgramContext } from '../program.js';
import { afterTrancode, fixed, readRest } from './util.js';

/** ECHO: every input segment back, unchanged, as one output message. */
export const echo: Program = async (ctx) => {
  for (;;) {
    const first = await ctx.io.gu();
    if (first.status !== '  ') return;
    await ctx.io.isrt(first.data!);
    for (const seg of await readRest(ctx)) await ctx.io.isrt(seg);
  }
};

/** SLOW: `SLOW <ms>` waits that long (on the system clock), then answers `SLOW DONE <ms>`. */
export const slow: Program = async (ctx) => {
  const r = await ctx.io.gu();
  if (r.status !== '  ') return;
  const arg = afterTrancode(ctx, r.data!, 'SLOW').trim();
  const ms = /^\d{1,9}$/.test(arg) ? Number(arg) : 1000;
  await ctx.sleep(Math.min(ms, 3_600_000));
  await ctx.io.isrt(ctx.bytes(`SLOW DONE ${ms}`));
};

/**
 * ABEND: `ABEND [code]` abends with user code `code` (default 100). `ABEND OK` answers normally, so a
 * test can check the transaction again after /STA TRAN.
 */
export const abend: Program = async (ctx) => {
  const r = await ctx.io.gu();
  if (r.status !== '  ') return;
  const arg = afterTrancode(ctx, r.data!, 'ABEND').trim().toUpperCase();
  if (arg === 'OK') {
    await ctx.io.isrt(ctx.bytes('ABEND NOT REQUESTED'));
    return;
  }
  // Output inserted before the abend is backed out with everything else.
  await ctx.io.isrt(ctx.bytes('THIS OUTPUT IS BACKED OUT'));
  ctx.abend(/^\d{1,4}$/.test(arg) ? Number(arg) : 100);
};

/**
 * MULTISEG: `MULTISEG [n] [PURG]` answers with n segments (default 3, at most 100), each
 * `SEGMENT i OF n`; with PURG each segment is its own output message. Input segments after the first
 * are counted and reported in a last segment `INPUT SEGMENTS k`.
 */
export const multiseg: Program = async (ctx) => {
  const r = await ctx.io.gu();
  if (r.status !== '  ') return;
  const words = afterTrancode(ctx, r.data!, 'MULTISEG').trim().toUpperCase().split(/\s+/).filter(Boolean);
  const n = Math.min(100, Math.max(1, Number(words.find((w) => /^\d+$/.test(w)) ?? 3)));
  const purg = words.includes('PURG');
  const rest = await readRest(ctx);
  for (let i = 1; i <= n; i++) {
    await ctx.io.isrt(ctx.bytes(`SEGMENT ${String(i).padStart(4, '0')} OF ${String(n).padStart(4, '0')}`));
    if (purg) await ctx.io.purg();
  }
  await ctx.io.isrt(ctx.bytes(`INPUT SEGMENTS ${rest.length + 1}`));
};

/**
 * SWITCH: a program switch. `SWITCH <text>` inserts `SWITCHB <text>` on an alternate PCB changed to
 * transaction SWITCHB and ends without an IO PCB reply; SWITCHB replies to the original client.
 */
export const programSwitch: Program = async (ctx) => {
  const r = await ctx.io.gu();
  if (r.status !== '  ') return;
  const text = afterTrancode(ctx, r.data!, 'SWITCH');
  const alt = ctx.alt();
  const st = await alt.chng('SWITCHB');
  if (st !== '  ') {
    await ctx.io.isrt(ctx.bytes(`CHNG FAILED ${st}`));
    return;
  }
  await alt.isrt(ctx.bytes(`SWITCHB ${text}`));
};

/** SWITCHB: the target of SWITCH; answers `SWITCHB GOT <text> FROM SWITCH`. */
export const switchTarget: Program = async (ctx) => {
  const r = await ctx.io.gu();
  if (r.status !== '  ') return;
  const text = afterTrancode(ctx, r.data!, 'SWITCHB').trimEnd();
  await ctx.io.isrt(ctx.bytes(`SWITCHB GOT ${text} FROM SWITCH`));
};

// ---------------------------------------------------------------------------------------------------
// The IVP phone book (IVTNO, and the conversational IVTCV)
// ---------------------------------------------------------------------------------------------------

/**
 * Field widths of IBM's IVP phone-book messages [IBM], in bytes after LL/ZZ — the IVTNOM copybook
 * that z/OS Connect and the IMS TM resource adapter use for IVTNO and IVTCV:
 * - input (INPUT-MSG, LL = 59): IN-TRANCDE X(10), IN-COMMAND X(8), then IN-RECORD: IN-LAST-NAME X(10),
 *   IN-FIRST-NAME X(10), IN-EXTENSION X(10), IN-ZIP-CODE X(7);
 * - output (OUTPUT-MSG, OUT-LL VALUE +93): OUT-MESSAGE X(40), OUT-COMMAND X(8), then OUT-RECORD:
 *   OUT-LAST-NAME X(10), OUT-FIRST-NAME X(10), OUT-EXTENSION X(10), OUT-ZIP-CODE X(7), and
 *   OUT-SEGMENT-NO X(4) VALUE '0001'.
 * The 10-byte IN-TRANCDE holds the transaction code padded with blanks ('IVTNO     ', as the IVP's
 * MFS input literal is 10 bytes long); the programs never look at it, they read the command at 10.
 */
export const IVP_LAYOUT = Object.freeze({ trancode: 10, command: 8, last: 10, first: 10, extension: 10, zip: 7, message: 40, segno: 4 });

/** Output length of IVTNO/IVTCV without LL/ZZ: 89 bytes, so LL = 93 as in the copybook. */
export const IVP_OUTPUT_LENGTH = IVP_LAYOUT.message + IVP_LAYOUT.command + IVP_LAYOUT.last + IVP_LAYOUT.first + IVP_LAYOUT.extension + IVP_LAYOUT.zip + IVP_LAYOUT.segno;

/**
 * The texts IBM's IVP programs put in OUT-MESSAGE [IBM] (the 77-level MESSAGES of DFSIVP34, the COBOL
 * member of the IVP phone-book family). Two blanks after the full stop in `more` and `noData` are
 * IBM's (some derived samples print one).
 */
export const IVP_MESSAGES = Object.freeze({
  deleted: 'ENTRY WAS DELETED',
  added: 'ENTRY WAS ADDED',
  displayed: 'ENTRY WAS DISPLAYED',
  updated: 'ENTRY WAS UPDATED',
  ended: 'CONVERSATION HAS ENDED',
  more: 'DATA IS NOT ENOUGH.  PLEASE KEY IN MORE',
  invalid: 'PROCESS CODE IS NOT VALID',
  noData: 'NO DATA WAS INPUT.  PLEASE KEY IN MORE',
  noName: 'LAST NAME WAS NOT SPECIFIED',
  notFound: 'SPECIFIED PERSON WAS NOT FOUND',
  addFailed: 'ADDITION OF ENTRY HAS FAILED',
  deleteFailed: 'DELETION OF ENTRY HAS FAILED',
  updateFailed: 'UPDATE OF ENTRY HAS FAILED',
});

/** Records the IVP loads into its phone book at a cold start. */
export const IVP_INITIAL_RECORDS: ReadonlyArray<readonly [string, string, string, string]> = [
  ['LAST1', 'FIRST1', '8-111-1111', 'D01/R01'],
  ['LAST2', 'FIRST2', '8-111-2222', 'D02/R02'],
  ['LAST3', 'FIRST3', '8-111-3333', 'D03/R03'],
  ['LAST4', 'FIRST4', '8-111-4444', 'D04/R04'],
  ['LAST5', 'FIRST5', '8-111-5555', 'D05/R05'],
];

/** Database names of the two IVP samples. */
export const IVP_DB = 'IVPDB1';
export const IVP_CONV_DB = 'IVPDB2';

/**
 * SPA of IVTCV [IBM] (DFSIVP34's SPA, 80 bytes = the IVP's `SPA=(80)`): SPA-LL X(2), SPA-ZZ X(4),
 * SPA-TRANCODE X(8), then the user area: SPA-CALL X(2) (steps so far, two digits), SPA-COMMAND X(8)
 * (last command), SPA-DATA (last name X(10), first name X(10), extension X(10), zip X(7)), FILLER X(19).
 */
export const IVTCV_SPA = Object.freeze({ trancode: 6, call: 14, command: 16, data: 24, size: 80 });

/** The record part: IN-RECORD / OUT-RECORD / SPA-DATA / the IOAREA of the database calls. */
interface IvpRecord {
  last: string;
  first: string;
  extension: string;
  zip: string;
}

interface IvpInput extends IvpRecord {
  /** Input bytes after LL/ZZ (IBM: IN-LL − 4). */
  readonly length: number;
  /** IN-COMMAND, left-justified and without trailing blanks ('' when blank). */
  readonly command: string;
}

const BLANK_RECORD: Readonly<IvpRecord> = Object.freeze({ last: '', first: '', extension: '', zip: '' });

/**
 * Read INPUT-MSG at IBM's offsets. Like the IVP programs, each field loses its leading blanks
 * (INSPECT … LEADING SPACE); no case folding (IBM compares the bytes). A short segment reads as if
 * padded with blanks — an imsplex choice: IMS would leave the rest of the I/O area as it was.
 */
function parseIvpInput(ctx: ProgramContext, seg: Uint8Array | undefined): IvpInput {
  const L = IVP_LAYOUT;
  const text = seg === undefined ? '' : ctx.text(seg);
  let o = L.trancode; // IN-TRANCDE: the transaction code, not looked at
  const take = (n: number): string => {
    const v = text.slice(o, o + n).trim();
    o += n;
    return v;
  };
  const command = take(L.command);
  return { length: seg?.length ?? 0, command, last: take(L.last), first: take(L.first), extension: take(L.extension), zip: take(L.zip) };
}

/** OUTPUT-MSG without LL/ZZ: 89 bytes, OUT-SEGMENT-NO '0001' (IBM's VALUE, never changed). */
function ivpOutput(message: string, command = '', rec: Readonly<IvpRecord> = BLANK_RECORD): string {
  const L = IVP_LAYOUT;
  return fixed(message, L.message) + fixed(command, L.command) + fixed(rec.last, L.last) + fixed(rec.first, L.first) + fixed(rec.extension, L.extension) + fixed(rec.zip, L.zip) + '0001';
}

/** The database segment: first name, extension and zip, keyed by the last name. */
function dbValue(ctx: ProgramContext, r: Readonly<IvpRecord>): Uint8Array {
  return ctx.bytes(fixed(r.first, IVP_LAYOUT.first) + fixed(r.extension, IVP_LAYOUT.extension) + fixed(r.zip, IVP_LAYOUT.zip));
}

function dbRecord(ctx: ProgramContext, last: string, b: Uint8Array): IvpRecord {
  const L = IVP_LAYOUT;
  const t = ctx.text(b);
  return { last, first: t.slice(0, L.first).trim(), extension: t.slice(L.first, L.first + L.extension).trim(), zip: t.slice(L.first + L.extension, L.first + L.extension + L.zip).trim() };
}

/** What the conversation carries between steps (IVTCV's SPA user area). */
interface IvpSpaState {
  /** SPA-CALL as a number (0 on the first step). */
  calls: number;
  command: string;
  data: IvpRecord;
}

/** Result of one phone-book step. */
interface IvpStep {
  readonly output: string;
  /** IO-COMMAND and IO-DATA after the step (saved in the SPA by IVTCV). */
  readonly command: string;
  readonly data: IvpRecord;
  /** END: the conversation ends. */
  readonly end: boolean;
}

/**
 * One phone-book command, as IBM's IVP programs process it (DFSIVP34's PROCESS-INPUT and its TO-ADD,
 * TO-UPD, TO-DEL, TO-DIS, TO-END). `spa` is given for IVTCV: a blank command or last name then
 * defaults to the SPA's, ADD of the same last name starts from the SPA's data, and END is known.
 * IVTNO is the same program without a SPA (END is not one of its process codes).
 */
async function ivpStep(ctx: ProgramContext, dbName: string, inp: IvpInput, spa: IvpSpaState | undefined): Promise<IvpStep> {
  const M = IVP_MESSAGES;
  const db = ctx.db(dbName);
  // IO-LAST-NAME / IO-COMMAND / IO-DATA: the program's working copy of the record.
  const io: IvpRecord = { ...BLANK_RECORD, last: spa && spa.calls > 0 && inp.last === '' ? spa.data.last : inp.last };
  const command = inp.command === '' && spa ? spa.command : inp.command;
  const done = (output: string): IvpStep => ({ output, command, data: io, end: false });
  if (inp.length === 0) return done(ivpOutput(M.noData));
  // TEMP-IOCMD: the process code is the command's first three characters (DIS, DISPLAY, DISPLAYX…).
  const code = fixed(command, 3).slice(0, 3);
  const isEnd = spa !== undefined && code === 'END';
  if (command === '') return done(ivpOutput(M.invalid));
  if (io.last === '' && !isEnd) return done(ivpOutput(M.noName));
  switch (code) {
    case 'ADD':
    case 'TAD': {
      // TADD also asks the master terminal operator to reply before answering; here it is ADD.
      if (spa && io.last === spa.data.last) Object.assign(io, spa.data);
      if (inp.first === '' || inp.extension === '' || inp.zip === '') return done(ivpOutput(M.more));
      Object.assign(io, { first: inp.first, extension: inp.extension, zip: inp.zip });
      const st = await db.isrt(io.last, dbValue(ctx, io));
      return done(ivpOutput(st === '  ' ? M.added : M.addFailed, command, io));
    }
    case 'UPD': {
      const r = await db.get(io.last);
      if (r.status !== '  ') return done(ivpOutput(M.notFound));
      Object.assign(io, dbRecord(ctx, io.last, r.data!));
      let changed = false;
      for (const k of ['first', 'extension', 'zip'] as const) {
        if (inp[k] !== '') {
          io[k] = inp[k];
          changed = true;
        }
      }
      if (!changed) return done(ivpOutput(M.noData, command, io));
      const st = await db.repl(io.last, dbValue(ctx, io));
      return done(ivpOutput(st === '  ' ? M.updated : M.updateFailed, command, io));
    }
    case 'DEL': {
      const r = await db.get(io.last);
      if (r.status !== '  ') return done(ivpOutput(M.notFound));
      Object.assign(io, dbRecord(ctx, io.last, r.data!));
      const st = await db.dlet(io.last);
      return done(ivpOutput(st === '  ' ? M.deleted : M.deleteFailed, command, io));
    }
    case 'DIS': {
      const r = await db.get(io.last);
      if (r.status !== '  ') return done(ivpOutput(M.notFound));
      Object.assign(io, dbRecord(ctx, io.last, r.data!));
      return done(ivpOutput(M.displayed, command, io));
    }
    default:
      if (isEnd) return { output: ivpOutput(M.ended), command, data: io, end: true };
      return done(ivpOutput(M.invalid));
  }
}

/**
 * IVTNO: the non-conversational IVP phone book (ADD, TADD, DISPLAY, UPDATE, DELETE) on IVPDB1. Input
 * and output are IBM's IVTNOM INPUT-MSG and OUTPUT-MSG (93-byte answer).
 */
export const ivtno: Program = async (ctx) => {
  const r = await ctx.io.gu();
  if (r.status !== '  ') return;
  const step = await ivpStep(ctx, IVP_DB, parseIvpInput(ctx, r.data), undefined);
  await ctx.io.isrt(ctx.bytes(step.output));
};

function readSpa(ctx: ProgramContext, spa: Uint8Array): IvpSpaState {
  const S = IVTCV_SPA;
  const L = IVP_LAYOUT;
  const field = (at: number, n: number) => (spa.length >= at + n ? ctx.text(spa, at, at + n).trim() : '');
  const calls = field(S.call, 2);
  let o = S.data;
  const take = (n: number) => {
    const v = field(o, n);
    o += n;
    return v;
  };
  return { calls: /^\d\d$/.test(calls) ? Number(calls) : 0, command: field(S.command, L.command), data: { last: take(L.last), first: take(L.first), extension: take(L.extension), zip: take(L.zip) } };
}

function writeSpa(ctx: ProgramContext, spa: Uint8Array, calls: number, step: IvpStep): Uint8Array {
  const S = IVTCV_SPA;
  const L = IVP_LAYOUT;
  const out = spa.slice();
  // A SPA shorter than IBM's 80 bytes keeps what fits.
  const put = (text: string, at: number, n: number) => {
    const w = Math.min(n, out.length - at);
    if (w > 0) ctx.codePage.encodeInto(text.slice(0, w), out, at, w);
  };
  put(String(calls % 100).padStart(2, '0'), S.call, 2);
  put(step.command, S.command, L.command);
  let o = S.data;
  for (const [v, n] of [
    [step.data.last, L.last],
    [step.data.first, L.first],
    [step.data.extension, L.extension],
    [step.data.zip, L.zip],
  ] as const) {
    put(v, o, n);
    o += n;
  }
  if (step.end) put('', S.trancode, 8); // blank SPA-TRANCODE: the conversation ends
  return out;
}

/**
 * IVTCV: the conversational IVP phone book on IVPDB2. Each step reads the SPA and one IVTNOM input
 * segment, runs the command, and inserts the SPA (SPA-CALL counted up, SPA-COMMAND and SPA-DATA
 * saved) and then the 93-byte output. A blank command or last name repeats the previous step's;
 * `END` blanks the SPA transaction code, which ends the conversation ('CONVERSATION HAS ENDED').
 * The engine passes each input segment as sent, so every step carries IVTNOM's 10-byte IN-TRANCDE
 * (IMS TM would have removed 'IVTCV ' from the first one, leaving the 4-byte IN-FILL of IBM's own
 * IVTCV input area: the command is at the same place either way).
 */
export const ivtcv: Program = async (ctx) => {
  const spaR = await ctx.io.gu();
  if (spaR.status !== '  ') return;
  const spa = spaR.data!;
  const seg = await ctx.io.gn();
  const state = readSpa(ctx, spa);
  const step = await ivpStep(ctx, IVP_CONV_DB, parseIvpInput(ctx, seg.status === '  ' ? seg.data : undefined), state);
  await ctx.io.isrt(writeSpa(ctx, spa, state.calls + 1, step));
  await ctx.io.isrt(ctx.bytes(step.output));
};

/** Built-in programs by `IMPL=` name. */
export const SAMPLES: Readonly<Record<string, Program>> = Object.freeze({
  ECHO: echo,
  SLOW: slow,
  ABEND: abend,
  MULTISEG: multiseg,
  SWITCH: programSwitch,
  SWITCHB: switchTarget,
  IVTNO: ivtno,
  IVTCV: ivtcv,
});
