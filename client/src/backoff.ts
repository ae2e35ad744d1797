/**
 * Reconnect delay: exponential backoff with full jitter, uniform in
 * [0, min(max, base * 2^attempt)) (whole milliseconds). Full jitter (rather than "base plus a little noise") is what
 * spreads a whole fleet of clients that dropped at the same instant: API Gateway admits only 500
 * new connections per second per account and Region.
 *
 * @example
 * backoffDelay(3, 500, 30_000, Math.random); // somewhere in [0, 4000)
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 52));
  return Math.floor(random() * ceiling);
}
