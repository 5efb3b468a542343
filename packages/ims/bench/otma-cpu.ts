/**
 * CPU per OTMA transaction of the IMS process, for the workload z/OS Connect's phone-book GET puts on it:
 * IVTNO `DISPLAY LAST1` arriving over one OTMA link the way IMS Connect sends it (CM1, sync level NONE by
 * default, state + security + user data + one segment), `BENCH_LANES` tpipes in flight at once.
 *
 * Measures the IMS child's user+system CPU from /proc over `BENCH_SECONDS` after a warm-up and prints
 * µs per transaction (and transactions/s). Linux only (reads /proc). Not part of `pnpm bench`: a tool
 * for before/after comparisons of the engine's own cost.
 *
 * Environment: `IMS_BENCH_ENTRY` (default dist/bin.js), `BENCH_LANES` (16), `BENCH_SECONDS` (5),
 * `BENCH_TRAN` (`IVTNO`, or `ECHO` for the 100-byte ECHO of `pnpm bench`),
 * `BENCH_SYNC` (`none` | `confirm`), `BENCH_NODE_OPTIONS` (passed to the IMS child only, e.g. a
 * profiler preload).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect, type Socket } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  CP037,
  CommitMode,
  OTMA_CONTROL_LAYOUT,
  OtmaCommand,
  OtmaCommitConfirmation,
  OtmaMessageType,
  OtmaResponseFlag,
  OtmaSecurityFlag,
  SyncLevel,
  XCF_LENGTH_BYTES,
  XcfFrameReader,
  decodeXcfFrame,
  encodeXcfFrame,
  otmaControl,
  writeTransactionRest,
} from '@imsplex/codec';
import { DEFAULT_SYSTEM_DEFINITION } from '../src/config.js';

const pkgDir = join(import.meta.dirname, '..');
const LANES = Number(process.env.BENCH_LANES ?? 16);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONFIRM = process.env.BENCH_SYNC === 'confirm';
const at = (name: string): number => XCF_LENGTH_BYTES + OTMA_CONTROL_LAYOUT.fields.find((f) => f.name === name)!.offset;
const TYPE_AT = at('messageType');
const CC_AT = at('commitConfirmation');
const TPIPE_AT = at('tpipe');
const SEQ_AT = at('sendSequence');
const RESP_AT = at('responseFlags');

function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const parts = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return ((Number(parts[11]) + Number(parts[12])) * 1000) / 100;
}

const entry = process.env.IMS_BENCH_ENTRY ?? 'dist/bin.js';
const entryPath = isAbsolute(entry) ? entry : join(pkgDir, entry);
const env = { ...process.env, NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS ?? '' };
// The system z/OS Connect's bench runs: the default one with IVTNO scheduled in parallel.
const dir = mkdtempSync(join(tmpdir(), 'ims-otma-cpu-'));
const cfg = join(dir, 'IMS1.cfg');
writeFileSync(cfg, DEFAULT_SYSTEM_DEFINITION.replace('TRANSACT CODE=IVTNO,MSGTYPE=(SNGLSEG,RESPONSE,1),PRTY=(7,10,2)', 'TRANSACT CODE=IVTNO,MSGTYPE=(SNGLSEG,RESPONSE,1),PRTY=(7,10,2),SCHDTYP=PARALLEL'));
const child: ChildProcess = spawn(process.execPath, [entryPath, '--config', cfg, '--link-port', '0', '--log-level', 'info'], { cwd: pkgDir, stdio: ['ignore', 'pipe', 'inherit'], env });
const port = await new Promise<number>((resolve, reject) => {
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const j = JSON.parse(line) as { msg?: string; link?: { port: number } };
      if (j.msg === 'IMS system ready' && j.link) resolve(j.link.port);
    } catch {
      // not JSON
    }
  });
  child.once('exit', (code) => reject(new Error(`IMS exited ${code}`)));
});

const s: Socket = connect({ host: '127.0.0.1', port, noDelay: true });
await new Promise<void>((r, j) => {
  s.once('connect', r);
  s.once('error', j);
});
const reader = new XcfFrameReader();
s.write(
  encodeXcfFrame({
    control: otmaControl({ messageType: OtmaMessageType.COMMAND, commandType: OtmaCommand.CLIENT_BID, sendSequence: 1 }),
    state: { form: 'member', memberName: 'HWS1', originatorToken: new Uint8Array(8), destinationToken: new Uint8Array(8), druExitName: '', maxBlockSize: 0, queueFlags: 0xa0, flags2: 0, rest: new Uint8Array(0) },
  }),
);
await new Promise<void>((resolve) => {
  const on = (chunk: Buffer) => {
    if (reader.push(chunk).length > 0) {
      s.off('data', on);
      resolve();
    }
  };
  s.on('data', on);
});

// IVTNO input as IVTNOM lays it out: trancode X(10), command X(8), last X(10), first X(10), ext X(10), zip X(7).
const pad = (t: string, n: number): string => t.padEnd(n, ' ').slice(0, n);
// BENCH_TRAN=ECHO: the 100-byte ECHO of `pnpm bench` instead.
const ECHO = process.env.BENCH_TRAN === 'ECHO';
const data = ECHO ? CP037.encode('ECHO    ' + 'X'.repeat(92)) : CP037.encode(pad('IVTNO', 10) + pad('DISPLAY', 8) + pad('LAST1', 10) + pad('', 10) + pad('', 10) + pad('', 7));
const names: string[] = [];
const templates: Uint8Array[] = [];
for (let lane = 0; lane < LANES; lane++) {
  const tpipe = `CL${String(lane).padStart(6, '0')}`;
  names.push(tpipe);
  templates.push(
    encodeXcfFrame({
      control: otmaControl({ messageType: OtmaMessageType.TRANSACTION, tpipe, sendSequence: 0 }),
      state: { form: 'transaction', serverState: 0, rest: writeTransactionRest({ syncFlags: CommitMode.CM1, syncLevel: CONFIRM ? SyncLevel.CONFIRM : SyncLevel.NONE, ltermOverride: '' }, CP037) },
      security: { flag: OtmaSecurityFlag.NONE, rest: new Uint8Array(0) },
      user: { align: 0, destinationId: 'IMS1', originId: 'HWS1', portId: '', logonToken: new Uint8Array(8), returnCode: 0, reasonName: '', responseToken: new Uint8Array(4), passTicket: '', flag1: 0, rest: new Uint8Array(0) },
      segments: [data],
    }),
  );
}
const waiters = new Map<string, () => void>();
let aborted = 0;
let checked = false;
let seq = 0;
let chunks = 0;
s.on('data', (chunk: Buffer) => {
  chunks++;
  for (const f of reader.push(chunk)) {
    if (!checked) {
      const m = decodeXcfFrame(f);
      if (m.control.messageType === OtmaMessageType.DATA) {
        const text = CP037.decode(m.segments![0]!);
        if (!text.includes(ECHO ? 'XXXX' : 'ENTRY WAS DISPLAYED')) throw new Error(`unexpected reply ${text}`);
        checked = true;
      }
    }
    const type = f[TYPE_AT];
    if (type === OtmaMessageType.DATA && f[RESP_AT]! & OtmaResponseFlag.RESPONSE_REQUESTED) {
      const ack = new Uint8Array(f.subarray(0, XCF_LENGTH_BYTES + OTMA_CONTROL_LAYOUT.size));
      ack[3] = XCF_LENGTH_BYTES + OTMA_CONTROL_LAYOUT.size;
      ack[0] = ack[1] = ack[2] = 0;
      ack[TYPE_AT] = OtmaMessageType.RESPONSE;
      ack[RESP_AT] = OtmaResponseFlag.ACK;
      ack[at('prefixFlags')] = 0;
      s.write(ack);
      continue;
    }
    if (type !== OtmaMessageType.COMMIT_CONFIRMATION) continue;
    if (f[CC_AT] !== OtmaCommitConfirmation.COMMITTED) aborted++;
    const tp = CP037.decode(f, TPIPE_AT, TPIPE_AT + 8);
    const w = waiters.get(tp);
    waiters.delete(tp);
    w?.();
  }
});

function transact(lane: number): Promise<void> {
  const frame = templates[lane]!.slice();
  const n = ++seq;
  frame[SEQ_AT] = n >>> 24;
  frame[SEQ_AT + 1] = (n >>> 16) & 0xff;
  frame[SEQ_AT + 2] = (n >>> 8) & 0xff;
  frame[SEQ_AT + 3] = n & 0xff;
  return new Promise((resolve) => {
    waiters.set(names[lane]!, resolve);
    s.write(frame);
  });
}

async function drive(ms: number): Promise<number> {
  let count = 0;
  const deadline = performance.now() + ms;
  await Promise.all(
    Array.from({ length: LANES }, async (_, lane) => {
      while (performance.now() < deadline) {
        await transact(lane);
        count++;
      }
    }),
  );
  return count;
}

await drive(1500);
const pid = child.pid!;
const c0 = cpuMs(pid);
const k0 = chunks;
const t0 = performance.now();
const n = await drive(SECONDS * 1000);
const el = performance.now() - t0;
const c1 = cpuMs(pid);
console.log(`tran=${ECHO ? 'ECHO' : 'IVTNO'} lanes=${LANES} sync=${CONFIRM ? 'confirm' : 'none'} tx=${n} tps=${((n / el) * 1000).toFixed(0)} imsCpuMs=${(c1 - c0).toFixed(0)} usPerTx=${(((c1 - c0) * 1000) / n).toFixed(1)} txPerReadChunk=${(n / (chunks - k0)).toFixed(2)} aborted=${aborted}`);
s.destroy();
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
rmSync(dir, { recursive: true, force: true });
