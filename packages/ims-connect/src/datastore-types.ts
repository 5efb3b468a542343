/**
 * What a session asks of a datastore and what it hears back, in IMS Connect's terms. The datastore
 * link (`datastore.ts`) turns these into OTMA messages on the XCF link and back; the session state
 * machine never sees OTMA bytes (except HWSJAV clients' own headers, passed through).
 */

/** Input for IMS (a transaction, conversation step or send-only message). */
export interface ImsInput {
  /** Tpipe name = client ID (or the alternate / reroute name IMS Connect chose). */
  tpipe: string;
  /** Application data segments in EBCDIC; the first starts with the trancode. */
  segments: Uint8Array[];
  /** Commit mode: 0 = commit-then-send, 1 = send-then-commit. */
  commitMode: 0 | 1;
  /** Sync level: 0 NONE, 1 CONFIRM, 2 SYNCPT. */
  syncLevel: 0 | 1 | 2;
  /** Send-only variants: no IOPCB reply is expected by the client. */
  sendOnly?: 'S' | 'K' | 'J';
  /** `IRM_F3_ORDER`: serial delivery of send-only input. */
  ordered?: boolean;
  /** `IRM_F3_PURGE`: purge undeliverable CM0 output. */
  purge?: boolean;
  /** `IRM_F3_REROUT`: reroute undeliverable CM0 output to this tpipe. */
  reroute?: string;
  /** `IRM_F3_DFS2082`: ask for DFS2082 when the program does not reply. */
  dfs2082?: boolean;
  /** `IRM_F3_IPURG`: ignore PURG calls (deliver multi-segment CM0 output as one message). */
  ignorePurg?: boolean;
  /** RACF user / group (after IMS Connect's checks) for the OTMA security section. */
  userId: string;
  group: string;
  /** `IRM_LTERM` override, blank when not given. */
  lterm: string;
  /** `IRM_MODNAME` passed to OTMA as the MFS map name. */
  modName: string;
  /** True when this input continues a conversation (OTMA message type data, server state X'80'). */
  conversation: boolean;
  /** HWSJAV: the client's own OTMA headers, to be passed through. */
  otmaHeaders?: Uint8Array;
}

/** RESUME TPIPE delivery options (spec §6.3). */
export type ResumeOption = 'single' | 'singleWait' | 'auto' | 'noauto';

/** NAK options. */
export interface NakOptions {
  /** `IRM_NAK_RSNCDE` when `IRM_F0_NAKRSN` was set. */
  reason?: number;
  /** `IRM_F3_REROUT` with a name: reroute the NAKed message. */
  reroute?: string;
  /** `IRM_F0_SYNCNAK`: keep the message queued and end the RESUME TPIPE. */
  keep?: boolean;
}

/** An operation a session asks a datastore to perform. One exchange at a time per session. */
export type ImsOp =
  | { op: 'send'; datastore: string; input: ImsInput }
  | { op: 'resume'; datastore: string; tpipe: string; option: ResumeOption; callout: 'none' | 'only' | 'first'; userId: string }
  | { op: 'ack' }
  | { op: 'nak'; options: NakOptions }
  | { op: 'deallocate'; datastore: string; tpipe: string }
  /** Drop the current exchange (timer expired, client gone): late output is NAKed back to IMS. */
  | { op: 'abandon' };

/** What a datastore reports back for the current exchange. */
export type ImsEvent =
  /**
   * Output for the client. `asyncQueued` lets a link report CSM X'80' with the output itself; the
   * session also asks `DatastoreLink.asyncOutputQueued` whenever it builds a reply.
   */
  | { ev: 'output'; segments: Uint8Array[]; conversational: boolean; ackRequired: boolean; mod?: string; asyncQueued?: boolean }
  /** IMS rejected the input and sent an error text (DFS064/DFS065/DFS2082…) to pass on as data. */
  | { ev: 'errorText'; segments: Uint8Array[] }
  /** OTMA NAK with a sense code (→ RSM RC 16). */
  | { ev: 'nak'; sense: number; reason: number }
  /** Send-only input enqueued by IMS (the SENDONLYA ACK). */
  | { ev: 'enqueued' }
  /** Sync point done after the client's ACK (CM1 CONFIRM) or deallocate: committed or backed out. */
  | { ev: 'committed' }
  | { ev: 'aborted' }
  /** RESUME TPIPE: no (more) messages on the hold queue. */
  | { ev: 'empty' }
  /** The link to IMS failed while this exchange was pending. */
  | { ev: 'linkDown' };

/** Availability of a datastore as IMS Connect sees it. */
export type DatastoreStatus = 'ACTIVE' | 'NOT ACTIVE' | 'DISCONNECT' | 'STOPPED';
