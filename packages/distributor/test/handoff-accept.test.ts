/**
 * Target side of the handoff data plane (`acceptHandoffs`): a raw TCP handle arriving over IPC
 * becomes a socket emitted as the server's 'connection', reading at once by default, or paused and
 * not reading with `pauseOnCreate` (so the server can still choose Node's onread path).
 */
import { EventEmitter } from 'node:events';
import { connect, createServer, Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptHandoffs, type HandoffMessage } from '../src/index.js';
import { loopbackScope } from './helpers.js';

const scope = loopbackScope();
afterEach(() => scope.close());

interface RawHandle {
  reading?: boolean;
}

/** A connected pair whose server side is given up as a raw handle (what a handed-off socket arrives as). */
async function rawHandlePair(): Promise<{ client: Socket; handle: RawHandle }> {
  let take!: (h: RawHandle) => void;
  const taken = new Promise<RawHandle>((r) => (take = r));
  const source = createServer({ pauseOnConnect: true }, (s) => {
    const own = s as unknown as { _handle: RawHandle | null };
    const h = own._handle!;
    own._handle = null; // this Socket object lets go; the handle lives on in the new one
    take(h);
    // It no longer counts as one of the source's connections (close() would wait for it forever).
    source.close();
    source.unref();
  });
  const port = await new Promise<number>((r) => source.listen({ host: '127.0.0.1', port: 0 }, () => r((source.address() as { port: number }).port)));
  const client = connect({ host: '127.0.0.1', port });
  scope.sockets.push(client);
  return { client, handle: await taken };
}

function deliver(options: { pauseOnCreate?: boolean }) {
  const channel = Object.assign(new EventEmitter(), { connected: true, send: () => true });
  const server = new Server();
  const got = new Promise<Socket>((r) => server.once('connection', r));
  const stop = acceptHandoffs(server, { channel: channel as never, ...options });
  return {
    got,
    stop,
    send(handle: RawHandle) {
      const m: HandoffMessage = { type: 'imsplex:handoff', id: 1, owner: 'TEST/1', dvipa: '127.0.0.1', port: 1, xcf: 'SYS1', clientAddress: '127.0.0.1', clientPort: 1 };
      channel.emit('message', m, handle);
    },
  };
}

describe('acceptHandoffs', () => {
  it('emits a reading socket by default', async () => {
    const { client, handle } = await rawHandlePair();
    const d = deliver({});
    d.send(handle);
    const s = await d.got;
    scope.sockets.push(s);
    expect((s as unknown as { _handle: RawHandle })._handle.reading).toBe(true);
    const data = new Promise<string>((r) => s.once('data', (b: Buffer) => r(b.toString())));
    client.write('hello');
    expect(await data).toBe('hello');
    d.stop();
  });

  it('with pauseOnCreate, emits a paused socket that has not started reading; bytes wait until it resumes', async () => {
    const { client, handle } = await rawHandlePair();
    const d = deliver({ pauseOnCreate: true });
    d.send(handle);
    const s = await d.got;
    scope.sockets.push(s);
    expect((s as unknown as { _handle: RawHandle })._handle.reading).not.toBe(true);
    expect(s.isPaused()).toBe(true);
    const chunks: string[] = [];
    s.on('data', (b: Buffer) => chunks.push(b.toString()));
    const written = new Promise<void>((r) => client.write('early', () => r()));
    await written;
    expect(chunks).toEqual([]);
    const data = new Promise<void>((r) => s.once('data', () => r()));
    s.resume();
    await data;
    expect(chunks.join('')).toBe('early');
    d.stop();
  });
});
