/**
 * Subscription rows for virtual subscribers, written straight into a local stack's DynamoDB
 * with shared/store.ts (the rows `$connect` would write), and the read cost of a broadcast:
 * the publisher's own subscriber Queries, replayed with `ReturnConsumedCapacity`.
 *
 * Registering virtual connections with `connect: true` would run the real `$connect` for each,
 * serially in one worker (~2.6 ms each: 100k take minutes); the rows are the same either way.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../shared/clients.js';
import { config } from '../../shared/config.js';
import { configure, type RestoreEnvironment, reset } from '../../shared/dependencies.js';
import { batchWrite, FIRST_SUBSCRIBER_PAGE_ITEMS, subscriberQuery, subscriptionItem } from '../../shared/store.js';
import { shardOf } from '../../shared/table-keys.js';
import { METERING } from '../prices.js';

/** BatchWriteItem calls in flight while seeding (dynalite serves them from one thread). */
const WRITE_LANES = 8;
/** Rows per lane task (batchWrite splits them into 25-item calls). */
const ROWS_PER_TASK = 500;
/** Eventually consistent reads (every GSI read) cost half a read unit (METERING.readUnitBytes per response). */
const EVENTUALLY_CONSISTENT_FACTOR = 0.5;

/**
 * Points shared/ (config and clients) at a local stack's table: the bench process then reads
 * and writes exactly where the stack's functions do, with the same shard count. Region and
 * credentials get local placeholders only where none are set. Returns the function that puts
 * the environment back (the clients go back with `reset()`).
 */
export function useStackTable(options: { dynamodbEndpoint: string; tableName: string; channelShards: number }): RestoreEnvironment {
  reset(); // clients built for another endpoint are dropped
  return configure({
    environment: {
      AWS_ENDPOINT_URL_DYNAMODB: options.dynamodbEndpoint,
      TABLE_NAME: options.tableName,
      CHANNEL_SHARDS: String(options.channelShards),
      AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
    },
  });
}

/** Writes one subscription row per id into `channel`, several BatchWriteItem calls in flight. */
export async function writeSubscriptions(ids: readonly string[], channel: string): Promise<void> {
  const connectedAt = Date.now();
  let next = 0;
  const lane = async () => {
    while (next < ids.length) {
      const from = next;
      next += ROWS_PER_TASK;
      const slice = ids.slice(from, next);
      await batchWrite(slice.map((id) => ({ PutRequest: { Item: subscriptionItem(id, channel, connectedAt) } })));
    }
  };
  await Promise.all(Array.from({ length: WRITE_LANES }, lane));
}

/**
 * DynamoDB's size of an item: attribute name bytes plus value bytes (strings as UTF-8; numbers
 * about one byte per two significant digits, plus one).
 */
export function dynamoItemBytes(item: Record<string, unknown>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    size += Buffer.byteLength(name);
    if (typeof value === 'number')
      size +=
        Math.ceil(
          String(Math.abs(value))
            .replace(/[.-]/g, '')
            .replace(/^0+|0+$/g, '').length / 2,
        ) + 1;
    else size += Buffer.byteLength(String(value));
  }
  return size;
}

/** Read units of a query response whose items total `bytes`: 4 KB units, rounded up, half price when eventually consistent. */
export function readUnits(bytes: number, consistent = false): number {
  return Math.ceil(bytes / METERING.readUnitBytes) * (consistent ? 1 : EVENTUALLY_CONSISTENT_FACTOR);
}

/** The read cost of one broadcast's subscriber reads. */
export interface ReadCost {
  /** Units dynalite reports (`ReturnConsumedCapacity: TOTAL`), summed over every page of every shard. */
  reportedUnits: number;
  /** Units by DynamoDB's rules from the index entries' sizes (one response per shard below 1 MB). */
  computedUnits: number;
  items: number;
  pages: number;
  /** Wall time of the reads (all shards in parallel, as the publisher reads them). */
  ms: number;
}

/**
 * Runs the Queries shared/store.ts `subscriberPages` runs (same index, key condition, TTL filter
 * and projection, every shard in parallel, a short first page then full ones), asking for the consumed capacity.
 * `ids` (what was written) give the computed figure: each index entry holds gpk, pk, sk and ttl.
 */
export async function measureReadCost(channel: string, ids: readonly string[]): Promise<ReadCost> {
  const { channelShards } = config();
  const now = Math.floor(Date.now() / 1000);
  const started = performance.now();
  const perShard = await Promise.all(
    Array.from({ length: channelShards }, async (_, shard) => {
      let units = 0;
      let items = 0;
      let pages = 0;
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      let Limit: number | undefined = FIRST_SUBSCRIBER_PAGE_ITEMS; // then full pages, as subscriberPages reads
      do {
        const out = await documentClient().send(
          new QueryCommand({ ...subscriberQuery(channel, shard, now), ReturnConsumedCapacity: 'TOTAL', ExclusiveStartKey, Limit }),
        );
        Limit = undefined;
        units += out.ConsumedCapacity?.CapacityUnits ?? 0;
        items += out.Items?.length ?? 0;
        pages++;
        ExclusiveStartKey = out.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return { units, items, pages };
    }),
  );
  const ms = performance.now() - started;
  const bytesPerShard = new Array<number>(channelShards).fill(0);
  const connectedAt = Date.now();
  for (const id of ids) {
    const { pk, sk, gpk, ttl } = subscriptionItemFor(id, channel, connectedAt);
    bytesPerShard[shardOf(id, channelShards)] += dynamoItemBytes({ gpk, pk, sk, ttl });
  }
  return {
    reportedUnits: perShard.reduce((sum, s) => sum + s.units, 0),
    computedUnits: bytesPerShard.reduce((sum, bytes) => sum + (bytes > 0 ? readUnits(bytes) : 0), 0),
    items: perShard.reduce((sum, s) => sum + s.items, 0),
    pages: perShard.reduce((sum, s) => sum + s.pages, 0),
    ms,
  };
}

const subscriptionItemFor = (id: string, channel: string, connectedAt: number) =>
  subscriptionItem(id, channel, connectedAt) as { pk: string; sk: string; gpk: string; ttl: number };
