/** dynalite + a fake @connections endpoint, for function tests that run routes for real. */
import { configure, reset } from '../../shared/dependencies.js';
import { type ConnectionsEndpoint, startConnectionsEndpoint } from './connections-endpoint.js';
import { type LocalDynamo, startDynamo } from './dynamo.js';

export interface TestBackend {
  db: LocalDynamo;
  api: ConnectionsEndpoint;
  stop(): Promise<void>;
}

/** What startDynamo and startConnectionsEndpoint set besides the caller's own variables. */
const HELPER_VARIABLES = ['TABLE_NAME', 'CHANNEL_INDEX', 'CONNECTIONS_ENDPOINT'];

export async function startBackend(env: Record<string, string> = {}): Promise<TestBackend> {
  // Restored on stop, not deleted: a variable the suite (or test/setup.ts) had set before must
  // come back, or the next suite runs against a different environment than when run alone.
  const saved = new Map([...HELPER_VARIABLES, ...Object.keys(env)].map((key) => [key, process.env[key]]));
  const db = await startDynamo(env);
  const api = await startConnectionsEndpoint();
  return {
    db,
    api,
    async stop() {
      reset();
      await api.stop();
      await db.stop();
      for (const [key, value] of saved) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      configure();
    },
  };
}

/** Parses a route's response body (the frame API Gateway returns to the client). */
export function frameOf(result: { body?: string }): Record<string, unknown> {
  if (result.body === undefined) throw new Error('route returned no body');
  return JSON.parse(result.body);
}
