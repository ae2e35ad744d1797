/**
 * Server-side publish (PublishFunction): validates the whole request before publishing anything,
 * then publishes each message to each channel, channel by channel, messages in order.
 *
 * Retries (docs/publishing.md): with an `idempotencyKey`, a repeat of the request publishes
 * nothing that already went out. A finished request's answer is kept (PUBLISH_IDEMPOTENCY_MINUTES)
 * and returned again; a repeat while the first still runs waits for it; a repeat after a
 * partial failure publishes only the remainder, with the message ids the first would have used.
 *
 * A publish that cannot finish (a message fails after the SDK's retries, or too little of the
 * invocation's time is left to start the next one) stops there and answers `complete: false`
 * with every (channel, message) either in `published` (id, seq) or in `unpublished`.
 */
import { config } from './config.js';
import { currentDeadline, GRACE_MS, isUnavailable, UnavailableError, withDeadline, withinDeadline } from './deadline.js';
import { AirwaveError, BadRequestError, IdempotencyConflictError, PublishInProgressError } from './errors.js';
import { flushMetrics, logger, metrics } from './observability.js';
import { newMessageId, type Published, publish } from './publish.js';
import {
  type InvocationClock,
  idempotentPublish,
  messageIdFor,
  ProgressLog,
  parseIdempotencyKey,
  readProgress,
  requestDigest,
} from './publish-idempotency.js';
import { assertChannel, assertMessage, assertSafeJson } from './validate.js';

export interface PublishRequest {
  channel?: string;
  channels?: string[];
  message?: unknown;
  messages?: unknown[];
  /** Makes retries safe: the same key and request publish once (see docs/publishing.md). */
  idempotencyKey?: string;
}

type Counts = Pick<Published, 'delivered' | 'gone' | 'failed' | 'subscribers' | 'dispatched'>;

/** A (channel, message) that went out. Counts are there when this invocation posted it. */
export interface PublishedItem extends Partial<Counts> {
  channel: string;
  /** The message's index in `messages` (0 for `message`). */
  index: number;
  id: string;
  seq: number;
  /** Published by an earlier invocation with the same idempotencyKey, not re-sent. */
  earlier?: true;
}

/**
 * A (channel, message) that did not (fully) go out. `failed`: its publish was attempted and
 * failed, so some subscribers may have it; `not_attempted`: nothing of it went out. With an
 * idempotencyKey, `id` is the id a retry will give it.
 */
export interface UnpublishedItem {
  channel: string;
  index: number;
  id?: string;
  status: 'failed' | 'not_attempted';
}

export interface PublishResponse extends Counts {
  /** True when every (channel, message) is in `published`. */
  complete: boolean;
  published: PublishedItem[];
  unpublished: UnpublishedItem[];
  /** The answer of an earlier invocation with the same idempotencyKey (nothing was posted now). */
  replayed?: true;
  /**
   * `unavailable` when the request stopped because storage was too slow or throttled (a message's
   * PUBLISH_MESSAGE_BUDGET_MS passed): retry, with the same idempotencyKey, after a second.
   */
  code?: 'unavailable';
  /** With a single channel and message: its id and seq, for convenience. */
  id?: string;
  seq?: number;
}

const MAX_CHANNELS_PER_REQUEST = 100;
const MAX_MESSAGES_PER_REQUEST = 100;
/**
 * Time kept back when deciding whether to start the next message: this much plus twice the
 * slowest message so far. It leaves time to record progress and answer before Lambda's timeout,
 * which would otherwise kill the invocation and leave the caller with no report at all.
 */
export const DEADLINE_RESERVE_MS = 3_000;
/** Without a Lambda context (tests, scripts): the lock lasts this long, as PublishFunction's Timeout. */
const DEFAULT_TIME_MS = 120_000;
/**
 * The most one message's publish may take (seq, history, subscribers, hand-offs, the publisher's
 * own posts: as a `sendmessage`, docs/delivery.md "Time budgets"), and the most taking the
 * idempotency lock may take. A DynamoDB that hangs is answered `unavailable` after this, not
 * after the function's whole Timeout.
 */
export const PUBLISH_MESSAGE_BUDGET_MS = 20_000;
/** A repeat that finds the key in progress polls with this backoff until the first answers. */
const IN_PROGRESS_POLL_MS = [250, 500, 1_000, 2_000];

export interface ParsedPublishRequest {
  channels: string[];
  messages: unknown[];
  idempotencyKey?: string;
}

