import { mkdtemp, rm, readFile, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal } from '../src/journal.js';
import { JournaledQueueStore } from '../src/queues/journaled.js';
import type { InputMessage } from '../src/messages.js';
import { enc, origin } from './fixtures.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ims-journal-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('journal', () => {
  it('replays records in order; a torn tail is cut off; later appends follow the last good record', async () => {
    const path = join(dir, 'j');
    const { journal } = await Journal.open(path);
    const applied: number[] = [];
    await Promise.all([1, 2, 3].map((n) => journal.append({ n }, () => applied.push(n))));
    expect(applied).toEqual([1, 2, 3]);
    await journal.close();
    const full = await readFile(path);
    await writeFile(path, full.subarray(0, full.length - 3)); // torn last record
    const r2 = await Journal.open(path);
    expect(r2.replay.records).toEqual([{ n: 1 }, { n: 2 }]);
    expect(r2.replay.truncatedBytes).toBeGreaterThan(0);
    await r2.journal.append({ n: 4 });
    await r2.journal.close();
    const r3 = await Journal.open(path);
    expect(r3.replay.records).toEqual([{ n: 1 }, { n: 2 }, { n: 4 }]);
    await r3.journal.close();
  });

  it('a flipped byte fails the CRC and ends replay there', async () => {
    const path = join(dir, 'j');
    const { journal } = await Journal.open(path);
    await journal.append({ a: 'first' });
    await journal.append({ a: 'second' });
    await journal.close();
    const b = await readFile(path);
    b[b.length - 2] = b[b.length - 2]! ^ 0xff;
    await writeFile(path, b);
    const r = await Journal.open(path);
    expect(r.replay.records).toEqual([{ a: 'first' }]);
    await r.journal.close();
  });

  it('refuses a file that is not a journal', async () => {
    const path = join(dir, 'j');
    await writeFile(path, 'not a journal at all');
    await expect(Journal.open(path)).rejects.toMatchObject({ code: 'IMS_ERR_JOURNAL_CORRUPT' });
  });

  it('compaction keeps the state and shrinks the file', async () => {
    const path = join(dir, 'j');
    const { journal } = await Journal.open(path);
    for (let i = 0; i < 50; i++) await journal.append({ i });
    const before = (await stat(path)).size;
    await journal.compact(() => [{ snapshot: true }]);
    await journal.append({ after: 1 });
    await journal.close();
    expect((await stat(path)).size).toBeLessThan(before);
    const r = await Journal.open(path);
    expect(r.replay.records).toEqual([{ snapshot: true }, { after: 1 }]);
    await r.journal.close();
  });
});

describe('journaled queue store', () => {
  const msg = (id: string, recoverable = true): InputMessage => ({ id, tran: 'ECHO', segments: [enc('ECHO ' + id)], origin: origin({ commitMode: 0 }), enqueuedAt: 1, recoverable, conversationId: undefined });

  it('recovers waiting input, hold queues, databases and command status; never non-recoverable input', async () => {
    const s1 = new JournaledQueueStore({ dir, checkpointBytes: 4096 });
    await s1.open();
    await s1.apply([{ op: 'in+', msg: msg('A') }], true);
    await s1.apply([{ op: 'in+', msg: msg('B') }], true);
    await s1.apply([{ op: 'in+', msg: msg('CM1', false) }], true);
    const claimed = await s1.claimInput('ECHO');
    expect(claimed!.id).toBe('A');
    // A committed: input gone, output on a hold queue, a DB record
    await s1.apply(
      [
        { op: 'in-', tran: 'ECHO', id: 'A' },
        { op: 'out+', key: 'HWS1/TP', msg: { id: 'O1', segments: [enc('OUT A')], tran: 'ECHO', enqueuedAt: 2, direct: true, rerouted: false, member: 'HWS1', context: enc('CTX'), rerouteTpipe: undefined, purgeUndeliverable: false } },
        { op: 'db', db: 'D', key: 'K', value: enc('V') },
        { op: 'tst', tran: 'ECHO', stopped: true, ustopped: false },
      ],
      true,
    );
    await s1.apply([{ op: 'outh', key: 'HWS1/TP', id: 'O1' }], true);
    // B in flight at the "crash"
    expect((await s1.claimInput('ECHO'))!.id).toBe('B');
    await s1.close();
    const s2 = new JournaledQueueStore({ dir });
    const rep = await s2.open();
    expect(rep).toMatchObject({ inputMessages: 1, outputMessages: 1, dbRecords: 1, fresh: false });
    expect(s2.listInput('ECHO').map((m) => m.id)).toEqual(['B']);
    const out = s2.listOutput('HWS1/TP')[0]!;
    expect(out.direct).toBe(false);
    expect(Buffer.from(out.context!).equals(Buffer.from(enc('CTX')))).toBe(true);
    expect(await s2.dbGet('D', 'K')).toEqual(enc('V'));
    expect(s2.tranStatus('ECHO')).toEqual({ stopped: true, ustopped: false });
    await s2.close();
  });

  it('compacts past the checkpoint size and still recovers the same state', async () => {
    const s1 = new JournaledQueueStore({ dir, checkpointBytes: 4096, fsync: false });
    await s1.open();
    for (let i = 0; i < 60; i++) {
      await s1.apply([{ op: 'in+', msg: msg(`M${i}`) }], true);
      if (i % 2 === 0) {
        await s1.claimInput('ECHO');
        await s1.apply([{ op: 'in-', tran: 'ECHO', id: `M${i}` }], true);
      }
    }
    await new Promise((r) => setTimeout(r, 20));
    await s1.close();
    expect((await stat(join(dir, 'ims.journal'))).size).toBeLessThan(16_000);
    const s2 = new JournaledQueueStore({ dir });
    await s2.open();
    expect(s2.listInput('ECHO').map((m) => m.id)).toEqual(Array.from({ length: 30 }, (_, k) => `M${2 * k + 1}`));
    await s2.close();
  });
});
