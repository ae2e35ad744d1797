/**
 * docs/fanout.svg from docs/fanout-results.json: time to the last delivery against N for the
 * SDK path, ours (PublishFunction, and our poster driven from the benchmark), and the throttle floor.
 */
import { writeFileSync } from 'node:fs';
import type { FanoutResults } from './results.js';
import { formatCount, throttleFloorMs } from './stats.js';
import { type ChartSeries, renderLineChart } from './svg-chart.js';

/** Where the plot goes, relative to the repository root. */
export const FANOUT_SVG = 'docs/fanout.svg';
/** Points on the floor curve (it bends where the burst runs out). */
const FLOOR_SAMPLES = 48;

const seconds = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 10_000 ? 0 : 1)} s` : `${Math.round(ms)} ms`);
const axisTime = (ms: number): string => (ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`);

/** The chart's series from the results (a path with no runs is left out). */
export function fanoutSeries(results: FanoutResults): ChartSeries[] {
  const runs = [...results.runs].sort((a, b) => a.n - b.n);
  const series: ChartSeries[] = [];
  const add = (name: string, color: string, pick: (r: (typeof runs)[number]) => number | undefined, dash?: string) => {
    const points = runs.flatMap((r) => {
      const y = pick(r);
      return y === undefined ? [] : [{ x: r.n, y, label: seconds(y) }];
    });
    if (points.length > 0) series.push({ name, color, points, dash });
  };
  add('SDK path (PostToConnectionCommand, 50 sockets)', '#d62728', (r) => r.sdk?.lastDeliveryMs);
  add('ours: PublishFunction + FanoutFunction', '#1f77b4', (r) => r.publish?.lastDeliveryMs);
  add('ours: fast poster from the benchmark, paced', '#2ca02c', (r) => r.fast?.lastDeliveryMs, '6 4');
  if (runs.length > 0) {
    const lo = Math.log10(runs[0].n);
    const hi = Math.log10(runs[runs.length - 1].n);
    const points = Array.from({ length: FLOOR_SAMPLES + 1 }, (_, i) => {
      const n = 10 ** (lo + ((hi - lo) * i) / FLOOR_SAMPLES);
      return { x: n, y: throttleFloorMs(n, results.model) };
    });
    series.push({ name: 'throttle floor', color: '#555555', points, dash: '2 3', markers: false });
  }
  return series;
}

/** The SVG text. */
export function renderFanoutSvg(results: FanoutResults): string {
  const m = results.model;
  return renderLineChart({
    title: `Time to the last delivery (${m.ratePerSecond}/s + ${m.burst} burst, ${m.postLatencyMs} ms per post)`,
    xLabel: `subscribers (log scale) - ${results.frameBytes} B frame, local stack, ${results.machine.cpus} cores, ${results.machine.date.slice(0, 10)}`,
    yLabel: 'time to the last delivery (log scale)',
    series: fanoutSeries(results),
    formatX: formatCount,
    formatY: axisTime,
  });
}

/** Writes the plot to `file`; returns it. */
export function writeFanoutPlot(results: FanoutResults, file: string): string {
  writeFileSync(file, renderFanoutSvg(results));
  return file;
}
