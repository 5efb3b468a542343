/** The typical message of the OTMA benchmarks and profiling loops. */
import { CP037 } from '../src/ebcdic.js';
import { type OtmaMessage, otmaControl, OtmaMessageType, OtmaSecurityFlag } from '../src/otma.js';
import { writeTransactionRest } from '../src/otma-state.js';

/** IMS Connect → IMS: IVTNO display, as `@imsplex/ims-connect`'s OTMA session builds it. */
export const IVTNO_MESSAGE: OtmaMessage = {
  control: otmaControl({ messageType: OtmaMessageType.TRANSACTION, tpipe: 'CLIENT01', sendSequence: 17 }),
  state: { form: 'transaction', serverState: 0, rest: writeTransactionRest({ syncFlags: 0x40, syncLevel: 1, mapName: '', ltermOverride: 'LTERM1' }, CP037) },
  security: { flag: OtmaSecurityFlag.CHECK, userId: 'USER01', rest: new Uint8Array(0) },
  user: {
    align: 0,
    destinationId: 'IMS1',
    originId: 'HWS1',
    portId: '',
    logonToken: new Uint8Array(8),
    returnCode: 0,
    reasonName: '',
    responseToken: new Uint8Array(4),
    passTicket: '',
    flag1: 0,
    rest: new Uint8Array(0),
  },
  segments: [CP037.encode('IVTNO   DISPLAY LAST1                   ')],
};
