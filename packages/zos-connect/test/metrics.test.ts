/**
 * The metrics' own tallies export what prom-client's would: the request-duration histogram kept as
 * plain numbers gives the exposition of `Histogram.observe`, byte for byte.
 */
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HistogramTally, ZosConnectMetrics } from '../src/metrics.js';

const collectors = { pools: () => ({}), conversations: () => 0, ready: () => true, inFlight: () => 0 };

describe('request duration histogram', () => {
  it('exports exactly what prom-client Histogram.observe gives (buckets, sum, count, label-set order)', async () => {
    const metrics = new ZosConnectMetrics(collectors, { server: 'Z1' });
    const reference = new Registry();
    reference.setDefaultLabels({ server: 'Z1' });
    const h = new Histogram({ name: 'zosconnect_http_request_duration_seconds', help: 'Time from request to response.', labelNames: ['kind'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [reference] });
    const text = async () => (await metrics.registry.getSingleMetricAsString('zosconnect_http_request_duration_seconds'));
    // Nothing observed: no label set at all, as prom-client.
    expect(await text()).toBe(await reference.getSingleMetricAsString('zosconnect_http_request_duration_seconds'));
    const op = {};
    // admin first, then api: the export keeps that order although the api set exists from the start.
    const samples: [string, number][] = [['admin', 0.0004], ['api', 0.0005], ['api', 0.00051], ['api', 0.003], ['admin', 0.2], ['api', 31], ['service', 1], ['api', 0]];
    for (const [kind, s] of samples) {
      if (kind === 'api') metrics.observeApiRequest(op, 'phonebook', 'getEntry', 200, s);
      else metrics.observeRequest(kind, '', '', 200, s);
      h.observe({ kind }, s);
    }
    const got = await text();
    expect(got).toBe(await reference.getSingleMetricAsString('zosconnect_http_request_duration_seconds'));
    expect(got).toContain('zosconnect_http_request_duration_seconds_bucket{le="0.0005",server="Z1",kind="admin"} 1');
    expect(got).toContain('zosconnect_http_request_duration_seconds_count{server="Z1",kind="api"} 5');
    // Scraping twice gives the same text (publishing replaces, never adds).
    expect(await text()).toBe(got);
  });

  it('counts API requests per status on the operation entry, like observeRequest', async () => {
    const a = new ZosConnectMetrics(collectors);
    const b = new ZosConnectMetrics(collectors);
    const op = {};
    for (const status of [200, 404, 200, 500]) {
      a.observeApiRequest(op, 'phonebook', 'getEntry', status, 0.001);
      b.observeRequest('api', 'phonebook', 'getEntry', status, 0.001);
    }
    a.countInteractionOk({ name: 'IVTNO' });
    a.countInteractionOk({ name: 'IVTNO' });
    b.countInteraction('IVTNO', 'ok');
    b.countInteraction('IVTNO', 'ok');
    expect(await a.registry.metrics()).toBe(await b.registry.metrics());
  });

  it('HistogramTally ignores values that are not finite (prom-client throws for them)', () => {
    const t = new HistogramTally([1]);
    const e = t.entry('kind', 'api');
    t.observe(e, Number.NaN);
    t.observe(e, 0.5);
    expect(e.count).toBe(1);
    expect(e.counts).toEqual([1]);
  });
});
