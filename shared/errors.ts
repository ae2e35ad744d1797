/**
 * The one error taxonomy. Every error this project throws on purpose extends {@link ServiceError},
 * which takes `ErrorOptions`: the `cause` of a wrapped failure stays attached, so the logger
 * prints it beside the message.
 *
 * Every refusal a client can see is an AirwaveError with a stable `code` (listed in
 * docs/protocol.md); anything else is turned into `internal_error` by handler.ts, the only place
 * that builds error frames, so no internal message or stack trace ever reaches a client.
 * Refusals of `$connect` are ConnectRefusedErrors (an HTTP status, no frame); the rest
 * (FanoutError, StoreWriteError, InvalidFanoutBatchError, ConfigError) are internal.
 *
 * Each class sets `name` itself: the bundles are minified, and a minified class name would not
 * say anything in a log.
 */
export type ErrorCode =
  | 'bad_json'
  | 'bad_request'
  | 'unknown_action'
  | 'invalid_channel'
  | 'message_too_large'
  | 'too_many_channels'
  | 'forbidden'
  | 'rate_limited'
  | 'flooding'
  | 'history_gap'
  | 'replay_incomplete'
  | 'publish_in_progress'
  | 'idempotency_conflict'
  /** Storage did not answer within the request's deadline (shared/deadline.ts): retry after `retryAfter` s. */
  | 'unavailable'
  | 'presence_full'
  | 'not_joined'
  | 'not_presence_channel'
  | 'internal_error';

/** The base of the taxonomy: a message, a name, and the cause (if any) kept for the logs. */
export class ServiceError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ServiceError';
  }
}

export class AirwaveError extends ServiceError {
  readonly code: ErrorCode;
  /** Extra fields for the error frame (for example `channel`). Never internal details. */
  readonly details: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AirwaveError';
    this.code = code;
    this.details = details;
  }
}

export class BadJsonError extends AirwaveError {
  constructor(message = 'frame is not a JSON object') {
    super('bad_json', message);
    this.name = 'BadJsonError';
  }
}

export class BadRequestError extends AirwaveError {
  constructor(message: string) {
    super('bad_request', message);
    this.name = 'BadRequestError';
  }
}

export class UnknownActionError extends AirwaveError {
  constructor(action: unknown) {
    super('unknown_action', typeof action === 'string' ? `unknown action "${action.slice(0, 64)}"` : 'frame names no action');
    this.name = 'UnknownActionError';
  }
}

export class InvalidChannelError extends AirwaveError {
  constructor(message = 'channel must be 1-128 characters of A-Z a-z 0-9 _ . : @ -') {
    super('invalid_channel', message);
    this.name = 'InvalidChannelError';
  }
}

export class MessageTooLargeError extends AirwaveError {
  constructor(limit: number) {
    super('message_too_large', `message is larger than ${limit} bytes`, { limit });
    this.name = 'MessageTooLargeError';
  }
}

export class TooManyChannelsError extends AirwaveError {
  constructor(limit: number, channel?: string) {
    super('too_many_channels', `a connection may be in at most ${limit} channels`, channel === undefined ? { limit } : { limit, channel });
    this.name = 'TooManyChannelsError';
  }
}

export class ForbiddenError extends AirwaveError {
  constructor(channel: string, what: 'join' | 'publish') {
    super('forbidden', `not allowed to ${what} this channel`, { channel });
    this.name = 'ForbiddenError';
  }
}

/** Which budget a `rate_limited` refusal spent: publishes or replays, per connection or per principal. */
export type BudgetName = 'publish' | 'replay' | 'presence';
export type BudgetScope = 'connection' | 'principal';

export class RateLimitedError extends AirwaveError {
  constructor(retryAfterSeconds: number, budget: BudgetName = 'publish', scope: BudgetScope = 'connection', channel?: string) {
    super('rate_limited', `${budget} budget spent, retry later`, {
      retryAfter: retryAfterSeconds,
      budget,
      scope,
      ...(channel === undefined ? {} : { channel }),
    });
    this.name = 'RateLimitedError';
  }
}

