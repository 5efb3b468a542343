/**
 * The OTMA member: IMS's side of the OTMA conversation with its clients (IMS Connect) over XCF links.
 * Socket-free: a link is a `LinkPort` (send one OTMA message, close); `src/otma/server.ts` binds ports to
 * TCP sockets. The exact conversation is documented in OTMA-LINK.md.
 */
import {
  type CodePage,
  CommitMode,
  OtmaCommand,
  OtmaCommitConfirmation,
  OtmaDeliveryOption,
  OtmaMemberFlag2,
  OtmaMessageType,
  OtmaProcessingFlag,
  OtmaResponseFlag,
  OtmaSecurityFlag,
  OtmaSenseCode,
  OtmaServerState,
  SyncLevel,
  otmaControl,
  otmaSingleControl,
  type OtmaMessage,
  type OtmaControl,
  type OtmaUserData,
  type OtmaTransactionState,
  encodeOtmaMessage,
  decodeOtmaMessage,
  OTMA_USER_LAYOUT,
} from '@imsplex/codec';
import { type Clock, type TimerHandle, TimeoutQueues } from '../clock.js';
import type { Cm1Channel, Logger, ReplyMessage, ReplyOutcome, SubmitInput, SubmitResult, TransactionManager } from '../engine.js';
import { holdKey, type OtmaOrigin, type OutputMessage, parseHoldKey } from '../messages.js';
import {
  SyncOption,
  commitModeOf,
  readMemberRest,
  readTransactionRest,
  transactionSyncFlags,
  transactionSyncLevel,
  syncLevelOf,
  tokenBytes,
  tokenId,
  writeMemberRest,
  writeTransactionRest,
  nameText,
} from './codec-adapter.js';

/** One XCF link as the member sees it. */
export interface LinkPort {
  /** Send one OTMA message (the port frames it and writes it once). */
  send(message: OtmaMessage): void;
  /** Close the link. */
  close(reason: string): void;
  /** Text for displays (`127.0.0.1:53122`). */
  readonly peer: string;
}

/**
 * Sense codes the member uses on NAKs where IBM documents no value. [INF] imsplex choices; they belong in
 * the codec's `OtmaSenseCode` table (see report).
 */
export const MemberSense = Object.freeze({
  /** The message is not valid OTMA for its type (no data, unknown command, before client-bid). */
  PROTOCOL: 0x0001,
  /** A second send-then-commit input on a tpipe whose previous one has not finished. */
  TPIPE_BUSY: 0x0002,
  /** Too many tpipes. */
  TPIPE_LIMIT: 0x0003,
});

interface LinkState {
  readonly id: number;
  readonly port: LinkPort;
  member: string | undefined;
  owner: string | undefined;
  ackTimeoutMs: number;
  seq: number;
  open: boolean;
  /** Outstanding input submissions (pull-based reading bound). */
  inFlightSubmits: number;
  /** Pending ACK/NAK for output IMS sent, by tpipe. */
  readonly pending: Map<string, PendingAck>;
  /** CM1 transactions in progress, by tpipe. */
  readonly cm1: Set<string>;
  readonly connectedAt: number;
  /**
   * The user data section of the link's last input and its encoded bytes (the origin's `context`).
   * Clients send the same section on message after message (IMS Connect: its IDs, zero tokens), so an
   * input whose section equals the last one shares its bytes instead of encoding them again.
   */
  lastUser: OtmaUserData | undefined;
  lastContext: Uint8Array | undefined;
  /** The entries of the tpipes this link used, by tpipe name (bounded by OTMA MAXTP). */
  readonly tpipeInfos: Map<string, TpipeInfo>;
}

type PendingAck =
  | { readonly kind: 'cm1'; readonly seq: number; readonly resolve: (o: ReplyOutcome) => void }
  | { readonly kind: 'hold'; readonly seq: number; readonly key: string; readonly msg: OutputMessage; readonly timer: TimerHandle; readonly viaResume: boolean };

interface Resume {
  readonly link: LinkState;
  readonly tpipe: string;
  option: number;
  readonly token: Uint8Array;
  readonly user: OtmaUserData | undefined;
  delivered: number;
}

interface TpipeInfo {
  /** Its hold-queue key (`holdKey(owner, tpipe)`), made once. */
  readonly key: string;
  readonly owner: string;
  readonly tpipe: string;
  member: string;
  inputs: number;
  outputs: number;
  /** Dropped from the member's table (the tpipe limit made room): links must not use it any more. */
  dropped: boolean;
}

export interface OtmaMemberOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Most concurrent submissions per link before its reading pauses. */
  readonly maxInFlightPerLink?: number;
}

/** Per-link hooks for the socket edge: pause/resume reading. */
export interface LinkFlow {
  pause(): void;
  resume(): void;
}

/** Metrics hooks. */
export interface MemberEvents {
  onMessageIn?(kind: string): void;
  onMessageOut?(kind: string): void;
}

export class OtmaMember {
  private readonly links = new Map<number, LinkState>();
  private readonly memberLinks = new Map<string, LinkState>();
  private readonly deliveries = new Map<string, PendingAck & { kind: 'hold' }>();
  private readonly resumes = new Map<string, Resume>();
  private readonly tpipes = new Map<string, TpipeInfo>();
  private readonly flows = new Map<number, LinkFlow>();
  private linkSeq = 0;
  readonly events: MemberEvents = {};
  private readonly page: CodePage;
  private readonly maxInFlight: number;
  /** ACK timeouts of hold-queue output in flight (one clock timer per ACKTO value). */
  private readonly ackTimeouts: TimeoutQueues;
  /** Encoded transaction state data (after the server-state byte) without a server token, by flags. */
  private readonly stateRests = new Map<number, Uint8Array>();
  /** The member's side of every CM1 channel (made once, shared by all channels). */
  private readonly cm1Ops: Cm1Ops;
  /**
   * Decoded user data sections by the `context` bytes they are kept as (weak: an entry lives as long as
   * some message still holds the bytes). Replies and commit confirmations echo the section without
   * decoding the bytes again; nothing writes into a message's sections, so sharing them is safe.
   */
  private readonly contextUsers = new WeakMap<Uint8Array, OtmaUserData>();
  /** The last `userFrom` answer (context bytes → section). */
  private lastContext: Uint8Array | undefined;
  private lastContextUser: OtmaUserData | undefined;

