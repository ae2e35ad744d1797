/**
 * JWT verification with jose, and jose's errors turned into refusal codes. Pure: no AWS client
 * (the key comes from verification-keys.ts).
 *
 * Every verification names its algorithms explicitly and one key type only: HMAC algorithms
 * for a shared secret, public-key algorithms for a JWKS. That refuses `alg: none` and the
 * classic confusion where a token signed with HS256 *using the public key as the secret* is
 * checked against that public key.
 */
import { errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { ServiceError } from '../errors.js';
import { AuthRefusedError, type TokenRefusalCode } from './refusal.js';

/** Algorithms accepted with an HMAC secret. */
export const HMAC_ALGORITHMS: readonly string[] = Object.freeze(['HS256', 'HS384', 'HS512']);
/** Algorithms accepted with public keys from a JWKS. */
export const PUBLIC_KEY_ALGORITHMS: readonly string[] = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);
/** Clock skew tolerated on `exp` and `nbf` between the issuer and Lambda. */
export const CLOCK_TOLERANCE_SECONDS = 30;

/** A verification key: an HMAC secret, or a JWKS key resolver. */
export type VerificationKey = { kind: 'hmac'; secret: Uint8Array } | { kind: 'public'; getKey: JWTVerifyGetKey };

export interface VerifyOptions {
  issuer?: string;
  audience?: string[];
  /**
   * The longest validity a token may claim: `exp - iat` (the lifetime it was issued with), and
   * `exp - now` (what is left of it, which also catches an `iat` set in the future or left out).
   * Unset: no bound.
   */
  maxLifetimeSeconds?: number;
  /** The time to verify at; tests pin it. Defaults to now. */
  currentDate?: Date;
}

/**
 * Thrown when the key could not be obtained (JWKS endpoint down or invalid). Not the client's
 * fault: the authorizer answers 500 rather than telling a valid token it is invalid.
 */
export class KeyUnavailableError extends ServiceError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KeyUnavailableError';
  }
}

/** jose error code → refusal code. Codes not listed are either key trouble or a bug. */
const BY_JOSE_CODE: Readonly<Record<string, TokenRefusalCode>> = {
  ERR_JWT_EXPIRED: 'token_expired',
  ERR_JOSE_ALG_NOT_ALLOWED: 'token_alg_not_allowed',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'token_bad_signature',
  ERR_JWKS_NO_MATCHING_KEY: 'token_unknown_key',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'token_unknown_key',
  ERR_JWS_INVALID: 'token_malformed',
  ERR_JWT_INVALID: 'token_malformed',
  ERR_JOSE_NOT_SUPPORTED: 'token_malformed',
};

const BY_CLAIM: Readonly<Record<string, TokenRefusalCode>> = {
  nbf: 'token_not_yet_valid',
  iss: 'token_wrong_issuer',
  aud: 'token_wrong_audience',
};

/** The refusal for a jose error; KeyUnavailableError for key trouble; the error itself otherwise (a bug). */
export function refusalFor(error: unknown): Error {
  if (error instanceof errors.JWTClaimValidationFailed) return new AuthRefusedError(BY_CLAIM[error.claim] ?? 'token_claims_invalid');
  if (error instanceof errors.JOSEError) {
    const code = BY_JOSE_CODE[error.code];
    if (code) return new AuthRefusedError(code);
    // ERR_JWKS_TIMEOUT, ERR_JWKS_INVALID, ERR_JWK_INVALID: the key source, not the token.
    return new KeyUnavailableError(`key source failed (${error.code})`, { cause: error });
  }
  // A JWKS fetch that never connected surfaces as a TypeError from fetch.
  if (error instanceof TypeError) return new KeyUnavailableError('key source failed', { cause: error });
  // Not jose's: a bug. Let it surface as a 500 rather than blame the token.
  return error instanceof Error ? error : new Error('token verification failed');
}

/**
 * Verifies `token` and returns its claims, or throws an AuthRefusedError (401) or a
 * KeyUnavailableError (500). `exp` and `sub` are required, and the validity is bounded by
 * `maxLifetimeSeconds` when it is set.
 *
 * @example
 * ```ts
 * const claims = await verifyToken(token, { kind: 'hmac', secret }, { audience: ['airwave'] });
 * ```
 */
export async function verifyToken(token: string, key: VerificationKey, options: VerifyOptions = {}): Promise<JWTPayload> {
  const common = {
    issuer: options.issuer,
    audience: options.audience,
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    requiredClaims: ['exp', 'sub'],
    currentDate: options.currentDate,
  };
  let payload: JWTPayload;
  try {
    const result =
      key.kind === 'hmac'
        ? await jwtVerify(token, key.secret, { ...common, algorithms: [...HMAC_ALGORITHMS] })
        : await jwtVerify(token, key.getKey, { ...common, algorithms: [...PUBLIC_KEY_ALGORITHMS] });
    payload = result.payload;
  } catch (error) {
    throw refusalFor(error);
  }
  assertLifetime(payload, options);
  return payload;
}

/**
 * Refuses a token valid for longer than `maxLifetimeSeconds`: a leaked 100-year token is a
 * credential nobody can take back (revocation is not checked after $connect), and an issuer that
 * mints one is misconfigured.
 */
function assertLifetime(claims: JWTPayload, options: VerifyOptions): void {
  const max = options.maxLifetimeSeconds;
  if (max === undefined || typeof claims.exp !== 'number') return;
  const now = Math.floor((options.currentDate ?? new Date()).getTime() / 1000);
  const issuedFor = typeof claims.iat === 'number' ? claims.exp - claims.iat : 0;
  // The clock tolerance keeps a token minted at exactly the maximum valid despite skew.
  if (issuedFor > max || claims.exp - now > max + CLOCK_TOLERANCE_SECONDS) throw new AuthRefusedError('token_lifetime_too_long');
}
