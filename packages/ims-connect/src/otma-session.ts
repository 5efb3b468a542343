/**
 * IMS Connect's side of the OTMA conversation on one XCF link (spec §11.5, packages/ims/OTMA-LINK.md):
 *
 * - client-bid (protocol command) → IMS ACKs it: the link is active;
 * - transaction input (`OMCTLMGT` transaction; data for a continued conversation) with state data
 *   (commit mode, sync level, server token, reroute name), security and user data;
 * - IMS output (data) for a tpipe → the session; IMS Connect ACKs/NAKs it (response, echoing the
 *   output's send sequence number and the hold-queue server state);
 * - IMS's NAK of input (sense/reason; "error message follows" → the next data message is the DFS text);
 * - commit confirmation (committed / aborted) after a CM1 sync point or a deallocate;
 * - RESUME TPIPE (resume-hold-queue command) and IMS's "no messages" answer.
 *
 * Exchanges are keyed by tpipe: a session has at most one exchange, and a client ID is unique per port.
 */
import {
  CP037,
  CommitMode,
  OtmaCommand,
  OtmaCommitConfirmation,
  OtmaDeliveryOption,
  OtmaCalloutMode,
  OtmaMemberFlag2,
  OtmaMemberQueueFlag,
  OtmaMessageType,
  OtmaProcessingFlag,
  OtmaResponseFlag,
  OtmaSecurityFlag,
  OtmaServerState,
  OtmaUserFlag1,
  IrmF3,
  XcfFrameReader,
  decodeXcfFrame,
  otmaControl,
  otmaSingleControl,
  type OtmaControl,
  type OtmaMessage,
  type OtmaSecurityData,
  type OtmaUserData,
} from '@imsplex/codec';
import { randomBytes } from 'node:crypto';
import type { ResolvedDatastore } from './config/options.js';
import type { DatastoreExchange } from './datastore.js';
import type { ImsEvent, ImsInput, NakOptions, ResumeOption } from './datastore-types.js';
import { TRANSACTION_STATE_REST, readHoldQueueDepth, readTransactionRest, writeMemberRest, writeTransactionRest } from './otma-adapter.js';
import { LinkWriter, type FlushScheduler } from './link-writer.js';

/** Callbacks of an OTMA session. */
export interface OtmaSessionOptions {
  hwsId: string;
  ds: ResolvedDatastore;
  /**
   * Bytes for the link: one or more whole XCF frames back to back. Every frame sent in one event-loop
   * turn arrives in one call (link-writer.ts).
   */
  write: (bytes: Uint8Array) => void;
  /** When the frames of a turn are written (default: the next check phase, `setImmediate`). */
  flushScheduler?: FlushScheduler;
  log: (level: 'info' | 'warn', msg: string) => void;
  onActive: () => void;
  onFatal: (why: string) => void;
}

const page = CP037;
const PAGE_OPTIONS = Object.freeze({ codePage: page });
const ZERO8 = new Uint8Array(8);
/** Shared read-only pieces of the messages built per request (the encoder only reads them). */
const ZERO4 = new Uint8Array(4);
const EMPTY = new Uint8Array(0);
const NO_NAK_OPTIONS: NakOptions = Object.freeze({});
const SECURITY_NONE: OtmaSecurityData = Object.freeze({ flag: OtmaSecurityFlag.NONE, rest: EMPTY });

/** The message-control section of one message on the link (the codec's spread-free `otmaSingleControl`). */
function control(messageType: number, responseFlags: number, commandType: number, tpipe: string, sendSequence: number, reasonCode = 0, processingFlags = 0): OtmaControl {
  return otmaSingleControl(messageType, responseFlags, 0, commandType, processingFlags, tpipe, sendSequence, reasonCode);
}
/** Bound of the per-tpipe hold-queue depth table. */
const MAX_DEPTH_ENTRIES = 65_536;

/** Where the MFS MAP name sits in a transaction state rest. */
const MAP_NAME = TRANSACTION_STATE_REST.fields.find((f) => f.name === 'mapName')!;
const EBCDIC_BLANK = 0x40;

/** True when the rest holds the MAP name field and it is all EBCDIC blanks. */
function blankMapName(rest: Uint8Array): boolean {
  const end = MAP_NAME.offset + MAP_NAME.length;
  if (rest.length < end) return false;
  for (let i = MAP_NAME.offset; i < end; i++) if (rest[i] !== EBCDIC_BLANK) return false;
  return true;
}

