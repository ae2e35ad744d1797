/**
 * A `ws` client for end-to-end tests: opens a socket (reporting the HTTP status when the upgrade
 * is refused), keeps every frame it receives, and waits for frames by predicate.
 */
import WebSocket from 'ws';

export type Frame = Record<string, unknown>;

export interface TestClient {
  ws: WebSocket;
  frames: Frame[];
  send(frame: unknown): void;
  sendRaw(text: string): void;
  next(predicate?: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  close(): Promise<void>;
}

export interface OpenOptions {
  origin?: string;
  protocols?: string[];
  headers?: Record<string, string>;
  /** Source address (127.0.0.x): a different source IP, as another client would have. */
  localAddress?: string;
}

/** Opens a socket; rejects with `{ status }` when the server refuses the upgrade. */
export function openClient(url: string, options: OpenOptions = {}): Promise<TestClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [], {
      origin: options.origin,
      headers: options.headers,
      localAddress: options.localAddress,
    });
    const frames: Frame[] = [];
    const waiters: Array<{ predicate: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
    ws.on('message', (data) => {
      let frame: Frame;
      try {
        frame = JSON.parse(String(data));
      } catch {
        frame = { raw: String(data) };
      }
      frames.push(frame);
      for (const w of [...waiters]) {
        if (w.predicate(frame)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(frame);
        }
      }
    });
    ws.once('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`upgrade refused with ${res.statusCode}`), { status: res.statusCode }));
      ws.terminate();
    });
    ws.once('error', (error) => reject(error));
    ws.once('open', () =>
      resolve({
        ws,
        frames,
        send: (frame) => ws.send(JSON.stringify(frame)),
        sendRaw: (text) => ws.send(text),
        next(predicate = () => true, timeoutMs = 15_000) {
          const seen = frames.find(predicate);
          if (seen) {
            frames.splice(frames.indexOf(seen), 1);
            return Promise.resolve(seen);
          }
          return new Promise((res, rej) => {
            const timer = setTimeout(
              () => rej(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames)}`)),
              timeoutMs,
            );
            waiters.push({
              predicate,
              resolve: (f) => {
                clearTimeout(timer);
                frames.splice(frames.indexOf(f), 1);
                res(f);
              },
            });
          });
        },
        close: () =>
          new Promise<void>((res) => {
            if (ws.readyState === WebSocket.CLOSED) return res();
            ws.once('close', () => res());
            ws.close();
          }),
      }),
    );
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
