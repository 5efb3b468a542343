import { describe, expect, it } from 'vitest';
import { CodecError } from './errors.js';
import { ReplyFrameReader } from './reply-framer.js';
import { ByteBuilder, toHex, withLlll } from './testing/replies.js';

/** A SAMPLE-form reply: one LLZZ segment + CSM. */
function body(text: string, csmFlags = 0x10): Uint8Array {
  return new ByteBuilder()
    .u16(4 + text.length) // LL
    .u16(0) // ZZ
    .ebcdic(text) // data
    .u16(12) // CSM_LEN
    .u8(csmFlags) // CSM_FLG1
    .u8(0x02) // CSM_PRLVLFLG
    .ebcdic('*CSMOKY*') // CSM_ID
    .bytes();
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof CodecError) return e.code;
    throw e;
  }
  return undefined;
}

describe('ReplyFrameReader', () => {
  it('rejects an oversized SAMPL1 length as soon as the LLLL arrives', () => {
    const reader = new ReplyFrameReader({ llll: true, maxFrameSize: 100 });
    expect(codeOf(() => reader.write(Uint8Array.of(0, 0, 0)))).toBeUndefined();
    expect(codeOf(() => reader.write(Uint8Array.of(101)))).toBe('IMS_ERR_FRAME_TOO_LARGE');
    // the stream is out of step: later calls throw the same error
    expect(codeOf(() => reader.read())).toBe('IMS_ERR_FRAME_TOO_LARGE');
    reader.reset();
    expect(reader.push(withLlll(body('OK')))).toHaveLength(1);
  });

  it('rejects a SAMPLE reply whose structures add up past the limit before they are all buffered', () => {
    const reader = new ReplyFrameReader({ llll: false, maxFrameSize: 64 });
    const seg = new ByteBuilder().u16(40).u16(0).fill(0xc1, 36).bytes(); // LL 40, ZZ, data
    reader.write(seg);
    expect(codeOf(() => reader.write(Uint8Array.of(0, 40)))).toBe('IMS_ERR_FRAME_TOO_LARGE');
  });

  it('rejects a SAMPL1 length below LLLL + CSM', () => {
    const reader = new ReplyFrameReader({ llll: true });
    expect(codeOf(() => reader.write(Uint8Array.of(0, 0, 0, 8)))).toBe('IMS_ERR_BAD_LENGTH');
  });

  it('bounds the bytes it holds, checking before it copies', () => {
    const reader = new ReplyFrameReader({ llll: true, maxFrameSize: 64, maxBufferedBytes: 64 });
    reader.write(new Uint8Array([0, 0, 0, 39]));
    expect(codeOf(() => reader.write(new Uint8Array(61)))).toBe('IMS_ERR_FRAME_TOO_LARGE');
    expect(reader.bufferedBytes).toBe(4);
  });

  it('switches framing per reply', () => {
    const r1 = withLlll(body('FIRST'));
    const r2 = body('SECOND', 0x30);
    const r3 = withLlll(body('THIRD'));
    const stream = new ByteBuilder().raw(r1).raw(r2).raw(r3).bytes();
    const reader = new ReplyFrameReader({ llll: true });
    reader.write(stream);
    const a = reader.read();
    reader.llll = false;
    const b = reader.read();
    reader.llll = true;
    const c = reader.read();
    expect([a, b, c].map((f) => toHex(f!))).toEqual([r1, r2, r3].map(toHex));
    expect(reader.read()).toBeUndefined();
  });

  it('re-scans a partial reply when the framing changes mid-way', () => {
    const r = body('PARTIAL');
    const reader = new ReplyFrameReader({ llll: true, maxFrameSize: 1 << 20 });
    reader.write(r.subarray(0, 5)); // read as LLLL X'000B0000' — within the limit, incomplete
    expect(reader.read()).toBeUndefined();
    reader.llll = false;
    reader.write(r.subarray(5));
    expect(toHex(reader.read()!)).toBe(toHex(r));
  });

  it('readReply decodes with the current framing', () => {
    const reader = new ReplyFrameReader({ llll: false });
    reader.write(body('HELLO'));
    const reply = reader.readReply();
    expect(reply).toMatchObject({ kind: 'data', csm: { flags: 0x10, protocolLevel: 2 } });
    expect(reader.readReply()).toBeUndefined();
  });

  it('returned frames are never changed by later writes', () => {
    const reader = new ReplyFrameReader({ llll: false });
    const r = body('KEEP');
    const [frame] = reader.push(new ByteBuilder().raw(r).raw(r.subarray(0, 6)).bytes());
    const before = toHex(frame!);
    // the rest of the second reply, then replies that force compaction and growth of the buffer
    expect(reader.push(r.subarray(6))).toHaveLength(1);
    for (let i = 0; i < 50; i++) reader.push(body('X'.repeat(i * 40)));
    expect(toHex(frame!)).toBe(before);
  });

  it('returns a reply that lies in one chunk as a view of it, without a copy', () => {
    const chunk = new ByteBuilder().raw(withLlll(body('ONE'))).raw(withLlll(body('TWO'))).bytes();
    const reader = new ReplyFrameReader({ llll: true });
    const [a, b] = reader.push(chunk);
    expect(a!.buffer).toBe(chunk.buffer);
    expect(b!.buffer).toBe(chunk.buffer);
    expect([a!.byteOffset, b!.byteOffset]).toEqual([0, a!.length]);
    expect([toHex(a!), toHex(b!)]).toEqual([toHex(withLlll(body('ONE'))), toHex(withLlll(body('TWO')))]);
  });

  it('assembles a reply that spans chunks once, from its own bytes only; the replies after it stay views', () => {
    for (const llll of [true, false]) {
      const first = new ByteBuilder()
        .u16(20).u16(0).ebcdic('*REQMOD*').ebcdic('MODNAME1') // RMM: LL, ZZ, ID, MOD name
        .u16(4 + 30).u16(0).fill(0xc1, 30) // data segment
        .u16(4 + 5).u16(0).fill(0xc2, 5) // data segment
        .u16(12).u8(0x10).u8(0x02).ebcdic('*CSMOKY*') // CSM
        .bytes();
      const r1 = llll ? withLlll(first) : first;
      const r2 = llll ? withLlll(body('SECOND')) : body('SECOND');
      for (let cut = 1; cut < r1.length; cut++) {
        const c1 = r1.slice(0, cut);
        const c2 = new ByteBuilder().raw(r1.subarray(cut)).raw(r2).bytes();
        const reader = new ReplyFrameReader({ llll });
        const got = [...reader.push(c1), ...reader.push(c2)];
        expect(got.map(toHex)).toEqual([toHex(r1), toHex(r2)]);
        expect(got[0]!.buffer).not.toBe(c1.buffer);
        expect(got[0]!.buffer).not.toBe(c2.buffer);
        expect(got[1]!.buffer).toBe(c2.buffer); // not copied
        expect(reader.bufferedBytes).toBe(0);
      }
    }
  });

  it('assembles large SAMPLE replies (length unknown until the CSM) from TCP-sized chunks', () => {
    const seg = (fill: number, n: number): number[] => [...new ByteBuilder().u16(n + 4).u16(0).fill(fill, n).bytes()]; // LL, ZZ, data
    const big = new ByteBuilder().raw([...seg(0xc1, 30_000), ...seg(0xc2, 20_000), ...seg(0xc3, 7)]).u16(12).u8(0x10).u8(0x02).ebcdic('*CSMOKY*').bytes();
    const stream = new ByteBuilder().raw(big).raw(body('AFTER')).raw(big).bytes();
    const reader = new ReplyFrameReader({ llll: false });
    const got: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i += 1460) got.push(...reader.push(stream.slice(i, i + 1460)));
    expect(got.map(toHex)).toEqual([big, body('AFTER'), big].map(toHex));
    expect(reader.bufferedBytes).toBe(0);
  });

  it('returns plain Uint8Arrays for Buffer chunks, so slice() copies', () => {
    const chunk = Buffer.from(withLlll(body('BUF')));
    const [frame] = new ReplyFrameReader({ llll: true }).push(chunk);
    expect(Buffer.isBuffer(frame)).toBe(false);
    expect(frame!.buffer).toBe(chunk.buffer);
    const copy = frame!.slice(0, 4);
    copy[0] = 0xff;
    expect(frame![0]).toBe(0);
  });

  it('gives back bytes it assembled past a reply when the framing changes', () => {
    // Read as SAMPL1, the first 4 bytes of this SAMPLE stream say 0x00040020 bytes (an empty segment
    // with ZZ X'0020'): the reader assembles that much, then the client switches to SAMPLE framing.
    const first = new ByteBuilder().u16(4).u16(0x20).u16(12).u8(0x10).u8(0x02).ebcdic('*CSMOKY*').bytes();
    const fillers: Uint8Array[] = [];
    let total = first.length;
    while (total < 0x00040020 + 2000) {
      const f = body('F'.repeat(1000));
      fillers.push(f);
      total += f.length;
    }
    const stream = new ByteBuilder().raw(first).raw(new ByteBuilder().raw(fillers.flatMap((f) => [...f])).bytes()).bytes();
    const reader = new ReplyFrameReader({ llll: true, maxFrameSize: 1 << 20 });
    reader.write(stream.subarray(0, 10));
    reader.write(stream.subarray(10));
    reader.llll = false;
    const got: Uint8Array[] = [];
    for (let f = reader.read(); f !== undefined; f = reader.read()) got.push(f);
    expect(got.map(toHex)).toEqual([first, ...fillers].map(toHex));
    expect(reader.bufferedBytes).toBe(0);
  });

  it('merges many chunks written without reading, and frames them the same', () => {
    const replies = Array.from({ length: 80 }, (_, i) => withLlll(body(`R${i}`))); // > 1024 one-byte chunks
    const stream = new ByteBuilder().raw(replies.flatMap((r) => [...r])).bytes();
    const reader = new ReplyFrameReader({ llll: true });
    for (let i = 0; i < stream.length; i++) reader.write(stream.subarray(i, i + 1));
    expect(reader.bufferedBytes).toBe(stream.length);
    const got: Uint8Array[] = [];
    for (let f = reader.read(); f !== undefined; f = reader.read()) got.push(f);
    expect(got.map(toHex)).toEqual(replies.map(toHex));
  });

  it('validates options', () => {
    expect(codeOf(() => new ReplyFrameReader({ llll: true, maxFrameSize: 3 }))).toBe('IMS_ERR_INVALID_VALUE');
    expect(codeOf(() => new ReplyFrameReader({ llll: true, maxFrameSize: 100, maxBufferedBytes: 50 }))).toBe('IMS_ERR_INVALID_VALUE');
  });
});
