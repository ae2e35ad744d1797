/**
 * Public types of the airwave client: options, events and the minimal WebSocket surface it needs
 * (satisfied by browsers' WebSocket and by the `ws` package). `T` is the type of the payloads the
 * app sends and receives (`unknown` unless it says otherwise): the client does not check it.
 */

/** Connection state, emitted on every change. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** A message delivered on a channel, once, in `seq` order. */
export interface MessageEvent<T = unknown> {
  channel: string;
  /** The published payload (any JSON value). */
  message: T;
  /** Unique per published message. */
  id: string;
  /** Per-channel sequence number (absent only from services that predate it). */
  seq?: number;
}

/** The service's receipt of one of this client's own sends. */
export interface Receipt {
  channel: string;
  id: string;
  seq?: number;
  /** The client's own tag for the send (sent as the frame's `ref`, echoed by the service). */
  ref: string;
}

/** A join the service acknowledged; `seq` is the channel's latest sequence number then. */
export interface Joined {
  channel: string;
  seq?: number;
}

/** A member of a presence channel: a principal (the token's `sub`), or a connection without tokens. */
export interface PresenceMember {
  id: string;
  /** The membership's version: higher for every new membership in the channel. */
  v: number;
  /** Public info from the token (the stack's PresenceInfoClaim, for example a display name). */
  info?: string;
}

/**
 * A change of a presence channel's member list: a member came (`join`) or left (`leave`), or the
 * list was replaced by the service's (`sync`: after a join, a re-join, or `fetchMembers`).
 * `members` is the whole list after the change.
 */
export interface PresenceEvent {
  channel: string;
  event: 'join' | 'leave' | 'sync';
  member?: PresenceMember;
  members: PresenceMember[];
  /** This client's own member id in the channel. */
  self?: string;
}

/** What a rejected `send()` or `join()` promise holds, and what `error` events carry. */
export interface ClientError {
  /** A service code (docs/protocol.md) or a client one (README.md). */
  code: string;
  message: string;
  channel?: string;
  /** The send's ref, for a refused or unconfirmed send. */
  ref?: string;
  /** HTTP status of a refused connect, when the WebSocket implementation tells it (`ws` does, browsers do not). */
  status?: number;
  cause?: unknown;
  [detail: string]: unknown;
}

/** The events of {@link AirwaveClient}, each with its payload. */
export interface ClientEvents<T = unknown> {
  message: MessageEvent<T>;
  state: { state: ConnectionState; previous: ConnectionState };
  /** A refusal from the service or a client-side problem; see README.md for the codes. */
  error: ClientError;
  /** Messages `from`..`to` (inclusive) of `channel` are lost for good: history no longer has them. */
  gap: { channel: string; from: number; to: number };
  /** The receipt of one of this client's own `send`s (it gets no copy of its own message). */
  sent: Receipt;
  /** The service acknowledged a join. */
  joined: Joined;
  /** The service acknowledged a leave. */
  left: { channel: string };
  /** A presence channel's member list changed. */
  presence: PresenceEvent;
}

export type EventName = keyof ClientEvents;
export type Listener<E extends EventName, T = unknown> = (event: ClientEvents<T>[E]) => void;

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

/** A WebSocket constructor: `globalThis.WebSocket` in browsers and Node 22, `ws`'s default export in Node 20. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** Timers and clock, injectable for tests. Defaults to the globals, looked up at call time. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

/** A token, or a function (sync or async) that returns a fresh one; it is called before every connect. */
export type TokenSource = string | (() => string | undefined | Promise<string | undefined>);

