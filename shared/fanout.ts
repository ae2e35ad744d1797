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
 * Exactly once to every live subscriber, within a retry budget (docs/delivery.md): a function
 * posts under a deadline; the ids it could not deliver by then (throttled, failing, or not
 * reached) are handed, exactly those, to a fresh worker invocation (`hop` + 1), never retried
 * from the start of the batch. After FANOUT_MAX_HOPS hand-offs, what is still undelivered is
 * counted (UndeliveredPosts) and sent as an `undelivered` event that the worker refuses, so
 * Lambda's on-failure destination keeps exactly those ids in the dead-letter queue.
 */
import { bulkPoster, invokeAsync } from './clients.js';
import { type Config, config } from './config.js';
import { removeConnection } from './connection-cleanup.js';
import { addReports, type DeliveryOutcome, type DeliveryReport, deliverUntil, emptyReport } from './delivery.js';
import { AirwaveError, InvalidFanoutBatchError } from './errors.js';
import {
  API_GATEWAY_FRAME_BYTES,
  CHANNEL_NAME_PATTERN,
  FANOUT_MAX_HOPS,
  INLINE_DELIVERY_BUDGET_MS,
  INLINE_POST_ATTEMPTS,
  MAX_POST_CONCURRENCY,
} from './limits.js';
import { logger, metrics } from './observability.js';
import { createPacer } from './pacer.js';
import { subscriberPages } from './store.js';
import { assertSafeJson } from './validate.js';

/** What a publisher hands to the fan-out worker (the worker's event). */
export interface FanoutBatch {
  channel: string;
  /** The delivery frame, exactly as posted. */
  frame: string;
  ids: string[];
  ratePerSecond: number;
  burst: number;
  /** Hand-offs before this one: 0 (or absent) for a publisher's batch, up to FANOUT_MAX_HOPS for a remainder. */
  hop?: number;
  /** Set on the last hand-off: these ids stay undelivered; the worker throws so they reach the dead-letter queue. */
  undelivered?: boolean;
}

export interface FanoutReport extends DeliveryReport {
  subscribers: number;
  /** Batches handed to workers (their deliveries are counted in the workers' metrics). */
  dispatched: number;
  /** Subscribers this call could not deliver and handed to a worker to retry (not counted as failed). */
  handedOn: number;
}

/**
 * A connection id as a worker accepts it: API Gateway's are 16 characters of standard base64
 * (`L0SM9cOFvHcCIhw=`); this allows both base64 alphabets and some room, and nothing that could
 * change the @connections path (`/` is escaped, but `.`, `%` and control characters are out).
 */
export const CONNECTION_ID_PATTERN = /^[A-Za-z0-9+/_-]{1,64}={0,2}$/;
/** A message id as shared/publish.ts makes it: 12 random bytes in base64url. */
export const MESSAGE_ID_PATTERN = /^[A-Za-z0-9_-]{16}$/;
/** The fields of a delivery frame (shared/protocol.ts messageFrameText, with the seq publish always sets). */
const MESSAGE_FRAME_KEYS = ['channel', 'id', 'message', 'seq', 'type'];

/**
 * The fan-out worker's event, checked against what a publisher sends (`fanOut` above), because
 * anyone who may invoke the worker could otherwise post any text to any ids at any rate:
 * - `channel` a valid channel name;
 * - `frame` a delivery frame exactly as `messageFrameText` builds it for that channel (type
 *   `message`, a 16-character id, a positive integer seq, no other field), at most one API
 *   Gateway frame (32 KB: a post costs one billed message per 32 KB);
 * - `ids` 1 to FanoutBatchSize distinct connection ids;
 * - `ratePerSecond` and `burst` positive numbers, clamped to PostRateLimit / PostBurstLimit (a
 *   share is never above them, so clamping changes nothing for a real batch).
 * Throws InvalidFanoutBatchError, before anything is posted, otherwise. Still not an
 * authentication: a caller allowed to invoke the worker can send a well-formed message, to at most
 * one batch of ids, paced; IAM (only the publishing functions may invoke it) is what stops that.
 */
