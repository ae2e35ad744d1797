/**
 * The local stack's `/_local/` control API and Lambda Invoke API, as the benchmarks call them
 * (plain fetch: no SDK in the measuring process's hot path).
 */

import type { ConnectionsApiStats } from '../../local/apigateway/connections-api.js';

/** `GET /_local/stats`, the fields the benchmarks read. */
export interface LocalStats {
  connections: { real: number; virtual: number };
  connectionsApi: ConnectionsApiStats;
  virtual: { deliveries: number; perConnection: Record<string, number> };
  functions: Record<
    string,
    { invocations: number; errors: number; timeouts: number; coldStarts: number; running?: number; heapPeakMb?: number; memoryMb?: number }
  >;
}

/** Virtual connections one control request registers (the API takes up to 100,000). */
const VIRTUAL_CHUNK = 50_000;

async function call<T>(method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 500)}`);
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** Registers `count` virtual connections (no `$connect`: rows are written by the caller); returns their ids. */
export async function addVirtualConnections(httpUrl: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let left = count; left > 0; left -= VIRTUAL_CHUNK) {
    const out = await call<{ connectionIds: string[] }>('POST', `${httpUrl}/_local/virtual-connections`, {
      count: Math.min(left, VIRTUAL_CHUNK),
    });
    ids.push(...out.connectionIds);
  }
  return ids;
}

export const getStats = (httpUrl: string): Promise<LocalStats> => call('GET', `${httpUrl}/_local/stats`);
export const resetStats = async (httpUrl: string): Promise<void> => void (await call('DELETE', `${httpUrl}/_local/stats`));

/** The result of a synchronous Lambda invoke: the function's JSON answer, or its error. */
export interface InvokeOutcome {
  ok: boolean;
  payload: unknown;
}

/** `POST /2015-03-31/functions/<name>/invocations` (RequestResponse). */
export async function invokeFunction(httpUrl: string, functionName: string, event: unknown): Promise<InvokeOutcome> {
  const res = await fetch(`${httpUrl}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`invoke ${functionName}: ${res.status} ${text.slice(0, 500)}`);
  return { ok: !res.headers.has('x-amz-function-error'), payload: text === '' ? null : JSON.parse(text) };
}

/** How the deliveries of one broadcast came out, from the stack's per-connection counters. */
export interface DeliveryCheck {
  expected: number;
  /** Subscribers delivered exactly once. */
  once: number;
  /** Subscribers never delivered. */
  missing: number;
  /** Subscribers delivered more than once, and the extra deliveries. */
  duplicated: number;
  extra: number;
  exactlyOnce: boolean;
}

/** Checks that every id in `ids` got exactly one delivery. */
export function checkDeliveries(perConnection: Record<string, number>, ids: readonly string[]): DeliveryCheck {
  let once = 0;
  let missing = 0;
  let duplicated = 0;
  let extra = 0;
  for (const id of ids) {
    const n = perConnection[id] ?? 0;
    if (n === 1) once++;
    else if (n === 0) missing++;
    else {
      duplicated++;
      extra += n - 1;
    }
  }
  return { expected: ids.length, once, missing, duplicated, extra, exactlyOnce: once === ids.length };
}
