/**
 * Durability: a real `imsplex-ims` child process is SIGKILLed in the middle of a load, restarted on the
 * same data directory, and every acknowledged input and every committed output must be there — once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { OtmaCommand, OtmaCommitConfirmation, OtmaDeliveryOption, OtmaMessageType, OtmaResponseFlag } from '@imsplex/codec';
import type { OtmaLinkClient } from '../src/otma/client.js';
import { client, text } from './helpers.js';

const pkgDir = join(import.meta.dirname, '..');
const children: ChildProcess[] = [];
let dataDir = '';

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Start the bin; resolve with its link port once it logs "IMS system ready". */
function startIms(dir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@imsplex/source', 'src/bin.ts', '--data', dir, '--link-port', '0', '--log-level', 'info'], {
    cwd: pkgDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      try {
        const j = JSON.parse(line) as { msg?: string; link?: { port: number } };
        if (j.msg === 'IMS system ready' && j.link) resolve({ child, port: j.link.port });
      } catch {
        // not JSON
      }
    });
    child.once('exit', (code) => reject(new Error(`imsplex-ims exited with ${code}: ${stderr}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
}

async function command(c: OtmaLinkClient, cmd: string): Promise<string[]> {
  c.sendTransaction({ tpipe: 'CMD', segments: [cmd], commitMode: 1, syncLevel: 0 });
  const out = await c.next();
  await c.next(); // commit confirmation
  return text(out);
}

describe('durability across SIGKILL', () => {
  it('keeps every acknowledged input, committed output and committed update; applies none twice', { timeout: 50_000 }, async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'imsplex-ims-dur-'));
    const first = await startIms(dataDir);
    const c1 = await client(first.port);

    // Load 1: SENDONLY ECHO with ACK requested, pipelined. The ACK means "queued durably".
    const N = 400;
    const acked = new Set<number>();
    const bySeq = new Map<number, string>();
    // Load 2: IVTNO ADDs, CM1 CONFIRM, one after the other on another tpipe.
    const committed: string[] = [];
    let killAt = 0;
    let resolveKill!: () => void;
    const killed = new Promise<void>((r) => (resolveKill = r));
    // Kill once the load is well under way: some inputs acknowledged and some updates committed, with
    // more of both still in flight.
    const maybeKill = () => {
      if (killAt === 0 && acked.size >= 150 && committed.length >= 5) {
        killAt = acked.size;
        resolveKill();
      }
    };
    const ivt = await client(first.port, 'HWS2');
    const ivtLoop = (async () => {
      for (let i = 0; ; i++) {
        const name = `DUR${String(i).padStart(4, '0')}`;
        ivt.sendTransaction({ tpipe: 'IVT', segments: [`IVTNO     ADD     ${name.padEnd(10)}${'F'.padEnd(10)}${'X-1'.padEnd(10)}Z1`], commitMode: 1, syncLevel: 1 });
        const reply = await ivt.next();
        if (!reply) return;
        ivt.respond(reply, true);
        const cc = await ivt.next();
        if (!cc) return;
        if (cc.control.commitConfirmation === OtmaCommitConfirmation.COMMITTED) committed.push(name);
        maybeKill();
      }
    })();
    const reader = (async () => {
      for (;;) {
        const m = await c1.next();
        if (!m) return;
        if (m.control.messageType & OtmaMessageType.RESPONSE && m.control.responseFlags & OtmaResponseFlag.ACK) {
          acked.add(m.control.sendSequence);
          maybeKill();
        }
      }
    })();
    for (let i = 0; i < N; i++) {
      const seq = c1.sendTransaction({ tpipe: 'DUR', segments: [`ECHO    D${String(i).padStart(5, '0')}`], commitMode: 0, sendOnly: true, ackRequested: true });
      bySeq.set(seq, `ECHO    D${String(i).padStart(5, '0')}`);
    }
    await killed;
    first.child.kill('SIGKILL');
    await exited(first.child);
    await reader;
    await ivtLoop;
    c1.close();
    ivt.close();
    expect(acked.size).toBeGreaterThanOrEqual(150);
    expect(committed.length).toBeGreaterThan(0);

    // Restart on the same data directory.
    const second = await startIms(dataDir);
    const c2 = await client(second.port);
    try {
      // Wait until the recovered ECHO inputs are processed (their queue drains).
      for (let i = 0; i < 400; i++) {
        const q = await command(c2, '/DIS Q');
        if (!q.some((l) => /\bECHO\b/.test(l) && !l.startsWith('HWS'))) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      // Drain the hold queue: every acknowledged input must have produced exactly one output.
      c2.resumeTpipe('DUR', OtmaDeliveryOption.NO_AUTO);
      const seen = new Map<string, number>();
      for (;;) {
        const m = await c2.next();
        expect(m).toBeDefined();
        if (m!.control.commandType === OtmaCommand.NO_MESSAGES && m!.control.messageType === OtmaMessageType.COMMAND) break;
        const t = text(m)[0]!;
        seen.set(t, (seen.get(t) ?? 0) + 1);
        c2.respond(m!, true);
      }
      for (const seq of acked) expect(seen.get(bySeq.get(seq)!), `output of acknowledged ${bySeq.get(seq)}`).toBe(1);
      for (const [t, n] of seen) expect(n, `${t} delivered once`).toBe(1);
      // Every committed IVTNO ADD is there.
      for (const name of committed) {
        c2.sendTransaction({ tpipe: 'IVT2', segments: [`IVTNO     DISPLAY ${name}`], commitMode: 1, syncLevel: 0 });
        const r = await c2.next();
        expect(text(r)[0], name).toMatch(/^ENTRY WAS DISPLAYED/);
        await c2.next();
      }
    } finally {
      c2.close();
      second.child.kill('SIGTERM');
      await exited(second.child);
    }
  });
});
