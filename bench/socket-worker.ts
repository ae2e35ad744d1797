/**
 * One client process of bench/sockets.ts (forked, driven over IPC): opens `count` WebSockets to
 * the API from its own loopback source address (28k ephemeral ports per address, and one
 * process holds < 20,000 files), then timestamps every delivery of the benchmark message.
 *
 * Latency is receive time minus the message's `sentAt`, both epoch ms from
 * `performance.timeOrigin + performance.now()`: every process runs on the same machine and clock.
 *
 * IPC, parent → worker: `connect`, `report`, `close`. Worker → parent: `connected` (once all
 * attempts ended), `done` (every socket received the message), `report`, `closed`.
 */
import WebSocket from 'ws';
import { createPacer } from '../shared/pacer.js';

/** What the parent sends. */
export type WorkerCommand =
  | {
      cmd: 'connect';
      url: string;
      count: number;
      localAddress?: string;
      /** Connection attempts in flight. */
      concurrency: number;
      /** New connections per second from this worker (API Gateway allows 500/s per account). */
      ratePerSecond: number;
      headers?: Record<string, string>;
    }
  | { cmd: 'report' }
  | { cmd: 'close' };

/** What the worker answers. */
export type WorkerMessage =
  | { type: 'connected'; open: number; failed: number; firstOpenAt: number; lastOpenAt: number; startedAt: number; errors: string[] }
  | { type: 'done' }
  | { type: 'report'; received: number; duplicates: number; latenciesMs: number[]; lastReceiveAt: number; closedEarly: number }
  | { type: 'closed' };

/** A failed connection attempt is retried this many times (a 429 on API Gateway's 500/s connect quota, say). */
const CONNECT_ATTEMPTS = 3;
const RETRY_DELAY_MS = 1_000;
/** How long one handshake may take. */
const HANDSHAKE_TIMEOUT_MS = 30_000;
/** Distinct connect errors kept for the report. */
const MAX_ERRORS = 5;

const epochNow = (): number => performance.timeOrigin + performance.now();
const send = (message: WorkerMessage): void => void process.send?.(message);

const sockets: WebSocket[] = [];
const latencies: number[] = [];
let expected = 0;
let duplicates = 0;
let closedEarly = 0;
let lastReceiveAt = 0;
let closing = false;

/** Records the benchmark message's delivery to one socket (other frames, such as acks, are ignored). */
function onFrame(seen: { got: boolean }, data: WebSocket.RawData): void {
  const at = epochNow();
  let frame: { type?: string; message?: { sentAt?: number } };
  try {
    frame = JSON.parse(data.toString());
  } catch {
    return;
  }
  const sentAt = frame?.type === 'message' ? frame.message?.sentAt : undefined;
  if (typeof sentAt !== 'number') return;
  if (seen.got) {
    duplicates++;
    return;
  }
  seen.got = true;
  latencies.push(at - sentAt);
  lastReceiveAt = Math.max(lastReceiveAt, at);
  if (latencies.length === expected) send({ type: 'done' });
}

function open(url: string, localAddress: string | undefined, headers: Record<string, string> | undefined): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { localAddress, headers, perMessageDeflate: false, handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_req, res) => {
      socket.terminate();
      reject(new Error(`HTTP ${res.statusCode}`));
    });
    socket.once('error', reject);
  });
}

async function connectAll(command: Extract<WorkerCommand, { cmd: 'connect' }>): Promise<void> {
  expected = command.count;
  const pace = createPacer({
    ratePerSecond: command.ratePerSecond,
    burst: Math.max(1, Math.min(command.concurrency, command.ratePerSecond)),
  });
  const errors = new Set<string>();
  let failed = 0;
  let firstOpenAt = 0;
  let lastOpenAt = 0;
  let next = 0;
  const startedAt = epochNow();
  const lane = async () => {
    while (next < command.count && !closing) {
      next++;
      for (let attempt = 1; ; attempt++) {
        await pace();
        try {
          const socket = await open(command.url, command.localAddress, command.headers);
          const seen = { got: false };
          socket.on('message', (data) => onFrame(seen, data));
          socket.on('close', () => {
            if (!closing) closedEarly++;
          });
          socket.on('error', () => undefined); // a reset shows as 'close'
          sockets.push(socket);
          lastOpenAt = epochNow();
          firstOpenAt ||= lastOpenAt;
          break;
        } catch (error) {
          if (errors.size < MAX_ERRORS) errors.add((error as Error).message);
          if (attempt >= CONNECT_ATTEMPTS) {
            failed++;
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(command.concurrency, command.count) }, lane));
  expected = sockets.length;
  send({ type: 'connected', open: sockets.length, failed, firstOpenAt, lastOpenAt, startedAt, errors: [...errors] });
}

async function closeAll(): Promise<void> {
  closing = true;
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.readyState === WebSocket.CLOSED) return resolve();
          socket.once('close', () => resolve());
          socket.close(1000);
          // A server that never answers the close handshake does not hold the benchmark.
          setTimeout(() => {
            socket.terminate();
            resolve();
          }, 5_000).unref();
        }),
    ),
  );
  send({ type: 'closed' });
}

process.on('message', (command: WorkerCommand) => {
  if (command.cmd === 'connect') void connectAll(command);
  else if (command.cmd === 'report')
    send({ type: 'report', received: latencies.length, duplicates, latenciesMs: latencies, lastReceiveAt, closedEarly });
  else if (command.cmd === 'close') void closeAll();
});
// The worker never outlives the benchmark: its IPC channel closing means the parent is gone.
process.on('disconnect', () => {
  for (const socket of sockets) socket.terminate();
  process.exit(0);
});
