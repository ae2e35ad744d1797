/**
 * Token refresh against the local stack in AuthMode=jwt: tokens are accepted for about 5 s and
 * the stack cuts every connection after 6 s (API Gateway's 2-hour cut, shortened), so every
 * reconnect needs a fresh token. A client with a token function reconnects each time and loses nothing; a client with a
 * fixed token is refused with 401 once, says so in one `error` event, and stops.
 */
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { connect } from '../../client/src/index.js';
import type { AirwaveClient, ClientError, ConnectOptions, MessageEvent } from '../../client/src/types.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { CLOCK_TOLERANCE_SECONDS } from '../../shared/auth/verify.js';

const TEMPLATE = fileURLToPath(new URL('../../template.yaml', import.meta.url));
const SECRET = 'client-e2e-development-secret-0123456789';
const CHANNEL = 'refresh';
const MESSAGES = 30;
const PUBLISH_EVERY_MS = 300;

/** The service tolerates 30 s of clock skew on `exp`: this token is accepted for about 5 s. */
const ACCEPTED_FOR_SECONDS = 5;

const mint = (): Promise<string> =>
  new SignJWT({ sub: 'u1', channels: ['*'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) - CLOCK_TOLERANCE_SECONDS + ACCEPTED_FOR_SECONDS)
    .sign(new TextEncoder().encode(SECRET));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('client token refresh, end to end (AuthMode=jwt)', function () {
  this.timeout(180_000);
  let stack: LocalStack;
  const clients: AirwaveClient[] = [];

  before(async () => {
    stack = await startLocalStack({
      port: 0,
      templatePath: TEMPLATE,
      maxConnectionSeconds: 6,
      parameterOverrides: { AuthMode: 'jwt', DefaultChannel: '' },
      environment: { JWT_DEV_SECRET: SECRET, AIRWAVE_LOCAL: '1', POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
      log: () => undefined,
      functionLog: () => undefined,
    });
  });
  after(async () => {
    for (const client of clients) client.close();
    await stack?.stop();
  });

  /** A client that counts the sockets it opens. */
  function start(options: ConnectOptions) {
    const seen = { sockets: 0, messages: [] as MessageEvent[], errors: [] as ClientError[] };
    class Counting extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        seen.sockets++;
      }
    }
    const client = connect(stack.url, { WebSocket: Counting as never, reconnectBaseMs: 200, reconnectMaxMs: 1_000, ...options });
    client.on('message', (event) => seen.messages.push(event));
    client.on('error', (event) => seen.errors.push(event));
    clients.push(client);
    return { client, seen };
  }

  it('reconnects with a fresh token after every cut and delivers everything once, in order; a fixed token stops at the first 401', async () => {
    const fresh = start({ token: mint });
    const fixed = start({ token: await mint() });
    await Promise.all([fresh.client.join(CHANNEL), fixed.client.join(CHANNEL)]);

    for (let n = 1; n <= MESSAGES; n++) {
      const response = await fetch(`${stack.httpUrl}/2015-03-31/functions/PublishFunction/invocations`, {
        method: 'POST',
        body: JSON.stringify({ channel: CHANNEL, message: { n } }),
      });
      expect(response.status).to.equal(200);
      await sleep(PUBLISH_EVERY_MS);
    }
    const deadline = Date.now() + 30_000;
    while (fresh.seen.messages.length < MESSAGES && Date.now() < deadline) await sleep(100);

    // ~10 s of publishing, a cut every 6 s: 2 or 3 connections, each with its own token.
    expect(fresh.seen.messages.map((m) => (m.message as { n: number }).n)).to.deep.equal(Array.from({ length: MESSAGES }, (_, i) => i + 1));
    expect(fresh.seen.errors.map((e) => e.code)).to.deep.equal([]);
    expect(fresh.seen.sockets).to.be.within(2, 6);
    expect(fresh.client.state).to.equal('open');

    // The fixed token expired before the first cut: one refused reconnect, one event, no storm.
    expect(fixed.seen.errors.map((e) => [e.code, e.status])).to.deep.equal([['connect_failed', 401]]);
    expect(fixed.seen.sockets).to.equal(2);
    expect(fixed.client.state).to.equal('closed');
  });
});
