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
import { type Config, config } from './config.js';
import { AirwaveError, InvalidFanoutBatchError } from './errors.js';
import { addReports, type DeliveryReport, deliver, emptyReport } from './fanout.js';
import { API_GATEWAY_FRAME_BYTES, CHANNEL_NAME_PATTERN, MAX_POST_CONCURRENCY } from './limits.js';
import { logger } from './observability.js';
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
}

export interface FanoutReport extends DeliveryReport {
  subscribers: number;
  /** Batches handed to workers (their deliveries are counted in the workers' metrics). */
  dispatched: number;
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
  const { channel, frame, ids, ratePerSecond, burst } = event as Record<string, unknown>;
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
  return {
    channel,
    frame,
    ids: ids as string[],
    ratePerSecond: Math.min(ratePerSecond, settings.postRateLimit),
    burst: Math.max(1, Math.floor(Math.min(burst, settings.postBurstLimit))),
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
