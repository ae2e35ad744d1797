/**
 * `joinchannel`: {"action":"joinchannel","channel":C,"since"?:N}. Writes the subscription row
 * *before* reading history, so nothing published meanwhile can fall between replay and live.
 */
import { config } from '../../shared/config.js';
import { TooManyChannelsError } from '../../shared/errors.js';
import { messageRoute } from '../../shared/handler.js';
import { assertCanJoin } from '../../shared/policy.js';
import { joinedFrame } from '../../shared/protocol.js';
import { replay } from '../../shared/replay.js';
import { countSubscriptions, readSequence, subscribe } from '../../shared/store.js';
import { assertChannel, optionalSeq } from '../../shared/validate.js';

export const handler = messageRoute(async (ctx) => {
  const body = ctx.body();
  const channel = body.channel;
  assertChannel(channel);
  const since = optionalSeq(body.since, 'since');
  assertCanJoin(ctx.rights, channel);
  const limit = config().maxChannelsPerConnection;
  if ((await countSubscriptions(ctx.connectionId)) >= limit) throw new TooManyChannelsError(limit);
  await subscribe(ctx.connectionId, channel, ctx.connectedAt);
  const sequence = await readSequence(channel);
  if (since !== undefined) await replay(ctx.connectionId, channel, since, sequence);
  return joinedFrame(channel, ctx.connectionId, sequence?.seq);
});
