/**
 * Fan-out at any scale. The publishing function posts the subscribers as their Query pages
 * arrive, at the whole rate (it is the only one posting this message until the reading ends).
 * Once every page is read, what nobody took yet is split into batches of FanoutBatchSize: the
 * publisher keeps the first and hands each other batch to the fan-out worker by async Lambda
 * invoke, so 100k subscribers are posted in parallel and the account throttle (10,000 posts/s +
 * 5,000 burst, shared by the whole account) is the only bound.
 *
 * Pacing: after the split every batch, the publisher's included, gets a share of PostRateLimit /
 * PostBurstLimit proportional to its size, so all batches finish together and their sum stays
 * under the throttle instead of discovering it through 429s (which are still retried if other
 * traffic uses the account's budget).
 *
 * Exactly once to every live subscriber, within a retry budget (docs/delivery.md): a function
 * posts under a deadline; the ids it could not deliver by then (throttled, failing, or not
 * reached) are handed, exactly those, to a fresh worker invocation (`hop` + 1), never retried
 * from the start of the batch; ids it never got to post (its time ran out first) keep their hop.
 * After FANOUT_MAX_HOPS hand-offs, what is still undelivered is
 * counted (UndeliveredPosts) and sent as an `undelivered` event that the worker refuses, so
 * Lambda's on-failure destination keeps exactly those ids in the dead-letter queue.
 */
import { bulkPoster, invokeAsync } from './clients.js';
import { type Config, config } from './config.js';
import { removeConnection } from './connection-cleanup.js';
import { currentDeadline, GRACE_MS, withGrace } from './deadline.js';
import { addReports, type DeliveryOutcome, type DeliveryReport, deliverUntil } from './delivery.js';
import { AirwaveError, FanoutError, InvalidFanoutBatchError } from './errors.js';
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
 * FanoutBatchSize ids each. Ids the call tried and could not deliver go with `hop` + 1; past
 * FANOUT_MAX_HOPS, as one `undelivered` event per batch for the dead-letter queue, and counted
 * in UndeliveredPosts. Ids of `untried` (in `remainder`, never posted: the call's time ran out
 * first) go on at the same hop: a broadcast longer than one invocation's budget (every batch of a
 * million-subscriber channel posts for 105 s) is progress, not a retry, and must not use up the
 * retries. The caller passes `untried` only if the call posted at all, so a chain that makes no
 * progress still ends. Returns 'lost' (and logs at ERROR) only when no worker is configured or an
 * invoke failed: the caller counts those as failed. Never throws.
 */
export async function handOn(batch: FanoutBatch, remainder: string[], untried: readonly string[] = []): Promise<HandOff> {
  return (await handOnCounted(batch, remainder, untried)).outcome;
}

/**
 * {@link handOn}, also telling how many ids a worker took (HandedOnPosts): one invoke of several
 * may be refused, and then only its ids are lost; the publisher's report counts the rest as
 * handed on, not failed.
 */
async function handOnCounted(
  batch: FanoutBatch,
  remainder: string[],
  untried: readonly string[],
): Promise<{ outcome: HandOff; handedOn: number }> {
  const { fanoutFunction, fanoutBatchSize } = config();
  const hop = (batch.hop ?? 0) + 1;
  const last = hop > FANOUT_MAX_HOPS;
  if (!fanoutFunction) {
    logger.error('posts not delivered and no fan-out worker to retry them', { channel: batch.channel, count: remainder.length });
    metrics.addMetric('UndeliveredPosts', 'Count', remainder.length);
    return { outcome: 'lost', handedOn: 0 };
  }
  const fresh = new Set(untried);
  const goOn = fresh.size === 0 ? [] : remainder.filter((id) => fresh.has(id));
  const tried = fresh.size === 0 ? remainder : remainder.filter((id) => !fresh.has(id));
  const { undelivered: _, ...rest } = batch;
  const onward = (ids: string[]): FanoutBatch => ({ ...rest, ids, hop: batch.hop ?? 0 });
  const retry = (ids: string[]): FanoutBatch => (last ? { ...rest, ids, hop: FANOUT_MAX_HOPS, undelivered: true } : { ...rest, ids, hop });
  const send = (event: FanoutBatch): Promise<number> =>
    invokeAsync(fanoutFunction, event).then(
      () => 0,
      (error) => {
        logger.error('could not hand undelivered posts to a fan-out worker', {
          channel: batch.channel,
          count: event.ids.length,
          error: (error as Error).name,
        });
        return event.ids.length;
      },
    );
  const sum = (counts: number[]) => counts.reduce((a, b) => a + b, 0);
  const [lostOnward, lostRetry] = await Promise.all([
    Promise.all(toBatches(goOn, fanoutBatchSize).map((ids) => send(onward(ids)))).then(sum),
    Promise.all(toBatches(tried, fanoutBatchSize).map((ids) => send(retry(ids)))).then(sum),
  ]);
  // Undelivered: all of the last hop's tried remainder (queued or not), and whatever could not be handed on.
  metrics.addMetric('UndeliveredPosts', 'Count', lostOnward + (last ? tried.length : lostRetry));
  const handedOn = goOn.length - lostOnward + (last ? 0 : tried.length - lostRetry);
  metrics.addMetric('HandedOnPosts', 'Count', handedOn);
  if (lostOnward + lostRetry > 0) return { outcome: 'lost', handedOn };
  if (last && tried.length > 0) {
    logger.warn('posts still undelivered after every retry; sent to the dead-letter queue', {
      channel: batch.channel,
      count: tried.length,
      hop,
    });
    return { outcome: 'dead-letter', handedOn };
  }
  return { outcome: 'retrying', handedOn };
}

