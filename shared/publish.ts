/**
 * Publishing one message to one channel: sequence number, history, then fan-out, in that order,
 * so that a client joining with `since` (which writes its subscription row before it reads
 * history) cannot miss a message between its replay and its live deliveries.
 */
import { randomBytes } from 'node:crypto';
import { config } from './config.js';
import { type FanoutReport, fanOut } from './distribute.js';
import { metrics } from './observability.js';
import { messageFrameText } from './protocol.js';
import { appendHistory, nextSequence } from './store.js';

export interface Published extends FanoutReport {
  channel: string;
  id: string;
  seq: number;
}

/** A message id: 16 URL-safe characters, unique per published message (clients dedupe by it). */
export const newMessageId = (): string => randomBytes(12).toString('base64url');

/**
 * Publishes `message` to `channel`, delivering to every subscriber but `exclude` (the sender).
 * `messageId` (default: a new random one) lets a backend retry carry the id of the first attempt.
 */
export async function publish(channel: string, message: unknown, exclude?: string, messageId?: string): Promise<Published> {
  const started = Date.now();
  const seq = await nextSequence(channel);
  const id = messageId ?? newMessageId();
  const frame = messageFrameText(channel, message, id, seq);
  if (config().historySize > 0) await appendHistory(channel, seq, frame);
  const report = await fanOut(channel, frame, exclude);
  metrics.addMetric('Deliveries', 'Count', report.delivered);
  metrics.addMetric('GoneConnections', 'Count', report.gone);
  metrics.addMetric('FailedDeliveries', 'Count', report.failed);
  metrics.addMetric('ThrottledPosts', 'Count', report.throttled);
  metrics.addMetric('FanoutDuration', 'Milliseconds', Date.now() - started);
  return { channel, id, seq, ...report };
}
