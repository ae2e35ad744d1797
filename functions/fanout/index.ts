/**
 * FanoutFunction: the fan-out worker. A publisher async-invokes it with one batch of subscriber
 * ids (shared/distribute.ts); it posts the frame to each, paced to the batch's share of the
 * account throttle. Throwing makes Lambda retry the batch (then the dead-letter queue), so it
 * throws only when the batch itself is unusable; failed posts are counted, not thrown.
 */
import { deliverBatch, type FanoutBatch } from '../../shared/distribute.js';
import { flushMetrics, logger, metrics } from '../../shared/observability.js';

export async function handler(batch: FanoutBatch): Promise<{ delivered: number; gone: number; failed: number }> {
  if (!batch || typeof batch.frame !== 'string' || !Array.isArray(batch.ids)) throw new Error('not a fan-out batch');
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
