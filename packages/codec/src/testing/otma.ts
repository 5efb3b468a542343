/**
 * Naive OTMA fixture builders: each writes one section field by field with `ByteBuilder`, sharing no
 * code with the production encoder (`encodeOtmaMessage`), so tests of the encoder, the decoder and of
 * the packages on both ends of the XCF link can build the bytes they expect independently.
 *
 * Offsets follow imsplex's OTMA layout (spec §11; the [INF] state-data fields of
 * `OTMA_TRANSACTION_FIELDS_LAYOUT` and `OTMA_MEMBER_EXTENSION_LAYOUT`).
 */
import { ByteBuilder } from './replies.js';

/** Fields of the 32-byte message-control section. */
export interface NaiveOtmaControlFields {
  /** `OMCTLMGT` message type. */
  type: number;
  /** `OMCTLRSI` response flags. */
  responseFlags?: number;
  /** `OMCTLCCI` commit confirmation. */
  commitConfirmation?: number;
  /** Protocol command type (byte 4). */
  command?: number;
  /** Processing flags (byte 5). */
  processingFlags?: number;
  /** tpipe name, EBCDIC, blank-padded to 8. */
  tpipe: string;
  /** Chain state (default X'A0', single segment). */
  chain?: number;
  /** `OMCTLPFL` prefix flags: which sections follow. */
  prefixFlags: number;
  sendSequence?: number;
  sense?: number;
  reason?: number;
  recoverableSequence?: number;
  segmentSequence?: number;
  reserved?: number;
}

/** The 32-byte message-control section (spec §11.1). */
export function naiveOtmaControl(f: NaiveOtmaControlFields): Uint8Array {
  return new ByteBuilder()
    .u8(0x01) // 0 OMCTLALV architecture level
    .u8(f.type) // 1 OMCTLMGT message type
    .u8(f.responseFlags ?? 0) // 2 OMCTLRSI response flags
    .u8(f.commitConfirmation ?? 0) // 3 OMCTLCCI commit confirmation
    .u8(f.command ?? 0) // 4 protocol command type
    .u8(f.processingFlags ?? 0) // 5 processing flags [offset UNV]
    .ebcdic(f.tpipe, 8) // 6 tpipe name
    .u8(f.chain ?? 0xa0) // 14 chain state
    .u8(f.prefixFlags) // 15 OMCTLPFL prefix flags
    .u32(f.sendSequence ?? 0) // 16 send sequence number
    .u16(f.sense ?? 0) // 20 sense code [offset UNV]
    .u16(f.reason ?? 0) // 22 reason code [offset UNV]
    .u32(f.recoverableSequence ?? 0) // 24 recoverable sequence [offset UNV]
    .u16(f.segmentSequence ?? 0) // 28 segment sequence [UNV]
    .u16(f.reserved ?? 0) // 30 reserved
    .bytes();
}

/** Fields of the transaction/callout state data. */
export interface NaiveOtmaTransactionStateFields {
  /** `OtmaServerState` bits. */
  serverState: number;
  /** Commit mode byte: X'40' CM0, X'20' CM1. */
  syncFlags: number;
  /** Sync level (low two bits) + X'04' purge / X'08' reroute. */
  syncLevel: number;
  /** MFS map name, EBCDIC, blank-padded to 8. */
  mapName?: string;
  /** Server token, 16 bytes (zeros when omitted). */
  serverToken?: ArrayLike<number>;
  /** Correlator, 16 bytes (zeros when omitted). */
  correlator?: ArrayLike<number>;
  /** Context ID, 16 bytes (zeros when omitted). */
  contextId?: ArrayLike<number>;
  /** LTERM override / reroute tpipe name, EBCDIC, blank-padded to 8. */
  ltermOverride?: string;
  /** Hold-queue depth signal (state bytes 69–72); omitted = a 69-byte section. */
  holdQueueDepth?: number;
}

function sixteen(name: string, v: ArrayLike<number> | undefined): ArrayLike<number> {
  if (v === undefined) return new Uint8Array(16);
  if (v.length !== 16) throw new RangeError(`${name} must be 16 bytes in a fixture`);
  return v;
}

