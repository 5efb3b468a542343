/**
 * Test helpers: an in-memory/TCP IMS Connect (from @imsplex/client's testing module) running a
 * phone book that answers exactly like the imsplex IMS engine's IVTNO / IVTCV programs
 * (packages/ims/src/programs/samples.ts), manual timers, and a fetch wrapper.
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

const L = { command: 8, last: 10, first: 10, extension: 10, zip: 7, message: 40, segno: 4 };
const fixed = (t: string, w: number) => (t.length >= w ? t.slice(0, w) : t + ' '.repeat(w - t.length));

/** The text after the 8-byte trancode, as the IMS engine's `afterTrancode` reads it. */
function afterTrancode(text: string): string {
  return text.replace(/^ /, '');
}

function parse(text: string) {
  const padded = fixed(text, L.command + L.last + L.first + L.extension + L.zip);
  let o = 0;
  const take = (n: number) => {
    const v = padded.slice(o, o + n).trim();
    o += n;
    return v;
  };
  return { command: take(L.command).toUpperCase(), last: take(L.last), first: take(L.first), extension: take(L.extension), zip: take(L.zip) };
}

/** A phone book with the IVP's behaviour and initial records. */
export class PhoneBook {
  readonly db = new Map<string, { first: string; extension: string; zip: string }>();
  constructor() {
    for (let i = 1; i <= 5; i++) this.db.set(`LAST${i}`, { first: `FIRST${i}`, extension: `8-111-${String(i).repeat(4)}`, zip: `D0${i}/R0${i}` });
  }
  run(text: string, segno: number): string {
    const inp = parse(afterTrancode(text));
    const out = (msg: string, rec?: { first: string; extension: string; zip: string }) =>
      fixed(msg, L.message) + fixed(inp.command, L.command) + fixed(inp.last, L.last) + fixed(rec?.first ?? '', L.first) + fixed(rec?.extension ?? '', L.extension) + fixed(rec?.zip ?? '', L.zip) + String(segno).padStart(L.segno, '0');
    if (inp.last === '') return out('NO DATA WAS ENTERED');
    const key = inp.last.toUpperCase();
    const cur = this.db.get(key);
    switch (inp.command) {
      case 'ADD':
        if (!inp.first || !inp.extension || !inp.zip) return out('DATA IS NOT ENOUGH. PLEASE KEY IN MORE');
        if (cur) return out('ADDITION OF ENTRY HAS FAILED');
        this.db.set(key, { first: inp.first, extension: inp.extension, zip: inp.zip });
        return out('ENTRY WAS ADDED', inp);
      case 'DIS':
      case 'DISPLAY':
        return cur ? out('ENTRY WAS DISPLAYED', cur) : out('SPECIFIED PERSON WAS NOT FOUND');
      case 'UPD':
      case 'UPDATE': {
        if (!cur) return out('SPECIFIED PERSON WAS NOT FOUND');
        const next = { first: inp.first || cur.first, extension: inp.extension || cur.extension, zip: inp.zip || cur.zip };
        this.db.set(key, next);
        return out('ENTRY WAS UPDATED', next);
      }
      case 'DEL':
      case 'DELETE':
        if (!cur) return out('SPECIFIED PERSON WAS NOT FOUND');
        this.db.delete(key);
        return out('ENTRY WAS DELETED', cur);
      default:
        return out('PROCESS CODE IS NOT VALID');
    }
  }
}

/** IVTNO and IVTCV handlers for the test IMS Connect. */
export function ivpHandlers(book = new PhoneBook(), convBook = new PhoneBook()) {
  return {
    IVTNO: (tx: TestTransaction): HandlerResult => book.run(tx.text, 1),
    IVTCV: (tx: TestTransaction): HandlerResult => {
      const step = (tx.conversation?.step ?? 0) + 1;
      const inp = parse(afterTrancode(tx.text));
      if (inp.command === 'END') return fixed('CONVERSATION HAS ENDED', L.message) + fixed('END', 8) + ' '.repeat(37) + String(step).padStart(4, '0');
      return { output: convBook.run(tx.text, step), conversation: { spa: step } };
    },
  };
}

/** Timers fired by the test: `advance(ms)` runs what is due, in order. */
export class ManualTimers implements Timers {
  private now = 0;
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
