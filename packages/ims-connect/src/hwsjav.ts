/**
 * HWSJAVA0 (`*HWSJAV*`): the IMS TM Resource Adapter's user message exit. Spec §1.4, §3.6, §6.6, §11.
 *
 * Input (IBM "Input message from client and passed to message exit", type 1):
 * `LLLL | IRM fixed part (28) | OTMA headers | LLZZ data | (OTMA control (32) | LLZZ data)…` — the
 * client builds the OTMA headers itself (`IRM_F5` X'C0'); every segment after the first follows its own
 * 32-byte message-control section (chain state middle/last) and LLLL bounds the message (no
 * end-of-message marker). The codec also still reads plain LLZZ segments ended by X'00040000' and
 * tells the two apart (`decodeRequest`); either way the session gets the segments in order and passes
 * them all to IMS in one OTMA message (the imsplex link carries a whole input message per XCF frame),
 * where the program reads them with GU/GN. A chained control section that does not belong to the
 * message is a codec error: RC 4, `OMUSR_RESCODE` `20`. The codec splits and decodes the headers
 * (`decodeRequest` → `request.otma`); this module
 * maps them onto the session's request: the interaction from the message-control section, commit mode
 * and sync level from the state data, user and group from the security data, datastore and password
 * from the user data (`OMUSR_DESTID`, `OMUSR_PASSTICK`). Timer, socket type and client ID stay in the
 * IRM fixed part.
 *
 * Output (IBM "Output message from message exit to client", HWSJAVA0 table):
 * `LLLL | ID (8, the exit's IRM_ID) | OTMA headers | LLZZ data | (OTMA control (32) | LLZZ data)…`.
 * There is no CSM or RSM: return and reason codes travel in the user data (`OMUSR_RETCODE`, and
 * `OMUSR_RESCODE` as an 8-character name), ACK-required and conversation state in the control and
 * state sections. Character fields use the code set of the client's IRM_ID.
 */
import {
  CommitMode,
  HWSJAV_PING_REASON,
  HwsjavReturnCode,
  PING_RESPONSE_TEXT,
  PingFlag,
  IrmF0,
  IrmF2,
  IrmF3,
  IrmF5,
  LATIN1,
  OtmaCalloutMode,
  OtmaChainState,
  OtmaCommand,
  OtmaCommitConfirmation,
  OtmaDeliveryOption,
  OtmaMessageType,
  OtmaResponseFlag,
  OtmaServerState,
  ReasonCode,
  ReturnCode,
  StatusFlag,
  encodeOtmaMessageInto,
  otmaControl,
  otmaMessageSize,
  reasonCodeInfo,
  readCharField,
  type CodePage,
  type ImsReply,
  type MessageType,
  type OtmaControl,
  type OtmaMessage,
  type OtmaName,
  type OtmaUserData,
} from '@imsplex/codec';
import { TRANSACTION_STATE_REST, readTransactionRest, writeTransactionRest } from './otma-adapter.js';

/**
 * [INF] What this emulator announces in `PNG_FLG1`: the codec decodes IRM extensions, but no network
 * security credentials are returned, so only X'01'.
 */
export const HWSJAV_PING_FLAGS = PingFlag.IMS_EXTENSIONS;

/** HWSJAVA0 PING reply text (`PNG_RESP1`): the codec's `PING_RESPONSE_TEXT`. */
export const HWSJAV_PING_TEXT = PING_RESPONSE_TEXT;
export { HWSJAV_PING_REASON, HwsjavReturnCode, PingFlag };

/** The decoded HWSJAVA0 headers, as far as the session needs them. */
export interface HwsjavRequestFields {
  type: MessageType | undefined;
  f0: number;
  f2: number;
  f3: number;
  /** Low bits: the RESUME TPIPE option; high bits: the client's IRM_F5 format bits. */
  f5: number;
  nakReason: number;
  /** Tpipe named in the control section (the client ID, or an alternate one on RESUME TPIPE). */
  tpipe: string;
  datastore: string;
  userId: string;
  group: string;
  password: string;
  lterm: string;
  rerouteOrAltClientId: string;
  modName: string;
}

