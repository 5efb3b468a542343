/** Interactions against the in-memory IMS Connect: conversations, RESUME TPIPE, RSMs, cancel timer. */
import diagnostics_channel from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelName, ClientErrorCode, ImsConnectRsmError, createClient, type ImsConnectClient } from '../src/index.js';
import { type TestImsConnect } from '../src/testing/index.js';
import { setup, tick, toHex, until } from './helpers.js';

let ims: TestImsConnect;
let client: ImsConnectClient;
afterEach(async () => {
  await client?.destroy();
  await ims?.close();
});

describe('conversations', () => {
  it('continues while IMS sets CSM X\'40\' and ends when IMS ends it', async () => {
    ({ ims, client } = setup({
      handlers: {
        CONV: (tx) => {
          const step = tx.conversation?.step ?? 0;
          if (step < 2) return { output: `STEP ${step + 1} GOT ${tx.text}`, conversation: { spa: (tx.conversation?.spa as number | undefined ?? 0) + 1 } };
          return `DONE SPA=${String(tx.conversation?.spa)}`;
        },
      },
    }));
    const r1 = await client.sendReceive({ trancode: 'CONV', data: 'A' });
    expect(r1.text).toBe('STEP 1 GOT A');
    expect(r1.conversational).toBe(true);
    const conv = r1.conversation!;
    expect(conv.open).toBe(true);
    // The conversation holds its connection.
    expect(client.stats().pool.busy).toBe(1);
    const r2 = await conv.continue('B');
    expect(r2.text).toBe('STEP 2 GOT B');
    expect(r2.conversation).toBe(conv);
    const r3 = await conv.continue('C');
    expect(r3.text).toBe('DONE SPA=2');
    expect(r3.conversation).toBeUndefined();
    expect(conv.open).toBe(false);
    expect(client.stats().pool).toMatchObject({ busy: 0, idle: 1 });
  });

  it('end() deallocates (IRM_F4 D) with CONFIRM ACKs on the way', async () => {
    ({ ims, client } = setup({ handlers: { CONV: () => ({ output: 'MORE?', conversation: {} }) } }));
    const r1 = await client.sendReceive({ trancode: 'CONV', data: 'A', syncLevel: 'confirm' });
    expect(r1.acknowledged).toBe('ack');
    const ackFrame = ims.frames[1]!;
    expect(ackFrame[0x23]).toBe(0xc1);
    const result = await r1.conversation!.end();
    expect(result.committed).toBe(true);
    expect(ims.frames[2]![0x23]).toBe(0xc4); // IRM_F4 'D'
    expect(r1.conversation!.open).toBe(false);
    await expect(r1.conversation!.continue('x')).rejects.toMatchObject({ code: ClientErrorCode.BAD_STATE });
    expect(client.stats().pool.idle).toBe(1);
  });
});

