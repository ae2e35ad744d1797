import { expect } from 'chai';
import { parseStatTimes, processTimes, rssKb, summarizeSamples, threadDeltas, threadTimes } from '../../../bench/lib/proc.js';

describe('bench/lib/proc', () => {
  describe('parseStatTimes', () => {
    it('reads utime and stime in ms even when the command name holds spaces and parentheses', () => {
      const stat = '4242 (node (worker) x) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 37 0 0 20 0 12 0 100 0 0';
      expect(parseStatTimes(stat)).to.deep.equal({ user: 2_500, system: 370 });
    });
  });

  describe('threadDeltas', () => {
    it('subtracts the earlier sample and counts new threads from zero', () => {
      const before = [{ tid: 1, name: 'node', cpuMs: 100 }];
      const after = [
        { tid: 1, name: 'node', cpuMs: 160 },
        { tid: 2, name: 'node', cpuMs: 30 },
      ];
      expect(threadDeltas(before, after).map((t) => t.cpuMs)).to.deep.equal([60, 30]);
    });
  });

  describe('reading this process', () => {
    it('finds its resident memory, CPU time and main thread', () => {
      expect(rssKb(process.pid)).to.be.greaterThan(1_000);
      expect(processTimes(process.pid)?.user).to.be.a('number');
      expect(threadTimes(process.pid).map((t) => t.tid)).to.include(process.pid);
    });

    it('answers undefined for a process that does not exist', () => {
      expect(rssKb(2 ** 22 + 1)).to.equal(undefined);
      expect(processTimes(2 ** 22 + 1)).to.equal(undefined);
    });
  });
});

describe('bench/lib/proc summarizeSamples', () => {
  const sample = (at: number, a: number, b: number) => ({
    at,
    threads: [
      { tid: 1, name: 'node', cpuMs: a },
      { tid: 2, name: 'node', cpuMs: b },
    ],
  });

  it('adds up each thread and orders the busiest first', () => {
    const activity = summarizeSamples([sample(0, 0, 0), sample(100, 10, 90), sample(200, 20, 180)]);
    expect(activity.map((t) => [t.tid, t.cpuMs])).to.deep.equal([
      [2, 180],
      [1, 20],
    ]);
  });

  it('marks the span in which a thread used at least the given share of a core', () => {
    const activity = summarizeSamples([sample(0, 0, 0), sample(100, 50, 0), sample(200, 100, 0), sample(300, 105, 80)], 0.2);
    expect(activity.find((t) => t.tid === 1)).to.deep.include({ busyFromMs: 0, busyToMs: 200 });
    expect(activity.find((t) => t.tid === 2)).to.deep.include({ busyFromMs: 200, busyToMs: 300 });
  });

  it('leaves the span of an idle thread undefined', () => {
    const idle = summarizeSamples([sample(0, 0, 0), sample(100, 1, 0)]).find((t) => t.tid === 2);
    expect(idle?.busyFromMs).to.equal(undefined);
  });
});
