/** `leavechannel`: {"action":"leavechannel","channel":C}. Idempotent; frees a channel slot. */
import { leaveChannel } from '../../shared/connection-store.js';
import { messageRoute } from '../../shared/handler.js';
import { leftFrame } from '../../shared/protocol.js';
import { assertChannel } from '../../shared/validate.js';

export const handler = messageRoute(async (ctx) => {
  const channel = ctx.body().channel;
  assertChannel(channel);
  await leaveChannel(ctx.connectionId, channel);
  return leftFrame(channel);
});