/** Options of {@link connect}. Every timing has a default from defaults.ts. */
export interface ConnectOptions {
  /**
   * A token (JWT) for stacks that run with `AuthMode=jwt`, or a function returning one: it is
   * called before every connect (and reconnect, and roll-over), so a token that expired is replaced.
   */
  token?: TokenSource;
  /**
   * Where the token travels: as a subprotocol (`['airwave', token]`, the default: it stays out of
   * URLs, and so out of access logs) or in the query string (`?token=`).
   */
  tokenIn?: 'protocol' | 'query';
  /** Channels to join; each is joined with a `joinchannel` frame once connected. */
  channels?: string[];
  /** The WebSocket implementation (required in Node 20: pass the `ws` package's default export). */
  WebSocket?: WebSocketConstructor;
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  stableAfterMs?: number;
  /** Silence (no frame either way) before a ping; 0 disables this idle ping (not the probe below). */
  heartbeatIdleMs?: number;
  /** A ping that gets no frame back within this: the link is dead, and is replaced. */
  pongTimeoutMs?: number;
  /** Nothing received this long after a frame was sent: ping (so a link busy sending is checked too). */
  probeAfterMs?: number;
  /** Age of a connection at which it is replaced by a new one; 0 disables roll-over. */
  rolloverAfterMs?: number;
  rolloverAckTimeoutMs?: number;
  connectTimeoutMs?: number;
  holeTimeoutMs?: number;
  /** An unanswered join is sent again after this; meanwhile its channel's holes are not re-requested. */
  joinAckTimeoutMs?: number;
  /** A send with no receipt and no refusal this long after it went out is rejected as `unconfirmed`. */
  sendTimeoutMs?: number;
  /** Consecutive connects refused with 401/403 after which the client stops (1 with a fixed token). */
  maxAuthFailures?: number;
  maxQueuedFrames?: number;
  /** Reconnect at once when the browser goes online or the page becomes visible (default true). */
  browserEvents?: boolean;
  timers?: Timers;
  /** Uniform random in [0, 1): jitter source, injectable for tests. */
  random?: () => number;
}

/** One channel seen through {@link AirwaveClient.channel}. */
export interface ChannelHandle<T = unknown> {
  readonly name: string;
  /** Resolves with the join's ack; rejects (a {@link ClientError}) if the join is refused. */
  readonly joined: Promise<Joined>;
  send(message: T): Promise<Receipt>;
  /** Removes the handle's listener and leaves the channel. */
  leave(): void;
}

/** A client connection to airwave. Every method is safe to call in any state. */
export interface AirwaveClient<T = unknown> {
  /** Current connection state. */
  readonly state: ConnectionState;
  /** Channels this client is in (or will join once connected); a refused join removes its channel. */
  readonly channels: readonly string[];
  /**
   * Joins `channel` (idempotent); throws a TypeError for an invalid name. The promise resolves
   * with the service's ack and rejects if the join is refused: awaiting it is optional.
   */
  join(channel: string): Promise<Joined>;
  /** Leaves `channel`; its messages still in flight are dropped. */
  leave(channel: string): void;
  /**
   * Publishes `message` (any JSON value) to `channel`; throws a TypeError if it is not JSON
   * (a BigInt, a cycle). Queued while disconnected (up to `maxQueuedFrames`). The promise
   * resolves with the receipt and rejects with a {@link ClientError}: awaiting it is optional.
   */
  send(channel: string, message: T): Promise<Receipt>;
  /**
   * The live member list of presence channel `channel`, oldest membership first: empty until its
   * join is acknowledged (and for a channel that is not a presence channel). Kept across
   * reconnects and roll-overs; each re-join's ack replaces it.
   */
  members(channel: string): PresenceMember[];
  /**
   * Asks the service for a fresh member list of a joined presence channel (it spends the
   * connection's presence budget) and replaces the live list with it.
   */
  fetchMembers(channel: string): Promise<PresenceMember[]>;
  /** Joins `channel` and calls `onMessage` with its messages, until the handle's `leave()`. */
  channel(name: string, onMessage?: (event: MessageEvent<T>) => void): ChannelHandle<T>;
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends EventName>(event: E, listener: Listener<E, T>): () => void;
  /** Replaces the connection now (after a network change, say), and starts the backoff over. */
  reconnect(): void;
  /** Closes the connection for good: no reconnect, no timer left, no more events after `state: closed`. */
  close(): void;
}
