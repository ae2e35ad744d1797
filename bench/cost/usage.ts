/**
 * A month of metered quantities, by cause: holding connections, broadcasts, reconnects forced by
 * API Gateway's 2 h cap, and heartbeats, for this design, API Gateway's floor and the starting
 * design. Quantities only; bench/cost/bill.ts prices them.
 */
import { INLINE_DELIVERY_BUDGET_MS } from '../../shared/limits.js';
import { METERING } from '../prices.js';
import {
  APP_LINES,
  CONNECTION_BUDGET_WRITES,
  CONNECTION_ROW_WRITES,
  EMF_LINE_BYTES,
  HANDLERS,
  HISTORY_ROW_OVERHEAD_BYTES,
  INVOKE_MS,
  PAGE_READ_MS,
  PLATFORM_LINES,
  PRINCIPAL_BUDGET_WRITES,
  PUBLISH_OVERHEAD_MS,
  PUBLISH_WRAPPER_BYTES,
  STARTING_ITEM_BYTES,
  SUBSCRIBER_ROW_BYTES,
  writes,
} from './assumptions.js';
import { designFanout, startingFanout } from './fanout-plan.js';
import type { CostInputs } from './inputs.js';
import {
  connectionMinutes,
  fanoutReadUnits,
  heartbeatsPerMinute,
  messageUnits,
  pagedReadUnits,
  tracesRecorded,
  writeUnits,
} from './metering.js';
import { activeMinutes, frameBytes, framesPerMinute, hopSeconds, publisherMemory, recipients, sessionsPerMonth } from './workload.js';

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

/** Adds usages key by key (a missing key counts 0). */
export const sum = (...parts: Partial<Usage>[]): Usage =>
  parts.reduce<Usage>((acc, p) => {
    for (const key of Object.keys(acc) as (keyof Usage)[]) acc[key] += p[key] ?? 0;
    return acc;
  }, emptyUsage());

/** One cause of cost (holding connections, broadcasts, reconnects, heartbeats) and its usage. */
export interface Activity {
  name: string;
  usage: Usage;
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
