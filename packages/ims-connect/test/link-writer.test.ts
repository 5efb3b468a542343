/**
 * OTMA link write coalescing (link-writer.ts) and the per-request OTMA messages built without
 * temporaries (otma-session.ts): the bytes on the link are exactly those of the one-frame-per-write
 * path with the messages built as before, only the write boundaries change.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { duplexPair } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CP037,
  CodecError,
  CommitMode,
  IrmF3,
  OtmaCommand,
  OtmaMessageType,
  OtmaResponseFlag,
  OtmaSecurityFlag,
  OtmaServerState,
  OtmaUserFlag1,
  XcfFrameReader,
  buildRequest,
  decodeReply,
  decodeXcfFrame,
  encodeRequest,
  encodeXcfFrame,
  otmaControl,
  readTransactionRest,
  writeTransactionRest,
  type OtmaMessage,
  type OtmaUserData,
} from '@imsplex/codec';
import { ImsSystem } from '@imsplex/ims';
import { ImsConnectServer, OtmaDatastoreLink, resolveOptions } from '../src/index.js';
import { LINK_STAGING_BYTES, LinkWriter } from '../src/link-writer.js';
import { OtmaSession } from '../src/otma-session.js';
import type { ImsEvent, ImsInput } from '../src/datastore-types.js';
import { RawClient, silent } from './harness.js';

/** A flush scheduler run by hand. */
function manual() {
  const queued: Array<() => void> = [];
  return {
    schedule: (fn: () => void) => {
      queued.push(fn);
    },
    run(): number {
      const fns = queued.splice(0);
      for (const fn of fns) fn();
      return fns.length;
    },
    get pending() {
      return queued.length;
    },
  };
}

/** A transaction message as the one-write-per-frame code built it (otmaControl, spreads, fresh arrays). */
function oldTransaction(o: { tpipe: string; seq: number; cm1: boolean; syncLevel: number; userId?: string; group?: string; modName?: string; lterm?: string; sendOnly?: 'S' | 'K'; data: string }): OtmaMessage {
  return {
    control: otmaControl({
      messageType: o.sendOnly ? OtmaMessageType.TRANSACTION | OtmaMessageType.COMMIT_CONFIRMATION : OtmaMessageType.TRANSACTION,
      responseFlags: o.sendOnly === 'K' ? OtmaResponseFlag.RESPONSE_REQUESTED : 0,
      tpipe: o.tpipe,
      sendSequence: o.seq,
    }),
    state: {
      form: 'transaction',
      serverState: 0,
      rest: writeTransactionRest({ syncFlags: o.cm1 ? CommitMode.CM1 : CommitMode.CM0, syncLevel: o.syncLevel, mapName: o.modName ?? '', ltermOverride: o.lterm ?? '' }, CP037),
    },
    security: { flag: o.userId ? OtmaSecurityFlag.CHECK : OtmaSecurityFlag.NONE, ...(o.userId ? { userId: o.userId } : {}), ...(o.group ? { groupName: o.group } : {}), rest: new Uint8Array(0) },
    user: oldUser(0),
    segments: [CP037.encode(o.data)],
  };
}

function oldUser(flag1: number): OtmaUserData {
  return { align: 0, destinationId: 'IMS1', originId: 'HWS1', portId: '', logonToken: new Uint8Array(8), returnCode: 0, reasonName: '', responseToken: new Uint8Array(4), passTicket: '', flag1, rest: new Uint8Array(0) };
}

function input(o: Partial<ImsInput> & { tpipe: string; data: string }): ImsInput {
  const { data, ...rest } = o;
  return { segments: [CP037.encode(data)], commitMode: 1, syncLevel: 0, userId: '', group: '', lterm: '', modName: '', conversation: false, ...rest };
}

