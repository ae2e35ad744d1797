/**
 * `npm run abuse`: what one attacker holding one valid token (one principal) and a script can make
 * the service do in one minute, for each abuse of issue 9, before and after its fix: @connections
 * posts, billed API Gateway messages, DynamoDB writes, and dollars. The limits are read from
 * template.yaml's parameter defaults (so the table is what a default stack deploys), the prices
 * from bench/prices.ts. docs/security.md holds this script's output; a test keeps them equal.
 *
 * @example
 *   npm run abuse                 # the Markdown table of docs/security.md
 *   npm run abuse -- --json       # the numbers
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ENVELOPE_RESERVE_BYTES } from '../shared/limits.js';
import { REPLAY_FRAME_BYTES } from '../shared/replay.js';
import { ACCOUNT_THROTTLE } from './lib/aws-defaults.js';
import { numericDefault, TEMPLATE_PATH, templateFigures } from './lib/template-figures.js';
import { PRESENCE_JOIN_WRITES, PRESENCE_LEAVE_WRITES } from './presence-cost.js';
import { METERING, PRICES, usdFor } from './prices.js';

/** The template parameters the bounds depend on, with their deployed defaults. */
export interface AbuseLimits {
  StageRateLimit: number;
  MaxMessageBytes: number;
  MaxChannelsPerConnection: number;
  PublishPerMinute: number;
  PrincipalPublishPerMinute: number;
  ReplayPerMinute: number;
  PrincipalReplayPerMinute: number;
  HistorySize: number;
  FrameRateLimit: number;
  FrameBurstLimit: number;
  PostRateLimit: number;
  PresenceMemberLimit: number;
  PresenceConnectionsPerMember: number;
  PresencePerMinute: number;
  PrincipalPresencePerMinute: number;
}

/** Reads the limits from the template's parameter defaults. */
export function templateLimits(templatePath = TEMPLATE_PATH): AbuseLimits {
  const figures = templateFigures(templatePath);
  const names: Array<keyof AbuseLimits> = [
    'StageRateLimit',
    'MaxMessageBytes',
    'MaxChannelsPerConnection',
    'PublishPerMinute',
    'PrincipalPublishPerMinute',
    'ReplayPerMinute',
    'PrincipalReplayPerMinute',
    'HistorySize',
    'FrameRateLimit',
    'FrameBurstLimit',
    'PostRateLimit',
    'PresenceMemberLimit',
    'PresenceConnectionsPerMember',
    'PresencePerMinute',
    'PrincipalPresencePerMinute',
  ];
  return Object.fromEntries(names.map((n) => [n, numericDefault(figures, n)])) as unknown as AbuseLimits;
}

/** What one attacker-minute costs. */
export interface MinuteCost {
  posts: number;
  /** Billed API Gateway messages (32 KB units, outbound). */
  messages: number;
  writes: number;
  usd: number;
}

export interface AbuseRow {
  abuse: string;
  before: MinuteCost | string;
  after: MinuteCost | string;
  bound: string;
}

const ACCOUNT_POSTS_PER_MINUTE = ACCOUNT_THROTTLE.ratePerSecond * 60;
const usd = (messages: number, writes: number): number =>
  usdFor(messages, PRICES.messagesFirstTier) + usdFor(writes, PRICES.dynamoWriteUnits);
const cost = (posts: number, messages: number, writes: number): MinuteCost => ({ posts, messages, writes, usd: usd(messages, writes) });

/** Posts and billed messages of one replay of the whole history, packed as shared/replay.ts packs it. */
export function replayShape(limits: AbuseLimits): { posts: number; messages: number } {
  const frameBytes = limits.MaxMessageBytes + ENVELOPE_RESERVE_BYTES;
  const perPost = Math.max(1, Math.floor(REPLAY_FRAME_BYTES / frameBytes));
  const posts = Math.ceil(limits.HistorySize / perPost);
  const fullPostUnits = Math.ceil((perPost * frameBytes) / METERING.messageUnitBytes);
  const lastCount = limits.HistorySize - (posts - 1) * perPost;
  const messages = (posts - 1) * fullPostUnits + Math.ceil((lastCount * frameBytes) / METERING.messageUnitBytes);
  return { posts, messages };
}

