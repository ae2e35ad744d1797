import { expect } from 'chai';
import { presenceCost } from '../../bench/presence-cost.js';
import { PRICES } from '../../bench/prices.js';

describe('bench/presence-cost', () => {
  it('a channel of 100 members with 10 changes a minute: 990 event posts, 1,010 messages a minute', () => {
    const c = presenceCost({ members: 100, changesPerMinute: 10 });
    expect(c.postsPerMinute).to.equal(990);
    expect(c.messagesPerMinute).to.equal(1010);
    expect(c.writeUnitsPerMinute).to.equal(60);
    // 100 rows of 100 bytes: 3 strongly consistent units per read, plus 2 point reads per change on average.
    expect(c.readUnitsPerMinute).to.equal(50);
    const messagesUsd = (1010 * PRICES.messagesFirstTier.usd) / PRICES.messagesFirstTier.per;
    expect(c.usdPerMinute).to.be.greaterThan(messagesUsd);
    expect(c.usdPerMonth).to.be.closeTo(c.usdPerMinute * 43_200, 1e-9);
  });

  it('grows with members times churn: a lone member posts nothing', () => {
    expect(presenceCost({ members: 1, changesPerMinute: 10 }).postsPerMinute).to.equal(0);
    const small = presenceCost({ members: 10, changesPerMinute: 60 });
    const large = presenceCost({ members: 100, changesPerMinute: 60 });
    expect(large.postsPerMinute / small.postsPerMinute).to.equal(11);
  });

  it('refuses a channel without members', () => {
    expect(() => presenceCost({ members: 0, changesPerMinute: 1 })).to.throw(RangeError);
  });
});
