/**
 * OTMA state-data fields IBM names but does not place: the transaction/callout state data after the
 * server-state byte (`TMAMHDR`), the client-bid fields after `OMHDRFL2`, and the hold-queue depth
 * signal of the imsplex XCF link. `decodeOtmaMessage` / `encodeOtmaMessage` read and write them as
 * named fields of `OtmaTransactionState` / `OtmaMemberState`; this module holds their layouts, their
 * constants and helpers over the raw bytes.
 *
 * [INF] Every offset here is imsplex's choice (spec §11.2: "exact offsets [UNV]"). It is the layout the
 * IMS engine (`@imsplex/ims`, `src/otma/codec-adapter.ts`) and the IMS Connect emulator
 * (`@imsplex/ims-connect`, `src/otma-adapter.ts`) already use on the link, moved here so both ends
 * import one table; the adapter-shaped helpers at the end keep those packages' names so they can
 * switch their imports with minimal edits.
 *
 * Known deviation from IBM: IBM's "Rerouting NAKed output" page says a NAK asks OTMA to reroute by
 * setting X'20' in state-data **byte 5** and naming the tpipe at state-data **byte 62**. imsplex keeps
 * the reroute option as X'08' in byte 4 (the `IRM_F3` bit) and the name at byte 61, because both link
 * ends use that layout today; moving to IBM's bytes is a coordinated wire change (see README).
 */
import { CommitMode, IrmF3, SyncLevel } from './constants.js';
import { allocOutput } from './alloc.js';
import { type CodePage } from './ebcdic.js';
import { defineLayout, type LayoutValue } from './layout.js';

// ---------------------------------------------------------------------------------------------------
// Transaction / callout state data (TMAMHDR) after the server-state byte
// ---------------------------------------------------------------------------------------------------

/**
 * Transaction/callout state data after the server-state byte: 66 bytes, state-data offsets 3–68.
 * [INF] offsets and the value encodings below are imsplex's (see the module comment).
 *
 * | state off | rest off | len | field | values |
 * | --- | --- | --- | --- | --- |
 * | 3 | 0 | 1 | sync flags (commit mode) | `CommitMode.CM0` X'40' / `CommitMode.CM1` X'20' — the `IRM_F2` bits |
 * | 4 | 1 | 1 | sync level + options | low two bits `SyncLevel`; `OtmaSyncOption.PURGE` X'04', `REROUTE` X'08' — the `IRM_F3` bits |
 * | 5 | 2 | 8 | MFS map name (`OMHDRMAP`) | characters, blank when none |
 * | 13 | 10 | 16 | server token | conversation ID (binary), zeros when none |
 * | 29 | 26 | 16 | correlator | carried, not interpreted |
 * | 45 | 42 | 16 | context ID | carried, not interpreted |
 * | 61 | 58 | 8 | LTERM override / reroute tpipe (`TMAMHLTM`) | a reroute tpipe when the REROUTE option is set, else an LTERM override; blank when none |
 */
export const OTMA_TRANSACTION_FIELDS_LAYOUT = defineLayout('imsplex TMAMHDR after server state', [
  { name: 'syncFlags', kind: 'u8', doc: "commit mode: CommitMode.CM0 X'40' / CM1 X'20' (IRM_F2 bits) [INF]" },
  { name: 'syncLevel', kind: 'u8', doc: "low 2 bits SyncLevel; OtmaSyncOption.PURGE X'04' / REROUTE X'08' (IRM_F3 bits) [INF]" },
  { name: 'mapName', kind: 'char', length: 8, ibm: 'OMHDRMAP', doc: 'MFS map (MOD) name [offset INF]' },
  { name: 'serverToken', kind: 'bytes', length: 16, doc: 'server token: conversation ID, zeros when none [offset INF]' },
  { name: 'correlator', kind: 'bytes', length: 16, doc: 'correlator, carried [offset INF]' },
  { name: 'contextId', kind: 'bytes', length: 16, doc: 'context ID, carried [offset INF]' },
  { name: 'ltermOverride', kind: 'char', length: 8, ibm: 'TMAMHLTM', doc: 'LTERM override, or reroute tpipe name with OtmaSyncOption.REROUTE [offset INF]' },
]);
/** The decoded form of `OTMA_TRANSACTION_FIELDS_LAYOUT` (character fields as trimmed strings). */
export type TransactionStateRest = LayoutValue<typeof OTMA_TRANSACTION_FIELDS_LAYOUT>;

