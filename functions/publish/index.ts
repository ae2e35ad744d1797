/**
 * PublishFunction: server-side broadcast, invoked by a backend (IAM is its auth):
 *   {"channel": C, "message": M}  or  {"channels": [C...], "messages": [M...]}
 * Each message goes to each channel as its own frame. Bad input throws (the caller sees a
 * FunctionError with a stable code), nothing is published.
 */
import { publishRequest } from '../../shared/server-publish.js';

export const handler = publishRequest;
