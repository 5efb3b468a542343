import { describe, expect, it } from 'vitest';
import { DEFAULT_SYSTEM_DEFINITION } from '../src/config.js';
import { EngineSense } from '../src/engine.js';
import { holdKey } from '../src/messages.js';
import type { Program } from '../src/program.js';
import { IVP_DB } from '../src/programs/samples.js';
import { FakeChannel, dec, enc, engine, flush, origin } from './fixtures.js';

describe('commit mode 1 (send-then-commit) as a state machine', () => {
  it('CONFIRM: the update commits only after the ACK, then commit confirmation', async () => {
    const { tm, store } = await engine();
    const ch = new FakeChannel();
    const r = await tm.submit({ segments: [enc('IVTNO     ADD     JONES     ANN       8-000-0001Z01/Z01')], origin: origin(), channel: ch });
    expect(r.ok).toBe(true);
    await flush();
    expect(ch.replies).toHaveLength(1);
    expect(dec(ch.replies[0]!.segments[0]).startsWith('ENTRY WAS ADDED')).toBe(true);
    expect(ch.replies[0]!.ackRequired).toBe(true);
    expect(await store.dbGet(IVP_DB, 'JONES')).toBeUndefined(); // not committed yet: the region waits
    expect(tm.regions().some((g) => g.tran === 'IVTNO')).toBe(true);
    ch.answer({ kind: 'ack' });
    await flush();
    expect(dec(await store.dbGet(IVP_DB, 'JONES'))).toMatch(/^ANN/);
    expect(ch.confirmations).toEqual([true]);
    expect(tm.transaction('IVTNO')!.stats.processed).toBe(1);
  });

  it('CONFIRM: a NAK backs out (U0119), is not an abend, and the input is discarded', async () => {
    const { tm, store } = await engine();
    const ch = new FakeChannel();
    await tm.submit({ segments: [enc('IVTNO     DELETE  LAST1')], origin: origin(), channel: ch });
    await flush();
    ch.answer({ kind: 'nak', sense: 0x1000, reason: 0 });
    await flush();
    expect(await store.dbGet(IVP_DB, 'LAST1')).toBeDefined();
    expect(ch.confirmations).toEqual([false]);
    const st = tm.transaction('IVTNO')!;
    expect(st.stats.backouts).toBe(1);
    expect(st.stats.abends).toBe(0);
    expect(st.queued).toBe(0);
  });

  it('CONFIRM: no ACK within ACKTO backs out; a lost link backs out', async () => {
    const { tm, clock, store } = await engine(DEFAULT_SYSTEM_DEFINITION.replace('ACKTO=120', 'ACKTO=5'));
    const ch = new FakeChannel();
    await tm.submit({ segments: [enc('IVTNO     DELETE  LAST2')], origin: origin(), channel: ch });
    await flush();
    expect(ch.waiting).toBe(true);
    clock.advance(4999);
    await flush();
    expect(ch.confirmations).toEqual([]);
    clock.advance(1);
    await flush();
    expect(ch.cancelled).toBe(1);
    expect(ch.confirmations).toEqual([false]);
    expect(await store.dbGet(IVP_DB, 'LAST2')).toBeDefined();
    const lost = new FakeChannel('lost');
    await tm.submit({ segments: [enc('IVTNO     DELETE  LAST3')], origin: origin({ tpipe: 'TP2', syncLevel: 0 }), channel: lost });
    await flush();
    expect(lost.confirmations).toEqual([false]);
    expect(await store.dbGet(IVP_DB, 'LAST3')).toBeDefined();
  });

  it('NONE: commits once the reply is written; no reply gives DFS2082', async () => {
    const noReply: Program = async (ctx) => {
      await ctx.io.gu();
    };
    const cfg = DEFAULT_SYSTEM_DEFINITION + 'APPLCTN PSB=NOREPLY,IMPL=ECHO\nTRANSACT CODE=NOREPLY\n';
    const { tm } = await engine(cfg, new Map([['NOREPLY', noReply]]));
    const ch = new FakeChannel();
    await tm.submit({ segments: [enc('NOREPLY X')], origin: origin({ syncLevel: 0 }), channel: ch });
    await flush();
    expect(ch.replies[0]!.kind).toBe('error');
    expect(dec(ch.replies[0]!.segments[0])).toMatch(/^DFS2082 \d\d:\d\d:\d\d RESPONSE MODE TRANSACTION TERMINATED WITHOUT REPLY$/);
    expect(ch.confirmations).toEqual([true]);
  });

  it('program switch: SWITCH passes the reply duty to SWITCHB, which answers the original client', async () => {
    const { tm } = await engine();
    const ch = new FakeChannel('auto-ack');
    await tm.submit({ segments: [enc('SWITCH  PING')], origin: origin(), channel: ch });
    await flush();
    expect(ch.replies.map((r) => dec(r.segments[0]))).toEqual(['SWITCHB GOT PING FROM SWITCH']);
    expect(ch.replies[0]!.tran).toBe('SWITCHB');
    expect(ch.confirmations).toEqual([true]);
    expect(tm.transaction('SWITCH')!.stats.processed).toBe(1);
    expect(tm.transaction('SWITCHB')!.stats.processed).toBe(1);
  });
});

