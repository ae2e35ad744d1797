/**
 * Presence: who is in a presence channel (PresenceChannels), join and leave events, the member
 * cap. A member is a principal (`sub` with AuthMode=jwt; with AuthMode=none each connection is
 * its own member, named by a hash of its id so that no client learns another's connection id).
 *
 * Rows (partition `r#<channel>`; `#` never occurs in a channel name):
 *
 * | row     | sk               | other                                                        |
 * | ------- | ---------------- | ------------------------------------------------------------ |
 * | counter | `n`              | n (members now), v (memberships ever: the version source), at |
 * | member  | `m#<member key>` | conns (string set of connection ids), v, info, ttl           |
 *
 * and the connection's subscription row of a presence channel carries `mk` (its member key),
 * so that `$disconnect` and the 410 cleanup (shared/connection-store.ts removeConnection) know
 * which members lose the connection without knowing its rights.
 *
 * Every change is one conditional write on one item, no transaction (dynalite has none):
 * - a connection joins an existing member with `ADD conns` under `attribute_exists(pk)`;
 * - a new member first takes a slot, `ADD n 1, v 1` on the counter under `n < limit` (the cap,
 *   atomic under any concurrency), then creates its row under `attribute_not_exists(pk)`; if
 *   another connection of the same principal created it first, the slot is given back and the
 *   connection joins that row instead;
 * - a connection leaves with `DELETE conns`; the write that empties the set is followed by a
 *   delete of the row under `attribute_not_exists(conns) AND v = :v`, so a connection of the
 *   same principal that joined in between keeps the member (the delete fails), and exactly one
 *   writer sends the leave event.
 *
 * Every membership gets a new `v` from the counter; the join and the leave of one membership
 * carry the same `v`. A client applies events by version (client/src/presence.ts): a member is
 * present when the highest `v` it saw joining is above the highest it saw leaving, so events
 * that arrive out of order (each is posted by a different invocation) leave no phantom.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { setTimeout as wait } from 'node:timers/promises';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { spend } from './budgets.js';
import { bulkPoster, documentClient } from './clients.js';
import { config } from './config.js';
import { deleteConnectionRows, type Membership } from './connection-store.js';
import { currentDeadline, GRACE_MS, UnavailableError, withGrace } from './deadline.js';
import { deliverUntil } from './delivery.js';
import { PresenceRefusedError } from './errors.js';
import type { RouteContext } from './handler.js';
import { CONNECTION_MAX_SECONDS, TTL_MARGIN_SECONDS } from './limits.js';
import { logger } from './observability.js';
import { assertCanJoin } from './policy.js';
import { isPresenceChannel, presenceSettings } from './presence-settings.js';
import { membersFrame, type PresenceMember, presenceFrameText, type ServerFrame } from './protocol.js';
import { queryPages } from './store.js';
import { CONNECTION_SORT_KEY, connectionKey, connectionTtl, subscriptionSortKey } from './table-keys.js';
import { assertChannel } from './validate.js';

/**
 * How long one presence event's posts may take (at most PresenceMemberLimit posts). A post not
 * made by then is dropped (logged): a client that misses an event gets the whole list again with
 * its next join ack or `members` request. It keeps a join well inside the function's 10 s.
 */
export const PRESENCE_DELIVERY_BUDGET_MS = 2_000;
/** Posts to one member per event (429s and failures together): presence is refreshed by snapshots, not retried for long. */
const PRESENCE_POST_ATTEMPTS = 3;
/**
 * Set while a presence event's 410 cleanup runs: the leave events that cleanup sends do not clean
 * up the gone connections they find in turn (those have their own `$disconnect`, the next event,
 * or their TTL), so one event costs at most one level of cleanup, never a chain.
 */
const inCleanup = new AsyncLocalStorage<true>();
/** Tries of the join loop (existing member / new member) before the join counts as failed. */
const JOIN_ATTEMPTS = 10;
/** The first wait before taking a slot again when the count is high but the rows are fewer than the cap; doubles per try. */
const SLOT_RETRY_BASE_MS = 20;
/**
 * The longest of those waits: with JOIN_ATTEMPTS tries, a join waits at most about 4.3 s in all
 * before `presence_full`, inside the join's 8 s deadline. Not shorter: on a loaded host (the
 * churn run at load 5) a count above its rows lasted over 1.4 s, the wait before.
 */
