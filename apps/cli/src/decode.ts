/**
 * Bytes → decoded IMS Connect requests (IRM), replies, XCF-link frames or raw OTMA messages, and
 * their human rendering. Every decoder is `@imsplex/codec`'s; this module only tries them in turn and
 * formats the result.
 */
import {
  LATIN1,
  ReplyFrameReader,
  RequestFrameReader,
  SocketType,
  XcfFrameReader,
  decodeOtmaMessage,
  decodeReply,
  decodeRequest,
  decodeXcfFrame,
  describeIrmTimer,
  describeRsm,
  getCodePage,
  isImsplexError,
  type CodePage,
  type ImsReply,
  type ImsRequest,
  type OtmaMessage,
} from '@imsplex/codec';
import { CliError, CliErrorCode } from './errors.js';
import { hexDump } from './hex.js';

/** What to decode the bytes as. */
export type DecodeAs = 'auto' | 'request' | 'reply' | 'reply0' | 'xcf' | 'otma';

/** One decoded structure. */
export type Decoded =
  | { readonly kind: 'request'; readonly bytes: Uint8Array; readonly value: ImsRequest }
  | { readonly kind: 'reply'; readonly bytes: Uint8Array; readonly llll: boolean; readonly value: ImsReply }
  | { readonly kind: 'otma'; readonly bytes: Uint8Array; readonly xcf: boolean; readonly value: OtmaMessage };

/** Options of {@link decodeBytes}. */
export interface DecodeOptions {
  readonly as?: DecodeAs;
  /** EBCDIC code page for text (default cp037). */
  readonly codePage?: string;
}

function page(name: string | undefined): CodePage {
  try {
    return getCodePage((name ?? 'cp037') as Parameters<typeof getCodePage>[0]);
  } catch (e) {
    throw new CliError(CliErrorCode.BAD_OPTION, `unknown code page ${name}`, { cause: e });
  }
}

function asRequests(bytes: Uint8Array): Decoded[] {
  const reader = new RequestFrameReader();
  const frames = reader.push(bytes);
  if (frames.length === 0) throw new CliError(CliErrorCode.UNDECODABLE, 'no complete request (LLLL announces more bytes than given)');
  const used = frames.reduce((n, f) => n + f.length, 0);
  if (used !== bytes.length) throw new CliError(CliErrorCode.UNDECODABLE, `${bytes.length - used} bytes after the last complete request`);
  return frames.map((f) => ({ kind: 'request' as const, bytes: f, value: decodeRequest(f, { allowEmpty: true }) }));
}

function asReplies(bytes: Uint8Array, llll: boolean, cp: CodePage): Decoded[] {
  const reader = new ReplyFrameReader({ llll, codePage: cp });
  const frames = reader.push(bytes);
  if (frames.length === 0) throw new CliError(CliErrorCode.UNDECODABLE, 'no complete reply');
  const used = frames.reduce((n, f) => n + f.length, 0);
  if (used !== bytes.length) throw new CliError(CliErrorCode.UNDECODABLE, `${bytes.length - used} bytes after the last complete reply`);
  return frames.map((f) => ({ kind: 'reply' as const, bytes: f, llll, value: decodeReply(f, { llll, codePage: cp }) }));
}

function asXcf(bytes: Uint8Array, cp: CodePage): Decoded[] {
  const reader = new XcfFrameReader({ codePage: cp });
  const frames = reader.push(bytes);
  if (frames.length === 0 || reader.bufferedBytes !== 0) throw new CliError(CliErrorCode.UNDECODABLE, 'not a sequence of complete XCF-link frames');
  return frames.map((f) => ({ kind: 'otma' as const, bytes: f, xcf: true, value: decodeXcfFrame(f, { codePage: cp }) }));
}

/**
 * Decodes bytes. With `as: 'auto'` tries, in order: requests, SAMPL1 replies (with LLLL), SAMPLE
 * replies, XCF-link frames, one raw OTMA message; the first that consumes every byte wins.
 * @throws {CliError} `CLI_ERR_UNDECODABLE` naming why each attempt failed.
 */
