import { expect } from 'chai';
import sinon from 'sinon';
import { FixedDelay, TokenBucket } from '../../../local/apigateway/throttle.js';

describe('local/throttle', () => {
  describe('TokenBucket', () => {
    it('allows the burst at once, then refuses until tokens refill at the rate', () => {
      let now = 0;
      const bucket = new TokenBucket(10, 3, () => now);
      expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).to.deep.equal([true, true, true, false]);
      now += 100; // 10/s: one token per 100 ms
      expect([bucket.take(), bucket.take()]).to.deep.equal([true, false]);
    });

    it('never holds more than the burst however long it idles', () => {
      let now = 0;
      const bucket = new TokenBucket(100, 2, () => now);
      now += 60_000;
      expect([bucket.take(), bucket.take(), bucket.take()]).to.deep.equal([true, true, false]);
    });

    it('is unlimited with a rate of 0', () => {
      const bucket = new TokenBucket(0);
      expect(Array.from({ length: 1000 }, () => bucket.take()).every(Boolean)).to.equal(true);
    });
  });

  describe('FixedDelay', () => {
    let clock: sinon.SinonFakeTimers;
    beforeEach(() => {
      clock = sinon.useFakeTimers({ toFake: ['setTimeout'] });
    });
    afterEach(() => clock.restore());

    const track = (delay: FixedDelay) => {
      const state = { ended: false };
      void delay.wait().then(() => {
        state.ended = true;
      });
      return state;
    };
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

    it('ends every wait of one loop turn together after ms, with one timer', async () => {
      const delay = new FixedDelay(15);
      const waits = Array.from({ length: 1000 }, () => track(delay));
      expect(clock.countTimers()).to.equal(1);
      await clock.tickAsync(14);
      expect(waits.some((w) => w.ended)).to.equal(false);
      await clock.tickAsync(1);
      expect(waits.every((w) => w.ended)).to.equal(true);
    });

    it('times a wait begun in a later turn from that turn', async () => {
      const delay = new FixedDelay(15);
      const first = track(delay);
      await nextTurn();
      await clock.tickAsync(10);
      const second = track(delay);
      expect(clock.countTimers()).to.equal(2);
      await clock.tickAsync(5);
      expect([first.ended, second.ended]).to.deep.equal([true, false]);
      await clock.tickAsync(9);
      expect(second.ended).to.equal(false);
      await clock.tickAsync(1);
      expect(second.ended).to.equal(true);
    });

    it('does not wait with ms 0', async () => {
      const delay = new FixedDelay(0);
      const wait = track(delay);
      await Promise.resolve();
      expect([wait.ended, clock.countTimers()]).to.deep.equal([true, 0]);
    });
  });
});
