/**
 * Runs inside one function's worker thread: the local stand-in for a Lambda execution
 * environment. It imports the function's module once (the "init" phase, so module-level state
 * lives as long as the worker, like a warm container), then runs each invocation it is sent and
 * answers with the JSON-serialized result or the error, shaped as Lambda reports them.
 */

import { pathToFileURL } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import type { LambdaErrorPayload, WorkerInvoke, WorkerReply, WorkerSetup } from './protocol.js';

/** How often the heap is sampled between answers (a large broadcast holds its ids for seconds). */
const HEAP_SAMPLE_MS = 100;
let heapPeakBytes = 0;
function sampleHeap(): number {
  heapPeakBytes = Math.max(heapPeakBytes, getHeapStatistics().used_heap_size);
  return heapPeakBytes;
}
// Unref'd: the sampler never keeps a finished worker alive.
setInterval(sampleHeap, HEAP_SAMPLE_MS).unref();

type Handler = (event: unknown, context: unknown, callback?: (error?: unknown, result?: unknown) => void) => unknown;

const setup = workerData as WorkerSetup;
const port = parentPort;
if (!port) throw new Error('local/lambda/worker.ts runs only as a worker thread');

/** Lambda's own error shape (`errorType`, `errorMessage`, `trace`). */
function errorPayload(error: unknown, fallbackType = 'Error'): LambdaErrorPayload {
  if (error instanceof Error)
    return { errorType: error.name || fallbackType, errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
  // A thrown non-Error (a string, say) is reported by Lambda's Node runtime under its typeof.
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

class InitError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const handlerReady: Promise<Handler> = (async () => {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(setup.entry).href)) as Record<string, unknown>;
  } catch (error) {
    throw new InitError('Runtime.ImportModuleError', `Error: Cannot load ${setup.entry}: ${(error as Error)?.stack ?? String(error)}`);
  }
  // A CommonJS bundle arrives as `default`; an ESM one has the named export.
  const handler = mod[setup.handlerExport] ?? (mod.default as Record<string, unknown> | undefined)?.[setup.handlerExport];
  if (typeof handler !== 'function')
    throw new InitError('Runtime.HandlerNotFound', `${setup.entry}.${setup.handlerExport} is undefined or not exported`);
  return handler as Handler;
})();
// The init phase is over either way (an init failure is reported per invocation, as Lambda does).
handlerReady.then(
  () => port.postMessage({ initialized: true } satisfies WorkerReply),
  () => port.postMessage({ initialized: true } satisfies WorkerReply),
);

function run(handler: Handler, event: unknown, context: unknown): Promise<unknown> {
  // Callback-style handlers (three parameters) are still accepted by the Node 22 runtime.
  if (handler.length < 3) return Promise.resolve(handler(event, context));
  return new Promise((resolve, reject) => {
    const returned = handler(event, context, (error, result) => (error ? reject(error) : resolve(result)));
    if (returned && typeof (returned as Promise<unknown>).then === 'function') (returned as Promise<unknown>).then(resolve, reject);
  });
}

port.on('message', async (message: WorkerInvoke) => {
  let deadline = Date.now() + message.timeoutMs;
  const context = {
    functionName: setup.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: setup.functionArn,
    memoryLimitInMB: String(setup.memoryMb),
    awsRequestId: message.requestId,
    logGroupName: `/aws/lambda/${setup.functionName}`,
    logStreamName: setup.logStreamName,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  let reply: WorkerReply;
  try {
    const handler = await handlerReady;
    deadline = Date.now() + message.timeoutMs; // the clock starts after init

    const result = await run(handler, message.event, context);
    // Lambda serializes the result as JSON; `undefined` becomes `null`.
    reply = { id: message.id, ok: true, payload: JSON.stringify(result) ?? 'null', heapPeakBytes: sampleHeap() };
  } catch (error) {
    reply = { id: message.id, ok: false, error: errorPayload(error), fatal: error instanceof InitError, heapPeakBytes: sampleHeap() };
  }
  port.postMessage(reply);
});