describe('commit mode 0 (commit-then-send) and hold queues', () => {
  it('IO PCB output lands on the tpipe hold queue, direct for send-receive, held for SENDONLY', async () => {
    const { tm, store } = await engine();
    await tm.submit({ segments: [enc('ECHO    A')], origin: origin({ commitMode: 0, tpipe: 'CM0A' }) });
    await tm.submit({ segments: [enc('ECHO    B')], origin: origin({ commitMode: 0, tpipe: 'CM0A', sendOnly: true }) });
    await flush();
    const q = store.listOutput(holdKey('HWS1', 'CM0A'));
    expect(q.map((m) => [dec(m.segments[0]), m.direct])).toEqual([
      ['ECHO    A', true],
      ['ECHO    B', false],
    ]);
  });

  it('MULTISEG with PURG gives one output message per PURG; DFS2082 on request when there is no reply', async () => {
    const noReply: Program = async (ctx) => {
      await ctx.io.gu();
    };
    const { tm, store } = await engine(DEFAULT_SYSTEM_DEFINITION + 'APPLCTN PSB=NOREPLY,IMPL=ECHO\nTRANSACT CODE=NOREPLY\n', new Map([['NOREPLY', noReply]]));
    await tm.submit({ segments: [enc('MULTISEG 2 PURG')], origin: origin({ commitMode: 0, tpipe: 'MS' }) });
    await tm.submit({ segments: [enc('NOREPLY')], origin: origin({ commitMode: 0, tpipe: 'NR', wantDfs2082: true }) });
    await flush();
    expect(store.listOutput(holdKey('HWS1', 'MS')).map((m) => m.segments.map(dec))).toEqual([['SEGMENT 0001 OF 0002'], ['SEGMENT 0002 OF 0002'], ['INPUT SEGMENTS 1']]);
    expect(dec(store.listOutput(holdKey('HWS1', 'NR'))[0]!.segments[0])).toMatch(/^DFS2082/);
  });

  it('ALT PCB output to a tpipe and an LTERM; CHNG to an unknown name gives A1', async () => {
    const prog: Program = async (ctx) => {
      await ctx.io.gu();
      const a = ctx.alt();
      expect(await a.isrt(enc('NO DEST'))).toBe('A3');
      expect(await a.chng('NO/SUCH')).toBe('A1');
      expect(await a.chng('OTHERTP')).toBe('  ');
      await a.isrt(enc('TO TPIPE'));
      const b = ctx.alt();
      await b.chng('MASTER');
      await b.isrt(enc('TO MASTER'));
      await ctx.io.isrt(enc('DONE'));
    };
    const { tm, store } = await engine(DEFAULT_SYSTEM_DEFINITION + 'APPLCTN PSB=ALTP,IMPL=ECHO\nTRANSACT CODE=ALTP\n', new Map([['ALTP', prog]]));
    const ch = new FakeChannel('auto-ack');
    await tm.submit({ segments: [enc('ALTP')], origin: origin(), channel: ch });
    await flush();
    expect(store.listOutput(holdKey('HWS1', 'OTHERTP')).map((m) => [dec(m.segments[0]), m.direct])).toEqual([['TO TPIPE', false]]);
    expect(store.listOutput('LTERM:MASTER').map((m) => dec(m.segments[0]))).toEqual(['TO MASTER']);
    expect(ch.replies.map((r) => dec(r.segments[0]))).toEqual(['DONE']);
  });
});

