/**
 * The benchmark's servers, run in a child process of `client.bench.ts` so the measured process holds
 * only the client (or the echo client): the test IMS Connect (`@imsplex/client/testing`, ECHO
 * transaction) and a plain length-prefixed echo server, both on 127.0.0.1, port 0.
 *
 * Protocol with the parent, one JSON object per line:
 * - on start it prints `{"ims":{"host","port"},"echo":{"host","port"}}`;
 * - a `stats` line on stdin is answered with `{"cpuMicros":N,"lastFrame":N,"requests":N}` (process CPU
 *   so far, size of the last IMS request frame received, IMS requests served);
 * - it exits when stdin ends (the parent closed it or died) or on SIGTERM.
 *
 * Run by the bench as `node --import tsx --conditions=@imsplex/source bench/server.ts`.
 */
import * as net from 'node:net';
import { createTestImsConnect } from '../src/testing/index.js';

/** Plain echo: 4-byte big-endian length prefix (counting itself), echoed back whole, one write per frame. */
function echoServer(): net.Server {
  return net.createServer((s) => {
    s.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      while (buf.length >= 4) {
        const n = buf.readUInt32BE(0);
        if (n < 4 || n > 1 << 20) {
          s.destroy();
          return;
        }
        if (buf.length < n) break;
        s.write(buf.subarray(0, n));
        buf = buf.subarray(n);
      }
    });
    s.on('error', () => s.destroy());
  });
}

async function main(): Promise<void> {
  // Keep only the last few frames: the server sees hundreds of thousands of requests per run.
  const ims = createTestImsConnect({ handlers: { ECHO: (tx) => tx.text }, maxRecorded: 16 });
  const imsEndpoint = await ims.listen({ host: '127.0.0.1', port: 0 });
  const echo = echoServer();
  await new Promise<void>((resolve, reject) => {
    echo.once('error', reject);
    echo.listen(0, '127.0.0.1', () => resolve());
  });
  const echoPort = (echo.address() as net.AddressInfo).port;

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    echo.close();
    void ims.close().finally(() => process.exit(0));
    // Connections the parent left open must not keep us alive.
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', stop);
  process.stdin.setEncoding('utf8');
  let pending = '';
  process.stdin.on('data', (chunk: string) => {
    pending += chunk;
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line === 'stats') {
        const cpu = process.cpuUsage();
        process.stdout.write(`${JSON.stringify({ cpuMicros: cpu.user + cpu.system, lastFrame: ims.frames.at(-1)?.length ?? 0, requests: ims.stats().requests })}\n`);
      }
    }
  });
  process.stdin.on('end', stop);
  process.stdout.write(`${JSON.stringify({ ims: imsEndpoint, echo: { host: '127.0.0.1', port: echoPort } })}\n`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
