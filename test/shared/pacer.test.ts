import { expect } from 'chai';
import sinon from 'sinon';
import { createPacer } from '../../shared/pacer.js';

describe('pacer', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers();
  });
  afterEach(() => clock.restore());

  /** Starts `n` paced calls and records the order in which they are let through. */
  function start(pace: () => Promise<void>, n: number): number[] {
    const released: number[] = [];
    for (let i = 0; i < n; i++) void pace().then(() => released.push(i));
    return released;
  }

  describe('createPacer', () => {
    it('lets a full burst through at once, then one call per 1/rate seconds', async () => {
      const released = start(createPacer({ ratePerSecond: 100, burst: 10 }), 30);
      await clock.tickAsync(0);
      expect(released).to.have.length(10);
      await clock.tickAsync(55); // 5.5 tokens due
      expect(released).to.have.length(15);
      await clock.tickAsync(50); // 10.5 due
      expect(released).to.have.length(20);
      await clock.tickAsync(1000);
      expect(released).to.have.length(30);
    });

    it('reshape: waiting calls go on at the new rate, and the bucket shrinks to the new burst', async () => {
      const pace = createPacer({ ratePerSecond: 1000, burst: 100 });
      const released = start(pace, 400);
      await clock.tickAsync(0);
      expect(released).to.have.length(100);
      await clock.tickAsync(100); // 100 more at 1,000/s
      expect(released).to.have.length(200);
      pace.reshape({ ratePerSecond: 100, burst: 5 });
      await clock.tickAsync(1000); // 100 more at 100/s, not 1,000
      expect(released.length).to.be.within(298, 301);
      await clock.tickAsync(1000);
      expect(released).to.have.length(400);
      await clock.tickAsync(10_000); // idle: the bucket refills to the new burst only
      expect(pace.tokens()).to.equal(5);
    });

    it('releases queued calls in the order they were made', async () => {
      const pace = createPacer({ ratePerSecond: 1000, burst: 3 });
      const released = start(pace, 200);
      await clock.tickAsync(300);
      expect(released).to.deep.equal(Array.from({ length: 200 }, (_, i) => i));
    });

    it('does not let a new call overtake queued ones', async () => {
      const pace = createPacer({ ratePerSecond: 10, burst: 1 });
      const released = start(pace, 3);
      await clock.tickAsync(150); // one token due: it belongs to call 1, not to a late caller
      let lateDone = false;
      void pace().then(() => (lateDone = true));
      await clock.tickAsync(0);
      expect(released).to.deep.equal([0, 1]);
      expect(lateDone).to.equal(false);
      await clock.tickAsync(200);
      expect(released).to.deep.equal([0, 1, 2]);
      expect(lateDone).to.equal(true);
    });

    it('never exceeds burst + rate x elapsed, and keeps up with the rate', async () => {
      const rate = 10_000;
      const burst = 500;
      const released = start(createPacer({ ratePerSecond: rate, burst }), 20_000);
      for (let elapsed = 0; elapsed <= 1500; elapsed += 37) {
        await clock.tickAsync(elapsed === 0 ? 0 : 37);
        const allowed = burst + (rate * elapsed) / 1000;
        expect(released.length).to.be.at.most(Math.floor(allowed));
        // Released in groups at most one tick (5 ms) apart: never further behind than one tick's worth.
        expect(released.length).to.be.at.least(Math.min(20_000, Math.floor(allowed - rate * 0.006)));
      }
    });

    it('keeps the full rate when the burst is smaller than what one tick releases', async () => {
      const released = start(createPacer({ ratePerSecond: 1000, burst: 1 }), 2000);
      await clock.tickAsync(1000);
      expect(released.length).to.be.within(995, 1001);
    });

    it('refills to the burst size after an idle period, not beyond', async () => {
      const pace = createPacer({ ratePerSecond: 50, burst: 5 });
      start(pace, 5);
      await clock.tickAsync(60_000);
      const released = start(pace, 20);
      await clock.tickAsync(0);
      expect(released).to.have.length(5);
    });

    it('paces fractional rates (a batch gets a share of the account rate)', async () => {
      const released = start(createPacer({ ratePerSecond: 0.5, burst: 1 }), 3);
      await clock.tickAsync(1999);
      expect(released).to.have.length(1);
      await clock.tickAsync(2);
      expect(released).to.have.length(2);
    });

    it('needs no timer while tokens are available', async () => {
      const pace = createPacer({ ratePerSecond: 100, burst: 50 });
      for (let i = 0; i < 50; i++) await pace();
      expect(clock.countTimers()).to.equal(0);
      void pace();
      expect(clock.countTimers()).to.equal(1);
    });

    it('refuses a rate that is not positive', () => {
      expect(() => createPacer({ ratePerSecond: 0, burst: 1 })).to.throw(RangeError, 'ratePerSecond must be a positive number');
    });
  });
});
