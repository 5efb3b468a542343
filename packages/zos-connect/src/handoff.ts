/**
 * Handoff data plane, target side: when the stack supervisor passes a connection accepted by the
 * VIPA distributor over the IPC channel (`{ type: 'imsplex:handoff', … }` + the socket), feed it to
 * the HTTP server as if it had been accepted there, and report its close. The message shapes are the
 * distributor's IPC contract (packages/distributor/src/dataplane/handoff.ts); this package does not
 * import the distributor.
 */
import { type Server, type Socket } from 'node:net';

interface HandoffMessage {
  readonly type: 'imsplex:handoff';
  readonly id: number;
  readonly owner: string;
  readonly dvipa: string;
  readonly port: number;
  readonly xcf: string;
}

/** The IPC endpoint (a child process's `process`). */
export interface IpcChannel {
  send?: (message: unknown) => boolean;
  connected?: boolean;
  on(event: 'message', listener: (m: unknown, handle?: unknown) => void): unknown;
  off(event: 'message', listener: (m: unknown, handle?: unknown) => void): unknown;
}

function isHandoff(m: unknown): m is HandoffMessage {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'imsplex:handoff';
}

/** Accept handed-off sockets into `server`. Returns a function that stops listening. */
export function acceptHandoffs(server: Server, channel: IpcChannel = process as unknown as IpcChannel): () => void {
  const handler = (m: unknown, handle?: unknown): void => {
    if (!isHandoff(m)) return;
    const socket = handle as Socket | undefined;
    if (!socket || typeof socket.setNoDelay !== 'function') return;
    socket.setNoDelay(true);
    socket.once('close', () => {
      if (typeof channel.send === 'function' && channel.connected !== false) {
        try {
          channel.send({ type: 'imsplex:handoff:closed', id: m.id, owner: m.owner, dvipa: m.dvipa, port: m.port, xcf: m.xcf });
        } catch {
          // The supervisor is gone.
        }
      }
    });
    server.emit('connection', socket);
  };
  channel.on('message', handler);
  return () => channel.off('message', handler);
}
