/**
 * Baseline for the benchmark: a plain length-prefixed echo over TCP loopback — frames `LLLL | payload`
 * written back unchanged, one write per frame, TCP_NODELAY. Prints its port on stdout.
 */
import { createServer } from 'node:net';
import { XcfFrameReader } from '@imsplex/codec';

const server = createServer({ noDelay: true }, (s) => {
  s.setNoDelay(true);
  const reader = new XcfFrameReader();
  s.on('data', (chunk: Buffer) => {
    for (const f of reader.push(chunk)) s.write(f);
  });
  s.on('error', () => s.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(JSON.stringify({ port: typeof a === 'object' && a ? a.port : 0 }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));
