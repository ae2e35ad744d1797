/**
 * What the cost model is asked to price: the workload, the design's settings, and the defaults of
 * both. Every figure the stack deploys (memory sizes, the worker's Timeout and reserved
 * concurrency, batch size, post rate and burst, log levels, tracing, history, shards) is read from
 * template.yaml once at import (bench/lib/template-figures.ts); the client's roll-over and
 * heartbeat come from client/src/defaults.ts. Only the workload and the estimates are this file's.
 */
import { HEARTBEAT_IDLE_MS, ROLLOVER_AFTER_MS } from '../../client/src/defaults.js';
import { ACCOUNT_THROTTLE } from '../lib/aws-defaults.js';
import { levelOf, numericDefault, type TemplateFigures, templateFigures } from '../lib/template-figures.js';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
/** From the most verbose to the least: a line is written when its level is at or after the configured one. */
export const LOG_LEVELS: LogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

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

/** The inputs whose default is what template.yaml deploys. */
export type TemplateInputs = Pick<
  CostInputs,
  | 'logLevel'
  | 'systemLogLevel'
  | 'tracing'
  | 'history'
  | 'workerMemoryMb'
  | 'workerTimeoutSeconds'
  | 'fanoutBatchSize'
  | 'fanoutConcurrency'
  | 'postRate'
  | 'postBurst'
  | 'channelShards'
>;

const asLevel = (value: string | undefined, what: string): LogLevel => {
  if (!LOG_LEVELS.includes(value as LogLevel)) throw new Error(`template.yaml: ${what} is ${value}, not one of ${LOG_LEVELS.join(', ')}`);
  return value as LogLevel;
};

/** What the template deploys, as model inputs and memory sizes. */
export function templateInputs(figures: TemplateFigures = templateFigures()): { inputs: TemplateInputs; memory: HandlerMemory } {
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

/** template.yaml's figures, read once: the defaults below and the levers' bounds come from them. */
export const TEMPLATE_FIGURES: TemplateFigures = templateFigures();
const TEMPLATE = templateInputs(TEMPLATE_FIGURES);
/** Memory of each priced function as template.yaml deploys it. */
export const TEMPLATE_MEMORY: HandlerMemory = TEMPLATE.memory;

/**
 * The workload and the estimates are the model's; every deployed figure is the template's.
 * (The keys keep this order: `npm run cost -- --json` prints them in it.)
 */
export const DEFAULT_INPUTS: CostInputs = {
  connections: 20_000,
  messagesPerMinute: 1,
  bytes: 2048,
  hoursPerDay: 24,
  days: 30,
  batch: 1,
  heartbeat: { mode: 'idle', minutes: HEARTBEAT_IDLE_MS / 60_000 },
  publisher: 'client',
  history: TEMPLATE.inputs.history,
  logLevel: TEMPLATE.inputs.logLevel,
  systemLogLevel: TEMPLATE.inputs.systemLogLevel,
  logLineBytes: 300,
  tracing: TEMPLATE.inputs.tracing,
  cpuUsPerPost: 60,
  publisherMemoryMb: 0,
  workerMemoryMb: TEMPLATE.inputs.workerMemoryMb,
  workerTimeoutSeconds: TEMPLATE.inputs.workerTimeoutSeconds,
  fanoutConcurrency: TEMPLATE.inputs.fanoutConcurrency,
  fanoutBatchSize: TEMPLATE.inputs.fanoutBatchSize,
  postRate: TEMPLATE.inputs.postRate,
  postBurst: TEMPLATE.inputs.postBurst,
  postConcurrency: 0,
  postLatencyMs: ACCOUNT_THROTTLE.postLatencyMs,
  channelShards: TEMPLATE.inputs.channelShards,
  sessionMinutes: ROLLOVER_AFTER_MS / 60_000,
  joinsPerSession: 0,
  channelsPerConnection: 1,
  startingCpuUsPerPost: 800,
  startingMemoryMb: 1024,
};
