/**
 * Every sample event in events/ (the files `sam local invoke -e`, the function tests and the
 * bundle smoke test feed the functions) checked against a schema this project did not write:
 * Powertools for AWS Lambda's parser schemas for what API Gateway sends, and the functions' own
 * validators for the direct-invoke payloads. The local stack's generated events go through the
 * same schemas, so a drift between the fixtures, the local stack and AWS's shapes shows up here.
 *
 * Where Powertools' schema is stricter or looser than what AWS sends, the schema below says so,
 * with the evidence (docs/local-stack.md, "Sample events", has the same list).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { APIGatewayProxyWebsocketEventSchema, APIGatewayRequestAuthorizerEventSchema } from '@aws-lambda-powertools/parser/schemas';
import { expect } from 'chai';
import { z } from 'zod';
import {
  authorizerEvent,
  type ConnectionInfo,
  connectEvent,
  connectMethodArn,
  disconnectEvent,
  messageEvent,
  upgradeRequestInfo,
} from '../../local/apigateway/websocket-events.js';
import { parseFanoutBatch } from '../../shared/fanout.js';
import { parsePublishRequest } from '../../shared/server-publish.js';
import { loadTemplate } from '../helpers/template.js';

const EVENTS_DIR = new URL('../../events/', import.meta.url);

/**
 * Powertools' APIGatewayProxyWebsocketEventSchema is modelled on the REQUEST authorizer's event
 * (its example is the one in API Gateway's "Lambda REQUEST authorizers" page): it requires
 * `type`, `methodArn`, `multiValueHeaders` and both query-string keys. Integrations never get
 * `type`/`methodArn`, message events carry no headers or query string at all, and a `$connect`
 * without a query string carries no query keys (Powertools' own Python samples, captured from
 * API Gateway, show all three). So the route schemas below drop or loosen exactly those fields
 * and keep everything else Powertools checks (requestContext, eventType, messageDirection, ...).
 */
const routeBase = APIGatewayProxyWebsocketEventSchema.omit({ type: true, methodArn: true });
const ConnectSchema = routeBase.extend({
  // Absent when the upgrade request had no query string (Powertools requires the key, nullable).
  queryStringParameters: z.record(z.string(), z.string()).optional(),
  multiValueQueryStringParameters: z.record(z.string(), z.array(z.string())).optional(),
  // API Gateway sends no stage variables to integrations (only to the authorizer).
  stageVariables: z.never().optional(),
});
const DisconnectSchema = routeBase
  .omit({ queryStringParameters: true, multiValueQueryStringParameters: true, stageVariables: true })
  .extend({
    // Powertools does not model these two; API Gateway documents them for $disconnect.
    requestContext: routeBase.shape.requestContext.extend({ disconnectStatusCode: z.number().int(), disconnectReason: z.string() }),
  });
const MessageSchema = routeBase
  .omit({
    headers: true,
    multiValueHeaders: true,
    queryStringParameters: true,
    multiValueQueryStringParameters: true,
    stageVariables: true,
  })
  .extend({
    // Powertools does not model messageId; every MESSAGE event has one.
    requestContext: routeBase.shape.requestContext.extend({ messageId: z.string().min(1) }),
    // Powertools allows a missing or null body; a message event always has the frame's text.
    body: z.string(),
  });
/**
 * The WebSocket REQUEST authorizer's event is what APIGatewayProxyWebsocketEventSchema models,
 * except that Powertools requires `isBase64Encoded`, which a captured authorizer event
 * (Powertools' Python sample apiGatewayAuthorizerWebSocketEvent.json) does not carry: the
 * authorizer gets no body to encode. APIGatewayRequestAuthorizerEventSchema is the REST API's
 * authorizer event and does not fit (test below).
 */
