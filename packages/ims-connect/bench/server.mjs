/* global process, Buffer, setTimeout */
// Servers of the IMS Connect benchmark, each run in its own plain Node process (no tsx loader, no
// `@imsplex/source` condition): `@imsplex/ims-connect` and `@imsplex/codec` resolve to their built
// dist, which is what users run.
//
//   node bench/server.mjs imsc            IMS Connect, ECHO datastore answered in process (no OTMA hop)
//   node bench/server.mjs imsc-otma H P M IMS Connect with an OTMA datastore to an IMS system at H:P (member M)
//   node bench/server.mjs echo            the baseline: a plain LLLL length-prefixed echo server
//
// Each reports `{ port, module, execArgv, rss }` over IPC once listening, answers `rss` with its memory
// figures (after a GC when run with --expose-gc), `cpu` with `process.cpuUsage()`, and exits on `close`.
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const mode = process.argv[2];

/** IMS's ECHO program answer (the input segments back), with no OTMA hop: IMS Connect's own work only. */
class EchoDatastore {
  id = 'IMS1';
  status() {
    return 'ACTIVE';
  }
  onStatus() {}
  send(input, sink) {
    return { start: () => sink({ ev: 'output', segments: input.segments, conversational: false, ackRequired: false }), ack() {}, nak() {}, abandon() {} };
  }
  resume(_t, _o, _c, _u, sink) {
    return { start: () => sink({ ev: 'empty' }), ack() {}, nak() {}, abandon() {} };
  }
  deallocate(_t, sink) {
    return { start: () => sink({ ev: 'committed' }), ack() {}, nak() {}, abandon() {} };
  }
  open() {}
  stop() {}
  close() {}
}

function memory(extra) {
  globalThis.gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, external: m.external + m.arrayBuffers, ...extra };
}

async function imsConnect(otma) {
  const { ImsConnectServer } = await import('@imsplex/ims-connect');
  const { pino } = await import('pino');
  const options = {
    id: 'BENCH',
    ports: [{ id: 0 }],
    datastores: [otma ? { id: 'IMS1', tmember: otma.member, address: { host: otma.host, port: otma.port } } : { id: 'IMS1', tmember: 'IMS1' }],
    maxSockets: 65535,
    timeout: 600_000,
  };
  const server = new ImsConnectServer(options, { logger: pino({ level: 'silent' }), ...(otma ? {} : { datastoreFactory: () => new EchoDatastore() }) });
  await server.start();
  if (otma) while (server.health().datastores[0].status !== 'ACTIVE') await new Promise((r) => setTimeout(r, 20));
  return { port: server.boundPort(0), sockets: () => server.socketsInUse() - 1, close: () => server.close() };
}

function plainEcho() {
  const server = createServer({ noDelay: true }, (s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (chunk) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 4) {
        const n = buf.readUInt32BE(0);
        if (n < 4 || buf.length < n) break;
        s.write(buf.subarray(0, n));
        buf = buf.subarray(n);
      }
    });
    s.on('error', () => undefined);
  });
  return new Promise((resolve) => {
    server.listen({ port: 0, host: '127.0.0.1', backlog: 511 }, () => resolve({ port: server.address().port, sockets: () => -1, close: () => new Promise((r) => server.close(() => r())) }));
  });
}

async function main() {
  let srv;
  let module = '(none)';
  if (mode === 'imsc' || mode === 'imsc-otma') {
    // Prove which build runs: the resolved entry must be dist, and no loader may be active.
    module = fileURLToPath(import.meta.resolve('@imsplex/ims-connect'));
    srv = await imsConnect(mode === 'imsc-otma' ? { host: process.argv[3], port: Number(process.argv[4]), member: process.argv[5] } : undefined);
  } else if (mode === 'echo') {
    srv = await plainEcho();
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  process.send({ port: srv.port, module, execArgv: process.execArgv, ...memory({}) });
  process.on('message', (m) => {
    if (m === 'rss') process.send(memory({ sockets: srv.sockets() }));
    else if (m === 'cpu') process.send(process.cpuUsage());
    else if (m === 'close') void Promise.resolve(srv.close()).then(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
}

main().catch((e) => {
  process.stderr.write(`bench server (${mode}): ${e?.stack ?? e}\n`);
  process.exit(1);
});
