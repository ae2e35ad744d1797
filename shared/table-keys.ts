/**
 * The single-table key layout. Pure: no AWS client.
 *
 * | row                 | pk                 | sk                 | other                      |
 * | ------------------- | ------------------ | ------------------ | -------------------------- |
 * | connection          | `c#<connectionId>` | `c`                | n (channels), budgets, ttl |
 * | subscription        | `c#<connectionId>` | `m#<channel>`      | gpk `<channel>#<shard>`, ttl |
 * | principal budget    | `p#<principal key>`| `<kind>#<window>`  | n (count), ttl             |
 * | channel sequence    | `s#<channel>`      | `s`                | seq, at (ms it was taken)  |
 * | history entry       | `h#<channel>`      | `<seq, 16 digits>` | id, frame (text), ttl      |
 * | history tombstone   | `h#<channel>`      | `<seq, 16 digits>` | skipped (true), ttl        |
 *
 * All of a connection's rows share its partition key, so `$disconnect` finds them with one
 * Query. The connection row exists from `$connect` until `$disconnect` (or a 410) deletes it;
 * every later write of the connection is conditional on it (shared/connection-store.ts), which
 * is what makes the channel cap atomic and keeps late writes from outliving the connection. The sparse GSI `byChannel` (gpk, pk) lists a channel's subscribers; a channel's rows
 * are spread over `ChannelShards` partition keys so that 100k subscribers of one channel do not
 * sit on one partition (1,000 WCU / 3,000 RCU each). `#` cannot occur in a channel name.
 * A tombstone marks a `seq` that was taken but holds no message (shared/replay.ts).
 */

export const connectionKey = (connectionId: string): string => `c#${connectionId}`;
export const connectionIdFromKey = (pk: string): string => pk.slice(2);
export const subscriptionSortKey = (channel: string): string => `m#${channel}`;
export const SUBSCRIPTION_PREFIX = 'm#';
export const CONNECTION_SORT_KEY = 'c';
/** A principal's budget counters: `sub#<sub>` (AuthMode=jwt) or `ip#<source ip>` (AuthMode=none). */
export const principalBudgetKey = (principal: string): string => `p#${principal}`;
export const principalBudgetSortKey = (kind: string, window: number): string => `${kind}#${window}`;
export const sequenceKey = (channel: string): { pk: string; sk: string } => ({ pk: `s#${channel}`, sk: 's' });
export const historyKey = (channel: string): string => `h#${channel}`;
export const historySortKey = (seq: number): string => String(seq).padStart(16, '0');

/** FNV-1a: a stable, well-spread hash of a connection id (no crypto needed for sharding). */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export const shardOf = (connectionId: string, shards: number): number => fnv1a(connectionId) % shards;
export const channelShardKey = (channel: string, shard: number): string => `${channel}#${shard}`;

/** Expiry (epoch seconds) for a connection's rows: connect time + API Gateway's cap + margin. */
export function connectionTtl(connectedAtMs: number, maxSeconds: number, marginSeconds: number): number {
  return Math.floor(connectedAtMs / 1000) + maxSeconds + marginSeconds;
}