  constructor(
    readonly engine: TransactionManager,
    private readonly options: OtmaMemberOptions,
  ) {
    this.page = engine.codePage;
    this.maxInFlight = options.maxInFlightPerLink ?? 1024;
    this.ackTimeouts = new TimeoutQueues(options.clock);
    this.cm1Ops = { reply: (ch, reply) => this.cm1Reply(ch, reply), commit: (ch, committed) => this.cm1Commit(ch, committed) };
    engine.store.onOutput((key) => this.tryDeliver(key));
  }

  private get log(): Logger {
    return this.options.logger;
  }

  /** A new link connected. Returns its id for `receive` / `closed`. */
  attach(port: LinkPort, flow?: LinkFlow): number {
    const id = ++this.linkSeq;
    this.links.set(id, {
      id,
      port,
      member: undefined,
      owner: undefined,
      ackTimeoutMs: this.engine.config.otma.ackTimeoutSec * 1000,
      seq: 0,
      open: true,
      inFlightSubmits: 0,
      pending: new Map(),
      cm1: new Set(),
      connectedAt: this.options.clock.now(),
      lastUser: undefined,
      lastContext: undefined,
      tpipeInfos: new Map(),
    });
    if (flow) this.flows.set(id, flow);
    return id;
  }

  /** Number of links now open. */
  get linkCount(): number {
    return this.links.size;
  }

  /** The link went away (socket closed or reset). */
  closed(linkId: number): void {
    const link = this.links.get(linkId);
    if (!link) return;
    link.open = false;
    this.links.delete(linkId);
    this.flows.delete(linkId);
    for (const p of link.pending.values()) {
      if (p.kind === 'cm1') p.resolve({ kind: 'lost' });
      else {
        p.timer.cancel();
        this.deliveries.delete(p.key);
      }
    }
    link.pending.clear();
    for (const [key, r] of this.resumes) if (r.link === link) this.resumes.delete(key);
    if (link.member && this.memberLinks.get(link.member) === link) this.memberLinks.delete(link.member);
    this.log.info({ link: linkId, member: link.member, peer: link.port.peer }, 'OTMA link closed');
  }

  /** One OTMA message arrived on a link. Never throws: bad input is NAKed or closes the link. */
  receive(linkId: number, msg: OtmaMessage): void {
    const link = this.links.get(linkId);
    if (!link) return;
    try {
      this.dispatch(link, msg);
    } catch (e) {
      this.log.error({ err: e, link: linkId }, 'OTMA message handling failed');
      this.nak(link, msg.control, MemberSense.PROTOCOL, 0);
    }
  }

  /** A frame whose sections did not decode: NAK it (unless it was itself an ACK/NAK). */
  malformed(linkId: number, control: OtmaControl): void {
    const link = this.links.get(linkId);
    if (!link || control.messageType & OtmaMessageType.RESPONSE) return;
    this.nak(link, control, MemberSense.PROTOCOL, 0);
  }

  private send(link: LinkState, message: OtmaMessage, kind: string): boolean {
    if (!link.open) return false;
    link.port.send(message);
    this.events.onMessageOut?.(kind);
    return true;
  }

  private dispatch(link: LinkState, msg: OtmaMessage): void {
    const c = msg.control;
    const type = c.messageType;
    this.events.onMessageIn?.(messageKind(c));
    if (type & OtmaMessageType.COMMAND) {
      if (type & OtmaMessageType.RESPONSE) {
        // ACK/NAK of a command IMS sent: imsplex sends none that need one; ignore.
        return;
      }
      if (c.commandType === OtmaCommand.CLIENT_BID || c.commandType === OtmaCommand.CB_RESYNCH) return this.clientBid(link, msg);
      if (!link.member) return this.protocolError(link, msg, 'command before client-bid');
      if (c.commandType === OtmaCommand.RESUME_HOLD_QUEUE) {
        if (c.responseFlags & OtmaResponseFlag.NAK) return this.cancelResume(link, nameText(c.tpipe, this.page));
        return this.resumeTpipe(link, msg);
      }
      return this.nak(link, c, MemberSense.PROTOCOL, 0);
    }
    if (!link.member) return this.protocolError(link, msg, 'message before client-bid');
    if (type & OtmaMessageType.RESPONSE) return this.response(link, msg);
    if (type & OtmaMessageType.TRANSACTION) return this.transaction(link, msg, undefined);
    if (type & OtmaMessageType.DATA) {
      const st = msg.state?.form === 'transaction' ? msg.state : undefined;
      const conv = st ? tokenId(readTransactionRest(st.rest, this.page).serverToken) : undefined;
      if (!conv) return this.nak(link, c, MemberSense.PROTOCOL, 0);
      return this.transaction(link, msg, conv);
    }
    if (type & OtmaMessageType.COMMIT_CONFIRMATION) return this.deallocate(link, msg);
    return this.nak(link, c, MemberSense.PROTOCOL, 0);
  }

  private protocolError(link: LinkState, msg: OtmaMessage, why: string): void {
    this.log.warn({ link: link.id, why, type: msg.control.messageType }, 'OTMA protocol error');
    this.nak(link, msg.control, MemberSense.PROTOCOL, 0);
  }

