/**
 * The authorizer's settings, read from the environment the template sets on AuthorizerFunction
 * (plus AUTH_MODE from Globals). Pure: no AWS client.
 *
 * Misconfiguration throws: the authorizer then fails every connection with a 500 and logs why,
 * rather than guessing (an unknown AUTH_MODE must never fall back to the open mode).
 */
import { type OriginAllowlist, parseAllowedOrigins } from './origin.js';

/** Where the verification key comes from. */
export type KeySource =
  /** An HMAC secret in SSM Parameter Store (SecureString), read at run time and cached. */
  | { kind: 'ssm'; parameterName: string }
  /** A JWKS URL (Cognito, Auth0, any OIDC issuer): public keys, fetched and cached by jose. */
  | { kind: 'jwks'; url: URL }
  /** A development HMAC secret from JWT_DEV_SECRET: the local stack only, never a deployed one. */
  | { kind: 'dev'; secret: string };

export interface AuthSettings {
  mode: 'none' | 'jwt';
  origins: OriginAllowlist;
  /** AuthMode=none: whether a request without Origin (not a browser) may connect. */
  allowMissingOrigin: boolean;
  /** AuthMode=jwt only. */
  key?: KeySource;
  issuer?: string;
  audience?: string[];
}

/**
 * Whether the development secret may be used: only outside Lambda (AWS_LAMBDA_FUNCTION_NAME is
 * set by the Lambda runtime) or when the local stack says so with AIRWAVE_LOCAL=1. The template
 * sets neither AIRWAVE_LOCAL nor JWT_DEV_SECRET, and test/template/policy.test.ts keeps it so.
 */
export function devSecretAllowed(env: NodeJS.ProcessEnv): boolean {
  return !env.AWS_LAMBDA_FUNCTION_NAME || env.AIRWAVE_LOCAL === '1';
}

const nonEmpty = (value: string | undefined): string | undefined => (value && value.trim() !== '' ? value.trim() : undefined);

/** A JWKS over plain HTTP could be swapped on the way: only loopback hosts (tests, local) may use it. */
function jwksUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('JWKS_URL is not a URL');
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new Error('JWKS_URL must use https');
  return url;
}

function keySource(env: NodeJS.ProcessEnv): KeySource {
  const url = nonEmpty(env.JWKS_URL);
  const parameterName = nonEmpty(env.JWT_SECRET_PARAMETER);
  const devSecret = devSecretAllowed(env) ? nonEmpty(env.JWT_DEV_SECRET) : undefined;
  const hmac = devSecret !== undefined || parameterName !== undefined;
  // One key type per stack: accepting both an HMAC secret and public keys is how
  // algorithm-confusion attacks start, and nothing needs it.
  if (url && hmac) throw new Error('set either JWKS_URL or an HMAC secret (JWT_SECRET_PARAMETER), not both');
  if (url) return { kind: 'jwks', url: jwksUrl(url) };
  // Locally there is no Parameter Store: the dev secret, where allowed, wins over a parameter name.
  if (devSecret !== undefined) return { kind: 'dev', secret: devSecret };
  if (parameterName !== undefined) return { kind: 'ssm', parameterName };
  throw new Error('AUTH_MODE=jwt needs JWKS_URL or JWT_SECRET_PARAMETER');
}

/**
 * Reads the settings from an environment (`process.env` by default).
 *
 * @example
 * ```ts
 * const s = authSettings({ AUTH_MODE: 'jwt', ALLOWED_ORIGINS: 'https://app.example.com', JWKS_URL: 'https://issuer/jwks.json' });
 * s.key; // { kind: 'jwks', url: URL }
 * ```
 */
export function authSettings(env: NodeJS.ProcessEnv = process.env): AuthSettings {
  const rawMode = nonEmpty(env.AUTH_MODE) ?? 'none';
  if (rawMode !== 'none' && rawMode !== 'jwt') throw new Error('AUTH_MODE must be none or jwt');
  const base = {
    origins: parseAllowedOrigins(env.ALLOWED_ORIGINS),
    allowMissingOrigin: env.ALLOW_MISSING_ORIGIN === 'true',
  };
  if (rawMode === 'none') return { mode: 'none', ...base };
  const audience = nonEmpty(env.JWT_AUDIENCE)
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return { mode: 'jwt', ...base, key: keySource(env), issuer: nonEmpty(env.JWT_ISSUER), audience };
}
