/**
 * The fan-out benchmark's tables (markdown), from its results. Pure.
 */
import type { FanoutResults } from './results.js';
import { formatCount, markdownTable } from './stats.js';

const s = (ms: number | undefined): string =>
  ms === undefined || Number.isNaN(ms) ? '-' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
const x = (ratio: number | undefined): string => (ratio === undefined ? '-' : `${ratio.toFixed(2)}×`);
const yesNo = (check: { exactlyOnce: boolean; missing: number; duplicated: number } | undefined): string =>
  check === undefined ? '-' : check.exactlyOnce ? 'yes' : `no (${check.missing} missing, ${check.duplicated} duplicated)`;

/** Both tables: the PublishFunction path, then the two posters side by side. */
export function printFanoutTables(results: FanoutResults): string {
  const { model, runs } = results;
  const publish = markdownTable(
    [
      'N',
      'floor',
      'last delivery',
      '× floor',
      'exactly once',
      '429s retried',
      'worker batches',
      'publisher',
      'longest worker',
      'read units',
      'per 100 subs',
      'subscriber reads',
      'stack CPU',
      'load',
    ],
    runs.map((r) => [
      formatCount(r.n),
      s(r.floorMs),
      s(r.publish?.lastDeliveryMs),
      x(r.publish?.ratio),
      yesNo(r.publish?.check),
      r.publish?.stack.throttled ?? '-',
      r.publish?.workerBatches ?? '-',
      s(r.publish?.invokeMs),
      s(r.publish?.longestWorkerMs),
      r.readCost.reportedUnits,
      ((r.readCost.reportedUnits / r.n) * 100).toFixed(2),
      s(r.readCost.ms),
      s(r.publish?.profile.cpuMs),
      (r.publishLoad ?? r.load)[0],
    ]),
    'rrrrlrrrrrrrrr',
  );
  const posters = markdownTable(
    [
      'N',
      'ours: last delivery',
      '× floor',
      'CPU µs/msg',
      '429s',
      'exactly once',
      'SDK: last delivery',
      '× floor',
      'CPU µs/msg',
      'exactly once',
      'SDK ÷ ours CPU',
    ],
    runs.map((r) => [
      formatCount(r.n),
      s(r.fast?.lastDeliveryMs),
      x(r.fast?.ratio),
      r.fast?.cpuUsPerDelivery.toFixed(1) ?? '-',
      r.fast?.stack.throttled ?? '-',
      yesNo(r.fast?.check),
      s(r.sdk?.lastDeliveryMs),
      x(r.sdk?.ratio),
      r.sdk?.cpuUsPerDelivery.toFixed(1) ?? '-',
      yesNo(r.sdk?.check),
      r.fast && r.sdk ? `${(r.sdk.cpuUsPerDelivery / r.fast.cpuUsPerDelivery).toFixed(1)}×` : '-',
    ]),
    'rrrrrlrrrlr',
  );
  const header =
    `Emulated AWS: ${model.postLatencyMs} ms per post, throttle ${model.ratePerSecond}/s + ${model.burst} burst; ` +
    `${results.messageBytes} B message (${results.frameBytes} B frame); ${results.machine.cpus} cores, node ${results.machine.node}`;
  return `${header}\n\nPublishFunction (Lambda Invoke API → reads, own batch, FanoutFunction batches):\n\n${publish}\n\nPosters from the benchmark process (same stack, same ids):\n\n${posters}`;
}
