/**
 * An append-only on-disk journal with a CRC per record.
 *
 * File layout: an 8-byte magic `IMSJRN01`, then records `u32 length | u32 crc32(payload) | payload`
 * (big-endian; the payload is UTF-8 JSON). Replay reads records until the end of the file; a short or
 * CRC-failing record at the tail is a torn write from a crash and is cut off (the file is truncated
 * there so new records follow the last good one).
 *
 * Writes are group-committed: a batch starts at the end of the tick of the first `append` (so every
 * record appended in the same tick — e.g. the inputs of one chunk of OTMA messages, or the commits of
 * one round of regions — shares it), every `append` issued while a write is in progress joins the next
 * batch, and a batch is one `write` followed by one `fdatasync` (when `fsync` is on). `append` resolves only
 * after its batch is synced, and the `applied` callbacks of a batch run synchronously, in journal order,
 * before any promise resolves — so the in-memory state always equals the replay of the synced prefix.
 *
 * Compaction (`compact`) is queued behind the pending batches: it writes the snapshot records to
 * `<file>.tmp`, fsyncs it, renames it over the journal and fsyncs the directory.
 */
import { open, rename, type FileHandle, mkdir } from 'node:fs/promises';
import { openSync, fsyncSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { ImsError, ImsErrorCode } from './errors.js';

const MAGIC = Buffer.from('IMSJRN01', 'latin1');
const HEADER = 8;
/** Largest record the journal accepts (bytes of JSON). */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

export interface JournalOptions {
  /** fdatasync each batch before resolving (default true). */
  fsync?: boolean;
}

/** What replay found. */
export interface JournalReplay {
  records: unknown[];
  /** Bytes cut off the tail (a torn last write), 0 when the file was clean. */
  truncatedBytes: number;
}

interface Pending {
  kind: 'record';
  bytes: Buffer;
  applied: (() => void) | undefined;
  resolve: () => void;
  reject: (e: unknown) => void;
}
interface PendingCompact {
  kind: 'compact';
  snapshot: () => unknown[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class Journal {
  private queue: Array<Pending | PendingCompact> = [];
  private running = false;
  private closed = false;
  private failed: unknown;
  private bytes: number;
  private batchCount = 0;

  private constructor(
    private fh: FileHandle,
    readonly path: string,
    size: number,
    private readonly fsync: boolean,
  ) {
    this.bytes = size;
  }

  /** Open (creating if needed) and replay the journal at `path`. */
  static async open(path: string, options: JournalOptions = {}): Promise<{ journal: Journal; replay: JournalReplay }> {
    await mkdir(dirname(path), { recursive: true });
    const fh = await open(path, 'a+');
    try {
      const { size } = await fh.stat();
      let data: Buffer = size > 0 ? Buffer.alloc(size) : Buffer.alloc(0);
      if (size > 0) {
        let off = 0;
        while (off < size) {
          const { bytesRead } = await fh.read(data, off, size - off, off);
          if (bytesRead === 0) break;
          off += bytesRead;
        }
        data = data.subarray(0, off);
      }
      const records: unknown[] = [];
      let good = 0;
      if (data.length === 0) {
        await fh.write(MAGIC, 0, MAGIC.length);
        await fh.datasync();
        good = HEADER;
      } else {
        if (data.length < HEADER || !data.subarray(0, HEADER).equals(MAGIC)) {
          throw new ImsError(ImsErrorCode.JOURNAL_CORRUPT, `journal ${path} does not start with the IMSJRN01 magic`, { details: { path } });
        }
        good = HEADER;
        let off = HEADER;
        while (off + 8 <= data.length) {
          const len = data.readUInt32BE(off);
          const crc = data.readUInt32BE(off + 4);
          if (len > MAX_RECORD_BYTES || off + 8 + len > data.length) break;
          const payload = data.subarray(off + 8, off + 8 + len);
          if (crc32(payload) >>> 0 !== crc) break;
          let rec: unknown;
          try {
            rec = JSON.parse(payload.toString('utf8'));
          } catch {
            break;
          }
          records.push(rec);
          off += 8 + len;
          good = off;
        }
      }
      const truncatedBytes = data.length > 0 ? data.length - good : 0;
      if (truncatedBytes > 0) {
        await fh.truncate(good);
        await fh.datasync();
      }
      return { journal: new Journal(fh, path, good, options.fsync ?? true), replay: { records, truncatedBytes } };
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
  }

  /** Current size of the journal file in bytes. */
  get size(): number {
    return this.bytes;
  }

  /** Record batches written so far (each one `write` plus, with `fsync`, one `fdatasync`). */
  get batches(): number {
    return this.batchCount;
  }

  /**
   * Append one record. `applied` runs synchronously once the record is durable, in journal order,
   * before the returned promise resolves.
   */
  append(record: unknown, applied?: () => void): Promise<void> {
    if (this.closed || this.failed !== undefined) {
      return Promise.reject(new ImsError(ImsErrorCode.JOURNAL_CLOSED, `journal ${this.path} is ${this.closed ? 'closed' : 'failed'}`, { cause: this.failed }));
    }
    const json = Buffer.from(JSON.stringify(record), 'utf8');
    if (json.length > MAX_RECORD_BYTES) {
      return Promise.reject(new ImsError(ImsErrorCode.JOURNAL_RECORD_TOO_LARGE, `journal record of ${json.length} bytes exceeds ${MAX_RECORD_BYTES}`));
    }
    const bytes = Buffer.allocUnsafe(8 + json.length);
    bytes.writeUInt32BE(json.length, 0);
    bytes.writeUInt32BE(crc32(json) >>> 0, 4);
    json.copy(bytes, 8);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: 'record', bytes, applied, resolve, reject });
      this.kick();
    });
  }

  /** Replace the journal by `snapshot()` (called when every earlier append is applied). */
  compact(snapshot: () => unknown[]): Promise<void> {
    if (this.closed || this.failed !== undefined) return Promise.reject(new ImsError(ImsErrorCode.JOURNAL_CLOSED, `journal ${this.path} is closed`));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: 'compact', snapshot, resolve, reject });
      this.kick();
    });
  }

  /** Wait for pending writes, then close the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.running || this.queue.length > 0) {
      await new Promise<void>((r) => setImmediate(r));
      if (!this.running && this.queue.length > 0) this.kick();
    }
    this.closed = true;
    await this.fh.close().catch(() => undefined);
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    // Start at the end of this tick: appends made in the same tick join the first batch.
    process.nextTick(() => void this.loop());
  }

  private async loop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const head = this.queue[0]!;
        if (head.kind === 'compact') {
          this.queue.shift();
          try {
            await this.doCompact(head.snapshot());
            head.resolve();
          } catch (e) {
            head.reject(e);
          }
          continue;
        }
        // A batch: every record up to the next compaction request.
        const batch: Pending[] = [];
        while (this.queue.length > 0 && this.queue[0]!.kind === 'record') batch.push(this.queue.shift() as Pending);
        const buf = batch.length === 1 ? batch[0]!.bytes : Buffer.concat(batch.map((b) => b.bytes));
        try {
          let off = 0;
          while (off < buf.length) {
            const { bytesWritten } = await this.fh.write(buf, off, buf.length - off);
            off += bytesWritten;
          }
          if (this.fsync) await this.fh.datasync();
          this.bytes += buf.length;
          this.batchCount++;
        } catch (e) {
          this.failed = e;
          const err = new ImsError(ImsErrorCode.JOURNAL_CLOSED, `journal write failed: ${(e as Error).message}`, { cause: e });
          for (const p of batch) p.reject(err);
          for (const p of this.queue.splice(0)) p.reject(err);
          return;
        }
        for (const p of batch) p.applied?.();
        for (const p of batch) p.resolve();
      }
    } finally {
      this.running = false;
    }
  }

  private async doCompact(records: unknown[]): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const parts: Buffer[] = [MAGIC];
    for (const r of records) {
      const json = Buffer.from(JSON.stringify(r), 'utf8');
      const head = Buffer.allocUnsafe(8);
      head.writeUInt32BE(json.length, 0);
      head.writeUInt32BE(crc32(json) >>> 0, 4);
      parts.push(head, json);
    }
    const buf = Buffer.concat(parts);
    const fh = await open(tmp, 'w');
    try {
      await fh.write(buf, 0, buf.length);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
    fsyncDir(dirname(this.path));
    await this.fh.close();
    this.fh = await open(this.path, 'a+');
    this.bytes = buf.length;
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  }
}