  // -------------------------------------------------------------------------------------------------
  // Client-bid
  // -------------------------------------------------------------------------------------------------

  private clientBid(link: LinkState, msg: OtmaMessage): void {
    const st = msg.state?.form === 'member' ? msg.state : undefined;
    const name = st ? nameText(st.memberName, this.page) : '';
    if (!st || name === '') return this.protocolError(link, msg, 'client-bid without member name');
    const rest = readMemberRest(st.rest, this.page);
    const superMember = st.flags2 & OtmaMemberFlag2.SUPER_MEMBER ? rest.superMember.trim().toUpperCase() : '';
    const old = this.memberLinks.get(name);
    if (old && old !== link) {
      // A member bids again on a new link (IMS Connect restarted): the new link replaces the old one.
      this.log.info({ member: name, old: old.id, link: link.id }, 'OTMA member re-bid on a new link');
      old.port.close('member re-bid on another link');
      this.closed(old.id);
    }
    link.member = name;
    link.owner = superMember || name;
    if (st.flags2 & OtmaMemberFlag2.CM1_ACK_TIMEOUT && rest.ackTimeout > 0) link.ackTimeoutMs = Math.min(rest.ackTimeout, 255) * 1000;
    this.memberLinks.set(name, link);
    this.log.info({ member: name, owner: link.owner, link: link.id, peer: link.port.peer }, 'OTMA client-bid accepted');
    const otma = this.engine.config.otma;
    this.send(
      link,
      {
        control: otmaControl({
          messageType: OtmaMessageType.COMMAND | OtmaMessageType.RESPONSE,
          responseFlags: OtmaResponseFlag.ACK,
          commandType: c(msg).commandType,
          tpipe: c(msg).tpipe,
          sendSequence: c(msg).sendSequence,
          reserved: c(msg).reserved,
        }),
        state: {
          form: 'member',
          memberName: otma.member,
          originatorToken: tokenBytes(undefined).subarray(0, 8),
          destinationToken: st.originatorToken,
          druExitName: '',
          maxBlockSize: st.maxBlockSize,
          queueFlags: st.queueFlags,
          flags2: st.flags2 & OtmaMemberFlag2.CM1_ACK_TIMEOUT,
          rest: writeMemberRest({ ackTimeout: link.ackTimeoutMs / 1000 }, this.page),
        },
      },
      'client-bid-ack',
    );
    // Output waiting for this member's tpipes goes out now.
    for (const key of this.engine.store.outputKeys()) if (parseHoldKey(key)?.owner === link.owner) this.tryDeliver(key);
  }

  // -------------------------------------------------------------------------------------------------
  // Input
  // -------------------------------------------------------------------------------------------------

  /** Record use of a tpipe; its entry, or undefined when the tpipe limit refuses a new one. */
  private touchTpipe(link: LinkState, tpipe: string): TpipeInfo | undefined {
    // The link's own entries by tpipe name first (no hold key to build): valid while not dropped and
    // made for the link's current queue owner.
    let t = link.tpipeInfos.get(tpipe);
    if (t === undefined || t.dropped || t.owner !== link.owner) {
      t = this.tpipeEntry(link, tpipe);
      if (!t) return undefined;
      const maxTpipes = this.engine.config.otma.maxTpipes;
      if (link.tpipeInfos.size >= maxTpipes) link.tpipeInfos.clear();
      link.tpipeInfos.set(tpipe, t);
    }
    t.member = link.member!;
    return t;
  }

  /** The tpipe's entry in the member's table, made when new (dropping an idle one at the limit). */
  private tpipeEntry(link: LinkState, tpipe: string): TpipeInfo | undefined {
    const key = holdKey(link.owner!, tpipe);
    let t = this.tpipes.get(key);
    if (!t) {
      if (this.tpipes.size >= this.engine.config.otma.maxTpipes) {
        // Drop an idle tpipe (nothing queued) to make room, else refuse.
        for (const [k, old] of this.tpipes) {
          if (this.engine.store.outputDepth(k) === 0 && !this.resumes.has(k) && !this.deliveries.has(k)) {
            this.tpipes.delete(k);
            old.dropped = true;
            break;
          }
        }
        if (this.tpipes.size >= this.engine.config.otma.maxTpipes) return undefined;
      }
      t = { key, owner: link.owner!, tpipe, member: link.member!, inputs: 0, outputs: 0, dropped: false };
      this.tpipes.set(key, t);
    }
    return t;
  }

