/**
 * Records/s for a 200-byte record of 20 mixed fields (character, zoned, packed, binary), compiled
 * copybook vs a hand-written decoder/encoder for the same layout, in the same process.
 * Run: pnpm bench (from this package) or the root `pnpm bench`.
 */
import { CP037 } from '@imsplex/codec';
import { compileCopybook } from '../src/index.js';

const SOURCE = `
       01  BENCH-REC.
           05  REC-TYPE       PIC X(2).
           05  CUST-ID        PIC 9(8).
           05  CUST-NAME      PIC X(30).
           05  ADDR-LINE-1    PIC X(30).
           05  ADDR-LINE-2    PIC X(30).
           05  CITY           PIC X(20).
           05  ZIP            PIC X(7).
           05  BALANCE        PIC S9(9)V99 COMP-3.
           05  CREDIT-LIMIT   PIC S9(7)V99 COMP-3.
           05  LAST-PAY-AMT   PIC S9(7)V99 COMP-3.
           05  TXN-COUNT      PIC S9(4) COMP.
           05  ACCT-FLAGS     PIC S9(9) COMP.
           05  OPEN-DATE      PIC 9(8).
           05  LAST-DATE      PIC 9(8).
           05  RATE           PIC S9(3)V9(4).
           05  BRANCH         PIC 9(4) COMP.
           05  STATUS-CODE    PIC X.
           05  SCORE          PIC S9(3) COMP-3.
           05  SEQ-NO         PIC S9(15) COMP.
           05  NOTES          PIC X(15).
`;

const book = compileCopybook(SOURCE);
if (book.size !== 200 || book.fields.length !== 21) throw new Error(`layout is ${book.size} bytes / ${book.fields.length - 1} fields`);

// ---- hand-written baseline for exactly this layout -------------------------------------------
const page = CP037;
const SP = page.space;
function str(b: Uint8Array, off: number, len: number): string {
  let end = off + len;
  while (end > off && b[end - 1] === SP) end--;
  return page.decode(b, off, end);
}
function zoned(b: Uint8Array, off: number, len: number, scale: number, signed: boolean): number {
  let v = 0;
  for (let i = 0; i < len; i++) {
    const x = b[off + i]!;
    if ((x & 0x0f) > 9 || (i < len - 1 || !signed ? (x & 0xf0) !== 0xf0 : (x & 0xf0) < 0xa0)) throw new Error('zoned');
    v = v * 10 + (x & 0x0f);
  }
  const neg = signed && (b[off + len - 1]! & 0xf0) === 0xd0;
  const r = scale ? v / 10 ** scale : v;
  return neg && v !== 0 ? -r : r;
}
function packed(b: Uint8Array, off: number, len: number, scale: number): number {
  let v = 0;
  for (let i = 0; i < len; i++) {
    const x = b[off + i]!;
    const hi = x >> 4;
    const lo = x & 0x0f;
    if (hi > 9) throw new Error('packed');
    v = v * 10 + hi;
    if (i < len - 1) {
      if (lo > 9) throw new Error('packed');
      v = v * 10 + lo;
    } else if (lo < 0x0a) throw new Error('sign');
  }
  const neg = (b[off + len - 1]! & 0x0f) === 0x0d || (b[off + len - 1]! & 0x0f) === 0x0b;
  const r = scale ? v / 10 ** scale : v;
  return neg && v !== 0 ? -r : r;
}
function handDecode(b: Uint8Array): Record<string, unknown> {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length !== 200) throw new Error('length');
  return {
    REC_TYPE: str(b, 0, 2),
    CUST_ID: zoned(b, 2, 8, 0, false),
    CUST_NAME: str(b, 10, 30),
    ADDR_LINE_1: str(b, 40, 30),
    ADDR_LINE_2: str(b, 70, 30),
    CITY: str(b, 100, 20),
    ZIP: str(b, 120, 7),
    BALANCE: packed(b, 127, 6, 2),
    CREDIT_LIMIT: packed(b, 133, 5, 2),
    LAST_PAY_AMT: packed(b, 138, 5, 2),
    TXN_COUNT: dv.getInt16(143),
    ACCT_FLAGS: dv.getInt32(145),
    OPEN_DATE: zoned(b, 149, 8, 0, false),
    LAST_DATE: zoned(b, 157, 8, 0, false),
    RATE: zoned(b, 165, 7, 4, true),
    BRANCH: dv.getUint16(172),
    STATUS_CODE: str(b, 174, 1),
    SCORE: packed(b, 175, 2, 0),
    SEQ_NO: Number(dv.getBigInt64(177)),
    NOTES: str(b, 185, 15),
  };
}
function putStr(b: Uint8Array, off: number, len: number, s: unknown): void {
  page.encodeInto(s as string, b, off, len);
}
function putZoned(b: Uint8Array, off: number, len: number, scale: number, signed: boolean, x: unknown): void {
  const n = x as number;
  let v = Math.round(Math.abs(n) * 10 ** scale);
  for (let i = len - 1; i >= 0; i--) {
    b[off + i] = 0xf0 | v % 10;
    v = Math.floor(v / 10);
  }
  if (signed) b[off + len - 1] = (n < 0 ? 0xd0 : 0xc0) | (b[off + len - 1]! & 0x0f);
}
function putPacked(b: Uint8Array, off: number, len: number, scale: number, x: unknown): void {
  const n = x as number;
  let v = Math.round(Math.abs(n) * 10 ** scale);
  b[off + len - 1] = ((v % 10) << 4) | (n < 0 ? 0x0d : 0x0c);
  v = Math.floor(v / 10);
  for (let i = len - 2; i >= 0; i--) {
    const lo = v % 10;
    v = Math.floor(v / 10);
    b[off + i] = ((v % 10) << 4) | lo;
    v = Math.floor(v / 10);
  }
}
function handEncode(o: Record<string, unknown>): Uint8Array {
  const b = new Uint8Array(200);
  const dv = new DataView(b.buffer);
  putStr(b, 0, 2, o['REC_TYPE']);
  putZoned(b, 2, 8, 0, false, o['CUST_ID']);
  putStr(b, 10, 30, o['CUST_NAME']);
  putStr(b, 40, 30, o['ADDR_LINE_1']);
  putStr(b, 70, 30, o['ADDR_LINE_2']);
  putStr(b, 100, 20, o['CITY']);
  putStr(b, 120, 7, o['ZIP']);
  putPacked(b, 127, 6, 2, o['BALANCE']);
  putPacked(b, 133, 5, 2, o['CREDIT_LIMIT']);
  putPacked(b, 138, 5, 2, o['LAST_PAY_AMT']);
  dv.setInt16(143, o['TXN_COUNT'] as number);
  dv.setInt32(145, o['ACCT_FLAGS'] as number);
  putZoned(b, 149, 8, 0, false, o['OPEN_DATE']);
  putZoned(b, 157, 8, 0, false, o['LAST_DATE']);
  putZoned(b, 165, 7, 4, true, o['RATE']);
  dv.setUint16(172, o['BRANCH'] as number);
  putStr(b, 174, 1, o['STATUS_CODE']);
  putPacked(b, 175, 2, 0, o['SCORE']);
  dv.setBigInt64(177, BigInt(o['SEQ_NO'] as number));
  putStr(b, 185, 15, o['NOTES']);
  return b;
}

