/**
 * A verified token's claims turned into the connection's rights. Pure: no AWS client.
 *
 * The rights travel in the authorizer context to every later event of the connection, and API
 * Gateway refuses an authorizer result larger than 8 KB (the connection then fails with a 500
 * nobody can explain), so the claims are bounded here, with a clear refusal, before that happens.
 */
import type { JWTPayload } from 'jose';
import { MAX_CHANNEL_NAME_LENGTH } from '../limits.js';
import { type Rights, rightsToContext } from '../policy.js';
import { AuthRefusedError } from './refusal.js';

/** Patterns per claim (`channels`, `publish`). */
export const MAX_PATTERNS_PER_CLAIM = 50;
/** Longest `sub` accepted. */
export const MAX_PRINCIPAL_LENGTH = 256;
/**
 * Budget for the serialised context. API Gateway's limit is 8 KB for the whole authorizer
 * result; the policy document around the context takes about 300 bytes plus the methodArn.
 */
export const MAX_CONTEXT_BYTES = 6 * 1024;

/**
 * A right is `*`, a channel name, or a channel-name prefix ending in `*` (see policy.ts
 * matchesPattern). Whitespace and commas would split one pattern into several once the list
 * travels as a space-separated string, so the character set is the channel names' own.
 */
const PATTERN = new RegExp(`^(?:\\*|[A-Za-z0-9_.:@-]{1,${MAX_CHANNEL_NAME_LENGTH}}\\*?)$`);
/** Control characters in a principal would forge log lines and context values. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point.
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A `channels`/`publish` claim as a pattern list: an array of strings or a space-separated string. */
function patterns(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  let list: unknown[];
  if (typeof value === 'string') list = value.split(/\s+/).filter((s) => s.length > 0);
  else if (Array.isArray(value)) list = value;
  else throw new AuthRefusedError('token_claims_invalid');
  if (list.length > MAX_PATTERNS_PER_CLAIM) throw new AuthRefusedError('claims_too_large');
  for (const p of list) if (typeof p !== 'string' || !PATTERN.test(p)) throw new AuthRefusedError('token_claims_invalid');
  return [...new Set(list as string[])];
}

/**
 * Rights from verified claims: `sub` is the principal (required), `channels` the patterns it may
 * join, `publish` those it may publish to (none when absent). Throws `token_claims_invalid` or
 * `claims_too_large` (both 401: the token cannot be used).
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
  if (Buffer.byteLength(JSON.stringify(rightsToContext(rights))) > MAX_CONTEXT_BYTES) throw new AuthRefusedError('claims_too_large');
  return rights;
}
