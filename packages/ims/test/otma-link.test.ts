import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtmaCommitConfirmation, OtmaDeliveryOption, OtmaMessageType, OtmaProcessingFlag, OtmaServerState, OtmaCommand } from '@imsplex/codec';
import { startTestImsSystem, type TestImsSystem } from '../src/testing.js';
import { ackRequested, client, conversationOf, isAck, isCommit, isData, isNak, text } from './helpers.js';

let ims: TestImsSystem;
beforeAll(async () => {
  ims = await startTestImsSystem();
});
afterAll(async () => {
  await ims.stop();
});

describe('OTMA link over loopback', () => {
  it('CM1 sync NONE: data without ACK request, then commit confirmation', async () => {
    const c = await client(ims.link.port);
    try {
      c.sendTransaction({ tpipe: 'CLIENT01', segments: ['ECHO    HELLO'], commitMode: 1, syncLevel: 0 });
      const reply = await c.next();
      expect(isData(reply)).toBe(true);
      expect(ackRequested(reply)).toBe(false);
      expect(text(reply)).toEqual(['ECHO    HELLO']);
      const cc = await c.next();
      expect(isCommit(cc)).toBe(true);
      expect(cc!.control.commitConfirmation).toBe(OtmaCommitConfirmation.COMMITTED);
    } finally {
      c.close();
    }
  });

  it('CM1 CONFIRM: ACK commits the IVTNO update, NAK backs it out', async () => {
    const c = await client(ims.link.port);
    try {
      c.sendTransaction({ tpipe: 'CLIENT02', segments: ['IVTNO     ADD     SMITH     JOHN      8-555-0001X01/Y01'], commitMode: 1, syncLevel: 1 });
      const r1 = await c.next();
      expect(ackRequested(r1)).toBe(true);
      expect(text(r1)[0]).toMatch(/^ENTRY WAS ADDED/);
      c.respond(r1!, true);
      expect((await c.next())!.control.commitConfirmation).toBe(OtmaCommitConfirmation.COMMITTED);
      // NAK: the delete is backed out
      c.sendTransaction({ tpipe: 'CLIENT02', segments: ['IVTNO     DELETE  SMITH'], commitMode: 1, syncLevel: 1 });
      const r2 = await c.next();
      expect(text(r2)[0]).toMatch(/^ENTRY WAS DELETED/);
      c.respond(r2!, false, { sense: 0x1234 });
      expect((await c.next())!.control.commitConfirmation).toBe(OtmaCommitConfirmation.ABORTED);
      c.sendTransaction({ tpipe: 'CLIENT02', segments: ['IVTNO     DISPLAY SMITH'], commitMode: 1, syncLevel: 0 });
      const r3 = await c.next();
      expect(text(r3)[0]).toBe('ENTRY WAS DISPLAYED'.padEnd(40) + 'DISPLAY ' + 'SMITH     JOHN      8-555-0001X01/Y010001');
      await c.next();
    } finally {
      c.close();
    }
  });

  it('CM0: commit, then output needing an ACK; NAK moves it to the hold queue; RESUME TPIPE single delivers it', async () => {
    const c = await client(ims.link.port);
    try {
      c.sendTransaction({ tpipe: 'CM0CLI', segments: ['ECHO    CM0 ONE'], commitMode: 0 });
      const out = await c.next();
      expect(isData(out)).toBe(true);
      expect(ackRequested(out)).toBe(true);
      expect(text(out)).toEqual(['ECHO    CM0 ONE']);
      c.respond(out!, false); // client gone: hold it
      c.resumeTpipe('CM0CLI', OtmaDeliveryOption.ONE_ONLY);
      const again = await c.next();
      expect(text(again)).toEqual(['ECHO    CM0 ONE']);
      expect(again!.state?.form === 'transaction' && again!.state.serverState & OtmaServerState.FROM_HOLD_QUEUE).toBeTruthy();
      c.respond(again!, true);
      c.resumeTpipe('CM0CLI', OtmaDeliveryOption.ONE_ONLY);
      const none = await c.next();
      expect(none!.control.messageType).toBe(OtmaMessageType.COMMAND);
      expect(none!.control.commandType).toBe(OtmaCommand.NO_MESSAGES);
    } finally {
      c.close();
    }
  });

  it('unknown and stopped transactions: NAK with error-message-follows, then DFS064 / DFS065 text', async () => {
    const c = await client(ims.link.port);
    try {
      const seq = c.sendTransaction({ tpipe: 'CLIENT03', segments: ['BADTRAN DATA'], commitMode: 1, syncLevel: 0 });
      const nak = await c.next();
      expect(isNak(nak)).toBe(true);
      expect(nak!.control.processingFlags & OtmaProcessingFlag.ERROR_MESSAGE_FOLLOWS).toBeTruthy();
      expect(nak!.control.sendSequence).toBe(seq);
      const err = await c.next();
      expect(text(err)[0]).toMatch(/^DFS064 \d\d:\d\d:\d\d DESTINATION CAN NOT BE FOUND OR CREATED, DEST=BADTRAN$/);
      await ims.system.command('/STO TRAN MULTISEG');
      c.sendTransaction({ tpipe: 'CLIENT03', segments: ['MULTISEG 2'], commitMode: 1, syncLevel: 0 });
      expect(isNak(await c.next())).toBe(true);
      expect(text(await c.next())[0]).toMatch(/^DFS065 .*STOPPED/);
      await ims.system.command('/STA TRAN MULTISEG');
      c.sendTransaction({ tpipe: 'CLIENT03', segments: ['MULTISEG 2'], commitMode: 1, syncLevel: 0 });
      expect(text(await c.next())).toEqual(['SEGMENT 0001 OF 0002', 'SEGMENT 0002 OF 0002', 'INPUT SEGMENTS 1']);
      expect(isCommit(await c.next())).toBe(true);
    } finally {
      c.close();
    }
  });

  it('conversation IVTCV: continues with the server token until END', async () => {
    const c = await client(ims.link.port);
    try {
      c.sendTransaction({ tpipe: 'CONV01', segments: ['IVTCV     DISPLAY LAST1'], commitMode: 1, syncLevel: 1 });
      const r1 = await c.next();
      const conv = conversationOf(r1);
      expect(conv).toMatch(/^[0-9A-F]{32}$/);
      expect(r1!.state?.form === 'transaction' && r1!.state.serverState & OtmaServerState.CONVERSATIONAL).toBeTruthy();
      expect(text(r1)[0]).toMatch(/^ENTRY WAS DISPLAYED.*FIRST1.*0001$/);
      c.respond(r1!, true);
      expect(isCommit(await c.next())).toBe(true);
      c.sendTransaction({ tpipe: 'CONV01', segments: ['IVTCV     DISPLAY LAST2'], commitMode: 1, syncLevel: 1, conversationId: conv });
      const r2 = await c.next();
      expect(text(r2)[0]).toMatch(/FIRST2.*0001$/);
      c.respond(r2!, true);
      await c.next();
      c.sendTransaction({ tpipe: 'CONV01', segments: ['IVTCV     END'], commitMode: 1, syncLevel: 1, conversationId: conv });
      const r3 = await c.next();
      expect(text(r3)[0]).toMatch(/^CONVERSATION HAS ENDED/);
      expect(r3!.state?.form === 'transaction' && r3!.state.serverState & OtmaServerState.CONVERSATIONAL).toBeFalsy();
      c.respond(r3!, true);
      await c.next();
      c.sendTransaction({ tpipe: 'CONV01', segments: ['IVTCV     DISPLAY LAST2'], commitMode: 1, syncLevel: 1, conversationId: conv });
      expect(isNak(await c.next())).toBe(true);
    } finally {
      c.close();
    }
  });

  it('SENDONLY with ACK request: ACK once queued, output held for RESUME TPIPE auto', async () => {
    const c = await client(ims.link.port);
    try {
      const seq = c.sendTransaction({ tpipe: 'SOCLI', segments: ['ECHO    ASYNC 1'], commitMode: 0, sendOnly: true, ackRequested: true });
      const ack = await c.next();
      expect(isAck(ack)).toBe(true);
      expect(ack!.control.sendSequence).toBe(seq);
      c.resumeTpipe('SOCLI', OtmaDeliveryOption.AUTO);
      const o1 = await c.next();
      expect(text(o1)).toEqual(['ECHO    ASYNC 1']);
      c.respond(o1!, true);
      c.sendTransaction({ tpipe: 'SOCLI', segments: ['ECHO    ASYNC 2'], commitMode: 0, sendOnly: true });
      const o2 = await c.next();
      expect(text(o2)).toEqual(['ECHO    ASYNC 2']);
      c.respond(o2!, true);
      c.cancelResume('SOCLI');
    } finally {
      c.close();
    }
  });

  it('type-1 command over OTMA', async () => {
    const c = await client(ims.link.port);
    try {
      c.sendTransaction({ tpipe: 'CMDCLI', segments: ['/DIS TRAN IVTNO'], commitMode: 1, syncLevel: 0 });
      const out = await c.next();
      expect(text(out)[0]).toMatch(/^TRAN\s+CLS ENQCT/);
      expect(text(out)[1]).toMatch(/^IVTNO\s+1/);
      expect(isCommit(await c.next())).toBe(true);
    } finally {
      c.close();
    }
  });
});