describe('abends, ROLB, ROLL', () => {
  it('an abend backs out, sends DFS555I, and repeated abends USTOP the transaction', async () => {
    const { tm, store } = await engine();
    const ch = new FakeChannel('auto-ack');
    await tm.submit({ segments: [enc('ABEND   42')], origin: origin(), channel: ch });
    await flush();
    expect(ch.replies).toHaveLength(1);
    expect(dec(ch.replies[0]!.segments[0])).toMatch(/^DFS555I TRAN ABEND {4}ABEND S000,U0042; MSG IN PROCESS: ABEND {3}42 \d\d:\d\d:\d\d$/);
    expect(ch.confirmations).toEqual([false]);
    // CM0: DFS555I goes to the hold queue; the third abend in a row stops scheduling
    for (let i = 0; i < 2; i++) await tm.submit({ segments: [enc('ABEND')], origin: origin({ commitMode: 0, tpipe: 'AB' }) });
    await flush();
    expect(store.listOutput(holdKey('HWS1', 'AB')).map((m) => dec(m.segments[0]).slice(0, 7))).toEqual(['DFS555I', 'DFS555I']);
    const st = tm.transaction('ABEND')!;
    expect(st.ustopped).toBe(true);
    expect(st.stats.abends).toBe(3);
    // still queued, not scheduled
    await tm.submit({ segments: [enc('ABEND   OK')], origin: origin({ commitMode: 0, tpipe: 'AB' }) });
    await flush();
    expect(tm.transaction('ABEND')!.queued).toBe(1);
    await tm.startTransaction('ABEND');
    await flush();
    expect(tm.transaction('ABEND')!.queued).toBe(0);
    expect(dec(store.listOutput(holdKey('HWS1', 'AB')).at(-1)!.segments[0])).toBe('ABEND NOT REQUESTED');
  });

  it('ROLB discards the unit of work and continues; ROLL ends with U0778 without counting as an abend', async () => {
    const rolb: Program = async (ctx) => {
      const first = await ctx.io.gu();
      await ctx.io.isrt(enc('DISCARDED'));
      await ctx.db('T').isrt('K', enc('V'));
      const again = await ctx.rolb();
      expect(dec(again.data)).toBe(dec(first.data));
      expect((await ctx.db('T').get('K')).status).toBe('GE');
      await ctx.io.isrt(enc('KEPT'));
    };
    const roll: Program = async (ctx) => {
      await ctx.io.gu();
      await ctx.roll();
    };
    const cfg = DEFAULT_SYSTEM_DEFINITION + 'APPLCTN PSB=RB,IMPL=ECHO\nTRANSACT CODE=RB\nAPPLCTN PSB=RL,IMPL=ECHO\nTRANSACT CODE=RL\n';
    const { tm } = await engine(cfg, new Map([['RB', rolb], ['RL', roll]]));
    const a = new FakeChannel('auto-ack');
    await tm.submit({ segments: [enc('RB')], origin: origin(), channel: a });
    const b = new FakeChannel('auto-ack');
    await tm.submit({ segments: [enc('RL')], origin: origin({ tpipe: 'T2' }), channel: b });
    await flush();
    expect(a.replies.map((r) => dec(r.segments[0]))).toEqual(['KEPT']);
    expect(dec(b.replies[0]!.segments[0])).toMatch(/^DFS555I TRAN RL .*U0778/);
    expect(tm.transaction('RL')!.stats.abends).toBe(0);
    expect(tm.transaction('RL')!.stats.backouts).toBe(1);
  });

  it('GU/GN semantics: QE before GU, QD at the end, QC after the message', async () => {
    const seen: string[] = [];
    const prog: Program = async (ctx) => {
      seen.push((await ctx.io.gn()).status);
      seen.push((await ctx.io.gu()).status);
      seen.push((await ctx.io.gn()).status);
      seen.push((await ctx.io.gn()).status);
      seen.push((await ctx.io.gu()).status);
      await ctx.io.isrt(enc('X'));
    };
    const { tm } = await engine(DEFAULT_SYSTEM_DEFINITION + 'APPLCTN PSB=GG,IMPL=ECHO\nTRANSACT CODE=GG,MSGTYPE=(MULTSEG,RESPONSE,1)\n', new Map([['GG', prog]]));
    const ch = new FakeChannel('auto-ack');
    await tm.submit({ segments: [enc('GG'), enc('SEG2')], origin: origin(), channel: ch });
    await flush();
    expect(seen).toEqual(['QE', '  ', '  ', 'QD', 'QC']);
  });
});

