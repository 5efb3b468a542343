/**
 * HWSJAVA0 (`*HWSJAV*`, IMS TM Resource Adapter clients), spec §1.4, §3.6, §6.6, §11: the client sends
 * the 28-byte IRM fixed part, its own OTMA headers and the data; replies carry OTMA headers with the
 * return and reason codes in the user data. Requests are built with the codec's naive request builder
 * and OTMA sections pushed field by field here; expected replies are literal bytes built the same way.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ByteBuilder, naiveRequest, toHex } from '@imsplex/codec/testing';
import { harness, type Harness, type RawClient } from './harness.js';

// ---------------------------------------------------------------------------------------------------
// Naive OTMA header sections (spec §11; imsplex layout of the state data after the server state)

interface ControlFields {
  mgt: number; // OMCTLMGT
  rsi?: number; // OMCTLRSI
  cci?: number; // OMCTLCCI
  cmd?: number; // protocol command type
  tpipe: string;
  chain?: number;
  pfl: number; // OMCTLPFL: sections present
  seq: number;
  sense?: number;
  reason?: number;
  segSeq?: number;
}

function control(b: ByteBuilder, f: ControlFields, text: 'ebcdic' | 'ascii' = 'ebcdic'): ByteBuilder {
  return b
    .u8(0x01) // OMCTLALV architecture level
    .u8(f.mgt) // OMCTLMGT message type
    .u8(f.rsi ?? 0) // OMCTLRSI response flags
    .u8(f.cci ?? 0) // OMCTLCCI commit confirmation
    .u8(f.cmd ?? 0) // protocol command type
    .u8(0) // processing flags
    .text(text, f.tpipe, 8) // tpipe
    .u8(f.chain ?? 0xa0) // chain state (single segment)
    .u8(f.pfl) // prefix flags
    .u32(f.seq) // send sequence
    .u16(f.sense ?? 0) // sense code
    .u16(f.reason ?? 0) // OTMA reason
    .u32(0) // recoverable sequence
    .u16(f.segSeq ?? 0) // segment sequence
    .u16(0); // reserved
}

/** Transaction state data, 69 bytes. */
function txState(b: ByteBuilder, o: { server?: number; cm: number; sync: number; map?: string; lterm?: string }, text: 'ebcdic' | 'ascii' = 'ebcdic'): ByteBuilder {
  return b
    .u16(69) // length
    .u8(o.server ?? 0) // server state
    .u8(o.cm) // sync flags: commit mode X'20' CM1 / X'40' CM0
    .u8(o.sync) // sync level (+ purge/reroute options)
    .text(text, o.map ?? '', 8) // MFS map name
    .fill(0, 16) // server token
    .fill(0, 16) // correlator
    .fill(0, 16) // context ID
    .text(text, o.lterm ?? '', 8); // LTERM override / reroute tpipe
}

function security(b: ByteBuilder, user: string, group: string, text: 'ebcdic' | 'ascii' = 'ebcdic'): ByteBuilder {
  return b
    .u16(24) // OMSECLEN
    .u8(0xc3) // OMSECFLG C'C'
    .u8(0x14) // OMSECFLN: user ID + group
    .u8(0x0a) // sub-field length
    .u8(0x02) // user ID
    .text(text, user, 8)
    .u8(0x0a) // sub-field length
    .u8(0x03) // group
    .text(text, group, 8);
}

function userData(b: ByteBuilder, o: { dest: string; orig?: string; rc?: number; rescode?: string; pw?: string; flag1?: number }, text: 'ebcdic' | 'ascii' = 'ebcdic'): ByteBuilder {
  return b
    .u16(61) // OMUSRLEN
    .u16(0) // alignment
    .text(text, o.dest, 8) // OMUSR_DESTID
    .text(text, o.orig ?? '', 8) // OMUSR_ORIGID
    .text(text, '', 8) // OMUSR_PORTID
    .fill(0, 8) // OMUSR_LTOKEN
    .u32(o.rc ?? 0) // OMUSR_RETCODE
    .text(text, o.rescode ?? '', 8) // OMUSR_RESCODE
    .fill(0, 4) // OMUSR_RTOKEN
    .text(text, o.pw ?? '', 8) // OMUSR_PASSTICK
    .u8(o.flag1 ?? 0x10); // OMUSR_FLAG1: persistent socket
}

