/** `ping`: keep-alive for idle connections (API Gateway cuts after 10 idle minutes). */
import { messageRoute } from '../../shared/handler.js';
import { pongFrame } from '../../shared/protocol.js';

export const handler = messageRoute(async () => pongFrame());
