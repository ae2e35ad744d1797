/**
 * The one `ws` test client: opens a socket (rejecting with `{ status }` when the upgrade is
 * refused), keeps every frame it receives (parsed JSON, else `{ raw }`), and waits for frames.
 *
 * Two ways to wait, because tests need both:
 * - `waitFor(predicate)` looks at everything received so far and leaves it there (for a test
 *   that asks "has this arrived?" more than once, or reads `frames` afterwards);
 * - `next(predicate)` takes the first matching frame out of `frames` (for a test that reads a
 *   sequence of frames of the same type one by one).
 *
 * The only other WebSocket clients in the tests are there on purpose: the seed article's
 * reconnecting-websocket client (test/local/apigateway/websocket-api.test.ts), the browser's
 * own WebSocket (test/e2e/*.browser.test.ts), and the product's client in client/.
 */
import WebSocket from 'ws';

export type Frame = Record<string, unknown>;

/** How long a test waits for something that should happen (cold starts on a busy 2-core machine included). */
export const WAIT_MS = 20_000;

export interface OpenOptions {
  origin?: string;
  protocols?: string[];
  headers?: Record<string, string>;
  /** Source address (127.0.0.x): a different source IP, as another client would have. */
  localAddress?: string;
}

export class TestClient {
  readonly frames: Frame[] = [];
  /** Resolves with the close code and reason once the socket has closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  private listeners: Array<(frame: Frame) => void> = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const text = String(data);
      let frame: Frame;
      try {
        frame = JSON.parse(text);
      } catch {
        frame = { raw: text };
      }
      this.frames.push(frame);
      for (const listener of [...this.listeners]) listener(frame);
    });
    this.closed = new Promise((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Opens a connection; rejects with `{ status }` when the upgrade is refused. */
  static connect(url: string, protocols: string[] = [], options?: WebSocket.ClientOptions): Promise<TestClient> {
    const socket = new WebSocket(url, protocols, options);
    const client = new TestClient(socket);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(client));
      socket.once('unexpected-response', (_req, res) => {
        reject(Object.assign(new Error(`upgrade refused with ${res.statusCode}`), { status: res.statusCode }));
        socket.terminate();
      });
      socket.once('error', reject);
    });
  }

  /** The underlying `ws` socket (same as `socket`). */
  get ws(): WebSocket {
    return this.socket;
  }

  /** Sends `frame` as JSON; a string is sent as it is (to test malformed frames). */
  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Sends `text` as it is. */
  sendRaw(text: string): void {
    this.socket.send(text);
  }

  /** Frames matching `predicate` so far. */
  matching(predicate: (frame: Frame) => boolean): Frame[] {
    return this.frames.filter(predicate);
  }

  /** Waits for a frame matching `predicate` (already received or still to come) and leaves it in `frames`. */
  waitFor(predicate: (frame: Frame) => boolean, what = 'a frame', timeoutMs = WAIT_MS): Promise<Frame> {
    return this.wait(predicate, false, `no ${what} within ${timeoutMs} ms; frames: `, timeoutMs);
  }

  /** Takes the first frame matching `predicate` (already received or still to come) out of `frames`. */
  next(predicate: (frame: Frame) => boolean = () => true, timeoutMs = 15_000): Promise<Frame> {
    return this.wait(predicate, true, `no matching frame within ${timeoutMs} ms; got `, timeoutMs);
  }

  /** Closes the socket; resolves once it is closed. */
  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    this.socket.close();
    return this.closed.then(() => undefined);
  }

  private wait(predicate: (frame: Frame) => boolean, take: boolean, failure: string, timeoutMs: number): Promise<Frame> {
    const found = (frame: Frame): Frame => {
      if (take) this.frames.splice(this.frames.indexOf(frame), 1);
      return frame;
    };
    const seen = this.frames.find(predicate);
    if (seen) return Promise.resolve(found(seen));
    return new Promise((resolve, reject) => {
      const listener = (frame: Frame) => {
        // A frame another `next` already took is not there to take again.
        if (!predicate(frame) || (take && !this.frames.includes(frame))) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== listener);
        resolve(found(frame));
      };
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== listener);
        reject(new Error(`${failure}${JSON.stringify(this.frames)}`));
      }, timeoutMs);
      this.listeners.push(listener);
    });
  }
}

/** Opens a socket with `options`; rejects with `{ status }` when the server refuses the upgrade. */
export function openClient(url: string, options: OpenOptions = {}): Promise<TestClient> {
  return TestClient.connect(url, options.protocols ?? [], {
    origin: options.origin,
    headers: options.headers,
    localAddress: options.localAddress,
  });
}

/** The HTTP status of a refused upgrade (throws if the connection was accepted). */
export async function refusedStatus(url: string, options: OpenOptions = {}): Promise<number> {
  try {
    const client = await openClient(url, options);
    await client.close();
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status !== undefined) return status;
    throw error;
  }
  throw new Error('the connection was accepted');
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
