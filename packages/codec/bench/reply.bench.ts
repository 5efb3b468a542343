/**
 * Reply codec throughput: `decodeReply` / `encodeReply` for a SAMPL1 reply of two data segments + CSM,
 * next to a minimal hand-written DataView reader/writer of the same reply, measured in the same run.
 * Prints a table and one `@@bench {json}` line per row (collected by the root `pnpm bench`).
 *
 *   tsx --conditions=@imsplex/source bench/reply.bench.ts
 */
import { type ImsReply, decodeReply, encodeReply } from '../src/reply.js';

const SEG1 = new Uint8Array(80).fill(0xc1);
const SEG2 = new Uint8Array(120).fill(0xc2);
const REPLY: ImsReply = { kind: 'data', segments: [SEG1, SEG2], csm: { flags: 0x10, protocolLevel: 2 } };
const BYTES = encodeReply(REPLY, { llll: true });
const CSM_ID = Uint8Array.of(0x5c, 0xc3, 0xe2, 0xd4, 0xd6, 0xd2, 0xe8, 0x5c);

/** Baseline reader: LLLL, then LL structures until the EBCDIC *CSMOKY* with LL 12. */
function baselineDecode(b: Uint8Array): { segments: Uint8Array[]; csm: { flags: number; protocolLevel: number } } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const total = dv.getUint32(0);
  if (total !== b.length) throw new Error('bad LLLL');
  const segments: Uint8Array[] = [];
  let p = 4;
  while (p < total) {
    const ll = dv.getUint16(p);
    if (ll < 4 || p + ll > total) throw new Error('bad LL');
    if (ll === 12) {
      let isCsm = true;
      for (let i = 0; i < 8; i++) if (b[p + 4 + i] !== CSM_ID[i]) isCsm = false;
      if (isCsm) return { segments, csm: { flags: b[p + 2]!, protocolLevel: b[p + 3]! } };
    }
    segments.push(b.subarray(p + 4, p + ll));
    p += ll;
  }
  throw new Error('no CSM');
}

/** Baseline writer: one allocation, DataView for the lengths. */
function baselineEncode(segments: Uint8Array[], flags: number, level: number): Uint8Array {
  let size = 4 + 12;
  for (const s of segments) size += 4 + s.length;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, size);
  let p = 4;
  for (const s of segments) {
    dv.setUint16(p, s.length + 4);
    dv.setUint16(p + 2, 0);
    out.set(s, p + 4);
    p += s.length + 4;
  }
  dv.setUint16(p, 12);
  out[p + 2] = flags;
  out[p + 3] = level;
  out.set(CSM_ID, p + 4);
  return out;
}

let sink = 0;

/** Operations per second of `fn`, best of `rounds` time-boxed runs. */
function measure(fn: () => void, ms: number): number {
  let n = 0;
  const batch = 1000;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < batch; i++) fn();
    n += batch;
    t = performance.now();
  }
  return (n / (t - t0)) * 1000;
}

function compare(name: string, ours: () => void, baseline: () => void, rounds = 5, ms = 300): { ours: number; base: number } {
  for (let i = 0; i < 20000; i++) {
    ours();
    baseline();
  }
  let bestOurs = 0;
  let bestBase = 0;
  for (let r = 0; r < rounds; r++) {
    bestBase = Math.max(bestBase, measure(baseline, ms));
    bestOurs = Math.max(bestOurs, measure(ours, ms));
  }
  void name;
  return { ours: bestOurs, base: bestBase };
}

// Sanity: both paths produce the same bytes and values.
{
  const ours = decodeReply(BYTES, { llll: true });
  const base = baselineDecode(BYTES);
  if (ours.kind !== 'data' || ours.segments.length !== 2 || base.segments.length !== 2 || ours.csm.flags !== base.csm.flags) throw new Error('decoders disagree');
  const e1 = encodeReply(REPLY, { llll: true });
  const e2 = baselineEncode([SEG1, SEG2], 0x10, 2);
  if (e1.length !== e2.length || e1.some((v, i) => v !== e2[i])) throw new Error('encoders disagree');
}

const rows = [
  {
    case: 'decode SAMPL1 2 segments + CSM',
    ...compare(
      'decode',
      () => {
        const r = decodeReply(BYTES, { llll: true });
        sink += r.kind === 'data' ? r.segments.length : 0;
      },
      () => {
        sink += baselineDecode(BYTES).segments.length;
      },
    ),
  },
  {
    case: 'encode SAMPL1 2 segments + CSM',
    ...compare(
      'encode',
      () => {
        sink += encodeReply(REPLY, { llll: true }).length;
      },
      () => {
        sink += baselineEncode([SEG1, SEG2], 0x10, 2).length;
      },
    ),
  },
];

const GOAL = 0.8;
console.log(`reply codec (${BYTES.length}-byte reply), best of 5 × 300 ms`);
console.log('| case | @imsplex/codec | hand-written DataView | ratio | goal |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  const ratio = r.ours / r.base;
  console.log(`| ${r.case} | ${Math.round(r.ours).toLocaleString('en-US')} replies/s | ${Math.round(r.base).toLocaleString('en-US')} replies/s | ${ratio.toFixed(2)}x | ≥ ${GOAL}x ${ratio >= GOAL ? 'ok' : 'MISSED'} |`);
}
for (const r of rows) {
  console.log(
    `@@bench ${JSON.stringify({ suite: 'codec/reply', case: r.case, value: Math.round(r.ours), unit: 'replies/s', baseline: 'hand-written DataView', baselineValue: Math.round(r.base), ratio: Number((r.ours / r.base).toFixed(3)), goal: GOAL })}`,
  );
}
if (sink === 42) console.log('');
