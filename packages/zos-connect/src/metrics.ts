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
    const key = values.join('\u0000');
    const e = this.counts.get(key);
    if (e !== undefined) e.value += n;
    else this.counts.set(key, { labels: Object.fromEntries(this.names.map((k, i) => [k, values[i]!])) as Record<L, string>, value: n });
  }
  /** Copy the counts into `counter` (called from its `collect`). */
  publish(counter: Counter<L>): void {
    counter.reset();
    for (const e of this.counts.values()) counter.inc(e.labels, e.value);
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
  private readonly durationLabels = new Map<string, { kind: string }>();

  constructor(collect: { pools: () => Record<string, { size: number; busy: number; idle: number; waiting: number }>; conversations: () => number; ready: () => boolean; inFlight: () => number }, labels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(labels);
    const registers = [this.registry];
    const requestTally = this.requestTally;
    const interactionTally = this.interactionTally;
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
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
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
    let labels = this.durationLabels.get(kind);
    if (labels === undefined) this.durationLabels.set(kind, (labels = { kind }));
    this.duration.observe(labels, seconds);
  }

  /** Count one IMS interaction by service and outcome (`ok` or an error code). */
  countInteraction(service: string, outcome: string): void {
    this.interactionTally.add([service, outcome]);
  }
}
