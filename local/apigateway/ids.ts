/**
 * Identifiers in API Gateway's own formats, so code and tests that handle them locally handle
 * the real ones too.
 */
import { randomBytes, randomUUID } from 'node:crypto';

/**
 * A connection id like API Gateway's (`L0SM9cOFvHcCIhw=`): 11 random bytes in standard base64,
 * 16 characters ending in `=`, and possibly `+` or `/`. Real ids need URL-encoding in
 * @connections paths; local ones need it just as much, so a client that forgets fails here first.
 */
export const newConnectionId = (): string => randomBytes(11).toString('base64');

/** Request, extended request and message ids share the connection id's shape on API Gateway. */
export const newRequestId = newConnectionId;

/** A Lambda request id (a UUID, as `context.awsRequestId`). */
export const newLambdaRequestId = (): string => randomUUID();

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `requestContext.requestTime` as API Gateway writes it: `28/Nov/2026:18:40:12 +0000`. */
export function requestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}
