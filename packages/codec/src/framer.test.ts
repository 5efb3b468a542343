import { describe, expect, it } from 'vitest';
import { CodecErrorCode } from './errors.js';
import { RequestFrameReader } from './framer.js';
import { decodeRequest } from './request.js';
import { toHex } from './testing/replies.js';
import { naiveRequest } from './testing/requests.js';
import { ACK_CM1, PING, REQUEST_VECTORS, SEND_RECEIVE_CM1 } from './testing/vectors.js';

const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

describe('RequestFrameReader', () => {
  it('returns a frame that lies inside one chunk without copying it', () => {
    const chunk = SEND_RECEIVE_CM1.bytes();
    const [frame] = new RequestFrameReader().push(chunk);
    expect(frame!.buffer).toBe(chunk.buffer);
    expect(frame!.byteOffset).toBe(0);
    expect(frame!.length).toBe(chunk.length);
  });

  it('returns a plain Uint8Array chunk that is exactly one frame as itself, a Buffer one as a plain view', () => {
    const chunk = SEND_RECEIVE_CM1.bytes();
    expect(new RequestFrameReader().push(chunk)[0]).toBe(chunk);
    const buf = Buffer.from(chunk);
    const [view] = new RequestFrameReader().push(buf);
    expect(view).not.toBe(buf);
    expect(Buffer.isBuffer(view)).toBe(false);
    expect(toHex(view!)).toBe(toHex(chunk));
  });

  it('pushInto appends the frames push would return to a caller array, errors included', () => {
    const all = REQUEST_VECTORS.map((v) => v.bytes());
    const stream = concat(...all);
    for (const cut of [0, 1, 7, 40, stream.length - 3]) {
      const a = new RequestFrameReader();
      const b = new RequestFrameReader();
      const out: Uint8Array[] = [PING.bytes()]; // existing entries stay first
      const n1 = a.pushInto(stream.subarray(0, cut), out);
      const n2 = a.pushInto(stream.subarray(cut), out);
      const viaPush = [...b.push(stream.subarray(0, cut)), ...b.push(stream.subarray(cut))];
      expect(n1 + n2).toBe(all.length);
      expect(out.slice(1).map(toHex)).toEqual(viaPush.map(toHex));
      expect(toHex(out[0]!)).toBe(toHex(PING.bytes()));
    }
    // A good frame then a bad LLLL in one chunk: the frame is appended, the error comes next call.
    const bad = concat(PING.bytes(), new Uint8Array([0, 0, 0, 2, 0, 0]));
    const r = new RequestFrameReader();
    const q: Uint8Array[] = [];
    expect(r.pushInto(bad, q)).toBe(1);
    expect(toHex(q[0]!)).toBe(toHex(PING.bytes()));
    expect(() => r.pushInto(new Uint8Array(1), q)).toThrow(expect.objectContaining({ code: CodecErrorCode.BAD_LENGTH }));
    expect(q.length).toBe(1);
    // A bad LLLL alone throws at once and appends nothing.
    expect(() => new RequestFrameReader().pushInto(new Uint8Array([0, 0, 0, 2]), q)).toThrow(expect.objectContaining({ code: CodecErrorCode.BAD_LENGTH }));
    expect(q.length).toBe(1);
  });

  it('returns plain Uint8Array views of Buffer chunks (slice() copies), and copies a split frame once', () => {
    const a = SEND_RECEIVE_CM1.bytes();
    const chunk = Buffer.from(concat(a, a.subarray(0, 30)));
    const r = new RequestFrameReader();
    const [first] = r.push(chunk);
    expect(Buffer.isBuffer(first)).toBe(false);
    expect(first!.buffer).toBe(chunk.buffer);
    const tail = concat(a.subarray(30), ACK_CM1.bytes());
    const [second, third] = r.push(tail);
    expect(second!.buffer).not.toBe(chunk.buffer); // assembled: a buffer of its own (a slab region)
    expect(second!.buffer).not.toBe(tail.buffer);
    expect(third!.buffer).toBe(tail.buffer);
    expect([second, third].map((f) => toHex(f!))).toEqual([toHex(a), toHex(ACK_CM1.bytes())]);
  });

  it('yields every frame of a stream for any split into two chunks, and byte by byte', () => {
    const all = REQUEST_VECTORS.map((v) => v.bytes());
    const stream = concat(...all);
    const expected = all.map(toHex);
    for (let cut = 0; cut <= stream.length; cut++) {
      const r = new RequestFrameReader();
      const frames = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))];
      expect(frames.map(toHex)).toEqual(expected);
      expect(r.bufferedBytes).toBe(0);
    }
    const r = new RequestFrameReader();
    const frames: Uint8Array[] = [];
    for (const b of stream) frames.push(...r.push(Uint8Array.of(b)));
    expect(frames.map(toHex)).toEqual(expected);
  });

  it('yields the same frames for three-way splits', () => {
    const stream = concat(ACK_CM1.bytes(), PING.bytes());
    for (let a = 0; a <= stream.length; a += 5) {
      for (let b = a; b <= stream.length; b += 7) {
        const r = new RequestFrameReader();
        const frames = [...r.push(stream.subarray(0, a)), ...r.push(stream.subarray(a, b)), ...r.push(stream.subarray(b))];
        expect(frames.map(toHex)).toEqual([toHex(ACK_CM1.bytes()), toHex(PING.bytes())]);
      }
    }
  });

  it('frames it assembled stay intact after later pushes', () => {
    const r = new RequestFrameReader();
    const a = SEND_RECEIVE_CM1.bytes();
    expect(r.push(a.subarray(0, 50))).toEqual([]);
    const [frame] = r.push(concat(a.subarray(50), ACK_CM1.bytes().subarray(0, 10)));
    const copy = toHex(frame!);
    r.push(ACK_CM1.bytes().subarray(10));
    expect(toHex(frame!)).toBe(copy);
    expect(decodeRequest(frame!).segments.length).toBe(1);
  });

  it('rejects an LLLL above maxFrameSize before buffering the body', () => {
    const r = new RequestFrameReader({ maxFrameSize: 1000 });
    const header = Uint8Array.of(0x00, 0x00, 0x03, 0xe9); // 1001
    expect(() => r.push(header)).toThrowError(expect.objectContaining({ code: CodecErrorCode.FRAME_TOO_LARGE, details: expect.objectContaining({ reason: 7, llll: 1001 }) }));
    expect(r.bufferedBytes).toBe(0);
    expect(r.failed).toBe(true);
    // sticky until reset
    expect(() => r.push(SEND_RECEIVE_CM1.bytes())).toThrowError(expect.objectContaining({ code: CodecErrorCode.FRAME_TOO_LARGE }));
    r.reset();
    expect(r.push(SEND_RECEIVE_CM1.bytes()).length).toBe(1);
  });

  it('rejects a huge LLLL split across chunks with the default 10 MB limit', () => {
    const r = new RequestFrameReader();
    expect(r.push(Uint8Array.of(0x7f, 0xff))).toEqual([]);
    expect(() => r.push(Uint8Array.of(0xff, 0xff))).toThrowError(expect.objectContaining({ code: CodecErrorCode.FRAME_TOO_LARGE }));
  });

  it('rejects an LLLL below X58 with IMS_ERR_BAD_LENGTH', () => {
    expect(() => new RequestFrameReader().push(naiveRequest({ llll: 0x57 }))).toThrowError(expect.objectContaining({ code: CodecErrorCode.BAD_LENGTH, details: expect.objectContaining({ reason: 7 }) }));
  });

  it('delivers frames that precede a bad length, then fails on the next push', () => {
    const r = new RequestFrameReader();
    const frames = r.push(concat(ACK_CM1.bytes(), Uint8Array.of(0, 0, 0, 1)));
    expect(frames.map(toHex)).toEqual([toHex(ACK_CM1.bytes())]);
    expect(r.failed).toBe(true);
    expect(() => r.push(new Uint8Array(0))).toThrowError(expect.objectContaining({ code: CodecErrorCode.BAD_LENGTH }));
  });

  it('validates its options', () => {
    expect(() => new RequestFrameReader({ maxFrameSize: 10 })).toThrowError(expect.objectContaining({ code: CodecErrorCode.INVALID_VALUE }));
    expect(() => new RequestFrameReader({ minFrameSize: 2 })).toThrowError(expect.objectContaining({ code: CodecErrorCode.INVALID_VALUE }));
    expect(new RequestFrameReader().maxFrameSize).toBe(10 * 1024 * 1024);
  });
});
