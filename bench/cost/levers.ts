/** The "what if" table: the same model with one input changed at a time. */
import { PRICES, type PriceBook } from '../prices.js';
import { estimate } from './estimate.js';
import { type CostInputs, DEFAULT_INPUTS, TEMPLATE_FIGURES } from './inputs.js';

/** A "what if" row: the same model with some inputs changed. */
export interface Lever {
  name: string;
  /** The CLI flags that produce it. */
  flags: string;
  change: Partial<CostInputs>;
}

const FANOUT_BATCH_MAX = TEMPLATE_FIGURES.bounds.FanoutBatchSize?.max ?? DEFAULT_INPUTS.fanoutBatchSize;
const FANOUT_BATCH_MIN = TEMPLATE_FIGURES.bounds.FanoutBatchSize?.min ?? DEFAULT_INPUTS.fanoutBatchSize;
const n = (x: number) => x.toLocaleString('en-US');

export const LEVERS: Lever[] = [
  { name: 'pack 10 messages per frame (publisher opts in)', flags: '--batch 10', change: { batch: 10 } },
  {
    name: 'clients ping every minute, not only when idle',
    flags: '--heartbeat-minutes 1',
    change: { heartbeat: { mode: 'fixed', minutes: 1 } },
  },
  { name: 'history off', flags: '--no-history', change: { history: false } },
  { name: 'LogLevel=INFO (one application line per invocation)', flags: '--log-level INFO', change: { logLevel: 'INFO' } },
  { name: 'LogLevel=DEBUG', flags: '--log-level DEBUG', change: { logLevel: 'DEBUG' } },
  {
    name: "Lambda's START/END/REPORT lines kept (SystemLogLevel INFO, or no LoggingConfig)",
    flags: '--system-log-level INFO',
    change: { systemLogLevel: 'INFO' },
  },
  { name: 'X-Ray tracing on (EnableTracing=true)', flags: '--tracing', change: { tracing: true } },
  {
    name: `fan-out batches of ${n(FANOUT_BATCH_MIN)} (FanoutBatchSize minimum)`,
    flags: `--fanout-batch-size ${FANOUT_BATCH_MIN}`,
    change: { fanoutBatchSize: FANOUT_BATCH_MIN },
  },
  {
    name: `fan-out batches of ${n(FANOUT_BATCH_MAX)} (FanoutBatchSize maximum)`,
    flags: `--fanout-batch-size ${FANOUT_BATCH_MAX}`,
    change: { fanoutBatchSize: FANOUT_BATCH_MAX },
  },
  {
    name: 'publishers at 1,024 MB instead of one full vCPU',
    flags: '--publisher-memory-mb 1024',
    change: { publisherMemoryMb: 1024 },
  },
  { name: 'one joinchannel frame per session instead of ?channels=', flags: '--joins-per-session 1', change: { joinsPerSession: 1 } },
  { name: 'backend publishes through the Lambda Invoke API', flags: '--publisher server', change: { publisher: 'server' } },
];

export interface LeverRow {
  name: string;
  flags: string;
  total: number;
  /** Against the base workload's floor, so a lever that beats the floor shows below 1. */
  ratio: number;
  delta: number;
}

/**
 * The "what if" table: `levers` applied one at a time to `inputs`.
 * @example leverRows({ connections: 20_000 }).find((r) => r.flags === '--batch 10')?.total
 */
export function leverRows(inputs: Partial<CostInputs> = {}, prices: PriceBook = PRICES, levers: Lever[] = LEVERS): LeverRow[] {
  const base = estimate(inputs, prices);
  return levers.map((lever) => {
    const e = estimate({ ...base.inputs, ...lever.change }, prices);
    return {
      name: lever.name,
      flags: lever.flags,
      total: e.design.total,
      ratio: e.design.total / base.floor.total,
      delta: e.design.total - base.design.total,
    };
  });
}
