/**
 * A connection's rows: the connection row, its subscriptions and its budgets. Every DynamoDB call
 * that writes on behalf of one connection lives here.
 *
 * The connection row (`c#<id>` / `c`) is written at `$connect` and deleted first at `$disconnect`.
 * Every later write of the connection is conditional on it, with no transaction (dynalite has
 * none, and a condition on one item is all it takes):
 * - the channel cap: a join reserves a slot with `ADD n 1` under `n < max`, so 1,000 concurrent
 *   joins cannot pass a count that each of them read before the others wrote;
 * - nothing outlives the connection: a join re-reads the connection row (strongly consistent)
 *   after writing its subscription and deletes that subscription if the row is gone. Because
 *   `$disconnect` deletes the connection row *before* it lists the connection's rows, a
 *   subscription written after that list was taken is always seen by its own writer's re-read;
 * - per-connection budgets are attributes of the connection row, updated under
 *   `attribute_exists(pk)`, so a budget write after `$disconnect` fails instead of creating a row.
 *
 * Principal budgets (`p#<key>`) are not the connection's: they expire with their window.
 */
import { randomBytes } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from './clients.js';
import { config } from './config.js';
import { GRACE_MS, withGrace } from './deadline.js';
import { BUDGET_WINDOW_SECONDS, CONNECT_SETTLE_MS, CONNECTION_MAX_SECONDS, TTL_MARGIN_SECONDS } from './limits.js';
import { logger } from './observability.js';
import { batchWrite, queryPages, subscriptionItem } from './store.js';
import {
  CONNECTION_SORT_KEY,
  connectionKey,
  connectionTtl,
  principalBudgetKey,
  principalBudgetSortKey,
  SUBSCRIPTION_PREFIX,
  subscriptionSortKey,
} from './table-keys.js';

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** DynamoDB refused a conditional write because its condition was false (not an error here). */
export const isConditionFailed = (error: unknown): boolean => (error as Error)?.name === 'ConditionalCheckFailedException';

const connectionRowKey = (connectionId: string) => ({ pk: connectionKey(connectionId), sk: CONNECTION_SORT_KEY });

/**
 * `$connect`: writes the connection row (with the number of channels it starts in), then the
 * subscription rows in one batch. The row comes first so that no subscription exists without it.
 */
export async function openConnection(
  connectionId: string,
  channels: string[],
  connectedAtMs: number,
  writtenAtMs = Date.now(),
): Promise<void> {
  const unique = [...new Set(channels)];
  await documentClient().send(
    new PutCommand({
      TableName: config().tableName,
      Item: {
        ...connectionRowKey(connectionId),
        n: unique.length,
        // When the row was written, not when the upgrade began: a slow authorizer must not use up
        // the window in which a 410 is taken for a handshake still in progress.
        at: writtenAtMs,
        ttl: connectionTtl(connectedAtMs, CONNECTION_MAX_SECONDS, TTL_MARGIN_SECONDS),
      },
    }),
  );
  if (unique.length > 0) {
    await batchWrite(unique.map((c) => ({ PutRequest: { Item: subscriptionItem(connectionId, c, connectedAtMs) } })));
  }
}

/** Whether the connection row exists (strongly consistent). */
export async function connectionExists(connectionId: string): Promise<boolean> {
  const out = await documentClient().send(
    new GetCommand({
      TableName: config().tableName,
      Key: connectionRowKey(connectionId),
      ConsistentRead: true,
      ProjectionExpression: 'pk',
    }),
  );
  return out.Item !== undefined;
}

/**
 * Whether the connection may still be completing its handshake: its row exists and it connected
 * less than CONNECT_SETTLE_MS ago. API Gateway answers 410 to posts for a connection whose
 * `$connect` integration has not returned yet (up to its 29 s timeout), although its rows are
 * already written: such a 410 is no proof that the connection is gone.
 */
