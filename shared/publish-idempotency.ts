/**
 * What makes a backend publish safe to retry (shared/server-publish.ts uses it):
 *
 * - the request's `idempotencyKey`, checked here, and a digest of the whole request (key,
 *   channels, messages) from which every message id is derived, so a copy that still goes out
 *   (a retry after a failure, or after the first attempt's in-progress lock expired) carries the
 *   id of the first and clients drop it;
 * - progress rows: per (request, channel), the seqs of the messages already published, in order,
 *   so a retry after a partial failure publishes only the remainder;
 * - the Powertools idempotency record (one per key, in the same table), which makes a retry of
 *   a finished request return the first answer and a retry of a running one wait for it.
 *
 * The table (IdempotencyTable) is keyed by `id` alone: every key and every progress row is its
 * own partition. Powertools' composite-key layout would put every record of the function on one
 * static partition key, which is why the single table is not used.
 */
import { createHash } from 'node:crypto';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { deadlineBoundDynamoDB } from './clients.js';
import { BadRequestError } from './errors.js';
import { logger } from './observability.js';

/** Longest accepted idempotencyKey (a UUID is 36). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 128;
/** Printable ASCII without spaces: any UUID, ULID, hash or `order-123:v2` fits. */
const KEY_PATTERN = /^[\x21-\x7e]+$/;
/** BatchGetItem's limit on keys per call. */
const BATCH_GET_MAX_KEYS = 100;
const BATCH_GET_MAX_ATTEMPTS = 5;
/**
 * Progress is written at most this often per request (flush() does not wait for it): a publish
 * killed between rounds re-sends at most this long's worth of messages on its retry, under their
 * ids, instead of paying a write per message.
 */
export const PROGRESS_WRITE_INTERVAL_MS = 1_000;

export interface IdempotencySettings {
  tableName: string;
  /** How long a key is remembered (PUBLISH_IDEMPOTENCY_MINUTES, default 60). */
  windowSeconds: number;
}

export function idempotencySettings(): IdempotencySettings {
  const minutes = Number(process.env.PUBLISH_IDEMPOTENCY_MINUTES || 60);
  if (!Number.isFinite(minutes) || minutes <= 0) throw new Error('PUBLISH_IDEMPOTENCY_MINUTES must be a positive number');
  return { tableName: process.env.IDEMPOTENCY_TABLE || 'airwave-idempotency', windowSeconds: Math.round(minutes * 60) };
}

/** The request's `idempotencyKey`: undefined when absent, else a bounded string (bad_request otherwise). */
export function parseIdempotencyKey(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > IDEMPOTENCY_KEY_MAX_LENGTH || !KEY_PATTERN.test(value)) {
    throw new BadRequestError(`"idempotencyKey" must be 1-${IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters without spaces`);
  }
  return value;
}

/**
 * A digest of the whole request. Message ids and progress rows hang off it rather than off the
 * key alone, so a key reused for a different request (after the window, or after a failed first
 * attempt, when no record is left to compare with) never shares ids or progress with the first.
 */
export function requestDigest(key: string, channels: string[], messages: unknown[]): string {
  return createHash('sha256')
    .update(JSON.stringify([key, channels, messages]))
    .digest('base64url');
}

/** The id of message `index` on `channel`: 16 URL-safe characters, like a random one. */
export function messageIdFor(digest: string, channel: string, index: number): string {
  return createHash('sha256').update(`${digest}\n${channel}\n${index}`).digest().subarray(0, 12).toString('base64url');
}

/** A progress row's key. `#` cannot occur in a channel name. */
export const progressKey = (digest: string, channel: string): string => `progress#${digest}#${channel}`;

let client: DynamoDBClient | undefined;
let doc: DynamoDBDocumentClient | undefined;

/**
 * Replace the table's client; undefined goes back to the lazily built one. Called by
 * `configure({ clients: { idempotency } })` and `reset()` in shared/dependencies.ts only.
 */
export function setIdempotencyClient(next: DynamoDBClient | undefined): void {
  client = next;
  doc = undefined;
}

function rawClient(): DynamoDBClient {
  // Bounded by the invocation's deadline like every DynamoDB call (shared/clients.ts).
  client ??= deadlineBoundDynamoDB();
  return client;
}

function docClient(): DynamoDBDocumentClient {
  doc ??= DynamoDBDocumentClient.from(rawClient());
  return doc;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The seqs already published per channel for this request: message `i` of a channel went out
 * with `seqs[i]` for every i below the list's length (messages go out in order and a publish
 * stops at its first failure, so what went out is always a prefix). Strongly consistent: the
 * rows were written by an invocation that has ended. Rows past their expiration are ignored.
 */
