/**
 * Messages between the local Lambda runtime (main thread) and a function's worker thread.
 * Types only: imported by both sides.
 */

/** What a worker needs to know about its function (its `workerData`). */
export interface WorkerSetup {
  entry: string;
  handlerExport: string;
  functionName: string;
  functionArn: string;
  memoryMb: number;
  logStreamName: string;
  /** `tsx/esm/api` to register before loading anything (TypeScript sources and this harness). */
  tsxApi: string;
  /** The harness module (local/lambda/worker.ts). */
  harness: string;
}

/** One invocation sent to a worker. */
export interface WorkerInvoke {
  id: number;
  event: unknown;
  requestId: string;
  /** The function's timeout, counted from when the handler starts (`context.getRemainingTimeInMillis`). */
  timeoutMs: number;
}

/** Lambda's error payload, as `X-Amz-Function-Error` answers carry it. */
export interface LambdaErrorPayload {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

/**
 * A worker's answer. `fatal` means the environment is unusable (init failed): it is replaced.
 * `{ initialized: true }` ends the init phase (module loaded, or failed to), whose time Lambda
 * does not count in an invocation's timeout.
 */
export type WorkerReply =
  | ({ id: number; ok: true; payload: string } & HeapReport)
  | ({ id: number; ok: false; error: LambdaErrorPayload; fatal?: boolean } & HeapReport)
  | { initialized: true };

/**
 * The most V8 heap the worker's isolate has used so far, sampled (local/lambda/worker.ts). One
 * worker serves every concurrent invocation of its function, so this is their sum plus the
 * loaded modules: an upper bound on what one invocation needs of its MemorySize on AWS.
 */
export interface HeapReport {
  heapPeakBytes?: number;
}