/** A presence channel already holds PresenceMemberLimit members (shared/presence.ts). */
export class PresenceFullError extends AirwaveError {
  /** `scope`: the channel's member cap, or the connections one member may have in it. */
  constructor(limit: number, channel: string, scope: 'channel' | 'member' = 'channel') {
    super(
      'presence_full',
      scope === 'channel'
        ? `a presence channel holds at most ${limit} members`
        : `a member has at most ${limit} connections in a presence channel`,
      { limit, channel, scope },
    );
    this.name = 'PresenceFullError';
  }
}

/** `members` asked about a channel the connection is not in, or one that is no presence channel. */
export class PresenceRefusedError extends AirwaveError {
  constructor(code: 'not_joined' | 'not_presence_channel', channel: string) {
    super(code, code === 'not_joined' ? 'join the channel first' : 'not a presence channel', { channel });
    this.name = 'PresenceRefusedError';
  }
}

/**
 * The connection sent frames faster than FrameRateLimit / FrameBurstLimit allow. Its frame is
 * posted to the connection just before the service closes it (shared/flood.ts).
 */
export class FloodingError extends AirwaveError {
  constructor() {
    super('flooding', 'too many frames; the connection is closed');
    this.name = 'FloodingError';
  }
}

/**
 * A replay that could not finish within its time budget (throttled posts, a slow client): the
 * join itself succeeded; `lastSeq` is the last `seq` the client was told about (delivered or
 * skipped), so it asks again with `since: lastSeq`. Never a silent partial replay.
 */
export class ReplayIncompleteError extends AirwaveError {
  constructor(channel: string, lastSeq: number) {
    super('replay_incomplete', 'replay stopped before its end; join again with "since" set to lastSeq', { channel, lastSeq });
    this.name = 'ReplayIncompleteError';
  }
}

/** A backend publish whose idempotencyKey is still being published by another invocation: retry later. */
export class PublishInProgressError extends AirwaveError {
  constructor() {
    super('publish_in_progress', 'a publish with this idempotencyKey is still running; retry later for its answer');
    this.name = 'PublishInProgressError';
  }
}

/** A backend publish reusing an idempotencyKey (within its window) for a different request. */
export class IdempotencyConflictError extends AirwaveError {
  constructor() {
    super('idempotency_conflict', 'this idempotencyKey was already used for a different request');
    this.name = 'IdempotencyConflictError';
  }
}

/**
 * Thrown at $connect to refuse the upgrade with an HTTP status (API Gateway style). The status
 * of each reason is decided in one place, shared/auth/refusal.ts (AuthRefusedError).
 */
export class ConnectRefusedError extends ServiceError {
  readonly statusCode: 400 | 401 | 403;
  constructor(statusCode: 400 | 401 | 403, reason: string, options?: ErrorOptions) {
    super(reason, options);
    this.name = 'ConnectRefusedError';
    this.statusCode = statusCode;
  }
}

/** A delivery step that could not complete after its retries. Internal only. */
export class FanoutError extends ServiceError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FanoutError';
  }
}

/**
 * A batch write to the table that still had unprocessed items after its retries (the rows of a
 * `$connect`, or a cleanup's deletes). Internal only: `$connect` answers 500.
 */
export class StoreWriteError extends ServiceError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreWriteError';
  }
}

/**
 * A setting read from the environment is missing or malformed (shared/config.ts). The message
 * names the variable and what it must be, never its value (it could be a secret).
 */
export class ConfigError extends ServiceError {
  /** The environment variable at fault. */
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(message);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/**
 * The fan-out worker's event is not a batch as a publisher makes it (shared/fanout.ts
 * `parseFanoutBatch`). Nothing is posted. Lambda reports it as the invocation's FunctionError
 * (errorType `InvalidFanoutBatchError`; `code` is stable, the message names the field).
 */
export class InvalidFanoutBatchError extends ServiceError {
  readonly code = 'invalid_fanout_batch';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidFanoutBatchError';
  }
}
