/**
 * The WebSocket API of API Gateway, on `ws://127.0.0.1:<port>/<stage>`:
 * - upgrade: the authorizer (if `$connect` has one), then `$connect`, *before* the handshake
 *   completes; a refusal is an HTTP status (401/403/500...), and a `Sec-WebSocket-Protocol`
 *   header in `$connect`'s response picks the subprotocol;
 * - frames: routed by the template's RouteSelectionExpression, else `$default`, else a
 *   `Forbidden` frame; each frame is its own invocation, concurrent with the others of the same
 *   connection (as on AWS, a slow one does not hold back the next, and ordering races show);
 *   the function's `body` comes back as a frame only on routes with a `$default` RouteResponse;
 * - failures: a throwing or timed-out function gets the client AWS's own error frame (never a
 *   stack trace) and never stops the stack;
 * - limits: 32 KB frames and 128 KB messages (close 1009), idle and maximum-duration cuts;
 * - `$disconnect` on every close, whoever closes.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { API_GATEWAY_MESSAGE_BYTES } from '../../shared/limits.js';
import type { RouteModel, StackModel } from '../cloudformation/stack-model.js';
import type { LambdaRuntime } from '../lambda/runtime.js';
import type { Connection, ConnectionRegistry } from './connections.js';
import { newConnectionId } from './ids.js';
import { attemptConnect, integrate, responseBody } from './integration.js';
import type { TokenBucket } from './throttle.js';
import { disconnectEvent, messageEvent, selectRouteKey, type UpgradeRequestInfo, upgradeRequestInfo } from './websocket-events.js';
import { isValidHandshake, limitFrameSize, refuseUpgrade, sourceIpOf, textFrame, writeFrame } from './websocket-frames.js';

/** Bytes queued to a client beyond which a post answers 429 (API Gateway's "client buffer full"). */
export const CLIENT_BUFFER_LIMIT_BYTES = 4 * 1024 * 1024;
/** ws `send` options of every server frame (frozen: shared by all sends). */
const SEND_OPTIONS = Object.freeze({ binary: false, compress: false, fin: true, mask: false });
/** `$connect` calls in flight at once when registering virtual connections. */
const VIRTUAL_CONNECT_CONCURRENCY = 32;
/** At most one WARN line per this long about throttled upgrades (a reconnect storm would flood the output). */
const THROTTLE_LOG_INTERVAL_MS = 1_000;

/** Settings of the WebSocket API. */
export interface WebSocketApiOptions {
  model: StackModel;
  runtime: LambdaRuntime;
  registry: ConnectionRegistry;
  idleSeconds: number;
  maxConnectionSeconds: number;
  /** Real sockets accepted at once; beyond, upgrades answer 429 (keeps the process under its file limit). */
  maxConnections: number;
  /** API Gateway's new-connections quota: an upgrade without a token answers 429 before any function runs. */
  connectThrottle: TokenBucket;
  log(line: string): void;
}

/** Counters of the WebSocket API (for `/_local/stats`). */
export interface WebSocketApiStats {
  /** Upgrades answered 429 by the connect rate. */
  connectThrottled: number;
}

/** Options of virtual connections. */
export interface VirtualConnectOptions {
  /** Run `$connect` for each (no authorizer runs for them); refused ones are dropped. */
  connect?: boolean;
  /** What their `$connect` sees as the query string. */
  queryStringParameters?: Record<string, string>;
  /** Its `requestContext.authorizer`, as an authorizer would have set it. */
  authorizer?: Record<string, unknown>;
}

/** Serves the template's WebSocket API. */
export class WebSocketApi {
  readonly stats: WebSocketApiStats = { connectThrottled: 0 };
  private readonly server: WebSocketServer;
  private throttledUnlogged = 0;
  private throttleLogTimer?: NodeJS.Timeout;
  private readonly subprotocols = new WeakMap<IncomingMessage, string>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly routes: Record<string, RouteModel>;
  private stopping = false;
  /** The last post's body and its frame: a broadcast posts the same bytes to every connection, framed once. */
  private lastPayload?: Buffer;
  private lastFrame?: Buffer;

