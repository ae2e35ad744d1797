/**
 * Issue 10, the fan-out's faults, end to end on the local stack: the real publisher and worker
 * functions, async invokes between them, and an @connections API throttled like a busy account.
 * Subscribers are the stack's virtual connections (they run `$connect`, join through the query
 * string, and count every frame posted to them), so a thousand cost no sockets.
 *
 * FanoutBatchSize: the template's minimum is 1,000 (a safe share of the account's Lambda
 * concurrency, docs/delivery.md); these tests set the functions' FANOUT_BATCH_SIZE to 100
 * through the stack's `environment` override, to reproduce the batches of 100 of the report.
 */
import { expect } from 'chai';
import type { LocalStack } from '../../local/stack.js';
import { openConnection } from '../../shared/connection-store.js';
import { configure, reset } from '../../shared/dependencies.js';
import { invokePublish, startQuietStack } from '../helpers/quiet-stack.js';
import { openClient, sleep, type TestClient } from '../helpers/ws-client.js';

const SUBSCRIBERS = 1000;

describe('fan-out faults end to end (issue 10)', function () {
  this.timeout(300_000);
  let stack: LocalStack;

  before(async () => {
    stack = await startQuietStack({
      // The account throttle most of the account already uses: 150 posts/s left for this broadcast.
      throttleRps: 150,
      throttleBurst: 150,
      environment: { FANOUT_BATCH_SIZE: '100' },
    });
    await stack.warm();
  });
  after(async () => {
    await stack?.stop();
  });

  const deliveries = (ids: string[]) => ids.map((id) => stack.registry.get(id)?.virtual?.deliveries ?? 0);

  it(`${SUBSCRIBERS} subscribers in batches of 100 under a 150/s throttle each get the message exactly once`, async () => {
    // Prepare: 1,000 subscribers of one channel.
    const ids: string[] = [];
    for (let i = 0; i < SUBSCRIBERS; i += 100)
      ids.push(...(await stack.addVirtualConnections(100, { connect: true, queryStringParameters: { channels: 'crowd' } })));
    expect(ids).to.have.length(SUBSCRIBERS);

    // Act: one publish from a backend.
    const started = Date.now();
    const answer = await invokePublish<{ subscribers?: number; dispatched?: number }>(stack, { channel: 'crowd', message: 'to the crowd' });
    // The publisher posts while it reads, then splits what is left into batches of at most 100
    // (how many depends on how far it got before the last page).
    expect(answer).to.include({ subscribers: SUBSCRIBERS });
    expect(answer.dispatched).to.be.at.least(1);

    // Assess: everyone got it (the 429s were retried, the remainders handed on), and nobody twice.
    const end = Date.now() + 120_000;
    while (deliveries(ids).some((n) => n === 0) && Date.now() < end) await sleep(250);
    const took = Date.now() - started;
    await sleep(3_000); // any late duplicate would show up now
    const counts = deliveries(ids);
    const missing = counts.filter((n) => n === 0).length;
    const duplicated = counts.filter((n) => n > 1).length;
    console.log(
      `      ${SUBSCRIBERS} subscribers at 150 posts/s: all delivered in ${took} ms; missing ${missing}, duplicated ${duplicated}`,
    );
    expect({ missing, duplicated }).to.deep.equal({ missing: 0, duplicated: 0 });
  });
});

