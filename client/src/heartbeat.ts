/**
 * Liveness of the current link. Every frame the client sends is answered by the service (a
 * receipt, an ack, a pong or an error), so a frame sent that gets no frame back within
 * `answerTimeoutMs` means a dead link (half-open TCP): it is closed, and the client reconnects.
 * An app that sends all the time is checked by its own sends; a quiet link is pinged once it has
 * been silent for `idleMs` (API Gateway cuts it after 10 idle minutes, and every ping is billed,
 * so a busy link never pings). A dead link is noticed within `answerTimeoutMs` of the first frame
 * it swallowed, or `idleMs + answerTimeoutMs` on a quiet link.
 */
import type { Link } from './link.js';

/** What the heartbeat needs from the client: its clock and timers. */
export interface HeartbeatHost {
  now(): number;
  later(ms: number, callback: () => void): unknown;
  cancel(handle: unknown): void;
}

/** Code of the close the client makes when a frame goes unanswered (4000-4999: application codes). */
export const DEAD_LINK_CLOSE_CODE = 4000;

export class Heartbeat {
  private link?: Link;
  private timer: unknown;
  private answer: unknown;

  constructor(
    private readonly host: HeartbeatHost,
    private readonly idleMs: number,
    private readonly answerTimeoutMs: number,
  ) {}

  /** Watches `link` (the new current link); 0 as `idleMs` disables the ping only. */
  watch(link: Link): void {
    this.stop();
    this.link = link;
    link.onSent = () => this.expect(link);
    if (this.idleMs > 0) this.arm();
  }

  /** A frame arrived on the current link: it is alive. */
  alive(): void {
    this.host.cancel(this.answer);
    this.answer = undefined;
  }

  stop(): void {
    this.host.cancel(this.timer);
    this.alive();
    if (this.link) this.link.onSent = undefined;
    this.link = undefined;
  }

  /** A frame went out: some frame must come back in time (an answer to it, or anything else). */
  private expect(link: Link): void {
    if (link !== this.link || this.answer !== undefined) return;
    this.answer = this.host.later(this.answerTimeoutMs, () => {
      if (link === this.link) link.close(DEAD_LINK_CLOSE_CODE);
    });
  }

  /**
   * One timer, aimed at the moment the link will have been silent for `idleMs`. Traffic
   * meanwhile only moves that moment (the link keeps `lastActivity`): no timer churn per frame.
   */
  private arm(): void {
    const link = this.link;
    if (!link?.open) return;
    this.timer = this.host.later(Math.max(0, link.lastActivity + this.idleMs - this.host.now()), () => {
      if (link !== this.link) return;
      if (this.host.now() - link.lastActivity >= this.idleMs && this.answer === undefined) link.send({ action: 'ping' });
      this.arm();
    });
  }
}
