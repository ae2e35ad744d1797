import { expect } from 'chai';
import { connect } from '../../client/src/index.js';
import { API_URL, acceptAndAck, type Harness, harness, message, reconnect } from './harness.js';

describe('client connection', () => {
  let h: Harness;
  afterEach(() => h?.dispose());

  describe('tokens', () => {
    it('offers the token as a subprotocol after "airwave", keeping it out of the URL', () => {
      h = harness({ token: 'eyJ.abc.def' });
      expect(h.last().protocols).to.deep.equal(['airwave', 'eyJ.abc.def']);
      expect(h.last().url).to.equal(API_URL);
    });

    it('puts the token in ?token= with no subprotocol when tokenIn is "query"', () => {
      h = harness({ token: 'eyJ.abc.def', tokenIn: 'query' });
      expect(h.last().protocols).to.equal(undefined);
      expect(new URL(h.last().url).searchParams.get('token')).to.equal('eyJ.abc.def');
    });

    it('offers no subprotocol without a token', () => {
      h = harness();
      expect(h.last().protocols).to.equal(undefined);
    });
  });

  describe('channels at connect time', () => {
    it('joins the initial channels with joinchannel frames, never through ?channels= (which get no ack)', () => {
      h = harness({ channels: ['news', 'sport'] });
      expect(new URL(h.last().url).searchParams.get('channels')).to.equal(null);
      h.last().accept();
      expect(h.last().actions('joinchannel')).to.deep.equal([
        { action: 'joinchannel', channel: 'news' },
        { action: 'joinchannel', channel: 'sport' },
      ]);
    });

    it('re-joins an initial channel with since = its acked seq when the link drops before its first message', () => {
      h = harness({ channels: ['news'] });
      acceptAndAck(h.last(), { news: 5 });
      h.last().drop();
      const next = reconnect(h);
      next.accept();
      expect(next.actions('joinchannel')).to.deep.equal([{ action: 'joinchannel', channel: 'news', since: 5 }]);
      next.push(message('news', 6));
      expect(h.delivered('news')).to.deep.equal([6]);
    });

    it('holds a reordered first message of an initial channel until the one before it arrives', () => {
      h = harness({ channels: ['news'] });
      h.last().accept();
      h.last().push(message('news', 2));
      h.last().push(message('news', 1));
      h.last().push({ type: 'joined', channel: 'news', connectionId: 'c=', seq: 2 });
      expect(h.delivered('news')).to.deep.equal([1, 2]);
    });

    it('re-joins them with joinchannel frames after a reconnect', () => {
      h = harness({ channels: ['news'] });
      h.last().accept();
      h.last().drop();
      reconnect(h);
      expect(new URL(h.last().url).searchParams.get('channels')).to.equal(null);
      h.last().accept();
      expect(h.last().actions('joinchannel')).to.deep.equal([{ action: 'joinchannel', channel: 'news' }]);
    });

    it('refuses an invalid channel name synchronously with a TypeError', () => {
      h = harness();
      expect(() => h.client.join('bad#name')).to.throw(TypeError);
      expect(() => h.client.send('', 1)).to.throw(TypeError);
    });
  });

  describe('states', () => {
    it('reports connecting, open, reconnecting, open and closed, each once', () => {
      h = harness();
      expect(h.client.state).to.equal('connecting');
      h.last().accept();
      h.last().drop();
      reconnect(h);
      h.last().accept();
      h.client.close();
      expect(h.events.state.map((e) => e.state)).to.deep.equal(['open', 'reconnecting', 'open', 'closed']);
      expect(h.events.state[0].previous).to.equal('connecting');
    });

    it('stays "reconnecting" while attempts fail', () => {
      h = harness();
      h.last().drop();
      reconnect(h);
      h.last().drop();
      expect(h.client.state).to.equal('reconnecting');
      expect(h.events.state.map((e) => e.state)).to.deep.equal(['reconnecting']);
    });
  });

  describe('reconnect backoff', () => {
    it('waits floor(random * min(max, base * 2^attempt)) before each attempt', () => {
      const draws = [0.9, 0.1, 0.75, 0.999, 0.5];
      h = harness({ reconnectBaseMs: 500, reconnectMaxMs: 4_000, random: () => draws.shift() as number });
      const expected = [450, 100, 1_500, 3_996, 2_000];
      for (const delay of expected) {
        const before = h.sockets.length;
        h.last().drop();
        if (delay > 0) h.clock.tick(delay - 1);
        expect(h.sockets.length, `not before ${delay} ms`).to.equal(before);
        h.clock.tick(1);
        expect(h.sockets.length, `at ${delay} ms`).to.equal(before + 1);
      }
    });

    it('starts the backoff over once a connection has stayed open for stableAfterMs', () => {
      h = harness({ reconnectBaseMs: 500, stableAfterMs: 10_000, random: () => 0.999 });
      for (let i = 0; i < 3; i++) {
        h.last().drop();
        reconnect(h);
      }
      h.last().accept();
      h.clock.tick(10_000);
      const before = h.sockets.length;
      h.last().drop();
      h.clock.tick(499);
      expect(h.sockets.length).to.equal(before + 1);
    });

    it('keeps backing off when connections drop before they are stable', () => {
      h = harness({ reconnectBaseMs: 500, stableAfterMs: 10_000, random: () => 0.999 });
      for (let i = 0; i < 3; i++) {
        h.last().accept();
        h.clock.tick(9_000);
        h.last().drop();
        reconnect(h);
      }
      const before = h.sockets.length;
      h.last().drop();
      h.clock.tick(3_995);
      expect(h.sockets.length, 'attempt 3 waits up to 4 s').to.equal(before);
      h.clock.tick(1);
      expect(h.sockets.length).to.equal(before + 1);
    });

    it('abandons a socket that never opens and tries again', () => {
      h = harness({ connectTimeoutMs: 5_000 });
      const first = h.last();
      h.clock.tick(5_000);
      expect(first.closedWith).to.equal(1000);
      expect(h.client.state).to.equal('reconnecting');
      reconnect(h);
    });
  });

  describe('close()', () => {
    it('closes the socket and never reconnects afterwards', () => {
      h = harness();
      h.last().accept();
      h.client.close();
      expect(h.last().closedWith).to.equal(1000);
      h.last().drop();
      h.clock.tick(10 * 60 * 60_000);
      expect(h.sockets.length).to.equal(1);
      expect(h.client.state).to.equal('closed');
    });

    it('cancels a pending reconnect', () => {
      h = harness();
      h.last().drop();
      h.client.close();
      h.clock.tick(60_000);
      expect(h.sockets.length).to.equal(1);
    });
  });

  describe('sending', () => {
    it('queues frames sent while offline and flushes them, after the joins, once open', () => {
      h = harness();
      h.client.join('news');
      h.client.send('news', { text: 'hi' });
      expect(h.last().sent).to.deep.equal([]);
      h.last().accept();
      expect(h.last().sent).to.deep.equal([
        { action: 'joinchannel', channel: 'news' },
        { action: 'sendmessage', channel: 'news', message: { text: 'hi' }, ref: '1' },
      ]);
    });

    it('refuses frames past maxQueuedFrames with a queue_full error event', () => {
      h = harness({ maxQueuedFrames: 2 });
      for (let i = 0; i < 3; i++) h.client.send('news', i);
      expect(h.events.error.map((e) => e.code)).to.deep.equal(['queue_full']);
      h.last().accept();
      expect(
        h
          .last()
          .actions('sendmessage')
          .map((f) => f.message),
      ).to.deep.equal([0, 1]);
    });
  });

  describe('errors', () => {
    it('turns error frames into error events with their code and details', () => {
      h = harness();
      h.last().accept();
      h.last().push({ type: 'error', code: 'rate_limited', message: 'publish budget spent, retry later', retryAfter: 12 });
      expect(h.events.error).to.deep.equal([{ code: 'rate_limited', message: 'publish budget spent, retry later', retryAfter: 12 }]);
    });

    it("reports API Gateway's own untyped answers as gateway_error", () => {
      h = harness();
      h.last().accept();
      h.last().push({ message: 'Internal server error', connectionId: 'c=', requestId: 'r' });
      expect(h.events.error.map((e) => [e.code, e.message])).to.deep.equal([['gateway_error', 'Internal server error']]);
    });

    it('reports a frame that is not JSON as bad_frame and keeps the connection', () => {
      h = harness();
      h.last().accept();
      h.last().push('not json');
      expect(h.events.error.map((e) => e.code)).to.deep.equal(['bad_frame']);
      expect(h.client.state).to.equal('open');
    });

    it('turns a throwing listener into a listener_error event and keeps delivering', () => {
      h = harness();
      h.client.join('news');
      const unsubscribe = h.client.on('message', () => {
        throw new Error('boom');
      });
      acceptAndAck(h.last(), { news: 0 });
      h.last().push({ type: 'message', channel: 'news', message: 1, id: 'a', seq: 1 });
      unsubscribe();
      h.last().push({ type: 'message', channel: 'news', message: 2, id: 'b', seq: 2 });
      expect(h.events.error.map((e) => e.code)).to.deep.equal(['listener_error']);
      expect(h.delivered('news')).to.deep.equal([1, 2]);
    });

    it('refuses a malformed URL synchronously', () => {
      h = harness();
      expect(() => connect('not a url', { WebSocket: class {} as never })).to.throw(TypeError);
    });

    it('needs a WebSocket implementation when the platform has none', () => {
      const saved = (globalThis as { WebSocket?: unknown }).WebSocket;
      (globalThis as { WebSocket?: unknown }).WebSocket = undefined;
      try {
        expect(() => connect(API_URL)).to.throw(TypeError, /WebSocket/);
      } finally {
        (globalThis as { WebSocket?: unknown }).WebSocket = saved;
      }
    });
  });
});
