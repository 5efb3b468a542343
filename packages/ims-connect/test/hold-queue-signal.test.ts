/**
 * CSM X'80' (CSM_AMSG) over the real OTMA link: a scripted IMS on the XCF link sends the hold-queue
 * depth signal IMS Connect reads (otma-adapter.ts, transaction state bytes 69–72), with chosen
 * depths: the flag lights up with a non-zero depth and stays dark when the signal is absent (an IMS
 * that does not send it). The real engine's signal is covered in ims-table.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import {
  CP037,
  OtmaCommand,
  OtmaCommitConfirmation,
  OtmaMessageType,
  OtmaResponseFlag,
  XcfFrameReader,
  buildRequest,
  decodeReply,
  decodeXcfFrame,
  encodeRequest,
  encodeXcfFrame,
  otmaControl,
  type OtmaMessage,
} from '@imsplex/codec';
import { ByteBuilder } from '@imsplex/codec/testing';
import { ImsConnectServer } from '../src/index.js';
import { RawClient, silent } from './harness.js';
import { duplexPair } from 'node:stream';

/** Transaction state data after the server-state byte, field by field (OTMA-LINK.md §1.1). */
function stateRest(depth: number | undefined): Uint8Array {
  const b = new ByteBuilder()
    .u8(0x20) // sync flags: CM1
    .u8(0x00) // sync level NONE
    .ebcdic('', 8) // MFS map name
    .fill(0, 16) // server token
    .fill(0, 16) // correlator
    .fill(0, 16) // context ID
    .ebcdic('', 8); // reroute tpipe
  if (depth !== undefined) b.u32(depth); // bytes 69–72: hold-queue depth (the proposed signal)
  return b.bytes();
}

/** A scripted IMS: ACKs the client-bid; answers each transaction with DATA then a commit confirmation. */
class ScriptedIms {
  readonly server: Server;
  /** Depth to report per trancode (undefined = no signal). */
  readonly depth = new Map<string, number | undefined>();
  private seq = 100;
  private readonly sockets = new Set<Socket>();

  constructor() {
    this.server = createServer({ noDelay: true }, (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      const reader = new XcfFrameReader();
      s.on('data', (chunk: Buffer) => {
        for (const f of reader.push(chunk)) this.onMessage(s, decodeXcfFrame(f, { codePage: CP037 }));
      });
      s.on('error', () => undefined);
    });
  }

  private write(s: Socket, m: OtmaMessage): void {
    s.write(encodeXcfFrame(m, { codePage: CP037 }));
  }

  private onMessage(s: Socket, m: OtmaMessage): void {
    const c = m.control;
    if (c.messageType & OtmaMessageType.COMMAND && c.commandType === OtmaCommand.CLIENT_BID) {
      this.write(s, { control: otmaControl({ messageType: OtmaMessageType.COMMAND | OtmaMessageType.RESPONSE, responseFlags: OtmaResponseFlag.ACK, commandType: OtmaCommand.CLIENT_BID, sendSequence: c.sendSequence }) });
      return;
    }
    if (c.messageType & OtmaMessageType.TRANSACTION) {
      const data = m.segments![0]!;
      const tran = CP037.decode(data.subarray(0, 8)).trim();
      const depth = this.depth.get(tran);
      this.write(s, {
        control: otmaControl({ messageType: OtmaMessageType.DATA, tpipe: c.tpipe, sendSequence: ++this.seq }),
        state: { form: 'transaction', serverState: 0, rest: stateRest(depth) },
        segments: [data.subarray(8)],
      });
      this.write(s, {
        control: otmaControl({ messageType: OtmaMessageType.COMMIT_CONFIRMATION, commitConfirmation: OtmaCommitConfirmation.COMMITTED, tpipe: c.tpipe, sendSequence: c.sendSequence }),
        state: { form: 'transaction', serverState: 0, rest: stateRest(depth) },
      });
    }
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let ims: ScriptedIms | undefined;
let server: ImsConnectServer | undefined;
afterEach(async () => {
  await server?.close();
  await ims?.close();
  server = undefined;
  ims = undefined;
});

describe('hold-queue depth signal on the OTMA link → CSM X\'80\'', () => {
  it('lights up with a non-zero depth, clears with zero, stays off without the signal', async () => {
    ims = new ScriptedIms();
    const port = await ims.listen();
    server = new ImsConnectServer({ id: 'HWS1', ports: [0], datastores: [{ id: 'IMS1', tmember: 'IMS1', address: { host: '127.0.0.1', port } }] }, { logger: silent });
    await server.start();
    await vi.waitFor(() => expect(server!.health().datastores[0]!.status).toBe('ACTIVE'));
    ims.depth.set('QUEUED', 2);
    ims.depth.set('EMPTY', 0);
    ims.depth.set('NOSIGNAL', undefined);
    const [a, b] = duplexPair();
    server.handleConnection(b, 0);
    const c = new RawClient(a);
    const flagsOf = async (trancode: string, clientId: string): Promise<number> => {
      c.send(encodeRequest(buildRequest({ datastore: 'IMS1', clientId, trancode, data: 'X', commitMode: 'CM1', syncLevel: 'NONE', timer: 5000 })));
      const r = decodeReply((await c.next())!, { llll: true });
      return r.kind === 'data' ? r.csm.flags : -1;
    };
    expect(await flagsOf('QUEUED', 'SIGCLI01')).toBe(0x90);
    expect(await flagsOf('EMPTY', 'SIGCLI01')).toBe(0x10);
    a.destroy();
    // A fresh client whose tpipe IMS never reported on: the flag stays off.
    const [a2, b2] = duplexPair();
    server.handleConnection(b2, 0);
    const c2 = new RawClient(a2);
    c2.send(encodeRequest(buildRequest({ datastore: 'IMS1', clientId: 'SIGCLI02', trancode: 'NOSIGNAL', data: 'X', commitMode: 'CM1', syncLevel: 'NONE', timer: 5000 })));
    const r2 = decodeReply((await c2.next())!, { llll: true });
    expect(r2.kind === 'data' && r2.csm.flags).toBe(0x10);
    a2.destroy();
  });
});
