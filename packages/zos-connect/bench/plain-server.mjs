// The baseline, in its own process: a plain node:http server answering every request with the same
// JSON body (the z/OS Connect answer, given in base64 as the only argument). Prints its URL.
import { Buffer } from 'node:buffer';
import http from 'node:http';
import process from 'node:process';

const body = Buffer.from(process.argv[2] ?? '', 'base64');
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  res.end(body);
});
server.on('connection', (s) => s.setNoDelay(true));
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`LISTENING http://127.0.0.1:${a.port}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