/** One exchange = one session's current OTMA interaction. */
class Exchange implements DatastoreExchange {
  /** Send sequence of the output waiting for our ACK/NAK, with its server state. */
  pending: { seq: number; serverState: number } | undefined = undefined;
  /** IMS NAKed with "error message follows": the next data message is the error text. */
  errorFollows = false;
  /** Sequence number of our input (IMS echoes it on its ACK/NAK). */
  inputSeq = 0;
  dead = false;

  constructor(
    readonly owner: OtmaSession,
    readonly tpipe: string,
    readonly kind: 'send' | 'resume' | 'deallocate',
    readonly sink: (ev: ImsEvent) => void,
    /** The transaction input (`send`); the first message is built from it when it is transmitted. */
    readonly input: ImsInput | undefined,
    readonly sendOnly: 'S' | 'K' | 'J' | undefined,
    readonly cm1: boolean,
    /** RESUME TPIPE: OTMA delivery option and callout mode. */
    readonly delivery = 0,
    readonly calloutMode = 0,
  ) {}

  start(): void {
    this.owner.begin(this);
  }

  ack(): void {
    this.owner.respond(this, true, NO_NAK_OPTIONS);
  }

  nak(options: NakOptions): void {
    this.owner.respond(this, false, options);
  }

  abandon(): void {
    if (this.dead) return;
    if (this.pending) this.owner.respond(this, false, NO_NAK_OPTIONS);
    else if (this.kind === 'resume') this.owner.cancelResume(this);
    this.owner.drop(this);
  }
}

/** The OTMA client state on one link. */
export class OtmaSession {
  private readonly reader = new XcfFrameReader();
  private seq = 1;
  private active = false;
  private bidSeq = 0;
  /**
   * Live exchanges by tpipe. Usually one; a RESUME TPIPE with an alternate client ID can share a
   * tpipe with that client's own transaction, so the list is searched by sequence / kind.
   */
  private readonly exchanges = new Map<string, Exchange[]>();
  /** Conversation server tokens by tpipe. */
  private readonly conversations = new Map<string, Uint8Array>();
  private readonly memberToken = randomBytes(8);
  /**
   * Send-then-commit inputs whose commit confirmation has not arrived, by tpipe → input sequence. IMS
   * refuses a second CM1 input on a tpipe until the first one's sync point is done, so a new CM1 input
   * on that tpipe waits here (at most one per tpipe: a session has one exchange at a time).
   */
  private readonly cm1 = new Map<string, number>();
  private readonly deferred = new Map<string, Exchange>();
  /**
   * Hold-queue depth per tpipe as IMS last signalled it (see `readHoldQueueDepth`); only non-zero
   * depths are kept, at most `MAX_DEPTH_ENTRIES` (oldest dropped first).
   */
  private readonly holdDepth = new Map<string, number>();

  private readonly writer: LinkWriter;

  constructor(private readonly o: OtmaSessionOptions) {
    this.writer = new LinkWriter((bytes) => o.write(bytes), page, o.flushScheduler);
    this.userPlain = this.makeUser(0);
    this.userPersistent = this.makeUser(OtmaUserFlag1.PERSISTENT_SOCKET);
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = this.seq >= 0x7fffffff ? 1 : this.seq + 1;
    return s;
  }

  private send(msg: OtmaMessage): void {
    this.writer.send(msg);
  }

  /** Write the frames staged in this turn now. */
  flush(): void {
    this.writer.flush();
  }

  /**
   * The user data (HWSOMUSR) of every message to IMS: the same for all of them on this link but the
   * persistent-socket flag of RESUME TPIPE, so built once (frozen; the encoder only reads it).
   */
  private readonly userPlain: OtmaUserData;
  private readonly userPersistent: OtmaUserData;

  private makeUser(flag1: number): OtmaUserData {
    return Object.freeze({
      align: 0,
      destinationId: this.o.ds.id,
      originId: this.o.hwsId,
      portId: '',
      logonToken: ZERO8,
      returnCode: 0,
      reasonName: '',
      responseToken: ZERO4,
      passTicket: '',
      flag1,
      rest: EMPTY,
    });
  }

