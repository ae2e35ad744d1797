/**
 * Issue 4 end to end: the local stack runs template.yaml with AuthMode=jwt, so the $connect
 * authorizer, the rights it puts in the context and the routes that enforce them are the real
 * code, over real sockets. Each test tries an attack and checks that it fails and leaks nothing.
 */
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { openClient, refusedStatus, sleep, type TestClient } from '../helpers/ws-client.js';

const SECRET = 'e2e-development-secret-0123456789abcdef';
const ALLOWED = 'https://app.example.com';

async function token(claims: Record<string, unknown>, expiresIn = '5m'): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(SECRET));
}

describe('security end to end (AuthMode=jwt)', function () {
  this.timeout(60_000);
  let stack: LocalStack;
  const clients: TestClient[] = [];
  const open = async (query: string, options: Parameters<typeof openClient>[1] = {}) => {
    const client = await openClient(`${stack.url}${query}`, { origin: ALLOWED, ...options });
    clients.push(client);
    return client;
  };

  before(async () => {
    stack = await startLocalStack({
      parameterOverrides: { AuthMode: 'jwt', AllowedOrigins: `${ALLOWED},https://*.example.org`, DefaultChannel: '' },
      environment: { JWT_DEV_SECRET: SECRET, AIRWAVE_LOCAL: '1', POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
      log: () => {},
      functionLog: () => {},
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  after(() => stack?.stop());

  /** Every subscription row in the table (a test may Scan; the service never does). */
  async function subscriptionRows(): Promise<unknown[]> {
    const client = new DynamoDBClient({
      endpoint: stack.dynamodbEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    try {
      const out = await client.send(
        new ScanCommand({ TableName: Object.values(stack.tables)[0], FilterExpression: 'attribute_exists(gpk)' }),
      );
      return out.Items ?? [];
    } finally {
      client.destroy();
    }
  }

  describe('$connect', () => {
    it('refuses a connection without a token with 401', async () => {
      expect(await refusedStatus(stack.url, { origin: ALLOWED })).to.equal(401);
    });

    it('refuses an expired token and a token signed with another secret with 401', async () => {
      const expired = await new SignJWT({ sub: 'u1', channels: ['*'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
        .sign(new TextEncoder().encode(SECRET));
      expect(await refusedStatus(`${stack.url}?token=${expired}`, { origin: ALLOWED })).to.equal(401);
      const forged = await new SignJWT({ sub: 'u1', channels: ['*'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode('not-the-secret-not-the-secret-000000'));
      expect(await refusedStatus(`${stack.url}?token=${forged}`, { origin: ALLOWED })).to.equal(401);
    });

    it('refuses a page from a foreign origin with 403 even with a valid token (cross-site WebSocket hijacking)', async () => {
      const t = await token({ sub: 'u1', channels: ['*'] });
      expect(await refusedStatus(`${stack.url}?token=${t}`, { origin: 'https://evil.example.net' })).to.equal(403);
      expect(await refusedStatus(`${stack.url}?token=${t}`, { origin: 'https://app.example.com.evil.net' })).to.equal(403);
    });

    it('accepts a wildcard subdomain and a token carried as a subprotocol, echoing "airwave"', async () => {
      const t = await token({ sub: 'u1', channels: ['public:*'] });
      const client = await open('', { origin: 'https://a.example.org', protocols: ['airwave', t] });
      expect(client.ws.protocol).to.equal('airwave');
    });

    it('refuses ?channels= outside the token rights with 403 and leaves no subscription behind', async () => {
      const t = await token({ sub: 'u2', channels: ['public:*'] });
      expect(await refusedStatus(`${stack.url}?token=${t}&channels=public:a,private:b`, { origin: ALLOWED })).to.equal(403);
      expect(await subscriptionRows()).to.deep.equal([]);
    });
  });

  describe('rights on every frame', () => {
    it('refuses joining a channel outside the token rights, and the attacker receives nothing from it', async () => {
      const owner = await open(`?token=${await token({ sub: 'owner', channels: ['private:owner'], publish: ['private:owner'] })}`);
      const attacker = await open(`?token=${await token({ sub: 'attacker', channels: ['public:*'] })}`);
      attacker.send({ action: 'joinchannel', channel: 'private:owner' });
      expect(await attacker.next((f) => f.type === 'error')).to.include({ code: 'forbidden', channel: 'private:owner' });
      owner.send({ action: 'joinchannel', channel: 'private:owner' });
      await owner.next((f) => f.type === 'joined');
      owner.send({ action: 'sendmessage', channel: 'private:owner', message: 'secret' });
      await owner.next((f) => f.type === 'sent');
      await sleep(200);
      expect(attacker.frames).to.deep.equal([]);
    });

    it('refuses publishing outside the token rights, and nothing reaches the channel members', async () => {
      const reader = await open(`?token=${await token({ sub: 'reader', channels: ['public:*'] })}&channels=public:news`);
      const spammer = await open(`?token=${await token({ sub: 'spammer', channels: ['public:*'], publish: ['public:chat'] })}`);
      spammer.send({ action: 'sendmessage', channel: 'public:news', message: 'fake news' });
      expect(await spammer.next((f) => f.type === 'error')).to.include({ code: 'forbidden', channel: 'public:news' });
      spammer.send({ action: 'sendmessage', channel: 'public:chat', message: 'allowed' });
      expect(await spammer.next((f) => f.type === 'sent')).to.include({ channel: 'public:chat' });
      await sleep(200);
      expect(reader.frames).to.deep.equal([]);
    });
  });
});
