/**
 * The local Lambda service: every function runs in its own worker thread, the way each Lambda
 * function has its own execution environments. A worker has the function's environment as its
 * `process.env`, keeps module-level state between invocations (a warm container), and isolates
 * failures: a throw is an error result, a timeout or a crash retires that worker only, and the
 * next invocation gets a fresh one (a cold start), while the rest of the stack keeps running.
 *
 * Difference from AWS: one worker serves all concurrent invocations of its function (Lambda
 * would start one environment per concurrent request), so module state is shared between
 * concurrent invocations and a CPU-bound handler delays the others of the same function.
 */
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { newLambdaRequestId } from '../apigateway/ids.js';
import type { FunctionModel } from './function-model.js';
import type { LambdaErrorPayload, WorkerInvoke, WorkerReply, WorkerSetup } from './protocol.js';

/** The outcome of one invocation. `payload` is the JSON text Lambda would return (result or error). */
export interface InvokeResult {
  requestId: string;
  ok: boolean;
  payload: string;
  error?: LambdaErrorPayload;
}

/** Counters per function, for `/_local/stats` and tests. */
export interface FunctionStats {
  invocations: number;
  errors: number;
  timeouts: number;
  coldStarts: number;
  /** Invocations started and not yet finished (tests wait for 0 to know in-flight work settled). */
  running: number;
  /**
   * The most V8 heap (MB) one environment of the function used, as its answers report it: all of
   * that environment's concurrent invocations together (locally one worker serves them all,
   * where AWS gives each its own), so at most what one needs. Compare with `memoryMb`.
   */
  heapPeakMb: number;
  /** The function's MemorySize. */
  memoryMb: number;
}

/** How to run the functions. */
export interface LambdaRuntimeOptions {
  functions: Record<string, FunctionModel>;
  /** The file a function's worker imports (its TypeScript source, or its built bundle). */
  entryOf(fn: FunctionModel): string;
  /** The complete `process.env` of a function's worker. */
  environmentOf(fn: FunctionModel): Record<string, string>;
  /** Each line a function writes to stdout or stderr (its CloudWatch log, locally). */
  onLog?(functionId: string, line: string): void;
}

interface Pending {
  resolve(result: InvokeResult): void;
  timer?: NodeJS.Timeout;
  requestId: string;
}

interface Container {
  functionId: string;
  worker: Worker;
  pending: Map<number, Pending>;
  retired: boolean;
  /** The module is loaded (the init phase is over): invocation timeouts run from here. */
  initialized: boolean;
  /** Timeouts to start once initialized. */
  startClocks: Array<() => void>;
  initTimer: NodeJS.Timeout;
  /** Settles when init is over (or the worker is gone). */
  ready: Promise<void>;
  markReady(): void;
  exited: Promise<void>;
}

/**
 * Lambda does not count the init phase (loading the module) in an invocation's timeout; locally
 * that phase includes compiling TypeScript, slow on a busy machine. Past this, init has failed.
 */
export const INIT_TIMEOUT_MS = 60_000;

// Runs as CommonJS in the worker: register tsx (TypeScript sources, and this harness itself), then
// load the harness. A failure here is reported as a fatal reply (id 0) so pending calls fail fast.
const BOOTSTRAP = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.tsxApi)
  .then((tsx) => { tsx.register(); return import(workerData.harness); })
  .catch((error) => parentPort.postMessage({ id: 0, ok: false, fatal: true,
    error: { errorType: 'Runtime.StartupError', errorMessage: String((error && error.stack) || error) } }));