  private transaction(link: LinkState, msg: OtmaMessage, conversationId: string | undefined): void {
    const c = msg.control;
    const tpipe = nameText(c.tpipe, this.page);
    if (tpipe === '') return this.nak(link, c, MemberSense.PROTOCOL, 0);
    const segments = msg.segments ?? [];
    if (segments.length === 0 || segments[0]!.length === 0) return this.nak(link, c, MemberSense.PROTOCOL, 0);
    const info = this.touchTpipe(link, tpipe);
    if (!info) return this.nak(link, c, MemberSense.TPIPE_LIMIT, 0);
    const st: OtmaTransactionState | undefined = msg.state?.form === 'transaction' ? msg.state : undefined;
    const stRest = st?.rest ?? EMPTY_BYTES;
    const syncOptions = transactionSyncLevel(stRest);
    const sendOnly = (c.messageType & OtmaMessageType.COMMIT_CONFIRMATION) !== 0;
    let commitMode = commitModeOf(transactionSyncFlags(stRest));
    if (sendOnly) commitMode = 0;
    if (conversationId) commitMode = 1;
    const syncLevel = syncLevelOf(syncOptions, commitMode);
    const sec = msg.security;
    const userId = nameText(sec?.userId, this.page);
    const securityCheck = sec !== undefined && sec.flag !== OtmaSecurityFlag.NONE;
    const wantAck = (c.responseFlags & OtmaResponseFlag.RESPONSE_REQUESTED) !== 0;
    const context = this.contextOf(link, msg.user);

    // Type-1 commands arrive as transaction messages whose data starts with '/'.
    if (conversationId === undefined && segments[0]![0] === this.page.byteOf(0x2f)) return this.command(link, msg, tpipe, commitMode, context);

    if (commitMode === 1 && link.cm1.has(tpipe)) return this.nak(link, c, MemberSense.TPIPE_BUSY, 0);
    const origin: OtmaOrigin = {
      kind: 'otma',
      member: link.member!,
      queueOwner: link.owner!,
      tpipe,
      commitMode,
      syncLevel,
      userId,
      sendOnly,
      wantDfs2082: st !== undefined && (st.serverState & OtmaServerState.REQUEST_DFS2082) !== 0,
      rerouteTpipe: syncOptions & SyncOption.REROUTE ? rerouteName(readTransactionRest(stRest, this.page).ltermOverride) : undefined,
      purgeUndeliverable: (syncOptions & SyncOption.PURGE) !== 0,
      replyId: undefined,
      context,
    };
    const channel = commitMode === 1 ? new Cm1Reply(this.cm1Ops, link, tpipe, info.key, c.sendSequence, origin) : undefined;
    if (commitMode === 1) link.cm1.add(tpipe);
    link.inFlightSubmits++;
    if (link.inFlightSubmits >= this.maxInFlight) this.flows.get(link.id)?.pause();
    info.inputs++;
    // The segments are views into the link's socket chunk (the codec's frame readers return views, not
    // copies): a queued message must not pin a whole chunk for as long as it waits, so the engine copies
    // them (adoptSegments false).
    const input: SubmitInput = { segments, adoptSegments: false, origin, conversationId, securityCheck, channel, onAccepted: wantAck ? () => this.ack(link, c) : undefined };
    let result: SubmitResult | Promise<SubmitResult>;
    try {
      result = this.engine.trySubmit(input);
    } catch (e) {
      return this.submitFailed(link, c, tpipe, commitMode, e);
    }
    if (!isThenable(result)) return this.submitted(link, c, tpipe, commitMode, result);
    result.then(
      (r) => this.submitted(link, c, tpipe, commitMode, r),
      (e: unknown) => this.submitFailed(link, c, tpipe, commitMode, e),
    );
  }

  /** The engine queued the input or refused it. */
  private submitted(link: LinkState, c: OtmaControl, tpipe: string, commitMode: 0 | 1, r: SubmitResult): void {
    this.submitDone(link);
    if (r.ok) return;
    if (commitMode === 1) link.cm1.delete(tpipe);
    if (r.kind === 'message') this.errorMessage(link, c, r.text);
    else this.nak(link, c, r.sense, r.reason);
  }

  /** The engine failed on the input (not active, store failure). */
  private submitFailed(link: LinkState, c: OtmaControl, tpipe: string, commitMode: 0 | 1, e: unknown): void {
    this.submitDone(link);
    if (commitMode === 1) link.cm1.delete(tpipe);
    this.log.error({ err: e, tpipe }, 'submit failed');
    this.nak(link, c, MemberSense.PROTOCOL, 0);
  }

  /** An input of `link` left `submit` (queued or refused): reading may go on. */
  private submitDone(link: LinkState): void {
    link.inFlightSubmits--;
    if (link.inFlightSubmits === this.maxInFlight - 1) this.flows.get(link.id)?.resume();
  }

  /** CM1 channel: send the reply (DATA) of a send-then-commit input. */
  private cm1Reply(ch: Cm1Reply, reply: ReplyMessage): ReplyOutcome | Promise<ReplyOutcome> {
    const link = ch.link;
    if (!link.open) return LOST;
    const seq = ++link.seq;
    const context = ch.origin.context;
    const message = this.dataMessage(ch.tpipe, seq, reply.segments, {
      ackRequired: reply.ackRequired,
      serverState: reply.conversationContinues ? OtmaServerState.CONVERSATIONAL : 0,
      commitMode: 1,
      syncLevel: ch.origin.syncLevel,
      token: reply.conversationId,
      user: context ? this.userFrom(context) : undefined,
      error: false,
      holdQueueDepth: this.cm1Depth(ch.holdKey),
    });
    if (!reply.ackRequired) {
      // Written (or queued on the socket in order): the outcome is known now.
      this.send(link, message, 'cm1-reply');
      return SENT;
    }
    return new Promise<ReplyOutcome>((resolve) => {
      link.pending.set(ch.tpipe, { kind: 'cm1', seq, resolve });
      this.send(link, message, 'cm1-reply');
    });
  }

  /** CM1 channel: the commit confirmation that ends a send-then-commit transaction. */
  private cm1Commit(ch: Cm1Reply, committed: boolean): void {
    const link = ch.link;
    if (!link.open) return;
    const origin = ch.origin;
    this.send(
      link,
      {
        control: control(OtmaMessageType.COMMIT_CONFIRMATION, 0, committed ? OtmaCommitConfirmation.COMMITTED : OtmaCommitConfirmation.ABORTED, 0, ch.tpipe, ch.inputSequence),
        state: this.txState(0, 1, origin.syncLevel, undefined, this.cm1Depth(ch.holdKey)),
        ...(origin.context ? { user: this.userFrom(origin.context) } : {}),
      },
      committed ? 'commit-confirmed' : 'commit-aborted',
    );
  }