describe('rejections', () => {
  it('unknown → DFS064, stopped → DFS065, /PUR stops queuing only', async () => {
    const { tm } = await engine();
    const r1 = await tm.submit({ segments: [enc('NOPE    X')], origin: origin({ commitMode: 0 }) });
    expect(r1).toMatchObject({ ok: false, kind: 'message', msgId: 'DFS064' });
    await tm.stopTransaction('ECHO');
    const r2 = await tm.submit({ segments: [enc('ECHO    X')], origin: origin({ commitMode: 0 }) });
    expect(r2).toMatchObject({ ok: false, kind: 'message', msgId: 'DFS065' });
    await tm.startTransaction('ECHO');
    tm.purgeTransaction('ECHO');
    expect((await tm.submit({ segments: [enc('ECHO    X')], origin: origin({ commitMode: 0 }) })).ok).toBe(false);
  });

  it('security: RACF rules decide when the OTMA security flag asks for checking', async () => {
    const { tm } = await engine(DEFAULT_SYSTEM_DEFINITION + 'RACF USER=USER01,TRAN=(ECHO)\n');
    const ok = await tm.submit({ segments: [enc('ECHO    X')], origin: origin({ commitMode: 0 }), securityCheck: true });
    expect(ok.ok).toBe(true);
    const bad = await tm.submit({ segments: [enc('ECHO    X')], origin: origin({ commitMode: 0, userId: 'MALLORY' }), securityCheck: true });
    expect(bad).toMatchObject({ ok: false, kind: 'sense', sense: 0x00c3 });
    const unchecked = await tm.submit({ segments: [enc('ECHO    X')], origin: origin({ commitMode: 0, userId: 'MALLORY' }), securityCheck: false });
    expect(unchecked.ok).toBe(true);
  });

  it('a full input queue rejects with the flood sense code', async () => {
    const { tm } = await engine(DEFAULT_SYSTEM_DEFINITION.replace('TRANSACT CODE=ABEND,MSGTYPE=(SNGLSEG,RESPONSE,1)', 'TRANSACT CODE=ABEND,MSGTYPE=(SNGLSEG,RESPONSE,1),MAXQ=2'));
    await tm.stopTransaction('ABEND');
    await tm.startTransaction('ABEND');
    // hold scheduling with USTOP-like state: stop scheduling through the scheduler
    tm.scheduler.setSchedulingStopped('ABEND', true);
    for (let i = 0; i < 2; i++) expect((await tm.submit({ segments: [enc('ABEND OK')], origin: origin({ commitMode: 0 }) })).ok).toBe(true);
    const r = await tm.submit({ segments: [enc('ABEND OK')], origin: origin({ commitMode: 0 }) });
    expect(r).toMatchObject({ ok: false, kind: 'sense', sense: 0x0030 });
  });
});

