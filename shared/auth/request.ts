/**
 * Reading the parts of a `$connect` authorizer request that decide access: the Origin header,
 * the token and the requested channels. Pure: no AWS client.
 *
 * Header names arrive in whatever case the client (or a proxy) used, and API Gateway does not
 * normalise them reliably, so every lookup here is case-insensitive and also reads
 * `multiValueHeaders`, where a repeated header shows its every value.
 */
import { AuthRefusedError } from './refusal.js';

/** The fields of API Gateway's REQUEST authorizer event that this module reads. */
export interface AuthorizerRequest {
  headers?: Record<string, string | undefined> | null;
  multiValueHeaders?: Record<string, string[] | undefined> | null;
  queryStringParameters?: Record<string, string | undefined> | null;
}

/** Longest token accepted, in characters: far above real JWTs, far below API Gateway's limits. */
export const MAX_TOKEN_LENGTH = 4096;

/**
 * Three base64url segments (the signature may be empty, as in `alg: none`, so that such a token
 * is found and then refused by verification with a precise code rather than passed over).
 */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Where the token came from, for logs (never the token itself). */
export type TokenSource = 'query' | 'subprotocol';

/** Every value of a header, whatever the case of its name, de-duplicated. */
export function headerValues(request: AuthorizerRequest, name: string): string[] {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const [key, value] of Object.entries(request.multiValueHeaders ?? {})) {
    if (key.toLowerCase() === wanted && Array.isArray(value)) values.push(...value);
  }
  for (const [key, value] of Object.entries(request.headers ?? {})) {
    if (key.toLowerCase() === wanted && typeof value === 'string') values.push(value);
  }
  return [...new Set(values)];
}

/**
 * The request's Origin: `undefined` when absent (not a browser), `null` when the request carries
 * several different Origin values, which no browser sends (the caller refuses it).
 */
export function originOf(request: AuthorizerRequest): string | null | undefined {
  const values = headerValues(request, 'origin');
  if (values.length === 0) return undefined;
  return values.length === 1 ? values[0] : null;
}

/**
 * The JWT of a request: from `?token=`, or from `Sec-WebSocket-Protocol`, where a browser puts
 * it with `new WebSocket(url, ['airwave', token])` (the header reads `airwave, <jwt>`; the entry
 * that has a JWT's shape is the token). Returns `undefined` when there is none; throws
 * `token_too_long` past MAX_TOKEN_LENGTH and `token_ambiguous` when two different tokens are
 * offered (which one the client meant is not ours to guess).
 */
export function tokenOf(request: AuthorizerRequest): { token: string; source: TokenSource } | undefined {
  const found: Array<{ token: string; source: TokenSource }> = [];
  const query = request.queryStringParameters?.token?.trim();
  if (query) found.push({ token: query, source: 'query' });
  for (const header of headerValues(request, 'sec-websocket-protocol')) {
    for (const entry of header.split(',').map((s) => s.trim())) {
      if (entry.length > MAX_TOKEN_LENGTH) throw new AuthRefusedError('token_too_long');
      if (JWT_SHAPE.test(entry)) found.push({ token: entry, source: 'subprotocol' });
    }
  }
  if (found.length === 0) return undefined;
  if (new Set(found.map((f) => f.token)).size > 1) throw new AuthRefusedError('token_ambiguous');
  const chosen = found.find((f) => f.source === 'subprotocol') ?? found[0];
  if (chosen.token.length > MAX_TOKEN_LENGTH) throw new AuthRefusedError('token_too_long');
  return chosen;
}

/**
 * The channel names of `?channels=a,b`, split the way `$connect` splits them. Names are not
 * validated here: `$connect` answers a malformed name with 400; the authorizer only decides
 * whether the rights cover each name.
 */
export function requestedChannels(request: AuthorizerRequest): string[] {
  const raw = request.queryStringParameters?.channels;
  if (!raw) return [];
  return [
    ...new Set(
      raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    ),
  ];
}
