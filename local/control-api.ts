/**
 * The local stack's own API under `/_local/` (no AWS counterpart), for benchmarks and tests:
 *
 * - `POST /_local/virtual-connections` `{"count": N, "connect"?: bool, "queryStringParameters"?: {...}, "authorizer"?: {...}}`
 *   → 201 `{"connectionIds": [...]}`: connections without sockets that count what is posted to
 *   them. With `connect`, `$connect` runs for each (with that query string and authorizer
 *   context, no authorizer call), so they join channels through the real code path.
 * - `DELETE /_local/virtual-connections` → `{"removed": n}` (`$disconnect` runs for connected ones).
 * - `GET /_local/stats` → connection counts, @connections counters, per-virtual-connection
 *   deliveries, per-function invocation counters. `DELETE /_local/stats` zeroes the counters.
 * - `GET /_local/stack` → endpoints, stage, tables, functions and routes of the running stack.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConnectionRegistry } from './apigateway/connections.js';
import type { ConnectionsApi } from './apigateway/connections-api.js';
import type { WebSocketApi } from './apigateway/websocket-api.js';
import { BodyTooLargeError, readBody, sendJson } from './http.js';
import type { LambdaRuntime } from './lambda/runtime.js';

/** Virtual connections one request may add. */
export const MAX_VIRTUAL_PER_REQUEST = 100_000;
const CONTROL_BODY_MAX_BYTES = 64 * 1024;

/** What the control API reads and drives. */
export interface ControlApiOptions {
  registry: ConnectionRegistry;
  websocket: WebSocketApi;
  connectionsApi: ConnectionsApi;
  runtime: LambdaRuntime;
  info(): Record<string, unknown>;
}

const isStringMap = (v: unknown): v is Record<string, string> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');

/** Serves `/_local/*`. */
export class ControlApi {
  constructor(private readonly options: ControlApiOptions) {}

  servesPath(pathname: string): boolean {
    return pathname.startsWith('/_local/');
  }

  async handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const route = `${req.method} ${pathname}`;
    switch (route) {
      case 'POST /_local/virtual-connections':
        return this.addVirtual(req, res);
      case 'DELETE /_local/virtual-connections': {
        const virtual = this.options.registry.all().filter((c) => c.virtual);
        for (const connection of virtual) this.options.websocket.disconnect(connection, 1000, 'Connection Closed Normally');
        return sendJson(res, 200, { removed: virtual.length });
      }
      case 'GET /_local/stats':
        return sendJson(res, 200, this.stats());
      case 'DELETE /_local/stats':
        this.options.connectionsApi.resetStats();
        this.options.websocket.stats.connectThrottled = 0;
        for (const connection of this.options.registry.all()) if (connection.virtual) connection.virtual = { deliveries: 0, bytes: 0 };
        return sendJson(res, 200, this.stats());
      case 'GET /_local/stack':
        return sendJson(res, 200, this.options.info());
      default:
        return sendJson(res, 404, { message: `no local control route ${route}` });
    }
  }

  private stats(): Record<string, unknown> {
    const perConnection: Record<string, number> = {};
    let deliveries = 0;
    for (const connection of this.options.registry.all()) {
      if (!connection.virtual) continue;
      perConnection[connection.connectionId] = connection.virtual.deliveries;
      deliveries += connection.virtual.deliveries;
    }
    return {
      connections: {
        real: this.options.registry.real,
        virtual: this.options.registry.virtual,
        connectThrottled: this.options.websocket.stats.connectThrottled,
      },
      connectionsApi: { ...this.options.connectionsApi.stats },
      virtual: { deliveries, perConnection },
      functions: this.options.runtime.stats(),
    };
  }

  private async addVirtual(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let input: Record<string, unknown>;
    try {
      input = JSON.parse((await readBody(req, CONTROL_BODY_MAX_BYTES)).toString('utf8') || '{}');
    } catch (error) {
      return sendJson(res, error instanceof BodyTooLargeError ? 413 : 400, { message: 'body must be a JSON object under 64 KB' });
    }
    const count = input?.count;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_VIRTUAL_PER_REQUEST) {
      return sendJson(res, 400, { message: `count must be an integer from 1 to ${MAX_VIRTUAL_PER_REQUEST}` });
    }
    const { queryStringParameters, authorizer } = input;
    if (queryStringParameters !== undefined && !isStringMap(queryStringParameters))
      return sendJson(res, 400, { message: 'queryStringParameters must map strings to strings' });
    if (authorizer !== undefined && (authorizer === null || typeof authorizer !== 'object' || Array.isArray(authorizer))) {
      return sendJson(res, 400, { message: 'authorizer must be a map' });
    }
    const ids = await this.options.websocket.addVirtual(count, {
      connect: input.connect === true || queryStringParameters !== undefined,
      queryStringParameters,
      authorizer: authorizer as Record<string, unknown> | undefined,
    });
    sendJson(res, 201, { connectionIds: ids });
  }
}
