/**
 * Issue 9 ("abuse cannot amplify"), the authorizer's part, end to end: the local stack runs
 * template.yaml with the parameters under test, so the $connect authorizer, the $connect
 * integration and the routes are the real code over real sockets. Backends publish through
 * PublishFunction over the stack's Lambda Invoke API, as a deployed backend would. Each test is
 * numbered after the finding it reproduces.
 */
import { expect } from 'chai';
import { SignJWT } from 'jose';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/stack.js';
import { openClient, refusedStatus, sleep, type TestClient } from '../helpers/ws-client.js';

const SECRET = 'e2e-abuse-development-secret-0123456789';
const ALLOWED = 'https://app.example.com';
/** Quiet metrics; logs stay at the template's LogLevel unless a test stack says otherwise. */
const QUIET = { JWT_DEV_SECRET: SECRET, AIRWAVE_LOCAL: '1', POWERTOOLS_METRICS_DISABLED: 'true' };
const nowSeconds = () => Math.floor(Date.now() / 1000);
/** How long a test waits for one frame: generous, for a loaded machine. */
const FRAME_MS = 15_000;

/** An HS256 token; `iat: undefined` leaves the claim out. */
async function token(claims: Record<string, unknown>, times: { iat?: number; exp?: number } = {}): Promise<string> {
  const iat = 'iat' in times ? times.iat : nowSeconds();
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(times.exp ?? nowSeconds() + 300);
  if (iat !== undefined) jwt.setIssuedAt(iat);
  return jwt.sign(new TextEncoder().encode(SECRET));
}

/** One test stack with its clients and captured function logs. */
function useStack(parameterOverrides: Record<string, string>, environment: Record<string, string> = {}, warm = true) {
  const ctx = { stack: undefined as unknown as LocalStack, clients: [] as TestClient[], logs: [] as Array<{ fn: string; line: string }> };
  before(async () => {
    const options: LocalStackOptions = {
      parameterOverrides,
      environment: { ...QUIET, ...environment },
      log: () => {},
      functionLog: (fn, line) => ctx.logs.push({ fn, line }),
    };
    ctx.stack = await startLocalStack(options);
    // Function cold starts happen here rather than inside a test's frame timeouts.
    if (warm) await ctx.stack.warm();
  });
  afterEach(async () => {
    await Promise.all(ctx.clients.splice(0).map((c) => c.close()));
  });
  after(() => ctx.stack?.stop());
  return ctx;
}

async function open(ctx: ReturnType<typeof useStack>, query: string, origin = ALLOWED): Promise<TestClient> {
  const client = await openClient(`${ctx.stack.url}${query}`, { origin });
  ctx.clients.push(client);
  return client;
}

