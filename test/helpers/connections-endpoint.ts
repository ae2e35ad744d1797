/**
 * The one fake API Gateway `@connections` endpoint for tests, on 127.0.0.1 (http, or https with
 * a test certificate). It records every request (method, raw path, headers, body), counts the
 * TCP/TLS connections it accepted and the most open at once, and tracks the most requests in
 * flight.
 *
 * By default it answers as API Gateway does: 200 for a POST to `/<stage>/@connections/<id>`
 * (kept in `posts`), 410 GoneException for ids in `gone`, 429 LimitExceededException for ids in
 * `throttle` (that many times), 404 for anything else, after `latencyMs`. A test that checks the
 * wire itself (test/shared/fast-poster.test.ts) passes its own `respond`.
 *
 * bench/fake-endpoint.ts is a separate endpoint on purpose: the benchmark forks it into its own
 * process so its CPU never counts against the poster being measured, it reports over IPC, and it
 * records nothing per request (a benchmark sends millions).
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { configure } from '../../shared/dependencies.js';

export interface RecordedRequest {
  method: string;
  /** The raw path as it arrived (percent-encoding kept). */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Answers one recorded request. */
export type Respond = (request: RecordedRequest, res: ServerResponse) => void;

export interface FakeEndpointOptions {
  /** The stage in the URL path (default `dev`). */
  stage?: string;
  /** How to answer (default: as API Gateway does, see above). */
  respond?: Respond;
  /** PEM certificate and key: serve https (default: http). */
  tls?: { cert: string; key: string };
}

export interface ConnectionsEndpoint {
  /** `http(s)://127.0.0.1:<port>/<stage>`, what CONNECTIONS_ENDPOINT holds. */
  url: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Posts the default answer accepted. */
  posts: Array<{ connectionId: string; body: string }>;
  gone: Set<string>;
  throttle: Map<string, number>;
  maxInFlight: number;
  /** Delay before each answer (default 0). */
  latencyMs: number;
  /** Connections accepted so far. */
  sockets(): number;
  /** The most connections open at once. */
  maxOpen(): number;
  /** The frames posted to one connection, parsed. */
  frames(connectionId: string): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Starts a fake endpoint; changes nothing global (see {@link startConnectionsEndpoint}). */
export async function startFakeEndpoint(options: FakeEndpointOptions = {}): Promise<ConnectionsEndpoint> {
  const stage = options.stage ?? 'dev';
  let inFlight = 0;
  let sockets = 0;
  let open = 0;
  let maxOpen = 0;
  const endpoint: ConnectionsEndpoint = {
    url: '',
    requests: [],
    posts: [],
    gone: new Set(),
    throttle: new Map(),
    maxInFlight: 0,
    latencyMs: 0,
    sockets: () => sockets,
    maxOpen: () => maxOpen,
    frames: (id) => endpoint.posts.filter((p) => p.connectionId === id).map((p) => JSON.parse(p.body)),
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const asApiGateway: Respond = (request, res) => {
    const prefix = `/${stage}/@connections/`;
    if (request.method !== 'POST' || !request.url.startsWith(prefix)) {
      res.writeHead(404).end();
      return;
    }
    const connectionId = decodeURIComponent(request.url.slice(prefix.length));
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
    endpoint.posts.push({ connectionId, body: request.body.toString('utf8') });
    res.writeHead(200, { 'content-type': 'application/json' }).end();
  };
  const respond = options.respond ?? asApiGateway;

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    inFlight++;
    endpoint.maxInFlight = Math.max(endpoint.maxInFlight, inFlight);
    // No Date header: the SDK would correct its clock to it (skew correction), undoing a test's faked date.
    res.sendDate = false;
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      endpoint.requests.push(request);
      const answer = () => {
        inFlight--;
        respond(request, res);
      };
      if (endpoint.latencyMs > 0) setTimeout(answer, endpoint.latencyMs);
      else answer();
    });
  };
  const server = options.tls ? createHttpsServer(options.tls, handler) : createServer(handler);
  server.on(options.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    sockets++;
    maxOpen = Math.max(maxOpen, ++open);
    socket.on('close', () => open--);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  endpoint.url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}/${stage}`;
  return endpoint;
}

/**
 * Starts a fake endpoint answering as API Gateway does and points this process's functions at
 * it: sets CONNECTIONS_ENDPOINT and drops the cached management client. (test/helpers/stack.ts
 * restores the environment afterwards.)
 */
export async function startConnectionsEndpoint(stage = 'dev'): Promise<ConnectionsEndpoint> {
  const endpoint = await startFakeEndpoint({ stage });
  process.env.CONNECTIONS_ENDPOINT = endpoint.url;
  configure({ clients: { management: undefined } });
  return endpoint;
}
