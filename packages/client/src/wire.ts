/**
 * The client's bridge to `@imsplex/codec`: it turns an interaction (what the client wants to send)
 * into request bytes with the codec's `buildRequest` / `encodeRequest` / `encodeIrm` /
 * `writeSegments`. No protocol constant is defined here; they all come from the codec. The one layout
 * fact used directly is the message order `LLLL | IRM | segments`, to assemble a frame from a cached
 * IRM (`FrameBuilder`, tested byte for byte against `buildRequest`).
 */
import {
  CodecError,
  END_OF_MESSAGE,
  LLLL_SIZE,
  LLZZ_SIZE,
  MAX_SEGMENT_DATA,
  PING_REQUEST_TEXT,
  PING_RESPONSE_MESSAGE_ID,
  PING_TRANCODE,
  TRANCODE_LENGTH,
  buildRequest as codecBuildRequest,
  buildSegmentData,
  encodeIrm,
  encodeRequest,
  segmentsSize,
  segmentsText,
  writeSegments,
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

/** The codec's `buildRequest` options for one request. */
function requestOptions(spec: RequestSpec): BuildRequestOptions {
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
  return o;
}

function buildError(kind: RequestKind, e: unknown): unknown {
  return e instanceof CodecError ? new ImsClientError(ClientErrorCode.INVALID_ARGUMENT, `cannot build the ${kind} request: ${e.message}`, { cause: e }) : e;
}

/** Build the bytes of one request (LLLL | IRM | segments | X'00040000'). */
export function buildRequest(spec: RequestSpec): Uint8Array {
  try {
    return encodeRequest(codecBuildRequest(requestOptions(spec)), { ebcdicPage: spec.io.codePage.ebcdic ? spec.io.codePage : undefined });
  } catch (e) {
    throw buildError(spec.kind, e);
  }
}

/** The request kinds whose IRM depends only on the interaction, the trancode and the connection. */
export type TemplateKind = 'send-receive' | 'send-only' | 'send-only-ordered' | 'send-only-ack' | 'send-only-errors';

/** Most IRM templates one connection keeps (interaction profiles × trancodes × kinds). */
const MAX_TEMPLATES = 256;

/**
 * Request frames for one connection, built from cached IRMs.
 *
 * The IRM of a data-carrying request (send-receive, send-only) depends only on the resolved
 * interaction, the request kind, the trancode and the connection's client ID and socket type; the
 * data segments are all that change between requests. So the IRM is encoded once by the codec
 * (`buildRequest` + `encodeIrm`, exactly the bytes `encodeRequest` writes) and kept; each request
 * then allocates its frame once, writes LLLL, copies the IRM and encodes the trancode and data
 * straight into the frame, with the codec's `writeSegments` writing LL/ZZ and the end-of-message
 * marker. The result is byte-identical to `buildRequest` (tested).
 *
 * Interaction objects are the cache key (the client hands out one frozen object per interaction
 * profile); the cache holds at most `MAX_TEMPLATES` IRMs and is emptied when full. Connections on
 * transaction and non-persistent sockets, which carry one interaction, build without caching.
 */
export class FrameBuilder {
  private readonly irms = new Map<ResolvedInteraction, Map<string, Uint8Array>>();
  private count = 0;

  constructor(
    private readonly clientId: string,
    private readonly socketType: SocketType,
  ) {}

  /** The encoded IRM (no LLLL) of a `kind` request for `trancode` with interaction `io`. */
  irm(kind: TemplateKind, io: ResolvedInteraction, trancode: string): Uint8Array {
    let byKey = this.irms.get(io);
    const key = kind === 'send-receive' ? trancode : `${kind}\u0000${trancode}`;
    const hit = byKey?.get(key);
    if (hit !== undefined) return hit;
    let irm: Uint8Array;
    try {
      const request = codecBuildRequest(requestOptions({ kind, io, trancode, clientId: this.clientId, socketType: this.socketType }));
      irm = encodeIrm(request.irm, request.exit, { codeSet: request.codeSet, ebcdicPage: io.codePage.ebcdic ? io.codePage : undefined });
    } catch (e) {
      throw buildError(kind, e);
    }
    // Only a frozen interaction (what `resolveInteraction` returns) is known not to change, and only
    // a persistent socket carries requests enough to repay the cache.
    if (this.socketType !== 'persistent' || !Object.isFrozen(io)) return irm;
    if (this.count >= MAX_TEMPLATES) {
      this.irms.clear();
      this.count = 0;
      byKey = undefined;
    }
    if (byKey === undefined) this.irms.set(io, (byKey = new Map()));
    byKey.set(key, irm);
    this.count++;
    return irm;
  }

  /**
   * The frame of a `kind` request: its IRM, then `trancode` (blank-padded to 8) and `data` as one
   * segment when they fit one (else the data as `buildSegments` splits it), or `segments` as given.
   */
  frame(kind: TemplateKind, io: ResolvedInteraction, trancode: string, input: { readonly segments: readonly Uint8Array[] } | { readonly data: string | Uint8Array }): Uint8Array {
    const irm = this.irm(kind, io, trancode);
    const irmEnd = LLLL_SIZE + irm.length;
    let out: Buffer;
    if ('segments' in input) {
      const total = irmEnd + segmentsSize(input.segments);
      out = Buffer.allocUnsafe(total);
      try {
        writeSegments(input.segments, out, irmEnd);
      } catch (e) {
        throw buildError(kind, e);
      }
    } else {
      const data = input.data;
      // Trancode and data are written where the segment's data goes; `writeSegments` then adds LL/ZZ
      // and the end-of-message marker around them (copying the segment onto itself).
      const segment = TRANCODE_LENGTH + data.length;
      if (segment > MAX_SEGMENT_DATA) return this.frame(kind, io, trancode, { segments: buildSegments(trancode, data, io.codePage, false) });
      const at = irmEnd + LLZZ_SIZE;
      out = Buffer.allocUnsafe(at + segment + END_OF_MESSAGE.length);
      io.codePage.encodeInto(trancode, out, at, TRANCODE_LENGTH);
      if (typeof data === 'string') io.codePage.encodeInto(data, out, at + TRANCODE_LENGTH, data.length);
      else out.set(data, at + TRANCODE_LENGTH);
      writeSegments([out.subarray(at, at + segment)], out, irmEnd);
    }
    out.writeUInt32BE(out.length, 0); // LLLL: the total length, counting itself
    out.set(irm, LLLL_SIZE);
    return out;
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

/** IRM_TRNCOD of a PING (spec §6.6): the codec's constant. */
export { PING_TRANCODE };

/** The one data segment of a PING: `PING IMS_CONNECT` (the codec's `PING_REQUEST_TEXT`). */
export function pingSegments(page: CodePage): Uint8Array[] {
  return [page.encode(PING_REQUEST_TEXT)];
}

/**
 * HWSSMPL0/1 answer a PING with a data segment `HWSC0030I *PING RESPONSE*` (spec §6.6); the client
 * checks for the codec's message number only, so a padded or longer text still counts.
 */
export { PING_RESPONSE_MESSAGE_ID };

/** True when the segments are IMS Connect's PING response. */
export function isPingResponse(segments: readonly Uint8Array[], page: CodePage): boolean {
  return segmentsText(segments, page).trimStart().startsWith(PING_RESPONSE_MESSAGE_ID);
}
