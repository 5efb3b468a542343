/**
 * IRM_TIMER X'E9' (NO_WAIT) per spec §4.2, on the pure Session: where IMS Connect silently waits 2 s,
 * where it waits 0.25 s, and where nothing at all follows (ACK/NAK of RESUME TPIPE single, SENDONLY,
 * and CM0 ACK NOWAIT). Each case drives the state machine with real request bytes and checks the
 * actions it asks for: the timer it arms, and that no bytes are written where nothing may follow.
 */
import { describe, expect, it } from 'vitest';
import { CP037, buildRequest, decodeReply, encodeRequest, type BuildRequestOptions } from '@imsplex/codec';
import { Session, decodeInput, resolveOptions, type ImsConnectOptions, type ImsEvent, type SessionAction, type SessionContext } from '../src/index.js';

function context(extra: Partial<ImsConnectOptions> = {}): SessionContext {
  const options = resolveOptions({ id: 'HWS1', ports: [{ id: 0 }], datastores: [{ id: 'IMS1', tmember: 'IMS1' }], timeout: 5000, ...extra });
  return {
    options,
    port: 0,
    codePage: CP037,
    security: undefined,
    decode: (bytes) => decodeInput(bytes, CP037),
    claimClientId: () => 'ok',
    releaseClientId: () => {},
    cancelTimerOf: () => false,
    generateClientId: () => 'HWS00001',
    datastoreStatus: (id) => (id === 'IMS1' ? 'ACTIVE' : undefined),
    asyncOutputQueued: () => false,
    shuttingDown: () => false,
  };
}

const frame = (o: BuildRequestOptions) => ({ type: 'frame' as const, bytes: encodeRequest(buildRequest({ datastore: 'IMS1', clientId: 'NOWAIT01', ...o })) });
const output = (conversational = false): { type: 'ims'; event: ImsEvent } => ({ type: 'ims', event: { ev: 'output', segments: [CP037.encode('OUT')], conversational, ackRequired: false } });

/** The IMS-wait timer the actions arm (last timer action), null = disarmed, undefined = none. */
const timerOf = (a: SessionAction[]) => a.filter((x) => x.type === 'timer').at(-1) as { ms: number | null } | undefined;
const writes = (a: SessionAction[]) => a.filter((x) => x.type === 'write').map((x) => (x as { bytes: Uint8Array }).bytes);
const imsOps = (a: SessionAction[]) => a.filter((x) => x.type === 'ims').map((x) => (x as { op: { op: string } }).op.op);
const rsmOf = (bytes: Uint8Array | undefined) => {
  const r = bytes && decodeReply(bytes, { llll: true });
  return r?.kind === 'status' ? [r.rsm.returnCode, r.rsm.reasonCode] : r?.kind;
};

/** A session with output delivered and an ACK/NAK owed. */
function awaitingAck(input: BuildRequestOptions, conversational = false, extra: Partial<ImsConnectOptions> = {}): Session {
  const s = new Session(context(extra), () => 0);
  s.start();
  const a = s.handle(frame(input));
  expect(imsOps(a)).toEqual([input.messageType === 'RESUME_TPIPE' ? 'resume' : 'send']);
  const o = s.handle(output(conversational));
  expect(writes(o)).toHaveLength(1);
  expect(s.displayState().state).toBe('ACK');
  return s;
}

describe("IRM_TIMER X'E9' on the requests that must wait: 2 s (spec §4.2)", () => {
  it('non-conversational send-receive input', () => {
    const s = new Session(context(), () => 0);
    s.start();
    expect(timerOf(s.handle(frame({ trancode: 'IVTNO', data: 'X', timer: 'nowait' })))).toEqual({ type: 'timer', ms: 2000 });
  });

  it('RESUME TPIPE request (every option)', () => {
    for (const resumeOption of ['single', 'singleWait', 'auto', 'noAuto', 'none'] as const) {
      const s = new Session(context(), () => 0);
      s.start();
      expect(timerOf(s.handle(frame({ messageType: 'RESUME_TPIPE', resumeOption, timer: 'nowait' }))), resumeOption).toEqual({ type: 'timer', ms: 2000 });
    }
  });

  it('conversational data, and the ACK/NAK of a conversational transaction (also its last step)', () => {
    // The conversation's first step: output marked conversational; its ACK continues (no wait).
    const s = awaitingAck({ trancode: 'CONV', data: '1', commitMode: 'CM1', syncLevel: 'CONFIRM' }, true);
    const a = s.handle(frame({ messageType: 'ACK', timer: 'nowait' }));
    expect(writes(a)).toHaveLength(0);
    // Conversational data: 2 s.
    expect(timerOf(s.handle(frame({ trancode: 'CONV', data: '2', commitMode: 'CM1', syncLevel: 'CONFIRM', timer: 'nowait' })))).toEqual({ type: 'timer', ms: 2000 });
    // IMS ends the conversation (CSM without X'40'); the ACK of that last step still belongs to a
    // conversational transaction: 2 s, not the 0.25 s of a plain CM1 confirm.
    s.handle(output(false));
    expect(timerOf(s.handle(frame({ messageType: 'ACK', timer: 'nowait' })))).toEqual({ type: 'timer', ms: 2000 });

    const n = awaitingAck({ trancode: 'CONV', data: '1', commitMode: 'CM1', syncLevel: 'CONFIRM' }, true);
    expect(timerOf(n.handle(frame({ messageType: 'NAK', timer: 'nowait' })))).toEqual({ type: 'timer', ms: 2000 });
  });
});