  /**
   * Transaction-state rests without a server token, MFS map name or LTERM override (nearly every
   * input), by `syncFlags * 256 + syncLevel`; at most 512 entries of 76 bytes.
   */
  private readonly plainRests = new Map<number, Uint8Array>();

  private transactionRest(syncFlags: number, syncLevel: number, mapName: string, token: Uint8Array | undefined, ltermOverride: string): Uint8Array {
    if (token !== undefined || mapName !== '' || ltermOverride !== '') return writeTransactionRest({ syncFlags, syncLevel, mapName, ...(token ? { serverToken: token } : {}), ltermOverride }, page);
    const key = syncFlags * 256 + syncLevel;
    let rest = this.plainRests.get(key);
    if (rest === undefined) this.plainRests.set(key, (rest = writeTransactionRest({ syncFlags, syncLevel, mapName, ltermOverride }, page)));
    return rest;
  }

  /** Send the client-bid. */
  bid(): void {
    this.bidSeq = this.nextSeq();
    this.send({
      control: otmaControl({ messageType: OtmaMessageType.COMMAND, commandType: OtmaCommand.CLIENT_BID, sendSequence: this.bidSeq }),
      state: {
        form: 'member',
        memberName: this.o.ds.member,
        originatorToken: this.memberToken,
        destinationToken: ZERO8,
        druExitName: this.o.ds.dru || 'DFSYDRU0',
        maxBlockSize: 0,
        queueFlags: OtmaMemberQueueFlag.CREATE_HOLD_QUEUE | OtmaMemberQueueFlag.IMS_CONNECT_CLIENT,
        flags2: OtmaMemberFlag2.CM1_ACK_TIMEOUT,
        rest: writeMemberRest({ ackTimeout: this.o.ds.ackTimeout }, page),
      },
      security: { flag: OtmaSecurityFlag.NONE, rest: new Uint8Array(0) },
    });
  }

  /** Bytes from IMS. */
  receive(chunk: Uint8Array): void {
    let frames: Uint8Array[];
    try {
      frames = this.reader.push(chunk);
    } catch (e) {
      this.o.onFatal((e as Error).message);
      return;
    }
    for (let i = 0; i < frames.length; i++) {
      let msg: OtmaMessage;
      try {
        msg = decodeXcfFrame(frames[i]!, PAGE_OPTIONS);
      } catch (e) {
        this.o.onFatal(`bad OTMA message from IMS: ${(e as Error).message}`);
        return;
      }
      this.dispatch(msg);
    }
  }

  /**
   * Messages waiting on `tpipe`'s hold queue as IMS last said (0 when IMS said none or never said):
   * the CSM/RSM X'80' hook. Lights up once IMS sends the depth signal (otma-adapter.ts).
   */
  holdQueueDepth(tpipe: string): number {
    return this.holdDepth.get(tpipe) ?? 0;
  }

  private noteDepth(tpipe: string, depth: number | undefined): void {
    if (depth === undefined) return;
    if (this.holdDepth.size !== 0) this.holdDepth.delete(tpipe); // (no Map churn while IMS signals none)
    if (depth === 0) return;
    if (this.holdDepth.size >= MAX_DEPTH_ENTRIES) this.holdDepth.delete(this.holdDepth.keys().next().value!);
    this.holdDepth.set(tpipe, depth);
  }

  /** The link went down: every pending exchange hears `linkDown`. */
  linkDown(): void {
    // Frames of this turn still go out when the socket can take them (an abandon's NAK before a STOPDS
    // teardown, as when every frame was written at once); the link's own write drops them otherwise.
    this.writer.flush();
    this.writer.discard();
    this.active = false;
    this.holdDepth.clear();
    const all = [...this.exchanges.values()].flat();
    this.exchanges.clear();
    this.conversations.clear();
    this.cm1.clear();
    this.deferred.clear();
    for (const ex of all) {
      ex.dead = true;
      ex.sink({ ev: 'linkDown' });
    }
  }

