/**
 * API Gateway's side of a REQUEST Lambda authorizer on `$connect`: the identity-source check
 * made before calling it, and the reading of what it returns. Pure: no I/O.
 *
 * - A missing or empty identity source answers 401 without calling the authorizer (which is
 *   why template.yaml's is `context.connectionId`, never a header or query key: browsers may
 *   carry their token elsewhere).
 * - The authorizer throwing `Error('Unauthorized')` answers 401; any other failure 500.
 * - Its policy must Allow `execute-api:Invoke` on the event's `methodArn` and not Deny it, or 403.
 * - Its `context` (string, number and boolean values only) plus `principalId` becomes
 *   `requestContext.authorizer` of every later event of the connection.
 */
import type { InvokeResult } from '../lambda/runtime.js';

/** API Gateway caps an authorizer's response. */
export const AUTHORIZER_RESULT_MAX_BYTES = 8 * 1024;

/** Allowed, with the context for later events; or refused with an HTTP status. */
export type AuthorizerDecision =
  | { allow: true; context: Record<string, unknown> }
  | { allow: false; status: 401 | 403 | 500; reason: string };

const refuse = (status: 401 | 403 | 500, reason: string): AuthorizerDecision => ({ allow: false, status, reason });

/** What API Gateway reads identity sources from: the authorizer's own event. */
export interface IdentityValues {
  headers?: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  stageVariables?: Record<string, string>;
  requestContext?: Record<string, unknown>;
}

/**
 * The forms an identity source of a WebSocket REQUEST authorizer may take (API Gateway V2's
 * CreateAuthorizer: headers, query string parameters, stage variables and context parameters).
 */
export const IDENTITY_SOURCE_PATTERN =
  /^(?:route\.request\.(?:header|querystring)\.[A-Za-z0-9._$-]+|stageVariables\.[A-Za-z0-9._-]+|context\.[A-Za-z0-9._-]+)$/;

/** The value an identity source names in a `$connect` request, or undefined. */
export function identityValue(source: string, request: IdentityValues): unknown {
  const header = /^route\.request\.header\.(.+)$/.exec(source);
  if (header) {
    // Header names match case-insensitively; the last value wins, as in `headers`.
    const wanted = header[1].toLowerCase();
    const key = Object.keys(request.headers ?? {}).findLast((h) => h.toLowerCase() === wanted);
    return key === undefined ? undefined : request.headers?.[key];
  }
  const query = /^route\.request\.querystring\.(.+)$/.exec(source);
  if (query) return ownValue(request.queryStringParameters, query[1]);
  const stage = /^stageVariables\.(.+)$/.exec(source);
  if (stage) return ownValue(request.stageVariables, stage[1]);
  const context = /^context\.(.+)$/.exec(source);
  if (context) {
    // context.identity.sourceIp walks requestContext.identity.sourceIp.
    let value: unknown = request.requestContext;
    for (const key of context[1].split('.')) value = ownValue(value, key);
    return value;
  }
  return undefined; // not an identity source API Gateway accepts (the stack model refuses those)
}

function ownValue(map: unknown, key: string): unknown {
  return map !== null && typeof map === 'object' && Object.hasOwn(map, key) ? (map as Record<string, unknown>)[key] : undefined;
}

/**
 * True if an identity source is missing from the request: absent, null or empty, which is when
 * API Gateway answers 401 without invoking the authorizer (CreateAuthorizer's IdentitySource).
 */
export function missingIdentitySource(sources: string[], request: IdentityValues): boolean {
  return sources.some((source) => {
    const value = identityValue(source, request);
    return value === undefined || value === null || value === '';
  });
}

const asList = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** IAM-style wildcard match: `*` any run of characters (including `/`), `?` one character. */
export function arnMatches(pattern: string, arn: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`).test(arn);
}

const actionMatches = (action: string): boolean => ['execute-api:invoke', 'execute-api:*', '*'].includes(action.toLowerCase());

interface Statement {
  Effect?: string;
  Action?: string | string[];
  Resource?: string | string[];
}

/** Reads the authorizer's invocation result for a connection to `methodArn`. */
export function authorizerDecision(result: InvokeResult, methodArn: string): AuthorizerDecision {
  if (!result.ok) {
    if (result.error?.errorMessage === 'Unauthorized') return refuse(401, 'Unauthorized');
    return refuse(500, `authorizer failed: ${result.error?.errorType}: ${result.error?.errorMessage}`);
  }
  if (Buffer.byteLength(result.payload) > AUTHORIZER_RESULT_MAX_BYTES) return refuse(500, 'authorizer result larger than 8 KB');
  let response: { principalId?: unknown; policyDocument?: { Statement?: Statement | Statement[] }; context?: unknown };
  try {
    response = JSON.parse(result.payload);
  } catch {
    return refuse(500, 'authorizer result is not JSON');
  }
  if (!response || typeof response !== 'object' || !response.policyDocument) return refuse(500, 'authorizer result has no policyDocument');
  const matching = asList(response.policyDocument.Statement).filter(
    (s) => asList(s.Action).some(actionMatches) && asList(s.Resource).some((r) => arnMatches(r, methodArn)),
  );
  if (matching.some((s) => s.Effect === 'Deny')) return refuse(403, 'Forbidden');
  if (!matching.some((s) => s.Effect === 'Allow')) return refuse(403, 'Forbidden');
  const context: Record<string, unknown> = {};
  if (response.context !== undefined && response.context !== null) {
    if (typeof response.context !== 'object' || Array.isArray(response.context)) return refuse(500, 'authorizer context is not a map');
    for (const [key, value] of Object.entries(response.context)) {
      // API Gateway refuses nested values in the context (AuthorizerConfigurationException, 500).
      if (!['string', 'number', 'boolean'].includes(typeof value))
        return refuse(500, `authorizer context value "${key}" is not a string, number or boolean`);
      context[key] = value;
    }
  }
  if (response.principalId !== undefined) context.principalId = response.principalId;
  return { allow: true, context };
}
