/**
 * The heartbeat of the current link. API Gateway closes a connection after 10 minutes with no
 * frame either way, and every ping is a billed message, so the client pings only when the link
 * has been silent for `idleMs`; a busy link never pings. A ping that gets no frame back within
 * `pongTimeoutMs` means a dead link (half-open TCP): it is closed, and the client reconnects.
 */
import type { Link } from './link.js';

/** What the heartbeat needs from the client: its clock and timers. */
export interface HeartbeatHost {
  now(): number;
  later(ms: number, callback: () => void): unknown;
  cancel(handle: unknown): void;
}

/** Code of the close the client makes when a ping goes unanswered (4000-4999: application codes). */
export const DEAD_LINK_CLOSE_CODE = 4000;

export class Heartbeat {
  private link?: Link;
  private timer: unknown;
  private pong: unknown;

  constructor(
    private readonly host: HeartbeatHost,
    private readonly idleMs: number,
    private readonly pongTimeoutMs: number,
  ) {}

  /** Watches `link` (the new current link); 0 as `idleMs` disables the heartbeat. */
  watch(link: Link): void {
    this.stop();
    if (this.idleMs <= 0) return;
    this.link = link;
    this.arm();
  }

  /** A frame arrived on the current link: it is alive. */
  alive(): void {
    this.host.cancel(this.pong);
    this.pong = undefined;
  }

  stop(): void {
    this.host.cancel(this.timer);
    this.alive();
    this.link = undefined;
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
      if (this.host.now() - link.lastActivity >= this.idleMs && this.pong === undefined && link.send({ action: 'ping' })) {
        this.pong = this.host.later(this.pongTimeoutMs, () => {
          if (link === this.link) link.close(DEAD_LINK_CLOSE_CODE);
        });
      }
      this.arm();
    });
  }
}
