/**
 * The `$connect` integration: joins the default channel (when the rights cover it) and
 * `?channels=` in one batch write, echoes the `airwave` subprotocol when the client offered it
 * (a browser carrying its token as a subprotocol must get one of its offers back, or it drops
 * the socket), and refuses the upgrade otherwise, with the status shared/auth/refusal.ts gives
 * the refusal's code (400 bad channel list, 403 not allowed or too many channels).
 */

import { AuthRefusedError, connectRefusalCode } from './auth/refusal.js';
import { config } from './config.js';
import { openConnection } from './connection-store.js';
import { AirwaveError, BadRequestError, ConnectRefusedError } from './errors.js';
import { routeContext, type WebSocketEvent } from './handler.js';
import { logger, redactQuery } from './observability.js';
import { assertCanJoin, canJoin } from './policy.js';
import { isPresenceChannel } from './presence-settings.js';
import { parseChannelList } from './validate.js';

export const SUBPROTOCOL = 'airwave';

type ConnectResult = { statusCode: number; headers?: Record<string, string> };

function header(event: WebSocketEvent, name: string): string | undefined {
  const headers = (event as { headers?: Record<string, string | undefined> }).headers ?? {};
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}

export async function connect(event: WebSocketEvent): Promise<ConnectResult> {
  const ctx = routeContext(event);
  const query = (event as { queryStringParameters?: Record<string, string | undefined> }).queryStringParameters ?? {};
  logger.appendKeys({ connectionId: ctx.connectionId, routeKey: '$connect' });
  try {
    const { defaultChannel, maxChannelsPerConnection } = config();
    const requested = parseChannelList(query.channels);
    // The default channel is a channel like any other: a connection whose rights do not cover
    // it is not subscribed (it is not refused either; AuthMode=none's open rights cover it).
    // Presence channels are joined with a joinchannel frame only: its ack carries the member list.
    if (requested.some(isPresenceChannel)) throw new BadRequestError('presence channels are joined with joinchannel');
    const withDefault = defaultChannel && canJoin(ctx.rights, defaultChannel) && !isPresenceChannel(defaultChannel);
    const channels = [...new Set(withDefault ? [defaultChannel, ...requested] : requested)];
    if (channels.length > maxChannelsPerConnection) throw new AuthRefusedError('too_many_channels');
    for (const channel of requested) assertCanJoin(ctx.rights, channel);
    // The connection row is written even with no channel: joins and budgets are conditional on it.
    await openConnection(ctx.connectionId, channels, ctx.connectedAt);
    logger.info('connected', { principal: ctx.rights.principal, channels: channels.length, query: redactQuery(query) });
    const offered = (header(event, 'sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
    return offered.includes(SUBPROTOCOL) ? { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': SUBPROTOCOL } } : { statusCode: 200 };
  } catch (error) {
    if (error instanceof ConnectRefusedError) {
      logger.warn('connect refused', { reason: error.message });
      return { statusCode: error.statusCode };
    }
    if (error instanceof AirwaveError) {
      // The status comes from shared/auth/refusal.ts, the one place that maps refusals to statuses.
      const refusal = new AuthRefusedError(connectRefusalCode(error), { cause: error });
      logger.warn('connect refused', { reason: refusal.code });
      return { statusCode: refusal.statusCode };
    }
    logger.error('connect failed', error as Error);
    return { statusCode: 500 };
  }
}