// ---- data -----------------------------------------------------------------------------------
const N = 64;
const objects = Array.from({ length: N }, (_, i) => ({
  REC_TYPE: i % 2 ? 'CU' : 'AC',
  CUST_ID: 10_000_000 + i * 7919,
  CUST_NAME: `CUSTOMER NUMBER ${i}`,
  ADDR_LINE_1: `${100 + i} MAIN STREET`,
  ADDR_LINE_2: i % 3 ? '' : 'SUITE 5',
  CITY: 'SAN JOSE',
  ZIP: `9${String(5000 + i).padStart(4, '0')}`,
  BALANCE: (i % 5 ? 1 : -1) * (123456.78 + i),
  CREDIT_LIMIT: 50000 + i,
  LAST_PAY_AMT: 99.95 + i,
  TXN_COUNT: i * 3,
  ACCT_FLAGS: -i * 1001,
  OPEN_DATE: 20200101 + i,
  LAST_DATE: 20260115,
  RATE: (i % 2 ? -1 : 1) * 1.2345,
  BRANCH: 4000 + i,
  STATUS_CODE: 'A',
  SCORE: -7 * (i % 100),
  SEQ_NO: 900_000_000_000 + i,
  NOTES: i % 4 ? 'OK' : '',
}));
const records = objects.map((o) => book.encode(o));
for (let i = 0; i < N; i++) {
  const a = JSON.stringify(book.decode(records[i]!));
  if (a !== JSON.stringify(handDecode(records[i]!))) throw new Error(`decoders disagree on record ${i}:\n${a}\n${JSON.stringify(handDecode(records[i]!))}`);
  if (a !== JSON.stringify(objects[i])) throw new Error(`round trip differs on record ${i}`);
  if (Buffer.compare(Buffer.from(handEncode(objects[i]!)), Buffer.from(records[i]!)) !== 0) throw new Error(`encoders disagree on record ${i}`);
}

// ---- timing ---------------------------------------------------------------------------------
let sink = 0;
function rate(fn: (i: number) => unknown, ops: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) {
    const r = fn(i & (N - 1));
    if (r === undefined) sink++;
  }
  const ns = Number(process.hrtime.bigint() - t0);
  return ops / (ns / 1e9);
}
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}
function measure(fn: (i: number) => unknown): number {
  rate(fn, 50_000); // warm-up
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) runs.push(rate(fn, 60_000));
  return median(runs);
}

const cases = [
  { name: 'decode 200 B / 20 fields', lib: (i: number) => book.decode(records[i]!), hand: (i: number) => handDecode(records[i]!), goal: 0.5 },
  { name: 'encode 200 B / 20 fields', lib: (i: number) => book.encode(objects[i]!), hand: (i: number) => handEncode(objects[i]!), goal: 0.5 },
];
const rows: string[] = [];
const lines: string[] = [];
for (const c of cases) {
  // Interleave to share the machine's noise fairly.
  const hand = measure(c.hand);
  const lib = measure(c.lib);
  const hand2 = measure(c.hand);
  const base = Math.max(hand, hand2);
  const ratio = lib / base;
  rows.push(`| ${c.name.padEnd(26)} | ${Math.round(lib).toLocaleString('en-US').padStart(12)} | ${Math.round(base).toLocaleString('en-US').padStart(12)} | ${ratio.toFixed(2).padStart(5)}x |`);
  lines.push(`@@bench ${JSON.stringify({ suite: 'copybook', case: c.name, value: Math.round(lib), unit: 'records/s', baseline: 'hand-written codec', baselineValue: Math.round(base), ratio: Number(ratio.toFixed(3)), goal: c.goal })}`);
}
console.log(`\n@imsplex/copybook — ${book.size}-byte record, ${book.fields.length - 1} fields, CP037, Node ${process.version}`);
console.log('| case                       | copybook rec/s | hand-written rec/s | ratio |');
console.log('|----------------------------|-------------:|-------------:|------:|');
for (const r of rows) console.log(r);
for (const l of lines) console.log(l);
if (sink === -1) console.log(sink);
