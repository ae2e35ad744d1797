/** `leavechannel`: {"action":"leavechannel","channel":C}. Idempotent. */
import { messageRoute } from '../../shared/handler.js';
import { leftFrame } from '../../shared/protocol.js';
import { unsubscribe } from '../../shared/store.js';
import { assertChannel } from '../../shared/validate.js';

export const handler = messageRoute(async (ctx) => {
  const channel = ctx.body().channel;
  assertChannel(channel);
  await unsubscribe(ctx.connectionId, channel);
  return leftFrame(channel);
});
