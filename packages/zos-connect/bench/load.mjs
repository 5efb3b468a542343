// Load generator, run in its own process: GET one URL over keep-alive connections for a bounded
// time and count, then print one JSON line { count, errors, rps, p50, p99 } (latencies in ms).
import http from 'node:http';

const [url, connArg, secondsArg, maxArg, warmArg] = process.argv.slice(2);
const connections = Number(connArg ?? 16);
const seconds = Number(secondsArg ?? 3);
const maxRequests = Number(maxArg ?? 200000);
const warmSeconds = Number(warmArg ?? 0.5);
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
const u = new URL(url);

function once() {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'GET', agent }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve({ ok: res.statusCode === 200, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    });
    req.on('socket', (s) => s.setNoDelay(true));
    req.on('error', () => resolve({ ok: false, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    req.end();
  });
}

async function phase(durationMs, record) {
  const end = performance.now() + durationMs;
  const lat = [];
  let count = 0;
  let errors = 0;
  const worker = async () => {
    while (performance.now() < end && count < maxRequests) {
      count++;
      const r = await once();
      if (!r.ok) errors++;
      if (record) lat.push(r.ms);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, worker));
  return { count, errors, elapsed: performance.now() - t0, lat };
}

await phase(warmSeconds * 1000, false);
const r = await phase(seconds * 1000, true);
r.lat.sort((a, b) => a - b);
const pct = (p) => r.lat[Math.min(r.lat.length - 1, Math.floor((p / 100) * r.lat.length))] ?? 0;
process.stdout.write(JSON.stringify({ count: r.count, errors: r.errors, rps: (r.count * 1000) / r.elapsed, p50: pct(50), p99: pct(99) }) + '\n');
agent.destroy();
