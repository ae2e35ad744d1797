/**
 * Liveness of the current link. API Gateway closes a connection after 10 minutes with no frame
 * either way, and every ping is a billed message, so a quiet link is pinged once it has been
 * silent for `idleMs`, and a busy one never is. A ping that gets no frame back within
 * `pongTimeoutMs` means a dead link (half-open TCP): it is closed, and the client reconnects.
 *
 * An app that sends all the time keeps the link from ever being quiet, so sends are checked too:
 * the service answers every frame (a receipt, an ack, an error), and a frame sent with nothing at
 * all received for `probeAfterMs` after it is followed by a ping. The ping, not the missing
 * answer, decides: pings are answered by the lightest route, while a join or a send may be slow
 * on a loaded service. A dead link is thus noticed within `probeAfterMs + pongTimeoutMs` of the
 * first frame it swallowed, or `idleMs + pongTimeoutMs` on a quiet link.
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
  /** Armed by a frame sent while nothing came back yet. */
  private probe: unknown;
  private pong: unknown;

  constructor(
    private readonly host: HeartbeatHost,
    private readonly idleMs: number,
    private readonly pongTimeoutMs: number,
    private readonly probeAfterMs: number,
  ) {}

  /** Watches `link` (the new current link); 0 as `idleMs` disables the idle ping only. */
  watch(link: Link): void {
    this.stop();
    this.link = link;
    link.onSent = () => {
      if (this.probe === undefined && this.pong === undefined) this.probe = this.host.later(this.probeAfterMs, () => this.ping(link));
    };
    if (this.idleMs > 0) this.arm();
  }

  /** A frame arrived on the current link: it is alive. */
  alive(): void {
    this.host.cancel(this.pong);
    this.host.cancel(this.probe);
    this.pong = this.probe = undefined;
  }

  stop(): void {
    this.host.cancel(this.timer);
    this.alive();
    if (this.link) this.link.onSent = undefined;
    this.link = undefined;
  }

  private ping(link: Link): void {
    this.probe = undefined;
    if (link !== this.link || this.pong !== undefined || !link.send({ action: 'ping' })) return;
    // Set after the send: the ping itself must not arm a probe.
    this.host.cancel(this.probe);
    this.probe = undefined;
    this.pong = this.host.later(this.pongTimeoutMs, () => {
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
      if (this.host.now() - link.lastActivity >= this.idleMs) this.ping(link);
      this.arm();
    });
  }
}