  private dispatch(msg: OtmaMessage): void {
    const c = msg.control;
    const type = c.messageType;
    if ((type & OtmaMessageType.COMMAND) !== 0 && (type & OtmaMessageType.RESPONSE) !== 0 && c.commandType === OtmaCommand.CLIENT_BID) {
      if (c.responseFlags & OtmaResponseFlag.ACK) {
        this.active = true;
        this.o.onActive();
      } else this.o.onFatal(`IMS refused the client-bid (sense X'${c.senseCode.toString(16).padStart(4, '0')}')`);
      return;
    }
    if ((type & OtmaMessageType.COMMAND) !== 0 && (type & OtmaMessageType.RESPONSE) === 0 && c.commandType === OtmaCommand.SERVER_AVAILABLE) {
      // IMS (re)started: bid again.
      this.bid();
      return;
    }
    const tpipe = typeof c.tpipe === 'string' ? c.tpipe.trim() : page.decode(c.tpipe).trim();
    // The first exchange with the echoed sequence, the first RESUME TPIPE and the first other one
    // (one pass, no closures: this runs for every message from IMS).
    const list = this.exchanges.get(tpipe);
    let bySeq: Exchange | undefined;
    let resume: Exchange | undefined;
    let own: Exchange | undefined;
    if (list !== undefined) {
      for (let i = 0; i < list.length; i++) {
        const e = list[i]!;
        if (bySeq === undefined && e.inputSeq === c.sendSequence) bySeq = e;
        if (e.kind === 'resume') resume ??= e;
        else own ??= e;
      }
    }
    if ((type & OtmaMessageType.COMMAND) !== 0 && c.commandType === OtmaCommand.NO_MESSAGES) {
      this.noteDepth(tpipe, 0);
      resume?.sink({ ev: 'empty' });
      return;
    }
    if ((type & OtmaMessageType.RESPONSE) !== 0) {
      // IMS's ACK/NAK of our input (or of our RESUME TPIPE command): it echoes the input's sequence.
      if (c.responseFlags & OtmaResponseFlag.NAK) this.cm1Done(tpipe, c.sendSequence);
      const ex = bySeq;
      if (!ex) return;
      if (c.responseFlags & OtmaResponseFlag.NAK) {
        if (c.processingFlags & OtmaProcessingFlag.ERROR_MESSAGE_FOLLOWS) {
          ex.errorFollows = true;
          return;
        }
        this.drop(ex);
        ex.sink({ ev: 'nak', sense: c.senseCode, reason: c.reasonCode });
        return;
      }
      if (ex.kind === 'send' && ex.sendOnly) {
        this.drop(ex);
        ex.sink({ ev: 'enqueued' });
      } else if (ex.kind === 'deallocate') {
        // IMS ended the conversation (OTMA-LINK: deallocate is ACKed).
        this.drop(ex);
        ex.sink({ ev: 'committed' });
      }
      return;
    }
    if ((type & OtmaMessageType.COMMIT_CONFIRMATION) !== 0) {
      if (msg.state?.form === 'transaction') this.noteDepth(tpipe, readHoldQueueDepth(msg.state.rest));
      const committed = (c.commitConfirmation & OtmaCommitConfirmation.ABORTED) === 0;
      this.cm1Done(tpipe, c.sendSequence);
      if (!committed) this.conversations.delete(tpipe);
      const ex = bySeq;
      if (!ex) return;
      this.drop(ex);
      ex.sink({ ev: committed ? 'committed' : 'aborted' });
      return;
    }
    if ((type & OtmaMessageType.DATA) !== 0) {
      const serverState = msg.state?.form === 'transaction' ? msg.state.serverState : 0;
      // The rest is decoded only when something in it is used: the server token of conversational
      // output, or a MAP name that is not all blanks (a blank one decodes to '' and sets no MOD).
      const rest = msg.state?.form === 'transaction' && ((serverState & OtmaServerState.CONVERSATIONAL) !== 0 || !blankMapName(msg.state.rest)) ? readTransactionRest(msg.state.rest, page) : undefined;
      if (msg.state?.form === 'transaction') this.noteDepth(tpipe, readHoldQueueDepth(msg.state.rest));
      // Hold-queue output belongs to the RESUME TPIPE; direct output to the tpipe's own input.
      const ex = (serverState & OtmaServerState.FROM_HOLD_QUEUE) !== 0 ? (resume ?? own) : (bySeq ?? own ?? resume);
      if (!ex) {
        // Output nobody waits for: NAK it so IMS keeps it on the hold queue (CM0) or backs out (CM1).
        this.send({ control: otmaControl({ messageType: OtmaMessageType.RESPONSE, responseFlags: OtmaResponseFlag.NAK, tpipe, sendSequence: c.sendSequence }) });
        return;
      }
      // The decoded message is this call's own: its segment list goes to the session as is.
      const segments = (msg.segments ?? []) as Uint8Array[]; // read only downstream
      if (ex.errorFollows || (c.processingFlags & OtmaProcessingFlag.ERROR_MESSAGE_FOLLOWS) !== 0) {
        // The IMS error text after a NAK (DFS064/DFS065/…); it asks for no ACK.
        ex.errorFollows = false;
        this.drop(ex);
        ex.sink({ ev: 'errorText', segments });
        return;
      }
      const conversational = (serverState & OtmaServerState.CONVERSATIONAL) !== 0;
      if (conversational && rest) this.conversations.set(tpipe, rest.serverToken.slice());
      else if (this.conversations.size !== 0) this.conversations.delete(tpipe);
      const ackRequired = (c.responseFlags & OtmaResponseFlag.RESPONSE_REQUESTED) !== 0;
      if (ackRequired) ex.pending = { seq: c.sendSequence, serverState };
      ex.sink(rest?.mapName ? { ev: 'output', segments, conversational, ackRequired, mod: rest.mapName } : { ev: 'output', segments, conversational, ackRequired });
      return;
    }
    this.o.log('info', `datastore ${this.o.ds.id}: ignored OTMA message type X'${type.toString(16)}' for tpipe ${tpipe}`);
  }

