/**
 * One broadcast to the virtual subscribers of a local stack, measured two ways:
 * - {@link publishThroughFunction}: what production does. PublishFunction is invoked through the
 *   stack's Lambda Invoke API; it reads the subscribers, posts its own batch and hands the rest
 *   to FanoutFunction. All of that runs inside the stack's process.
 * - {@link postFromHere}: a poster (the SDK's or ours) driven by shared/delivery.ts `deliver` from
 *   this process against the stack's @connections endpoint, so `process.cpuUsage()` deltas are
 *   the CPU of that poster alone.
 *
 * Either way the stack's per-connection counters then say whether every subscriber got the
 * frame exactly once.
 */
import { type DeliveryReport, deliver } from '../../shared/delivery.js';
import type { Pacer } from '../../shared/pacer.js';
import type { Poster } from '../../shared/poster.js';
import { checkDeliveries, type DeliveryCheck, getStats, invokeFunction, type LocalStats, resetStats } from './control.js';
import { sampleThreads, summarizeSamples } from './proc.js';
import type { StackProcess } from './stack-process.js';

/** Polling period when the stack's counters are the only completion signal. */
const POLL_MS = 20;
/** Waiting for the functions' reported deliveries gives up after this long without a line (longer than a worker hop). */
const HOP_STALL_MS = 90_000;
/** Polling gives up when the delivery count has not moved for this long. */
const STALL_MS = 5_000;
/** Threads of the stack reported in a profile. */
const TOP_THREADS = 5;
/** How often the stack's threads are sampled during a broadcast (/proc reads, negligible CPU). */
const SAMPLE_MS = 100;

/** The stack's counters after a broadcast, reduced to what the tables show. */
export interface StackCounters {
  posts: number;
  delivered: number;
  /** 429s the emulated account throttle answered (each one was retried by the poster, or counted failed). */
  throttled: number;
  bufferFull: number;
  gone: number;
}

/**
 * Where the stack's CPU went during a broadcast, busiest threads first: `main` serves the
 * WebSocket, @connections and Invoke APIs; `worker +k` is the k-th thread the stack started
 * after its main one (dynalite's worker and one per function, among Node's own helper threads).
 * `busy` is the span (ms from the invoke) in which the thread used at least a fifth of a core.
 */
export interface StackProfile {
  cpuMs: number;
  threads: Array<{ thread: string; cpuMs: number; busyFromMs?: number; busyToMs?: number }>;
}

export interface PublishResult {
  lastDeliveryMs: number;
  /** How the last delivery was timed: function-end (publisher answer and worker EMF lines), stats-timestamp, stats-poll. */
  timedBy: 'function-end' | 'stats-timestamp' | 'stats-poll';
  invokeMs: number;
  response: Record<string, unknown>;
  workerBatches: number;
  /** Longest worker invocation's posting time (its FanoutBatchDuration metric), ms; 0 with no worker. */
  longestWorkerMs: number;
  check: DeliveryCheck;
  stack: StackCounters;
  profile: StackProfile;
}

export interface DirectResult {
  lastDeliveryMs: number;
  cpuMs: number;
  /** This process's CPU per delivered message (429 retries included in the cost, not the count). */
  cpuUsPerDelivery: number;
  report: DeliveryReport;
  check: DeliveryCheck;
  stack: StackCounters;
}

/** The values of one metric in an EMF line: a number, or an array when several invocations flushed together. */
export function metricValues(line: string, name: string): number[] {
  const match = new RegExp(`"${name}":(\\[[^\\]]*\\]|-?\\d+(?:\\.\\d+)?)`).exec(line);
  if (!match) return [];
  const parsed: unknown = JSON.parse(match[1]);
  return (Array.isArray(parsed) ? parsed : [parsed]).map(Number).filter(Number.isFinite);
}

const epochNow = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function counters(stats: LocalStats): StackCounters {
  const c = stats.connectionsApi;
  return { posts: c.posts, delivered: c.delivered, throttled: c.throttled, bufferFull: c.bufferFull, gone: c.gone };
}

/** Polls the stack's counters until `expected` deliveries are counted or the count stalls (no new delivery and no function running for STALL_MS); returns when the last one was seen. */
async function pollUntilDelivered(stack: StackProcess, expected: number, deadline: number): Promise<number> {
  let seen = -1;
  let movedAt = performance.now();
  let lastChange = performance.now();
  for (;;) {
    const stats = await getStats(stack.httpUrl);
    const now = performance.now();
    if (stats.virtual.deliveries !== seen) {
      seen = stats.virtual.deliveries;
      movedAt = now;
      lastChange = now;
    }
    // A function still running (a hand-off starting on a busy host) is no stall.
    if (Object.values(stats.functions).some((f) => (f.running ?? 0) > 0)) movedAt = now;
    if (seen >= expected || now - movedAt > STALL_MS || now > deadline) return lastChange;
    await sleep(POLL_MS);
  }
}

/**
 * Publishes `message` to `channel` through PublishFunction and times the last delivery. The
 * function-end signal is exact to within one response: the publisher answers after its own last
 * post, and each worker prints its EMF metrics line after its last post. Per-connection
 * counters are read once, at the end (the stats of 100k connections are megabytes of JSON:
 * polling them would load the very thread that serves the posts).
 */
