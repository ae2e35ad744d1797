/**
 * `sendmessage`: {"action":"sendmessage","channel"?:C,"message":M,"ref"?:R}. Checks, in order of
 * cost: shape and size, rights, the connection's and then the principal's publish budget; then
 * publishes to every member of C except the sender, and answers with a `sent` receipt.
 * Membership is not required: frames of one connection run concurrently, so a join sent just
 * before may not be processed yet.
 *
 * `ref` is the sender's own tag (1-64 of A-Z a-z 0-9 _ -): it is echoed in the receipt and in any
 * error frame this frame causes, so a client with several sends in flight knows which one was
 * accepted or refused. Frames of one connection run concurrently, so their answers come in any
 * order: without it, a receipt could not be matched to its send.
 */
import { spend } from '../../shared/budgets.js';
import { config } from '../../shared/config.js';
import { BadRequestError } from '../../shared/errors.js';
import { frameForError, messageRoute } from '../../shared/handler.js';
import { assertCanPublish } from '../../shared/policy.js';
import { sentFrame } from '../../shared/protocol.js';
import { publish } from '../../shared/publish.js';
import { assertChannel, assertMessage } from '../../shared/validate.js';

const REF_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const handler = messageRoute(async (ctx) => {
  const body = ctx.body();
  const ref = body.ref;
  if (ref !== undefined && (typeof ref !== 'string' || !REF_PATTERN.test(ref)))
    throw new BadRequestError('"ref" must be 1-64 characters of A-Z a-z 0-9 _ -');
  try {
    const { defaultChannel, maxMessageBytes } = config();
    const channel = body.channel ?? (defaultChannel || undefined);
    assertChannel(channel);
    assertMessage(body.message, maxMessageBytes);
    assertCanPublish(ctx.rights, channel);
    if ((await spend(ctx, 'publish', channel)) === 'gone') return undefined; // closed meanwhile: publish nothing
    const published = await publish(channel, body.message, ctx.connectionId);
    return sentFrame(channel, published.id, published.seq, ref);
  } catch (error) {
    // The same frame the wrapper would build (and log), tagged with the sender's ref.
    const frame = frameForError(error, 'sendmessage');
    return ref === undefined ? frame : { ...frame, ref };
  }
});
