/**
 * A stand-in for API Gateway's @connections API on 127.0.0.1: records every post, answers 410
 * GoneException for ids marked gone and 429 LimitExceededException for ids marked throttled
 * (a given number of times), and tracks the highest number of posts in flight.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setClients } from '../../shared/clients.js';
import { resetConfig } from '../../shared/config.js';

export interface ConnectionsEndpoint {
  url: string;
  posts: Array<{ connectionId: string; body: string }>;
  gone: Set<string>;
  throttle: Map<string, number>;
  maxInFlight: number;
  latencyMs: number;
  frames(connectionId: string): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function startConnectionsEndpoint(stage = 'dev'): Promise<ConnectionsEndpoint> {
  let inFlight = 0;
  const endpoint: ConnectionsEndpoint = {
    url: '',
    posts: [],
    gone: new Set(),
    throttle: new Map(),
    maxInFlight: 0,
    latencyMs: 0,
    frames: (id) => endpoint.posts.filter((p) => p.connectionId === id).map((p) => JSON.parse(p.body)),
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    inFlight++;
    endpoint.maxInFlight = Math.max(endpoint.maxInFlight, inFlight);
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      setTimeout(() => {
        inFlight--;
        const prefix = `/${stage}/@connections/`;
        const url = req.url ?? '';
        if (req.method !== 'POST' || !url.startsWith(prefix)) {
          res.writeHead(404).end();
          return;
        }
        const connectionId = decodeURIComponent(url.slice(prefix.length));
        if (endpoint.gone.has(connectionId)) {
          res.writeHead(410, { 'x-amzn-ErrorType': 'GoneException', 'content-type': 'application/json' }).end('{"message":null}');
          return;
        }
        const throttles = endpoint.throttle.get(connectionId) ?? 0;
        if (throttles > 0) {
          endpoint.throttle.set(connectionId, throttles - 1);
          res
            .writeHead(429, { 'x-amzn-ErrorType': 'LimitExceededException', 'content-type': 'application/json' })
            .end('{"message":"Rate exceeded"}');
          return;
        }
        endpoint.posts.push({ connectionId, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'application/json' }).end();
      }, endpoint.latencyMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  endpoint.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${stage}`;
  process.env.CONNECTIONS_ENDPOINT = endpoint.url;
  resetConfig();
  setClients({ management: undefined });
  return endpoint;
}
