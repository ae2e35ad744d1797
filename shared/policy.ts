/**
 * Who may do what: the single place that decides joins and publishes. Pure: no AWS client.
 *
 * Rights come from the $connect authorizer's context, which API Gateway attaches to every later
 * event of the connection as `requestContext.authorizer`. Context values must be strings,
 * numbers or booleans, so pattern lists travel as space-separated strings.
 */
import { ForbiddenError } from './errors.js';
import { MAX_CHANNEL_NAME_LENGTH } from './limits.js';

export interface Rights {
  /** The authenticated principal (`sub`), or `anonymous` with AuthMode=none. */
  principal: string;
  /** Channel patterns the connection may join. */
  join: string[];
  /** Channel patterns the connection may publish to. */
  publish: string[];
}

/** The open rights of AuthMode=none (development): everything, but always within the budgets. */
export const OPEN_RIGHTS: Rights = Object.freeze({ principal: 'anonymous', join: ['*'], publish: ['*'] }) as Rights;
export const NO_RIGHTS: Rights = Object.freeze({ principal: 'unknown', join: [], publish: [] }) as Rights;

/**
 * What a right may look like:
 *
 * - `*`: every channel;
 * - `<prefix>:*`: every channel that starts with `<prefix>:` and has at least one character
 *   after it (`user:u1:*` matches `user:u1:inbox` and `user:u1:a:b`, never `user:u1` nor
 *   `user:u10`). Ending the prefix at a `:` is what keeps `user:u1`'s channels apart from
 *   `user:u10`'s: a bare `prefix*` would cross that boundary, so it is not a pattern;
 * - a channel name, matched exactly.
 *
 * Any other `*` is invalid. A `<prefix>:*` must leave room for one more character within a
 * channel name's 128. The prefix uses the channel names' own characters, so a pattern
 * never holds whitespace or commas (the separators of the context string) nor regex syntax.
 */
const VALID_PATTERN = new RegExp(
  `^(?:\\*|[A-Za-z0-9_.:@-]{1,${MAX_CHANNEL_NAME_LENGTH - 2}}:\\*|[A-Za-z0-9_.:@-]{1,${MAX_CHANNEL_NAME_LENGTH}})$`,
);

/**
 * Whether `pattern` is a valid right (see VALID_PATTERN).
 *
 * @example
 * ```ts
 * isValidPattern('user:u1:*'); // true
 * isValidPattern('user:u1*'); // false: it would also match user:u10
 * ```
 */
export function isValidPattern(pattern: string): boolean {
  return VALID_PATTERN.test(pattern);
}

/**
 * Whether a valid pattern covers `channel`. An invalid pattern matches nothing: patterns are
 * validated where they enter (claims, UserChannels), and a malformed one that slipped through
 * must not widen anyone's rights.
 *
 * @example
 * ```ts
 * matchesPattern('user:u1:*', 'user:u1:inbox'); // true
 * matchesPattern('user:u1:*', 'user:u10'); // false
 * ```
 */
export function matchesPattern(pattern: string, channel: string): boolean {
  if (pattern === '*') return true;
  if (!VALID_PATTERN.test(pattern)) return false;
  if (pattern.endsWith(':*')) {
    const prefix = pattern.slice(0, -1);
    return channel.length > prefix.length && channel.startsWith(prefix);
  }
  return pattern === channel;
}

export const canJoin = (rights: Rights, channel: string): boolean => rights.join.some((p) => matchesPattern(p, channel));
export const canPublish = (rights: Rights, channel: string): boolean => rights.publish.some((p) => matchesPattern(p, channel));

export function assertCanJoin(rights: Rights, channel: string): void {
  if (!canJoin(rights, channel)) throw new ForbiddenError(channel, 'join');
}

export function assertCanPublish(rights: Rights, channel: string): void {
  if (!canPublish(rights, channel)) throw new ForbiddenError(channel, 'publish');
}

const splitPatterns = (value: unknown): string[] => (typeof value === 'string' ? value.split(/[\s,]+/).filter((p) => p.length > 0) : []);

/** Rights as the authorizer context carries them. */
export function rightsToContext(rights: Rights): Record<string, string> {
  return { principal: rights.principal, join: rights.join.join(' '), publish: rights.publish.join(' ') };
}

/**
 * Rights of a connection from `requestContext.authorizer`. With no context (a stack without the
 * authorizer, or a hand-made test event), AuthMode=none means open rights and AuthMode=jwt none.
 */
export function rightsFromContext(context: unknown, authMode: 'none' | 'jwt'): Rights {
  if (context && typeof context === 'object' && 'principal' in context) {
    const c = context as Record<string, unknown>;
    return { principal: String(c.principal), join: splitPatterns(c.join), publish: splitPatterns(c.publish) };
  }
  return authMode === 'none' ? OPEN_RIGHTS : NO_RIGHTS;
}
