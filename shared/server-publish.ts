/**
 * Server-side publish (PublishFunction): validates the whole request before publishing anything.
 */
import { config } from './config.js';
import { BadRequestError } from './errors.js';
import { flushMetrics, logger } from './observability.js';
import { type Published, publish } from './publish.js';
import { assertChannel, assertMessage, assertSafeJson } from './validate.js';

export interface PublishRequest {
  channel?: string;
  channels?: string[];
  message?: unknown;
  messages?: unknown[];
}

export interface PublishResponse {
  /** Posts this invocation made (batches handed to workers are counted in `dispatched`). */
  delivered: number;
  gone: number;
  failed: number;
  subscribers: number;
  dispatched: number;
  published: Array<Pick<Published, 'channel' | 'id' | 'seq' | 'delivered' | 'gone' | 'failed' | 'subscribers' | 'dispatched'>>;
  /** With a single channel and message: its id and seq, for convenience. */
  id?: string;
  seq?: number;
}

const MAX_CHANNELS_PER_REQUEST = 100;
const MAX_MESSAGES_PER_REQUEST = 100;

/** Validates and normalises a publish request into channel and message lists. */
export function parsePublishRequest(input: unknown): { channels: string[]; messages: unknown[] } {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new BadRequestError('request must be a JSON object');
  assertSafeJson(input);
  const req = input as PublishRequest;
  const channels = req.channels ?? (req.channel !== undefined ? [req.channel] : []);
  const messages = req.messages ?? (req.message !== undefined ? [req.message] : []);
  if (!Array.isArray(channels) || channels.length === 0) throw new BadRequestError('"channel" or "channels" is required');
  if (!Array.isArray(messages) || messages.length === 0) throw new BadRequestError('"message" or "messages" is required');
  if (channels.length > MAX_CHANNELS_PER_REQUEST) throw new BadRequestError(`at most ${MAX_CHANNELS_PER_REQUEST} channels`);
  if (messages.length > MAX_MESSAGES_PER_REQUEST) throw new BadRequestError(`at most ${MAX_MESSAGES_PER_REQUEST} messages`);
  for (const channel of channels) assertChannel(channel);
  for (const message of messages) assertMessage(message, config().maxMessageBytes);
  return { channels: [...new Set(channels)], messages };
}

export async function publishRequest(input: unknown): Promise<PublishResponse> {
  try {
    const { channels, messages } = parsePublishRequest(input);
    const published: PublishResponse['published'] = [];
    for (const channel of channels) {
      for (const message of messages) {
        const p = await publish(channel, message);
        const { channel: c, id, seq, delivered, gone, failed, subscribers, dispatched } = p;
        published.push({ channel: c, id, seq, delivered, gone, failed, subscribers, dispatched });
      }
    }
    const total = (k: 'delivered' | 'gone' | 'failed' | 'subscribers' | 'dispatched') => published.reduce((sum, p) => sum + p[k], 0);
    const response: PublishResponse = {
      delivered: total('delivered'),
      gone: total('gone'),
      failed: total('failed'),
      subscribers: total('subscribers'),
      dispatched: total('dispatched'),
      published,
    };
    if (published.length === 1) Object.assign(response, { id: published[0].id, seq: published[0].seq });
    logger.info('published', { channels: channels.length, messages: messages.length, delivered: response.delivered });
    return response;
  } finally {
    flushMetrics();
  }
}
