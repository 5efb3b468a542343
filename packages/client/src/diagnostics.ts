/**
 * `node:diagnostics_channel` channels of the client. Subscribe to observe connections and requests
 * without wrapping the client:
 *
 * ```ts
 * import diagnostics_channel from 'node:diagnostics_channel';
 * diagnostics_channel.subscribe('imsplex:client:request', (msg) => console.log(msg));
 * ```
 *
 * Messages are plain objects; publishing costs nothing when nobody subscribes.
 */
import diagnosticsChannel from 'node:diagnostics_channel';

/** Channel names. */
export const ChannelName = {
  /** A connection attempt starts: `{ endpoint }`. */
  connect: 'imsplex:client:connect',
  /** A connection is open: `{ connectionId, clientId, endpoint }`. */
  connected: 'imsplex:client:connected',
  /** A connection attempt failed: `{ endpoint, error }`. */
  connectError: 'imsplex:client:connectError',
  /** A connection closed: `{ connectionId, clientId, endpoint }`. */
  disconnect: 'imsplex:client:disconnect',
  /** A request frame is about to be written: `{ connectionId, clientId, endpoint, kind, trancode, bytes }`. */
  request: 'imsplex:client:request',
  /** A reply arrived: `{ connectionId, clientId, kind, status, ms }` (`status` = the RSM, if any). */
  response: 'imsplex:client:response',
  /** An exchange failed: `{ connectionId, clientId, kind, written, error }`. */
  error: 'imsplex:client:error',
} as const;

/** The channel objects. */
export const channels = {
  connect: diagnosticsChannel.channel(ChannelName.connect),
  connected: diagnosticsChannel.channel(ChannelName.connected),
  connectError: diagnosticsChannel.channel(ChannelName.connectError),
  disconnect: diagnosticsChannel.channel(ChannelName.disconnect),
  request: diagnosticsChannel.channel(ChannelName.request),
  response: diagnosticsChannel.channel(ChannelName.response),
  error: diagnosticsChannel.channel(ChannelName.error),
} as const;

/** Publish when someone listens. */
export function publish(channel: diagnosticsChannel.Channel, message: Record<string, unknown>): void {
  if (channel.hasSubscribers) channel.publish(message);
}
