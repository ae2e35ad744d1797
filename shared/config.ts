/**
 * Deploy-time settings, read from the environment the template sets (Globals + per function).
 * Read lazily and cached per container; `resetConfig()` lets tests change the environment.
 */
export interface Config {
  tableName: string;
  channelIndex: string;
  connectionsEndpoint: string | undefined;
  authMode: 'none' | 'jwt';
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

function num(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`environment variable ${name} must be a non-negative number`);
  return value;
}

export function config(): Config {
  if (cached) return cached;
  const env = process.env;
  cached = {
    tableName: env.TABLE_NAME ?? 'airwave',
    channelIndex: env.CHANNEL_INDEX ?? 'byChannel',
    connectionsEndpoint: env.CONNECTIONS_ENDPOINT || undefined,
    authMode: env.AUTH_MODE === 'jwt' ? 'jwt' : 'none',
    defaultChannel: env.DEFAULT_CHANNEL ?? 'default',
    maxMessageBytes: num('MAX_MESSAGE_BYTES', 16_384),
    maxChannelsPerConnection: num('MAX_CHANNELS_PER_CONNECTION', 50),
    publishPerMinute: num('PUBLISH_PER_MINUTE', 60),
    principalPublishPerMinute: num('PRINCIPAL_PUBLISH_PER_MINUTE', 240),
    replayPerMinute: num('REPLAY_PER_MINUTE', 60),
    principalReplayPerMinute: num('PRINCIPAL_REPLAY_PER_MINUTE', 240),
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
  return cached;
}

/** Forget the cached settings (tests that change process.env). */
export function resetConfig(): void {
  cached = undefined;
}
