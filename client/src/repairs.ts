/**
 * Per-channel repair timers: while a channel misses something (an unanswered join, a hole, a
 * `seq` announced but not seen), a timer asks the service again with a `joinchannel` + `since`
 * (idempotent on the service: it replays the hole). The delay doubles while the hole stays open,
 * because each try costs billed messages and replays the whole hole again. A gap the service
 * reports is skipped only after a grace period (see ChannelSequence.gap).
 */
import * as DEFAULTS from './defaults.js';
import type { ChannelSequence } from './sequence.js';

interface Repair {
  timer?: unknown;
  delay: number;
  /** When the channel's last join was sent (its ack is awaited). */
  joinSentAt?: number;
  /** When the service last reported a gap on the channel. */
  gapAt?: number;
}

/** What the repairs need from the client. */
export interface RepairHost {
  now(): number;
  later(ms: number, callback: () => void): unknown;
  cancel(handle: unknown): void;
  /** The channel's sequence if the client is still in the channel. */
  current(channel: string): ChannelSequence | undefined;
  /** Sends the join again; false when no link is open (the next open re-joins anyway). */
  rejoin(seq: ChannelSequence): boolean;
}

export class Repairs {
  private readonly byChannel = new Map<string, Repair>();

  constructor(
    private readonly host: RepairHost,
    private readonly holeTimeoutMs = DEFAULTS.HOLE_TIMEOUT_MS,
    private readonly joinAckTimeoutMs = DEFAULTS.JOIN_ACK_TIMEOUT_MS,
  ) {}

  /** Arms the channel's timer while something is missing, disarms it once not. */
  check(seq: ChannelSequence): void {
    if (!seq.needsRepair()) {
      this.clear(seq.channel);
      return;
    }
    const repair = this.byChannel.get(seq.channel) ?? { delay: this.holeTimeoutMs };
    this.byChannel.set(seq.channel, repair);
    if (repair.timer === undefined) repair.timer = this.host.later(repair.delay, () => this.fire(seq, repair));
  }

  /** A join was just sent for the channel. */
  joinSent(seq: ChannelSequence): void {
    this.check(seq);
    const repair = this.byChannel.get(seq.channel);
    if (repair) repair.joinSentAt = this.host.now();
  }

  /** The service reported a gap: skip it once the grace period (the hole timeout) is over. */
  gapReported(seq: ChannelSequence): void {
    this.clear(seq.channel);
    this.check(seq);
    const repair = this.byChannel.get(seq.channel);
    if (repair) repair.gapAt = this.host.now();
  }

  /**
   * The service joined but refused the replay (its budget was spent) and said when to ask again:
   * the next try goes out after `ms`, not sooner (sooner is refused again, and costs a message).
   */
  retryAfter(seq: ChannelSequence, ms: number): void {
    const repair = this.byChannel.get(seq.channel) ?? { delay: this.holeTimeoutMs };
    if (repair.timer !== undefined) this.host.cancel(repair.timer);
    this.byChannel.set(seq.channel, repair);
    repair.timer = this.host.later(ms, () => this.fire(seq, repair));
  }

  clear(channel: string): void {
    const repair = this.byChannel.get(channel);
    if (repair?.timer !== undefined) this.host.cancel(repair.timer);
    this.byChannel.delete(channel);
  }

  clearAll(): void {
    for (const channel of [...this.byChannel.keys()]) this.clear(channel);
  }

  private fire(seq: ChannelSequence, repair: Repair): void {
    repair.timer = undefined;
    if (this.host.current(seq.channel) !== seq) return;
    // No ack came in time for a first join: start at the oldest held message.
    seq.startFromHeld();
    if (seq.gapPending) {
      const graceLeft = (repair.gapAt ?? 0) + this.holeTimeoutMs - this.host.now();
      if (graceLeft > 0) {
        repair.timer = this.host.later(graceLeft, () => this.fire(seq, repair));
        return;
      }
      seq.applyGap();
    }
    if (!seq.needsRepair()) {
      this.clear(seq.channel);
      return;
    }
    // A join still on its way replays everything after its `since`, this hole included: asking
    // again before its ack is overdue would only double the replay on a service already slow.
    const pendingFor = seq.awaitingAck ? this.host.now() - (repair.joinSentAt ?? 0) : this.joinAckTimeoutMs;
    if (pendingFor < this.joinAckTimeoutMs) {
      repair.timer = this.host.later(this.joinAckTimeoutMs - pendingFor, () => this.fire(seq, repair));
      return;
    }
    repair.delay = Math.min(repair.delay * 2, DEFAULTS.HOLE_TIMEOUT_MAX_MS);
    if (!this.host.rejoin(seq)) this.check(seq);
  }
}
