import { describe, expect, it } from 'vitest';
import {
  CP037,
  CommitMode,
  OTMA_CONTROL_LAYOUT,
  OTMA_HOLD_QUEUE_DEPTH_OFFSET,
  OtmaCommand,
  OtmaDeliveryOption,
  OtmaMessageType,
  OtmaResponseFlag,
  OtmaSenseCode,
  OtmaSecurityFlag,
  SyncLevel,
  decodeOtmaMessage,
  encodeOtmaMessage,
  otmaControl,
  readHoldQueueDepth,
  type OtmaMessage,
} from '@imsplex/codec';
import { DEFAULT_SYSTEM_DEFINITION } from '../src/config.js';
import { holdKey } from '../src/messages.js';
import { OtmaMember } from '../src/otma/member.js';
import { writeMemberRest, writeTransactionRest, SyncOption } from '../src/otma/codec-adapter.js';
import { silentLogger } from '../src/engine.js';
import { dec, enc, engine, flush } from './fixtures.js';

/** A socket-free link: records what IMS sends. */
class FakeLink {
  sent: OtmaMessage[] = [];
  closedWith: string | undefined;
  readonly peer = 'test';
  send(m: OtmaMessage) {
    this.sent.push(m);
  }
  close(reason: string) {
    this.closedWith = reason;
  }
  take(): OtmaMessage[] {
    return this.sent.splice(0);
  }
}

let seq = 0;
const bid = (member: string, superMember = ''): OtmaMessage => ({
  control: otmaControl({ messageType: OtmaMessageType.COMMAND, commandType: OtmaCommand.CLIENT_BID, sendSequence: ++seq }),
  state: {
    form: 'member',
    memberName: member,
    originatorToken: new Uint8Array(8),
    destinationToken: new Uint8Array(8),
    druExitName: '',
    maxBlockSize: 0,
    queueFlags: 0x80,
    flags2: (superMember ? 0x08 : 0) | 0x20,
    rest: writeMemberRest({ superMember, ackTimeout: 10 }, CP037),
  },
});
const tx = (tpipe: string, data: string, o: { cm: 0 | 1; sendOnly?: boolean; sync?: number; reroute?: string; security?: { user: string } }): OtmaMessage => ({
  control: otmaControl({ messageType: OtmaMessageType.TRANSACTION | (o.sendOnly ? OtmaMessageType.COMMIT_CONFIRMATION : 0), tpipe, sendSequence: ++seq }),
  state: {
    form: 'transaction',
    serverState: 0,
    rest: writeTransactionRest({ syncFlags: o.cm ? CommitMode.CM1 : CommitMode.CM0, syncLevel: (o.sync ?? SyncLevel.CONFIRM) | (o.reroute ? SyncOption.REROUTE : 0), ltermOverride: o.reroute ?? '' }, CP037),
  },
  ...(o.security ? { security: { flag: OtmaSecurityFlag.CHECK, userId: o.security.user, rest: new Uint8Array(0) } } : {}),
  segments: [enc(data)],
});
const resp = (to: OtmaMessage, ack: boolean, reroute?: string): OtmaMessage => ({
  control: otmaControl({ messageType: OtmaMessageType.RESPONSE, responseFlags: ack ? OtmaResponseFlag.ACK : OtmaResponseFlag.NAK, tpipe: to.control.tpipe, sendSequence: to.control.sendSequence }),
  ...(reroute ? { state: { form: 'transaction' as const, serverState: 0x20, rest: writeTransactionRest({ syncFlags: CommitMode.CM0, syncLevel: SyncLevel.CONFIRM | SyncOption.REROUTE, ltermOverride: reroute }, CP037) } } : {}),
});
const resume = (tpipe: string, option: number, nak = false): OtmaMessage => ({
  control: otmaControl({ messageType: OtmaMessageType.COMMAND, commandType: OtmaCommand.RESUME_HOLD_QUEUE, responseFlags: nak ? OtmaResponseFlag.NAK : 0, tpipe, sendSequence: ++seq }),
  state: { form: 'resume-hold-queue', deliveryOption: option, calloutMode: 0, token: enc('TOKEN001'), rest: new Uint8Array(0) },
});
const texts = (ms: OtmaMessage[]) => ms.map((m) => (m.segments ?? []).map(dec).join('|') || (m.control.commandType === OtmaCommand.NO_MESSAGES ? '<no messages>' : `<type ${m.control.messageType.toString(16)}>`));

