/**
 * The monthly bill of an airwave stack, as pure functions: workload in, usage and dollars out.
 * No clock, no AWS client: `npm run cost` (bench/cost.ts) prints what this computes, and
 * docs/cost.md explains every assumption. Prices come only from bench/prices.ts; what the stack
 * deploys (memory sizes, batch size, post rate and burst, log levels, tracing, history, shards,
 * the fan-out worker's reserved concurrency) only from template.yaml, read once at import
 * (bench/lib/template-figures.ts); what the code does (posts in flight, the client's roll-over
 * and heartbeat) from the code itself.
 *
 * Three bills are computed for the same workload:
 * - **this design**: what the template deploys (sharded KEYS-only-ish GSI reads, fast poster,
 *   distributed fan-out, history, authorizer, reconnects forced by API Gateway's 2 h cap);
 * - **the floor**: what API Gateway alone charges whatever the backend does (connection-minutes,
 *   one outbound message per delivery, the inbound publish);
 * - **the starting design**: a Scan of the whole table per broadcast and the SDK's
 *   PostToConnectionCommand from one function.
 */
import { HEARTBEAT_IDLE_MS, ROLLOVER_AFTER_MS } from '../client/src/defaults.js';
import { concurrencyFor } from '../shared/fanout.js';
import {
  API_GATEWAY_MESSAGE_BYTES,
  CONNECTION_MAX_SECONDS,
  IDLE_TIMEOUT_SECONDS,
  INLINE_DELIVERY_BUDGET_MS,
  WORKER_HOP_BUDGET_MS,
  WORKER_RESERVE_MS,
} from '../shared/limits.js';
import { levelOf, numericDefault, type TemplateFigures, templateFigures } from './lib/template-figures.js';
import { METERING, PRICES, type PriceBook } from './prices.js';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
const LOG_LEVELS: LogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

/** What the stack is asked to do in a month (defaults: `DEFAULT_INPUTS`, flags: bench/cost.ts). */
export interface CostInputs {
  /** Concurrent connections, all members of the one broadcast channel. */
  connections: number;
  /** Messages published per minute, each delivered to every connection; `bytes` of payload each. */
  messagesPerMinute: number;
  bytes: number;
  /** Hours a day connections are held (and messages flow), over `days`. */
  hoursPerDay: number;
  days: number;
  /** Messages packed into one frame by a publisher that opts in (1 = each its own frame). */
  batch: number;
  /** `idle`: a client pings only after `minutes` without a frame; `fixed`: every `minutes`. */
  heartbeat: { mode: 'idle' | 'fixed'; minutes: number };
  /** `client`: a sendmessage frame; `server`: PublishFunction through the Lambda Invoke API. */
  publisher: 'client' | 'server';
  history: boolean;
  /** The functions' application log level (LoggingConfig.ApplicationLogLevel, the LogLevel parameter). */
  logLevel: LogLevel;
  /** Lambda's own START/END/REPORT lines are INFO: they are written only at INFO or DEBUG (LoggingConfig.SystemLogLevel). */
  systemLogLevel: LogLevel;
  logLineBytes: number;
  /** X-Ray active tracing (the template's EnableTracing, off by default). */
  tracing: boolean;
  /** CPU µs per @connections post on the fast poster. */
  cpuUsPerPost: number;
  /** Memory of the publishing function (0 = as the template deploys SendMessageFunction or PublishFunction). */
  publisherMemoryMb: number;
  /** Memory of the fan-out worker (FanoutFunction). */
  workerMemoryMb: number;
  /** The fan-out worker's Timeout: a worker posts for at most this less WORKER_RESERVE_MS (and WORKER_HOP_BUDGET_MS), then hands on. */
  workerTimeoutSeconds: number;
  /** Fan-out workers running at once (FanoutConcurrency; 0 = no reservation): further batches wait their turn. */
  fanoutConcurrency: number;
  /** Subscribers posted inline by the publishing function; beyond, batches of this size go to workers. */
  fanoutBatchSize: number;
  /** Posts per second one broadcast may use and posts it may send at once (PostRateLimit, PostBurstLimit), shared by its batches. */
  postRate: number;
  postBurst: number;
  /** Posts in flight per function (0 = as shared/fanout.ts: 5 % of its rate share, 16-256), and one post's latency. */
  postConcurrency: number;
  postLatencyMs: number;
  channelShards: number;
  /**
   * Minutes a connection lives before the client replaces it: API Gateway cuts it at 120, and
   * client/src/defaults.ts rolls over at 115 (ROLLOVER_AFTER_MS).
   */
  sessionMinutes: number;
  /**
   * joinchannel frames per session. 0 when every connection is in DefaultChannel (joined by
   * $connect); the client re-joins *named* channels by frames after its first connect.
   */
  joinsPerSession: number;
  channelsPerConnection: number;
  /** CPU µs per post on the starting design's SDK path (issue 5 measured 600-855 µs). */
  startingCpuUsPerPost: number;
  /** Memory of the starting design's one publishing function (an assumption: docs/cost.md). */
  startingMemoryMb: number;
}

