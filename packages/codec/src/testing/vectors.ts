/**
 * Golden request vectors: the worked hex dumps of spec ims-connect-protocol.md §13 pasted literally,
 * the same messages rebuilt field by field with the naive builder, and a plain summary of what each
 * one means. Tests check that the literal hex and the naive bytes agree, and that the codec decodes,
 * encodes and round-trips them.
 */
import { hexBytes } from './replies.js';
import { naiveRequest, naiveText } from './requests.js';

/** What a vector means, in plain values (no codec types). */
export interface RequestVectorSummary {
  exitId: string;
  codeSet: 'ebcdic' | 'ascii';
  irmLength: number;
  arch: number;
  messageType: string;
  clientId: string;
  trancode: string;
  datastore: string;
  /** Trancode found in the first 8 data bytes, '' when no data. */
  dataTrancode: string;
  segmentCount: number;
}

/** One golden vector. */
export interface RequestVector {
  name: string;
  /** Spec section. */
  spec: string;
  /** The hex as printed in the spec (undefined for variants the spec only describes). */
  hex?: string;
  /** The same message from the naive builder. */
  bytes(): Uint8Array;
  summary: RequestVectorSummary;
}

const COMMON = {
  IRM_ID: '*SAMPL1*',
  IRM_TIMER: 0x31, // 10 s
  IRM_SOCT: 0x10, // persistent
  IRM_CLIENTID: 'CLIENT01',
  IRM_IMSDESTID: 'IMS1',
  IRM_RACF_USERID: 'USER01',
  IRM_RACF_PW: 'SECRET',
} as const;

const IVTNO_DATA = naiveText('IVTNO   DISPLAY LAST1');

/** §13.1 SAMPL1 send-receive, CM1, sync NONE, IVTNO, one segment (113 bytes). */
export const SEND_RECEIVE_CM1: RequestVector = {
  name: 'SAMPL1 send-receive CM1/NONE IVTNO (§13.1)',
  spec: '13.1',
  hex: `
0000  00 00 00 71 00 50 00 00 5C E2 C1 D4 D7 D3 F1 5C
0010  00 00 00 00 00 31 10 00 C3 D3 C9 C5 D5 E3 F0 F1
0020  00 20 00 40 C9 E5 E3 D5 D6 40 40 40 C9 D4 E2 F1
0030  40 40 40 40 40 40 40 40 40 40 40 40 E4 E2 C5 D9
0040  F0 F1 40 40 40 40 40 40 40 40 40 40 E2 C5 C3 D9
0050  C5 E3 40 40 00 19 00 00 C9 E5 E3 D5 D6 40 40 40
0060  C4 C9 E2 D7 D3 C1 E8 40 D3 C1 E2 E3 F1 00 04 00
0070  00`,
  bytes: () =>
    naiveRequest({
      ...COMMON,
      IRM_F2: 0x20, // CM1
      IRM_F3: 0x00, // sync NONE
      IRM_F4: 0x40, // send-receive
      IRM_TRNCOD: 'IVTNO',
      segments: [{ data: IVTNO_DATA }],
    }),
  summary: { exitId: '*SAMPL1*', codeSet: 'ebcdic', irmLength: 80, arch: 0, messageType: 'SEND_RECEIVE', clientId: 'CLIENT01', trancode: 'IVTNO', datastore: 'IMS1', dataTrancode: 'IVTNO', segmentCount: 1 },
};

/** §13.3 request: §13.1 with IRM_F3 = X'01' (CONFIRM). */
export const SEND_RECEIVE_CM1_CONFIRM: RequestVector = {
  name: 'SAMPL1 send-receive CM1/CONFIRM IVTNO (§13.3 request)',
  spec: '13.3',
  hex: `
0000  00 00 00 71 00 50 00 00 5C E2 C1 D4 D7 D3 F1 5C
0010  00 00 00 00 00 31 10 00 C3 D3 C9 C5 D5 E3 F0 F1
0020  00 20 01 40 C9 E5 E3 D5 D6 40 40 40 C9 D4 E2 F1
0030  40 40 40 40 40 40 40 40 40 40 40 40 E4 E2 C5 D9
0040  F0 F1 40 40 40 40 40 40 40 40 40 40 E2 C5 C3 D9
0050  C5 E3 40 40 00 19 00 00 C9 E5 E3 D5 D6 40 40 40
0060  C4 C9 E2 D7 D3 C1 E8 40 D3 C1 E2 E3 F1 00 04 00
0070  00`,
  bytes: () =>
    naiveRequest({
      ...COMMON,
      IRM_F2: 0x20, // CM1
      IRM_F3: 0x01, // sync CONFIRM
      IRM_F4: 0x40, // send-receive
      IRM_TRNCOD: 'IVTNO',
      segments: [{ data: IVTNO_DATA }],
    }),
  summary: { exitId: '*SAMPL1*', codeSet: 'ebcdic', irmLength: 80, arch: 0, messageType: 'SEND_RECEIVE', clientId: 'CLIENT01', trancode: 'IVTNO', datastore: 'IMS1', dataTrancode: 'IVTNO', segmentCount: 1 },
};

