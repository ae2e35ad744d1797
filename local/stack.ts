/**
 * The local stack: template.yaml's WebSocket API, @connections API, Lambda Invoke API, demo page
 * and `/_local` control API on one HTTP port, the functions in worker threads, and DynamoDB.
 * `startLocalStack` is what `npm run dev` (cli.ts), the tests and the benchmarks start.
 *
 * @example
 * const stack = await startLocalStack({ port: 0, parameterOverrides: { AuthMode: 'none' } });
 * const ws = new WebSocket(stack.url); // ws://127.0.0.1:<port>/dev
 * await stack.stop();
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { CONNECTION_MAX_SECONDS, IDLE_TIMEOUT_SECONDS } from '../shared/limits.js';
import { ConnectionRegistry } from './apigateway/connections.js';
import { ConnectionsApi } from './apigateway/connections-api.js';
import { DEFAULT_CONNECT_RATE, TokenBucket } from './apigateway/throttle.js';
import { type VirtualConnectOptions, WebSocketApi } from './apigateway/websocket-api.js';
import { refuseUpgrade } from './apigateway/websocket-frames.js';
import { buildStackModel, type StackModel } from './cloudformation/stack-model.js';
import { ControlApi } from './control-api.js';
import { type LocalDynamoDB, startDynamoDB } from './dynamodb/dynalite.js';
import { LocalStackError, TemplateError } from './errors.js';
import { sendJson } from './http.js';
import { builtEntry, type FunctionModel } from './lambda/function-model.js';
import { LambdaInvokeApi } from './lambda/invoke-api.js';
import { LambdaRuntime } from './lambda/runtime.js';
import { checkRequest, loggable, type Refusal } from './loopback-guard.js';
import { StaticSite } from './static.js';

/** Real sockets the WebSocket API accepts: 15,000 clients fit, and the process stays under its 20,000 files. */
export const DEFAULT_MAX_CONNECTIONS = 16_000;
/** How long `stop()` waits for running `$disconnect`s and asynchronous invocations before cutting them. */
const SHUTDOWN_GRACE_MS = 10_000;
/**
 * Longer than any client pool keeps an idle socket, so the server does not close a keep-alive
 * socket at the moment a function reuses it (which would fail that call with ECONNRESET).
 */
const KEEP_ALIVE_TIMEOUT_MS = 120_000;

/** Options of {@link startLocalStack}; every one has a default. */
export interface LocalStackOptions {
  /** Default: template.yaml of the current directory. */
  templatePath?: string;
  /** Default 0 (any free port); the CLI defaults to 3001. */
  port?: number;
  /** Default 127.0.0.1 (never exposed beyond this machine). */
  host?: string;
  parameterOverrides?: Record<string, string>;
  stackName?: string;
  stage?: string;
  idleSeconds?: number;
  maxConnectionSeconds?: number;
  postLatencyMs?: number;
  throttleRps?: number;
  throttleBurst?: number;
  /** New WebSocket connections per second (API Gateway's account quota); beyond, upgrades answer 429. Default {@link DEFAULT_CONNECT_RATE}; 0 = unlimited. */
  connectRate?: number;
  /** The connect rate's bucket size. Default: one second of `connectRate`. */
  connectBurst?: number;
  /** Use this DynamoDB instead of starting dynalite. */
  dynamodbEndpoint?: string;
  /** Run built bundles: `true` for `<template dir>/.aws-sam/build` (sam build's output), or a build directory. */
  built?: boolean | string;
  /**
   * AuthMode=jwt with an HMAC secret: the development secret the authorizer verifies tokens with,
   * in place of the SSM parameter (there is no Parameter Store locally). Default: a random one,
   * generated at start ({@link LocalStack.jwt} tells it). At least 32 bytes.
   */
  jwtDevSecret?: string;
  /** Added to every function's environment, last (tests use it to quiet Powertools). */
  environment?: Record<string, string>;
  /** Per logical id: added to that function's template variables, before `environment` (`npm run invoke --env-vars`). */
  functionEnvironment?: Record<string, Record<string, string>>;
  maxConnections?: number;
  /** The stack's own messages (default: stderr). */
  log?: (line: string) => void;
  /** Function output (default: stdout, each line prefixed with the function's logical id). */
  functionLog?: (functionId: string, line: string) => void;
}

