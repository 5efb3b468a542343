/** Test harness: a server with fake or real datastores, and a byte-level client over any duplex. */
import { connect as netConnect } from 'node:net';
import { duplexPair, type Duplex } from 'node:stream';
import { ReplyFrameReader } from '@imsplex/codec';
import type { TestImsSystem } from '@imsplex/ims';
import { pino } from 'pino';
import { expect, vi } from 'vitest';
import { ImsConnectServer, type ImsConnectOptions, type ServerDeps } from '../src/index.js';
import { FakeIms } from './fake-ims.js';

export const silent = pino({ level: 'silent' });

/** Hex dump text (`0000  00 00 …` lines or bare hex) → bytes. */
export function hex(text: string): Uint8Array {
  const clean = text
    .split('\n')
    .map((l) => l.replace(/^\s*[0-9A-Fa-f]{4}\s{2}/, ''))
    .join(' ')
    .replace(/[^0-9A-Fa-f]/g, '');
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}
export const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

/** A client speaking raw bytes; replies are split with the codec's reply framer. */
export class RawClient {
  private readonly reader: ReplyFrameReader;
  private readonly replies: Uint8Array[] = [];
  private waiters: Array<() => void> = [];
  closed = false;
  private readonly closedPromise: Promise<void>;
  raw: Buffer[] = [];

  constructor(
    readonly stream: Duplex,
    llll = true,
  ) {
    this.reader = new ReplyFrameReader({ llll });
    stream.on('data', (c: Buffer) => {
      this.raw.push(c);
      for (const r of this.reader.push(c)) this.replies.push(r);
      this.wake();
    });
    this.closedPromise = new Promise((resolve) => {
      const done = () => {
        this.closed = true;
        this.wake();
        resolve();
      };
      stream.on('end', done);
      stream.on('close', done);
      stream.on('error', done);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  setLlll(llll: boolean): void {
    this.reader.llll = llll;
  }

  send(bytes: Uint8Array): void {
    this.stream.write(bytes);
  }

  /** The next reply, or undefined when the server closed first. */
  async next(): Promise<Uint8Array | undefined> {
    for (;;) {
      const r = this.replies.shift();
      if (r) return r;
      if (this.closed) return undefined;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Resolves when the server closed the connection. */
  whenClosed(): Promise<void> {
    return this.closedPromise;
  }

  /** Replies already received and not yet read. */
  get queued(): number {
    return this.replies.length;
  }

  end(): void {
    this.stream.end();
  }
}

export interface Harness {
  server: ImsConnectServer;
  ims: FakeIms;
  ims2: FakeIms;
  /** A client on the in-memory transport. */
  memory(port?: number, llll?: boolean): RawClient;
  /** A client over TCP (server must be started). */
  tcp(port?: number, llll?: boolean): Promise<RawClient>;
  close(): Promise<void>;
}

export const PORT = 0;

/**
 * A started IMS Connect `HWS1` (one port, any free) whose datastore `IMS1` is the OTMA link of a
 * real in-process IMS engine, resolved once that datastore is ACTIVE.
 */
export async function serverOnTestIms(ims: TestImsSystem, timeout: number): Promise<ImsConnectServer> {
  const server = new ImsConnectServer(
    {
      id: 'HWS1',
      ports: [{ id: 0 }],
      datastores: [{ id: 'IMS1', group: ims.group, member: 'HWS1', tmember: ims.member, address: { host: ims.link.host, port: ims.link.port } }],
      timeout,
    },
    { logger: silent },
  );
  await server.start();
  await vi.waitFor(() => expect(server.health().datastores[0]!.status).toBe('ACTIVE'), { timeout: 5000 });
  return server;
}

export async function harness(extra: Partial<ImsConnectOptions> = {}, deps: ServerDeps = {}, listen = false): Promise<Harness> {
  const ims = new FakeIms('IMS1');
  const ims2 = new FakeIms('IMS2');
  const server = new ImsConnectServer(
    {
      id: 'HWS1',
      ports: [{ id: 0 }],
      datastores: [
        { id: 'IMS1', tmember: 'IMS1', alternates: ['IMS2'] },
        { id: 'IMS2', tmember: 'IMS2' },
      ],
      maxSockets: 1000,
      timeout: 5000,
      ...extra,
    },
    { logger: silent, datastoreFactory: (ds) => (ds.id === 'IMS1' ? ims : ims2), ...deps },
  );
  if (listen) await server.start();
  const firstPort = server.options.ports[0]!.id;
  const clients: RawClient[] = [];
  return {
    server,
    ims,
    ims2,
    memory(port = firstPort, llll = true) {
      const [a, b] = duplexPair();
      server.handleConnection(b, port);
      const c = new RawClient(a, llll);
      clients.push(c);
      return c;
    },
    async tcp(port = firstPort, llll = true) {
      const s = netConnect({ host: '127.0.0.1', port: server.boundPort(port), noDelay: true });
      await new Promise<void>((resolve, reject) => {
        s.once('connect', resolve);
        s.once('error', reject);
      });
      const c = new RawClient(s, llll);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.stream.destroy();
      await server.close();
    },
  };
}
