/**
 * What posting one frame to one connection through API Gateway's @connections API can come to,
 * and the interfaces the fan-out, replay and flood paths are written against. Types only: the
 * implementation in production is shared/fast-poster.ts; the SDK's client, kept as a reference
 * for the benchmark, is bench/lib/sdk-poster.ts. No import here, so no import cycle through it.
 *
 * A Poster reports what happened instead of throwing, so the fan-out can decide: `gone` (410:
 * the connection no longer exists; delete its rows), `throttled` (429: the account throttle or
 * the client's buffer; retry with backoff), `failed` (anything else, including timeouts, after
 * which the fan-out retries a bounded number of times).
 */
export type PostOutcome = 'ok' | 'gone' | 'throttled' | 'failed';

export interface Poster {
  post(connectionId: string, data: string): Promise<PostOutcome>;
}

/**
 * Closing a connection from the service side: `DELETE @connections/{id}`, after which API
 * Gateway closes the socket and runs `$disconnect`. Named `disconnect` because FastPoster's
 * `close()` already means "close this poster's own sockets". Outcomes as for a post: `ok`
 * closed, `gone` already closed, `throttled` / `failed` not closed.
 */
export interface ConnectionCloser {
  disconnect(connectionId: string): Promise<PostOutcome>;
}
