/**
 * Issue 10 item 4: every route answers inside its deadline when DynamoDB hangs or throttles,
 * with a retryable `unavailable` frame, and sends nothing to DynamoDB after that answer.
 * DynamoDB is dynalite behind a proxy that can stop answering (test/helpers/fault-proxy.ts), or an
 * endpoint that answers every request with ThrottlingException. The routes run with
 * ROUTE_DEADLINE_MS=1500 so the test is quick; test/e2e/faults-storage.test.ts measures the
 * template's own budgets on the local stack.
 */
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'chai';
import { handler as join } from '../../functions/joinchannel/index.js';
import { handler as publishFunction } from '../../functions/publish/index.js';
import { handler as send } from '../../functions/sendmessage/index.js';
import { deadlineBoundDynamoDB } from '../../shared/clients.js';
import { openConnection } from '../../shared/connection-store.js';
import { GRACE_MS } from '../../shared/deadline.js';
import { configure } from '../../shared/dependencies.js';
import { messageEvent } from '../helpers/events.js';
import { type FaultEndpoint, type FaultProxy, startFaultProxy, startThrottlingEndpoint } from '../helpers/fault-proxy.js';
import { frameOf, startBackend, type TestBackend } from '../helpers/stack.js';

const DEADLINE_MS = 1_500;
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const boundClient = (endpoint: string) =>
  DynamoDBDocumentClient.from(deadlineBoundDynamoDB({ endpoint, region: 'us-east-1', credentials }), {
    marshallOptions: { removeUndefinedValues: true },
  });
/** A Lambda context with `ms` left, as Lambda gives the function. */
const contextWith = (ms: number) => {
  const end = Date.now() + ms;
  return { getRemainingTimeInMillis: () => Math.max(0, end - Date.now()) };
};

describe('bounded time: routes under a hanging or throttling DynamoDB (issue 10 item 4)', function () {
  this.timeout(30_000);
  let backend: TestBackend;
  let proxy: FaultProxy;
  let throttling: FaultEndpoint;

  before(async () => {
    backend = await startBackend({ ROUTE_DEADLINE_MS: String(DEADLINE_MS), FRAME_RATE_LIMIT: '0', HISTORY_SIZE: '5' });
    for (const id of ['hang-join=', 'hang-send=', 'throttle-join=']) await openConnection(id, [], Date.now());
    proxy = await startFaultProxy(backend.db.endpoint);
    throttling = await startThrottlingEndpoint();
  });
  after(async () => {
    configure({ clients: { idempotency: undefined } });
    await proxy.close();
    await throttling.close();
    await backend.stop();
  });
  afterEach(() => {
    proxy.pass();
    configure({ clients: { ddb: backend.db.doc, idempotency: undefined } });
  });

  /** Runs `call` against `endpoint`; checks the answer time and that nothing was sent after it. */
  async function timed<T>(endpoint: FaultEndpoint, call: () => Promise<T>): Promise<{ result: T; ms: number }> {
    const started = Date.now();
    const result = await call();
    const answered = Date.now();
    await new Promise((r) => setTimeout(r, 1_000)); // would-be retries after the answer show up here
    expect(
      endpoint.requestTimes.filter((t) => t > answered),
      'requests after the answer',
    ).to.deep.equal([]);
    return { result, ms: answered - started };
  }

  it('joinchannel answers unavailable by its deadline when DynamoDB hangs, and leaves no row', async () => {
    configure({ clients: { ddb: boundClient(proxy.url) } });
    proxy.hang();
    const { result, ms } = await timed(proxy, () =>
      join(messageEvent('joinchannel', { action: 'joinchannel', channel: 'h' }, 'hang-join=')),
    );
    expect(frameOf(result)).to.include({ type: 'error', code: 'unavailable', retryAfter: 1, channel: 'h' });
    expect(ms).to.be.within(DEADLINE_MS - 50, DEADLINE_MS + GRACE_MS + 500);
    const sub = await backend.db.doc.send(new GetCommand({ TableName: backend.db.tableName, Key: { pk: 'c#hang-join=', sk: 'm#h' } }));
    expect(sub.Item).to.equal(undefined);
  });

  it('joinchannel answers unavailable, not internal_error, when every attempt is throttled', async () => {
    configure({ clients: { ddb: boundClient(throttling.url) } });
    const { result, ms } = await timed(throttling, () =>
      join(messageEvent('joinchannel', { action: 'joinchannel', channel: 't' }, 'throttle-join=')),
    );
    expect(frameOf(result)).to.include({ type: 'error', code: 'unavailable' });
    expect(ms).to.be.below(DEADLINE_MS + GRACE_MS + 500);
  });

  it('the deadline follows the function: 10 s left answers by 8 s (ANSWER_RESERVE_MS before Lambda would kill it)', async () => {
    delete process.env.ROUTE_DEADLINE_MS;
    try {
      configure({ clients: { ddb: boundClient(proxy.url) } });
      proxy.hang();
      const started = Date.now();
      const frame = frameOf(
        await join(messageEvent('joinchannel', { action: 'joinchannel', channel: 'h2' }, 'hang-join='), contextWith(10_000) as never),
      );
      const ms = Date.now() - started;
      expect(frame).to.include({ code: 'unavailable' });
      expect(ms).to.be.within(7_900, 8_000 + GRACE_MS + 500);
    } finally {
      process.env.ROUTE_DEADLINE_MS = String(DEADLINE_MS);
    }
  });

  it('sendmessage answers unavailable (with its ref) by its deadline when DynamoDB hangs, and stores nothing', async () => {
    configure({ clients: { ddb: boundClient(proxy.url) } });
    proxy.hang();
    const { result, ms } = await timed(proxy, () =>
      send(messageEvent('sendmessage', { action: 'sendmessage', channel: 'hs', message: 'x', ref: 'r1' }, 'hang-send=')),
    );
    expect(frameOf(result)).to.include({ type: 'error', code: 'unavailable', ref: 'r1' });
    expect(ms).to.be.within(DEADLINE_MS - 50, DEADLINE_MS + GRACE_MS + 500);
    const history = await backend.db.doc.send(
      new QueryCommand({
        TableName: backend.db.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'h#hs' },
      }),
    );
    expect(history.Items ?? []).to.deep.equal([]);
  });

  it('PublishFunction answers complete: false, code unavailable, within its message budget when DynamoDB hangs', async () => {
    configure({ clients: { ddb: boundClient(proxy.url) } });
    proxy.hang();
    // 4 s left: the invocation's deadline (less the 3 s reserve) cuts the message's 20 s budget.
    const { result, ms } = await timed(proxy, () => publishFunction({ channel: 'hp', message: 'x' }, contextWith(4_500)));
    expect(result).to.include({ complete: false, code: 'unavailable' });
    expect(result.unpublished).to.deep.equal([{ channel: 'hp', index: 0, status: 'failed' }]);
    expect(ms).to.be.within(1_400, 2_500);
  });

  it('a keyed PublishFunction request throws unavailable when DynamoDB hangs before its lock is taken', async () => {
    const idempotency = deadlineBoundDynamoDB({ endpoint: proxy.url, region: 'us-east-1', credentials });
    configure({ clients: { idempotency, ddb: boundClient(proxy.url) } });
    proxy.hang();
    const { result, ms } = await timed(proxy, () =>
      publishFunction({ channel: 'hk', message: 'x', idempotencyKey: 'k-1' }, contextWith(4_500)).catch((e: Error) => e),
    );
    expect(result).to.be.instanceOf(Error);
    expect(result).to.include({ code: 'unavailable' });
    expect(ms).to.be.within(1_400, 2_500);
  });
});
