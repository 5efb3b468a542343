/**
 * IRM (request side) constants of the IMS Connect protocol, with IBM's names
 * (spec ims-connect-protocol.md §1–§5). Reply-side IDs, flags and return/reason codes live in
 * `codes.ts` / `reply.ts`.
 *
 * Where the spec tags a value [OSS]/[INF]/[UNV], the comment says so and states the choice made.
 */

// ---------------------------------------------------------------------------------------------------
// Framing (§1)
// ---------------------------------------------------------------------------------------------------

/** Size of the `LLLL` total-length prefix of a message. */
export const LLLL_SIZE = 4;
/** Size of an `LLZZ` segment header. */
export const LLZZ_SIZE = 4;
/** The end-of-message marker `X'00040000'` (an empty segment, LL=4). A shared array: do not modify. */
export const END_OF_MESSAGE: Uint8Array = Uint8Array.of(0x00, 0x04, 0x00, 0x00);
/** The end-of-message marker as a 32-bit value. */
export const END_OF_MESSAGE_U32 = 0x00040000;
/** Smallest legal input message: LLLL + ARCH0 IRM (80) + EOM = X'58' (88). IBM quotes it for all messages. */
export const MIN_MESSAGE_LENGTH = 0x58;
/** Largest total message a user-written client may send (`X'7FFFFFFF'`). */
export const MAX_MESSAGE_LENGTH = 0x7fffffff;
/** Largest message the IMS TM Resource Adapter sends (`X'00989680'`, 10,000,000). */
export const MAX_MESSAGE_LENGTH_TMRA = 0x00989680;
/**
 * Default maximum frame the request framer accepts: 10 MB. IBM cites a 10 MB default for callout
 * responses (`MAXSIZE=`); [INF] we read "10 MB" as 10 × 1024 × 1024 bytes.
 */
export const DEFAULT_MAX_FRAME_SIZE = 10 * 1024 * 1024;
/**
 * Largest `LL` of an `LLZZ` segment: X'7FFF' (32,767). LL is a halfword; IMS treats values above
 * X'7FFF' as negative (RSM reason 5). [IBM/OSS]
 */
export const MAX_SEGMENT_LENGTH = 0x7fff;
/** Largest data length of one `LLZZ` segment (`MAX_SEGMENT_LENGTH − 4`). */
export const MAX_SEGMENT_DATA = MAX_SEGMENT_LENGTH - LLZZ_SIZE;
/** The IMS transaction code occupies the first 8 bytes of the first segment's data, blank padded. */
export const TRANCODE_LENGTH = 8;

// ---------------------------------------------------------------------------------------------------
// IRM identifiers (§1.4, §2.1)
// ---------------------------------------------------------------------------------------------------

/** IRM_ID values of the IBM-supplied user message exits. */
export const IrmId = {
  /** HWSSMPL0 — replies without a leading LLLL. */
  SAMPLE: '*SAMPLE*',
  /** HWSSMPL1 — replies with a leading LLLL. */
  SAMPL1: '*SAMPL1*',
  /** HWSJAVA0 — IMS TM Resource Adapter; the client supplies OTMA headers. */
  HWSJAV: '*HWSJAV*',
  /** HWSIMSO0/HWSIMSO1 — older ITOC-style exit (Microsoft HIS, Oracle Java CAPS). [third-party docs] */
  IRMREQ: '*IRMREQ*',
} as const;
export type IrmIdName = keyof typeof IrmId;

// ---------------------------------------------------------------------------------------------------
// Lengths and architecture levels (§1.3, §2.3)
// ---------------------------------------------------------------------------------------------------

/** Size of the IRM fixed part (IRM_LEN … IRM_CLIENTID). */
export const IRM_FIXED_LENGTH = 28;
/** Minimum IRM_LEN for user-written exits: X'24' (36). [IBM] */
export const MIN_IRM_LENGTH_USER_EXIT = 0x24;
/** Minimum IRM_LEN for HWSSMPL0/HWSSMPL1: X'50' (80). [IBM] */
export const MIN_IRM_LENGTH_SAMPLE = 0x50;

/** IRM_ARCH architecture levels. */
export const IrmArch = {
  /** Base. */
  ARCH0: 0x00,
  /** + IRM_APPL_NM and the IRM_REROUT_NM / IRM_RT_ALTCID slot. */
  ARCH1: 0x01,
  /** + IRM_TAG_ADAPT, IRM_TAG_MAP (XML adapter). */
  ARCH2: 0x02,
  /** + IRM_MODNAME and IRM_CORTKN (synchronous callout). */
  ARCH3: 0x03,
  /** + IRM_SESTKN (IMS-to-IMS). */
  ARCH4: 0x04,
  /** + IRM_EXTN_OFF (IRM extensions). */
  ARCH5: 0x05,
} as const;
export type IrmArchLevel = (typeof IrmArch)[keyof typeof IrmArch];

