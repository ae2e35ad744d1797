/**
 * The channel side of the table: batch writes, a channel's subscribers, sequence numbers and
 * history. A connection's own rows (connection, subscriptions, budgets) are written by
 * connection-store.ts. Nothing reads a whole table: connections and channels are read by Query
 * on a partition key, always paginated.
 */
import { BatchWriteCommand, PutCommand, QueryCommand, type QueryCommandInput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from './clients.js';
import { config } from './config.js';
import { StoreWriteError } from './errors.js';
import { BATCH_WRITE_MAX_ATTEMPTS, BATCH_WRITE_MAX_ITEMS, CONNECTION_MAX_SECONDS, TTL_MARGIN_SECONDS } from './limits.js';
import {
  channelShardKey,
  connectionIdFromKey,
  connectionKey,
  connectionTtl,
  historyKey,
  historySortKey,
  sequenceKey,
  shardOf,
  subscriptionSortKey,
} from './table-keys.js';

const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A subscription row for `connectionId` in `channel`. */
export function subscriptionItem(connectionId: string, channel: string, connectedAtMs: number): Record<string, unknown> {
  return {
    pk: connectionKey(connectionId),
    sk: subscriptionSortKey(channel),
    gpk: channelShardKey(channel, shardOf(connectionId, config().channelShards)),
    ttl: connectionTtl(connectedAtMs, CONNECTION_MAX_SECONDS, TTL_MARGIN_SECONDS),
  };
}

/**
 * BatchWriteItem in chunks of 25, retrying UnprocessedItems with backoff (DynamoDB returns them
 * under throttling instead of failing the call).
 */
export async function batchWrite(requests: Record<string, unknown>[]): Promise<void> {
  const { tableName } = config();
  for (let i = 0; i < requests.length; i += BATCH_WRITE_MAX_ITEMS) {
    let pending = requests.slice(i, i + BATCH_WRITE_MAX_ITEMS);
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > BATCH_WRITE_MAX_ATTEMPTS) throw new StoreWriteError(`${pending.length} writes still unprocessed after retries`);
      const out = await documentClient().send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = (out.UnprocessedItems?.[tableName] as Record<string, unknown>[] | undefined) ?? [];
      if (pending.length > 0) await sleep(Math.min(1000, 25 * 2 ** attempt) * Math.random());
    }
  }
}

/**
 * Every page of a Query (its Items), following LastEvaluatedKey: the one paging loop of the
 * table's reads. `firstLimit`, if given, is the first page's Limit; later pages use `input.Limit`.
 */
export async function* queryPages(input: QueryCommandInput, firstLimit?: number): AsyncGenerator<Record<string, unknown>[]> {
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  let Limit = firstLimit ?? input.Limit;
  do {
    const out = await documentClient().send(new QueryCommand({ ...input, Limit, ExclusiveStartKey }));
    yield (out.Items ?? []) as Record<string, unknown>[];
    ExclusiveStartKey = out.LastEvaluatedKey;
    Limit = input.Limit;
  } while (ExclusiveStartKey);
}

/**
 * The Query for one shard of a channel's subscribers on the sparse GSI: only the connection key
 * is read, and rows past their TTL are filtered out (DynamoDB deletes expired items days late).
 */
export function subscriberQuery(channel: string, shard: number, now: number): QueryCommandInput {
  const { tableName, channelIndex } = config();
  return {
    TableName: tableName,
    IndexName: channelIndex,
    KeyConditionExpression: 'gpk = :g',
    FilterExpression: '#ttl > :now',
    ExpressionAttributeNames: { '#ttl': 'ttl' },
    ExpressionAttributeValues: { ':g': channelShardKey(channel, shard), ':now': now },
    ProjectionExpression: 'pk',
  };
}

/**
 * Items of a shard's first subscriber page: few, so that the fan-out has ids to post after one
 * short Query instead of waiting for a full 1 MB page (~14,000 rows) per shard. The pages after
 * it are full pages (or `pageSize`).
 */
export const FIRST_SUBSCRIBER_PAGE_ITEMS = 250;

/**
 * A channel's subscribers, page by page: all shards are read in parallel (each one a paginated
 * Query on the sparse GSI, its first page at most {@link FIRST_SUBSCRIBER_PAGE_ITEMS} rows), and
 * pages are yielded as they arrive. Rows past their TTL are filtered out: DynamoDB deletes
 * expired items days late.
 */
export async function* subscriberPages(channel: string, pageSize?: number): AsyncGenerator<string[]> {
  const { channelShards } = config();
  const now = nowSeconds();
  const firstLimit = Math.min(pageSize ?? FIRST_SUBSCRIBER_PAGE_ITEMS, FIRST_SUBSCRIBER_PAGE_ITEMS);
  const shardReaders = Array.from({ length: channelShards }, (_, shard) =>
    queryPages({ ...subscriberQuery(channel, shard, now), Limit: pageSize }, firstLimit)[Symbol.asyncIterator](),
  );
  // Merge the shard iterators: keep one pending read per shard, yield whichever finishes first.
  const pending = new Map<number, Promise<{ shard: number; result: IteratorResult<Record<string, unknown>[]> }>>();
  const pull = (shard: number): void => {
    pending.set(
      shard,
      shardReaders[shard].next().then((result) => ({ shard, result })),
    );
  };
  for (let shard = 0; shard < shardReaders.length; shard++) pull(shard);
  while (pending.size > 0) {
    const { shard, result } = await Promise.race(pending.values());
    if (result.done) {
      pending.delete(shard);
      continue;
    }
    pull(shard);
    if (result.value.length > 0) yield result.value.map((item) => connectionIdFromKey(item.pk as string));
  }
}

