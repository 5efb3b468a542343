/**
 * The OTMA messages shown in OTMA-LINK.md, built with the codec's constants. `doc-examples.test.ts`
 * checks that every hex dump in the document is exactly what these builders encode, so the document
 * cannot drift from the code.
 */
import {
  CP037,
  CommitMode,
  OtmaChainState,
  OtmaCommand,
  OtmaCommitConfirmation,
  OtmaDeliveryOption,
  OtmaMemberFlag2,
  OtmaMemberQueueFlag,
  OtmaMessageType,
  OtmaProcessingFlag,
  OtmaResponseFlag,
  OtmaSecurityFlag,
  OtmaServerState,
  SyncLevel,
  encodeXcfFrame,
  otmaControl,
  type OtmaMessage,
} from '@imsplex/codec';
import { SyncOption, tokenBytes, writeMemberRest, writeTransactionRest } from '../src/otma/codec-adapter.js';

const E = (s: string) => CP037.encode(s);
const CONV = '0123456789ABCDEF0123456789ABCDEF';
const tx = (cm: 0 | 1, level: number, serverState = 0, token?: string, reroute = '') => ({
  form: 'transaction' as const,
  serverState,
  rest: writeTransactionRest({ syncFlags: cm ? CommitMode.CM1 : CommitMode.CM0, syncLevel: level, serverToken: tokenBytes(token), ltermOverride: reroute }, CP037),
});
const secN = { flag: OtmaSecurityFlag.NONE, rest: new Uint8Array(0) };

