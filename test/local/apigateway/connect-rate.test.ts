import { readFileSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { expect } from 'chai';
import { DEFAULT_CONNECT_RATE } from '../../../local/apigateway/throttle.js';
import { eventually, REPO_ROOT, replaceAfter, startTestStack, TemplateCopy, type TestStack } from '../support.js';

const ATTEMPTS = 1_000;
/**
 * The rate under test. API Gateway's (and the stack's default) 500/s only shows with a server
 * that takes 1,000 upgrades in well under a second: on a shared 2-core machine under load the
 * stack took 2-4 s, refilling the bucket as fast as they came. At 100/s every upgrade past
 * 100 + 100 x (those seconds) is refused even then.
 */
const RATE = 100;

/**
 * Opens `count` WebSocket handshakes at once from a worker thread (its own event loop, so the
 * stack's, which serves them, is not also busy being their client) over raw TCP: resolves with
 * each one's HTTP status (101 accepted, 429 throttled...) and a function closing the accepted ones.
 */
const STORM_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const { port, path, count } = workerData;
const request = 'GET ' + path + ' HTTP/1.1\\r\\nHost: 127.0.0.1:' + port + '\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n';
const sockets = [];
const statuses = new Array(count).fill(0);
let connected = 0;
let answered = 0;
let sentAt = 0;
for (let i = 0; i < count; i++) {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  let head = '';
  socket.on('error', () => undefined);
  socket.on('connect', () => {
    // TCP first, for all of them: then the requests leave together, as fast as one loop writes them.
    if (++connected < count) return;
    sentAt = Date.now();
    for (const s of sockets) s.write(request);
  });
  socket.on('data', (chunk) => {
    if (statuses[i] !== 0) return;
    head += chunk.toString('latin1');
    if (head.indexOf('\\r\\n') < 0) return;
    statuses[i] = Number(head.slice(9, 12));
    if (++answered === count) parentPort.postMessage({ statuses, sentAt });
  });
}
parentPort.on('message', () => { for (const s of sockets) s.destroy(); parentPort.close(); });
`;

interface Storm {
  statuses: number[];
  /** `Date.now()` when the first request was written (the server stamps `connectedAt` with the same clock). */
  sentAt: number;
  close(): void;
}

async function storm(port: number, path: string, count: number): Promise<Storm> {
  const worker = new Worker(STORM_WORKER, { eval: true, workerData: { port, path, count }, execArgv: [] });
  const { statuses, sentAt } = await new Promise<{ statuses: number[]; sentAt: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { statuses, sentAt, close: () => worker.postMessage('close') };
}

describe('local/websocket-api connect rate (API Gateway: 500 new connections per second)', function () {
  this.timeout(180_000);
  let stack: TestStack;
  let copy: TemplateCopy;

  before(async () => {
    // $connect answers 200 at once: the real one writes to DynamoDB, and 500 of those at once
    // on a shared 2-core machine stretch the storm over seconds, long enough to refill the bucket.
    copy = new TemplateCopy();
    copy.file('connect.mjs', 'export const handler = async () => ({ statusCode: 200 });\n');
    const text = readFileSync(copy.path, 'utf8');
    writeFileSync(
      copy.path,
      replaceAfter(
        replaceAfter(text, '  ConnectFunction:', `CodeUri: ${REPO_ROOT}`, `CodeUri: ${copy.dir}`),
        '  ConnectFunction:',
        'functions/connect/index.ts',
        'connect.mjs',
      ),
    );
    stack = await startTestStack({ templatePath: copy.path, connectRate: RATE });
    await stack.warm(); // cold starts do not belong in the measured second
  });
  after(async () => {
    await stack?.stop();
    copy?.remove();
  });

  it(`answers 429, before any function runs, to ${ATTEMPTS} upgrades at once beyond ${RATE}/s: at most rate × time + burst are accepted`, async () => {
    const connectsBefore = stack.runtime.stats().ConnectFunction?.invocations ?? 0;
    const { statuses, sentAt: t0, close } = await storm(stack.port, `/${stack.stage}`, ATTEMPTS);
    const accepted = statuses.filter((s) => s === 101).length;
    const throttled = statuses.filter((s) => s === 429).length;
    // An accepted connection's connectedAt is stamped (Date.now()) just after it took its token.
    const lastAcceptedAt = Math.max(...stack.registry.all().map((c) => c.connectedAt));
    // Tokens available from t0 to the last accepted upgrade (+1 ms: both clocks are whole milliseconds).
    const bound = RATE + (RATE * (lastAcceptedAt + 1 - t0)) / 1000;
    process.stdout.write(
      `      ${accepted} of ${ATTEMPTS} upgrades accepted, ${throttled} answered 429; last accepted ${lastAcceptedAt - t0} ms after the first was sent (bound ${bound.toFixed(0)})\n`,
    );

    const histogram: Record<number, number> = {};
    for (const s of statuses) histogram[s] = (histogram[s] ?? 0) + 1;
    expect(accepted + throttled, `every upgrade is either accepted or throttled: ${JSON.stringify(histogram)}`).to.equal(ATTEMPTS);
    expect(accepted + throttled, 'every upgrade is either accepted or throttled').to.equal(ATTEMPTS);
    expect(throttled).to.be.greaterThan(0);
    expect(accepted).to.be.at.least(RATE); // the burst (one second of the rate) gets through
    expect(accepted).to.be.at.most(bound);
    // Each accepted connection ran $connect once; a throttled one ran nothing.
    expect((stack.runtime.stats().ConnectFunction?.invocations ?? 0) - connectsBefore).to.equal(accepted);
    const stats = (await (await fetch(`${stack.httpUrl}/_local/stats`)).json()) as { connections: { connectThrottled: number } };
    expect(stats.connections.connectThrottled).to.equal(throttled);
    expect(stack.logs.some((l) => /^WARN refused \d+ upgrade\(s\) with 429: over the connect rate \(100\/s, burst 100/.test(l))).to.equal(
      true,
    );

    close();
    await eventually(() => stack.registry.real === 0, 'every connection closed', 60_000);
  });

  it('takes new connections again once the bucket refills', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const { statuses, close } = await storm(stack.port, `/${stack.stage}`, RATE / 2);
    expect(statuses.every((s) => s === 101)).to.equal(true);
    close();
  });

  it(`applies API Gateway's ${DEFAULT_CONNECT_RATE}/s by default, and none with connectRate 0`, async () => {
    const [defaults, unlimited] = await Promise.all([startTestStack(), startTestStack({ connectRate: 0 })]);
    try {
      const info = async (s: TestStack) =>
        ((await (await fetch(`${s.httpUrl}/_local/stack`)).json()) as { connectRate: unknown }).connectRate;
      expect(await info(defaults)).to.deep.equal({ ratePerSecond: DEFAULT_CONNECT_RATE, burst: DEFAULT_CONNECT_RATE });
      expect(await info(unlimited)).to.deep.equal({ ratePerSecond: 0, burst: 'unlimited' });
    } finally {
      await Promise.all([defaults.stop(), unlimited.stop()]);
    }
  });
});