/** Length of the transaction state data imsplex writes: length (2) + server state (1) + 66 = 69 (X'45'). */
export const OTMA_TRANSACTION_STATE_LENGTH = 3 + OTMA_TRANSACTION_FIELDS_LAYOUT.size;

/**
 * Hold-queue depth signal (for `CSM_AMSG`, CSM/RSM flag X'80'): offset of a u32 in the transaction state
 * rest (state-data bytes 69–72, making the section 73 bytes, X'0049'). [INF] IBM says IMS Connect sets
 * X'80' when asynchronous output waits on the client's hold queue but not how OTMA tells it; imsplex
 * (proposed by `@imsplex/ims-connect`) carries the number of messages waiting on the message's tpipe
 * hold queue when IMS sent it, not counting the message itself. A section without these bytes carries
 * no signal. `@imsplex/ims` does not send it yet.
 */
export const OTMA_HOLD_QUEUE_DEPTH_OFFSET = OTMA_TRANSACTION_FIELDS_LAYOUT.size;
/** Length of the transaction state data with the hold-queue depth signal: 73 (X'49'). */
export const OTMA_TRANSACTION_STATE_LENGTH_WITH_DEPTH = OTMA_TRANSACTION_STATE_LENGTH + 4;

/**
 * Option bits of the sync-level byte (state-data byte 4). [INF] imsplex carries the `IRM_F3` values:
 * the sync level in the low two bits, purge and reroute of undeliverable CM0 output above them. (IBM
 * documents a reroute request as X'20' in byte 5 — see the module comment.)
 */
export const OtmaSyncOption = Object.freeze({
  /** Mask of the sync level (`SyncLevel.NONE` / `CONFIRM` / `SYNCPT`). */
  LEVEL_MASK: IrmF3.SYNC_MASK,
  /** Purge undeliverable CM0 output (`IRM_F3` X'04'). */
  PURGE: IrmF3.PURGE,
  /** Reroute undeliverable CM0 output to the tpipe named in `ltermOverride` (`IRM_F3` X'08'). */
  REROUTE: IrmF3.REROUT,
});

// ---------------------------------------------------------------------------------------------------
// Client-bid / server-available state data after OMHDRFL2
// ---------------------------------------------------------------------------------------------------

/**
 * Client-bid / server-available state data after `OMHDRFL2`: 8 bytes, state-data offsets 46–53.
 * [INF] IBM names `OMHDRTIB`, `OMHDRTO` and `OMHDRSMN` and the `OMHDRFL2` bits that enable them, not
 * their offsets or lengths; imsplex packs them in this order. Each field counts only when its
 * `OtmaMemberFlag2` bit is set (the decoder reads it only then).
 *
 * | state off | len | field | enabled by |
 * | --- | --- | --- | --- |
 * | 46 | 2 | `OMHDRTIB` active input limit | `OtmaMemberFlag2.LIMIT_ACTIVE_INPUT` X'80' |
 * | 48 | 2 | `OMHDRTO` CM1 ACK timeout, seconds | `OtmaMemberFlag2.CM1_ACK_TIMEOUT` X'20' |
 * | 50 | 4 | `OMHDRSMN` super-member name, 1–4 characters | `OtmaMemberFlag2.SUPER_MEMBER` X'08' |
 */
export const OTMA_MEMBER_EXTENSION_LAYOUT = defineLayout('imsplex client-bid after OMHDRFL2', [
  { name: 'inputLimit', kind: 'u16', ibm: 'OMHDRTIB', doc: 'active input limit (OMHDRFL2 X80) [offset INF]' },
  { name: 'ackTimeout', kind: 'u16', ibm: 'OMHDRTO', doc: 'CM1 ACK timeout in seconds (OMHDRFL2 X20) [offset INF]' },
  { name: 'superMember', kind: 'char', length: 4, ibm: 'OMHDRSMN', doc: 'super-member name (OMHDRFL2 X08) [offset INF]' },
]);
/** The decoded form of `OTMA_MEMBER_EXTENSION_LAYOUT`. */
export type MemberStateRest = LayoutValue<typeof OTMA_MEMBER_EXTENSION_LAYOUT>;