export const DOC_EXAMPLES: Record<string, OtmaMessage> = {
  'client-bid': {
    control: otmaControl({ messageType: OtmaMessageType.COMMAND, commandType: OtmaCommand.CLIENT_BID, sendSequence: 1 }),
    state: {
      form: 'member',
      memberName: 'HWS1',
      originatorToken: new Uint8Array(8),
      destinationToken: new Uint8Array(8),
      druExitName: 'DFSYDRU0',
      maxBlockSize: 0,
      queueFlags: OtmaMemberQueueFlag.CREATE_HOLD_QUEUE | OtmaMemberQueueFlag.IMS_CONNECT_CLIENT,
      flags2: OtmaMemberFlag2.CM1_ACK_TIMEOUT,
      rest: writeMemberRest({ ackTimeout: 30 }, CP037),
    },
    security: secN,
  },
  'client-bid-ack': {
    control: otmaControl({ messageType: OtmaMessageType.COMMAND | OtmaMessageType.RESPONSE, responseFlags: OtmaResponseFlag.ACK, commandType: OtmaCommand.CLIENT_BID, sendSequence: 1 }),
    state: {
      form: 'member',
      memberName: 'IMS1',
      originatorToken: new Uint8Array(8),
      destinationToken: new Uint8Array(8),
      druExitName: '',
      maxBlockSize: 0,
      queueFlags: OtmaMemberQueueFlag.CREATE_HOLD_QUEUE | OtmaMemberQueueFlag.IMS_CONNECT_CLIENT,
      flags2: OtmaMemberFlag2.CM1_ACK_TIMEOUT,
      rest: writeMemberRest({ ackTimeout: 30 }, CP037),
    },
  },
  'cm1-none-input': {
    control: otmaControl({ messageType: OtmaMessageType.TRANSACTION, tpipe: 'CLIENT01', sendSequence: 2 }),
    state: tx(1, SyncLevel.NONE),
    security: secN,
    segments: [E('IVTNO   DISPLAY LAST1')],
  },
  'cm1-none-reply': {
    control: otmaControl({ messageType: OtmaMessageType.DATA, tpipe: 'CLIENT01', chainState: OtmaChainState.SINGLE, sendSequence: 1 }),
    state: tx(1, SyncLevel.NONE),
    segments: [E('ENTRY WAS DISPLAYED')],
  },
  'commit-confirmed': {
    control: otmaControl({ messageType: OtmaMessageType.COMMIT_CONFIRMATION, commitConfirmation: OtmaCommitConfirmation.COMMITTED, tpipe: 'CLIENT01', sendSequence: 2 }),
    state: tx(1, SyncLevel.NONE),
  },
  'cm1-confirm-reply': {
    control: otmaControl({ messageType: OtmaMessageType.DATA, responseFlags: OtmaResponseFlag.RESPONSE_REQUESTED, tpipe: 'CLIENT01', sendSequence: 3 }),
    state: tx(1, SyncLevel.CONFIRM),
    segments: [E('ENTRY WAS DISPLAYED')],
  },
  ack: {
    control: otmaControl({ messageType: OtmaMessageType.RESPONSE, responseFlags: OtmaResponseFlag.ACK, tpipe: 'CLIENT01', sendSequence: 3 }),
  },
  'nak-sense': {
    control: otmaControl({ messageType: OtmaMessageType.RESPONSE, responseFlags: OtmaResponseFlag.NAK, tpipe: 'CLIENT01', sendSequence: 3, senseCode: 0x00c3 }),
  },
  'commit-aborted': {
    control: otmaControl({ messageType: OtmaMessageType.COMMIT_CONFIRMATION, commitConfirmation: OtmaCommitConfirmation.ABORTED, tpipe: 'CLIENT01', sendSequence: 4 }),
    state: tx(1, SyncLevel.CONFIRM),
  },
  'cm0-output': {
    control: otmaControl({ messageType: OtmaMessageType.DATA, responseFlags: OtmaResponseFlag.RESPONSE_REQUESTED, tpipe: 'CLIENT01', sendSequence: 5 }),
    state: tx(0, SyncLevel.CONFIRM),
    segments: [E('ECHO    HI')],
  },
  'nak-reroute': {
    control: otmaControl({ messageType: OtmaMessageType.RESPONSE, responseFlags: OtmaResponseFlag.NAK, tpipe: 'CLIENT01', sendSequence: 5 }),
    state: tx(0, SyncLevel.CONFIRM | SyncOption.REROUTE, OtmaServerState.FROM_HOLD_QUEUE, undefined, 'HWS$DEF'),
  },
  sendonly: {
    control: otmaControl({ messageType: OtmaMessageType.TRANSACTION | OtmaMessageType.COMMIT_CONFIRMATION, responseFlags: OtmaResponseFlag.RESPONSE_REQUESTED, tpipe: 'CLIENT01', sendSequence: 6 }),
    state: tx(0, SyncLevel.CONFIRM),
    security: secN,
    segments: [E('ECHO    ASYNC')],
  },
  'input-ack': {
    control: otmaControl({ messageType: OtmaMessageType.RESPONSE, responseFlags: OtmaResponseFlag.ACK, tpipe: 'CLIENT01', sendSequence: 6 }),
  },
  'resume-single': {
    control: otmaControl({ messageType: OtmaMessageType.COMMAND, commandType: OtmaCommand.RESUME_HOLD_QUEUE, tpipe: 'TPIPE01', sendSequence: 7 }),
    state: { form: 'resume-hold-queue', deliveryOption: OtmaDeliveryOption.ONE_ONLY, calloutMode: 0, token: E('RT000001'), rest: new Uint8Array(0) },
  },
  'hold-output': {
    control: otmaControl({ messageType: OtmaMessageType.DATA, responseFlags: OtmaResponseFlag.RESPONSE_REQUESTED, tpipe: 'TPIPE01', sendSequence: 9 }),
    state: tx(0, SyncLevel.CONFIRM, OtmaServerState.FROM_HOLD_QUEUE),
    segments: [E('ASYNC OUTPUT 1')],
  },
  'no-messages': {
    control: otmaControl({ messageType: OtmaMessageType.COMMAND, commandType: OtmaCommand.NO_MESSAGES, tpipe: 'TPIPE01', sendSequence: 10 }),
    state: { form: 'no-messages', reserved: 0, token: E('RT000001'), rest: new Uint8Array(0) },
  },
  'resume-cancel': {
    control: otmaControl({ messageType: OtmaMessageType.COMMAND, commandType: OtmaCommand.RESUME_HOLD_QUEUE, responseFlags: OtmaResponseFlag.NAK, tpipe: 'TPIPE01', sendSequence: 8 }),
    state: { form: 'resume-hold-queue', deliveryOption: OtmaDeliveryOption.NO_AUTO, calloutMode: 0, token: new Uint8Array(8), rest: new Uint8Array(0) },
  },
  'conv-output': {
    control: otmaControl({ messageType: OtmaMessageType.DATA, responseFlags: OtmaResponseFlag.RESPONSE_REQUESTED, tpipe: 'CONV01', sendSequence: 11 }),
    state: tx(1, SyncLevel.CONFIRM, OtmaServerState.CONVERSATIONAL, CONV),
    segments: [E('ENTRY WAS DISPLAYED')],
  },
  'conv-continue': {
    control: otmaControl({ messageType: OtmaMessageType.DATA, tpipe: 'CONV01', sendSequence: 12 }),
    state: tx(1, SyncLevel.CONFIRM, OtmaServerState.CONVERSATIONAL, CONV),
    security: secN,
    segments: [E('END')],
  },
  deallocate: {
    control: otmaControl({ messageType: OtmaMessageType.COMMIT_CONFIRMATION, tpipe: 'CONV01', sendSequence: 13 }),
    state: tx(1, SyncLevel.CONFIRM, OtmaServerState.CONVERSATIONAL, CONV),
  },
  'error-nak': {
    control: otmaControl({ messageType: OtmaMessageType.RESPONSE, responseFlags: OtmaResponseFlag.NAK, processingFlags: OtmaProcessingFlag.ERROR_MESSAGE_FOLLOWS, tpipe: 'CLIENT01', sendSequence: 14 }),
  },
  'error-text': {
    control: otmaControl({ messageType: OtmaMessageType.DATA, processingFlags: OtmaProcessingFlag.ERROR_MESSAGE_FOLLOWS, tpipe: 'CLIENT01', sendSequence: 14 }),
    segments: [E('DFS064 10:15:00 DESTINATION CAN NOT BE FOUND OR CREATED, DEST=BADTRAN')],
  },
};

/** Hex dump, 16 bytes a line with a 4-digit offset. */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let o = 0; o < bytes.length; o += 16) {
    const row = [...bytes.subarray(o, o + 16)].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
    lines.push(`${o.toString(16).toUpperCase().padStart(4, '0')}  ${row}`);
  }
  return lines.join('\n');
}

export function exampleFrame(name: string): Uint8Array {
  return encodeXcfFrame(DOC_EXAMPLES[name]!);
}