/** A name field of the OTMA prefix as text (bytes that do not re-encode are read as padded text). */
export function otmaText(v: OtmaName | undefined, page: CodePage): string {
  if (v === undefined) return '';
  const t = typeof v === 'string' ? v : readCharField(v, 0, v.length, page);
  return t.trim().toUpperCase();
}

/**
 * The interaction a HWSJAVA0 message asks for, from its message-control section — the inverse of the
 * IRM → OTMA mapping of spec §11.5 (what IMS Connect itself sends to IMS for HWSSMPL1 clients):
 * transaction → send-receive; transaction + commit confirmation → SENDONLY (`K` when a response is
 * requested); data → conversation continuation (send-receive); response ACK/NAK → ACK/NAK; command
 * resume-hold-queue → RESUME TPIPE; commit confirmation alone → DEALLOCATE. [INF] anything else
 * (including CANCEL TIMER, which has no OTMA form) is no known type: RSM reason 9.
 */
export function hwsjavMessageType(c: Pick<OtmaControl, 'messageType' | 'responseFlags' | 'commandType'>): MessageType | undefined {
  const t = c.messageType;
  if (t & OtmaMessageType.RESPONSE) {
    if (c.responseFlags & OtmaResponseFlag.ACK) return 'ACK';
    if (c.responseFlags & OtmaResponseFlag.NAK) return 'NAK';
    return undefined;
  }
  if (t & OtmaMessageType.COMMAND) return c.commandType === OtmaCommand.RESUME_HOLD_QUEUE ? 'RESUME_TPIPE' : undefined;
  if (t & OtmaMessageType.TRANSACTION) {
    if (t & OtmaMessageType.COMMIT_CONFIRMATION) return c.responseFlags & OtmaResponseFlag.RESPONSE_REQUESTED ? 'SEND_ONLY_ACK' : 'SEND_ONLY';
    return 'SEND_RECEIVE';
  }
  if (t & OtmaMessageType.DATA) return 'SEND_RECEIVE';
  if (t & OtmaMessageType.COMMIT_CONFIRMATION) return 'DEALLOCATE';
  return undefined;
}

const DELIVERY_TO_F5: Readonly<Record<number, number>> = {
  [OtmaDeliveryOption.NO_AUTO]: IrmF5.NOAUTO,
  [OtmaDeliveryOption.ONE_ONLY]: IrmF5.ONE,
  [OtmaDeliveryOption.AUTO]: IrmF5.AUTO,
  [OtmaDeliveryOption.AUTO_ONE]: IrmF5.SWAIT,
};

/**
 * Map a HWSJAVA0 client's OTMA headers onto the session's request fields. `irmF5` is the IRM_F5 byte
 * of the fixed part (its format bits are kept; the RESUME TPIPE option comes from the state data).
 */
