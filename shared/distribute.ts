/**
 * Fan-out at any scale. A small channel (at most FanoutBatchSize subscribers) is posted by the
 * publishing function itself. A larger one is split into batches: the publisher keeps the first
 * and hands each other batch to the fan-out worker by async Lambda invoke, so 100k subscribers
 * are posted in parallel and the account throttle (10,000 posts/s + 5,000 burst, shared by the
 * whole account) is the only bound.
 *
 * Pacing: every batch gets a share of PostRateLimit / PostBurstLimit proportional to its size,
 * so all batches finish together and their sum stays under the throttle instead of discovering
 * it through 429s (which are still retried if other traffic uses the account's budget).
 *
 * Exactly once, or a detectable duplicate: a worker that fails is retried by Lambda (twice, then
 * its batch goes to the dead-letter queue); a retried batch re-posts frames that carry the same
 * message id and seq, which clients drop.
 */
import { bulkPoster, invokeAsync } from './clients.js';
import { config } from './config.js';
import { addReports, type DeliveryReport, deliver, emptyReport } from './fanout.js';
import { MAX_POST_CONCURRENCY } from './limits.js';
import { logger } from './observability.js';
import { createPacer } from './pacer.js';
import { subscriberPages } from './store.js';

/** What a publisher hands to the fan-out worker (the worker's event). */
export interface FanoutBatch {
  channel: string;
  /** The delivery frame, exactly as posted. */
  frame: string;
  ids: string[];
  ratePerSecond: number;
  burst: number;
}

export interface FanoutReport extends DeliveryReport {
  subscribers: number;
  /** Batches handed to workers (their deliveries are counted in the workers' metrics). */
  dispatched: number;
}

/** Posts in flight for a paced batch: enough to keep `rate` busy at ~50 ms per post. */
export function concurrencyFor(ratePerSecond: number): number {
  return Math.min(MAX_POST_CONCURRENCY, Math.max(16, Math.ceil(ratePerSecond * 0.05)));
}

/** Splits ids into batches of at most `size`. */
export function toBatches(ids: string[], size: number): string[][] {
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += size) batches.push(ids.slice(i, i + size));
  return batches;
}

/** Delivers one batch, paced to its share of the throttle (used inline and by the worker). */
export async function deliverBatch(batch: FanoutBatch): Promise<DeliveryReport> {
  return deliver([batch.ids], batch.frame, {
    poster: bulkPoster(),
    pace: createPacer({ ratePerSecond: batch.ratePerSecond, burst: batch.burst }),
    concurrency: concurrencyFor(batch.ratePerSecond),
  });
}

/** Reads every subscriber id of a channel (all shards, every page), minus `exclude`. */
export async function collectSubscribers(channel: string, exclude?: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const page of subscriberPages(channel)) for (const id of page) if (id !== exclude) ids.push(id);
  return ids;
}

/** Sends `frame` to every subscriber of `channel` except `exclude`. */
export async function fanOut(channel: string, frame: string, exclude?: string): Promise<FanoutReport> {
  const { postRateLimit, postBurstLimit, fanoutBatchSize, fanoutFunction } = config();
  const ids = await collectSubscribers(channel, exclude);
  if (ids.length === 0) return { ...emptyReport(), subscribers: 0, dispatched: 0 };
  const share = (n: number) => ({
    ratePerSecond: (postRateLimit * n) / ids.length,
    burst: Math.max(1, Math.floor((postBurstLimit * n) / ids.length)),
  });
  const batches = toBatches(ids, fanoutBatchSize).map((b) => ({ channel, frame, ids: b, ...share(b.length) }));
  if (batches.length === 1 || !fanoutFunction) {
    const all = { channel, frame, ids, ratePerSecond: postRateLimit, burst: postBurstLimit };
    return { ...(await deliverBatch(all)), subscribers: ids.length, dispatched: 0 };
  }
  // Hand off every batch but the first; a batch whose invoke fails is delivered here instead.
  const [own, ...rest] = batches;
  const refused: FanoutBatch[] = [];
  await Promise.all(
    rest.map((batch) =>
      invokeAsync(fanoutFunction, batch).catch((error) => {
        logger.warn('fan-out worker invoke failed; delivering the batch inline', { error: (error as Error).name });
        refused.push(batch);
      }),
    ),
  );
  // Refused batches run beside the publisher's own, each at its own share, so the sum of the
  // shares (and so the finish time) is the same as if the workers had taken them.
  const reports = await Promise.all([own, ...refused].map(deliverBatch));
  return { ...reports.reduce(addReports), subscribers: ids.length, dispatched: rest.length - refused.length };
}
