/**
 * A minimal IMS Connect for the CLI tests, built on @imsplex/codec only: it answers send-receive
 * (CM1, sync NONE) with `ECHO <input text>` + CSM, PING with the HWSC0030I text, an unknown datastore
 * with RSM 8/72 (NFNDDST, spec §13.5), and can drop the connection after reading a request (in doubt).
 */
import { createServer, type Server, type Socket } from 'node:net';
import {
  CP037,
  ReasonCode,
  RequestFrameReader,
  ReturnCode,
  csm,
  decodeRequest,
  encodeReply,
  segmentsText,
  statusReply,
  trancodeOf,
  PING_REQUEST_TEXT,
} from '@imsplex/codec';

export interface FakeImsConnect {
  readonly port: number;
  /** Requests received, decoded text of the data. */
  readonly received: string[];
  /** When set, the next `n` requests are read and then the socket is destroyed without a reply. */
  dropNext: number;
  close(): Promise<void>;
}

export async function startFakeImsConnect(datastores: readonly string[] = ['IMS1']): Promise<FakeImsConnect> {
  const sockets = new Set<Socket>();
  const state: FakeImsConnect = {
    port: 0,
    received: [],
    dropNext: 0,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  const server: Server = createServer({ noDelay: true }, (s) => {
    sockets.add(s);
    s.setNoDelay(true);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    const reader = new RequestFrameReader();
    s.on('data', (chunk: Buffer) => {
      let frames: Uint8Array[];
      try {
        frames = reader.push(chunk);
      } catch {
        s.destroy();
        return;
      }
      for (const f of frames) {
        const req = decodeRequest(f, { allowEmpty: true });
        const user = req.irm.user?.kind === 'sample' ? req.irm.user : null;
        const text = segmentsText(req.segments, CP037);
        state.received.push(text);
        if (state.dropNext > 0) {
          state.dropNext--;
          s.destroy();
          return;
        }
        if (user && user.datastore && !datastores.includes(user.datastore)) {
          s.end(encodeReply(statusReply(ReturnCode.IMS_CONNECT_ERROR, ReasonCode.NFNDDST), { llll: true }));
          return;
        }
        const body = text.startsWith(PING_REQUEST_TEXT) || trancodeOf(req.segments, CP037) === 'PING' ? 'HWSC0030I *PING RESPONSE*' : `ECHO ${text.slice(8)}`;
        s.write(encodeReply({ kind: 'data', segments: [CP037.encode(body)], csm: csm() }, { llll: true }));
      }
    });
  });
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, () => r()));
  const a = server.address();
  (state as { port: number }).port = a && typeof a === 'object' ? a.port : 0;
  return state;
}
