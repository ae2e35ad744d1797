/**
 * `npm run cost`: the monthly bill of this design beside API Gateway's floor and the starting
 * design, by component and by cause, then the levers that move it. The numbers come from
 * bench/cost/ (pure) and bench/prices.ts; this file only parses flags and prints.
 *
 * @example
 *   npm run cost -- --connections 20000 --messages-per-minute 1 --bytes 2048
 *   npm run cost -- --summary 20000,100000        # the README table
 *   npm run cost -- --connections 100000 --json   # for machines
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { WORKER_HOP_BUDGET_MS, WORKER_RESERVE_MS } from '../shared/limits.js';
import type { Bill } from './cost/bill.js';
import { type Estimate, estimate } from './cost/estimate.js';
import { throughputCheck } from './cost/fanout-plan.js';
import { type CostInputs, DEFAULT_INPUTS, LOG_LEVELS, type LogLevel, TEMPLATE_MEMORY } from './cost/inputs.js';
import { type LeverRow, leverRows } from './cost/levers.js';
import { publisherMemory } from './cost/workload.js';
import { PRICES_READ, PRICES_REGION } from './prices.js';

const HELP = `Usage: npm run cost -- [options]

Defaults of what the stack deploys (memory, batch size, post rate and burst, log levels,
tracing, history, shards, fan-out concurrency) are read from template.yaml.

Workload
  --connections N             concurrent connections, all in the broadcast channel (${DEFAULT_INPUTS.connections})
  --messages-per-minute M     broadcasts per minute (${DEFAULT_INPUTS.messagesPerMinute})
  --bytes B                   payload bytes per message (${DEFAULT_INPUTS.bytes})
  --hours-per-day H           hours a day connections are held (${DEFAULT_INPUTS.hoursPerDay})
  --days D                    days in the month (${DEFAULT_INPUTS.days})
  --publisher client|server   sendmessage frame, or PublishFunction via Lambda Invoke (${DEFAULT_INPUTS.publisher})
Design levers
  --batch K                   messages packed per frame (${DEFAULT_INPUTS.batch})
  --heartbeat-minutes K       clients ping every K minutes (default: only after idle minutes)
  --idle-heartbeat-minutes K  idle-only ping after K silent minutes, < 10 (${DEFAULT_INPUTS.heartbeat.minutes})
  --no-history                no history rows
  --log-level L               application level, DEBUG|INFO|WARN|ERROR (${DEFAULT_INPUTS.logLevel})
  --system-log-level L        Lambda platform lines' level (${DEFAULT_INPUTS.systemLogLevel}; INFO keeps START/END/REPORT)
  --log-line-bytes B          bytes per log line (${DEFAULT_INPUTS.logLineBytes})
  --tracing | --no-tracing    X-Ray tracing on or off (${DEFAULT_INPUTS.tracing ? 'on' : 'off'})
  --joins-per-session J       joinchannel frames per connection session (${DEFAULT_INPUTS.joinsPerSession})
  --channels-per-connection C subscriptions per connection (${DEFAULT_INPUTS.channelsPerConnection})
Fan-out
  --cpu-us-per-post U         fast poster CPU per post (${DEFAULT_INPUTS.cpuUsPerPost})
  --starting-cpu-us-per-post U  SDK path CPU per post, starting design (${DEFAULT_INPUTS.startingCpuUsPerPost})
  --publisher-memory-mb MB    publishing function memory (SendMessageFunction ${TEMPLATE_MEMORY.SendMessageFunction}, PublishFunction ${TEMPLATE_MEMORY.PublishFunction})
  --worker-memory-mb MB       fan-out worker memory (${DEFAULT_INPUTS.workerMemoryMb})
  --worker-timeout-seconds S  fan-out worker Timeout: it hands on after min(${WORKER_HOP_BUDGET_MS / 1000}, S - ${WORKER_RESERVE_MS / 1000}) s (${DEFAULT_INPUTS.workerTimeoutSeconds})
  --fanout-concurrency N      workers running at once, 0 = unbounded (${DEFAULT_INPUTS.fanoutConcurrency})
  --starting-memory-mb MB     the starting design's function memory (${DEFAULT_INPUTS.startingMemoryMb})
  --fanout-batch-size N       subscribers per fan-out worker (${DEFAULT_INPUTS.fanoutBatchSize})
  --post-rate R               posts/s one broadcast may use (${DEFAULT_INPUTS.postRate})
  --post-burst B              posts one broadcast may send at once (${DEFAULT_INPUTS.postBurst})
  --post-concurrency C        posts in flight per function, 0 = automatic as shared/fanout.ts (${DEFAULT_INPUTS.postConcurrency})
  --post-latency-ms MS        latency of one @connections post (${DEFAULT_INPUTS.postLatencyMs})
  --channel-shards S          partition-key shards per channel (${DEFAULT_INPUTS.channelShards})
  --session-minutes M         connection lifetime before the client rolls over, <= 120 (${DEFAULT_INPUTS.sessionMinutes})
Output
  --summary N1,N2,...         one row per connection count (the README table)
  --json                      JSON instead of markdown
  --help`;

const NUMERIC: Record<string, keyof CostInputs> = {
  connections: 'connections',
  'messages-per-minute': 'messagesPerMinute',
  bytes: 'bytes',
  'hours-per-day': 'hoursPerDay',
  days: 'days',
  batch: 'batch',
  'log-line-bytes': 'logLineBytes',
  'joins-per-session': 'joinsPerSession',
  'channels-per-connection': 'channelsPerConnection',
  'cpu-us-per-post': 'cpuUsPerPost',
  'starting-cpu-us-per-post': 'startingCpuUsPerPost',
  'publisher-memory-mb': 'publisherMemoryMb',
  'worker-memory-mb': 'workerMemoryMb',
  'worker-timeout-seconds': 'workerTimeoutSeconds',
  'fanout-concurrency': 'fanoutConcurrency',
  'starting-memory-mb': 'startingMemoryMb',
  'fanout-batch-size': 'fanoutBatchSize',
  'post-rate': 'postRate',
  'post-burst': 'postBurst',
  'post-concurrency': 'postConcurrency',
  'post-latency-ms': 'postLatencyMs',
  'channel-shards': 'channelShards',
  'session-minutes': 'sessionMinutes',
};

type Parsed = { inputs: Partial<CostInputs>; summary?: number[]; json: boolean; help: boolean };

function toNumber(flag: string, raw: string): number {
  const value = Number(raw.replaceAll('_', ''));
  if (raw.trim() === '' || !Number.isFinite(value)) throw new RangeError(`--${flag} needs a number, got "${raw}"`);
  return value;
}

/** Flags to model inputs. Unknown flags are errors (`strict`), so a typo never prices the default. */
export function parseCostArgs(argv: string[]): Parsed {
  const options = Object.fromEntries(Object.keys(NUMERIC).map((flag) => [flag, { type: 'string' as const }]));
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...options,
      'heartbeat-minutes': { type: 'string' },
      'idle-heartbeat-minutes': { type: 'string' },
      publisher: { type: 'string' },
      'log-level': { type: 'string' },
      'system-log-level': { type: 'string' },
      'no-history': { type: 'boolean' },
      tracing: { type: 'boolean' },
      'no-tracing': { type: 'boolean' },
      summary: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const inputs: Record<string, unknown> = {};
  const given = values as Record<string, string | boolean | undefined>;
  for (const [flag, key] of Object.entries(NUMERIC)) {
    const raw = given[flag];
    if (typeof raw === 'string') inputs[key] = toNumber(flag, raw);
  }
  if (values['heartbeat-minutes'] !== undefined && values['idle-heartbeat-minutes'] !== undefined) {
    throw new RangeError('--heartbeat-minutes and --idle-heartbeat-minutes exclude each other');
  }
  if (values['heartbeat-minutes'] !== undefined)
    inputs.heartbeat = { mode: 'fixed', minutes: toNumber('heartbeat-minutes', values['heartbeat-minutes']) };
  if (values['idle-heartbeat-minutes'] !== undefined) {
    inputs.heartbeat = { mode: 'idle', minutes: toNumber('idle-heartbeat-minutes', values['idle-heartbeat-minutes']) };
  }
  if (values.publisher !== undefined) {
    if (values.publisher !== 'client' && values.publisher !== 'server') throw new RangeError('--publisher must be client or server');
    inputs.publisher = values.publisher;
  }
  for (const [flag, key] of [
    ['log-level', 'logLevel'],
    ['system-log-level', 'systemLogLevel'],
  ] as const) {
    const raw = values[flag];
    if (raw === undefined) continue;
    const level = raw.toUpperCase();
    if (!LOG_LEVELS.includes(level as LogLevel)) throw new RangeError(`--${flag} must be DEBUG, INFO, WARN or ERROR`);
    inputs[key] = level;
  }
  if (values.tracing && values['no-tracing']) throw new RangeError('--tracing and --no-tracing exclude each other');
  if (values['no-history']) inputs.history = false;
  if (values.tracing) inputs.tracing = true;
  if (values['no-tracing']) inputs.tracing = false;
  const summary = values.summary?.split(',').map((n) => toNumber('summary', n));
  return { inputs: inputs as Partial<CostInputs>, summary, json: values.json ?? false, help: values.help ?? false };
}

