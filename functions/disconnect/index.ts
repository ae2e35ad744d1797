/**
 * `$disconnect`: delete every row of the connection. Best effort on AWS's side (it may never run),
 * which is why rows also carry a TTL and a 410 during fan-out deletes them too.
 */

import { removeConnection } from '../../shared/connection-cleanup.js';
import type { WebSocketEvent } from '../../shared/handler.js';
import { logger } from '../../shared/observability.js';

export async function handler(event: WebSocketEvent): Promise<{ statusCode: number }> {
  const connectionId = event.requestContext.connectionId;
  const removed = await removeConnection(connectionId);
  logger.info('disconnected', { connectionId, removed });
  return { statusCode: 200 };
}
