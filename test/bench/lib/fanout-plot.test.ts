import { expect } from 'chai';
import { fanoutSeries, renderFanoutSvg } from '../../../bench/lib/fanout-plot.js';
import type { FanoutResults, FanoutRun } from '../../../bench/lib/results.js';

const run = (n: number, publishMs: number, sdkMs?: number): FanoutRun =>
  ({
    n,
    floorMs: 0,
    publish: { lastDeliveryMs: publishMs },
    sdk: sdkMs === undefined ? undefined : { lastDeliveryMs: sdkMs },
  }) as unknown as FanoutRun;

const results = (runs: FanoutRun[]): FanoutResults => ({
  command: 'npm run bench',
  machine: { date: '2026-11-28T19:00:00.000Z', node: 'v22', cpus: 2, cpuModel: 'x', memoryGb: 4 },
  model: { ratePerSecond: 10_000, burst: 5_000, postLatencyMs: 15 },
  messageBytes: 2048,
  frameBytes: 2127,
  runs,
});

describe('bench/lib/fanout-plot', () => {
  describe('fanoutSeries', () => {
    it('draws each measured path by N and the floor as a curve without markers', () => {
      const series = fanoutSeries(results([run(100_000, 10_400, 80_000), run(1_000, 60, 900)]));
      expect(series.map((s) => s.name)).to.deep.equal([
        'SDK path (PostToConnectionCommand, 50 sockets)',
        'ours: PublishFunction + FanoutFunction',
        'throttle floor',
      ]);
      expect(series[1].points.map((p) => [p.x, p.y, p.label])).to.deep.equal([
        [1_000, 60, '60 ms'],
        [100_000, 10_400, '10 s'],
      ]);
      const floor = series[2];
      expect(floor.markers).to.equal(false);
      expect(floor.points[0].y).to.equal(15);
      expect(floor.points[floor.points.length - 1]).to.deep.include({ y: 9_500 });
    });

    it('leaves out a path with no runs (the SDK path skipped above some N)', () => {
      const names = fanoutSeries(results([run(100_000, 10_400)])).map((s) => s.name);
      expect(names).to.not.include('SDK path (PostToConnectionCommand, 50 sockets)');
    });
  });

  describe('renderFanoutSvg', () => {
    it('titles the chart with the emulated throttle', () => {
      expect(renderFanoutSvg(results([run(1_000, 60), run(20_000, 1_700)]))).to.include('10000/s + 5000 burst, 15 ms per post');
    });
  });
});
