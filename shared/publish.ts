/**
 * Publishing one message to one channel: sequence number, history, then fan-out, in that order,
 * so that a client joining with `since` (which writes its subscription row before it reads
 * history) cannot miss a message between its replay and its live deliveries.
 */
import { randomBytes } from 'node:crypto';
import { config } from './config.js';
import { GRACE_MS, UnavailableError, withGrace } from './deadline.js';
import { type FanoutReport, fanOut } from './fanout.js';
import { logger, metrics } from './observability.js';
import { messageFrameText } from './protocol.js';
import { appendHistory, markSkipped, nextSequence } from './store.js';

export interface Published extends FanoutReport {
  channel: string;
  id: string;
  seq: number;
}

/** A message id: 16 URL-safe characters, unique per published message (clients dedupe by it). */
export const newMessageId = (): string => randomBytes(12).toString('base64url');

/**
 * Writes the history row of a publish that has taken `seq`. A number without a stored message
 * must never look like a lost message to replaying clients, so:
 * - when the write fails, a tombstone is written in its place (best effort: if that fails too,
 *   a replay claims the number later, shared/replay.ts) and the publish fails before delivering;
 *   if the tombstone finds the message row, the write had gone through after all: deliver;
 * - when a replay has already claimed the number as skipped (this publish was slower than the
 *   replay's settle window), the message is not delivered at all: clients were told it does
 *   not exist.
 */
async function storeHistory(channel: string, seq: number, id: string, frame: string): Promise<void> {
  let stored: boolean;
  try {
    stored = await appendHistory(channel, seq, id, frame);
  } catch (error) {
    let tombstoned: boolean;
    try {
      // Under a fresh GRACE_MS: the write often failed because the deadline passed, and a number
      // left without row or tombstone holds replaying clients up until a replay claims it.
      tombstoned = await withGrace(GRACE_MS, () => markSkipped(channel, seq));
    } catch (tombstoneError) {
      logger.warn('tombstone for an unstored seq failed', { channel, seq, error: (tombstoneError as Error)?.name });
      throw error;
    }
    if (tombstoned) throw error;
    // The tombstone found a message row: the write went through and only its answer was lost.
    stored = true;
  }
  if (!stored) {
    // Retryable: nothing was delivered and clients were told the number holds no message, so a
    // retry (a new seq; with a backend idempotencyKey the same id) publishes it exactly once.
    logger.warn('seq was claimed as skipped before its history row was written; not delivered', { channel, seq });
    throw new UnavailableError();
  }
}

/**
 * Publishes `message` to `channel`, delivering to every subscriber but `exclude` (the sender).
 * `messageId` (default: a new random one) lets a backend retry carry the id of the first attempt.
 */
export async function publish(channel: string, message: unknown, exclude?: string, messageId?: string): Promise<Published> {
  const started = Date.now();
  const seq = await nextSequence(channel);
  const id = messageId ?? newMessageId();
  const frame = messageFrameText(channel, message, id, seq);
  if (config().historySize > 0) await storeHistory(channel, seq, id, frame);
  const report = await fanOut(channel, frame, exclude);
  metrics.addMetric('Deliveries', 'Count', report.delivered);
  metrics.addMetric('GoneConnections', 'Count', report.gone);
  metrics.addMetric('FailedDeliveries', 'Count', report.failed);
  metrics.addMetric('ThrottledPosts', 'Count', report.throttled);
  metrics.addMetric('FanoutDuration', 'Milliseconds', Date.now() - started);
  return { channel, id, seq, ...report };
}