// ------------------------------------------------------------------ formatting

const usd = (n: number): string => `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ratio = (n: number): string => `${n.toFixed(3)}×`;

/** 864000000 -> "864M"; keeps three significant digits. */
export function compact(n: number): string {
  const units: [number, string][] = [
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, suffix] of units) if (Math.abs(n) >= size) return `${Number((n / size).toPrecision(3))}${suffix}`;
  return `${Number(n.toPrecision(3))}`;
}

function describe(i: CostInputs): string {
  const heartbeat =
    i.heartbeat.mode === 'idle' ? `pings only after ${i.heartbeat.minutes} idle min` : `pings every ${i.heartbeat.minutes} min`;
  return [
    `${int(i.connections)} connections held ${i.hoursPerDay} h/day for ${i.days} days, rolling over every ${i.sessionMinutes} min`,
    `${i.messagesPerMinute} message(s)/min of ${int(i.bytes)} B to all${i.batch > 1 ? `, packed ${i.batch} per frame` : ''}, published by a ${i.publisher === 'client' ? 'client (sendmessage)' : 'backend (Lambda Invoke)'}`,
    `${heartbeat}; history ${i.history ? 'on' : 'off'}; logs ${i.logLevel} (Lambda platform lines ${i.systemLogLevel}); X-Ray ${i.tracing ? 'on' : 'off'}`,
    `fan-out ${i.cpuUsPerPost} µs CPU/post, publisher ${publisherMemory(i)} MB, workers ${i.workerMemoryMb} MB (${i.fanoutConcurrency || 'unbounded'} at once), batches of ${int(i.fanoutBatchSize)}, ${int(i.postRate)} posts/s + ${int(i.postBurst)} burst, ${i.postConcurrency || 'automatic'} in flight, ${i.postLatencyMs} ms/post`,
  ].join('\n');
}

function componentTable(e: Estimate): string {
  const rows = e.design.lines.map((line, k) => {
    const quantity = `${compact(line.quantity)} ${line.unit}`;
    return `| ${line.component} | ${quantity} | ${usd(line.usd)} | ${usd(e.floor.lines[k].usd)} | ${usd(e.starting.lines[k].usd)} |`;
  });
  return [
    '| component | quantity (this design) | this design | API Gateway floor | starting design |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows,
    `| **total** | | **${usd(e.design.total)}** | **${usd(e.floor.total)}** | **${usd(e.starting.total)}** |`,
    `| **÷ floor** | | **${ratio(e.ratio)}** (target ≤ 1.03×) | 1.000× | ${ratio(e.startingRatio)} |`,
  ].join('\n');
}

function activityTable(e: Estimate): string {
  const starting = (name: string) => e.starting.activities.find((a) => a.name === name)?.usd ?? 0;
  const floor = (name: string) => e.floor.activities.find((a) => a.name === name)?.usd ?? 0;
  return [
    '| cause | this design | API Gateway floor | starting design |',
    '| --- | ---: | ---: | ---: |',
    ...e.design.activities.map(
      (a: Bill['activities'][number]) => `| ${a.name} | ${usd(a.usd)} | ${usd(floor(a.name))} | ${usd(starting(a.name))} |`,
    ),
  ].join('\n');
}

/** Whether the post rate carries the broadcasts (bench/cost/fanout-plan.ts throughputCheck). */
function throughputLine(e: Estimate): string {
  const t = throughputCheck(e.inputs, e.fanout);
  const need = `${int(t.postsPerMinute)} posts a minute against PostRateLimit's ${int(t.allowedPerMinute)}`;
  if (t.keepsUp) return `- throughput: ${need}; each broadcast ends before the next starts`;
  return `- **throughput: not carried.** ${need}; a broadcast takes ${t.broadcastSeconds.toFixed(1)} s and one starts every ${t.intervalSeconds.toFixed(1)} s, so they would pile up into 429s. It needs ~${int(Math.ceil(t.neededRatePerSecond))} posts/s: an API Gateway account throttle raised above that (Service Quotas, with PostRateLimit and PostBurstLimit raised to match), messages packed per frame (\`--batch\`), or the connections split across accounts or Regions`;
}

