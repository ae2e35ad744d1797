/**
 * The bulk fan-out poster: one frame to many connections for a tenth of the SDK's CPU.
 *
 * SDK v3 spends ~600-900 µs of CPU per `PostToConnectionCommand` (middleware stack, endpoint
 * rules, retry bookkeeping, request/response objects, a full SigV4 pass); at 20k subscribers a
 * 1-vCPU Lambda is CPU-bound long before AWS's 10,000 posts/s throttle. This poster keeps what
 * the service requires and drops the rest:
 * - signing stays, split by how often its inputs change (shared/sigv4.ts): key per day,
 *   date per second, payload hash per message; per post one SHA-256 and one HMAC;
 * - the request is one pre-built buffer per message (constant headers and body) behind a
 *   short per-post head (request line, date, signature), written in one `socket.write`;
 * - HTTP/1.1 is spoken directly over keep-alive sockets, one request at a time per socket (no
 *   pipelining: a 429 or a server close would take the queued requests with it), at most
 *   `maxSockets` sockets; node:http's ClientRequest/IncomingMessage objects cost more CPU
 *   than the whole signature. The response parser (shared/http-response-parser.ts) reads only
 *   what the outcome and socket reuse need: status, Content-Length or chunked framing,
 *   `Connection: close`.
 *
 * Outcomes as shared/poster.ts defines them: 2xx ok, 410 gone, 429 throttled, anything else
 * (403, 413, 5xx, a reset socket, a timeout) failed, which the fan-out retries.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { config } from './config.js';
import { parseResponse } from './http-response-parser.js';
import { DEFAULT_POST_CONCURRENCY, POST_TIMEOUT_MS } from './limits.js';
import type { ConnectionCloser, Poster, PostOutcome } from './poster.js';
import { type AwsCredentials, ConnectionsSigner, type ConnectionsSignerOptions, escapeUri, type SignedMessage } from './sigv4.js';

/**
 * An idle socket older than this is not reused. Its inactivity timer normally closes it first,
 * but after a Lambda freeze the timer has not run yet while the server (Node's default
 * keep-alive is 5 s) may long have closed its end: a post on it would fail.
 */
const IDLE_REUSE_MS = 4_000;
/** No @connections response is this large; a peer that sends more is not API Gateway. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * node:net and node:tls are loaded when the first socket opens, with `require`, not imported:
 * loading node:tls is ~60 M instructions of a cold start (~15-20 ms; docs/benchmarks.md, "Cold
 * start"), and most containers of ping and $default never open a socket (they post only to close
 * a flooding connection). The SDK routes load it anyway, with the SDK's HTTP handler.
 * `require` of a builtin works in the bundles and under tsx alike.
 */
const requireBuiltin = createRequire(import.meta.url);
let sockets: { net: typeof import('node:net'); tls: typeof import('node:tls') } | undefined;
const socketModules = () => (sockets ??= { net: requireBuiltin('node:net'), tls: requireBuiltin('node:tls') });

/** Options of a {@link FastPoster}. */
export interface FastPosterOptions {
  /** `https://<api-id>.execute-api.<region>.amazonaws.com/<stage>` (default CONNECTIONS_ENDPOINT). */
  endpoint?: string;
  /** Default: from the endpoint host, else AWS_REGION. */
  region?: string;
  /** Default: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, re-read every second. */
  credentials?: AwsCredentials | (() => AwsCredentials);
  /** Sockets at most; match the fan-out's concurrency (default DEFAULT_POST_CONCURRENCY). */
  maxSockets?: number;
  /**
   * A post whose socket stays silent this long fails (the fan-out retries it); an idle socket
   * silent this long is closed (default POST_TIMEOUT_MS).
   */
  timeoutMs?: number;
  /** Clock in epoch ms (tests). */
  now?: () => number;
  /** Certificate authority to trust instead of Node's bundled roots (tests with a self-signed endpoint). */
  ca?: string | Buffer;
}