/** Publishes as a backend does: PublishFunction through the Lambda Invoke API. */
async function publish(stack: LocalStack, channel: string, message: unknown): Promise<void> {
  const res = await fetch(`${stack.httpUrl}/2015-03-31/functions/PublishFunction/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ channel, message }),
  });
  expect(res.status).to.equal(200);
  expect(res.headers.get('x-amz-function-error'), await res.clone().text()).to.equal(null);
  await res.arrayBuffer();
}

/** The JSON log lines a function wrote (Powertools writes one JSON object a line). */
function jsonLines(ctx: ReturnType<typeof useStack>, fn: string): Array<Record<string, unknown>> {
  return ctx.logs
    .filter((l) => l.fn === fn)
    .flatMap((l) => {
      try {
        return [JSON.parse(l.line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

const messagesOn = (client: TestClient, channel: string) => client.frames.filter((f) => f.type === 'message' && f.channel === channel);

describe('abuse end to end: rights, tokens, origins (issue 9)', function () {
  this.timeout(90_000);

  describe('AuthMode=jwt, template defaults otherwise (DefaultChannel=default, LogLevel=WARN)', () => {
    const ctx = useStack({ AuthMode: 'jwt', AllowedOrigins: ALLOWED });

    it('1: a token with channels [] receives 0 of 3 messages on default (a token with * receives all 3)', async () => {
      const nobody = await open(ctx, `?token=${await token({ sub: 'nobody', channels: [] })}`);
      const everyone = await open(ctx, `?token=${await token({ sub: 'everyone', channels: ['*'] })}`);
      for (const n of [1, 2, 3]) await publish(ctx.stack, 'default', { n });
      for (let i = 0; i < FRAME_MS / 50 && messagesOn(everyone, 'default').length < 3; i += 1) await sleep(50);
      await sleep(200);
      expect(messagesOn(everyone, 'default')).to.have.length(3);
      expect(messagesOn(nobody, 'default')).to.have.length(0);
    });

    it("2: a token with pattern user:u1* is refused at $connect (403) and never replays user:u10's history", async () => {
      await publish(ctx.stack, 'user:u10', { secret: 'for u10 only' });
      const sloppy = await token({ sub: 'u1', channels: ['user:u1*'] });
      expect(await refusedStatus(`${ctx.stack.url}?token=${sloppy}`, { origin: ALLOWED })).to.equal(403);
    });

    it('2: user:u1:* joins user:u1:inbox, but not user:u1, user:u1: (nothing after the colon) nor user:u10 (history included)', async () => {
      const u1 = await open(ctx, `?token=${await token({ sub: 'u1', channels: ['user:u1:*'] })}`);
      u1.send({ action: 'joinchannel', channel: 'user:u1:inbox' });
      expect(await u1.next((f) => f.type === 'joined' || f.type === 'error', FRAME_MS)).to.include({
        type: 'joined',
        channel: 'user:u1:inbox',
      });
      for (const channel of ['user:u10', 'user:u1', 'user:u1:']) {
        u1.send({ action: 'joinchannel', channel, since: 0 });
        expect(await u1.next((f) => f.type === 'joined' || f.type === 'error', FRAME_MS)).to.include({
          type: 'error',
          code: 'forbidden',
          channel,
        });
      }
      await sleep(200);
      expect(messagesOn(u1, 'user:u10')).to.deep.equal([]);
    });

    it('4: a 100-year token, a 2-day token and a 2-day token without iat are refused with 401 (MaxTokenLifetimeSeconds=86400)', async () => {
      const now = nowSeconds();
      const century = await token({ sub: 'u1', channels: ['*'] }, { iat: now, exp: now + 100 * 365 * 86400 });
      const twoDays = await token({ sub: 'u1', channels: ['*'] }, { iat: now, exp: now + 2 * 86400 });
      const noIat = await token({ sub: 'u1', channels: ['*'] }, { iat: undefined, exp: now + 2 * 86400 });
      for (const t of [century, twoDays, noIat])
        expect(await refusedStatus(`${ctx.stack.url}?token=${t}`, { origin: ALLOWED })).to.equal(401);
      // Within the lifetime, with and without iat: accepted.
      await open(ctx, `?token=${await token({ sub: 'u1', channels: ['*'] }, { iat: now, exp: now + 3600 })}`);
      await open(ctx, `?token=${await token({ sub: 'u1', channels: ['*'] }, { iat: undefined, exp: now + 3600 })}`);
    });

    it('6: refusals are logged at WARN under the default LogLevel, with a reason and without the token', async () => {
      const expired = await token({ sub: 'u1', channels: ['*'] }, { iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 });
      const invalidPattern = await token({ sub: 'u1', channels: ['a*b'] });
      ctx.logs.length = 0;
      expect(await refusedStatus(`${ctx.stack.url}?token=${expired}`, { origin: ALLOWED })).to.equal(401);
      expect(await refusedStatus(`${ctx.stack.url}?token=${invalidPattern}`, { origin: ALLOWED })).to.equal(403);
      expect(await refusedStatus(`${ctx.stack.url}`, { origin: 'https://evil.example.net' })).to.equal(403);
      const warnings = jsonLines(ctx, 'AuthorizerFunction').filter((l) => l.level === 'WARN');
      expect(warnings.map((l) => l.reason)).to.include.members(['token_expired', 'rights_pattern_invalid', 'origin_not_allowed']);
      const all = ctx.logs.map((l) => l.line).join('\n');
      for (const secret of [expired, invalidPattern, expired.split('.')[2], SECRET]) expect(all).to.not.include(secret);
    });
  });

  describe('AuthMode=jwt with UserChannels="user:{sub} user:{sub}:*"', () => {
    const ctx = useStack({ AuthMode: 'jwt', AllowedOrigins: ALLOWED, UserChannels: 'user:{sub} user:{sub}:*' });

    it("3: a backend publish to user:alice reaches alice's two connections and not bob's; bob's join of user:alice is forbidden", async () => {
      const alice1 = await open(ctx, `?token=${await token({ sub: 'alice' })}&channels=user:alice`);
      const alice2 = await open(ctx, `?token=${await token({ sub: 'alice' })}`);
      alice2.send({ action: 'joinchannel', channel: 'user:alice' });
      expect(await alice2.next((f) => f.type === 'joined' || f.type === 'error', FRAME_MS)).to.include({
        type: 'joined',
        channel: 'user:alice',
      });
      const bob = await open(ctx, `?token=${await token({ sub: 'bob' })}`);
      bob.send({ action: 'joinchannel', channel: 'user:alice' });
      expect(await bob.next((f) => f.type === 'joined' || f.type === 'error', FRAME_MS)).to.include({
        type: 'error',
        code: 'forbidden',
        channel: 'user:alice',
      });
      await publish(ctx.stack, 'user:alice', { text: 'for alice' });
      expect(await alice1.next((f) => f.type === 'message', FRAME_MS)).to.deep.include({
        channel: 'user:alice',
        message: { text: 'for alice' },
      });
      expect(await alice2.next((f) => f.type === 'message', FRAME_MS)).to.deep.include({
        channel: 'user:alice',
        message: { text: 'for alice' },
      });
      await sleep(200);
      expect(bob.frames.filter((f) => f.type === 'message')).to.deep.equal([]);
      // bob may still use his own channel and its sub-channels.
      bob.send({ action: 'joinchannel', channel: 'user:bob:alerts' });
      expect(await bob.next((f) => f.type === 'joined' || f.type === 'error', FRAME_MS)).to.include({
        type: 'joined',
        channel: 'user:bob:alerts',
      });
    });
  });

  describe('AuthMode=jwt with JwksUrl and no JwtAudience', () => {
    // No development secret: one key type per stack, and this one is the JWKS.
    const ctx = useStack(
      { AuthMode: 'jwt', AllowedOrigins: ALLOWED, JwksUrl: 'http://127.0.0.1:9/jwks.json' },
      { JWT_DEV_SECRET: '' },
      false,
    );

    it('4: every connection fails closed with 500 and an ERROR log saying why', async () => {
      ctx.logs.length = 0;
      expect(await refusedStatus(ctx.stack.url, { origin: ALLOWED })).to.equal(500);
      const errors = jsonLines(ctx, 'AuthorizerFunction').filter((l) => l.level === 'ERROR');
      expect(errors.map((l) => String(l.errorMessage)).join(' ')).to.match(/JWT_AUDIENCE/);
    });
  });

  describe('AuthMode=none with AllowedOrigins="https://*.github.io"', () => {
    const ctx = useStack({ AllowedOrigins: 'https://*.github.io' }, {}, false);

    it('5: a page on any github.io site is not let in: the wildcard over a public suffix is a configuration error (500)', async () => {
      expect(await refusedStatus(ctx.stack.url, { origin: 'https://attacker.github.io' })).to.equal(500);
    });
  });
});