/** Function memory sizes the model prices, by logical id, from the template. */
export interface HandlerMemory {
  ConnectFunction: number;
  AuthorizerFunction: number;
  DisconnectFunction: number;
  JoinChannelFunction: number;
  PingFunction: number;
  SendMessageFunction: number;
  PublishFunction: number;
  FanoutFunction: number;
}

const asLevel = (value: string | undefined, what: string): LogLevel => {
  if (!LOG_LEVELS.includes(value as LogLevel)) throw new Error(`template.yaml: ${what} is ${value}, not one of ${LOG_LEVELS.join(', ')}`);
  return value as LogLevel;
};

/** What the template deploys, as model inputs and memory sizes. */
export function templateInputs(figures: TemplateFigures = templateFigures()): { inputs: Partial<CostInputs>; memory: HandlerMemory } {
  const fn = (id: keyof HandlerMemory) => {
    const f = figures.functions[id];
    if (f === undefined) throw new Error(`template.yaml has no ${id}`);
    return f;
  };
  const ids: (keyof HandlerMemory)[] = [
    'ConnectFunction',
    'AuthorizerFunction',
    'DisconnectFunction',
    'JoinChannelFunction',
    'PingFunction',
    'SendMessageFunction',
    'PublishFunction',
    'FanoutFunction',
  ];
  const memory = Object.fromEntries(ids.map((id) => [id, fn(id).memoryMb])) as unknown as HandlerMemory;
  // Every function shares Globals' LoggingConfig; the publisher's stands for all.
  const publisher = fn('SendMessageFunction');
  const worker = fn('FanoutFunction');
  return {
    memory,
    inputs: {
      logLevel: asLevel(levelOf(figures, publisher.applicationLogLevel) ?? String(figures.defaults.LogLevel), 'ApplicationLogLevel'),
      // Without LoggingConfig, Lambda writes its platform lines (INFO) whatever the application level.
      systemLogLevel: asLevel(levelOf(figures, publisher.systemLogLevel) ?? 'INFO', 'SystemLogLevel'),
      tracing: String(figures.defaults.EnableTracing) === 'true',
      history: numericDefault(figures, 'HistorySize') > 0,
      workerMemoryMb: worker.memoryMb,
      workerTimeoutSeconds: worker.timeoutSeconds,
      fanoutBatchSize: numericDefault(figures, 'FanoutBatchSize'),
      fanoutConcurrency: worker.reservedConcurrencyParameter ? numericDefault(figures, worker.reservedConcurrencyParameter) : 0,
      postRate: numericDefault(figures, 'PostRateLimit'),
      postBurst: numericDefault(figures, 'PostBurstLimit'),
      channelShards: numericDefault(figures, 'ChannelShards'),
    },
  };
}

const TEMPLATE_FIGURES = templateFigures();
const TEMPLATE = templateInputs(TEMPLATE_FIGURES);
/** Memory of each priced function as template.yaml deploys it. */
export const TEMPLATE_MEMORY: HandlerMemory = TEMPLATE.memory;

/** The workload and the estimates are the model's; every deployed figure is the template's. */
export const DEFAULT_INPUTS: CostInputs = {
  connections: 20_000,
  messagesPerMinute: 1,
  bytes: 2048,
  hoursPerDay: 24,
  days: 30,
  batch: 1,
  heartbeat: { mode: 'idle', minutes: HEARTBEAT_IDLE_MS / 60_000 },
  publisher: 'client',
  history: true,
  logLevel: 'WARN',
  systemLogLevel: 'WARN',
  logLineBytes: 300,
  tracing: false,
  cpuUsPerPost: 60,
  publisherMemoryMb: 0,
  workerMemoryMb: 1024,
  workerTimeoutSeconds: 90,
  fanoutConcurrency: 0,
  fanoutBatchSize: 20_000,
  postRate: 9500,
  postBurst: 4750,
  postConcurrency: 0,
  postLatencyMs: 15,
  channelShards: 8,
  sessionMinutes: ROLLOVER_AFTER_MS / 60_000,
  joinsPerSession: 0,
  channelsPerConnection: 1,
  startingCpuUsPerPost: 800,
  startingMemoryMb: 1024,
  ...TEMPLATE.inputs,
};

