/**
 * Delivering one frame to many connections, bounded and lossless:
 * - subscribers are read page by page (never all at once) and posted by a fixed pool of
 *   `concurrency` workers: never an unbounded Promise.all over subscribers;
 * - 410 Gone: the *gone* connection's rows are deleted (never the sender's), unless it connected
 *   less than 30 s ago: then it may still be completing its handshake (API Gateway answers 410
 *   until `$connect` returns), so the post is retried until it lands or the connection is old;
 * - 429 (throttled or client buffer full) and other failures (timeouts, 5xx): retried with
 *   exponential backoff and full jitter, from a queue, so a backing-off retry holds no post slot;
 *   what is still undelivered when the retries or the deadline run out is returned to the
 *   caller as the remainder, never dropped silently;
 * - gone connections' rows are deleted once every post is done, so deletes never delay posts.
 */

import { isEstablishing } from './connection-store.js';
import { FanoutError } from './errors.js';
import {
  CLEANUP_BUDGET_MS,
  CLEANUP_CONCURRENCY,
  DEFAULT_POST_CONCURRENCY,
  ESTABLISHING_MAX_WAITS,
  ESTABLISHING_RETRY_FIRST_MS,
  ESTABLISHING_RETRY_MAX_MS,
  POST_BACKOFF_BASE_MS,
  POST_BACKOFF_MAX_MS,
  POST_MAX_ATTEMPTS,
} from './limits.js';
import { logger } from './observability.js';
import type { Poster, PostOutcome } from './poster.js';

export interface DeliveryReport {
  /** Posts that API Gateway accepted. */
  delivered: number;
  /** Connections that were gone (410); their rows were deleted. */
  gone: number;
  /** Subscribers not delivered by this call (its retries spent or its deadline passed): the remainder's size. */
  failed: number;
  /** 429 answers that were retried. */
  throttled: number;
}

