/**
 * The wrapper every WebSocket route uses: builds the route's context from the API Gateway event,
 * runs the route, and turns its result, or its error, into the frame API Gateway returns to the
 * client (the route's `$default` RouteResponse). This is the only place errors become frames:
 * an AirwaveError keeps its stable code and message; anything else is logged here and the
 * client gets a bare `internal_error`, never a stack trace or an internal message.
 */
import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { config } from './config.js';
import { AirwaveError } from './errors.js';
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
  return authMode === 'jwt' ? `sub#${rights.principal}` : `ip#${sourceIp || 'unknown'}`;
}

/** The frame for an error: its own for AirwaveError, `internal_error` (and a log line) otherwise. */
export function frameForError(error: unknown): ServerFrame {
  if (error instanceof AirwaveError) {
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
  return async function handler(event: WebSocketEvent): Promise<RouteResult> {
    logger.appendKeys({ connectionId: event.requestContext?.connectionId, routeKey: event.requestContext?.routeKey });
    let frame: ServerFrame | undefined;
    try {
      frame = await route(routeContext(event));
    } catch (error) {
      frame = frameForError(error);
    } finally {
      flushMetrics();
    }
    return frame === undefined ? { statusCode: 200 } : { statusCode: 200, body: JSON.stringify(frame) };
  };
}

export type { APIGatewayProxyResultV2 };
