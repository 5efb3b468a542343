import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SYSTEM_DEFINITION } from '../src/config.js';
import { startTestImsSystem, type TestImsSystem } from '../src/testing.js';
import { client, text } from './helpers.js';

let ims: TestImsSystem;
beforeAll(async () => {
  ims = await startTestImsSystem({ admin: true, configText: DEFAULT_SYSTEM_DEFINITION + "ADMIN HOST=127.0.0.1,PORT=0,TOKEN='s3cret'\n", host: '127.0.1.1' });
});
afterAll(async () => {
  await ims.stop();
});

describe('admin port and commands', () => {
  const url = (p: string) => `http://${ims.admin!.host}:${ims.admin!.port}${p}`;

  it('binds the requested loopback host and reports health', async () => {
    expect(ims.link.host).toBe('127.0.1.1');
    const r = await fetch(url('/health'));
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: 'UP', imsId: 'IMS1', xcfGroup: 'XCFGRP1', member: 'IMS1' });
  });

  it('commands need the token; /STO then /DIS TRAN shows STOP', async () => {
    expect((await fetch(url('/command'), { method: 'POST', body: '/STO TRAN SLOW' })).status).toBe(401);
    const auth = { authorization: 'Bearer s3cret' };
    const sto = await (await fetch(url('/command'), { method: 'POST', body: '/STO TRAN SLOW NOSUCH', headers: auth })).text();
    expect(sto).toMatch(/^DFS058I \d\d:\d\d:\d\d STOP COMMAND COMPLETED EXCEPT TRAN NOSUCH\n\*\d{5}\/\d{6}\*\n$/);
    const dis = await (await fetch(url('/command?cmd=' + encodeURIComponent('/DISPLAY TRANSACTION SLOW')), { headers: auth })).text();
    expect(dis).toMatch(/SLOW\s+STATUS: STOP/);
    await fetch(url('/command'), { method: 'POST', body: '/STA TRAN SLOW', headers: auth });
    const bad = await (await fetch(url('/command'), { method: 'POST', body: '/FOO BAR', headers: auth })).text();
    expect(bad).toMatch(/^DFS2077I COMMAND VERB FOO INVALID/);
  });

  it('metrics count transactions, OTMA messages and links', async () => {
    const c = await client(ims.link.port, 'HWS1', { host: ims.link.host });
    c.sendTransaction({ tpipe: 'M1', segments: ['ECHO    M'], commitMode: 1, syncLevel: 0 });
    expect(text(await c.next())).toEqual(['ECHO    M']);
    await c.next();
    const m = await (await fetch(url('/metrics'))).text();
    expect(m).toMatch(/ims_transactions_total\{tran="ECHO",outcome="committed",imsid="IMS1"\} 1/);
    expect(m).toMatch(/ims_otma_links\{imsid="IMS1"\} 1/);
    expect(m).toMatch(/ims_otma_messages_received_total\{kind="transaction",imsid="IMS1"\} 1/);
    const otma = await ims.system.command('/DIS OTMA');
    expect(otma.join('\n')).toMatch(/-HWS1\s+ACTIVE\s+ACCEPT TRAFFIC/);
    const tp = await ims.system.command('/DIS TPIPE');
    expect(tp.join('\n')).toMatch(/-M1\s+1\s+0\s+0/);
    c.close();
  });

  it('rejects garbage on the link without crashing: bad frame length closes the link', async () => {
    const { connect } = await import('node:net');
    const s = connect({ host: ims.link.host, port: ims.link.port });
    await new Promise((r) => s.once('connect', r));
    const closed = new Promise((r) => s.once('close', r));
    s.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    await closed;
    const r = await fetch(url('/health'));
    expect(r.status).toBe(200);
  });
});
