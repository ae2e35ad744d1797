/**
 * AWS Signature Version 4 for one kind of request: `POST /<stage>/@connections/<id>` to API
 * Gateway's management API (service `execute-api`), signed exactly as `@smithy/signature-v4`
 * signs it with its defaults (the SDK's signer), but with the work split by how often it
 * changes, because a fan-out signs the same frame for thousands of connection ids:
 * - once per day, region and secret: the signing key (four HMACs), kept as a KeyObject;
 * - once per second: the `x-amz-date` string (SigV4 dates have one-second resolution);
 * - once per message: the payload hash and every canonical header line except the date;
 * - once per post: one SHA-256 of the canonical request and one HMAC of the string to sign.
 *
 * Pure: node:crypto only, no AWS client, no I/O. The signatures are checked against
 * `@smithy/signature-v4` in test/shared/sigv4.test.ts.
 */
import { createHash, createHmac, createSecretKey, type KeyObject, hash as oneShotHash } from 'node:crypto';

/** Credentials as the Lambda environment provides them (a session token for role credentials). */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** Signed headers, sorted as SigV4 requires. `x-amz-content-sha256` is what the SDK's signer adds. */
const SIGNED_HEADERS = 'host;x-amz-content-sha256;x-amz-date';
const SIGNED_HEADERS_WITH_TOKEN = 'host;x-amz-content-sha256;x-amz-date;x-amz-security-token';
/** Header values go on the wire and into the canonical request verbatim: printable ASCII only. */
const HEADER_SAFE = /^[\x21-\x7e]+$/;

/** SHA-256 as hex; the one-shot `crypto.hash` (Node >= 20.12) skips a Hash object per call. */
export const sha256Hex: (data: string | Buffer) => string =
  typeof oneShotHash === 'function'
    ? (data) => oneShotHash('sha256', data, 'hex')
    : (data) => createHash('sha256').update(data).digest('hex');

