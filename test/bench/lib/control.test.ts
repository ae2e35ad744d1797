import { expect } from 'chai';
import { checkDeliveries } from '../../../bench/lib/control.js';

describe('bench/lib/control', () => {
  describe('checkDeliveries', () => {
    it('confirms a broadcast that reached every subscriber once', () => {
      const check = checkDeliveries({ a: 1, b: 1, other: 3 }, ['a', 'b']);
      expect(check).to.deep.equal({ expected: 2, once: 2, missing: 0, duplicated: 0, extra: 0, exactlyOnce: true });
    });

    it('counts subscribers never delivered, including ones the stack does not know', () => {
      const check = checkDeliveries({ a: 0 }, ['a', 'b']);
      expect(check.missing).to.equal(2);
      expect(check.exactlyOnce).to.equal(false);
    });

    it('counts duplicated subscribers and their extra deliveries', () => {
      const check = checkDeliveries({ a: 3, b: 2, c: 1 }, ['a', 'b', 'c']);
      expect(check).to.include({ once: 1, duplicated: 2, extra: 3, exactlyOnce: false });
    });
  });
});
