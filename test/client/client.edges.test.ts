/**
 * Issue 12's table, one describe per row: each edge where the client used to fail silently.
 * Every test here failed against the client before the fix.
 */
import { expect } from 'chai';
import { DEAD_LINK_CLOSE_CODE } from '../../client/src/heartbeat.js';
import type { ClientError, Receipt } from '../../client/src/types.js';
import { acceptAndAck, type Harness, harness, message, reconnect } from './harness.js';

/** Settles within the current tick (microtasks), for promise assertions under fake timers. */
const outcome = async <V>(promise: Promise<V>): Promise<{ value?: V; error?: ClientError }> => {
  let result: { value?: V; error?: ClientError } = {};
  promise.then(
    (value) => {
      result = { value };
    },
    (error: ClientError) => {
      result = { error };
    },
  );
  await Promise.resolve();
  await Promise.resolve();
  return result;
};

describe('client edges (issue 12)', () => {
  let h: Harness;
  afterEach(() => h?.dispose());

  describe('expired token', () => {
    it('calls a token function before every connect, and connects with what it returned', async () => {
      let n = 0;
      h = harness({ token: () => `token-${++n}` });
      expect(h.last().protocols).to.deep.equal(['airwave', 'token-1']);
      h.last().accept();
      h.last().drop();
      reconnect(h);
      expect(h.last().protocols).to.deep.equal(['airwave', 'token-2']);
    });

    it('awaits an async token function', async () => {
      h = harness({ token: async () => 'later' });
      expect(h.sockets).to.have.length(0);
      await Promise.resolve();
      await Promise.resolve();
      expect(h.last().protocols).to.deep.equal(['airwave', 'later']);
    });

    it('reports a token function that throws as token_failed and retries with backoff', async () => {
      let calls = 0;
      h = harness({
        token: () => {
          calls++;
          if (calls === 2) throw new Error('no session');
          return `ok-${calls}`;
        },
      });
      h.last().accept();
      h.last().drop();
      h.clock.next();
      expect(h.events.error.map((e) => e.code)).to.deep.equal(['token_failed']);
      h.clock.next();
      expect(h.sockets).to.have.length(2);
      expect(h.last().protocols).to.deep.equal(['airwave', 'ok-3']);
    });

    it('stops at the first 401 with a fixed token: one error event naming the status, no retry storm', () => {
      h = harness({ token: 'expired' });
      h.last().refuse(401);
      h.clock.tick(60_000);
      expect(h.sockets).to.have.length(1);
      expect(h.events.error).to.have.length(1);
      expect(h.events.error[0]).to.include({ code: 'connect_failed', status: 401 });
      expect(h.client.state).to.equal('closed');
    });

    it('with a token function, retries 401s with a fresh token, and stops after maxAuthFailures in a row', () => {
      h = harness({ token: () => 'still-expired', maxAuthFailures: 3 });
      for (let i = 0; i < 3; i++) {
        h.last().refuse(401);
        if (i < 2) reconnect(h);
      }
      h.clock.tick(600_000);
      expect(h.sockets).to.have.length(3);
      expect(h.events.error.map((e) => e.status)).to.deep.equal([401, 401, 401]);
      expect(h.client.state).to.equal('closed');
    });

    it('a refused roll-over does not stop a client whose current link still works', () => {
      h = harness({ token: 'expires-soon', rolloverAfterMs: 60_000 });
      acceptAndAck(h.last());
      h.clock.tick(60_000);
      expect(h.sockets).to.have.length(2);
      h.last().refuse(401);
      expect(h.events.error[0]).to.include({ code: 'connect_failed', status: 401 });
      expect(h.client.state).to.equal('open');
    });
  });

  describe('refused connection', () => {
    it('reports a connect that fails before opening as connect_failed, every time', () => {
      h = harness();
      h.last().drop();
      reconnect(h).drop();
      expect(h.events.error.map((e) => e.code)).to.deep.equal(['connect_failed', 'connect_failed']);
      expect(h.client.state).to.equal('reconnecting');
    });

    it('never puts channels in the URL: 50 channels cannot fail the whole connect', () => {
      const channels = Array.from({ length: 50 }, (_, i) => `c${i}`);
      h = harness({ channels });
      expect(new URL(h.last().url).search).to.equal('');
      h.last().accept();
      expect(h.last().actions('joinchannel')).to.have.length(50);
    });
  });

  describe('half-open link', () => {
    it('notices a dead link within probeAfterMs + pongTimeoutMs while the app sends every second', () => {
      h = harness({ heartbeatIdleMs: 9 * 60_000, probeAfterMs: 5_000, pongTimeoutMs: 30_000 });
      acceptAndAck(h.last());
      const dead = h.last();
      for (let i = 0; i < 34; i++) {
        h.client.send('news', i);
        h.clock.tick(1_000);
      }
      expect(dead.actions('ping'), 'a probe after 5 s of no answer').to.have.length(1);
      expect(dead.closedWith).to.equal(undefined);
      h.clock.tick(1_000);
      expect(dead.closedWith).to.equal(DEAD_LINK_CLOSE_CODE);
      expect(h.client.state).to.equal('reconnecting');
      // Not one send vanished silently: each is rejected (30 s without a receipt, or its link lost).
      expect(h.events.error.filter((e) => e.code === 'unconfirmed')).to.have.length(34);
    });

    it('keeps a link whose sends are slow to be answered as long as its pings are', () => {
      h = harness({ probeAfterMs: 5_000, pongTimeoutMs: 30_000 });
      acceptAndAck(h.last());
      h.client.send('news', 1);
      for (let i = 0; i < 10; i++) {
        h.clock.tick(5_000);
        if (h.last().actions('ping').length > i) h.last().push({ type: 'pong' });
      }
      expect(h.last().closedWith).to.equal(undefined);
    });

    it('does not close a link whose sends are answered', () => {
      h = harness({ pongTimeoutMs: 30_000 });
      acceptAndAck(h.last());
      for (let i = 1; i <= 60; i++) {
        h.client.send('news', i);
        h.clock.tick(500);
        h.last().push({ type: 'sent', channel: 'news', id: `m${i}`, seq: i, ref: i.toString(36) });
        h.clock.tick(500);
      }
      expect(h.last().closedWith).to.equal(undefined);
      expect(h.client.state).to.equal('open');
    });
  });

  describe('leave then join', () => {
    it('sends the join only once the leave is acknowledged, so the service cannot run them out of order', () => {
      h = harness();
      h.client.join('news');
      acceptAndAck(h.last(), { news: 3 });
      h.client.leave('news');
      h.client.join('news');
      const socket = h.last();
      expect(socket.sent.slice(1).map((f) => f.action)).to.deep.equal(['leavechannel']);
      expect(h.client.channels).to.deep.equal(['news']);
      socket.push({ type: 'left', channel: 'news' });
      expect(socket.sent.slice(1).map((f) => f.action)).to.deep.equal(['leavechannel', 'joinchannel']);
    });

    it('sends the leave only once a join still on its way is acknowledged', () => {
      h = harness();
      h.last().accept();
      h.client.join('news');
      h.client.leave('news');
      const socket = h.last();
      expect(socket.sent.map((f) => f.action)).to.deep.equal(['joinchannel']);
      socket.push({ type: 'joined', channel: 'news', connectionId: 'c=', seq: 1 });
      expect(socket.sent.map((f) => f.action)).to.deep.equal(['joinchannel', 'leavechannel']);
      expect(h.client.channels).to.deep.equal([]);
      expect(h.events.joined).to.deep.equal([]);
    });

    it('does not queue a leave while offline (a new connection is in no channel)', () => {
      h = harness();
      h.client.join('news');
      h.client.leave('news');
      h.client.join('news');
      h.last().accept();
      expect(h.last().sent.map((f) => f.action)).to.deep.equal(['joinchannel']);
    });
  });

  describe('refused join', () => {
    it('a too_many_channels refusal (which names no channel) removes the last join sent, with an event naming it', async () => {
      h = harness({ joinAckTimeoutMs: 10_000 });
      acceptAndAck(h.last());
      h.client.join('a');
      const joined = h.client.join('b');
      h.last().push({ type: 'error', code: 'too_many_channels', message: 'a connection may be in at most 2 channels', limit: 2 });
      h.last().push({ type: 'joined', channel: 'a', connectionId: 'c=' });
      expect(h.client.channels).to.deep.equal(['a']);
      expect(h.events.error).to.have.length(1);
      expect(h.events.error[0]).to.include({ code: 'too_many_channels', channel: 'b' });
      expect((await outcome(joined)).error).to.include({ code: 'too_many_channels', channel: 'b' });
      h.clock.tick(120_000);
      expect(
        h
          .last()
          .actions('joinchannel')
          .filter((f) => f.channel === 'b'),
      ).to.have.length(1);
    });

    it('a forbidden join leaves channels and is not sent again after a reconnect', () => {
      h = harness({ channels: ['private:x'] });
      h.last().accept();
      h.last().push({ type: 'error', code: 'forbidden', message: 'not allowed to join this channel', channel: 'private:x' });
      expect(h.client.channels).to.deep.equal([]);
      h.last().drop();
      reconnect(h).accept();
      expect(h.last().actions('joinchannel')).to.deep.equal([]);
    });
  });

  describe('sends', () => {
    it('resolves each send with its own receipt, matched by ref whatever the order', async () => {
      h = harness();
      acceptAndAck(h.last());
      const first = h.client.send('news', 'one');
      const second = h.client.send('news', 'two');
      const [a, b] = h.last().actions('sendmessage');
      h.last().push({ type: 'sent', channel: 'news', id: 'id-2', seq: 2, ref: b.ref });
      h.last().push({ type: 'sent', channel: 'news', id: 'id-1', seq: 1, ref: a.ref });
      expect((await outcome(first)).value).to.deep.include({ id: 'id-1', seq: 1 });
      expect((await outcome(second)).value).to.deep.include({ id: 'id-2', seq: 2 });
    });

    it('rejects the send a refusal names, with its code, and only that one', async () => {
      h = harness();
      acceptAndAck(h.last());
      const ok = h.client.send('news', 'fine');
      const refused = h.client.send('news', 'spam');
      const [a, b] = h.last().actions('sendmessage');
      h.last().push({ type: 'error', code: 'rate_limited', message: 'too many messages', retryAfter: 12, ref: b.ref });
      h.last().push({ type: 'sent', channel: 'news', id: 'id-1', seq: 1, ref: a.ref });
      expect((await outcome(refused)).error).to.include({ code: 'rate_limited', retryAfter: 12, ref: b.ref });
      expect((await outcome(ok)).value).to.include({ id: 'id-1' });
      expect(h.events.error.map((e) => e.ref)).to.deep.equal([b.ref]);
    });

    it('rejects a send refused by a full offline queue with queue_full', async () => {
      h = harness({ maxQueuedFrames: 1 });
      h.client.send('news', 1);
      expect((await outcome(h.client.send('news', 2))).error).to.include({ code: 'queue_full' });
    });

    it('an ignored rejected send does not become an unhandled rejection', async () => {
      let unhandled = 0;
      const count = () => unhandled++;
      process.on('unhandledRejection', count);
      h = harness({ maxQueuedFrames: 0 });
      h.client.send('news', 1);
      await new Promise((resolve) => setImmediate(resolve));
      process.off('unhandledRejection', count);
      expect(unhandled).to.equal(0);
    });
  });

  describe('own messages', () => {
    it('a send queued offline never comes back as a message, even when the replay brings it before the receipt', async () => {
      h = harness();
      h.client.join('news');
      acceptAndAck(h.last(), { news: 0 });
      h.last().push(message('news', 1));
      h.last().drop();
      const sent = h.client.send('news', 'offline');
      const socket = reconnect(h);
      socket.accept();
      const ref = socket.actions('sendmessage')[0].ref as string;
      // The join's replay ran after the publish: it carries the client's own message.
      socket.push({ type: 'replay', channel: 'news', messages: [message('news', 2), message('news', 3)] });
      socket.push({ type: 'joined', channel: 'news', connectionId: 'c=', seq: 3 });
      expect(h.delivered('news')).to.deep.equal([1]);
      socket.push({ type: 'sent', channel: 'news', id: 'news-2', seq: 2, ref });
      expect(h.delivered('news')).to.deep.equal([1, 3]);
      expect(((await outcome(sent)).value as Receipt).seq).to.equal(2);
    });
  });

  describe('bad payloads', () => {
    it('refuses a BigInt or a cycle at send() with a TypeError, and queues nothing', () => {
      h = harness();
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      expect(() => h.client.send('news', 1n)).to.throw(TypeError);
      expect(() => h.client.send('news', cycle)).to.throw(TypeError);
      expect(() => h.client.send('news', undefined)).to.throw(TypeError);
      h.last().accept();
      expect(h.last().actions('sendmessage')).to.deep.equal([]);
    });
  });

  describe('close() while connecting', () => {
    it('leaves no timer behind', () => {
      h = harness({ token: 't' });
      h.client.close();
      expect(h.clock.countTimers()).to.equal(0);
    });

    it('leaves no timer behind with sends in flight', async () => {
      h = harness();
      acceptAndAck(h.last());
      const sent = h.client.send('news', 1);
      h.client.close();
      expect(h.clock.countTimers()).to.equal(0);
      expect((await outcome(sent)).error).to.include({ code: 'closed' });
      expect(h.events.error, 'the app asked for the close: no error event').to.deep.equal([]);
    });
  });
});

