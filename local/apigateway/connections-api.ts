/**
 * API Gateway's @connections management API, on the same port as the WebSocket API:
 * `POST|GET|DELETE /<stage>/@connections/{connectionId}` (the id URL-encoded: real ids contain
 * `=`, `+` and `/`). Signatures are accepted unchecked, so `ApiGatewayManagementApiClient` and
 * any other SigV4 client work unchanged with `endpoint: http://127.0.0.1:<port>/<stage>`.
 *
 * Answers as AWS: 200 on a delivered post, 410 `GoneException` for an unknown or closed id,
 * 413 `PayloadTooLargeException` over 128 KB, 429 `LimitExceededException` when the account
 * throttle (emulated, off by default) or the client's buffer is full; an optional latency
 * delays every answer (the emulated AWS model for benchmarks).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { API_GATEWAY_MESSAGE_BYTES } from '../../shared/limits.js';
import { BodyTooLargeError, readBody, sendAwsError, sendJson } from '../http.js';
import type { ConnectionRegistry } from './connections.js';
import { FixedDelay, type TokenBucket } from './throttle.js';
import type { WebSocketApi } from './websocket-api.js';

/** Counters of the @connections API (for `/_local/stats`). */
export interface ConnectionsApiStats {
  posts: number;
  delivered: number;
  gone: number;
  throttled: number;
  bufferFull: number;
  tooLarge: number;
  gets: number;
  deletes: number;
  /** Epoch milliseconds (sub-millisecond precision) of the first and last delivered post since the last reset. */
  firstDeliveryAt?: number;
  lastDeliveryAt?: number;
}

/** Settings of the @connections API. */
export interface ConnectionsApiOptions {
  stage: string;
  registry: ConnectionRegistry;
  websocket: WebSocketApi;
  throttle: TokenBucket;
  /** Added to every answer (0 = none). */
  postLatencyMs: number;
}

export const emptyConnectionsStats = (): ConnectionsApiStats => ({
  posts: 0,
  delivered: 0,
  gone: 0,
  throttled: 0,
  bufferFull: 0,
  tooLarge: 0,
  gets: 0,
  deletes: 0,
});

/** Serves `/<stage>/@connections/{id}`. */
export class ConnectionsApi {
  readonly stats: ConnectionsApiStats = emptyConnectionsStats();
  private readonly prefix: string;
  private readonly latency: FixedDelay;

  constructor(private readonly options: ConnectionsApiOptions) {
    this.prefix = `/${options.stage}/@connections/`;
    this.latency = new FixedDelay(options.postLatencyMs);
  }

  /** True for paths this API serves. */
  servesPath(pathname: string): boolean {
    return pathname.startsWith(this.prefix);
  }

  /** Zeroes the counters. */
  resetStats(): void {
    Object.assign(this.stats, emptyConnectionsStats(), { firstDeliveryAt: undefined, lastDeliveryAt: undefined });
  }

  async handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    let body: Buffer;
    try {
      // Read (bounded) before anything else, so the keep-alive connection stays usable whatever the answer.
      body = await readBody(req, API_GATEWAY_MESSAGE_BYTES);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      this.stats.tooLarge++;
      await this.latency.wait();
      return sendAwsError(res, 413, 'PayloadTooLargeException', `Message too long. Max size is ${API_GATEWAY_MESSAGE_BYTES} bytes`);
    }
    let connectionId: string;
    try {
      connectionId = decodeURIComponent(pathname.slice(this.prefix.length));
    } catch {
      return sendAwsError(res, 400, 'BadRequestException', 'Invalid connection id encoding');
    }
    const method = req.method;
    if (method !== 'POST' && method !== 'GET' && method !== 'DELETE')
      return sendAwsError(res, 405, 'MethodNotAllowedException', `${req.method} is not allowed`);
    await this.latency.wait();
    if (!this.options.throttle.take()) {
      this.stats.throttled++;
      return sendAwsError(res, 429, 'LimitExceededException', 'Rate exceeded');
    }
    const connection = this.options.registry.get(connectionId);
    if (method === 'POST') {
      this.stats.posts++;
      // The body as read: no decode and re-encode of every post (send checks it is UTF-8).
      const outcome = connection ? this.options.websocket.send(connection, body) : 'gone';
      if (outcome === 'ok') {
        this.stats.delivered++;
        const now = performance.timeOrigin + performance.now();
        this.stats.firstDeliveryAt ??= now;
        this.stats.lastDeliveryAt = now;
        res.writeHead(200, { 'content-length': 0 }).end();
      } else if (outcome === 'full') {
        this.stats.bufferFull++;
        sendAwsError(res, 429, 'LimitExceededException', 'The client is not reading fast enough');
      } else {
        this.stats.gone++;
        sendAwsError(res, 410, 'GoneException', null);
      }
      return;
    }
    if (!connection || connection.gone) {
      this.stats.gone++;
      return sendAwsError(res, 410, 'GoneException', null);
    }
    if (method === 'GET') {
      this.stats.gets++;
      // The wire names are camelCase (the SDK maps them to ConnectedAt, Identity.SourceIp...).
      return sendJson(res, 200, {
        connectedAt: new Date(connection.connectedAt).toISOString(),
        identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
        lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
      });
    }
    this.stats.deletes++;
    // API Gateway closes with 1000; its $disconnect reports "Connection Closed Normally".
    this.options.websocket.disconnect(connection, 1000, 'Connection Closed Normally');
    res.writeHead(204).end();
  }
}
