/** Test helpers: hex literals, a capture of frames the client writes, fixtures. */
import { createClient, type ClientOptions, type ImsConnectClient } from '../src/index.js';
import { createTestImsConnect, type TestImsConnect, type TestImsConnectOptions } from '../src/testing/index.js';

/** Bytes from a hex dump ("00 00 00 71 …", whitespace and line offsets "0000" ignored when given as `|`-free rows). */
export function hex(text: string): Uint8Array {
  const clean = text
    .split('\n')
    .map((line) => line.replace(/^\s*[0-9A-Fa-f]{4}\s{2}/, ''))
    .join(' ')
    .replace(/[^0-9A-Fa-f]/g, '');
  if (clean.length % 2 !== 0) throw new Error('odd hex length');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Hex string of bytes, for readable diffs. */
export function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** A test IMS Connect and a client on its in-memory connector. */
export function setup(serverOptions: TestImsConnectOptions, clientOptions: Partial<ClientOptions> = {}): { ims: TestImsConnect; client: ImsConnectClient } {
  const ims = createTestImsConnect(serverOptions);
  const client = createClient({ connector: ims.connector, datastore: 'IMS1', ...clientOptions });
  return { ims, client };
}

/** Resolve on the next macrotask (lets socket events run). */
export function tick(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** Deterministic timers and clock: nothing fires until `advance`. */
export class ManualTimers {
  now = 0;
  private seq = 0;
  private readonly due = new Map<number, { at: number; fn: () => void }>();
  readonly timers = {
    setTimeout: (fn: () => void, ms: number): unknown => {
      const id = ++this.seq;
      this.due.set(id, { at: this.now + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout: (h: unknown): void => {
      this.due.delete(h as number);
    },
  };
  readonly clock = (): number => this.now;
  /** Pending timer count. */
  get pending(): number {
    return this.due.size;
  }
  /** Move time forward, firing due timers in order (each fire may add timers). */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.due) if (e[1].at <= target && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.due.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
    }
    this.now = target;
  }
}

/** Wait until `cond()` holds, polling once per macrotask (bounded). */
export async function until(cond: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await tick();
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A promise with its resolve function. */
export function gate<T = void>(): { promise: Promise<T>; open: (v: T) => void } {
  let open!: (v: T) => void;
  const promise = new Promise<T>((r) => (open = r));
  return { promise, open };
}
