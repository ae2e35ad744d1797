/**
 * Replay for `joinchannel` with `since`: the messages after `since` still in history, oldest
 * first, each posted as its own frame, preceded by a `history_gap` error frame when some of
 * them are no longer kept.
 */

import { bulkPoster } from './clients.js';
import { config } from './config.js';
import { AirwaveError } from './errors.js';
import { errorFrame } from './protocol.js';
import { readHistory } from './store.js';

export interface ReplayResult {
  replayed: number;
  gap: boolean;
}

export async function replay(connectionId: string, channel: string, since: number, latest: number | undefined): Promise<ReplayResult> {
  if (latest === undefined || latest <= since) return { replayed: 0, gap: false };
  const entries = await readHistory(channel, since, config().historySize);
  const oldest = entries[0]?.seq;
  const gap = oldest === undefined || oldest > since + 1;
  if (gap) {
    const error = new AirwaveError('history_gap', 'some messages after "since" are no longer kept', {
      channel,
      since,
      oldest: oldest ?? latest + 1,
    });
    await bulkPoster().post(connectionId, JSON.stringify(errorFrame(error)));
  }
  let replayed = 0;
  // One at a time, in order (clients that ignore `seq` still see history in order), through the
  // bulk poster: the SDK's ~1 ms of CPU per post made long replays time out under churn.
  for (const entry of entries) {
    const outcome = await bulkPoster().post(connectionId, entry.frame);
    if (outcome === 'gone') break;
    replayed++;
  }
  return { replayed, gap };
}