/** Each abuse of issue 9, one attacker-minute, before and after. `subscribers` sizes a channel the attacker may publish to. */
export function abuseRows(limits: AbuseLimits, subscribers = 1000): AbuseRow[] {
  const framesPerMinute = limits.StageRateLimit * 60; // before: only the stage throttle bounded frames
  const capPosts = (n: number) => Math.min(n, ACCOUNT_POSTS_PER_MINUTE);
  const replay = replayShape(limits);
  const replaysAfter = limits.PrincipalReplayPerMinute;
  // Before: each replay posted one frame per history message, no budget.
  const replayBeforePosts = capPosts(framesPerMinute * limits.HistorySize);
  const publishBefore = (sockets: number) => capPosts(sockets * limits.PublishPerMinute * subscribers);
  const publishAfter = capPosts(limits.PrincipalPublishPerMinute * subscribers);
  // A join writes: the slot (connection row), the subscription, and with a replay two budget counters.
  const joinWrites = 2;
  const replayWrites = joinWrites + 2;
  // A connection is closed once it sends more than the burst plus the sustained rate allows.
  const floodFramesAfter = limits.FrameBurstLimit + limits.FrameRateLimit * 60;
  // Presence flapping: each join of a presence channel and its leave post one event to every
  // connection of every other member (at most PresenceConnectionsPerMember each); its writes are
  // bench/presence-cost.ts's.
  const presencePairPosts = 2 * (limits.PresenceMemberLimit - 1) * limits.PresenceConnectionsPerMember;
  const presencePairWrites = PRESENCE_JOIN_WRITES + PRESENCE_LEAVE_WRITES;
  const flapPairsAfter = limits.PrincipalPresencePerMinute;
  return [
    {
      abuse: `replay amplification (joinchannel with since=0, ${limits.HistorySize} messages of ${limits.MaxMessageBytes} B kept)`,
      before: cost(replayBeforePosts, replayBeforePosts, framesPerMinute),
      after: cost(replaysAfter * replay.posts, replaysAfter * replay.messages, replaysAfter * replayWrites),
      bound: `PrincipalReplayPerMinute replays, ${replay.posts} posts each (packed up to ${Math.round(REPLAY_FRAME_BYTES / 1024)} KB)`,
    },
    {
      abuse: `publishes from 10 sockets of one principal into a channel of ${subscribers.toLocaleString('en-US')}`,
      before: cost(publishBefore(10), publishBefore(10), 10 * limits.PublishPerMinute * 3),
      after: cost(publishAfter, publishAfter, limits.PrincipalPublishPerMinute * 3),
      bound: 'PrincipalPublishPerMinute per principal, PublishPerMinute per connection',
    },
    {
      abuse: 'channel cap race (1,000 concurrent joins on one connection)',
      before: 'unbounded rows (1,001 of 50)',
      after: cost(0, 0, Math.min(framesPerMinute, floodFramesAfter) * joinWrites),
      bound: `MaxChannelsPerConnection (${limits.MaxChannelsPerConnection}) rows, atomically; writes bounded by the frame rate`,
    },
    {
      abuse: `presence flapping (join/leave loops in a presence channel of ${limits.PresenceMemberLimit} members)`,
      // Before: no presence budget and no cap on one member's connections, so every socket another
      // principal parked in the channel multiplied each event.
      before: 'unbounded posts (one per parked socket per event: 20 for one event between 2 members)',
      after: cost(flapPairsAfter * presencePairPosts, flapPairsAfter * presencePairPosts, flapPairsAfter * presencePairWrites),
      bound: `PrincipalPresencePerMinute joins (PresencePerMinute per connection), each a join and a leave event to at most (PresenceMemberLimit - 1) x PresenceConnectionsPerMember connections`,
    },
    {
      abuse: 'orphan rows (sockets killed mid-burst)',
      before: '~20 rows per socket; a 410 post per publish to each of their channels for up to 2 h 10 min',
      after: cost(0, 0, 0),
      bound: 'no row outlives its connection',
    },
    {
      abuse: 'frame flood on one socket (ping)',
      before: `${framesPerMinute.toLocaleString('en-US')} invocations, the whole stage throttle`,
      after: `${floodFramesAfter.toLocaleString('en-US')} frames, then the connection is closed`,
      bound: 'FrameBurstLimit + FrameRateLimit per second, per connection and container',
    },
    {
      abuse: 'FanoutFunction invoked directly (needs IAM)',
      before: `any frame, unpaced (the account's ${ACCOUNT_POSTS_PER_MINUTE.toLocaleString('en-US')} posts)`,
      after: `only publisher-shaped frames, at most PostRateLimit (${limits.PostRateLimit.toLocaleString('en-US')}/s)`,
      bound: 'event validated, rate clamped',
    },
    {
      abuse: 'default channel or prefix rights (`user:u1*` into `user:u10`)',
      before: 'reads channels outside its rights',
      after: 'nothing outside its rights',
      bound: 'exact rights (docs/security.md, Rights)',
    },
  ];
}

const fmt = (c: MinuteCost | string): string =>
  typeof c === 'string'
    ? c
    : `${c.posts.toLocaleString('en-US')} posts, ${c.messages.toLocaleString('en-US')} messages, ${c.writes.toLocaleString('en-US')} writes, $${c.usd.toFixed(4)}`;

/** The Markdown table of docs/security.md. */
export function abuseTable(rows: AbuseRow[]): string {
  const lines = ['| abuse | before, per attacker-minute | after, per attacker-minute | what bounds it |', '| --- | --- | --- | --- |'];
  for (const r of rows) lines.push(`| ${r.abuse} | ${fmt(r.before)} | ${fmt(r.after)} | ${r.bound} |`);
  return lines.join('\n');
}

function main(args: string[]): number {
  if (args.includes('--help')) {
    console.log(
      'Usage: npm run abuse -- [--json]\nPrints, per abuse, what one attacker-minute costs before and after its fix, with template.yaml defaults.',
    );
    return 0;
  }
  const rows = abuseRows(templateLimits());
  console.log(args.includes('--json') ? JSON.stringify(rows, null, 2) : abuseTable(rows));
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) process.exitCode = main(process.argv.slice(2));
