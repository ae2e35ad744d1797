/**
 * The machine a benchmark ran on, and patience with it: this 2-core machine is shared, so a
 * benchmark waits (bounded) for the load average to fall before it measures, and records the
 * load it measured under either way.
 */
import { cpus, loadavg, totalmem } from 'node:os';

/** What a result file says about where it was measured. */
export interface MachineInfo {
  date: string;
  node: string;
  cpus: number;
  cpuModel: string;
  memoryGb: number;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  };
}

/** How often the load average is checked while waiting. */
const LOAD_POLL_MS = 15_000;

/** What {@link createLoadGate} reads and how it waits (tests replace them). */
export interface LoadGateDeps {
  readLoad?: () => number[];
  sleep?: (ms: number) => Promise<void>;
  log?: (line: string) => void;
}

/**
 * A wait budget shared by every phase of one benchmark run: each phase waits until the 1-minute
 * load average is at most `maxLoad`, spending from `budgetMs` in total; once it is spent, phases
 * measure at once (and their results carry the load they saw). Resolves with the load averages
 * (1, 5, 15 min) it measured under.
 */
export function createLoadGate(maxLoad: number, budgetMs: number, deps: LoadGateDeps = {}): () => Promise<number[]> {
  const readLoad = deps.readLoad ?? loadavg;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const log = deps.log ?? (() => undefined);
  let left = budgetMs;
  return async function waitForQuiet(): Promise<number[]> {
    for (;;) {
      const load = readLoad();
      if (load[0] <= maxLoad || left <= 0) return load.map((x) => Math.round(x * 100) / 100);
      log(`load average ${load[0].toFixed(2)} > ${maxLoad}: waiting (${Math.ceil(left / 60_000)} min of patience left)`);
      const wait = Math.min(LOAD_POLL_MS, left);
      await sleep(wait);
      left -= wait;
    }
  };
}
