/**
 * `leavechannel`: {"action":"leavechannel","channel":C}. Idempotent; frees a channel slot. In a
 * presence channel the member loses this connection (its last one leaving sends the leave event).
 */
import { leaveChannel } from '../../shared/connection-store.js';
import { messageRoute } from '../../shared/handler.js';
import { leavePresence } from '../../shared/presence.js';
import { isPresenceChannel } from '../../shared/presence-settings.js';
import { leftFrame } from '../../shared/protocol.js';
import { assertChannel } from '../../shared/validate.js';

export const handler = messageRoute(async (ctx) => {
  const channel = ctx.body().channel;
  assertChannel(channel);
  await leaveChannel(ctx.connectionId, channel);
  // Always, not only when a subscription was deleted: a join of this connection may be between
  // its subscription and its member write (shared/presence.ts joinPresence re-checks after).
  if (isPresenceChannel(channel)) await leavePresence(ctx, channel);
  return leftFrame(channel);
});
