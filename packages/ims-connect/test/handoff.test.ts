/**
 * Handoff data plane, target side, end to end: this test process plays the supervisor with the
 * distributor inside it (`childProcessSink`, the distributor's own sending code). It accepts client
 * connections on a "VIPA" address, passes each accepted socket over IPC to a child IMS Connect (the
 * bin, run with tsx and the source condition), and a client completes a SAMPL1 send-receive on it
 * against a real IMS engine. The child is always killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CP037, ReasonCode, buildRequest, decodeReply, encodeRequest } from '@imsplex/codec';
import { childProcessSink, type HandoffMessage, type HandoffReport } from '@imsplex/distributor';
import { ImsSystem } from '@imsplex/ims';
import { RawClient, silent } from './harness.js';

/** The "VIPA" the test's distributor listens on: another loopback address, the same port number. */
const VIPA = '127.0.1.9';

let child: ChildProcess | undefined;
let ims: ImsSystem | undefined;
let vipa: Server | undefined;
let dir: string | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  if (child && child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }
  child = undefined;
  await new Promise<void>((resolve) => (vipa ? vipa.close(() => resolve()) : resolve()));
  vipa = undefined;
  await ims?.stop();
  ims = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Lines the child writes to stdout, and a way to wait for one. */
function lines(c: ChildProcess): { wait(pred: (text: string) => boolean): Promise<string> } {
  let out = '';
  const waiters: Array<() => void> = [];
  c.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  return {
    async wait(pred) {
      for (;;) {
        if (pred(out)) return out;
        if (c.exitCode !== null || c.signalCode !== null) throw new Error(`IMS Connect exited: ${out}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

describe('handoff data plane (IMS Connect as a child with an IPC channel)', () => {
  it('a socket accepted by the distributor and passed over IPC serves a SAMPL1 send-receive like an accepted one', async () => {
    ims = await ImsSystem.start({ linkPort: 0, linkHost: '127.0.0.1', logger: silent as never });
    const link = ims.linkAddress;
    dir = mkdtempSync(join(tmpdir(), 'imsc-handoff-'));
    const cfg = join(dir, 'HWSCFG01');
    writeFileSync(
      cfg,
      [
        'HWS (ID=HANDOFF)',
        'TCPIP (PORTID=(0),MAXSOC=50,TIMEOUT=1000)',
        `DATASTORE (ID=IMS1,GROUP=${ims.config.otma.group},MEMBER=HANDOFF,TMEMBER=${ims.config.otma.member},XCFADDR=${link.host}:${link.port})`,
        'EMULATOR (BIND=127.0.0.1)',
        '',
      ].join('\n'),
    );
    child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@imsplex/source', join(__dirname, '../src/bin.ts'), '--config', cfg], {
      stdio: ['pipe', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, IMSPLEX_LOG_LEVEL: 'silent' },
    });
    const out = lines(child);
    const ready = await new Promise<{ ports: number[] }>((resolve, reject) => {
      child!.on('message', (m: unknown) => {
        if ((m as { type?: string }).type === 'ready') resolve(m as { ports: number[] });
      });
      child!.once('exit', (code) => reject(new Error(`IMS Connect exited with ${code}`)));
    });
    const port = ready.ports[0]!;
    expect(port).toBeGreaterThan(0);
    // Wait until the datastore is up (VIEWDS answers), so the first request is not refused.
    const dsLines = (t: string) => t.split('\n').filter((l) => l.includes('HWSC0001I DATASTORE=IMS1 STATUS='));
    for (let asked = 1; ; asked++) {
      child.stdin!.write('VIEWDS IMS1\n');
      const text = await out.wait((t) => dsLines(t).length >= asked);
      if (dsLines(text).at(-1)!.includes('STATUS=ACTIVE')) break;
      await new Promise((r) => setTimeout(r, 50)); // poll the operator display, not a timed assertion
    }

    // The distributor side: accept on VIPA:port (paused, nothing read) and hand the socket to the child.
    const sink = childProcessSink(() => child);
    const reports: HandoffReport[] = [];
    const reported = new Set<() => void>();
    sink.onReport((r) => {
      reports.push(r);
      for (const fn of reported) fn();
    });
    const untilReport = (pred: (r: HandoffReport) => boolean) =>
      new Promise<HandoffReport>((resolve) => {
        const check = () => {
          const r = reports.find(pred);
          if (r) {
            reported.delete(check);
            resolve(r);
          }
        };
        reported.add(check);
        check();
      });
    let id = 0;
    const forPort: number[] = [];
    vipa = createServer({ pauseOnConnect: true, noDelay: true }, (socket) => {
      const msg: HandoffMessage = { type: 'imsplex:handoff', id: ++id, owner: 'TEST/1', dvipa: VIPA, port: forPort.shift() ?? port, xcf: '127.0.0.1', clientAddress: socket.remoteAddress ?? '', clientPort: socket.remotePort ?? 0 };
      sink.deliver(msg, socket).catch(() => socket.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      vipa!.once('error', reject);
      vipa!.listen(port, VIPA, () => resolve());
    });

    // A client of the VIPA: the SAMPL1 send-receive is answered by IMS Connect through IMS.
    const s = connect({ host: VIPA, port, noDelay: true });
    sockets.push(s);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    const c = new RawClient(s);
    const req = (clientId: string, data: string) => encodeRequest(buildRequest({ datastore: 'IMS1', clientId, trancode: 'ECHO', data, timer: 3000 }));
    c.send(req('HANDOFF1', 'HELLO'));
    const r = decodeReply((await c.next())!, { llll: true });
    expect(r.kind === 'data' && r.segments.map((x) => CP037.decode(x)).join('')).toBe('ECHO    HELLO');
    expect(r.kind === 'data' && r.csm.flags).toBe(0x10);
    // Persistent socket: a second request on the same handed-off connection.
    c.send(req('HANDOFF1', 'AGAIN'));
    const r2 = decodeReply((await c.next())!, { llll: true });
    expect(r2.kind === 'data' && r2.segments.map((x) => CP037.decode(x)).join('')).toBe('ECHO    AGAIN');

    // It is one of the port's clients: counted in NUMSOC (listener + 1) and shown with the client's port.
    child.stdin!.write(`VIEWPORT ${port}\n`);
    const view = await out.wait((t) => t.includes('TOTAL CLIENTS=1'));
    expect(view).toContain(`PORT=${port} STATUS=ACTIVE`);
    expect(view).toContain('NUMSOC=2');
    expect(view).toMatch(new RegExp(`HANDOFF1 .* ${s.localPort} 127\\.0\\.0\\.1`));
    // The port's client-ID registry is shared with directly accepted connections: a duplicate is refused.
    const d = connect({ host: '127.0.0.1', port, noDelay: true });
    sockets.push(d);
    const dc = new RawClient(d);
    dc.send(req('HANDOFF1', 'DUP'));
    const dup = decodeReply((await dc.next())!, { llll: true });
    expect(dup.kind === 'status' && [dup.rsm.returnCode, dup.rsm.reasonCode]).toEqual([8, ReasonCode.DUPECLNT]);

    // The client leaves: the child reports the close back to the distributor.
    s.end();
    const closed = await untilReport((x) => x.type === 'imsplex:handoff:closed');
    expect([closed.id, closed.owner, closed.port]).toEqual([1, 'TEST/1', port]);

    // A handoff for a port this IMS Connect does not have is refused and reported as failed.
    forPort.push(1);
    const x = connect({ host: VIPA, port, noDelay: true });
    sockets.push(x);
    x.on('error', () => {}); // the refused connection may be reset
    const xClosed = new Promise<void>((resolve) => x.once('close', () => resolve()));
    x.resume();
    const failed = await untilReport((y) => y.type === 'imsplex:handoff:failed');
    expect([failed.id, failed.port, failed.reason]).toEqual([2, 1, 'refused by filter']);
    await xClosed; // and the client's connection is closed, not left hanging
  }, 30_000);
});
