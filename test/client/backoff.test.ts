import { expect } from 'chai';
import { backoffDelay } from '../../client/src/backoff.js';

describe('client backoff', () => {
  describe('backoffDelay', () => {
    it('stays below min(max, base * 2^attempt) for every attempt and random draw', () => {
      for (let attempt = 0; attempt < 12; attempt++) {
        const ceiling = Math.min(30_000, 500 * 2 ** attempt);
        for (const draw of [0, 0.25, 0.5, 0.999_999]) {
          const delay = backoffDelay(attempt, 500, 30_000, () => draw);
          expect(delay, `attempt ${attempt}, draw ${draw}`).to.be.at.least(0).and.below(ceiling);
        }
      }
    });

    it('uses the whole range from zero up to the ceiling (full jitter)', () => {
      expect(backoffDelay(4, 500, 30_000, () => 0)).to.equal(0);
      expect(backoffDelay(4, 500, 30_000, () => 0.5)).to.equal(4_000);
      expect(backoffDelay(4, 500, 30_000, () => 0.999_999)).to.equal(7_999);
    });

    it('is capped at the maximum however many attempts failed', () => {
      expect(backoffDelay(10_000, 500, 30_000, () => 0.999_999)).to.equal(29_999);
    });
  });
});
