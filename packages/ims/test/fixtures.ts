import { CP037 } from '@imsplex/codec';
import { ManualClock } from '../src/clock.js';
import { parseSystemConfig, DEFAULT_SYSTEM_DEFINITION, type SystemConfig } from '../src/config.js';
import { TransactionManager, type Cm1Channel, type ReplyMessage, type ReplyOutcome } from '../src/engine.js';
import type { OtmaOrigin } from '../src/messages.js';
import { SAMPLES } from '../src/programs/samples.js';
import type { Program } from '../src/program.js';
import { JournaledQueueStore } from '../src/queues/journaled.js';
import { loadPrograms } from '../src/ims-system.js';

export const enc = (s: string) => CP037.encode(s);
export const dec = (b: Uint8Array | undefined) => (b ? CP037.decode(b) : '');

/** Let every pending promise callback run. */
export async function flush(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

export function origin(over: Partial<OtmaOrigin> = {}): OtmaOrigin {
  return {
    kind: 'otma',
    member: 'HWS1',
    queueOwner: 'HWS1',
    tpipe: 'TP1',
    commitMode: 1,
    syncLevel: 1,
    userId: 'USER01',
    sendOnly: false,
    wantDfs2082: false,
    rerouteTpipe: undefined,
    purgeUndeliverable: false,
    replyId: undefined,
    context: undefined,
    ...over,
  };
}

/** A CM1 channel driven by the test. */
export class FakeChannel implements Cm1Channel {
  replies: ReplyMessage[] = [];
  confirmations: boolean[] = [];
  cancelled = 0;
  private pending: ((o: ReplyOutcome) => void) | undefined;
  constructor(private readonly mode: 'manual' | 'auto-ack' | 'lost' = 'manual') {}
  sendReply(reply: ReplyMessage): Promise<ReplyOutcome> {
    this.replies.push(reply);
    if (this.mode === 'lost') return Promise.resolve({ kind: 'lost' });
    if (!reply.ackRequired) return Promise.resolve({ kind: 'sent' });
    if (this.mode === 'auto-ack') return Promise.resolve({ kind: 'ack' });
    return new Promise((r) => (this.pending = r));
  }
  answer(o: ReplyOutcome): void {
    const p = this.pending;
    this.pending = undefined;
    p?.(o);
  }
  get waiting(): boolean {
    return this.pending !== undefined;
  }
  commitConfirmation(committed: boolean): void {
    this.confirmations.push(committed);
  }
  cancel(): void {
    this.cancelled++;
    this.pending = undefined;
  }
}

export async function engine(configText = DEFAULT_SYSTEM_DEFINITION, extra?: Map<string, Program>) {
  const clock = new ManualClock();
  const config: SystemConfig = parseSystemConfig(configText, 'test.cfg');
  const store = new JournaledQueueStore();
  const programs = await loadPrograms(config, extra);
  const tm = new TransactionManager({ config, store, programs, clock });
  await tm.start();
  return { tm, clock, store, config };
}

export { SAMPLES };
