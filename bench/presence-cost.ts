/**
 * What a presence channel costs at a given churn: a pure function of the member count and the
 * membership changes per minute, priced with bench/prices.ts. docs/cost.md, "Presence", quotes it.
 *
 * Per change (a member joins, or its last connection leaves):
 * - one presence event posted to each other member: `members - 1` posts, one billed message
 *   each (an event is far below 32 KB);
 * - the change's own frames: a `joinchannel` in and its ack out, or a `leavechannel` and its
 *   `left` ack (a `$disconnect` has none: counting them keeps the figure an upper bound);
 * - writes (1 KB units; every presence row is small): a join writes its two budget counters,
 *   the channel slot and subscription, the member key on the subscription, the member slot and
 *   the member row (7); a leave deletes the subscription and frees its slot, takes the
 *   connection from the member, deletes the member row and frees its slot (5). A change is half
 *   joins, half leaves: 6 on average;
 * - reads: a join reads the connection row, the channel's sequence and its own rows twice
 *   (4 units), and every change reads the member rows once, strongly consistent: 4 KB per unit,
 *   about 40 members per unit at 100 bytes per row;
 * - one Lambda invocation.
 *
 * @example
 *   presenceCost({ members: 100, changesPerMinute: 10 }).usdPerMonth // about $46
 */
import { METERING, PRICES, type PriceBook, usdFor } from './prices.js';

export interface PresenceWorkload {
  /** Members of the channel (at most PresenceMemberLimit). */
  members: number;
  /** Joins plus leaves per minute. */
  changesPerMinute: number;
  /** Bytes of one member row as read (key, connection ids, version, info). Default 100. */
  memberRowBytes?: number;
}

export interface PresenceCost {
  postsPerMinute: number;
  /** Billed API Gateway messages, both directions. */
  messagesPerMinute: number;
  writeUnitsPerMinute: number;
  readUnitsPerMinute: number;
  invocationsPerMinute: number;
  usdPerMinute: number;
  /** 30 days. */
  usdPerMonth: number;
}

const MINUTES_PER_MONTH = 30 * 24 * 60;
/** Write units of a presence join and of a leave (the breakdown above; bench/abuse-bounds.ts prices them too). */
export const PRESENCE_JOIN_WRITES = 7;
export const PRESENCE_LEAVE_WRITES = 5;
const WRITES_PER_CHANGE = (PRESENCE_JOIN_WRITES + PRESENCE_LEAVE_WRITES) / 2;
const JOIN_POINT_READS = 4;

export function presenceCost(w: PresenceWorkload, prices: PriceBook = PRICES): PresenceCost {
  if (!(w.members >= 1) || !(w.changesPerMinute >= 0)) throw new RangeError('members must be >= 1 and changesPerMinute >= 0');
  const rowBytes = w.memberRowBytes ?? 100;
  const postsPerMinute = w.changesPerMinute * (w.members - 1);
  const messagesPerMinute = postsPerMinute + 2 * w.changesPerMinute;
  const writeUnitsPerMinute = w.changesPerMinute * WRITES_PER_CHANGE;
  const listUnits = Math.max(1, Math.ceil((w.members * rowBytes) / METERING.readUnitBytes));
  const readUnitsPerMinute = w.changesPerMinute * (listUnits + JOIN_POINT_READS / 2);
  const invocationsPerMinute = w.changesPerMinute;
  const usdPerMinute =
    usdFor(messagesPerMinute, prices.messagesFirstTier) +
    usdFor(writeUnitsPerMinute, prices.dynamoWriteUnits) +
    usdFor(readUnitsPerMinute, prices.dynamoReadUnits) +
    usdFor(invocationsPerMinute, prices.lambdaRequests);
  return {
    postsPerMinute,
    messagesPerMinute,
    writeUnitsPerMinute,
    readUnitsPerMinute,
    invocationsPerMinute,
    usdPerMinute,
    usdPerMonth: usdPerMinute * MINUTES_PER_MONTH,
  };
}