  /**
   * The input's user data section as the bytes kept in its origin (`context`, journal-friendly): the
   * link's last bytes when the section is the same as last time, else freshly encoded ones.
   */
  private contextOf(link: LinkState, user: OtmaUserData | undefined): Uint8Array | undefined {
    if (!user) return undefined;
    if (link.lastUser !== undefined && link.lastContext !== undefined && sameUserData(user, link.lastUser)) return link.lastContext;
    const context = encodeUser(user, this.page);
    // The decoded section holds copies (never views of the socket chunk), so keeping it pins nothing.
    this.contextUsers.set(context, user);
    link.lastUser = user;
    link.lastContext = context;
    return context;
  }

  /** The user data section behind `context` bytes: the decoded section they were made from, else decoded. */
  private userFrom(context: Uint8Array): OtmaUserData | undefined {
    // Most outputs echo the same bytes as the one before (see `contextOf`): one comparison, no lookup.
    if (context === this.lastContext) return this.lastContextUser;
    let user = this.contextUsers.get(context);
    if (!user) {
      user = decodeUserData(context, this.page);
      if (user) this.contextUsers.set(context, user);
    }
    this.lastContext = context;
    this.lastContextUser = user;
    return user;
  }

  /**
   * Transaction state data. `holdQueueDepth` (messages left on the tpipe's hold queue after this one),
   * when given, goes in the depth signal at `OTMA_HOLD_QUEUE_DEPTH_OFFSET` (a 73-byte section).
   */
  private txState(serverState: number, commitMode: 0 | 1, syncLevel: 0 | 1, token: string | undefined, holdQueueDepth?: number): OtmaTransactionState {
    const syncFlags = commitMode === 1 ? CommitMode.CM1 : CommitMode.CM0;
    const level = syncLevel === 1 ? SyncLevel.CONFIRM : SyncLevel.NONE;
    let rest: Uint8Array | undefined;
    if (token !== undefined) rest = writeTransactionRest({ syncFlags, syncLevel: level, serverToken: tokenBytes(token) }, this.page);
    else {
      // Without a server token the bytes depend on the two flags only: encode each combination once. The
      // cached bytes are shared by every message that uses them; nothing writes into a message's sections.
      const key = (syncFlags << 8) | level;
      rest = this.stateRests.get(key);
      if (!rest) this.stateRests.set(key, (rest = writeTransactionRest({ syncFlags, syncLevel: level }, this.page)));
    }
    return holdQueueDepth === undefined ? { form: 'transaction', serverState, rest } : { form: 'transaction', serverState, rest, holdQueueDepth };
  }

  /**
   * The hold-queue depth signal for output of a send-then-commit exchange on `tpipe`: the depth when
   * messages wait on the tpipe's hold queue, else none (hold-queue deliveries and "no messages" tell
   * the client when the queue empties).
   */
  private cm1Depth(key: string): number | undefined {
    const depth = this.engine.store.outputDepth(key);
    return depth > 0 ? depth : undefined;
  }

  private dataMessage(
    tpipe: string,
    seq: number,
    segments: readonly Uint8Array[],
    o: {
      ackRequired: boolean;
      serverState: number;
      commitMode: 0 | 1;
      syncLevel: 0 | 1;
      token: string | undefined;
      user: OtmaUserData | undefined;
      error: boolean;
      holdQueueDepth: number | undefined;
    },
  ): OtmaMessage {
    const user = o.user;
    const ctl = control(OtmaMessageType.DATA, o.ackRequired ? OtmaResponseFlag.RESPONSE_REQUESTED : 0, 0, o.error ? OtmaProcessingFlag.ERROR_MESSAGE_FOLLOWS : 0, tpipe, seq);
    const state = this.txState(o.serverState, o.commitMode, o.syncLevel, o.token, o.holdQueueDepth);
    return user ? { control: ctl, state, user, segments } : { control: ctl, state, segments };
  }

  private ack(link: LinkState, input: OtmaControl): void {
    this.send(
      link,
      {
        control: otmaControl({
          messageType: OtmaMessageType.RESPONSE | (input.messageType & OtmaMessageType.COMMAND),
          responseFlags: OtmaResponseFlag.ACK,
          commandType: input.commandType,
          tpipe: input.tpipe,
          sendSequence: input.sendSequence,
        }),
      },
      'ack',
    );
  }

  private nak(link: LinkState, input: OtmaControl, sense: number, reason: number, errorFollows = false): void {
    this.send(
      link,
      {
        control: otmaControl({
          messageType: OtmaMessageType.RESPONSE | (input.messageType & OtmaMessageType.COMMAND),
          responseFlags: OtmaResponseFlag.NAK,
          commandType: input.commandType,
          processingFlags: errorFollows ? OtmaProcessingFlag.ERROR_MESSAGE_FOLLOWS : 0,
          tpipe: input.tpipe,
          sendSequence: input.sendSequence,
          senseCode: sense,
          reasonCode: reason,
        }),
      },
      'nak',
    );
  }

  /** NAK with "error message follows", then the IMS message text as data (spec §9.3). */
  private errorMessage(link: LinkState, input: OtmaControl, text: string): void {
    this.nak(link, input, 0, 0, true);
    this.send(
      link,
      {
        control: otmaControl({
          messageType: OtmaMessageType.DATA,
          processingFlags: OtmaProcessingFlag.ERROR_MESSAGE_FOLLOWS,
          tpipe: input.tpipe,
          sendSequence: input.sendSequence,
        }),
        segments: [this.page.encode(text)],
      },
      'error-message',
    );
  }

