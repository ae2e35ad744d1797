/**
 * Why a `$connect` was refused, as stable codes, and the one place that maps each code to the
 * HTTP status API Gateway answers with. Pure: no AWS client.
 *
 * A REQUEST authorizer can only say three things: Allow, Deny (API Gateway answers 403), or
 * throw `Error('Unauthorized')` (API Gateway answers 401). Any other throw becomes a 500, which
 * is what a broken key source or a misconfiguration gives: that is not the client's fault.
 */
import { type AirwaveError, ConfigError, ConnectRefusedError } from '../errors.js';

/** Refusals answered 401: no usable credential. */
export type TokenRefusalCode =
  | 'token_missing'
  | 'token_too_long'
  | 'token_ambiguous'
  | 'token_malformed'
  | 'token_alg_not_allowed'
  | 'token_bad_signature'
  | 'token_unknown_key'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'token_wrong_issuer'
  | 'token_wrong_audience'
  | 'token_lifetime_too_long'
  | 'token_claims_invalid'
  | 'claims_too_large';

/**
 * Refusals answered 403: the caller is identified (or needs no identity) but is not allowed.
 * `rights_pattern_invalid` is a valid token whose rights claims hold a pattern outside the
 * documented forms (policy.ts): a misconfigured identity provider, whose tokens must neither
 * quietly gain nor quietly lose rights.
 */
export type AccessRefusalCode = 'origin_not_allowed' | 'origin_missing' | 'channel_not_allowed' | 'rights_pattern_invalid';

/**
 * Refusals of the `$connect` route itself (shared/connect.ts), once the authorizer has allowed:
 * a malformed `?channels=` entry (400), more channels than MaxChannelsPerConnection (403). A
 * `?channels=` entry outside the rights is `channel_not_allowed`, as in the authorizer.
 */
export type RouteRefusalCode = 'channel_invalid' | 'too_many_channels';

/** Every reason a connection is refused. These codes are logged, never tokens. */
export type RefusalCode = TokenRefusalCode | AccessRefusalCode | RouteRefusalCode;

/** The HTTP status each refusal becomes. The only place this mapping is written. */
export const REFUSAL_STATUS: Readonly<Record<RefusalCode, 400 | 401 | 403>> = Object.freeze({
  token_missing: 401,
  token_too_long: 401,
  token_ambiguous: 401,
  token_malformed: 401,
  token_alg_not_allowed: 401,
  token_bad_signature: 401,
  token_unknown_key: 401,
  token_expired: 401,
  token_not_yet_valid: 401,
  token_wrong_issuer: 401,
  token_wrong_audience: 401,
  token_lifetime_too_long: 401,
  token_claims_invalid: 401,
  claims_too_large: 401,
  origin_not_allowed: 403,
  origin_missing: 403,
  channel_not_allowed: 403,
  rights_pattern_invalid: 403,
  channel_invalid: 400,
  too_many_channels: 403,
});

/**
 * The refusal code of a route refusal met during `$connect`: a channel the rights do not cover
 * (ForbiddenError) is `channel_not_allowed`, more channels than allowed is `too_many_channels`,
 * any other (a malformed name) `channel_invalid`.
 */
export function connectRefusalCode(error: AirwaveError): RefusalCode {
  if (error.code === 'forbidden') return 'channel_not_allowed';
  if (error.code === 'too_many_channels') return 'too_many_channels';
  return 'channel_invalid';
}

/**
 * A refused `$connect`: a ConnectRefusedError (the project's $connect refusal) that also carries
 * the stable refusal code. Its message is the code itself, so even a careless log line cannot
 * carry more than the code.
 *
 * @example
 * ```ts
 * throw new AuthRefusedError('origin_not_allowed'); // statusCode 403
 * ```
 */
export class AuthRefusedError extends ConnectRefusedError {
  readonly code: RefusalCode;
  constructor(code: RefusalCode, options?: ErrorOptions) {
    super(REFUSAL_STATUS[code], code, options);
    this.name = 'AuthRefusedError';
    this.code = code;
  }
}

/**
 * The authorizer's configuration is wrong (an unknown AUTH_MODE, a bad ALLOWED_ORIGINS entry, a
 * JWKS without an audience, ...). Every connection then fails closed with a 500, and the
 * authorizer logs this message, which names the setting and never holds a secret.
 *
 * @example
 * ```ts
 * throw new AuthConfigError('AUTH_MODE must be none or jwt', 'AUTH_MODE');
 * ```
 */
export class AuthConfigError extends ConfigError {
  constructor(message: string, variable: string) {
    super(variable, message);
    this.name = 'AuthConfigError';
  }
}
