/**
 * `joinchannel`: {"action":"joinchannel","channel":C,"since"?:N}. Writes the subscription row
 * *before* reading history, so nothing published meanwhile can fall between replay and live.
 * The channel cap is atomic (shared/connection-store.ts joinChannel); a replay spends the
 * connection's and the principal's replay budgets, and a refused replay still joins: the client
 * gets a `rate_limited` frame for the replay, then its `joined` ack marked `replay: "refused"`.
 * A join that fails after writing its subscription (storage too slow: `unavailable`) undoes it.
 * A presence channel's join (shared/presence.ts) spends the presence budget, is refused with
 * `presence_full` past the member cap, and its ack carries the member list.
 */

import { spend } from '../../shared/budgets.js';
import { bulkPoster } from '../../shared/clients.js';
import { config } from '../../shared/config.js';
import { joinChannel, leaveChannel } from '../../shared/connection-store.js';
import { GRACE_MS, isUnavailable, UnavailableError, withGrace } from '../../shared/deadline.js';
import { AirwaveError, PresenceFullError, TooManyChannelsError } from '../../shared/errors.js';
import { frameForError, messageRoute, type RouteContext } from '../../shared/handler.js';
import { logger } from '../../shared/observability.js';
import { assertCanJoin } from '../../shared/policy.js';
import { postWithRetry } from '../../shared/post-retry.js';
import { joinPresence, leavePresence, type PresenceAck, spendPresence } from '../../shared/presence.js';
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
  const outcome = await joinChannel(ctx.connectionId, channel, ctx.connectedAt, limit).catch((error: unknown) => {
    throw unavailableFor(channel, error);
  });
  if (outcome === 'full') throw new TooManyChannelsError(limit, channel); // logged at WARN by the wrapper
  if (outcome === 'gone') return undefined; // $disconnect ran meanwhile: no one to answer
  try {
    let ack: PresenceAck | undefined;
    if (presence) {
      const joined = await joinPresence(ctx, channel);
      if (joined === 'gone') return undefined;
      if (joined === 'full' || joined === 'crowded') {
        // A member cap refusal joins nothing: the subscription goes again (a subscription of a
        // presence channel without its membership would get messages but no presence events).
        await leaveChannel(ctx.connectionId, channel);
        const { memberLimit, connectionsPerMember } = presenceSettings();
        throw joined === 'full'
          ? new PresenceFullError(memberLimit, channel)
          : new PresenceFullError(connectionsPerMember, channel, 'member');
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
        // The ack says the replay was refused: its seq is the channel's latest, not where the
        // client is, and the client asks again after retryAfter.
        const retryAfter = Number(allowed.details.retryAfter ?? 1);
        return { ...joinedFrame(channel, ctx.connectionId, latest, { retryAfter }), ...ack };
      }
      await replay(ctx.connectionId, channel, since, sequence);
    }
    return { ...joinedFrame(channel, ctx.connectionId, latest), ...ack };
  } catch (error) {
    // Something failed after the subscription was written (storage too slow: `unavailable`; or
    // for good: `internal_error`): the client is told the join failed, so the subscription must
    // not stay (it would get messages it believes it never joined, and a later join of it would
    // be 'already'). An answer of the protocol keeps the join as it is: presence_full has left
    // already, replay_incomplete keeps it on purpose (the client resumes from lastSeq).
    const failed = isUnavailable(error) || !(error instanceof AirwaveError);
    if (outcome === 'joined' && failed) await undoSubscription(ctx, channel, presence);
    throw unavailableFor(channel, error);
  }
});

/** A storage failure as `unavailable` naming the channel (the client matches it to its join); other errors as they are. */
function unavailableFor(channel: string, error: unknown): unknown {
  if (error instanceof AirwaveError && error.code !== 'unavailable') return error;
  return isUnavailable(error) ? new UnavailableError(undefined, { channel }, { cause: error }) : error;
}

/**
 * Leaves `channel` again under a fresh GRACE_MS; a failure is logged (the row expires by TTL).
 * A presence channel's membership goes first: once the subscription row (which names the
 * membership) is gone, `$disconnect` could no longer end it, and the member would stay listed
 * until its row's TTL.
 */
async function undoSubscription(ctx: RouteContext, channel: string, presence: boolean): Promise<void> {
  try {
    await withGrace(GRACE_MS, async () => {
      if (presence) await leavePresence(ctx, channel);
      await leaveChannel(ctx.connectionId, channel);
    });
  } catch (error) {
    logger.warn('could not undo a failed join; its row expires by TTL', { channel, error: (error as Error)?.name });
  }
}