export function parseFanoutBatch(
  event: unknown,
  settings: Pick<Config, 'fanoutBatchSize' | 'postRateLimit' | 'postBurstLimit'> = config(),
): FanoutBatch {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) refuse('the event is not a fan-out batch object');
  const { channel, frame, ids, ratePerSecond, burst, hop, undelivered } = event as Record<string, unknown>;
  if (typeof channel !== 'string' || !CHANNEL_NAME_PATTERN.test(channel)) refuse('"channel" is not a valid channel name');
  if (typeof frame !== 'string') refuse('"frame" is not a string');
  if (Buffer.byteLength(frame) > API_GATEWAY_FRAME_BYTES) refuse(`"frame" is larger than ${API_GATEWAY_FRAME_BYTES} bytes`);
  assertDeliveryFrame(frame, channel);
  if (!Array.isArray(ids) || ids.length === 0) refuse('"ids" is not a non-empty array');
  if (ids.length > settings.fanoutBatchSize) refuse(`"ids" holds more than FanoutBatchSize (${settings.fanoutBatchSize}) ids`);
  for (const id of ids)
    if (typeof id !== 'string' || !CONNECTION_ID_PATTERN.test(id)) refuse('"ids" holds a value that is not a connection id');
  // A repeated id would post the same frame to one client over and over.
  if (new Set(ids).size !== ids.length) refuse('"ids" holds the same id twice');
  if (typeof ratePerSecond !== 'number' || !(ratePerSecond > 0)) refuse('"ratePerSecond" is not a positive number');
  if (typeof burst !== 'number' || !(burst > 0)) refuse('"burst" is not a positive number');
  // The hop counter bounds the hand-off chain: a larger one would never end in the dead-letter queue.
  if (hop !== undefined && (typeof hop !== 'number' || !Number.isInteger(hop) || hop < 0 || hop > FANOUT_MAX_HOPS))
    refuse(`"hop" is not an integer from 0 to ${FANOUT_MAX_HOPS}`);
  if (undelivered !== undefined && undelivered !== true) refuse('"undelivered" is not true');
  return {
    channel,
    frame,
    ids: ids as string[],
    ratePerSecond: Math.min(ratePerSecond, settings.postRateLimit),
    burst: Math.max(1, Math.floor(Math.min(burst, settings.postBurstLimit))),
    hop: (hop as number | undefined) ?? 0,
    ...(undelivered ? { undelivered: true } : {}),
  };
}

function refuse(message: string): never {
  throw new InvalidFanoutBatchError(message);
}

