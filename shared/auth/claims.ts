/**
 * A verified token's claims turned into the connection's rights. Pure: no AWS client.
 *
 * The rights travel in the authorizer context to every later event of the connection, and API
 * Gateway refuses an authorizer result larger than 8 KB (the connection then fails with a 500
 * nobody can explain), so the claims are bounded here, with a clear refusal, before that happens.
 */
import type { JWTPayload } from 'jose';
import { isValidPattern, type Rights, rightsToContext } from '../policy.js';
import { AuthRefusedError } from './refusal.js';
import { SUB_PLACEHOLDER } from './settings.js';

/** Patterns per claim (`channels`, `publish`). */
export const MAX_PATTERNS_PER_CLAIM = 50;
/** Longest `sub` accepted. */
export const MAX_PRINCIPAL_LENGTH = 256;
/**
 * Budget for the serialised context. API Gateway's limit is 8 KB for the whole authorizer
 * result; the policy document around the context takes about 300 bytes plus the methodArn.
 */
export const MAX_CONTEXT_BYTES = 6 * 1024;

/** Control characters in a principal would forge log lines and context values. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point.
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * A `channels`/`publish` claim as a pattern list: an array of strings or a space-separated
 * string, each a valid pattern (policy.ts isValidPattern). Anything else refuses the connection
 * with `rights_pattern_invalid`: dropping the bad entry would quietly take rights away, and
 * reading it loosely (`user:u1*` as a prefix) would quietly grant `user:u10`'s channels.
 */
function patterns(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  let list: unknown[];
  if (typeof value === 'string') list = value.split(/\s+/).filter((s) => s.length > 0);
  else if (Array.isArray(value)) list = value;
  else throw new AuthRefusedError('rights_pattern_invalid');
  if (list.length > MAX_PATTERNS_PER_CLAIM) throw new AuthRefusedError('claims_too_large');
  for (const p of list) if (typeof p !== 'string' || !isValidPattern(p)) throw new AuthRefusedError('rights_pattern_invalid');
  return [...new Set(list as string[])];
}

/**
 * Rights from verified claims: `sub` is the principal (required), `channels` the patterns it may
 * join, `publish` those it may publish to (none when absent). Throws `token_claims_invalid` or
 * `claims_too_large` (both 401: the token cannot be used), or `rights_pattern_invalid` (403).
 *
 * @example
 * ```ts
 * rightsFromClaims({ sub: 'u1', channels: ['public:*', 'user:u1'], publish: 'user:u1' });
 * // { principal: 'u1', join: ['public:*', 'user:u1'], publish: ['user:u1'] }
 * ```
 */
export function rightsFromClaims(claims: JWTPayload): Rights {
  const sub = claims.sub;
  if (typeof sub !== 'string' || sub.length === 0 || CONTROL.test(sub)) throw new AuthRefusedError('token_claims_invalid');
  if (sub.length > MAX_PRINCIPAL_LENGTH) throw new AuthRefusedError('claims_too_large');
  const rights: Rights = { principal: sub, join: patterns(claims.channels), publish: patterns(claims.publish) };
  assertContextFits(rights);
  return rights;
}

/** Throws `claims_too_large` when the rights would not fit the authorizer context budget. */
export function assertContextFits(rights: Rights): void {
  if (Buffer.byteLength(JSON.stringify(rightsToContext(rights))) > MAX_CONTEXT_BYTES) throw new AuthRefusedError('claims_too_large');
}

/**
 * What a `sub` may be to stand in a channel name: the channel names' characters without `:`
 * (a sub `bob:x` would reach into `user:bob`'s sub-channels) and, like every channel name,
 * without `*`.
 */
const SAFE_SUB = /^[A-Za-z0-9_.@-]+$/;

/**
 * The USER_CHANNELS patterns for one principal, `{sub}` replaced by it, or `undefined` when the
 * principal cannot form a safe channel-name fragment, or a pattern would grow past a channel
 * name's length (the caller logs it: that user gets no per-user channels).
 *
 * @example
 * ```ts
 * userChannelPatterns('alice', ['user:{sub}', 'user:{sub}:*']); // ['user:alice', 'user:alice:*']
 * userChannelPatterns('bob:x', ['user:{sub}']); // undefined
 * ```
 */
export function userChannelPatterns(sub: string, templates: readonly string[]): string[] | undefined {
  if (!SAFE_SUB.test(sub)) return undefined;
  const patterns = templates.map((t) => t.replaceAll(SUB_PLACEHOLDER, sub));
  return patterns.every(isValidPattern) ? patterns : undefined;
}
