/**
 * Frame floods: a connection that keeps sending frames faster than FrameRateLimit (burst
 * FrameBurstLimit) is told so with a `flooding` error frame and closed with
 * `DELETE @connections/{id}`.
 *
 * Why here and not in DynamoDB: the check runs before every frame of every message route, and a
 * DynamoDB counter would cost a write per frame, the very thing a flood should not buy. So each
 * container counts in memory, per connection id. Lambda serves one invocation at a time per
 * container, and each route is its own function, so the bound is per route and per container:
 * docs/security.md ("Frame floods") says what that means with several containers.
 *
 * Why close rather than refuse frame by frame: every refused frame still costs an invocation and
 * takes a share of the stage throttle that all clients share. Closing ends both; a client that
 * reconnects starts again with a full bucket and is closed again if it floods again.
 */
import { FloodingError } from './errors.js';
import { FastPoster } from './fast-poster.js';
import { logger, metrics } from './observability.js';
import type { ConnectionCloser, Poster } from './poster.js';
import { errorFrame } from './protocol.js';

/**
 * Connections one container remembers at most. An entry is about 100 bytes of heap (measured:
 * 91 bytes with 16-character ids), so 10,000 is about 1 MB; past it the oldest entries not being
 * closed are forgotten first.
 */
export const FRAME_LIMITER_MAX_ENTRIES = 10_000;
/** How often idle entries are swept (one pass over the map, only when a new connection arrives). */
export const FRAME_LIMITER_SWEEP_MS = 10_000;
/**
 * How long frames of a closed connection are refused without any work. API Gateway stops
 * invoking for a connection once it is closed; this covers frames already on their way.
 */
export const FLOOD_CLOSED_MEMORY_MS = 60_000;
/** When the DELETE failed, a frame after this long (if the flood goes on) tries to close again. */
export const FLOOD_CLOSE_RETRY_MS = 1_000;

/** `allow`: handle the frame; `flood`: this frame tripped the limit, close the connection; `refuse`: drop it, no work. */
export type FrameVerdict = 'allow' | 'flood' | 'refuse';

/** Options of a {@link FrameLimiter}. */
export interface FrameLimiterOptions {
  /** Frames per second a connection may send, sustained; 0 turns the limit off. */
  ratePerSecond: number;
  /** Frames a connection may send at once (the bucket's size, at least 1). */
  burst: number;
  /** Default {@link FRAME_LIMITER_MAX_ENTRIES}. */
  maxEntries?: number;
  /** Default {@link FLOOD_CLOSED_MEMORY_MS}. */
  closedMemoryMs?: number;
  /** Default {@link FLOOD_CLOSE_RETRY_MS}. */
  closeRetryMs?: number;
  /** Monotonic clock in ms (tests pin it). */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date. */
  last: number;
  /** Until then every frame is refused (the connection is being closed, or was). 0: not closing. */
  refuseUntil: number;
}

/**
 * One token bucket per connection id, in memory. A frame costs one Map lookup and a little
 * arithmetic; idle entries are swept in one pass at most every {@link FRAME_LIMITER_SWEEP_MS}
 * (and when the map is full), never per frame: iterating a Map from its start on every frame
 * would cost O(entries) per frame once deletions leave holes in V8's table.
 *
 * @example
 * const limiter = new FrameLimiter({ ratePerSecond: 10, burst: 60 });
 * if (limiter.take(connectionId) === 'flood') await closeFloodingConnection(connectionId, 'ping');
 */