/** Characters RFC 3986 reserves that encodeURIComponent leaves alone. */
const RFC3986_EXTRA = /[!'()*]/;
const RFC3986_EXTRA_ALL = /[!'()*]/g;

/**
 * RFC 3986 escaping as the SDK does it (encodeURIComponent plus `! ' ( ) *`): the SDK puts a
 * connection id in the path this way, so `=`, `/`, `+` travel as `%3D`, `%2F`, `%2B`.
 */
export function escapeUri(value: string): string {
  const encoded = encodeURIComponent(value);
  // Real ids (base64) never hold these: skip the replace's callback machinery then.
  return RFC3986_EXTRA.test(encoded)
    ? encoded.replace(RFC3986_EXTRA_ALL, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    : encoded;
}

/**
 * The canonical URI of a request path, as `@smithy/signature-v4` builds it for every service but
 * S3 (`uriEscapePath: true`): dot segments removed, then the already-encoded path escaped a
 * second time with `/` kept. So `@connections` becomes `%40connections` and an id's `%3D`
 * becomes `%253D`. API Gateway computes the same string on its side, so it must match byte for byte.
 */
export function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return escapeUri(normalized).replace(/%2F/g, '/');
}

/** `YYYYMMDDTHHMMSSZ` for an epoch time in milliseconds (fractions dropped, as the SDK does). */
export function formatAmzDate(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace(/[-:]|\.\d{3}/g, '');
}

/** The day's signing key: HMAC chain over date, region, service and `aws4_request`. */
export function deriveSigningKey(secretAccessKey: string, day: string, region: string, service: string): Buffer {
  let key: Buffer = createHmac('sha256', `AWS4${secretAccessKey}`).update(day).digest();
  for (const part of [region, service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return key;
}

/** What one message (one frame for many connections) contributes to every signature. */
export interface SignedMessage {
  /** Hex SHA-256 of the body: the `x-amz-content-sha256` header and the canonical request's last line. */
  readonly payloadHash: string;
  /** Canonical request from the blank query line up to `x-amz-date:` (the date follows). */
  readonly beforeDate: string;
}

/** Options of a {@link ConnectionsSigner}. */
export interface ConnectionsSignerOptions {
  /** The Host header exactly as sent (`abc.execute-api.us-east-1.amazonaws.com`, or `127.0.0.1:3001`). */
  host: string;
  /** The path before `/@connections`, such as `/dev` (empty for a custom domain's root). */
  basePath: string;
  region: string;
  /** Current credentials; called at most once per second, so a rotation is picked up quickly. */
  credentials: () => AwsCredentials;
  service?: string;
  /** The request's method (default POST; DELETE closes a connection, with an empty body). */
  method?: 'POST' | 'DELETE';
  /** Clock in epoch ms (tests pin it). */
  now?: () => number;
}

/**
 * Signs `POST <basePath>/@connections/<id>` requests. Call {@link prepare} once per message,
 * then per post {@link tick} and {@link sign}; the request's `x-amz-date` and
 * `x-amz-security-token` headers are {@link amzDate} and {@link sessionToken} as they were
 * after that `tick`.
 *
 * @example
 * const signer = new ConnectionsSigner({ host, basePath: '/dev', region: 'us-east-1', credentials: () => creds });
 * const message = signer.prepare(body);
 * signer.tick();
 * const authorization = signer.sign(message, escapeUri('L0SM9cOFvHcCIhw='));
 * // headers: x-amz-date: signer.amzDate, x-amz-security-token: signer.sessionToken (if any)
 */
export class ConnectionsSigner {
  /** `x-amz-date` for requests signed until the next {@link tick} moves to another second. */
  amzDate = '';
  /** `x-amz-security-token` (undefined for long-term keys). */
  sessionToken: string | undefined;
  private readonly service: string;
  private readonly now: () => number;
  private readonly canonicalPrefix: string;
  private second = Number.NaN;
  private day = '';
  private credentials: AwsCredentials | undefined;
  /** The day's signing key as a KeyObject: createHmac then skips importing raw key bytes per post. */
  private key: KeyObject | undefined;
  private authorizationPrefix = '';
  private stringToSignPrefix = '';
  /** Canonical lines after the date: the token line (if any), then the signed header list. */
  private afterDate = '';

  constructor(private readonly options: ConnectionsSignerOptions) {
    this.service = options.service ?? 'execute-api';
    this.now = options.now ?? Date.now;
    if (!HEADER_SAFE.test(options.host) || !HEADER_SAFE.test(options.region))
      throw new Error('endpoint host and region must be printable ASCII');
    // The id is appended already double-escaped; the trailing '/' survives canonicalPath.
    this.canonicalPrefix = `${options.method ?? 'POST'}\n${canonicalPath(`${options.basePath}/@connections/`)}`;
    this.tick();
  }

  /** Per-message work: the body hash and the constant lines of the canonical request. */
  prepare(body: Buffer | string): SignedMessage {
    const payloadHash = sha256Hex(body);
    // Empty query string, then the canonical headers in sorted order, up to the date.
    return { payloadHash, beforeDate: `\n\nhost:${this.options.host}\nx-amz-content-sha256:${payloadHash}\nx-amz-date:` };
  }

  /**
   * The Authorization header for `POST <basePath>/@connections/<escapedId>`, dated
   * {@link amzDate}. `escapedId` is the id as it goes in the request path ({@link escapeUri});
   * it must not be empty, `.` or `..` (dot segments would be normalised away).
   */
  sign(message: SignedMessage, escapedId: string): string {
    // After escapeUri only unreserved characters and %XX remain, so escaping again touches only '%'.
    const canonicalRequest = `${this.canonicalPrefix}${escapedId.replaceAll('%', '%25')}${message.beforeDate}${this.amzDate}${this.afterDate}${message.payloadHash}`;
    const signature = createHmac('sha256', this.key as KeyObject)
      .update(`${this.stringToSignPrefix}${sha256Hex(canonicalRequest)}`)
      .digest('hex');
    return `${this.authorizationPrefix}${signature}`;
  }

  /**
   * Reads the clock. Within the same second it does nothing more; on a new second it re-reads
   * the credentials (picking up a rotation) and on a new day or secret re-derives the key.
   */
  tick(): void {
    const now = this.now();
    const second = Math.floor(now / 1000);
    if (second === this.second) return;
    this.second = second;
    this.amzDate = formatAmzDate(now);
    const day = this.amzDate.slice(0, 8);
    const raw = this.options.credentials();
    // The SDK treats an empty token as none (AWS_SESSION_TOKEN may be set but empty).
    const credentials: AwsCredentials = {
      accessKeyId: raw.accessKeyId,
      secretAccessKey: raw.secretAccessKey,
      sessionToken: raw.sessionToken || undefined,
    };
    const previous = this.credentials;
    const keyChanged = day !== this.day || previous?.secretAccessKey !== credentials.secretAccessKey;
    if (keyChanged || previous?.accessKeyId !== credentials.accessKeyId || previous?.sessionToken !== credentials.sessionToken) {
      validateCredentials(credentials);
      const token = credentials.sessionToken;
      const scope = `${day}/${this.options.region}/${this.service}/aws4_request`;
      const signedHeaders = token === undefined ? SIGNED_HEADERS : SIGNED_HEADERS_WITH_TOKEN;
      if (keyChanged) this.key = createSecretKey(deriveSigningKey(credentials.secretAccessKey, day, this.options.region, this.service));
      this.authorizationPrefix = `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=`;
      this.afterDate = `${token === undefined ? '' : `\nx-amz-security-token:${token}`}\n\n${signedHeaders}\n`;
      this.credentials = credentials;
      this.sessionToken = token;
      this.day = day;
    }
    this.stringToSignPrefix = `${ALGORITHM}\n${this.amzDate}\n${day}/${this.options.region}/${this.service}/aws4_request\n`;
  }
}

/** Refuses credentials that would corrupt the request (CR/LF, spaces): they go into headers verbatim. */
function validateCredentials(credentials: AwsCredentials): void {
  const { accessKeyId, secretAccessKey, sessionToken } = credentials;
  if (!accessKeyId || !secretAccessKey || !HEADER_SAFE.test(accessKeyId)) throw new Error('AWS credentials are missing or malformed');
  if (sessionToken !== undefined && !HEADER_SAFE.test(sessionToken)) throw new Error('AWS session token is malformed');
}
