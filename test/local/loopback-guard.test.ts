import { request } from 'node:http';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { expect } from 'chai';
import { isLoopbackHost, isLoopbackOrigin } from '../../local/loopback-guard.js';
import { eventually, startTestStack, TestClient, type TestStack } from './support.js';

interface Answer {
  status: number;
  body: string;
}

/** One HTTP request with exactly these headers (fetch would not let a test choose Host). */
function send(url: string, method: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('local/loopback-guard', () => {
  describe('isLoopbackHost', () => {
    it('accepts 127.0.0.0/8, localhost and [::1], with or without a port', () => {
      for (const host of [
        '127.0.0.1',
        '127.0.0.1:3001',
        '127.1.2.3:80',
        'localhost',
        'LOCALHOST:3001',
        '[::1]',
        '[::1]:3001',
        '[::ffff:7f00:1]:1',
      ])
        expect(isLoopbackHost(host), host).to.equal(true);
    });

    it('refuses other names, other addresses and malformed values', () => {
      for (const host of [
        undefined,
        '',
        'evil.example',
        'evil.example:3001',
        'localhost.evil.example',
        '127.0.0.1.evil.example',
        '128.0.0.1',
        '0.0.0.0:3001',
        '[::2]:3001',
        '127.0.0.1:3001:1',
        '127.0.0.1:port',
        '[::1',
      ])
        expect(isLoopbackHost(host), String(host)).to.equal(false);
    });

    it('accepts the address the stack was explicitly bound to', () => {
      expect(isLoopbackHost('192.168.1.5:3001', '192.168.1.5')).to.equal(true);
      expect(isLoopbackHost('192.168.1.6:3001', '192.168.1.5')).to.equal(false);
    });
  });

  describe('isLoopbackOrigin', () => {
    it('accepts http(s) pages of this machine only', () => {
      expect(isLoopbackOrigin('http://127.0.0.1:3001')).to.equal(true);
      expect(isLoopbackOrigin('http://localhost:5173')).to.equal(true);
      expect(isLoopbackOrigin('https://[::1]:8443')).to.equal(true);
      for (const origin of ['https://evil.example', 'null', 'file://', 'chrome-extension://abc', 'http://127.0.0.1:3001/path', 'garbage'])
        expect(isLoopbackOrigin(origin), origin).to.equal(false);
    });
  });

  describe('on a running stack', function () {
    this.timeout(120_000);
    let stack: TestStack;
    let client: TestClient;
    const invokeUrl = () => `${stack.httpUrl}/2015-03-31/functions/PublishFunction/invocations`;
    const publishes = () => stack.runtime.stats().PublishFunction?.invocations ?? 0;
    const publication = (text: string) => JSON.stringify({ channel: 'guarded', message: { text } });

    before(async () => {
      stack = await startTestStack();
      client = await TestClient.connect(`${stack.url}?channels=guarded`);
    });
    after(async () => {
      client?.close();
      await stack?.stop();
    });

    it('refuses a cross-site text/plain POST to the Invoke API (CSRF), and PublishFunction does not run', async () => {
      const csrf = await send(
        invokeUrl(),
        'POST',
        { origin: 'https://evil.example', 'content-type': 'text/plain', 'sec-fetch-site': 'cross-site' },
        publication('from evil'),
      );
      expect(csrf.status).to.equal(403);
      expect(JSON.parse(csrf.body)).to.deep.equal({ message: 'Forbidden: the local stack answers browsers only from a loopback origin' });
      expect(publishes(), 'PublishFunction invocations').to.equal(0);
      expect(stack.logs.some((l) => l.startsWith('WARN refused POST') && l.includes('foreign-origin'))).to.equal(true);

      // A tool's request (no Origin) still publishes, and it is the first and only message the member gets.
      const tool = await send(invokeUrl(), 'POST', { 'content-type': 'application/json' }, publication('from a tool'));
      expect(tool.status).to.equal(200);
      await client.waitFor((f) => (f.message as { text?: string })?.text === 'from a tool', 'the tool’s message');
      expect(client.matching((f) => f.type === 'message').map((f) => (f.message as { text: string }).text)).to.deep.equal(['from a tool']);
    });

    it('refuses an Origin-less request the browser marks cross-site (a no-cors request from a foreign page)', async () => {
      const before = publishes();
      const answer = await send(invokeUrl(), 'POST', { 'sec-fetch-site': 'cross-site', 'content-type': 'text/plain' }, publication('x'));
      expect(answer.status).to.equal(403);
      expect(JSON.parse(answer.body).message).to.equal('Forbidden: the local stack refuses cross-site browser requests');
      expect(publishes()).to.equal(before);
    });

    it('follows a link from another site to a page (a top-level GET navigation) but refuses the same GET as a fetch or a frame', async () => {
      const link = { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
      expect((await send(`${stack.httpUrl}/_local/stats`, 'GET', link)).status).to.equal(200);
      const fetched = { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'empty' };
      expect((await send(`${stack.httpUrl}/_local/stats`, 'GET', fetched)).status).to.equal(403);
      expect((await send(`${stack.httpUrl}/_local/stats`, 'GET', { ...link, 'sec-fetch-dest': 'iframe' })).status).to.equal(403);
      expect((await send(`${stack.httpUrl}/_local/stats`, 'DELETE', link)).status).to.equal(403);
    });

    it('refuses a foreign Host (DNS rebinding) on /_local, @connections, the Invoke API and the demo page', async () => {
      const before = publishes();
      const foreign = { host: 'evil.example:3001' };
      const answers = await Promise.all([
        send(`${stack.httpUrl}/_local/stack`, 'GET', foreign),
        send(`${stack.httpUrl}/_local/stats`, 'DELETE', foreign),
        send(`${stack.connectionsEndpoint}/@connections/${encodeURIComponent('abc=')}`, 'GET', foreign),
        send(invokeUrl(), 'POST', foreign, publication('rebound')),
        send(`${stack.httpUrl}/`, 'GET', foreign),
      ]);
      for (const answer of answers) {
        expect(answer.status).to.equal(403);
        expect(JSON.parse(answer.body).message).to.match(/^Forbidden: the local stack answers only requests to a loopback host/);
        expect(answer.body).not.to.include(stack.dynamodbEndpoint);
      }
      expect(publishes()).to.equal(before);
      expect(stack.logs.filter((l) => l.includes('foreign-host') && l.includes('"evil.example:3001"'))).to.have.length(5);
    });

    it('refuses a WebSocket upgrade with a foreign Host before $connect runs', async () => {
      const connects = stack.runtime.stats().ConnectFunction?.invocations ?? 0;
      const refused = await TestClient.connect(stack.url, [], { headers: { host: 'evil.example' } }).then(
        () => 'open',
        (error: { status?: number }) => error.status,
      );
      expect(refused).to.equal(403);
      expect(stack.runtime.stats().ConnectFunction?.invocations ?? 0).to.equal(connects);
    });

    it('holds the DynamoDB endpoint (dynalite, which allows every origin) to the same rules', async () => {
      const listTables = (headers: Record<string, string>) =>
        send(
          stack.dynamodbEndpoint,
          'POST',
          { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables', ...headers },
          '{}',
        );
      const foreignPage = await listTables({ origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
      expect(foreignPage.status).to.equal(403);
      expect(foreignPage.body).not.to.include('TableNames');
      expect(JSON.parse(foreignPage.body).__type).to.equal('com.amazon.coral.service#AccessDeniedException');
      const rebound = await listTables({ host: 'evil.example' });
      expect(rebound.status).to.equal(403);
      // A tool (the SDK, as the functions use it) is served.
      const dynamodb = new DynamoDBClient({
        endpoint: stack.dynamodbEndpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      });
      try {
        expect((await dynamodb.send(new ListTablesCommand({}))).TableNames).to.have.members(Object.values(stack.tables));
      } finally {
        dynamodb.destroy();
      }
      await eventually(() => stack.logs.some((l) => l.startsWith('WARN refused DynamoDB POST: foreign-host')), 'the refusal logged');
    });

    it('serves tools and this machine’s pages: no Origin, a loopback Origin, any loopback Host name', async () => {
      const stats = `${stack.httpUrl}/_local/stats`;
      const port = stack.port;
      const allowed: Array<Record<string, string>> = [
        {},
        { host: `localhost:${port}` },
        { host: `[::1]:${port}` },
        { origin: `http://localhost:${port}`, 'sec-fetch-site': 'same-origin' },
        { origin: 'http://127.0.0.1:5173', 'sec-fetch-site': 'same-site' },
      ];
      for (const headers of allowed) expect((await send(stats, 'GET', headers)).status, JSON.stringify(headers)).to.equal(200);
      expect((await send(`${stack.httpUrl}/`, 'GET', { 'sec-fetch-site': 'none' })).status).to.not.equal(403);
    });
  });
});
