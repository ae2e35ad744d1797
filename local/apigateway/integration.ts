/**
 * API Gateway's Lambda proxy integration (AWS_PROXY) for a WebSocket API: invoking a route's
 * function with the integration timeout, reading its proxy response, and the `$connect`
 * sequence (identity sources, authorizer, `$connect`) that decides whether a connection opens.
 */

import type { RouteModel, StackModel } from '../cloudformation/stack-model.js';
import type { LambdaRuntime } from '../lambda/runtime.js';
import { authorizerDecision, missingIdentitySource } from './authorizer.js';
import { authorizerEvent, type ConnectionInfo, connectEvent, connectMethodArn, type UpgradeRequestInfo } from './websocket-events.js';

/** API Gateway stops waiting for an integration after 29 s (the function itself may run on). */
export const INTEGRATION_TIMEOUT_MS = 29_000;

/** A function's proxy response, or the message API Gateway sends the client instead. */
export type IntegrationOutcome = { ok: true; response: unknown } | { ok: false; message: string };

/** Invokes `functionId` with `event`, bounded by the integration timeout. Failures are logged here, never shown. */
export async function integrate(
  runtime: LambdaRuntime,
  functionId: string,
  event: unknown,
  log: (line: string) => void,
): Promise<IntegrationOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), INTEGRATION_TIMEOUT_MS);
  });
  const result = await Promise.race([runtime.invoke(functionId, event), timeout]);
  clearTimeout(timer);
  if (result === 'timeout') {
    log(`${functionId}: integration timed out after ${INTEGRATION_TIMEOUT_MS} ms`);
    return { ok: false, message: 'Endpoint request timed out' };
  }
  if (!result.ok) {
    log(`${functionId}: ${result.error?.errorType}: ${result.error?.errorMessage}`);
    return { ok: false, message: 'Internal server error' };
  }
  try {
    return { ok: true, response: JSON.parse(result.payload) };
  } catch {
    return { ok: true, response: result.payload };
  }
}

/** The text a route response sends back: a string result as is, else its `body`. */
export function responseBody(response: unknown): string | undefined {
  if (typeof response === 'string') return response;
  if (response === null || typeof response !== 'object') return undefined;
  const body = (response as { body?: unknown }).body;
  if (body === undefined || body === null) return undefined;
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/** The proxy response's status code; a response without one counts as 200, as API Gateway treats it. */
export function responseStatus(response: unknown): number {
  const status = (response as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : 200;
}

function responseHeader(response: unknown, name: string): string | undefined {
  const headers = (response as { headers?: Record<string, unknown> } | null)?.headers;
  if (!headers || typeof headers !== 'object') return undefined;
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name && typeof value === 'string') return value;
  return undefined;
}

/** How a `$connect` attempt ended. */
export type ConnectAttempt =
  | { open: true; connected: boolean; authorizer?: Record<string, unknown>; subprotocol?: string }
  | { open: false; status: number; message: string };

/**
 * The `$connect` sequence: 401 if an identity source is missing (without calling the
 * authorizer), the authorizer's decision, then `$connect` itself (non-2xx refuses). `connected`
 * tells whether `$connect` ran and succeeded, i.e. whether `$disconnect` must run later.
 */
export async function attemptConnect(
  model: StackModel,
  runtime: LambdaRuntime,
  connection: ConnectionInfo,
  request: UpgradeRequestInfo,
  log: (line: string) => void,
  options: { skipAuthorizer?: boolean } = {},
): Promise<ConnectAttempt> {
  const route: RouteModel | undefined = model.api.routes.$connect;
  // No $connect route: every connection opens, and $disconnect (if routed) still runs for it.
  if (!route) return { open: true, connected: true };
  let authorizer = connection.authorizer;
  if (route.authorizer && !options.skipAuthorizer) {
    const methodArn = connectMethodArn(model.region, model.accountId, model.api.apiId, model.api.stage);
    const event = authorizerEvent(connection, request, methodArn, model.api.stageVariables);
    // Checked against the event the authorizer would get: its headers, query, stage variables, requestContext.
    if (missingIdentitySource(route.authorizer.identitySources, event)) {
      log(`${route.authorizer.functionId} (authorizer): not called, an identity source is missing (401)`);
      return { open: false, status: 401, message: 'Unauthorized' };
    }
    const started = Date.now();
    const result = await Promise.race([
      runtime.invoke(route.authorizer.functionId, event),
      new Promise<'timeout'>((resolve) => setTimeout(resolve, INTEGRATION_TIMEOUT_MS, 'timeout').unref()),
    ]);
    const decision =
      result === 'timeout'
        ? ({ allow: false, status: 500, reason: 'authorizer timed out' } as const)
        : authorizerDecision(result, methodArn);
    if (!decision.allow) {
      if (decision.status === 500) log(`${route.authorizer.functionId} (authorizer): ${decision.reason}`);
      return { open: false, status: decision.status, message: decision.status === 500 ? 'Internal server error' : decision.reason };
    }
    authorizer = { ...decision.context, integrationLatency: Date.now() - started };
  }
  const outcome = await integrate(runtime, route.functionId, connectEvent({ ...connection, authorizer }, request), log);
  if (!outcome.ok) return { open: false, status: 500, message: outcome.message };
  const status = responseStatus(outcome.response);
  if (status < 200 || status > 299) return { open: false, status, message: responseBody(outcome.response) || 'Forbidden' };
  return { open: true, connected: true, authorizer, subprotocol: responseHeader(outcome.response, 'sec-websocket-protocol') };
}
