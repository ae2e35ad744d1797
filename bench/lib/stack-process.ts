/**
 * The local stack in its own process, for benchmarks: `node --import tsx local/cli/main.ts` (what
 * `npm run dev` runs, without npx's and tsx's wrapper processes, so the pid we hold is the
 * stack itself: `ps` measures it and SIGTERM reaches it). A stack in another process keeps the
 * benchmark's own `process.cpuUsage()` about what the benchmark does, not what the stack does.
 *
 * The stack prints function output on stdout, one line each, prefixed `[<LogicalId>] `; every
 * line is handed to the listeners with the time it arrived, so a benchmark can see when a
 * function finished (its EMF metrics line) without polling.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { processTimes, rssKb } from './proc.js';

/** The repository root (the stack reads template.yaml from its working directory). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How long the stack may take to print its ready line (tsx compiles the sources first). */
const READY_TIMEOUT_MS = 120_000;
/** How long `stop()` waits after SIGTERM before SIGKILL. */
const STOP_TIMEOUT_MS = 30_000;
/** Lines of stack output kept to explain a failure. */
const TAIL_LINES = 40;
/**
 * After its ready line the stack starts every function's worker (each compiles its sources):
 * seconds of CPU. A benchmark measures after that, once the stack uses less than this share of
 * one core over a sampling window, or after the longest wait.
 */
const IDLE_CPU_SHARE = 0.1;
const IDLE_WINDOW_MS = 1_000;
const IDLE_MAX_WAIT_MS = 120_000;

/** Options of {@link startStackProcess}; they become `local/cli/main.ts` flags. */
export interface StackProcessOptions {
  postLatencyMs?: number;
  throttleRps?: number;
  throttleBurst?: number;
  /** New connections per second (`--connect-rate`; the stack's default is API Gateway's 500, 0 = unlimited). */
  connectRate?: number;
  parameterOverrides?: Record<string, string>;
  /** Run the bundles in this directory (or `.aws-sam/build` with `true`) instead of the sources. */
  built?: boolean | string;
  /** Echo the stack's output to stderr. */
  verbose?: boolean;
  /** Extra `node` flags for the stack's process (`--cpu-prof` profiles its main thread: the HTTP APIs). */
  nodeArgs?: string[];
}

/** What `GET /_local/stack` answers. */
export interface StackInfo {
  stackName: string;
  stage: string;
  url: string;
  connectionsEndpoint: string;
  lambdaEndpoint: string;
  dynamodbEndpoint: string;
  tables: Record<string, string>;
  functions: Record<string, string>;
}

/** A line of stack output and when it arrived (`performance.now()` of this process). */
export type LineListener = (line: string, at: number) => void;

/** A running stack process. */
export interface StackProcess {
  pid: number;
  /** `http://127.0.0.1:<port>` */
  httpUrl: string;
  /** `ws://127.0.0.1:<port>/<stage>` */
  url: string;
  info: StackInfo;
  onLine(listener: LineListener): () => void;
  /** The last lines the stack printed. */
  tail(): string[];
  rssKb(): number | undefined;
  /** CPU ms (user, system) the stack process has used so far, all threads. */
  cpuMs(): { user: number; system: number } | undefined;
  /** Resolves once the stack is idle (its functions loaded); returns how long that took. */
  settle(): Promise<number>;
  stop(): Promise<void>;
}

/** The `local/cli/main.ts` arguments for `options`. */
export function stackArgs(options: StackProcessOptions): string[] {
  const args = ['--port', '0'];
  if (options.postLatencyMs !== undefined) args.push('--post-latency-ms', String(options.postLatencyMs));
  if (options.throttleRps !== undefined) args.push('--throttle-rps', String(options.throttleRps));
  if (options.throttleBurst !== undefined) args.push('--throttle-burst', String(options.throttleBurst));
  if (options.connectRate !== undefined) args.push('--connect-rate', String(options.connectRate));
  if (options.built) args.push('--built', ...(typeof options.built === 'string' ? [options.built] : []));
  const overrides = Object.entries(options.parameterOverrides ?? {});
  if (overrides.length > 0) args.push('--parameter-overrides', ...overrides.map(([k, v]) => `${k}=${v}`));
  return args;
}

/** The WebSocket URL of the CLI's ready line (`Local stack ready: ws://127.0.0.1:<port>/<stage>`), if `line` is it. */
export function parseReadyLine(line: string): string | undefined {
  return /^Local stack ready: (ws:\/\/[^\s]+)$/.exec(line.trim())?.[1];
}

/** Starts the local stack in a child process; resolves once its ready line is printed. */
export async function startStackProcess(options: StackProcessOptions = {}): Promise<StackProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), '--import', 'tsx', 'local/cli/main.ts', ...stackArgs(options)],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING: '1' },
    },
  );
  // Never leave a stack behind, whatever ends this process.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const listeners = new Set<LineListener>();
  const tail: string[] = [];
  const keep = (line: string) => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    if (options.verbose) process.stderr.write(`  [stack] ${line}\n`);
  };
  let ready: ((url: string) => void) | undefined;
  let readyTimer: NodeJS.Timeout | undefined;
  const readyUrl = new Promise<string>((resolve, reject) => {
    ready = resolve;
    readyTimer = setTimeout(
      () => reject(new Error(`the local stack printed no ready line in ${READY_TIMEOUT_MS} ms:\n${tail.join('\n')}`)),
      READY_TIMEOUT_MS,
    );
    child.once('exit', (code) => reject(new Error(`the local stack exited (${code}) before it was ready:\n${tail.join('\n')}`)));
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
    const at = performance.now();
    keep(line);
    const url = parseReadyLine(line);
    if (url) ready?.(url);
    for (const listener of listeners) listener(line, at);
  });
  createInterface({ input: child.stderr as NodeJS.ReadableStream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', keep);

  let url: string;
  try {
    url = await readyUrl;
  } catch (error) {
    child.kill('SIGKILL');
    process.removeListener('exit', killOnExit);
    throw error;
  } finally {
    clearTimeout(readyTimer);
  }
  const httpUrl = url.replace(/^ws:/, 'http:').replace(/\/[^/]*$/, '');
  const info = (await (await fetch(`${httpUrl}/_local/stack`)).json()) as StackInfo;
  const pid = child.pid as number;
  let stopping: Promise<void> | undefined;
  return {
    pid,
    httpUrl,
    url,
    info,
    onLine(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    tail: () => [...tail],
    rssKb: () => rssKb(pid),
    cpuMs: () => processTimes(pid),
    settle: () => settle(pid),
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        child.once('exit', () => {
          clearTimeout(timer);
          process.removeListener('exit', killOnExit);
          resolve();
        });
        child.kill('SIGTERM');
      })),
  };
}

/** Waits until `pid` uses less than IDLE_CPU_SHARE of a core over IDLE_WINDOW_MS (bounded by IDLE_MAX_WAIT_MS). */
async function settle(pid: number): Promise<number> {
  const started = performance.now();
  const total = () => {
    const t = processTimes(pid);
    return t ? t.user + t.system : Number.NaN;
  };
  let before = total();
  while (performance.now() - started < IDLE_MAX_WAIT_MS) {
    await new Promise((resolve) => setTimeout(resolve, IDLE_WINDOW_MS));
    const now = total();
    if (!(now - before > IDLE_CPU_SHARE * IDLE_WINDOW_MS)) break; // idle, or the process is gone (NaN)
    before = now;
  }
  return performance.now() - started;
}
