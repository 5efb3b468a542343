/**
 * Stream readers: `RequestFrameReader`, `ReplyFrameReader` (SAMPL1 and SAMPLE framing) and
 * `XcfFrameReader` splitting a 256 KB stream that arrives in 64 KB chunks (most frames inside a chunk)
 * or in 1460-byte TCP segments (most frames across chunks), next to a minimal hand-written splitter
 * measured in the same run: it returns views of the chunk and, for a frame across chunks, joins the
 * carried-over bytes with the next chunk (one copy). Results are checked equal before timing.
 *
 *   tsx --conditions=@imsplex/source bench/framer.bench.ts
 */
import { XcfFrameReader, encodeXcfFrame } from '../src/xcf.js';
import { RequestFrameReader } from '../src/framer.js';
import { otmaControl, OtmaMessageType } from '../src/otma.js';
import { ReplyFrameReader } from '../src/reply-framer.js';
import { encodeReply } from '../src/reply.js';
import { buildRequest, encodeRequest } from '../src/request.js';
import { type BenchRow, compare, report } from './harness.js';

const STREAM_BYTES = 256 * 1024;

function streamOf(message: Uint8Array): { stream: Uint8Array; count: number } {
  const count = Math.floor(STREAM_BYTES / message.length);
  const stream = new Uint8Array(count * message.length);
  for (let i = 0; i < count; i++) stream.set(message, i * message.length);
  return { stream, count };
}

function chunksOf(stream: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  // Each chunk its own ArrayBuffer, as socket reads deliver them.
  for (let i = 0; i < stream.length; i += size) out.push(stream.slice(i, i + size));
  return out;
}

/** Hand-written LLLL splitter: views inside a chunk, carried-over bytes joined with the next chunk. */
class BaselineLlll {
  private carry: Uint8Array | null = null;
  push(chunk: Uint8Array): Uint8Array[] {
    let b = chunk;
    if (this.carry !== null) {
      b = new Uint8Array(this.carry.length + chunk.length);
      b.set(this.carry);
      b.set(chunk, this.carry.length);
      this.carry = null;
    }
    const out: Uint8Array[] = [];
    let p = 0;
    while (b.length - p >= 4) {
      const total = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
      if (total < 4) throw new Error('bad LLLL');
      if (b.length - p < total) break;
      out.push(b.subarray(p, p + total));
      p += total;
    }
    if (p < b.length) this.carry = b.slice(p);
    return out;
  }
}

const CSM_ID = Uint8Array.of(0x5c, 0xc3, 0xe2, 0xd4, 0xd6, 0xd2, 0xe8, 0x5c);

/** Hand-written HWSSMPL0 splitter: walks LL structures to the EBCDIC CSM; same carry rule. */
class BaselineSample {
  private carry: Uint8Array | null = null;
  push(chunk: Uint8Array): Uint8Array[] {
    let b = chunk;
    if (this.carry !== null) {
      b = new Uint8Array(this.carry.length + chunk.length);
      b.set(this.carry);
      b.set(chunk, this.carry.length);
      this.carry = null;
    }
    const out: Uint8Array[] = [];
    let start = 0;
    let p = 0;
    for (;;) {
      if (b.length - p < 2) break;
      const ll = (b[p]! << 8) | b[p + 1]!;
      if (ll < 4) throw new Error('bad LL');
      if (b.length - p < ll) break;
      let csm = ll === 12;
      for (let i = 0; csm && i < 8; i++) if (b[p + 4 + i] !== CSM_ID[i]) csm = false;
      p += ll;
      if (csm) {
        out.push(b.subarray(start, p));
        start = p;
      }
    }
    if (start < b.length) this.carry = b.slice(start);
    return out;
  }
}

const request = encodeRequest(buildRequest({ clientId: 'CLIENT01', datastore: 'IMS1', trancode: 'IVTNO', data: 'DISPLAY LAST1' }));
const replySegments = [new Uint8Array(80).fill(0xc1), new Uint8Array(120).fill(0xc2)];
const replyLlll = encodeReply({ kind: 'data', segments: replySegments, csm: { flags: 0x10, protocolLevel: 2 } }, { llll: true });
const replySample = encodeReply({ kind: 'data', segments: replySegments, csm: { flags: 0x10, protocolLevel: 2 } }, { llll: false });
const xcfSmall = encodeXcfFrame({ control: otmaControl({ messageType: OtmaMessageType.DATA, tpipe: 'CLIENT01', sendSequence: 1 }), segments: [new Uint8Array(96).fill(0xc1)] });
const xcfLarge = encodeXcfFrame({ control: otmaControl({ messageType: OtmaMessageType.DATA, tpipe: 'CLIENT01', sendSequence: 1 }), segments: [new Uint8Array(4000).fill(0xc1)] });

interface Case {
  readonly name: string;
  readonly message: Uint8Array;
  readonly chunk: number;
  readonly ours: () => { push(c: Uint8Array): Uint8Array[] };
  readonly base: () => { push(c: Uint8Array): Uint8Array[] };
}

const cases: Case[] = [
  { name: `RequestFrameReader, ${request.length}-byte requests, 64 KB chunks`, message: request, chunk: 65536, ours: () => new RequestFrameReader(), base: () => new BaselineLlll() },
  { name: `ReplyFrameReader SAMPL1, ${replyLlll.length}-byte replies, 64 KB chunks`, message: replyLlll, chunk: 65536, ours: () => new ReplyFrameReader({ llll: true }), base: () => new BaselineLlll() },
  { name: `ReplyFrameReader SAMPLE, ${replySample.length}-byte replies, 64 KB chunks`, message: replySample, chunk: 65536, ours: () => new ReplyFrameReader({ llll: false }), base: () => new BaselineSample() },
  { name: `XcfFrameReader, ${xcfSmall.length}-byte frames, 64 KB chunks`, message: xcfSmall, chunk: 65536, ours: () => new XcfFrameReader(), base: () => new BaselineLlll() },
  { name: `XcfFrameReader, ${xcfLarge.length}-byte frames, 1460-byte chunks`, message: xcfLarge, chunk: 1460, ours: () => new XcfFrameReader(), base: () => new BaselineLlll() },
];

let sink = 0;
const rows: BenchRow[] = [];
for (const c of cases) {
  const { stream, count } = streamOf(c.message);
  const chunks = chunksOf(stream, c.chunk);
  const run = (make: () => { push(c: Uint8Array): Uint8Array[] }): Uint8Array[] => {
    const r = make();
    const out: Uint8Array[] = [];
    for (const ch of chunks) for (const f of r.push(ch)) out.push(f);
    return out;
  };
  // Both sides must agree before they are timed.
  const a = run(c.ours);
  const b = run(c.base);
  if (a.length !== count || b.length !== count || a.some((f, i) => f.length !== b[i]!.length || f.some((v, j) => v !== b[i]![j]))) throw new Error(`${c.name}: readers disagree`);
  const time = (make: () => { push(c: Uint8Array): Uint8Array[] }) => () => {
    const r = make();
    for (const ch of chunks) sink += r.push(ch).length;
  };
  const cmp = compare(time(c.ours), time(c.base), { warmup: 30, batch: 2, ms: 150, rounds: 11 });
  rows.push({ case: c.name, ours: cmp.ours * count, base: cmp.base * count, ratio: cmp.ratio });
}

report({ title: 'stream readers (256 KB stream), median of 11 paired rounds × 150 ms after warm-up', suite: 'codec/framer', unit: 'frames/s', baseline: 'hand-written splitter', rows });
if (sink === 42) console.log('');
