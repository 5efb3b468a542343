/**
 * The engine's message model: input messages on transaction queues, output messages on tpipe hold
 * queues and LTERM queues. Segments are the application data of each segment without its LLZZ.
 */

/** Where an input message came from, and so where its IO PCB output goes. */
export type MessageOrigin = OtmaOrigin | LtermOrigin;

/** Input from an OTMA client (IMS Connect) over the XCF link. */
export interface OtmaOrigin {
  readonly kind: 'otma';
  /** XCF member name of the OTMA client (IMS Connect's MEMBER=). */
  readonly member: string;
  /** Hold-queue owner: the super-member name when the client bid with one, else `member`. */
  readonly queueOwner: string;
  readonly tpipe: string;
  /** 0 commit-then-send, 1 send-then-commit. */
  readonly commitMode: 0 | 1;
  /** 0 NONE, 1 CONFIRM (CM0 is always CONFIRM). */
  readonly syncLevel: 0 | 1;
  readonly userId: string;
  /** SENDONLY input: nobody waits for the IO PCB output, it goes straight to the hold queue. */
  readonly sendOnly: boolean;
  /** CM0: the client asked for DFS2082 when the program ends without an IO PCB reply. */
  readonly wantDfs2082: boolean;
  /** Where undeliverable CM0 output goes instead of this tpipe's hold queue (`IRM_F3` reroute). */
  readonly rerouteTpipe: string | undefined;
  /** Undeliverable CM0 output is discarded (`IRM_F3` purge). */
  readonly purgeUndeliverable: boolean;
  /** In-memory handle of the CM1 sender waiting for this message's reply (never journaled). */
  readonly replyId: number | undefined;
  /** Opaque bytes the OTMA member wants echoed on the reply (e.g. the input's user data section). */
  readonly context: Uint8Array | undefined;
}

/** Input entered for an LTERM (commands from the admin port, program switches from LTERM input). */
export interface LtermOrigin {
  readonly kind: 'lterm';
  readonly lterm: string;
  readonly userId: string;
}

/** A message on a transaction input queue. */
export interface InputMessage {
  readonly id: string;
  readonly tran: string;
  readonly segments: readonly Uint8Array[];
  readonly origin: MessageOrigin;
  readonly enqueuedAt: number;
  /** Journaled (CM0, SENDONLY, program switches of recoverable work). CM1 input is not (see README). */
  readonly recoverable: boolean;
  /** Conversation this input continues or starts (conversations are never journaled). */
  readonly conversationId: string | undefined;
}

/** A message on a tpipe hold queue or an LTERM queue. */
export interface OutputMessage {
  readonly id: string;
  readonly segments: readonly Uint8Array[];
  /** Transaction whose program inserted it. */
  readonly tran: string;
  readonly enqueuedAt: number;
  /**
   * True for the IO PCB reply of a CM0 send-receive: OTMA sends it at once, without waiting for a
   * RESUME TPIPE. False once the client NAKed it, and for SENDONLY / ALT PCB / rerouted output.
   */
  readonly direct: boolean;
  /** Output moved here by reroute. */
  readonly rerouted: boolean;
  /** OTMA member that sent the input; a direct message is sent on that member's link. */
  readonly member: string | undefined;
  /** Opaque bytes from the input to echo on delivery (the OTMA user data section). */
  readonly context: Uint8Array | undefined;
  /** When the client NAKs it: move to this tpipe's hold queue instead (reroute). */
  readonly rerouteTpipe: string | undefined;
  /** When the client NAKs it: discard it (purge). */
  readonly purgeUndeliverable: boolean;
}

/** Key of a tpipe hold queue: `<queue owner>/<tpipe>`. */
export function holdKey(owner: string, tpipe: string): string {
  return `${owner}/${tpipe}`;
}

/** Key of an LTERM output queue. */
export function ltermKey(lterm: string): string {
  return `LTERM:${lterm}`;
}

/** Split a hold key back into owner and tpipe (`undefined` for LTERM keys). */
export function parseHoldKey(key: string): { owner: string; tpipe: string } | undefined {
  if (key.startsWith('LTERM:')) return undefined;
  const i = key.lastIndexOf('/');
  if (i < 0) return undefined;
  return { owner: key.slice(0, i), tpipe: key.slice(i + 1) };
}
