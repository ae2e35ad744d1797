/**
 * `npm run bench`: fan-out to N virtual subscribers (registered connection ids and their
 * subscription rows, no sockets, so 100k fit on a laptop) on the local stack with the emulated
 * AWS model on (post latency, account throttle). For each N, a fresh stack in its own process:
 *
 * 1. PublishFunction, invoked through the Lambda Invoke API, broadcasts one 2 KB message (the
 *    production path: subscriber Queries, its own batch, async-invoked FanoutFunction batches);
 * 2. from this process, against the same @connections endpoint and ids: our poster
 *    (shared/fast-poster.ts, paced by shared/pacer.ts as shared/fanout.ts paces it) and the
 *    SDK path (PostToConnectionCommand, 50 sockets, 50 in flight: the starting design's shape),
 *    each timed, with this process's CPU per delivered message.
 *
 * Every broadcast is checked against the stack's per-connection counters (exactly once), and the
 * subscriber Queries are replayed with ReturnConsumedCapacity for the read units.
 * The tables go to stdout. With `--save`, the results also go to docs/fanout-results.json and the
 * plot to docs/fanout.svg (bench/plot.ts): tracked files, so writing them is an explicit choice.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { buildStackModel } from '../local/cloudformation/stack-model.js';
import { reset } from '../shared/dependencies.js';
import { concurrencyFor } from '../shared/fanout.js';
import { FastPoster } from '../shared/fast-poster.js';
import { createPacer } from '../shared/pacer.js';
import { messageFrameText } from '../shared/protocol.js';
import { ACCOUNT_THROTTLE, SDK_MAX_SOCKETS } from './lib/aws-defaults.js';
import { freshRound, postFromHere, publishThroughFunction } from './lib/broadcast.js';
import { saveRequested, scriptFlags, usageError } from './lib/cli.js';
import { addVirtualConnections, getStats, invokeFunction } from './lib/control.js';
import { FANOUT_SVG, writeFanoutPlot } from './lib/fanout-plot.js';
import { printFanoutTables } from './lib/fanout-report.js';
import { createLoadGate, machineInfo } from './lib/machine.js';
import type { FanoutResults, FanoutRun } from './lib/results.js';
import { SdkPoster } from './lib/sdk-poster.js';
import { REPO_ROOT, startStackProcess } from './lib/stack-process.js';
import { formatCount, parseCounts, type ThrottleModel, throttleFloorMs } from './lib/stats.js';
import { measureReadCost, useStackTable, writeSubscriptions } from './lib/subscribers.js';

const HELP = `Usage: npm run bench -- [options]

  --n 1000,20000,100000     subscriber counts (1k, 20k, 100k also read)
  --bytes 2048              message size (the message JSON; the frame adds its envelope)
  --post-latency-ms ${ACCOUNT_THROTTLE.postLatencyMs}      emulated @connections latency
  --throttle-rps ${ACCOUNT_THROTTLE.ratePerSecond}      emulated account throttle ...
  --throttle-burst ${ACCOUNT_THROTTLE.burst}     ... and its burst
  --skip-sdk-above N        no SDK-path run above N subscribers (it takes ~1 min per 100k)
  --paths publish,fast,sdk  which broadcasts to run
  --sdk-sockets ${SDK_MAX_SOCKETS}          SDK path: sockets and posts in flight
  --token-bytes 1000        session token size of the posters here (a Lambda role's is ~1 KB)
  --param K=V               template parameter override (repeatable)
  --max-load 2              wait for the 1-min load average to fall to this ...
  --max-wait-minutes 20     ... for at most this long in total
  --save                    write the results to --out and the plot to --svg (tracked files
                            under docs/); without it the tables are only printed
  --out docs/fanout-results.json   where --save writes the results
  --svg docs/fanout.svg     where --save writes the plot
  --merge                   with --save, keep runs of other N already in the results file
  --verbose                 echo the stack's output
  --profile-stack DIR       write a CPU profile of each stack's main thread (the HTTP APIs) to DIR
`;

const flags = await scriptFlags(
  {
    n: { type: 'string', default: '1000,20000,100000' },
    bytes: { type: 'string', default: '2048' },
    'post-latency-ms': { type: 'string', default: String(ACCOUNT_THROTTLE.postLatencyMs) },
    'throttle-rps': { type: 'string', default: String(ACCOUNT_THROTTLE.ratePerSecond) },
    'throttle-burst': { type: 'string', default: String(ACCOUNT_THROTTLE.burst) },
    'skip-sdk-above': { type: 'string', default: 'Infinity' },
    paths: { type: 'string', default: 'publish,fast,sdk' },
    'sdk-sockets': { type: 'string', default: String(SDK_MAX_SOCKETS) },
    'token-bytes': { type: 'string', default: '1000' },
    param: { type: 'string', multiple: true, default: [] },
    'max-load': { type: 'string', default: '2' },
    'max-wait-minutes': { type: 'string', default: '20' },
    out: { type: 'string', default: 'docs/fanout-results.json' },
    svg: { type: 'string', default: FANOUT_SVG },
    save: { type: 'boolean', default: false },
    // The old opt-out, now the default: accepted so older command lines still run.
    'no-save': { type: 'boolean', default: false },
    merge: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    'profile-stack': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  HELP,
);
let save = false;
try {
  save = saveRequested(flags);
} catch (error) {
  usageError((error as Error).message);
}

/** Subscribers of a separate channel, posted to first so that every path runs JIT-warm on open sockets. */
const WARMUP_SUBSCRIBERS = 500;
const CHANNEL = 'bench';
const WARMUP_CHANNEL = 'warmup';
const REGION = 'us-east-1';

