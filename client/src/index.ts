/**
 * airwave client: one WebSocket to an airwave service that survives API Gateway's cuts (2 hours,
 * 10 idle minutes, flaky networks) without losing, duplicating or reordering a message.
 *
 * @example
 * import { connect } from 'airwave-client';
 * const client = connect<{ headline: string }>('wss://abc.execute-api.eu-west-1.amazonaws.com/prod', { token: getToken, channels: ['news'] });
 * client.on('message', ({ channel, message }) => console.log(channel, message.headline));
 * await client.send('news', { headline: 'hello' });
 */
import { Client } from './client.js';
import type { AirwaveClient, ConnectOptions } from './types.js';

export { backoffDelay } from './backoff.js';
export * as defaults from './defaults.js';
export type * from './types.js';

/**
 * Opens a client connection to `url` (`wss://<api-id>.execute-api.<region>.amazonaws.com/<stage>`).
 * Returns at once; the connection opens in the background (`state` events tell when). `T` is the
 * payload type the app sends and receives (not checked at run time).
 * Throws only for programming errors: no WebSocket implementation, an invalid channel name.
 *
 * @example
 * // Node 20 has no global WebSocket: pass the `ws` package.
 * import WebSocket from 'ws';
 * const client = connect(url, { WebSocket, channels: ['news'] });
 */
export function connect<T = unknown>(url: string, options: ConnectOptions = {}): AirwaveClient<T> {
  return new Client(url, options) as AirwaveClient<T>;
}