// Estimates (not measurements) of sizes and warm durations; docs/cost.md lists them.
/** `{"type":"message","channel":..,"id":..,"seq":..}` around each payload. */
const ENVELOPE_BYTES = 100;
/** `{"action":"sendmessage","channel":..}` around a published payload. */
const PUBLISH_WRAPPER_BYTES = 50;
/** A subscription as the fan-out Query reads it from the GSI: gpk, pk, sk, ttl. */
const SUBSCRIBER_ROW_BYTES = 60;
/** The starting design's connection item, as a Scan reads it. */
const STARTING_ITEM_BYTES = 100;
/** A history row's key and ttl beside its frame. */
const HISTORY_ROW_OVERHEAD_BYTES = 60;
/** Lambda allots one vCPU at 1,769 MB, and CPU in proportion to memory below it. */
const LAMBDA_MB_PER_VCPU = 1769;
/** SDK v3's NodeHttpHandler keeps at most 50 sockets: the starting design's posts in flight. */
const SDK_MAX_SOCKETS = 50;
/** One 1 MB Query page read by the publisher (shards are read in parallel). */
const PAGE_READ_MS = 40;
/** The publisher's async invokes of its workers, issued in parallel. */
const INVOKE_MS = 15;
/** One write unit each: the connection row (under 1 KB with its budget attributes) and a principal's counter row. */
const CONNECTION_ROW_WRITES = 1;
const CONNECTION_BUDGET_WRITES = 1;
const PRINCIPAL_BUDGET_WRITES = 1;
/** Publishing function before its fan-out: budget, sequence and history writes. */
const PUBLISH_OVERHEAD_MS = 30;
/** Warm durations (estimates); memory sizes are the template's. */
const HANDLERS = {
  connect: { memoryMb: TEMPLATE_MEMORY.ConnectFunction, ms: 20 },
  authorizer: { memoryMb: TEMPLATE_MEMORY.AuthorizerFunction, ms: 10 },
  disconnect: { memoryMb: TEMPLATE_MEMORY.DisconnectFunction, ms: 30 },
  joinchannel: { memoryMb: TEMPLATE_MEMORY.JoinChannelFunction, ms: 30 },
  ping: { memoryMb: TEMPLATE_MEMORY.PingFunction, ms: 2 },
} as const;
/** Lambda's START, END and REPORT lines (INFO-level platform logs). */
const PLATFORM_LINES = 3;
const APP_LINES: Record<LogLevel, number> = { DEBUG: 3, INFO: 1, WARN: 0, ERROR: 0 };
/** Whether a line at `line` is written at the configured `level`. */
const writes = (level: LogLevel, line: LogLevel): boolean => LOG_LEVELS.indexOf(line) >= LOG_LEVELS.indexOf(level);
/** One EMF metrics document (fan-out counts), written at every log level. */
const EMF_LINE_BYTES = 700;
/** X-Ray's default sampling rule: the first request each second, then 5 % of the rest. */
const XRAY_RESERVOIR_PER_SECOND = 1;
const XRAY_FIXED_RATE = 0.05;

// ------------------------------------------------------------------ metering

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
  return (
    (first * prices.messagesFirstTier.usd) / prices.messagesFirstTier.per +
    (above * prices.messagesAboveTier.usd) / prices.messagesAboveTier.per
  );
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

// ------------------------------------------------------------------ usage

/** Metered quantities for a month. */
export interface Usage {
  connectionMinutes: number;
  /** API Gateway messages in 32 KB units, both directions. */
  messages: number;
  lambdaRequests: number;
  lambdaGbSeconds: number;
  writeUnits: number;
  readUnits: number;
  logBytes: number;
  /** X-Ray traces recorded (after sampling). */
  traces: number;
}

export const emptyUsage = (): Usage => ({
  connectionMinutes: 0,
  messages: 0,
  lambdaRequests: 0,
  lambdaGbSeconds: 0,
  writeUnits: 0,
  readUnits: 0,
  logBytes: 0,
  traces: 0,
});