describe('RESUME TPIPE', () => {
  it('no-auto drains the queue, ACKing each message after the consumer takes it', async () => {
    ({ ims, client } = setup({}, { clientId: 'TP1', maxConnections: 1 }));
    ims.hold('TP1', 'ONE');
    ims.hold('TP1', 'TWO');
    const seen: string[] = [];
    for await (const m of client.resumeTpipe({ mode: 'no-auto' })) {
      seen.push(m.text);
      // Not yet ACKed while the consumer holds it: the server still has it pending.
      expect(ims.stats().acks).toBe(seen.length - 1);
    }
    expect(seen).toEqual(['ONE', 'TWO']);
    expect(ims.stats().acks).toBe(2);
    expect(ims.holdQueue('TP1')).toEqual([]);
    expect(ims.frames[0]![0x14]).toBe(0x04); // IRM_F5 NOAUTO
  });

  it('leaving the loop with break NAKs the message back to the queue; message.ack() keeps it ACKed', async () => {
    ({ ims, client } = setup({}, { clientId: 'TP2', maxConnections: 1 }));
    ims.hold('TP2', 'KEEP');
    for await (const m of client.resumeTpipe()) {
      expect(m.text).toBe('KEEP');
      break;
    }
    expect(ims.stats().naks).toBe(1);
    expect(ims.holdQueue('TP2').length).toBe(1);
    for await (const m of client.resumeTpipe()) {
      m.ack();
      break;
    }
    expect(ims.holdQueue('TP2')).toEqual([]);
  });

  it('a throw inside the loop NAKs; message.nak() sends a NAK with reason code', async () => {
    ({ ims, client } = setup({}, { clientId: 'TP3', maxConnections: 1 }));
    ims.hold('TP3', 'BAD');
    await expect(
      (async () => {
        for await (const _m of client.resumeTpipe()) throw new Error('consumer failed');
      })(),
    ).rejects.toThrow('consumer failed');
    expect(ims.holdQueue('TP3').length).toBe(1);
    for await (const m of client.resumeTpipe()) m.nak({ reasonCode: 7 });
    const nak = ims.frames.at(-1)!;
    expect(nak[0x23]).toBe(0xd5);
    expect(nak[7] & 0x10).toBe(0x10);
    expect(nak[0x11]).toBe(7);
    expect(ims.holdQueue('TP3').length).toBe(1);
  });

  it('auto keeps waiting for new output and stops on abort', async () => {
    ({ ims, client } = setup({}, { clientId: 'TP4', maxConnections: 1 }));
    ims.hold('TP4', 'FIRST');
    const ac = new AbortController();
    const seen: string[] = [];
    const run = (async () => {
      for await (const m of client.resumeTpipe({ mode: 'auto', signal: ac.signal })) {
        seen.push(m.text);
        if (seen.length === 1) setImmediate(() => ims.hold('TP4', 'SECOND'));
        if (seen.length === 2) setImmediate(() => ac.abort(new Error('enough')));
      }
    })();
    await expect(run).rejects.toThrow('enough');
    expect(seen).toEqual(['FIRST', 'SECOND']);
    expect(ims.frames[0]![0x14]).toBe(0x02); // IRM_F5 AUTO
    expect(ims.frames[0]![0x15]).toBe(0xff); // wait forever
    expect(ims.holdQueue('TP4')).toEqual([]);
  });

  it('single on an empty queue yields nothing', async () => {
    ({ ims, client } = setup({}, { clientId: 'TP5', maxConnections: 1 }));
    expect(await client.receiveOne()).toBeUndefined();
    expect(client.stats().pool.idle).toBe(1);
  });

  it('a dedicated connection drains a tpipe by client ID (in-doubt CM0 recovery)', async () => {
    ({ ims, client } = setup({}));
    ims.hold('LOSTCID', 'LATE OUTPUT');
    const msg = await client.receiveOne({ clientId: 'LOSTCID' });
    expect(msg?.text).toBe('LATE OUTPUT');
    expect(msg?.clientId).toBe('LOSTCID');
    expect(client.stats().dedicated).toBe(0);
  });

  it('CANCEL TIMER ends another session\'s wait on the same client ID (RC 44 / reason 59)', async () => {
    ({ ims, client } = setup({}));
    const waiting = (async () => {
      const got: string[] = [];
      for await (const m of client.resumeTpipe({ mode: 'auto', clientId: 'WAITER' })) got.push(m.text);
      return got;
    })();
    while (!ims.activeClientIds().includes('WAITER')) await tick();
    await client.cancelTimer({ clientId: 'WAITER' });
    expect(ims.frames.at(-1)![0x23]).toBe(0xc3); // IRM_F4 'C'
    expect(await waiting).toEqual([]);
  });
});

describe('more variants', () => {
  it('single-wait waits for output to arrive (IRM_F5 X\'10\')', async () => {
    ({ ims, client } = setup({}, { clientId: 'SW1', maxConnections: 1 }));
    const p = client.receiveOne({ wait: true, timer: 30_000 });
    await until(() => ims.frames.length === 1, 'resume');
    expect(ims.frames[0]![0x14]).toBe(0x10);
    ims.hold('SW1', 'ARRIVED');
    expect((await p)?.text).toBe('ARRIVED');
  });

  it('NAK keep-on-queue sets IRM_F0 X\'20\'; NAK reroute sets IRM_F3 X\'08\' and the reroute name', async () => {
    ({ ims, client } = setup({}, { clientId: 'NK1', maxConnections: 1 }));
    ims.hold('NK1', 'M1');
    for await (const m of client.resumeTpipe({ mode: 'single' })) m.nak({ keepOnQueue: true });
    expect(ims.frames.at(-1)![7] & 0x20).toBe(0x20);
    expect(ims.holdQueue('NK1').length).toBe(1);
    for await (const m of client.resumeTpipe({ mode: 'no-auto' })) m.nak({ reroute: 'RRQ' });
    const nak = ims.frames.at(-1)!;
    expect(nak[0x22] & 0x08).toBe(0x08);
    expect(nak[6]).toBe(1); // ARCH1 for the reroute slot
    expect(toHex(nak.subarray(0x5c, 0x64))).toBe('d9 d9 d8 40 40 40 40 40'); // IRM_REROUT_NM "RRQ"
    expect(ims.holdQueue('RRQ').length).toBe(1);
    expect(ims.holdQueue('NK1').length).toBe(0);
  });

  it('a non-persistent socket sends IRM_SOCT X\'40\' and is not reused', async () => {
    ({ ims, client } = setup({ handlers: { IVTNO: () => 'np' } }, { socketType: 'non-persistent' }));
    await client.sendReceive({ trancode: 'IVTNO' });
    await client.sendReceive({ trancode: 'IVTNO' });
    expect(ims.frames[0]![0x16]).toBe(0x40);
    expect(ims.stats().connections).toBe(2);
    expect(client.stats().pool.size).toBe(0);
  });

  it('returns the MOD name and the client ID when asked (IRM_F1 X\'80\' / X\'40\')', async () => {
    ({ ims, client } = setup({ handlers: { MFS: () => ({ output: 'SCREEN', modname: 'MODOUT1' }) } }, { clientId: 'CID9', maxConnections: 1 }));
    const res = await client.sendReceive({ trancode: 'MFS', returnMfsModname: true, returnClientId: true });
    expect(ims.frames[0]![0x20]).toBe(0xc0);
    expect(res).toMatchObject({ text: 'SCREEN', modname: 'MODOUT1', generatedClientId: 'CID9' });
  });
});

