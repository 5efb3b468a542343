/**
 * IVTNO and IVTCV byte for byte against IBM's IVP layouts: the IVTNOM input record (IN-TRANCDE X(10),
 * IN-COMMAND X(8), last X(10), first X(10), extension X(10), zip X(7)), the 93-byte OUTPUT-MSG, the
 * IVP programs' message texts, and IVTCV's 80-byte SPA. Expected bytes are built here field by field,
 * not with the programs' own helpers.
 */
import { CP037 } from '@imsplex/codec';
import { describe, expect, it } from 'vitest';
import type { DliResult, DliStatus, KeyedDb, ProgramContext } from '../src/program.js';
import { ivtcv } from '../src/programs/samples.js';
import { dec, enc, engine, FakeChannel, flush, origin } from './fixtures.js';

/** INPUT-MSG after LL/ZZ. */
const input = (tran: string, cmd: string, last = '', first = '', ext = '', zip = '') => tran.padEnd(10) + cmd.padEnd(8) + last.padEnd(10) + first.padEnd(10) + ext.padEnd(10) + zip.padEnd(7);
/** OUTPUT-MSG after LL/ZZ: message X(40), command X(8), record X(37), segment number '0001'. */
const output = (msg: string, cmd = '', last = '', first = '', ext = '', zip = '') => msg.padEnd(40) + cmd.padEnd(8) + last.padEnd(10) + first.padEnd(10) + ext.padEnd(10) + zip.padEnd(7) + '0001';

async function ivtnoRun(segment: string): Promise<Uint8Array> {
  const { tm } = await engine();
  const ch = new FakeChannel('auto-ack');
  const r = await tm.submit({ segments: [enc(segment)], origin: origin({ syncLevel: 0 }), channel: ch });
  expect(r.ok).toBe(true);
  await flush();
  expect(ch.replies).toHaveLength(1);
  expect(ch.replies[0]!.segments).toHaveLength(1);
  return ch.replies[0]!.segments[0]!;
}

