/**
 * `npm run bench:sockets`: N real WebSocket clients join a channel, a backend publishes one 2 KB
 * message, every client timestamps its delivery. Reports the connect rate, time to the last
 * delivery, p50/p99 latency and the RSS of every process.
 *
 * Clients are spread over child processes (bench/socket-worker.ts, < 8,000 sockets each: one
 * process holds < 20,000 files) and loopback source addresses (127.0.0.2, 127.0.0.3, ...).
 * By default the target is a fresh local stack (its own process, emulated AWS model on) and
 * the message goes through PublishFunction's Lambda Invoke API. With `--url wss://...` the
 * target is a deployed stack: publish with `--publish-function <name-or-arn>` (SDK LambdaClient,
 * your AWS credentials), or else through a separate client's `sendmessage` frame.
 *
 * Bounded: every phase has a deadline, and every process started here is stopped here.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { invokeFunction } from './lib/control.js';
import { createLoadGate, machineInfo } from './lib/machine.js';
import { processTimes, rssKb, threadDeltas, threadTimes } from './lib/proc.js';
import { type StackProcess, startStackProcess } from './lib/stack-process.js';
import { markdownTable, percentile } from './lib/stats.js';
import type { WorkerCommand, WorkerMessage } from './socket-worker.js';

const HELP = `Usage: npm run bench:sockets -- [options]

  --clients 2000             WebSocket clients (up to ~15000 on this machine)
  --per-process 5000         clients per child process (at most 8000)
  --url ws://...|wss://...   target an existing API (default: start a local stack)
  --publish-function NAME    deployed target: invoke this function (name or ARN) to publish
  --via invoke|sendmessage   how the message is published (default: invoke, or sendmessage for --url without --publish-function)
  --channel bench            channel the clients join (?channels=)
  --bytes 2048               message size
  --connect-rate N           new connections per second, all processes (default: unlimited locally, 400 for --url: AWS allows 500/s)
  --connect-concurrency 32   handshakes in flight per process
  --token JWT                appended as &token= (AuthMode=jwt stacks)
  --origin URL               Origin header (stacks with an origin allowlist)
  --post-latency-ms 15 --throttle-rps 10000 --throttle-burst 5000   the local stack's emulated AWS model
  --timeout-s 120            longest wait for the deliveries
  --max-load 2 --max-wait-minutes 20   wait for a quiet machine first
  --json FILE                also write the results as JSON
  --stack-prof DIR           profile the local stack process (node --cpu-prof, every thread) into DIR
`;

const { values: flags } = parseArgs({
  options: {
    clients: { type: 'string', default: '2000' },
    'per-process': { type: 'string', default: '5000' },
    url: { type: 'string' },
    'publish-function': { type: 'string' },
    via: { type: 'string' },
    channel: { type: 'string', default: 'bench' },
    bytes: { type: 'string', default: '2048' },
    'connect-rate': { type: 'string' },
    'connect-concurrency': { type: 'string', default: '32' },
    token: { type: 'string' },
    origin: { type: 'string' },
    'post-latency-ms': { type: 'string', default: '15' },
    'throttle-rps': { type: 'string', default: '10000' },
    'throttle-burst': { type: 'string', default: '5000' },
    'timeout-s': { type: 'string', default: '120' },
    'max-load': { type: 'string', default: '2' },
    'max-wait-minutes': { type: 'string', default: '20' },
    json: { type: 'string' },
    'stack-prof': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

/** One process holds < 20,000 files; keep each client process well under. */
const MAX_PER_PROCESS = 8_000;
/** API Gateway accepts 500 new connections per second per account; stay under it by default. */
const DEPLOYED_CONNECT_RATE = 400;
/** How long one process may take to open its sockets, per socket (plus a minute). */
const CONNECT_MS_PER_SOCKET = 20;

const log = (line: string) => process.stderr.write(`${line}\n`);
const epochNow = (): number => performance.timeOrigin + performance.now();

interface Worker {
  child: ChildProcess;
  address?: string;
  count: number;
  next(type: WorkerMessage['type'], timeoutMs: number): Promise<WorkerMessage>;
}

function startWorker(address: string | undefined, count: number): Worker {
  const child = fork(new URL('./socket-worker.ts', import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<string, (m: WorkerMessage) => void>();
  child.on('message', (m: WorkerMessage) => waiting.get(m.type)?.(m));
  return {
    child,
    address,
    count,
    next: (type, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`client process ${child.pid}: no ${type} within ${timeoutMs} ms`)), timeoutMs);
        waiting.set(type, (m) => {
          clearTimeout(timer);
          waiting.delete(type);
          resolve(m);
        });
      }),
  };
}

const command = (worker: Worker, message: WorkerCommand) => worker.child.send(message);

/** Opens one extra client (not in the channel) and publishes through its sendmessage route. */
async function publishBySendmessage(url: string, headers: Record<string, string>, channel: string, message: unknown): Promise<WebSocket> {
  const socket = new WebSocket(url, { headers, perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ action: 'sendmessage', channel, message }));
  return socket;
}

