/**
 * The session's view of one decoded input message. `decodeInput` (input.ts) fills it from the
 * codec's `decodeRequest`; the session state machine reads only this shape.
 */
import type { MessageType, OtmaMessage } from '@imsplex/codec';

/** A decoded IMS Connect input message. */
export interface SessionRequest {
  /** IRM_ID as text, e.g. `*SAMPL1*`. */
  exitId: string;
  /** True when replies carry a leading LLLL (HWSSMPL1 style). */
  replyHasLlll: boolean;
  /** True for HWSJAV-style exits (client sends OTMA headers). */
  otmaHeaders: boolean;
  /** Code set of the IRM_ID: replies use the same. */
  codeSet: 'ebcdic' | 'ascii';
  arch: number;
  irmLength: number;
  f0: number;
  f1: number;
  f2: number;
  f3: number;
  f5: number;
  /** Raw IRM_F4 byte and its decoded type (undefined when the byte is no known type). */
  f4: number;
  type: MessageType | undefined;
  timer: number;
  socketType: number;
  nakReason: number;
  /** Fields, decoded to text, trailing blanks removed, upper case. Empty when not supplied. */
  clientId: string;
  trancode: string;
  datastore: string;
  lterm: string;
  userId: string;
  group: string;
  password: string;
  applName: string;
  /** IRM_REROUT_NM / IRM_RT_ALTCID slot (IRM_LEN ≥ 96). */
  rerouteOrAltClientId: string;
  modName: string;
  /** Data segments (without LLZZ), exactly as received. */
  segments: Uint8Array[];
  /** HWSJAV: OTMA headers as received. */
  otma?: Uint8Array | undefined;
  /** HWSJAV: the same headers decoded (the reply echoes their sections). */
  otmaMessage?: OtmaMessage | undefined;
}
