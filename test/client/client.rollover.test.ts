import { expect } from 'chai';
import { acceptAndAck, type Harness, harness, message } from './harness.js';

describe('client roll-over', () => {
  let h: Harness;
  afterEach(() => h?.dispose());

  /** A client in news (got 1, 2) and sport, 60 s before its roll-over. */
  function beforeRollover(): Harness {
    h = harness({ rolloverAfterMs: 120_000, rolloverAckTimeoutMs: 5_000, heartbeatIdleMs: 0 });
    h.client.join('news');
    h.client.join('sport');
    acceptAndAck(h.last(), { news: 0, sport: 0 });
    h.clock.tick(60_000);
    for (const n of [1, 2]) h.last().push(message('news', n));
    return h;
  }

  it('opens the new connection at rolloverAfterMs, and it re-joins every channel with since', () => {
    beforeRollover();
    h.clock.tick(59_999);
    expect(h.sockets).to.have.length(1);
    h.clock.tick(1);
    expect(h.sockets).to.have.length(2);
    const fresh = h.last();
    expect(new URL(fresh.url).searchParams.get('channels')).to.equal(null);
    fresh.accept();
    expect(fresh.actions('joinchannel')).to.deep.equal([
      { action: 'joinchannel', channel: 'news', since: 2 },
      { action: 'joinchannel', channel: 'sport', since: 0 },
    ]);
  });

  it('closes the old connection only after every join on the new one is acknowledged, delivering nothing twice', () => {
    beforeRollover();
    const old = h.sockets[0];
    h.clock.tick(60_000);
    const fresh = h.last();
    fresh.accept();
    old.push(message('news', 3));
    fresh.push(message('news', 3));
    fresh.push(message('news', 4));
    fresh.push({ type: 'joined', channel: 'news', connectionId: 'n=', seq: 4 });
    old.push(message('news', 4));
    expect(old.closedWith, 'sport is not acknowledged yet').to.equal(undefined);
    old.push(message('news', 5));
    fresh.push({ type: 'joined', channel: 'sport', connectionId: 'n=' });
    expect(old.closedWith).to.equal(1000);
    fresh.push(message('news', 5));
    fresh.push(message('news', 6));
    expect(h.delivered('news')).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(
      h.events.state.map((e) => e.state),
      'the switch is invisible',
    ).to.deep.equal(['open']);
  });

  it('sends on the new connection once it has taken over', () => {
    beforeRollover();
    h.clock.tick(60_000);
    acceptAndAck(h.last());
    h.client.send('news', 'after');
    expect(h.last().actions('sendmessage')).to.deep.equal([{ action: 'sendmessage', channel: 'news', message: 'after', ref: '1' }]);
    expect(h.sockets[0].actions('sendmessage')).to.deep.equal([]);
  });

  it('holds sends during the overlap and sends them on the new connection after the switch', () => {
    beforeRollover();
    h.clock.tick(60_000);
    const fresh = h.last();
    fresh.accept();
    h.client.send('news', 'during');
    expect(h.sockets[0].actions('sendmessage'), 'the new link would get a copy').to.deep.equal([]);
    fresh.push({ type: 'joined', channel: 'news', connectionId: 'n=', seq: 2 });
    fresh.push({ type: 'joined', channel: 'sport', connectionId: 'n=' });
    expect(fresh.actions('sendmessage')).to.deep.equal([{ action: 'sendmessage', channel: 'news', message: 'during', ref: '1' }]);
  });

  it('sends the frames held during the overlap on the old connection when the new one fails', () => {
    beforeRollover();
    h.clock.tick(60_000);
    const fresh = h.last();
    fresh.accept();
    h.client.send('news', 'during');
    fresh.drop();
    expect(h.sockets[0].actions('sendmessage')).to.deep.equal([{ action: 'sendmessage', channel: 'news', message: 'during', ref: '1' }]);
  });

  it('joins a channel added during the overlap on the new connection too', () => {
    beforeRollover();
    h.clock.tick(60_000);
    const fresh = h.last();
    fresh.accept();
    h.client.join('weather');
    expect(h.sockets[0].actions('joinchannel').at(-1)).to.deep.equal({ action: 'joinchannel', channel: 'weather' });
    expect(fresh.actions('joinchannel').at(-1)).to.deep.equal({ action: 'joinchannel', channel: 'weather' });
  });

  it('closes the old connection after rolloverAckTimeoutMs when an ack never comes', () => {
    beforeRollover();
    const old = h.sockets[0];
    h.clock.tick(60_000);
    h.last().accept();
    h.clock.tick(4_999);
    expect(old.closedWith).to.equal(undefined);
    h.clock.tick(1);
    expect(old.closedWith).to.equal(1000);
  });

  it('switches to the new connection at once when the old one drops during the roll-over', () => {
    beforeRollover();
    const old = h.sockets[0];
    h.clock.tick(60_000);
    const fresh = h.last();
    fresh.accept();
    old.drop(1001);
    fresh.push(message('news', 3));
    expect(h.sockets).to.have.length(2);
    expect(h.delivered('news')).to.deep.equal([1, 2, 3]);
    expect(h.client.state).to.equal('open');
  });

  it('keeps the old connection and tries again later when the new one fails to open', () => {
    beforeRollover();
    const old = h.sockets[0];
    h.clock.tick(60_000);
    h.last().drop();
    expect(h.sockets).to.have.length(2);
    h.clock.tick(500);
    expect(h.sockets).to.have.length(3);
    acceptAndAck(h.last());
    expect(old.closedWith).to.equal(1000);
    expect(h.client.state).to.equal('open');
  });

  it('rolls the new connection over again after another rolloverAfterMs', () => {
    beforeRollover();
    h.clock.tick(60_000);
    acceptAndAck(h.last());
    h.clock.tick(119_999);
    expect(h.sockets).to.have.length(2);
    h.clock.tick(1);
    expect(h.sockets).to.have.length(3);
  });
});