const log = (line: string) => process.stderr.write(`${line}\n`);
const num = (name: keyof typeof flags) => Number(flags[name]);

function parameterOverrides(): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const pair of flags.param as string[]) {
    const at = pair.indexOf('=');
    if (at < 1) throw new Error(`--param takes Key=Value, got ${pair}`);
    overrides[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return overrides;
}

/** A JSON message of exactly `bytes` bytes, carrying the time it was built. */
function benchMessage(bytes: number): { sentAt: number; pad: string } {
  const bare = { sentAt: Date.now(), pad: '' };
  return { ...bare, pad: 'x'.repeat(Math.max(0, bytes - JSON.stringify(bare).length)) };
}

async function runOne(n: number, context: { model: ThrottleModel; overrides: Record<string, string>; load: number[] }): Promise<FanoutRun> {
  const { model, overrides } = context;
  const functions = buildStackModel({ templatePath: join(REPO_ROOT, 'template.yaml'), parameterOverrides: overrides }).functions;
  const fnEnv = functions.PublishFunction.environment;
  const paths = new Set(String(flags.paths).split(','));
  const floorMs = throttleFloorMs(n, model);
  const timeoutMs = Math.max(60_000, 6 * floorMs);
  log(`\n== N = ${formatCount(n)} (floor ${floorMs.toFixed(0)} ms, load ${context.load.join(' ')})`);
  const stack = await startStackProcess({
    postLatencyMs: model.postLatencyMs,
    throttleRps: model.ratePerSecond,
    throttleBurst: model.burst,
    parameterOverrides: overrides,
    verbose: flags.verbose,
    nodeArgs: flags['profile-stack'] ? ['--cpu-prof', '--cpu-prof-dir', String(flags['profile-stack'])] : [],
  });
  try {
    log(`stack ready, functions loaded after ${(await stack.settle()).toFixed(0)} ms more`);
    useStackTable({
      dynamodbEndpoint: stack.info.dynamodbEndpoint,
      tableName: stack.info.tables.Table,
      channelShards: Number(fnEnv.CHANNEL_SHARDS),
    });
    let t = performance.now();
    const ids = await addVirtualConnections(stack.httpUrl, n);
    const warmIds = await addVirtualConnections(stack.httpUrl, WARMUP_SUBSCRIBERS);
    const register = performance.now() - t;
    t = performance.now();
    await writeSubscriptions(ids, CHANNEL);
    await writeSubscriptions(warmIds, WARMUP_CHANNEL);
    const seed = performance.now() - t;
    log(`registered ${n} virtual connections in ${register.toFixed(0)} ms, wrote their rows in ${seed.toFixed(0)} ms`);
    const readCost = await measureReadCost(CHANNEL, ids);
    log(
      `subscriber reads: ${readCost.items} ids, ${readCost.pages} pages, ${readCost.reportedUnits} read units reported (${readCost.computedUnits} by DynamoDB's rules), ${readCost.ms.toFixed(0)} ms`,
    );
    const run: FanoutRun = { n, date: new Date().toISOString(), load: context.load, floorMs, setupMs: { register, seed }, readCost };
    const refillMs = Math.ceil((model.burst / model.ratePerSecond) * 1000) + 500;
    const message = benchMessage(num('bytes'));

    if (paths.has('publish')) {
      await invokeFunction(stack.httpUrl, 'PublishFunction', { channel: WARMUP_CHANNEL, message }); // JIT, sockets
      await freshRound(stack, refillMs);
      run.publishLoad = loadavg().map((l) => Math.round(l * 100) / 100);
      const publish = await publishThroughFunction(
        stack,
        ids,
        { channel: CHANNEL, message: { ...message, sentAt: Date.now() } },
        timeoutMs,
      );
      run.publish = { ...publish, ratio: publish.lastDeliveryMs / floorMs };
      log(
        `PublishFunction: last delivery ${publish.lastDeliveryMs.toFixed(0)} ms (${run.publish.ratio.toFixed(2)}x floor, ${publish.timedBy}), exactly once: ${publish.check.exactlyOnce}, 429s: ${publish.stack.throttled}, load at the invoke ${run.publishLoad.join(' ')}`,
      );
      const busy = (t: { busyFromMs?: number; busyToMs?: number }) =>
        t.busyFromMs === undefined ? 'never busy' : `busy ${t.busyFromMs.toFixed(0)}-${t.busyToMs?.toFixed(0)} ms`;
      // Each function's time against its Timeout: the template's must be at least twice what a run takes.
      log(
        `  PublishFunction ${publish.invokeMs.toFixed(0)} ms of its ${functions.PublishFunction.timeoutSeconds} s Timeout; longest FanoutFunction invocation posted ${publish.longestWorkerMs.toFixed(0)} ms of its ${functions.FanoutFunction.timeoutSeconds} s; ${publish.workerBatches} worker invocations`,
      );
      // Memory against MemorySize: each function's peak heap (all its concurrent invocations in one local worker, so an upper bound).
      const heap = (await getStats(stack.httpUrl)).functions;
      const heapOf = (id: string) => `${id} ${heap[id]?.heapPeakMb ?? '-'} MB of its ${heap[id]?.memoryMb ?? '-'} MB`;
      log(`  peak heap: ${heapOf('PublishFunction')}, ${heapOf('FanoutFunction')}`);
      log(
        `  stack CPU ${publish.profile.cpuMs.toFixed(0)} ms: ${publish.profile.threads.map((t) => `${t.thread} ${t.cpuMs.toFixed(0)} ms (${busy(t)})`).join(', ')}`,
      );
    }

    // The posters here sign with credentials shaped like a Lambda role's (a ~1 KB session token).
    const credentials = {
      accessKeyId: 'ASIABENCHMARKEXAMPLE',
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(Math.ceil((num('token-bytes') * 3) / 4)).toString('base64'),
    };
    const frame = messageFrameText(CHANNEL, message, randomBytes(12).toString('base64url'), 1);
    const endpoint = stack.info.connectionsEndpoint;
    if (paths.has('fast')) {
      const ratePerSecond = Number(fnEnv.POST_RATE_LIMIT);
      const burst = Number(fnEnv.POST_BURST_LIMIT);
      const concurrency = concurrencyFor(ratePerSecond);
      const poster = new FastPoster({ endpoint, region: REGION, credentials, maxSockets: concurrency });
      try {
        await postFromHere(stack, warmIds, frame, { poster, concurrency, pace: createPacer({ ratePerSecond, burst }) });
        await freshRound(stack, refillMs);
        const fast = await postFromHere(stack, ids, frame, { poster, concurrency, pace: createPacer({ ratePerSecond, burst }) });
        run.fast = { ...fast, ratio: fast.lastDeliveryMs / floorMs, concurrency, ratePerSecond, burst };
        log(
          `our poster (here): last delivery ${fast.lastDeliveryMs.toFixed(0)} ms (${run.fast.ratio.toFixed(2)}x), ${fast.cpuUsPerDelivery.toFixed(1)} µs CPU per delivery, exactly once: ${fast.check.exactlyOnce}`,
        );
      } finally {
        await poster.close();
      }
    }
    if (paths.has('sdk') && n <= num('skip-sdk-above')) {
      const concurrency = num('sdk-sockets');
      const client = new ApiGatewayManagementApiClient({
        endpoint,
        region: REGION,
        credentials,
        maxAttempts: 1, // 429s are retried by deliver(), as in the fan-out
        requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: concurrency }) }),
      });
      try {
        const poster = new SdkPoster(client);
        await postFromHere(stack, warmIds, frame, { poster, concurrency });
        await freshRound(stack, refillMs);
        const sdk = await postFromHere(stack, ids, frame, { poster, concurrency });
        run.sdk = { ...sdk, ratio: sdk.lastDeliveryMs / floorMs, concurrency };
        log(
          `SDK path (here): last delivery ${sdk.lastDeliveryMs.toFixed(0)} ms (${run.sdk.ratio.toFixed(2)}x), ${sdk.cpuUsPerDelivery.toFixed(1)} µs CPU per delivery, exactly once: ${sdk.check.exactlyOnce}`,
        );
      } finally {
        client.destroy();
      }
    }
    log(`stack RSS ${stack.rssKb()} KB`);
    return run;
  } catch (error) {
    log(`stack output before the failure:\n${stack.tail().join('\n')}`);
    throw error;
  } finally {
    reset();
    await stack.stop();
  }
}

