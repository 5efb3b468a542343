/**
 * vitest helpers that turn one golden vector into several tests (mqtt-packet's testParseGenerate
 * pattern). Not exported from `@imsplex/codec/testing` (it imports vitest); import this file directly
 * from tests inside the package.
 */
import { expect, it } from 'vitest';
import { isImsplexError } from '../errors.js';
import { RequestFrameReader } from '../framer.js';
import { decodeRequest, encodeRequest, type DecodeRequestOptions, type ImsRequest } from '../request.js';
import { toHex } from './replies.js';

/** Feed `bytes` through a fresh reader in the given chunks; returns every frame. */
export function frameChunks(chunks: readonly Uint8Array[], options?: ConstructorParameters<typeof RequestFrameReader>[0]): Uint8Array[] {
  const reader = new RequestFrameReader(options);
  const frames: Uint8Array[] = [];
  for (const c of chunks) frames.push(...reader.push(c));
  expect(reader.bufferedBytes).toBe(0);
  return frames;
}

/**
 * Emit decode, encode, round-trip and framing tests for one message:
 * - decode: `decodeRequest(bytes)` deep-equals `message`;
 * - encode: `encodeRequest(message)` is byte-identical to `bytes`;
 * - round trip: `encodeRequest(decodeRequest(bytes))` is byte-identical to `bytes`;
 * - framing: the frame reader yields exactly `bytes` for a split at every offset and byte by byte.
 */
export function describeVector(name: string, message: () => ImsRequest, bytes: () => Uint8Array, options: DecodeRequestOptions = {}): void {
  it(`${name}: decode`, () => {
    expect(decodeRequest(bytes(), options)).toEqual(message());
  });
  it(`${name}: encode`, () => {
    expect(toHex(encodeRequest(message(), options))).toBe(toHex(bytes()));
  });
  it(`${name}: round trip`, () => {
    const b = bytes();
    expect(toHex(encodeRequest(decodeRequest(b, options), options))).toBe(toHex(b));
  });
  it(`${name}: frames identically for every split and byte by byte`, () => {
    const b = bytes();
    for (let cut = 0; cut <= b.length; cut++) {
      const frames = frameChunks([b.slice(0, cut), b.slice(cut)]);
      expect(frames.length).toBe(1);
      expect(toHex(frames[0]!)).toBe(toHex(b));
    }
    const oneByOne = frameChunks(Array.from(b, (x) => Uint8Array.of(x)));
    expect(oneByOne.map(toHex)).toEqual([toHex(b)]);
  });
}

/**
 * Assert that `bytes` fails to decode with `code` (and, when given, `details.reason`), and that the
 * failure is a coded imsplex error, never a RangeError or TypeError.
 */
export function describeMalformed(code: string, bytes: () => Uint8Array, reason?: number, label = ''): void {
  it(`rejects ${label ? `${label} ` : ''}with ${code}${reason === undefined ? '' : ` (reason ${reason})`}`, () => {
    let caught: unknown;
    try {
      decodeRequest(bytes());
    } catch (err) {
      caught = err;
    }
    expect(isImsplexError(caught)).toBe(true);
    expect((caught as { code: string }).code).toBe(code);
    if (reason !== undefined) expect((caught as { details: { reason?: number } }).details.reason).toBe(reason);
  });
}
