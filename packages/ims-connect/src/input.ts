/**
 * Adapter from the codec's `decodeRequest` to the session's `SessionRequest`, and the RSM choice for
 * input the codec rejects. All byte layouts are the codec's; this file only maps decoded values.
 */
import { CodecError, LATIN1, ReasonCode, ReturnCode, decodeRequest, matchExit, type CodePage, type ImsRequest, type MessageType } from '@imsplex/codec';
import { hwsjavRequestFields } from './hwsjav.js';
import type { DecodeResult, ReplyFraming } from './session.js';
import type { SessionRequest } from './request.js';

/**
 * RSM return code for a reason the codec reports. [INF] IMS Connect itself reads LLLL (total length
 * errors → RC 8, "error detected by IMS Connect"); everything inside the message is the exit's
 * parsing (→ RC 4, "exit built an error message", as IBM documents for reason 9 in spec §2.3).
 */
function returnCodeFor(reason: number): number {
  return reason === ReasonCode.INVALID_TOTAL_LENGTH ? ReturnCode.IMS_CONNECT_ERROR : ReturnCode.EXIT_ERROR;
}

/** Framing of an RSM for a message whose IRM_ID sits at `bytes[8..16]`, if recognisable. */
export function framingOf(bytes: Uint8Array): ReplyFraming | undefined {
  if (bytes.length < 16) return undefined;
  const m = matchExit(bytes, 8);
  return m ? { exitId: m.exit.id, replyHasLlll: m.exit.replyHasLlll, otmaHeaders: m.exit.otmaHeaders, codeSet: m.codeSet } : undefined;
}

/** Could `trim()` remove this code unit? (ASCII controls/space, NBSP, and the Unicode spaces.) */
const mayBeSpace = (c: number): boolean => c <= 0x20 || c === 0xa0 || c >= 0x1680;

/** A decoded name field, upper case, without blanks. The codec already strips the padding, so the
 * (costly) trim/fold runs only for the rare field that still needs it (checked with a char loop). */
function text(v: unknown): string {
  if (typeof v !== 'string' || v === '') return '';
  const last = v.length - 1;
  if (mayBeSpace(v.charCodeAt(0)) || mayBeSpace(v.charCodeAt(last))) return v.trim().toUpperCase();
  for (let i = 0; i <= last; i++) {
    const c = v.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) return v.toUpperCase();
  }
  return v;
}
const byte = (v: unknown, dflt = 0): number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255 ? v : dflt);

/** Decode one whole input frame for a session. Never throws for bad bytes. */
export function decodeInput(bytes: Uint8Array, page: CodePage): DecodeResult {
  let r: ImsRequest;
  try {
    r = decodeRequest(bytes, { ebcdicPage: page, allowEmpty: true });
  } catch (e) {
    return rejected(bytes, e);
  }
  return { ok: true, request: toSessionRequest(r, page) };
}

function rejected(bytes: Uint8Array, e: unknown): DecodeResult {
  if (!(e instanceof CodecError)) throw e;
  const framing = framingOf(bytes);
  if (!framing) return { ok: false, silent: true, why: e.message };
  const reason = typeof e.details.reason === 'number' ? e.details.reason : ReasonCode.INVALID_BUFFER;
  return { ok: false, silent: false, returnCode: returnCodeFor(reason), reasonCode: reason, framing, why: e.message };
}

function toSessionRequest(r: ImsRequest, page: CodePage): SessionRequest {
  const { irm, exit, codeSet } = r;
  const u = irm.user;
  if (exit.otmaHeaders && r.otma !== undefined) {
    // HWSJAVA0: everything but timer, socket type and client ID comes from the client's OTMA headers.
    const h = hwsjavRequestFields(r.otma, irm.f5.raw, codeSet === 'ascii' ? LATIN1 : page);
    return {
      exitId: exit.id,
      replyHasLlll: exit.replyHasLlll,
      otmaHeaders: true,
      codeSet,
      arch: irm.arch,
      irmLength: irm.length,
      f0: irm.f0.raw | h.f0,
      f1: 0,
      f2: h.f2,
      f3: h.f3,
      f4: 0,
      f5: h.f5,
      type: h.type,
      timer: irm.timer,
      socketType: irm.socketType,
      nakReason: h.nakReason,
      // The tpipe names the client when IRM_CLIENTID is blank (except on RESUME TPIPE, where it may
      // name an alternate client ID).
      clientId: text(irm.clientId) || (h.type === 'RESUME_TPIPE' ? '' : h.tpipe),
      trancode: '',
      datastore: h.datastore,
      lterm: h.lterm,
      userId: h.userId,
      group: h.group,
      password: h.password,
      applName: '',
      rerouteOrAltClientId: h.rerouteOrAltClientId,
      modName: h.modName,
      segments: r.segments,
      otma: r.otmaHeaders,
      otmaMessage: r.otma,
    };
  }
  if (u !== null && u.kind === 'sample') {
    return {
      exitId: exit.id,
      replyHasLlll: exit.replyHasLlll,
      otmaHeaders: exit.otmaHeaders,
      codeSet,
      arch: irm.arch,
      irmLength: irm.length,
      f0: irm.f0.raw,
      f5: irm.f5.raw,
      timer: irm.timer,
      socketType: irm.socketType,
      nakReason: irm.nakReasonCode,
      clientId: text(irm.clientId),
      segments: r.segments,
      otma: r.otmaHeaders,
      f1: u.f1.raw,
      f2: u.f2.raw,
      f3: u.f3.raw,
      f4: u.f4.raw,
      type: u.f4.type === 'UNKNOWN' ? undefined : u.f4.type,
      trancode: text(u.trancode),
      datastore: text(u.datastore),
      lterm: text(u.lterm),
      userId: text(u.racfUserId),
      group: text(u.racfGroup),
      password: u.racfPassword ?? '',
      applName: text(u.applName),
      rerouteOrAltClientId: text(u.rerouteName),
      modName: text(u.modName),
    };
  }
  // A custom exit: its own layout may name the usual fields; otherwise the message is a CM1
  // send-receive with the exit's defaults. [INF]
  const v: Record<string, unknown> = u !== null && u.kind === 'custom' ? u.value : {};
  return {
    exitId: exit.id,
    replyHasLlll: exit.replyHasLlll,
    otmaHeaders: exit.otmaHeaders,
    codeSet,
    arch: irm.arch,
    irmLength: irm.length,
    f0: irm.f0.raw,
    f5: irm.f5.raw,
    timer: irm.timer,
    socketType: irm.socketType,
    nakReason: irm.nakReasonCode,
    clientId: text(irm.clientId),
    segments: r.segments,
    otma: r.otmaHeaders,
    f1: byte(v.f1),
    f2: byte(v.f2, 0x20),
    f3: byte(v.f3),
    f4: 0x40,
    type: (typeof v.messageType === 'string' ? v.messageType : 'SEND_RECEIVE') as MessageType,
    trancode: text(v.trancode),
    datastore: text(v.datastore),
    lterm: text(v.lterm),
    userId: text(v.racfUserId ?? v.userId),
    group: text(v.racfGroup ?? v.group),
    password: typeof v.racfPassword === 'string' ? v.racfPassword.trim() : '',
    applName: '',
    rerouteOrAltClientId: '',
    modName: '',
  };
}
