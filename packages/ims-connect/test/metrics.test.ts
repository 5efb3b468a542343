/** Request counting: plain counters on the hot path, copied into prom-client when scraped. */
import { describe, expect, it } from 'vitest';
import { buildRequest, encodeRequest } from '@imsplex/codec';
import { naiveRequest } from '@imsplex/codec/testing';
import { ImsConnectMetrics } from '../src/index.js';
import { harness } from './harness.js';

const line = (text: string, type: string) => text.split('\n').find((l) => l.startsWith('imsconnect_requests_total{') && l.includes(`type="${type}"`));

describe('imsconnect_requests_total', () => {
  it('counts per port and type; scraping twice does not double the totals', async () => {
    const m = new ImsConnectMetrics('HWSM');
    m.countRequest(5801, 'SEND_RECEIVE');
    m.countRequest(5801, 'SEND_RECEIVE');
    m.countRequest(5802, 'ACK');
    for (let i = 0; i < 2; i++) {
      const text = await m.registry.metrics();
      expect(line(text, 'SEND_RECEIVE')).toBe('imsconnect_requests_total{port="5801",type="SEND_RECEIVE",ims_connect="HWSM"} 2');
      expect(line(text, 'ACK')).toBe('imsconnect_requests_total{port="5802",type="ACK",ims_connect="HWSM"} 1');
    }
  });

  it('the server counts decoded input by type, and undecodable input as INVALID', async () => {
    const h = await harness();
    try {
      const c = h.memory();
      c.send(encodeRequest(buildRequest({ datastore: 'IMS1', clientId: 'METRIC01', trancode: 'ECHO', data: 'X' })));
      await c.next();
      const bad = h.memory();
      bad.send(naiveRequest({ IRM_CLIENTID: 'METRIC02', irmLen: 0x20, segments: [{ data: [0xc5, 0xc3, 0xc8, 0xd6] }] })); // IRM_LEN below X'50'
      await bad.next(); // the RSM (reason 6)
      const text = await h.server.metrics.registry.metrics();
      expect(line(text, 'SEND_RECEIVE')).toBe('imsconnect_requests_total{port="0",type="SEND_RECEIVE",ims_connect="HWS1"} 1');
      expect(line(text, 'INVALID')).toBe('imsconnect_requests_total{port="0",type="INVALID",ims_connect="HWS1"} 1');
    } finally {
      await h.close();
    }
  });
});