const AuthorizerSchema = APIGatewayProxyWebsocketEventSchema.extend({
  type: z.literal('REQUEST'),
  isBase64Encoded: z.boolean().optional(),
  // Always objects for the authorizer (`{}` when empty), as in the captured sample.
  queryStringParameters: z.record(z.string(), z.string()),
  multiValueQueryStringParameters: z.record(z.string(), z.array(z.string())),
  stageVariables: z.record(z.string(), z.string()),
});

/**
 * `sam local invoke --env-vars`: `Parameters` (every function) or a function's logical id, each
 * mapping variable names to string values. SAM CLI only overrides variables the template
 * declares (samcli/local/lambdafn/env_vars.py iterates the template's variables): a name the
 * template does not declare is silently dropped.
 */
const EnvVarsSchema = z.record(z.string(), z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()));

type Check = (event: unknown) => void;

/** Things Powertools does not check but real events always hold. */
function assertRouteInvariants(event: Record<string, unknown>, routeKey: string): void {
  const context = event.requestContext as Record<string, unknown>;
  expect(context.routeKey, 'routeKey').to.equal(routeKey);
  const eventType = routeKey === '$connect' ? 'CONNECT' : routeKey === '$disconnect' ? 'DISCONNECT' : 'MESSAGE';
  expect(context.eventType, 'eventType').to.equal(eventType);
  expect(context.messageDirection, 'messageDirection').to.equal('IN');
  assertMirrors(event.headers, event.multiValueHeaders, 'multiValueHeaders');
  assertMirrors(event.queryStringParameters, event.multiValueQueryStringParameters, 'multiValueQueryStringParameters');
}

/** `multi` has exactly `single`'s keys, and each single value is the last of its list (API Gateway's rule). */
function assertMirrors(single: unknown, multi: unknown, label: string): void {
  if (single === undefined && multi === undefined) return;
  const one = single as Record<string, string>;
  const many = multi as Record<string, string[]>;
  expect(Object.keys(many).sort(), `${label} keys`).to.deep.equal(Object.keys(one).sort());
  for (const [key, values] of Object.entries(many)) expect(values.at(-1), `${label}.${key}`).to.equal(one[key]);
}

function route(schema: z.ZodType, routeKey: string): Check {
  return (event) => {
    schema.parse(event);
    assertRouteInvariants(event as Record<string, unknown>, routeKey);
  };
}

function authorizer(event: unknown): void {
  AuthorizerSchema.parse(event);
  const e = event as Record<string, unknown>;
  assertRouteInvariants(e, '$connect');
  const context = e.requestContext as Record<string, unknown>;
  // The authorizer runs before the connection exists for the integrations: no authorizer context yet.
  expect(context, 'requestContext').to.not.have.property('authorizer');
  expect(e.methodArn).to.match(/^arn:aws:execute-api:[a-z0-9-]+:\d{12}:[a-z0-9]+\/[^/]+\/\$connect$/);
}

/** Every file in events/ and what checks it. A new file without an entry fails the first test. */
const CHECKS: Record<string, Check> = {
  'authorizer.json': authorizer,
  'connect.json': route(ConnectSchema, '$connect'),
  'disconnect.json': route(DisconnectSchema, '$disconnect'),
  'default.json': route(MessageSchema, '$default'),
  'joinchannel.json': route(MessageSchema, 'joinchannel'),
  'leavechannel.json': route(MessageSchema, 'leavechannel'),
  'members.json': route(MessageSchema, 'members'),
  'ping.json': route(MessageSchema, 'ping'),
  'sendmessage.json': route(MessageSchema, 'sendmessage'),
  // Direct invokes: the functions' own validators are the schema (they refuse anything else).
  'fanout.json': (event) => {
    parseFanoutBatch(event);
  },
  'publish.json': (event) => {
    parsePublishRequest(event);
  },
  'env.json': (file) => {
    const parsed = EnvVarsSchema.parse(file);
    const resources: Record<string, { Type: string }> = loadTemplate().Resources;
    const functions = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::Serverless::Function')
      .map(([id]) => id);
    for (const key of Object.keys(parsed)) expect(['Parameters', ...functions], 'env.json top-level key').to.include(key);
  },
};

