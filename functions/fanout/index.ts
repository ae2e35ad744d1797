/**
 * FanoutFunction: the fan-out worker. A publisher async-invokes it with one batch of subscriber
 * ids (shared/distribute.ts); it posts the frame to each, paced to the batch's share of the
 * account throttle. Throwing makes Lambda retry the batch (then the dead-letter queue), so it
 * throws only when the batch itself is unusable or not what a publisher sends
 * (InvalidFanoutBatchError, nothing posted); failed posts are counted, not thrown.
 */
import { deliverBatch, type FanoutBatch, parseFanoutBatch } from '../../shared/distribute.js';
import { InvalidFanoutBatchError } from '../../shared/errors.js';
import { flushMetrics, logger, metrics } from '../../shared/observability.js';

export async function handler(event: FanoutBatch): Promise<{ delivered: number; gone: number; failed: number }> {
  let batch: FanoutBatch;
  try {
    // The event is checked against what a publisher sends: the worker can be invoked by anyone IAM lets.
    batch = parseFanoutBatch(event);
  } catch (error) {
    // Never the frame or the ids: the reason is enough, and the event is in the dead-letter queue.
    if (error instanceof InvalidFanoutBatchError) logger.warn('fan-out batch refused', { reason: error.code, detail: error.message });
    throw error;
  }
  const started = Date.now();
  try {
    const report = await deliverBatch(batch);
    metrics.addMetric('Deliveries', 'Count', report.delivered);
    metrics.addMetric('GoneConnections', 'Count', report.gone);
    metrics.addMetric('FailedDeliveries', 'Count', report.failed);
    metrics.addMetric('ThrottledPosts', 'Count', report.throttled);
    metrics.addMetric('FanoutBatchDuration', 'Milliseconds', Date.now() - started);
    logger.info('batch delivered', { channel: batch.channel, size: batch.ids.length, ...report });
    return { delivered: report.delivered, gone: report.gone, failed: report.failed };
  } finally {
    flushMetrics();
  }
}
