/**
 * `joinchannel`: {"action":"joinchannel","channel":C,"since"?:N}. Writes the subscription row
 * *before* reading history, so nothing published meanwhile can fall between replay and live.
 * The channel cap is atomic (shared/connection-store.ts joinChannel); a replay spends the
 * connection's and the principal's replay budgets, and a refused replay still joins: the client
 * gets a `rate_limited` frame for the replay, then its `joined` ack. A presence channel's join
 * (shared/presence.ts) spends the presence budget, is refused with `presence_full` past the
 * member cap, and its ack carries the member list.
 */

import { spend } from '../../shared/budgets.js';
import { bulkPoster } from '../../shared/clients.js';
import { config } from '../../shared/config.js';
import { joinChannel, leaveChannel } from '../../shared/connection-store.js';
import { AirwaveError, PresenceFullError, TooManyChannelsError } from '../../shared/errors.js';
import { frameForError, messageRoute } from '../../shared/handler.js';
import { assertCanJoin } from '../../shared/policy.js';
import { postWithRetry } from '../../shared/post-retry.js';
import { joinPresence, type PresenceAck, spendPresence } from '../../shared/presence.js';
import { isPresenceChannel, presenceSettings } from '../../shared/presence-settings.js';
import { joinedFrame } from '../../shared/protocol.js';
import { replay } from '../../shared/replay.js';
import { readSequence } from '../../shared/store.js';
import { assertChannel, optionalSeq } from '../../shared/validate.js';

/** How long the `rate_limited` frame of a refused replay may take to post (inside the 10 s Timeout). */
const REFUSAL_POST_BUDGET_MS = 3_000;

export const handler = messageRoute(async (ctx) => {
  const body = ctx.body();
  const channel = body.channel;
  assertChannel(channel);
  const since = optionalSeq(body.since, 'since');
  assertCanJoin(ctx.rights, channel);
  // Presence channels: a join costs presence events, so it spends the presence budget first.
  const presence = isPresenceChannel(channel);
  if (presence && !(await spendPresence(ctx, channel))) return undefined;
  const limit = config().maxChannelsPerConnection;
  const outcome = await joinChannel(ctx.connectionId, channel, ctx.connectedAt, limit);
  if (outcome === 'full') throw new TooManyChannelsError(limit, channel); // logged at WARN by the wrapper
  if (outcome === 'gone') return undefined; // $disconnect ran meanwhile: no one to answer
  let ack: PresenceAck | undefined;
  if (presence) {
    const joined = await joinPresence(ctx, channel);
    if (joined === 'gone') return undefined;
    if (joined === 'full') {
      // A member cap refusal joins nothing: the subscription goes again (a subscription of a
      // presence channel without its membership would get messages but no presence events).
      await leaveChannel(ctx.connectionId, channel);
      throw new PresenceFullError(presenceSettings().memberLimit, channel);
    }
    ack = joined;
  }
  const sequence = await readSequence(channel);
  const latest = sequence?.seq;
  if (since !== undefined && latest !== undefined && latest > since) {
    const allowed = await spend(ctx, 'replay', channel).catch((error: unknown) => {
      if (!(error instanceof AirwaveError)) throw error;
      return error;
    });
    if (allowed === 'gone') return undefined; // $disconnect ran meanwhile
    if (allowed instanceof AirwaveError) {
      // Retried like any post: a refusal that got lost would leave the client believing the ack.
      await postWithRetry(bulkPoster(), ctx.connectionId, JSON.stringify(frameForError(allowed, 'joinchannel')), {
        deadline: Date.now() + REFUSAL_POST_BUDGET_MS,
      });
    } else await replay(ctx.connectionId, channel, since, sequence);
  }
  return ack ? { ...joinedFrame(channel, ctx.connectionId, latest), ...ack } : joinedFrame(channel, ctx.connectionId, latest);
});
