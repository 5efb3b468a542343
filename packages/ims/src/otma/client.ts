/**
 * A minimal OTMA client for the XCF link — what IMS Connect does, reduced to the calls tests and
 * benchmarks need: connect + client-bid, send a transaction, read messages in order, ACK/NAK, RESUME
 * TPIPE. It is a reference for the IMS Connect side (see OTMA-LINK.md), not a product client.
 */
import { connect, type Socket } from 'node:net';
import {
  CP037,
  CommitMode,
  OtmaCommand,
  OtmaDeliveryOption,
  OtmaMemberFlag2,
  OtmaMemberQueueFlag,
  OtmaMessageType,
  OtmaResponseFlag,
  OtmaSecurityFlag,
  SyncLevel,
  XcfFrameReader,
  decodeXcfFrame,
  encodeXcfFrame,
  otmaControl,
  type OtmaMessage,
} from '@imsplex/codec';
import { writeMemberRest, writeTransactionRest, tokenBytes, SyncOption } from './codec-adapter.js';

export interface OtmaLinkClientOptions {
  readonly host: string;
  readonly port: number;
  /** XCF member name of this client (IMS Connect's MEMBER=). */
  readonly member: string;
  readonly superMember?: string;
  /** ACK timeout (seconds) to announce in the client-bid. */
  readonly ackTimeoutSec?: number;
}

export interface SendTransactionOptions {
  readonly tpipe: string;
  readonly segments: readonly (Uint8Array | string)[];
  readonly commitMode: 0 | 1;
  /** 0 NONE, 1 CONFIRM (CM0 is always CONFIRM). */
  readonly syncLevel?: 0 | 1;
  readonly sendOnly?: boolean;
  /** Ask for an ACK once the input is queued. */
  readonly ackRequested?: boolean;
  readonly userId?: string;
  /** Security flag (default none). */
  readonly security?: 'N' | 'C' | 'F';
  readonly conversationId?: string;
  readonly dfs2082?: boolean;
  readonly rerouteTpipe?: string;
  readonly purge?: boolean;
}