  /** A conversation ended by the client (IMS Connect deallocate): ACK. */
  private deallocate(link: LinkState, msg: OtmaMessage): void {
    const st = msg.state?.form === 'transaction' ? msg.state : undefined;
    const conv = st ? tokenId(readTransactionRest(st.rest, this.page).serverToken) : undefined;
    if (conv && this.engine.endConversation(conv)) {
      this.log.info({ conversation: conv, tpipe: nameText(msg.control.tpipe, this.page) }, 'conversation ended by client');
    }
    this.ack(link, msg.control);
  }

  // -------------------------------------------------------------------------------------------------
  // Type-1 commands
  // -------------------------------------------------------------------------------------------------

  /** Hook set by the system: run a type-1 command and return its output lines. */
  commandHandler: ((text: string) => Promise<string[]>) | undefined;

  private command(link: LinkState, msg: OtmaMessage, tpipe: string, commitMode: 0 | 1, context: Uint8Array | undefined): void {
    const text = this.page.decode(msg.segments![0]!).trim();
    const run = this.commandHandler ? this.commandHandler(text) : Promise.resolve(['DFS000I COMMANDS NOT AVAILABLE']);
    void run.then(
      (lines) => {
        const seq = ++link.seq;
        const segs = lines.map((l) => this.page.encode(l.length === 0 ? ' ' : l));
        this.send(
          link,
          this.dataMessage(tpipe, seq, segs, { ackRequired: false, serverState: 0, commitMode, syncLevel: 0, token: undefined, user: context ? this.userFrom(context) : undefined, error: false, holdQueueDepth: undefined }),
          'command-output',
        );
        if (commitMode === 1) {
          this.send(
            link,
            {
              control: otmaControl({ messageType: OtmaMessageType.COMMIT_CONFIRMATION, commitConfirmation: OtmaCommitConfirmation.COMMITTED, tpipe, sendSequence: msg.control.sendSequence }),
              state: this.txState(0, 1, 0, undefined),
            },
            'commit-confirmed',
          );
        }
      },
      (e: unknown) => {
        this.log.error({ err: e }, 'command failed');
        this.nak(link, msg.control, MemberSense.PROTOCOL, 0);
      },
    );
  }

  // -------------------------------------------------------------------------------------------------
  // ACK/NAK from the client
  // -------------------------------------------------------------------------------------------------

  private response(link: LinkState, msg: OtmaMessage): void {
    const c = msg.control;
    const tpipe = nameText(c.tpipe, this.page);
    const p = link.pending.get(tpipe);
    if (!p || p.seq !== c.sendSequence) {
      // DFS1281E-like: ACK/NAK for a tpipe that is not waiting for one. Ignored.
      this.log.warn({ tpipe, seq: c.sendSequence, expected: p?.seq }, 'ACK/NAK for no pending output');
      return;
    }
    link.pending.delete(tpipe);
    const isAck = (c.responseFlags & OtmaResponseFlag.ACK) !== 0;
    if (p.kind === 'cm1') {
      p.resolve(isAck ? { kind: 'ack' } : { kind: 'nak', sense: c.senseCode, reason: c.reasonCode });
      this.tryDeliver(holdKey(link.owner!, tpipe));
      return;
    }
    p.timer.cancel();
    if (isAck) void this.delivered(p.key, p.msg);
    else {
      const st = msg.state?.form === 'transaction' ? msg.state : undefined;
      const rest = st ? readTransactionRest(st.rest, this.page) : undefined;
      const reroute = rest && rest.syncLevel & SyncOption.REROUTE && rest.ltermOverride.trim() ? rest.ltermOverride.trim().toUpperCase() : undefined;
      const purge = rest ? (rest.syncLevel & SyncOption.PURGE) !== 0 : false;
      void this.undelivered(p.key, p.msg, { reroute, purge });
    }
  }

  private async delivered(key: string, msg: OutputMessage): Promise<void> {
    const r = this.resumes.get(key);
    try {
      await this.engine.store.apply([{ op: 'out-', key, id: msg.id }], true);
    } catch (e) {
      this.log.error({ err: e, key }, 'could not journal a delivered output');
    }
    this.deliveries.delete(key);
    const info = this.tpipes.get(key);
    if (info) info.outputs++;
    if (r && this.resumes.get(key) === r) {
      r.delivered++;
      if (r.option === OtmaDeliveryOption.ONE_ONLY || r.option === OtmaDeliveryOption.AUTO_ONE) this.resumes.delete(key);
    }
    this.tryDeliver(key);
  }

  /** NAK or ACK timeout of hold-queue output: hold it, or reroute / purge as asked. */
  private async undelivered(key: string, msg: OutputMessage, nak: { reroute: string | undefined; purge: boolean }): Promise<void> {
    const reroute = nak.reroute ?? msg.rerouteTpipe;
    const purge = nak.purge || (nak.reroute === undefined && msg.purgeUndeliverable);
    const owner = parseHoldKey(key)?.owner;
    const r = this.resumes.get(key);
    try {
      if (purge) await this.engine.store.apply([{ op: 'out-', key, id: msg.id }], true);
      else if (reroute && owner && holdKey(owner, reroute) !== key) {
        await this.engine.store.apply(
          [
            { op: 'out-', key, id: msg.id },
            { op: 'out+', key: holdKey(owner, reroute), msg: { ...msg, direct: false, rerouted: true, rerouteTpipe: undefined } },
          ],
          true,
        );
      } else if (msg.direct) await this.engine.store.apply([{ op: 'outh', key, id: msg.id }], true);
    } catch (e) {
      this.log.error({ err: e, key }, 'could not journal an undelivered output');
    }
    this.deliveries.delete(key);
    // A NAK ends the RESUME TPIPE that was active and resets the tpipe to no-auto (spec §6.3).
    if (r && this.resumes.get(key) === r) this.resumes.delete(key);
    this.tryDeliver(key);
  }

