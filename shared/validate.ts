/**
 * Pure input checks for client frames. Imports no AWS client.
 */
import { BadJsonError, BadRequestError, InvalidChannelError, MessageTooLargeError } from './errors.js';
import { API_GATEWAY_FRAME_BYTES, CHANNEL_NAME_PATTERN, FORBIDDEN_JSON_KEYS, MAX_JSON_DEPTH } from './limits.js';

/** Throws InvalidChannelError unless `value` is a valid channel name. */
export function assertChannel(value: unknown): asserts value is string {
  if (typeof value !== 'string' || !CHANNEL_NAME_PATTERN.test(value)) throw new InvalidChannelError();
}

/**
 * Walks a parsed JSON value without recursion (a 5,000-deep array must not overflow the stack
 * here, nor later in JSON.stringify) and refuses it when it is too deep or has a key that would
 * let a later merge or spread pollute Object.prototype.
 */
export function assertSafeJson(value: unknown, maxDepth = MAX_JSON_DEPTH): void {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (node === null || typeof node !== 'object') continue;
    if (depth > maxDepth) throw new BadRequestError(`JSON is nested deeper than ${maxDepth} levels`);
    if (Array.isArray(node)) {
      for (const item of node) stack.push([item, depth + 1]);
    } else {
      for (const key of Object.keys(node)) {
        if (FORBIDDEN_JSON_KEYS.has(key)) throw new BadRequestError(`key "${key}" is not allowed`);
        stack.push([(node as Record<string, unknown>)[key], depth + 1]);
      }
    }
  }
}

/**
 * Parses a client frame body into a plain object. Anything that is not a JSON object (arrays,
 * strings, numbers, invalid JSON, binary frames) is `bad_json`.
 */
export function parseFrame(body: string | undefined | null, isBase64Encoded = false): Record<string, unknown> {
  if (typeof body !== 'string' || body.length === 0 || isBase64Encoded) throw new BadJsonError();
  if (Buffer.byteLength(body) > API_GATEWAY_FRAME_BYTES * 4) throw new BadRequestError('frame is too large');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new BadJsonError('frame is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BadJsonError();
  assertSafeJson(parsed);
  return parsed as Record<string, unknown>;
}

/** Serialized size of a message payload, the figure MaxMessageBytes limits. */
export function messageBytes(message: unknown): number {
  const text = JSON.stringify(message);
  return text === undefined ? 0 : Buffer.byteLength(text);
}

/** Throws unless `message` is present (any JSON value but undefined) and within `limit` bytes. */
export function assertMessage(message: unknown, limit: number): void {
  if (message === undefined) throw new BadRequestError('"message" is required');
  if (messageBytes(message) > limit) throw new MessageTooLargeError(limit);
}

/** Optional non-negative integer field (for example `since`). */
export function optionalSeq(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new BadRequestError(`"${field}" must be a non-negative integer`);
  }
  return value;
}

/** Splits `?channels=a,b` into validated, de-duplicated names. */
export function parseChannelList(raw: string | undefined | null): string[] {
  if (!raw) return [];
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const name of names) assertChannel(name);
  return [...new Set(names)];
}