const SLOT_RETRY_MAX_MS = 1_000;
const COUNTER_SORT_KEY = 'n';
/**
 * A member counter unchanged this long has no slot in flight: a join takes its slot and writes
 * its row within one invocation (10 s at most), a leave deletes its row and frees its slot in two
 * consecutive writes.
 */
const COUNTER_SETTLE_MS = 60_000;
const MEMBER_PREFIX = 'm#';

export const presenceKey = (channel: string): string => `r#${channel}`;
const memberRowKey = (channel: string, memberKey: string) => ({ pk: presenceKey(channel), sk: `${MEMBER_PREFIX}${memberKey}` });
const counterKey = (channel: string) => ({ pk: presenceKey(channel), sk: COUNTER_SORT_KEY });
const isConditionFailed = (error: unknown): boolean => (error as Error)?.name === 'ConditionalCheckFailedException';
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export type { Membership } from './connection-store.js';

/**
 * The member key of a connection: its principal with AuthMode=jwt; with AuthMode=none (no
 * identity) the connection itself, as the first 16 characters of its SHA-256 in base64url.
 */
export function memberKeyOf(ctx: Pick<RouteContext, 'connectionId' | 'rights'>, authMode = config().authMode): string {
  if (authMode === 'jwt') return ctx.rights.principal;
  return `c.${createHash('sha256').update(ctx.connectionId).digest('base64url').slice(0, 16)}`;
}

/** The public info the authorizer put in the connection's context (PresenceInfoClaim), if any. */
export function memberInfoOf(ctx: Pick<RouteContext, 'event'>): string | undefined {
  const info = ctx.event.requestContext.authorizer?.info;
  return typeof info === 'string' && info.length > 0 ? info : undefined;
}

const toMember = (memberKey: string, v: unknown, info: unknown): PresenceMember =>
  typeof info === 'string' ? { id: memberKey, v: Number(v), info } : { id: memberKey, v: Number(v) };

/** What adding a connection to a member did: added, or refused by the member cap ('full') or the member's connection cap ('crowded'). */
export type AddOutcome = { member: PresenceMember; created: boolean } | 'full' | 'crowded';

/**
 * Adds `connectionId` to the member `memberKey` of `channel`, creating the member (within
 * `limit` members) if it has no connection yet. `created` tells whether this call made the
 * member, that is, whether a join event is due. `ttl` (epoch seconds) is the connection's; the
 * member row keeps the latest of its connections' TTLs.
 */
export async function addMemberConnection(
  channel: string,
  memberKey: string,
  connectionId: string,
  info: string | undefined,
  ttl: number,
  limit: number,
  connectionLimit = presenceSettings().connectionsPerMember,
): Promise<AddOutcome> {
  for (let attempt = 0; attempt < JOIN_ATTEMPTS; attempt++) {
    const existing = await addToExisting(channel, memberKey, connectionId, ttl, connectionLimit);
    if (existing === 'crowded') return 'crowded';
    if (existing === 'retry') continue;
    if (existing) return { member: existing.member, created: existing.alone };
    const made = await unsplit(() => createMember(channel, memberKey, connectionId, info, ttl, limit));
    if (made === 'exists') continue; // another connection of this principal created it first: join it (next round)
    if (made !== 'refused') return { member: made, created: true };
    // Full, unless another connection of this principal made the member meanwhile.
    const late = await addToExisting(channel, memberKey, connectionId, ttl, connectionLimit);
    if (late === 'crowded') return 'crowded';
    if (late === 'retry') continue;
    if (late) return { member: late.member, created: late.alone };
    if (attempt === 0 && (await repairCount(channel))) continue;
    // The count can be high for a moment without the channel being full: a leave deleted its
    // row and has not freed its slot yet, or a join took a slot and has not written its row
    // (or given the slot back). Both settle within milliseconds, so while there are fewer rows
    // than the cap, wait and take a slot again. Refusing here instead told a member coming
    // back (a roll-over, a reconnect) `presence_full`, which the client takes as final.
    const rows = await countMemberRows(channel);
    if (rows >= limit) {
      // Rows past their TTL (connections that vanished without $disconnect; DynamoDB's own TTL
      // deletion can lag by days) still hold slots: end them, or they keep a channel full of no
      // one. A refused join is the only reader here: the others (a join let in, `members`) need a member.
      if (attempt < JOIN_ATTEMPTS - 1 && (await endStaleRows(channel))) continue;
      return 'full';
    }
    if (attempt < JOIN_ATTEMPTS - 1) {
      const pause = Math.min(SLOT_RETRY_BASE_MS * 2 ** attempt, SLOT_RETRY_MAX_MS);
      // A wait past the deadline would only end in `unavailable` later, eating the GRACE_MS in
      // which the caller undoes the join's subscription: say it now.
      const deadline = currentDeadline();
      if (deadline && deadline.remaining() <= pause) throw new UnavailableError();
      await wait(pause);
      continue;
    }
    // Still fewer rows than the count after every try: a slot leaked (a function stopped between
    // its two writes). repairCount gives it back once the counter has been quiet for a minute.
    logger.warn('presence join refused by a member count above its rows', { channel, rows, limit });
    return 'full';
  }
  throw new Error('presence join did not settle');
}