/** §13.3 client ACK (88 bytes, the minimum message). */
export const ACK_CM1: RequestVector = {
  name: 'SAMPL1 ACK (§13.3)',
  spec: '13.3',
  hex: `
0000  00 00 00 58 00 50 00 00 5C E2 C1 D4 D7 D3 F1 5C
0010  00 00 00 00 00 31 10 00 C3 D3 C9 C5 D5 E3 F0 F1
0020  00 20 01 C1 C9 E5 E3 D5 D6 40 40 40 C9 D4 E2 F1
0030  40 40 40 40 40 40 40 40 40 40 40 40 E4 E2 C5 D9
0040  F0 F1 40 40 40 40 40 40 40 40 40 40 E2 C5 C3 D9
0050  C5 E3 40 40 00 04 00 00`,
  bytes: () =>
    naiveRequest({
      ...COMMON,
      IRM_F2: 0x20, // CM1
      IRM_F3: 0x01, // sync CONFIRM
      IRM_F4: 0xc1, // 'A' ACK
      IRM_TRNCOD: 'IVTNO',
    }),
  summary: { exitId: '*SAMPL1*', codeSet: 'ebcdic', irmLength: 80, arch: 0, messageType: 'ACK', clientId: 'CLIENT01', trancode: 'IVTNO', datastore: 'IMS1', dataTrancode: '', segmentCount: 0 },
};

/** §13.4 RESUME TPIPE, ARCH1, alternate client ID TPIPE01, single message (104 bytes). */
export const RESUME_TPIPE_ARCH1: RequestVector = {
  name: 'SAMPL1 RESUME TPIPE ARCH1 single, alt client TPIPE01 (§13.4)',
  spec: '13.4',
  hex: `
0000  00 00 00 68 00 60 01 00 5C E2 C1 D4 D7 D3 F1 5C
0010  00 00 00 00 01 31 10 00 C3 D3 C9 C5 D5 E3 F0 F1
0020  00 40 00 D9 40 40 40 40 40 40 40 40 C9 D4 E2 F1
0030  40 40 40 40 40 40 40 40 40 40 40 40 E4 E2 C5 D9
0040  F0 F1 40 40 40 40 40 40 40 40 40 40 E2 C5 C3 D9
0050  C5 E3 40 40 40 40 40 40 40 40 40 40 E3 D7 C9 D7
0060  C5 F0 F1 40 00 04 00 00`,
  bytes: () =>
    naiveRequest({
      ...COMMON,
      IRM_ARCH: 1,
      IRM_F5: 0x01, // ONE
      IRM_F2: 0x40, // CM0
      IRM_F3: 0x00,
      IRM_F4: 0xd9, // 'R'
      IRM_APPL_NM: '',
      IRM_REROUT_NM: 'TPIPE01', // IRM_RT_ALTCID
    }),
  summary: { exitId: '*SAMPL1*', codeSet: 'ebcdic', irmLength: 96, arch: 1, messageType: 'RESUME_TPIPE', clientId: 'CLIENT01', trancode: '', datastore: 'IMS1', dataTrancode: '', segmentCount: 0 },
};

/** §13.6 NAK with reason code X'0123', timer NO_WAIT (88 bytes). */
export const NAK_WITH_REASON: RequestVector = {
  name: 'SAMPL1 NAK with reason X0123 (§13.6)',
  spec: '13.6',
  hex: `
0000  00 00 00 58 00 50 00 10 5C E2 C1 D4 D7 D3 F1 5C
0010  01 23 00 00 00 E9 10 00 C3 D3 C9 C5 D5 E3 F0 F1
0020  00 40 00 D5 40 40 40 40 40 40 40 40 C9 D4 E2 F1
0030  40 40 40 40 40 40 40 40 40 40 40 40 E4 E2 C5 D9
0040  F0 F1 40 40 40 40 40 40 40 40 40 40 E2 C5 C3 D9
0050  C5 E3 40 40 00 04 00 00`,
  bytes: () =>
    naiveRequest({
      ...COMMON,
      IRM_F0: 0x10, // NAKRSN
      IRM_NAK_RSNCDE: 0x0123,
      IRM_TIMER: 0xe9, // NO_WAIT
      IRM_F2: 0x40, // CM0
      IRM_F3: 0x00,
      IRM_F4: 0xd5, // 'N'
    }),
  summary: { exitId: '*SAMPL1*', codeSet: 'ebcdic', irmLength: 80, arch: 0, messageType: 'NAK', clientId: 'CLIENT01', trancode: '', datastore: 'IMS1', dataTrancode: '', segmentCount: 0 },
};

