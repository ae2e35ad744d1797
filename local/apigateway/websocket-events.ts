/**
 * The events API Gateway sends a WebSocket API's integrations (`APIGatewayProxyWebsocketEventV2`
 * and the REQUEST authorizer's event), built from a local connection. Pure: no I/O.
 *
 * Shapes follow AWS's: `headers`, `multiValueHeaders` and the query string on `$connect` (and
 * the authorizer) only, a few fixed headers on `$disconnect`, none on messages; the authorizer's
 * context (plus `principalId`) on every event after it.
 */

import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { newRequestId, requestTime } from './ids.js';

/** What every event of a connection repeats. */
export interface ConnectionInfo {
  connectionId: string;
  connectedAt: number;
  sourceIp: string;
  userAgent: string;
  domainName: string;
  stage: string;
  apiId: string;
  authorizer?: Record<string, unknown>;
}

/** The parts of the upgrade request that `$connect` and the authorizer see. */
export interface UpgradeRequestInfo {
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  queryStringParameters?: Record<string, string>;
  multiValueQueryStringParameters?: Record<string, string[]>;
}

type EventType = 'CONNECT' | 'MESSAGE' | 'DISCONNECT';

/** Headers and query string of an upgrade request, as API Gateway passes them (original header case, plus its X-Forwarded-*). */
export function upgradeRequestInfo(req: IncomingMessage, sourceIp: string): UpgradeRequestInfo {
  // Maps, then Object.fromEntries: a header or query key named `__proto__` stays an ordinary key.
  const headers = new ValueLists();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.add(req.rawHeaders[i], req.rawHeaders[i + 1]);
  headers.add('X-Amzn-Trace-Id', `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`);
  headers.add('X-Forwarded-For', sourceIp);
  headers.add('X-Forwarded-Port', String(req.socket.localPort ?? ''));
  headers.add('X-Forwarded-Proto', 'http');
  const info: UpgradeRequestInfo = { headers: headers.last(), multiValueHeaders: headers.all() };
  const query = new ValueLists();
  for (const [key, value] of new URL(req.url ?? '/', 'http://local').searchParams) query.add(key, value);
  if (query.size > 0) {
    info.queryStringParameters = query.last();
    info.multiValueQueryStringParameters = query.all();
  }
  return info;
}

/** Repeated keys (headers, query parameters): the last value, and all of them, as API Gateway passes both. */
class ValueLists {
  private readonly values = new Map<string, string[]>();

  add(key: string, value: string): void {
    const list = this.values.get(key);
    if (list) list.push(value);
    else this.values.set(key, [value]);
  }

  get size(): number {
    return this.values.size;
  }

  last(): Record<string, string> {
    return Object.fromEntries([...this.values].map(([k, v]) => [k, v[v.length - 1]]));
  }

  all(): Record<string, string[]> {
    return Object.fromEntries(this.values);
  }
}

function requestContext(c: ConnectionInfo, routeKey: string, eventType: EventType, now: number): Record<string, unknown> {
  const requestId = newRequestId();
  const context: Record<string, unknown> = {
    routeKey,
    eventType,
    extendedRequestId: requestId,
    requestTime: requestTime(now),
    messageDirection: 'IN',
    stage: c.stage,
    connectedAt: c.connectedAt,
    requestTimeEpoch: now,
    identity: { sourceIp: c.sourceIp, userAgent: c.userAgent },
    requestId,
    domainName: c.domainName,
    connectionId: c.connectionId,
    apiId: c.apiId,
  };
  if (c.authorizer) context.authorizer = c.authorizer;
  return context;
}

/** The `$connect` event. */
export function connectEvent(c: ConnectionInfo, request: UpgradeRequestInfo, now = Date.now()): Record<string, unknown> {
  return { ...request, requestContext: requestContext(c, '$connect', 'CONNECT', now), isBase64Encoded: false };
}

/** A message event for `routeKey`; binary frames arrive base64-encoded. */
export function messageEvent(
  c: ConnectionInfo,
  routeKey: string,
  body: string,
  isBase64Encoded: boolean,
  now = Date.now(),
): Record<string, unknown> {
  const context = requestContext(c, routeKey, 'MESSAGE', now);
  context.messageId = newRequestId();
  return { requestContext: context, body, isBase64Encoded };
}

/** The `$disconnect` event, with the close code and reason API Gateway reports. */
export function disconnectEvent(c: ConnectionInfo, statusCode: number, reason: string, now = Date.now()): Record<string, unknown> {
  const context = requestContext(c, '$disconnect', 'DISCONNECT', now);
  context.disconnectStatusCode = statusCode;
  context.disconnectReason = reason;
  return {
    headers: { Host: c.domainName, 'x-api-key': '', 'X-Forwarded-For': '', 'x-restapi': '' },
    multiValueHeaders: { Host: [c.domainName], 'x-api-key': [''], 'X-Forwarded-For': [''], 'x-restapi': [''] },
    requestContext: context,
    isBase64Encoded: false,
  };
}

/** The ARN a `$connect` authorizer's policy must allow (`…/<stage>/$connect`). */
export const connectMethodArn = (region: string, accountId: string, apiId: string, stage: string): string =>
  `arn:aws:execute-api:${region}:${accountId}:${apiId}/${stage}/$connect`;

/** The REQUEST authorizer's event: the `$connect` request plus `type` and `methodArn`. */
export function authorizerEvent(
  c: ConnectionInfo,
  request: UpgradeRequestInfo,
  methodArn: string,
  stageVariables: Record<string, string> = {},
  now = Date.now(),
): Record<string, unknown> {
  const { authorizer: _none, ...unauthorized } = c;
  return {
    type: 'REQUEST',
    methodArn,
    // Unlike the $connect integration's event, the authorizer's always has both query keys (`{}` when empty).
    queryStringParameters: {},
    multiValueQueryStringParameters: {},
    ...request,
    stageVariables,
    requestContext: requestContext(unauthorized, '$connect', 'CONNECT', now),
  };
}

/**
 * The route key a frame selects with `$request.body.<path>`: undefined (→ `$default`) for binary
 * frames, text that is not JSON, and a path that is missing or not a scalar. Keys starting with `$`
 * are never selectable from a frame (`{"action":"$connect"}` must not reach `$connect`).
 */
export function selectRouteKey(path: string[], body: string, isBinary: boolean): string | undefined {
  if (isBinary) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  for (const key of path) {
    // Own properties only: `{"action":"toString"}` must not find Object.prototype's.
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return undefined;
  const key = String(value);
  return key.startsWith('$') ? undefined : key;
}
