/**
 * How long a broadcast's posting runs and how many functions bill for it: this design's
 * (publisher plus paced workers, sized as shared/fanout.ts sizes them) and the starting
 * design's (one function, SDK sockets).
 */
import { concurrencyFor } from '../../shared/fanout.js';
import { SDK_MAX_SOCKETS } from '../lib/aws-defaults.js';
import { LAMBDA_MB_PER_VCPU } from './assumptions.js';
import type { CostInputs } from './inputs.js';
import { publisherMemory, recipients } from './workload.js';

export interface FanoutPlan {
  /** Functions posting one broadcast: the publisher keeps the first batch, workers take the rest. */
  functions: number;
  /** Posts per second each sustains: the smallest of its rate share, CPU and in-flight bounds. */
  postsPerSecondEach: number;
  /** Seconds to the last delivery (workers beyond the reserved concurrency wait for a turn). */
  wallSeconds: number;
  /** Seconds each function posts for: the publisher's share, and each worker's. */
  eachSeconds: number;
  /** Lambda seconds billed for posting, all functions together (they bill waiting time too). */
  billedSeconds: number;
}

/**
 * How long a broadcast's posting runs. Each of its batches gets a share of the rate and burst in
 * proportion to its size, so all finish together. Lambda bills wall time, not CPU: a worker
 * paced to its share is billed while it waits, so N batches cost about N times the broadcast.
 */
export function fanoutPlan(
  recipients: number,
  o: {
    batchSize: number;
    rate: number;
    burst: number;
    cpuUsPerPost: number;
    memoryMb: number;
    concurrency: number;
    latencyMs: number;
    /** Workers that may run at once (0 = unbounded). */
    workers?: number;
  },
): FanoutPlan {
  const functions = recipients <= o.batchSize ? 1 : Math.ceil(recipients / o.batchSize);
  const posts = recipients / functions;
  const rateShare = o.rate / functions;
  // The same sizing the code uses (shared/fanout.ts), not a copy of it.
  const concurrency = o.concurrency > 0 ? o.concurrency : concurrencyFor(rateShare);
  const cpuBound = Math.min(1, o.memoryMb / LAMBDA_MB_PER_VCPU) / (o.cpuUsPerPost / 1e6);
  const inFlightBound = concurrency / (o.latencyMs / 1000);
  const postsPerSecondEach = Math.min(rateShare, cpuBound, inFlightBound);
  // The burst share goes out at once (if CPU and sockets allow); the rest waits for the pacer.
  const paced = Math.max(0, posts - o.burst / functions) / rateShare;
  const each = recipients > 0 ? Math.max(paced, posts / cpuBound, posts / inFlightBound) + o.latencyMs / 1000 : 0;
  // Each batch is paced to its share whether or not the others run beside it, so a batch that
  // waits for a reserved slot bills the same seconds and only ends later.
  const waves = o.workers && o.workers > 0 ? Math.ceil((functions - 1) / o.workers) : 1;
  return { functions, postsPerSecondEach, eachSeconds: each, wallSeconds: each * Math.max(1, waves), billedSeconds: functions * each };
}

/**
 * The broadcast's posting. The plan is sized on the slower of the two memory sizes (every batch
 * is paced to the same share of the rate, so the CPU bound of the smaller one decides when all
 * finish).
 */
export function designFanout(i: CostInputs): FanoutPlan {
  const workers = recipients(i) > i.fanoutBatchSize;
  return fanoutPlan(recipients(i), {
    batchSize: i.fanoutBatchSize,
    rate: i.postRate,
    burst: i.postBurst,
    cpuUsPerPost: i.cpuUsPerPost,
    memoryMb: workers ? Math.min(publisherMemory(i), i.workerMemoryMb) : publisherMemory(i),
    concurrency: i.postConcurrency,
    latencyMs: i.postLatencyMs,
    workers: i.fanoutConcurrency,
  });
}

export function startingFanout(i: CostInputs): FanoutPlan {
  // One function, no pacing (it met the throttle as 429s), the SDK's default sockets as the in-flight bound.
  return fanoutPlan(i.connections, {
    batchSize: Number.POSITIVE_INFINITY,
    rate: Number.POSITIVE_INFINITY,
    burst: 0,
    cpuUsPerPost: i.startingCpuUsPerPost,
    memoryMb: i.startingMemoryMb,
    concurrency: SDK_MAX_SOCKETS,
    latencyMs: i.postLatencyMs,
  });
}

/** Whether the configured post rate can carry the workload's broadcasts, one after another. */
export interface ThroughputCheck {
  /** Posts a minute the workload asks for: recipients x frames a minute. */
  postsPerMinute: number;
  /** Posts a minute PostRateLimit allows (the account throttle less the headroom the template leaves). */
  allowedPerMinute: number;
  /** Seconds between two broadcasts, and seconds one takes to post (this design's plan). */
  intervalSeconds: number;
  broadcastSeconds: number;
  /** False when a broadcast takes longer than the gap to the next: they would pile up and meet the throttle as 429s. */
  keepsUp: boolean;
  /** Post rate (posts/s) the workload needs, for a quota increase or a split across accounts or Regions. */
  neededRatePerSecond: number;
}

/**
 * Every broadcast is paced to the whole PostRateLimit, so two that overlap ask for twice the
 * account's rate: the excess comes back as 429s and is retried within each broadcast's hops. A
 * workload keeps up only if a broadcast ends before the next starts. At the default 9,500/s that
 * is 570,000 posts a minute: a channel of 1M subscribers gets at most one message every ~105 s.
 */
export function throughputCheck(i: CostInputs, plan: FanoutPlan = designFanout(i)): ThroughputCheck {
  const frames = i.messagesPerMinute / i.batch;
  const postsPerMinute = recipients(i) * frames;
  const intervalSeconds = frames > 0 ? 60 / frames : Number.POSITIVE_INFINITY;
  return {
    postsPerMinute,
    allowedPerMinute: i.postRate * 60,
    intervalSeconds,
    broadcastSeconds: plan.wallSeconds,
    keepsUp: postsPerMinute <= i.postRate * 60 && plan.wallSeconds <= intervalSeconds,
    neededRatePerSecond: postsPerMinute / 60,
  };
}
