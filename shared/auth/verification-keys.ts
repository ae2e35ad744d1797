/**
 * The authorizer's verification keys, cached across invocations of a warm container. The only
 * auth module that touches AWS: the HMAC secret is read from SSM Parameter Store (SecureString,
 * decrypted) at run time, so it is never in the template, its parameters or the environment.
 *
 * The SSM client is loaded on first use only (a dynamic import, which esbuild keeps lazy), so an
 * authorizer in AuthMode=none or with a JWKS does not pay the SDK's cold-start cost.
 */
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import type { KeySource } from './settings.js';
import type { VerificationKey } from './verify.js';

/** How long a secret read from SSM is reused. A rotated secret takes effect within this. */
export const SECRET_MAX_AGE_SECONDS = 300;
/** RFC 7518 §3.2: an HMAC key must be at least as long as the hash output (32 bytes for HS256). */
export const MIN_HMAC_SECRET_BYTES = 32;
/** A JWKS fetch must leave room in the authorizer's 10 s timeout (and the client's patience). */
export const JWKS_TIMEOUT_MS = 3_000;
/** Keys are refetched at most this often, and a token with an unknown `kid` triggers a refetch
 * only after this cooldown: a flood of made-up `kid`s cannot turn into a flood of fetches. */
export const JWKS_COOLDOWN_MS = 30_000;
/** A JWKS is reused this long before it is refetched (key rotation takes effect within it). */
export const JWKS_MAX_AGE_MS = 10 * 60_000;

/** Reads a decrypted SecureString value; `undefined` when the parameter does not exist. */
export type ParameterFetcher = (name: string) => Promise<string | undefined>;

export interface KeyDependencies {
  /** Replaces the SSM read (tests). */
  fetchParameter?: ParameterFetcher;
  /** Replaces jose's remote JWKS resolver, for example with `createLocalJWKSet` (tests). */
  jwks?: JWTVerifyGetKey;
}

const defaultFetchParameter: ParameterFetcher = async (name) => {
  const { getParameter } = await import('@aws-lambda-powertools/parameters/ssm');
  return getParameter(name, { decrypt: true, maxAge: SECRET_MAX_AGE_SECONDS });
};

let deps: KeyDependencies = {};
let secret: { name: string; value: Promise<Uint8Array>; expiresAt: number } | undefined;
const jwksByUrl = new Map<string, JWTVerifyGetKey>();

/**
 * Replace the key sources; pass `{}` to go back to SSM and remote JWKS. Clears caches. Called by
 * `configure({ keys })` and `reset()` in shared/dependencies.ts only.
 */
export function setKeyDependencies(next: KeyDependencies): void {
  deps = { ...next };
  resetKeyCaches();
}

/** Forget cached secrets and JWKS resolvers (tests, or a forced rotation). */
export function resetKeyCaches(): void {
  secret = undefined;
  jwksByUrl.clear();
}

function toHmacKey(value: string | undefined, what: string): Uint8Array {
  if (value === undefined || value === '') throw new Error(`${what} is missing or empty`);
  const bytes = new TextEncoder().encode(value);
  if (bytes.length < MIN_HMAC_SECRET_BYTES) throw new Error(`${what} is shorter than ${MIN_HMAC_SECRET_BYTES} bytes`);
  return bytes;
}

/**
 * The SSM secret, fetched once and shared by concurrent and later invocations until it is
 * SECRET_MAX_AGE_SECONDS old. A failed read is not cached, so the next invocation retries.
 */
function ssmSecret(name: string, now: number): Promise<Uint8Array> {
  if (secret && secret.name === name && secret.expiresAt > now) return secret.value;
  const fetchParameter = deps.fetchParameter ?? defaultFetchParameter;
  const entry = {
    name,
    value: fetchParameter(name).then((value) => toHmacKey(value, `SSM parameter ${name}`)),
    expiresAt: now + SECRET_MAX_AGE_SECONDS * 1000,
  };
  secret = entry;
  entry.value.catch(() => {
    if (secret === entry) secret = undefined;
  });
  return entry.value;
}

function remoteJwks(url: URL): JWTVerifyGetKey {
  if (deps.jwks) return deps.jwks;
  let resolver = jwksByUrl.get(url.href);
  if (!resolver) {
    resolver = createRemoteJWKSet(url, {
      timeoutDuration: JWKS_TIMEOUT_MS,
      cooldownDuration: JWKS_COOLDOWN_MS,
      cacheMaxAge: JWKS_MAX_AGE_MS,
    });
    jwksByUrl.set(url.href, resolver);
  }
  return resolver;
}

/**
 * The verification key for a key source.
 *
 * @example
 * ```ts
 * const key = await verificationKey({ kind: 'ssm', parameterName: '/airwave/jwt-secret' });
 * await verifyToken(token, key);
 * ```
 */
export async function verificationKey(source: KeySource, now = Date.now()): Promise<VerificationKey> {
  switch (source.kind) {
    case 'jwks':
      return { kind: 'public', getKey: remoteJwks(source.url) };
    case 'ssm':
      return { kind: 'hmac', secret: await ssmSecret(source.parameterName, now) };
    case 'dev':
      return { kind: 'hmac', secret: toHmacKey(source.secret, 'JWT_DEV_SECRET') };
  }
}