/** Whether a delivery call posted at all (so that handing its untried ids on at the same hop is progress). */
export function progressed(outcome: DeliveryOutcome): boolean {
  const { report, remainder, untried } = outcome;
  return report.delivered + report.gone > 0 || remainder.length > untried.length;
}

/**
 * A channel's subscriber ids as the Query pages bring them, claimed exactly once each: the
 * publisher's own posts take the front in small chunks while the reading goes on, and once the
 * reading is over what nobody took yet is split between the publisher and the workers. Every id
 * is read once and lands in exactly one of: a chunk the publisher took, or {@link take}.
 */
class SubscriberPool {
  private readonly ids: string[] = [];
  /** Ids before this index are claimed. */
  private next = 0;
  /** The publisher takes no id at or past this index (set when the rest is split). */
  private limit = Number.POSITIVE_INFINITY;
  private finished = false;
  private count = 0;
  private waiting: Array<() => void> = [];
  /** Resolves when every page is read; rejects with the read's error. */
  readonly done: Promise<void>;

  constructor(pages: AsyncIterable<string[]>, exclude: string | undefined) {
    this.done = (async () => {
      try {
        for await (const page of pages) {
          for (const id of page) if (id !== exclude) this.ids.push(id);
          this.count = this.ids.length;
          this.wake();
        }
      } finally {
        this.finished = true;
        this.wake();
      }
    })();
    this.done.catch(() => undefined); // handled by whoever awaits it; never an unhandled rejection
  }

  /** Ids read so far (the channel's subscribers but `exclude`, once {@link done} resolved). */
  get read(): number {
    return this.count;
  }

  /** Ids claimed so far. */
  get claimed(): number {
    return this.next;
  }

  get unclaimed(): number {
    return this.ids.length - this.next;
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }

  /** Whether every page has been read (or the reading failed). */
  get complete(): boolean {
    return this.finished;
  }

  /**
   * The publisher's share, `chunk` ids at a time: small chunks, so that what it has taken but
   * not yet posted is little when the rest is split. Ends at the limit set by {@link keep}, when
   * everything is read and claimed, or at `deadline` (epoch ms) once the reading is over: while
   * pages still arrive the publisher is the only one posting, and stopping would waste the rate.
   */
  async *chunks(chunk: number, deadline: number): AsyncGenerator<string[]> {
    for (;;) {
      if (this.finished && Date.now() >= deadline) return;
      const end = Math.min(this.ids.length, this.limit, this.next + chunk);
      if (end > this.next) {
        const ids = this.ids.slice(this.next, end);
        this.next = end;
        yield ids;
        continue;
      }
      if (this.next >= this.limit || this.finished) return;
      await new Promise<void>((resolve) => this.waiting.push(resolve)); // the next page, a keep(), or the end
    }
  }

  /** Lets the publisher take at most `count` more ids from the front. */
  keep(count: number): void {
    this.limit = this.next + count;
    this.wake();
  }