/** A running local stack. */
export interface LocalStack {
  port: number;
  /** `ws://127.0.0.1:<port>/<stage>` */
  url: string;
  /** `http://127.0.0.1:<port>` (Lambda Invoke API and `/_local`) */
  httpUrl: string;
  /** `http://127.0.0.1:<port>/<stage>` (the @connections endpoint, as CONNECTIONS_ENDPOINT) */
  connectionsEndpoint: string;
  dynamodbEndpoint: string;
  stage: string;
  model: StackModel;
  /** Table name per logical id. */
  tables: Record<string, string>;
  /** The file each function runs (its source, or its built bundle with `built`). */
  code: Record<string, string>;
  registry: ConnectionRegistry;
  runtime: LambdaRuntime;
  /**
   * AuthMode=jwt with an HMAC secret: the development secret tokens must be signed with, and the
   * issuer and audience the authorizer requires (as configured). Undefined otherwise (AuthMode=none,
   * or a JWKS).
   */
  jwt?: LocalJwt;
  addVirtualConnections(count: number, options?: VirtualConnectOptions): Promise<string[]>;
  /** Starts every function now, those a new connection needs first (the CLI does it after the ready line). */
  warm(): Promise<void>;
  stop(): Promise<void>;
}

/** How tokens for the local stack's authorizer are minted (`npm run token` takes these). */
export interface LocalJwt {
  secret: string;
  issuer?: string;
  audience?: string;
}

/** Bytes of a generated development secret: HS256's minimum (RFC 7518 §3.2). */
const DEV_SECRET_BYTES = 32;

/**
 * Whether a function verifies tokens with an HMAC secret: it declares JWT_SECRET_PARAMETER (the
 * template gives it to the authorizer only), runs in AuthMode=jwt, and has no JWKS_URL (a dev
 * secret next to a JWKS is refused as a key-type mix).
 */
function verifiesWithSecret(fn: FunctionModel): boolean {
  const env = fn.environment;
  return Object.hasOwn(env, 'JWT_SECRET_PARAMETER') && env.AUTH_MODE === 'jwt' && !env.JWKS_URL?.trim();
}

/** The dev secret and the claims the authorizer checks, when some function verifies with a secret. */
function localJwt(model: StackModel, options: LocalStackOptions): LocalJwt | undefined {
  const verifier = Object.values(model.functions).find(verifiesWithSecret);
  if (!verifier) return undefined;
  const secret = options.jwtDevSecret ?? randomBytes(DEV_SECRET_BYTES).toString('base64url');
  // Refused here rather than by the authorizer, which would answer 500 to every connection.
  if (Buffer.byteLength(secret) < DEV_SECRET_BYTES)
    throw new LocalStackError(`JWT_DEV_SECRET is shorter than ${DEV_SECRET_BYTES} bytes (try: openssl rand -base64 48)`);
  const nonEmpty = (v: string | undefined) => (v?.trim() ? v.trim() : undefined);
  // `environment` is applied last and may set its own (tests do, some on purpose a bad one).
  return {
    secret: options.environment?.JWT_DEV_SECRET ?? secret,
    issuer: nonEmpty(verifier.environment.JWT_ISSUER),
    audience: nonEmpty(verifier.environment.JWT_AUDIENCE?.split(',')[0]),
  };
}