export function hwsjavRequestFields(otma: OtmaMessage, irmF5: number, page: CodePage): HwsjavRequestFields {
  const c = otma.control;
  const type = hwsjavMessageType(c);
  const st = otma.state;
  // [IBM] "By default, the HWSJAVA0 exit routine sets the COMMIT mode to 1, and the SYNC level to NONE";
  // the client overrides both in the state data (imsplex layout of the bytes after the server state,
  // otma-adapter.ts, shared with packages/ims).
  let f2: number = IrmF2.CM1;
  let f3: number = IrmF3.SYNCNONE;
  let lterm = '';
  let modName = '';
  let reroute = '';
  if (st?.form === 'transaction') {
    const rest = readTransactionRest(st.rest, page);
    const cm = rest.syncFlags & (CommitMode.CM0 | CommitMode.CM1);
    if (cm !== 0) f2 = cm;
    f3 = rest.syncLevel & (IrmF3.SYNC_MASK | IrmF3.PURGE | IrmF3.REROUT);
    modName = rest.mapName.trim().toUpperCase();
    const name = rest.ltermOverride.trim().toUpperCase();
    // The LTERM-override / reroute slot (TMAMHLTM) is a reroute name when the reroute option is set.
    if (f3 & IrmF3.REROUT) reroute = name;
    else lterm = name;
  }
  let f0 = 0;
  let f5 = irmF5 & (IrmF5.OTMA | IrmF5.NOTRAN);
  if (type === 'RESUME_TPIPE') {
    f2 = IrmF2.CM0;
    if (st?.form === 'resume-hold-queue') {
      f5 |= DELIVERY_TO_F5[st.deliveryOption] ?? IrmF5.NOAUTO;
      if (st.calloutMode & OtmaCalloutMode.CALLOUT_ONLY) f0 |= IrmF0.SYNONLY;
      else if (st.calloutMode & OtmaCalloutMode.CALLOUT_AND_ASYNC) f0 |= IrmF0.SYNASYN;
    }
  }
  if (type === 'NAK' && c.reasonCode !== 0) f0 |= IrmF0.NAKRSN;
  const tpipe = otmaText(c.tpipe, page);
  return {
    type,
    f0,
    f2,
    f3,
    f5,
    nakReason: c.reasonCode,
    tpipe,
    datastore: otmaText(otma.user?.destinationId, page),
    userId: otmaText(otma.security?.userId, page),
    group: otmaText(otma.security?.groupName, page),
    // OMUSR_PASSTICK carries IRM_RACF_PW (spec §11.4); passwords keep their case.
    password: otma.user ? (typeof otma.user.passTicket === 'string' ? otma.user.passTicket.trim() : readCharField(otma.user.passTicket, 0, 8, page)) : '',
    lterm,
    rerouteOrAltClientId: type === 'RESUME_TPIPE' ? tpipe : reroute,
    modName,
  };
}

// -------------------------------------------------------------------------------------------------
// Replies

/** One HWSJAVA0 reply, before encoding. */
export interface HwsjavReply {
  /** Application data segments (none for a status reply). */
  segments: readonly Uint8Array[];
  /** ZZ of each segment (the PING response puts `PNG_FLG1`/`PNG_FLG2` there). */
  zz?: readonly number[];
  /** `OMCTLMGT` of the first control section. */
  messageType: number;
  /** `OMCTLRSI`: X'20' when the client must ACK/NAK; ACK/NAK on status replies. */
  responseFlags: number;
  /** `OMCTLCCI` (deallocate / sync-point outcome). */
  commitConfirmation: number;
  /** OTMA sense and reason of an IMS NAK (control bytes 20–23). */
  senseCode: number;
  otmaReason: number;
  /** Server state: X'80' while a conversation continues. */
  serverState: number;
  /** MFS MOD name for the state data's map name. */
  mod?: string;
  /** `OMUSR_RETCODE` and `OMUSR_RESCODE`. */
  returnCode: number;
  reasonName: string;
}

/**
 * `OMUSR_RESCODE` for an RSM reason: IBM's 8-character name where the reason table gives one
 * (`NFNDDST`, `DUPECLNT`, `DEAL_CTD` …). [INF] Reasons without a name — timer values (RC 32/36/40),
 * OTMA sense codes, reasons such as 9 or 7 — are written as decimal digits, blank padded.
 */
export function omusrReasonName(returnCode: number, reasonCode: number): string {
  if (returnCode === ReturnCode.TIMER_EXPIRED_CLOSE || returnCode === ReturnCode.DEFAULT_TIMER_EXPIRED || returnCode === ReturnCode.TIMER_EXPIRED_KEEP || returnCode === ReturnCode.OTMA_NAK) {
    return String(reasonCode);
  }
  return reasonCodeInfo(reasonCode)?.ibmName ?? String(reasonCode);
}