function scaled(u: Partial<Usage>, times: number): Usage {
  const out = emptyUsage();
  for (const key of Object.keys(out) as (keyof Usage)[]) out[key] = (u[key] ?? 0) * times;
  return out;
}

/** Lambda usage of `count` invocations of `ms` at `memoryMb` (billed per ms, rounded up). */
function invocations(count: number, { memoryMb, ms }: { memoryMb: number; ms: number }, i: CostInputs, emf = false): Partial<Usage> {
  // Lambda's own START/END/REPORT lines are INFO: LoggingConfig.SystemLogLevel WARN drops them.
  const platform = writes(i.systemLogLevel, 'INFO') ? PLATFORM_LINES : 0;
  const lines = platform + APP_LINES[i.logLevel];
  return {
    lambdaRequests: count,
    lambdaGbSeconds: (count * (memoryMb / 1024) * Math.ceil(ms)) / 1000,
    logBytes: count * (lines * i.logLineBytes + (emf ? EMF_LINE_BYTES : 0)),
  };
}

const sum = (...parts: Partial<Usage>[]): Usage =>
  parts.reduce<Usage>((acc, p) => {
    for (const key of Object.keys(acc) as (keyof Usage)[]) acc[key] += p[key] ?? 0;
    return acc;
  }, emptyUsage());

/** One cause of cost (holding connections, broadcasts, reconnects, heartbeats) and its usage. */
export interface Activity {
  name: string;
  usage: Usage;
}

/** Minutes a month during which connections are held and messages flow. */
export const activeMinutes = (i: CostInputs): number => i.hoursPerDay * 60 * i.days;
const framesPerMinute = (i: CostInputs): number => i.messagesPerMinute / i.batch;
const frameBytes = (i: CostInputs): number => i.batch * (i.bytes + ENVELOPE_BYTES);
const recipients = (i: CostInputs): number => Math.max(0, i.connections - (i.publisher === 'client' ? 1 : 0));
/** Connection sessions a month: held all day, they roll over without a break; else each day starts afresh. */
const sessionsPerMonth = (i: CostInputs): number =>
  i.connections * i.days * (i.hoursPerDay >= 24 ? (24 * 60) / i.sessionMinutes : Math.ceil((i.hoursPerDay * 60) / i.sessionMinutes));

/** Seconds one worker invocation posts before it hands on: its hop budget, within its Timeout. */
export const hopSeconds = (i: CostInputs): number =>
  Math.min(WORKER_HOP_BUDGET_MS, i.workerTimeoutSeconds * 1000 - WORKER_RESERVE_MS) / 1000;

/** Memory of the publishing function: the input, or the template's for the function that publishes. */
export const publisherMemory = (i: CostInputs): number =>
  i.publisherMemoryMb > 0
    ? i.publisherMemoryMb
    : i.publisher === 'client'
      ? TEMPLATE_MEMORY.SendMessageFunction
      : TEMPLATE_MEMORY.PublishFunction;

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
  // One function, no pacing (it met the throttle as 429s), SDK sockets as the in-flight bound.
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

const holding = (i: CostInputs): Usage => sum({ connectionMinutes: connectionMinutes(i.connections, i.hoursPerDay, i.days) });

/** X-Ray traces of functions invoked `monthly[k]` times a month each (workers join their publisher's trace). */
const traced = (i: CostInputs, ...monthly: number[]): Partial<Usage> => ({
  traces: i.tracing ? monthly.reduce((acc, n) => acc + tracesRecorded(n, activeMinutes(i) * 60), 0) : 0,
});

function heartbeats(i: CostInputs): Activity {
  const pings = i.connections * heartbeatsPerMinute(i.heartbeat, framesPerMinute(i)) * activeMinutes(i);
  // Each ping is a billed frame in and a billed pong out (the route response), and a Lambda.
  const usage = sum({ messages: 2 * pings }, invocations(pings, HANDLERS.ping, i), traced(i, pings));
  return { name: 'heartbeats', usage };
}

