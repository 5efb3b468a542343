/* global process, Buffer, setTimeout, performance */
// Load generator of the IMS Connect benchmark: a plain Node process (no loader) driven over IPC, so it
// never shares an event loop with a server. Frames are encoded once per connection before the clock
// starts; the hot loop only writes a ready Buffer and reads an LLLL-framed reply.
//
//   { cmd: 'load', port, conns, ms, warmupMs, prefix }  → { count, seconds, p50, p99 }
//   { cmd: 'hold', port, n }                             → { opened }   (n idle persistent connections)
//   { cmd: 'release' }                                   → { released }
//   { cmd: 'exit' }
import { connect } from 'node:net';
import { buildRequest, encodeRequest } from '@imsplex/codec';

/** SAMPL1 send-receive, CM1, sync NONE, trancode ECHO, persistent socket (IRM_SOCT X'10'). */
function frame(clientId, data = 'DISPLAY LAST1') {
  return Buffer.from(encodeRequest(buildRequest({ datastore: 'IMS1', clientId, trancode: 'ECHO', data, commitMode: 'CM1', syncLevel: 'NONE', timer: 10_000 })));
}

/** Call `onFrame` for every LLLL-framed reply on `socket`. */
function frames(socket, onFrame) {
  let buf = null;
  socket.on('data', (chunk) => {
    buf = buf === null ? chunk : Buffer.concat([buf, chunk]);
    while (buf !== null && buf.length >= 4) {
      const n = buf.readUInt32BE(0);
      if (buf.length < n) return;
      buf = buf.length === n ? null : buf.subarray(n);
      onFrame();
    }
  });
}

function open(port) {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
}

async function load({ port, conns, ms, warmupMs, prefix }) {
  const lat = [];
  let measuring = false;
  let stop = false;
  const sockets = [];
  for (let i = 0; i < conns; i++) sockets.push(await open(port));
  sockets.forEach((s, i) => {
    const f = frame(`B${prefix}${String(i).padStart(3, '0')}`);
    let t0 = 0;
    const send = () => {
      if (stop) return;
      t0 = performance.now();
      s.write(f);
    };
    frames(s, () => {
      if (measuring) lat.push(performance.now() - t0);
      send();
    });
    s.on('error', () => undefined);
    send();
  });
  await new Promise((r) => setTimeout(r, warmupMs));
  measuring = true;
  const start = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  measuring = false;
  stop = true;
  const seconds = (performance.now() - start) / 1000;
  for (const s of sockets) s.destroy();
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] ?? 0;
  return { count: lat.length, seconds, p50: q(0.5), p99: q(0.99) };
}

let held = [];

/** `n` persistent connections, each with its own client ID, one interaction each, then idle. */
async function hold({ port, n }) {
  let opened = 0;
  const batch = 500;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, (_, k) => {
        const idx = i + k;
        return new Promise((resolve) => {
          const s = connect({ host: '127.0.0.1', port, noDelay: true }, () => s.write(frame(`I${idx.toString(36).toUpperCase().padStart(7, '0')}`, 'HI')));
          frames(s, () => {
            opened++;
            resolve();
          });
          s.on('error', () => resolve());
          s.on('close', () => resolve());
          held.push(s);
        });
      }),
    );
  }
  return { opened };
}

process.on('message', async (m) => {
  try {
    if (m.cmd === 'load') process.send(await load(m));
    else if (m.cmd === 'hold') process.send(await hold(m));
    else if (m.cmd === 'release') {
      for (const s of held) s.destroy();
      const released = held.length;
      held = [];
      process.send({ released });
    } else if (m.cmd === 'exit') process.exit(0);
  } catch (e) {
    process.send({ error: String(e?.stack ?? e) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
