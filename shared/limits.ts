/**
 * Every limit and default of airwave, in one place. Values that a stack may change at deploy
 * time come from template parameters through the environment (see config.ts); the constants
 * here are AWS's own limits or protocol facts that no parameter should move.
 */

/** Channel names: 1-128 characters of letters, digits and `_ . : @ -` (no `#`: it separates key parts). */
export const CHANNEL_NAME_PATTERN = /^[A-Za-z0-9_.:@-]{1,128}$/;
export const MAX_CHANNEL_NAME_LENGTH = 128;

/** API Gateway: one WebSocket frame is at most 32 KB; a larger @connections post is refused (413). */
export const API_GATEWAY_FRAME_BYTES = 32 * 1024;
/** API Gateway: a message (all frames of it) is at most 128 KB; larger closes the socket with 1009. */
export const API_GATEWAY_MESSAGE_BYTES = 128 * 1024;
/** Room kept for the delivery envelope around a message (type, channel, id, seq). */
export const ENVELOPE_RESERVE_BYTES = 512;

/** API Gateway closes every connection after 2 hours ... */
export const CONNECTION_MAX_SECONDS = 2 * 60 * 60;
/** ... and after 10 minutes with no frame either way. */
export const IDLE_TIMEOUT_SECONDS = 10 * 60;
/**
 * `$disconnect` is best effort, so every row of a connection carries a TTL past the 2 h cap.
 * DynamoDB deletes expired items within days, not seconds: readers also filter on `ttl`.
 */
export const TTL_MARGIN_SECONDS = 10 * 60;

/** JSON nesting allowed in a client frame: deep enough for real payloads, far from stack limits. */
export const MAX_JSON_DEPTH = 32;
/** Keys that enable prototype pollution once a parsed object is merged or spread somewhere. */
export const FORBIDDEN_JSON_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** DynamoDB BatchWriteItem takes at most 25 requests. */
export const BATCH_WRITE_MAX_ITEMS = 25;
/** How many times a batch with UnprocessedItems is retried before giving up (with backoff). */
export const BATCH_WRITE_MAX_ATTEMPTS = 8;

/**
 * API Gateway's integration timeout (29 s) plus a second: how long after its `$connect` began a
 * connection may still be completing its handshake, answering 410 to posts while its rows exist.
 */
export const CONNECT_SETTLE_MS = 30_000;
/** Waits between posts to a connection still completing its handshake (doubling from the first). */
export const ESTABLISHING_RETRY_FIRST_MS = 100;
export const ESTABLISHING_RETRY_MAX_MS = 2_000;
/**
 * Waits for one connection's handshake per delivery: 100+200+400+800+1600+2000 ms is about 5 s,
 * far more than a `$connect` that wrote its rows needs to return. Past them the post is handed on.
 */
export const ESTABLISHING_MAX_WAITS = 6;

/** Budget window: PublishPerMinute, ReplayPerMinute and the principal budgets count per window. */
export const BUDGET_WINDOW_SECONDS = 60;

/**
 * Posts in flight for one fan-out. The HTTP agent is sized to match, because SDK v3's default
 * handler allows only 50 sockets and queues the rest (with a warning) behind them.
 */
export const DEFAULT_POST_CONCURRENCY = 64;
/** Most posts in flight (and sockets) one function uses for a paced fan-out batch. */
export const MAX_POST_CONCURRENCY = 256;
/** A 429 (throttled, or the client's buffer full) is retried with backoff this many times. */
export const POST_MAX_ATTEMPTS = 10;
export const POST_BACKOFF_BASE_MS = 50;
export const POST_BACKOFF_MAX_MS = 2_000;
/** A post with no response for this long fails (and is retried); API Gateway answers in tens of ms. */
export const POST_TIMEOUT_MS = 3_000;
/** Shortest wait between two releases of paced posts: 5 ms releases 50 posts at a time at 10,000/s. */
export const PACER_MIN_TICK_MS = 5;
/** Gone connections whose rows are deleted concurrently while a fan-out runs. */
export const CLEANUP_CONCURRENCY = 8;
/** Gone-connection cleanup after a delivery starts no delete after this long (its rows carry a TTL). */
export const CLEANUP_BUDGET_MS = 5_000;

/**
 * Hand-offs of a fan-out remainder to a fresh worker invocation before what is left goes to the
 * dead-letter queue. Each hop retries every remaining subscriber up to POST_MAX_ATTEMPTS times,
 * so a client that never reads costs at most (1 + FANOUT_MAX_HOPS) * POST_MAX_ATTEMPTS posts
 * per message (50), over about 5 s of backoff per hop.
 */
export const FANOUT_MAX_HOPS = 4;
/** The publisher's own posts stop after this long; what is left goes to a worker (docs/delivery.md). */
export const INLINE_DELIVERY_BUDGET_MS = 8_000;
/** Posts to one subscriber by the publisher itself before a worker takes over its retries. */
export const INLINE_POST_ATTEMPTS = 3;
/**
 * Time a worker keeps from its remaining time for what follows its last post: a post in flight
 * (POST_TIMEOUT_MS), the hand-off invoke (LAMBDA_CALL_WORST_MS), the gone connections' cleanup
 * and the metrics line. It posts until `remaining - WORKER_RESERVE_MS`.
 */
export const WORKER_RESERVE_MS = 20_000;
/** A worker hop posts for at most this long even with more time left, so a stuck batch moves on. */
export const WORKER_HOP_BUDGET_MS = 60_000;

/** Lambda Invoke (async hand-off of a fan-out batch): answers 202 in tens of ms. Same shape as DynamoDB's. */
export const LAMBDA_CONNECT_TIMEOUT_MS = 500;
export const LAMBDA_REQUEST_TIMEOUT_MS = 2_000;
export const LAMBDA_MAX_ATTEMPTS = 3;
export const LAMBDA_CALL_WORST_MS = LAMBDA_MAX_ATTEMPTS * (LAMBDA_CONNECT_TIMEOUT_MS + LAMBDA_REQUEST_TIMEOUT_MS) + 1_500;