export interface DeliveryOptions {
  /**
   * Required, no default: the caller says which poster (the fan-out passes clients.ts'
   * `bulkPoster()`), so the SDK's slower client can never end up on a path by omission.
   */
  poster: Poster;
  /** Posts in flight at once. */
  concurrency?: number;
  /** A connection not to deliver to (the sender of a sendmessage). */
  exclude?: string;
  /** Called before each post; a pacer resolves it when the rate budget allows one more. */
  pace?: () => Promise<void>;
  /**
   * What to do with a gone connection (410): the fan-out passes shared/connection-cleanup.ts
   * `removeConnection`, presence events their own; a benchmark whose ids are all live, nothing.
   * Required: a silent default would import the cleanup, and with it presence, into this module.
   */
  onGone: (connectionId: string) => Promise<unknown>;
  /** Whether a connection that answered 410 may still be completing its handshake (default: its row says it connected < 30 s ago). */
  isEstablishing?: (connectionId: string) => Promise<boolean>;
  /** Backoff sleep (tests replace it). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Epoch ms after which no post starts: what is left is returned as the remainder (default:
   * none). A function is asked each time (the publisher's deadline starts to count only once its
   * subscribers are all read).
   */
  deadline?: number | (() => number);
  /** Posts to one subscriber in this call, 429s and failures together (default POST_MAX_ATTEMPTS). */
  maxAttempts?: number;
  /** Clock in epoch ms (default Date.now). */
  now?: () => number;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const RETRY_FAILED_ATTEMPTS = 3;
/**
 * How often a call with a deadline looks whether it has passed, for the posts waiting in the
 * pacer: a post that waits past the deadline is handed back instead of made late.
 */
const PACED_DEADLINE_CHECK_MS = 20;

/** Full-jitter exponential backoff: uniform in [0, min(max, base * 2^attempt)). */
export function backoffMs(attempt: number, base = POST_BACKOFF_BASE_MS, max = POST_BACKOFF_MAX_MS, random = Math.random): number {
  return Math.floor(random() * Math.min(max, base * 2 ** attempt));
}

export const emptyReport = (): DeliveryReport => ({ delivered: 0, gone: 0, failed: 0, throttled: 0 });

export function addReports(a: DeliveryReport, b: DeliveryReport): DeliveryReport {
  return { delivered: a.delivered + b.delivered, gone: a.gone + b.gone, failed: a.failed + b.failed, throttled: a.throttled + b.throttled };
}

/** What became of a delivery: the counts, and the ids still owed the frame. */
export interface DeliveryOutcome {
  report: DeliveryReport;
  /**
   * Ids neither delivered nor gone: their retries in this call are spent, or the deadline came
   * before they were posted (again). Exactly the ids a next attempt must cover, each once.
   */
  remainder: string[];
  /**
   * The ids of `remainder` this call never posted: the deadline came before their turn. Handing
   * them on is progress, not a retry (shared/fanout.ts `handOn` keeps their hop count).
   */
  untried: string[];
}

/** Posts `data` to every connection id the pages yield (one call's retries; see {@link deliverUntil}). */
export async function deliver(
  pages: AsyncIterable<string[]> | Iterable<string[]>,
  data: string,
  options: DeliveryOptions,
): Promise<DeliveryReport> {
  return (await deliverUntil(pages, data, options)).report;
}

/** A subscriber waiting for its next attempt. */
interface Pending {
  id: string;
  /** Epoch ms before which it is not posted again. */
  at: number;
  /** Posts answered 429 or failed so far (a 410 during the handshake does not count). */
  attempts: number;
  failures: number;
  handshakeWaits: number;
}

/**
 * Posts `data` to every connection id the pages yield, and reports which ids are still owed it.
 *
 * Retries never hold a post slot while they back off: a post answered 429 (the account throttle,
 * or that client's buffer full) or failed (5xx, reset, timeout) is put back in a queue ordered by
 * its next allowed time, and the slot takes the next subscriber. Fresh subscribers go before
 * retries, so a few clients that stopped reading do not delay everyone else's first delivery.
 * Each id gets at most `maxAttempts` posts in this call (a few if they fail outright); after
 * that, or once `deadline` has passed, it is returned in `remainder` instead of being posted
 * again: the caller hands the remainder on (shared/fanout.ts) or counts it as failed.
 *
 * Gone connections' rows are deleted after every post is done, never while posts wait.
 */
export async function deliverUntil(
  pages: AsyncIterable<string[]> | Iterable<string[]>,
  data: string,
  options: DeliveryOptions,
): Promise<DeliveryOutcome> {
  const poster = options.poster;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const limit = options.deadline;
  const deadline = typeof limit === 'function' ? limit : () => limit ?? Number.POSITIVE_INFINITY;
  const maxAttempts = Math.max(1, options.maxAttempts ?? POST_MAX_ATTEMPTS);
  const onGone = options.onGone;
  const establishing = options.isEstablishing ?? isEstablishing;
  const report = emptyReport();
  const remainder: string[] = [];
  const untried: string[] = [];
  const goneIds: string[] = [];
  /** Out of time for `item`: owed to the next call, and counted as untried if it never got a post. */
  function timedOut(item: Pending): void {
    remainder.push(item.id);
    if (item.attempts === 0 && item.failures === 0 && item.handshakeWaits === 0) untried.push(item.id);
  }
  const iterator = (Symbol.asyncIterator in pages ? pages[Symbol.asyncIterator]() : pages[Symbol.iterator]()) as
    | AsyncIterator<string[]>
    | Iterator<string[]>;

  // Shared queue fed one page at a time, so memory holds one page, not the whole channel.
  let queue: string[] = [];
  let head = 0;
  let exhausted = false;
  let refill: Promise<void> | undefined;
  async function nextId(): Promise<string | undefined> {
    while (head >= queue.length) {
      if (exhausted) return undefined;
      refill ??= Promise.resolve(iterator.next()).then((r) => {
        if (r.done) exhausted = true;
        else {
          queue = r.value;
          head = 0;
        }
        refill = undefined;
      });
      await refill;
    }
    return queue[head++];
  }

  // Retries, earliest first (a binary heap on `at`).
  const retries: Pending[] = [];
  function pushRetry(item: Pending): void {
    retries.push(item);
    for (let i = retries.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (retries[parent].at <= retries[i].at) break;
      [retries[parent], retries[i]] = [retries[i], retries[parent]];
      i = parent;
    }
  }
  function popRetry(): Pending | undefined {
    const top = retries[0];
    const last = retries.pop();
    if (retries.length > 0 && last !== undefined) {
      retries[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let min = i;
        if (l < retries.length && retries[l].at < retries[min].at) min = l;
        if (r < retries.length && retries[r].at < retries[min].at) min = r;
        if (min === i) break;
        [retries[min], retries[i]] = [retries[i], retries[min]];
        i = min;
      }
    }
    return top;
  }

  // Workers with nothing to post wait here while others' posts may still put retries back.
  let inFlight = 0;
  let idle: Array<() => void> = [];
  function wake(): void {
    if (idle.length === 0) return; // the common case: no allocation per post
    const waiting = idle;
    idle = [];
    for (const resolve of waiting) resolve();
  }

  // The deadline also ends the waits in the pacer. A batch at a small share of the rate (R x n / D:
  // the short last batch of a large channel) puts all its posts in the pacer at once, and they
  // would start up to D / R later, past the hop's budget and even the function's Timeout (whose
  // retry would post the batch twice). One timer per call, not per post, watches the deadline.
  let expiry: Promise<false> | undefined;
  let expiryTimer: ReturnType<typeof setInterval> | undefined;
  function expired(): Promise<false> {
    expiry ??= new Promise<false>((resolve) => {
      expiryTimer = setInterval(() => {
        if (now() < deadline()) return;
        clearInterval(expiryTimer);
        expiryTimer = undefined;
        resolve(false);
      }, PACED_DEADLINE_CHECK_MS);
    });
    return expiry;
  }
  const paced = (): true => true;

  /** One post to `item.id`; a retry goes back to the queue, never sleeps here. */
  async function attempt(item: Pending): Promise<void> {
    if (options.pace) {
      // Without a deadline, no race (and no timer): the post waits for its token.
      if (limit === undefined) await options.pace();
      else if (!(await Promise.race([options.pace().then(paced), expired()]))) {
        timedOut(item); // its token came too late: owed to the next call, untried if never posted
        return;
      }
    }
    const outcome: PostOutcome = await poster.post(item.id, data);
    if (outcome === 'ok') {
      report.delivered++;
      return;
    }
    if (outcome === 'gone') {
      // A connection whose row cannot be read is not proven gone: retried like a failure, and
      // never cleaned up on a guess (that would unsubscribe a connection about to go live).
      const young = await establishing(item.id).catch((error) => {
        logger.warn('could not read the connection row of a gone connection', { connectionId: item.id, error: (error as Error).name });
        return undefined;
      });
      if (young === true && item.handshakeWaits < ESTABLISHING_MAX_WAITS) {
        const wait = Math.min(ESTABLISHING_RETRY_MAX_MS, ESTABLISHING_RETRY_FIRST_MS * 2 ** item.handshakeWaits++);
        item.at = now() + wait;
        pushRetry(item);
        return;
      }
      if (young === false) {
        report.gone++;
        goneIds.push(item.id);
        return;
      }
      // Still "establishing" after every wait (a `$connect` that failed after writing its rows),
      // or unreadable: handed on with the remainder, so a later hop decides once the row is old.
      item.failures++;
    } else if (outcome === 'throttled') report.throttled++;
    else item.failures++;
    item.attempts++;
    if (item.attempts >= maxAttempts || item.failures >= RETRY_FAILED_ATTEMPTS) {
      remainder.push(item.id);
      return;
    }
    item.at = now() + backoffMs(item.attempts - 1);
    pushRetry(item);
  }

  async function work(): Promise<void> {
    for (;;) {
      let item: Pending | undefined;
      const id = await nextId();
      if (id !== undefined) {
        if (id === options.exclude) continue;
        item = { id, at: 0, attempts: 0, failures: 0, handshakeWaits: 0 };
      } else if (retries.length > 0) {
        item = popRetry() as Pending;
        const wait = item.at - now();
        if (item.at >= deadline()) {
          timedOut(item);
          continue;
        }
        if (wait > 0) {
          inFlight++;
          await sleep(wait);
          inFlight--;
        }
      } else if (inFlight > 0) {
        await new Promise<void>((resolve) => idle.push(resolve));
        continue;
      } else {
        wake();
        return;
      }
      if (now() >= deadline()) {
        timedOut(item);
        continue;
      }
      inFlight++;
      try {
        await attempt(item);
      } finally {
        inFlight--;
        wake();
      }
    }
  }

  const workers = Array.from({ length: Math.max(1, options.concurrency ?? DEFAULT_POST_CONCURRENCY) }, work);
  try {
    await Promise.all(workers);
  } catch (error) {
    throw new FanoutError('delivery aborted', { cause: error });
  } finally {
    if (expiryTimer !== undefined) clearInterval(expiryTimer);
    // After delivery, not beside it: a publish after lost $disconnects must not wait on deletes.
    await removeGone(goneIds, onGone, now() + CLEANUP_BUDGET_MS, now);
  }
  report.failed = remainder.length;
  if (remainder.length > 0) logger.warn('posts not delivered in this call', { count: remainder.length, throttled: report.throttled });
  return { report, remainder, untried };
}

/**
 * Deletes the rows of gone connections, CLEANUP_CONCURRENCY at a time, starting none after
 * `until`: the rows left carry a TTL, and the next publish's 410 finds them again. A failure is
 * logged, never thrown.
 */
async function removeGone(
  ids: string[],
  onGone: (connectionId: string) => Promise<unknown>,
  until: number,
  now: () => number,
): Promise<void> {
  let next = 0;
  const one = async (): Promise<void> => {
    for (let i = next++; i < ids.length; i = next++) {
      if (now() >= until) {
        // The first worker to notice logs once; the others then find nothing left to take.
        if (next <= ids.length) logger.warn('cleanup budget spent; rows left to their TTL', { left: ids.length - i });
        next = ids.length + 1;
        return;
      }
      await onGone(ids[i]).catch((error) =>
        logger.warn('cleanup of gone connection failed', { connectionId: ids[i], error: (error as Error).name }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(CLEANUP_CONCURRENCY, ids.length) }, one));
}