/** The whole transaction state-data section, its length field included (69 or 73 bytes). */
export function naiveOtmaTransactionState(f: NaiveOtmaTransactionStateFields): Uint8Array {
  const withDepth = f.holdQueueDepth !== undefined;
  const b = new ByteBuilder()
    .u16(withDepth ? 73 : 69) // 0 length of the state data, itself included
    .u8(f.serverState) // 2 server state
    .u8(f.syncFlags) // 3 sync flags: commit mode [INF]
    .u8(f.syncLevel) // 4 sync level + purge/reroute options [INF]
    .ebcdic(f.mapName ?? '', 8) // 5 MFS map name OMHDRMAP [offset INF]
    .raw(sixteen('serverToken', f.serverToken)) // 13 server token [offset INF]
    .raw(sixteen('correlator', f.correlator)) // 29 correlator [offset INF]
    .raw(sixteen('contextId', f.contextId)) // 45 context ID [offset INF]
    .ebcdic(f.ltermOverride ?? '', 8); // 61 LTERM override / reroute tpipe TMAMHLTM [offset INF]
  if (withDepth) b.u32(f.holdQueueDepth!); // 69 hold-queue depth [INF]
  return b.bytes();
}

/** Fields of the client-bid / server-available state data. */
export interface NaiveOtmaClientBidStateFields {
  /** `OMHDRONM` XCF member name, EBCDIC, blank-padded to 16. */
  memberName: string;
  /** `OMHDROMT`, 8 bytes (zeros when omitted). */
  originatorToken?: ArrayLike<number>;
  /** `OMHDRDMT`, 8 bytes (zeros when omitted). */
  destinationToken?: ArrayLike<number>;
  /** `OMHDRUEN` DRU exit name (default DFSYDRU0). */
  druExitName?: string;
  /** `OMHDRMBS`. */
  maxBlockSize?: number;
  /** `OMHDRQUE` flags. */
  queueFlags: number;
  /** `OMHDRFL2` flags, as written (the fixture sets no bit by itself). */
  flags2: number;
  /** `OMHDRTIB` input limit. */
  inputLimit?: number;
  /** `OMHDRTO` ACK timeout, seconds. */
  ackTimeout?: number;
  /** `OMHDRSMN` super-member name, EBCDIC, blank-padded to 4. */
  superMember?: string;
}

/** The whole client-bid state-data section (54 bytes: 46 fixed + the 8-byte imsplex extension). */
export function naiveOtmaClientBidState(f: NaiveOtmaClientBidStateFields): Uint8Array {
  return new ByteBuilder()
    .u16(54) // 0 OMHDRLEN
    .ebcdic(f.memberName, 16) // 2 OMHDRONM member name
    .raw(f.originatorToken ?? new Uint8Array(8)) // 18 OMHDROMT originator token
    .raw(f.destinationToken ?? new Uint8Array(8)) // 26 OMHDRDMT destination token
    .ebcdic(f.druExitName ?? 'DFSYDRU0', 8) // 34 OMHDRUEN DRU exit name
    .u16(f.maxBlockSize ?? 0) // 42 OMHDRMBS max block size
    .u8(f.queueFlags) // 44 OMHDRQUE
    .u8(f.flags2) // 45 OMHDRFL2
    .u16(f.inputLimit ?? 0) // 46 OMHDRTIB input limit [offset INF]
    .u16(f.ackTimeout ?? 0) // 48 OMHDRTO ACK timeout, seconds [offset INF]
    .ebcdic(f.superMember ?? '', 4) // 50 OMHDRSMN super-member name [offset INF]
    .bytes();
}

/** Fields of the security-data section. */
export interface NaiveOtmaSecurityFields {
  /** `OMSECFLG`: X'D5' N, X'C3' C, X'C6' F. */
  flag: number;
  /** User ID sub-field (type X'02'), EBCDIC. */
  userId?: string;
  /** Group sub-field (type X'03'), EBCDIC; requires `userId`. */
  group?: string;
}

/** The security-data section with imsplex's sub-field layout (spec §11.3, [UNV]). */
export function naiveOtmaSecurity(f: NaiveOtmaSecurityFields): Uint8Array {
  const fields = (f.userId !== undefined ? 1 : 0) + (f.group !== undefined ? 1 : 0);
  const b = new ByteBuilder()
    .u16(4 + 10 * fields) // OMSECLEN
    .u8(f.flag) // OMSECFLG
    .u8(10 * fields); // OMSECFLN: length of the sub-fields
  if (f.userId !== undefined) b.u8(10).u8(0x02).ebcdic(f.userId, 8); // length, type user ID, value
  if (f.group !== undefined) b.u8(10).u8(0x03).ebcdic(f.group, 8); // length, type group, value
  return b.bytes();
}

/** LLZZ application-data segments (ZZ zero). */
export function naiveOtmaSegments(...segments: ArrayLike<number>[]): Uint8Array {
  const b = new ByteBuilder();
  for (const s of segments) b.u16(s.length + 4).u16(0).raw(s); // LL, ZZ, data
  return b.bytes();
}
