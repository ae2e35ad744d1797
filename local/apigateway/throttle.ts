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
