import { expect } from 'chai';
import * as rws from 'reconnecting-websocket';
import WS from 'ws';
import { eventually, startTestStack, TableReader, TestClient, type TestStack, WAIT_MS } from '../support.js';

type Frame = Record<string, unknown>;
// A CommonJS package (`module.exports = ReconnectingWebSocket`) whose types declare an ES
// default export: at run time the class is `rws.default`, for TypeScript `rws.default.default`.
type RwsClass = typeof rws.default.default;
const ReconnectingWebSocket = ((rws.default as unknown as { default?: RwsClass }).default ?? rws.default) as RwsClass;
type ReconnectingWebSocket = InstanceType<RwsClass>;

/** The seed article's client: reconnecting-websocket over `ws` (Node 20 has no global WebSocket). */
class SeedClient {
  readonly frames: Frame[] = [];
  readonly socket: ReconnectingWebSocket;
  private pongs = 0;

  constructor(url: string) {
    this.socket = new ReconnectingWebSocket(url, [], {
      WebSocket: WS,
      minReconnectionDelay: 10,
      maxReconnectionDelay: 100,
      connectionTimeout: WAIT_MS,
    });
    this.socket.addEventListener('message', (event) => {
      this.frames.push(JSON.parse(String(event.data)));
    });
  }

  /** Resolves on the next `open` (the first connection, or the one after a reconnect). */
  opened(): Promise<void> {
    return new Promise((resolve) => {
      const onOpen = () => {
        this.socket.removeEventListener('open', onOpen);
        resolve();
      };
      this.socket.addEventListener('open', onOpen);
    });
  }

  send(frame: Frame): void {
    this.socket.send(JSON.stringify(frame));
  }

  async waitFor(predicate: (f: Frame) => boolean, what: string): Promise<Frame> {
    await eventually(() => this.frames.some(predicate), what);
    return this.frames.find(predicate) as Frame;
  }

  async join(channel: string): Promise<void> {
    const before = this.frames.length;
    this.send({ action: 'joinchannel', channel });
    await eventually(() => this.frames.slice(before).some((f) => f.type === 'joined' && f.channel === channel), `joined ${channel}`);
  }

  /**
   * Everything the service posted to this client before now has arrived: a pong comes back on
   * the same socket after any frame posted before the ping was handled.
   */
  async barrier(): Promise<void> {
    const target = ++this.pongs;
    this.send({ action: 'ping' });
    await eventually(() => this.frames.filter((f) => f.type === 'pong').length >= target, 'pong');
  }

  messages(channel?: string): Frame[] {
    return this.frames.filter((f) => f.type === 'message' && (channel === undefined || f.channel === channel));
  }
}

