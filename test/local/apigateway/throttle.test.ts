import { expect } from 'chai';
import { TokenBucket } from '../../../local/apigateway/throttle.js';

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
});
