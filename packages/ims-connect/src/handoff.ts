/**
 * Handoff data plane, target side: when IMS Connect runs as a child of the stack supervisor (with an
 * IPC channel) and the VIPA distributor in HANDOFF mode passes it a connection the distributor
 * accepted, serve that connection as one of IMS Connect's own ports.
 *
 * Packages meet only through wire protocols (ARCHITECTURE.md). The handoff IPC messages are the
 * distributor's protocol with its targets, so importing the distributor's small target-side helper
 * (`acceptHandoffs`) is that rule applied, not an exception to it: it keeps one implementation of the
 * message shapes, the raw-handle wrapping and the close reports, and this package stays out of the
 * distributor's internals.
 */
import { Server as NetServer, type Socket } from 'node:net';
import { acceptHandoffs, type AcceptHandoffsOptions } from '@imsplex/distributor';
import type { ImsConnectServer } from './server.js';

/** Options of {@link acceptImsConnectHandoffs}. */
export interface ImsConnectHandoffOptions {
  /** The IPC endpoint; default `process` (the bin run as a child with an IPC channel). */
  readonly channel?: AcceptHandoffsOptions['channel'];
}

/**
 * Accept connections handed off by the distributor into `server`. A handoff for a port IMS Connect
 * does not have is refused (the distributor hears `imsplex:handoff:failed` and marks the target not
 * ready); every other one is served by `server.adoptSocket` on the port it was accepted for, with the
 * same checks, accounting and socket options as a connection accepted here. Returns a function that
 * stops accepting handoffs.
 */
export function acceptImsConnectHandoffs(server: ImsConnectServer, options: ImsConnectHandoffOptions = {}): () => void {
  // The distributor's helper hands sockets to a net.Server's 'connection' event. This one never
  // listens; it only routes. The socket's local port is the distributed port the distributor
  // accepted it on (DVIPA:5801 for IMS Connect port 5801), which the filter below has checked.
  const router = new NetServer();
  router.on('connection', (socket: Socket) => {
    server.adoptSocket(socket, socket.localPort ?? -1);
  });
  return acceptHandoffs(router, {
    filter: (m) => server.hasPort(m.port),
    // Paused and not reading, like the sockets IMS Connect accepts itself (pauseOnConnect), so
    // handed-off connections take the direct read path too.
    pauseOnCreate: true,
    ...(options.channel ? { channel: options.channel } : {}),
  });
}
