/**
 * Reply codec throughput: `decodeReply` / `encodeReply` for a SAMPL1 reply of two data segments + CSM,
 * next to a minimal hand-written DataView reader/writer of the same reply, measured in the same run
 * (paired rounds, medians: bench/harness.ts). Prints a table and one `@@bench {json}` line per row (collected by the root `pnpm bench`).
 *
 *   tsx --conditions=@imsplex/source bench/reply.bench.ts
 */
import { type ImsReply, decodeReply, encodeReply } from '../src/reply.js';
import { compare, report } from './harness.js';

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

const RSM_REPLY: ImsReply = { kind: 'status', rsm: { flags: 0, racfOrOtmaReason: 0, returnCode: 8, reasonCode: 72 } };
const RSM_ID = Uint8Array.of(0x5c, 0xd9, 0xc5, 0xd8, 0xe2, 0xe3, 0xe2, 0x5c);

/** Baseline RSM writer: LLLL + the 20-byte RSM. */
function baselineEncodeRsm(returnCode: number, reasonCode: number): Uint8Array {
  const out = new Uint8Array(24);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 24);
  dv.setUint16(4, 20);
  out.set(RSM_ID, 8);
  dv.setUint32(16, returnCode);
  dv.setUint32(20, reasonCode);
  return out;
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

// Sanity: both paths produce the same bytes and values.
{
  const ours = decodeReply(BYTES, { llll: true });
  const base = baselineDecode(BYTES);
  if (ours.kind !== 'data' || ours.segments.length !== 2 || base.segments.length !== 2 || ours.csm.flags !== base.csm.flags) throw new Error('decoders disagree');
  const e1 = encodeReply(REPLY, { llll: true });
  const e2 = baselineEncode([SEG1, SEG2], 0x10, 2);
  if (e1.length !== e2.length || e1.some((v, i) => v !== e2[i])) throw new Error('encoders disagree');
  const r1 = encodeReply(RSM_REPLY, { llll: true });
  const r2 = baselineEncodeRsm(8, 72);
  if (r1.length !== r2.length || r1.some((v, i) => v !== r2[i])) throw new Error('RSM encoders disagree');
}

const rows = [
  {
    case: 'decode SAMPL1 2 segments + CSM',
    ...compare(
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
      () => {
        sink += encodeReply(REPLY, { llll: true }).length;
      },
      () => {
        sink += baselineEncode([SEG1, SEG2], 0x10, 2).length;
      },
    ),
  },
  {
    case: 'encode SAMPL1 RSM (NFNDDST)',
    ...compare(
      () => {
        sink += encodeReply(RSM_REPLY, { llll: true }).length;
      },
      () => {
        sink += baselineEncodeRsm(8, 72).length;
      },
    ),
  },
];

report({
  title: `reply codec (${BYTES.length}-byte reply), median of 15 paired rounds × 120 ms after warm-up`,
  suite: 'codec/reply',
  unit: 'replies/s',
  baseline: 'hand-written DataView',
  goal: 0.8,
  rows,
});
if (sink === 42) console.log('');