/**
 * IRM_LEN of a HWSSMPL0/1 IRM at each architecture level (§2.3). ARCH1 = 96 per go-imstm and the CGI
 * emulator (ims-injector's 104 is wrong, §14); ARCH3–5 (160/168/172) are [INF] from go-imstm's layout.
 */
export const IRM_LENGTH_BY_ARCH: Readonly<Record<IrmArchLevel, number>> = Object.freeze({ 0: 80, 1: 96, 2: 112, 3: 160, 4: 168, 5: 172 });

// ---------------------------------------------------------------------------------------------------
// Flag bytes (§3)
// ---------------------------------------------------------------------------------------------------

/** IRM_F0 (Msg off 7) bits. */
export const IrmF0 = {
  /** RESUME TPIPE retrieves only synchronous callout requests (needs ARCH3). [IBM] */
  SYNONLY: 0x80,
  /** RESUME TPIPE retrieves callout requests first, then async output (needs ARCH3). [IBM] */
  SYNASYN: 0x40,
  /** NAK: keep the rejected message queued and end the RESUME TPIPE; callout error response without reason. [IBM] */
  SYNCNAK: 0x20,
  /** IRM_NAK_RSNCDE is valid (NAK or callout error response). [IBM] */
  NAKRSN: 0x10,
  /** IRM extensions present. [OSS go-imstm + ims-injector] */
  EXTENS: 0x04,
  /** XML adapter: the XML carries data only. [OSS] */
  XML_D: 0x02,
  /** XML adapter: the XML carries trancode and data. [OSS] */
  XMLTD: 0x01,
} as const;

/** IRM_F1 (Msg off 32) bits. The go-imstm shifted values are wrong (§3.2, §14). */
export const IrmF1 = {
  /** Return the MFS MOD name (`*REQMOD*`). [IBM name; value open-jbi + ims-injector] */
  MFSREQ: 0x80,
  /** Return the client ID (`*GENCID*`). [IBM name; value ims-injector] */
  CIDREQ: 0x40,
  /** Message data is Unicode. [IBM Redbook] */
  UC: 0x20,
  /** Transaction code is Unicode. [IBM Redbook] */
  UCTC: 0x10,
  /** SENDONLYA: the ACK reply carries no message text. [OSS, UNV in IBM] */
  SOARSP: 0x04,
  /** CM0 send-receive: client ACKs with IRM_TIMER X'E9' and skips the final timeout RSM. [IBM name; OSS value] */
  NOWAIT: 0x02,
  /** Ask IMS Connect to set a transaction expiration time. [OSS] */
  TRNEXP: 0x01,
} as const;

/** IRM_F2 (Msg off 33) — commit mode and options. */
export const IrmF2 = {
  /** Commit-then-send. [IBM] */
  CM0: 0x40,
  /** Send-then-commit. [IBM] */
  CM1: 0x20,
  /** `SENDALTP` (ims-injector only). [UNV] */
  SENDALTP: 0x02,
  /** Ask IMS Connect to generate a unique client ID. [OSS, UNV in IBM] */
  GENCLID: 0x01,
} as const;

/** IRM_F3 (Msg off 34) — low two bits are the sync level, the rest independent flags. */
export const IrmF3 = {
  /** Mask of the sync-level field. */
  SYNC_MASK: 0x03,
  /** Sync level NONE (CM1 only). [IBM] */
  SYNCNONE: 0x00,
  /** Sync level CONFIRM. [IBM] */
  SYNCCONF: 0x01,
  /** Sync level SYNCPT (two-phase commit, RRS). [IBM] */
  SYNCPT: 0x02,
  /** Purge undeliverable CM0 output. */
  PURGE: 0x04,
  /** Reroute undeliverable CM0 output to IRM_REROUT_NM; on a callout NAK keep the RESUME TPIPE. [IBM] */
  REROUT: 0x08,
  /** SENDONLY with serial (ordered) delivery. */
  ORDER: 0x10,
  /** Tell OTMA to ignore DL/I PURG calls for multi-segment CM0 output. */
  IPURG: 0x20,
  /** CM0 send-receive: return DFS2082 if the program does not reply to the IOPCB. */
  DFS2082: 0x40,
  /** Cancel another session on the same port that holds this client ID (HWSS0743I). */
  CANCID: 0x80,
} as const;

