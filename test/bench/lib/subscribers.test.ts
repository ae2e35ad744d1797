import { expect } from 'chai';
import { dynamoItemBytes, readUnits } from '../../../bench/lib/subscribers.js';

describe('bench/lib/subscribers', () => {
  describe('dynamoItemBytes', () => {
    it('adds attribute names to UTF-8 string values', () => {
      expect(dynamoItemBytes({ pk: 'c#abc', gpk: 'é' })).to.equal(2 + 5 + 3 + 2);
    });

    it('sizes a number by its significant digits, one byte per two, plus one', () => {
      expect(dynamoItemBytes({ ttl: 1_790_000_000 })).to.equal(3 + 2 + 1); // "179": 2 bytes + 1
      expect(dynamoItemBytes({ ttl: 1_790_012_345 })).to.equal(3 + 5 + 1); // 9 significant digits
    });

    it('sizes an index entry of a subscription row at about 50 bytes', () => {
      const entry = { gpk: 'bench#3', pk: 'c#L0SM9cOFvHcCIhw=', sk: 'm#bench', ttl: 1_790_012_345 };
      expect(dynamoItemBytes(entry)).to.equal(10 + 20 + 9 + 9);
    });
  });

  describe('readUnits', () => {
    it('rounds up to 4 KB units, half price when eventually consistent', () => {
      expect(readUnits(1)).to.equal(0.5);
      expect(readUnits(4096)).to.equal(0.5);
      expect(readUnits(4097)).to.equal(1);
      expect(readUnits(4097, true)).to.equal(2);
    });
  });
});
