/**
 * OTMA codec cost per message: `encodeOtmaMessageInto` / `decodeOtmaMessage` / `encodeXcfFrame` /
 * `decodeXcfFrame` of a typical IVTNO send-receive message on the XCF link (control + transaction state
 * with the 66-byte block + security with a user ID + `HWSOMUSR` + one 40-byte segment), next to the
 * previous implementation (bench/reference/otma.ts) measured in the same run (paired rounds, medians:
 * bench/harness.ts). Both paths are checked to give the same bytes and the same decoded values before
 * timing. Values are ns per message; the ratio is the speed-up over the reference (higher is better).
 *
 * Also prints heap bytes allocated per message (from `v8.getHeapStatistics()` deltas over a run with
 * no GC in between, the median of several runs) — informational, not a `@@bench` row.
 *
 *   tsx --conditions=@imsplex/source bench/otma.bench.ts
 */
import { isDeepStrictEqual } from 'node:util';
import { type OtmaMessage, decodeOtmaMessage, encodeOtmaMessageInto, otmaMessageSize } from '../src/otma.js';
import { IVTNO_MESSAGE } from './otma-fixture.js';
import { decodeXcfFrame, encodeXcfFrame } from '../src/xcf.js';
import * as ref from './reference/otma.js';
import { type BenchRow, compare, median, report } from './harness.js';

const BYTES = ref.encodeOtmaMessage(IVTNO_MESSAGE);
/** The decoded form (named transaction fields set): what IMS re-encodes. */
const DECODED = ref.decodeOtmaMessage(BYTES);
const FRAME = encodeXcfFrame(IVTNO_MESSAGE);

function refEncodeXcf(m: OtmaMessage): Uint8Array {
  const size = 4 + ref.otmaMessageSize(m as ref.OtmaMessage);
  const out = new Uint8Array(size);
  out[0] = size >>> 24;
  out[1] = (size >>> 16) & 0xff;
  out[2] = (size >>> 8) & 0xff;
  out[3] = size & 0xff;
  ref.encodeOtmaMessageInto(m as ref.OtmaMessage, out, 4);
  return out;
}

// Both paths must agree before they are timed.
{
  const target = new Uint8Array(BYTES.length);
  encodeOtmaMessageInto(IVTNO_MESSAGE, target, 0);
  if (!isDeepStrictEqual(target, BYTES)) throw new Error('encoders disagree');
  encodeOtmaMessageInto(DECODED, target, 0);
  if (!isDeepStrictEqual(target, BYTES)) throw new Error('encoders disagree on the decoded message');
  if (!isDeepStrictEqual(decodeOtmaMessage(BYTES), DECODED)) throw new Error('decoders disagree');
  if (!isDeepStrictEqual(encodeXcfFrame(DECODED), refEncodeXcf(DECODED))) throw new Error('XCF encoders disagree');
}

let sink = 0;
const TARGET = new Uint8Array(otmaMessageSize(IVTNO_MESSAGE));

const pairs: Array<[string, () => void, () => void]> = [
  [
    `encodeOtmaMessageInto IVTNO (${BYTES.length} B, decoded form)`,
    () => {
      sink += encodeOtmaMessageInto(DECODED, TARGET, 0);
    },
    () => {
      sink += ref.encodeOtmaMessageInto(DECODED as ref.OtmaMessage, TARGET, 0);
    },
  ],
  [
    `encodeOtmaMessageInto IVTNO (${BYTES.length} B, built form)`,
    () => {
      sink += encodeOtmaMessageInto(IVTNO_MESSAGE, TARGET, 0);
    },
    () => {
      sink += ref.encodeOtmaMessageInto(IVTNO_MESSAGE as ref.OtmaMessage, TARGET, 0);
    },
  ],
  [
    `decodeOtmaMessage IVTNO (${BYTES.length} B)`,
    () => {
      sink += decodeOtmaMessage(BYTES).control.sendSequence;
    },
    () => {
      sink += ref.decodeOtmaMessage(BYTES).control.sendSequence;
    },
  ],
  [
    `encodeXcfFrame IVTNO (${FRAME.length} B)`,
    () => {
      sink += encodeXcfFrame(DECODED).length;
    },
    () => {
      sink += refEncodeXcf(DECODED).length;
    },
  ],
  [
    `decodeXcfFrame IVTNO (${FRAME.length} B)`,
    () => {
      sink += decodeXcfFrame(FRAME).control.sendSequence;
    },
    () => {
      sink += ref.decodeOtmaMessage(FRAME.subarray(4)).control.sendSequence;
    },
  ],
];

// Optional filter when run alone (`pnpm run bench:otma decode`); none when imported by codec.bench.ts.
const only = process.argv[1]?.endsWith('otma.bench.ts') ? process.argv[2] : undefined;
const rows: BenchRow[] = [];
for (const [name, ours, base] of pairs) {
  if (only !== undefined && !name.includes(only)) continue;
  const c = compare(ours, base, { rounds: 11, ms: 100, batch: 1000 });
  // ns per message; the ratio stays the median per-round speed-up (ours ops/s ÷ reference ops/s).
  rows.push({ case: name, ours: 1e9 / c.ours, base: 1e9 / c.base, ratio: c.ratio });
}

report({
  title: 'OTMA codec, ns per message (lower is better; ratio = speed-up over the previous implementation), median of 11 paired rounds × 100 ms',
  suite: 'codec/otma',
  unit: 'ns/op',
  baseline: 'previous implementation',
  goal: 2,
  rows,
});

/**
 * Bytes allocated per call of `fn`: JS heap plus ArrayBuffer memory, after a full GC, over 400 calls
 * (few enough that no scavenge runs in between; median of 7 runs).
 */
async function allocatedPerCall(fn: () => void): Promise<number> {
  const v8 = await import('node:v8');
  const vm = await import('node:vm');
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const used = (): number => v8.getHeapStatistics().used_heap_size + process.memoryUsage().arrayBuffers;
  const samples: number[] = [];
  for (let r = 0; r < 7; r++) {
    gc();
    const before = used();
    for (let i = 0; i < 400; i++) fn();
    samples.push((used() - before) / 400);
  }
  return median(samples);
}

console.log('');
console.log('| case | codec bytes allocated/msg | previous bytes allocated/msg |');
console.log('|---|---|---|');
for (const [name, ours, base] of pairs) {
  if (only !== undefined && !name.includes(only)) continue;
  console.log(`| ${name} | ${Math.round(await allocatedPerCall(ours))} | ${Math.round(await allocatedPerCall(base))} |`);
}
if (sink === 42) console.log('');
