/**
 * A scripted IMS behind the DatastoreLink interface, for tests that exercise IMS Connect's own
 * behaviour (framing, timers, client IDs, RSMs) without an IMS engine. Transactions (first 8 data
 * bytes, EBCDIC CP037):
 * - IVTNO: replies "ENTRY WAS DISPLAYED" (the spec §13.2 answer);
 * - ECHO: replies the data after the trancode;
 * - CONV: conversational; each step replies "STEP n"; the 3rd step ends the conversation;
 * - SLOW: never answers (timer tests);
 * - BADTRAN / anything unknown: DFS064 error text; STOPPED: DFS065;
 * - NAKME: OTMA NAK sense X'0033';
 * - ASYNC: CM0 send-only input queues "ASYNC OUTPUT n" on the tpipe hold queue.
 */
import { CP037 } from '@imsplex/codec';
import type { DatastoreExchange, DatastoreLink, DatastoreStatus, ImsEvent, ImsInput, NakOptions, ResumeOption } from '../src/index.js';

const enc = (s: string) => CP037.encode(s);
const dec = (b: Uint8Array) => CP037.decode(b);

export class FakeIms implements DatastoreLink {
  state: DatastoreStatus = 'ACTIVE';
  readonly holdQueues = new Map<string, Uint8Array[][]>();
  readonly log: string[] = [];
  private readonly listeners: Array<(s: DatastoreStatus) => void> = [];
  private convSteps = new Map<string, number>();
  readonly waiting = new Set<(ev: ImsEvent) => void>();
  committed = 0;
  aborted = 0;

  constructor(readonly id: string) {}

  status(): DatastoreStatus {
    return this.state;
  }
  onStatus(fn: (s: DatastoreStatus) => void): void {
    this.listeners.push(fn);
  }
  setStatus(s: DatastoreStatus): void {
    this.state = s;
    for (const fn of this.listeners) fn(s);
    if (s !== 'ACTIVE') for (const w of [...this.waiting]) w({ ev: 'linkDown' });
  }
  open(): void {
    this.setStatus('ACTIVE');
  }
  stop(): void {
    this.setStatus('STOPPED');
  }
  close(): void {
    this.setStatus('NOT ACTIVE');
  }

  /** CSM_AMSG hook: output waits on the tpipe's hold queue. */
  asyncOutputQueued(tpipe: string): boolean {
    return (this.holdQueues.get(tpipe)?.length ?? 0) > 0;
  }

  queue(tpipe: string, text: string): void {
    const q = this.holdQueues.get(tpipe) ?? [];
    q.push([enc(text)]);
    this.holdQueues.set(tpipe, q);
  }

  send(input: ImsInput, sink: (ev: ImsEvent) => void): DatastoreExchange {
    let pendingOutput: Uint8Array[] | undefined;
    let done = false;
    const emit = (ev: ImsEvent) => {
      if (!done) queueMicrotask(() => !done && sink(ev));
    };
    return {
      start: () => {
        const first = input.segments[0] ?? new Uint8Array(0);
        const tran = dec(first.subarray(0, 8)).trim();
        this.log.push(`send ${tran} cm${input.commitMode} sync${input.syncLevel}${input.sendOnly ? ' ' + input.sendOnly : ''} tpipe=${input.tpipe}`);
        const reply = (segments: Uint8Array[], conversational = false) => {
          pendingOutput = segments;
          emit({ ev: 'output', segments, conversational, ackRequired: input.syncLevel === 1 });
        };
        if (input.sendOnly) {
          if (tran === 'ASYNC') this.queue(input.tpipe, `ASYNC OUTPUT ${(this.holdQueues.get(input.tpipe)?.length ?? 0) + 1}`);
          if (input.sendOnly === 'K') emit({ ev: 'enqueued' });
          done = input.sendOnly !== 'K';
          return;
        }
        switch (tran) {
          case 'IVTNO':
            return reply([enc('ENTRY WAS DISPLAYED')]);
          case 'ECHO':
            return reply(input.segments.map((s, i) => (i === 0 ? s.subarray(8) : s)));
          case 'CONV': {
            const n = (this.convSteps.get(input.tpipe) ?? 0) + 1;
            this.convSteps.set(input.tpipe, n);
            if (n >= 3) this.convSteps.delete(input.tpipe);
            return reply([enc(`STEP ${n}`)], n < 3);
          }
          case 'SLOW':
            this.waiting.add(sink);
            return;
          case 'NAKME':
            done = true;
            queueMicrotask(() => sink({ ev: 'nak', sense: 0x33, reason: 7 }));
            return;
          case 'STOPPED':
            return emit({ ev: 'errorText', segments: [enc('DFS065 14:00:00 TRAN/LTERM STOPPED')] });
          default:
            return emit({ ev: 'errorText', segments: [enc(`DFS064 14:00:00 DESTINATION CAN NOT BE FOUND OR CREATED, DEST=${tran}`)] });
        }
      },
      ack: () => {
        if (!pendingOutput) return;
        pendingOutput = undefined;
        if (input.commitMode === 1 && !this.convSteps.has(input.tpipe)) {
          this.committed++;
          emit({ ev: 'committed' });
        }
      },
      nak: (_o: NakOptions) => {
        if (!pendingOutput) return;
        if (input.commitMode === 0) this.queue(input.tpipe, dec(pendingOutput[0]!));
        pendingOutput = undefined;
        if (input.commitMode === 1) {
          this.aborted++;
          this.convSteps.delete(input.tpipe);
          emit({ ev: 'aborted' });
        }
      },
      abandon: () => {
        done = true;
        this.waiting.delete(sink);
        this.log.push(`abandon ${input.tpipe}`);
      },
    };
  }

  resume(tpipe: string, option: ResumeOption, _callout: 'none' | 'only' | 'first', _userId: string, sink: (ev: ImsEvent) => void): DatastoreExchange {
    let done = false;
    let current: Uint8Array[] | undefined;
    let count = 0;
    const deliver = () => {
      const q = this.holdQueues.get(tpipe) ?? [];
      const m = q.shift();
      if (!m) {
        if (option === 'noauto' || (option === 'single' && count === 0)) queueMicrotask(() => !done && sink({ ev: 'empty' }));
        return;
      }
      current = m;
      count++;
      queueMicrotask(() => !done && sink({ ev: 'output', segments: m, conversational: false, ackRequired: true }));
    };
    return {
      start: () => {
        this.log.push(`resume ${tpipe} ${option}`);
        deliver();
      },
      ack: () => {
        current = undefined;
        if (option === 'single' || option === 'singleWait') return;
        deliver();
      },
      nak: () => {
        if (current) (this.holdQueues.get(tpipe) ?? this.holdQueues.set(tpipe, []).get(tpipe)!).unshift(current);
        current = undefined;
        done = true;
      },
      abandon: () => {
        if (current) (this.holdQueues.get(tpipe) ?? this.holdQueues.set(tpipe, []).get(tpipe)!).unshift(current);
        done = true;
      },
    };
  }

  deallocate(tpipe: string, sink: (ev: ImsEvent) => void): DatastoreExchange {
    return {
      start: () => {
        this.convSteps.delete(tpipe);
        queueMicrotask(() => sink({ ev: 'committed' }));
      },
      ack: () => {},
      nak: () => {},
      abandon: () => {},
    };
  }
}