export function decodeBytes(bytes: Uint8Array, options: DecodeOptions = {}): Decoded[] {
  const cp = page(options.codePage);
  const attempts: Array<[string, () => Decoded[]]> = [
    ['request', () => asRequests(bytes)],
    ['reply (*SAMPL1*, with LLLL)', () => asReplies(bytes, true, cp)],
    ['reply (*SAMPLE*)', () => asReplies(bytes, false, cp)],
    ['XCF-link frame', () => asXcf(bytes, cp)],
    ['OTMA message', () => [{ kind: 'otma', bytes, xcf: false, value: decodeOtmaMessage(bytes, { codePage: cp }) }]],
  ];
  const as = options.as ?? 'auto';
  const pick: Record<DecodeAs, number[]> = { auto: [0, 1, 2, 3, 4], request: [0], reply: [1], reply0: [2], xcf: [3], otma: [4] };
  const why: string[] = [];
  for (const i of pick[as]) {
    const [name, f] = attempts[i]!;
    try {
      return f();
    } catch (e) {
      if (!isImsplexError(e)) throw e;
      why.push(`as ${name}: ${e.code} ${e.message}`);
    }
  }
  throw new CliError(CliErrorCode.UNDECODABLE, `cannot decode ${bytes.length} bytes:\n  ${why.join('\n  ')}`, { details: { attempts: why } });
}

const hex2 = (n: number): string => `X'${n.toString(16).toUpperCase().padStart(2, '0')}'`;
const socketName = (v: number): string => Object.entries(SocketType).find(([, x]) => x === v)?.[0] ?? hex2(v);

/** Decodes segment bytes as text in the given code page, with non-printables shown as '.'. */
export function segmentText(seg: Uint8Array, cp: CodePage): string {
  let out = '';
  for (const ch of cp.decode(seg)) {
    const c = ch.charCodeAt(0);
    out += c < 0x20 || (c >= 0x7f && c <= 0x9f) ? '.' : ch;
  }
  return out;
}