// ---------------------------------------------------------------------------------------------------
// Helpers over the raw bytes — same names and shapes as the ims / ims-connect adapters
// ---------------------------------------------------------------------------------------------------

/** `OTMA_TRANSACTION_FIELDS_LAYOUT` under the name `@imsplex/ims`'s adapter exported. */
export const TRANSACTION_STATE_REST_LAYOUT = OTMA_TRANSACTION_FIELDS_LAYOUT;
/** `OTMA_TRANSACTION_FIELDS_LAYOUT` under the name `@imsplex/ims-connect`'s adapter exported. */
export const TRANSACTION_STATE_REST = OTMA_TRANSACTION_FIELDS_LAYOUT;
/** `OTMA_MEMBER_EXTENSION_LAYOUT` under the name `@imsplex/ims`'s adapter exported. */
export const MEMBER_STATE_REST_LAYOUT = OTMA_MEMBER_EXTENSION_LAYOUT;
/** `OTMA_MEMBER_EXTENSION_LAYOUT` under the name `@imsplex/ims-connect`'s adapter exported. */
export const MEMBER_STATE_REST = OTMA_MEMBER_EXTENSION_LAYOUT;
/** `OTMA_TRANSACTION_STATE_LENGTH` under the adapters' name. */
export const TRANSACTION_STATE_LENGTH = OTMA_TRANSACTION_STATE_LENGTH;
/** `OTMA_HOLD_QUEUE_DEPTH_OFFSET` under `@imsplex/ims-connect`'s name. */
export const HOLD_QUEUE_DEPTH_REST_OFFSET = OTMA_HOLD_QUEUE_DEPTH_OFFSET;
/** `OtmaSyncOption` under `@imsplex/ims`'s name. */
export const SyncOption = OtmaSyncOption;

const SYNC_FLAGS_AT = 0;
const SYNC_LEVEL_AT = 1;

/** A copy of `rest` zero-padded to `size` when shorter (the adapters' "short section" rule). */
function padded(rest: Uint8Array, size: number): Uint8Array {
  if (rest.length >= size) return rest;
  const b = new Uint8Array(size);
  b.set(rest);
  return b;
}

/** The sync-flags byte (commit mode) of a transaction state rest; 0 when the section is short. */
export function transactionSyncFlags(rest: Uint8Array): number {
  return rest[SYNC_FLAGS_AT] ?? 0;
}

/** The sync-level byte (level + purge/reroute options) of a transaction state rest; 0 when short. */
export function transactionSyncLevel(rest: Uint8Array): number {
  return rest[SYNC_LEVEL_AT] ?? 0;
}

/**
 * Read the transaction state rest (`OtmaTransactionState.rest`), tolerating a short section: missing
 * bytes read as zero. Character fields come back trimmed (`Layout.read` rules).
 */
export function readTransactionRest(rest: Uint8Array, page: CodePage): TransactionStateRest {
  return OTMA_TRANSACTION_FIELDS_LAYOUT.read(padded(rest, OTMA_TRANSACTION_FIELDS_LAYOUT.size), 0, page);
}

/**
 * Encode a transaction state rest (66 bytes). Missing fields: 0, blanks for the names, zeros for the
 * 16-byte fields (which may also be given shorter; they are zero-filled).
 */
