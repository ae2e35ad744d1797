/**
 * One frame to one connection, retried under a deadline: the fan-out's retry policy (429 retried
 * with full-jitter backoff up to POST_MAX_ATTEMPTS times, other failures a few times, 410 never)
 * for a caller that posts to a single connection in order and must answer its client in time
 * (the replay). The backoff is the fan-out's own `backoffMs`, sized to the account throttle.
 */
import { backoffMs } from './delivery.js';
import { POST_MAX_ATTEMPTS } from './limits.js';
import type { Poster, PostOutcome } from './poster.js';

/** A post that neither went through nor was refused for good: timeouts, resets, 5xx. Retried this many times in all. */
export const POST_MAX_FAILURES = 3;

/** What became of the post: a poster outcome after retries, or `timeout` when the deadline came first. */
export type RetriedOutcome = PostOutcome | 'timeout';

/** Options of {@link postWithRetry}; every one has a default. */
export interface PostRetryOptions {
  /** Epoch ms after which no attempt starts and no backoff sleeps (default: none). */
  deadline?: number;
  /** Clock in epoch ms (default Date.now; tests pass a fake one). */
  now?: () => number;
  /** Backoff sleep (default setTimeout; tests replace it). */
  sleep?: (ms: number) => Promise<void>;
  /** Jitter source (default Math.random). */
  random?: () => number;
}

export interface PostRetryResult {
  outcome: RetriedOutcome;
  /** 429 answers met on the way. */
  throttled: number;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Posts `data` to `connectionId` until it is accepted (`ok`), the connection is gone (`gone`,
 * 410: never retried), the retries are spent (`throttled` / `failed`), or the next attempt or
 * backoff would pass the deadline (`timeout`).
 *
 * @example
 * const { outcome } = await postWithRetry(bulkPoster(), id, text, { deadline: Date.now() + 5_000 });
 * if (outcome !== 'ok') ...
 */
export async function postWithRetry(
  poster: Poster,
  connectionId: string,
  data: string,
  options: PostRetryOptions = {},
): Promise<PostRetryResult> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  let throttled = 0;
  let failures = 0;
  for (let attempt = 0; ; attempt++) {
    if (now() >= deadline) return { outcome: 'timeout', throttled };
    const outcome = await poster.post(connectionId, data);
    if (outcome === 'ok' || outcome === 'gone') return { outcome, throttled };
    if (outcome === 'throttled') {
      if (++throttled >= POST_MAX_ATTEMPTS) return { outcome, throttled };
    } else if (++failures >= POST_MAX_FAILURES) return { outcome, throttled };
    const wait = backoffMs(attempt, undefined, undefined, options.random);
    if (now() + wait >= deadline) return { outcome: 'timeout', throttled };
    await sleep(wait);
  }
}
