/**
 * API Gateway's quota of new WebSocket connections: 500 per second per account and Region,
 * answered 429. The local stack applies it by default (unlike the account throttle below), so a
 * client's reconnect storm meets locally the 429 it would meet on AWS.
 */
export const DEFAULT_CONNECT_RATE = 500;

/**
 * A token bucket refilled at `ratePerSecond` up to `burst` tokens: API Gateway's throttles,
 * emulated. The account throttle is one such bucket (10,000/s, 5,000 burst by default) shared by
 * every API and every @connections call of an account and Region (off locally unless
 * configured); the new-connections quota is another.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  /**
   * @param ratePerSecond steady rate; 0 or less means unlimited.
   * @param burst bucket size (defaults to one second's worth).
   * @param now clock in milliseconds (tests pass a fake one).
   */
  constructor(
    readonly ratePerSecond: number,
    readonly burst: number = Math.max(1, ratePerSecond),
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token; false means "throttled" (the caller answers 429). */
  take(): boolean {
    if (this.ratePerSecond <= 0) return true;
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * The emulated per-answer latency of the @connections API: every wait lasts `ms`. Node starts a
 * timer from the event loop's clock, which only moves once per loop turn, so every
 * `setTimeout(ms)` made in one turn ends at the same moment anyway; here the waits of one turn
 * share one timer. Under a broadcast that replaces thousands of pending timers (a Timeout object
 * and a callback each) with one per loop turn, with the same timing.
 */
export class FixedDelay {
  /** Resolvers of the waits begun in this loop turn (undefined once the turn is over). */
  private batch?: Array<() => void>;

  /** @param ms delay of every wait; 0 or less means none (`wait` resolves at once). */
  constructor(readonly ms: number) {}

  /** Resolves `ms` after the call, as `setTimeout(resolve, ms)` would. */
  wait(): Promise<void> {
    if (this.ms <= 0) return Promise.resolve();
    let batch = this.batch;
    if (!batch) {
      const waiters: Array<() => void> = [];
      batch = this.batch = waiters;
      setTimeout(() => {
        for (const resolve of waiters) resolve();
      }, this.ms);
      // The check phase ends the loop turn's I/O: waits after it start their own timer.
      setImmediate(() => {
        if (this.batch === waiters) this.batch = undefined;
      });
    }
    const waiters = batch;
    return new Promise((resolve) => void waiters.push(resolve));
  }
}