function perBroadcast(e: Estimate): string {
  const f = e.fanout;
  const s = e.startingFanout;
  const subscribers = Math.max(1, e.inputs.connections);
  const fanout = f.functions === 1 ? 'inline by the publishing function' : `by the publisher and ${f.functions - 1} workers`;
  return [
    `- this design: ${e.readUnitsPerBroadcast} RRU (${((100 * e.readUnitsPerBroadcast) / subscribers).toFixed(2)} per 100 subscribers), posted ${fanout} at ${int(f.postsPerSecondEach)} posts/s each, last delivery after ${f.wallSeconds.toFixed(2)} s, ${f.billedSeconds.toFixed(1)} Lambda-seconds billed for posting`,
    `- starting design: Scan of ${e.startingReadUnitsPerBroadcast} RRU, posted by one function at ${int(s.postsPerSecondEach)} posts/s, last delivery after ${s.wallSeconds.toFixed(1)} s`,
    throughputLine(e),
    `- ${compact(e.sessionsPerMonth)} connection sessions a month; ${e.heartbeatsPerConnectionPerMinute.toFixed(3)} pings per connection per minute`,
  ].join('\n');
}

function leverTable(rows: LeverRow[], base: Estimate): string {
  return [
    '| what if | flags | monthly | ÷ floor | change |',
    '| --- | --- | ---: | ---: | ---: |',
    `| this design as configured | | ${usd(base.design.total)} | ${ratio(base.ratio)} | |`,
    ...rows.map(
      (r) => `| ${r.name} | \`${r.flags}\` | ${usd(r.total)} | ${ratio(r.ratio)} | ${r.delta >= 0 ? '+' : '−'}${usd(Math.abs(r.delta))} |`,
    ),
  ].join('\n');
}

