/**
 * Per-channel ordering: every message once, in `seq` order, whatever order the frames come in.
 * Pure (no timers, no socket): the client asks {@link ChannelSequence.needsRepair} after each call
 * and runs the repair timer itself.
 *
 * Why frames come out of order or twice: API Gateway runs every publish in its own Lambda, so the
 * fan-outs of two publishes can overtake each other; a join with `since` replays history while
 * live deliveries keep coming; a roll-over overlaps two connections on purpose.
 *
 * The baseline rule (where delivery starts on a channel that has no `last` yet):
 * - joined by a `joinchannel` frame: everything that arrives before the ack is held, and the ack's
 *   `seq` (the channel's latest when the join read it) sets the start, *unless* a held message is
 *   older: then delivery starts at that message. The service writes the subscription before it
 *   reads the latest `seq`, so every message after the ack's `seq` reaches this connection; one
 *   at or before it that arrived before the ack was published while the join ran, and dropping
 *   it only because its ack was slower would lose a live message. One at or before the ack's
 *   `seq` that comes *after* the ack predates the join and is dropped.
 * - if an ack never comes (its Lambda failed), the repair timer starts at the oldest held message.
 *
 * Own messages: the service sends the sender no copy, but a replay (a join with `since` that
 * reads history after the publish) can bring one back. So while one of this client's sends on the
 * channel awaits its receipt, a message that may be that send (a `seq` above the highest known
 * when it was sent) is held; the receipt then takes its slot, and it is never delivered.
 */
import { MAX_HELD_PER_CHANNEL, RECENT_IDS_PER_CHANNEL } from './defaults.js';
import type { ClientEvents, MessageEvent } from './types.js';

/** Where a sequence sends what it releases. */
export interface SequenceOutput {
  deliver(event: MessageEvent): void;
  gap(event: ClientEvents['gap']): void;
}

/** A held slot: a message to deliver, or a receipt of this client's own message (nothing to deliver). */
type Held = MessageEvent | null;

/** The ordering state of one channel. */
export class ChannelSequence {
  /** Last `seq` accounted for (delivered, own receipt, or skipped by a gap); undefined before the baseline. */
  last: number | undefined;
  /** A join was sent and is not answered yet (set by the client). */
  awaitingAck = false;
  /** Highest `seq` known to exist, from frames and join acks. */
  private known = 0;
  private readonly held = new Map<number, Held>();
  /** End of a gap the service reported, skipped once its grace period is over. */
  private gapTo: number | undefined;
  private readonly recentIds = new Set<string>();
  /** Own sends awaiting their receipt: ref -> the highest `seq` known when it was sent. */
  private readonly mine = new Map<string, number>();

  constructor(
    readonly channel: string,
    private readonly out: SequenceOutput,
    private readonly maxHeld = MAX_HELD_PER_CHANNEL,
  ) {}

  /** A delivery frame for this channel. */
  message(event: MessageEvent): void {
    if (this.recentIds.has(event.id)) {
      // A retried backend publish can re-send a message under its first id with a new seq:
      // nothing to deliver, but the seq is accounted for (like a receipt), or it would be a hole.
      if (event.seq !== undefined) this.place(event.seq, null);
      return;
    }
    if (event.seq === undefined) {
      // A service without sequence numbers: deliver at once, dedupe by id alone.
      this.release(event);
      return;
    }
    this.place(event.seq, event);
  }

  /**
   * This client's own `sent` receipt. The sender gets no copy of its message, so the receipt
   * fills the slot: without it every own message would look like a hole.
   */
  receipt(seq: number): void {
    this.place(seq, null);
  }

  /** One of this client's sends on the channel went out (see "Own messages" above). */
  sending(ref: string): void {
    this.mine.set(ref, this.known);
  }

  /** That send was answered: a receipt (`seq` is its slot), a refusal, or given up on. */
  settle(ref: string, seq?: number): void {
    this.mine.delete(ref);
    if (seq === undefined) this.drain();
    else this.receipt(seq);
  }

  /** The join ack; `seq` is the channel's latest then (undefined: nothing published yet). */
  ack(seq: number | undefined): void {
    this.awaitingAck = false;
    const latest = seq ?? 0;
    if (latest > this.known) this.known = latest;
    if (this.last === undefined) {
      const oldest = this.oldestHeld();
      this.last = oldest === undefined ? latest : Math.min(latest, oldest - 1);
    }
    this.drain();
  }