/** One message, prepared once for every post of a fan-out (or the one empty-bodied DELETE). */
interface Prepared {
  method: 'POST' | 'DELETE';
  /** The signer for `method` (the method is part of every signature). */
  signer: ConnectionsSigner;
  data: string;
  signed: SignedMessage;
  /** Constant headers, blank line and body, for one session token. */
  tail: Buffer;
  token: string | undefined;
}

interface Waiter {
  path: string;
  prepared: Prepared;
  resolve: (outcome: PostOutcome) => void;
}

/** One keep-alive socket and the one request it carries. */
interface Connection {
  socket: Socket;
  resolve: ((outcome: PostOutcome) => void) | undefined;
  buffered: Buffer | undefined;
  idleSince: number;
  dead: boolean;
}

const fromEnvironment = (): AwsCredentials => ({
  accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '',
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '',
  sessionToken: process.env.AWS_SESSION_TOKEN,
});

/** The region in an `<api-id>.execute-api.<region>.amazonaws.com[.cn]` host name, if it is one. */
export function regionFromHost(hostname: string): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(hostname)?.[1];
}

/** Maps an HTTP status to a post outcome. */
export function outcomeOfStatus(status: number): PostOutcome {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 410) return 'gone';
  if (status === 429) return 'throttled';
  return 'failed';
}

/**
 * A {@link Poster} for fan-out. Construct one per container (it holds the sockets) and
 * {@link close} it when done in scripts and tests. Throws at construction if the endpoint,
 * region or credentials are missing.
 *
 * @example
 * const poster = new FastPoster({ maxSockets: 64 });
 * const report = await deliver(pages, frame, { poster, concurrency: 64, pace });
 */
export class FastPoster implements Poster, ConnectionCloser {
  private readonly secure: boolean;
  private readonly hostname: string;
  private readonly port: number;
  private readonly host: string;
  private readonly basePath: string;
  private readonly signer: ConnectionsSigner;
  private readonly signerOptions: ConnectionsSignerOptions;
  /** Built on the first {@link disconnect}: most containers never close a connection. */
  private deleteSigner: ConnectionsSigner | undefined;
  private deletePrepared: Prepared | undefined;
  private readonly maxSockets: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly ca: string | Buffer | undefined;
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private waiting: Waiter[] = [];
  private waitingHead = 0;
  private lastData: string | undefined;
  private lastPrepared: Prepared | undefined;
  private tlsSession: Buffer | undefined;
  private closed = false;
  /** Sockets opened so far (keep-alive working means few). */
  socketsOpened = 0;

  constructor(options: FastPosterOptions = {}) {
    const endpoint = options.endpoint ?? config().connectionsEndpoint;
    if (!endpoint) throw new Error('CONNECTIONS_ENDPOINT is not set');
    const url = new URL(endpoint);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('the connections endpoint must be http(s)');
    this.secure = url.protocol === 'https:';
    this.hostname = url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(url.port || (this.secure ? 443 : 80));
    this.host = url.host; // as the SDK sends it: the port only when it is not the default
    this.basePath = url.pathname.replace(/\/+$/, '');
    const region = options.region ?? regionFromHost(url.hostname) ?? process.env.AWS_REGION;
    if (!region) throw new Error('no region: pass one, use an execute-api endpoint, or set AWS_REGION');
    const credentials = options.credentials ?? fromEnvironment;
    this.now = options.now ?? Date.now;
    this.signerOptions = {
      host: this.host,
      basePath: this.basePath,
      region,
      credentials: typeof credentials === 'function' ? credentials : () => credentials,
      now: this.now,
    };
    this.signer = new ConnectionsSigner(this.signerOptions);
    this.maxSockets = Math.max(1, options.maxSockets ?? DEFAULT_POST_CONCURRENCY);
    this.timeoutMs = options.timeoutMs ?? POST_TIMEOUT_MS;
    this.ca = options.ca;
  }

  post(connectionId: string, data: string): Promise<PostOutcome> {
    return this.request(connectionId, () => this.prepare(data));
  }

