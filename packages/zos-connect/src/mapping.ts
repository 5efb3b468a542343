/**
 * JSON ⇄ IMS message segments for one service (spec §4): the request object becomes one data segment
 * per request segment map (LL/ZZ and the transaction code filled by the runtime), and IMS output
 * segments are decoded by the response segment maps. DFS messages that IMS sends in place of the
 * application's output are recognised and raised as coded errors.
 */
import { getCodePage, isImsplexError, type CodePage } from '@imsplex/codec';
import { ZosConnectError, ZosConnectErrorCode } from './errors.js';
import { type SegmentMap, type ServiceConfig } from './config/model.js';

/** Data segments for the client, and whether the first already holds the transaction code. */
export interface EncodedRequest {
  readonly segments: Uint8Array[];
  readonly includesTrancode: boolean;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether `input` already has a value at `path` (then its default does not apply). */
function hasValue(input: Record<string, unknown>, path: readonly string[]): boolean {
  let cur: unknown = input;
  for (const k of path) {
    if (!isObj(cur)) return false;
    cur = cur[k];
  }
  return cur !== undefined && cur !== null;
}

function withDefaults(input: Record<string, unknown>, defaults: readonly { readonly path: readonly string[]; readonly value: string }[]): Record<string, unknown> {
  // The request usually carries every defaulted field: then there is nothing to copy.
  if (defaults.every((d) => hasValue(input, d.path))) return input;
  const out: Record<string, unknown> = { ...input };
  for (const d of defaults) {
    let cur: Record<string, unknown> = out;
    for (let i = 0; i < d.path.length - 1; i++) {
      const k = d.path[i]!;
      const next = cur[k];
      if (next !== undefined && !isObj(next)) break;
      cur[k] = { ...(next ?? {}) };
      cur = cur[k] as Record<string, unknown>;
    }
    const last = d.path[d.path.length - 1]!;
    if (cur[last] === undefined || cur[last] === null) cur[last] = d.value;
  }
  return out;
}

/** Encode a service request object into data segments. Throws `ZCON_ERR_BAD_REQUEST` naming the field. */
export function encodeRequest(service: ServiceConfig, input: unknown, codePage: CodePage): EncodedRequest {
  if (!isObj(input)) throw new ZosConnectError(ZosConnectErrorCode.BAD_REQUEST, 'The request payload could not be parsed: the request must be a JSON object.');
  const segments: Uint8Array[] = [];
  let includesTrancode = false;
  const request = service.request;
  for (let i = 0; i < request.length; i++) {
    const seg = request[i]!;
    const part = seg.name === undefined ? input : input[seg.name];
    if (seg.name !== undefined && part !== undefined && !isObj(part) && seg.kind === 'copybook') {
      throw new ZosConnectError(ZosConnectErrorCode.BAD_REQUEST, `The request payload could not be parsed: "${seg.name}" must be an object.`, { details: { field: seg.name } });
    }
    if (seg.kind === 'text') {
      const v = isObj(part) ? part[seg.property] : undefined;
      if (v !== undefined && typeof v !== 'string') throw new ZosConnectError(ZosConnectErrorCode.BAD_REQUEST, `The request payload could not be parsed: "${seg.property}" must be a string.`, { details: { field: seg.property } });
      segments.push(codePage.encode(v ?? ''));
      continue;
    }
    let record: Uint8Array;
    try {
      record = seg.copybook.encode(withDefaults(isObj(part) ? part : {}, seg.defaults));
    } catch (e) {
      if (isImsplexError(e)) {
        throw new ZosConnectError(ZosConnectErrorCode.BAD_REQUEST, `The request payload could not be converted: ${e.message}`, { cause: e, details: { causeCode: e.code, ...(typeof e.details['field'] === 'string' ? { field: e.details['field'] } : {}) } });
      }
      throw e;
    }
    if (seg.trancodeField) {
      const page = seg.copybook.codePage;
      page.encodeInto(service.trancode, record, seg.trancodeField.offset, seg.trancodeField.size);
      if (i === 0) includesTrancode = true;
    }
    // LL/ZZ are written by the client from the real length; the record's own are dropped.
    segments.push(seg.llzz ? record.subarray(4) : record);
  }
  return { segments, includesTrancode };
}

/** DFS message recognised in IMS output. */
const DFS = /^(DFS\d{3,4}[A-Z]?)\b/;

/** Raise the coded error for a DFS message that replaced the output, or return undefined. */
export function dfsError(segments: readonly Uint8Array[], page: CodePage, service: string): ZosConnectError | undefined {
  const first = segments[0];
  if (!first || first.length < 6) return undefined;
  const text = page.decode(first.subarray(0, Math.min(first.length, 512))).trim();
  const m = DFS.exec(text);
  if (!m) return undefined;
  const id = m[1]!;
  const code =
    id === 'DFS064'
      ? ZosConnectErrorCode.IMS_DESTINATION
      : id === 'DFS065'
        ? ZosConnectErrorCode.IMS_STOPPED
        : id.startsWith('DFS555')
          ? ZosConnectErrorCode.IMS_ABEND
          : id === 'DFS2082'
            ? ZosConnectErrorCode.IMS_NO_REPLY
            : ZosConnectErrorCode.IMS_MESSAGE;
  return new ZosConnectError(code, `IMS returned ${id} instead of output for service ${service}: ${text}`, { details: { dfsMessage: text, dfsId: id, service } });
}

function decodeOne(seg: SegmentMap, bytes: Uint8Array, page: CodePage): Record<string, unknown> {
  if (seg.kind === 'text') return { [seg.property]: page.decode(bytes).replace(/[\s\0]+$/, '') };
  let record = bytes;
  if (seg.llzz) {
    record = new Uint8Array(bytes.length + 4);
    new DataView(record.buffer).setUint16(0, Math.min(0xffff, bytes.length + 4));
    record.set(bytes, 4);
  }
  const book = seg.copybook;
  if (record.length < book.minSize) {
    // Short output: IMS programs often insert only the used part of a segment. Pad with blanks.
    const padded = new Uint8Array(book.minSize).fill(book.codePage.encode(' ')[0] ?? 0x40);
    padded.set(record);
    record = padded;
  }
  try {
    return book.decode(record);
  } catch (e) {
    if (isImsplexError(e)) throw new ZosConnectError(ZosConnectErrorCode.BAD_RESPONSE, `The IMS output could not be converted: ${e.message}`, { cause: e, details: { causeCode: e.code } });
    throw e;
  }
}

/** Decode the IMS output segments into the service response object. */
export function decodeResponse(service: ServiceConfig, segments: readonly Uint8Array[], codePage: CodePage): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const maps = service.response;
  let i = 0;
  for (const seg of maps) {
    if (seg.repeat) {
      const items: Record<string, unknown>[] = [];
      for (; i < segments.length; i++) items.push(decodeOne(seg, segments[i]!, codePage));
      out[seg.name ?? 'segments'] = items;
      break;
    }
    const bytes = segments[i++];
    if (bytes === undefined) break;
    const v = decodeOne(seg, bytes, codePage);
    if (seg.name !== undefined) out[seg.name] = v;
    else Object.assign(out, v);
  }
  return out;
}

/** Code page of a service (its interaction profile's). */
export function codePageOf(name: string): CodePage {
  return getCodePage(name as Parameters<typeof getCodePage>[0]);
}
