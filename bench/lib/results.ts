/**
 * The shape of docs/fanout-results.json, written by bench/fanout.ts and read by the plot.
 */
import type { DirectResult, PublishResult } from './broadcast.js';
import type { MachineInfo } from './machine.js';
import type { ThrottleModel } from './stats.js';
import type { ReadCost } from './subscribers.js';

/** One N of a benchmark run. */
export interface FanoutRun {
  n: number;
  date: string;
  /** Load averages (1, 5, 15 min) when this N started. */
  load: number[];
  floorMs: number;
  setupMs: { register: number; seed: number };
  readCost: ReadCost;
  publish?: PublishResult & { ratio: number };
  /** Load averages when PublishFunction was invoked (the setup of a large N takes minutes). */
  publishLoad?: number[];
  fast?: DirectResult & { ratio: number; concurrency: number; ratePerSecond: number; burst: number };
  sdk?: DirectResult & { ratio: number; concurrency: number };
}

/** The whole results file. */
export interface FanoutResults {
  command: string;
  machine: MachineInfo;
  model: ThrottleModel;
  messageBytes: number;
  frameBytes: number;
  runs: FanoutRun[];
}
