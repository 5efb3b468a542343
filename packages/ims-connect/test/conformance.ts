/**
 * One conformance suite for IMS Connect's client-visible behaviour, run against the emulator over an
 * in-memory duplex and over TCP (MQTT.js abstract_client style). Requests are built with the codec's
 * request builder; replies are decoded with the codec's reply decoder.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CP037, LATIN1, buildRequest, decodeReply, encodeRequest, type BuildRequestOptions, type ImsReply } from '@imsplex/codec';
import { harness, type Harness, type RawClient } from './harness.js';

export type Transport = 'memory' | 'tcp';

export function conformance(transport: Transport): void {
  let h: Harness;
  const open = async (llll = true): Promise<RawClient> => (transport === 'memory' ? h.memory(undefined, llll) : h.tcp(undefined, llll));
  const req = (o: BuildRequestOptions) => encodeRequest(buildRequest({ datastore: 'IMS1', clientId: 'CLIENT01', timer: 5000, ...o }));
  const reply = async (c: RawClient, llll = true): Promise<ImsReply | undefined> => {
    const b = await c.next();
    return b && decodeReply(b, { llll });
  };
  const rsm = (r: ImsReply | undefined) => (r?.kind === 'status' ? [r.rsm.returnCode, r.rsm.reasonCode] : r);
  const text = (r: ImsReply | undefined) => (r?.kind === 'data' ? r.segments.map((s) => CP037.decode(s)).join('|') : r);
  const flags = (r: ImsReply | undefined) => (r?.kind === 'data' ? r.csm.flags : -1);

  beforeEach(async () => {
    h = await harness({}, {}, transport === 'tcp');
  });
  afterEach(async () => {
    await h.close();
  });

  describe(`conformance over ${transport}`, () => {
    it('CM1 NONE send-receive: data + CSM without ACK flag; persistent socket serves again', async () => {
      const c = await open();
      c.send(req({ trancode: 'ECHO', data: 'HELLO' }));
      const r = await reply(c);
      expect(text(r)).toBe('HELLO');
      expect(flags(r)).toBe(0x10);
      c.send(req({ trancode: 'ECHO', data: 'AGAIN' }));
      expect(text(await reply(c))).toBe('AGAIN');
    });

    it('CM1 CONFIRM: CSM X\'30\', ACK → 97, NAK → 98', async () => {
      const c = await open();
      c.send(req({ trancode: 'ECHO', data: 'X', syncLevel: 'CONFIRM' }));
      expect(flags(await reply(c))).toBe(0x30);
      c.send(req({ messageType: 'ACK' }));
      expect(rsm(await reply(c))).toEqual([0, 97]);
      c.send(req({ trancode: 'ECHO', data: 'Y', syncLevel: 'CONFIRM' }));
      await reply(c);
      c.send(req({ messageType: 'NAK' }));
      expect(rsm(await reply(c))).toEqual([0, 98]);
    });

    it('CM1 SYNCPT without RRS: RSM RC 16 sense X\'002E\', close', async () => {
      const c = await open();
      c.send(req({ trancode: 'ECHO', data: 'X', syncLevel: 'SYNCPT' }));
      expect(rsm(await reply(c))).toEqual([16, 0x2e]);
      await c.whenClosed();
    });

    it('CM0 CONFIRM: CSM X\'30\', ACK then timeout RSM RC 40 with the timer byte (persistent)', async () => {
      const c = await open();
      c.send(req({ trancode: 'ECHO', data: 'X', commitMode: 'CM0', timer: { code: 0x05 } }));
      expect(flags(await reply(c))).toBe(0x30);
      c.send(req({ messageType: 'ACK', commitMode: 'CM0', timer: { code: 0x05 } }));
      expect(rsm(await reply(c))).toEqual([40, 0x05]);
      expect(c.closed).toBe(false);
    });

    it('CM0 NONE is run as CONFIRM; CM0 SYNCPT is refused', async () => {
      const c = await open();
      c.send(req({ trancode: 'ECHO', data: 'X', commitMode: 'CM0', syncLevel: 'NONE' }));
      expect(flags(await reply(c))).toBe(0x30);
      expect(h.ims.log.at(-1)).toContain('cm0 sync1');
      c.send(req({ messageType: 'ACK', commitMode: 'CM0', timer: 'nowait' }));
      expect(rsm(await reply(c))).toEqual([40, 0xe9]);
      c.send(req({ trancode: 'ECHO', data: 'X', commitMode: 'CM0', syncLevel: 'SYNCPT' }));
      expect(rsm(await reply(c))).toEqual([16, 0x2e]);
    });

    it('CM0 ACK NOWAIT (IRM_F1 X\'02\' + ACK timer X\'E9\'): nothing after the ACK', async () => {
      const c = await open();
      c.send(req({ trancode: 'ECHO', data: 'X', commitMode: 'CM0', flags: { f1: { noWait: true } } }));
      await reply(c);
      c.send(req({ messageType: 'ACK', commitMode: 'CM0', timer: 'nowait' }));
      c.send(req({ trancode: 'ECHO', data: 'NEXT' }));
      expect(text(await reply(c))).toBe('NEXT');
    });

    it('SENDONLY S: no reply; K: CSM ack; J: no reply; CM1 send-only → reason 93', async () => {
      const c = await open();
      c.send(req({ messageType: 'SEND_ONLY', trancode: 'ASYNC', data: 'A' }));
      c.send(req({ messageType: 'SEND_ONLY_ERRORS', trancode: 'ASYNC', data: 'B' }));
      c.send(req({ messageType: 'SEND_ONLY_ACK', trancode: 'ASYNC', data: 'C' }));
      const k = await reply(c);
      // CSM X'80' (CSM_AMSG): the send-only outputs now wait on CLIENT01's hold queue.
      expect(k?.kind === 'data' && k.segments.length === 0 && k.csm.flags).toBe(0x90);
      expect(h.ims.holdQueues.get('CLIENT01')).toHaveLength(3);
      c.send(req({ messageType: 'SEND_ONLY', trancode: 'ASYNC', data: 'D', commitMode: 'CM1' }));
      expect(rsm(await reply(c))).toEqual([8, 93]);
    });

    it('RESUME TPIPE no-auto delivers every queued message one per ACK, then RC 40', async () => {
      h.ims.queue('CLIENT01', 'M1');
      h.ims.queue('CLIENT01', 'M2');
      const c = await open();
      c.send(req({ messageType: 'RESUME_TPIPE', resumeOption: 'noAuto', timer: { code: 0x31 } }));
      let r = await reply(c);
      // X'80': M2 still waits on the hold queue while M1 is delivered; not once M2 is out.
      expect([text(r), flags(r)]).toEqual(['M1', 0xb0]);
      c.send(req({ messageType: 'ACK', commitMode: 'CM0', timer: { code: 0x31 } }));
      r = await reply(c);
      expect([text(r), flags(r)]).toEqual(['M2', 0x30]);
      c.send(req({ messageType: 'ACK', commitMode: 'CM0', timer: { code: 0x31 } }));
      const end = await c.next();
      expect(rsm(end && decodeReply(end, { llll: true }))).toEqual([40, 0x31]);
      expect(end![6]).toBe(0x00); // RSM_FLG1 (after LLLL and RSM_LEN): nothing queued
    });

    it("CSM/RSM X'80' (CSM_AMSG) is set while asynchronous output waits on the client's hold queue", async () => {
      const c = await open();
      c.send(req({ trancode: 'ECHO', data: 'BEFORE' }));
      expect(flags(await reply(c))).toBe(0x10);
      h.ims.queue('CLIENT01', 'WAITING');
      c.send(req({ trancode: 'ECHO', data: 'AFTER', syncLevel: 'CONFIRM' }));
      expect(flags(await reply(c))).toBe(0xb0); // X'80' queued | X'20' ACK required | X'10' protocol level
      c.send(req({ messageType: 'ACK' }));
      const dealloc = (await c.next())!;
      expect(rsm(decodeReply(dealloc, { llll: true }))).toEqual([0, 97]);
      expect(dealloc[6]).toBe(0x80); // RSM_FLG1: the RSM carries it too
      // Another client's queue does not count.
      h.ims.holdQueues.clear();
      h.ims.queue('OTHER01', 'NOT MINE');
      c.send(req({ trancode: 'ECHO', data: 'MINE' }));
      expect(flags(await reply(c))).toBe(0x10);
    });

    it('RESUME TPIPE with CM1 → RC 8 reason 93 INVLDCM1', async () => {
      const c = await open();
      c.send(req({ messageType: 'RESUME_TPIPE', commitMode: 'CM1' }));
      expect(rsm(await reply(c))).toEqual([8, 93]);
    });

    it('RESUME TPIPE auto waits for new output; NAK ends it and re-queues the message', async () => {
      const c = await open();
      c.send(req({ messageType: 'RESUME_TPIPE', resumeOption: 'auto', timer: { code: 0x05 } }));
      // nothing queued: auto waits; the timer (50 ms) expires → RC 40
      expect(rsm(await reply(c))).toEqual([40, 0x05]);
      h.ims.queue('CLIENT01', 'LATE');
      c.send(req({ messageType: 'RESUME_TPIPE', resumeOption: 'auto', timer: { code: 0x31 } }));
      expect(text(await reply(c))).toBe('LATE');
      c.send(req({ messageType: 'NAK', commitMode: 'CM0', timer: { code: 0x31 } }));
      expect(rsm(await reply(c))).toEqual([40, 0x31]);
      expect(h.ims.holdQueues.get('CLIENT01')?.length).toBe(1);
    });

    it('conversation: CSM X\'60\' steps, ACK continues silently, DEALLOCATE ends with 97', async () => {
      const c = await open();
      c.send(req({ trancode: 'CONV', data: 'A', syncLevel: 'CONFIRM' }));
      let r = await reply(c);
      expect([text(r), flags(r)]).toEqual(['STEP 1', 0x70]);
      c.send(req({ messageType: 'ACK' }));
      c.send(req({ trancode: 'CONV', data: 'B', syncLevel: 'CONFIRM' }));
      r = await reply(c);
      expect([text(r), flags(r)]).toEqual(['STEP 2', 0x70]);
      c.send(req({ messageType: 'DEALLOCATE' }));
      expect(rsm(await reply(c))).toEqual([0, 97]);
    });

    it('IRM_TIMER expiry: explicit → RC 40 persistent / RC 32 transaction socket; default → RC 36', async () => {
      const c = await open();
      c.send(req({ trancode: 'SLOW', data: 'X', timer: { code: 0x03 } }));
      expect(rsm(await reply(c))).toEqual([40, 0x03]);
      const t = await open();
      t.send(req({ trancode: 'SLOW', data: 'X', timer: { code: 0x02 }, socketType: 'TRANSACTION', clientId: 'TRANS01' }));
      expect(rsm(await reply(t))).toEqual([32, 0x02]);
      await t.whenClosed();
    });

    it('duplicate client ID → RC 8 reason 56; IRM_F3 X\'80\' cancels the holder', async () => {
      const a = await open();
      a.send(req({ trancode: 'ECHO', data: 'A' }));
      await reply(a);
      const b = await open();
      b.send(req({ trancode: 'ECHO', data: 'B' }));
      expect(rsm(await reply(b))).toEqual([8, 56]);
      await b.whenClosed();
      const d = await open();
      d.send(req({ trancode: 'ECHO', data: 'D', flags: { f3: { cancelClientId: true } } }));
      expect(text(await reply(d))).toBe('D');
      await a.whenClosed();
    });

    it('CANCEL TIMER ends the waiting holder (RC 32) and answers RC 44 reason 59', async () => {
      const a = await open();
      a.send(req({ trancode: 'SLOW', data: 'A', timer: 'forever' }));
      await vi.waitFor(() => expect(h.ims.waiting.size).toBe(1));
      const b = await open();
      b.send(req({ messageType: 'CANCEL_TIMER', timer: 'forever' }));
      expect(rsm(await reply(b))).toEqual([44, 59]);
      expect(rsm(await reply(a))).toEqual([32, 0xff]);
    });

    it('blank client ID: generated HWS… ID returned in *GENCID* when IRM_F1 X\'40\'', async () => {
      const c = await open();
      c.send(req({ trancode: 'ECHO', data: 'G', clientId: '', flags: { f1: { clientIdRequest: true } } }));
      const r = await reply(c);
      expect(r?.kind === 'data' && r.generatedClientId).toMatch(/^HWS[A-Z]{5}$/);
    });

    it('ASCII client: IRM and data in ASCII, answered in ASCII (IDs and data)', async () => {
      const c = await open();
      c.send(encodeRequest(buildRequest({ codeSet: 'ascii', datastore: 'IMS1', clientId: 'ASCII01', trancode: 'ECHO', data: 'hello ascii' })));
      const b = (await c.next())!;
      const r = decodeReply(b, { llll: true });
      expect(r.codeSet).toBe('ascii');
      expect(r.kind === 'data' && LATIN1.decode(r.segments[0]!)).toBe('hello ascii');
      expect(Buffer.from(b.subarray(b.length - 8)).toString('latin1')).toBe('*CSMOKY*');
      // the IMS side saw EBCDIC
      expect(h.ims.log.at(-1)).toContain('send ECHO');
    });

    it('datastore not active → routed to the alternate; both down → reason 74; STOPDS → 76', async () => {
      h.ims.setStatus('DISCONNECT');
      const c = await open();
      c.send(req({ trancode: 'ECHO', data: 'ALT' }));
      expect(text(await reply(c))).toBe('ALT');
      expect(h.ims2.log.length).toBe(1);
      h.ims2.setStatus('DISCONNECT');
      c.send(req({ trancode: 'ECHO', data: 'X' }));
      expect(rsm(await reply(c))).toEqual([8, 74]);
      const d = await open();
      h.ims2.setStatus('STOPPED');
      h.ims.setStatus('STOPPED');
      d.send(req({ trancode: 'ECHO', data: 'X', clientId: 'OTHER01' }));
      expect(rsm(await reply(d))).toEqual([8, 76]);
    });

    it('SAMPLE exit: replies without LLLL', async () => {
      const c = await open(false);
      c.send(encodeRequest(buildRequest({ exit: '*SAMPLE*', datastore: 'IMS1', clientId: 'SMPL01', trancode: 'ECHO', data: 'NOLLLL' })));
      expect(text(await reply(c, false))).toBe('NOLLLL');
    });

    it('ACK with nothing to acknowledge → RC 8 reason 58; unknown IRM_ID → close without reply', async () => {
      const c = await open();
      c.send(req({ messageType: 'ACK' }));
      expect(rsm(await reply(c))).toEqual([8, 58]);
      await c.whenClosed();
      const d = await open();
      const bad = req({ trancode: 'ECHO', data: 'X' });
      bad.set(CP037.encode('*NOSUCH*'), 8);
      d.send(bad);
      await d.whenClosed();
      expect(d.queued).toBe(0);
    });
  });
}