describe('conversations as a state machine', () => {
  it('SPA carries state between steps; END blanks the transaction code; the ID is then unknown', async () => {
    const { tm } = await engine();
    const ch1 = new FakeChannel('auto-ack');
    const r = await tm.submit({ segments: [enc('IVTCV     DISPLAY LAST3')], origin: origin(), channel: ch1 });
    if (!r.ok) throw new Error('rejected');
    const conv = r.conversationId!;
    await flush();
    expect(ch1.replies[0]!.conversationContinues).toBe(true);
    expect(ch1.replies[0]!.conversationId).toBe(conv);
    expect(dec(ch1.replies[0]!.segments[0])).toMatch(/FIRST3.*0001$/);
    // Every step sends IBM's IVTNOM input record: the 10-byte trancode field, then the command.
    const ch2 = new FakeChannel('auto-ack');
    await tm.submit({ segments: [enc('IVTCV     DISPLAY LAST4')], origin: origin(), channel: ch2, conversationId: conv });
    await flush();
    expect(dec(ch2.replies[0]!.segments[0])).toMatch(/^ENTRY WAS DISPLAYED {21}DISPLAY LAST4 +FIRST4.*0001$/);
    // The SPA keeps the last command and last name: a blank command and a blank name repeat them.
    const ch2b = new FakeChannel('auto-ack');
    await tm.submit({ segments: [enc('IVTCV     ')], origin: origin(), channel: ch2b, conversationId: conv });
    await flush();
    expect(dec(ch2b.replies[0]!.segments[0])).toBe('ENTRY WAS DISPLAYED'.padEnd(40) + 'DISPLAY ' + 'LAST4     FIRST4    8-111-4444D04/R04' + '0001');
    const ch3 = new FakeChannel('auto-ack');
    await tm.submit({ segments: [enc('IVTCV     END')], origin: origin(), channel: ch3, conversationId: conv });
    await flush();
    expect(dec(ch3.replies[0]!.segments[0])).toBe('CONVERSATION HAS ENDED'.padEnd(89 - 4) + '0001');
    expect(ch3.replies[0]!.conversationContinues).toBe(false);
    expect(tm.hasConversation(conv)).toBe(false);
    const r4 = await tm.submit({ segments: [enc('IVTCV     DISPLAY LAST4')], origin: origin(), channel: new FakeChannel(), conversationId: conv });
    expect(r4).toMatchObject({ ok: false, kind: 'sense', sense: EngineSense.CONVERSATION_NOT_FOUND });
  });

  it('a conversation needs CM1, a busy conversation rejects, an idle one expires, a NAK ends it', async () => {
    const { tm, clock } = await engine(DEFAULT_SYSTEM_DEFINITION.replace('ACKTO=120', 'ACKTO=120,CONVTO=60'));
    expect(await tm.submit({ segments: [enc('IVTCV     DISPLAY LAST1')], origin: origin({ commitMode: 0 }) })).toMatchObject({ sense: EngineSense.CONVERSATION_NEEDS_CM1 });
    const ch = new FakeChannel();
    const r = await tm.submit({ segments: [enc('IVTCV     DISPLAY LAST1')], origin: origin(), channel: ch });
    const conv = (r as { conversationId: string }).conversationId;
    expect(await tm.submit({ segments: [enc('IVTCV     DISPLAY LAST1')], origin: origin(), channel: new FakeChannel(), conversationId: conv })).toMatchObject({ sense: EngineSense.CONVERSATION_BUSY });
    await flush();
    ch.answer({ kind: 'ack' });
    await flush();
    expect(tm.hasConversation(conv)).toBe(true);
    clock.advance(60_000);
    expect(tm.hasConversation(conv)).toBe(false);
    const ch2 = new FakeChannel();
    const r2 = await tm.submit({ segments: [enc('IVTCV     DISPLAY LAST1')], origin: origin(), channel: ch2 });
    await flush();
    ch2.answer({ kind: 'nak', sense: 1, reason: 0 });
    await flush();
    expect(tm.hasConversation((r2 as { conversationId: string }).conversationId)).toBe(false);
  });
});