  constructor(private readonly options: WebSocketApiOptions) {
    this.routes = options.model.api.routes;
    this.server = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false, // API Gateway negotiates no compression
      maxPayload: API_GATEWAY_MESSAGE_BYTES,
      handleProtocols: (_offered, req) => this.subprotocols.get(req) ?? false,
    });
  }

  /** True if `pathname` is this API's stage (`/<stage>`). */
  servesPath(pathname: string): boolean {
    const stage = `/${this.options.model.api.stage}`;
    return pathname === stage || pathname === `${stage}/`;
  }

  /** Handles an HTTP upgrade to the stage path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined); // a client resetting mid-handshake is not the stack's error
    this.track(this.upgrade(req, socket, head));
  }

  /**
   * Sends a server text frame (an @connections post): `gone` if the connection is closing, `full`
   * if its client is not reading. A Buffer that is valid UTF-8 goes out as it is (no copy); one
   * that is not is decoded first, its bad bytes replaced by U+FFFD, as a string would have been.
   */
  send(connection: Connection, data: string | Buffer): 'ok' | 'gone' | 'full' {
    if (connection.gone) return 'gone';
    if (typeof data !== 'string' && !isUtf8(data)) data = data.toString('utf8');
    if (connection.virtual) {
      connection.virtual.deliveries++;
      connection.virtual.bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      connection.lastActiveAt = Date.now();
      return 'ok';
    }
    const socket = connection.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return 'gone';
    if (socket.bufferedAmount > CLIENT_BUFFER_LIMIT_BYTES) return 'full';
    if (typeof data === 'string' || !writeFrame(socket, this.frameOf(data))) {
      // binary: false keeps a Buffer a text frame: API Gateway sends every post as text.
      socket.send(data, SEND_OPTIONS);
    }
    this.touch(connection);
    return 'ok';
  }

  /** The text frame of `payload`, reusing the last one when the bytes are the same (a memcmp is cheaper than a copy). */
  private frameOf(payload: Buffer): Buffer {
    if (this.lastFrame && this.lastPayload && (payload === this.lastPayload || payload.equals(this.lastPayload))) return this.lastFrame;
    this.lastFrame = textFrame(payload);
    this.lastPayload = payload;
    return this.lastFrame;
  }

  /** Closes a connection from the server side (idle, max duration, DELETE @connections, shutdown); `$disconnect` runs. */
  disconnect(connection: Connection, code: number, reason: string): void {
    const socket = connection.socket;
    if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) socket.close(code, reason);
    this.closed(connection, code, reason);
  }

  /** Registers `count` socket-less connections that count what is posted to them (benchmarks). */
  async addVirtual(count: number, options: VirtualConnectOptions = {}): Promise<string[]> {
    const ids: string[] = [];
    const create = async () => {
      const connection = this.newConnection('127.0.0.1', 'airwave-local-virtual', '127.0.0.1', options.authorizer);
      connection.virtual = { deliveries: 0, bytes: 0 };
      if (options.connect) {
        const query = options.queryStringParameters;
        const request: UpgradeRequestInfo = { headers: { Host: '127.0.0.1' }, multiValueHeaders: { Host: ['127.0.0.1'] } };
        if (query) {
          request.queryStringParameters = query;
          request.multiValueQueryStringParameters = Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]]));
        }
        const attempt = await attemptConnect(this.options.model, this.options.runtime, connection, request, this.options.log, {
          skipAuthorizer: true,
        });
        if (!attempt.open) return;
        connection.connected = attempt.connected;
      }
      this.options.registry.add(connection);
      ids.push(connection.connectionId);
    };
    let started = 0;
    const lane = async () => {
      while (started < count) {
        started++;
        await create();
      }
    };
    await Promise.all(Array.from({ length: Math.min(count, VIRTUAL_CONNECT_CONCURRENCY) }, lane));
    return ids;
  }

  /** Closes every connection (1001, as API Gateway's own cuts), waits for what runs (the `$disconnect`s), then drops the sockets. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    const connections = this.options.registry.all();
    for (const connection of connections) this.disconnect(connection, 1001, 'Going away');
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    for (const connection of connections) connection.socket?.terminate();
  }

  /** Counts a throttled upgrade; logs the first at once, then the count of the others once per interval. */
  private connectThrottled(): void {
    this.stats.connectThrottled++;
    this.throttledUnlogged++;
    if (this.throttleLogTimer) return;
    this.logThrottled();
    this.throttleLogTimer = setTimeout(() => {
      this.throttleLogTimer = undefined;
      if (this.throttledUnlogged > 0) this.logThrottled();
    }, THROTTLE_LOG_INTERVAL_MS);
    this.throttleLogTimer.unref();
  }

  private logThrottled(): void {
    const { ratePerSecond, burst } = this.options.connectThrottle;
    this.options.log(
      `WARN refused ${this.throttledUnlogged} upgrade(s) with 429: over the connect rate (${ratePerSecond}/s, burst ${burst}; --connect-rate)`,
    );
    this.throttledUnlogged = 0;
  }

  private track(task: Promise<unknown>): void {
    const tracked: Promise<unknown> = task
      .catch((error) => this.options.log(`websocket api: ${(error as Error)?.stack ?? error}`))
      .finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }

  private newConnection(sourceIp: string, userAgent: string, domainName: string, authorizer?: Record<string, unknown>): Connection {
    const now = Date.now();
    const { apiId, stage } = this.options.model.api;
    return {
      connectionId: newConnectionId(),
      connectedAt: now,
      lastActiveAt: now,
      sourceIp,
      userAgent,
      domainName,
      stage,
      apiId,
      authorizer,
      connected: false,
      gone: false,
    };
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (this.stopping) return refuseUpgrade(socket, 503);
    if (!isValidHandshake(req)) return refuseUpgrade(socket, 400);
    if (this.options.registry.real >= this.options.maxConnections) return refuseUpgrade(socket, 429, 'Too many local connections');
    // Before the authorizer and $connect: on AWS a connection over the quota never reaches them.
    if (!this.options.connectThrottle.take()) {
      this.connectThrottled();
      return refuseUpgrade(socket, 429, 'Too Many Requests');
    }
    const sourceIp = sourceIpOf(req);
    const connection = this.newConnection(sourceIp, req.headers['user-agent'] ?? '', req.headers.host ?? '127.0.0.1');
    const attempt = await attemptConnect(
      this.options.model,
      this.options.runtime,
      connection,
      upgradeRequestInfo(req, sourceIp),
      this.options.log,
    );
    if (!attempt.open) return refuseUpgrade(socket, attempt.status, attempt.message);
    connection.connected = attempt.connected;
    connection.authorizer = attempt.authorizer;
    if (socket.destroyed || this.stopping) {
      // The client left while $connect ran: the connection never opens, and what $connect wrote must go.
      this.closed(connection, 1006, 'Connection closed before the handshake completed');
      return void socket.destroy();
    }
    if (attempt.subprotocol) this.subprotocols.set(req, attempt.subprotocol);
    this.server.handleUpgrade(req, socket, head, (ws) => this.open(ws, connection));
  }

  private open(socket: WebSocket, connection: Connection): void {
    limitFrameSize(socket);
    connection.socket = socket;
    this.options.registry.add(connection);
    const cut = () => this.disconnect(connection, 1001, 'Going away');
    connection.idleTimer = setTimeout(cut, this.options.idleSeconds * 1000);
    connection.maxTimer = setTimeout(cut, this.options.maxConnectionSeconds * 1000);
    socket.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(connection, data, isBinary));
    socket.on('close', (code: number, reason: Buffer) => this.closed(connection, code, reason.toString()));
    socket.on('error', () => undefined); // protocol errors (1009...) close the socket; 'close' follows
  }

  private touch(connection: Connection): void {
    connection.lastActiveAt = Date.now();
    connection.idleTimer?.refresh();
  }

  private onFrame(connection: Connection, data: Buffer, isBinary: boolean): void {
    if (connection.gone) return;
    this.touch(connection);
    const body = isBinary ? data.toString('base64') : data.toString('utf8');
    const key = selectRouteKey(this.options.model.api.routeSelectionPath, body, isBinary);
    // Own keys only: a frame naming "toString" must not find Object.prototype's.
    const route =
      (key !== undefined && Object.hasOwn(this.routes, key) ? this.routes[key] : undefined) ??
      (Object.hasOwn(this.routes, '$default') ? this.routes.$default : undefined);
    const event = messageEvent(connection, route?.routeKey ?? '$default', body, isBinary);
    const requestId = (event.requestContext as { requestId: string }).requestId;
    const reply = (message: string) => this.send(connection, JSON.stringify({ message, connectionId: connection.connectionId, requestId }));
    if (!route) return void reply('Forbidden');
    this.track(
      integrate(this.options.runtime, route.functionId, event, this.options.log).then((outcome) => {
        if (!outcome.ok) reply(outcome.message);
        else if (route.twoWay) {
          const text = responseBody(outcome.response);
          if (text !== undefined) this.send(connection, text);
        }
      }),
    );
  }

  private closed(connection: Connection, code: number, reason: string): void {
    if (connection.gone) return;
    connection.gone = true;
    clearTimeout(connection.idleTimer);
    clearTimeout(connection.maxTimer);
    this.options.registry.delete(connection);
    const route = this.routes.$disconnect;
    if (!connection.connected || !route) return;
    this.track(integrate(this.options.runtime, route.functionId, disconnectEvent(connection, code, reason), this.options.log));
  }
}