  // -------------------------------------------------------------------------------------------------
  // Hold queues and RESUME TPIPE
  // -------------------------------------------------------------------------------------------------

  private resumeTpipe(link: LinkState, msg: OtmaMessage): void {
    const c = msg.control;
    const tpipe = nameText(c.tpipe, this.page);
    const st = msg.state?.form === 'resume-hold-queue' ? msg.state : undefined;
    if (!st || tpipe === '') return this.nak(link, c, MemberSense.PROTOCOL, 0);
    const sec = msg.security;
    if (sec && sec.flag !== OtmaSecurityFlag.NONE && !this.engine.authorized(nameText(sec.userId, this.page), tpipe)) {
      return this.nak(link, c, OtmaSenseCode.HOLD_QUEUE_AUTHORIZATION, 0);
    }
    if (!this.touchTpipe(link, tpipe)) return this.nak(link, c, MemberSense.TPIPE_LIMIT, 0);
    const key = holdKey(link.owner!, tpipe);
    const option = [OtmaDeliveryOption.NO_AUTO, OtmaDeliveryOption.ONE_ONLY, OtmaDeliveryOption.AUTO, OtmaDeliveryOption.AUTO_ONE].includes(st.deliveryOption as 0)
      ? st.deliveryOption
      : OtmaDeliveryOption.NO_AUTO;
    const old = this.resumes.get(key);
    if (old && old.link !== link) this.log.info({ key }, 'RESUME TPIPE replaced by another link');
    const r: Resume = { link, tpipe, option, token: st.token.slice(), user: msg.user, delivered: 0 };
    this.resumes.set(key, r);
    this.tryDeliver(key);
  }

  private cancelResume(link: LinkState, tpipeRaw: string): void {
    const key = holdKey(link.owner!, tpipeRaw.trim().toUpperCase());
    const r = this.resumes.get(key);
    if (r && r.link === link) this.resumes.delete(key);
  }

  private noMessages(r: Resume): void {
    this.send(
      r.link,
      {
        control: otmaControl({ messageType: OtmaMessageType.COMMAND, commandType: OtmaCommand.NO_MESSAGES, tpipe: r.tpipe, sendSequence: ++r.link.seq }),
        state: { form: 'no-messages', reserved: 0, token: r.token, rest: new Uint8Array(0) },
      },
      'no-messages',
    );
  }

  private next(key: string, directOnly: boolean): OutputMessage | undefined {
    return this.engine.store.peekOutput(key, EMPTY, directOnly);
  }

  /** Send the next deliverable message of `key`, if nothing is in flight there. */
  tryDeliver(key: string): void {
    if (this.deliveries.has(key)) return;
    const parsed = parseHoldKey(key);
    if (!parsed) return;
    const r = this.resumes.get(key);
    let link: LinkState | undefined;
    let msg: OutputMessage | undefined;
    let viaResume = false;
    if (r && r.link.open) {
      // A RESUME TPIPE is active: everything on the queue goes to it, in order.
      msg = this.next(key, false);
      link = r.link;
      viaResume = true;
      if (!msg && (r.option === OtmaDeliveryOption.NO_AUTO || r.option === OtmaDeliveryOption.ONE_ONLY)) {
        // Nothing (more) to deliver: "no messages" ends a no-auto or single RESUME TPIPE.
        this.resumes.delete(key);
        this.noMessages(r);
        return;
      }
    } else {
      // Otherwise only direct output (CM0 send-receive replies) goes, to the member that sent the input.
      msg = this.next(key, true);
      if (msg && msg.member) link = this.memberLinks.get(msg.member);
    }
    if (!msg || !link || !link.open) return;
    if (link.pending.has(parsed.tpipe)) return; // the tpipe waits for an ACK of a CM1 reply: later
    const seq = ++link.seq;
    const serverState = (viaResume ? OtmaServerState.FROM_HOLD_QUEUE : 0) | (msg.rerouted ? OtmaServerState.REROUTED : 0);
    const user = viaResume && r?.user ? r.user : msg.context ? this.userFrom(msg.context) : undefined;
    // The depth signal: messages left on this tpipe's hold queue after this one (the one being sent is
    // still on the queue until its ACK, and it is the only one in flight for the tpipe).
    const holdQueueDepth = Math.max(0, this.engine.store.outputDepth(key) - 1);
    const m = msg;
    const l = link;
    const timer = this.ackTimeouts.add(link.ackTimeoutMs, () => {
      const p = l.pending.get(parsed.tpipe);
      if (p && p.kind === 'hold' && p.seq === seq) {
        l.pending.delete(parsed.tpipe);
        this.log.warn({ key, seq }, 'ACK timeout on hold-queue output; message kept');
        void this.undelivered(key, m, { reroute: undefined, purge: false });
      }
    });
    const pending = { kind: 'hold' as const, seq, key, msg, timer, viaResume };
    this.deliveries.set(key, pending);
    link.pending.set(parsed.tpipe, pending);
    this.send(
      link,
      this.dataMessage(parsed.tpipe, seq, msg.segments, { ackRequired: true, serverState, commitMode: 0, syncLevel: 1, token: undefined, user, error: false, holdQueueDepth }),
      viaResume ? 'resume-output' : 'cm0-output',
    );
  }

  // -------------------------------------------------------------------------------------------------
  // Displays
  // -------------------------------------------------------------------------------------------------

  /** OTMA clients (members) for /DIS OTMA. */
  members(): Array<{ member: string; owner: string; status: 'ACTIVE'; link: number; peer: string; tpipes: number; ackTimeoutSec: number }> {
    return [...this.memberLinks.values()].map((l) => ({
      member: l.member!,
      owner: l.owner!,
      status: 'ACTIVE' as const,
      link: l.id,
      peer: l.port.peer,
      tpipes: [...this.tpipes.values()].filter((t) => t.owner === l.owner).length,
      ackTimeoutSec: l.ackTimeoutMs / 1000,
    }));
  }

