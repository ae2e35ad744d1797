/**
 * The authorizer's settings, read from the environment the template sets on AuthorizerFunction
 * (plus AUTH_MODE from Globals). Pure: no AWS client.
 *
 * Misconfiguration throws: the authorizer then fails every connection with a 500 and logs why,
 * rather than guessing (an unknown AUTH_MODE must never fall back to the open mode).
 */
import { readAuthMode } from '../config.js';
import { isValidPattern } from '../policy.js';
import { hasWildcardOrigin, type OriginAllowlist, parseAllowedOrigins, type WildcardCheck } from './origin.js';
import { AuthConfigError } from './refusal.js';

/** Default of MAX_TOKEN_LIFETIME_SECONDS (the MaxTokenLifetimeSeconds parameter): one day. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 86_400;
/** What USER_CHANNELS patterns hold in place of the token's `sub`. */
export const SUB_PLACEHOLDER = '{sub}';

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
  /** AuthMode=jwt: the longest validity a token may claim (`exp - iat`, or `exp - now`). */
  maxTokenLifetimeSeconds?: number;
  /** AuthMode=jwt: join patterns with `{sub}`, added to every connection's rights (USER_CHANNELS). */
  userChannels?: string[];
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
    throw new AuthConfigError('JWKS_URL is not a URL', 'JWKS_URL');
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    throw new AuthConfigError('JWKS_URL must use https', 'JWKS_URL');
  return url;
}

function keySource(env: NodeJS.ProcessEnv): KeySource {
  const url = nonEmpty(env.JWKS_URL);
  const parameterName = nonEmpty(env.JWT_SECRET_PARAMETER);
  const devSecret = devSecretAllowed(env) ? nonEmpty(env.JWT_DEV_SECRET) : undefined;
  const hmac = devSecret !== undefined || parameterName !== undefined;
  // One key type per stack: accepting both an HMAC secret and public keys is how
  // algorithm-confusion attacks start, and nothing needs it.
  if (url && hmac) throw new AuthConfigError('set either JWKS_URL or an HMAC secret (JWT_SECRET_PARAMETER), not both', 'JWKS_URL');
  if (url) return { kind: 'jwks', url: jwksUrl(url) };
  // Locally there is no Parameter Store: the dev secret, where allowed, wins over a parameter name.
  if (devSecret !== undefined) return { kind: 'dev', secret: devSecret };
  if (parameterName !== undefined) return { kind: 'ssm', parameterName };
  throw new AuthConfigError('AUTH_MODE=jwt needs JWKS_URL or JWT_SECRET_PARAMETER', 'JWT_SECRET_PARAMETER');
}

/** A positive whole number of seconds, or the default when unset; anything else is a typo. */
function maxLifetime(raw: string | undefined): number {
  const value = nonEmpty(raw);
  if (value === undefined) return DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
  if (!/^[1-9][0-9]{0,9}$/.test(value))
    throw new AuthConfigError('MAX_TOKEN_LIFETIME_SECONDS must be a positive whole number of seconds', 'MAX_TOKEN_LIFETIME_SECONDS');
  return Number(value);
}

/**
 * The USER_CHANNELS patterns: space-separated, each holding `{sub}` and forming a valid pattern
 * (policy.ts) once `{sub}` is replaced by a channel-safe fragment. Checked here, once, so that a
 * bad pattern fails every connection loudly instead of granting the wrong channels.
 */
function userChannels(raw: string | undefined): string[] {
  const patterns = [...new Set((raw ?? '').split(/\s+/).filter((p) => p.length > 0))];
  for (const pattern of patterns) {
    if (!pattern.includes(SUB_PLACEHOLDER))
      throw new AuthConfigError(`USER_CHANNELS pattern has no ${SUB_PLACEHOLDER}: "${pattern}"`, 'USER_CHANNELS');
    if (!isValidPattern(pattern.replaceAll(SUB_PLACEHOLDER, 'x')))
      throw new AuthConfigError(`USER_CHANNELS pattern is not a valid channel pattern: "${pattern}"`, 'USER_CHANNELS');
  }
  return patterns;
}