/**
 * The HWSJAVA0 form of a reply the session built in HWSSMPL terms:
 * - data + CSM → DATA message; CSM X'20' → `OMCTLRSI` response requested, X'40' → server state
 *   conversational; RC 0, blank reason. (CSM X'80' has no HWSJAVA0 form in what IBM documents [INF].)
 * - RSM → a response message with the codes in the user data. [IBM] RC X'10' "is not valid for
 *   HWSJAVA0": an OTMA NAK is reported as RC X'0C' ("error returned by IMS/OTMA") [INF] with the sense
 *   and OTMA reason in the control section, as OTMA itself carries them. Deallocate confirm/abort
 *   (reason 97/98) becomes a commit confirmation (committed/aborted) with RC 0 and `DEAL_CTD`/`DEAL_ABT`.
 *   [INF] other status replies are responses flagged NAK, except cancel-timer done (RC 44), an ACK.
 */
export function hwsjavReplyOf(reply: ImsReply): HwsjavReply {
  if (reply.kind === 'data') {
    const f = reply.csm.flags;
    return {
      segments: reply.segments,
      messageType: OtmaMessageType.DATA,
      responseFlags: f & StatusFlag.ACK_REQUIRED ? OtmaResponseFlag.RESPONSE_REQUESTED : 0,
      commitConfirmation: 0,
      senseCode: 0,
      otmaReason: 0,
      serverState: f & StatusFlag.CONVERSATIONAL ? OtmaServerState.CONVERSATIONAL : 0,
      ...(reply.mod !== undefined ? { mod: reply.mod } : {}),
      returnCode: ReturnCode.OK,
      reasonName: '',
    };
  }
  const { returnCode: rc, reasonCode: rsn, racfOrOtmaReason } = reply.rsm;
  const base = { segments: [], commitConfirmation: 0, senseCode: 0, otmaReason: 0, serverState: 0, reasonName: omusrReasonName(rc, rsn) };
  if (rsn === ReasonCode.DEAL_CTD || rsn === ReasonCode.DEAL_ABT) {
    if (rc === ReturnCode.OK) {
      return { ...base, messageType: OtmaMessageType.COMMIT_CONFIRMATION, responseFlags: 0, commitConfirmation: rsn === ReasonCode.DEAL_CTD ? OtmaCommitConfirmation.COMMITTED : OtmaCommitConfirmation.ABORTED, returnCode: rc };
    }
  }
  if (rc === ReturnCode.OTMA_NAK) {
    return { ...base, messageType: OtmaMessageType.RESPONSE, responseFlags: OtmaResponseFlag.NAK, senseCode: rsn & 0xffff, otmaReason: racfOrOtmaReason, returnCode: ReturnCode.OTMA_ERROR };
  }
  return { ...base, messageType: OtmaMessageType.RESPONSE, responseFlags: rc === ReturnCode.CANCEL_TIMER_DONE ? OtmaResponseFlag.ACK : OtmaResponseFlag.NAK, returnCode: rc };
}

/** What the encoder takes from the session. */
export interface HwsjavReplyContext {
  /** The exit's IRM_ID, written as the reply's 8-byte ID. */
  exitId: string;
  codeSet: 'ebcdic' | 'ascii';
  /** EBCDIC page for character fields of an EBCDIC client. */
  codePage: CodePage;
  /** The client's own headers, when its message could be decoded: the reply echoes their sections. */
  request: OtmaMessage | undefined;
  /** The client ID (a generated one reaches the client this way: the reply's tpipe). */
  clientId: string;
  /** Datastore of the interaction, for a user-data section built from scratch. */
  datastore: string;
  /** This IMS Connect's ID (`OMUSR_ORIGID` of a user-data section built from scratch). */
  hwsId: string;
}

const ID_LENGTH = 8;

/**
 * Encode a HWSJAVA0 reply as one frame. The first OTMA message carries the full prefix — the client's
 * state, security and user-data sections echoed, with the reply's values set (state: server state and
 * map name; user data: return/reason codes, `OMUSR_PASSTICK` cleared as IBM documents) — and the first
 * segment; each further segment follows its own 32-byte control section (chain state middle/last).
 */
