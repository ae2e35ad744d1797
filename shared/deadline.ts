/**
 * Per-invocation deadlines: every route invocation gets a time by which it answers, and every
 * DynamoDB and Lambda call made on its behalf is bounded by what is left of it (shared/clients.ts
 * reads the current deadline from here for each attempt). A per-call bound is not enough: under
 * load (1,000 concurrent joins on one emulator thread) single calls are slow yet the invocation
 * as a whole finishes in time, and a per-call bound failed joins that would have succeeded.
 *
 * The deadline travels with the invocation's async context (AsyncLocalStorage), so code deep in
 * shared/ needs no extra parameter. When it passes:
 * - the call in flight is aborted (its socket closed) and answers `unavailable`;
 * - no new attempt and no new call starts: they fail at once, so nothing is written after the
 *   client has been told the request failed (a write already sent may still land: its answer is
 *   what was lost, as with any timeout);
 * - the route answers an `unavailable` error frame (retryable, `retryAfter` seconds).
 *
 * Settings (environment, read on each use):
 * - ROUTE_DEADLINE_MS (default 20,000, 1,000 to 27,000): the most a WebSocket route may take
 *   before it answers `unavailable`. API Gateway ends the integration at 29 s with a bare
 *   "Endpoint request timed out"; the route answers well before, and never after its own
 *   function's Timeout less ANSWER_RESERVE_MS.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { AirwaveError } from './errors.js';

/** API Gateway's integration timeout for WebSocket routes (not adjustable). */
export const API_GATEWAY_TIMEOUT_MS = 29_000;
/** Default of ROUTE_DEADLINE_MS. */
export const DEFAULT_ROUTE_DEADLINE_MS = 20_000;
/**
 * Kept back from the function's remaining time: after the deadline, a route may undo a half-done
 * write (GRACE_MS) and must still answer before Lambda kills it (a killed function gives the
 * client API Gateway's bare "Internal server error").
 */
export const ANSWER_RESERVE_MS = 2_000;
/** How long the undo of a half-done write may take after the deadline (inside ANSWER_RESERVE_MS). */
export const GRACE_MS = 1_500;
/** The `retryAfter` of an `unavailable` frame, in seconds. */
export const UNAVAILABLE_RETRY_AFTER_S = 1;

/** The deadline passed (or a storage call failed for good): retry the request later. */
export class UnavailableError extends AirwaveError {
  constructor(retryAfterSeconds = UNAVAILABLE_RETRY_AFTER_S, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(
      'unavailable',
      'the service could not complete this request in time; retry later',
      { retryAfter: retryAfterSeconds, ...details },
      options,
    );
    this.name = 'UnavailableError';
  }
}

/** ROUTE_DEADLINE_MS, checked: a bad value throws at the first route call (a deploy error, not a client's). */
export function routeDeadlineMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.ROUTE_DEADLINE_MS;
  if (raw === undefined || raw === '') return DEFAULT_ROUTE_DEADLINE_MS;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1_000 || value > API_GATEWAY_TIMEOUT_MS - ANSWER_RESERVE_MS)
    throw new Error(`ROUTE_DEADLINE_MS must be an integer from 1000 to ${API_GATEWAY_TIMEOUT_MS - ANSWER_RESERVE_MS}`);
  return value;
}

/** A point in time, with a signal that aborts when it passes. */
export class Deadline {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private end: number;
  /**
   * Until when a grace after this deadline may last ({@link withGrace}): the route's answer goes
   * out at the latest then (shared/handler.ts), so no undo may write later.
   */
  graceEnd: number;
  constructor(at: number, now = Date.now(), graceEnd = at + GRACE_MS) {
    this.end = at;
    this.graceEnd = graceEnd;
    this.arm(now);
  }
  private arm(now: number): void {
    clearTimeout(this.timer);
    const wait = this.end - now;
    if (wait <= 0) this.controller.abort(new UnavailableError());
    else {
      this.timer = setTimeout(() => this.controller.abort(new UnavailableError()), wait);
      // A deadline must never keep a process (a test, a script) alive.
      this.timer.unref();
    }
  }
  get at(): number {
    return this.end;
  }
  get signal(): AbortSignal {
    return this.controller.signal;
  }
  get expired(): boolean {
    return this.controller.signal.aborted || Date.now() >= this.end;
  }
  remaining(now = Date.now()): number {
    return Math.max(0, this.end - now);
  }
  /**
   * Moves a deadline that has not passed to `at` (later or earlier). For a first step that must
   * be quick (taking a publish's idempotency lock) when the rest of the work may take longer.
   */
  moveTo(at: number, now = Date.now()): void {
    if (this.controller.signal.aborted) return;
    this.end = at;
    this.graceEnd = at + GRACE_MS;
    this.arm(now);
  }
  /** Stops the timer (the invocation is over). */
  dispose(): void {
    clearTimeout(this.timer);
  }
}

