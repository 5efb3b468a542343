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
 * Input record after the 8-byte transaction code: COMMAND X(8), LAST-NAME X(10), FIRST-NAME X(10),
 * EXTENSION X(10), ZIP X(7). Output record: MESSAGE X(40), COMMAND X(8), LAST X(10), FIRST X(10),
 * EXTENSION X(10), ZIP X(7), SEGMENT-NO X(4) — 89 bytes, as the IVP's DFSIVP1 lays it out.
 */
export const IVP_LAYOUT = Object.freeze({ command: 8, last: 10, first: 10, extension: 10, zip: 7, message: 40, segno: 4 });

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

interface IvpInput {
  command: string;
  last: string;
  first: string;
  extension: string;
  zip: string;
}

function parseIvp(text: string): IvpInput {
  const L = IVP_LAYOUT;
  const padded = fixed(text, L.command + L.last + L.first + L.extension + L.zip);
  let o = 0;
  const take = (n: number) => {
    const v = padded.slice(o, o + n).trim();
    o += n;
    return v;
  };
  return { command: take(L.command).toUpperCase(), last: take(L.last), first: take(L.first), extension: take(L.extension), zip: take(L.zip) };
}

function ivpRecord(first: string, extension: string, zip: string): string {
  return fixed(first, IVP_LAYOUT.first) + fixed(extension, IVP_LAYOUT.extension) + fixed(zip, IVP_LAYOUT.zip);
}

/** Run one phone-book command against `dbName`; returns the 89-byte output text. */
async function phoneBook(ctx: ProgramContext, dbName: string, inp: IvpInput, segno: number): Promise<string> {
  const L = IVP_LAYOUT;
  const db = ctx.db(dbName);
  const out = (msg: string, rec?: { first: string; extension: string; zip: string }) =>
    fixed(msg, L.message) +
    fixed(inp.command, L.command) +
    fixed(inp.last, L.last) +
    fixed(rec?.first ?? '', L.first) +
    fixed(rec?.extension ?? '', L.extension) +
    fixed(rec?.zip ?? '', L.zip) +
    String(segno).padStart(L.segno, '0');
  const decode = (b: Uint8Array) => {
    const t = ctx.text(b);
    return { first: t.slice(0, L.first).trim(), extension: t.slice(L.first, L.first + L.extension).trim(), zip: t.slice(L.first + L.extension).trim() };
  };
  if (inp.last === '') return out('NO DATA WAS ENTERED');
  const key = inp.last.toUpperCase();
  switch (inp.command) {
    case 'ADD': {
      if (inp.first === '' || inp.extension === '' || inp.zip === '') return out('DATA IS NOT ENOUGH. PLEASE KEY IN MORE');
      const st = await db.isrt(key, ctx.bytes(ivpRecord(inp.first, inp.extension, inp.zip)));
      return st === '  ' ? out('ENTRY WAS ADDED', inp) : out('ADDITION OF ENTRY HAS FAILED');
    }
    case 'DIS':
    case 'DISPLAY': {
      const r = await db.get(key);
      return r.status === '  ' ? out('ENTRY WAS DISPLAYED', decode(r.data!)) : out('SPECIFIED PERSON WAS NOT FOUND');
    }
    case 'UPD':
    case 'UPDATE': {
      const r = await db.get(key);
      if (r.status !== '  ') return out('SPECIFIED PERSON WAS NOT FOUND');
      const cur = decode(r.data!);
      const next = { first: inp.first || cur.first, extension: inp.extension || cur.extension, zip: inp.zip || cur.zip };
      const st = await db.repl(key, ctx.bytes(ivpRecord(next.first, next.extension, next.zip)));
      return st === '  ' ? out('ENTRY WAS UPDATED', next) : out('UPDATE OF ENTRY HAS FAILED');
    }
    case 'DEL':
    case 'DELETE': {
      const r = await db.get(key);
      if (r.status !== '  ') return out('SPECIFIED PERSON WAS NOT FOUND');
      const st = await db.dlet(key);
      return st === '  ' ? out('ENTRY WAS DELETED', decode(r.data!)) : out('DELETION OF ENTRY HAS FAILED');
    }
    default:
      return out('PROCESS CODE IS NOT VALID');
  }
}

/** IVTNO: the non-conversational IVP phone book (ADD, DISPLAY, UPDATE, DELETE). */
export const ivtno: Program = async (ctx) => {
  const r = await ctx.io.gu();
  if (r.status !== '  ') return;
  const inp = parseIvp(afterTrancode(ctx, r.data!, 'IVTNO'));
  await ctx.io.isrt(ctx.bytes(await phoneBook(ctx, IVP_DB, inp, 1)));
};

/**
 * SPA of IVTCV (after LL(2) ZZ(4) TRANCODE(8)): COUNT X(4) — interactions so far — then the last
 * command X(8).
 */
const SPA_USER = 14;

/**
 * IVTCV: the conversational IVP. Every input is a phone-book command; the conversation goes on until
 * the user sends `END`, which blanks the SPA transaction code and so ends the conversation. Each
 * output's SEGMENT-NO is the number of the interaction in the conversation.
 */
export const ivtcv: Program = async (ctx) => {
  const spaR = await ctx.io.gu();
  if (spaR.status !== '  ') return;
  const spa = spaR.data!;
  const seg = await ctx.io.gn();
  const text = seg.status === '  ' ? afterTrancode(ctx, seg.data!, 'IVTCV') : '';
  const count = (Number(ctx.text(spa, SPA_USER, SPA_USER + 4).trim()) || 0) + 1;
  const inp = parseIvp(text);
  const newSpa = spa.slice();
  ctx.codePage.encodeInto(String(count).padStart(4, '0'), newSpa, SPA_USER, 4);
  ctx.codePage.encodeInto(inp.command.slice(0, 8), newSpa, SPA_USER + 4, 8);
  if (inp.command === 'END') {
    ctx.codePage.encodeInto('', newSpa, 6, 8); // blank trancode: the conversation ends
    await ctx.io.isrt(newSpa);
    await ctx.io.isrt(ctx.bytes(fixed('CONVERSATION HAS ENDED', IVP_LAYOUT.message) + fixed('END', 8) + ' '.repeat(37) + String(count).padStart(4, '0')));
    return;
  }
  await ctx.io.isrt(newSpa);
  await ctx.io.isrt(ctx.bytes(await phoneBook(ctx, IVP_CONV_DB, inp, count)));
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
