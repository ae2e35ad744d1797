/**
 * Who may do what: the single place that decides joins and publishes. Pure: no AWS client.
 *
 * Rights come from the $connect authorizer's context, which API Gateway attaches to every later
 * event of the connection as `requestContext.authorizer`. Context values must be strings,
 * numbers or booleans, so pattern lists travel as space-separated strings.
 */
import { ForbiddenError } from './errors.js';

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
 * `*` matches any channel; `prefix*` matches channels that start with `prefix`; anything else
 * must match exactly. Patterns never contain regular-expression syntax.
 */
export function matchesPattern(pattern: string, channel: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return channel.startsWith(pattern.slice(0, -1));
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