  /** Tpipes for /DIS TPIPE. */
  tpipeList(): Array<{ owner: string; tpipe: string; member: string; inputs: number; outputs: number; queued: number; status: string }> {
    const keys = new Set([...this.tpipes.keys(), ...this.engine.store.outputKeys().filter((k) => parseHoldKey(k))]);
    return [...keys].sort().map((key) => {
      const t = this.tpipes.get(key);
      const p = parseHoldKey(key)!;
      const r = this.resumes.get(key);
      const status = [this.deliveries.has(key) ? 'ACKWAIT' : '', r ? `RESUME(${optionName(r.option)})` : ''].filter(Boolean).join(' ');
      return { owner: p.owner, tpipe: p.tpipe, member: t?.member ?? p.owner, inputs: t?.inputs ?? 0, outputs: t?.outputs ?? 0, queued: this.engine.store.outputDepth(key), status };
    });
  }
}

const EMPTY: ReadonlySet<string> = new Set();
const EMPTY_BYTES = new Uint8Array(0);
const SENT: ReplyOutcome = Object.freeze({ kind: 'sent' });
const LOST: ReplyOutcome = Object.freeze({ kind: 'lost' });

/** The message-control section of one message on the link (the codec's spread-free `otmaSingleControl`). */
function control(messageType: number, responseFlags: number, commitConfirmation: number, processingFlags: number, tpipe: OtmaControl['tpipe'], sendSequence: number): OtmaControl {
  return otmaSingleControl(messageType, responseFlags, commitConfirmation, 0, processingFlags, tpipe, sendSequence);
}

/** The reroute tpipe named in the state data, or undefined when blank. */
function rerouteName(field: string): string | undefined {
  const name = field.trim();
  return name ? name.toUpperCase() : undefined;
}

/** What a CM1 channel needs from its member (closures made once per member, not per message). */
interface Cm1Ops {
  reply(ch: Cm1Reply, reply: ReplyMessage): ReplyOutcome | Promise<ReplyOutcome>;
  commit(ch: Cm1Reply, committed: boolean): void;
}

/** The way back for one send-then-commit input. */
class Cm1Reply implements Cm1Channel {
  readonly ackTimeoutMs: number;
  private done = false;

  constructor(
    private readonly ops: Cm1Ops,
    readonly link: LinkState,
    readonly tpipe: string,
    /** The tpipe's hold-queue key. */
    readonly holdKey: string,
    /** The input's sequence number, echoed by the commit confirmation. */
    readonly inputSequence: number,
    readonly origin: OtmaOrigin,
  ) {
    this.ackTimeoutMs = link.ackTimeoutMs;
  }

  sendReply(reply: ReplyMessage): ReplyOutcome | Promise<ReplyOutcome> {
    return this.ops.reply(this, reply);
  }

  commitConfirmation(committed: boolean): void {
    if (!this.done) {
      this.done = true;
      this.link.cm1.delete(this.tpipe);
    }
    this.ops.commit(this, committed);
  }

  cancel(): void {
    const p = this.link.pending.get(this.tpipe);
    if (p?.kind === 'cm1') this.link.pending.delete(this.tpipe);
  }
}

function c(msg: OtmaMessage): OtmaControl {
  return msg.control;
}

function optionName(o: number): string {
  switch (o) {
    case OtmaDeliveryOption.ONE_ONLY:
      return 'SINGLE';
    case OtmaDeliveryOption.AUTO:
      return 'AUTO';
    case OtmaDeliveryOption.AUTO_ONE:
      return 'SINGLE-WAIT';
    default:
      return 'NOAUTO';
  }
}

function messageKind(c: OtmaControl): string {
  const t = c.messageType;
  if (t & OtmaMessageType.COMMAND) return t & OtmaMessageType.RESPONSE ? 'command-response' : 'command';
  if (t & OtmaMessageType.RESPONSE) return c.responseFlags & OtmaResponseFlag.ACK ? 'ack' : 'nak';
  if (t & OtmaMessageType.TRANSACTION) return t & OtmaMessageType.COMMIT_CONFIRMATION ? 'sendonly' : 'transaction';
  if (t & OtmaMessageType.DATA) return 'conversation-data';
  if (t & OtmaMessageType.COMMIT_CONFIRMATION) return 'deallocate';
  return 'other';
}

/** What the encoder writes of a user data section: its layout's fields (but the length) and `rest`. */
const USER_DATA_FIELDS: readonly string[] = [...OTMA_USER_LAYOUT.fields.map((f) => f.name).filter((n) => n !== 'length'), 'rest'];

/** Two decoded user data sections that encode to the same bytes (every encoded field equal; bytes by content). */
function sameUserData(a: OtmaUserData, b: OtmaUserData): boolean {
  if (a === b) return true;
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  for (let i = 0; i < USER_DATA_FIELDS.length; i++) {
    const k = USER_DATA_FIELDS[i]!;
    const u = x[k];
    const v = y[k];
    if (u === v) continue;
    if (!(u instanceof Uint8Array) || !(v instanceof Uint8Array) || !sameBytes(u, v)) return false;
  }
  return true;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function decodeUserData(bytes: Uint8Array, page: CodePage): OtmaUserData | undefined {
  try {
    return decodeOtmaMessage(bytes, { codePage: page }).user;
  } catch {
    return undefined;
  }
}

function encodeUser(user: OtmaUserData, _page: CodePage): Uint8Array {
  return encodeOtmaMessage({ control: otmaControl(), user });
}

function isThenable<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}
