/**
 * The wrapper every WebSocket route uses: builds the route's context from the API Gateway event,
 * runs the route, and turns its result, or its error, into the frame API Gateway returns to the
 * client (the route's `$default` RouteResponse). This is the only place errors become frames:
 * an AirwaveError keeps its stable code and message; anything else is logged here and the
 * client gets a bare `internal_error`, never a stack trace or an internal message. Every refusal
 * is logged here at WARN (code and route; never the frame body). It is also where every frame
 * is counted against the connection's flood limit (shared/flood.ts) before any other work.
 */
import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { type Config, config } from './config.js';
import { GRACE_MS, isUnavailable, routeDeadline, UnavailableError, withDeadline } from './deadline.js';
import { AirwaveError } from './errors.js';
import { closeFloodingConnection, FrameLimiter } from './flood.js';
import { flushMetrics, logger, metrics } from './observability.js';
import { type Rights, rightsFromContext } from './policy.js';
import { errorFrame, internalErrorFrame, type ServerFrame } from './protocol.js';
import { parseFrame } from './validate.js';

/** API Gateway's WebSocket event; `authorizer` is present on events of authorized connections. */
export type WebSocketEvent = APIGatewayProxyWebsocketEventV2 & {
  requestContext: APIGatewayProxyWebsocketEventV2['requestContext'] & {
    authorizer?: Record<string, unknown>;
    identity?: { sourceIp?: string };
  };
};

export interface RouteContext {
  event: WebSocketEvent;
  connectionId: string;
  /** Epoch milliseconds when the connection was opened (drives row TTLs). */
  connectedAt: number;
  rights: Rights;
  /**
   * Whose budgets a request spends: `sub#<sub>` with AuthMode=jwt (every connection of one
   * token's subject shares them), `ip#<source ip>` with AuthMode=none (everyone behind one NAT
   * shares them: there is no better identity without a token).
   */
  principalKey: string;
  /** The frame's parsed body; throws `bad_json` / `bad_request` when it is not a safe JSON object. */
  body(): Record<string, unknown>;
}

export type RouteResult = { statusCode: number; body?: string };

export function routeContext(event: WebSocketEvent): RouteContext {
  const rc = event.requestContext;
  let parsed: Record<string, unknown> | undefined;
  const { authMode } = config();
  const rights = rightsFromContext(rc.authorizer, authMode);
  return {
    event,
    connectionId: rc.connectionId,
    connectedAt: typeof rc.connectedAt === 'number' ? rc.connectedAt : Date.now(),
    rights,
    principalKey: principalKeyOf(authMode, rights, rc.identity?.sourceIp),
    body() {
      parsed ??= parseFrame(event.body, event.isBase64Encoded);
      return parsed;
    },
  };
}

/** The budget key of a request's principal (see RouteContext.principalKey). */
export function principalKeyOf(authMode: 'none' | 'jwt', rights: Rights, sourceIp: string | undefined): string {
  return authMode === 'jwt' ? `sub#${rights.principal}` : `ip#${ipBudgetKey(sourceIp || 'unknown')}`;
}

/**
 * An IPv4 address as it is; an IPv6 address by its /64 prefix: one subscriber line holds a whole
 * /64, so counting single IPv6 addresses would give one client 2^64 budgets.
 */
export function ipBudgetKey(ip: string): string {
  if (!ip.includes(':')) return ip;
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = ip.includes('::') && tail ? tail.split(':') : [];
  const groups = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * The frame for an error: its own for AirwaveError (and a WARN line: the default LogLevel must
 * show refusals), `internal_error` (and an ERROR line) otherwise. The WARN line holds the code
 * and route only: the error's message may quote the client's input (an unknown action's name).
 */
export function frameForError(error: unknown, route?: string): ServerFrame {
  // Storage too slow or throttled (the deadline passed, the SDK gave up): the client may retry.
  if (!(error instanceof AirwaveError) && isUnavailable(error)) {
    logger.warn('storage unavailable', { name: (error as Error)?.name, route });
    error = new UnavailableError(undefined, {}, { cause: error });
  }
  if (error instanceof AirwaveError) {
    // A budget refusal says which budget (publish or replay) and whose (connection or principal).
    const budget = error.code === 'rate_limited' ? { budget: error.details.budget, scope: error.details.scope } : {};
    logger.warn('frame refused', { reason: error.code, code: error.code, route, ...budget });
    metrics.addMetric('ClientErrors', 'Count', 1);
    return errorFrame(error);
  }
  logger.error('route failed', error as Error);
  metrics.addMetric('InternalErrors', 'Count', 1);
  return internalErrorFrame();
}

/**
 * Wraps a message route (joinchannel, sendmessage, ... and $default). The route returns the frame
 * to send back, or nothing.
 */
export function messageRoute(route: (ctx: RouteContext) => Promise<ServerFrame | undefined>) {
  // One limiter per route, as on AWS (each route is its own function, so its own containers).
  // Rebuilt when the settings are re-read (tests); in Lambda that is never.
  let limiter: FrameLimiter | undefined;
  let limiterConfig: Config | undefined;
  function frameLimiter(): FrameLimiter {
    const current = config();
    if (limiter === undefined || limiterConfig !== current) {
      limiter = new FrameLimiter({ ratePerSecond: current.frameRateLimit, burst: current.frameBurstLimit });
      limiterConfig = current;
    }
    return limiter;
  }

  return async function handler(event: WebSocketEvent, context?: { getRemainingTimeInMillis?: () => number }): Promise<RouteResult> {
    const connectionId = event.requestContext?.connectionId;
    const routeKey = event.requestContext?.routeKey;
    logger.appendKeys({ connectionId, routeKey });
    let frame: ServerFrame | undefined;
    try {
      // Counted before anything else, parsing included: a flood must cost as little as possible.
      const verdict = connectionId ? frameLimiter().take(connectionId) : 'allow';
      if (verdict !== 'allow') {
        // The flooding frame and every later one get no answer: the error frame is posted, then the connection closed.
        if (verdict === 'flood' && !(await closeFloodingConnection(connectionId, routeKey))) frameLimiter().closeFailed(connectionId);
        return { statusCode: 200 };
      }
      frame = await runBounded(routeDeadline(context), () => route(routeContext(event)));
    } catch (error) {
      frame = frameForError(error, routeKey);
    } finally {
      flushMetrics();
    }
    return frame === undefined ? { statusCode: 200 } : { statusCode: 200, body: JSON.stringify(frame) };
  };
}

/**
 * Runs a route under its deadline (shared/deadline.ts). Every storage call fails once the
 * deadline passes, so a route normally ends on its own right after it (having undone a
 * half-done write within GRACE_MS); should it still be busy (a post in flight) at the deadline
 * plus GRACE_MS, the client is answered `unavailable` anyway and nothing it starts later can
 * reach storage.
 */
async function runBounded<T>(at: number, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UnavailableError()), Math.max(0, at + GRACE_MS - Date.now()));
  });
  try {
    return await Promise.race([withDeadline(at, fn), late]);
  } finally {
    clearTimeout(timer);
  }
}

export type { APIGatewayProxyResultV2 };