/** Formats a written results file as the repository's formatter would (`npm run lint` checks docs/ too); skipped if Biome is not installed. */
function formatJson(file: string): void {
  try {
    execFileSync(join(REPO_ROOT, 'node_modules', '.bin', 'biome'), ['format', '--write', file], { stdio: 'ignore' });
  } catch {
    // no Biome: the file is valid JSON either way
  }
}

async function main(): Promise<void> {
  const model: ThrottleModel = { ratePerSecond: num('throttle-rps'), burst: num('throttle-burst'), postLatencyMs: num('post-latency-ms') };
  const overrides = parameterOverrides();
  const waitForQuiet = createLoadGate(num('max-load'), num('max-wait-minutes') * 60_000, { log });
  const runs: FanoutRun[] = [];
  for (const n of parseCounts(String(flags.n))) runs.push(await runOne(n, { model, overrides, load: await waitForQuiet() }));

  const message = benchMessage(num('bytes'));
  const results: FanoutResults = {
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: machineInfo(),
    model,
    messageBytes: JSON.stringify(message).length,
    frameBytes: Buffer.byteLength(messageFrameText(CHANNEL, message, 'x'.repeat(16), 1)),
    runs,
  };
  const out = join(REPO_ROOT, String(flags.out));
  if (flags.merge) {
    try {
      const previous = JSON.parse(readFileSync(out, 'utf8')) as FanoutResults;
      const kept = previous.runs.filter((r) => !runs.some((mine) => mine.n === r.n));
      results.runs = [...kept, ...runs].sort((a, b) => a.n - b.n);
    } catch {
      // no previous results: nothing to merge
    }
  }
  process.stdout.write(`${printFanoutTables(results)}\n`);
  if (!save) log(`\nnot saved: --save writes ${String(flags.out)} and ${String(flags.svg)}`);
  if (save) {
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    formatJson(out);
    log(`\nwrote ${out} and ${writeFanoutPlot(results, join(REPO_ROOT, String(flags.svg)))}`);
  }
}

await main();