  /**
   * The service's `history_gap`: messages `since + 1` .. `oldest - 1` are not in its history.
   * Only noted here: {@link applyGap} skips them after a grace period. A publish takes its `seq`
   * before it writes its history row, so a replay that runs in between reports as lost a message
   * that is still on its way; whatever of the range arrives before the grace ends is delivered.
   */
  gap(since: number, oldest: number): void {
    if (this.last === undefined || Math.max(since, this.last) + 1 > oldest - 1) return;
    this.gapTo = Math.max(this.gapTo ?? 0, oldest - 1);
    if (this.gapTo > this.known) this.known = this.gapTo;
  }

  /** True while a reported gap waits for its grace period. */
  get gapPending(): boolean {
    return this.gapTo !== undefined;
  }

  /**
   * Ends the grace of a reported gap: delivers what arrived of it, in order, and reports each run
   * of still missing messages as a `gap` event.
   */
  applyGap(): void {
    const to = this.gapTo;
    this.gapTo = undefined;
    if (to === undefined || this.last === undefined) return;
    while (this.last < to) {
      let next = to + 1;
      for (const seq of this.held.keys()) if (seq > this.last && seq < next) next = seq;
      // Held for an own send in flight: its receipt drains it, a repair handles what is left.
      if (next === this.last + 1) break;
      this.skipTo(next - 1);
    }
  }

  /** No ack came in time: start at the oldest held message rather than hold forever. */
  startFromHeld(): void {
    const oldest = this.oldestHeld();
    if (this.last !== undefined || oldest === undefined) return;
    this.last = oldest - 1;
    this.drain();
  }

  /** True while something is missing: an unanswered join, a hole, or a `seq` announced but not seen. */
  needsRepair(): boolean {
    return this.awaitingAck || this.gapTo !== undefined || this.held.size > 0 || (this.last !== undefined && this.known > this.last);
  }

  private place(seq: number, entry: Held): void {
    if (seq > this.known) this.known = seq;
    // No join awaits its ack (the client joins by frame, so only a join whose answer was lost): the first frame sets the start.
    if (this.last === undefined && !this.awaitingAck) this.last = seq - 1;
    // A receipt replaces a held copy of the same message (brought back by a replay).
    if ((this.last !== undefined && seq <= this.last) || (this.held.has(seq) && entry)) return;
    this.held.set(seq, entry);
    this.drain();
    if (this.held.size > this.maxHeld) {
      // Memory stays bounded: give up on the hole and report it as lost.
      const oldest = this.oldestHeld() as number;
      if (this.last === undefined) this.startFromHeld();
      else this.skipTo(oldest - 1);
    }
  }

  /** Skips to `to` (reporting the skipped range, if any), then delivers what follows. */
  private skipTo(to: number): void {
    const from = (this.last as number) + 1;
    if (to >= from) {
      for (const seq of this.held.keys()) if (seq <= to) this.held.delete(seq);
      this.last = to;
      this.out.gap({ channel: this.channel, from, to });
    }
    this.drain();
  }

  private drain(): void {
    if (this.last === undefined) return;
    while (this.held.has(this.last + 1)) {
      const entry = this.held.get(this.last + 1) as Held;
      if (entry && this.mayBeMine(this.last + 1)) break;
      this.held.delete(++this.last);
      if (entry) this.release(entry);
    }
    // The whole reported gap arrived after all: nothing is lost.
    if (this.gapTo !== undefined && this.last >= this.gapTo) this.gapTo = undefined;
  }

  private release(event: MessageEvent): void {
    // Both copies of a retried publish were held (behind a hole): the later seq is not re-delivered.
    if (this.recentIds.has(event.id)) return;
    this.recentIds.add(event.id);
    if (this.recentIds.size > RECENT_IDS_PER_CHANNEL) {
      // Sets iterate in insertion order: the first key is the oldest id.
      this.recentIds.delete(this.recentIds.values().next().value as string);
    }
    this.out.deliver(event);
  }

  private mayBeMine(seq: number): boolean {
    for (const floor of this.mine.values()) if (seq > floor) return true;
    return false;
  }

  private oldestHeld(): number | undefined {
    let oldest: number | undefined;
    for (const seq of this.held.keys()) if (oldest === undefined || seq < oldest) oldest = seq;
    return oldest;
  }
}
