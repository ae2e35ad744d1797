/**
 * The `$connect` REQUEST authorizer: origin allowlist, then (AuthMode=jwt) the token, then the
 * rights against `?channels=`. Its answer is what API Gateway expects from a Lambda authorizer:
 *
 * - Allow: a policy on exactly the event's `methodArn` (a `…/*\/*` resource does not match
 *   `$connect`, and the connection would be refused) with the rights as `context`, which API
 *   Gateway then attaches to every later event of the connection as `requestContext.authorizer`.
 * - Deny (API Gateway answers 403): origin not allowed, missing Origin where required, a
 *   rights claim holding an invalid pattern, or a `?channels=` entry outside the rights.
 * - `throw new Error('Unauthorized')` (API Gateway answers 401): no token, or a bad one.
 * - Any other throw (API Gateway answers 500): misconfiguration or a key source that is down.
 *
 * Every refusal is logged at WARN (kept by the default LogLevel) with a `reason` field holding
 * its stable code; a misconfiguration at ERROR with `reason: config_invalid` and the message
 * naming the setting. Logs carry the reason, the principal and the token's source, never the
 * token, the Sec-WebSocket-Protocol header (which holds it) or the raw query string.
 */
import { ConfigError } from '../errors.js';
import { logger, metrics, redactQuery } from '../observability.js';
import { canJoin, OPEN_RIGHTS, type Rights, rightsToContext } from '../policy.js';
import { presenceInfoFromClaims } from '../presence-settings.js';
import { assertContextFits, rightsFromClaims, userChannelPatterns } from './claims.js';
import { isOriginAllowed } from './origin.js';
import { AuthRefusedError } from './refusal.js';
import { type AuthorizerRequest, originOf, requestedChannels, type TokenSource, tokenOf } from './request.js';
import { type AuthSettings, currentSettings } from './settings.js';
import { verificationKey } from './verification-keys.js';
import { KeyUnavailableError, verifyToken } from './verify.js';

/** The REQUEST authorizer event of a WebSocket `$connect` (the fields read here). */
export interface AuthorizerEvent extends AuthorizerRequest {
  type: 'REQUEST';
  methodArn: string;
  requestContext?: { connectionId?: string; routeKey?: string } | null;
}

/** What API Gateway expects back from a Lambda authorizer. */
export interface AuthorizerResult {
  principalId: string;
  policyDocument: {
    Version: '2012-10-17';
    Statement: [{ Action: 'execute-api:Invoke'; Effect: 'Allow' | 'Deny'; Resource: string }];
  };
  context?: Record<string, string>;
}

/** Longest Origin value copied into a log line (it is attacker-controlled). */
const LOGGED_ORIGIN_LENGTH = 200;

function policy(principalId: string, effect: 'Allow' | 'Deny', methodArn: string, context?: Record<string, string>): AuthorizerResult {
  return {
    principalId,
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: methodArn }] },
    ...(context ? { context } : {}),
  };
}

/** Refuses a browser origin that is not allowed; a request without Origin is not a browser. */
function checkOrigin(event: AuthorizerEvent, settings: AuthSettings): void {
  const origin = originOf(event);
  // Several different Origin values: no browser sends that.
  if (origin === null) throw new AuthRefusedError('origin_not_allowed');
  if (origin !== undefined) {
    if (!isOriginAllowed(settings.origins, origin)) throw new AuthRefusedError('origin_not_allowed');
    return;
  }
  // No Origin: AuthMode=jwt asks for a token like everyone; AuthMode=none asks the parameter.
  if (settings.mode === 'none' && !settings.allowMissingOrigin) throw new AuthRefusedError('origin_missing');
}