const storage = new AsyncLocalStorage<Deadline>();

/** The deadline of the invocation this code runs for, if any. */
export const currentDeadline = (): Deadline | undefined => storage.getStore();

/**
 * Runs `fn` with a deadline at `at` (never later than an enclosing one: a nested deadline can
 * only shorten the time). The deadline's timer is stopped when `fn` settles.
 */
export async function withDeadline<T>(at: number, fn: () => Promise<T>): Promise<T> {
  const outer = storage.getStore();
  const end = outer ? Math.min(outer.at, at) : at;
  const deadline = new Deadline(end, Date.now(), Math.min(outer?.graceEnd ?? Number.POSITIVE_INFINITY, end + GRACE_MS));
  try {
    return await storage.run(deadline, fn);
  } finally {
    deadline.dispose();
  }
}

/**
 * Runs `fn` under a fresh deadline `ms` from now (but never past the enclosing deadline's
 * `graceEnd`), ignoring that the enclosing one expired: for undoing a half-done write after the
 * deadline passed, before the route answers, and for handing a read's subscribers on to a
 * worker when the read itself was cut by the deadline (shared/fanout.ts). Nothing else may use it.
 */
export async function withGrace<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  // Never past the enclosing deadline's grace end: by then the client has its answer.
  const end = Math.min(Date.now() + ms, storage.getStore()?.graceEnd ?? Number.POSITIVE_INFINITY);
  const deadline = new Deadline(end, Date.now(), end);
  try {
    return await storage.run(deadline, fn);
  } finally {
    deadline.dispose();
  }
}

/** Throws `unavailable` when the current deadline has passed (before starting a call). */
export function assertTimeLeft(): void {
  if (storage.getStore()?.expired) throw new UnavailableError();
}

/**
 * Settles as `call` does, or rejects with `unavailable` when the current deadline passes first
 * (the call is also given the deadline's signal, to abort its work). Without a deadline, `call`
 * runs unbounded.
 */
export async function withinDeadline<T>(call: (signal?: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = storage.getStore();
  if (!deadline) return call();
  if (deadline.expired) throw new UnavailableError();
  const { signal } = deadline;
  let onAbort: (() => void) | undefined;
  const expired = new Promise<never>((_, reject) => {
    onAbort = () => reject(new UnavailableError());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([call(signal), expired]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** AWS error names that mean "too busy, try again", not "your request is wrong". */
const RETRYABLE_NAMES = new Set([
  'AbortError',
  'TimeoutError',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
]);

/**
 * Whether `error` (or its cause chain) means the request can be retried as it is: the deadline
 * passed, a call was aborted by it, or AWS answered "throttled" or a server fault after the SDK's
 * attempts. The client then gets `unavailable` with `retryAfter` instead of `internal_error`.
 */
export function isUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof UnavailableError) return true;
    const { name, $fault } = e as { name?: string; $fault?: string };
    if ((name && RETRYABLE_NAMES.has(name)) || $fault === 'server') return true;
  }
  return false;
}

/**
 * The deadline of a WebSocket route invocation: ROUTE_DEADLINE_MS from now, and never later than
 * the function's remaining time less ANSWER_RESERVE_MS.
 */
export function routeDeadline(context: { getRemainingTimeInMillis?: () => number } | undefined, now = Date.now()): number {
  const budget = routeDeadlineMs();
  const remaining = context?.getRemainingTimeInMillis?.();
  return now + (remaining === undefined ? budget : Math.max(0, Math.min(budget, remaining - ANSWER_RESERVE_MS)));
}