/** Renders one decoded structure for people. */
export function formatDecoded(d: Decoded, options: { codePage?: string; hex?: boolean } = {}): string {
  const cp = page(options.codePage);
  const out: string[] = [];
  const segs = (segments: readonly Uint8Array[], textPage: CodePage): void => {
    segments.forEach((s, i) => out.push(`  segment ${i + 1} (${s.length} bytes): "${segmentText(s, textPage)}"`));
  };
  switch (d.kind) {
    case 'request': {
      const r = d.value;
      const irm = r.irm;
      const textPage = r.codeSet === 'ascii' ? LATIN1 : cp;
      out.push(`IMS Connect request — ${irm.id} (${r.exit.id}), ${r.codeSet.toUpperCase()}, ${d.bytes.length} bytes`);
      out.push(`  IRM_LEN ${irm.length}  IRM_ARCH ${irm.arch}  IRM_F0 ${hex2(irm.f0.raw)}  IRM_F5 ${hex2(irm.f5.raw)}  IRM_TIMER ${describeIrmTimer(irm.timer)}`);
      out.push(`  IRM_SOCT ${socketName(irm.socketType)}  IRM_ES ${hex2(irm.encodingScheme)}  IRM_CLIENTID "${irm.clientId}"${irm.nakReasonCode ? `  IRM_NAK_RSNCDE ${irm.nakReasonCode}` : ''}`);
      const u = irm.user;
      if (u?.kind === 'sample') {
        out.push(`  IRM_F4 ${hex2(u.f4.raw)} ${u.f4.type}  IRM_F2 ${hex2(u.f2.raw)} ${u.f2.commitMode}  IRM_F3 ${hex2(u.f3.raw)} sync ${u.f3.syncLevel}${u.f3.purge ? ' PURGE' : ''}${u.f3.reroute ? ' REROUTE' : ''}${u.f3.cancelClientId ? ' CANCID' : ''}  IRM_F1 ${hex2(u.f1.raw)}`);
        out.push(`  IRM_TRNCOD "${u.trancode}"  IRM_IMSDESTID "${u.datastore}"  IRM_LTERM "${u.lterm}"`);
        out.push(`  IRM_RACF_USERID "${u.racfUserId}"  IRM_RACF_GRNAME "${u.racfGroup}"  IRM_RACF_PW ${u.racfPassword ? '(set)' : '(blank)'}`);
        for (const [k, label] of [
          ['applName', 'IRM_APPL_NM'],
          ['rerouteName', 'IRM_REROUT_NM/IRM_RT_ALTCID'],
          ['modName', 'IRM_MODNAME'],
        ] as const) {
          const v = u[k];
          if (typeof v === 'string' && v !== '') out.push(`  ${label} "${v}"`);
        }
      } else if (u?.kind === 'custom') out.push(`  user part: ${JSON.stringify(u.value)}`);
      if (r.otma) out.push(`  OTMA headers: type ${hex2(r.otma.control.messageType)} tpipe "${String(r.otma.control.tpipe)}"`);
      if (irm.extensions.length) out.push(`  IRM extensions: ${irm.extensions.length}`);
      segs(r.segments, textPage);
      break;
    }
    case 'reply': {
      const r = d.value;
      const textPage = r.codeSet === 'ascii' ? LATIN1 : cp;
      out.push(`IMS Connect reply — ${d.llll ? '*SAMPL1* framing (LLLL)' : '*SAMPLE* framing'}, ${d.bytes.length} bytes`);
      if (r.kind === 'status') {
        out.push(`  RSM: return code ${r.rsm.returnCode}, reason ${r.rsm.reasonCode}${r.rsm.reasonName ? ` (${r.rsm.reasonName})` : ''}, flags ${hex2(r.rsm.flags)}, byte 3 ${hex2(r.rsm.racfOrOtmaReason)}`);
        out.push(`  ${describeRsm(r.rsm.returnCode, r.rsm.reasonCode)}`);
      } else {
        if (r.mod) out.push(`  *REQMOD* MOD name "${r.mod}"`);
        if (r.generatedClientId) out.push(`  *GENCID* client ID "${r.generatedClientId}"`);
        if (r.correlationToken) out.push(`  *CORTKN* correlation token (${r.correlationToken.length} bytes)`);
        segs(r.segments, textPage);
        const f = r.csm.flags;
        const bits = [f & 0x80 ? 'async output queued' : '', f & 0x40 ? 'conversation continues' : '', f & 0x20 ? 'ACK/NAK required' : '', f & 0x10 ? `protocol level ${hex2(r.csm.protocolLevel)}` : ''].filter(Boolean);
        out.push(`  CSM *CSMOKY*: flags ${hex2(f)}${bits.length ? ` (${bits.join(', ')})` : ''}`);
      }
      break;
    }
    case 'otma': {
      const m = d.value;
      const c = m.control as unknown as Record<string, unknown>;
      out.push(`OTMA message${d.xcf ? ' (imsplex XCF-link frame)' : ''}, ${d.bytes.length} bytes`);
      const ctl = Object.entries(c)
        .filter(([, v]) => typeof v === 'number' || typeof v === 'string')
        .map(([k, v]) => `${k}=${typeof v === 'number' ? hex2(v) : `"${v}"`}`);
      out.push(`  control: ${ctl.join(' ')}`);
      if (m.state) out.push(`  state: ${m.state.form}${'serverState' in m.state ? ` serverState=${hex2(m.state.serverState)}` : ''}`);
      if (m.security) out.push('  security data present');
      if (m.user) {
        const u = m.user as unknown as Record<string, unknown>;
        out.push(`  user data: ${Object.entries(u).filter(([, v]) => typeof v === 'number' || typeof v === 'string').map(([k, v]) => `${k}=${typeof v === 'number' ? v : `"${v}"`}`).join(' ')}`);
      }
      if (m.segments) segs(m.segments, cp);
      break;
    }
  }
  if (options.hex) out.push(hexDump(d.bytes).replace(/^/gm, '  '));
  return out.join('\n');
}
