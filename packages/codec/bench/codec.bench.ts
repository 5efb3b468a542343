/**
 * Codec throughput, requests: `decodeRequest` / `encodeRequest` of a SAMPL1 send-receive (the §13.1
 * shape: ARCH0 IRM, one segment), next to a minimal hand-written DataView reader/writer of the same
 * message measured in the same run. The baseline builds the same value (flag bytes as named fields,
 * EBCDIC names as strings) so the two results are checked equal before timing.
 *
 * Prints a table and one `@@bench {json}` line per row (collected by the root `pnpm bench`).
 *
 *   tsx --conditions=@imsplex/source bench/codec.bench.ts
 *
 * Reply half: `bench/reply.bench.ts` (two data segments + CSM), the stream readers
 * (`bench/framer.bench.ts`) and the OTMA/XCF codec (`bench/otma.bench.ts`) are run at the end of this file.
 */
import { isDeepStrictEqual } from 'node:util';
import { CP037 } from '../src/ebcdic.js';
import { SAMPL1_EXIT } from '../src/exits.js';
import type { Irm, SampleUserPart } from '../src/irm.js';
import { buildRequest, decodeRequest, encodeRequest, type ImsRequest } from '../src/request.js';
import { compare, report } from './harness.js';

const REQUEST = buildRequest({
  clientId: 'CLIENT01',
  datastore: 'IMS1',
  racfUserId: 'USER01',
  racfPassword: 'SECRET',
  timer: { code: 0x31 },
  trancode: 'IVTNO',
  data: 'DISPLAY LAST1',
});
const BYTES = encodeRequest(REQUEST);

// ---------------------------------------------------------------------------------------------------
// Hand-written baseline (only this message shape: *SAMPL1* ARCH0, EBCDIC, LLZZ segments)
// ---------------------------------------------------------------------------------------------------

const CHARS = CP037.chars;
function char8(b: Uint8Array, o: number): string {
  let e = o + 8;
  while (e > o && (b[e - 1] === 0x40 || b[e - 1] === 0x00 || b[e - 1] === 0x20)) e--;
  let s = '';
  for (let i = o; i < e; i++) s += CHARS[b[i]!];
  return s;
}
const F4_EBCDIC: Record<number, string> = { 0x40: 'SEND_RECEIVE', 0xc1: 'ACK', 0xd5: 'NAK', 0xd9: 'RESUME_TPIPE' };

function baselineDecode(b: Uint8Array): ImsRequest {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const total = dv.getUint32(0);
  if (total !== b.length || total < 88) throw new Error('bad LLLL');
  const irmLen = dv.getUint16(4);
  if (irmLen < 80 || 4 + irmLen > total - 4) throw new Error('bad IRM_LEN');
  for (let i = 0; i < 8; i++) if (b[8 + i] !== SAMPL1_EXIT.ebcdicId[i]) throw new Error('not *SAMPL1*');
  const f0 = b[7]!;
  const f5 = b[20]!;
  const f1 = b[32]!;
  const f2 = b[33]!;
  const f3 = b[34]!;
  const f4 = b[35]!;
  const user: SampleUserPart = {
    f1: { raw: f1, mfsRequest: (f1 & 0x80) !== 0, clientIdRequest: (f1 & 0x40) !== 0, unicodeData: (f1 & 0x20) !== 0, unicodeTrancode: (f1 & 0x10) !== 0, sendOnlyAckNoText: (f1 & 0x04) !== 0, noWait: (f1 & 0x02) !== 0, transactionExpiration: (f1 & 0x01) !== 0 },
    f2: { raw: f2, commitMode: (['UNSPECIFIED', 'CM1', 'CM0', 'BOTH'] as const)[(f2 >> 5) & 3]!, sendAltp: (f2 & 0x02) !== 0, generateClientId: (f2 & 0x01) !== 0 },
    f3: { raw: f3, syncLevel: (['NONE', 'CONFIRM', 'SYNCPT', 'RESERVED'] as const)[f3 & 3]!, purge: (f3 & 0x04) !== 0, reroute: (f3 & 0x08) !== 0, ordered: (f3 & 0x10) !== 0, ignorePurg: (f3 & 0x20) !== 0, dfs2082: (f3 & 0x40) !== 0, cancelClientId: (f3 & 0x80) !== 0 },
    f4: { raw: f4, type: (F4_EBCDIC[f4] ?? 'UNKNOWN') as 'SEND_RECEIVE', codeSet: 'ebcdic' },
    trancode: char8(b, 36),
    datastore: char8(b, 44),
    lterm: char8(b, 52),
    racfUserId: char8(b, 60),
    racfGroup: char8(b, 68),
    racfPassword: char8(b, 76),
    kind: 'sample',
  };
  const irm: Irm = {
    length: irmLen,
    arch: b[6]!,
    f0: { raw: f0, syncOnly: (f0 & 0x80) !== 0, syncThenAsync: (f0 & 0x40) !== 0, syncNak: (f0 & 0x20) !== 0, nakReason: (f0 & 0x10) !== 0, extensions: (f0 & 0x04) !== 0, xmlData: (f0 & 0x02) !== 0, xmlTranData: (f0 & 0x01) !== 0 },
    id: char8(b, 8),
    nakReasonCode: dv.getUint16(16),
    reserved: dv.getUint16(18),
    f5: { raw: f5, otmaHeaders: (f5 & 0x80) !== 0, noTranslation: (f5 & 0x40) !== 0, singleWait: (f5 & 0x10) !== 0, xid: (f5 & 0x08) !== 0, noAuto: (f5 & 0x04) !== 0, auto: (f5 & 0x02) !== 0, one: (f5 & 0x01) !== 0 },
    timer: b[21]!,
    socketType: b[22]!,
    encodingScheme: b[23]!,
    clientId: char8(b, 24),
    user,
    tail: b.subarray(84, 4 + irmLen),
    extensions: [],
  };
  const segments: Uint8Array[] = [];
  let p = 4 + irmLen;
  for (;;) {
    const ll = dv.getUint16(p);
    if (ll === 4 && dv.getUint16(p + 2) === 0) break;
    if (ll < 5 || p + ll > total) throw new Error('bad LL');
    segments.push(b.subarray(p + 4, p + ll));
    p += ll;
  }
  if (p + 4 !== total) throw new Error('trailing bytes');
  return { irm, codeSet: 'ebcdic', exit: SAMPL1_EXIT, segments, segmentFormat: 'llzz' };
}

