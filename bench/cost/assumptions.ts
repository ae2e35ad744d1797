/**
 * The cost model's estimates (not measurements) of sizes, warm durations and log volume;
 * docs/cost.md lists them. Memory sizes are the template's (bench/cost/inputs.ts), AWS's metering
 * units bench/prices.ts's.
 */
import { LOG_LEVELS, type LogLevel, TEMPLATE_MEMORY } from './inputs.js';

/** `{"type":"message","channel":..,"id":..,"seq":..}` around each payload. */
export const ENVELOPE_BYTES = 100;
/** `{"action":"sendmessage","channel":..}` around a published payload. */
export const PUBLISH_WRAPPER_BYTES = 50;
/** A subscription as the fan-out Query reads it from the GSI: gpk, pk, sk, ttl. */
export const SUBSCRIBER_ROW_BYTES = 60;
/** The starting design's connection item, as a Scan reads it. */
export const STARTING_ITEM_BYTES = 100;
/** A history row's key and ttl beside its frame. */
export const HISTORY_ROW_OVERHEAD_BYTES = 60;
/** Lambda allots one vCPU at 1,769 MB, and CPU in proportion to memory below it. */
export const LAMBDA_MB_PER_VCPU = 1769;
/** One 1 MB Query page read by the publisher (shards are read in parallel). */
export const PAGE_READ_MS = 40;
/** The publisher's async invokes of its workers, issued in parallel. */
export const INVOKE_MS = 15;
/** One write unit each: the connection row (under 1 KB with its budget attributes) and a principal's counter row. */
export const CONNECTION_ROW_WRITES = 1;
export const CONNECTION_BUDGET_WRITES = 1;
export const PRINCIPAL_BUDGET_WRITES = 1;
/** Publishing function before its fan-out: budget, sequence and history writes. */
export const PUBLISH_OVERHEAD_MS = 30;
/** Warm durations (estimates); memory sizes are the template's. */
export const HANDLERS = {
  connect: { memoryMb: TEMPLATE_MEMORY.ConnectFunction, ms: 20 },
  authorizer: { memoryMb: TEMPLATE_MEMORY.AuthorizerFunction, ms: 10 },
  disconnect: { memoryMb: TEMPLATE_MEMORY.DisconnectFunction, ms: 30 },
  joinchannel: { memoryMb: TEMPLATE_MEMORY.JoinChannelFunction, ms: 30 },
  ping: { memoryMb: TEMPLATE_MEMORY.PingFunction, ms: 2 },
} as const;
/** Lambda's START, END and REPORT lines (INFO-level platform logs). */
export const PLATFORM_LINES = 3;
/** Application lines one invocation writes at each log level. */
export const APP_LINES: Record<LogLevel, number> = { DEBUG: 3, INFO: 1, WARN: 0, ERROR: 0 };
/** Whether a line at `line` is written at the configured `level`. */
export const writes = (level: LogLevel, line: LogLevel): boolean => LOG_LEVELS.indexOf(line) >= LOG_LEVELS.indexOf(level);
/** One EMF metrics document (fan-out counts), written at every log level. */
export const EMF_LINE_BYTES = 700;
/** X-Ray's default sampling rule: the first request each second, then 5 % of the rest. */
export const XRAY_RESERVOIR_PER_SECOND = 1;
export const XRAY_FIXED_RATE = 0.05;
