/**
 * AWS clients, built once per container on first use (never at import time, so a route that
 * does not need a client does not pay for it) and replaceable through shared/dependencies.ts
 * (`configure({ clients })`, `reset()`), the one way tests inject.
 *
 * Endpoints: the SDK honours AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_LAMBDA, which is how
 * the local stack points functions at dynalite and at itself. The @connections endpoint comes
 * from CONNECTIONS_ENDPOINT (built from the API id in the template, not from the event's
 * domainName, which is wrong behind a custom domain).
 */

import { Agent as HttpAgent } from 'node:http';
import { Agent } from 'node:https';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { config } from './config.js';
import { currentDeadline, UnavailableError, withinDeadline } from './deadline.js';
import { FastPoster } from './fast-poster.js';
import {
  DEFAULT_POST_CONCURRENCY,
  LAMBDA_CONNECT_TIMEOUT_MS,
  LAMBDA_MAX_ATTEMPTS,
  LAMBDA_REQUEST_TIMEOUT_MS,
  MAX_POST_CONCURRENCY,
} from './limits.js';
import type { Poster } from './poster.js';

/** The slice of the Lambda client the fan-out uses (async invoke of the worker). */
export interface LambdaInvoker {
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<{ StatusCode?: number }>;
}

export interface Clients {
  ddb?: DynamoDBDocumentClient;
  management?: ApiGatewayManagementApiClient;
  lambda?: LambdaInvoker;
  /** The bulk fan-out poster (FastPoster unless a test injects another). */
  poster?: Poster;
}

const clients: Clients = {};

/**
 * Replace clients. Pass `undefined` values to fall back to the lazily built ones. Called by
 * `configure({ clients })` in shared/dependencies.ts only (test/shared/dependencies.test.ts keeps
 * it so): tests and benchmarks inject through that one function.
 */
export function setClients(next: Clients): void {
  Object.assign(clients, next);
}

/** Forget every client; destroys the ones built here. Called by `reset()` in shared/dependencies.ts only. */
export function resetClients(): void {
  clients.ddb?.destroy();
  clients.management?.destroy();
  clients.ddb = undefined;
  clients.management = undefined;
  clients.lambda = undefined;
  // The fast poster holds keep-alive sockets: close them, not just forget them.
  void (clients.poster as { close?: () => Promise<void> } | undefined)?.close?.();
  clients.poster = undefined;
}

/**
 * A request handler that gives up on a call: the SDK's default waits forever for a connection
 * or an answer. `throwOnRequestTimeout` makes `requestTimeout` fail the attempt (without it the SDK
 * only logs a warning), and the client's retry strategy tries again, up to its maxAttempts.
 */
export function boundedHandler(connectionTimeout: number, requestTimeout: number): NodeHttpHandler {
  return new NodeHttpHandler({ connectionTimeout, requestTimeout, throwOnRequestTimeout: true });
}

/** Attempts per DynamoDB call (the SDK's standard retry mode, with its backoff), within the invocation's deadline. */
export const DYNAMODB_MAX_ATTEMPTS = 8;

type HttpHandlerLike = NodeHttpHandler;

/**
 * A request handler that gives every attempt the current invocation's deadline
 * (shared/deadline.ts): an attempt in flight when it passes is aborted, and no attempt starts
 * after it. There is no fixed per-request timeout: under load single calls are slow while the
 * invocation as a whole is in time (docs/delivery.md, "Time budgets").
 */
export class DeadlineRequestHandler {
  constructor(private readonly inner: HttpHandlerLike = new NodeHttpHandler()) {}
  get metadata() {
    return this.inner.metadata;
  }
  handle(request: Parameters<HttpHandlerLike['handle']>[0], options: Parameters<HttpHandlerLike['handle']>[1] = {}) {
    const deadline = currentDeadline();
    if (!deadline) return this.inner.handle(request, options);
    if (deadline.expired) return Promise.reject(new UnavailableError());
    const abortSignal = options.abortSignal ? AbortSignal.any([options.abortSignal as AbortSignal, deadline.signal]) : deadline.signal;
    return this.inner.handle(request, { ...options, abortSignal });
  }
  updateHttpClientConfig(key: never, value: never): void {
    this.inner.updateHttpClientConfig(key, value);
  }
  httpHandlerConfigs() {
    return this.inner.httpHandlerConfigs();
  }
  destroy(): void {
    this.inner.destroy();
  }
}

