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

  it('returned frames are copies that later writes cannot change', () => {
    const reader = new ReplyFrameReader({ llll: false });
    const r = body('KEEP');
    const [frame] = reader.push(new ByteBuilder().raw(r).raw(r.subarray(0, 6)).bytes());
    const before = toHex(frame!);
    // the rest of the second reply, then replies that force compaction and growth of the buffer
    expect(reader.push(r.subarray(6))).toHaveLength(1);
    for (let i = 0; i < 50; i++) reader.push(body('X'.repeat(i * 40)));
    expect(toHex(frame!)).toBe(before);
  });

  it('validates options', () => {
    expect(codeOf(() => new ReplyFrameReader({ llll: true, maxFrameSize: 3 }))).toBe('IMS_ERR_INVALID_VALUE');
    expect(codeOf(() => new ReplyFrameReader({ llll: true, maxFrameSize: 100, maxBufferedBytes: 50 }))).toBe('IMS_ERR_INVALID_VALUE');
  });
});