/** The usual client headers: control + transaction state + security + user data. */
function headers(o: { mgt?: number; rsi?: number; tpipe?: string; seq?: number; cm?: number; sync?: number; dest?: string; data?: boolean; pw?: string; server?: number }): number[] {
  const b = new ByteBuilder();
  control(b, { mgt: o.mgt ?? 0x40, rsi: o.rsi ?? 0, tpipe: o.tpipe ?? 'JAVCLI01', pfl: o.data === false ? 0xe0 : 0xf0, seq: o.seq ?? 7 });
  txState(b, { cm: o.cm ?? 0x20, sync: o.sync ?? 0x00, server: o.server ?? 0 });
  security(b, 'JUSER', 'JGROUP');
  userData(b, { dest: o.dest ?? 'IMS1', pw: o.pw ?? 'SECRET' });
  return [...b.bytes()];
}

const ebcdic = (s: string) => [...new ByteBuilder().ebcdic(s).bytes()];

/** A HWSJAVA0 request: IRM fixed part only, then the OTMA headers, then LLZZ data. */
function javRequest(o: { headers: number[]; data?: string[]; clientId?: string; timer?: number; codeSet?: 'ebcdic' | 'ascii' }): Uint8Array {
  return naiveRequest({
    IRM_ID: '*HWSJAV*',
    noUserPart: true,
    IRM_F5: 0xc0, // OTMA headers present, client-translated
    IRM_TIMER: o.timer ?? 0x31,
    IRM_SOCT: 0x10,
    IRM_CLIENTID: o.clientId ?? 'JAVCLI01',
    ...(o.codeSet ? { codeSet: o.codeSet } : {}),
    otma: o.headers,
    segments: (o.data ?? []).map((d) => ({ data: ebcdic(d) })),
  });
}

/** Expected reply: LLLL | ID | OTMA message(s). */
function expected(build: (b: ByteBuilder) => void, id = '*HWSJAV*'): string {
  const body = new ByteBuilder().ebcdic(id);
  build(body);
  const bytes = body.bytes();
  return toHex(new ByteBuilder().u32(bytes.length + 4).raw(bytes).bytes());
}

/** The reply's OMUSR_RETCODE / OMUSR_RESCODE (user data after LLLL, ID, control, state, security). */
function codes(reply: Uint8Array, withState = true, withSecurity = true): { rc: number; rescode: string } {
  const user = 4 + 8 + 32 + (withState ? 69 : 0) + (withSecurity ? 24 : 0);
  const rc = new DataView(reply.buffer, reply.byteOffset).getUint32(user + 36);
  const rescode = [...reply.subarray(user + 40, user + 48)].map((c) => String.fromCharCode(EBCDIC_TO_ASCII[c] ?? 0x3f)).join('');
  return { rc, rescode };
}
const EBCDIC_TO_ASCII: Record<number, number> = Object.fromEntries(
  [...' ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_/'].map((ch) => [new ByteBuilder().ebcdic(ch).bytes()[0]!, ch.charCodeAt(0)]),
);

let h: Harness;
let c: RawClient;
beforeEach(async () => {
  h = await harness();
  c = h.memory();
});
afterEach(async () => {
  await h.close();
});

