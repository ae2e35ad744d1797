/** dynalite + a fake @connections endpoint, for function tests that run routes for real. */
import { resetClients } from '../../shared/clients.js';
import { resetConfig } from '../../shared/config.js';
import { type ConnectionsEndpoint, startConnectionsEndpoint } from './connections-endpoint.js';
import { type LocalDynamo, startDynamo } from './dynamo.js';

export interface TestBackend {
  db: LocalDynamo;
  api: ConnectionsEndpoint;
  stop(): Promise<void>;
}

export async function startBackend(env: Record<string, string> = {}): Promise<TestBackend> {
  const db = await startDynamo(env);
  const api = await startConnectionsEndpoint();
  return {
    db,
    api,
    async stop() {
      resetClients();
      await api.stop();
      await db.stop();
      for (const key of Object.keys(env)) delete process.env[key];
      resetConfig();
    },
  };
}

/** Parses a route's response body (the frame API Gateway returns to the client). */
export function frameOf(result: { body?: string }): Record<string, unknown> {
  if (result.body === undefined) throw new Error('route returned no body');
  return JSON.parse(result.body);
}
