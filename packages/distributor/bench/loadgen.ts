/**
 * Load generator process for the distributor benchmark (runs apart from the distributor: 2 cores).
 * Usage: loadgen.ts <json {targets:[{host,port}], conns, seconds, warmup, size}>
 * Opens `conns` persistent connections (connection i goes to targets[i % targets.length]) and runs
 * request/response round trips of `size` bytes on each until the deadline. Prints `{"mark":"start"}`
 * and `{"mark":"stop"}` lines around the measured window (the orchestrator samples process CPU
 * there), then one JSON line: { roundTrips, seconds, rtps, p50us, p99us, errors }.
 */
import { connect, type Socket } from 'node:net';

interface Args {
  targets: { host: string; port: number }[];
  conns: number;
  seconds: number;
  warmup: number;
  size: number;
}
const a = JSON.parse(process.argv[2]!) as Args;
const payload = Buffer.alloc(a.size, 0x41);
const MAX_SAMPLES = 2_000_000;
const samples = new Float64Array(MAX_SAMPLES);
let n = 0;
let total = 0;
let errors = 0;
let measuring = false;
let stop = false;

function open(t: { host: string; port: number }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: t.host, port: t.port, noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
}

async function loop(s: Socket): Promise<void> {
  let got = 0;
  let done: (() => void) | null = null;
  s.on('data', (d: Buffer) => {
    got += d.length;
    if (got >= a.size && done) {
      got -= a.size;
      const f = done;
      done = null;
      f();
    }
  });
  s.on('error', () => {
    errors++;
    stop = true;
  });
  while (!stop) {
    const started = process.hrtime.bigint();
    await new Promise<void>((r) => {
      done = r;
      s.write(payload);
    });
    if (measuring) {
      total++;
      if (n < MAX_SAMPLES) samples[n++] = Number(process.hrtime.bigint() - started) / 1000;
    }
  }
  s.destroy();
}

const sockets = await Promise.all(Array.from({ length: a.conns }, (_, i) => open(a.targets[i % a.targets.length]!)));
const loops = sockets.map((s) => loop(s));
await new Promise((r) => setTimeout(r, a.warmup * 1000));
process.stdout.write('{"mark":"start"}\n');
measuring = true;
const t0 = process.hrtime.bigint();
await new Promise((r) => setTimeout(r, a.seconds * 1000));
measuring = false;
process.stdout.write('{"mark":"stop"}\n');
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
stop = true;
await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 2000))]);
const sorted = samples.subarray(0, n).sort();
const q = (p: number) => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.floor(p * n))]!);
process.stdout.write(JSON.stringify({ roundTrips: total, seconds: secs, rtps: total / secs, p50us: q(0.5), p99us: q(0.99), errors }) + '\n');
process.exit(0);
