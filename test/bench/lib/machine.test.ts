import { expect } from 'chai';
import { createLoadGate, machineInfo } from '../../../bench/lib/machine.js';

describe('bench/lib/machine', () => {
  describe('createLoadGate', () => {
    it('lets a phase measure at once on a quiet machine', async () => {
      const waits: number[] = [];
      const gate = createLoadGate(2, 60_000, { readLoad: () => [1.234, 1, 1], sleep: async (ms) => void waits.push(ms) });
      expect(await gate()).to.deep.equal([1.23, 1, 1]);
      expect(waits).to.deep.equal([]);
    });

    it('waits while the load is high, until it falls', async () => {
      const loads = [5, 3, 1.5];
      const waits: number[] = [];
      const gate = createLoadGate(2, 600_000, { readLoad: () => [loads.shift() ?? 1, 0, 0], sleep: async (ms) => void waits.push(ms) });
      expect((await gate())[0]).to.equal(1.5);
      expect(waits).to.have.length(2);
    });

    it('stops waiting once the budget shared by all phases is spent, and reports the load it measured under', async () => {
      const waits: number[] = [];
      const gate = createLoadGate(2, 20_000, { readLoad: () => [9, 8, 7], sleep: async (ms) => void waits.push(ms) });
      expect(await gate()).to.deep.equal([9, 8, 7]);
      expect(waits.reduce((a, b) => a + b, 0)).to.equal(20_000);
      await gate();
      expect(waits.reduce((a, b) => a + b, 0)).to.equal(20_000); // no patience left for the next phase
    });
  });

  describe('machineInfo', () => {
    it('describes this machine', () => {
      const info = machineInfo();
      expect(info.cpus).to.be.greaterThan(0);
      expect(info.node).to.equal(process.version);
      expect(Date.parse(info.date)).to.not.be.NaN;
    });
  });
});
