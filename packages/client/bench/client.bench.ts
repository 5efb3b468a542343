/**
 * Send-receive round trips per second through @imsplex/client against the in-memory IMS Connect
 * served over TCP loopback, at 1, 8 and 64 persistent connections — compared, in the same run, with
 * a plain length-prefixed echo client against a plain echo server (same payload size, same
 * concurrency). The ratio is the client + protocol overhead over raw sockets.
 *
 * Run: `pnpm --filter @imsplex/client bench` (prints a table and one `@@bench` line per row).
 */
import * as net from 'node:net';
import { createClient } from '../src/index.js';
import { createTestImsConnect } from '../src/testing/index.js';

const DURATION_MS = Number(process.env.BENCH_MS ?? 1500);
const WARMUP_MS = 300;
const CONCURRENCY = [1, 8, 64];
const DATA = 'DISPLAY LAST1 '.repeat(4);

async function measure(concurrency: number, once: (worker: number) => Promise<void>): Promise<number> {
  let stop = false;
  let count = 0;
  let counting = false;
  const loops = Array.from({ length: concurrency }, async (_, w) => {
    while (!stop) {
      await once(w);
      if (counting) count++;
    }
  });
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  counting = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, DURATION_MS));
  counting = false;
  const elapsed = performance.now() - t0;
  stop = true;
  await Promise.all(loops);
  return (count * 1000) / elapsed;
}

/** Plain echo: 4-byte big-endian length prefix (counting itself), echoed back whole. */
async function echoServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      while (buf.length >= 4) {
        const n = buf.readUInt32BE(0);
        if (buf.length < n) break;
        s.write(buf.subarray(0, n));
        buf = buf.subarray(n);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

class EchoConnection {
  private buf: Buffer = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      if (this.buf.length >= 4 && this.buf.length >= this.buf.readUInt32BE(0)) {
        this.buf = this.buf.subarray(this.buf.readUInt32BE(0));
        const w = this.waiting;
        this.waiting = undefined;
        w?.();
      }
    });
  }
  static open(port: number): Promise<EchoConnection> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(new EchoConnection(s)));
      s.once('error', reject);
    });
  }
  roundTrip(frame: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.socket.write(frame);
    });
  }
  close(): void {
    this.socket.destroy();
  }
}

async function main(): Promise<void> {
  const ims = createTestImsConnect({ handlers: { ECHO: (tx) => tx.text } });
  const ep = await ims.listen();
  const echo = await echoServer();
  const rows: { n: number; ims: number; echo: number }[] = [];
  let requestSize = 0;
  for (const n of CONCURRENCY) {
    const client = createClient({ endpoints: [ep], datastore: 'IMS1', maxConnections: n, minConnections: n });
    while (client.stats().pool.idle < n) await new Promise((r) => setTimeout(r, 5));
    const imsRate = await measure(n, async () => {
      await client.sendReceive({ trancode: 'ECHO', data: DATA });
    });
    requestSize = ims.frames.at(-1)!.length;
    await client.close();

    const frame = new Uint8Array(requestSize);
    new DataView(frame.buffer).setUint32(0, requestSize);
    const conns = await Promise.all(Array.from({ length: n }, () => EchoConnection.open(echo.port)));
    const echoRate = await measure(n, (w) => conns[w]!.roundTrip(frame));
    conns.forEach((c) => c.close());
    rows.push({ n, ims: imsRate, echo: echoRate });
  }
  await ims.close();
  await echo.close();

  console.log(`\n@imsplex/client send-receive round trips/s (TCP loopback, ${requestSize}-byte request, ${DURATION_MS} ms per case)\n`);
  console.log('| connections | client → test IMS Connect | plain echo (baseline) | ratio |');
  console.log('|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.n} | ${Math.round(r.ims).toLocaleString('en')} | ${Math.round(r.echo).toLocaleString('en')} | ${(r.ims / r.echo).toFixed(2)} |`);
  console.log('');
  for (const r of rows) {
    console.log(
      `@@bench ${JSON.stringify({ suite: 'client', case: `send-receive x${r.n} persistent`, value: Math.round(r.ims), unit: 'round trips/s', baseline: `length-prefixed echo x${r.n}`, baselineValue: Math.round(r.echo), ratio: Number((r.ims / r.echo).toFixed(3)) })}`,
    );
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