export async function isEstablishing(connectionId: string, now = Date.now()): Promise<boolean> {
  const out = await documentClient().send(
    new GetCommand({
      TableName: config().tableName,
      Key: connectionRowKey(connectionId),
      ConsistentRead: true,
      // AT is a DynamoDB reserved word.
      ProjectionExpression: '#at',
      ExpressionAttributeNames: { '#at': 'at' },
    }),
  );
  const at = out.Item?.at;
  return typeof at === 'number' && now - at < CONNECT_SETTLE_MS;
}

async function subscriptionExists(connectionId: string, channel: string): Promise<boolean> {
  const out = await documentClient().send(
    new GetCommand({
      TableName: config().tableName,
      Key: { pk: connectionKey(connectionId), sk: subscriptionSortKey(channel) },
      ConsistentRead: true,
      ProjectionExpression: 'pk',
    }),
  );
  return out.Item !== undefined;
}

/** Moves the connection's channel count by `delta` while the connection exists; false if it is gone. */
async function addChannelCount(connectionId: string, delta: number): Promise<boolean> {
  try {
    await documentClient().send(
      new UpdateCommand({
        TableName: config().tableName,
        Key: connectionRowKey(connectionId),
        UpdateExpression: 'ADD n :d',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':d': delta },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
}

async function deleteSubscription(connectionId: string, channel: string): Promise<boolean> {
  const out = await documentClient().send(
    new DeleteCommand({
      TableName: config().tableName,
      Key: { pk: connectionKey(connectionId), sk: subscriptionSortKey(channel) },
      ReturnValues: 'ALL_OLD',
    }),
  );
  return out.Attributes !== undefined;
}

/** What a join did: a new subscription, one that existed already, no room left, or no connection. */
export type JoinOutcome = 'joined' | 'already' | 'full' | 'gone';

/**
 * Joins one channel within `max` channels per connection, atomically:
 * 1. reserve a slot: `ADD n 1` on the connection row if it exists and `n < max`;
 * 2. write the subscription only if it does not exist (a repeated join gives its slot back);
 * 3. re-read the connection row: if `$disconnect` deleted it meanwhile, delete the subscription.
 *
 * The subscription carries this join's token `j`, and the write also succeeds when the row holds
 * the same token: the SDK retries a write whose answer was lost, and that retry must not count as
 * "already subscribed" (giving back a slot the subscription holds would let the count drift low,
 * and the cap with it). A join that fails after step 1 (its write or its re-read failed, or the
 * invocation's deadline passed) is undone before it is reported: see {@link undoJoin}.
 */
export async function joinChannel(connectionId: string, channel: string, connectedAtMs: number, max: number): Promise<JoinOutcome> {
  const { tableName } = config();
  try {
    await documentClient().send(
      new UpdateCommand({
        TableName: tableName,
        Key: connectionRowKey(connectionId),
        UpdateExpression: 'ADD n :one',
        ConditionExpression: 'attribute_exists(pk) AND n < :max',
        ExpressionAttributeValues: { ':one': 1, ':max': max },
      }),
    );
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
    // Full, gone, or a repeated join of a full connection (which is no new subscription).
    if (await subscriptionExists(connectionId, channel)) return 'already';
    return (await connectionExists(connectionId)) ? 'full' : 'gone';
  }
  const token = randomBytes(8).toString('base64url');
  try {
    await documentClient().send(
      new PutCommand({
        TableName: tableName,
        Item: { ...subscriptionItem(connectionId, channel, connectedAtMs), j: token },
        ConditionExpression: 'attribute_not_exists(pk) OR j = :token',
        ExpressionAttributeValues: { ':token': token },
      }),
    );
  } catch (error) {
    if (isConditionFailed(error)) {
      await addChannelCount(connectionId, -1);
      return 'already';
    }
    // The write failed (or its answer was lost, or the deadline cut it): the join is answered as
    // failed, so it must leave neither its subscription nor its slot behind.
    await undoJoin(connectionId, channel, token);
    throw error;
  }
  let exists: boolean;
  try {
    exists = await connectionExists(connectionId);
  } catch (error) {
    // Written, but not known to outlive `$disconnect`, and the client is told the join failed.
    await undoJoin(connectionId, channel, token);
    throw error;
  }
  if (!exists) {
    await deleteSubscription(connectionId, channel);
    return 'gone';
  }
  return 'joined';
}

/**
 * Undoes a join that is about to be reported as failed: deletes its subscription if the row holds
 * this join's token (a row of an earlier join stays) and gives its slot back. It runs under a
 * fresh GRACE_MS (the invocation's deadline may have passed: that is often why the join failed)
 * and never throws: if storage does not answer now either, the row expires by its TTL (the
 * connection's, at most 2 h 15 min), and the next publish's 410 or `$disconnect` removes it.
 * A write whose answer was lost may still land after this read: the same TTL bounds it.
 */
async function undoJoin(connectionId: string, channel: string, token: string): Promise<void> {
  try {
    await withGrace(GRACE_MS, async () => {
      try {
        await documentClient().send(
          new DeleteCommand({
            TableName: config().tableName,
            Key: { pk: connectionKey(connectionId), sk: subscriptionSortKey(channel) },
            ConditionExpression: 'attribute_not_exists(pk) OR j = :token',
            ExpressionAttributeValues: { ':token': token },
          }),
        );
      } catch (error) {
        // Another join's subscription (written before this one's): it stays, with its own slot.
        if (!isConditionFailed(error)) throw error;
      }
      // This join took a slot in step 1 whatever became of its row.
      await addChannelCount(connectionId, -1);
    });
  } catch (error) {
    logger.warn('could not undo a failed join; its row expires by TTL', { channel, error: (error as Error)?.name });
  }
}

/** Leaves one channel; idempotent. Frees the slot only when a subscription was really deleted. */
export async function leaveChannel(connectionId: string, channel: string): Promise<boolean> {
  const removed = await deleteSubscription(connectionId, channel);
  if (removed) await addChannelCount(connectionId, -1);
  return removed;
}

/** How many subscription rows the connection has (a counting Query; tests and diagnostics). */
export async function countSubscriptions(connectionId: string): Promise<number> {
  let count = 0;
  for await (const page of queryPages({
    TableName: config().tableName,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :m)',
    ExpressionAttributeValues: { ':pk': connectionKey(connectionId), ':m': SUBSCRIPTION_PREFIX },
    ProjectionExpression: 'pk',
  })) {
    count += page.length;
  }
  return count;
}

/** A presence channel a connection is a member of, as its subscription row records it (`mk`). */
export interface Membership {
  channel: string;
  memberKey: string;
}

/** What {@link deleteConnectionRows} removed: a row count, and the presence memberships the caller must end. */
export interface RemovedConnection {
  removed: number;
  memberships: Membership[];
}

/**
 * Deletes every row of a connection: the connection row first (from then on no write of the
 * connection succeeds, and a join racing this sees it gone), then one paginated Query on the
 * partition key and BatchWriteItem in chunks of 25. Idempotent, so a `$disconnect` that runs
 * twice, or a 410 cleanup racing it, is harmless. Returns how many rows were deleted and the
 * presence memberships its subscriptions recorded: ending those (leave events) is the caller's,
 * shared/connection-cleanup.ts, so this storage module stays below shared/presence.ts.
 */
export async function deleteConnectionRows(connectionId: string): Promise<RemovedConnection> {
  const { tableName } = config();
  const first = await documentClient().send(
    new DeleteCommand({ TableName: tableName, Key: connectionRowKey(connectionId), ReturnValues: 'ALL_OLD' }),
  );
  let removed = first.Attributes ? 1 : 0;
  const memberships: Membership[] = [];
  for await (const items of queryPages({
    TableName: tableName,
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': connectionKey(connectionId) },
    // mk: the member key of a presence channel's subscription (shared/presence.ts).
    ProjectionExpression: 'pk, sk, mk',
    // Strongly consistent: a subscription written just before this read must be in it.
    ConsistentRead: true,
  })) {
    await batchWrite(items.map((item) => ({ DeleteRequest: { Key: { pk: item.pk, sk: item.sk } } })));
    for (const item of items) if (typeof item.mk === 'string') memberships.push({ channel: String(item.sk).slice(2), memberKey: item.mk });
    removed += items.length;
  }
  return { removed, memberships };
}

/**
 * The kinds of budget: publishes (sendmessage), replays (joinchannel with `since`) and presence
 * (joins of presence channels and `members` requests, shared/presence.ts).
 */
export type BudgetKind = 'publish' | 'replay' | 'presence';
const ATTRIBUTES: Record<BudgetKind, { window: string; count: string; sortKind: string }> = {
  publish: { window: 'pw', count: 'pn', sortKind: 'publish' },
  replay: { window: 'qw', count: 'qn', sortKind: 'replay' },
  presence: { window: 'rw', count: 'rn', sortKind: 'presence' },
};

/** One spend of a budget: the count in the current window including this one, and when it ends. */
export interface BudgetSpend {
  count: number;
  /** Seconds until the window ends. */
  retryAfter: number;
}

function currentWindow(): { window: number; retryAfter: number } {
  const now = nowSeconds();
  const window = Math.floor(now / BUDGET_WINDOW_SECONDS);
  return { window, retryAfter: (window + 1) * BUDGET_WINDOW_SECONDS - now };
}

/**
 * Counts one spend against the connection's budget of `kind`, on the connection row itself (no
 * row of its own, so nothing to outlive the connection). One write in the common case: `ADD`
 * while the stored window is the current one; the first spend of a window resets it with `SET`.
 * Returns undefined when the connection is gone.
 */
export async function spendConnectionBudget(connectionId: string, kind: BudgetKind): Promise<BudgetSpend | undefined> {
  const { window, retryAfter } = currentWindow();
  const a = ATTRIBUTES[kind];
  const base = {
    TableName: config().tableName,
    Key: connectionRowKey(connectionId),
    ExpressionAttributeNames: { '#w': a.window, '#n': a.count },
    ReturnValues: 'UPDATED_NEW' as const,
  };
  // `#w >= :w`: a frame of another container may already have moved the window on (the minute
  // turned, or its clock is a few ms ahead): this spend then counts in that newer window instead
  // of failing. Two tries each way: two first spends of one window race on the SET.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const out = await documentClient().send(
        new UpdateCommand({
          ...base,
          UpdateExpression: 'ADD #n :one',
          ConditionExpression: 'attribute_exists(pk) AND #w >= :w',
          ExpressionAttributeValues: { ':one': 1, ':w': window },
        }),
      );
      return { count: Number(out.Attributes?.[a.count] ?? 1), retryAfter };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
    try {
      await documentClient().send(
        new UpdateCommand({
          ...base,
          UpdateExpression: 'SET #w = :w, #n = :one',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#w) OR #w < :w)',
          ExpressionAttributeValues: { ':one': 1, ':w': window },
        }),
      );
      return { count: 1, retryAfter };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
    if (!(await connectionExists(connectionId))) return undefined;
  }
  // Both conditions failed twice on a connection that exists: not a state a budget can be in.
  throw new Error(`budget ${kind} of a live connection could not be counted`);
}

/**
 * Counts one spend against a principal's budget of `kind` (every connection of the principal
 * shares it): an atomic `ADD` on a counter row that expires one window after its own.
 */
export async function spendPrincipalBudget(principalKey: string, kind: BudgetKind): Promise<BudgetSpend> {
  const { window, retryAfter } = currentWindow();
  const out = await documentClient().send(
    new UpdateCommand({
      TableName: config().tableName,
      Key: { pk: principalBudgetKey(principalKey), sk: principalBudgetSortKey(ATTRIBUTES[kind].sortKind, window) },
      UpdateExpression: 'ADD n :one SET #ttl = :ttl',
      ExpressionAttributeNames: { '#ttl': 'ttl' },
      ExpressionAttributeValues: { ':one': 1, ':ttl': (window + 2) * BUDGET_WINDOW_SECONDS },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return { count: Number(out.Attributes?.n ?? 1), retryAfter };
}