describe('local/websocket-api (template.yaml, end to end)', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let table: TableReader;

  before(async () => {
    stack = await startTestStack({ parameterOverrides: { AllowedOrigins: '*', AuthMode: 'none' } });
    table = new TableReader(stack);
  });
  after(async () => {
    table.close();
    await stack.stop();
  });

  describe('the seed article flow with reconnecting-websocket', () => {
    let alice: SeedClient;
    let bob: SeedClient;
    let carol: SeedClient;

    before(async () => {
      [alice, bob, carol] = [new SeedClient(stack.url), new SeedClient(stack.url), new SeedClient(stack.url)];
      await Promise.all([alice.opened(), bob.opened(), carol.opened()]);
      await Promise.all([alice.join('news'), alice.join('sport'), bob.join('news'), bob.join('music'), carol.join('sport')]);
    });
    after(() => {
      for (const client of [alice, bob, carol]) client.socket.close();
    });

    it('delivers to the other member with the channel named, without echo, and not to a client of another channel', async () => {
      bob.send({ action: 'sendmessage', channel: 'news', message: { text: 'hello news' } });
      await bob.waitFor((f) => f.type === 'sent' && f.channel === 'news', 'sent receipt');
      const delivery = await alice.waitFor((f) => f.type === 'message' && f.channel === 'news', 'news delivery');
      expect(delivery.message).to.deep.equal({ text: 'hello news' });
      await Promise.all([bob.barrier(), carol.barrier()]);
      expect(bob.messages()).to.have.length(0);
      expect(carol.messages()).to.have.length(0);
    });

    it('sends a message without a channel to everyone in the default channel but the sender', async () => {
      carol.send({ action: 'sendmessage', message: 'to everyone' });
      await carol.waitFor((f) => f.type === 'sent' && f.channel === 'default', 'sent receipt');
      await Promise.all(
        [alice, bob].map((c) =>
          c.waitFor((f) => f.type === 'message' && f.channel === 'default' && f.message === 'to everyone', 'default delivery'),
        ),
      );
      await carol.barrier();
      expect(carol.messages('default')).to.have.length(0);
    });

    it('delivers exactly once to a client that reconnected and joined again', async () => {
      const reopened = alice.opened();
      alice.socket.reconnect();
      await reopened;
      await alice.join('news');
      const before = alice.messages('news').length;
      const receipts = bob.frames.filter((f) => f.type === 'sent').length;
      bob.send({ action: 'sendmessage', channel: 'news', message: 'after reconnect' });
      await eventually(() => bob.frames.filter((f) => f.type === 'sent').length > receipts, 'sent receipt');
      await alice.waitFor((f) => f.type === 'message' && f.message === 'after reconnect', 'delivery after reconnect');
      await alice.barrier();
      expect(
        alice
          .messages('news')
          .slice(before)
          .map((f) => f.message),
      ).to.deep.equal(['after reconnect']);
    });
  });

  describe('route-level behaviour', () => {
    let client: TestClient;
    beforeEach(async () => {
      client = await TestClient.connect(stack.url);
    });
    afterEach(() => client.close());

    it('answers an unknown action with an unknown_action error frame', async () => {
      client.send({ action: 'dance' });
      expect(await client.waitFor((f) => f.type === 'error', 'error frame')).to.deep.include({ code: 'unknown_action' });
    });

    it('answers a frame that is not JSON with a bad_json error frame', async () => {
      client.send('this is not json');
      expect(await client.waitFor((f) => f.type === 'error', 'error frame')).to.deep.include({ code: 'bad_json' });
    });

    it('completes the handshake with the subprotocol $connect chose', async () => {
      const other = await TestClient.connect(stack.url, ['airwave', 'not-a-token']);
      expect(other.socket.protocol).to.equal('airwave');
      other.close();
    });

    it('closes the connection with 1009 on a frame over 32 KB', async () => {
      client.send({ action: 'ping', pad: 'x'.repeat(40 * 1024) });
      expect((await client.closed).code).to.equal(1009);
    });

    it('accepts a 100 KB message sent as frames of at most 32 KB', async () => {
      const text = JSON.stringify({ action: 'sendmessage', channel: 'big', message: 'y'.repeat(100 * 1024) });
      for (let i = 0; i < text.length; i += 30 * 1024)
        client.socket.send(text.slice(i, i + 30 * 1024), { fin: i + 30 * 1024 >= text.length });
      // The message reached sendmessage whole: its own size check answers, the connection stays open.
      expect(await client.waitFor((f) => f.type === 'error', 'error frame')).to.deep.include({ code: 'message_too_large' });
    });

    it('closes the connection with 1009 on a message over 128 KB, even in small frames', async () => {
      const text = 'z'.repeat(150 * 1024);
      for (let i = 0; i < text.length; i += 30 * 1024)
        client.socket.send(text.slice(i, i + 30 * 1024), { fin: i + 30 * 1024 >= text.length });
      expect((await client.closed).code).to.equal(1009);
    });
  });

  describe('$disconnect', () => {
    it('runs when a client drops its TCP connection without a close frame', async () => {
      const client = await TestClient.connect(`${stack.url}?channels=dropped`);
      const id = String((await joinAndGetId(client, 'dropped2')).connectionId);
      expect(await table.connectionRows(id)).to.equal(4); // the connection row and 3 subscriptions
      client.socket.terminate();
      await eventually(async () => (await table.connectionRows(id)) === 0, '$disconnect deleting the rows');
      expect(stack.registry.get(id)).to.equal(undefined);
    });
  });

  describe('a refused $connect', () => {
    it('answers 403 and leaves no row behind', async () => {
      const channels = Array.from({ length: 60 }, (_, i) => `refused${i}`);
      const error = await TestClient.connect(`${stack.url}?channels=${channels.join(',')}`).then(
        () => undefined,
        (e: { status?: number }) => e,
      );
      expect(error?.status).to.equal(403);
      expect(await table.channelRows('refused0')).to.equal(0);
      expect(await table.channelRows('refused59')).to.equal(0);
      expect(stack.registry.real).to.equal(0);
    });

    it('answers 403 for a path other than the stage', async () => {
      const error = await TestClient.connect(`${stack.url.replace(/\/dev$/, '/prod')}`).then(
        () => undefined,
        (e: { status?: number }) => e,
      );
      expect(error?.status).to.equal(403);
    });
  });

  describe('connection cuts', () => {
    let short: TestStack;
    let shortTable: TableReader;
    before(async () => {
      short = await startTestStack({ idleSeconds: 2, maxConnectionSeconds: 5 });
      // Functions loaded first: a cold start on a loaded machine outlasts the 2 s idle cut, which then ends the test's join.
      await short.warm();
      shortTable = new TableReader(short);
    });
    after(async () => {
      shortTable.close();
      await short.stop();
    });

    it('closes an idle connection with 1001 and runs $disconnect', async () => {
      const client = await TestClient.connect(`${short.url}?channels=idle`);
      const id = String((await joinAndGetId(client, 'idle2')).connectionId);
      expect(await shortTable.connectionRows(id)).to.be.greaterThan(0);
      expect((await client.closed).code).to.equal(1001);
      await eventually(async () => (await shortTable.connectionRows(id)) === 0, '$disconnect deleting the rows');
    });

    it('closes a busy connection at the maximum duration with 1001 and runs $disconnect', async () => {
      const client = await TestClient.connect(short.url);
      const id = String((await joinAndGetId(client, 'busy')).connectionId);
      // A ping every 500 ms: never idle for 2 s, so only the maximum duration can end it.
      const pinger = setInterval(() => client.socket.readyState === WS.OPEN && client.send({ action: 'ping' }), 500);
      try {
        expect((await client.closed).code).to.equal(1001);
      } finally {
        clearInterval(pinger);
      }
      expect(client.matching((f) => f.type === 'pong').length).to.be.greaterThan(2);
      await eventually(async () => (await shortTable.connectionRows(id)) === 0, '$disconnect deleting the rows');
    });
  });
});

async function joinAndGetId(client: TestClient, channel: string): Promise<Frame> {
  client.send({ action: 'joinchannel', channel });
  return client.waitFor((f) => f.type === 'joined' && f.channel === channel, 'join ack');
}
