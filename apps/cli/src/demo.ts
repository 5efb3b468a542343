/**
 * `imsplex demo`: decodes the spec's worked example — a SAMPL1 send-receive for IVTNO
 * (ims-connect-protocol.md §13.1, 113 bytes) and its reply (§13.2, 39 bytes) — with @imsplex/codec,
 * re-encodes both and checks the bytes are identical. A quick smoke test of the codec.
 */
import { encodeReply, encodeRequest } from '@imsplex/codec';
import { decodeBytes, formatDecoded } from './decode.js';
import { hexDump, parseHex } from './hex.js';

/** Spec §13.1: SAMPL1 send-receive, CM1, sync NONE, trancode IVTNO, "DISPLAY LAST1". */
export const SAMPLE_REQUEST_HEX = `
0000  00 00 00 71 00 50 00 00 5C E2 C1 D4 D7 D3 F1 5C
0010  00 00 00 00 00 31 10 00 C3 D3 C9 C5 D5 E3 F0 F1
0020  00 20 00 40 C9 E5 E3 D5 D6 40 40 40 C9 D4 E2 F1
0030  40 40 40 40 40 40 40 40 40 40 40 40 E4 E2 C5 D9
0040  F0 F1 40 40 40 40 40 40 40 40 40 40 E2 C5 C3 D9
0050  C5 E3 40 40 00 19 00 00 C9 E5 E3 D5 D6 40 40 40
0060  C4 C9 E2 D7 D3 C1 E8 40 D3 C1 E2 E3 F1 00 04 00
0070  00`;

/** Spec §13.2: its reply, "ENTRY WAS DISPLAYED" + CSM (protocol level 2). */
export const SAMPLE_REPLY_HEX = `
0000  00 00 00 27 00 17 00 00 C5 D5 E3 D9 E8 40 E6 C1
0010  E2 40 C4 C9 E2 D7 D3 C1 E8 C5 C4 00 0C 10 02 5C
0020  C3 E2 D4 D6 D2 E8 5C`;

/** Result of the demo: the text printed and whether both round trips were byte-exact. */
export interface DemoResult {
  readonly text: string;
  readonly ok: boolean;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Runs the demo. */
export function runDemo(): DemoResult {
  const out: string[] = [];
  const req = parseHex(SAMPLE_REQUEST_HEX);
  const rep = parseHex(SAMPLE_REPLY_HEX);
  const [dReq] = decodeBytes(req, { as: 'request' });
  const [dRep] = decodeBytes(rep, { as: 'reply' });
  out.push('Spec §13.1 — SAMPL1 send-receive request (client → IMS Connect):');
  out.push(hexDump(req).replace(/^/gm, '  '));
  out.push(formatDecoded(dReq!));
  const reReq = dReq?.kind === 'request' ? encodeRequest(dReq.value) : new Uint8Array();
  const okReq = same(reReq, req);
  out.push(`  re-encoded: ${okReq ? 'identical' : 'DIFFERENT'} (${reReq.length} bytes)`);
  out.push('');
  out.push('Spec §13.2 — its reply (IMS Connect → client):');
  out.push(hexDump(rep).replace(/^/gm, '  '));
  out.push(formatDecoded(dRep!));
  const reRep = dRep?.kind === 'reply' ? encodeReply(dRep.value, { llll: true }) : new Uint8Array();
  const okRep = same(reRep, rep);
  out.push(`  re-encoded: ${okRep ? 'identical' : 'DIFFERENT'} (${reRep.length} bytes)`);
  return { text: out.join('\n') + '\n', ok: okReq && okRep };
}
