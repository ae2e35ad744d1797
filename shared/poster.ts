/**
 * Posting one frame to one connection through API Gateway's @connections API.
 *
 * A Poster reports what happened instead of throwing, so the fan-out can decide: `gone` (410:
 * the connection no longer exists; delete its rows), `throttled` (429: the account throttle or
 * the client's buffer; retry with backoff), `failed` (anything else, including timeouts, after
 * which the fan-out retries a bounded number of times).
 *
 * `SdkPoster` uses the SDK's client; the bulk fan-out path can swap in a faster implementation
 * of the same interface (shared/fast-poster.ts).
 */
import { DeleteConnectionCommand, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { managementClient } from './clients.js';

export type PostOutcome = 'ok' | 'gone' | 'throttled' | 'failed';

export interface Poster {
  post(connectionId: string, data: string): Promise<PostOutcome>;
}

/**
 * Closing a connection from the service side: `DELETE @connections/{id}`, after which API
 * Gateway closes the socket and runs `$disconnect`. Named `disconnect` because FastPoster's
 * `close()` already means "close this poster's own sockets". Outcomes as for a post: `ok`
 * closed, `gone` already closed, `throttled` / `failed` not closed.
 */
export interface ConnectionCloser {
  disconnect(connectionId: string): Promise<PostOutcome>;
}

/** Maps an SDK v3 error to an outcome. v3 errors carry `name` and `$metadata.httpStatusCode`, not v2's `statusCode`. */
export function outcomeOfSdkError(error: unknown): PostOutcome {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  if (e?.name === 'GoneException' || status === 410) return 'gone';
  if (e?.name === 'LimitExceededException' || e?.name === 'ThrottlingException' || status === 429) return 'throttled';
  return 'failed';
}

export class SdkPoster implements Poster, ConnectionCloser {
  async post(connectionId: string, data: string): Promise<PostOutcome> {
    try {
      await managementClient().send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
      return 'ok';
    } catch (error) {
      return outcomeOfSdkError(error);
    }
  }

  async disconnect(connectionId: string): Promise<PostOutcome> {
    try {
      await managementClient().send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
      return 'ok';
    } catch (error) {
      return outcomeOfSdkError(error);
    }
  }
}