const read = (name: string): unknown => JSON.parse(readFileSync(new URL(name, EVENTS_DIR), 'utf8'));

describe('events/ sample events', () => {
  it('has a schema for every file, and a file for every schema', () => {
    const files = readdirSync(EVENTS_DIR).sort();
    expect(files, 'files in events/ without a schema in CHECKS').to.deep.equal(Object.keys(CHECKS).sort());
  });

  for (const [name, check] of Object.entries(CHECKS)) {
    it(`${name} passes its schema`, () => check(read(name)));
  }

  it('fails a route event without messageDirection or with headers its multiValueHeaders does not mirror', () => {
    const connect = read('connect.json') as { requestContext: Record<string, unknown>; multiValueHeaders: Record<string, string[]> };
    const noDirection = structuredClone(connect);
    delete noDirection.requestContext.messageDirection;
    expect(() => CHECKS['connect.json'](noDirection)).to.throw(/messageDirection/);
    const partial = structuredClone(connect);
    delete partial.multiValueHeaders.Origin;
    expect(() => CHECKS['connect.json'](partial)).to.throw(/multiValueHeaders keys/);
  });

  it("rejects authorizer.json with APIGatewayRequestAuthorizerEventSchema (the REST API's authorizer event)", () => {
    // WebSocket authorizer events have no resource, path, HTTP method or path parameters, and a
    // requestContext without REST's accountId/protocol/resourcePath: that schema cannot fit them.
    const result = APIGatewayRequestAuthorizerEventSchema.safeParse(read('authorizer.json'));
    expect(result.success).to.equal(false);
    const paths = (result.error?.issues ?? []).map((i) => i.path.join('.'));
    expect(paths).to.include.members(['resource', 'path', 'httpMethod', 'pathParameters', 'requestContext.accountId']);
  });
});

describe("the local stack's generated events", () => {
  const connection: ConnectionInfo = {
    connectionId: 'L0SM9cOFvHcCIhw=',
    connectedAt: 1_795_890_000_000,
    sourceIp: '127.0.0.1',
    userAgent: 'node',
    domainName: '127.0.0.1:3001',
    stage: 'dev',
    apiId: 'abcdef1234',
    authorizer: { principalId: 'anonymous', principal: 'anonymous', join: '*', publish: '*' },
  };

  /** The upgrade request as node:http hands it to the local stack (only what upgradeRequestInfo reads). */
  function upgrade(url: string): IncomingMessage {
    const rawHeaders = [
      'Host',
      '127.0.0.1:3001',
      'Origin',
      'http://localhost:3000',
      'Sec-WebSocket-Version',
      '13',
      'Sec-WebSocket-Key',
      'x3JJHMbDL1EzLkh9GBhXDw==',
    ];
    return { rawHeaders, url, socket: { localPort: 3001 } } as unknown as IncomingMessage;
  }

  for (const url of ['/?channels=news&channels=sport', '/']) {
    const label = url === '/' ? 'without a query string' : 'with a repeated query parameter';
    it(`builds $connect and authorizer events that pass the schemas, ${label}`, () => {
      const request = upgradeRequestInfo(upgrade(url), '127.0.0.1');
      CHECKS['connect.json'](connectEvent(connection, request));
      CHECKS['authorizer.json'](authorizerEvent(connection, request, connectMethodArn('us-east-1', '123456789012', 'abcdef1234', 'dev')));
    });
  }

  it('builds message and $disconnect events that pass the schemas', () => {
    route(MessageSchema, 'sendmessage')(messageEvent(connection, 'sendmessage', '{"action":"sendmessage"}', false));
    route(MessageSchema, '$default')(messageEvent(connection, '$default', 'AAEC', true));
    CHECKS['disconnect.json'](disconnectEvent(connection, 1001, 'Going away'));
  });
});
