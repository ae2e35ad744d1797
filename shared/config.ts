/**
 * Deploy-time settings, read from the environment the template sets (Globals + per function).
 *
 * One parser: {@link parseConfig} is pure (it takes the environment, so a test passes a plain
 * object) and fails loudly on a bad value with a ConfigError naming the variable, never with a
 * silent fallback. The authorizer's settings (shared/auth/settings.ts) read AUTH_MODE and their
 * numbers through the same readers. {@link config} parses `process.env` lazily, once per
 * container; tests that change the environment call `configure()` in shared/dependencies.ts,
 * which forgets the parsed settings.
 */
import { ConfigError } from './errors.js';

/** The environment a parser reads: `process.env`, or a plain object in a test. */
export type Environment = Readonly<Record<string, string | undefined>>;

export type AuthMode = 'none' | 'jwt';

/** A variable's value with surrounding blanks removed, or undefined when unset or blank. */
export const envValue = (env: Environment, name: string): string | undefined => {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
};

/**
 * AUTH_MODE (the AuthMode parameter): `none` when unset, else exactly `none` or `jwt`. Anything
 * else throws: a typo must never fall back to the open mode.
 */
export function readAuthMode(env: Environment): AuthMode {
  const mode = envValue(env, 'AUTH_MODE') ?? 'none';
  if (mode !== 'none' && mode !== 'jwt') throw new ConfigError('AUTH_MODE', 'AUTH_MODE must be none or jwt');
  return mode;
}

/** A non-negative number, or `fallback` when unset or blank; anything else throws naming the variable. */
export function readNumber(env: Environment, name: string, fallback: number): number {
  const raw = envValue(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new ConfigError(name, `environment variable ${name} must be a non-negative number`);
  return value;
}

export interface Config {
  tableName: string;
  channelIndex: string;
  connectionsEndpoint: string | undefined;
  authMode: AuthMode;
  defaultChannel: string;
  maxMessageBytes: number;
  maxChannelsPerConnection: number;
  /** Publishes one connection may make per minute (sendmessage). */
  publishPerMinute: number;
  /** Publishes all connections of one principal may make per minute together. */
  principalPublishPerMinute: number;
  /** Replays (joinchannel with `since` that has something to replay) per connection per minute. */
  replayPerMinute: number;
  /** Replays all connections of one principal may ask for per minute together. */
  principalReplayPerMinute: number;
  channelShards: number;
  historySize: number;
  historyMinutes: number;
  fanoutBatchSize: number;
  postRateLimit: number;
  postBurstLimit: number;
  fanoutFunction: string | undefined;
  /**
   * Frames per second one connection may send to one route's container, sustained
   * (FrameRateLimit, default 10; 0 turns the flood limit off). Past it the connection is closed.
   */
  frameRateLimit: number;
  /**
   * Frames one connection may send at once before the sustained rate applies (FrameBurstLimit,
   * default 60: above MaxChannelsPerConnection's default 50, because a reconnecting client
   * rejoins every channel with one joinchannel frame each, all at once).
   */
  frameBurstLimit: number;
}

let cached: Config | undefined;

/**
 * Parses the settings from `env` (defaults as in the template's parameters). Throws a
 * ConfigError naming the variable when one is malformed.
 */
export function parseConfig(env: Environment): Config {
  const num = (name: string, fallback: number) => readNumber(env, name, fallback);
  return {
    tableName: env.TABLE_NAME ?? 'airwave',
    channelIndex: env.CHANNEL_INDEX ?? 'byChannel',
    connectionsEndpoint: env.CONNECTIONS_ENDPOINT || undefined,
    authMode: readAuthMode(env),
    defaultChannel: env.DEFAULT_CHANNEL ?? 'default',
    maxMessageBytes: num('MAX_MESSAGE_BYTES', 16_384),
    maxChannelsPerConnection: num('MAX_CHANNELS_PER_CONNECTION', 50),
    publishPerMinute: num('PUBLISH_PER_MINUTE', 60),
    principalPublishPerMinute: num('PRINCIPAL_PUBLISH_PER_MINUTE', 240),
    replayPerMinute: num('REPLAY_PER_MINUTE', 60),
    principalReplayPerMinute: num('PRINCIPAL_REPLAY_PER_MINUTE', 600),
    channelShards: Math.max(1, Math.floor(num('CHANNEL_SHARDS', 8))),
    historySize: Math.floor(num('HISTORY_SIZE', 100)),
    historyMinutes: num('HISTORY_MINUTES', 15),
    fanoutBatchSize: Math.max(1, Math.floor(num('FANOUT_BATCH_SIZE', 20_000))),
    postRateLimit: Math.max(1, num('POST_RATE_LIMIT', 9500)),
    postBurstLimit: Math.max(1, num('POST_BURST_LIMIT', 4750)),
    fanoutFunction: env.FANOUT_FUNCTION || undefined,
    frameRateLimit: num('FRAME_RATE_LIMIT', 10),
    frameBurstLimit: Math.max(1, Math.floor(num('FRAME_BURST_LIMIT', 60))),
  };
}

/** This container's settings: {@link parseConfig} of `process.env`, parsed on first use and kept. */
export function config(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}

/** Forget the cached settings. Called by `configure()` and `reset()` in shared/dependencies.ts only. */
export function resetConfig(): void {
  cached = undefined;
}