  /**
   * `DELETE @connections/{id}`: API Gateway closes the connection (its `$disconnect` runs).
   * Signed like a post, over the same sockets. `ok` when closed, `gone` when it already was.
   */
  disconnect(connectionId: string): Promise<PostOutcome> {
    return this.request(connectionId, () => this.prepareDelete());
  }

  private request(connectionId: string, prepare: () => Prepared): Promise<PostOutcome> {
    // An empty or dot-segment id would be normalised out of the signed path: never a real id.
    if (this.closed || connectionId === '' || connectionId === '.' || connectionId === '..') return Promise.resolve('failed');
    let path: string;
    let prepared: Prepared;
    try {
      path = escapeUri(connectionId);
      prepared = prepare();
    } catch {
      // A lone UTF-16 surrogate cannot be URI-encoded; a DELETE signer needs valid credentials.
      return Promise.resolve('failed');
    }
    return new Promise((resolve) => {
      const connection = this.acquire();
      if (connection) this.send(connection, path, prepared, resolve);
      else this.waiting.push({ path, prepared, resolve });
    });
  }

  /** Destroys every socket; posts still in flight resolve `failed`. */
  async close(): Promise<void> {
    this.closed = true;
    for (const connection of this.all) this.fail(connection);
    for (let i = this.waitingHead; i < this.waiting.length; i++) this.waiting[i].resolve('failed');
    this.waiting = [];
    this.waitingHead = 0;
  }

  /** Body, hash and constant headers, once per message (every post of a fan-out has the same data). */
  private prepare(data: string): Prepared {
    const token = this.signer.sessionToken;
    const last = this.lastPrepared;
    if (last !== undefined && data === this.lastData && last.token === token) return last;
    const body = Buffer.from(data, 'utf8');
    const signed = last !== undefined && data === this.lastData ? last.signed : this.signer.prepare(body);
    // Content-Type and Content-Length are sent as the SDK sends them but not signed: the signature already covers the body's hash.
    const head =
      `Host: ${this.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n` +
      `X-Amz-Content-Sha256: ${signed.payloadHash}\r\n${token === undefined ? '' : `X-Amz-Security-Token: ${token}\r\n`}\r\n`;
    const tail = Buffer.allocUnsafe(head.length + body.length);
    tail.write(head, 0, 'latin1');
    body.copy(tail, head.length);
    this.lastData = data;
    this.lastPrepared = { method: 'POST', signer: this.signer, data, signed, tail, token };
    return this.lastPrepared;
  }

  /** The DELETE's constant part: no body, so no Content-Type or Content-Length. */
  private prepareDelete(): Prepared {
    this.deleteSigner ??= new ConnectionsSigner({ ...this.signerOptions, method: 'DELETE' });
    const signer = this.deleteSigner;
    const token = signer.sessionToken;
    const last = this.deletePrepared;
    if (last !== undefined && last.token === token) return last;
    const signed = last?.signed ?? signer.prepare('');
    const head = `Host: ${this.host}\r\nX-Amz-Content-Sha256: ${signed.payloadHash}\r\n${token === undefined ? '' : `X-Amz-Security-Token: ${token}\r\n`}\r\n`;
    this.deletePrepared = { method: 'DELETE', signer, data: '', signed, tail: Buffer.from(head, 'latin1'), token };
    return this.deletePrepared;
  }

  private send(connection: Connection, path: string, prepared: Prepared, resolve: (outcome: PostOutcome) => void): void {
    let head: string;
    try {
      const signer = prepared.signer;
      signer.tick();
      // A new session token (credentials re-read each second) changes the constant headers.
      if (prepared.token !== signer.sessionToken)
        prepared = prepared.method === 'POST' ? this.prepare(prepared.data) : this.prepareDelete();
      head = `${prepared.method} ${this.basePath}/@connections/${path} HTTP/1.1\r\nX-Amz-Date: ${signer.amzDate}\r\nAuthorization: ${signer.sign(prepared.signed, path)}\r\n`;
    } catch {
      this.release(connection); // credentials vanished or malformed: nothing to send
      resolve('failed');
      return;
    }
    connection.resolve = resolve;
    // One buffer, one write, one syscall: the head is ASCII by construction (escaped id, hex, dates).
    const request = Buffer.allocUnsafe(head.length + prepared.tail.length);
    request.write(head, 0, 'latin1');
    prepared.tail.copy(request, head.length);
    connection.socket.write(request);
  }

