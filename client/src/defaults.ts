/**
 * The client's defaults, each a named constant with the AWS behaviour it answers to. Every one of
 * them can be changed per client through {@link ConnectOptions}.
 */

/** First reconnect delay ceiling: the delay is uniform in [0, min(max, base * 2^attempt)]. */
export const RECONNECT_BASE_MS = 500;
/**
 * Reconnect delay ceiling. API Gateway accepts only 500 new connections per second per account
 * and Region, so a fleet that lost its connections at once (a deploy, a network blip) must spread
 * its reconnects out: full jitter does that, and the cap keeps one client from waiting forever.
 */
export const RECONNECT_MAX_MS = 30_000;
/** A connection open this long is "stable": the next drop starts the backoff from scratch. */
export const STABLE_AFTER_MS = 10_000;
/**
 * API Gateway closes a connection after 10 minutes with no frame either way, and every ping is a
 * billed message: ping only after 9 silent minutes, never on a busy connection.
 */
export const HEARTBEAT_IDLE_MS = 9 * 60_000;
/** No frame at all this long after a ping: the connection is dead (half-open TCP), replace it. */
export const PONG_TIMEOUT_MS = 30_000;
/** API Gateway cuts every connection at 2 hours: roll over to a new one 5 minutes before. */
export const ROLLOVER_AFTER_MS = 115 * 60_000;
/** How long a roll-over waits for the new connection's join acks before closing the old one anyway. */
export const ROLLOVER_ACK_TIMEOUT_MS = 15_000;
/**
 * Nothing received this long after a frame was sent (the service answers every frame, normally
 * within a few hundred ms): ping, so that an app that sends all the time notices a dead link
 * within PROBE_AFTER_MS + PONG_TIMEOUT_MS (35 s), though its link is never idle.
 */
export const PROBE_AFTER_MS = 5_000;
/** A send with no receipt or refusal this long after it went out is given up as `unconfirmed`. */
export const SEND_TIMEOUT_MS = 30_000;
/** Connects refused with 401/403 in a row before the client stops (with a token function; 1 with a fixed token). */
export const MAX_AUTH_FAILURES = 3;
/** A WebSocket that neither opens nor fails within this time is abandoned and retried. */
export const CONNECT_TIMEOUT_MS = 15_000;
/**
 * How long a message that is ahead of the next expected `seq` is held before the client asks the
 * service to replay the hole. Fan-outs of two publishes run in parallel Lambdas and can overtake
 * each other, so a hole usually fills by itself within milliseconds; asking costs billed messages.
 */
export const HOLE_TIMEOUT_MS = 3_000;
/**
 * A join unanswered this long is sent again. Until then no hole on its channel is re-requested:
 * its replay will fill the hole. A Lambda route has at most 29 s (API Gateway's integration
 * timeout), and a failed one answers with an error frame well before.
 */
export const JOIN_ACK_TIMEOUT_MS = 10_000;
/** The repair delay doubles while a hole stays open, up to this. */
export const HOLE_TIMEOUT_MAX_MS = 30_000;
/** Messages held per channel at most; past it the client gives up on the hole (a `gap` event). */
export const MAX_HELD_PER_CHANNEL = 1_000;
/** Recent message ids remembered per channel, for frames that carry no `seq`. */
export const RECENT_IDS_PER_CHANNEL = 256;
/** Frames queued by `send`/`leave` while no connection is open; more are refused with an `error` event. */
export const MAX_QUEUED_FRAMES = 100;
/** The subprotocol the service echoes when a token travels in `Sec-WebSocket-Protocol`. */
export const SUBPROTOCOL = 'airwave';
/** Channel names the service accepts (docs/protocol.md); checked here to save a billed round trip. */
export const CHANNEL_NAME_PATTERN = /^[A-Za-z0-9_.:@-]{1,128}$/;
