/**
 * API Gateway's account throttle, emulated: a token bucket refilled at `ratePerSecond` up to
 * `burst` tokens. AWS shares one such bucket (10,000/s, 5,000 burst by default) across every
 * API and every @connections call of an account and Region; off (unlimited) unless configured.
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
