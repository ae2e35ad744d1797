/**
 * What the benchmarks read about other processes on this (Linux) machine: resident memory (as
 * `ps` reports it) and CPU time per process and per thread from /proc. Per-thread CPU is how
 * the fan-out benchmark tells where the local stack's time went: its main thread (the
 * WebSocket and @connections APIs), dynalite's worker, each function's worker.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/** Linux reports /proc CPU times in clock ticks; 100 per second on every mainstream kernel config. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Resident set size in KB (`ps -o rss= -p <pid>`), or undefined if the process is gone. */
export function rssKb(pid: number): number | undefined {
  try {
    const out = execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    return out === '' ? undefined : Number(out);
  } catch {
    return undefined; // ps exits 1 when the pid does not exist
  }
}

/**
 * `utime` and `stime` (ms) from the text of a /proc `stat` file. The command name (field 2) is
 * in parentheses and may itself hold spaces or parentheses, so fields are counted after the last `)`.
 */
export function parseStatTimes(stat: string): { user: number; system: number } {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state is field 3, so utime (14) and stime (15) sit at offsets 11 and 12.
  const toMs = (ticks: string) => (Number(ticks) * 1000) / CLOCK_TICKS_PER_SECOND;
  return { user: toMs(fields[11]), system: toMs(fields[12]) };
}

/** CPU ms a whole process has used (all its threads), or undefined if it is gone. */
export function processTimes(pid: number): { user: number; system: number } | undefined {
  try {
    return parseStatTimes(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** One thread of a process: id, name (`comm`) and CPU ms so far. */
export interface ThreadTimes {
  tid: number;
  name: string;
  cpuMs: number;
}

/** Every thread of `pid` with its CPU time (empty if the process is gone). */
export function threadTimes(pid: number): ThreadTimes[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const threads: ThreadTimes[] = [];
  for (const tid of tids) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const { user, system } = parseStatTimes(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
      threads.push({ tid: Number(tid), name, cpuMs: user + system });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return threads.sort((a, b) => a.tid - b.tid);
}

/** CPU ms each thread used between two samples (threads new in `after` count from zero). */
export function threadDeltas(before: ThreadTimes[], after: ThreadTimes[]): ThreadTimes[] {
  const start = new Map(before.map((t) => [t.tid, t.cpuMs]));
  return after.map((t) => ({ ...t, cpuMs: t.cpuMs - (start.get(t.tid) ?? 0) }));
}

/** The 1-minute load average (the machine is shared: results say under what load they were taken). */
export const load1 = (): number => loadavg()[0];

/** Threads sampled at one moment (`at`: ms since sampling started). */
export interface ThreadSample {
  at: number;
  threads: ThreadTimes[];
}

/** One thread over a sampled interval: its CPU, and when it was busy (ms since the start). */
export interface ThreadActivity {
  tid: number;
  cpuMs: number;
  /** First and last sampling interval in which it used at least `minShare` of a core (undefined if never). */
  busyFromMs?: number;
  busyToMs?: number;
}

/**
 * Per-thread CPU and busy span from successive samples, busiest first. A thread is busy in an
 * interval when it used at least `minShare` of one core during it.
 */
export function summarizeSamples(samples: ThreadSample[], minShare = 0.2): ThreadActivity[] {
  const byTid = new Map<number, ThreadActivity>();
  for (let i = 1; i < samples.length; i++) {
    const previous = new Map(samples[i - 1].threads.map((t) => [t.tid, t.cpuMs]));
    const span = samples[i].at - samples[i - 1].at;
    for (const t of samples[i].threads) {
      const used = t.cpuMs - (previous.get(t.tid) ?? 0);
      const activity = byTid.get(t.tid) ?? { tid: t.tid, cpuMs: 0 };
      activity.cpuMs += used;
      if (span > 0 && used >= minShare * span) {
        activity.busyFromMs ??= samples[i - 1].at;
        activity.busyToMs = samples[i].at;
      }
      byTid.set(t.tid, activity);
    }
  }
  return [...byTid.values()].sort((a, b) => b.cpuMs - a.cpuMs);
}

/** Samples every thread of `pid` every `intervalMs` until `stop()`, which returns the samples. */
export function sampleThreads(pid: number, intervalMs: number): { stop(): ThreadSample[] } {
  const started = performance.now();
  const samples: ThreadSample[] = [{ at: 0, threads: threadTimes(pid) }];
  const timer = setInterval(() => samples.push({ at: performance.now() - started, threads: threadTimes(pid) }), intervalMs);
  return {
    stop() {
      clearInterval(timer);
      samples.push({ at: performance.now() - started, threads: threadTimes(pid) });
      return samples;
    },
  };
}