function otmaSession() {
  const writes: Buffer[] = [];
  const sched = manual();
  const ds = resolveOptions({ id: 'HWS1', ports: [1], datastores: [{ id: 'IMS1', tmember: 'IMS1' }] }).datastores[0]!;
  const s = new OtmaSession({ hwsId: 'HWS1', ds, write: (b) => writes.push(Buffer.from(b)), flushScheduler: sched.schedule, log: () => {}, onActive: () => {}, onFatal: () => {} });
  return { s, writes, sched };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const cat = (...frames: Uint8Array[]) => hex(Buffer.concat(frames.map((f) => Buffer.from(f))));

describe('LinkWriter', () => {
  const msg = (tpipe: string, seq: number, data = 'ECHO    HELLO') => oldTransaction({ tpipe, seq, cm1: true, syncLevel: 0, data });

  it('frames sent in one turn go out in one write, byte for byte the frames back to back, when the turn ends', () => {
    const writes: Buffer[] = [];
    const sched = manual();
    const w = new LinkWriter((b) => writes.push(b), CP037, sched.schedule);
    w.send(msg('CLIENTA', 1));
    w.send(msg('CLIENTB', 2, 'ECHO    OTHER'));
    expect(writes).toHaveLength(0); // nothing until the turn ends
    expect(sched.pending).toBe(1); // one flush for the turn, however many frames
    expect(w.pendingBytes).toBe(encodeXcfFrame(msg('CLIENTA', 1)).length + encodeXcfFrame(msg('CLIENTB', 2, 'ECHO    OTHER')).length);
    sched.run();
    expect(writes).toHaveLength(1);
    expect(hex(writes[0]!)).toBe(cat(encodeXcfFrame(msg('CLIENTA', 1)), encodeXcfFrame(msg('CLIENTB', 2, 'ECHO    OTHER'))));
    // The next turn starts a new batch; the written Buffer is the socket's own (staging reused).
    w.send(msg('CLIENTC', 3));
    sched.run();
    expect(writes).toHaveLength(2);
    expect(hex(writes[0]!)).toBe(cat(encodeXcfFrame(msg('CLIENTA', 1)), encodeXcfFrame(msg('CLIENTB', 2, 'ECHO    OTHER'))));
    expect(hex(writes[1]!)).toBe(hex(encodeXcfFrame(msg('CLIENTC', 3))));
    expect([w.frames, w.writes]).toEqual([3, 2]);
  });

  it('a turn that stages more than the staging buffer flushes early, in order; a large frame goes alone after the staged ones', () => {
    const writes: Buffer[] = [];
    const sched = manual();
    const w = new LinkWriter((b) => writes.push(b), CP037, sched.schedule);
    const expected: Uint8Array[] = [];
    const one = encodeXcfFrame(msg('CLIENT00', 1)).length;
    const n = Math.ceil((LINK_STAGING_BYTES * 1.5) / one);
    for (let i = 0; i < n; i++) {
      const m = msg(`C${String(i).padStart(7, '0')}`, i + 1);
      expected.push(encodeXcfFrame(m));
      w.send(m);
    }
    const big = oldTransaction({ tpipe: 'BIG', seq: n + 1, cm1: true, syncLevel: 0, data: 'X'.repeat(LINK_STAGING_BYTES / 2) });
    expected.push(encodeXcfFrame(big));
    w.send(big);
    const small = msg('AFTER', n + 2);
    expected.push(encodeXcfFrame(small));
    w.send(small);
    sched.run();
    // Early flush (staging full), the rest of the staged frames, the big frame alone, then the last one.
    expect(writes.length).toBe(4);
    expect(writes.every((b) => b.length <= LINK_STAGING_BYTES || b.length === expected[n]!.length)).toBe(true);
    expect(hex(writes[2]!)).toBe(hex(expected[n]!));
    expect(hex(Buffer.concat(writes))).toBe(cat(...expected));
  });

  it('an encoding error is thrown at send and stages nothing; the frames around it are intact', () => {
    const writes: Buffer[] = [];
    const sched = manual();
    const w = new LinkWriter((b) => writes.push(b), CP037, sched.schedule);
    w.send(msg('CLIENTA', 1));
    const bad = msg('CLIENTB', 2);
    expect(() => w.send({ ...bad, control: { ...bad.control, prefixFlags: 0x1ff } })).toThrow(CodecError);
    w.send(msg('CLIENTC', 3));
    sched.run();
    expect(hex(writes[0]!)).toBe(cat(encodeXcfFrame(msg('CLIENTA', 1)), encodeXcfFrame(msg('CLIENTC', 3))));
  });

  it('discard drops what is staged and everything after it', () => {
    const writes: Buffer[] = [];
    const sched = manual();
    const w = new LinkWriter((b) => writes.push(b), CP037, sched.schedule);
    w.send(msg('CLIENTA', 1));
    w.discard();
    w.send(msg('CLIENTB', 2));
    sched.run();
    expect(writes).toHaveLength(0);
    expect(w.pendingBytes).toBe(0);
  });
});

describe('OTMA messages built per request: the same bytes as before', () => {
  it('transactions (CM1/NONE; CM0/CONFIRM with user, group, MOD name, LTERM; SENDONLYA) and a deallocate', () => {
    const { s, writes, sched } = otmaSession();
    const sink = () => {};
    s.transaction(input({ tpipe: 'CLIENT01', data: 'ECHO    ONE' }), sink).start();
    s.transaction(input({ tpipe: 'CLIENT02', data: 'IVTNO   DISPLAY LAST1', commitMode: 0, syncLevel: 1, userId: 'USER1', group: 'GRP1', modName: 'MODA', lterm: 'LTERM1' }), sink).start();
    s.transaction(input({ tpipe: 'CLIENT03', data: 'PART    X', commitMode: 0, syncLevel: 1, sendOnly: 'K', group: 'GRP2' }), sink).start();
    s.deallocate('CLIENT04', sink).start();
    expect(sched.run()).toBe(1);
    expect(writes).toHaveLength(1);
    const dealloc: OtmaMessage = {
      control: otmaControl({ messageType: OtmaMessageType.COMMIT_CONFIRMATION, tpipe: 'CLIENT04', sendSequence: 4 }),
      state: { form: 'transaction', serverState: 0, rest: writeTransactionRest({ syncFlags: CommitMode.CM1, syncLevel: 1 }, CP037) },
      user: oldUser(0),
    };
    expect(hex(writes[0]!)).toBe(
      cat(
        encodeXcfFrame(oldTransaction({ tpipe: 'CLIENT01', seq: 1, cm1: true, syncLevel: 0, data: 'ECHO    ONE' })),
        encodeXcfFrame(oldTransaction({ tpipe: 'CLIENT02', seq: 2, cm1: false, syncLevel: 1, userId: 'USER1', group: 'GRP1', modName: 'MODA', lterm: 'LTERM1', data: 'IVTNO   DISPLAY LAST1' })),
        encodeXcfFrame(oldTransaction({ tpipe: 'CLIENT03', seq: 3, cm1: false, syncLevel: 1, sendOnly: 'K', group: 'GRP2', data: 'PART    X' })),
        encodeXcfFrame(dealloc),
      ),
    );
  });

  it('ACK and rerouting NAK of IMS output, and RESUME TPIPE (all but its random token)', () => {
    const { s, writes, sched } = otmaSession();
    const events: ImsEvent[] = [];
    const ex = s.transaction(input({ tpipe: 'CLIENT01', data: 'ECHO    ONE', commitMode: 0, syncLevel: 1 }), (e) => events.push(e));
    ex.start();
    sched.run();
    // IMS output wanting an ACK (send sequence 77), then the same for a second exchange to be NAKed.
    const output = (tpipe: string, seq: number): Uint8Array =>
      encodeXcfFrame({
        control: otmaControl({ messageType: OtmaMessageType.DATA, responseFlags: OtmaResponseFlag.RESPONSE_REQUESTED, tpipe, sendSequence: seq }),
        state: { form: 'transaction', serverState: OtmaServerState.FROM_HOLD_QUEUE, rest: writeTransactionRest({}, CP037) },
        segments: [CP037.encode('ONE')],
      });
    s.receive(output('CLIENT01', 77));
    expect(events.map((e) => e.ev)).toEqual(['output']);
    ex.ack();
    const ex2 = s.transaction(input({ tpipe: 'CLIENT02', data: 'ECHO    TWO', commitMode: 0, syncLevel: 1 }), () => {});
    ex2.start();
    s.receive(output('CLIENT02', 78));
    ex2.nak({ reason: 5, reroute: 'REROUTE1' });
    s.resume('CLIENT03', 'single', 'none', '', () => {}).start();
    sched.run();
    const frames = new XcfFrameReader().push(writes.slice(1).reduce((a, b) => Buffer.concat([a, b]), Buffer.alloc(0)));
    const ack: OtmaMessage = {
      control: otmaControl({ messageType: OtmaMessageType.RESPONSE, responseFlags: OtmaResponseFlag.ACK, tpipe: 'CLIENT01', sendSequence: 77, reasonCode: 0 }),
      state: { form: 'transaction', serverState: OtmaServerState.FROM_HOLD_QUEUE, rest: writeTransactionRest({ syncLevel: 0, ltermOverride: '' }, CP037) },
    };
    const nak: OtmaMessage = {
      control: otmaControl({ messageType: OtmaMessageType.RESPONSE, responseFlags: OtmaResponseFlag.NAK, tpipe: 'CLIENT02', sendSequence: 78, reasonCode: 5 }),
      state: { form: 'transaction', serverState: OtmaServerState.FROM_HOLD_QUEUE, rest: writeTransactionRest({ syncLevel: IrmF3.REROUT, ltermOverride: 'REROUTE1' }, CP037) },
    };
    expect(frames).toHaveLength(4); // ACK, the second transaction, NAK, RESUME TPIPE
    expect(hex(frames[0]!)).toBe(hex(encodeXcfFrame(ack)));
    expect(hex(frames[2]!)).toBe(hex(encodeXcfFrame(nak)));
    const resume = decodeXcfFrame(frames[3]!, { codePage: CP037 });
    const token = resume.state?.form === 'resume-hold-queue' ? resume.state.token : new Uint8Array(8);
    const oldResume: OtmaMessage = {
      control: otmaControl({ messageType: OtmaMessageType.COMMAND, commandType: OtmaCommand.RESUME_HOLD_QUEUE, tpipe: 'CLIENT03', sendSequence: 3 }),
      state: { form: 'resume-hold-queue', deliveryOption: 1, calloutMode: 0, token, rest: new Uint8Array(0) },
      user: oldUser(OtmaUserFlag1.PERSISTENT_SOCKET),
    };
    const decodedOld = decodeXcfFrame(encodeXcfFrame(oldResume), { codePage: CP037 });
    // Same delivery option value as before (ONE_ONLY), and then every byte.
    expect(resume.state?.form === 'resume-hold-queue' && resume.state.deliveryOption).toBe(decodedOld.state?.form === 'resume-hold-queue' && decodedOld.state.deliveryOption);
    expect(hex(frames[3]!)).toBe(hex(encodeXcfFrame(oldResume)));
  });
});

describe('IMS output: the transaction state rest is read only when used', () => {
  const output = (tpipe: string, seq: number, serverState: number, rest: Uint8Array): Uint8Array =>
    encodeXcfFrame({
      control: otmaControl({ messageType: OtmaMessageType.DATA, tpipe, sendSequence: seq }),
      state: { form: 'transaction', serverState, rest },
      segments: [CP037.encode('OUT')],
    });

  it('a MAP name becomes the MOD; a blank one sets none; conversational output keeps its server token for the next input', () => {
    const { s, writes, sched } = otmaSession();
    const events: ImsEvent[] = [];
    // CM0 inputs: no commit confirmation is owed, so the conversation's next input is not held back.
    const run = (tpipe: string, serverState: number, rest: Uint8Array) => {
      s.transaction(input({ tpipe, data: 'ECHO    X', commitMode: 0, syncLevel: 1 }), (e) => events.push(e)).start();
      sched.run();
      s.receive(output(tpipe, 1, serverState, rest));
    };
    run('CLIENT01', 0, writeTransactionRest({ mapName: 'MODA' }, CP037));
    run('CLIENT02', 0, writeTransactionRest({}, CP037));
    const token = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    run('CLIENT03', OtmaServerState.CONVERSATIONAL, writeTransactionRest({ serverToken: token }, CP037));
    expect(events).toEqual([
      { ev: 'output', segments: [CP037.encode('OUT')], conversational: false, ackRequired: false, mod: 'MODA' },
      { ev: 'output', segments: [CP037.encode('OUT')], conversational: false, ackRequired: false },
      { ev: 'output', segments: [CP037.encode('OUT')], conversational: true, ackRequired: false },
    ]);
    // The conversation continues: the input is OTMA data carrying IMS's server token.
    s.transaction(input({ tpipe: 'CLIENT03', data: 'ECHO    Y', conversation: true }), () => {}).start();
    sched.run();
    const next = decodeXcfFrame(writes.at(-1)!, { codePage: CP037 });
    expect(next.control.messageType).toBe(OtmaMessageType.DATA);
    expect(next.state?.form === 'transaction' && hex(readTransactionRest(next.state.rest, CP037).serverToken)).toBe(hex(token));
  });
});

describe('two clients in one turn over a real OTMA link', () => {
  let ims: ImsSystem | undefined;
  let server: ImsConnectServer | undefined;
  afterEach(async () => {
    await server?.close();
    await ims?.stop();
    server = ims = undefined;
  });

  it('their two inputs reach IMS as two frames in one write, and each client gets its own reply', async () => {
    ims = await ImsSystem.start({ linkPort: 0, linkHost: '127.0.0.1', logger: silent as never });
    const { host, port } = ims.linkAddress;
    const writes: Buffer[] = [];
    server = new ImsConnectServer(
      { id: 'HWS1', ports: [{ id: 0 }], timeout: 5000, datastores: [{ id: 'IMS1', group: ims.config.otma.group, member: 'HWS1', tmember: ims.config.otma.member, address: { host, port } }] },
      {
        logger: silent,
        datastoreFactory: (ds, s) =>
          new OtmaDatastoreLink(ds, {
            hwsId: s.options.id,
            timers: { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as never) },
            log: () => {},
            reconnect: ds.reconnect,
            connect: (h, p) => {
              const sock: Socket = netConnect({ host: h, port: p, noDelay: true });
              const write = sock.write.bind(sock) as (chunk: Uint8Array) => boolean;
              (sock as unknown as { write: (chunk: Uint8Array) => boolean }).write = (chunk) => {
                writes.push(Buffer.from(chunk));
                return write(chunk);
              };
              return sock;
            },
          }),
      },
    );
    await server.start();
    const link = server.datastoreLinks().get('IMS1')!;
    await vi.waitFor(() => expect(link.status()).toBe('ACTIVE'), { timeout: 5000 });
    const clients = ['CLIENTA', 'CLIENTB'].map((id) => {
      const [a, b] = duplexPair();
      server!.handleConnection(b, 0);
      return { id, c: new RawClient(a) };
    });
    const before = writes.length;
    // Both requests in the same turn.
    for (const { id, c } of clients) c.send(encodeRequest(buildRequest({ datastore: 'IMS1', clientId: id, trancode: 'ECHO', data: `FROM ${id}`, timer: 3000 })));
    const replies = await Promise.all(clients.map(({ c }) => c.next()));
    replies.forEach((r, i) => {
      const d = decodeReply(r!, { llll: true });
      expect(d.kind === 'data' && d.segments.map((x) => CP037.decode(x)).join('')).toBe(`ECHO    FROM ${clients[i]!.id}`);
    });
    // The first write after the requests holds both transaction frames, in the clients' order.
    const batch = writes[before]!;
    const frames = new XcfFrameReader().push(batch).map((f) => decodeXcfFrame(f, { codePage: CP037 }));
    expect(frames.map((m) => [m.control.messageType, m.control.tpipe])).toEqual([
      [OtmaMessageType.TRANSACTION, 'CLIENTA'],
      [OtmaMessageType.TRANSACTION, 'CLIENTB'],
    ]);
  });
});
