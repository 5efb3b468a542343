/**
 * The client's bridge to `@imsplex/codec`: it turns an interaction (what the client wants to send)
 * into request bytes with the codec's `buildRequest` / `encodeRequest`. No byte layout or protocol
 * constant is defined here; they all come from the codec.
 */
import {
  CodecError,
  PING_REQUEST_TEXT,
  buildRequest as codecBuildRequest,
  buildSegmentData,
  encodeRequest,
  segmentsText,
  type BuildRequestOptions,
  type CodePage,
  type MessageType,
} from '@imsplex/codec';
import { ClientErrorCode, ImsClientError } from './errors.js';
import { type IrmTimerSetting, type ResolvedInteraction, type SocketType } from './options.js';

/** RESUME TPIPE delivery options (IRM_F5): one message, one with wait, no-auto, auto. */
export type ResumeMode = 'single' | 'single-wait' | 'no-auto' | 'auto';

/** Options of a NAK. */
export interface NakOptions {
  /** Reason code passed to the IMS application (IRM_F0 X'10' + IRM_NAK_RSNCDE), 0–65535. */
  readonly reasonCode?: number;
  /** Keep the message on the queue (IRM_F0 X'20', IBM `SYNCNAK`); the RESUME TPIPE ends. */
  readonly keepOnQueue?: boolean;
  /** Reroute the message (IRM_F3 X'08'): to this tpipe name, or `true` for the configured reroute name. */
  readonly reroute?: boolean | string;
}

/** Input data: text, bytes, or one entry per segment. */
export type Payload = string | Uint8Array | ReadonlyArray<string | Uint8Array>;

/** What kind of IRM message to build. */
export type RequestKind =
  | 'send-receive'
  | 'send-only'
  | 'send-only-ordered'
  | 'send-only-ack'
  | 'send-only-errors'
  | 'ack'
  | 'nak'
  | 'resume-tpipe'
  | 'deallocate'
  | 'cancel-timer';

/** Everything needed to build one request. */
export interface RequestSpec {
  readonly kind: RequestKind;
  readonly clientId: string;
  readonly socketType: SocketType;
  readonly io: ResolvedInteraction;
  readonly trancode?: string;
  /** Data segments; the first already starts with the trancode. */
  readonly segments?: readonly Uint8Array[];
  /** IRM timer for this message (default: the interaction's). */
  readonly timer?: IrmTimerSetting;
  readonly resumeMode?: ResumeMode;
  readonly alternateClientId?: string;
  readonly nak?: NakOptions;
  /** CM0 ACK NOWAIT (IRM_F1 X'02'). */
  readonly ackNoWait?: boolean;
}

const MESSAGE_TYPE: Readonly<Record<RequestKind, MessageType>> = {
  'send-receive': 'SEND_RECEIVE',
  'send-only': 'SEND_ONLY',
  'send-only-ordered': 'SEND_ONLY',
  'send-only-ack': 'SEND_ONLY_ACK',
  'send-only-errors': 'SEND_ONLY_ERRORS',
  ack: 'ACK',
  nak: 'NAK',
  'resume-tpipe': 'RESUME_TPIPE',
  deallocate: 'DEALLOCATE',
  'cancel-timer': 'CANCEL_TIMER',
};

const RESUME_OPTION: Readonly<Record<ResumeMode, NonNullable<BuildRequestOptions['resumeOption']>>> = {
  single: 'single',
  'single-wait': 'singleWait',
  'no-auto': 'noAuto',
  auto: 'auto',
};

const SOCKET: Readonly<Record<SocketType, NonNullable<BuildRequestOptions['socketType']>>> = {
  transaction: 'TRANSACTION',
  persistent: 'PERSISTENT',
  'non-persistent': 'NON_PERSISTENT',
};

