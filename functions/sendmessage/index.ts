/**
 * `sendmessage`: {"action":"sendmessage","channel"?:C,"message":M}. Checks, in order of cost:
 * shape and size, rights, the connection's and then the principal's publish budget; then publishes to every member of C
 * except the sender, and answers with a `sent` receipt. Membership is not required: frames of one
 * connection run concurrently, so a join sent just before may not be processed yet.
 */
import { spend } from '../../shared/budgets.js';
import { config } from '../../shared/config.js';
import { messageRoute } from '../../shared/handler.js';
import { assertCanPublish } from '../../shared/policy.js';
import { sentFrame } from '../../shared/protocol.js';
import { publish } from '../../shared/publish.js';
import { assertChannel, assertMessage } from '../../shared/validate.js';

export const handler = messageRoute(async (ctx) => {
  const body = ctx.body();
  const { defaultChannel, maxMessageBytes } = config();
  const channel = body.channel ?? (defaultChannel || undefined);
  assertChannel(channel);
  assertMessage(body.message, maxMessageBytes);
  assertCanPublish(ctx.rights, channel);
  if ((await spend(ctx, 'publish', channel)) === 'gone') return undefined; // closed meanwhile: publish nothing
  const published = await publish(channel, body.message, ctx.connectionId);
  return sentFrame(channel, published.id, published.seq);
});