  /** Claims every unclaimed id past the publisher's limit. */
  take(): string[] {
    const from = Math.min(this.ids.length, Number.isFinite(this.limit) ? this.limit : this.next);
    const ids = this.ids.slice(from);
    this.ids.length = from;
    return ids;
  }

  /** Claims every id still unclaimed (call once the publisher's chunks have ended). */
  takeRest(): string[] {
    const ids = this.ids.slice(this.next);
    this.next = this.ids.length;
    this.limit = this.next;
    return ids;
  }
}

/** Test seams of {@link fanOut}. */
export interface FanOutOptions {
  /** The subscriber pages (default: the channel's Query pages, shared/store.ts). */
  pages?: AsyncIterable<string[]>;
  /** The publisher's own posting budget (default INLINE_DELIVERY_BUDGET_MS). */
  budgetMs?: number;
}

/**
 * Sends `frame` to every subscriber of `channel` except `exclude`, posting while the subscribers
 * are still being read (docs/delivery.md, "How a message gets to everyone"):
 *
 * 1. The publisher posts the ids at the front at the whole rate (PostRateLimit, PostBurstLimit)
 *    as the Query pages arrive: while nobody else posts for this message, its share is all of it.
 * 2. Once every page is read the channel's size is known: what is not claimed yet (W ids) is
 *    split into batches of FanoutBatchSize; the publisher keeps the first, and its pacer is
 *    reshaped to that batch's share; each other batch goes to a worker with its share, R x
 *    size / D (D: the W ids and those the publisher took and has not posted yet), and of the burst only what the publisher's bucket still holds, in the same
 *    proportion (the account's bucket is no fuller than that). The shares sum to R: all finish
 *    together, with no time lost to the reading.
 *
 * The publisher's own posts run under INLINE_DELIVERY_BUDGET_MS and, with a worker to hand to,
 * INLINE_POST_ATTEMPTS per subscriber: a subscriber that is throttled or not reading is retried
 * by a worker, so the sender's receipt does not wait for the slowest subscriber. The budget
 * counts only once the reading is over (until then the publisher alone posts this message, and
 * stopping would leave the rate unused); if it is spent by then, the publisher keeps nothing and
 * everything not yet posted goes to workers.
 */
