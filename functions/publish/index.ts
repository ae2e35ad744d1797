/**
 * PublishFunction: server-side broadcast, invoked by a backend (IAM is its auth):
 *   {"channel": C, "message": M}  or  {"channels": [C...], "messages": [M...]}
 * plus an optional "idempotencyKey" that makes retries safe (docs/publishing.md).
 * Each message goes to each channel as its own frame. Bad input throws (the caller sees a
 * FunctionError with a stable code), nothing is published. A publish that cannot finish answers
 * `complete: false` with what went out and what did not.
 */
import { publishRequest } from '../../shared/server-publish.js';

export const handler = publishRequest;
