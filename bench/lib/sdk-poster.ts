/**
 * The AWS SDK's @connections client as a Poster: the reference the benchmarks compare
 * shared/fast-poster.ts against (bench/fanout.ts, bench/poster-cpu.ts). Not on any function's
 * path: the service posts with FastPoster only.
 */
import {
  type ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { ConnectionCloser, Poster, PostOutcome } from '../../shared/poster.js';

/** Maps an SDK v3 error to an outcome. v3 errors carry `name` and `$metadata.httpStatusCode`, not v2's `statusCode`. */
export function outcomeOfSdkError(error: unknown): PostOutcome {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  if (e?.name === 'GoneException' || status === 410) return 'gone';
  if (e?.name === 'LimitExceededException' || e?.name === 'ThrottlingException' || status === 429) return 'throttled';
  return 'failed';
}

/**
 * Posts and deletes through `client`, which the caller builds (endpoint, agent sized to its
 * concurrency, `maxAttempts: 1` so retries stay the fan-out's) and destroys when done.
 */
export class SdkPoster implements Poster, ConnectionCloser {
  constructor(private readonly client: ApiGatewayManagementApiClient) {}

  async post(connectionId: string, data: string): Promise<PostOutcome> {
    try {
      await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
      return 'ok';
    } catch (error) {
      return outcomeOfSdkError(error);
    }
  }

  async disconnect(connectionId: string): Promise<PostOutcome> {
    try {
      await this.client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
      return 'ok';
    } catch (error) {
      return outcomeOfSdkError(error);
    }
  }
}
