// Load generator, run in its own process: GET one URL over N keep-alive HTTP/1.1 connections (one
// request in flight per connection, no pipelining) for a bounded time and count, then print one JSON
// line { count, errors, rps, p50, p99, status, body } (latencies in ms, `body` = one sample body).
//
// It speaks HTTP/1.1 on raw sockets (request bytes prepared once, responses framed by Content-Length)
// so that the client costs as little CPU as possible: on a 2-core machine a heavy client would cap
// both the server under test and the baseline at the client's own speed.
//
//   node load.mjs URL CONNECTIONS SECONDS [MAX_REQUESTS] [WARM_SECONDS]
import { Buffer } from 'node:buffer';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { URL } from 'node:url';

const [url, connArg, secondsArg, maxArg, warmArg] = process.argv.slice(2);
if (!url) {
  process.stderr.write('usage: node load.mjs URL CONNECTIONS SECONDS [MAX_REQUESTS] [WARM_SECONDS]\n');
  process.exit(2);
}
const connections = Number(connArg ?? 16);
const seconds = Number(secondsArg ?? 3);
const maxRequests = Number(maxArg ?? 500_000);
const warmSeconds = Number(warmArg ?? 0.5);
const u = new URL(url);
const port = Number(u.port || 80);
const request = Buffer.from(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nAccept: application/json\r\n\r\n`, 'latin1');
const HEADER_END = Buffer.from('\r\n\r\n');
const MAX_HEADER = 16 * 1024;
const RESPONSE_TIMEOUT_MS = 10_000;

/** Parse the status code and Content-Length out of a header block (latin1 text). */
function parseHead(head) {
  const status = Number(head.slice(9, 12));
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (!m) return { status, length: -1 };
  return { status, length: Number(m[1]) };
}

/**
 * One keep-alive connection. `next()` is asked before each request whether to send another;
 * `report(ok, ms, buf, bodyStart, bodyEnd)` is told of each response (or failure).
 */
function runConnection(next, report) {
  return new Promise((resolve) => {
    let socket;
    let pending = [];
    let pendingBytes = 0;
    let head; // { status, length, bodyStart } once the header is in
    let inFlight = false;
    let t0 = 0n;
    let timer;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket?.destroy();
      resolve();
    };
    const send = () => {
      if (!next()) return finish();
      pending = [];
      pendingBytes = 0;
      head = undefined;
      inFlight = true;
      t0 = process.hrtime.bigint();
      timer = setTimeout(fail, RESPONSE_TIMEOUT_MS);
      socket.write(request);
    };
    function fail() {
      clearTimeout(timer);
      if (inFlight) report(false, Number(process.hrtime.bigint() - t0) / 1e6);
      inFlight = false;
      socket?.destroy();
      // Reconnect and go on (the server may have closed an idle or failed connection).
      connect();
    }
    const onData = (chunk) => {
      if (!inFlight) return fail(); // bytes nobody asked for: the framing is off
      pending.push(chunk);
      pendingBytes += chunk.length;
      const all = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
      pending = [all];
      if (!head) {
        const end = all.indexOf(HEADER_END);
        if (end < 0) {
          if (all.length > MAX_HEADER) fail();
          return;
        }
        const h = parseHead(all.latin1Slice(0, end + 2));
        if (h.length < 0) return fail(); // only Content-Length framing is expected here
        head = { ...h, bodyStart: end + 4 };
      }
      const total = head.bodyStart + head.length;
      if (all.length < total) return;
      clearTimeout(timer);
      inFlight = false;
      report(head.status === 200, Number(process.hrtime.bigint() - t0) / 1e6, all, head.bodyStart, total);
      if (all.length > total) return fail();
      send();
    };
    function connect() {
      if (finished) return;
      const s = net.connect({ host: u.hostname, port, noDelay: true });
      socket = s;
      s.on('connect', send);
      s.on('data', (c) => {
        if (s === socket) onData(c);
      });
      s.on('error', () => undefined);
      s.on('close', () => {
        if (s === socket && !finished) fail();
      });
    }
    connect();
  });
}

async function phase(durationMs, record) {
  const end = performance.now() + durationMs;
  const lat = record ? new Float64Array(maxRequests) : undefined;
  let count = 0;
  let errors = 0;
  let sample;
  let status = 0;
  const next = () => performance.now() < end && count < maxRequests;
  const report = (ok, ms, buf, start, total) => {
    if (lat) lat[count] = ms;
    count++;
    if (!ok) errors++;
    if (buf && sample === undefined) {
      sample = buf.toString('utf8', start, total);
      status = Number(buf.latin1Slice(9, 12));
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, () => runConnection(next, report)));
  return { count, errors, elapsed: performance.now() - t0, lat: lat?.subarray(0, Math.min(count, maxRequests)), sample, status };
}

if (warmSeconds > 0) await phase(warmSeconds * 1000, false);
const r = await phase(seconds * 1000, true);
const sorted = Float64Array.from(r.lat).sort();
const pct = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0);
process.stdout.write(JSON.stringify({ count: r.count, errors: r.errors, rps: (r.count * 1000) / r.elapsed, p50: pct(50), p99: pct(99), status: r.status, body: r.sample }) + '\n');