/** This design's month, by activity. */
export function designUsage(i: CostInputs): Activity[] {
  const frames = framesPerMinute(i) * activeMinutes(i);
  const frame = frameBytes(i);
  const fan = designFanout(i);
  const workers = fan.functions - 1;
  const pagesPerShard = Math.max(1, Math.ceil((Math.ceil(recipients(i) / i.channelShards) * SUBSCRIBER_ROW_BYTES) / METERING.pageBytes));
  // Reads every shard, invokes the workers (in parallel), then posts the first batch itself.
  // As shared/fanout.ts runs it: the publisher posts for at most INLINE_DELIVERY_BUDGET_MS and
  // hands what is left of its batch to a worker, which goes on at the same pace; a worker posts
  // for at most one hop (WORKER_HOP_BUDGET_MS, within its Timeout less WORKER_RESERVE_MS) and hands
  // its rest to a fresh invocation of itself. Each hand-off is one more invocation, not more seconds.
  const hop = hopSeconds(i);
  const inline = Math.min(fan.eachSeconds, INLINE_DELIVERY_BUDGET_MS / 1000);
  const leftover = fan.eachSeconds - inline;
  const workerInvocations = workers * Math.max(1, Math.ceil(fan.eachSeconds / hop)) + (leftover > 0 ? Math.ceil(leftover / hop) : 0);
  const workerSeconds = workers * fan.eachSeconds + leftover;
  const publisherMs = PUBLISH_OVERHEAD_MS + pagesPerShard * PAGE_READ_MS + (workers > 0 || leftover > 0 ? INVOKE_MS : 0) + inline * 1000;
  const perFrame = sum(
    {
      // deliveries, then the sendmessage frame in and its `sent` receipt out
      messages: recipients(i) * messageUnits(frame) + (i.publisher === 'client' ? messageUnits(frame + PUBLISH_WRAPPER_BYTES) + 1 : 0),
      // a client's publish spends two budgets (shared/budgets.ts): the connection's, an ADD on
      // its connection row, and the principal's counter row; then the sequence number and the
      // history row
      writeUnits:
        (i.publisher === 'client' ? CONNECTION_BUDGET_WRITES + PRINCIPAL_BUDGET_WRITES : 0) +
        1 +
        (i.history ? writeUnits(frame + HISTORY_ROW_OVERHEAD_BYTES) : 0),
      readUnits: fanoutReadUnits(recipients(i), i.channelShards),
    },
    invocations(1, { memoryMb: publisherMemory(i), ms: publisherMs }, i, true),
    invocations(
      workerInvocations,
      { memoryMb: i.workerMemoryMb, ms: workerInvocations > 0 ? (workerSeconds * 1000) / workerInvocations : 0 },
      i,
      true,
    ),
  );
  const [c, j] = [i.channelsPerConnection, i.joinsPerSession];
  const perSession = sum(
    {
      // shared/connection-store.ts: $connect puts the connection row (table only: it has no gpk)
      // and each subscription (table and byChannel GSI); a join moves the row's channel count
      // (a conditional ADD) and puts a subscription; $disconnect deletes the row and every
      // subscription, those of its joins too.
      writeUnits: CONNECTION_ROW_WRITES + 2 * c + j * (CONNECTION_ROW_WRITES + 2) + CONNECTION_ROW_WRITES + 2 * (c + j),
      // $disconnect's strongly consistent Query of the connection's rows; a join re-reads the
      // connection row and reads the channel's sequence (both strongly consistent). A re-join
      // after a roll-over has nothing to replay (the old connection stays open until the new
      // one's joins are acknowledged), so it spends no replay budget.
      readUnits: 1 + j * (1 + 1),
      messages: 2 * j,
    },
    invocations(1, HANDLERS.connect, i),
    invocations(1, HANDLERS.authorizer, i),
    invocations(1, HANDLERS.disconnect, i),
    invocations(j, HANDLERS.joinchannel, i),
  );
  const sessions = sessionsPerMonth(i);
  return [
    { name: 'holding connections', usage: holding(i) },
    { name: 'broadcasts', usage: sum(scaled(perFrame, frames), traced(i, frames)) },
    { name: 'reconnects (2 h cap)', usage: sum(scaled(perSession, sessions), traced(i, sessions, sessions, sessions, j * sessions)) },
    heartbeats(i),
  ];
}

/** API Gateway's floor: connection-minutes, one message per delivery, the inbound publish. */
export function floorUsage(i: CostInputs): Activity[] {
  const messages = i.messagesPerMinute * activeMinutes(i);
  const perMessage = recipients(i) * messageUnits(i.bytes) + (i.publisher === 'client' ? messageUnits(i.bytes) : 0);
  return [
    { name: 'holding connections', usage: holding(i) },
    { name: 'broadcasts', usage: scaled({ messages: perMessage }, messages) },
  ];
}

