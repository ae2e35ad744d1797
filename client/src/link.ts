/**
 * One WebSocket connection to the service ("link"). A client has one current link, and a second
 * one only while it rolls over before API Gateway's 2-hour cut.
 */
import { SUBPROTOCOL } from './defaults.js';
import type { WebSocketConstructor, WebSocketLike } from './types.js';

/** WebSocket.OPEN, the same in browsers and in `ws`. */
const OPEN = 1;
const noop = (): void => {};

/** Callbacks of a link; only the first `closed` is ever called. */
export interface LinkEvents {
  opened(link: Link): void;
  frame(link: Link, text: string): void;
  closed(link: Link, code?: number): void;
}

/** `ws` reports a refused upgrade as "Unexpected server response: 401"; browsers tell nothing. */
const STATUS_IN_ERROR = /server response: (\d{3})/;

/** A link's URL and subprotocols: the token goes in `Sec-WebSocket-Protocol` or `?token=`. */
export function linkAddress(url: string, token: string | undefined, tokenIn: 'protocol' | 'query'): { url: string; protocols?: string[] } {
  const address = new URL(url);
  if (token !== undefined && tokenIn === 'query') address.searchParams.set('token', token);
  // Offered only with a token: the service echoes `airwave`, and a browser drops a socket whose
  // server picks none of the offered subprotocols.
  const protocols = token !== undefined && tokenIn === 'protocol' ? [SUBPROTOCOL, token] : undefined;
  return { url: address.toString(), protocols };
}

export class Link {
  readonly ws: WebSocketLike;
  /** Channels whose `joinchannel` on this link is not answered yet (a roll-over waits for them). */
  readonly pending = new Set<string>();
  /** Channels whose `leavechannel` on this link is not answered yet (a join waits for it). */
  readonly leaving = new Set<string>();
  /** HTTP status of a refused upgrade, when the implementation reports it. */
  status?: number;
  /** Called after each frame sent (the heartbeat expects an answer). */
  onSent?: () => void;
  open = false;
  openedAt = 0;
  /** The client's timer that abandons this link if it never opens. */
  connectTimer: unknown;
  /** Last frame either way: API Gateway's idle timer counts both directions. */
  lastActivity = 0;
  private done = false;

  constructor(
    Ws: WebSocketConstructor,
    address: { url: string; protocols?: string[] },
    private readonly events: LinkEvents,
    private readonly now: () => number,
  ) {
    this.ws = address.protocols ? new Ws(address.url, address.protocols) : new Ws(address.url);
    this.ws.onopen = () => {
      if (this.done) return;
      this.open = true;
      this.openedAt = this.lastActivity = this.now();
      this.events.opened(this);
    };
    this.ws.onmessage = (event) => {
      if (this.done) return;
      this.lastActivity = this.now();
      // Text frames are strings; `ws` may hand binary ones over as Buffers, browsers as Blobs.
      if (typeof event.data === 'string') this.events.frame(this, event.data);
    };
    this.ws.onclose = (event) => this.finish(event?.code);
    // The close event follows every error; the error tells at most the status of a refused upgrade.
    this.ws.onerror = (event) => {
      const status = STATUS_IN_ERROR.exec(String(event?.message))?.[1];
      if (status) this.status = +status;
    };
  }

  /** Sends one frame if the socket is open; false otherwise (the frame is not sent). */
  send(frame: object): boolean {
    if (this.done || this.ws.readyState !== OPEN) return false;
    try {
      this.ws.send(JSON.stringify(frame));
    } catch {
      return false;
    }
    this.lastActivity = this.now();
    this.onSent?.();
    return true;
  }

  /**
   * Closes the socket and reports `closed` at once, without waiting for the close handshake: a
   * dead link (no pong) may never complete it.
   */
  close(code = 1000): void {
    if (this.done) return;
    this.detach();
    try {
      this.ws.close(code);
    } catch {
      // Closing a socket that is still connecting throws in some implementations; it is gone anyway.
    }
    this.events.closed(this, code);
  }

  /** Closes the socket without reporting anything (the client no longer cares about it). */
  discard(): void {
    if (this.done) return;
    this.detach();
    try {
      this.ws.close(1000);
    } catch {
      // see close()
    }
  }

  private finish(code?: number): void {
    if (this.done) return;
    this.detach();
    this.events.closed(this, code);
  }

  private detach(): void {
    this.done = true;
    this.open = false;
    this.ws.onopen = this.ws.onmessage = this.ws.onclose = noop;
    // Kept as a no-op, not null: `ws` throws an unhandled 'error' when no listener is left.
    this.ws.onerror = noop;
  }
}
