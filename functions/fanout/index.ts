/**
 * FanoutFunction: the fan-out worker. A publisher async-invokes it with one batch of subscriber
 * ids (shared/fanout.ts); it posts the frame to each, paced to the batch's share of the
 * account throttle, until its time budget (the invocation's remaining time minus
 * WORKER_RESERVE_MS, at most WORKER_HOP_BUDGET_MS) runs out. The ids it could not deliver are
 * handed, exactly those, to a fresh invocation (shared/fanout.ts `handOn`; those it never got to
 * post keep their hop, the others count one more): it never fails
 * a batch to have Lambda retry it from the start, which would re-post to the delivered ones.
 *
 * It throws only for an event it must not post (InvalidFanoutBatchError, nothing posted), for
 * the last hop's `undelivered` event (so that Lambda's on-failure destination keeps exactly
 * those ids in the dead-letter queue), and when a remainder could not be handed on (then a
 * Lambda retry, with duplicates clients drop by message id, is better than a silent loss).
 */
import type { Context } from 'aws-lambda';
import { ANSWER_RESERVE_MS, withDeadline } from '../../shared/deadline.js';
import { FanoutError, InvalidFanoutBatchError } from '../../shared/errors.js';
import { deliverBatch, type FanoutBatch, handOn, parseFanoutBatch, progressed } from '../../shared/fanout.js';
import { WORKER_HOP_BUDGET_MS, WORKER_RESERVE_MS } from '../../shared/limits.js';
import { flushMetrics, logger, metrics } from '../../shared/observability.js';

export interface WorkerResult {
  delivered: number;
  gone: number;
  /** Ids not delivered by this invocation, handed to the next hop (or, after the last, to the dead-letter queue). */
  failed: number;
}

/** Epoch ms until which this invocation may post: its remaining time less the reserve, capped per hop. */
export function workerDeadline(context: Pick<Context, 'getRemainingTimeInMillis'> | undefined, now = Date.now()): number {
  const remaining = context?.getRemainingTimeInMillis?.() ?? WORKER_HOP_BUDGET_MS + WORKER_RESERVE_MS;
  return now + Math.max(0, Math.min(WORKER_HOP_BUDGET_MS, remaining - WORKER_RESERVE_MS));
}

export async function handler(event: FanoutBatch, context?: Context): Promise<WorkerResult> {
  let batch: FanoutBatch;
  try {
    // The event is checked against what a publisher sends: the worker can be invoked by anyone IAM lets.
    batch = parseFanoutBatch(event);
  } catch (error) {
    // Never the frame or the ids: the reason is enough, and the event is in the dead-letter queue.
    if (error instanceof InvalidFanoutBatchError) logger.warn('fan-out batch refused', { reason: error.code, detail: error.message });
    throw error;
  }
  if (batch.undelivered) {
    // Counted (UndeliveredPosts) by the hop that gave up; throwing is what puts this event, holding
    // exactly the undelivered ids, in the dead-letter queue.
    logger.warn('undelivered posts for the dead-letter queue', { channel: batch.channel, count: batch.ids.length });
    throw new FanoutError(`${batch.ids.length} posts of ${batch.channel} undelivered after ${batch.hop} hand-offs`);
  }
  const started = Date.now();
  // Every DynamoDB and Lambda call of this invocation (410 checks, hand-offs, cleanup) ends
  // ANSWER_RESERVE_MS before Lambda's Timeout, so the worker still returns or throws itself.
  const remaining = context?.getRemainingTimeInMillis?.() ?? WORKER_HOP_BUDGET_MS + WORKER_RESERVE_MS;
  return withDeadline(started + Math.max(0, remaining - ANSWER_RESERVE_MS), () => deliver(batch, context, started));
}

async function deliver(batch: FanoutBatch, context: Context | undefined, started: number): Promise<WorkerResult> {
  try {
    const outcome = await deliverBatch(batch, { deadline: workerDeadline(context, started) });
    const { report, remainder } = outcome;
    metrics.addMetric('Deliveries', 'Count', report.delivered);
    metrics.addMetric('GoneConnections', 'Count', report.gone);
    metrics.addMetric('ThrottledPosts', 'Count', report.throttled);
    metrics.addMetric('FanoutBatchDuration', 'Milliseconds', Date.now() - started);
    logger.info('batch delivered', { channel: batch.channel, size: batch.ids.length, hop: batch.hop, ...report });
    // Ids it never reached go on at this hop if it posted at all: time running out is not a retry
    // (a million-subscriber broadcast needs two 60 s hops per batch), but a hop with no progress counts.
    if (remainder.length > 0 && (await handOn(batch, remainder, progressed(outcome) ? outcome.untried : [])) === 'lost') {
      metrics.addMetric('FailedDeliveries', 'Count', remainder.length);
      throw new FanoutError(`${remainder.length} posts of ${batch.channel} could not be handed on`);
    }
    return { delivered: report.delivered, gone: report.gone, failed: remainder.length };
  } finally {
    flushMetrics();
  }
}