/** The starting design: a Scan per broadcast, the SDK path from one function, one item per connection. */
export function startingUsage(i: CostInputs): Activity[] {
  const frames = framesPerMinute(i) * activeMinutes(i);
  const frame = frameBytes(i);
  const fan = startingFanout(i);
  const scanPages = Math.max(1, Math.ceil((i.connections * STARTING_ITEM_BYTES) / METERING.pageBytes));
  const perFrame = sum(
    {
      // it posted to every connection the Scan returned, sender included; no receipt
      messages: i.connections * messageUnits(frame) + (i.publisher === 'client' ? messageUnits(frame + PUBLISH_WRAPPER_BYTES) : 0),
      readUnits: pagedReadUnits(i.connections, STARTING_ITEM_BYTES),
    },
    invocations(1, { memoryMb: i.startingMemoryMb, ms: PUBLISH_OVERHEAD_MS + scanPages * PAGE_READ_MS + fan.wallSeconds * 1000 }, i),
  );
  // one item per connection, no index: Put at $connect, Delete at $disconnect, no authorizer
  const perSession = sum({ writeUnits: 1 + 1 }, invocations(1, HANDLERS.connect, i), invocations(1, HANDLERS.disconnect, i));
  const sessions = sessionsPerMonth(i);
  return [
    { name: 'holding connections', usage: holding(i) },
    { name: 'broadcasts', usage: sum(scaled(perFrame, frames), traced(i, frames)) },
    { name: 'reconnects (2 h cap)', usage: sum(scaled(perSession, sessions), traced(i, sessions, sessions)) },
    heartbeats(i),
  ];
}

// ------------------------------------------------------------------ dollars

export type Component =
  | 'API Gateway connection-minutes'
  | 'API Gateway messages'
  | 'Lambda requests'
  | 'Lambda duration (arm64)'
  | 'DynamoDB writes'
  | 'DynamoDB reads'
  | 'CloudWatch Logs ingestion'
  | 'X-Ray traces';

export interface BillLine {
  component: Component;
  quantity: number;
  unit: string;
  usd: number;
}

export interface Bill {
  lines: BillLine[];
  total: number;
  /** The total split by cause, each component shared in proportion to the activity's quantity. */
  activities: { name: string; usd: number }[];
}

const per = (quantity: number, p: { usd: number; per: number }): number => (quantity * p.usd) / p.per;

/** Prices a month of usage, message tiers applied to the month's total. */
export function priceActivities(activities: Activity[], prices: PriceBook = PRICES): Bill {
  const u = sum(...activities.map((a) => a.usage));
  const rows: [Component, number, string, number, keyof Usage][] = [
    [
      'API Gateway connection-minutes',
      u.connectionMinutes,
      'minutes',
      per(u.connectionMinutes, prices.connectionMinutes),
      'connectionMinutes',
    ],
    ['API Gateway messages', u.messages, 'messages', messageCost(u.messages, prices), 'messages'],
    ['Lambda requests', u.lambdaRequests, 'requests', per(u.lambdaRequests, prices.lambdaRequests), 'lambdaRequests'],
    ['Lambda duration (arm64)', u.lambdaGbSeconds, 'GB-s', per(u.lambdaGbSeconds, prices.lambdaArmGbSecond), 'lambdaGbSeconds'],
    ['DynamoDB writes', u.writeUnits, 'WRU', per(u.writeUnits, prices.dynamoWriteUnits), 'writeUnits'],
    ['DynamoDB reads', u.readUnits, 'RRU', per(u.readUnits, prices.dynamoReadUnits), 'readUnits'],
    [
      'CloudWatch Logs ingestion',
      u.logBytes / METERING.gigabyteBytes,
      'GB',
      per(u.logBytes / METERING.gigabyteBytes, prices.logsIngestion),
      'logBytes',
    ],
    ['X-Ray traces', u.traces, 'traces', per(u.traces, prices.xrayTraces), 'traces'],
  ];
  const lines = rows.map(([component, quantity, unit, usd]) => ({ component, quantity, unit, usd }));
  const share = (a: Activity) => rows.reduce((acc, [, , , usd, key]) => acc + (u[key] > 0 ? (usd * a.usage[key]) / u[key] : 0), 0);
  return {
    lines,
    total: lines.reduce((acc, l) => acc + l.usd, 0),
    activities: activities.map((a) => ({ name: a.name, usd: share(a) })),
  };
}

