/**
 * Golden bytes from spec ims-connect-protocol.md §13: requests are the spec's hex dumps, replies are
 * compared byte for byte with the spec's dumps.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { harness, hex, toHex, type Harness } from './harness.js';

// §13.1: SAMPL1 send-receive, CM1, sync NONE, IVTNO, persistent, timer X'31', client CLIENT01.
const REQ_13_1 = `
0000  00 00 00 71 00 50 00 00 5C E2 C1 D4 D7 D3 F1 5C
0010  00 00 00 00 00 31 10 00 C3 D3 C9 C5 D5 E3 F0 F1
0020  00 20 00 40 C9 E5 E3 D5 D6 40 40 40 C9 D4 E2 F1
0030  40 40 40 40 40 40 40 40 40 40 40 40 E4 E2 C5 D9
0040  F0 F1 40 40 40 40 40 40 40 40 40 40 E2 C5 C3 D9
0050  C5 E3 40 40 00 19 00 00 C9 E5 E3 D5 D6 40 40 40
0060  C4 C9 E2 D7 D3 C1 E8 40 D3 C1 E2 E3 F1 00 04 00
0070  00`;
const REP_13_2 = `
0000  00 00 00 27 00 17 00 00 C5 D5 E3 D9 E8 40 E6 C1
0010  E2 40 C4 C9 E2 D7 D3 C1 E8 C5 C4 00 0C 10 02 5C
0020  C3 E2 D4 D6 D2 E8 5C`;
const REP_13_3 = `
0000  00 00 00 27 00 17 00 00 C5 D5 E3 D9 E8 40 E6 C1
0010  E2 40 C4 C9 E2 D7 D3 C1 E8 C5 C4 00 0C 30 02 5C
0020  C3 E2 D4 D6 D2 E8 5C`;
const ACK_13_3 = `
0000  00 00 00 58 00 50 00 00 5C E2 C1 D4 D7 D3 F1 5C
0010  00 00 00 00 00 31 10 00 C3 D3 C9 C5 D5 E3 F0 F1
0020  00 20 01 C1 C9 E5 E3 D5 D6 40 40 40 C9 D4 E2 F1
0030  40 40 40 40 40 40 40 40 40 40 40 40 E4 E2 C5 D9
0040  F0 F1 40 40 40 40 40 40 40 40 40 40 E2 C5 C3 D9
0050  C5 E3 40 40 00 04 00 00`;
const DEALLOC_13_3 = `
0000  00 00 00 18 00 14 00 00 5C D9 C5 D8 E2 E3 E2 5C
0010  00 00 00 00 00 00 00 61`;
const RESUME_13_4 = `
0000  00 00 00 68 00 60 01 00 5C E2 C1 D4 D7 D3 F1 5C
0010  00 00 00 00 01 31 10 00 C3 D3 C9 C5 D5 E3 F0 F1
0020  00 40 00 D9 40 40 40 40 40 40 40 40 C9 D4 E2 F1
0030  40 40 40 40 40 40 40 40 40 40 40 40 E4 E2 C5 D9
0040  F0 F1 40 40 40 40 40 40 40 40 40 40 E2 C5 C3 D9
0050  C5 E3 40 40 40 40 40 40 40 40 40 40 E3 D7 C9 D7
0060  C5 F0 F1 40 00 04 00 00`;
// "ASYNC OUTPUT 1" + CSM X'30' 02 (spec §13.4)
const QUEUED_13_4 = '00000022 0012 0000 C1E2E8D5C340D6E4E3D7E4E340F1 000C 3002 5CC3E2D4D6D2E85C';
const RSM_RC40_31 = '00000018 0014 0000 5CD9C5D8E2E3E25C 00000028 00000031';
const RSM_13_5 = `
0000  00 00 00 18 00 14 00 00 5C D9 C5 D8 E2 E3 E2 5C
0010  00 00 00 08 00 00 00 48`;
const PING_13_7 = `
0000  00 00 00 6C 00 50 00 00 5C E2 C1 D4 D7 D3 F1 5C
0010  00 00 00 00 00 31 10 00 C3 D3 C9 C5 D5 E3 F0 F1
0020  00 20 00 40 D7 C9 D5 C7 40 40 40 40 C9 D4 E2 F1
0030  40 40 40 40 40 40 40 40 40 40 40 40 40 40 40 40
0040  40 40 40 40 40 40 40 40 40 40 40 40 40 40 40 40
0050  40 40 40 40 00 14 00 00 D7 C9 D5 C7 40 C9 D4 E2
0060  6D C3 D6 D5 D5 C5 C3 E3 00 04 00 00`;

// CM0 ACK NOWAIT (spec §4.2, §6.1): the §13.1 request as CM0 (IRM_F2 X'40' at offset X'21').
const REQ_CM0 = `
0000  00 00 00 71 00 50 00 00 5C E2 C1 D4 D7 D3 F1 5C
0010  00 00 00 00 00 31 10 00 C3 D3 C9 C5 D5 E3 F0 F1
0020  00 40 00 40 C9 E5 E3 D5 D6 40 40 40 C9 D4 E2 F1
0030  40 40 40 40 40 40 40 40 40 40 40 40 E4 E2 C5 D9
0040  F0 F1 40 40 40 40 40 40 40 40 40 40 E2 C5 C3 D9
0050  C5 E3 40 40 00 19 00 00 C9 E5 E3 D5 D6 40 40 40
0060  C4 C9 E2 D7 D3 C1 E8 40 D3 C1 E2 E3 F1 00 04 00
0070  00`;
// Its ACK with IRM_TIMER X'E9' (offset X'15') and IRM_F1 X'02' NOWAIT (offset X'20'), F2 X'40' CM0,
// F3 X'01' CONFIRM, F4 C'A' X'C1'.
const ACK_CM0_NOWAIT = `
0000  00 00 00 58 00 50 00 00 5C E2 C1 D4 D7 D3 F1 5C
0010  00 00 00 00 00 E9 10 00 C3 D3 C9 C5 D5 E3 F0 F1
0020  02 40 01 C1 C9 E5 E3 D5 D6 40 40 40 C9 D4 E2 F1
0030  40 40 40 40 40 40 40 40 40 40 40 40 E4 E2 C5 D9
0040  F0 F1 40 40 40 40 40 40 40 40 40 40 E2 C5 C3 D9
0050  C5 E3 40 40 00 04 00 00`;
// The same ACK without IRM_F1_NOWAIT: X'E9' becomes 0.25 s, then RSM RC 40 (X'28') reason X'E9'.
const RSM_RC40_E9 = '00000018 0014 0000 5CD9C5D8E2E3E25C 00000028 000000E9';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('spec §13 golden bytes', () => {
  it('13.1 → 13.2: SAMPL1 CM1 NONE send-receive gets data + CSM X\'10\' 02, socket kept', async () => {
    h = await harness();
    const c = h.memory();
    c.send(hex(REQ_13_1));
    expect(toHex((await c.next())!)).toBe(toHex(hex(REP_13_2)));
    // persistent: a second request on the same socket works
    c.send(hex(REQ_13_1));
    expect(toHex((await c.next())!)).toBe(toHex(hex(REP_13_2)));
    expect(h.ims.log.filter((l) => l.startsWith('send IVTNO cm1 sync0 tpipe=CLIENT01'))).toHaveLength(2);
  });

  it('13.2 under *SAMPLE*: the same reply without the LLLL (35 bytes)', async () => {
    h = await harness();
    const c = h.memory(undefined, false);
    const req = hex(REQ_13_1);
    req.set([0x5c, 0xe2, 0xc1, 0xd4, 0xd7, 0xd3, 0xc5, 0x5c], 8); // *SAMPLE*
    c.send(req);
    const rep = (await c.next())!;
    expect(rep.length).toBe(35);
    expect(toHex(rep)).toBe(toHex(hex(REP_13_2).subarray(4)));
  });

  it('13.3: CM1 CONFIRM → CSM X\'30\'; ACK (88 bytes) → RSM reason 97 DEAL_CTD', async () => {
    h = await harness();
    const c = h.memory();
    const req = hex(REQ_13_1);
    req[0x22] = 0x01;
    c.send(req);
    expect(toHex((await c.next())!)).toBe(toHex(hex(REP_13_3)));
    const ack = hex(ACK_13_3);
    expect(ack.length).toBe(88);
    c.send(ack);
    expect(toHex((await c.next())!)).toBe(toHex(hex(DEALLOC_13_3)));
    expect(h.ims.committed).toBe(1);
  });

  it('13.3 NAK instead of ACK → RSM reason 98 DEAL_ABT', async () => {
    h = await harness();
    const c = h.memory();
    const req = hex(REQ_13_1);
    req[0x22] = 0x01;
    c.send(req);
    await c.next();
    const nak = hex(ACK_13_3);
    nak[0x23] = 0xd5;
    c.send(nak);
    const rsm = (await c.next())!;
    expect(toHex(rsm)).toBe(toHex(hex(DEALLOC_13_3)).replace(/61$/, '62'));
    expect(h.ims.aborted).toBe(1);
  });

  it('13.4: RESUME TPIPE single with alternate client ID → queued message with CSM X\'30\'', async () => {
    h = await harness();
    h.ims.queue('TPIPE01', 'ASYNC OUTPUT 1');
    const c = h.memory();
    c.send(hex(RESUME_13_4));
    expect(toHex((await c.next())!)).toBe(toHex(hex(QUEUED_13_4)));
    expect(h.ims.log).toContain('resume TPIPE01 single');
    // ACK with NO_WAIT (timer X'E9'): nothing follows, the socket stays usable.
    const ack = hex(RESUME_13_4);
    ack[0x15] = 0xe9;
    ack[0x23] = 0xc1;
    c.send(ack);
    c.send(hex(RESUME_13_4)); // queue now empty → RC 40 reason X'31'
    expect(toHex((await c.next())!)).toBe(toHex(hex(RSM_RC40_31)));
    expect(c.closed).toBe(false);
  });

  it('13.5: unknown datastore → RSM RC 8 reason 72 NFNDDST, then close', async () => {
    h = await harness();
    const c = h.memory();
    const req = hex(REQ_13_1);
    req.set([0xc2, 0xc1, 0xc4, 0xc4, 0xe2, 0x40, 0x40, 0x40], 0x2c);
    c.send(req);
    expect(toHex((await c.next())!)).toBe(toHex(hex(RSM_13_5)));
    await c.whenClosed();
    expect(await c.next()).toBeUndefined();
  });

  it('13.7: PING → "HWSC0030I *PING RESPONSE*" + CSM, no IMS involved', async () => {
    h = await harness();
    const c = h.memory();
    c.send(hex(PING_13_7));
    const rep = (await c.next())!;
    const text = Buffer.from('HWSC0030I *PING RESPONSE*', 'latin1');
    // LLLL | LL 0000 text(EBCDIC) | 000C 10 02 *CSMOKY*
    expect(rep.length).toBe(4 + 4 + text.length + 12);
    expect(toHex(rep.subarray(0, 8))).toBe(`000000${(4 + 4 + text.length + 12).toString(16).toUpperCase()}00${(4 + text.length).toString(16).toUpperCase()}0000`);
    expect(toHex(rep.subarray(8, 8 + 9))).toBe('C8E6E2C3F0F0F3F0C9'); // HWSC0030I in CP037
    expect(toHex(rep.subarray(rep.length - 12))).toBe('000C10025CC3E2D4D6D2E85C');
    expect(h.ims.log).toHaveLength(0);
  });

  it('13.8: unknown trancode → DFS064 text as data + CSM, no RSM', async () => {
    h = await harness();
    const c = h.memory();
    const req = hex(REQ_13_1);
    req.set([0xc2, 0xc1, 0xc4, 0xe3, 0xd9, 0xc1, 0xd5, 0x40], 0x58); // BADTRAN in data
    req.set([0xc2, 0xc1, 0xc4, 0xe3, 0xd9, 0xc1, 0xd5, 0x40], 0x24); // and IRM_TRNCOD
    c.send(req);
    const rep = (await c.next())!;
    const text = Buffer.from(rep.subarray(8, rep.length - 12)).toString('hex');
    expect(text.startsWith('c4c6e2f0f6f4')).toBe(true); // "DFS064"
    const total = rep.length;
    expect(toHex(rep.subarray(0, 4))).toBe(total.toString(16).toUpperCase().padStart(8, '0'));
    expect(toHex(rep.subarray(total - 12))).toBe('000C10025CC3E2D4D6D2E85C');
  });

  it('CM0 ACK NOWAIT (IRM_F1 X\'02\' + timer X\'E9\' on the ACK): nothing follows; the next request on the persistent socket gets its own reply and nothing else', async () => {
    h = await harness();
    const c = h.memory();
    c.send(hex(REQ_CM0));
    // CM0 runs as CONFIRM: data + CSM X'30' (ACK required), protocol level X'02' (NOWAIT supported).
    expect(toHex((await c.next())!)).toBe(toHex(hex(REP_13_3)));
    // The ACK and the next request go out back to back, as a pooled client sends them.
    c.send(hex(ACK_CM0_NOWAIT));
    c.send(hex(REQ_13_1));
    expect(toHex((await c.next())!)).toBe(toHex(hex(REP_13_2)));
    c.send(hex(PING_13_7));
    const ping = (await c.next())!;
    expect(toHex(ping.subarray(8, 17))).toBe('C8E6E2C3F0F0F3F0C9'); // HWSC0030I: the PING's own reply
    // Every byte the server sent, in order: exactly the three replies, no RSM between them.
    expect(toHex(Buffer.concat(c.raw))).toBe(toHex(hex(REP_13_3)) + toHex(hex(REP_13_2)) + toHex(ping));
    expect(c.closed).toBe(false);
    expect(h.ims.log.filter((l) => l.startsWith('send IVTNO'))).toEqual(['send IVTNO cm0 sync1 tpipe=CLIENT01', 'send IVTNO cm1 sync0 tpipe=CLIENT01']);
  });

  it('the same ACK without IRM_F1_NOWAIT: X\'E9\' becomes 0.25 s and the client reads RSM RC 40 reason X\'E9\' before its next reply', async () => {
    vi.useFakeTimers();
    try {
      h = await harness();
      const c = h.memory();
      c.send(hex(REQ_CM0));
      expect(toHex((await c.next())!)).toBe(toHex(hex(REP_13_3)));
      const ack = hex(ACK_CM0_NOWAIT);
      ack[0x20] = 0x00; // IRM_F1: no NOWAIT
      c.send(ack);
      c.send(hex(REQ_13_1));
      await vi.advanceTimersByTimeAsync(249);
      expect(c.queued).toBe(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(toHex((await c.next())!)).toBe(toHex(hex(RSM_RC40_E9)));
      expect(toHex((await c.next())!)).toBe(toHex(hex(REP_13_2)));
    } finally {
      vi.useRealTimers();
    }
  });
});