export function writeTransactionRest(value: Partial<TransactionStateRest>, page: CodePage): Uint8Array {
  // The layout writer writes every byte (bytes fields zero-filled, names blank-padded): pooled memory will do.
  const out = allocOutput(OTMA_TRANSACTION_FIELDS_LAYOUT.size);
  OTMA_TRANSACTION_FIELDS_LAYOUT.write(
    {
      syncFlags: value.syncFlags ?? 0,
      syncLevel: value.syncLevel ?? 0,
      mapName: value.mapName ?? '',
      serverToken: value.serverToken ?? NO_BYTES,
      correlator: value.correlator ?? NO_BYTES,
      contextId: value.contextId ?? NO_BYTES,
      ltermOverride: value.ltermOverride ?? '',
    },
    out,
    0,
    page,
  );
  return out;
}
/** An absent 16-byte field: the layout writer zero-fills what a bytes value does not cover. Never exposed. */
const NO_BYTES = new Uint8Array(0);

/** Read the client-bid rest (`OtmaMemberState.rest`), tolerating a short section. Ignores `OMHDRFL2`. */
export function readMemberRest(rest: Uint8Array, page: CodePage): MemberStateRest {
  return OTMA_MEMBER_EXTENSION_LAYOUT.read(padded(rest, OTMA_MEMBER_EXTENSION_LAYOUT.size), 0, page);
}

/** Encode the client-bid rest (8 bytes). The caller sets the matching `OMHDRFL2` bits. */
export function writeMemberRest(value: Partial<MemberStateRest>, page: CodePage): Uint8Array {
  return OTMA_MEMBER_EXTENSION_LAYOUT.encode({ inputLimit: value.inputLimit ?? 0, ackTimeout: value.ackTimeout ?? 0, superMember: value.superMember ?? '' }, page);
}

/** The hold-queue depth signal in a transaction state rest, or undefined when IMS sent none. */
export function readHoldQueueDepth(rest: Uint8Array): number | undefined {
  const o = OTMA_HOLD_QUEUE_DEPTH_OFFSET;
  if (rest.length < o + 4) return undefined;
  return rest[o]! * 0x1000000 + ((rest[o + 1]! << 16) | (rest[o + 2]! << 8) | rest[o + 3]!);
}

/** Commit mode from the sync-flags byte: 1 when only `CommitMode.CM1` is set, else 0 (CM0). */
export function commitModeOf(syncFlags: number): 0 | 1 {
  return (syncFlags & CommitMode.CM1) !== 0 && (syncFlags & CommitMode.CM0) === 0 ? 1 : 0;
}

/**
 * Sync level from the sync-level byte: 1 (CONFIRM) unless NONE is given with CM1. CM0 is always
 * CONFIRM (spec §6.1); SYNCPT is treated as CONFIRM (imsplex has no RRS).
 */
export function syncLevelOf(byte: number, commitMode: 0 | 1): 0 | 1 {
  if (commitMode === 0) return 1;
  return (byte & OtmaSyncOption.LEVEL_MASK) === SyncLevel.NONE ? 0 : 1;
}

const HEX_TOKEN = /^[0-9A-Fa-f]{32}$/;

/** A 16-byte server token from 32 hex digits; zeros for anything else (no conversation). */
export function tokenBytes(id: string | undefined): Uint8Array {
  const out = new Uint8Array(16);
  if (id !== undefined && HEX_TOKEN.test(id)) for (let i = 0; i < 16; i++) out[i] = parseInt(id.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** A server token as 32 upper-case hex digits, or undefined when it is all zeros (no conversation). */
export function tokenId(bytes: Uint8Array): string | undefined {
  // Most messages carry no conversation: answer those without building the string.
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return undefined;
  let s = '';
  for (let j = 0; j < bytes.length; j++) s += HEX_BYTE[bytes[j]!]!;
  return s;
}
/** Byte → two upper-case hex digits. */
const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).toUpperCase().padStart(2, '0'));

/**
 * An OTMA name field (`OtmaName`: text, or raw bytes when text would not reproduce them) as upper-case
 * text without padding (X'00' or the page's blank).
 */
export function nameText(name: string | Uint8Array | undefined, page: CodePage): string {
  if (name === undefined) return '';
  if (typeof name === 'string') return name.trim().toUpperCase();
  let end = name.length;
  while (end > 0 && (name[end - 1] === 0 || name[end - 1] === page.space)) end--;
  return page.decode(name, 0, end).trim().toUpperCase();
}