export async function publishThroughFunction(
  stack: StackProcess,
  ids: readonly string[],
  event: { channel: string; message: unknown },
  timeoutMs: number,
): Promise<PublishResult> {
  const workerEnds: number[] = [];
  const workerMs: number[] = [];
  // Deliveries the functions report in their EMF lines (the publisher's and every worker
  // invocation's, hand-offs included): complete when they add up to every subscriber. Cheap to
  // follow, unlike the stack's per-connection stats (tens of MB at 1M subscribers).
  let reported = 0;
  let reportedAt = performance.now();
  const stop = stack.onLine((line, at) => {
    const worker = line.startsWith('[FanoutFunction] ');
    if (!worker && !line.startsWith('[PublishFunction] ')) return;
    // Locally one worker thread runs every concurrent invocation of a function, and Powertools'
    // metrics buffer is per module: invocations that end together (every hop of a broadcast ends
    // at its deadline) flush in one line, each metric then an array of their values.
    const deliveries = metricValues(line, 'Deliveries');
    if (deliveries.length > 0) {
      reported += deliveries.reduce((a, b) => a + b, 0);
      reportedAt = performance.now();
    }
    // One FanoutBatchDuration value per worker invocation that ended.
    if (worker)
      for (const ms of metricValues(line, 'FanoutBatchDuration')) {
        workerEnds.push(at);
        workerMs.push(ms);
      }
  });
  const cpuBefore = stack.cpuMs();
  const invocationsBefore = (await getStats(stack.httpUrl)).functions.FanoutFunction?.invocations ?? 0;
  const sampler = sampleThreads(stack.pid, SAMPLE_MS);
  try {
    const t0 = performance.now();
    const t0Epoch = epochNow();
    const outcome = await invokeFunction(stack.httpUrl, 'PublishFunction', event);
    const invokeEnd = performance.now();
    if (!outcome.ok) throw new Error(`PublishFunction failed: ${JSON.stringify(outcome.payload)}`);
    const response = outcome.payload as Record<string, unknown>;
    const dispatched = Number(response.dispatched ?? 0);
    const deadline = t0 + timeoutMs;
    while (workerEnds.length < dispatched && performance.now() < deadline) await sleep(POLL_MS);
    // Subscribers a function could not deliver in its time budget are handed to further worker
    // invocations (docs/delivery.md), which the publisher's answer does not count: wait for their
    // EMF lines to account for everyone (a hop posts for up to 60 s before its line comes).
    while (reported > 0 && reported < ids.length && performance.now() < deadline && performance.now() - reportedAt < HOP_STALL_MS)
      await sleep(POLL_MS * 10);
    if (reported === 0 && (await getStats(stack.httpUrl)).virtual.deliveries < ids.length)
      await pollUntilDelivered(stack, ids.length, deadline); // metrics disabled: the counters are all there is
    let timedBy: PublishResult['timedBy'] = 'function-end';
    let lastDeliveryMs = Math.max(invokeEnd, ...workerEnds) - t0;
    if (workerEnds.length < dispatched) {
      timedBy = 'stats-poll'; // the workers' lines never came (metrics disabled?): fall back to the counters
      lastDeliveryMs = (await pollUntilDelivered(stack, ids.length, deadline)) - t0;
    }
    const activity = summarizeSamples(sampler.stop());
    const cpuAfter = stack.cpuMs();
    const stats = await getStats(stack.httpUrl);
    const lastAt = stats.connectionsApi.lastDeliveryAt;
    if (typeof lastAt === 'number') {
      timedBy = 'stats-timestamp';
      lastDeliveryMs = lastAt - t0Epoch;
    }
    return {
      lastDeliveryMs,
      timedBy,
      invokeMs: invokeEnd - t0,
      response,
      // Counted by the local Lambda runtime: EMF lines can hold several invocations (above).
      workerBatches: (stats.functions.FanoutFunction?.invocations ?? 0) - invocationsBefore,
      longestWorkerMs: Math.max(0, ...workerMs),
      check: checkDeliveries(stats.virtual.perConnection, ids),
      stack: counters(stats),
      profile: {
        cpuMs: cpuBefore && cpuAfter ? cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system : Number.NaN,
        threads: activity
          .slice(0, TOP_THREADS)
          .map(({ tid, ...rest }) => ({ thread: tid === stack.pid ? 'main' : `worker +${tid - stack.pid}`, ...rest })),
      },
    };
  } finally {
    sampler.stop();
    stop();
  }
}

/** What {@link postFromHere} drives. */
export interface DirectOptions {
  poster: Poster;
  concurrency: number;
  pace?: Pacer;
}

/** Posts `frame` to every id from this process with shared/delivery.ts `deliver`; times it and counts this process's CPU. */
export async function postFromHere(
  stack: StackProcess,
  ids: readonly string[],
  frame: string,
  options: DirectOptions,
): Promise<DirectResult> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const report = await deliver([ids as string[]], frame, {
    poster: options.poster,
    concurrency: options.concurrency,
    pace: options.pace,
    onGone: async () => undefined, // every id is live: a gone answer is counted, never cleaned up
  });
  const lastDeliveryMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const stats = await getStats(stack.httpUrl);
  return {
    lastDeliveryMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    cpuUsPerDelivery: (cpu.user + cpu.system) / Math.max(1, report.delivered),
    report,
    check: checkDeliveries(stats.virtual.perConnection, ids),
    stack: counters(stats),
  };
}

/** Zeroes the stack's counters and waits for the emulated throttle's bucket to fill again. */
export async function freshRound(stack: StackProcess, refillMs: number): Promise<void> {
  await sleep(refillMs);
  await resetStats(stack.httpUrl);
}