/** The full report for one workload, as markdown. */
export function report(e: Estimate, levers: LeverRow[]): string {
  return [
    `# airwave monthly cost, ${PRICES_REGION} on-demand prices read ${PRICES_READ}`,
    '',
    describe(e.inputs),
    '',
    componentTable(e),
    '',
    '## By cause',
    '',
    activityTable(e),
    '',
    '## Per broadcast',
    '',
    perBroadcast(e),
    '',
    '## Levers (same model, one change each; ÷ the base floor)',
    '',
    leverTable(levers, e),
    '',
  ].join('\n');
}

/** One row per connection count: the README table. */
export function summaryTable(estimates: Estimate[]): string {
  const i = estimates[0]?.inputs ?? DEFAULT_INPUTS;
  return [
    `Monthly bill, ${i.messagesPerMinute} × ${int(i.bytes)} B broadcast per minute to every connection, 24/7 (\`npm run cost\`, ${PRICES_REGION}, prices of ${PRICES_READ}):`,
    '',
    '| connections | API Gateway floor | this design | ÷ floor | starting design (Scan + SDK) | ÷ floor |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    ...estimates.map(
      (e) =>
        `| ${int(e.inputs.connections)} | ${usd(e.floor.total)} | ${usd(e.design.total)} | ${ratio(e.ratio)} | ${usd(e.starting.total)} | ${ratio(e.startingRatio)} |`,
    ),
  ].join('\n');
}

export function main(argv: string[]): number {
  let parsed: Parsed;
  try {
    parsed = parseCostArgs(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  try {
    if (parsed.summary) {
      const estimates = parsed.summary.map((connections) => estimate({ ...parsed.inputs, connections }));
      process.stdout.write(parsed.json ? `${JSON.stringify(estimates, null, 2)}\n` : `${summaryTable(estimates)}\n`);
      return 0;
    }
    const e = estimate(parsed.inputs);
    const levers = leverRows(parsed.inputs);
    process.stdout.write(parsed.json ? `${JSON.stringify({ estimate: e, levers }, null, 2)}\n` : report(e, levers));
    return 0;
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
}

// Run only as a script, so tests can import the formatting without printing.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) process.exitCode = main(process.argv.slice(2));