/**
 * §13.7 PING (108 bytes). The spec elides the blank bytes X'30'–X'53' of this dump ("…(blank
 * LTERM/user/group/password)…"); the literal below fills them in as 36 X'40' bytes (datastore padding,
 * LTERM, user ID, group, password), which is what the annotation says and makes the dump 108 bytes.
 */
export const PING: RequestVector = {
  name: 'SAMPL1 PING (§13.7)',
  spec: '13.7',
  hex: `
0000  00 00 00 6C 00 50 00 00 5C E2 C1 D4 D7 D3 F1 5C
0010  00 00 00 00 00 31 10 00 C3 D3 C9 C5 D5 E3 F0 F1
0020  00 20 00 40 D7 C9 D5 C7 40 40 40 40 C9 D4 E2 F1
0030  40 40 40 40 40 40 40 40 40 40 40 40 40 40 40 40
0040  40 40 40 40 40 40 40 40 40 40 40 40 40 40 40 40
0050  40 40 40 40 00 14 00 00 D7 C9 D5 C7 40 C9 D4 E2
0060  6D C3 D6 D5 D5 C5 C3 E3 00 04 00 00`,
  bytes: () =>
    naiveRequest({
      IRM_ID: '*SAMPL1*',
      IRM_TIMER: 0x31,
      IRM_SOCT: 0x10,
      IRM_CLIENTID: 'CLIENT01',
      IRM_F2: 0x20, // CM1
      IRM_F4: 0x40, // send-receive
      IRM_TRNCOD: 'PING',
      IRM_IMSDESTID: 'IMS1',
      segments: [{ data: naiveText('PING IMS_CONNECT') }],
    }),
  summary: { exitId: '*SAMPL1*', codeSet: 'ebcdic', irmLength: 80, arch: 0, messageType: 'SEND_RECEIVE', clientId: 'CLIENT01', trancode: 'PING', datastore: 'IMS1', dataTrancode: 'PING IMS', segmentCount: 1 },
};

/** NABS-style ASCII client: `*SAMPLE*`, every character field and F4 in ASCII, data in ASCII. */
export const ASCII_SAMPLE_SEND_RECEIVE: RequestVector = {
  name: 'ASCII *SAMPLE* send-receive (NABS style)',
  spec: '14',
  bytes: () =>
    naiveRequest({
      codeSet: 'ascii',
      IRM_ID: '*SAMPLE*',
      IRM_TIMER: 0x31,
      IRM_SOCT: 0x00, // transaction socket
      IRM_CLIENTID: 'NABS0001',
      IRM_F2: 0x20, // CM1
      IRM_F4: 0x20, // ASCII blank = send-receive
      IRM_TRNCOD: 'IVTNO',
      IRM_IMSDESTID: 'IMS1',
      segments: [{ data: naiveText('IVTNO   DISPLAY LAST1', 'ascii') }],
    }),
  summary: { exitId: '*SAMPLE*', codeSet: 'ascii', irmLength: 80, arch: 0, messageType: 'SEND_RECEIVE', clientId: 'NABS0001', trancode: 'IVTNO', datastore: 'IMS1', dataTrancode: 'IVTNO', segmentCount: 1 },
};

/** ASCII ACK: `*SAMPL1*` and IRM_F4 `A` (X'41') in ASCII. */
export const ASCII_ACK: RequestVector = {
  name: 'ASCII *SAMPL1* ACK (F4 X41)',
  spec: '14',
  bytes: () =>
    naiveRequest({
      codeSet: 'ascii',
      IRM_ID: '*SAMPL1*',
      IRM_TIMER: 0x31,
      IRM_SOCT: 0x10,
      IRM_CLIENTID: 'CLIENT01',
      IRM_F2: 0x20,
      IRM_F3: 0x01,
      IRM_F4: 0x41, // ASCII 'A'
      IRM_IMSDESTID: 'IMS1',
    }),
  summary: { exitId: '*SAMPL1*', codeSet: 'ascii', irmLength: 80, arch: 0, messageType: 'ACK', clientId: 'CLIENT01', trancode: '', datastore: 'IMS1', dataTrancode: '', segmentCount: 0 },
};

/** Every request vector. */
export const REQUEST_VECTORS: readonly RequestVector[] = [
  SEND_RECEIVE_CM1,
  SEND_RECEIVE_CM1_CONFIRM,
  ACK_CM1,
  RESUME_TPIPE_ARCH1,
  NAK_WITH_REASON,
  PING,
  ASCII_SAMPLE_SEND_RECEIVE,
  ASCII_ACK,
];

/** The spec's literal bytes of a vector, when it has them. */
export function specBytes(v: RequestVector): Uint8Array | undefined {
  return v.hex === undefined ? undefined : hexBytes(v.hex);
}