export async function readProgress(digest: string, channels: string[]): Promise<Map<string, number[]>> {
  const { tableName } = idempotencySettings();
  const done = new Map<string, number[]>();
  for (let i = 0; i < channels.length; i += BATCH_GET_MAX_KEYS) {
    let keys: Record<string, unknown>[] = channels.slice(i, i + BATCH_GET_MAX_KEYS).map((c) => ({ id: progressKey(digest, c) }));
    for (let attempt = 1; keys.length > 0; attempt++) {
      if (attempt > BATCH_GET_MAX_ATTEMPTS) throw new Error(`${keys.length} progress rows still unread after retries`);
      const out = await docClient().send(
        new BatchGetCommand({
          RequestItems: { [tableName]: { Keys: keys, ConsistentRead: true, ProjectionExpression: 'id, seqs, expiration' } },
        }),
      );
      const now = Math.floor(Date.now() / 1000);
      for (const item of out.Responses?.[tableName] ?? []) {
        // DynamoDB deletes expired rows days late: past the window, the request is new again.
        if (!(Number(item.expiration) > now)) continue;
        const channel = String(item.id).slice(progressKey(digest, '').length);
        if (Array.isArray(item.seqs)) done.set(channel, item.seqs.map(Number));
      }
      keys = (out.UnprocessedKeys?.[tableName]?.Keys as Record<string, unknown>[] | undefined) ?? [];
      if (keys.length > 0) await sleep(Math.min(1000, 25 * 2 ** attempt) * Math.random());
    }
  }
  return done;
}

/**
 * Writes progress rows in the background: one round of writes at a time, at most one round per
 * PROGRESS_WRITE_INTERVAL_MS, each writing the latest seqs of every channel that changed since
 * the last, so a publish pays a few writes a second, not one per message, and never waits for
 * them. A failed write is logged and not retried: it only makes a later retry re-send messages
 * that already went out, with the same ids, which clients drop.
 */
export class ProgressLog {
  private readonly seqs = new Map<string, number[]>();
  private readonly changed = new Set<string>();
  private writing: Promise<void> | undefined;
  private failures = 0;
  private flushing = false;
  /** Ends the pause between two rounds early (flush). */
  private wake: (() => void) | undefined;

  constructor(
    private readonly digest: string,
    earlier: Map<string, number[]>,
  ) {
    for (const [channel, seqs] of earlier) this.seqs.set(channel, [...seqs]);
  }

  /** Message `index` of `channel` went out with `seq` (indexes arrive in order, from the first missing). */
  record(channel: string, index: number, seq: number): void {
    const seqs = this.seqs.get(channel) ?? [];
    if (index !== seqs.length) throw new Error(`progress of ${channel} is at ${seqs.length}, not ${index}`);
    seqs.push(seq);
    this.seqs.set(channel, seqs);
    this.changed.add(channel);
    this.writing ??= this.drain();
  }

  /** Waits until every recorded seq was written (or its write failed). */
  async flush(): Promise<void> {
    this.flushing = true;
    this.wake?.();
    while (this.writing) await this.writing;
  }

  /** Writes that failed (each logged at WARN). */
  get failedWrites(): number {
    return this.failures;
  }

  private async drain(): Promise<void> {
    const { tableName, windowSeconds } = idempotencySettings();
    try {
      while (this.changed.size > 0) {
        const started = Date.now();
        const round = [...this.changed];
        this.changed.clear();
        const expiration = Math.floor(Date.now() / 1000) + windowSeconds;
        await Promise.all(
          round.map((channel) =>
            docClient()
              .send(
                new PutCommand({
                  TableName: tableName,
                  Item: { id: progressKey(this.digest, channel), seqs: [...(this.seqs.get(channel) ?? [])], expiration },
                }),
              )
              .catch((error) => {
                this.failures++;
                logger.warn('publish progress not recorded; a retry would re-send these messages with the same ids', {
                  channel,
                  error: (error as Error).name,
                });
              }),
          ),
        );
        const pause = PROGRESS_WRITE_INTERVAL_MS - (Date.now() - started);
        if (pause > 0 && !this.flushing) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, pause);
            this.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.wake = undefined;
        }
      }
    } finally {
      // No await between the loop's last check and here: a record() cannot slip in unseen.
      this.writing = undefined;
    }
  }
}

/** The smallest slice of a Lambda context the idempotency lock needs. */
export interface InvocationClock {
  getRemainingTimeInMillis(): number;
}

/**
 * Wraps `run` in Powertools' idempotency: the record is keyed by the request's idempotencyKey
 * (`publish#<md5 of the key>`), and the channels and messages are its validation payload, so the
 * same key with another request is refused (IdempotencyValidationError) while the record lives.
 * A `run` that throws leaves no record (Powertools deletes it): the next attempt runs again.
 */
export function idempotentPublish<R extends Record<string, unknown>>(
  run: () => Promise<R>,
): (request: Record<string, unknown>, clock: InvocationClock) => Promise<R> {
  const { tableName, windowSeconds } = idempotencySettings();
  const persistenceStore = new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: rawClient() });
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'idempotencyKey',
    payloadValidationJmesPath: '[channel, channels, message, messages]',
    expiresAfterSeconds: windowSeconds,
    throwOnNoIdempotencyKey: true,
  });
  // The context is registered (its remaining time bounds the in-progress lock) because the
  // wrapped function is called as a handler: (event, context).
  return makeIdempotent((_request: Record<string, unknown>, _clock: InvocationClock) => run(), {
    persistenceStore,
    config,
    keyPrefix: 'publish',
  }) as unknown as (request: Record<string, unknown>, clock: InvocationClock) => Promise<R>;
}
