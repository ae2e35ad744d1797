/**
 * The channel side of the table: batch writes, a channel's subscribers, sequence numbers and
 * history. A connection's own rows (connection, subscriptions, budgets) are written by
 * connection-store.ts. Nothing reads a whole table: connections and channels are read by Query
 * on a partition key, always paginated.
 */
import { BatchWriteCommand, PutCommand, QueryCommand, type QueryCommandInput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from './clients.js';
import { config } from './config.js';
import { FanoutError } from './errors.js';
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
} from './keys.js';
import { BATCH_WRITE_MAX_ATTEMPTS, BATCH_WRITE_MAX_ITEMS, CONNECTION_MAX_SECONDS, TTL_MARGIN_SECONDS } from './limits.js';

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
      if (attempt > BATCH_WRITE_MAX_ATTEMPTS) throw new FanoutError(`${pending.length} writes still unprocessed after retries`);
      const out = await documentClient().send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = (out.UnprocessedItems?.[tableName] as Record<string, unknown>[] | undefined) ?? [];
      if (pending.length > 0) await sleep(Math.min(1000, 25 * 2 ** attempt) * Math.random());
    }
  }
}

async function* queryPages(input: QueryCommandInput): AsyncGenerator<Record<string, unknown>[]> {
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const out = await documentClient().send(new QueryCommand({ ...input, ExclusiveStartKey }));
    yield (out.Items ?? []) as Record<string, unknown>[];
    ExclusiveStartKey = out.LastEvaluatedKey;
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
 * A channel's subscribers, page by page: all shards are read in parallel (each one a paginated
 * Query on the sparse GSI), and pages are yielded as they arrive. Rows past their TTL are
 * filtered out: DynamoDB deletes expired items days late.
 */
export async function* subscriberPages(channel: string, pageSize?: number): AsyncGenerator<string[]> {
  const { channelShards } = config();
  const now = nowSeconds();
  const shardReaders = Array.from({ length: channelShards }, (_, shard) =>
    queryPages({ ...subscriberQuery(channel, shard, now), Limit: pageSize })[Symbol.asyncIterator](),
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

/**
 * Next sequence number of a channel: an atomic UpdateItem ADD (no transaction needed, and
 * dynalite has none). Concurrent publishers each get a distinct number.
 */
export async function nextSequence(channel: string): Promise<number> {
  const out = await documentClient().send(
    new UpdateCommand({
      TableName: config().tableName,
      Key: sequenceKey(channel),
      UpdateExpression: 'ADD seq :one',
      ExpressionAttributeValues: { ':one': 1 },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return Number(out.Attributes?.seq);
}

/** Last sequence number of a channel, or undefined if nothing was published yet. */
export async function currentSequence(channel: string): Promise<number | undefined> {
  const out = await documentClient().send(
    new QueryCommand({
      TableName: config().tableName,
      KeyConditionExpression: 'pk = :pk AND sk = :sk',
      ExpressionAttributeValues: { ':pk': sequenceKey(channel).pk, ':sk': sequenceKey(channel).sk },
    }),
  );
  const seq = out.Items?.[0]?.seq;
  return seq === undefined ? undefined : Number(seq);
}

/** Keeps a delivered frame in the channel's history (expires after HistoryMinutes). */
export async function appendHistory(channel: string, seq: number, frame: string): Promise<void> {
  const { tableName, historyMinutes } = config();
  await documentClient().send(
    new PutCommand({
      TableName: tableName,
      Item: { pk: historyKey(channel), sk: historySortKey(seq), frame, ttl: nowSeconds() + Math.ceil(historyMinutes * 60) },
    }),
  );
}

export interface HistoryEntry {
  seq: number;
  frame: string;
}

/**
 * History frames after `since` (exclusive), oldest first: the newest `limit` of them, read as one
 * descending Query page (never the whole history), expired ones skipped.
 */
export async function readHistory(channel: string, since: number, limit: number): Promise<HistoryEntry[]> {
  if (limit <= 0) return [];
  const out = await documentClient().send(
    new QueryCommand({
      TableName: config().tableName,
      KeyConditionExpression: 'pk = :pk AND sk > :since',
      FilterExpression: '#ttl > :now',
      ExpressionAttributeNames: { '#ttl': 'ttl' },
      ExpressionAttributeValues: { ':pk': historyKey(channel), ':since': historySortKey(since), ':now': nowSeconds() },
      ScanIndexForward: false,
      Limit: limit,
    }),
  );
  return (out.Items ?? []).map((item) => ({ seq: Number(item.sk), frame: String(item.frame) })).reverse();
}