export interface Estimate {
  inputs: CostInputs;
  design: Bill;
  floor: Bill;
  starting: Bill;
  /** This design's total over the floor's (target ≤ 1.03). */
  ratio: number;
  startingRatio: number;
  fanout: FanoutPlan;
  startingFanout: FanoutPlan;
  readUnitsPerBroadcast: number;
  startingReadUnitsPerBroadcast: number;
  sessionsPerMonth: number;
  heartbeatsPerConnectionPerMinute: number;
}

/** What is wrong with a set of inputs (empty when it can be priced). */
export function inputProblems(i: CostInputs): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, message: string) => {
    if (!ok) problems.push(message);
  };
  const int = (n: number) => Number.isInteger(n);
  check(int(i.connections) && i.connections >= 1, 'connections must be a whole number >= 1');
  check(i.messagesPerMinute >= 0, 'messages per minute must be >= 0');
  check(int(i.bytes) && i.bytes >= 0, 'bytes must be a whole number >= 0');
  check(
    frameBytes(i) <= API_GATEWAY_MESSAGE_BYTES,
    `a frame (batch x (bytes + envelope)) must fit API Gateway's ${API_GATEWAY_MESSAGE_BYTES} B message limit`,
  );
  check(i.hoursPerDay > 0 && i.hoursPerDay <= 24, 'hours per day must be in (0, 24]');
  check(i.days > 0, 'days must be > 0');
  check(int(i.batch) && i.batch >= 1, 'batch must be a whole number >= 1');
  check(i.heartbeat.minutes > 0, 'heartbeat minutes must be > 0');
  // API Gateway closes a connection after 10 idle minutes: an idle-only ping must come sooner.
  check(
    i.heartbeat.mode === 'fixed' || i.heartbeat.minutes < IDLE_TIMEOUT_SECONDS / 60,
    'idle heartbeat minutes must be < 10 (API Gateway idle timeout)',
  );
  check(i.logLineBytes >= 0, 'log line bytes must be >= 0');
  check(i.cpuUsPerPost > 0 && i.startingCpuUsPerPost > 0, 'CPU µs per post must be > 0');
  check(
    [i.workerMemoryMb, i.startingMemoryMb].every((mb) => mb >= 128 && mb <= 10240) &&
      (i.publisherMemoryMb === 0 || (i.publisherMemoryMb >= 128 && i.publisherMemoryMb <= 10240)),
    "function memory must be 128-10240 MB (publisher: 0 = the template's)",
  );
  check(
    i.workerTimeoutSeconds * 1000 > WORKER_RESERVE_MS,
    `the worker's Timeout must exceed WORKER_RESERVE_MS (${WORKER_RESERVE_MS / 1000} s)`,
  );
  check(int(i.fanoutConcurrency) && i.fanoutConcurrency >= 0, 'fan-out concurrency must be a whole number >= 0 (0 = unbounded)');
  check(LOG_LEVELS.includes(i.logLevel) && LOG_LEVELS.includes(i.systemLogLevel), 'log levels must be DEBUG, INFO, WARN or ERROR');
  check(int(i.fanoutBatchSize) && i.fanoutBatchSize >= 1, 'fan-out batch size must be a whole number >= 1');
  check(i.postRate > 0 && i.postBurst >= 0 && i.postLatencyMs > 0, 'post rate and latency must be > 0, burst >= 0');
  check(int(i.postConcurrency) && i.postConcurrency >= 0, 'post concurrency must be a whole number >= 0 (0 = automatic)');
  check(int(i.channelShards) && i.channelShards >= 1, 'channel shards must be a whole number >= 1');
  check(
    i.sessionMinutes > 0 && i.sessionMinutes <= CONNECTION_MAX_SECONDS / 60,
    'session minutes must be in (0, 120] (API Gateway closes connections at 2 h)',
  );
  check(i.joinsPerSession >= 0, 'joins per session must be >= 0');
  check(int(i.channelsPerConnection) && i.channelsPerConnection >= 1, 'channels per connection must be a whole number >= 1');
  return problems;
}

/**
 * The three bills for a workload (unset inputs take `DEFAULT_INPUTS`); throws a RangeError
 * naming every bad input.
 * @example estimate({ connections: 100_000 }).ratio // this design ÷ API Gateway's floor
 */