  drop(ex: Exchange): void {
    ex.dead = true;
    const list = this.exchanges.get(ex.tpipe);
    if (list) {
      const i = list.indexOf(ex);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.exchanges.delete(ex.tpipe);
    }
    if (this.deferred.get(ex.tpipe) === ex) this.deferred.delete(ex.tpipe);
  }

  /** Cancel a RESUME TPIPE still running at IMS (timer expired, client gone). */
  cancelResume(ex: Exchange): void {
    if (!this.active) return;
    this.send({ control: otmaControl({ messageType: OtmaMessageType.COMMAND, commandType: OtmaCommand.RESUME_HOLD_QUEUE, responseFlags: OtmaResponseFlag.NAK, tpipe: ex.tpipe, sendSequence: this.nextSeq() }) });
  }

  begin(ex: Exchange): void {
    const list = this.exchanges.get(ex.tpipe);
    // One exchange of each kind per tpipe: a new one replaces an old one of the same kind.
    if (list !== undefined) for (const prev of list.filter((p) => p !== ex && (p.kind === 'resume') === (ex.kind === 'resume'))) prev.abandon();
    const now = this.exchanges.get(ex.tpipe);
    if (now === undefined) this.exchanges.set(ex.tpipe, [ex]);
    else now.push(ex);
    if (ex.cm1 && this.cm1.has(ex.tpipe)) {
      this.deferred.set(ex.tpipe, ex);
      return;
    }
    this.transmit(ex);
  }

  private transmit(ex: Exchange): void {
    const msg = this.first(ex);
    ex.inputSeq = msg.control.sendSequence;
    if (ex.cm1) this.cm1.set(ex.tpipe, ex.inputSeq);
    this.send(msg);
    if (ex.kind === 'send' && (ex.sendOnly === 'S' || ex.sendOnly === 'J')) this.drop(ex); // no answer wanted
  }

  /** The exchange's first message, built when it is transmitted (a deferred CM1 input waits). */
  private first(ex: Exchange): OtmaMessage {
    switch (ex.kind) {
      case 'send':
        return this.transactionMessage(ex.input!);
      case 'resume':
        return {
          control: control(OtmaMessageType.COMMAND, 0, OtmaCommand.RESUME_HOLD_QUEUE, ex.tpipe, this.nextSeq()),
          state: { form: 'resume-hold-queue', deliveryOption: ex.delivery, calloutMode: ex.calloutMode, token: randomBytes(8), rest: EMPTY },
          user: this.userPersistent,
        };
      case 'deallocate': {
        const token = this.conversations.get(ex.tpipe);
        return {
          control: control(OtmaMessageType.COMMIT_CONFIRMATION, 0, 0, ex.tpipe, this.nextSeq()),
          state: { form: 'transaction', serverState: token ? OtmaServerState.CONVERSATIONAL : 0, rest: this.transactionRest(CommitMode.CM1, 1, '', token, '') },
          user: this.userPlain,
        };
      }
    }
  }

