/**
 * Internal: output buffers for encoders on the hot path.
 *
 * `new Uint8Array(n)` allocates and zero-fills a separate backing store for every n above V8's
 * on-heap limit (64 bytes); for the 100 B – 4 KB messages the encoders mostly produce, that costs more
 * than writing the message. Like Node's `Buffer.allocUnsafe` pool, `allocOutput` hands out views into a
 * shared 8 KB `ArrayBuffer` instead, but returns a plain `Uint8Array` (so `slice` copies, as callers of
 * the codec expect — `Buffer#slice` would return a view).
 *
 * Regions are never handed out twice, so a returned array is never written by anyone else. The cost is
 * the one Node's pool has: `out.buffer` is the whole slab (use `byteOffset`/`byteLength`), and an output
 * kept alive keeps its slab alive. Outputs of 4 KB and more get memory of their own, uninitialised
 * (`Buffer.allocUnsafeSlow`). Either way callers must write every byte before the array is seen
 * (`encodeReplyInto`'s tests encode into poisoned memory to prove the reply encoder does).
 */

/** Slab size (Node's `Buffer.poolSize`). */
const SLAB_SIZE = 8 * 1024;
/** Outputs below this many bytes come from the slab (Node pools below `poolSize >>> 1`). */
const MAX_POOLED = SLAB_SIZE >>> 1;
/** V8 keeps typed arrays of up to 64 bytes on the heap: a plain allocation is as cheap there. */
const MIN_POOLED = 65;

let slab = new ArrayBuffer(SLAB_SIZE);
let used = 0;

/**
 * Node's uninitialised allocation, for outputs of 4 KB and more (where zero-filling costs as much as the
 * copy that follows). Undefined outside Node: plain zeroed arrays then.
 */
const allocUnsafeSlow: ((size: number) => Uint8Array) | undefined = (globalThis as { Buffer?: { allocUnsafeSlow(size: number): Uint8Array } }).Buffer?.allocUnsafeSlow;

/** A `Uint8Array` of `size` bytes for a writer that writes every byte of it before anyone reads it. */
export function allocOutput(size: number): Uint8Array {
  if (size < MIN_POOLED) return new Uint8Array(size);
  if (size >= MAX_POOLED) {
    if (allocUnsafeSlow === undefined) return new Uint8Array(size);
    // A plain view (not a Buffer) of memory of its own: `out.buffer` is exactly the output.
    const b = allocUnsafeSlow(size);
    return new Uint8Array(b.buffer, b.byteOffset, size);
  }
  if (used + size > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    used = 0;
  }
  const out = new Uint8Array(slab, used, size);
  used = (used + size + 7) & ~7; // keep later outputs 8-byte aligned
  return out;
}