describe('gone-connection cleanup end to end (issue 10)', function () {
  this.timeout(300_000);
  let stack: LocalStack;
  let restoreEnvironment = () => {};

  before(async () => {
    stack = await startQuietStack();
    await stack.warm();
    // This process writes the stale rows itself, into the stack's table.
    reset();
    restoreEnvironment = configure({
      environment: {
        TABLE_NAME: stack.tables.Table,
        AWS_ENDPOINT_URL_DYNAMODB: stack.dynamodbEndpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      },
    });
  });
  after(async () => {
    reset();
    restoreEnvironment();
    await stack?.stop();
  });

  it('800 connections whose $disconnect was lost (17,600 rows) do not delay the next publish to the live ones', async () => {
    // Prepare: 800 stale connections in 22 rows each (their row and 21 channels, one shared), and
    // 200 live subscribers of the shared channel.
    const channels = ['lobby', ...Array.from({ length: 20 }, (_, i) => `side${i}`)];
    const stale = Array.from({ length: 800 }, (_, i) => `stale${String(i).padStart(4, '0')}AAAA=`);
    for (let i = 0; i < stale.length; i += 20)
      await Promise.all(stale.slice(i, i + 20).map((id) => openConnection(id, channels, Date.now() - 3_600_000, Date.now() - 3_600_000)));
    const live = await stack.addVirtualConnections(200, { connect: true, queryStringParameters: { channels: 'lobby' } });

    // Act: one publish; watch the live subscribers' counters meanwhile.
    const started = performance.now();
    let liveDoneAt = 0;
    let publishing = true;
    const watcher = (async () => {
      while (publishing || liveDoneAt === 0) {
        if (live.every((id) => (stack.registry.get(id)?.virtual?.deliveries ?? 0) > 0)) {
          liveDoneAt = performance.now() - started;
          return;
        }
        await sleep(5);
      }
    })();
    const answer = await invokePublish<{ delivered?: number; gone?: number }>(stack, { channel: 'lobby', message: 'still here?' });
    const publishTook = performance.now() - started;
    publishing = false;
    await Promise.race([watcher, sleep(10_000)]);

    // Assess: the live ones had it long before the deletes were done, and the rows are gone.
    console.log(
      `      ${answer.gone} gone, ${answer.delivered} delivered: live subscribers done at ${Math.round(liveDoneAt)} ms, publish (with cleanup) ${Math.round(publishTook)} ms`,
    );
    expect(answer).to.include({ delivered: 200, gone: 800 });
    expect(liveDoneAt).to.be.above(0);
    expect(liveDoneAt).to.be.below(publishTook / 2);
  });
});

describe('stalled readers end to end (issue 10)', function () {
  this.timeout(300_000);
  let stack: LocalStack;
  let stalled: TestClient[] = [];

  before(async () => {
    stack = await startQuietStack({ parameterOverrides: { MaxMessageBytes: '30000' } });
    await stack.warm();
  });
  after(async () => {
    for (const c of stalled) c.ws.terminate();
    stalled = [];
    await stack?.stop();
  });

  const publish = (body: unknown) => invokePublish<{ delivered?: number; subscribers?: number }>(stack, body);
  const bufferFull = async () =>
    ((await (await fetch(`${stack.httpUrl}/_local/stats`)).json()) as { connectionsApi: { bufferFull: number } }).connectionsApi.bufferFull;

  it('40 clients that stopped reading do not hold up the publish or the 200 that read', async () => {
    // Prepare: 40 real clients in two channels that stop reading; fill their buffers on the
    // service side (the local @connections answers 429 beyond 4 MB queued) through `fill`.
    stalled = await Promise.all(Array.from({ length: 40 }, () => openClient(`${stack.url}?channels=fill,mixed`)));
    for (const c of stalled) (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const big = 'x'.repeat(29_000);
    for (let i = 0; i < 40 && (await bufferFull()) < 40; i++)
      await publish({ channel: 'fill', messages: Array.from({ length: 20 }, () => big) });
    expect(await bufferFull()).to.be.at.least(40);
    const live = await stack.addVirtualConnections(200, { connect: true, queryStringParameters: { channels: 'mixed' } });

    // Act: one publish to the channel of both.
    const started = performance.now();
    const answer = await publish({ channel: 'mixed', message: 'hello readers' });
    const publishTook = performance.now() - started;

    // Assess: the 200 had it when the publish answered, and the answer did not wait for the 40's retries.
    const got = live.filter((id) => (stack.registry.get(id)?.virtual?.deliveries ?? 0) === 1).length;
    console.log(`      40 stalled + 200 reading: publish answered in ${Math.round(publishTook)} ms, ${got} of 200 had it`);
    expect(answer).to.include({ subscribers: 240, delivered: 200 });
    expect(got).to.equal(200);
    expect(publishTook).to.be.below(1_500);
  });
});
