/**
 * Prometheus metrics on the server's own prom-client `Registry` (never the global one, so several
 * servers can live in one process, as they do in tests).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Per-request counts kept as plain numbers by label values and handed to prom-client when it is
 * scraped: prom-client hashes the label object on every `inc`, which is most of its cost.
 */
class Tally<L extends string> {
  private readonly counts = new Map<string, { labels: Record<L, string>; value: number }>();
  constructor(private readonly names: readonly L[]) {}
  add(values: readonly string[], n = 1): void {
    this.entry(values).value += n;
  }
  /** The count of one label set (created at 0), to be kept and incremented by the caller. */
  entry(values: readonly string[]): { value: number } {
    const key = values.join('\u0000');
    let e = this.counts.get(key);
    if (e === undefined) this.counts.set(key, (e = { labels: Object.fromEntries(this.names.map((k, i) => [k, values[i]!])) as Record<L, string>, value: 0 }));
    return e;
  }
  /** Copy the counts into `counter` (called from its `collect`). */
  publish(counter: Counter<L>): void {
    counter.reset();
    for (const e of this.counts.values()) counter.inc(e.labels, e.value);
  }
}

/** Upper bounds of the request duration histogram (seconds). */
const DURATION_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** One label set of a `HistogramTally`. */
interface HistogramSet {
  readonly labels: Record<string, string>;
  readonly counts: number[];
  sum: number;
  count: number;
}

/**
 * Histogram observations kept as plain numbers per label set and handed to a prom-client
 * `Histogram` when it is scraped (prom-client hashes the label object on every `observe`). The
 * exposition is the one `Histogram.observe` would give: same buckets, sums, counts and order of
 * label sets (first observed first).
 */
export class HistogramTally {
  private readonly sets = new Map<string, HistogramSet>();
  /** Label sets in the order of their first observation (the order prom-client shows them in). */
  private readonly observed: { readonly key: string; readonly set: HistogramSet }[] = [];
  constructor(private readonly bounds: readonly number[]) {}
  /** The label set `{ [name]: value }` (created empty), to be kept and passed to `observe`. */
  entry(name: string, value: string): HistogramSet {
    let e = this.sets.get(value);
    if (e === undefined) this.sets.set(value, (e = { labels: { [name]: value }, counts: this.bounds.map(() => 0), sum: 0, count: 0 }));
    return e;
  }
  observe(e: HistogramSet, v: number): void {
    if (!Number.isFinite(v)) return; // (prom-client refuses these too; a duration always is finite)
    if (e.count === 0) this.observed.push({ key: e.labels[Object.keys(e.labels)[0]!]!, set: e });
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (v <= bounds[i]!) {
        e.counts[i]!++;
        break;
      }
    }
    e.sum += v;
    e.count++;
  }
  /** Copy the observations into `histogram` (called from its `collect`). */
  publish(histogram: Histogram<string>): void {
    histogram.reset();
    // prom-client 15 keeps a histogram's label sets in `hashMap` (key → { labels, bucketValues,
    // sum, count }) and exports `Object.values(hashMap)` in insertion order; the key only has to be
    // unique per label set.
    const map = (histogram as unknown as { hashMap: Record<string, unknown> }).hashMap;
    for (const { key, set: e } of this.observed) {
      const bucketValues: Record<number, number> = {};
      this.bounds.forEach((b, i) => (bucketValues[b] = e.counts[i]!));
      map[`\u0000${key}`] = { labels: { ...e.labels }, bucketValues, sum: e.sum, count: e.count };
    }
  }
}

