/**
 * The client's size as a browser downloads it: client/src/index.ts bundled by esbuild (ESM,
 * platform browser, minified), then gzip (level 9) and brotli (max quality). Prints bytes.
 *
 * `--memory` measures the client's heap instead: one client on a scripted socket receives a
 * million messages on 10 channels (every 20th out of order, every 50th twice) while it sends one
 * message per 100 received and gets each receipt; the heap after a full GC is printed every
 * 100,000 messages. Flat numbers mean nothing grows with the number of messages.
 *
 * @example
 *   npx tsx bench/client-size.ts          # a table
 *   npx tsx bench/client-size.ts --json   # for machines
 *   node --expose-gc --import tsx bench/client-size.ts --memory
 */
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export interface ClientSize {
  minified: number;
  gzip: number;
  brotli: number;
}

const ENTRY = fileURLToPath(new URL('../client/src/index.ts', import.meta.url));

/** Bundles and compresses the client; returns the sizes in bytes. */
export async function measureClientSize(entry = ENTRY): Promise<ClientSize> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  return {
    minified: code.byteLength,
    gzip: gzipSync(code, { level: 9 }).byteLength,
    brotli: brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY } }).byteLength,
  };
}

/** Heap used (bytes, after a full GC) every `every` messages, over `total` messages. */
export async function measureClientMemory(total = 1_000_000, every = 100_000): Promise<Array<{ messages: number; heapUsed: number }>> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const { connect } = await import('../client/src/index.js');
  let socket: { onopen?: (e: unknown) => void; onmessage?: (e: { data: string }) => void } = {};
  const sent: Array<Record<string, unknown>> = [];
  class Scripted {
    readyState = 0;
    onopen = null;
    onclose = null;
    onerror = null;
    onmessage = null;
    constructor() {
      socket = this as never;
    }
    send(data: string): void {
      sent.push(JSON.parse(data));
    }
    close(): void {}
  }
  const channels = Array.from({ length: 10 }, (_, i) => `bench-${i}`);
  const client = connect('wss://bench.invalid/', { WebSocket: Scripted as never, channels, heartbeatIdleMs: 0, rolloverAfterMs: 0 });
  let delivered = 0;
  client.on('message', () => delivered++);
  (socket as { readyState: number }).readyState = 1;
  socket.onopen?.({});
  const push = (frame: object) => socket.onmessage?.({ data: JSON.stringify(frame) });
  for (const channel of channels) push({ type: 'joined', channel, connectionId: 'c=', seq: 0 });
  const seqs = new Map(channels.map((c) => [c, 0]));
  const samples: Array<{ messages: number; heapUsed: number }> = [];
  let swapped: object | undefined;
  for (let n = 1; n <= total; n++) {
    const channel = channels[n % channels.length];
    // Frames come from the event loop: let promise reactions (send receipts) run, as they would.
    if (n % 1_000 === 0) await new Promise((resolve) => setImmediate(resolve));
    if (n % every === 0) {
      gc();
      samples.push({ messages: n, heapUsed: process.memoryUsage().heapUsed });
    }
    if (n % 100 === 0) {
      // An own send: its receipt takes the next seq of the channel.
      client.send(channel, { n });
      const frame = sent.pop() as { ref: string };
      const seq = (seqs.get(channel) as number) + 1;
      seqs.set(channel, seq);
      push({ type: 'sent', channel, id: `own-${n}`, seq, ref: frame.ref });
      sent.length = 0;
      continue;
    }
    const seq = (seqs.get(channel) as number) + 1;
    seqs.set(channel, seq);
    const frame = { type: 'message', channel, message: { n, text: 'x'.repeat(64) }, id: `m-${n}`, seq };
    if (n % 20 === 1 && !swapped) swapped = frame;
    else {
      push(frame);
      if (swapped) {
        push(swapped);
        swapped = undefined;
      }
    }
    if (n % 50 === 0) push(frame);
  }
  client.close();
  if (delivered < total * 0.98) throw new Error(`only ${delivered} delivered`);
  return samples;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv.includes('--memory')) {
  for (const { messages, heapUsed } of await measureClientMemory()) console.log(`${messages}\t${(heapUsed / 1024 / 1024).toFixed(2)} MB`);
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const size = await measureClientSize();
  if (process.argv.includes('--json')) console.log(JSON.stringify(size));
  else {
    console.log('client/src/index.ts, esbuild --bundle --minify --format=esm --platform=browser');
    console.log(`minified         ${size.minified} bytes`);
    console.log(`minified + gzip  ${size.gzip} bytes`);
    console.log(`minified + br    ${size.brotli} bytes`);
  }
}
