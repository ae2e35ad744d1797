/**
 * The publisher's memory for one broadcast to a large channel (issue 14: a million subscribers
 * on one channel, memory within the configured sizes). The local stack cannot run a 1M publish
 * end to end here (dynalite reads 1M ids in about a minute, past the publisher's 20 s per message),
 * so this runs the real `fanOut` (shared/fanout.ts) in this process with what it would get from
 * AWS replaced: Query pages of connection ids as DynamoDB returns them (each shard's first page
 * FIRST_SUBSCRIBER_PAGE_ITEMS rows, then 1 MB pages of ~21,800 rows, shards interleaved), a poster
 * that answers every post at once, and a Lambda client that takes each worker batch (its JSON
 * payload is built, as the SDK would send it, then dropped). The heap is sampled every 10 ms; the
 * result is the peak over the heap after a full GC before the call.
 *
 *   npm run bench:memory                       # 1,000,000 subscribers, the template's defaults
 *   npm run bench:memory -- --n 100000 --batch 40000
 */
import { getHeapStatistics } from 'node:v8';
import { configure, reset } from '../shared/dependencies.js';
import { fanOut } from '../shared/fanout.js';
import type { Poster } from '../shared/poster.js';
import { messageFrameText } from '../shared/protocol.js';
import { FIRST_SUBSCRIBER_PAGE_ITEMS } from '../shared/store.js';
import { scriptFlags, usageError } from './lib/cli.js';
import { templateFigures } from './lib/template-figures.js';

/** Rows in a 1 MB Query page of the subscriber index (48 B per entry, docs/cost.md). */
const ROWS_PER_PAGE = Math.floor((1024 * 1024) / 48);
const SAMPLE_MS = 10;

const gc = (globalThis as { gc?: () => void }).gc;

/** A connection id shaped like API Gateway's: 16 characters of base64. */
const connectionId = (i: number): string =>
  `${Buffer.from(`c${i.toString(36).padStart(10, '0')}`)
    .toString('base64')
    .slice(0, 15)}=`;

/** The channel's ids as the shards' pages would bring them: a short first page each, then full pages. */
async function* pages(n: number, shards: number): AsyncGenerator<string[]> {
  const perShard = Array.from({ length: shards }, (_, s) => Math.floor(n / shards) + (s < n % shards ? 1 : 0));
  const next = new Array(shards).fill(0);
  let first = true;
  let base = 0;
  const starts = perShard.map((count) => {
    const start = base;
    base += count;
    return start;
  });
  while (next.some((done, s) => done < perShard[s])) {
    for (let s = 0; s < shards; s++) {
      const size = Math.min(first ? FIRST_SUBSCRIBER_PAGE_ITEMS : ROWS_PER_PAGE, perShard[s] - next[s]);
      if (size <= 0) continue;
      // Built per page, as the SDK unmarshals each response: fresh strings, like the real ones.
      yield Array.from({ length: size }, (_, k) => connectionId(starts[s] + next[s] + k));
      next[s] += size;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    first = false;
  }
}

const HELP = `Usage: npm run bench:memory -- [options]

The publisher's peak heap for one broadcast to a large channel (real fanOut, stand-in AWS).

Options:
  --n 1000000               subscribers of the channel
  --batch N                 FanoutBatchSize (default: the template's)
  -h, --help                this text
`;

async function main(): Promise<void> {
  const values = await scriptFlags(
    { n: { type: 'string', default: '1000000' }, batch: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
    HELP,
  );
  if (!gc) usageError('run with node --expose-gc (npm run bench:memory does)');
  const figures = templateFigures();
  const d = figures.defaults;
  const n = Number(values.n);
  const batchSize = Number(values.batch ?? d.FanoutBatchSize);
  if (!Number.isInteger(n) || n < 1) usageError('--n must be a whole number >= 1');
  if (!Number.isInteger(batchSize) || batchSize < 1) usageError('--batch must be a whole number >= 1');
  const shards = Number(d.ChannelShards);
  let payloadBytes = 0;
  let invokes = 0;
  const poster: Poster = { post: async () => 'ok' };
  configure({
    environment: {
      FANOUT_BATCH_SIZE: String(batchSize),
      FANOUT_FUNCTION: 'airwave-fanout-bench',
      POST_RATE_LIMIT: String(d.PostRateLimit),
      POST_BURST_LIMIT: String(d.PostBurstLimit),
      CHANNEL_SHARDS: String(shards),
      CONNECTIONS_ENDPOINT: 'http://127.0.0.1:9/local',
    },
    clients: {
      poster,
      lambda: {
        async send(command: unknown) {
          const payload = (command as { input: { Payload: Uint8Array } }).input.Payload;
          payloadBytes = Math.max(payloadBytes, payload.byteLength);
          invokes++;
          return { StatusCode: 202 };
        },
      },
    },
  });
  const frame = messageFrameText('bench', { text: 'x'.repeat(2000) }, 'AAAAAAAAAAAAAAAA', 1);
  gc();
  const base = getHeapStatistics().used_heap_size;
  let peak = base;
  const sampler = setInterval(() => {
    peak = Math.max(peak, getHeapStatistics().used_heap_size);
  }, SAMPLE_MS);
  const started = performance.now();
  const report = await fanOut('bench', frame, undefined, { pages: pages(n, shards) });
  clearInterval(sampler);
  peak = Math.max(peak, getHeapStatistics().used_heap_size);
  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  const memory = figures.functions.PublishFunction.memoryMb;
  console.log(`npm run bench:memory -- --n ${n} --batch ${batchSize}  (Node ${process.version})`);
  console.log('');
  console.log(
    '| subscribers | FanoutBatchSize | worker invokes | largest invoke payload | heap before | peak heap | peak over before | PublishFunction MemorySize | time |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  console.log(
    `| ${n.toLocaleString('en-US')} | ${batchSize.toLocaleString('en-US')} | ${invokes} | ${(payloadBytes / 1024).toFixed(0)} KB | ${mb(base)} MB | ${mb(peak)} MB | ${mb(peak - base)} MB | ${memory.toLocaleString('en-US')} MB | ${((performance.now() - started) / 1000).toFixed(1)} s |`,
  );
  console.log('');
  console.log(
    `delivered here ${report.delivered}, dispatched ${report.dispatched}, handed on ${report.handedOn}, subscribers ${report.subscribers}`,
  );
  if (report.subscribers !== n) throw new Error(`read ${report.subscribers} subscribers, expected ${n}`);
  reset();
}

await main();
