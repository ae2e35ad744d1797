/** What a set of inputs implies before any pricing: active minutes, frames, recipients, sessions, memory. */
import { WORKER_HOP_BUDGET_MS, WORKER_RESERVE_MS } from '../../shared/limits.js';
import { ENVELOPE_BYTES } from './assumptions.js';
import { type CostInputs, TEMPLATE_MEMORY } from './inputs.js';

/** Minutes a month during which connections are held and messages flow. */
export const activeMinutes = (i: CostInputs): number => i.hoursPerDay * 60 * i.days;
/** Frames published per minute: messages packed `batch` per frame. */
export const framesPerMinute = (i: CostInputs): number => i.messagesPerMinute / i.batch;
/** Bytes of one delivered frame: its messages, each in its envelope. */
export const frameBytes = (i: CostInputs): number => i.batch * (i.bytes + ENVELOPE_BYTES);
/** Connections a broadcast is posted to: a client publisher is not sent its own message. */
export const recipients = (i: CostInputs): number => Math.max(0, i.connections - (i.publisher === 'client' ? 1 : 0));
/** Connection sessions a month: held all day, they roll over without a break; else each day starts afresh. */
export const sessionsPerMonth = (i: CostInputs): number =>
  i.connections * i.days * (i.hoursPerDay >= 24 ? (24 * 60) / i.sessionMinutes : Math.ceil((i.hoursPerDay * 60) / i.sessionMinutes));

/** Seconds one worker invocation posts before it hands on: its hop budget, within its Timeout. */
export const hopSeconds = (i: CostInputs): number =>
  Math.min(WORKER_HOP_BUDGET_MS, i.workerTimeoutSeconds * 1000 - WORKER_RESERVE_MS) / 1000;

/** Memory of the publishing function: the input, or the template's for the function that publishes. */
export const publisherMemory = (i: CostInputs): number =>
  i.publisherMemoryMb > 0
    ? i.publisherMemoryMb
    : i.publisher === 'client'
      ? TEMPLATE_MEMORY.SendMessageFunction
      : TEMPLATE_MEMORY.PublishFunction;