describe('HWSJAVA0 requests', () => {
  it('CM1/NONE send-receive: commit mode, sync level and datastore come from the OTMA headers; the reply is OTMA headers + data', async () => {
    // Datastore IMS2 is named only in OMUSR_DESTID (the IRM has no user part).
    c.send(javRequest({ headers: headers({ dest: 'IMS2', seq: 7 }), data: ['ECHO    HELLO JAVA'] }));
    const reply = (await c.next())!;
    expect(h.ims2.log).toEqual(['send ECHO cm1 sync0 tpipe=JAVCLI01']);
    expect(h.ims.log).toEqual([]);
    expect(toHex(reply)).toBe(
      expected((b) => {
        control(b, { mgt: 0x80, tpipe: 'JAVCLI01', pfl: 0xf0, seq: 7 }); // DATA, no ACK requested, seq echoed
        txState(b, { cm: 0x20, sync: 0x00 }); // the client's state data echoed
        security(b, 'JUSER', 'JGROUP');
        userData(b, { dest: 'IMS2', rc: 0, rescode: '', pw: '' }); // RC 0; OMUSR_PASSTICK cleared
        b.u16(4 + 10).u16(0).ebcdic('HELLO JAVA'); // LLZZ data
      }),
    );
  });

  it('CM1/CONFIRM: the output asks for an ACK (OMCTLRSI X\'20\'); the ACK → commit confirmation DEAL_CTD', async () => {
    c.send(javRequest({ headers: headers({ cm: 0x20, sync: 0x01, seq: 9 }), data: ['ECHO    CONFIRM ME'] }));
    const out = (await c.next())!;
    expect(h.ims.log).toEqual(['send ECHO cm1 sync1 tpipe=JAVCLI01']);
    expect(out[12 + 2]).toBe(0x20); // OMCTLRSI: response requested
    // The ACK: an OTMA response message with the ACK flag and the full prefix, as the TM RA builds it
    // (a control section alone would be below IBM's X'58' minimum message length).
    c.send(javRequest({ headers: headers({ mgt: 0x20, rsi: 0x80, data: false, seq: 9 }) }));
    const done = (await c.next())!;
    expect(h.ims.committed).toBe(1);
    expect(toHex(done)).toBe(
      expected((b) => {
        control(b, { mgt: 0x08, cci: 0x80, tpipe: 'JAVCLI01', pfl: 0xe0, seq: 9 }); // commit confirmation: committed
        txState(b, { cm: 0x20, sync: 0x01 }); // the interaction's input headers echoed
        security(b, 'JUSER', 'JGROUP');
        userData(b, { dest: 'IMS1', rc: 0, rescode: 'DEAL_CTD', pw: '' });
      }),
    );
  });

  it('CM0 from the state data runs as CM0 CONFIRM', async () => {
    c.send(javRequest({ headers: headers({ cm: 0x40, sync: 0x00 }), data: ['ECHO    ZERO'] }));
    const out = (await c.next())!;
    expect(h.ims.log).toEqual(['send ECHO cm0 sync1 tpipe=JAVCLI01']);
    expect(out[12 + 2]).toBe(0x20);
  });

  it('conversation: server state X\'80\' while it continues; data-type input continues it; commit-confirmation input deallocates', async () => {
    c.send(javRequest({ headers: headers({ sync: 0x01, seq: 1 }), data: ['CONV    START'] }));
    let r = (await c.next())!;
    expect(r[12 + 32 + 2]).toBe(0x80); // server state: conversational
    expect(r[12 + 2]).toBe(0x20); // ACK required
    c.send(javRequest({ headers: headers({ mgt: 0x20, rsi: 0x80, data: false, seq: 1 }) }));
    // A continuing conversation's ACK gets no reply; the next input is OTMA data (continuation).
    c.send(javRequest({ headers: headers({ mgt: 0x80, server: 0x80, sync: 0x01, seq: 2 }), data: ['CONV    NEXT'] }));
    r = (await c.next())!;
    expect(r[12 + 32 + 2]).toBe(0x80);
    expect(toHex(r.subarray(r.length - 10))).toBe(toHex(new ByteBuilder().u16(10).u16(0).ebcdic('STEP 2').bytes()));
    c.send(javRequest({ headers: headers({ mgt: 0x08, data: false, seq: 3 }) }));
    // DEALLOCATE while the step waits for its ACK: the conversation ends, committed.
    r = (await c.next())!;
    expect(r[12 + 1]).toBe(0x08); // commit confirmation
    expect(codes(r)).toEqual({ rc: 0, rescode: 'DEAL_CTD' });
  });

  it('unknown OMUSR_DESTID: RC 8, OMUSR_RESCODE NFNDDST, a NAK response, socket closed', async () => {
    c.send(javRequest({ headers: headers({ dest: 'NOSUCH', seq: 3 }), data: ['ECHO    X'] }));
    const reply = (await c.next())!;
    expect(codes(reply)).toEqual({ rc: 8, rescode: 'NFNDDST ' });
    expect(reply[12 + 1]).toBe(0x20); // OMCTLMGT response
    expect(reply[12 + 2]).toBe(0x40); // OMCTLRSI NAK
    expect(reply.length).toBe(4 + 8 + 32 + 69 + 24 + 61); // headers only, no application data
    await c.whenClosed();
  });

  it('an OTMA NAK from IMS: RC X\'0C\' (RC X\'10\' is not valid for HWSJAVA0), sense and OTMA reason in the control section', async () => {
    c.send(javRequest({ headers: headers({}), data: ['NAKME   X'] }));
    const reply = (await c.next())!;
    expect(codes(reply)).toEqual({ rc: 12, rescode: '51      ' });
    expect(toHex(reply.subarray(12 + 20, 12 + 24))).toBe('00 33 00 07'); // sense X'0033', reason 7
    await c.whenClosed();
  });

  it('multi-segment output: the first segment after the full prefix, each further one after its own 32-byte control section', async () => {
    c.send(javRequest({ headers: headers({ seq: 5 }), data: ['ECHO    ONE', 'TWO', 'THREE'] }));
    const reply = (await c.next())!;
    expect(toHex(reply)).toBe(
      expected((b) => {
        control(b, { mgt: 0x80, tpipe: 'JAVCLI01', chain: 0x80, pfl: 0xf0, seq: 5, segSeq: 1 }); // first in chain
        txState(b, { cm: 0x20, sync: 0x00 });
        security(b, 'JUSER', 'JGROUP');
        userData(b, { dest: 'IMS1', pw: '' });
        b.u16(7).u16(0).ebcdic('ONE');
        control(b, { mgt: 0x80, tpipe: 'JAVCLI01', chain: 0x40, pfl: 0x10, seq: 5, segSeq: 2 }); // middle
        b.u16(7).u16(0).ebcdic('TWO');
        control(b, { mgt: 0x80, tpipe: 'JAVCLI01', chain: 0x20, pfl: 0x10, seq: 5, segSeq: 3 }); // last
        b.u16(9).u16(0).ebcdic('THREE');
      }),
    );
  });

  it('PING: the text in the application data (PNG_LEN, PNG_FLG1 X\'01\', PNG_FLG2), RC 48 ICONSUCC; the socket is kept', async () => {
    for (const seq of [1, 2]) {
      c.send(javRequest({ headers: headers({ seq }), data: ['PING IMS_CONNECT'] }));
      const reply = (await c.next())!;
      expect(toHex(reply)).toBe(
        expected((b) => {
          control(b, { mgt: 0x80, tpipe: 'JAVCLI01', pfl: 0xf0, seq });
          txState(b, { cm: 0x20, sync: 0x00 });
          security(b, 'JUSER', 'JGROUP');
          userData(b, { dest: 'IMS1', rc: 0x30, rescode: 'ICONSUCC', pw: '' });
          b.u16(4 + 25) // PNG_LEN
            .u8(0x01) // PNG_FLG1: IMS extensions supported
            .u8(0x00) // PNG_FLG2
            .ebcdic('HWSC0030I *PING RESPONSE*'); // PNG_RESP1
        }),
      );
    }
    expect(h.ims.log).toEqual([]); // answered by the exit, not IMS
    expect(c.closed).toBe(false);
  });

  it('RESUME TPIPE (resume-hold-queue command, option single): hold-queue output with server state X\'20\'', async () => {
    h.ims.queue('JAVCLI01', 'HELD OUTPUT');
    const b = new ByteBuilder();
    control(b, { mgt: 0x10, cmd: 0x3c, tpipe: 'JAVCLI01', pfl: 0xa0, seq: 11 });
    b.u16(12).u8(0x01).u8(0x00).fill(0, 8); // resume state: delivery option single, callout mode 0, token
    userData(b, { dest: 'IMS1' });
    c.send(javRequest({ headers: [...b.bytes()] }));
    const reply = (await c.next())!;
    expect(h.ims.log).toEqual(['resume JAVCLI01 single']);
    expect(reply[12 + 2]).toBe(0x20); // ACK required
    expect(reply[12 + 32 + 2]).toBe(0x20); // server state: from the hold queue
    const tail = reply.subarray(reply.length - 4 - 11);
    expect(toHex(tail)).toBe(toHex(new ByteBuilder().u16(15).u16(0).ebcdic('HELD OUTPUT').bytes()));
  });

  it('a blank client ID and tpipe: IMS Connect generates one and names it in the reply\'s tpipe', async () => {
    c.send(javRequest({ headers: headers({ tpipe: '' }), clientId: '', data: ['ECHO    GEN'] }));
    const reply = (await c.next())!;
    const tpipe = reply.subarray(12 + 6, 12 + 14);
    expect(tpipe.every((x) => x === 0x40)).toBe(false);
    expect(h.ims.log[0]).toMatch(/^send ECHO cm1 sync0 tpipe=\S+$/);
  });

  it('an ASCII client: ID and names in ASCII, data passed untranslated (IRM_F5 X\'C0\')', async () => {
    const b = new ByteBuilder();
    control(b, { mgt: 0x40, tpipe: 'JAVASCII', pfl: 0xf0, seq: 4 }, 'ascii');
    txState(b, { cm: 0x20, sync: 0x00 }, 'ascii');
    security(b, 'JUSER', 'JGROUP', 'ascii');
    userData(b, { dest: 'IMS1' }, 'ascii');
    c.send(javRequest({ headers: [...b.bytes()], clientId: 'JAVASCII', codeSet: 'ascii', data: ['ECHO    EBCDIC DATA'] }));
    const reply = (await c.next())!;
    expect(h.ims.log).toEqual(['send ECHO cm1 sync0 tpipe=JAVASCII']);
    expect(toHex(reply)).toBe(
      toHex(
        (() => {
          const body = new ByteBuilder().ascii('*HWSJAV*');
          control(body, { mgt: 0x80, tpipe: 'JAVASCII', pfl: 0xf0, seq: 4 }, 'ascii');
          txState(body, { cm: 0x20, sync: 0x00 }, 'ascii');
          security(body, 'JUSER', 'JGROUP', 'ascii');
          userData(body, { dest: 'IMS1', pw: '' }, 'ascii');
          body.u16(15).u16(0).ebcdic('EBCDIC DATA');
          const bytes = body.bytes();
          return new ByteBuilder().u32(bytes.length + 4).raw(bytes).bytes();
        })(),
      ),
    );
  });

  it('malformed OTMA headers (user-data length past the message): RC 4 reason 20 in a headers-only reply, socket closed', async () => {
    const b = new ByteBuilder();
    control(b, { mgt: 0x40, tpipe: 'JAVCLI01', pfl: 0x20, seq: 1 });
    b.u16(0x7000).fill(0, 59); // OMUSRLEN far beyond the message
    c.send(javRequest({ headers: [...b.bytes()], data: ['ECHO    X'] }));
    const reply = (await c.next())!;
    expect(toHex(reply)).toBe(
      expected((x) => {
        control(x, { mgt: 0x20, rsi: 0x40, tpipe: '', pfl: 0xa0, seq: 0 }); // no client ID bound yet
        txState(x, { cm: 0x20, sync: 0x00 });
        userData(x, { dest: '', orig: 'HWS1', rc: 4, rescode: '20', flag1: 0 });
      }),
    );
    await c.whenClosed();
  });

  it('a message type with no HWSJAVA0 meaning (control section type 0): RC 4 reason 9', async () => {
    c.send(javRequest({ headers: headers({ mgt: 0x00 }), data: ['ECHO    X'] }));
    const reply = (await c.next())!;
    expect(codes(reply)).toEqual({ rc: 4, rescode: '9       ' });
    await c.whenClosed();
  });
});