export class OtmaLinkClient {
  private readonly reader = new XcfFrameReader();
  private readonly queue: OtmaMessage[] = [];
  private waiters: Array<(m: OtmaMessage | undefined) => void> = [];
  private closedFlag = false;
  private seq = 0;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const m of this.reader.push(chunk).map((f) => decodeFrame(f))) {
        const w = this.waiters.shift();
        if (w) w(m);
        else this.queue.push(m);
      }
    });
    const end = () => {
      this.closedFlag = true;
      for (const w of this.waiters.splice(0)) w(undefined);
    };
    socket.on('close', end);
    socket.on('error', end);
  }

  /** Connect and client-bid; resolves after IMS ACKs the bid. */
  static async connect(options: OtmaLinkClientOptions): Promise<OtmaLinkClient> {
    const socket = connect({ host: options.host, port: options.port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new OtmaLinkClient(socket);
    c.write({
      control: otmaControl({ messageType: OtmaMessageType.COMMAND, commandType: OtmaCommand.CLIENT_BID, sendSequence: c.nextSeq() }),
      state: {
        form: 'member',
        memberName: options.member,
        originatorToken: new Uint8Array(8),
        destinationToken: new Uint8Array(8),
        druExitName: 'DFSYDRU0',
        maxBlockSize: 0,
        queueFlags: OtmaMemberQueueFlag.CREATE_HOLD_QUEUE | OtmaMemberQueueFlag.IMS_CONNECT_CLIENT,
        flags2: (options.superMember ? OtmaMemberFlag2.SUPER_MEMBER : 0) | (options.ackTimeoutSec ? OtmaMemberFlag2.CM1_ACK_TIMEOUT : 0),
        rest: writeMemberRest({ superMember: options.superMember ?? '', ackTimeout: options.ackTimeoutSec ?? 0 }, CP037),
      },
      security: { flag: OtmaSecurityFlag.NONE, rest: new Uint8Array(0) },
    });
    const ack = await c.next();
    if (!ack || !(ack.control.responseFlags & OtmaResponseFlag.ACK)) {
      c.close();
      throw new Error('client-bid was not ACKed');
    }
    return c;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  nextSeq(): number {
    return ++this.seq;
  }

  /** Write one OTMA message as one frame. */
  write(message: OtmaMessage): void {
    this.socket.write(encodeXcfFrame(message));
  }

  /** The next message from IMS (undefined once the link closed). */
  next(): Promise<OtmaMessage | undefined> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.closedFlag) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Messages already received and not yet read. */
  get buffered(): number {
    return this.queue.length;
  }

  /** Send a transaction (or a conversation continuation); returns its send sequence number. */
  sendTransaction(o: SendTransactionOptions): number {
    const seq = this.nextSeq();
    const segs = o.segments.map((s) => (typeof s === 'string' ? CP037.encode(s) : s));
    const type = o.conversationId ? OtmaMessageType.DATA : OtmaMessageType.TRANSACTION | (o.sendOnly ? OtmaMessageType.COMMIT_CONFIRMATION : 0);
    const level = (o.commitMode === 0 ? SyncLevel.CONFIRM : o.syncLevel === 0 ? SyncLevel.NONE : SyncLevel.CONFIRM) | (o.purge ? SyncOption.PURGE : 0) | (o.rerouteTpipe ? SyncOption.REROUTE : 0);
    this.write({
      control: otmaControl({ messageType: type, responseFlags: o.ackRequested ? OtmaResponseFlag.RESPONSE_REQUESTED : 0, tpipe: o.tpipe, sendSequence: seq }),
      state: {
        form: 'transaction',
        serverState: (o.conversationId ? 0x80 : 0) | (o.dfs2082 ? 0x40 : 0),
        rest: writeTransactionRest(
          { syncFlags: o.commitMode === 1 ? CommitMode.CM1 : CommitMode.CM0, syncLevel: level, serverToken: tokenBytes(o.conversationId), ltermOverride: o.rerouteTpipe ?? '' },
          CP037,
        ),
      },
      security: o.security && o.security !== 'N' ? { flag: o.security === 'C' ? OtmaSecurityFlag.CHECK : OtmaSecurityFlag.FULL, userId: o.userId ?? '', rest: new Uint8Array(0) } : { flag: OtmaSecurityFlag.NONE, rest: new Uint8Array(0) },
      segments: segs,
    });
    return seq;
  }

  /** ACK or NAK output IMS sent (echoing its tpipe and sequence number). */
  respond(to: OtmaMessage, ack: boolean, o: { sense?: number; reroute?: string; purge?: boolean } = {}): void {
    const reroute = o.reroute !== undefined || o.purge;
    this.write({
      control: otmaControl({
        messageType: OtmaMessageType.RESPONSE,
        responseFlags: ack ? OtmaResponseFlag.ACK : OtmaResponseFlag.NAK,
        tpipe: to.control.tpipe,
        sendSequence: to.control.sendSequence,
        senseCode: o.sense ?? 0,
      }),
      ...(reroute
        ? {
            state: {
              form: 'transaction' as const,
              serverState: 0x20,
              rest: writeTransactionRest({ syncFlags: CommitMode.CM0, syncLevel: SyncLevel.CONFIRM | (o.purge ? SyncOption.PURGE : 0) | (o.reroute ? SyncOption.REROUTE : 0), ltermOverride: o.reroute ?? '' }, CP037),
            },
          }
        : {}),
    });
  }

  /** RESUME TPIPE with a delivery option. */
  resumeTpipe(tpipe: string, option: number = OtmaDeliveryOption.NO_AUTO, token = 'RT000001'): number {
    const seq = this.nextSeq();
    this.write({
      control: otmaControl({ messageType: OtmaMessageType.COMMAND, commandType: OtmaCommand.RESUME_HOLD_QUEUE, tpipe, sendSequence: seq }),
      state: { form: 'resume-hold-queue', deliveryOption: option, calloutMode: 0, token: CP037.encode(token.padEnd(8).slice(0, 8)), rest: new Uint8Array(0) },
    });
    return seq;
  }

  /** Cancel a waiting RESUME TPIPE. */
  cancelResume(tpipe: string): void {
    this.write({
      control: otmaControl({ messageType: OtmaMessageType.COMMAND, commandType: OtmaCommand.RESUME_HOLD_QUEUE, responseFlags: OtmaResponseFlag.NAK, tpipe, sendSequence: this.nextSeq() }),
      state: { form: 'resume-hold-queue', deliveryOption: 0, calloutMode: 0, token: new Uint8Array(8), rest: new Uint8Array(0) },
    });
  }

  /** End a conversation (IMS Connect deallocate). */
  deallocate(tpipe: string, conversationId: string): number {
    const seq = this.nextSeq();
    this.write({
      control: otmaControl({ messageType: OtmaMessageType.COMMIT_CONFIRMATION, tpipe, sendSequence: seq }),
      state: { form: 'transaction', serverState: 0x80, rest: writeTransactionRest({ syncFlags: CommitMode.CM1, syncLevel: SyncLevel.CONFIRM, serverToken: tokenBytes(conversationId) }, CP037) },
    });
    return seq;
  }

  close(): void {
    this.socket.destroy();
  }
}

function decodeFrame(f: Uint8Array): OtmaMessage {
  return decodeXcfFrame(f);
}
