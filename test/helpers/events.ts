/** Loads a sample event from events/ (the same files `sam local invoke -e` uses), as a fresh copy. */
import { readFileSync } from 'node:fs';
import type { RouteContext, WebSocketEvent } from '../../shared/handler.js';

const cache = new Map<string, unknown>();

// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited freely by tests.
export function loadEvent<T = WebSocketEvent & Record<string, any>>(name: string): T {
  if (!cache.has(name)) cache.set(name, JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8')));
  return structuredClone(cache.get(name)) as T;
}

/** A message event for `route` with `body` (object or raw text) from `connectionId`. */
export function messageEvent(route: string, body: unknown, connectionId = 'L0SM9cOFvHcCIhw='): WebSocketEvent {
  const event = loadEvent('ping');
  event.requestContext.routeKey = route;
  event.requestContext.connectionId = connectionId;
  event.body = typeof body === 'string' ? body : JSON.stringify(body);
  return event;
}

/**
 * What a route receives for a connection of `principal` holding every right (`*` to join and to
 * publish), as messageRoute builds it from the authorizer's context; the member info the
 * authorizer passes on is `name of <principal>`. For tests that call shared/ directly.
 */
export function routeContextOf(connectionId: string, principal: string): RouteContext {
  const authorizer = { principal, join: '*', publish: '*', info: `name of ${principal}` };
  return {
    event: { requestContext: { connectionId, authorizer } } as unknown as WebSocketEvent,
    connectionId,
    connectedAt: Date.now(),
    rights: { principal, join: ['*'], publish: ['*'] },
    principalKey: `sub#${principal}`,
    body: () => ({}),
  };
}