export function encodeHwsjavReply(r: HwsjavReply, ctx: HwsjavReplyContext): Uint8Array {
  const page = ctx.codeSet === 'ascii' ? LATIN1 : ctx.codePage;
  const req = ctx.request;
  const n = r.segments.length;
  const control = otmaControl({
    messageType: r.messageType,
    responseFlags: r.responseFlags,
    commitConfirmation: r.commitConfirmation,
    tpipe: ctx.clientId,
    // [INF] chain state as IMS sets it on output; segments numbered 1…n only when there are several.
    chainState: n > 1 ? OtmaChainState.FIRST : OtmaChainState.SINGLE,
    segmentSequence: n > 1 ? 1 : 0,
    // [INF] the reply echoes the client's send sequence number; an ACK/NAK of output echoes it back.
    sendSequence: req?.control.sendSequence ?? 0,
    senseCode: r.senseCode,
    reasonCode: r.otmaReason,
  });
  const first: OtmaMessage = {
    control,
    state: { form: 'transaction', serverState: r.serverState, rest: stateRest(req, r.mod, page) },
    ...(req?.security ? { security: req.security } : {}),
    user: userData(req?.user, r, ctx),
    ...(n > 0 ? { segments: r.segments.slice(0, 1), ...(r.zz ? { zz: r.zz.slice(0, 1) } : {}) } : {}),
  };
  const more: OtmaMessage[] = [];
  for (let i = 1; i < n; i++) {
    more.push({
      control: otmaControl({ messageType: r.messageType, tpipe: ctx.clientId, chainState: i === n - 1 ? OtmaChainState.LAST : OtmaChainState.MIDDLE, segmentSequence: i + 1, sendSequence: control.sendSequence }),
      segments: [r.segments[i]!],
      ...(r.zz ? { zz: [r.zz[i] ?? 0] } : {}),
    });
  }
  let total = 4 + ID_LENGTH + otmaMessageSize(first);
  for (const m of more) total += otmaMessageSize(m);
  const out = new Uint8Array(total);
  out[0] = total >>> 24;
  out[1] = (total >>> 16) & 0xff;
  out[2] = (total >>> 8) & 0xff;
  out[3] = total & 0xff;
  page.encodeInto(ctx.exitId, out, 4, ID_LENGTH);
  let at = 4 + ID_LENGTH;
  at += encodeOtmaMessageInto(first, out, at, { codePage: page });
  for (const m of more) at += encodeOtmaMessageInto(m, out, at, { codePage: page });
  return out;
}

/** The client's state rest with the output's map name, or a CM1/NONE default rest. */
function stateRest(req: OtmaMessage | undefined, mod: string | undefined, page: CodePage): Uint8Array {
  const st = req?.state?.form === 'transaction' ? req.state : undefined;
  if (!st) return writeTransactionRest({ syncFlags: CommitMode.CM1, syncLevel: IrmF3.SYNCNONE, ...(mod ? { mapName: mod } : {}) }, page);
  if (mod === undefined) return st.rest;
  const fields = readTransactionRest(st.rest, page);
  const head = writeTransactionRest({ ...fields, mapName: mod }, page);
  if (st.rest.length <= TRANSACTION_STATE_REST.size) return head;
  const joined = new Uint8Array(st.rest.length);
  joined.set(head);
  joined.set(st.rest.subarray(TRANSACTION_STATE_REST.size), TRANSACTION_STATE_REST.size);
  return joined;
}

function userData(base: OtmaUserData | undefined, r: HwsjavReply, ctx: HwsjavReplyContext): OtmaUserData {
  const codes = { returnCode: r.returnCode, reasonName: fit(r.reasonName), passTicket: '' };
  if (base) return { ...base, ...codes };
  return { align: 0, destinationId: ctx.datastore, originId: ctx.hwsId, portId: '', logonToken: new Uint8Array(8), responseToken: new Uint8Array(4), flag1: 0, rest: new Uint8Array(0), ...codes };
}

/** An 8-character name field value (longer text cannot be written). */
function fit(text: string): string {
  return text.length > 8 ? text.slice(0, 8) : text;
}