async function publishByFunction(functionName: string, event: unknown): Promise<void> {
  const { InvokeCommand, LambdaClient } = await import('@aws-sdk/client-lambda');
  const region = /^arn:aws[a-z-]*:lambda:([a-z0-9-]+):/.exec(functionName)?.[1];
  const client = new LambdaClient(region ? { region } : {});
  try {
    const out = await client.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(event)) }));
    if (out.FunctionError) throw new Error(`${functionName} failed: ${Buffer.from(out.Payload ?? []).toString()}`);
  } finally {
    client.destroy();
  }
}

async function main(): Promise<void> {
  if (flags.help) return void process.stdout.write(HELP);
  const clients = Number(flags.clients);
  const perProcess = Math.min(MAX_PER_PROCESS, Number(flags['per-process']));
  const channel = String(flags.channel);
  const deployed = flags.url !== undefined;
  const via = flags.via ?? (deployed && !flags['publish-function'] ? 'sendmessage' : 'invoke');
  const load = await createLoadGate(Number(flags['max-load']), Number(flags['max-wait-minutes']) * 60_000, { log })();
  let stack: StackProcess | undefined;
  const workers: Worker[] = [];
  try {
    if (!deployed) {
      stack = await startStackProcess({
        postLatencyMs: Number(flags['post-latency-ms']),
        throttleRps: Number(flags['throttle-rps']),
        throttleBurst: Number(flags['throttle-burst']),
        // The clients pace themselves (--connect-rate); the stack's emulated 500/s quota would answer 429 beyond it.
        connectRate: 0,
        // One .cpuprofile per thread (main: the HTTP and WebSocket APIs; workers: the functions), written at exit.
        nodeArgs: flags['stack-prof'] ? ['--cpu-prof', '--cpu-prof-dir', flags['stack-prof']] : [],
      });
      log(`local stack ${stack.url} (pid ${stack.pid}), functions loaded after ${(await stack.settle()).toFixed(0)} ms more`);
    }
    const base = new URL(flags.url ?? (stack as StackProcess).url);
    const loopback = /^127\./.test(base.hostname) || base.hostname === 'localhost';
    const query = new URLSearchParams(base.search);
    const headers: Record<string, string> = flags.origin ? { Origin: flags.origin } : {};
    if (flags.token) query.set('token', flags.token);
    const publisherUrl = `${base.origin}${base.pathname}${query.size ? `?${query}` : ''}`;
    query.set('channels', channel);
    const url = `${base.origin}${base.pathname}?${query}`;

    const processes = Math.ceil(clients / perProcess);
    const rate = Number(flags['connect-rate'] ?? (deployed ? DEPLOYED_CONNECT_RATE : 1e6));
    for (let i = 0; i < processes; i++) {
      const count = Math.min(perProcess, clients - i * perProcess);
      workers.push(startWorker(loopback ? `127.0.0.${2 + i}` : undefined, count));
    }
    log(`connecting ${clients} clients from ${processes} processes${loopback ? ` (source addresses 127.0.0.2-${1 + processes})` : ''}`);
    const connectTimeout = 60_000 + perProcess * CONNECT_MS_PER_SOCKET;
    const connected = await Promise.all(
      workers.map((w) => {
        const reply = w.next('connected', connectTimeout);
        command(w, {
          cmd: 'connect',
          url,
          count: w.count,
          localAddress: w.address,
          concurrency: Number(flags['connect-concurrency']),
          ratePerSecond: rate / processes,
          headers,
        });
        return reply as Promise<Extract<WorkerMessage, { type: 'connected' }>>;
      }),
    );
    const open = connected.reduce((sum, c) => sum + c.open, 0);
    const connectSeconds = (Math.max(...connected.map((c) => c.lastOpenAt)) - Math.min(...connected.map((c) => c.startedAt))) / 1000;
    const errors = [...new Set(connected.flatMap((c) => c.errors))];
    log(
      `${open} open, ${clients - open} failed${errors.length ? ` (${errors.join('; ')})` : ''}, ${(open / connectSeconds).toFixed(0)} connections/s`,
    );
    const rssConnected = { stack: stack ? rssKb(stack.pid) : undefined, clients: workers.map((w) => rssKb(w.child.pid as number) ?? 0) };

    const bare = { sentAt: 0, pad: '' };
    const pad = 'x'.repeat(Math.max(0, Number(flags.bytes) - JSON.stringify({ ...bare, sentAt: Date.now() + 0.123 }).length));
    const timeoutMs = Number(flags['timeout-s']) * 1000;
    const dones = workers.map((w) => w.next('done', timeoutMs).catch(() => undefined));
    // CPU during the delivery, per thread of the stack (main: the APIs; others: functions, dynalite, libuv) and per client process.
    const cpuOf = (pid: number) => {
      const t = processTimes(pid);
      return t ? t.user + t.system : 0;
    };
    const threadsBefore = stack ? threadTimes(stack.pid) : [];
    const clientCpuBefore = workers.map((w) => cpuOf(w.child.pid as number));
    const sentAt = epochNow();
    const message = { sentAt, pad };
    let publisher: WebSocket | undefined;
    if (via === 'sendmessage') publisher = await publishBySendmessage(publisherUrl, headers, channel, message);
    else if (deployed) await publishByFunction(String(flags['publish-function']), { channel, message });
    else {
      const outcome = await invokeFunction((stack as StackProcess).httpUrl, 'PublishFunction', { channel, message });
      if (!outcome.ok) throw new Error(`PublishFunction failed: ${JSON.stringify(outcome.payload)}`);
    }
    await Promise.all(dones);
    const stackThreads = stack ? threadDeltas(threadsBefore, threadTimes(stack.pid)).filter((t) => t.cpuMs > 0) : [];
    const clientCpuMs = workers.map((w, i) => cpuOf(w.child.pid as number) - clientCpuBefore[i]);
    const reports = (await Promise.all(
      workers.map((w) => {
        const reply = w.next('report', 30_000);
        command(w, { cmd: 'report' });
        return reply;
      }),
    )) as Array<Extract<WorkerMessage, { type: 'report' }>>;
    publisher?.close();
    const latencies = Float64Array.from(reports.flatMap((r) => r.latenciesMs)).sort();
    const received = latencies.length;
    const lastDeliveryMs = Math.max(...reports.map((r) => r.lastReceiveAt)) - sentAt;
    const rss = {
      stack: stack ? rssKb(stack.pid) : undefined,
      clients: workers.map((w) => rssKb(w.child.pid as number) ?? 0),
      bench: Math.round(process.memoryUsage().rss / 1024),
    };

    const result = {
      date: new Date().toISOString(),
      command: `npm run bench:sockets -- ${process.argv.slice(2).join(' ')}`.trim(),
      machine: machineInfo(),
      load,
      target: deployed ? base.origin + base.pathname : 'local stack',
      via,
      clients,
      processes,
      open,
      connectPerSecond: open / connectSeconds,
      received,
      duplicates: reports.reduce((sum, r) => sum + r.duplicates, 0),
      closedEarly: reports.reduce((sum, r) => sum + r.closedEarly, 0),
      lastDeliveryMs,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      cpuMsDuringDelivery: {
        stackMain: stackThreads.find((t) => t.tid === stack?.pid)?.cpuMs,
        stackOtherThreads: stackThreads.filter((t) => t.tid !== stack?.pid).sort((a, b) => b.cpuMs - a.cpuMs),
        clients: clientCpuMs,
      },
      rssKbConnected: rssConnected,
      rssKbDelivered: rss,
    };
    const mb = (kb: number | undefined) => (kb === undefined ? '-' : `${Math.round(kb / 1024)} MB`);
    process.stdout.write(
      `\n${result.date.slice(0, 10)}, ${result.machine.cpus} cores, node ${result.machine.node}, load ${load.join(' ')}, target ${result.target}, published via ${via}\n\n${markdownTable(
        ['clients', 'processes', 'connect rate', 'delivered', 'last delivery', 'p50', 'p99', 'stack RSS', 'client RSS (each)', 'bench RSS'],
        [
          [
            clients,
            processes,
            `${result.connectPerSecond.toFixed(0)}/s`,
            `${received}/${open}${result.duplicates ? ` (+${result.duplicates} dup)` : ''}`,
            `${lastDeliveryMs.toFixed(0)} ms`,
            `${result.p50Ms.toFixed(1)} ms`,
            `${result.p99Ms.toFixed(1)} ms`,
            mb(rss.stack),
            rss.clients.map(mb).join(', '),
            mb(rss.bench),
          ],
        ],
        'rrrrrrrrlr',
      )}\n`,
    );
    const cpu = result.cpuMsDuringDelivery;
    process.stdout.write(
      `\nCPU from publish to last delivery (/proc, 10 ms ticks): stack main thread ${cpu.stackMain ?? '-'} ms, other stack threads ${cpu.stackOtherThreads
        .slice(0, 4)
        .map((t) => `${t.name}#${t.tid} ${t.cpuMs} ms`)
        .join(', ')}, clients ${cpu.clients.map((ms) => `${ms} ms`).join(', ')}\n`,
    );
    if (flags.json) writeFileSync(flags.json, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    // The local stack first: its shutdown closes every socket (running $disconnect, bounded by its grace period).
    await stack?.stop();
    await Promise.all(
      workers.map(async (w) => {
        const closed = w.next('closed', 15_000).catch(() => undefined);
        if (w.child.connected) command(w, { cmd: 'close' });
        await closed;
        w.child.kill();
      }),
    );
  }
}

await main();
