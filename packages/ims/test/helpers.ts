import { CP037, OtmaMessageType, OtmaResponseFlag, type OtmaMessage } from '@imsplex/codec';
import { OtmaLinkClient } from '../src/otma/client.js';
import { readTransactionRest, tokenId } from '../src/otma/codec-adapter.js';

export const text = (m: OtmaMessage | undefined): string[] => (m?.segments ?? []).map((s) => CP037.decode(s));
export const isData = (m: OtmaMessage | undefined) => !!m && (m.control.messageType & OtmaMessageType.DATA) !== 0;
export const isAck = (m: OtmaMessage | undefined) => !!m && (m.control.messageType & OtmaMessageType.RESPONSE) !== 0 && (m.control.responseFlags & OtmaResponseFlag.ACK) !== 0;
export const isNak = (m: OtmaMessage | undefined) => !!m && (m.control.messageType & OtmaMessageType.RESPONSE) !== 0 && (m.control.responseFlags & OtmaResponseFlag.NAK) !== 0;
export const isCommit = (m: OtmaMessage | undefined) => !!m && m.control.messageType === OtmaMessageType.COMMIT_CONFIRMATION;
export const ackRequested = (m: OtmaMessage | undefined) => !!m && (m.control.responseFlags & OtmaResponseFlag.RESPONSE_REQUESTED) !== 0;
export function conversationOf(m: OtmaMessage | undefined): string | undefined {
  if (m?.state?.form !== 'transaction') return undefined;
  return tokenId(readTransactionRest(m.state.rest, CP037).serverToken);
}
export async function client(port: number, member = 'HWS1', extra: { superMember?: string; ackTimeoutSec?: number; host?: string } = {}): Promise<OtmaLinkClient> {
  return OtmaLinkClient.connect({ host: extra.host ?? '127.0.0.1', port, member, ...extra });
}
