/**
 * Prometheus metrics of one IMS system, on its own prom-client Registry.
 *
 * Hot-path cost: the per-message counters (OTMA messages in/out, transactions by outcome) are counted in
 * plain per-label fields and handed to prom-client when the registry collects (a scrape, or `get()` on
 * the counter), so a message costs a map lookup and an addition instead of prom-client's label
 * validation and hashing. The exposed values are the same at every scrape.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TransactionManager } from './engine.js';
import type { OtmaMember } from './otma/member.js';

/**
 * Sampling interval (ms) of the event-loop-lag metrics of `collectDefaultMetrics`. prom-client's
 * default, 10 ms, arms a libuv timer that wakes an idle process about 200 times a second; at 100 ms
 * it wakes it 20 times. Lag shorter than this still shows in the histogram's percentiles of the
 * samples taken, and a Prometheus scrape interval is seconds, so nothing a dashboard reads is lost.
 */
export const EVENT_LOOP_MONITORING_MS = 100;

export class ImsMetrics {
  readonly registry = new Registry();
  readonly transactions: Counter<'tran' | 'outcome'>;
  readonly duration: Histogram<'tran'>;
  readonly otmaIn: Counter<'kind'>;
  readonly otmaOut: Counter<'kind'>;

  constructor(engine: TransactionManager, member: OtmaMember | undefined, options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ imsid: engine.imsId });
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_MONITORING_MS });
    const ended = new Map<string, Record<'committed' | 'abend' | 'backout', number>>();
    const otmaIn = new Map<string, number>();
    const otmaOut = new Map<string, number>();
    this.transactions = new Counter({
      name: 'ims_transactions_total',
      help: 'Transactions ended, by outcome (committed, abend, backout)',
      labelNames: ['tran', 'outcome'],
      registers,
      collect() {
        for (const [tran, byOutcome] of ended) {
          for (const outcome of OUTCOMES) {
            const n = byOutcome[outcome];
            if (n > 0) {
              this.inc({ tran, outcome }, n);
              byOutcome[outcome] = 0;
            }
          }
        }
      },
    });
    // Durations are bucketed here per transaction code and added to prom-client's series when the
    // registry collects: prom-client's observe() validates and hashes the labels on every call.
    const durations = new Map<string, DurationSums>();
    this.duration = new Histogram({
      name: 'ims_transaction_duration_seconds',
      help: 'Time from scheduling to the end of the unit of work',
      labelNames: ['tran'],
      buckets: DURATION_BUCKETS as number[],
      registers,
      collect() {
        for (const [tran, d] of durations) if (d.count > 0) flushDurations(this, tran, d);
      },
    });
    this.otmaIn = new Counter({ name: 'ims_otma_messages_received_total', help: 'OTMA messages received, by kind', labelNames: ['kind'], registers, collect: flushKinds(otmaIn) });
    this.otmaOut = new Counter({ name: 'ims_otma_messages_sent_total', help: 'OTMA messages sent, by kind', labelNames: ['kind'], registers, collect: flushKinds(otmaOut) });
    new Gauge({
      name: 'ims_input_queue_depth',
      help: 'Messages waiting on each transaction input queue',
      labelNames: ['tran'],
      registers,
      collect() {
        for (const t of engine.transactions()) this.set({ tran: t.def.code }, t.queued);
      },
    });
    new Gauge({
      name: 'ims_output_queue_depth',
      help: 'Messages on tpipe hold queues and LTERM queues (all together)',
      registers,
      collect() {
        let n = 0;
        for (const k of engine.store.outputKeys()) n += engine.store.outputDepth(k);
        this.set(n);
      },
    });
    new Gauge({ name: 'ims_regions_busy', help: 'Message regions running a program', registers, collect() { this.set(engine.regions().filter((r) => r.tran).length); } });
    new Gauge({ name: 'ims_conversations', help: 'Active conversations', registers, collect() { this.set(engine.conversationCount); } });
    new Gauge({ name: 'ims_otma_links', help: 'Open OTMA (XCF) links', registers, collect() { this.set(member?.linkCount ?? 0); } });
    // One entry per transaction code: its outcome counts and its duration sums, made once.
    const byTran = new Map<string, { counts: Record<'committed' | 'abend' | 'backout', number>; duration: DurationSums }>();
    engine.events.onTransactionEnd = (tran, outcome, ms) => {
      let t = byTran.get(tran);
      if (!t) {
        const counts = { committed: 0, abend: 0, backout: 0 };
        const duration = newDurationSums();
        ended.set(tran, counts);
        durations.set(tran, duration);
        byTran.set(tran, (t = { counts, duration }));
      }
      t.counts[outcome]++;
      addDuration(t.duration, ms / 1000);
    };
    if (member) {
      member.events.onMessageIn = (kind) => otmaIn.set(kind, (otmaIn.get(kind) ?? 0) + 1);
      member.events.onMessageOut = (kind) => otmaOut.set(kind, (otmaOut.get(kind) ?? 0) + 1);
    }
  }
}

const OUTCOMES = ['committed', 'abend', 'backout'] as const;

/** Upper bounds of the duration histogram, seconds. */
const DURATION_BUCKETS: readonly number[] = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30];

/** Durations of one transaction code observed since the last collect, bucketed as prom-client would. */
interface DurationSums {
  /** Per bound of `DURATION_BUCKETS`: observations whose first bound ≥ value is that one (not cumulative). */
  readonly buckets: number[];
  sum: number;
  count: number;
}

function newDurationSums(): DurationSums {
  return { buckets: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };
}

/** One observation (prom-client's rule: the first bound ≥ value; above the last one, only +Inf). */
function addDuration(d: DurationSums, seconds: number): void {
  if (!Number.isFinite(seconds)) return;
  d.sum += seconds;
  d.count++;
  for (let i = 0; i < DURATION_BUCKETS.length; i++) {
    if (seconds <= DURATION_BUCKETS[i]!) {
      d.buckets[i]!++;
      return;
    }
  }
}

/** prom-client 15's per-series state of a histogram (what `observe` updates). */
interface HistogramSeries {
  labels: Record<string, string | number>;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

/**
 * Add the sums gathered for `tran` to the histogram's series of that label, exactly as that many
 * observe() calls would have (bucket counts, sum, count), and clear them. Uses prom-client 15's series
 * map (the pinned version; a test checks the exposition against plain observe() calls).
 */
function flushDurations(h: Histogram<'tran'>, tran: string, d: DurationSums): void {
  const find = (): HistogramSeries | undefined => {
    const map = (h as unknown as { hashMap: Record<string, HistogramSeries> }).hashMap;
    for (const k in map) if (map[k]!.labels.tran === tran) return map[k];
    return undefined;
  };
  let series = find();
  if (!series) {
    h.zero({ tran });
    series = find();
  }
  if (!series) return;
  series.sum += d.sum;
  series.count += d.count;
  for (let i = 0; i < DURATION_BUCKETS.length; i++) {
    const n = d.buckets[i]!;
    if (n > 0) series.bucketValues[DURATION_BUCKETS[i]!] = (series.bucketValues[DURATION_BUCKETS[i]!] ?? 0) + n;
    d.buckets[i] = 0;
  }
  d.sum = 0;
  d.count = 0;
}

/** A counter's collect(): hand the counts gathered since the last collect to prom-client. */
function flushKinds(counts: Map<string, number>): (this: Counter<'kind'>) => void {
  return function (this: Counter<'kind'>) {
    for (const [kind, n] of counts) {
      if (n > 0) {
        this.inc({ kind }, n);
        counts.set(kind, 0);
      }
    }
  };
}