function put8(out: Uint8Array, o: number, s: string): void {
  for (let i = 0; i < 8; i++) out[o + i] = i < s.length ? CP037.byteOf(s.charCodeAt(i)) : 0x40;
}

function baselineEncode(r: ImsRequest): Uint8Array {
  const u = r.irm.user as SampleUserPart;
  let total = 4 + 80 + 4;
  for (const s of r.segments) total += 4 + s.length;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, total);
  dv.setUint16(4, 80);
  out[6] = r.irm.arch;
  out[7] = r.irm.f0.raw;
  out.set(SAMPL1_EXIT.ebcdicId, 8);
  dv.setUint16(16, r.irm.nakReasonCode);
  dv.setUint16(18, r.irm.reserved);
  out[20] = r.irm.f5.raw;
  out[21] = r.irm.timer;
  out[22] = r.irm.socketType;
  out[23] = r.irm.encodingScheme;
  put8(out, 24, r.irm.clientId);
  out[32] = u.f1.raw;
  out[33] = u.f2.raw;
  out[34] = u.f3.raw;
  out[35] = u.f4.raw;
  put8(out, 36, u.trancode);
  put8(out, 44, u.datastore);
  put8(out, 52, u.lterm);
  put8(out, 60, u.racfUserId);
  put8(out, 68, u.racfGroup);
  put8(out, 76, u.racfPassword);
  let p = 84;
  for (const s of r.segments) {
    dv.setUint16(p, s.length + 4);
    out.set(s, p + 4);
    p += s.length + 4;
  }
  dv.setUint32(p, 0x00040000);
  return out;
}

// Harness: bench/harness.ts (warm-up, paired rounds, medians).

let sink = 0;

// Both paths must agree before they are timed.
{
  const ours = decodeRequest(BYTES);
  const base = baselineDecode(BYTES);
  if (!isDeepStrictEqual(JSON.parse(JSON.stringify(ours)), JSON.parse(JSON.stringify(base)))) throw new Error('decoders disagree');
  const e1 = encodeRequest(REQUEST);
  const e2 = baselineEncode(REQUEST);
  if (e1.length !== e2.length || e1.some((v, i) => v !== e2[i])) throw new Error('encoders disagree');
}

const rows = [
  {
    case: 'decode SAMPL1 request (§13.1 shape)',
    ...compare(
      () => {
        sink += decodeRequest(BYTES).segments.length;
      },
      () => {
        sink += baselineDecode(BYTES).segments.length;
      },
    ),
  },
  {
    case: 'encode SAMPL1 request (§13.1 shape)',
    ...compare(
      () => {
        sink += encodeRequest(REQUEST).length;
      },
      () => {
        sink += baselineEncode(REQUEST).length;
      },
    ),
  },
];

report({
  title: `request codec (${BYTES.length}-byte message), median of 15 paired rounds × 120 ms after warm-up`,
  suite: 'codec/request',
  unit: 'msg/s',
  baseline: 'hand-written DataView',
  goal: 0.8,
  rows,
});
if (sink === 42) console.log('');

// ---- reply half (helper B's file): two data segments + CSM ----
console.log('');
await import('./reply.bench.js');

// ---- stream readers: request, reply and XCF framing ----
console.log('');
await import('./framer.bench.js');

// ---- OTMA messages and XCF frames: the IVTNO send-receive message vs the previous implementation ----
console.log('');
await import('./otma.bench.js');
