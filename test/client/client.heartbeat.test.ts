import { expect } from 'chai';
import { type Harness, harness, message } from './harness.js';

describe('client heartbeat', () => {
  let h: Harness;
  afterEach(() => h?.dispose());

  it('pings once the connection has been silent for heartbeatIdleMs, not before', () => {
    h = harness({ heartbeatIdleMs: 60_000 });
    h.last().accept();
    h.clock.tick(59_999);
    expect(h.last().actions('ping')).to.have.length(0);
    h.clock.tick(1);
    expect(h.last().sent.at(-1)).to.deep.equal({ action: 'ping' });
  });

  it('pings by default only after 9 silent minutes (API Gateway cuts at 10)', () => {
    h = harness();
    h.last().accept();
    h.clock.tick(9 * 60_000 - 1);
    expect(h.last().actions('ping')).to.have.length(0);
    h.clock.tick(1);
    expect(h.last().actions('ping')).to.have.length(1);
  });

  it('never pings while messages arrive', () => {
    h = harness({ heartbeatIdleMs: 60_000 });
    h.client.join('news');
    h.last().accept();
    h.last().push({ type: 'joined', channel: 'news', connectionId: 'c=' });
    for (let n = 1; n <= 20; n++) {
      h.clock.tick(30_000);
      h.last().push(message('news', n));
    }
    expect(h.last().actions('ping')).to.have.length(0);
  });

  it('never pings while the client itself sends', () => {
    h = harness({ heartbeatIdleMs: 60_000 });
    h.last().accept();
    for (let n = 1; n <= 20; n++) {
      h.clock.tick(50_000);
      h.client.send('news', n);
    }
    expect(h.last().actions('ping')).to.have.length(0);
  });

  it('pings again after each further silent window', () => {
    h = harness({ heartbeatIdleMs: 60_000 });
    h.last().accept();
    h.clock.tick(60_000);
    h.last().push({ type: 'pong' });
    h.clock.tick(59_999);
    expect(h.last().actions('ping')).to.have.length(1);
    h.clock.tick(1);
    expect(h.last().actions('ping')).to.have.length(2);
  });

  it('replaces a connection whose ping gets no answer within pongTimeoutMs', () => {
    h = harness({ heartbeatIdleMs: 60_000, pongTimeoutMs: 10_000 });
    const dead = h.last();
    dead.accept();
    h.clock.tick(60_000 + 9_999);
    expect(dead.closedWith).to.equal(undefined);
    h.clock.tick(1);
    expect(dead.closedWith).to.equal(4000);
    expect(h.client.state).to.equal('reconnecting');
    h.clock.next();
    expect(h.sockets).to.have.length(2);
  });

  it('sends no ping at all when heartbeatIdleMs is 0', () => {
    h = harness({ heartbeatIdleMs: 0 });
    h.last().accept();
    h.clock.tick(60 * 60_000);
    expect(h.last().actions('ping')).to.have.length(0);
  });
});