/** The rights of the connection: open in AuthMode=none, the token's otherwise. */
async function rightsOf(event: AuthorizerEvent, settings: AuthSettings): Promise<Decision> {
  if (settings.mode === 'none') return { rights: OPEN_RIGHTS };
  const found = tokenOf(event);
  if (!found) throw new AuthRefusedError('token_missing');
  // settings.key is always set in jwt mode (authSettings throws otherwise).
  const key = await verificationKey(settings.key as NonNullable<AuthSettings['key']>);
  const claims = await verifyToken(found.token, key, {
    issuer: settings.issuer,
    audience: settings.audience,
    maxLifetimeSeconds: settings.maxTokenLifetimeSeconds,
  });
  const info = presenceInfoFromClaims(claims);
  return { rights: withUserChannels(rightsFromClaims(claims), settings.userChannels ?? []), source: found.source, info };
}

/**
 * Adds the stack's per-user channels (USER_CHANNELS, `{sub}` replaced) to the join rights. A
 * principal that cannot stand in a channel name gets none, and a WARN line says so: the
 * connection itself is still the token's to decide.
 */
function withUserChannels(rights: Rights, templates: readonly string[]): Rights {
  if (templates.length === 0) return rights;
  const added = userChannelPatterns(rights.principal, templates);
  if (!added) {
    logger.warn('user channels skipped', { reason: 'sub_not_channel_safe', principal: rights.principal });
    return rights;
  }
  const widened = { ...rights, join: [...new Set([...rights.join, ...added])] };
  assertContextFits(widened);
  return widened;
}

/**
 * Decides one `$connect`: resolves to the rights (and where the token came from), or rejects
 * with an AuthRefusedError, or with another error for a server-side failure.
 */
/** A `$connect` decision: the rights, where the token came from, and the member's public info (PresenceInfoClaim). */
type Decision = { rights: Rights; source?: TokenSource; info?: string };

export async function decide(event: AuthorizerEvent, settings: AuthSettings): Promise<Decision> {
  checkOrigin(event, settings);
  const decision = await rightsOf(event, settings);
  for (const channel of requestedChannels(event)) {
    if (!canJoin(decision.rights, channel)) throw new AuthRefusedError('channel_not_allowed');
  }
  return decision;
}

/**
 * The Lambda handler of AuthorizerFunction.
 *
 * @example
 * ```ts
 * const result = await authorizer(event); // Allow, or Deny (403)
 * // or rejects with Error('Unauthorized') (401), or another error (500)
 * ```
 */
export async function authorizer(event: AuthorizerEvent): Promise<AuthorizerResult> {
  const connectionId = event.requestContext?.connectionId;
  logger.appendKeys({ connectionId, routeKey: '$connect' });
  const origin = originOf(event)?.slice(0, LOGGED_ORIGIN_LENGTH);
  try {
    if (typeof event.methodArn !== 'string' || event.methodArn === '') throw new Error('event has no methodArn');
    const { rights, source, info } = await decide(event, await currentSettings());
    logger.info('connect authorized', {
      principal: rights.principal,
      tokenSource: source,
      origin,
      query: redactQuery(event.queryStringParameters),
    });
    metrics.addMetric('ConnectAuthorized', 'Count', 1);
    return policy(rights.principal, 'Allow', event.methodArn, { ...rightsToContext(rights), ...(info ? { info } : {}) });
  } catch (error) {
    if (error instanceof AuthRefusedError) {
      logger.warn('connect refused', { reason: error.code, status: error.statusCode, origin });
      metrics.addMetric('ConnectRefused', 'Count', 1);
      if (error.statusCode === 403) return policy('refused', 'Deny', event.methodArn);
      // API Gateway turns exactly this message into a 401.
      throw new Error('Unauthorized');
    }
    // Not the client's doing: configuration, the key source, or a bug. The message names a
    // setting or a failing service, never a secret (ConfigError, KeyUnavailableError).
    const reason = error instanceof ConfigError ? 'config_invalid' : error instanceof KeyUnavailableError ? 'key_unavailable' : 'internal';
    logger.error('authorizer failed', { reason, errorName: (error as Error)?.name, errorMessage: (error as Error)?.message });
    metrics.addMetric('AuthorizerErrors', 'Count', 1);
    // Anything but 'Unauthorized' becomes a 500; the message never reaches the client.
    throw new Error('authorizer failed');
  } finally {
    metrics.publishStoredMetrics();
  }
}
