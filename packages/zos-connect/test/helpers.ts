/**
 * Test helpers: an in-memory/TCP IMS Connect (from @imsplex/client's testing module) running a
 * phone book that answers like the imsplex IMS engine's IVTNO / IVTCV programs
 * (packages/ims/src/programs/samples.ts: IBM's IVTNOM layout and IVP texts), manual timers, and a
 * fetch wrapper.
 */
import { mkdtempSync, cpSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Timers } from '@imsplex/client';
// LOCAL ADAPTER: @imsplex/client does not export "./testing" in its package.json yet (reported to
// the lead); import the module by path until it does.
import { createTestImsConnect, type TestImsConnect, type TestTransaction, type HandlerResult } from '@imsplex/client/testing';

export { createTestImsConnect, type TestImsConnect, type TestTransaction, type HandlerResult };

export const SAMPLES = fileURLToPath(new URL('../samples/config', import.meta.url));

const L = { trancode: 10, command: 8, last: 10, first: 10, extension: 10, zip: 7, message: 40 };
const fixed = (t: string, w: number) => (t.length >= w ? t.slice(0, w) : t + ' '.repeat(w - t.length));

interface Rec {
  last: string;
  first: string;
  extension: string;
  zip: string;
}

/**
 * IBM's IVTNOM input record. `text` is what follows the client's 8-byte transaction code, so the
 * 10-byte IN-TRANCDE leaves 2 bytes before IN-COMMAND. Leading blanks of each field are dropped.
 */
function parse(text: string) {
  let o = L.trancode - 8;
  const take = (n: number) => {
    const v = text.slice(o, o + n).trim();
    o += n;
    return v;
  };
  return { command: take(L.command), last: take(L.last), first: take(L.first), extension: take(L.extension), zip: take(L.zip) };
}

/** IBM's OUTPUT-MSG after LL/ZZ (89 bytes; OUT-SEGMENT-NO is always '0001'). */
export function ivpOutput(msg: string, command = '', r?: Rec): string {
  return fixed(msg, L.message) + fixed(command, L.command) + fixed(r?.last ?? '', L.last) + fixed(r?.first ?? '', L.first) + fixed(r?.extension ?? '', L.extension) + fixed(r?.zip ?? '', L.zip) + '0001';
}

/** What IVTCV keeps in its SPA. */
interface Spa {
  command: string;
  data: Rec;
}

/** A phone book with the IVP programs' behaviour (IBM's texts) and initial records. */
export class PhoneBook {
  readonly db = new Map<string, { first: string; extension: string; zip: string }>();
  constructor() {
    for (let i = 1; i <= 5; i++) this.db.set(`LAST${i}`, { first: `FIRST${i}`, extension: `8-111-${String(i).repeat(4)}`, zip: `D0${i}/R0${i}` });
  }
  /** One command; `spa` (IVTCV) supplies a blank command or last name and is updated. */
  run(text: string, spa?: Spa): { output: string; end: boolean } {
    const inp = parse(text);
    const command = inp.command || (spa?.command ?? '');
    const io: Rec = { last: inp.last || (spa?.data.last ?? ''), first: '', extension: '', zip: '' };
    const code = command.slice(0, 3);
    const done = (output: string, end = false) => {
      if (spa) Object.assign(spa, { command, data: io });
      return { output, end };
    };
    if (command === '') return done(ivpOutput('PROCESS CODE IS NOT VALID'));
    if (io.last === '' && !(spa && code === 'END')) return done(ivpOutput('LAST NAME WAS NOT SPECIFIED'));
    const cur = this.db.get(io.last);
    switch (code) {
      case 'ADD':
        if (!inp.first || !inp.extension || !inp.zip) return done(ivpOutput('DATA IS NOT ENOUGH.  PLEASE KEY IN MORE'));
        Object.assign(io, { first: inp.first, extension: inp.extension, zip: inp.zip });
        if (cur) return done(ivpOutput('ADDITION OF ENTRY HAS FAILED', command, io));
        this.db.set(io.last, { first: io.first, extension: io.extension, zip: io.zip });
        return done(ivpOutput('ENTRY WAS ADDED', command, io));
      case 'DIS':
        if (!cur) return done(ivpOutput('SPECIFIED PERSON WAS NOT FOUND'));
        Object.assign(io, cur);
        return done(ivpOutput('ENTRY WAS DISPLAYED', command, io));
      case 'UPD': {
        if (!cur) return done(ivpOutput('SPECIFIED PERSON WAS NOT FOUND'));
        Object.assign(io, { first: inp.first || cur.first, extension: inp.extension || cur.extension, zip: inp.zip || cur.zip });
        if (!inp.first && !inp.extension && !inp.zip) return done(ivpOutput('NO DATA WAS INPUT.  PLEASE KEY IN MORE', command, io));
        this.db.set(io.last, { first: io.first, extension: io.extension, zip: io.zip });
        return done(ivpOutput('ENTRY WAS UPDATED', command, io));
      }
      case 'DEL':
        if (!cur) return done(ivpOutput('SPECIFIED PERSON WAS NOT FOUND'));
        Object.assign(io, cur);
        this.db.delete(io.last);
        return done(ivpOutput('ENTRY WAS DELETED', command, io));
      default:
        if (spa && code === 'END') return done(ivpOutput('CONVERSATION HAS ENDED'), true);
        return done(ivpOutput('PROCESS CODE IS NOT VALID'));
    }
  }
}

/** IVTNO and IVTCV handlers for the test IMS Connect. */
export function ivpHandlers(book = new PhoneBook(), convBook = new PhoneBook()) {
  return {
    IVTNO: (tx: TestTransaction): HandlerResult => book.run(tx.text).output,
    IVTCV: (tx: TestTransaction): HandlerResult => {
      const spa = (tx.conversation?.spa as Spa | undefined) ?? { command: '', data: { last: '', first: '', extension: '', zip: '' } };
      const r = convBook.run(tx.text, spa);
      return r.end ? r.output : { output: r.output, conversation: { spa } };
    },
  };
}

/** Timers fired by the test: `advance(ms)` runs what is due, in order. */
export class ManualTimers implements Timers {
  private now = 0;
  /** The clock that goes with these timers (ms since creation, moved by `advance`). */
  readonly clock = (): number => this.now;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; cb: () => void }>();
  setTimeout(cb: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.now + ms, cb });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Timers armed and not yet fired or cleared. */
  get size(): number {
    return this.pending.size;
  }
  /** Timers armed with exactly `ms`. */
  armed(ms: number): number {
    return [...this.pending.values()].filter((p) => p.at - this.now === ms).length;
  }
  advance(ms: number): void {
    this.now += ms;
    for (;;) {
      const due = [...this.pending.entries()].filter(([, p]) => p.at <= this.now).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) return;
      this.pending.delete(due[0]);
      due[1].cb();
    }
  }
}

/** A copy of the sample configuration in a temp folder, with files replaced or added. */
export function tempConfig(changes: Record<string, string | null> = {}): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'zcon-'));
  cpSync(SAMPLES, dir, { recursive: true });
  for (const [rel, text] of Object.entries(changes)) {
    const abs = path.join(dir, rel);
    if (text === null) rmSync(abs, { force: true });
    else {
      mkdirSync(path.dirname(abs), { recursive: true });
      writeFileSync(abs, text);
    }
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** HTTP basic header. */
export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** A promise resolved from outside. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
