/**
 * Public types of the airwave client: options, events and the minimal WebSocket surface it needs
 * (satisfied by browsers' WebSocket and by the `ws` package).
 */

/** Connection state, emitted on every change. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** A message delivered on a channel, once, in `seq` order. */
export interface MessageEvent {
  channel: string;
  /** The published payload (any JSON value). */
  message: unknown;
  /** Unique per published message. */
  id: string;
  /** Per-channel sequence number (absent only from services that predate it). */
  seq?: number;
}

/** The events of {@link AirwaveClient}, each with its payload. */
export interface ClientEvents {
  message: MessageEvent;
  state: { state: ConnectionState; previous: ConnectionState };
  /**
   * A refusal from the service (`code` as in docs/protocol.md), or a client-side problem:
   * `bad_frame` (a frame that is not JSON), `queue_full` (sent while offline, queue full),
   * `listener_error` (a listener threw; `cause` holds what it threw).
   */
  error: { code: string; message: string; channel?: string; cause?: unknown; [detail: string]: unknown };
  /** Messages `from`..`to` (inclusive) of `channel` are lost for good: history no longer has them. */
  gap: { channel: string; from: number; to: number };
  /** The receipt of one of this client's own `send`s (it gets no copy of its own message). */
  sent: { channel: string; id: string; seq?: number };
  /** The service acknowledged a join; `seq` is the channel's latest sequence number then. */
  joined: { channel: string; seq?: number };
  /** The service acknowledged a leave. */
  left: { channel: string };
}

export type EventName = keyof ClientEvents;
export type Listener<E extends EventName> = (event: ClientEvents[E]) => void;

/**
 * What the client needs from a WebSocket: browsers' WebSocket and `ws` both qualify. The handler
 * parameters are `any` on purpose: each implementation declares its own event classes, and a
 * narrower type here would make neither assignable.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // biome-ignore lint/suspicious/noExplicitAny: see above
  onopen: ((event: any) => void) | null;
  // biome-ignore lint/suspicious/noExplicitAny: see above
  onclose: ((event: any) => void) | null;
  // biome-ignore lint/suspicious/noExplicitAny: see above
  onerror: ((event: any) => void) | null;
  // biome-ignore lint/suspicious/noExplicitAny: see above
  onmessage: ((event: any) => void) | null;
}

/** A WebSocket constructor: `globalThis.WebSocket` in browsers, `ws`'s default export in Node. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** Timers and clock, injectable for tests. Defaults to the globals, looked up at call time. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

/** Options of {@link connect}. Every timing has a default from defaults.ts. */
export interface ConnectOptions {
  /** A token (JWT) for stacks that run with `AuthMode=jwt`. */
  token?: string;
  /**
   * Where the token travels: as a subprotocol (`['airwave', token]`, the default: it stays out of
   * URLs, and so out of access logs) or in the query string (`?token=`).
   */
  tokenIn?: 'protocol' | 'query';
  /** Channels to join; on the first connect they go in `?channels=` (saves a billed message each). */
  channels?: string[];
  /** The WebSocket implementation (required in Node 20: pass the `ws` package's default export). */
  WebSocket?: WebSocketConstructor;
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  stableAfterMs?: number;
  /** Silence (no frame either way) before a ping; 0 disables the heartbeat. */
  heartbeatIdleMs?: number;
  pongTimeoutMs?: number;
  /** Age of a connection at which it is replaced by a new one; 0 disables roll-over. */
  rolloverAfterMs?: number;
  rolloverAckTimeoutMs?: number;
  connectTimeoutMs?: number;
  holeTimeoutMs?: number;
  /** An unanswered join is sent again after this; meanwhile its channel's holes are not re-requested. */
  joinAckTimeoutMs?: number;
  maxQueuedFrames?: number;
  timers?: Timers;
  /** Uniform random in [0, 1): jitter source, injectable for tests. */
  random?: () => number;
}

/** A client connection to airwave. Every method is safe to call in any state. */
export interface AirwaveClient {
  /** Current connection state. */
  readonly state: ConnectionState;
  /** Channels this client is in (or will join once connected). */
  readonly channels: readonly string[];
  /** Joins `channel` (idempotent); throws a TypeError for an invalid name. */
  join(channel: string): void;
  /** Leaves `channel`; its messages still in flight are dropped. */
  leave(channel: string): void;
  /**
   * Publishes `message` (any JSON value) to `channel`. Queued while disconnected (up to
   * `maxQueuedFrames`); the `sent` event carries its receipt.
   */
  send(channel: string, message: unknown): void;
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends EventName>(event: E, listener: Listener<E>): () => void;
  /** Closes the connection for good: no reconnect, no more events after `state: closed`. */
  close(): void;
}
