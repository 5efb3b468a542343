/**
 * ADAPTER — OTMA fields @imsplex/codec leaves raw. The codec decodes the transaction state data only up
 * to the server-state byte (`OtmaTransactionState.rest` holds the rest, raw, because IBM's offsets were
 * not confirmed — spec §11.2), and the client-bid state only up to `OMHDRFL2`. The IMS engine needs the
 * commit mode, sync level, server token (conversation), reroute tpipe, ACK timeout and super-member
 * name, so this file lays out those raw bytes. Every value here is an imsplex choice [INF]; the proper
 * home of these layouts is the codec (see the report to the lead), after which this file goes away.
 *
 * Transaction state data (`TMAMHDR`), offsets from the start of the state-data section:
 *
 * | off | len | field | values |
 * | --- | --- | --- | --- |
 * | 0 | 2 | length | 69 |
 * | 2 | 1 | server state | `OtmaServerState` (codec) |
 * | 3 | 1 | sync flags (commit mode) | `CommitMode.CM0` X'40' / `CommitMode.CM1` X'20' — the IRM_F2 bits |
 * | 4 | 1 | sync level + options | low two bits `SyncLevel` (NONE 0, CONFIRM 1); X'04' purge and X'08' reroute undeliverable CM0 output — the IRM_F3 bits |
 * | 5 | 8 | MFS map name (`OMHDRMAP`) | blanks |
 * | 13 | 16 | server token | conversation ID (binary), zeros when none |
 * | 29 | 16 | correlator | carried, not interpreted |
 * | 45 | 16 | context ID | carried, not interpreted |
 * | 61 | 8 | LTERM override / reroute tpipe (`TMAMHLTM`) | reroute tpipe name, blank when none |
 *
 * Client-bid state, bytes after `OMHDRFL2` (offset 46 onward):
 *
 * | off | len | field |
 * | --- | --- | --- |
 * | 46 | 2 | `OMHDRTIB` active input limit (used when `OMHDRFL2` X'80') |
 * | 48 | 2 | `OMHDRTO` CM1/CM0 ACK timeout in seconds (used when `OMHDRFL2` X'20') |
 * | 50 | 4 | `OMHDRSMN` super-member name, 1–4 characters (used when `OMHDRFL2` X'08') |
 */
import { type CodePage, CommitMode, IrmF3, SyncLevel, defineLayout, type LayoutValue } from '@imsplex/codec';

/** Bytes 3.. of the transaction state data (66 bytes). */
export const TRANSACTION_STATE_REST_LAYOUT = defineLayout('imsplex TMAMHDR after server state', [
  { name: 'syncFlags', kind: 'u8', doc: 'commit mode: CommitMode.CM0 / CM1 (IRM_F2 bits)' },
  { name: 'syncLevel', kind: 'u8', doc: 'low 2 bits sync level; IrmF3.PURGE / IrmF3.REROUT' },
  { name: 'mapName', kind: 'char', length: 8, ibm: 'OMHDRMAP' },
  { name: 'serverToken', kind: 'bytes', length: 16, doc: 'conversation ID' },
  { name: 'correlator', kind: 'bytes', length: 16 },
  { name: 'contextId', kind: 'bytes', length: 16 },
  { name: 'ltermOverride', kind: 'char', length: 8, ibm: 'TMAMHLTM', doc: 'reroute tpipe name' },
]);
export type TransactionStateRest = LayoutValue<typeof TRANSACTION_STATE_REST_LAYOUT>;

/** Full length of the transaction state data section imsplex writes (2 + 1 + 66). */
export const TRANSACTION_STATE_LENGTH = 3 + TRANSACTION_STATE_REST_LAYOUT.size;

/** Bytes 46.. of the client-bid state data (8 bytes). */
export const MEMBER_STATE_REST_LAYOUT = defineLayout('imsplex client-bid after OMHDRFL2', [
  { name: 'inputLimit', kind: 'u16', ibm: 'OMHDRTIB' },
  { name: 'ackTimeout', kind: 'u16', ibm: 'OMHDRTO' },
  { name: 'superMember', kind: 'char', length: 4, ibm: 'OMHDRSMN' },
]);
export type MemberStateRest = LayoutValue<typeof MEMBER_STATE_REST_LAYOUT>;

/** Options bits in the sync-level byte (the IRM_F3 values). */
export const SyncOption = Object.freeze({ PURGE: IrmF3.PURGE, REROUTE: IrmF3.REROUT, LEVEL_MASK: IrmF3.SYNC_MASK });