/**
 * Reads the settings from an environment (`process.env` by default). Throws an AuthConfigError
 * on any misconfiguration. `isWildcardTooBroad` (public-suffix.ts) checks wildcard origins;
 * without it a wildcard entry is refused.
 *
 * @example
 * ```ts
 * const s = authSettings({
 *   AUTH_MODE: 'jwt',
 *   ALLOWED_ORIGINS: 'https://app.example.com',
 *   JWKS_URL: 'https://issuer/jwks.json',
 *   JWT_AUDIENCE: 'airwave',
 * });
 * s.key; // { kind: 'jwks', url: URL }
 * ```
 */
export function authSettings(env: NodeJS.ProcessEnv = process.env, isWildcardTooBroad?: WildcardCheck): AuthSettings {
  const rawMode = readAuthMode(env);
  const base = {
    origins: parseAllowedOrigins(env.ALLOWED_ORIGINS, isWildcardTooBroad),
    allowMissingOrigin: env.ALLOW_MISSING_ORIGIN === 'true',
  };
  if (rawMode === 'none') return { mode: 'none', ...base };
  const audience = nonEmpty(env.JWT_AUDIENCE)
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const key = keySource(env);
  // A JWKS is usually a shared issuer's (Cognito, Auth0): without an audience, every token it
  // signs for any of its applications would be accepted here. The template refuses it at deploy
  // too (Rules); this is for stacks configured some other way.
  if (key.kind === 'jwks' && (audience === undefined || audience.length === 0))
    throw new AuthConfigError(
      'JWKS_URL needs JWT_AUDIENCE (JwtAudience): without it, tokens the issuer signs for other applications are accepted',
      'JWT_AUDIENCE',
    );
  return {
    mode: 'jwt',
    ...base,
    key,
    issuer: nonEmpty(env.JWT_ISSUER),
    audience,
    maxTokenLifetimeSeconds: maxLifetime(env.MAX_TOKEN_LIFETIME_SECONDS),
    userChannels: userChannels(env.USER_CHANNELS),
  };
}

/** The variables authSettings reads: the cache below is keyed on their values. */
const SETTING_VARIABLES = [
  'AUTH_MODE',
  'ALLOWED_ORIGINS',
  'ALLOW_MISSING_ORIGIN',
  'JWKS_URL',
  'JWT_SECRET_PARAMETER',
  'JWT_DEV_SECRET',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AIRWAVE_LOCAL',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'MAX_TOKEN_LIFETIME_SECONDS',
  'USER_CHANNELS',
] as const;

let cached: { key: string; settings?: AuthSettings; error?: unknown } | undefined;

/**
 * The settings of this container, parsed once at its first invocation (the environment of a
 * Lambda function does not change while it lives) and served from memory afterwards. A
 * configuration error is remembered too, so every connection fails the same way. Tests that
 * change `process.env` get fresh settings: the cache is keyed on the values read.
 *
 * The Public Suffix List is imported only when ALLOWED_ORIGINS holds a wildcard: it adds about
 * 250 KB of code to evaluate, which a cold start without wildcards need not pay (a dynamic
 * import stays lazy in the esbuild bundle).
 */
export async function currentSettings(env: NodeJS.ProcessEnv = process.env): Promise<AuthSettings> {
  const key = JSON.stringify(SETTING_VARIABLES.map((name) => env[name] ?? null));
  if (cached?.key !== key) {
    const check = hasWildcardOrigin(env.ALLOWED_ORIGINS) ? (await import('./public-suffix.js')).isWildcardTooBroad : undefined;
    try {
      cached = { key, settings: authSettings(env, check) };
    } catch (error) {
      cached = { key, error };
    }
  }
  if (cached.error !== undefined) throw cached.error;
  return cached.settings as AuthSettings;
}
