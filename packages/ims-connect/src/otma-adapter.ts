/**
 * LOCAL ADAPTER — OTMA fields the codec leaves raw (for the lead: these layouts belong in
 * @imsplex/codec next to `OtmaTransactionState`; packages/ims has the same table in
 * src/otma/codec-adapter.ts). The codec decodes transaction state data only up to the server-state
 * byte and client-bid state only up to `OMHDRFL2`, because IBM's offsets were not confirmed
 * (spec §11.2). Both ends of the imsplex XCF link must agree, so these follow the IMS engine's choice:
 *
 * Transaction state data after the server-state byte (66 bytes):
 * sync flags (commit mode, IRM_F2 bits) 1 | sync level + options (IRM_F3 bits) 1 | MFS map name 8 |
 * server token 16 | correlator 16 | context ID 16 | LTERM override / reroute tpipe 8.
 *
 * Client-bid state after `OMHDRFL2` (8 bytes): input limit 2 | ACK timeout (s) 2 | super member 4.
 */
import { defineLayout, type CodePage, type LayoutValue } from '@imsplex/codec';

/** Bytes 3.. of the transaction state data. [INF] imsplex layout shared with packages/ims. */
export const TRANSACTION_STATE_REST = defineLayout('imsplex TMAMHDR after server state', [
  { name: 'syncFlags', kind: 'u8', doc: 'commit mode: CommitMode.CM0 / CM1' },
  { name: 'syncLevel', kind: 'u8', doc: 'low 2 bits sync level; IrmF3.PURGE / IrmF3.REROUT' },
  { name: 'mapName', kind: 'char', length: 8, ibm: 'OMHDRMAP' },
  { name: 'serverToken', kind: 'bytes', length: 16, doc: 'conversation ID' },
  { name: 'correlator', kind: 'bytes', length: 16 },
  { name: 'contextId', kind: 'bytes', length: 16 },
  { name: 'ltermOverride', kind: 'char', length: 8, ibm: 'TMAMHLTM' },
]);
export type TransactionStateRest = LayoutValue<typeof TRANSACTION_STATE_REST>;

/** Bytes 46.. of the client-bid state data. [INF] imsplex layout shared with packages/ims. */
export const MEMBER_STATE_REST = defineLayout('imsplex client-bid after OMHDRFL2', [
  { name: 'inputLimit', kind: 'u16', ibm: 'OMHDRTIB' },
  { name: 'ackTimeout', kind: 'u16', ibm: 'OMHDRTO' },
  { name: 'superMember', kind: 'char', length: 4, ibm: 'OMHDRSMN' },
]);

/**
 * HOLD-QUEUE DEPTH HOOK (CSM/RSM X'80', `CSM_AMSG`). IBM: IMS Connect sets X'80' when asynchronous
 * output waits on the client's tpipe hold queue; how OTMA tells IMS Connect is not documented. imsplex
 * proposes [INF] a u32 right after the fields above — transaction state-data bytes 69–72 (rest offset
 * 66), making the section 73 bytes (X'0049') — holding the number of messages waiting on the message's
 * tpipe hold queue when IMS sent it, not counting the message itself. IMS Connect reads it from every
 * DATA and COMMIT_CONFIRMATION message that carries it; IMS's "no messages" answer means 0. A shorter
 * section (today's engine: 69 bytes) carries no signal and leaves the flag off.
 */
export const HOLD_QUEUE_DEPTH_REST_OFFSET = TRANSACTION_STATE_REST.size;

/** The hold-queue depth signal in a transaction state rest, or undefined when IMS did not send one. */
export function readHoldQueueDepth(rest: Uint8Array): number | undefined {
  const o = HOLD_QUEUE_DEPTH_REST_OFFSET;
  if (rest.length < o + 4) return undefined;
  return rest[o]! * 0x1000000 + ((rest[o + 1]! << 16) | (rest[o + 2]! << 8) | rest[o + 3]!);
}

/** Read the transaction state rest, tolerating a short section. */
export function readTransactionRest(rest: Uint8Array, page: CodePage): TransactionStateRest {
  let b = rest;
  if (b.length < TRANSACTION_STATE_REST.size) {
    b = new Uint8Array(TRANSACTION_STATE_REST.size);
    b.set(rest.subarray(0, TRANSACTION_STATE_REST.size));
  }
  return TRANSACTION_STATE_REST.read(b, 0, page);
}

/** Encode the transaction state rest. */
export function writeTransactionRest(v: Partial<TransactionStateRest>, page: CodePage): Uint8Array {
  return TRANSACTION_STATE_REST.encode(
    {
      syncFlags: v.syncFlags ?? 0,
      syncLevel: v.syncLevel ?? 0,
      mapName: v.mapName ?? '',
      serverToken: v.serverToken ?? new Uint8Array(16),
      correlator: v.correlator ?? new Uint8Array(16),
      contextId: v.contextId ?? new Uint8Array(16),
      ltermOverride: v.ltermOverride ?? '',
    },
    page,
  );
}

/** Encode the client-bid rest. */
export function writeMemberRest(v: { inputLimit?: number; ackTimeout?: number; superMember?: string }, page: CodePage): Uint8Array {
  return MEMBER_STATE_REST.encode({ inputLimit: v.inputLimit ?? 0, ackTimeout: v.ackTimeout ?? 0, superMember: v.superMember ?? '' }, page);
}
