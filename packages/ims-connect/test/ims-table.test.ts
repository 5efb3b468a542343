/**
 * The interaction × commit mode × sync level table (spec §6.1, §6.3, §6.5, §8) against a real
 * in-process IMS engine (@imsplex/ims), through the OTMA link: every row IBM allows gives the
 * documented flow, every other row the documented RSM.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CP037, buildRequest, decodeReply, encodeRequest, type BuildRequestOptions, type ImsReply } from '@imsplex/codec';
import { startTestImsSystem, type TestImsSystem } from '@imsplex/ims';
import { type ImsConnectServer } from '../src/index.js';
import { RawClient, serverOnTestIms, silent } from './harness.js';
import { duplexPair } from 'node:stream';

let ims: TestImsSystem;
let server: ImsConnectServer;
let n = 0;

beforeAll(async () => {
  ims = await startTestImsSystem({ logger: silent as never });
  server = await serverOnTestIms(ims, 5000);
});

afterAll(async () => {
  await server?.close();
  await ims?.stop();
});

function client(): { c: RawClient; id: string } {
  const [a, b] = duplexPair();
  server.handleConnection(b, 0);
  return { c: new RawClient(a), id: `TBL${String(++n).padStart(5, '0')}` };
}
const req = (id: string, o: BuildRequestOptions) => encodeRequest(buildRequest({ datastore: 'IMS1', clientId: id, timer: 3000, ...o }));
async function reply(c: RawClient): Promise<ImsReply | undefined> {
  const b = await c.next();
  return b && decodeReply(b, { llll: true });
}
const rsm = (r: ImsReply | undefined) => (r?.kind === 'status' ? [r.rsm.returnCode, r.rsm.reasonCode] : r);
const text = (r: ImsReply | undefined) => (r?.kind === 'data' ? r.segments.map((s) => CP037.decode(s)).join('|') : JSON.stringify(r));
const flags = (r: ImsReply | undefined) => (r?.kind === 'data' ? r.csm.flags : -1);

describe('send-receive × commit mode × sync level (real IMS)', () => {
  it('CM1 NONE: data + CSM X\'10\' (no ACK), committed', async () => {
    const { c, id } = client();
    c.send(req(id, { trancode: 'ECHO', data: 'HELLO', commitMode: 'CM1', syncLevel: 'NONE' }));
    const r = await reply(c);
    expect(text(r)).toBe('ECHO    HELLO');
    expect(flags(r)).toBe(0x10);
    // a second CM1 input right away on the same tpipe also works
    c.send(req(id, { trancode: 'ECHO', data: 'AGAIN', commitMode: 'CM1', syncLevel: 'NONE' }));
    expect(text(await reply(c))).toBe('ECHO    AGAIN');
  });

  it('CM1 CONFIRM: CSM X\'30\'; ACK → RSM reason 97; NAK → reason 98', async () => {
    const { c, id } = client();
    c.send(req(id, { trancode: 'ECHO', data: 'A', commitMode: 'CM1', syncLevel: 'CONFIRM' }));
    expect(flags(await reply(c))).toBe(0x30);
    c.send(req(id, { messageType: 'ACK' }));
    expect(rsm(await reply(c))).toEqual([0, 97]);
    c.send(req(id, { trancode: 'ECHO', data: 'B', commitMode: 'CM1', syncLevel: 'CONFIRM' }));
    expect(flags(await reply(c))).toBe(0x30);
    c.send(req(id, { messageType: 'NAK' }));
    expect(rsm(await reply(c))).toEqual([0, 98]);
  });

  it.each([['CM1'], ['CM0']] as const)('%s SYNCPT: RSM RC 16 sense X\'002E\' (no RRS), socket closed', async (cm) => {
    const { c, id } = client();
    c.send(req(id, { trancode: 'ECHO', data: 'A', commitMode: cm, syncLevel: 'SYNCPT' }));
    expect(rsm(await reply(c))).toEqual([16, 0x2e]);
    await c.whenClosed();
  });

  it.each([['NONE'], ['CONFIRM']] as const)('CM0 %s: runs as CONFIRM — CSM X\'30\', ACK, then RC 40 with the timer byte', async (sync) => {
    const { c, id } = client();
    c.send(req(id, { trancode: 'ECHO', data: 'CM0', commitMode: 'CM0', syncLevel: sync }));
    const r = await reply(c);
    expect(text(r)).toBe('ECHO    CM0');
    expect(flags(r)).toBe(0x30);
    c.send(req(id, { messageType: 'ACK', commitMode: 'CM0', timer: { code: 0x05 } }));
    expect(rsm(await reply(c))).toEqual([40, 0x05]);
  });

  it('CM0 NAK with reason code: the output stays on the hold queue; RESUME TPIPE gets it', async () => {
    const { c, id } = client();
    c.send(req(id, { trancode: 'ECHO', data: 'KEEPME', commitMode: 'CM0' }));
    expect(text(await reply(c))).toBe('ECHO    KEEPME');
    // NAK ends the interaction: NO_WAIT is not allowed after CM0 output (0.25 s is used), so the
    // client reads the timeout RSM with the timer byte at once.
    c.send(req(id, { messageType: 'NAK', commitMode: 'CM0', nakReasonCode: 0x123, timer: 'nowait' }));
    expect(rsm(await reply(c))).toEqual([40, 0xe9]);
    c.send(req(id, { messageType: 'RESUME_TPIPE', resumeOption: 'single', timer: { code: 0x31 } }));
    const r = await reply(c);
    expect(text(r)).toBe('ECHO    KEEPME');
    expect(flags(r)).toBe(0x30);
    c.send(req(id, { messageType: 'ACK', commitMode: 'CM0', timer: 'nowait' }));
  });

  it('unknown transaction: DFS064 text as data + CSM (no RSM)', async () => {
    const { c, id } = client();
    c.send(req(id, { trancode: 'NOSUCHTR', data: 'X' }));
    const r = await reply(c);
    expect(r?.kind).toBe('data');
    expect(text(r)).toMatch(/^DFS064/);
  });

  it('IRM_TIMER expiry while IMS works: RC 40 persistent / RC 32 transaction socket', async () => {
    const { c, id } = client();
    c.send(req(id, { trancode: 'SLOW', data: '300', timer: { code: 0x05 } }));
    expect(rsm(await reply(c))).toEqual([40, 0x05]);
    const t = client();
    t.c.send(req(t.id, { trancode: 'SLOW', data: '300', timer: { code: 0x05 }, socketType: 'TRANSACTION' }));
    expect(rsm(await reply(t.c))).toEqual([32, 0x05]);
    await t.c.whenClosed();
  });

  it('conversation (IVTCV): CSM X\'70\' steps, ACK continues, DEALLOCATE ends with 97', async () => {
    const { c, id } = client();
    c.send(req(id, { trancode: 'IVTCV', data: 'DIS LAST1', commitMode: 'CM1', syncLevel: 'CONFIRM' }));
    let r = await reply(c);
    expect(flags(r)).toBe(0x70);
    c.send(req(id, { messageType: 'ACK' }));
    c.send(req(id, { trancode: 'IVTCV', data: 'DIS LAST1', commitMode: 'CM1', syncLevel: 'CONFIRM' }));
    r = await reply(c);
    expect(flags(r)).toBe(0x70);
    c.send(req(id, { messageType: 'DEALLOCATE' }));
    expect(rsm(await reply(c))).toEqual([0, 97]);
  });
});

describe('SENDONLY family × commit mode (real IMS)', () => {
  it('S (CM0): no reply; the output waits on the hold queue for RESUME TPIPE', async () => {
    const { c, id } = client();
    c.send(req(id, { messageType: 'SEND_ONLY', trancode: 'ECHO', data: 'QUEUED' }));
    c.send(req(id, { messageType: 'RESUME_TPIPE', resumeOption: 'singleWait', timer: { code: 0x31 } }));
    const r = await reply(c);
    expect(text(r)).toBe('ECHO    QUEUED');
    expect(flags(r) & 0x20).toBe(0x20);
    c.send(req(id, { messageType: 'ACK', commitMode: 'CM0', timer: 'nowait' }));
  });

  it('K (CM0): an ACK reply (CSM) once IMS enqueued the input', async () => {
    const { c, id } = client();
    c.send(req(id, { messageType: 'SEND_ONLY_ACK', trancode: 'ECHO', data: 'K' }));
    const r = await reply(c);
    expect(r?.kind === 'data' && r.segments.length).toBe(0);
  });

  it('J (CM0): no reply for accepted input', async () => {
    const { c, id } = client();
    c.send(req(id, { messageType: 'SEND_ONLY_ERRORS', trancode: 'ECHO', data: 'J' }));
    c.send(req(id, { trancode: 'ECHO', data: 'AFTER', commitMode: 'CM1' }));
    expect(text(await reply(c))).toBe('ECHO    AFTER');
  });

  it.each([['SEND_ONLY'], ['SEND_ONLY_ACK'], ['SEND_ONLY_ERRORS']] as const)('%s with CM1: RC 8 reason 93', async (t) => {
    const { c, id } = client();
    c.send(req(id, { messageType: t, trancode: 'ECHO', data: 'X', commitMode: 'CM1' }));
    expect(rsm(await reply(c))).toEqual([8, 93]);
  });
});

describe('RESUME TPIPE options (real IMS)', () => {
  async function queue(id: string, ...texts: string[]): Promise<void> {
    const { c } = client();
    for (const t of texts) c.send(req(id, { messageType: 'SEND_ONLY_ACK', trancode: 'ECHO', data: t }));
    for (const _t of texts) expect((await reply(c))?.kind).toBe('data');
    c.end();
    await c.whenClosed(); // the client ID is free again
  }

  it('single: one message; empty queue → RC 40 with the timer byte', async () => {
    const { c, id } = client();
    await queue(id, 'S1', 'S2');
    await vi.waitFor(async () => {
      // the send-only work must have run before the resume
      expect(ims.system.member.tpipeList().find((t) => t.tpipe === id)?.queued).toBe(2);
    });
    c.send(req(id, { messageType: 'RESUME_TPIPE', resumeOption: 'single', timer: { code: 0x31 } }));
    expect(text(await reply(c))).toBe('ECHO    S1');
    c.send(req(id, { messageType: 'ACK', commitMode: 'CM0', timer: 'nowait' }));
    c.send(req(id, { messageType: 'RESUME_TPIPE', resumeOption: 'single', timer: { code: 0x31 } }));
    expect(text(await reply(c))).toBe('ECHO    S2');
    c.send(req(id, { messageType: 'ACK', commitMode: 'CM0', timer: 'nowait' }));
    c.send(req(id, { messageType: 'RESUME_TPIPE', resumeOption: 'single', timer: { code: 0x31 } }));
    expect(rsm(await reply(c))).toEqual([40, 0x31]);
  });

  it("single: CSM X'80' while more output waits on the hold queue (the engine's hold-queue depth), off on the last", async () => {
    const { c, id } = client();
    await queue(id, 'D1', 'D2', 'D3');
    await vi.waitFor(() => expect(ims.system.member.tpipeList().find((t) => t.tpipe === id)?.queued).toBe(3));
    for (const [data, more] of [['D1', 0x80], ['D2', 0x80], ['D3', 0]] as const) {
      c.send(req(id, { messageType: 'RESUME_TPIPE', resumeOption: 'single', timer: { code: 0x31 } }));
      const r = await reply(c);
      expect(text(r)).toBe(`ECHO    ${data}`);
      expect(flags(r) & 0x80).toBe(more);
      expect(flags(r) & 0x20).toBe(0x20); // CM0 output: ACK required
      c.send(req(id, { messageType: 'ACK', commitMode: 'CM0', timer: 'nowait' }));
    }
    c.send(req(id, { messageType: 'RESUME_TPIPE', resumeOption: 'single', timer: { code: 0x31 } }));
    expect(rsm(await reply(c))).toEqual([40, 0x31]);
  });

  it('no-auto: every queued message, one per ACK, then RC 40', async () => {
    const { c, id } = client();
    await queue(id, 'N1', 'N2');
    await vi.waitFor(() => expect(ims.system.member.tpipeList().find((t) => t.tpipe === id)?.queued).toBe(2));
    c.send(req(id, { messageType: 'RESUME_TPIPE', resumeOption: 'noAuto', timer: { code: 0x31 } }));
    expect(text(await reply(c))).toBe('ECHO    N1');
    c.send(req(id, { messageType: 'ACK', commitMode: 'CM0', timer: { code: 0x31 } }));
    expect(text(await reply(c))).toBe('ECHO    N2');
    c.send(req(id, { messageType: 'ACK', commitMode: 'CM0', timer: { code: 0x31 } }));
    expect(rsm(await reply(c))).toEqual([40, 0x31]);
  });

  it('auto: waits for new output and delivers it; the timer ends it', async () => {
    const { c, id } = client();
    const tp = `AUT${String(++n).padStart(5, '0')}`;
    c.send(req(id, { messageType: 'RESUME_TPIPE', resumeOption: 'auto', altClientId: tp, timer: { code: 0x31 } }));
    await queue(tp, 'LATE');
    expect(text(await reply(c))).toBe('ECHO    LATE');
    c.send(req(id, { messageType: 'ACK', commitMode: 'CM0', timer: { code: 0x05 } }));
    expect(rsm(await reply(c))).toEqual([40, 0x05]);
  });

  it('alternate client ID: drains another tpipe', async () => {
    const other = `ALT${String(++n).padStart(5, '0')}`;
    await queue(other, 'FORALT');
    await vi.waitFor(() => expect(ims.system.member.tpipeList().find((t) => t.tpipe === other)?.queued).toBe(1));
    const { c, id } = client();
    c.send(req(id, { messageType: 'RESUME_TPIPE', resumeOption: 'single', altClientId: other, timer: { code: 0x31 } }));
    expect(text(await reply(c))).toBe('ECHO    FORALT');
    c.send(req(id, { messageType: 'ACK', commitMode: 'CM0', timer: 'nowait' }));
  });

  it('CM1: RC 8 reason 93 INVLDCM1', async () => {
    const { c, id } = client();
    c.send(req(id, { messageType: 'RESUME_TPIPE', commitMode: 'CM1' }));
    expect(rsm(await reply(c))).toEqual([8, 93]);
  });
});
