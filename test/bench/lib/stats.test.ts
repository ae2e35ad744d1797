import { expect } from 'chai';
import { formatCount, markdownTable, median, parseCounts, percentile, throttleFloorMs } from '../../../bench/lib/stats.js';

const AWS_DEFAULTS = { ratePerSecond: 10_000, burst: 5_000, postLatencyMs: 15 };

describe('bench/lib/stats', () => {
  describe('throttleFloorMs', () => {
    it('is one post latency for a broadcast that fits in the burst', () => {
      expect(throttleFloorMs(1_000, AWS_DEFAULTS)).to.equal(15);
      expect(throttleFloorMs(5_000, AWS_DEFAULTS)).to.equal(15);
    });

    it('is the time to post what exceeds the burst at the steady rate', () => {
      expect(throttleFloorMs(20_000, AWS_DEFAULTS)).to.equal(1_500);
      expect(throttleFloorMs(100_000, AWS_DEFAULTS)).to.equal(9_500);
    });

    it('never drops below one post latency just past the burst', () => {
      expect(throttleFloorMs(5_001, AWS_DEFAULTS)).to.equal(15);
    });
  });

  describe('percentile', () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);

    it('takes the nearest rank', () => {
      expect(percentile(sorted, 50)).to.equal(50);
      expect(percentile(sorted, 99)).to.equal(99);
      expect(percentile(sorted, 100)).to.equal(100);
    });

    it('answers the only value for one sample and NaN for none', () => {
      expect(percentile([7], 99)).to.equal(7);
      expect(percentile([], 50)).to.be.NaN;
    });
  });

  describe('median', () => {
    it('takes the middle value of an odd count, unsorted input', () => {
      expect(median([9, 1, 5])).to.equal(5);
    });

    it('averages the middle two of an even count', () => {
      expect(median([4, 1, 3, 2])).to.equal(2.5);
    });
  });

  describe('parseCounts', () => {
    it('reads plain numbers and thousands with k', () => {
      expect(parseCounts('1000, 20k,100K')).to.deep.equal([1_000, 20_000, 100_000]);
    });

    it('refuses zero, fractions and words', () => {
      expect(() => parseCounts('0')).to.throw(RangeError, 'not a positive count: 0');
      expect(() => parseCounts('1.5')).to.throw(RangeError);
      expect(() => parseCounts('many')).to.throw(RangeError, 'not a positive count: many');
    });
  });

  describe('formatCount', () => {
    it('writes whole thousands with k and anything else as is', () => {
      expect(formatCount(100_000)).to.equal('100k');
      expect(formatCount(1_500)).to.equal('1500');
      expect(formatCount(999)).to.equal('999');
    });
  });

  describe('markdownTable', () => {
    it('renders a header, an alignment rule and the rows', () => {
      expect(markdownTable(['N', 'time'], [[1, '2 s']], 'rl')).to.equal('| N | time |\n| ---: | --- |\n| 1 | 2 s |');
    });
  });
});
