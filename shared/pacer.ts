/**
 * A token-bucket pacer, so a fan-out stays under API Gateway's account throttle (10,000
 * requests/s with a 5,000 burst, shared by every API and every @connections call in the
 * Region) instead of discovering it through 429s: a 429 costs a round trip, a backoff sleep
 * and a retry, and throttles the account's other traffic too.
 *
 * The bucket holds at most `burst` tokens and gains `ratePerSecond` per second, like AWS's
 * own. A call takes a token and resolves at once (a shared, already-resolved promise: no
 * allocation, no timer); without a token it queues, and ONE timer for the whole queue wakes
 * when tokens are due and releases as many waiters as tokens allow, in call order. At 10,000/s
 * that is a few hundred timer callbacks per second, not one per request.
 */

import { PACER_MIN_TICK_MS } from './limits.js';

/** Options of {@link createPacer}. */
export interface PacerOptions {
  /** Tokens gained per second (may be fractional: a batch gets a share of the account rate). */
  ratePerSecond: number;
  /** Bucket size: how many calls may pass at once after an idle period (at least 1). */
  burst: number;
  /**
   * Shortest wait between two releases of queued calls. Larger batches more waiters per
   * timer (cheaper) at the cost of releasing them in slightly bigger groups; the rate holds either way.
   */
  minTickMs?: number;
  /** Monotonic clock in ms (tests may pin it; sinon fake timers also fake the default). */
  now?: () => number;
}

/** Resolves when one more request is allowed. Pass it to the fan-out as `options.pace`. */
export type Pacer = () => Promise<void>;

/** A pacer whose share of the rate can change while calls wait (see {@link createPacer}). */
export interface AdjustablePacer extends Pacer {
  /**
   * Changes the rate and the bucket size from now on: tokens earned so far are kept at the old
   * rate, then capped at the new `burst`; queued calls are released at the new rate. The
   * publisher uses it to give away part of its rate to workers once it knows the channel's size.
   */
  reshape(options: { ratePerSecond: number; burst: number }): void;
  /** Tokens in the bucket now (a fraction counts: the next call waits for the rest). */
  tokens(): number;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Creates a token-bucket pacer. The bucket starts full.
 *
 * @example
 * const pace = createPacer({ ratePerSecond: 9000, burst: 4500 });
 * await deliver(pages, frame, { poster, pace });
 */
export function createPacer(options: PacerOptions): AdjustablePacer {
  checkRate(options.ratePerSecond);
  let perMs = options.ratePerSecond / 1000;
  let capacity = Math.max(1, Math.floor(options.burst));
  const minTickMs = Math.max(1, options.minTickMs ?? PACER_MIN_TICK_MS);
  const now = options.now ?? (() => performance.now());
  let tokens = capacity;
  let last = now();
  let waiters: Array<() => void> = [];
  let head = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  function refill(): void {
    const t = now();
    tokens += (t - last) * perMs;
    last = t;
  }

  function schedule(): void {
    // The timer is not unref'd: a fan-out awaiting its pace must keep the process alive.
    timer = setTimeout(release, Math.max(minTickMs, Math.ceil((1 - tokens) / perMs)));
  }

  function release(): void {
    timer = undefined;
    // Not capped at `burst` here: with callers queued, each token is spent the moment it is
    // due, so none were lost to a full bucket; capping would cut the rate to burst per tick.
    refill();
    while (head < waiters.length && tokens >= 1) {
      tokens -= 1;
      waiters[head++]();
    }
    if (head < waiters.length) schedule();
    else {
      waiters = [];
      head = 0;
      tokens = Math.min(capacity, tokens);
    }
  }

  function pace(): Promise<void> {
    // Queued callers go first: a new caller may not overtake them even if a token is due.
    if (head === waiters.length) {
      refill();
      tokens = Math.min(capacity, tokens); // an idle bucket fills up to `burst`, no further
      if (tokens >= 1) {
        tokens -= 1;
        return RESOLVED;
      }
    }
    return new Promise<void>((resolve) => {
      waiters.push(resolve);
      if (timer === undefined) schedule();
    });
  }

  pace.reshape = (next: { ratePerSecond: number; burst: number }): void => {
    checkRate(next.ratePerSecond);
    refill(); // tokens up to now at the old rate
    perMs = next.ratePerSecond / 1000;
    capacity = Math.max(1, Math.floor(next.burst));
    tokens = Math.min(capacity, tokens);
    // A wait planned at the old rate is planned again at the new one.
    if (timer !== undefined) {
      clearTimeout(timer);
      schedule();
    }
  };
  pace.tokens = (): number => {
    refill();
    return head === waiters.length ? Math.min(capacity, tokens) : tokens;
  };
  return pace;
}

function checkRate(ratePerSecond: number): void {
  if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) throw new RangeError('ratePerSecond must be a positive number');
}