describe('IVTNO: IBM IVTNOM layout', () => {
  it('DISPLAY answers OUTPUT-MSG: 89 data bytes (LL 93), fields at the copybook offsets', async () => {
    const out = await ivtnoRun(input('IVTNO', 'DISPLAY', 'LAST1'));
    expect(out.length).toBe(89);
    expect(out.length + 4).toBe(93); // OUT-LL VALUE +93
    expect(Buffer.from(out).toString('hex')).toBe(
      // OUT-MESSAGE 'ENTRY WAS DISPLAYED' + 21 blanks
      'c5d5e3d9e840e6c1e240c4c9e2d7d3c1e8c5c4' + '40'.repeat(21) +
        // OUT-COMMAND 'DISPLAY '
        'c4c9e2d7d3c1e840' +
        // OUT-LAST-NAME 'LAST1', OUT-FIRST-NAME 'FIRST1', OUT-EXTENSION '8-111-1111', OUT-ZIP-CODE 'D01/R01'
        'd3c1e2e3f1' + '40'.repeat(5) + 'c6c9d9e2e3f1' + '40'.repeat(4) + 'f860f1f1f160f1f1f1f1' + 'c4f0f161d9f0f1' +
        // OUT-SEGMENT-NO '0001'
        'f0f0f0f1',
    );
  });

  it('reads the command at offset 10: the old 8-byte trancode layout is not a process code', async () => {
    expect(dec(await ivtnoRun('IVTNO   DISPLAY LAST1'))).toBe(output('PROCESS CODE IS NOT VALID'));
  });

  it('ADD, the failed ADD, UPDATE, DELETE and the not-found answers', async () => {
    const { tm } = await engine();
    const send = async (seg: string) => {
      const ch = new FakeChannel('auto-ack');
      await tm.submit({ segments: [enc(seg)], origin: origin({ syncLevel: 0 }), channel: ch });
      await flush();
      return dec(ch.replies[0]!.segments[0]);
    };
    expect(await send(input('IVTNO', 'ADD', 'SMITH', 'JOHN', '8-555-0001', 'X01/Y01'))).toBe(output('ENTRY WAS ADDED', 'ADD', 'SMITH', 'JOHN', '8-555-0001', 'X01/Y01'));
    expect(await send(input('IVTNO', 'ADD', 'SMITH', 'JANE', '8-555-0002', 'X02/Y02'))).toBe(output('ADDITION OF ENTRY HAS FAILED', 'ADD', 'SMITH', 'JANE', '8-555-0002', 'X02/Y02'));
    // IBM's text has two blanks after the full stop.
    expect(await send(input('IVTNO', 'ADD', 'JONES', 'ANN'))).toBe(output('DATA IS NOT ENOUGH.  PLEASE KEY IN MORE'));
    expect(await send(input('IVTNO', 'UPDATE', 'SMITH', '', '8-555-0009'))).toBe(output('ENTRY WAS UPDATED', 'UPDATE', 'SMITH', 'JOHN', '8-555-0009', 'X01/Y01'));
    expect(await send(input('IVTNO', 'UPD', 'SMITH'))).toBe(output('NO DATA WAS INPUT.  PLEASE KEY IN MORE', 'UPD', 'SMITH', 'JOHN', '8-555-0009', 'X01/Y01'));
    expect(await send(input('IVTNO', 'DEL', 'SMITH'))).toBe(output('ENTRY WAS DELETED', 'DEL', 'SMITH', 'JOHN', '8-555-0009', 'X01/Y01'));
    for (const cmd of ['DIS', 'UPD', 'DEL']) expect(await send(input('IVTNO', cmd, 'SMITH', 'X'))).toBe(output('SPECIFIED PERSON WAS NOT FOUND'));
    // TADD adds like ADD.
    expect(await send(input('IVTNO', 'TADD', 'TADDY', 'T', '1', '2'))).toBe(output('ENTRY WAS ADDED', 'TADD', 'TADDY', 'T', '1', '2'));
  });

  it('input checks: blank command, blank name, END (not an IVTNO process code), case and leading blanks', async () => {
    const { tm } = await engine();
    const send = async (seg: string) => {
      const ch = new FakeChannel('auto-ack');
      await tm.submit({ segments: [enc(seg)], origin: origin({ syncLevel: 0 }), channel: ch });
      await flush();
      return dec(ch.replies[0]!.segments[0]);
    };
    expect(await send(input('IVTNO', '', 'LAST1'))).toBe(output('PROCESS CODE IS NOT VALID'));
    expect(await send(input('IVTNO', 'DISPLAY'))).toBe(output('LAST NAME WAS NOT SPECIFIED'));
    expect(await send(input('IVTNO', 'END', 'LAST1'))).toBe(output('PROCESS CODE IS NOT VALID'));
    expect(await send(input('IVTNO', 'display', 'LAST1'))).toBe(output('PROCESS CODE IS NOT VALID'));
    expect(await send(input('IVTNO', 'DIS', 'last1'))).toBe(output('SPECIFIED PERSON WAS NOT FOUND'));
    // Leading blanks of each field are dropped, as the IVP programs do.
    expect(await send('IVTNO     ' + '  DIS   ' + '   LAST2  ')).toBe(output('ENTRY WAS DISPLAYED', 'DIS', 'LAST2', 'FIRST2', '8-111-2222', 'D02/R02'));
  });
});

// ---------------------------------------------------------------------------------------------------
// IVTCV: the program on a hand-made context, to see the SPA it inserts.
// ---------------------------------------------------------------------------------------------------

function memoryDb(): KeyedDb & { rows: Map<string, Uint8Array> } {
  const rows = new Map<string, Uint8Array>([['LAST1', enc('FIRST1    8-111-1111D01/R01')]]);
  const ok = (): Promise<DliStatus> => Promise.resolve('  ');
  return {
    rows,
    get: (k) => Promise.resolve<DliResult>(rows.has(k) ? { status: '  ', data: rows.get(k)! } : { status: 'GE' }),
    isrt: (k, v) => (rows.has(k) ? Promise.resolve<DliStatus>('II') : (rows.set(k, v), ok())),
    repl: (k, v) => (rows.has(k) ? (rows.set(k, v), ok()) : Promise.resolve<DliStatus>('GE')),
    dlet: (k) => (rows.delete(k) ? ok() : Promise.resolve<DliStatus>('GE')),
    keys: () => Promise.resolve([...rows.keys()]),
  };
}

/** Run IVTCV once: GU returns `spa`, GN `segment`; returns what it inserted. */
async function ivtcvStep(spa: Uint8Array, segment: string, db: KeyedDb): Promise<Uint8Array[]> {
  const inserted: Uint8Array[] = [];
  let cursor = 0;
  const parts = [spa, enc(segment)];
  const unused = () => {
    throw new Error('not used by IVTCV');
  };
  const ctx = {
    io: {
      gu: () => Promise.resolve<DliResult>({ status: '  ', data: parts[(cursor = 1) - 1]! }),
      gn: () => Promise.resolve<DliResult>(cursor < parts.length ? { status: '  ', data: parts[cursor++]! } : { status: 'QD' }),
      isrt: (s: Uint8Array) => (inserted.push(s), Promise.resolve<DliStatus>('  ')),
      purg: unused,
      lterm: 'TP1',
      userId: 'USER01',
    },
    db: () => db,
    text: (b: Uint8Array, s?: number, e?: number) => CP037.decode(b, s, e),
    bytes: (t: string) => CP037.encode(t),
    codePage: CP037,
    tran: 'IVTCV',
    imsId: 'IMS1',
    spaSize: 80,
    alt: unused,
    chkp: unused,
    sync: unused,
    rolb: unused,
    roll: unused,
    abend: unused,
    sleep: unused,
  } as unknown as ProgramContext;
  await ivtcv(ctx);
  return inserted;
}

