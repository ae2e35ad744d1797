import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { expect } from 'chai';
import sinon from 'sinon';
import { type Connection, ConnectionRegistry } from '../../../local/apigateway/connections.js';
import { ConnectionsApi } from '../../../local/apigateway/connections-api.js';
import { TokenBucket } from '../../../local/apigateway/throttle.js';
import type { WebSocketApi } from '../../../local/apigateway/websocket-api.js';
import { eventually, startTestStack, TableReader, TestClient, type TestStack } from '../support.js';

const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };

async function openWithId(stack: TestStack, channel: string): Promise<{ client: TestClient; id: string }> {
  const client = await TestClient.connect(stack.url);
  client.send({ action: 'joinchannel', channel });
  const joined = await client.waitFor((f) => f.type === 'joined', 'join ack');
  return { client, id: String(joined.connectionId) };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: Error) => error,
  );

describe('local/connections-api', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let management: ApiGatewayManagementApiClient;
  let table: TableReader;

  before(async () => {
    stack = await startTestStack();
    management = new ApiGatewayManagementApiClient({ endpoint: stack.connectionsEndpoint, region: 'us-east-1', credentials });
    table = new TableReader(stack);
  });
  after(async () => {
    management.destroy();
    table.close();
    await stack.stop();
  });

  it('delivers a POST to a live connection as a text frame (SDK client, SigV4-signed)', async () => {
    const { client, id } = await openWithId(stack, 'posts');
    await management.send(new PostToConnectionCommand({ ConnectionId: id, Data: '{"hello":"world"}' }));
    expect(await client.waitFor((f) => f.hello !== undefined, 'posted frame')).to.deep.equal({ hello: 'world' });
    client.close();
  });

  it('delivers a POST body that is not UTF-8 as a text frame, its bad bytes replaced by U+FFFD', async () => {
    const { client, id } = await openWithId(stack, 'not-utf8');
    const body = Buffer.concat([Buffer.from('bad:'), Buffer.from([0xff, 0xfe]), Buffer.from(':end')]);
    const res = await fetch(`${stack.connectionsEndpoint}/@connections/${encodeURIComponent(id)}`, { method: 'POST', body });
    expect(res.status).to.equal(200);
    expect(await client.waitFor((f) => typeof f.raw === 'string' && f.raw.startsWith('bad:'), 'posted frame')).to.deep.equal({
      raw: 'bad:\uFFFD\uFFFD:end',
    });
    client.close();
  });

  it('accepts an unsigned POST with the connection id URL-encoded', async () => {
    const { client, id } = await openWithId(stack, 'unsigned');
    const res = await fetch(`${stack.connectionsEndpoint}/@connections/${encodeURIComponent(id)}`, { method: 'POST', body: '{"n":1}' });
    expect(res.status).to.equal(200);
    await client.waitFor((f) => f.n === 1, 'posted frame');
    client.close();
  });

  it('answers 410 GoneException to a POST for a closed connection', async () => {
    const { client, id } = await openWithId(stack, 'gone');
    client.close();
    await client.closed;
    await eventually(() => stack.registry.get(id) === undefined, 'the connection to go');
    const error = await failure(management.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'x' })));
    expect(error?.name).to.equal('GoneException');
    expect((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).to.equal(410);
  });

  it('returns connection info on GET', async () => {
    const { client, id } = await openWithId(stack, 'info');
    const info = await management.send(new GetConnectionCommand({ ConnectionId: id }));
    expect(info.ConnectedAt).to.be.instanceOf(Date);
    expect(info.LastActiveAt?.getTime()).to.be.at.least(info.ConnectedAt?.getTime() as number);
    expect(info.Identity).to.deep.equal({ SourceIp: '127.0.0.1', UserAgent: '' });
    client.close();
  });

  it('closes the socket on DELETE and runs $disconnect', async () => {
    const { client, id } = await openWithId(stack, 'deleted');
    expect(await table.connectionRows(id)).to.be.greaterThan(0);
    await management.send(new DeleteConnectionCommand({ ConnectionId: id }));
    expect((await client.closed).code).to.equal(1000);
    await eventually(async () => (await table.connectionRows(id)) === 0, '$disconnect deleting the rows');
    const again = await failure(management.send(new GetConnectionCommand({ ConnectionId: id })));
    expect(again?.name).to.equal('GoneException');
  });

  it('answers 413 PayloadTooLargeException to a post over 128 KB', async () => {
    const { client, id } = await openWithId(stack, 'large');
    const error = await failure(management.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'x'.repeat(129 * 1024) })));
    expect(error?.name).to.equal('PayloadTooLargeException');
    client.close();
  });

  describe('virtual connections (/_local)', () => {
    it('counts what a channel broadcast posts to each, and runs $disconnect when they are removed', async () => {
      await fetch(`${stack.httpUrl}/_local/stats`, { method: 'DELETE' });
      const added = await fetch(`${stack.httpUrl}/_local/virtual-connections`, {
        method: 'POST',
        body: JSON.stringify({ count: 3, queryStringParameters: { channels: 'bench' } }),
      });
      expect(added.status).to.equal(201);
      const { connectionIds } = (await added.json()) as { connectionIds: string[] };
      expect(connectionIds).to.have.length(3);
      expect(await table.channelRows('bench')).to.equal(3);

      const published = await fetch(`${stack.httpUrl}/2015-03-31/functions/PublishFunction/invocations`, {
        method: 'POST',
        body: JSON.stringify({ channel: 'bench', message: { n: 1 } }),
      });
      expect(((await published.json()) as { delivered: number }).delivered).to.equal(3);
      const stats = (await (await fetch(`${stack.httpUrl}/_local/stats`)).json()) as {
        virtual: { deliveries: number; perConnection: Record<string, number> };
        connectionsApi: { delivered: number; firstDeliveryAt: number; lastDeliveryAt: number };
      };
      expect(stats.virtual.deliveries).to.equal(3);
      expect(connectionIds.map((id) => stats.virtual.perConnection[id])).to.deep.equal([1, 1, 1]);
      expect(stats.connectionsApi.delivered).to.equal(3);
      expect(stats.connectionsApi.lastDeliveryAt).to.be.at.least(stats.connectionsApi.firstDeliveryAt);
      expect(stats.connectionsApi.firstDeliveryAt).to.be.greaterThan(Date.parse('2020-01-01'));

      const removed = await fetch(`${stack.httpUrl}/_local/virtual-connections`, { method: 'DELETE' });
      expect(await removed.json()).to.deep.equal({ removed: 3 });
      await eventually(async () => (await table.channelRows('bench')) === 0, '$disconnect of the virtual connections');
    });

    it('refuses a count out of range', async () => {
      const res = await fetch(`${stack.httpUrl}/_local/virtual-connections`, { method: 'POST', body: '{"count":0}' });
      expect(res.status).to.equal(400);
    });
  });

  describe('the emulated account throttle', () => {
    let throttled: TestStack;
    before(async () => {
      throttled = await startTestStack({ throttleRps: 1, throttleBurst: 2 });
    });
    after(() => throttled.stop());

    it('answers 429 LimitExceededException beyond the burst', async () => {
      const [id] = await throttled.addVirtualConnections(1);
      const answers = await Promise.all(
        Array.from({ length: 6 }, () =>
          fetch(`${throttled.connectionsEndpoint}/@connections/${encodeURIComponent(id)}`, { method: 'POST', body: 'x' }),
        ),
      );
      const refused = answers.filter((a) => a.status === 429);
      expect(answers.filter((a) => a.status === 200).length).to.be.within(2, 3);
      expect(refused.length).to.equal(6 - answers.filter((a) => a.status === 200).length);
      expect(refused[0].headers.get('x-amzn-errortype')).to.equal('LimitExceededException');
    });
  });

  describe('the emulated post latency', () => {
    let clock: sinon.SinonFakeTimers;
    beforeEach(() => {
      clock = sinon.useFakeTimers({ toFake: ['setTimeout'] });
    });
    afterEach(() => clock.restore());

    it('delivers and answers only once --post-latency-ms has passed', async () => {
      const registry = new ConnectionRegistry();
      registry.add({ connectionId: 'abc=', virtual: { deliveries: 0, bytes: 0 } } as Connection);
      const sent: string[] = [];
      const websocket = { send: (_c: Connection, data: string | Buffer) => sent.push(String(data)) && 'ok' } as unknown as WebSocketApi;
      const api = new ConnectionsApi({ stage: 'dev', registry, websocket, throttle: new TokenBucket(0), postLatencyMs: 250 });
      const req = Object.assign(Readable.from([Buffer.from('hi')]), { method: 'POST' }) as unknown as IncomingMessage;
      let status: number | undefined;
      const res = {
        writeHead(code: number) {
          status = code;
          return this;
        },
        end() {},
      } as unknown as ServerResponse;
      const handled = api.handle(req, res, '/dev/@connections/abc%3D');
      await clock.tickAsync(249);
      expect([status, sent]).to.deep.equal([undefined, []]);
      await clock.tickAsync(1);
      await handled;
      expect([status, sent]).to.deep.equal([200, ['hi']]);
    });
  });
});
