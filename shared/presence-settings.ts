/**
 * Presence settings, read from the environment the template sets (Globals). Pure: no AWS
 * client, so the authorizer can use it without loading DynamoDB. Re-read whenever config() is
 * re-read (tests that change process.env call configure() in shared/dependencies.ts).
 */
import { type Config, config } from './config.js';
import { isValidPattern, matchesPattern } from './policy.js';

export interface PresenceSettings {
  /** PresenceChannels: channel patterns (the syntax of rights, shared/policy.ts) that are presence channels; empty = off. */
  patterns: string[];
  /** PresenceMemberLimit (default 100): members of one presence channel at once. */
  memberLimit: number;
  /** Connections of one member in one channel (PresenceConnectionsPerMember): an event posts to each. */
  connectionsPerMember: number;
  /** PresenceInfoClaim (default empty = none): the token claim whose text is a member's public info. */
  infoClaim: string | undefined;
  /** PresencePerMinute (default 20): presence joins and `members` requests per connection per minute. */
  perMinute: number;
  /** PrincipalPresencePerMinute (default 60): the same, all connections of one principal together. */
  principalPerMinute: number;
}

/** Default of PresenceChannels. */
export const DEFAULT_PRESENCE_CHANNELS = 'presence:*';
/** A member's public info is cut to this many characters (it travels in every join event and ack). */
export const PRESENCE_INFO_MAX_CHARS = 64;

let cached: { settings: PresenceSettings; for: Config } | undefined;

function count(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`environment variable ${name} must be a non-negative integer`);
  return value;
}

export function presenceSettings(): PresenceSettings {
  const current = config();
  if (cached?.for === current) return cached.settings;
  const env = process.env;
  const raw = env.PRESENCE_CHANNELS ?? DEFAULT_PRESENCE_CHANNELS;
  const patterns = raw.split(/[\s,]+/).filter((p) => p.length > 0);
  // A typo must not silently turn presence off (or on) for channels nobody meant.
  for (const p of patterns) if (!isValidPattern(p)) throw new Error(`PRESENCE_CHANNELS holds an invalid pattern: ${p}`);
  const settings: PresenceSettings = {
    patterns,
    memberLimit: Math.max(1, count('PRESENCE_MEMBER_LIMIT', 100)),
    connectionsPerMember: Math.max(1, count('PRESENCE_CONNECTIONS_PER_MEMBER', 5)),
    infoClaim: env.PRESENCE_INFO_CLAIM?.trim() || undefined,
    perMinute: count('PRESENCE_PER_MINUTE', 20),
    principalPerMinute: count('PRINCIPAL_PRESENCE_PER_MINUTE', 60),
  };
  cached = { settings, for: current };
  return settings;
}

/** Whether `channel` is a presence channel (PresenceChannels). */
export const isPresenceChannel = (channel: string): boolean => presenceSettings().patterns.some((p) => matchesPattern(p, channel));

// Control characters in public info would forge log lines or confuse a UI. Bidirectional
// overrides and isolates (and the Arabic letter mark, LRM, RLM) reorder how the text around them
// is shown, so one member's name could read as another's; line and paragraph separators break a
// one-line display. Joiners (U+200D in emoji sequences) stay.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * A member's public info from verified token claims: the PresenceInfoClaim claim if it is a
 * string, control characters removed, cut to PRESENCE_INFO_MAX_CHARS characters; undefined
 * otherwise. Never refuses a token: the info is decoration, not identity.
 */
export function presenceInfoFromClaims(claims: Record<string, unknown>): string | undefined {
  const claim = presenceSettings().infoClaim;
  if (claim === undefined) return undefined;
  const value = claims[claim];
  if (typeof value !== 'string') return undefined;
  const clean = [...value.replace(CONTROL, '')].slice(0, PRESENCE_INFO_MAX_CHARS).join('');
  return clean.length > 0 ? clean : undefined;
}