/** A new conversation's SPA: LL = 80, ZZZZ, 'IVTCV   ', user area as IMS gives it (binary zeros). */
function newSpa(): Uint8Array {
  const spa = new Uint8Array(80);
  spa[1] = 80;
  CP037.encodeInto('IVTCV', spa, 6, 8);
  return spa;
}

describe('IVTCV: IBM SPA and message layout', () => {
  it('inserts the SPA (SPA-CALL, SPA-COMMAND, SPA-DATA at IBM offsets) and then the 93-byte output', async () => {
    const db = memoryDb();
    const [spa1, out1] = await ivtcvStep(newSpa(), input('IVTCV', 'DISPLAY', 'LAST1'), db);
    expect(dec(out1)).toBe(output('ENTRY WAS DISPLAYED', 'DISPLAY', 'LAST1', 'FIRST1', '8-111-1111', 'D01/R01'));
    expect(out1!.length).toBe(89);
    expect(spa1!.length).toBe(80);
    const hex = Buffer.from(spa1!).toString('hex');
    expect(hex.slice(0, 12)).toBe('005000000000'); // SPA-LL, SPA-ZZ untouched
    expect(dec(spa1!.subarray(6, 14))).toBe('IVTCV   '); // SPA-TRANCODE
    expect(dec(spa1!.subarray(14, 16))).toBe('01'); // SPA-CALL
    expect(dec(spa1!.subarray(16, 24))).toBe('DISPLAY '); // SPA-COMMAND
    expect(dec(spa1!.subarray(24, 61))).toBe('LAST1     FIRST1    8-111-1111D01/R01'); // SPA-DATA
    expect(hex.slice(122)).toBe('00'.repeat(19)); // FILLER X(19) untouched

    // Step 2: a blank command and a blank name take the SPA's; ADD of the same name starts from SPA-DATA.
    const [spa2, out2] = await ivtcvStep(spa1!, input('IVTCV', ''), db);
    expect(dec(out2)).toBe(output('ENTRY WAS DISPLAYED', 'DISPLAY', 'LAST1', 'FIRST1', '8-111-1111', 'D01/R01'));
    expect(dec(spa2!.subarray(14, 16))).toBe('02');
    const [spa3, out3] = await ivtcvStep(spa2!, input('IVTCV', 'ADD', 'NEWBY', 'NEW', '8-000-0000', 'N01/N01'), db);
    expect(dec(out3)).toBe(output('ENTRY WAS ADDED', 'ADD', 'NEWBY', 'NEW', '8-000-0000', 'N01/N01'));
    expect(dec(db.rows.get('NEWBY'))).toBe('NEW       8-000-0000N01/N01');
    expect(dec(spa3!.subarray(14, 61))).toBe('03' + 'ADD     ' + 'NEWBY     NEW       8-000-0000N01/N01');

    // END: blank SPA-TRANCODE, 'CONVERSATION HAS ENDED' with blank command and record.
    const [spa4, out4] = await ivtcvStep(spa3!, input('IVTCV', 'END'), db);
    expect(dec(spa4!.subarray(6, 14))).toBe(' '.repeat(8));
    expect(dec(spa4!.subarray(14, 16))).toBe('04');
    expect(dec(out4)).toBe(output('CONVERSATION HAS ENDED'));
  });

  it('first step without a last name: LAST NAME WAS NOT SPECIFIED; empty input: NO DATA WAS INPUT', async () => {
    const db = memoryDb();
    const [, out] = await ivtcvStep(newSpa(), input('IVTCV', 'DIS'), db);
    expect(dec(out)).toBe(output('LAST NAME WAS NOT SPECIFIED'));
    const [spa, empty] = await ivtcvStep(newSpa(), '', db);
    expect(dec(empty)).toBe(output('NO DATA WAS INPUT.  PLEASE KEY IN MORE'));
    expect(dec(spa!.subarray(6, 14))).toBe('IVTCV   '); // the conversation goes on
  });
});
