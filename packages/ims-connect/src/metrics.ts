/**
 * Prometheus metrics in the server's own prom-client Registry (never the global one, so several
 * servers can live in one process and tests stay isolated).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Sampling interval (ms) of the event-loop-lag metrics of `collectDefaultMetrics`. prom-client's
 * default, 10 ms, arms a libuv timer that wakes an idle process about 200 times a second; at 100 ms
 * it wakes it 20 times. Lag shorter than this still shows in the histogram's percentiles of the
 * samples taken, and a Prometheus scrape interval is seconds, so nothing a dashboard reads is lost.
 */
export const EVENT_LOOP_MONITORING_MS = 100;

/** The metrics of one IMS Connect server. */
export class ImsConnectMetrics {
  readonly registry = new Registry();
  readonly connections: Counter<'port'>;
  readonly rejected: Counter<'port' | 'reason'>;
  readonly openSockets: Gauge<'port'>;
  readonly requests: Counter<'port' | 'type'>;
  readonly rsms: Counter<'rc' | 'reason'>;
  readonly latency: Histogram<'type'>;
  readonly datastoreUp: Gauge<'datastore'>;
  readonly health: Gauge;
  /** Requests by port and type, counted without prom-client's per-call label hashing. */
  private readonly requestCounts = new Map<number, Map<string, number>>();

  constructor(id: string, options: { defaultMetrics?: boolean } = {}) {
    this.registry.setDefaultLabels({ ims_connect: id });
    const registers = [this.registry];
    this.connections = new Counter({ name: 'imsconnect_connections_total', help: 'Client connections accepted', labelNames: ['port'], registers });
    this.rejected = new Counter({ name: 'imsconnect_connections_rejected_total', help: 'Client connections refused (MAXSOC, quiesce, stopped port)', labelNames: ['port', 'reason'], registers });
    this.openSockets = new Gauge({ name: 'imsconnect_client_sockets', help: 'Open client sockets', labelNames: ['port'], registers });
    const counts = this.requestCounts;
    this.requests = new Counter({
      name: 'imsconnect_requests_total',
      help: 'Input messages by IRM_F4 type',
      labelNames: ['port', 'type'],
      registers,
      // Counted in plain numbers on the hot path (`countRequest`); copied in when scraped.
      collect() {
        this.reset();
        for (const [port, byType] of counts) for (const [type, n] of byType) this.inc({ port: String(port), type }, n);
      },
    });
    this.rsms = new Counter({ name: 'imsconnect_rsm_total', help: 'Request status messages sent', labelNames: ['rc', 'reason'], registers });
    this.latency = new Histogram({
      name: 'imsconnect_interaction_seconds',
      help: 'Time from a complete input message to the last byte of its reply',
      labelNames: ['type'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    });
    this.datastoreUp = new Gauge({ name: 'imsconnect_datastore_up', help: '1 when the datastore OTMA link is active', labelNames: ['datastore'], registers });
    this.health = new Gauge({ name: 'imsconnect_health', help: 'Health 0-100 from free sockets vs MAXSOC', registers });
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'imsconnect_', eventLoopMonitoringPrecision: EVENT_LOOP_MONITORING_MS });
  }

  /** Count one input message (`imsconnect_requests_total{port,type}`). */
  countRequest(port: number, type: string): void {
    let byType = this.requestCounts.get(port);
    if (!byType) this.requestCounts.set(port, (byType = new Map()));
    byType.set(type, (byType.get(type) ?? 0) + 1);
  }
}