export async function fanOut(channel: string, frame: string, exclude?: string, options: FanOutOptions = {}): Promise<FanoutReport> {
  const { postRateLimit, postBurstLimit, fanoutBatchSize, fanoutFunction } = config();
  const pages = options.pages ?? subscriberPages(channel);
  const deadline = Date.now() + (options.budgetMs ?? INLINE_DELIVERY_BUDGET_MS);
  const limits: BatchLimits = { deadline, maxAttempts: fanoutFunction ? INLINE_POST_ATTEMPTS : undefined };
  const pool = new SubscriberPool(pages, exclude);
  const pace = createPacer({ ratePerSecond: postRateLimit, burst: postBurstLimit });
  const concurrency = concurrencyFor(postRateLimit);
  // The share the publisher's posts stand for: its remainder is handed on with it.
  const own: FanoutBatch = { channel, frame, ids: [], ratePerSecond: postRateLimit, burst: postBurstLimit };
  let ownOutcome: DeliveryOutcome | undefined;
  // Posts the pacer has let through: what the publisher took and has not yet posted is still its work at the split.
  let released = 0;
  const ownDelivery = deliverUntil(pool.chunks(concurrency, deadline), frame, {
    poster: bulkPoster(),
    pace: () => pace().then(() => void released++),
    concurrency,
    onGone: removeConnection,
    ...limits,
    // The budget counts only once every page is read: until then nobody else posts this message.
    deadline: () => (pool.complete ? deadline : Number.POSITIVE_INFINITY),
  }).then((outcome) => {
    ownOutcome = outcome;
    return outcome;
  });

  try {
    await pool.done;
  } catch (error) {
    // Subscribers not read cannot be posted: stop taking more, finish what was taken, then fail.
    pool.keep(0);
    const owed = [...(await ownDelivery).remainder, ...pool.takeRest()];
    // A read cut by the deadline (a slow DynamoDB on a large channel) leaves no time to hand on
    // what it did read: the invokes get the grace after the deadline, as an undo does, so those ids
    // are retried by a worker instead of only counted undelivered.
    const enclosing = currentDeadline();
    const handOnOwed = () => handOn(own, owed);
    if (owed.length > 0) await (enclosing ? withGrace(enclosing.remaining() + GRACE_MS, handOnOwed) : handOnOwed());
    throw new FanoutError('could not read the subscribers of the channel', { cause: error });
  }

  // The reading is over: split what is left by size. A remainder the publisher already has
  // (its budget ended before the reading did) is owed too, and gets its share here.
  const early = ownOutcome?.remainder ?? [];
  // Ids the publisher took but has not posted yet (waiting in its pacer): part of its share.
  const pending = ownOutcome ? 0 : Math.max(0, pool.claimed - released);
  const left = pool.unclaimed + early.length;
  const batches: FanoutBatch[] = [];
  let dispatched = 0;
  const refused: FanoutBatch[] = [];
  if (left > 0 && fanoutFunction) {
    const tokens = pace.tokens();
    // A read that outlasted the publisher's budget leaves it nothing more to post itself.
    const kept = ownOutcome || Date.now() >= deadline ? 0 : Math.min(pool.unclaimed, fanoutBatchSize);
    // The publisher's part of the split. Never 0 while it is still delivering: a pacer cannot run
    // at rate 0 (reshape throws, and the ids nobody took yet would never be handed on), and
    // `pending` undercounts when retries passed the pacer, so a post may still wait on it.
    const mine = ownOutcome ? 0 : Math.max(1, kept + pending);
    const whole = left - kept + mine; // left + pending, unless `mine` was raised to 1
    const share = (n: number) => ({
      ratePerSecond: (postRateLimit * n) / whole,
      burst: Math.max(1, Math.floor((Math.min(postBurstLimit, tokens) * n) / whole)),
    });
    if (!ownOutcome) {
      pool.keep(kept);
      // Its bucket keeps the tokens it has (at most its share of PostBurstLimit): a bucket cut to
      // what is left (about nothing after posting at the whole rate) could not make up for a
      // stalled event loop, and the publisher's share is the largest.
      Object.assign(own, share(mine), {
        burst: Math.max(1, Math.floor((postBurstLimit * mine) / whole)),
      });
      pace.reshape(own);
    }
    for (const ids of toBatches(pool.take(), fanoutBatchSize)) batches.push({ channel, frame, ids, ...share(ids.length) });
    if (early.length > 0) batches.push({ channel, frame, ids: early, hop: 1, ...share(early.length) });
    // Hand off every batch; a batch whose invoke fails is delivered here instead.
    await Promise.all(
      batches.map((batch) =>
        invokeAsync(fanoutFunction, batch).then(
          () => {
            dispatched++;
          },
          (error) => {
            logger.warn('fan-out worker invoke failed; delivering the batch inline', { error: (error as Error).name });
            refused.push(batch);
          },
        ),
      ),
    );
  }
  // Refused batches run beside the publisher's own, each at its own share, so the sum of the
  // shares (and so the finish time) is the same as if the workers had taken them.
  const outcomes = await Promise.all([ownDelivery, ...refused.map((batch) => deliverBatch(batch, limits))]);
  const report = outcomes.map((o) => o.report).reduce(addReports);
  // Ids the publisher was to post but did not take before its budget ended (or, with no worker,
  // everything it did not reach): owed like its remainder.
  const untaken = pool.takeRest();
  report.failed += untaken.length - early.length; // the early remainder was batched above
  // What each owner hands on, and which of it was never tried (handed on at the same hop).
  const untriedOf = (o: DeliveryOutcome) => (progressed(o) ? o.untried : []);
  const owed: Array<[FanoutBatch, string[], string[]]> = [
    early.length > 0 ? [own, untaken, untaken] : [own, [...outcomes[0].remainder, ...untaken], [...untriedOf(outcomes[0]), ...untaken]],
    ...refused.map((batch, i): [FanoutBatch, string[], string[]] => [batch, outcomes[i + 1].remainder, untriedOf(outcomes[i + 1])]),
  ];
  let handedOn = 0;
  for (const [batch, ids, untried] of owed) {
    if (ids.length === 0) continue;
    // Only what a worker took: ids of a refused invoke, or sent to the dead-letter queue, stay failed.
    const handed = (await handOnCounted(batch, ids, untried)).handedOn;
    handedOn += handed;
    report.failed -= handed;
  }
  return { ...report, subscribers: pool.read, dispatched, handedOn };
}