/** A channel's sequence counter: its last number, and when that number was taken. */
export interface SequenceState {
  seq: number;
  /**
   * Epoch ms at which the last number was taken (absent on counters written before it was
   * recorded). Numbers are taken in order, so every number up to `seq` was taken at or before it.
   */
  allocatedAt?: number;
}

/**
 * Next sequence number of a channel: an atomic UpdateItem ADD (no transaction needed, and
 * dynalite has none). Concurrent publishers each get a distinct number. The time it was taken
 * is recorded beside it: a replay uses it to tell a publish still on its way (number taken,
 * history row not written yet) from one that is over.
 */
export async function nextSequence(channel: string): Promise<number> {
  const out = await documentClient().send(
    new UpdateCommand({
      TableName: config().tableName,
      Key: sequenceKey(channel),
      UpdateExpression: 'ADD seq :one SET #at = :now',
      ExpressionAttributeNames: { '#at': 'at' },
      ExpressionAttributeValues: { ':one': 1, ':now': Date.now() },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return Number(out.Attributes?.seq);
}

/**
 * A channel's sequence counter, or undefined if nothing was published yet. A strongly
 * consistent read: the join reads it right after writing its subscription, and the ordering
 * argument of the replay (shared/replay.ts) needs every number taken before that read.
 */
export async function readSequence(channel: string): Promise<SequenceState | undefined> {
  const out = await documentClient().send(
    new QueryCommand({
      TableName: config().tableName,
      KeyConditionExpression: 'pk = :pk AND sk = :sk',
      ExpressionAttributeValues: { ':pk': sequenceKey(channel).pk, ':sk': sequenceKey(channel).sk },
      ConsistentRead: true,
    }),
  );
  const item = out.Items?.[0];
  if (item?.seq === undefined) return undefined;
  return item.at === undefined ? { seq: Number(item.seq) } : { seq: Number(item.seq), allocatedAt: Number(item.at) };
}

/** Last sequence number of a channel, or undefined if nothing was published yet. */
export async function currentSequence(channel: string): Promise<number | undefined> {
  return (await readSequence(channel))?.seq;
}

const historyTtl = (): number => nowSeconds() + Math.ceil(config().historyMinutes * 60);

const isConditionFailure = (error: unknown): boolean => (error as { name?: string })?.name === 'ConditionalCheckFailedException';

/**
 * Keeps a delivered frame in the channel's history (expires after HistoryMinutes). Returns
 * false, and writes nothing, when a replay has already declared this `seq` skipped (see
 * {@link markSkipped}): the publish must then not deliver its message, because clients were told
 * it does not exist. The write is conditional for that; the condition also accepts a row of this
 * very message (same `id`), so the SDK retrying a write whose first answer was lost still succeeds.
 */
export async function appendHistory(channel: string, seq: number, id: string, frame: string): Promise<boolean> {
  try {
    await documentClient().send(
      new PutCommand({
        TableName: config().tableName,
        Item: { pk: historyKey(channel), sk: historySortKey(seq), id, frame, ttl: historyTtl() },
        ConditionExpression: 'attribute_not_exists(pk) OR id = :id',
        ExpressionAttributeValues: { ':id': id },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/**
 * Writes a tombstone for a `seq` that holds no message (its publish failed, or never wrote its
 * history row in time): replays then tell clients the number is skipped instead of reporting it
 * as lost. Conditional, so it never overwrites a stored message. Returns false when a message
 * row exists (it was written after all).
 */
export async function markSkipped(channel: string, seq: number): Promise<boolean> {
  try {
    await documentClient().send(
      new PutCommand({
        TableName: config().tableName,
        Item: { pk: historyKey(channel), sk: historySortKey(seq), skipped: true, ttl: historyTtl() },
        ConditionExpression: 'attribute_not_exists(pk) OR skipped = :yes',
        ExpressionAttributeValues: { ':yes': true },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** One history row: a stored delivery frame, or a tombstone for a `seq` that holds no message. */
export interface HistoryRow {
  seq: number;
  /** The delivery frame, exactly as it was posted live (absent on a tombstone). */
  frame?: string;
  /** A tombstone: this `seq` was taken by a publish whose message was never stored. */
  skipped: boolean;
  /** Epoch seconds after which the row no longer counts (DynamoDB deletes it days later). */
  ttl: number;
}

/**
 * History rows with `from <= seq <= to`, oldest first, page by page: a Query on the channel's
 * history key, paginated (one page is at most 1 MB, which is only ~64 messages of 16 KB), never
 * more than the range. Expired rows are returned too, with their `ttl`: the replay needs to see
 * them to tell "expired" from "never stored". Strongly consistent: a row written before the read
 * must be seen (the replay's ordering argument rests on it).
 */
export async function* historyPages(channel: string, from: number, to: number, pageSize?: number): AsyncGenerator<HistoryRow[]> {
  if (to < from) return;
  for await (const page of queryPages({
    TableName: config().tableName,
    KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
    ExpressionAttributeValues: { ':pk': historyKey(channel), ':from': historySortKey(from), ':to': historySortKey(to) },
    ConsistentRead: true,
    Limit: pageSize,
  })) {
    yield page.map((item) => ({
      seq: Number(item.sk),
      frame: typeof item.frame === 'string' ? item.frame : undefined,
      skipped: item.skipped === true,
      ttl: Number(item.ttl ?? 0),
    }));
  }
}
