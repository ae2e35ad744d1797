/**
 * AWS figures the benchmarks emulate and the cost model assumes, each stated once: the account
 * throttle every @connections post shares, one post's latency, and the SDK's socket cap.
 * Sources: shared/reference/aws-websocket-facts.md (throttle), issue 5's measurements (latency),
 * @smithy/node-http-handler's default agent (sockets).
 */
import type { ThrottleModel } from './stats.js';

/**
 * API Gateway's default account throttle, 10,000 requests/s with a 5,000 burst (shared by REST,
 * HTTP, WebSocket APIs and @connections calls; lower in some Regions), and the ~15 ms API Gateway
 * takes to hand one frame to a socket, measured from Lambda.
 */
export const ACCOUNT_THROTTLE: Readonly<ThrottleModel> = { ratePerSecond: 10_000, burst: 5_000, postLatencyMs: 15 };

/** The memory a Lambda function may be given (MemorySize), in MB. */
export const LAMBDA_MEMORY_MB = { min: 128, max: 10_240 } as const;

/** SDK v3's NodeHttpHandler keeps at most 50 sockets: the posts the SDK path has in flight by default. */
export const SDK_MAX_SOCKETS = 50;
