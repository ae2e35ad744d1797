/**
 * airwave client: one WebSocket to an airwave service that survives API Gateway's cuts (2 hours,
 * 10 idle minutes, flaky networks) without losing, duplicating or reordering a message.
 *
 * @example
 * import { connect } from './client/src/index.js';
 * const client = connect('wss://abc.execute-api.eu-west-1.amazonaws.com/prod', { token, channels: ['news'] });
 * client.on('message', ({ channel, message }) => console.log(channel, message));
 * client.send('news', { headline: 'hello' });
 */
import { Client } from './client.js';
import type { AirwaveClient, ConnectOptions } from './types.js';

export { backoffDelay } from './backoff.js';
export * as defaults from './defaults.js';
export type * from './types.js';

/**
 * Opens a client connection to `url` (`wss://<api-id>.execute-api.<region>.amazonaws.com/<stage>`).
 * Returns at once; the connection opens in the background (`state` events tell when).
 * Throws only for programming errors: no WebSocket implementation, an invalid channel name.
 *
 * @example
 * // Node 20 has no global WebSocket: pass the `ws` package.
 * import WebSocket from 'ws';
 * const client = connect(url, { WebSocket, channels: ['news'] });
 */
export function connect(url: string, options: ConnectOptions = {}): AirwaveClient {
  return new Client(url, options);
}
