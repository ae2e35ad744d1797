import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  REPO_ROOT,
  replaceAfter,
  routeResources,
  startTestStack,
  TemplateCopy,
  TestClient,
  type TestStack,
  withResources,
} from './support.js';

const FUNCTIONS: Record<string, string> = {
  'echo.ts': `export const handler = async (event: unknown) => ({ statusCode: 200, body: JSON.stringify({ type: 'echo', event }) });`,
  'slow.ts': `export const handler = async () => {
  await new Promise((r) => setTimeout(r, 2000));
  return { statusCode: 200, body: JSON.stringify({ type: 'slow' }) };
};`,
  'boom.ts': `export const handler = async () => { throw new Error('secret internal detail'); };`,
  // Posts a frame itself (through the local @connections API), then returns a body that a
  // one-way route must not send.
  'oneway.ts': `export const handler = async (event: { requestContext: { connectionId: string } }) => {
  const id = encodeURIComponent(event.requestContext.connectionId);
  await fetch(\`\${process.env.CONNECTIONS_ENDPOINT}/@connections/\${id}\`, { method: 'POST', body: '{"type":"posted"}' });
  return { statusCode: 200, body: '{"type":"returned"}' };
};`,
};

interface EchoedEvent {
  body: string;
  isBase64Encoded: boolean;
  requestContext: Record<string, unknown> & { identity: { sourceIp: string }; authorizer: Record<string, unknown> };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: { status?: number }) => error,
  );