/** Functions in the order a client meets them: `$connect`'s authorizer and integration, `$default`, the other routes, then the rest. */
function warmOrder(model: StackModel): string[] {
  const { routes } = model.api;
  const first = [routes.$connect?.authorizer?.functionId, routes.$connect?.functionId, routes.$default?.functionId];
  const byRoute = Object.values(routes).map((r) => r.functionId);
  return [...new Set([...first, ...byRoute, ...Object.keys(model.functions)].filter((id): id is string => id !== undefined))];
}

/** The path of a request target, without the query (cheaper than `new URL` on every @connections post). */
function pathnameOf(url = '/'): string {
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

const withGrace = (task: Promise<unknown>, ms: number) => Promise.race([task, new Promise((resolve) => setTimeout(resolve, ms).unref())]);

function checkCode(model: StackModel, entryOf: (fn: FunctionModel) => string, built: boolean): void {
  for (const fn of Object.values(model.functions)) {
    if (!fn.runtime.startsWith('nodejs') || existsSync(entryOf(fn))) continue;
    const file = relative(process.cwd(), entryOf(fn));
    if (built)
      throw new LocalStackError(`${fn.logicalId}: no built bundle at ${file}; run sam build first, or run the sources (without --built)`);
    throw new TemplateError(fn.sourceEntryPath, `${file} does not exist`);
  }
}

/** The complete environment of a function's worker: the template's, with AWS URLs made local, and Lambda's reserved variables. */
function functionEnvironment(
  fn: FunctionModel,
  model: StackModel,
  httpUrl: string,
  dynamodb: string,
  extra: Record<string, string>,
  jwt: LocalJwt | undefined,
  own: Record<string, string> | undefined,
): Record<string, string> {
  const local = localizer(model, httpUrl);
  // The dev secret goes to the token verifier only, as the SSM read permission does when deployed.
  // AIRWAVE_LOCAL=1 is what lets the authorizer use it at all (shared/auth/settings.ts): a
  // deployed function never has it, so there it ignores a JWT_DEV_SECRET.
  const devSecret: Record<string, string> = jwt && verifiesWithSecret(fn) ? { JWT_DEV_SECRET: jwt.secret, AIRWAVE_LOCAL: '1' } : {};
  const template = Object.fromEntries(Object.entries(fn.environment).map(([k, v]) => [k, local(v)]));
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    // The SDK warns on Node < 22; Lambda runs nodejs22.x, where it would not.
    AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING: '1',
    ...template,
    AWS_REGION: model.region,
    AWS_DEFAULT_REGION: model.region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SESSION_TOKEN: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb,
    AWS_ENDPOINT_URL_LAMBDA: httpUrl,
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    ...loggingEnvironment(fn, extra),
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    LAMBDA_TASK_ROOT: fn.codeDir,
    _HANDLER: fn.handler,
    // Coverage tools (c8) then see the code the functions run, in their workers.
    ...(process.env.NODE_V8_COVERAGE ? { NODE_V8_COVERAGE: process.env.NODE_V8_COVERAGE } : {}),
    ...devSecret,
    ...(own ?? {}),
    ...extra,
  };
}

/**
 * What Lambda sets from LoggingConfig: AWS_LAMBDA_LOG_FORMAT, and with JSON, AWS_LAMBDA_LOG_LEVEL
 * (the ApplicationLogLevel, which Powertools Logger obeys over POWERTOOLS_LOG_LEVEL). An override
 * of POWERTOOLS_LOG_LEVEL alone (tests quiet functions with SILENT, a level Lambda does not have)
 * drops the ALC level, as it would otherwise win and the override would do nothing.
 */
export function loggingEnvironment(fn: FunctionModel, extra: Record<string, string>): Record<string, string> {
  const format = fn.logging?.format;
  if (format === undefined) return {};
  const level = fn.logging?.applicationLogLevel;
  const levelOverridden = 'POWERTOOLS_LOG_LEVEL' in extra && !('AWS_LAMBDA_LOG_LEVEL' in extra);
  return {
    AWS_LAMBDA_LOG_FORMAT: format,
    ...(format === 'JSON' && level !== undefined && !levelOverridden ? { AWS_LAMBDA_LOG_LEVEL: level } : {}),
  };
}