/** IRM_F5 (Msg off 20) — input message format (high bits) and RESUME TPIPE option (low bits). */
export const IrmF5 = {
  /** The client supplies OTMA headers (HWSJAVA0 sets X'C0'). [IBM] */
  OTMA: 0x80,
  /** The client translated the data itself; the exit must not translate. [IBM] */
  NOTRAN: 0x40,
  /** RESUME TPIPE single with wait. [OSS go-imstm only — UNV] */
  SWAIT: 0x10,
  /** An X/Open XID is present (IRM_MAP). [OSS go-imstm only — UNV] */
  XID: 0x08,
  /** RESUME TPIPE no-auto. [IBM] */
  NOAUTO: 0x04,
  /** RESUME TPIPE auto. [IBM] */
  AUTO: 0x02,
  /** RESUME TPIPE single message. [IBM] */
  ONE: 0x01,
  /** HWSJAVA0 format: OTMA headers present and client-translated. [IBM] */
  HWSJAVA: 0xc0,
} as const;

// ---------------------------------------------------------------------------------------------------
// IRM_F4 message types (§3.5)
// ---------------------------------------------------------------------------------------------------

/** IRM_F4 message types as the character IBM documents. */
export const MessageTypeChar = {
  /** Send-receive (blank). */
  SEND_RECEIVE: ' ',
  /** IRM_F4_ACK — positive acknowledgement. */
  ACK: 'A',
  /** IRM_F4_CANTIMER — cancel the IRM timer of another session with the same client ID. */
  CANCEL_TIMER: 'C',
  /** IRM_F4_DEALLOC — deallocate / end a conversation. */
  DEALLOCATE: 'D',
  /** IRM_F4_SNDONLYE — send-only, IMS Connect reports the errors it detects. */
  SEND_ONLY_ERRORS: 'J',
  /** IRM_F4_SNDONLYA — send-only with an ACK reply once IMS enqueued the input. */
  SEND_ONLY_ACK: 'K',
  /** IRM_F4_SYNRESPA — synchronous callout response, reply with CSM or RSM. */
  CALLOUT_RESPONSE_ACK: 'L',
  /** IRM_F4_SYNRESP — synchronous callout response, no reply. */
  CALLOUT_RESPONSE: 'M',
  /** IRM_F4_NACK — negative acknowledgement. */
  NAK: 'N',
  /** IRM_F4_RESUMET — RESUME TPIPE. */
  RESUME_TPIPE: 'R',
  /** IRM_F4_SENDONLY — send-only, no reply of any kind. */
  SEND_ONLY: 'S',
} as const;
/** Names of the IRM_F4 message types. */
export type MessageType = keyof typeof MessageTypeChar;

/** IRM_F4 EBCDIC code points (identical in CP037/500/1047/1140). */
export const MessageTypeEbcdic: Readonly<Record<MessageType, number>> = Object.freeze({
  SEND_RECEIVE: 0x40,
  ACK: 0xc1,
  CANCEL_TIMER: 0xc3,
  DEALLOCATE: 0xc4,
  SEND_ONLY_ERRORS: 0xd1,
  SEND_ONLY_ACK: 0xd2,
  CALLOUT_RESPONSE_ACK: 0xd3,
  CALLOUT_RESPONSE: 0xd4,
  NAK: 0xd5,
  RESUME_TPIPE: 0xd9,
  SEND_ONLY: 0xe2,
});

/** IRM_F4 ASCII code points (NABS / open-jbi style clients). */
export const MessageTypeAscii: Readonly<Record<MessageType, number>> = Object.freeze({
  SEND_RECEIVE: 0x20,
  ACK: 0x41,
  CANCEL_TIMER: 0x43,
  DEALLOCATE: 0x44,
  SEND_ONLY_ERRORS: 0x4a,
  SEND_ONLY_ACK: 0x4b,
  CALLOUT_RESPONSE_ACK: 0x4c,
  CALLOUT_RESPONSE: 0x4d,
  NAK: 0x4e,
  RESUME_TPIPE: 0x52,
  SEND_ONLY: 0x53,
});

/** Message types that carry data segments (§1.2). The others are `LLLL | IRM | X'00040000'`. */
export const MESSAGE_TYPES_WITH_DATA: ReadonlySet<MessageType> = new Set<MessageType>([
  'SEND_RECEIVE',
  'SEND_ONLY',
  'SEND_ONLY_ACK',
  'SEND_ONLY_ERRORS',
  'CALLOUT_RESPONSE_ACK',
  'CALLOUT_RESPONSE',
]);