/** The metrics of one server. */
export class ZosConnectMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'kind' | 'api' | 'operation' | 'status'>;
  readonly duration: Histogram<'kind'>;
  readonly inFlight: Gauge;
  readonly interactions: Counter<'service' | 'outcome'>;
  readonly inDoubt: Counter<'service'>;
  readonly pool: Gauge<'connection' | 'state'>;
  readonly conversations: Gauge;
  readonly ready: Gauge;
  private readonly requestTally = new Tally<'kind' | 'api' | 'operation' | 'status'>(['kind', 'api', 'operation', 'status']);
  private readonly interactionTally = new Tally<'service' | 'outcome'>(['service', 'outcome']);
  private readonly durationTally = new HistogramTally(DURATION_BUCKETS);
  private readonly apiEntries = new WeakMap<object, Map<number, { value: number }>>();
  private readonly okEntries = new WeakMap<object, { value: number }>();
  private readonly apiDuration = this.durationTally.entry('kind', 'api');

  constructor(collect: { pools: () => Record<string, { size: number; busy: number; idle: number; waiting: number }>; conversations: () => number; ready: () => boolean; inFlight: () => number }, labels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(labels);
    const registers = [this.registry];
    const requestTally = this.requestTally;
    const interactionTally = this.interactionTally;
    const durationTally = this.durationTally;
    this.requests = new Counter({
      name: 'zosconnect_http_requests_total',
      help: 'HTTP requests answered, by kind (api, service, admin), API, operation and status.',
      labelNames: ['kind', 'api', 'operation', 'status'],
      registers,
      collect() {
        requestTally.publish(this);
      },
    });
    this.duration = new Histogram({
      name: 'zosconnect_http_request_duration_seconds',
      help: 'Time from request to response.',
      labelNames: ['kind'],
      buckets: [...DURATION_BUCKETS],
      registers,
      collect() {
        durationTally.publish(this);
      },
    });
    this.inFlight = new Gauge({
      name: 'zosconnect_requests_in_flight',
      help: 'API and service requests being processed.',
      registers,
      collect() {
        this.set(collect.inFlight());
      },
    });
    this.interactions = new Counter({
      name: 'zosconnect_ims_interactions_total',
      help: 'IMS interactions by service and outcome (ok, error code).',
      labelNames: ['service', 'outcome'],
      registers,
      collect() {
        interactionTally.publish(this);
      },
    });
    this.inDoubt = new Counter({ name: 'zosconnect_ims_in_doubt_total', help: 'IMS interactions whose outcome is unknown (request written, reply lost); never retried.', labelNames: ['service'], registers });
    this.pool = new Gauge({
      name: 'zosconnect_ims_pool_connections',
      help: 'IMS Connect pool connections by connection profile and state.',
      labelNames: ['connection', 'state'],
      registers,
      collect() {
        this.reset();
        for (const [id, p] of Object.entries(collect.pools())) {
          this.set({ connection: id, state: 'busy' }, p.busy);
          this.set({ connection: id, state: 'idle' }, p.idle);
          this.set({ connection: id, state: 'waiting' }, p.waiting);
        }
      },
    });
    this.conversations = new Gauge({
      name: 'zosconnect_ims_conversations_open',
      help: 'IMS conversations held open between requests.',
      registers,
      collect() {
        this.set(collect.conversations());
      },
    });
    this.ready = new Gauge({
      name: 'zosconnect_ready',
      help: '1 when the server accepts new work (not paused or stopping).',
      registers,
      collect() {
        this.set(collect.ready() ? 1 : 0);
      },
    });
  }

  /** Count one answered HTTP request and its duration (seconds). */
  observeRequest(kind: string, api: string, operation: string, status: number, seconds: number): void {
    this.requestTally.add([kind, api, operation, String(status)]);
    this.durationTally.observe(this.durationTally.entry('kind', kind), seconds);
  }

  /**
   * `observeRequest` for an API operation, with the count of each status kept on the operation's
   * own entry (`op` is the operation's configuration object, a stable key until the next reload).
   */
  observeApiRequest(op: object, api: string, operation: string, status: number, seconds: number): void {
    let byStatus = this.apiEntries.get(op);
    if (byStatus === undefined) this.apiEntries.set(op, (byStatus = new Map()));
    let e = byStatus.get(status);
    if (e === undefined) byStatus.set(status, (e = this.requestTally.entry(['api', api, operation, String(status)])));
    e.value++;
    this.durationTally.observe(this.apiDuration, seconds);
  }

  /** `countInteraction(service.name, 'ok')`, with the count kept on the service's own entry. */
  countInteractionOk(service: { readonly name: string }): void {
    let e = this.okEntries.get(service);
    if (e === undefined) this.okEntries.set(service, (e = this.interactionTally.entry([service.name, 'ok'])));
    e.value++;
  }

  /** Count one IMS interaction by service and outcome (`ok` or an error code). */
  countInteraction(service: string, outcome: string): void {
    this.interactionTally.add([service, outcome]);
  }
}