/** Rewrites the API's AWS URLs (`https://<api>.execute-api.<region>.amazonaws.com`, `wss://...`) to the local port. */
function localizer(model: StackModel, httpUrl: string): (value: string) => string {
  const host = `${model.api.apiId}.execute-api.${model.region}.amazonaws.com`;
  const wsUrl = httpUrl.replace(/^http/, 'ws');
  return (value) => value.replaceAll(`https://${host}`, httpUrl).replaceAll(`wss://${host}`, wsUrl);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new LocalStackError(error.code === 'EADDRINUSE' ? `port ${port} is already in use (try --port <n>)` : error.message, {
          cause: error,
        }),
      ),
    );
    server.listen(port, host, () => resolvePort((server.address() as AddressInfo).port));
  });
}

/** Starts the local stack; resolves once the port listens and the tables exist. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const model = buildStackModel({
    templatePath: options.templatePath ?? 'template.yaml',
    parameterOverrides: options.parameterOverrides,
    stackName: options.stackName,
    stage: options.stage,
  });
  const buildDir = options.built
    ? resolve(typeof options.built === 'string' ? options.built : join(dirname(model.templatePath), '.aws-sam', 'build'))
    : undefined;
  const entryOf = (fn: FunctionModel) => (buildDir ? builtEntry(fn, buildDir) : fn.sourceEntry);
  checkCode(model, entryOf, buildDir !== undefined);
  const jwt = localJwt(model, options);

  const host = options.host ?? '127.0.0.1';
  const registry = new ConnectionRegistry();
  let httpUrl = '';
  let dynamodb: LocalDynamoDB | undefined;
  const runtime = new LambdaRuntime({
    functions: model.functions,
    entryOf,
    environmentOf: (fn) =>
      functionEnvironment(
        fn,
        model,
        httpUrl,
        dynamodb?.endpoint ?? '',
        options.environment ?? {},
        jwt,
        options.functionEnvironment?.[fn.logicalId],
      ),
    onLog: options.functionLog ?? ((id, line) => process.stdout.write(`[${id}] ${line}\n`)),
  });
  const connectThrottle = new TokenBucket(options.connectRate ?? DEFAULT_CONNECT_RATE, options.connectBurst);
  const websocket = new WebSocketApi({
    model,
    runtime,
    registry,
    idleSeconds: options.idleSeconds ?? IDLE_TIMEOUT_SECONDS,
    maxConnectionSeconds: options.maxConnectionSeconds ?? CONNECTION_MAX_SECONDS,
    maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    connectThrottle,
    log,
  });
  const connectionsApi = new ConnectionsApi({
    stage: model.api.stage,
    registry,
    websocket,
    throttle: new TokenBucket(options.throttleRps ?? 0, options.throttleBurst),
    postLatencyMs: options.postLatencyMs ?? 0,
  });
  const invokeApi = new LambdaInvokeApi({ functions: model.functions, runtime, region: model.region, accountId: model.accountId, log });
  const staticSite = new StaticSite(dirname(model.templatePath), log);
  const tables = Object.fromEntries(model.tables.map((t) => [t.logicalId, t.name]));
  const code = Object.fromEntries(Object.values(model.functions).map((fn) => [fn.logicalId, entryOf(fn)]));
  const control = new ControlApi({ registry, websocket, connectionsApi, runtime, info: () => info() });

  // A non-loopback address the stack was told to listen on names this machine too (wildcards name nothing).
  const extraHost = ['0.0.0.0', '::', ''].includes(host) ? undefined : host;
  // Logged at WARN with the offending header, never the query string (a `?token=` lives there).
  const warnRefused = (req: IncomingMessage, pathname: string, refused: Refusal) =>
    log(
      `WARN refused ${req.method} ${loggable(pathname)}: ${refused.reason} (Host ${loggable(req.headers.host)}, Origin ${loggable(req.headers.origin)}, Sec-Fetch-Site ${loggable(req.headers['sec-fetch-site'])})`,
    );

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const pathname = pathnameOf(req.url);
    const refused = checkRequest(req, true, extraHost);
    if (refused) {
      warnRefused(req, pathname, refused);
      // `connection: close`: the body of a refused request is not worth reading.
      return sendJson(res, 403, { message: refused.message }, { 'x-amzn-ErrorType': 'ForbiddenException', connection: 'close' });
    }
    const api = [connectionsApi, invokeApi, control].find((a) => a.servesPath(pathname)) ?? staticSite;
    api.handle(req, res, pathname).catch((error: unknown) => {
      log(`${req.method} ${pathname}: ${(error as Error)?.stack ?? error}`);
      if (!res.headersSent) sendJson(res, 500, { message: 'Internal server error' });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    const pathname = pathnameOf(req.url);
    // DNS rebinding reaches the WebSocket endpoint too (a page of evil.example re-resolved to
    // 127.0.0.1 may open it and run $connect): refused like the HTTP APIs, before any function runs.
    const refused = checkRequest(req, false, extraHost);
    if (refused) {
      warnRefused(req, pathname, refused);
      socket.on('error', () => undefined); // a client resetting before it reads the refusal is not the stack's error
      return refuseUpgrade(socket, 403, refused.message);
    }
    if (websocket.servesPath(pathname)) websocket.handleUpgrade(req, socket, head);
    else refuseUpgrade(socket, 403, 'Forbidden');
  });

  const [listened, started] = await Promise.allSettled([
    listen(server, options.port ?? 0, host),
    startDynamoDB(model.tables, options.dynamodbEndpoint, log),
  ]);
  if (listened.status === 'rejected' || started.status === 'rejected') {
    if (listened.status === 'fulfilled') server.close();
    if (started.status === 'fulfilled') await started.value.stop();
    throw listened.status === 'rejected' ? listened.reason : (started as PromiseRejectedResult).reason;
  }
  const port = listened.value;
  const db = started.value;
  dynamodb = db;
  httpUrl = `http://${host}:${port}`;
  const url = `ws://${host}:${port}/${model.api.stage}`;
  const connectionsEndpoint = `${httpUrl}/${model.api.stage}`;
  const info = () => ({
    stackName: model.stackName,
    stage: model.api.stage,
    url,
    connectionsEndpoint,
    lambdaEndpoint: httpUrl,
    dynamodbEndpoint: db.endpoint,
    tables,
    functions: Object.fromEntries(Object.values(model.functions).map((fn) => [fn.logicalId, fn.name])),
    code,
    routes: Object.keys(model.api.routes),
    connectRate: {
      ratePerSecond: connectThrottle.ratePerSecond,
      burst: connectThrottle.ratePerSecond > 0 ? connectThrottle.burst : 'unlimited',
    },
    outputs: Object.fromEntries(Object.entries(model.outputs).map(([k, v]) => [k, localizer(model, httpUrl)(v)])),
  });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      server.close();
      await withGrace(websocket.shutdown(), SHUTDOWN_GRACE_MS);
      await withGrace(invokeApi.stop(), SHUTDOWN_GRACE_MS);
      await runtime.stop();
      server.closeAllConnections();
      await db.stop();
    })());

  return {
    port,
    url,
    httpUrl,
    connectionsEndpoint,
    dynamodbEndpoint: db.endpoint,
    stage: model.api.stage,
    model,
    tables,
    code,
    registry,
    runtime,
    jwt,
    addVirtualConnections: (count, virtualOptions) => websocket.addVirtual(count, virtualOptions),
    warm: () => runtime.warm(warmOrder(model)),
    stop,
  };
}
