import { cpus, totalmem } from 'node:os';
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
      expect(waits).to.deep.equal([15_000, 15_000]); // one poll interval per high reading, no more
      expect(loads).to.deep.equal([]); // it read the load again after each wait
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
    it('describes this machine as the OS reports it, dated now', () => {
      const before = Date.now();
      const info = machineInfo();
      expect(Object.keys(info).sort()).to.deep.equal(['cpuModel', 'cpus', 'date', 'memoryGb', 'node']);
      expect(info.cpus).to.equal(cpus().length);
      expect(info.cpuModel).to.equal(cpus()[0].model.trim());
      expect(info.node).to.equal(process.version);
      // GiB to one decimal: within half a tenth of what the OS says.
      expect(Math.abs(info.memoryGb - totalmem() / 2 ** 30)).to.be.at.most(0.05);
      expect(info.date).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Date.parse(info.date)).to.be.within(before, Date.now());
    });
  });
});