/**
 * A DynamoDB client bounded by the invocation's deadline: each attempt through
 * {@link DeadlineRequestHandler}, and the whole call (retries and their backoff included) raced
 * against the deadline, so it answers `unavailable` when the deadline passes. The document
 * client and Powertools' persistence layer built on it share its middleware stack.
 */
export function deadlineBoundDynamoDB(options: DynamoDBClientConfig = {}): DynamoDBClient {
  const client = new DynamoDBClient({
    maxAttempts: DYNAMODB_MAX_ATTEMPTS,
    retryMode: 'standard',
    requestHandler: new DeadlineRequestHandler(),
    ...options,
  });
  client.middlewareStack.add((next) => (args) => withinDeadline(() => next(args)), {
    step: 'initialize',
    priority: 'high',
    name: 'airwaveDeadline',
  });
  return client;
}

/** The document client over {@link deadlineBoundDynamoDB}. */
export function documentClient(): DynamoDBDocumentClient {
  clients.ddb ??= DynamoDBDocumentClient.from(deadlineBoundDynamoDB(), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return clients.ddb;
}

/**
 * The SDK's management client, for single calls (replay, GET, DELETE) and as the reference
 * poster. Its socket pool is sized to our own post concurrency: the SDK default of 50 would
 * queue the rest of a fan-out behind it.
 */
export function managementClient(): ApiGatewayManagementApiClient {
  if (!clients.management) {
    const endpoint = config().connectionsEndpoint;
    if (!endpoint) throw new Error('CONNECTIONS_ENDPOINT is not set');
    const agentOptions = { keepAlive: true, maxSockets: DEFAULT_POST_CONCURRENCY };
    clients.management = new ApiGatewayManagementApiClient({
      endpoint,
      maxAttempts: 1, // retries (429) are ours, with backoff sized to the account throttle
      requestHandler: new NodeHttpHandler(
        endpoint.startsWith('https:') ? { httpsAgent: new Agent(agentOptions) } : { httpAgent: new HttpAgent(agentOptions) },
      ),
    });
  }
  return clients.management;
}

/**
 * The poster for bulk fan-out: signs and sends @connections posts without the SDK's per-command
 * machinery (shared/fast-poster.ts), over at most MAX_POST_CONCURRENCY keep-alive sockets.
 */
export function bulkPoster(): Poster {
  clients.poster ??= new FastPoster({ endpoint: config().connectionsEndpoint, maxSockets: MAX_POST_CONCURRENCY });
  return clients.poster;
}

/**
 * Async-invokes `functionName` with `payload` (InvocationType Event). The Lambda client is loaded
 * on first use: only a publisher with a channel larger than one batch needs it, so the other
 * routes' cold starts do not pay for it.
 */
export async function invokeAsync(functionName: string, payload: unknown): Promise<void> {
  const { InvokeCommand, LambdaClient } = await import('@aws-sdk/client-lambda');
  clients.lambda ??= new LambdaClient({
    maxAttempts: LAMBDA_MAX_ATTEMPTS,
    requestHandler: boundedHandler(LAMBDA_CONNECT_TIMEOUT_MS, LAMBDA_REQUEST_TIMEOUT_MS),
  }) as LambdaInvoker;
  const lambda = clients.lambda;
  // Also bounded by the invocation's deadline: a hand-off after the caller was told the request
  // failed would be work it does not know about.
  const out = await withinDeadline((abortSignal) =>
    lambda.send(
      new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(payload)) }),
      abortSignal ? { abortSignal } : undefined,
    ),
  );
  if (out.StatusCode !== 202) throw new Error(`async invoke answered ${out.StatusCode}`);
}