async function setup(cfg = DEFAULT_SYSTEM_DEFINITION) {
  const e = await engine(cfg);
  const member = new OtmaMember(e.tm, { clock: e.clock, logger: silentLogger });
  const link = new FakeLink();
  const id = member.attach(link);
  member.receive(id, bid('HWS1'));
  const ack = link.take();
  expect(ack[0]!.control.messageType).toBe(OtmaMessageType.COMMAND | OtmaMessageType.RESPONSE);
  expect(ack[0]!.control.responseFlags).toBe(OtmaResponseFlag.ACK);
  return { ...e, member, link, id };
}

/** Queue held outputs on tpipe T via SENDONLY. */
async function held(s: Awaited<ReturnType<typeof setup>>, tpipe: string, n: number) {
  for (let i = 1; i <= n; i++) s.member.receive(s.id, tx(tpipe, `ECHO    M${i}`, { cm: 0, sendOnly: true }));
  await flush();
  expect(s.store.outputDepth(holdKey('HWS1', tpipe))).toBe(n);
  expect(s.link.take()).toEqual([]);
}

describe('OTMA member: hold queues and RESUME TPIPE without sockets', () => {
  it('rejects anything before client-bid', async () => {
    const e = await engine();
    const member = new OtmaMember(e.tm, { clock: e.clock, logger: silentLogger });
    const link = new FakeLink();
    const id = member.attach(link);
    member.receive(id, tx('T', 'ECHO X', { cm: 1 }));
    expect(link.sent[0]!.control.responseFlags).toBe(OtmaResponseFlag.NAK);
  });

  it('no-auto: every queued message, one per ACK, then "no messages"', async () => {
    const s = await setup();
    await held(s, 'NA', 3);
    s.member.receive(s.id, resume('NA', OtmaDeliveryOption.NO_AUTO));
    const got: string[] = [];
    for (let i = 0; i < 3; i++) {
      await flush();
      const [m, ...more] = s.link.take();
      expect(more).toEqual([]);
      got.push(...texts([m!]));
      s.member.receive(s.id, resp(m!, true));
    }
    await flush();
    expect(texts(s.link.take())).toEqual(['<no messages>']);
    expect(got).toEqual(['ECHO    M1', 'ECHO    M2', 'ECHO    M3']);
    expect(s.store.outputDepth(holdKey('HWS1', 'NA'))).toBe(0);
  });

  it('single: one message, nothing after its ACK; empty queue → "no messages" at once', async () => {
    const s = await setup();
    s.member.receive(s.id, resume('SG', OtmaDeliveryOption.ONE_ONLY));
    expect(texts(s.link.take())).toEqual(['<no messages>']);
    await held(s, 'SG', 2);
    s.member.receive(s.id, resume('SG', OtmaDeliveryOption.ONE_ONLY));
    const [m] = s.link.take();
    expect(texts([m!])).toEqual(['ECHO    M1']);
    s.member.receive(s.id, resp(m!, true));
    await flush();
    expect(s.link.take()).toEqual([]);
    expect(s.store.outputDepth(holdKey('HWS1', 'SG'))).toBe(1);
  });

  it('single-wait (auto-one): waits for one message, then ends', async () => {
    const s = await setup();
    s.member.receive(s.id, resume('SW', OtmaDeliveryOption.AUTO_ONE));
    expect(s.link.take()).toEqual([]);
    s.member.receive(s.id, tx('SW', 'ECHO    LATE', { cm: 0, sendOnly: true }));
    await flush();
    const [m] = s.link.take();
    expect(texts([m!])).toEqual(['ECHO    LATE']);
    s.member.receive(s.id, resp(m!, true));
    s.member.receive(s.id, tx('SW', 'ECHO    LATER', { cm: 0, sendOnly: true }));
    await flush();
    expect(s.link.take()).toEqual([]);
  });

  it('auto: drains, keeps waiting, and a NAK ends it and keeps the message', async () => {
    const s = await setup();
    await held(s, 'AU', 1);
    s.member.receive(s.id, resume('AU', OtmaDeliveryOption.AUTO));
    const [m1] = s.link.take();
    s.member.receive(s.id, resp(m1!, true));
    await flush();
    s.member.receive(s.id, tx('AU', 'ECHO    NEW', { cm: 0, sendOnly: true }));
    await flush();
    const [m2] = s.link.take();
    expect(texts([m2!])).toEqual(['ECHO    NEW']);
    s.member.receive(s.id, resp(m2!, false));
    await flush();
    s.member.receive(s.id, tx('AU', 'ECHO    AFTER NAK', { cm: 0, sendOnly: true }));
    await flush();
    expect(s.link.take()).toEqual([]);
    expect(s.store.listOutput(holdKey('HWS1', 'AU')).map((m) => dec(m.segments[0]))).toEqual(['ECHO    NEW', 'ECHO    AFTER NAK']);
  });

  it('NAK with a reroute name moves the output to that tpipe; reroute requested on input applies too', async () => {
    const s = await setup();
    s.member.receive(s.id, tx('RR', 'ECHO    R1', { cm: 0 }));
    await flush();
    const [m] = s.link.take();
    s.member.receive(s.id, resp(m!, false, 'ALTTP'));
    await flush();
    expect(s.store.outputDepth(holdKey('HWS1', 'RR'))).toBe(0);
    const moved = s.store.listOutput(holdKey('HWS1', 'ALTTP'));
    expect(moved.map((x) => [dec(x.segments[0]), x.rerouted, x.direct])).toEqual([['ECHO    R1', true, false]]);
    s.member.receive(s.id, tx('RR', 'ECHO    R2', { cm: 0, reroute: 'HWS$DEF' }));
    await flush();
    const [m2] = s.link.take();
    s.member.receive(s.id, resp(m2!, false));
    await flush();
    expect(s.store.listOutput(holdKey('HWS1', 'HWS$DEF')).map((x) => dec(x.segments[0]))).toEqual(['ECHO    R2']);
  });

  it('ACK timeout keeps the output on the hold queue; a lost link leaves it there for the next bid', async () => {
    const s = await setup();
    s.member.receive(s.id, tx('TO', 'ECHO    T1', { cm: 0 }));
    await flush();
    expect(s.link.take()).toHaveLength(1);
    s.clock.advance(10_000); // the member announced ACKTO 10 s
    await flush();
    const q = s.store.listOutput(holdKey('HWS1', 'TO'));
    expect(q.map((m) => m.direct)).toEqual([false]);
    // a direct message in flight when the link drops is re-sent after the next client-bid
    s.member.receive(s.id, tx('T2', 'ECHO    T2', { cm: 0 }));
    await flush();
    expect(s.link.take()).toHaveLength(1);
    s.member.closed(s.id);
    const link2 = new FakeLink();
    const id2 = s.member.attach(link2);
    s.member.receive(id2, bid('HWS1'));
    const sent = link2.take();
    expect(texts(sent.slice(1))).toEqual(['ECHO    T2']);
  });

  it('super-member: another IMS Connect with the same SMEMBER drains the shared hold queue', async () => {
    const s = await setup();
    const a = new FakeLink();
    const ida = s.member.attach(a);
    s.member.receive(ida, bid('HWSA', 'SM01'));
    a.take();
    s.member.receive(ida, tx('SHR', 'ECHO    SHARED', { cm: 0, sendOnly: true }));
    await flush();
    const b = new FakeLink();
    const idb = s.member.attach(b);
    s.member.receive(idb, bid('HWSB', 'SM01'));
    b.take();
    s.member.receive(idb, resume('SHR', OtmaDeliveryOption.ONE_ONLY));
    expect(texts(b.take())).toEqual(['ECHO    SHARED']);
  });

  it('RESUME TPIPE authorisation failure NAKs with sense X\'0033\'', async () => {
    const s = await setup(DEFAULT_SYSTEM_DEFINITION + 'RACF USER=USER01,TRAN=(ECHO,MINE)\n');
    const m = resume('OTHER', OtmaDeliveryOption.ONE_ONLY);
    s.member.receive(s.id, { ...m, security: { flag: OtmaSecurityFlag.CHECK, userId: 'USER01', rest: new Uint8Array(0) } });
    const [nak] = s.link.take();
    expect(nak!.control.responseFlags).toBe(OtmaResponseFlag.NAK);
    expect(nak!.control.senseCode).toBe(OtmaSenseCode.HOLD_QUEUE_AUTHORIZATION);
    s.member.receive(s.id, tx('MINE', 'ECHO X', { cm: 1, sync: SyncLevel.NONE, security: { user: 'BAD' } }));
    await flush();
    const [nak2] = s.link.take();
    expect(nak2!.control.senseCode).toBe(0x00c3);
  });

  it('hold-queue output carries the depth left behind it (state data bytes 69-72): 2, 1, 0 for three single resumes', async () => {
    const s = await setup();
    await held(s, 'DEPTH', 3);
    const depths: number[] = [];
    for (let i = 1; i <= 3; i++) {
      s.member.receive(s.id, resume('DEPTH', OtmaDeliveryOption.ONE_ONLY));
      const [m, ...more] = s.link.take();
      expect(more).toEqual([]);
      expect(texts([m!])).toEqual([`ECHO    M${i}`]);
      // The bytes on the wire: state data right after the 32-byte control section, 73 bytes long
      // (X'0049'), the depth a big-endian u32 at state offset 3 + OTMA_HOLD_QUEUE_DEPTH_OFFSET (69).
      const bytes = encodeOtmaMessage(m!);
      const st = OTMA_CONTROL_LAYOUT.size;
      expect((bytes[st]! << 8) | bytes[st + 1]!).toBe(0x49);
      const at = st + 3 + OTMA_HOLD_QUEUE_DEPTH_OFFSET;
      expect(OTMA_HOLD_QUEUE_DEPTH_OFFSET).toBe(66);
      depths.push(((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0);
      // What IMS Connect reads back from those bytes.
      const back = decodeOtmaMessage(bytes);
      expect(back.state?.form === 'transaction' ? readHoldQueueDepth(back.state.rest) : undefined).toBe(3 - i);
      s.member.receive(s.id, resp(m!, true));
      await flush();
      expect(s.link.take()).toEqual([]);
    }
    expect(depths).toEqual([2, 1, 0]);
    expect(s.store.outputDepth(holdKey('HWS1', 'DEPTH'))).toBe(0);
  });

  it('CM0 output sent at once and CM1 replies carry the depth of the tpipe hold queue; CM1 output omits it when the queue is empty', async () => {
    const s = await setup();
    // CM1 with nothing held: no depth signal (69-byte state data, as before).
    s.member.receive(s.id, tx('MIXED', 'ECHO    ONE', { cm: 1, sync: SyncLevel.NONE }));
    await flush();
    const cm1 = s.link.take();
    expect(texts(cm1)).toEqual(['ECHO    ONE', '<type 8>']);
    for (const m of cm1) expect(m.state?.form === 'transaction' && m.state.holdQueueDepth).toBe(undefined);
    expect(encodeOtmaMessage(cm1[0]!)[OTMA_CONTROL_LAYOUT.size + 1]).toBe(0x45);
    // Two messages held on the tpipe, then a CM1 reply and its commit confirmation say 2.
    await held(s, 'MIXED', 2);
    s.member.receive(s.id, tx('MIXED', 'ECHO    TWO', { cm: 1, sync: SyncLevel.NONE }));
    await flush();
    const next = s.link.take();
    expect(texts(next)).toEqual(['ECHO    TWO', '<type 8>']);
    for (const m of next) {
      const back = decodeOtmaMessage(encodeOtmaMessage(m));
      expect(back.state?.form === 'transaction' ? readHoldQueueDepth(back.state.rest) : undefined).toBe(2);
    }
    // CM0 send-receive output goes at once (direct): the two held messages stay behind it.
    s.member.receive(s.id, tx('MIXED', 'ECHO    CM0', { cm: 0 }));
    await flush();
    const [out, ...more] = s.link.take();
    expect(more).toEqual([]);
    expect(texts([out!])).toEqual(['ECHO    CM0']);
    expect(out!.state?.form === 'transaction' && out!.state.holdQueueDepth).toBe(2);
  });

  it('replies and commit confirmations echo each input\'s own user data section (same or different from the one before)', async () => {
    const s = await setup();
    const user = (port: string, token: number): NonNullable<OtmaMessage['user']> => ({
      align: 0,
      destinationId: 'IMS1',
      originId: 'HWS1',
      portId: port,
      logonToken: new Uint8Array(8).fill(token),
      returnCode: 0,
      reasonName: '',
      responseToken: new Uint8Array(4),
      passTicket: '',
      flag1: 0,
      rest: new Uint8Array(0),
    });
    const sections = [user('9999', 1), user('9999', 2), user('8888', 2), user('9999', 1)];
    const userBytes = (u: OtmaMessage['user']) => (u ? Buffer.from(encodeOtmaMessage({ control: otmaControl(), user: u })).toString('hex') : 'none');
    const seen: string[] = [];
    for (const [i, u] of sections.entries()) {
      s.member.receive(s.id, { ...tx(`USR${i}`, `ECHO    U${i}`, { cm: 1, sync: SyncLevel.NONE }), user: u });
      await flush();
      const out = s.link.take();
      expect(texts(out)).toEqual([`ECHO    U${i}`, '<type 8>']);
      for (const m of out) seen.push(userBytes(m.user));
    }
    expect(seen).toEqual(sections.flatMap((u) => [userBytes(u), userBytes(u)]));
  });

  it('a second CM1 input on a busy tpipe is NAKed', async () => {
    const s = await setup();
    s.member.receive(s.id, tx('BUSY', 'SLOW    1000', { cm: 1, sync: SyncLevel.NONE }));
    s.member.receive(s.id, tx('BUSY', 'ECHO    X', { cm: 1, sync: SyncLevel.NONE }));
    await flush();
    const out = s.link.take();
    expect(out).toHaveLength(1);
    expect(out[0]!.control.senseCode).toBe(0x0002);
    s.clock.advance(1000);
    await flush();
    expect(texts(s.link.take())).toEqual(['SLOW DONE 1000', '<type 8>']);
  });
});