/** Validates and normalises a publish request into channel and message lists. */
export function parsePublishRequest(input: unknown): ParsedPublishRequest {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new BadRequestError('request must be a JSON object');
  assertSafeJson(input);
  const req = input as PublishRequest;
  const channels = req.channels ?? (req.channel !== undefined ? [req.channel] : []);
  const messages = req.messages ?? (req.message !== undefined ? [req.message] : []);
  if (!Array.isArray(channels) || channels.length === 0) throw new BadRequestError('"channel" or "channels" is required');
  if (!Array.isArray(messages) || messages.length === 0) throw new BadRequestError('"message" or "messages" is required');
  if (channels.length > MAX_CHANNELS_PER_REQUEST) throw new BadRequestError(`at most ${MAX_CHANNELS_PER_REQUEST} channels`);
  if (messages.length > MAX_MESSAGES_PER_REQUEST) throw new BadRequestError(`at most ${MAX_MESSAGES_PER_REQUEST} messages`);
  for (const channel of channels) assertChannel(channel);
  for (const message of messages) assertMessage(message, config().maxMessageBytes);
  const idempotencyKey = parseIdempotencyKey(req.idempotencyKey);
  return { channels: [...new Set(channels)], messages, ...(idempotencyKey === undefined ? {} : { idempotencyKey }) };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function clockOf(context: unknown): InvocationClock {
  const c = context as Partial<InvocationClock> | undefined;
  if (typeof c?.getRemainingTimeInMillis === 'function') return c as InvocationClock;
  const deadline = Date.now() + DEFAULT_TIME_MS;
  return { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
}

function withTotals(r: Omit<PublishResponse, keyof Counts>, totals: Counts): PublishResponse {
  const response: PublishResponse = { ...totals, ...r };
  if (r.published.length === 1 && r.unpublished.length === 0) Object.assign(response, { id: r.published[0].id, seq: r.published[0].seq });
  return response;
}

interface RunOptions {
  clock: InvocationClock;
  /** With an idempotencyKey: the request digest ids derive from, and what went out before. */
  digest?: string;
  progress?: ProgressLog;
  earlier?: Map<string, number[]>;
}

/** Publishes every (channel, message) not published before, in order, until done or stopped. */
async function runPublish(req: ParsedPublishRequest, opts: RunOptions): Promise<PublishResponse> {
  const { channels, messages } = req;
  const published: PublishedItem[] = [];
  const unpublished: UnpublishedItem[] = [];
  const totals: Counts = { delivered: 0, gone: 0, failed: 0, subscribers: 0, dispatched: 0 };
  let stopped: 'failed' | 'deadline' | 'unavailable' | undefined;
  let slowest = 0;
  for (const channel of channels) {
    const earlier = opts.earlier?.get(channel) ?? [];
    for (let index = 0; index < messages.length; index++) {
      const id = opts.digest ? messageIdFor(opts.digest, channel, index) : undefined;
      if (index < earlier.length) {
        published.push({ channel, index, id: id as string, seq: earlier[index], earlier: true });
        continue;
      }
      if (!stopped && opts.clock.getRemainingTimeInMillis() < DEADLINE_RESERVE_MS + 2 * slowest) stopped = 'deadline';
      if (stopped) {
        unpublished.push({ channel, index, ...(id ? { id } : {}), status: 'not_attempted' });
        continue;
      }
      const started = Date.now();
      try {
        const messageId = id ?? newMessageId();
        const p = await withDeadline(Date.now() + PUBLISH_MESSAGE_BUDGET_MS, () => publish(channel, messages[index], undefined, messageId));
        const counts: Counts = {
          delivered: p.delivered,
          gone: p.gone,
          failed: p.failed,
          subscribers: p.subscribers,
          dispatched: p.dispatched,
        };
        published.push({ channel, index, id: p.id, seq: p.seq, ...counts });
        for (const k of Object.keys(totals) as Array<keyof Counts>) totals[k] += counts[k];
        opts.progress?.record(channel, index, p.seq);
      } catch (error) {
        // Stop here: going on would publish later messages before this one on its retry.
        stopped = isUnavailable(error) ? 'unavailable' : 'failed';
        if (stopped === 'unavailable')
          logger.warn('storage unavailable; stopping the request here', { channel, index, error: (error as Error)?.name });
        else logger.error('publish failed; stopping the request here', { channel, index, error: error as Error });
        unpublished.push({ channel, index, ...(id ? { id } : {}), status: 'failed' });
      }
      slowest = Math.max(slowest, Date.now() - started);
    }
  }
  // Storage that just stopped answering must not hold the answer up to the Timeout: the rows
  // written so far are kept, the rest only makes a retry re-send (under the same ids).
  if (stopped === 'unavailable')
    await withDeadline(Date.now() + GRACE_MS, () => withinDeadline(async () => opts.progress?.flush())).catch(() => {});
  else await opts.progress?.flush();
  const complete = unpublished.length === 0;
  if (!complete) {
    logger.warn('publish incomplete', { reason: stopped, published: published.length, unpublished: unpublished.length });
  }
  const response = withTotals({ complete, published, unpublished }, totals);
  if (stopped === 'unavailable') response.code = 'unavailable';
  return response;
}

/**
 * What the idempotency record keeps of a finished request: totals and seqs only (ids follow from
 * the request), so 100 × 100 messages stay far below DynamoDB's 400 KB item limit.
 */
interface StoredAnswer extends Counts {
  [key: string]: unknown;
  seqs: number[][];
}

function toStored(response: PublishResponse, channels: string[], messages: number): StoredAnswer {
  const seqs = channels.map(() => new Array<number>(messages).fill(0));
  const row = new Map(channels.map((c, i) => [c, i]));
  for (const p of response.published) seqs[row.get(p.channel) as number][p.index] = p.seq;
  const { delivered, gone, failed, subscribers, dispatched } = response;
  return { delivered, gone, failed, subscribers, dispatched, seqs };
}

function fromStored(stored: StoredAnswer, req: ParsedPublishRequest, digest: string): PublishResponse {
  const published: PublishedItem[] = [];
  req.channels.forEach((channel, c) => {
    req.messages.forEach((_, index) => {
      published.push({ channel, index, id: messageIdFor(digest, channel, index), seq: Number(stored.seqs[c][index]) });
    });
  });
  const { delivered, gone, failed, subscribers, dispatched } = stored;
  return {
    ...withTotals({ complete: true, published, unpublished: [] }, { delivered, gone, failed, subscribers, dispatched }),
    replayed: true,
  };
}

/** A keyed request: once per key, resumable after a partial failure, waiting out a running twin. */
async function publishOnce(input: Record<string, unknown>, req: ParsedPublishRequest, clock: InvocationClock): Promise<PublishResponse> {
  const digest = requestDigest(req.idempotencyKey as string, req.channels, req.messages);
  let ours: PublishResponse | undefined;
  // Taking the lock (Powertools' record) gets at most PUBLISH_MESSAGE_BUDGET_MS; once taken, the
  // deadline moves to the invocation's, which the record's final write then also runs under.
  const invocationAt = currentDeadline()?.at ?? Date.now() + clock.getRemainingTimeInMillis();
  const run = idempotentPublish(async () => {
    currentDeadline()?.moveTo(invocationAt);
    const earlier = await readProgress(digest, req.channels);
    const progress = new ProgressLog(digest, earlier);
    ours = await runPublish(req, { clock, digest, progress, earlier });
    // Throwing makes Powertools drop its record, so a retry runs again and resumes from the
    // progress rows instead of being answered with this incomplete report.
    if (!ours.complete) {
      // Dropping the record is one more storage call: under a storage that does not answer, give
      // it GRACE_MS (the record then stays in progress until its lock expires; a retry waits).
      if (ours.code === 'unavailable') currentDeadline()?.moveTo(Date.now() + GRACE_MS);
      throw new Error('incomplete');
    }
    return toStored(ours, req.channels, req.messages.length);
  });
  for (let attempt = 0; ; attempt++) {
    try {
      const stored = await withDeadline(Date.now() + PUBLISH_MESSAGE_BUDGET_MS, () => run(input, clock));
      return ours ?? fromStored(stored, req, digest);
    } catch (error) {
      // This invocation published: its report stands, whatever happened to the record after.
      if (ours) {
        if (ours.complete)
          logger.warn('idempotency record not saved; a retry will find every message published', { error: (error as Error).name });
        return ours;
      }
      const name = (error as Error).name;
      if (name === 'IdempotencyValidationError') throw new IdempotencyConflictError();
      if (name !== 'IdempotencyAlreadyInProgressError')
        throw isUnavailable(error) ? new UnavailableError(undefined, {}, { cause: error }) : error;
      const wait = IN_PROGRESS_POLL_MS[Math.min(attempt, IN_PROGRESS_POLL_MS.length - 1)];
      if (clock.getRemainingTimeInMillis() < DEADLINE_RESERVE_MS + wait) throw new PublishInProgressError();
      await sleep(wait);
    }
  }
}

export async function publishRequest(input: unknown, context?: unknown): Promise<PublishResponse> {
  try {
    const req = parsePublishRequest(input);
    const clock = clockOf(context);
    // The invocation's deadline: every storage and Lambda call ends by then, leaving
    // DEADLINE_RESERVE_MS to answer before Lambda's Timeout would kill the function unanswered.
    const at = Date.now() + Math.max(0, clock.getRemainingTimeInMillis() - DEADLINE_RESERVE_MS);
    const response = await withDeadline(at, () =>
      req.idempotencyKey ? publishOnce(input as Record<string, unknown>, req, clock) : runPublish(req, { clock }),
    );
    if (response.replayed) metrics.addMetric('PublishReplays', 'Count', 1);
    if (!response.complete) metrics.addMetric('IncompletePublishes', 'Count', 1);
    logger.info('published', {
      channels: req.channels.length,
      messages: req.messages.length,
      delivered: response.delivered,
      complete: response.complete,
      replayed: response.replayed === true,
    });
    return response;
  } catch (error) {
    if (error instanceof AirwaveError) logger.warn('publish refused', { code: error.code, reason: error.message });
    throw error;
  } finally {
    flushMetrics();
  }
}