const SYNC_FLAGS_AT = fieldOffset('syncFlags');
const SYNC_LEVEL_AT = fieldOffset('syncLevel');

function fieldOffset(name: keyof TransactionStateRest): number {
  const f = TRANSACTION_STATE_REST_LAYOUT.fields.find((x) => x.name === name);
  if (!f) throw new Error(`layout has no field ${name}`);
  return f.offset;
}

/**
 * The sync-flags byte (commit mode) of a transaction state rest, without decoding the rest: what
 * `readTransactionRest(rest).syncFlags` returns (zero when the section is short).
 */
export function transactionSyncFlags(rest: Uint8Array): number {
  return rest[SYNC_FLAGS_AT] ?? 0;
}

/** The sync-level byte (level + purge/reroute options): `readTransactionRest(rest).syncLevel`. */
export function transactionSyncLevel(rest: Uint8Array): number {
  return rest[SYNC_LEVEL_AT] ?? 0;
}

/** Read the transaction state rest, tolerating a short section (missing bytes read as zero). */
export function readTransactionRest(rest: Uint8Array, page: CodePage): TransactionStateRest {
  let b = rest;
  if (b.length < TRANSACTION_STATE_REST_LAYOUT.size) {
    b = new Uint8Array(TRANSACTION_STATE_REST_LAYOUT.size);
    b.set(rest);
  }
  return TRANSACTION_STATE_REST_LAYOUT.read(b, 0, page);
}

/** Write the transaction state rest. */
export function writeTransactionRest(value: Partial<TransactionStateRest>, page: CodePage): Uint8Array {
  return TRANSACTION_STATE_REST_LAYOUT.encode(
    {
      syncFlags: value.syncFlags ?? 0,
      syncLevel: value.syncLevel ?? 0,
      mapName: value.mapName ?? '',
      serverToken: value.serverToken ?? new Uint8Array(16),
      correlator: value.correlator ?? new Uint8Array(16),
      contextId: value.contextId ?? new Uint8Array(16),
      ltermOverride: value.ltermOverride ?? '',
    },
    page,
  );
}

/** Read the client-bid rest, tolerating a short section. */
export function readMemberRest(rest: Uint8Array, page: CodePage): MemberStateRest {
  let b = rest;
  if (b.length < MEMBER_STATE_REST_LAYOUT.size) {
    b = new Uint8Array(MEMBER_STATE_REST_LAYOUT.size);
    b.set(rest);
  }
  return MEMBER_STATE_REST_LAYOUT.read(b, 0, page);
}

export function writeMemberRest(value: Partial<MemberStateRest>, page: CodePage): Uint8Array {
  return MEMBER_STATE_REST_LAYOUT.encode({ inputLimit: value.inputLimit ?? 0, ackTimeout: value.ackTimeout ?? 0, superMember: value.superMember ?? '' }, page);
}

/** Commit mode from sync flags: 1 for CM1, else 0. */
export function commitModeOf(syncFlags: number): 0 | 1 {
  return (syncFlags & CommitMode.CM1) !== 0 && (syncFlags & CommitMode.CM0) === 0 ? 1 : 0;
}

/** Sync level from the sync-level byte: CONFIRM (1) unless NONE is given with CM1. */
export function syncLevelOf(byte: number, commitMode: 0 | 1): 0 | 1 {
  // CM0 is always CONFIRM (spec §6.1); SYNCPT (2) is treated as CONFIRM (no RRS here).
  if (commitMode === 0) return 1;
  return (byte & SyncOption.LEVEL_MASK) === SyncLevel.NONE ? 0 : 1;
}

/** 32 hex digits ⇄ 16-byte server token. */
export function tokenBytes(id: string | undefined): Uint8Array {
  const out = new Uint8Array(16);
  if (id && /^[0-9A-Fa-f]{32}$/.test(id)) for (let i = 0; i < 16; i++) out[i] = parseInt(id.slice(i * 2, i * 2 + 2), 16);
  return out;
}
export function tokenId(bytes: Uint8Array): string | undefined {
  if (bytes.every((b) => b === 0)) return undefined;
  return Buffer.from(bytes).toString('hex').toUpperCase();
}

/** A codec name field (`OtmaName`: text, or raw bytes when the text would not reproduce them) as text. */
export function nameText(name: string | Uint8Array | undefined, page: CodePage): string {
  if (name === undefined) return '';
  if (typeof name === 'string') return name.trim().toUpperCase();
  let end = name.length;
  while (end > 0 && (name[end - 1] === 0 || name[end - 1] === page.space)) end--;
  return page.decode(name, 0, end).trim().toUpperCase();
}
