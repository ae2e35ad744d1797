import { expect } from 'chai';
import { acceptAndAck, type Harness, harness, message, reconnect } from './harness.js';

describe('client delivery', () => {
  let h: Harness;
  afterEach(() => h?.dispose());

  /** A client in `news` (and `sport`) that has received news 1..3, then lost its connection. */
  function afterDrop(): Harness {
    h = harness({ holeTimeoutMs: 2_000 });
    h.client.join('news');
    h.client.join('sport');
    acceptAndAck(h.last(), { news: 0 });
    for (const n of [1, 2, 3]) h.last().push(message('news', n));
    h.last().drop();
    return h;
  }

  describe('re-join after reconnect', () => {
    it('re-joins every channel with since = the last seq delivered on it', () => {
      afterDrop();
      const socket = reconnect(h);
      socket.accept();
      expect(socket.actions('joinchannel')).to.deep.equal([
        { action: 'joinchannel', channel: 'news', since: 3 },
        { action: 'joinchannel', channel: 'sport', since: 0 },
      ]);
    });

    it('delivers each message once when the replay overlaps live deliveries', () => {
      afterDrop();
      const socket = reconnect(h);
      socket.accept();
      socket.push(message('news', 5));
      for (const n of [3, 4, 5]) socket.push(message('news', n));
      socket.push({ type: 'joined', channel: 'news', connectionId: 'c=', seq: 5 });
      socket.push(message('news', 5));
      socket.push(message('news', 6));
      expect(h.delivered('news')).to.deep.equal([1, 2, 3, 4, 5, 6]);
      expect(h.events.message.map((e) => e.id)).to.deep.equal(['news-1', 'news-2', 'news-3', 'news-4', 'news-5', 'news-6']);
    });

    it('does not deliver a message that came with a new seq but an id already delivered', () => {
      h = harness();
      h.client.join('news');
      acceptAndAck(h.last(), { news: 0 });
      h.last().push(message('news', 1));
      h.last().push({ ...message('news', 1), seq: 2 });
      expect(h.delivered('news')).to.deep.equal([1]);
    });

    it('ignores messages of channels it is not in, and of a channel after leave()', () => {
      h = harness();
      h.client.join('news');
      acceptAndAck(h.last(), { news: 0 });
      h.last().push(message('default', 1));
      h.last().push(message('news', 1));
      h.client.leave('news');
      h.last().push(message('news', 2));
      expect(h.events.message.map((e) => [e.channel, e.seq])).to.deep.equal([['news', 1]]);
      expect(h.last().actions('leavechannel')).to.deep.equal([{ action: 'leavechannel', channel: 'news' }]);
      expect(h.client.channels).to.deep.equal([]);
    });
  });

  describe('holes', () => {
    it('holds a message ahead of the next seq and delivers in order once the hole fills', () => {
      afterDrop();
      const socket = reconnect(h);
      socket.accept();
      socket.push(message('news', 6));
      socket.push(message('news', 4));
      expect(h.delivered('news')).to.deep.equal([1, 2, 3, 4]);
      socket.push(message('news', 5));
      expect(h.delivered('news')).to.deep.equal([1, 2, 3, 4, 5, 6]);
    });

    it('re-requests a hole that does not fill in time, with joinchannel since', () => {
      h = harness({ holeTimeoutMs: 2_000 });
      h.client.join('news');
      acceptAndAck(h.last(), { news: 0 });
      const socket = h.last();
      socket.push(message('news', 1));
      socket.push(message('news', 3));
      h.clock.tick(1_999);
      expect(socket.actions('joinchannel')).to.have.length(1);
      h.clock.tick(1);
      expect(socket.actions('joinchannel').at(-1)).to.deep.equal({ action: 'joinchannel', channel: 'news', since: 1 });
      socket.push(message('news', 2));
      socket.push(message('news', 3));
      socket.push({ type: 'joined', channel: 'news', connectionId: 'c=', seq: 3 });
      h.clock.tick(60_000);
      expect(socket.actions('joinchannel')).to.have.length(2);
      expect(h.delivered('news')).to.deep.equal([1, 2, 3]);
    });

    it('waits twice as long before the next re-request when the replay did not fill the hole', () => {
      h = harness({ holeTimeoutMs: 2_000 });
      h.client.join('news');
      acceptAndAck(h.last(), { news: 0 });
      const socket = h.last();
      socket.push(message('news', 3));
      h.clock.tick(2_000);
      socket.push({ type: 'joined', channel: 'news', connectionId: 'c=', seq: 3 });
      h.clock.tick(3_999);
      expect(socket.actions('joinchannel')).to.have.length(2);
      h.clock.tick(1);
      expect(socket.actions('joinchannel')).to.have.length(3);
    });

    it('sends no second re-request while the first is unanswered, until its ack is overdue', () => {
      h = harness({ holeTimeoutMs: 2_000, joinAckTimeoutMs: 10_000 });
      h.client.join('news');
      acceptAndAck(h.last(), { news: 0 });
      const socket = h.last();
      socket.push(message('news', 3));
      h.clock.tick(2_000);
      expect(socket.actions('joinchannel')).to.have.length(2);
      h.clock.tick(9_999);
      expect(socket.actions('joinchannel'), 'its replay will fill the hole').to.have.length(2);
      h.clock.tick(1);
      expect(socket.actions('joinchannel')).to.have.length(3);
    });

    it('sends no re-request when the hole fills before the timeout', () => {
      h = harness({ holeTimeoutMs: 2_000 });
      h.client.join('news');
      acceptAndAck(h.last(), { news: 0 });
      h.last().push(message('news', 2));
      h.clock.tick(1_000);
      h.last().push(message('news', 1));
      h.clock.tick(60_000);
      expect(h.last().actions('joinchannel')).to.have.length(1);
    });

    it('re-requests when a join ack announces messages that never arrive', () => {
      afterDrop();
      const socket = reconnect(h);
      socket.accept();
      socket.push({ type: 'joined', channel: 'news', connectionId: 'c=', seq: 7 });
      h.clock.tick(2_000);
      socket.push({ type: 'joined', channel: 'sport', connectionId: 'c=' });
      const news = socket.actions('joinchannel').filter((f) => f.channel === 'news');
      expect(news).to.deep.equal([
        { action: 'joinchannel', channel: 'news', since: 3 },
        { action: 'joinchannel', channel: 'news', since: 3 },
      ]);
    });

    it('asks again for a replay the service refused, after its retryAfter, and fills the hole then', () => {
      afterDrop();
      const socket = reconnect(h);
      socket.accept();
      // The replay budget is spent: the service says so, then acks with the channel's latest seq.
      socket.push({
        type: 'error',
        code: 'rate_limited',
        message: 'replay budget spent',
        channel: 'news',
        budget: 'replay',
        retryAfter: 20,
      });
      socket.push({ type: 'joined', channel: 'news', connectionId: 'c=', seq: 7, replay: 'refused', retryAfter: 20 });
      socket.push({ type: 'joined', channel: 'sport', connectionId: 'c=' });
      const newsJoins = () => socket.actions('joinchannel').filter((f) => f.channel === 'news');
      h.clock.tick(19_000);
      expect(newsJoins(), 'not before retryAfter (it would be refused again)').to.have.length(1);
      h.clock.tick(1_000);
      expect(newsJoins()).to.deep.equal([
        { action: 'joinchannel', channel: 'news', since: 3 },
        { action: 'joinchannel', channel: 'news', since: 3 },
      ]);
      socket.push({ type: 'replay', channel: 'news', messages: [4, 5, 6, 7].map((n) => message('news', n)) });
      socket.push({ type: 'joined', channel: 'news', connectionId: 'c=', seq: 7 });
      expect(h.delivered('news')).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
    });

    it('joins again after an unavailable answer (the service undid the join), after 1-3 times its retryAfter', () => {
      h = harness({ random: () => 0.5 });
      h.client.join('news');
      const socket = h.last();
      socket.accept();
      socket.push({ type: 'error', code: 'unavailable', message: 'retry later', channel: 'news', retryAfter: 1 });
      const joins = () => socket.actions('joinchannel').filter((f) => f.channel === 'news');
      h.clock.tick(1_900);
      expect(joins()).to.have.length(1);
      h.clock.tick(200); // 1 s x (1 + 2 x 0.5)
      expect(joins()).to.have.length(2);
      socket.push({ type: 'joined', channel: 'news', connectionId: 'c=', seq: 4 });
      socket.push(message('news', 5));
      expect(h.delivered('news')).to.deep.equal([5]);
    });

    it('turns a history_gap error into a gap event once its grace ends, and carries on after the gap', () => {
      afterDrop();
      const socket = reconnect(h);
      socket.accept();
      socket.push({ type: 'error', code: 'history_gap', message: 'gone', channel: 'news', since: 3, oldest: 40 });
      for (const n of [40, 41]) socket.push(message('news', n));
      expect(h.events.gap, 'not before the grace (the hole timeout) ends').to.deep.equal([]);
      h.clock.tick(2_000);
      expect(h.events.gap).to.deep.equal([{ channel: 'news', from: 4, to: 39 }]);
      expect(h.events.error).to.deep.equal([]);
      expect(h.delivered('news')).to.deep.equal([1, 2, 3, 40, 41]);
    });

    it('delivers a message of a reported gap that arrives within the grace, instead of losing it', () => {
      afterDrop();
      const socket = reconnect(h);
      socket.accept();
      socket.push({ type: 'error', code: 'history_gap', message: 'gone', channel: 'news', since: 3, oldest: 5 });
      socket.push(message('news', 5));
      h.clock.tick(1_000);
      socket.push(message('news', 4));
      h.clock.tick(60_000);
      expect(h.events.gap).to.deep.equal([]);
      expect(h.delivered('news')).to.deep.equal([1, 2, 3, 4, 5]);
    });
  });

  describe('own messages', () => {
    it('counts its own sent receipt as delivered: no false hole, no re-request', () => {
      h = harness({ holeTimeoutMs: 2_000 });
      h.client.join('news');
      acceptAndAck(h.last(), { news: 0 });
      const socket = h.last();
      socket.push(message('news', 1));
      h.client.send('news', 'mine');
      socket.push({ type: 'sent', channel: 'news', id: 'own-2', seq: 2, ref: '1' });
      socket.push(message('news', 3));
      h.clock.tick(60_000);
      expect(h.delivered('news')).to.deep.equal([1, 3]);
      expect(h.events.sent).to.deep.equal([{ channel: 'news', id: 'own-2', seq: 2, ref: '1' }]);
      expect(socket.actions('joinchannel')).to.have.length(1);
    });

    it('re-joins with since = its own last receipt after a reconnect', () => {
      h = harness();
      h.client.join('news');
      acceptAndAck(h.last(), { news: 4 });
      h.client.send('news', 'mine');
      h.last().push({ type: 'sent', channel: 'news', id: 'own-5', seq: 5 });
      h.last().drop();
      const socket = reconnect(h);
      socket.accept();
      expect(socket.actions('joinchannel')).to.deep.equal([{ action: 'joinchannel', channel: 'news', since: 5 }]);
    });
  });

  describe('first join', () => {
    it('delivers a live message that arrived before the join ack even when the ack seq covers it', () => {
      h = harness();
      h.client.join('news');
      h.last().accept();
      h.last().push(message('news', 8));
      h.last().push({ type: 'joined', channel: 'news', connectionId: 'c=', seq: 8 });
      h.last().push(message('news', 9));
      expect(h.delivered('news')).to.deep.equal([8, 9]);
      expect(h.events.joined).to.deep.equal([{ channel: 'news', seq: 8 }]);
    });

    it('re-sends a join whose ack never comes, after joinAckTimeoutMs', () => {
      h = harness({ holeTimeoutMs: 2_000, joinAckTimeoutMs: 10_000 });
      h.client.join('news');
      h.last().accept();
      h.last().push({ message: 'Internal server error', connectionId: 'c=', requestId: 'r' });
      h.clock.tick(9_999);
      expect(h.last().actions('joinchannel')).to.have.length(1);
      h.clock.tick(1);
      expect(h.last().actions('joinchannel')).to.deep.equal([
        { action: 'joinchannel', channel: 'news' },
        { action: 'joinchannel', channel: 'news' },
      ]);
    });

    it('does not retry a join the service refused', () => {
      h = harness({ holeTimeoutMs: 2_000 });
      h.client.join('secret');
      h.last().accept();
      h.last().push({ type: 'error', code: 'forbidden', message: 'not allowed to join this channel', channel: 'secret' });
      h.clock.tick(60_000);
      expect(h.last().actions('joinchannel')).to.have.length(1);
      expect(h.events.error.map((e) => [e.code, e.channel])).to.deep.equal([['forbidden', 'secret']]);
    });
  });
});