describe('client ergonomics (issue 12)', () => {
  let h: Harness;
  afterEach(() => h?.dispose());

  it('join() resolves with the ack, and at once for a channel already acknowledged', async () => {
    h = harness();
    const joined = h.client.join('news');
    acceptAndAck(h.last(), { news: 7 });
    expect((await outcome(joined)).value).to.deep.equal({ channel: 'news', seq: 7 });
    expect((await outcome(h.client.join('news'))).value).to.deep.equal({ channel: 'news', seq: 7 });
  });

  it('a channel handle delivers its channel only, sends to it, and leaves', async () => {
    h = harness();
    const seen: unknown[] = [];
    const news = h.client.channel('news', (event) => seen.push(event.message));
    h.client.join('sport');
    acceptAndAck(h.last(), { news: 0, sport: 0 });
    h.last().push(message('news', 1));
    h.last().push(message('sport', 1));
    expect(seen).to.deep.equal([{ n: 1 }]);
    expect((await outcome(news.joined)).value).to.deep.equal({ channel: 'news', seq: 0 });
    news.send('hi');
    expect(h.last().actions('sendmessage')[0]).to.include({ channel: 'news', message: 'hi' });
    news.leave();
    expect(h.client.channels).to.deep.equal(['sport']);
  });

  it('reconnect() replaces an open connection at once and re-joins with since', () => {
    h = harness();
    h.client.join('news');
    acceptAndAck(h.last(), { news: 4 });
    const old = h.last();
    h.client.reconnect();
    expect(old.closedWith).to.equal(1000);
    expect(h.sockets).to.have.length(2);
    h.last().accept();
    expect(h.last().actions('joinchannel')).to.deep.equal([{ action: 'joinchannel', channel: 'news', since: 4 }]);
  });

  it('understands replay frames: each message delivered once, in order, with live ones', () => {
    h = harness();
    h.client.join('news');
    acceptAndAck(h.last(), { news: 0 });
    h.last().push(message('news', 1));
    h.last().drop();
    const socket = reconnect(h);
    socket.accept();
    socket.push(message('news', 4));
    socket.push({ type: 'replay', channel: 'news', messages: [message('news', 2), message('news', 3), message('news', 4)] });
    socket.push({ type: 'joined', channel: 'news', connectionId: 'c=', seq: 4 });
    expect(h.delivered('news')).to.deep.equal([1, 2, 3, 4]);
  });

  it('asks again after replay_incomplete, from where it is, without an error event', () => {
    h = harness();
    h.client.join('news');
    acceptAndAck(h.last(), { news: 0 });
    h.last().drop();
    const socket = reconnect(h);
    socket.accept();
    socket.push({ type: 'replay', channel: 'news', messages: [message('news', 1), message('news', 2)] });
    socket.push({ type: 'error', code: 'replay_incomplete', channel: 'news', seq: 2 });
    expect(socket.actions('joinchannel').at(-1)).to.deep.equal({ action: 'joinchannel', channel: 'news', since: 2 });
    expect(h.events.error).to.deep.equal([]);
  });

  it('in a browser, reconnects at once when the network comes back, and stops listening on close()', () => {
    const listeners = new Map<string, () => void>();
    const g = globalThis as unknown as Record<string, unknown>;
    const document = {
      visibilityState: 'visible',
      addEventListener: (type: string, fn: () => void) => listeners.set(type, fn),
      removeEventListener: (type: string) => listeners.delete(type),
    };
    g.document = document;
    g.addEventListener = (type: string, fn: () => void) => listeners.set(type, fn);
    g.removeEventListener = (type: string) => listeners.delete(type);
    try {
      h = harness({ reconnectBaseMs: 60_000 });
      h.last().accept();
      h.last().drop();
      expect(h.sockets).to.have.length(1);
      listeners.get('online')?.();
      expect(h.sockets).to.have.length(2);
      h.last().accept();
      listeners.get('offline')?.();
      expect(h.last().actions('ping'), 'an open link is checked when the network changes').to.have.length(1);
      h.client.close();
      expect([...listeners.keys()]).to.deep.equal([]);
    } finally {
      delete g.document;
      delete g.addEventListener;
      delete g.removeEventListener;
    }
  });
});