describe('local/stack', function () {
  this.timeout(120_000);

  describe('a template with routes the local stack has never seen', () => {
    let copy: TemplateCopy;
    let stack: TestStack;
    let client: TestClient;

    before(async () => {
      copy = new TemplateCopy((text) => {
        // No $default route any more: unrouted frames get API Gateway's Forbidden frame.
        const withoutDefault = replaceAfter(text, '  DefaultRoute:', 'RouteKey: $default', 'RouteKey: fallback');
        return withResources(
          withoutDefault,
          [
            routeResources('Echo', 'echo', 'echo.ts'),
            routeResources('Slow', 'slow', 'slow.ts'),
            routeResources('Boom', 'boom', 'boom.ts'),
            routeResources('Oneway', 'oneway', 'oneway.ts', false),
          ].join(''),
        );
      });
      for (const [name, code] of Object.entries(FUNCTIONS)) copy.file(name, code);
      stack = await startTestStack({ templatePath: copy.path, parameterOverrides: { AllowedOrigins: 'https://good.example' } });
      client = await TestClient.connect(stack.url);
    });
    after(async () => {
      client.close();
      await stack.stop();
      copy.remove();
    });

    it('serves a new route with its function, with an API Gateway-shaped event', async () => {
      client.send({ action: 'echo', n: 1 });
      const { event } = (await client.waitFor((f) => f.type === 'echo', 'echo reply')) as { event: EchoedEvent };
      expect(event.body).to.equal('{"action":"echo","n":1}');
      expect(event.isBase64Encoded).to.equal(false);
      expect(event.requestContext).to.deep.include({
        routeKey: 'echo',
        eventType: 'MESSAGE',
        messageDirection: 'IN',
        stage: 'dev',
        apiId: stack.model.api.apiId,
        domainName: `127.0.0.1:${stack.port}`,
      });
      expect(event.requestContext.connectionId).to.match(/^[A-Za-z0-9+/]{15}=$/);
      expect(event.requestContext.identity.sourceIp).to.equal('127.0.0.1');
      expect(event.requestContext.authorizer).to.deep.include({ principalId: 'anonymous', principal: 'anonymous' });
      expect(event.requestContext.messageId).to.be.a('string');
      expect(event.requestContext.connectedAt).to.be.a('number');
    });

    it('dispatches the frames of one connection independently: a slow one does not hold back the next', async () => {
      const start = client.frames.length;
      client.send({ action: 'slow' });
      client.send({ action: 'echo', n: 2 });
      await client.waitFor((f) => f.type === 'slow', 'slow reply');
      const order = client.frames.slice(start).map((f) => f.type);
      // indexOf is -1 for a frame that never came, which is "less than" anything: check it came.
      const echoAt = order.indexOf('echo');
      expect(echoAt, 'the echo reply arrived').to.be.at.least(0);
      expect(echoAt).to.be.lessThan(order.indexOf('slow'));
    });

    it('answers a throwing function with API Gateway’s error frame, nothing internal, and keeps serving', async () => {
      client.send({ action: 'boom' });
      const frame = await client.waitFor((f) => f.message === 'Internal server error', 'error frame');
      expect(Object.keys(frame).sort()).to.deep.equal(['connectionId', 'message', 'requestId']);
      expect(JSON.stringify(client.frames)).to.not.include('secret internal detail');
      client.send({ action: 'echo', n: 3 });
      await client.waitFor((f) => f.type === 'echo' && (f.event as { body: string }).body.includes('"n":3'), 'echo after the failure');
    });

    it('answers an unrouted frame with Forbidden when the template has no $default route', async () => {
      client.send({ action: 'nowhere' });
      const frame = await client.waitFor((f) => f.message === 'Forbidden', 'Forbidden frame');
      expect(frame.connectionId).to.be.a('string');
      expect(frame.requestId).to.be.a('string');
    });

    it('sends nothing back from a route without a RouteResponse', async () => {
      client.send({ action: 'oneway' });
      await client.waitFor((f) => f.type === 'posted', 'the frame the function posted');
      client.send({ action: 'echo', n: 4 });
      await client.waitFor((f) => f.type === 'echo' && (f.event as { body: string }).body.includes('"n":4'), 'echo');
      expect(client.matching((f) => f.type === 'returned')).to.have.length(0);
    });

    it("passes the Origin header to the authorizer, which refuses origins the stack's parameters do not allow", async () => {
      const refused = await failure(TestClient.connect(stack.url, [], { origin: 'https://evil.example' }));
      expect(refused?.status).to.equal(403);
      const allowed = await TestClient.connect(stack.url, [], { origin: 'https://good.example' });
      allowed.close();
    });
  });

  describe("the $connect authorizer's identity sources", () => {
    /** The real authorizer, wrapped to write one line per invocation to `calls.log` beside the template. */
    const countingAuthorizer = (dir: string) => `import { appendFileSync } from 'node:fs';
import { handler as real } from '${REPO_ROOT}functions/authorizer/index.ts';
export const handler = async (event: unknown, context: unknown) => {
  appendFileSync('${join(dir, 'calls.log')}', 'call\\n');
  return real(event as never, context as never);
};`;
    const calls = (copy: TemplateCopy) => {
      const log = join(copy.dir, 'calls.log');
      return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0;
    };
    /** template.yaml with another IdentitySource, and its authorizer counting its invocations. */
    const withCountingAuthorizer = (identitySource: string) => {
      const copy = new TemplateCopy((text) =>
        text.replace('IdentitySource: [context.connectionId]', `IdentitySource: [${identitySource}]`),
      );
      const entry = copy.file('counting-authorizer.ts', countingAuthorizer(copy.dir));
      // The authorizer's CodeUri is the repository; an absolute entry point stays the copy's file.
      const text = readFileSync(copy.path, 'utf8');
      copy.file(
        'template.yaml',
        replaceAfter(text, '  AuthorizerFunction:', 'EntryPoints: [functions/authorizer/index.ts]', `EntryPoints: [${entry}]`),
      );
      return copy;
    };

    describe('a header source (route.request.header.X-Gate)', () => {
      let copy: TemplateCopy;
      let stack: TestStack;
      before(async () => {
        copy = withCountingAuthorizer('route.request.header.X-Gate');
        stack = await startTestStack({ templatePath: copy.path });
      });
      after(async () => {
        await stack.stop();
        copy.remove();
      });

      it('answers 401 without invoking the authorizer when the header is missing or empty', async () => {
        expect((await failure(TestClient.connect(stack.url)))?.status).to.equal(401);
        expect((await failure(TestClient.connect(stack.url, [], { headers: { 'X-Gate': '' } })))?.status).to.equal(401);
        expect(calls(copy)).to.equal(0);
        expect(stack.registry.real).to.equal(0);
      });

      it('invokes the authorizer when the header is there', async () => {
        const client = await TestClient.connect(stack.url, [], { headers: { 'x-gate': 'open' } });
        client.close();
        expect(calls(copy)).to.equal(1);
      });
    });

    describe("template.yaml's source (context.connectionId)", () => {
      let copy: TemplateCopy;
      let stack: TestStack;
      before(async () => {
        copy = withCountingAuthorizer('context.connectionId');
        stack = await startTestStack({ templatePath: copy.path });
      });
      after(async () => {
        await stack.stop();
        copy.remove();
      });

      it('is present on every $connect: the authorizer runs whether the token comes by query, subprotocol or not at all', async () => {
        const plain = await TestClient.connect(stack.url);
        const byQuery = await TestClient.connect(`${stack.url}?token=not-checked-in-none-mode`);
        const bySubprotocol = await TestClient.connect(stack.url, ['airwave', 'not-checked-in-none-mode']);
        for (const client of [plain, byQuery, bySubprotocol]) client.close();
        expect(calls(copy)).to.equal(3);
      });
    });
  });

  describe('with AuthMode=jwt', () => {
    let stack: TestStack;
    before(async () => {
      stack = await startTestStack({
        parameterOverrides: { AuthMode: 'jwt', JwksUrl: 'http://127.0.0.1:9/jwks.json', JwtAudience: 'airwave' },
      });
    });
    after(() => stack.stop());

    it('answers 401 to a connection without a token, and keeps no connection', async () => {
      expect((await failure(TestClient.connect(stack.url)))?.status).to.equal(401);
      expect(stack.registry.real).to.equal(0);
    });
  });
});