`;
const HARNESS = new URL('./worker.ts', import.meta.url).href;
const TSX_API = import.meta.resolve('tsx/esm/api');

const errorResult = (requestId: string, error: LambdaErrorPayload): InvokeResult => ({
  requestId,
  ok: false,
  payload: JSON.stringify(error),
  error,
});

/** Runs the template's functions in worker threads. */
export class LambdaRuntime {
  private readonly current = new Map<string, Container>();
  private readonly containers = new Set<Container>();
  private readonly counters = new Map<string, FunctionStats>();
  private nextId = 1;
  private stopped = false;

  constructor(private readonly options: LambdaRuntimeOptions) {}

  /** Per-function counters. */
  stats(): Record<string, FunctionStats> {
    return Object.fromEntries(this.counters);
  }

  /** Invokes a function (by logical id) with `event`; never rejects: failures are error results, as Lambda reports them. */
  invoke(functionId: string, event: unknown, requestId: string = newLambdaRequestId()): Promise<InvokeResult> {
    const fn = this.options.functions[functionId];
    if (!fn)
      return Promise.resolve(
        errorResult(requestId, { errorType: 'ResourceNotFoundException', errorMessage: `Function not found: ${functionId}` }),
      );
    const stats = this.statsOf(functionId);
    stats.invocations++;
    if (this.stopped)
      return Promise.resolve(errorResult(requestId, { errorType: 'Runtime.Shutdown', errorMessage: 'the local stack is stopping' }));
    if (!fn.runtime.startsWith('nodejs')) {
      stats.errors++;
      return Promise.resolve(
        errorResult(requestId, { errorType: 'Runtime.Unsupported', errorMessage: `runtime ${fn.runtime} does not run locally` }),
      );
    }
    const container = this.containerFor(fn);
    const id = this.nextId++;
    const timeoutMs = fn.timeoutSeconds * 1000;
    stats.running++;
    return new Promise<InvokeResult>((resolve) => {
      const pending: Pending = {
        requestId,
        resolve: (result) => {
          stats.running--;
          if (!result.ok) stats.errors++;
          resolve(result);
        },
      };
      const startClock = () => {
        if (!container.pending.has(id)) return;
        pending.timer = setTimeout(() => {
          container.pending.delete(id);
          stats.timeouts++;
          pending.resolve(
            errorResult(requestId, {
              errorType: 'Sandbox.Timedout',
              errorMessage: `RequestId: ${requestId} Error: Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`,
            }),
          );
          // Lambda discards an environment whose invocation timed out; its other calls may finish.
          this.retire(container);
        }, timeoutMs);
      };
      container.pending.set(id, pending);
      if (container.initialized) startClock();
      else container.startClocks.push(startClock);
      const message: WorkerInvoke = { id, event, requestId, timeoutMs };
      container.worker.postMessage(message);
    });
  }

  /**
   * Starts workers now, in the order given, at most `concurrency` initializing at once (each
   * compiles and loads its module: CPU-bound), so the first requests find them warm.
   */
  async warm(functionIds: string[] = Object.keys(this.options.functions), concurrency = 2): Promise<void> {
    const queue = functionIds.filter((id) => this.options.functions[id]?.runtime.startsWith('nodejs'));
    const lane = async () => {
      for (let id = queue.shift(); id !== undefined && !this.stopped; id = queue.shift()) {
        await this.containerFor(this.options.functions[id]).ready;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
  }

  /** Fails what is still running and terminates every worker. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const container of this.containers) {
      this.failAll(container, { errorType: 'Runtime.Shutdown', errorMessage: 'the local stack stopped' });
      void container.worker.terminate();
    }
    await Promise.all([...this.containers].map((c) => c.exited));
  }

  private statsOf(functionId: string): FunctionStats {
    const existing = this.counters.get(functionId);
    if (existing) return existing;
    const memoryMb = this.options.functions[functionId]?.memoryMb ?? 0;
    const stats = { invocations: 0, errors: 0, timeouts: 0, coldStarts: 0, running: 0, heapPeakMb: 0, memoryMb };
    this.counters.set(functionId, stats);
    return stats;
  }

  private containerFor(fn: FunctionModel): Container {
    const existing = this.current.get(fn.logicalId);
    if (existing) return existing;
    this.statsOf(fn.logicalId).coldStarts++;
    const setup: WorkerSetup = {
      entry: this.options.entryOf(fn),
      handlerExport: fn.handlerExport,
      functionName: fn.name,
      functionArn: fn.arn,
      memoryMb: fn.memoryMb,
      logStreamName: `local/[$LATEST]${newLambdaRequestId().replaceAll('-', '')}`,
      tsxApi: TSX_API,
      harness: HARNESS,
    };
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: setup,
      env: this.options.environmentOf(fn),
      // Not the parent's flags (a test runner's, say): a function's environment is its own.
      execArgv: [],
      stdout: true,
      stderr: true,
    });
    let markReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => {
      markReady = resolve;
    });
    const container: Container = {
      ready,
      markReady,
      functionId: fn.logicalId,
      worker,
      pending: new Map(),
      retired: false,
      initialized: false,
      startClocks: [],
      initTimer: setTimeout(() => {
        this.failAll(container, { errorType: 'Runtime.InitTimeout', errorMessage: `init did not finish within ${INIT_TIMEOUT_MS} ms` });
        this.retire(container);
      }, INIT_TIMEOUT_MS),
      exited: new Promise((resolve) => worker.once('exit', () => resolve())),
    };
    for (const stream of [worker.stdout, worker.stderr]) {
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) =>
        this.options.onLog?.(fn.logicalId, line),
      );
    }
    worker.on('message', (reply: WorkerReply) => this.onReply(container, reply));
    worker.on('error', (error) => {
      // An uncaught exception or unhandled rejection: Lambda's runtime exits and reports it.
      this.failAll(container, {
        errorType: 'Runtime.ExitError',
        errorMessage: `Runtime exited with error: ${error?.name}: ${error?.message}`,
      });
      this.retire(container);
    });
    worker.once('exit', (code) => {
      clearTimeout(container.initTimer);
      container.markReady();
      this.failAll(container, { errorType: 'Runtime.ExitError', errorMessage: `Runtime exited with code ${code}` });
      container.retired = true;
      if (this.current.get(fn.logicalId) === container) this.current.delete(fn.logicalId);
      this.containers.delete(container);
    });
    this.current.set(fn.logicalId, container);
    this.containers.add(container);
    return container;
  }

  private onReply(container: Container, reply: WorkerReply): void {
    if ('initialized' in reply) {
      clearTimeout(container.initTimer);
      container.initialized = true;
      container.markReady();
      for (const start of container.startClocks.splice(0)) start();
      return;
    }
    if (reply.id === 0 && !reply.ok) {
      this.failAll(container, reply.error);
      this.retire(container);
      return;
    }
    if (reply.heapPeakBytes !== undefined) {
      const stats = this.statsOf(container.functionId);
      stats.heapPeakMb = Math.max(stats.heapPeakMb, Math.round((reply.heapPeakBytes / 2 ** 20) * 10) / 10);
    }
    const pending = container.pending.get(reply.id);
    if (pending) {
      container.pending.delete(reply.id);
      clearTimeout(pending.timer);
      pending.resolve(
        reply.ok ? { requestId: pending.requestId, ok: true, payload: reply.payload } : errorResult(pending.requestId, reply.error),
      );
    }
    if (!reply.ok && reply.fatal) this.retire(container);
    else if (container.retired && container.pending.size === 0) void container.worker.terminate();
  }

  private failAll(container: Container, error: LambdaErrorPayload): void {
    for (const [id, pending] of container.pending) {
      clearTimeout(pending.timer);
      container.pending.delete(id);
      pending.resolve(
        errorResult(pending.requestId, { ...error, errorMessage: `RequestId: ${pending.requestId} Error: ${error.errorMessage}` }),
      );
    }
  }

  /** No new invocations go to this worker; it ends once its running ones have. */
  private retire(container: Container): void {
    container.retired = true;
    if (this.current.get(container.functionId) === container) this.current.delete(container.functionId);
    if (container.pending.size === 0) void container.worker.terminate();
  }
}