  private transactionMessage(input: ImsInput): OtmaMessage {
    const token = input.conversation ? this.conversations.get(input.tpipe) : undefined;
    let syncLevel: number = input.syncLevel;
    if (input.purge) syncLevel |= IrmF3.PURGE;
    if (input.reroute) syncLevel |= IrmF3.REROUT;
    let serverState = 0;
    if (token) serverState |= OtmaServerState.CONVERSATIONAL;
    if (input.dfs2082) serverState |= OtmaServerState.REQUEST_DFS2082;
    // Send-only input is a transaction with commit confirmation (OTMA-LINK: IMS replies nothing).
    const messageType = token ? OtmaMessageType.DATA : input.sendOnly ? OtmaMessageType.TRANSACTION | OtmaMessageType.COMMIT_CONFIRMATION : OtmaMessageType.TRANSACTION;
    const userId = input.userId;
    const group = input.group;
    const security: OtmaSecurityData = userId
      ? group
        ? { flag: OtmaSecurityFlag.CHECK, userId, groupName: group, rest: EMPTY }
        : { flag: OtmaSecurityFlag.CHECK, userId, rest: EMPTY }
      : group
        ? { flag: OtmaSecurityFlag.NONE, groupName: group, rest: EMPTY }
        : SECURITY_NONE;
    return {
      control: control(messageType, input.sendOnly === 'K' ? OtmaResponseFlag.RESPONSE_REQUESTED : 0, 0, input.tpipe, this.nextSeq()),
      state: {
        form: 'transaction',
        serverState,
        rest: this.transactionRest(input.commitMode === 1 ? CommitMode.CM1 : CommitMode.CM0, syncLevel, input.modName, token, input.reroute ?? input.lterm),
      },
      security,
      user: this.userPlain,
      segments: input.segments,
    };
  }

  /** The CM1 input `seq` on `tpipe` finished (commit confirmation or NAK): release a waiting input. */
  private cm1Done(tpipe: string, seq: number): void {
    if (this.cm1.get(tpipe) !== seq) return;
    this.cm1.delete(tpipe);
    const next = this.deferred.get(tpipe);
    if (!next) return;
    this.deferred.delete(tpipe);
    if (!next.dead) this.transmit(next);
  }

  respond(ex: Exchange, ack: boolean, options: NakOptions): void {
    const p = ex.pending;
    if (!p || ex.dead) return;
    ex.pending = undefined;
    const fromHold = p.serverState & OtmaServerState.FROM_HOLD_QUEUE;
    const reroute = !ack && options.reroute ? options.reroute : '';
    // (A SYNCNAK `keep` leaves the processing flags at 0, as before.)
    this.send({
      control: control(OtmaMessageType.RESPONSE, ack ? OtmaResponseFlag.ACK : OtmaResponseFlag.NAK, 0, ex.tpipe, p.seq, ack ? 0 : (options.reason ?? 0)),
      state: { form: 'transaction', serverState: fromHold, rest: this.transactionRest(0, reroute ? IrmF3.REROUT : 0, '', undefined, reroute) },
    });
  }

  transaction(input: ImsInput, sink: (ev: ImsEvent) => void): DatastoreExchange {
    return new Exchange(this, input.tpipe, 'send', sink, input, input.sendOnly, input.commitMode === 1 || input.conversation);
  }

  resume(tpipe: string, option: ResumeOption, callout: 'none' | 'only' | 'first', _userId: string, sink: (ev: ImsEvent) => void): DatastoreExchange {
    const delivery = option === 'single' ? OtmaDeliveryOption.ONE_ONLY : option === 'singleWait' ? OtmaDeliveryOption.AUTO_ONE : option === 'auto' ? OtmaDeliveryOption.AUTO : OtmaDeliveryOption.NO_AUTO;
    const calloutMode = callout === 'only' ? OtmaCalloutMode.CALLOUT_ONLY : callout === 'first' ? OtmaCalloutMode.CALLOUT_AND_ASYNC : 0;
    return new Exchange(this, tpipe, 'resume', sink, undefined, undefined, false, delivery, calloutMode);
  }

  deallocate(tpipe: string, sink: (ev: ImsEvent) => void): DatastoreExchange {
    return new Exchange(this, tpipe, 'deallocate', sink, undefined, undefined, false);
  }

  /** True once IMS accepted the client-bid. */
  get isActive(): boolean {
    return this.active;
  }
}