export function estimate(inputs: Partial<CostInputs> = {}, prices: PriceBook = PRICES): Estimate {
  const i = { ...DEFAULT_INPUTS, ...inputs };
  const problems = inputProblems(i);
  if (problems.length > 0) throw new RangeError(problems.join('; '));
  const design = priceActivities(designUsage(i), prices);
  const floor = priceActivities(floorUsage(i), prices);
  const starting = priceActivities(startingUsage(i), prices);
  return {
    inputs: i,
    design,
    floor,
    starting,
    ratio: design.total / floor.total,
    startingRatio: starting.total / floor.total,
    fanout: designFanout(i),
    startingFanout: startingFanout(i),
    readUnitsPerBroadcast: fanoutReadUnits(recipients(i), i.channelShards),
    startingReadUnitsPerBroadcast: pagedReadUnits(i.connections, STARTING_ITEM_BYTES),
    sessionsPerMonth: sessionsPerMonth(i),
    heartbeatsPerConnectionPerMinute: heartbeatsPerMinute(i.heartbeat, framesPerMinute(i)),
  };
}

/** A "what if" row: the same model with some inputs changed. */
export interface Lever {
  name: string;
  /** The CLI flags that produce it. */
  flags: string;
  change: Partial<CostInputs>;
}

const FANOUT_BATCH_MAX = TEMPLATE_FIGURES.bounds.FanoutBatchSize?.max ?? DEFAULT_INPUTS.fanoutBatchSize;
const FANOUT_BATCH_MIN = TEMPLATE_FIGURES.bounds.FanoutBatchSize?.min ?? DEFAULT_INPUTS.fanoutBatchSize;
const n = (x: number) => x.toLocaleString('en-US');

export const LEVERS: Lever[] = [
  { name: 'pack 10 messages per frame (publisher opts in)', flags: '--batch 10', change: { batch: 10 } },
  {
    name: 'clients ping every minute, not only when idle',
    flags: '--heartbeat-minutes 1',
    change: { heartbeat: { mode: 'fixed', minutes: 1 } },
  },
  { name: 'history off', flags: '--no-history', change: { history: false } },
  { name: 'LogLevel=INFO (one application line per invocation)', flags: '--log-level INFO', change: { logLevel: 'INFO' } },
  { name: 'LogLevel=DEBUG', flags: '--log-level DEBUG', change: { logLevel: 'DEBUG' } },
  {
    name: "Lambda's START/END/REPORT lines kept (SystemLogLevel INFO, or no LoggingConfig)",
    flags: '--system-log-level INFO',
    change: { systemLogLevel: 'INFO' },
  },
  { name: 'X-Ray tracing on (EnableTracing=true)', flags: '--tracing', change: { tracing: true } },
  {
    name: `fan-out batches of ${n(FANOUT_BATCH_MIN)} (FanoutBatchSize minimum)`,
    flags: `--fanout-batch-size ${FANOUT_BATCH_MIN}`,
    change: { fanoutBatchSize: FANOUT_BATCH_MIN },
  },
  {
    name: `fan-out batches of ${n(FANOUT_BATCH_MAX)} (FanoutBatchSize maximum)`,
    flags: `--fanout-batch-size ${FANOUT_BATCH_MAX}`,
    change: { fanoutBatchSize: FANOUT_BATCH_MAX },
  },
  {
    name: 'publishers at 1,024 MB instead of one full vCPU',
    flags: '--publisher-memory-mb 1024',
    change: { publisherMemoryMb: 1024 },
  },
  { name: 'one joinchannel frame per session instead of ?channels=', flags: '--joins-per-session 1', change: { joinsPerSession: 1 } },
  { name: 'backend publishes through the Lambda Invoke API', flags: '--publisher server', change: { publisher: 'server' } },
];

export interface LeverRow {
  name: string;
  flags: string;
  total: number;
  /** Against the base workload's floor, so a lever that beats the floor shows below 1. */
  ratio: number;
  delta: number;
}

/**
 * The "what if" table: `levers` applied one at a time to `inputs`.
 * @example leverRows({ connections: 20_000 }).find((r) => r.flags === '--batch 10')?.total
 */
export function leverRows(inputs: Partial<CostInputs> = {}, prices: PriceBook = PRICES, levers: Lever[] = LEVERS): LeverRow[] {
  const base = estimate(inputs, prices);
  return levers.map((lever) => {
    const e = estimate({ ...base.inputs, ...lever.change }, prices);
    return {
      name: lever.name,
      flags: lever.flags,
      total: e.design.total,
      ratio: e.design.total / base.floor.total,
      delta: e.design.total - base.design.total,
    };
  });
}