describe("IRM_TIMER X'E9' where IMS Connect waits 0.25 s (spec §4.2)", () => {
  it('ACK and NAK of a non-conversational CM1 confirm', () => {
    for (const messageType of ['ACK', 'NAK'] as const) {
      const s = awaitingAck({ trancode: 'IVTNO', data: 'X', commitMode: 'CM1', syncLevel: 'CONFIRM' });
      expect(timerOf(s.handle(frame({ messageType, timer: 'nowait' }))), messageType).toEqual({ type: 'timer', ms: 250 });
    }
  });

  it('ACK of RESUME TPIPE auto and no-auto', () => {
    for (const resumeOption of ['auto', 'noAuto', 'none'] as const) {
      const s = awaitingAck({ messageType: 'RESUME_TPIPE', resumeOption, timer: { code: 0x31 } });
      // Even with IRM_F1 X'02': NOWAIT is a CM0 send-receive feature; more output may follow here.
      expect(timerOf(s.handle(frame({ messageType: 'ACK', commitMode: 'CM0', timer: 'nowait', flags: { f1: { noWait: true } } }))), resumeOption).toEqual({ type: 'timer', ms: 250 });
    }
  });

  it('ACK of a CM0 send-receive without IRM_F1_NOWAIT: 0.25 s, then RSM RC 40 reason X\'E9\'', () => {
    const s = awaitingAck({ trancode: 'IVTNO', data: 'X', commitMode: 'CM0' });
    expect(timerOf(s.handle(frame({ messageType: 'ACK', commitMode: 'CM0', timer: 'nowait' })))).toEqual({ type: 'timer', ms: 250 });
    const t = s.handle({ type: 'timer' });
    expect(rsmOf(writes(t)[0])).toEqual([40, 0xe9]);
  });

  it('CM0 ACK with IRM_F1_NOWAIT when this IMS Connect advertises protocol level X\'00\': an ordinary ACK', () => {
    const s = awaitingAck({ trancode: 'IVTNO', data: 'X', commitMode: 'CM0', flags: { f1: { noWait: true } } }, false, { protocolLevel: 0 });
    expect(timerOf(s.handle(frame({ messageType: 'ACK', commitMode: 'CM0', timer: 'nowait', flags: { f1: { noWait: true } } })))).toEqual({ type: 'timer', ms: 250 });
  });

  it('NAK of CM0 output (even with IRM_F1_NOWAIT) ends with the timeout RSM at once', () => {
    const s = awaitingAck({ trancode: 'IVTNO', data: 'X', commitMode: 'CM0', flags: { f1: { noWait: true } } });
    const a = s.handle(frame({ messageType: 'NAK', commitMode: 'CM0', timer: 'nowait', flags: { f1: { noWait: true } } }));
    expect(imsOps(a)).toEqual(['nak']);
    expect(rsmOf(writes(a)[0])).toEqual([40, 0xe9]);
  });
});

describe("IRM_TIMER X'E9' where nothing follows (spec §4.2)", () => {
  const nothingFollows = (a: SessionAction[], s: Session) => {
    expect(writes(a)).toHaveLength(0);
    expect(a.some((x) => x.type === 'read')).toBe(true);
    expect(a.some((x) => x.type === 'close')).toBe(false);
    expect(s.displayState().state).toBe('RECV');
    expect(s.busy).toBe(false);
  };

  it('CM0 ACK NOWAIT with IRM_F1 X\'02\' on the ACK (as @imsplex/client sends it)', () => {
    const s = awaitingAck({ trancode: 'IVTNO', data: 'X', commitMode: 'CM0' });
    const a = s.handle(frame({ messageType: 'ACK', commitMode: 'CM0', timer: 'nowait', flags: { f1: { noWait: true } } }));
    expect(imsOps(a)).toEqual(['ack']);
    nothingFollows(a, s);
  });

  it('CM0 ACK NOWAIT with IRM_F1 X\'02\' on the original input', () => {
    const s = awaitingAck({ trancode: 'IVTNO', data: 'X', commitMode: 'CM0', flags: { f1: { noWait: true } } });
    const a = s.handle(frame({ messageType: 'ACK', commitMode: 'CM0', timer: 'nowait' }));
    nothingFollows(a, s);
  });

  it('IRM_F1 X\'02\' but a numeric ACK timer: the client reads the timeout RSM', () => {
    const s = awaitingAck({ trancode: 'IVTNO', data: 'X', commitMode: 'CM0' });
    expect(timerOf(s.handle(frame({ messageType: 'ACK', commitMode: 'CM0', timer: { code: 0x05 }, flags: { f1: { noWait: true } } })))).toEqual({ type: 'timer', ms: 50 });
  });

  it('ACK and NAK of RESUME TPIPE single and single-with-wait', () => {
    for (const resumeOption of ['single', 'singleWait'] as const) {
      for (const messageType of ['ACK', 'NAK'] as const) {
        const s = awaitingAck({ messageType: 'RESUME_TPIPE', resumeOption, timer: { code: 0x31 } });
        nothingFollows(s.handle(frame({ messageType, commitMode: 'CM0', timer: 'nowait' })), s);
      }
    }
  });

  it('SENDONLY (S and J)', () => {
    for (const messageType of ['SEND_ONLY', 'SEND_ONLY_ERRORS'] as const) {
      const s = new Session(context(), () => 0);
      s.start();
      const a = s.handle(frame({ messageType, trancode: 'ASYNC', data: 'X', timer: 'nowait' }));
      expect(imsOps(a)).toEqual(['send']);
      expect(a.some((x) => x.type === 'timer' && x.ms !== null)).toBe(false);
      expect(writes(a)).toHaveLength(0);
      expect(s.busy).toBe(false);
    }
  });
});