export class FrameLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly burst: number;
  private readonly maxEntries: number;
  private readonly closedMemoryMs: number;
  private readonly closeRetryMs: number;
  private readonly now: () => number;
  private nextSweep: number;

  constructor(options: FrameLimiterOptions) {
    if (!(options.ratePerSecond >= 0) || !Number.isFinite(options.ratePerSecond)) throw new RangeError('ratePerSecond must be >= 0');
    this.perMs = options.ratePerSecond / 1000;
    this.burst = Math.max(1, Math.floor(options.burst));
    this.maxEntries = Math.max(1, options.maxEntries ?? FRAME_LIMITER_MAX_ENTRIES);
    this.closedMemoryMs = options.closedMemoryMs ?? FLOOD_CLOSED_MEMORY_MS;
    this.closeRetryMs = options.closeRetryMs ?? FLOOD_CLOSE_RETRY_MS;
    this.now = options.now ?? (() => performance.now());
    this.nextSweep = this.now() + FRAME_LIMITER_SWEEP_MS;
  }

  /** Connections currently remembered. */
  get size(): number {
    return this.buckets.size;
  }

  /** Counts one frame of `connectionId` and says what to do with it. */
  take(connectionId: string): FrameVerdict {
    if (this.perMs === 0) return 'allow';
    const now = this.now();
    let bucket = this.buckets.get(connectionId);
    if (bucket === undefined) {
      // Only a new entry grows the map, so only then is a sweep ever due.
      if (now >= this.nextSweep || this.buckets.size >= this.maxEntries) this.sweep(now);
      bucket = { tokens: this.burst, last: now, refuseUntil: 0 };
      this.buckets.set(connectionId, bucket);
    }
    if (bucket.refuseUntil > now) return 'refuse';
    bucket.refuseUntil = 0;
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.last) * this.perMs);
    bucket.last = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 'allow';
    }
    bucket.refuseUntil = now + this.closedMemoryMs;
    return 'flood';
  }

  /** The close of a flooding connection failed: let a frame after a short pause try again. */
  closeFailed(connectionId: string): void {
    const bucket = this.buckets.get(connectionId);
    if (bucket !== undefined) bucket.refuseUntil = this.now() + this.closeRetryMs;
  }

  /**
   * One pass: drops every entry that carries no information (a bucket refilled to `burst`
   * behaves exactly like a missing one; a closed connection past its memory is gone). If the map
   * is still full, forgets the oldest connections down to 90% of the bound (so the next few new
   * ones do not each pay a pass), keeping those being closed: a forgotten flooder would get a
   * fresh burst.
   */
  private sweep(now: number): void {
    this.nextSweep = now + FRAME_LIMITER_SWEEP_MS;
    for (const [id, bucket] of this.buckets) {
      if (Math.max(bucket.refuseUntil, bucket.last + (this.burst - bucket.tokens) / this.perMs) <= now) this.buckets.delete(id);
    }
    if (this.buckets.size < this.maxEntries) return;
    const target = Math.floor(this.maxEntries * 0.9);
    for (const [id, bucket] of this.buckets) {
      if (this.buckets.size <= target) return;
      if (bucket.refuseUntil <= now) this.buckets.delete(id);
    }
    // Every entry is a connection being closed: the bound still holds, oldest first.
    for (const id of this.buckets.keys()) {
      if (this.buckets.size <= target) return;
      this.buckets.delete(id);
    }
  }
}

/**
 * Tells a flooding connection why (one `flooding` error frame) and closes it. Logs one WARN line
 * (reason `flood`, the connection id and route; never a frame body). Returns false when the
 * connection could not be closed (the caller lets a later frame try again).
 */
export async function closeFloodingConnection(
  connectionId: string,
  route: string,
  closer: () => Poster & ConnectionCloser = floodCloser,
): Promise<boolean> {
  logger.warn('connection closed: frame flood', { reason: 'flood', code: 'flooding', connectionId, route });
  metrics.addMetric('FloodedConnections', 'Count', 1);
  let outcome: string;
  try {
    const client = closer();
    // The frame first: API Gateway delivers a post it accepted before the close that follows it.
    const posted = await client.post(connectionId, JSON.stringify(errorFrame(new FloodingError())));
    if (posted === 'gone') return true;
    outcome = await client.disconnect(connectionId);
    if (outcome === 'ok' || outcome === 'gone') return true;
  } catch (error) {
    outcome = (error as Error).name; // a closer that cannot be built (no endpoint or credentials)
  }
  logger.error('closing a flooding connection failed', { reason: 'flood', connectionId, route, outcome });
  return false;
}

let closer: (Poster & ConnectionCloser) | undefined;

/**
 * The @connections client that closes flooding connections: a small FastPoster, built on the
 * first flood (most containers never see one), and not the SDK's client, so that ping and
 * $default do not load the AWS SDK at cold start for a path they rarely take.
 */
export function floodCloser(): Poster & ConnectionCloser {
  closer ??= new FastPoster({ maxSockets: 2 });
  return closer;
}

/**
 * Replace the closer; `undefined` closes the built one and builds afresh on next use. Called by
 * `configure({ clients: { floodCloser } })` and `reset()` in shared/dependencies.ts only.
 */
export function setFloodCloser(next: (Poster & ConnectionCloser) | undefined): void {
  if (closer instanceof FastPoster) void closer.close();
  closer = next;
}
