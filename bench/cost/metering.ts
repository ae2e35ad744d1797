/**
 * How each service meters one request or one month: API Gateway messages and their tiers,
 * connection-minutes, DynamoDB read and write units, heartbeats, sampled X-Ray traces.
 * Pure functions of quantities; the units are bench/prices.ts's METERING.
 */
import { METERING, PRICES, type PriceBook, usdFor } from '../prices.js';
import { SUBSCRIBER_ROW_BYTES, XRAY_FIXED_RATE, XRAY_RESERVOIR_PER_SECOND } from './assumptions.js';
import type { CostInputs } from './inputs.js';

/**
 * API Gateway messages a frame of `bytes` is billed as: one per started 32 KB, at least one.
 * @example messageUnits(33 * 1024) // 2
 */
export function messageUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / METERING.messageUnitBytes));
}

/** Dollars for `units` messages in a month: the first billion at one rate, the rest at the lower. */
export function messageCost(units: number, prices: PriceBook = PRICES): number {
  const first = Math.min(units, prices.messageTierUnits);
  const above = Math.max(0, units - prices.messageTierUnits);
  return usdFor(first, prices.messagesFirstTier) + usdFor(above, prices.messagesAboveTier);
}

export function connectionMinutes(connections: number, hoursPerDay: number, days: number): number {
  return connections * hoursPerDay * 60 * days;
}

/** DynamoDB write units for one item write (per table or per index it lands in). */
export function writeUnits(itemBytes: number): number {
  return Math.max(1, Math.ceil(itemBytes / METERING.writeUnitBytes));
}

/**
 * Read units of a paginated Query or Scan over `items` of `itemBytes`: each page (≤ 1 MB) is
 * rounded up to 4 KB on its own; eventually consistent reads (GSI reads always are) cost half.
 */
export function pagedReadUnits(items: number, itemBytes: number, consistent = false): number {
  const factor = consistent ? 1 : 0.5;
  const bytes = items * itemBytes;
  if (bytes === 0) return factor; // an empty Query still costs its minimum
  const fullPages = Math.floor(bytes / METERING.pageBytes);
  const rest = bytes - fullPages * METERING.pageBytes;
  const units =
    fullPages * Math.ceil(METERING.pageBytes / METERING.readUnitBytes) + (rest > 0 ? Math.ceil(rest / METERING.readUnitBytes) : 0);
  return units * factor;
}

/** Read units to list a channel's subscribers: one paged Query per shard of the sparse GSI. */
export function fanoutReadUnits(subscribers: number, shards: number, rowBytes = SUBSCRIBER_ROW_BYTES): number {
  return shards * pagedReadUnits(Math.ceil(subscribers / shards), rowBytes);
}

/** Pings one connection sends per minute, given the frames it receives per minute. */
export function heartbeatsPerMinute(heartbeat: CostInputs['heartbeat'], framesPerMinute: number): number {
  if (heartbeat.mode === 'fixed') return 1 / heartbeat.minutes;
  if (framesPerMinute <= 0) return 1 / heartbeat.minutes;
  // A ping goes out only after `minutes` of silence; each frame restarts the clock.
  const gap = 1 / framesPerMinute;
  return framesPerMinute * Math.max(0, Math.ceil(gap / heartbeat.minutes) - 1);
}

/**
 * Traces X-Ray records for one function invoked `invocations` times over `seconds`: Lambda
 * samples each function on its own, with X-Ray's default rule.
 */
export function tracesRecorded(invocations: number, seconds: number): number {
  const reservoir = Math.min(invocations, XRAY_RESERVOIR_PER_SECOND * seconds);
  return reservoir + (invocations - reservoir) * XRAY_FIXED_RATE;
}
