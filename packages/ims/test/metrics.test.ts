import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { TransactionManager } from '../src/engine.js';
import { ImsMetrics } from '../src/metrics.js';

/** The least of an engine ImsMetrics reads. */
function fakeEngine(): TransactionManager {
  return {
    imsId: 'IMS1',
    events: {},
    transactions: () => [],
    store: { outputKeys: () => [], outputDepth: () => 0 },
    regions: () => [],
    conversationCount: 0,
  } as unknown as TransactionManager;
}

/** The same histogram fed through prom-client's own observe(). */
function reference(): { registry: Registry; h: Histogram<'tran'> } {
  const registry = new Registry();
  registry.setDefaultLabels({ imsid: 'IMS1' });
  const h = new Histogram({
    name: 'ims_transaction_duration_seconds',
    help: 'Time from scheduling to the end of the unit of work',
    labelNames: ['tran'],
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [registry],
  });
  return { registry, h };
}

describe('ImsMetrics: transaction durations summed per transaction, exposed as prom-client would', () => {
  it('gives the same exposition as observe() per transaction, across scrapes', async () => {
    const engine = fakeEngine();
    const m = new ImsMetrics(engine, undefined);
    const ref = reference();
    const end = engine.events.onTransactionEnd!;
    // Bucket edges exactly, between edges, above the last bound (+Inf only), two transaction codes.
    const first: Array<[string, number]> = [
      ['IVTNO', 0.5],
      ['IVTNO', 0.2],
      ['IVTNO', 1],
      ['IVTNO', 3],
      ['ECHO', 7.5],
      ['IVTNO', 40_000],
      ['ECHO', 30_000],
    ];
    for (const [tran, ms] of first) {
      end(tran, 'committed', ms);
      ref.h.observe({ tran }, ms / 1000);
    }
    const name = 'ims_transaction_duration_seconds';
    const a1 = await m.registry.getSingleMetricAsString(name);
    expect(a1).toBe(await ref.registry.getSingleMetricAsString(name));
    expect(a1).toContain('ims_transaction_duration_seconds_bucket{le="0.0005",imsid="IMS1",tran="IVTNO"} 2');
    expect(a1).toContain('ims_transaction_duration_seconds_count{imsid="IMS1",tran="IVTNO"} 5');

    // More after a scrape: added to what was there, nothing counted twice.
    for (const [tran, ms] of [
      ['IVTNO', 0.7],
      ['SLOW', 1500],
      ['ECHO', 7.5],
    ] as Array<[string, number]>) {
      end(tran, 'abend', ms);
      ref.h.observe({ tran }, ms / 1000);
    }
    const a2 = await m.registry.getSingleMetricAsString(name);
    expect(a2).toBe(await ref.registry.getSingleMetricAsString(name));
    expect(a2).toContain('ims_transaction_duration_seconds_count{imsid="IMS1",tran="IVTNO"} 6');
    // A scrape with nothing new changes nothing.
    expect(await m.registry.getSingleMetricAsString(name)).toBe(a2);
  });

  it('counts transactions by outcome', async () => {
    const engine = fakeEngine();
    const m = new ImsMetrics(engine, undefined);
    const end = engine.events.onTransactionEnd!;
    end('IVTNO', 'committed', 1);
    end('IVTNO', 'committed', 1);
    end('IVTNO', 'backout', 1);
    const text = await m.registry.getSingleMetricAsString('ims_transactions_total');
    expect(text).toContain('ims_transactions_total{tran="IVTNO",outcome="committed",imsid="IMS1"} 2');
    expect(text).toContain('ims_transactions_total{tran="IVTNO",outcome="backout",imsid="IMS1"} 1');
  });
});