/**
 * Takes a slot on the member counter (within `limit`) and writes the member row in it: the new
 * member, 'refused' when the count says full, or 'exists' when another connection of the same
 * principal wrote the row first (the slot is given back).
 */
async function createMember(
  channel: string,
  memberKey: string,
  connectionId: string,
  info: string | undefined,
  ttl: number,
  limit: number,
): Promise<PresenceMember | 'refused' | 'exists'> {
  const { tableName } = config();
  let v: number;
  try {
    const out = await documentClient().send(
      new UpdateCommand({
        TableName: tableName,
        Key: counterKey(channel),
        UpdateExpression: 'ADD n :one, v :one SET #at = :now',
        ConditionExpression: 'attribute_not_exists(n) OR n < :limit',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: { ':one': 1, ':limit': limit, ':now': Date.now() },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    v = Number(out.Attributes?.v);
  } catch (error) {
    if (isConditionFailed(error)) return 'refused';
    throw error;
  }
  try {
    await documentClient().send(
      new PutCommand({
        TableName: tableName,
        Item: { ...memberRowKey(channel, memberKey), conns: new Set([connectionId]), v, ttl, ...(info === undefined ? {} : { info }) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return toMember(memberKey, v, info);
  } catch (error) {
    // An attempt may have landed with its answer lost (the SDK retried it, or gave up): the row
    // is then this join's own (its v is the slot just taken). Giving the slot back would leave a
    // member without one (and the join's undo, ending the member, would free it a second time):
    // the count low for good and the cap exceeded. Refused by its own row, the join succeeded;
    // failed otherwise, the slot stays with the row and the caller's undo frees it.
    const ours = await memberVersion(channel, memberKey).then(
      (found) => found === v,
      () => false, // unknown (the read failed too): give the slot back, as before
    );
    if (ours) {
      if (isConditionFailed(error)) return toMember(memberKey, v, info);
      throw error;
    }
    // The slot holds no member: give it back, whatever went wrong.
    await addCount(channel, -1);
    if (!isConditionFailed(error)) throw error;
    return 'exists';
  }
}

/**
 * Runs two writes that must not be split (a slot and its member row, a member row's delete and
 * its slot) until the deadline's grace end (shared/deadline.ts) rather than the deadline itself.
 * Cut between them, or with the first one's answer lost at the deadline, the member count
 * would stay wrong until a repair (repairCount, which waits for a quiet counter): under churn a
 * slot leaked this way kept a principal out of a channel that was not full. The grace end is
 * when the route's answer goes out at the latest, so nothing is written after the answer.
 */
async function unsplit<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = currentDeadline();
  if (!deadline) return fn();
  if (deadline.expired) throw new UnavailableError();
  return withGrace(deadline.remaining() + GRACE_MS, fn);
}

/**
 * `ADD conns` on an existing member row, within `connectionLimit` connections (a connection
 * already in the set always passes: a repeated join); the member, undefined when there is no
 * row, or 'crowded' when the member already has `connectionLimit` other connections. Each
 * presence event posts to every connection of every member, so without this one principal
 * parking sockets in a channel would multiply every other member's events.
 */
async function addToExisting(
  channel: string,
  memberKey: string,
  connectionId: string,
  ttl: number,
  connectionLimit: number,
): Promise<{ member: PresenceMember; alone: boolean } | 'crowded' | 'retry' | undefined> {
  const room = '(attribute_not_exists(conns) OR contains(conns, :cid) OR size(conns) < :maxc)';
  const base = {
    TableName: config().tableName,
    Key: memberRowKey(channel, memberKey),
    ExpressionAttributeValues: { ':c': new Set([connectionId]), ':cid': connectionId, ':maxc': connectionLimit } as Record<string, unknown>,
    ReturnValues: 'ALL_NEW' as const,
  };
  try {
    // The row lives as long as its longest-lived connection: the TTL only ever moves forward.
    const out = await documentClient().send(
      new UpdateCommand({
        ...base,
        UpdateExpression: 'ADD conns :c SET #ttl = :ttl',
        ConditionExpression: `attribute_exists(pk) AND #ttl < :ttl AND ${room}`,
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ...base.ExpressionAttributeValues, ':ttl': ttl },
      }),
    );
    return existingMember(memberKey, connectionId, out.Attributes);
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
  }
  try {
    const out = await documentClient().send(
      new UpdateCommand({ ...base, UpdateExpression: 'ADD conns :c', ConditionExpression: `attribute_exists(pk) AND ${room}` }),
    );
    return existingMember(memberKey, connectionId, out.Attributes);
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
  }
  // Refused: no row, or no room in it. A consistent read tells which; a row made or emptied
  // since the write was refused is another round (the caller loops), never taken for 'crowded'.
  const out = await documentClient().send(
    new GetCommand({ TableName: base.TableName, Key: base.Key, ConsistentRead: true, ProjectionExpression: 'conns' }),
  );
  if (out.Item === undefined) return undefined;
  const conns = out.Item.conns as Set<string> | undefined;
  return conns !== undefined && conns.size >= connectionLimit && !conns.has(connectionId) ? 'crowded' : 'retry';
}

/**
 * The member a connection was added to, and whether its set held only this connection after the
 * add: the row was empty (a leave that emptied it never finished, so no leave event went out but
 * a snapshot may have hidden it), or this is a repeated join of its only connection. Either way
 * the join event is sent again: a client that still has this membership ignores it (same `v`).
 */
function existingMember(memberKey: string, connectionId: string, row: Record<string, unknown> | undefined) {
  const conns = row?.conns as Set<string> | undefined;
  const alone = conns !== undefined && conns.size === 1 && conns.has(connectionId);
  return { member: toMember(memberKey, row?.v, row?.info), alone };
}

/** The `v` of the member row of `memberKey` in `channel` (strongly consistent), undefined without one. */
async function memberVersion(channel: string, memberKey: string): Promise<number | undefined> {
  const out = await documentClient().send(
    new GetCommand({
      TableName: config().tableName,
      Key: memberRowKey(channel, memberKey),
      ConsistentRead: true,
      ProjectionExpression: 'v',
    }),
  );
  return out.Item === undefined ? undefined : Number(out.Item.v);
}

/** The member rows of `channel` (stale ones included), by a strongly consistent count. */
async function countMemberRows(channel: string): Promise<number> {
  let rows = 0;
  for await (const items of queryPages({
    TableName: config().tableName,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :m)',
    ExpressionAttributeValues: { ':pk': presenceKey(channel), ':m': MEMBER_PREFIX },
    ConsistentRead: true,
    ProjectionExpression: 'sk',
  }))
    rows += items.length;
  return rows;
}

async function addCount(channel: string, delta: number): Promise<void> {
  await documentClient().send(
    new UpdateCommand({
      TableName: config().tableName,
      Key: counterKey(channel),
      UpdateExpression: 'ADD n :d SET #at = :now',
      ExpressionAttributeNames: { '#at': 'at' },
      ExpressionAttributeValues: { ':d': delta, ':now': Date.now() },
    }),
  );
}

/**
 * Puts the member count back to the number of member rows when it drifted high. It can: a
 * function stopped (a timeout) between taking a slot and writing its member row, or between
 * deleting a row and freeing its slot. Only a counter untouched for COUNTER_SETTLE_MS is
 * repaired, so no slot taken by a join still running is lost, and the write is conditional on
 * the counter being exactly as read. True when it freed slots.
 */
async function repairCount(channel: string, now = Date.now()): Promise<boolean> {
  const { tableName } = config();
  const counter = await documentClient().send(new GetCommand({ TableName: tableName, Key: counterKey(channel), ConsistentRead: true }));
  const n = Number(counter.Item?.n);
  const at = Number(counter.Item?.at ?? 0);
  if (!(n > 0) || now - at < COUNTER_SETTLE_MS) return false;
  const rows = await countMemberRows(channel);
  if (rows >= n) return false;
  try {
    await documentClient().send(
      new UpdateCommand({
        TableName: tableName,
        Key: counterKey(channel),
        UpdateExpression: 'SET n = :rows, #at = :now',
        ConditionExpression: 'n = :n AND #at = :at',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: { ':rows': rows, ':n': n, ':at': at, ':now': now },
      }),
    );
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
  logger.warn('presence member count repaired', { channel, counted: n, rows });
  return true;
}

/**
 * Removes `connectionId` from the member `memberKey` of `channel`. Idempotent. Returns the
 * member when this call ended it (its last connection left): exactly one caller gets it, and
 * that caller sends the leave event.
 */
export async function removeMemberConnection(
  channel: string,
  memberKey: string,
  connectionId: string,
): Promise<PresenceMember | undefined> {
  const { tableName } = config();
  const key = memberRowKey(channel, memberKey);
  let left: Record<string, unknown> | undefined;
  try {
    const out = await documentClient().send(
      new UpdateCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: 'DELETE conns :c',
        // Without the condition an update of a missing row would create it.
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':c': new Set([connectionId]) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    left = out.Attributes;
  } catch (error) {
    if (isConditionFailed(error)) return undefined;
    throw error;
  }
  // DynamoDB drops a set that becomes empty: no `conns` means no connection is left.
  const conns = left?.conns as Set<string> | undefined;
  if (left === undefined || (conns !== undefined && conns.size > 0)) return undefined;
  return endMember(channel, memberKey, Number(left.v), 'attribute_not_exists(conns)');
}

/** Deletes the member row of version `v` under `condition`; on success frees its slot and returns the member. */
async function endMember(channel: string, memberKey: string, v: number, condition: string, values: Record<string, unknown> = {}) {
  return unsplit(async () => {
    try {
      const out = await documentClient().send(
        new DeleteCommand({
          TableName: config().tableName,
          Key: memberRowKey(channel, memberKey),
          ConditionExpression: `${condition} AND v = :v`,
          ExpressionAttributeNames: condition.includes('#ttl') ? { '#ttl': 'ttl' } : undefined,
          ExpressionAttributeValues: { ...values, ':v': v },
          ReturnValues: 'ALL_OLD',
        }),
      );
      if (!out.Attributes) return undefined;
      await addCount(channel, -1);
      return toMember(memberKey, out.Attributes.v, out.Attributes.info);
    } catch (error) {
      // A connection of the same principal joined in between (or another caller ended it first).
      if (isConditionFailed(error)) return undefined;
      throw error;
    }
  });
}

/** A presence channel as one strongly consistent Query of its partition read it. */
export interface PresenceState {
  /** Members with at least one connection, not past their TTL, oldest membership first. */
  members: PresenceMember[];
  /** Every connection of those members: who presence events go to. */
  connections: string[];
  /** The member key each of those connections was listed under (a 410 takes it out of that member). */
  owners: Map<string, string>;
  /** Rows past their TTL, and rows whose last connection left without ending them. */
  stale: Array<{ memberKey: string; v: number; expired: boolean }>;
}

/**
 * Reads the presence rows of `channel`. The members' connections are exactly the channel's
 * subscribers that are members (presence channels cannot be joined at `$connect`, and a join
 * adds its connection before it reads the list for its ack), so events are addressed from here
 * rather than from the channel index: one Query instead of one per shard, and strongly
 * consistent, which the ordering argument of joinPresence needs.
 */
export async function readPresence(channel: string, now = nowSeconds()): Promise<PresenceState> {
  const state: PresenceState = { members: [], connections: [], owners: new Map(), stale: [] };
  for await (const items of queryPages({
    TableName: config().tableName,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :m)',
    ExpressionAttributeValues: { ':pk': presenceKey(channel), ':m': MEMBER_PREFIX },
    ConsistentRead: true,
  })) {
    for (const item of items) {
      const memberKey = String(item.sk).slice(MEMBER_PREFIX.length);
      const conns = item.conns as Set<string> | undefined;
      if (Number(item.ttl) <= now) state.stale.push({ memberKey, v: Number(item.v), expired: true });
      else if (conns?.size) {
        state.members.push(toMember(memberKey, item.v, item.info));
        state.connections.push(...conns);
        for (const id of conns) state.owners.set(id, memberKey);
      }
      // No connection left: its last one is leaving right now, or left and its function stopped
      // before ending the row (a timeout). Not a member either way.
      else state.stale.push({ memberKey, v: Number(item.v), expired: false });
    }
  }
  state.members.sort((a, b) => a.v - b.v);
  state.members = state.members.slice(0, presenceSettings().memberLimit);
  return state;
}

/**
 * Ends the stale rows a read found, each with its leave event: a member past its TTL (its
 * connections vanished without `$disconnect` and no post found them gone), or one whose last
 * leave stopped halfway. Conditional on what was read, so a member that came back is kept.
 */
async function endStale(channel: string, state: PresenceState, now: number): Promise<void> {
  for (const { memberKey, v, expired } of state.stale) {
    const ended = expired
      ? await endMember(channel, memberKey, v, '#ttl <= :now', { ':now': now })
      : await endMember(channel, memberKey, v, 'attribute_not_exists(conns)');
    if (ended) {
      logger.info('stale presence member ended', { channel, expired });
      await announceLeave(channel, ended);
    }
  }
}

/** Ends the stale rows of `channel` (one read); whether there were any. */
async function endStaleRows(channel: string): Promise<boolean> {
  const now = nowSeconds();
  const state = await readPresence(channel, now);
  await endStale(channel, state, now);
  return state.stale.length > 0;
}

/** The members of `channel` now, oldest membership first, at most PresenceMemberLimit; stale rows are ended. */
export async function readMembers(channel: string): Promise<PresenceMember[]> {
  const now = nowSeconds();
  const state = await readPresence(channel, now);
  await endStale(channel, state, now);
  return state.members;
}

/**
 * Posts a presence frame to `ids` of `channel` through the fan-out's delivery (retries, 410
 * cleanup), within PRESENCE_DELIVERY_BUDGET_MS. `owners` names the member each id was read under.
 */
async function deliverPresence(channel: string, ids: string[], owners: Map<string, string>, frame: string): Promise<void> {
  if (ids.length === 0) return;
  await deliverUntil([ids], frame, {
    poster: bulkPoster(),
    // Never past the route's own deadline: a route answered `unavailable` must not post on.
    deadline: Math.min(Date.now() + PRESENCE_DELIVERY_BUDGET_MS, currentDeadline()?.at ?? Number.POSITIVE_INFINITY),
    maxAttempts: PRESENCE_POST_ATTEMPTS,
    onGone: inCleanup.getStore() ? async () => undefined : (id) => inCleanup.run(true, () => removeGoneMember(channel, id, owners.get(id))),
  });
}

/**
 * A connection a presence event found gone: its rows, then its memberships (as
 * shared/connection-cleanup.ts does, one level deep), and always the member of `channel` it was
 * listed under. That last step is what its rows cannot give when they are gone already: a
 * `$disconnect` whose cleanup failed (a timeout, DynamoDB unavailable) after deleting the rows
 * left the connection in the member row, and without it that member stayed listed until its TTL.
 */
async function removeGoneMember(channel: string, connectionId: string, memberKey: string | undefined): Promise<void> {
  const { memberships } = await deleteConnectionRows(connectionId);
  const listed = memberKey !== undefined && !memberships.some((m) => m.channel === channel && m.memberKey === memberKey);
  await leaveMemberships(connectionId, listed ? [...memberships, { channel, memberKey }] : memberships);
}

async function rowExists(pk: string, sk: string): Promise<boolean> {
  const out = await documentClient().send(
    new GetCommand({ TableName: config().tableName, Key: { pk, sk }, ConsistentRead: true, ProjectionExpression: 'pk' }),
  );
  return out.Item !== undefined;
}

/** Sends the leave event of a member that ended to every member's connections (read after the end). */
async function announceLeave(channel: string, member: PresenceMember): Promise<void> {
  try {
    const { connections, owners } = await readPresence(channel);
    await deliverPresence(channel, connections, owners, presenceFrameText(channel, 'leave', member));
  } catch (error) {
    logger.warn('presence leave event not sent', { channel, error: (error as Error).name });
  }
}

/** What the `joined` ack of a presence channel adds: the members, and which of them is the joiner. */
export interface PresenceAck {
  members: PresenceMember[];
  self: string;
}

/**
 * The presence part of a join, after the subscription is written (functions/joinchannel):
 * 1. mark the subscription with the member key (so `$disconnect` finds the membership);
 * 2. add the connection to its member (or create it, within the cap);
 * 3. re-read the connection row and the subscription: if `$disconnect` or a `leavechannel`
 *    ran meanwhile, it may have looked before step 2, so this join takes itself out again;
 * 4. a new member's join event to everyone else, and the member list for the ack.
 * Returns 'full' (the caller undoes the subscription), or 'gone' when there is no one to answer.
 */
export async function joinPresence(ctx: RouteContext, channel: string): Promise<PresenceAck | 'full' | 'crowded' | 'gone'> {
  const { tableName } = config();
  const memberKey = memberKeyOf(ctx);
  const subscription = { pk: connectionKey(ctx.connectionId), sk: subscriptionSortKey(channel) };
  try {
    await documentClient().send(
      new UpdateCommand({
        TableName: tableName,
        Key: subscription,
        UpdateExpression: 'SET mk = :mk',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':mk': memberKey },
      }),
    );
  } catch (error) {
    if (isConditionFailed(error)) return 'gone';
    throw error;
  }
  const ttl = connectionTtl(ctx.connectedAt, CONNECTION_MAX_SECONDS, TTL_MARGIN_SECONDS);
  const added = await addMemberConnection(channel, memberKey, ctx.connectionId, memberInfoOf(ctx), ttl, presenceSettings().memberLimit);
  if (added === 'full' || added === 'crowded') return added;
  const [connected, subscribed] = await Promise.all([
    rowExists(subscription.pk, CONNECTION_SORT_KEY),
    rowExists(subscription.pk, subscription.sk),
  ]);
  if (!connected || !subscribed) {
    const ended = await removeMemberConnection(channel, memberKey, ctx.connectionId);
    if (ended) await announceLeave(channel, ended);
    return 'gone';
  }
  const { member, created } = added;
  // One read for the ack's list and the join event's addressees. The event goes out only if the
  // membership is still in that read: a subscriber that came after its leave event went out
  // would otherwise keep a member that left (the leave reached everyone the join would reach).
  const now = nowSeconds();
  const state = await readPresence(channel, now);
  const still = state.members.some((m) => m.id === memberKey && m.v === member.v);
  if (created && still) {
    const others = state.connections.filter((id) => id !== ctx.connectionId);
    await deliverPresence(channel, others, state.owners, presenceFrameText(channel, 'join', member)).catch((error) =>
      logger.warn('presence join event not sent', { channel, error: (error as Error).name }),
    );
  }
  await endStale(channel, state, now);
  return { members: state.members, self: memberKey };
}

/** The presence part of a `leavechannel` (after the subscription is deleted). */
export async function leavePresence(ctx: RouteContext, channel: string): Promise<void> {
  const ended = await removeMemberConnection(channel, memberKeyOf(ctx), ctx.connectionId);
  if (ended) await announceLeave(channel, ended);
}

/**
 * The presence part of removing a connection (`$disconnect`, a 410 found by a fan-out): each
 * membership loses the connection, and members that lost their last one send their leave event.
 * Failures are logged, never thrown: the member row's TTL is the fallback.
 */
export async function leaveMemberships(connectionId: string, memberships: Membership[]): Promise<void> {
  await Promise.all(
    memberships.map(async ({ channel, memberKey }) => {
      try {
        const ended = await removeMemberConnection(channel, memberKey, connectionId);
        if (ended) await announceLeave(channel, ended);
      } catch (error) {
        logger.warn('presence cleanup failed; the member row expires with its TTL', { channel, error: (error as Error).name });
      }
    }),
  );
}

/** Spends one unit of the presence budget (RateLimitedError when spent); false when the connection is gone. */
export async function spendPresence(ctx: RouteContext, channel: string): Promise<boolean> {
  return (await spend(ctx, 'presence', channel)) === 'spent';
}

/**
 * `{"action":"members","channel":C}`: a fresh member list of a presence channel the connection
 * has joined (and still may join), within the presence budget.
 */
export async function membersRoute(ctx: RouteContext): Promise<ServerFrame | undefined> {
  const channel = ctx.body().channel;
  assertChannel(channel);
  if (!isPresenceChannel(channel)) throw new PresenceRefusedError('not_presence_channel', channel);
  assertCanJoin(ctx.rights, channel);
  if (!(await rowExists(connectionKey(ctx.connectionId), subscriptionSortKey(channel))))
    throw new PresenceRefusedError('not_joined', channel);
  if (!(await spendPresence(ctx, channel))) return undefined;
  return membersFrame(channel, await readMembers(channel));
}
