/** Prometheus metrics of one IMS system, on its own prom-client Registry. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TransactionManager } from './engine.js';
import type { OtmaMember } from './otma/member.js';

export class ImsMetrics {
  readonly registry = new Registry();
  readonly transactions: Counter<'tran' | 'outcome'>;
  readonly duration: Histogram<'tran'>;
  readonly otmaIn: Counter<'kind'>;
  readonly otmaOut: Counter<'kind'>;

  constructor(engine: TransactionManager, member: OtmaMember | undefined, options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ imsid: engine.imsId });
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
    this.transactions = new Counter({ name: 'ims_transactions_total', help: 'Transactions ended, by outcome (committed, abend, backout)', labelNames: ['tran', 'outcome'], registers });
    this.duration = new Histogram({
      name: 'ims_transaction_duration_seconds',
      help: 'Time from scheduling to the end of the unit of work',
      labelNames: ['tran'],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers,
    });
    this.otmaIn = new Counter({ name: 'ims_otma_messages_received_total', help: 'OTMA messages received, by kind', labelNames: ['kind'], registers });
    this.otmaOut = new Counter({ name: 'ims_otma_messages_sent_total', help: 'OTMA messages sent, by kind', labelNames: ['kind'], registers });
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
    engine.events.onTransactionEnd = (tran, outcome, ms) => {
      this.transactions.inc({ tran, outcome });
      this.duration.observe({ tran }, ms / 1000);
    };
    if (member) {
      member.events.onMessageIn = (kind) => this.otmaIn.inc({ kind });
      member.events.onMessageOut = (kind) => this.otmaOut.inc({ kind });
    }
  }
}