// ---------------------------------------------------------------------------------------------------
// Single-byte enumerations (§2.1, §5)
// ---------------------------------------------------------------------------------------------------

/** IRM_SOCT socket types. */
export const SocketType = {
  /** One interaction, then IMS Connect closes the socket. */
  TRANSACTION: 0x00,
  /** The socket stays open across interactions. */
  PERSISTENT: 0x10,
  /** Exactly one input and one output, then close. */
  NON_PERSISTENT: 0x40,
} as const;
export type SocketTypeName = keyof typeof SocketType;

/** IRM_F2 commit modes (values of the X'60' bits). */
export const CommitMode = {
  /** Commit-then-send. */
  CM0: IrmF2.CM0,
  /** Send-then-commit. */
  CM1: IrmF2.CM1,
} as const;

/** IRM_F3 sync levels (values of the low two bits). */
export const SyncLevel = {
  NONE: IrmF3.SYNCNONE,
  CONFIRM: IrmF3.SYNCCONF,
  SYNCPT: IrmF3.SYNCPT,
} as const;

/** IRM_ES Unicode encoding schemes. X'01'/X'02' from go-imstm only. [UNV] */
export const EncodingScheme = {
  /** No Unicode. */
  NONE: 0x00,
  /** UTF-8. [UNV] */
  UTF8: 0x01,
  /** UCS-2 / UTF-16. [UNV] */
  UTF16: 0x02,
} as const;

// ---------------------------------------------------------------------------------------------------
// IRM extensions (§2.4)
// ---------------------------------------------------------------------------------------------------

/** Size of an IRM extension header: LL(2) ZZ(2) ID(8). */
export const IRM_EXTENSION_HEADER = 12;
/** Known IRM extension IDs. */
export const IrmExtensionId = {
  /** Context (HWSSOAP1). */
  CONTXT: '*CONTXT*',
  /** Tracking ID (HWSSOAP1). */
  TRCKID: '*TRCKID*',
  /** RACF password phrase (HWSJAVA0). */
  PHRASE: '*PHRASE*',
  /** Network user ID, ≤ 246 bytes (HWSSMPL0/1). */
  NETUID: '*NETUID*',
  /** Network session ID, ≤ 254 bytes (HWSSMPL0/1). */
  NETSID: '*NETSID*',
} as const;
/** Largest `*NETUID*` data (bytes). [IBM] */
export const MAX_NETUID_LENGTH = 246;
/** Largest `*NETSID*` data (bytes). [IBM] */
export const MAX_NETSID_LENGTH = 254;

// ---------------------------------------------------------------------------------------------------
// PING (§6.6)
// ---------------------------------------------------------------------------------------------------

/** `IRM_TRNCOD` of a PING request. [IBM] */
export const PING_TRANCODE = 'PING';

/** Data of a PING request (trancode `PING`). */
export const PING_REQUEST_TEXT = 'PING IMS_CONNECT';

/**
 * The PING reply text: the data segment of HWSSMPL0/1's reply and HWSJAVA0's `PNG_RESP1` (25 bytes).
 * [IBM]
 */
export const PING_RESPONSE_TEXT = 'HWSC0030I *PING RESPONSE*';

/** Message number of the PING reply (clients match on it, so a padded or longer text still counts). [IBM] */
export const PING_RESPONSE_MESSAGE_ID = 'HWSC0030I';

/**
 * `OMUSR_RETCODE` values of the IMS TM Resource Adapter (HWSJAVA0) table that the HWSSMPL0/1 RSM
 * table ({@link ReturnCode}) lacks. [IBM] "IMS TM Resource Adapter return and reason codes": X'30' —
 * the exit answers a PING or HWSPWCH request and IMS Connect keeps the socket.
 */
export const HwsjavReturnCode = {
  PING_REPLY: 0x30,
} as const;

/** `OMUSR_RESCODE` of HWSJAVA0's PING reply. [IBM] spec §6.6 */
export const HWSJAV_PING_REASON = 'ICONSUCC';

/** `PNG_FLG1` bits of the HWSJAVA0 PING response. [IBM] spec §6.6 */
export const PingFlag = {
  /** IMS extensions (ARCH5 IRM extensions) supported. */
  IMS_EXTENSIONS: 0x01,
  /** Network security credentials (NETUID/NETSID) supported. */
  NETWORK_SECURITY: 0x02,
} as const;
