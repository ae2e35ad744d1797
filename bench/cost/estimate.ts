/**
 * The three bills for one workload (this design, API Gateway's floor, the starting design), and
 * the check of its inputs. The module `npm run cost` prints from.
 */
import { API_GATEWAY_MESSAGE_BYTES, CONNECTION_MAX_SECONDS, IDLE_TIMEOUT_SECONDS, WORKER_RESERVE_MS } from '../../shared/limits.js';
import { LAMBDA_MEMORY_MB } from '../lib/aws-defaults.js';
import { PRICES, type PriceBook } from '../prices.js';
import { STARTING_ITEM_BYTES } from './assumptions.js';
import { type Bill, priceActivities } from './bill.js';
import { designFanout, type FanoutPlan, startingFanout } from './fanout-plan.js';
import { type CostInputs, DEFAULT_INPUTS, LOG_LEVELS } from './inputs.js';
import { fanoutReadUnits, heartbeatsPerMinute, pagedReadUnits } from './metering.js';
import { designUsage, floorUsage, startingUsage } from './usage.js';
import { frameBytes, framesPerMinute, recipients, sessionsPerMonth } from './workload.js';

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

const lambdaMemory = (mb: number): boolean => mb >= LAMBDA_MEMORY_MB.min && mb <= LAMBDA_MEMORY_MB.max;

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
    [i.workerMemoryMb, i.startingMemoryMb].every(lambdaMemory) && (i.publisherMemoryMb === 0 || lambdaMemory(i.publisherMemoryMb)),
    `function memory must be ${LAMBDA_MEMORY_MB.min}-${LAMBDA_MEMORY_MB.max} MB (publisher: 0 = the template's)`,
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
