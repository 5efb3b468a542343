import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CodecError } from './errors.js';
import { OtmaMessageType, type OtmaMessage, encodeOtmaMessage, otmaControl } from './otma.js';
import { ByteBuilder, toHex, withLlll } from './testing/replies.js';
import { XCF_MIN_FRAME, XcfFrameReader, decodeXcfFrame, encodeXcfFrame } from './xcf.js';

const message: OtmaMessage = {
  control: otmaControl({ messageType: OtmaMessageType.TRANSACTION, tpipe: 'CLIENT01', sendSequence: 1 }),
  state: { form: 'transaction', serverState: 0x10, rest: Uint8Array.from([0x20, 0]) },
  segments: [new ByteBuilder().ebcdic('IVTNO    DISPLAY LAST1').bytes()],
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof CodecError) return e.code;
    throw e;
  }
  return undefined;
}

describe('XCF link frame', () => {
  const frame = encodeXcfFrame(message);
  it('is LLLL (total, itself included) + the OTMA message', () => {
    expect(toHex(frame)).toBe(toHex(withLlll(encodeOtmaMessage(message))));
    expect(decodeXcfFrame(frame)).toEqual(decodeXcfFrame(withLlll(encodeOtmaMessage(message))));
    expect(decodeXcfFrame(frame).segments![0]).toEqual(message.segments![0]);
  });
  it('rejects a length that disagrees with the bytes', () => {
    expect(codeOf(() => decodeXcfFrame(frame.subarray(0, frame.length - 1)))).toBe('IMS_ERR_BAD_LENGTH');
    expect(codeOf(() => decodeXcfFrame(frame.subarray(0, 3)))).toBe('IMS_ERR_TRUNCATED');
  });
  it('frames identically for any split and byte by byte', () => {
    const stream = new ByteBuilder().raw(frame).raw(frame).bytes();
    for (let cut = 0; cut <= stream.length; cut++) {
      const r = new XcfFrameReader({ maxFrameSize: 1024 });
      const got = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))];
      expect(got.map(toHex)).toEqual([toHex(frame), toHex(frame)]);
    }
    const r = new XcfFrameReader();
    const got: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i++) got.push(...r.push(stream.subarray(i, i + 1)));
    expect(got).toHaveLength(2);
    expect(r.bufferedBytes).toBe(0);
  });
  it('returns frames inside a chunk as views of it; a frame across chunks is copied once, into its own buffer', () => {
    const chunk = Buffer.from(new ByteBuilder().raw(frame).raw(frame).raw(frame.subarray(0, 10)).bytes());
    const r = new XcfFrameReader();
    const [a, b] = r.push(chunk);
    expect(Buffer.isBuffer(a)).toBe(false); // plain views, so slice() copies
    expect([a!.buffer, b!.buffer]).toEqual([chunk.buffer, chunk.buffer]);
    expect([a!.byteOffset - chunk.byteOffset, b!.byteOffset - chunk.byteOffset]).toEqual([0, frame.length]);
    const rest = new ByteBuilder().raw(frame.subarray(10)).raw(frame).bytes();
    const [c, d] = r.push(rest);
    expect(c!.buffer).not.toBe(chunk.buffer);
    expect(c!.buffer).not.toBe(rest.buffer);
    expect(d!.buffer).toBe(rest.buffer);
    expect([a, b, c, d].map((f) => toHex(f!))).toEqual(new Array(4).fill(toHex(frame)));
    // decoded segments alias the frame, and so the pushed chunk
    expect(decodeXcfFrame(a!).segments![0]!.buffer).toBe(chunk.buffer);
  });
  it('assembles frames of several KB from TCP-sized chunks byte-exact (uninitialised buffers fully written)', () => {
    const big = (fill: number, n: number): Uint8Array => encodeXcfFrame({ ...message, segments: [new Uint8Array(n).fill(fill)] });
    const frames = [big(0xc1, 5000), big(0xc2, 3000), big(0xc3, 20_000), big(0xc4, 10)];
    const stream = new ByteBuilder().raw(frames.flatMap((f) => [...f])).bytes();
    const r = new XcfFrameReader();
    const got: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i += 1460) got.push(...r.push(stream.slice(i, i + 1460)));
    expect(got.map(toHex)).toEqual(frames.map(toHex));
    expect(r.bufferedBytes).toBe(0);
  });
  it('decodes messages straight from the reader', () => {
    const r = new XcfFrameReader();
    r.write(frame);
    expect(r.readMessage()?.control.tpipe).toBe('CLIENT01');
    expect(r.readMessage()).toBeUndefined();
  });
  it('rejects oversized and undersized lengths as soon as the LLLL arrives, then stays failed', () => {
    const r = new XcfFrameReader({ maxFrameSize: 100 });
    expect(codeOf(() => r.write(Uint8Array.of(0, 0, 0, 101)))).toBe('IMS_ERR_FRAME_TOO_LARGE');
    expect(codeOf(() => r.read())).toBe('IMS_ERR_FRAME_TOO_LARGE');
    r.reset();
    expect(codeOf(() => r.write(Uint8Array.of(0, 0, 0, XCF_MIN_FRAME - 1)))).toBe('IMS_ERR_BAD_LENGTH');
  });
  it('bounds buffered bytes before copying', () => {
    const r = new XcfFrameReader({ maxFrameSize: 64, maxBufferedBytes: 64 });
    expect(codeOf(() => r.write(new Uint8Array(65)))).toBe('IMS_ERR_FRAME_TOO_LARGE');
    expect(r.bufferedBytes).toBe(0);
  });
});

describe('XCF properties', () => {
  it('arbitrary and mutated bytes through the reader and decoder give frames, messages or CodecErrors', () => {
    const frame = encodeXcfFrame(message);
    const mutated = fc.tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat({ max: 9 })).map(([edits, chunk]) => {
      const b = frame.slice();
      for (const [at, v] of edits) b[at % b.length] = v;
      return { bytes: b, chunk: chunk + 1 };
    });
    const random = fc.record({ bytes: fc.uint8Array({ maxLength: 120 }), chunk: fc.integer({ min: 1, max: 10 }) });
    fc.assert(
      fc.property(fc.oneof(mutated, random), ({ bytes, chunk }) => {
        const r = new XcfFrameReader({ maxFrameSize: 256 });
        try {
          for (let i = 0; i < bytes.length; i += chunk) for (const f of r.push(bytes.subarray(i, i + chunk))) decodeXcfFrame(f);
        } catch (e) {
          if (!(e instanceof CodecError)) throw e;
        }
        try {
          decodeXcfFrame(bytes);
        } catch (e) {
          if (!(e instanceof CodecError)) throw e;
        }
      }),
      { numRuns: 200 },
    );
  });
});