describe('status messages and errors', () => {
  it('an unknown datastore surfaces as ImsConnectRsmError 8/72 NFNDDST with socketClosed', async () => {
    ({ ims, client } = setup({ handlers: { IVTNO: () => 'x' } }));
    const err = await client.sendReceive({ trancode: 'IVTNO', datastore: 'BADDS' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImsConnectRsmError);
    expect(err).toMatchObject({ code: 'IMS_ERR_RSM', returnCode: 8, reasonCode: 72, reasonName: 'NFNDDST', socketClosed: true });
    expect(client.stats().pool.size).toBe(0);
  });

  it('an injected OTMA NAK (RC 16) names its sense code', async () => {
    ({ ims, client } = setup({ handlers: { IVTNO: () => 'x' } }));
    ims.injectRsm({ returnCode: 16, reasonCode: 0x33, trancode: 'IVTNO' });
    await expect(client.sendReceive({ trancode: 'IVTNO' })).rejects.toMatchObject({ returnCode: 16, reasonCode: 0x33, reasonName: 'SENSE_0033', socketClosed: true });
    // The next request works on a new connection.
    expect((await client.sendReceive({ trancode: 'IVTNO' })).text).toBe('x');
  });

  it('an unknown transaction returns IMS\'s DFS064 text as output', async () => {
    ({ ims, client } = setup({}));
    const res = await client.sendReceive({ trancode: 'NOPE' });
    expect(res.text).toMatch(/^DFS064 .*DEST=NOPE/);
  });

  it('a duplicate client ID is refused (reason 56 DUPECLNT)', async () => {
    ({ ims, client } = setup({}, { clientId: 'DUPE', maxConnections: 1 }));
    const first = (async () => {
      const got: string[] = [];
      for await (const m of client.resumeTpipe({ mode: 'auto' })) got.push(m.text);
      return got;
    })();
    while (!ims.activeClientIds().includes('DUPE')) await tick();
    // Within one client the ID is known to be busy.
    await expect(client.receiveOne({ clientId: 'DUPE' })).rejects.toMatchObject({ code: ClientErrorCode.INVALID_ARGUMENT });
    // A second client with the same ID is refused by IMS Connect.
    const c2 = createClient({ connector: ims.connector, datastore: 'IMS1', clientId: 'DUPE', maxConnections: 1 });
    try {
      await expect(c2.sendReceive({ trancode: 'IVTNO' })).rejects.toMatchObject({ returnCode: 8, reasonCode: 56, reasonName: 'DUPECLNT' });
      // IRM_F3 X'80' (cancelClientId) takes the ID over instead.
      const res = await c2.sendReceive({ trancode: 'IVTNO', cancelClientId: true });
      expect(res.text).toMatch(/^DFS064/);
    } finally {
      await c2.destroy();
    }
    await expect(first).rejects.toMatchObject({ code: 'IMS_ERR_SOCKET' });
  });

  it('rejects bad options with IMS_ERR_INVALID_ARGUMENT', async () => {
    ({ ims, client } = setup({}));
    await expect(client.sendReceive({ trancode: 'TOOLONGTRAN' })).rejects.toMatchObject({ code: 'IMS_ERR_INVALID_ARGUMENT' });
    await expect(client.sendReceive({ trancode: 'IVTNO', commitMode: 0, syncLevel: 'none' })).rejects.toMatchObject({ code: 'IMS_ERR_INVALID_ARGUMENT' });
    expect(() => setup({}, { clientId: 'HWS00001', maxConnections: 1 })).toThrow(/HWS/);
    expect(() => setup({}, { clientId: 'FIXED', maxConnections: 2 })).toThrow(/maxConnections: 1/);
    expect(() => setup({}, { hostName: 'x' } as never)).toThrow(/use 'host'/);
  });
});

describe('diagnostics_channel', () => {
  it('publishes connect, request and response messages', async () => {
    ({ ims, client } = setup({ handlers: { IVTNO: () => 'x' } }));
    const seen: string[] = [];
    const subs = [ChannelName.connected, ChannelName.request, ChannelName.response].map((name) => {
      const fn = (m: unknown) => seen.push(`${name}:${(m as { kind?: string }).kind ?? ''}`);
      diagnostics_channel.subscribe(name, fn);
      return () => diagnostics_channel.unsubscribe(name, fn);
    });
    try {
      await client.sendReceive({ trancode: 'IVTNO' });
    } finally {
      subs.forEach((u) => u());
    }
    expect(seen).toEqual(['imsplex:client:connected:', 'imsplex:client:request:send-receive', 'imsplex:client:response:send-receive']);
  });
});
