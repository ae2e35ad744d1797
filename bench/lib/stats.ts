/**
 * Small numeric helpers of the benchmarks. Pure.
 */

/** The account throttle the benchmarks emulate (API Gateway's defaults) and the post latency. */
export interface ThrottleModel {
  /** Steady @connections posts per second. */
  ratePerSecond: number;
  /** Posts allowed at once from a full bucket. */
  burst: number;
  /** Time API Gateway takes to answer one post. */
  postLatencyMs: number;
}

/**
 * The fastest any design can deliver `n` posts under the throttle: the burst goes at once, the
 * rest at the steady rate, so `(n - burst) / rate` seconds; a broadcast that fits in the burst
 * (or nearly) is bounded by one post's latency instead.
 */
export function throttleFloorMs(n: number, model: ThrottleModel): number {
  return Math.max(model.postLatencyMs, ((n - model.burst) / model.ratePerSecond) * 1000);
}

/** The `p`-th percentile (0-100) by nearest rank; NaN for no values. `sorted` must be ascending. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** The median of `values` (mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** `1000`, `20k`, `100k`: how N reads in tables and plots. */
export function formatCount(n: number): string {
  if (n >= 1000 && n % 1000 === 0) return `${n / 1000}k`;
  return String(n);
}

/** A comma-separated list of positive integers (`1000,20000,100000`, also `1k,20k,100k`). */
export function parseCounts(text: string): number[] {
  return text.split(',').map((part) => {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(k?)\s*$/i.exec(part);
    const value = match ? Number(match[1]) * (match[2] ? 1000 : 1) : Number.NaN;
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`not a positive count: ${part.trim()}`);
    return value;
  });
}

/** Renders rows as a markdown table (`align`: `l` or `r` per column). */
export function markdownTable(header: string[], rows: Array<Array<string | number>>, align: string = 'l'.repeat(header.length)): string {
  const rule = header.map((_, i) => (align[i] === 'r' ? '---:' : '---'));
  return [header, rule, ...rows.map((r) => r.map(String))].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
