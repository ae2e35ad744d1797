/**
 * Delivering one frame to many connections, bounded and lossless:
 * - subscribers are read page by page (never all at once) and posted by a fixed pool of
 *   `concurrency` workers: never an unbounded Promise.all over subscribers;
 * - 410 Gone: the *gone* connection's rows are deleted (never the sender's), unless it connected
 *   less than 30 s ago: then it may still be completing its handshake (API Gateway answers 410
 *   until `$connect` returns), so the post is retried until it lands or the connection is old;
 * - 429 (throttled or client buffer full): retried with exponential backoff and full jitter;
 * - other failures (timeouts, 5xx): retried a few times, then counted as failed, never silently.
 */

import { isEstablishing, removeConnection } from './connection-store.js';
import { FanoutError } from './errors.js';
import {
  CLEANUP_CONCURRENCY,
  DEFAULT_POST_CONCURRENCY,
  ESTABLISHING_RETRY_FIRST_MS,
  ESTABLISHING_RETRY_MAX_MS,
  POST_BACKOFF_BASE_MS,
  POST_BACKOFF_MAX_MS,
  POST_MAX_ATTEMPTS,
} from './limits.js';
import { logger } from './observability.js';
import { type Poster, type PostOutcome, SdkPoster } from './poster.js';

export interface DeliveryReport {
  /** Posts that API Gateway accepted. */
  delivered: number;
  /** Connections that were gone (410); their rows were deleted. */
  gone: number;
  /** Posts that still failed after their retries. */
  failed: number;
  /** 429 answers that were retried. */
  throttled: number;
}

export interface DeliveryOptions {
  poster?: Poster;
  /** Posts in flight at once. */
  concurrency?: number;
  /** A connection not to deliver to (the sender of a sendmessage). */
  exclude?: string;
  /** Called before each post; a pacer resolves it when the rate budget allows one more. */
  pace?: () => Promise<void>;
  /** What to do with a gone connection (default: delete its rows). */
  onGone?: (connectionId: string) => Promise<unknown>;
  /** Whether a connection that answered 410 may still be completing its handshake (default: its row says it connected < 30 s ago). */
  isEstablishing?: (connectionId: string) => Promise<boolean>;
  /** Backoff sleep (tests replace it). */
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const RETRY_FAILED_ATTEMPTS = 3;

/** Full-jitter exponential backoff: uniform in [0, min(max, base * 2^attempt)). */
export function backoffMs(attempt: number, base = POST_BACKOFF_BASE_MS, max = POST_BACKOFF_MAX_MS, random = Math.random): number {
  return Math.floor(random() * Math.min(max, base * 2 ** attempt));
}

export const emptyReport = (): DeliveryReport => ({ delivered: 0, gone: 0, failed: 0, throttled: 0 });

export function addReports(a: DeliveryReport, b: DeliveryReport): DeliveryReport {
  return { delivered: a.delivered + b.delivered, gone: a.gone + b.gone, failed: a.failed + b.failed, throttled: a.throttled + b.throttled };
}

/** Posts `data` to every connection id the pages yield. */
export async function deliver(
  pages: AsyncIterable<string[]> | Iterable<string[]>,
  data: string,
  options: DeliveryOptions = {},
): Promise<DeliveryReport> {
  const poster = options.poster ?? new SdkPoster();
  const sleep = options.sleep ?? defaultSleep;
  const onGone = options.onGone ?? removeConnection;
  const establishing = options.isEstablishing ?? isEstablishing;
  const report = emptyReport();
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

  // Gone-connection cleanup runs beside delivery, bounded, and is awaited before returning.
  const cleanups = new Set<Promise<unknown>>();
  async function cleanup(connectionId: string): Promise<void> {
    while (cleanups.size >= CLEANUP_CONCURRENCY) await Promise.race(cleanups);
    const p = onGone(connectionId)
      .catch((error) => logger.warn('cleanup of gone connection failed', { connectionId, error: (error as Error).name }))
      .finally(() => cleanups.delete(p));
    cleanups.add(p);
  }

  async function postWithRetry(connectionId: string): Promise<void> {
    let failures = 0;
    let handshakeWaits = 0;
    for (let attempt = 0; ; attempt++) {
      if (options.pace) await options.pace();
      const outcome: PostOutcome = await poster.post(connectionId, data);
      if (outcome === 'ok') {
        report.delivered++;
        return;
      }
      if (outcome === 'gone') {
        const young = await establishing(connectionId).catch((error) => {
          logger.warn('could not read the connection row of a gone connection', { connectionId, error: (error as Error).name });
          return false;
        });
        if (young) {
          await sleep(Math.min(ESTABLISHING_RETRY_MAX_MS, ESTABLISHING_RETRY_FIRST_MS * 2 ** handshakeWaits++));
          continue;
        }
        report.gone++;
        await cleanup(connectionId);
        return;
      }
      if (outcome === 'throttled') {
        report.throttled++;
        if (attempt + 1 >= POST_MAX_ATTEMPTS) break;
      } else if (++failures >= RETRY_FAILED_ATTEMPTS) break;
      await sleep(backoffMs(attempt));
    }
    report.failed++;
    logger.warn('post failed after retries', { connectionId });
  }

  const workers = Array.from({ length: Math.max(1, options.concurrency ?? DEFAULT_POST_CONCURRENCY) }, async () => {
    for (let id = await nextId(); id !== undefined; id = await nextId()) {
      if (id !== options.exclude) await postWithRetry(id);
    }
  });
  try {
    await Promise.all(workers);
  } catch (error) {
    throw new FanoutError('delivery aborted', { cause: error });
  } finally {
    await Promise.all(cleanups);
  }
  return report;
}
