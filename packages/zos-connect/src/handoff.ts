/**
 * Handoff data plane, target side: when the stack supervisor passes a connection that the VIPA
 * distributor accepted (its HANDOFF data plane), serve it as if the HTTP server had accepted it.
 *
 * Packages meet only through wire protocols (ARCHITECTURE.md). The handoff IPC messages are the
 * distributor's protocol with its targets, so this uses the distributor's own target-side helper:
 * one implementation of the message shapes, the raw-handle wrapping and the close reports.
 */
import type { AddressInfo, Server } from 'node:net';
import { acceptHandoffs as acceptDistributorHandoffs, type AcceptHandoffsOptions } from '@imsplex/distributor';

/**
 * Accept handed-off sockets into `server` (the z/OS Connect HTTP server). Handoffs for another port
 * than the one `server` listens on are refused, so the distributor marks this target not ready for
 * that port. Returns a function that stops accepting handoffs.
 */
export function acceptHandoffs(server: Server, channel?: AcceptHandoffsOptions['channel']): () => void {
  return acceptDistributorHandoffs(server, {
    filter: (m) => {
      const address = server.address() as AddressInfo | null;
      return address === null || address.port === m.port;
    },
    ...(channel ? { channel } : {}),
  });
}