  /** An idle socket young enough to reuse, or a new one within the bound, or nothing (then the post waits). */
  private acquire(): Connection | undefined {
    const now = this.now();
    for (let connection = this.idle.pop(); connection !== undefined; connection = this.idle.pop()) {
      if (connection.dead) continue;
      if (now - connection.idleSince > IDLE_REUSE_MS) {
        this.fail(connection);
        continue;
      }
      connection.socket.ref();
      return connection;
    }
    return this.all.size < this.maxSockets ? this.open() : undefined;
  }

  /** Hands a socket whose request completed to the next waiting post, or parks it. */
  private release(connection: Connection): void {
    if (this.waitingHead < this.waiting.length) {
      const next = this.waiting[this.waitingHead++];
      if (this.waitingHead === this.waiting.length) {
        this.waiting = [];
        this.waitingHead = 0;
      }
      this.send(connection, next.path, next.prepared, next.resolve);
      return;
    }
    connection.idleSince = this.now();
    // Like http.Agent: an idle socket does not keep a script (or a test) alive.
    connection.socket.unref();
    this.idle.push(connection);
  }

  private open(): Connection {
    this.socketsOpened++;
    const { net, tls } = socketModules();
    const socket = this.secure
      ? tls.connect({
          host: this.hostname,
          port: this.port,
          servername: net.isIP(this.hostname) ? undefined : this.hostname,
          ALPNProtocols: ['http/1.1'],
          session: this.tlsSession,
          ca: this.ca,
        })
      : net.connect({ host: this.hostname, port: this.port });
    const connection: Connection = { socket, resolve: undefined, buffered: undefined, idleSince: 0, dead: false };
    this.all.add(connection);
    socket.setNoDelay(true); // one write per request already; Nagle would only add latency
    // Inactivity: fails a post with no answer, and closes a socket idle that long.
    socket.setTimeout(this.timeoutMs);
    socket.on('timeout', () => this.fail(connection));
    socket.on('error', () => this.fail(connection)); // reported as `failed`; the error may carry internals, never logged
    socket.on('close', () => this.fail(connection));
    socket.on('end', () => this.fail(connection));
    socket.on('data', (chunk: Buffer) => this.onData(connection, chunk));
    if (this.secure) socket.on('session', (session: Buffer) => (this.tlsSession = session)); // resumption saves a full handshake's CPU
    return connection;
  }

  /** Ends a socket: its post (if any) fails; a waiting post gets a fresh socket. */
  private fail(connection: Connection): void {
    if (connection.dead) return;
    connection.dead = true;
    this.all.delete(connection);
    connection.socket.destroy();
    const resolve = connection.resolve;
    connection.resolve = undefined;
    resolve?.('failed');
    if (!this.closed && this.waitingHead < this.waiting.length) {
      const fresh = this.acquire();
      if (fresh) this.release(fresh);
    }
  }

  private onData(connection: Connection, chunk: Buffer): void {
    const resolve = connection.resolve;
    if (resolve === undefined) {
      this.fail(connection); // bytes nobody asked for: not a server to trust
      return;
    }
    const data = connection.buffered === undefined ? chunk : Buffer.concat([connection.buffered, chunk]);
    const parsed = parseResponse(data);
    if (parsed === 'incomplete') {
      if (data.length > MAX_RESPONSE_BYTES)
        this.fail(connection); // its post fails
      else connection.buffered = data;
      return;
    }
    connection.buffered = undefined;
    if (parsed === 'invalid') {
      this.fail(connection);
      return;
    }
    connection.resolve = undefined;
    // Extra bytes after the response, or a server closing: resolve, then drop the socket.
    if (!parsed.keepAlive || parsed.end !== data.length) this.fail(connection);
    else this.release(connection);
    resolve(outcomeOfStatus(parsed.status));
  }
}