/** Throws InvalidFanoutBatchError unless `frame` is a delivery frame for `channel` as the publisher builds it. */
function assertDeliveryFrame(frame: string, channel: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(frame);
    assertSafeJson(parsed);
  } catch (error) {
    refuse(error instanceof AirwaveError ? `"frame": ${error.message}` : '"frame" is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) refuse('"frame" is not a JSON object');
  const f = parsed as Record<string, unknown>;
  if (Object.keys(f).sort().join() !== MESSAGE_FRAME_KEYS.join())
    refuse(`"frame" must have exactly the fields ${MESSAGE_FRAME_KEYS.join(', ')}`);
  if (f.type !== 'message') refuse('"frame" is not a message frame');
  if (f.channel !== channel) refuse('"frame" is for another channel than the batch');
  if (typeof f.id !== 'string' || !MESSAGE_ID_PATTERN.test(f.id)) refuse('"frame" has no valid message id');
  if (typeof f.seq !== 'number' || !Number.isSafeInteger(f.seq) || f.seq < 1) refuse('"frame" has no valid seq');
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

/** Limits of one delivery call; see {@link deliverBatch}. */
export interface BatchLimits {
  /** Epoch ms after which no post starts (default: none). */
  deadline?: number;
  /** Posts to one subscriber in this call (default POST_MAX_ATTEMPTS). */
  maxAttempts?: number;
}

/** Delivers one batch, paced to its share of the throttle (used inline and by the worker); returns what is left. */
export async function deliverBatch(batch: FanoutBatch, limits: BatchLimits = {}): Promise<DeliveryOutcome> {
  return deliverUntil([batch.ids], batch.frame, {
    poster: bulkPoster(),
    pace: createPacer({ ratePerSecond: batch.ratePerSecond, burst: batch.burst }),
    concurrency: concurrencyFor(batch.ratePerSecond),
    onGone: removeConnection,
    ...limits,
  });
}

/** Where a remainder went: to workers for another try, to the dead-letter queue, or nowhere (counted failed). */
export type HandOff = 'retrying' | 'dead-letter' | 'lost';

/**
 * Hands `remainder` (ids of `batch` still owed its frame) to fresh worker invocations, at most
 * FanoutBatchSize ids each, with `hop` + 1; past FANOUT_MAX_HOPS, as one `undelivered` event per
 * batch for the dead-letter queue, and counted in UndeliveredPosts. Returns 'lost' (and logs
 * at ERROR) only when no worker is configured or an invoke failed: the caller counts those as
 * failed. Never throws.
 */
export async function handOn(batch: FanoutBatch, remainder: string[]): Promise<HandOff> {
  const { fanoutFunction, fanoutBatchSize } = config();
  const hop = (batch.hop ?? 0) + 1;
  const last = hop > FANOUT_MAX_HOPS;
  if (!fanoutFunction) {
    logger.error('posts not delivered and no fan-out worker to retry them', { channel: batch.channel, count: remainder.length });
    metrics.addMetric('UndeliveredPosts', 'Count', remainder.length);
    return 'lost';
  }
  const next = (ids: string[]): FanoutBatch => {
    const { undelivered: _, ...rest } = batch;
    return last ? { ...rest, ids, hop: FANOUT_MAX_HOPS, undelivered: true } : { ...rest, ids, hop };
  };
  const results = await Promise.all(
    toBatches(remainder, fanoutBatchSize).map((ids) =>
      invokeAsync(fanoutFunction, next(ids)).then(
        () => 0,
        (error) => {
          logger.error('could not hand undelivered posts to a fan-out worker', {
            channel: batch.channel,
            count: ids.length,
            error: (error as Error).name,
          });
          return ids.length;
        },
      ),
    ),
  );
  const lost = results.reduce((a, b) => a + b, 0);
  // Undelivered: all of the last hop's remainder (queued or not), and whatever could not be handed on.
  metrics.addMetric('UndeliveredPosts', 'Count', last ? remainder.length : lost);
  if (!last) metrics.addMetric('HandedOnPosts', 'Count', remainder.length - lost);
  if (lost > 0) return 'lost';
  if (last)
    logger.warn('posts still undelivered after every retry; sent to the dead-letter queue', {
      channel: batch.channel,
      count: remainder.length,
      hop,
    });
  return last ? 'dead-letter' : 'retrying';
}

/** Reads every subscriber id of a channel (all shards, every page), minus `exclude`. */
export async function collectSubscribers(channel: string, exclude?: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const page of subscriberPages(channel)) for (const id of page) if (id !== exclude) ids.push(id);
  return ids;
}

/**
 * Sends `frame` to every subscriber of `channel` except `exclude`. The publisher's own posts
 * run under INLINE_DELIVERY_BUDGET_MS and, with a worker to hand to, INLINE_POST_ATTEMPTS per
 * subscriber: a subscriber that is throttled or not reading is retried by a worker, so the
 * sender's receipt does not wait for the slowest subscriber.
 */
export async function fanOut(channel: string, frame: string, exclude?: string): Promise<FanoutReport> {
  const { postRateLimit, postBurstLimit, fanoutBatchSize, fanoutFunction } = config();
  const ids = await collectSubscribers(channel, exclude);
  if (ids.length === 0) return { ...emptyReport(), subscribers: 0, dispatched: 0, handedOn: 0 };
  const share = (n: number) => ({
    ratePerSecond: (postRateLimit * n) / ids.length,
    burst: Math.max(1, Math.floor((postBurstLimit * n) / ids.length)),
  });
  const batches = toBatches(ids, fanoutBatchSize).map((b) => ({ channel, frame, ids: b, ...share(b.length) }));
  const limits: BatchLimits = {
    deadline: Date.now() + INLINE_DELIVERY_BUDGET_MS,
    maxAttempts: fanoutFunction ? INLINE_POST_ATTEMPTS : undefined,
  };
  let mine: FanoutBatch[];
  let dispatched = 0;
  if (batches.length === 1 || !fanoutFunction) mine = [{ channel, frame, ids, ratePerSecond: postRateLimit, burst: postBurstLimit }];
  else {
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
    mine = [own, ...refused];
    dispatched = rest.length - refused.length;
  }
  // Refused batches run beside the publisher's own, each at its own share, so the sum of the
  // shares (and so the finish time) is the same as if the workers had taken them.
  const outcomes = await Promise.all(mine.map((batch) => deliverBatch(batch, limits)));
  const report = outcomes.map((o) => o.report).reduce(addReports);
  let handedOn = 0;
  for (const [i, { remainder }] of outcomes.entries()) {
    if (remainder.length === 0) continue;
    if ((await handOn(mine[i], remainder)) === 'retrying') {
      handedOn += remainder.length;
      report.failed -= remainder.length;
    }
  }
  return { ...report, subscribers: ids.length, dispatched, handedOn };
}