/** Build the bytes of one request (LLLL | IRM | segments | X'00040000'). */
export function buildRequest(spec: RequestSpec): Uint8Array {
  const { io, kind } = spec;
  const carriesData = kind === 'send-receive' || kind.startsWith('send-only');
  const o: BuildRequestOptions = {
    exit: io.exitId,
    codeSet: io.codePage.ebcdic ? 'ebcdic' : 'ascii',
    page: io.codePage,
    messageType: MESSAGE_TYPE[kind],
    clientId: spec.clientId,
    datastore: io.datastore,
    lterm: io.ltermOverrideName,
    racfUserId: io.racfUserId,
    racfGroup: io.racfGroupName,
    racfPassword: io.racfPassword,
    commitMode: io.commitMode === 0 ? 'CM0' : 'CM1',
    // [INF] RESUME TPIPE and its ACK/NAK carry sync level NONE, as in the spec's worked example
    // (§13.4): the sync level does not apply to queued output, which always needs an ACK/NAK.
    syncLevel: spec.resumeMode === undefined && io.syncLevel === 'confirm' ? 'CONFIRM' : 'NONE',
    timer: spec.timer ?? io.interactionTimeout,
    socketType: SOCKET[spec.socketType],
    segments: carriesData ? [...(spec.segments ?? [])] : [],
    flags: {
      f1: { mfsRequest: io.returnMfsModname, clientIdRequest: io.returnClientId, noWait: spec.ackNoWait === true },
      f3: { purge: io.purgeUndeliverableOutput && carriesData, ordered: kind === 'send-only-ordered', cancelClientId: io.cancelClientId },
    },
  };
  if (spec.trancode !== undefined) o.trancode = spec.trancode;
  if (io.racfApplName) o.applName = io.racfApplName;
  if (io.mfsModname) o.modName = io.mfsModname;
  if (io.irmArchitecture !== undefined) o.arch = io.irmArchitecture;
  if (spec.resumeMode !== undefined) {
    o.resumeOption = RESUME_OPTION[spec.resumeMode];
    if (spec.alternateClientId) o.altClientId = spec.alternateClientId;
  } else if (carriesData && io.rerouteName) {
    o.rerouteName = io.rerouteName;
  }
  if (kind === 'nak' && spec.nak) {
    const n = spec.nak;
    if (n.reasonCode !== undefined) {
      if (!Number.isInteger(n.reasonCode) || n.reasonCode < 0 || n.reasonCode > 0xffff) throw new ImsClientError(ClientErrorCode.INVALID_ARGUMENT, `NAK reasonCode must be 0–65535; got ${n.reasonCode}`);
      o.nakReasonCode = n.reasonCode;
    }
    if (n.keepOnQueue) o.flags = { ...o.flags, f0: { syncNak: true } };
    if (n.reroute) {
      const name = typeof n.reroute === 'string' ? n.reroute : io.rerouteName;
      if (name) o.rerouteName = name.toUpperCase();
      o.flags = { ...o.flags, f3: { ...o.flags!.f3, reroute: true } };
    }
  }
  try {
    return encodeRequest(codecBuildRequest(o), { ebcdicPage: io.codePage.ebcdic ? io.codePage : undefined });
  } catch (e) {
    if (e instanceof CodecError) throw new ImsClientError(ClientErrorCode.INVALID_ARGUMENT, `cannot build the ${kind} request: ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * Data segments for a transaction: the trancode (blank-padded to 8) then the data, split at the
 * codec's segment limit. With `includesTrancode` the data is used as given.
 */
export function buildSegments(trancode: string, data: Payload | undefined, page: CodePage, includesTrancode: boolean): Uint8Array[] {
  try {
    return buildSegmentData(includesTrancode ? undefined : trancode, data ?? new Uint8Array(0), { page });
  } catch (e) {
    if (e instanceof CodecError) throw new ImsClientError(ClientErrorCode.INVALID_ARGUMENT, `bad input data: ${e.message}`, { cause: e });
    throw e;
  }
}

/** IRM_TRNCOD of a PING (spec §6.6). */
export const PING_TRANCODE = 'PING';

/** The one data segment of a PING: `PING IMS_CONNECT` (the codec's `PING_REQUEST_TEXT`). */
export function pingSegments(page: CodePage): Uint8Array[] {
  return [page.encode(PING_REQUEST_TEXT)];
}

/**
 * LOCAL ADAPTER — the codec has no constant for the PING response text yet (reported to the lead).
 * HWSSMPL0/1 answer a PING with a data segment `HWSC0030I *PING RESPONSE*` (spec §6.6); the client
 * checks for the message number only, so a padded or longer text still counts.
 */
export const PING_RESPONSE_MESSAGE_ID = 'HWSC0030I';

/** True when the segments are IMS Connect's PING response. */
export function isPingResponse(segments: readonly Uint8Array[], page: CodePage): boolean {
  return segmentsText(segments, page).trimStart().startsWith(PING_RESPONSE_MESSAGE_ID);
}
