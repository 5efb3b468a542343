/**
 * Bytes on the wire for the key interactions, compared with the worked examples of the spec
 * (ims-connect-protocol.md §13), written out as hex by hand.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type ImsConnectClient } from '../src/index.js';
import { type TestImsConnect } from '../src/testing/index.js';
import { hex, setup, toHex } from './helpers.js';

// §13.1: SAMPL1 send-receive, CM1, sync NONE, IVTNO, client CLIENT01, IMS1, timer X'31', USER01/SECRET.
const SEND_RECEIVE_13_1 = hex(`
0000  00 00 00 71 00 50 00 00 5C E2 C1 D4 D7 D3 F1 5C
0010  00 00 00 00 00 31 10 00 C3 D3 C9 C5 D5 E3 F0 F1
0020  00 20 00 40 C9 E5 E3 D5 D6 40 40 40 C9 D4 E2 F1
0030  40 40 40 40 40 40 40 40 40 40 40 40 E4 E2 C5 D9
0040  F0 F1 40 40 40 40 40 40 40 40 40 40 E2 C5 C3 D9
0050  C5 E3 40 40 00 19 00 00 C9 E5 E3 D5 D6 40 40 40
0060  C4 C9 E2 D7 D3 C1 E8 40 D3 C1 E2 E3 F1 00 04 00
0070  00`);

// §13.3: the client's ACK of a CM1 CONFIRM reply (88 bytes).
const ACK_13_3 = hex(`
0000  00 00 00 58 00 50 00 00 5C E2 C1 D4 D7 D3 F1 5C
0010  00 00 00 00 00 31 10 00 C3 D3 C9 C5 D5 E3 F0 F1
0020  00 20 01 C1 C9 E5 E3 D5 D6 40 40 40 C9 D4 E2 F1
0030  40 40 40 40 40 40 40 40 40 40 40 40 E4 E2 C5 D9
0040  F0 F1 40 40 40 40 40 40 40 40 40 40 E2 C5 C3 D9
0050  C5 E3 40 40 00 04 00 00`);

// §13.4: RESUME TPIPE, ARCH1, alternate client ID TPIPE01, single message (104 bytes).
const RESUME_13_4 = hex(`
0000  00 00 00 68 00 60 01 00 5C E2 C1 D4 D7 D3 F1 5C
0010  00 00 00 00 01 31 10 00 C3 D3 C9 C5 D5 E3 F0 F1
0020  00 40 00 D9 40 40 40 40 40 40 40 40 C9 D4 E2 F1
0030  40 40 40 40 40 40 40 40 40 40 40 40 E4 E2 C5 D9
0040  F0 F1 40 40 40 40 40 40 40 40 40 40 E2 C5 C3 D9
0050  C5 E3 40 40 40 40 40 40 40 40 40 40 E3 D7 C9 D7
0060  C5 F0 F1 40 00 04 00 00`);

// §13.7: PING (108 bytes), blank user and password.
const PING_13_7 = hex(`
0000  00 00 00 6C 00 50 00 00 5C E2 C1 D4 D7 D3 F1 5C
0010  00 00 00 00 00 31 10 00 C3 D3 C9 C5 D5 E3 F0 F1
0020  00 20 00 40 D7 C9 D5 C7 40 40 40 40 C9 D4 E2 F1
0030  40 40 40 40 40 40 40 40 40 40 40 40 40 40 40 40
0040  40 40 40 40 40 40 40 40 40 40 40 40 40 40 40 40
0050  40 40 40 40 00 14 00 00 D7 C9 D5 C7 40 C9 D4 E2
0060  6D C3 D6 D5 D5 C5 C3 E3 00 04 00 00`);

const base = { clientId: 'CLIENT01', maxConnections: 1, interactionTimeout: 10_000, racfUserId: 'USER01', racfPassword: 'SECRET' } as const;

let ims: TestImsConnect;
let client: ImsConnectClient;
afterEach(async () => {
  await client?.destroy();
  await ims?.close();
});

describe('bytes on the wire', () => {
  it('send-receive CM1/NONE is byte for byte the §13.1 example and decodes the §13.2 reply', async () => {
    ({ ims, client } = setup({ handlers: { IVTNO: () => 'ENTRY WAS DISPLAYED' } }, base));
    const res = await client.sendReceive({ trancode: 'IVTNO', data: 'DISPLAY LAST1' });
    expect(toHex(ims.frames[0]!)).toBe(toHex(SEND_RECEIVE_13_1));
    expect(res.text).toBe('ENTRY WAS DISPLAYED');
    expect(res.segments.map(toHex)).toEqual([toHex(hex('C5 D5 E3 D9 E8 40 E6 C1 E2 40 C4 C9 E2 D7 D3 C1 E8 C5 C4'))]);
    expect(res.ackRequired).toBe(false);
    expect(res.acknowledged).toBeUndefined();
    expect(res.protocolLevel).toBe(2);
    expect(res.clientId).toBe('CLIENT01');
  });

  it('CM1/CONFIRM sends the §13.3 ACK and reports the deallocate confirm', async () => {
    ({ ims, client } = setup({ handlers: { IVTNO: () => 'ENTRY WAS DISPLAYED' } }, base));
    const res = await client.sendReceive({ trancode: 'IVTNO', data: 'DISPLAY LAST1', syncLevel: 'confirm' });
    expect(ims.frames[0]![0x22]).toBe(0x01); // IRM_F3 sync CONFIRM
    expect(toHex(ims.frames[1]!)).toBe(toHex(ACK_13_3));
    expect(res.acknowledged).toBe('ack');
    expect(res.committed).toBe(true);
  });

  it('a NAK of CM1/CONFIRM output carries N and reason code and reports the back-out', async () => {
    ({ ims, client } = setup({ handlers: { IVTNO: () => 'X' } }, base));
    const res = await client.sendReceive({ trancode: 'IVTNO', syncLevel: 'confirm', onOutput: () => ({ nak: { reasonCode: 0x0123 } }) });
    const nak = ims.frames[1]!;
    expect(nak.length).toBe(0x58);
    expect(nak[7]).toBe(0x10); // IRM_F0_NAKRSN
    expect(toHex(nak.subarray(0x10, 0x12))).toBe('01 23'); // IRM_NAK_RSNCDE
    expect(nak[0x23]).toBe(0xd5); // IRM_F4 'N'
    expect(res.acknowledged).toBe('nak');
    expect(res.committed).toBe(false);
  });

  it('RESUME TPIPE single with an alternate client ID is the §13.4 example; its ACK uses X\'E9\'', async () => {
    ({ ims, client } = setup({}, base));
    ims.hold('TPIPE01', 'ASYNC OUTPUT 1');
    const msg = await client.receiveOne({ alternateClientId: 'TPIPE01', timer: 10_000 });
    expect(toHex(ims.frames[0]!)).toBe(toHex(RESUME_13_4));
    expect(msg?.text).toBe('ASYNC OUTPUT 1');
    // ACK with NO_WAIT: same IRM as the request with byte 15 = E9 and byte 23 = C1.
    const expected = RESUME_13_4.slice();
    expected[0x15] = 0xe9;
    expected[0x23] = 0xc1;
    expect(toHex(ims.frames[1]!)).toBe(toHex(expected));
    expect(ims.holdQueue('TPIPE01')).toEqual([]);
  });

  it('PING is the §13.7 example and resolves on HWSC0030I', async () => {
    ({ ims, client } = setup({}, { clientId: 'CLIENT01', maxConnections: 1, interactionTimeout: 10_000 }));
    await client.ping();
    expect(toHex(ims.frames[0]!)).toBe(toHex(PING_13_7));
  });

  it('CM0 send-receive ACKs with IRM_F1 NOWAIT and X\'E9\' when the CSM offers protocol level 2', async () => {
    ({ ims, client } = setup({ handlers: { IVTNO: () => 'CM0 OUT' } }, base));
    const res = await client.sendReceive({ trancode: 'IVTNO', data: 'X', commitMode: 0 });
    expect(ims.frames[0]![0x21]).toBe(0x40); // IRM_F2 CM0
    expect(ims.frames[0]![0x22]).toBe(0x01); // CM0 runs with CONFIRM
    const ack = ims.frames[1]!;
    expect(ack[0x23]).toBe(0xc1);
    expect(ack[0x20]).toBe(0x02); // IRM_F1_NOWAIT
    expect(ack[0x15]).toBe(0xe9); // IRM_TIMER NO_WAIT
    expect(res.text).toBe('CM0 OUT');
    expect(res.acknowledged).toBe('ack');
  });

  it('send-only variants set IRM_F4 S / K / J and IRM_F3 ORDER', async () => {
    ({ ims, client } = setup({ handlers: { IVTNO: () => 'Q' } }, base));
    await client.sendOnly({ trancode: 'IVTNO', data: 'A' });
    await client.sendOnly({ trancode: 'IVTNO', data: 'B', mode: 'ordered' });
    await client.sendOnly({ trancode: 'IVTNO', data: 'C', mode: 'ack' });
    await client.sendOnly({ trancode: 'IVTNO', data: 'D', mode: 'errors' });
    const f = ims.frames;
    expect([f[0]![0x23], f[1]![0x23], f[2]![0x23], f[3]![0x23]]).toEqual([0xe2, 0xe2, 0xd2, 0xd1]);
    expect([f[0]![0x22] & 0x10, f[1]![0x22] & 0x10]).toEqual([0x00, 0x10]);
    expect(f.every((x) => x[0x21] === 0x40)).toBe(true); // all CM0
  });

  it('*SAMPLE* replies (no LLLL) are framed by structure', async () => {
    ({ ims, client } = setup({ handlers: { IVTNO: () => ['SEG ONE', 'SEG TWO'] } }, { ...base, exitId: '*SAMPLE*' }));
    const res = await client.sendReceive({ trancode: 'IVTNO', data: 'X' });
    expect(toHex(ims.frames[0]!.subarray(8, 16))).toBe('5c e2 c1 d4 d7 d3 c5 5c');
    expect(res.text).toBe('SEG ONESEG TWO');
    expect(res.segments.length).toBe(2);
  });

  it('a transaction socket sends IRM_SOCT X\'00\' and uses a new connection per interaction', async () => {
    ({ ims, client } = setup({ handlers: { IVTNO: (tx) => `R${tx.text}` } }, { socketType: 'transaction', clientIdPrefix: 'TX' }));
    const a = await client.sendReceive({ trancode: 'IVTNO', data: '1' });
    const b = await client.sendReceive({ trancode: 'IVTNO', data: '2' });
    expect(ims.frames[0]![0x16]).toBe(0x00);
    expect([a.text, b.text]).toEqual(['R1', 'R2']);
    expect(a.clientId).not.toBe(b.clientId);
    expect(ims.stats().connections).toBe(2);
  });
});
