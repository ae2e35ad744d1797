import { expect } from 'chai';
import { configure } from '../../shared/dependencies.js';
import { concurrencyFor, type FanoutBatch, fanOut, toBatches } from '../../shared/fanout.js';
import { batchWrite, subscriptionItem } from '../../shared/store.js';
import { startBackend, type TestBackend } from '../helpers/stack.js';

/** A stand-in for the Lambda client: records async invokes, optionally refusing some. */
function fakeLambda(refuse = (_n: number) => false) {
  const invoked: Array<{ FunctionName: string; InvocationType: string; batch: FanoutBatch }> = [];
  return {
    invoked,
    client: {
      async send(command: unknown) {
        const input = (command as { input: { FunctionName: string; InvocationType: string; Payload: Uint8Array } }).input;
        if (refuse(invoked.length)) {
          invoked.push({
            FunctionName: input.FunctionName,
            InvocationType: input.InvocationType,
            batch: { ids: [] } as unknown as FanoutBatch,
          });
          throw Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
        }
        invoked.push({
          FunctionName: input.FunctionName,
          InvocationType: input.InvocationType,
          batch: JSON.parse(Buffer.from(input.Payload).toString()),
        });
        return { StatusCode: 202 };
      },
    },
  };
}

describe('fanout', () => {
  let backend: TestBackend;
  const ids = Array.from({ length: 250 }, (_, i) => `d${String(i).padStart(3, '0')}=`);
  before(async () => {
    backend = await startBackend({
      FANOUT_BATCH_SIZE: '100',
      FANOUT_FUNCTION: 'airwave-test-fanout',
      POST_RATE_LIMIT: '1000',
      POST_BURST_LIMIT: '500',
    });
    await batchWrite(ids.map((id) => ({ PutRequest: { Item: subscriptionItem(id, 'big', Date.now()) } })));
    await batchWrite(ids.slice(0, 40).map((id) => ({ PutRequest: { Item: subscriptionItem(id, 'small', Date.now()) } })));
  });
  after(() => backend.stop());
  beforeEach(() => {
    backend.api.posts.length = 0;
  });

  it('posts a channel of at most one batch itself, without invoking a worker', async () => {
    const lambda = fakeLambda();
    configure({ clients: { lambda: lambda.client } });
    const report = await fanOut('small', '{"m":1}');
    expect(report).to.include({ subscribers: 40, delivered: 40, dispatched: 0 });
    expect(lambda.invoked).to.deep.equal([]);
  });

  it('hands every batch but the first to the worker, asynchronously, covering each subscriber exactly once', async () => {
    const lambda = fakeLambda();
    configure({ clients: { lambda: lambda.client } });
    const report = await fanOut('big', '{"m":2}', 'd007=');
    expect(report).to.include({ subscribers: 249, delivered: 100, dispatched: 2 });
    expect(lambda.invoked.map((i) => [i.FunctionName, i.InvocationType])).to.deep.equal([
      ['airwave-test-fanout', 'Event'],
      ['airwave-test-fanout', 'Event'],
    ]);
    const everyone = [...backend.api.posts.map((p) => p.connectionId), ...lambda.invoked.flatMap((i) => i.batch.ids)];
    expect(everyone).to.have.length(249);
    expect(new Set(everyone)).to.deep.equal(new Set(ids.filter((id) => id !== 'd007=')));
    for (const { batch } of lambda.invoked) expect(batch).to.include({ channel: 'big', frame: '{"m":2}' });
  });

  it('gives each batch a share of the rate and burst in proportion to its size', async () => {
    const lambda = fakeLambda();
    configure({ clients: { lambda: lambda.client } });
    await fanOut('big', '{"m":3}');
    const shares = lambda.invoked.map((i) => [i.batch.ids.length, i.batch.ratePerSecond, i.batch.burst]);
    expect(shares).to.deep.equal([
      [100, 400, 200],
      [50, 200, 100],
    ]);
  });

  it('delivers a batch itself when the worker cannot be invoked, so nothing is lost', async () => {
    const lambda = fakeLambda((n) => n === 0);
    configure({ clients: { lambda: lambda.client } });
    const report = await fanOut('big', '{"m":4}');
    expect(report).to.include({ subscribers: 250, delivered: 200, dispatched: 1 });
  });

  it('posts everything itself when no worker is configured', async () => {
    const restore = configure({ environment: { FANOUT_FUNCTION: undefined } });
    try {
      const report = await fanOut('big', '{"m":5}');
      expect(report).to.include({ subscribers: 250, delivered: 250, dispatched: 0 });
    } finally {
      restore();
    }
  });

  it("hands the publisher's undelivered subscribers, exactly those, to a worker instead of failing them", async () => {
    // Prepare: three subscribers of a one-batch channel whose posts keep answering 429.
    const lambda = fakeLambda();
    configure({ clients: { lambda: lambda.client } });
    const stuck = ['d003=', 'd017=', 'd029='];
    for (const id of stuck) backend.api.throttle.set(id, 1000);
    try {
      // Act
      const started = Date.now();
      const report = await fanOut('small', '{"m":6}');

      // Assess: the others delivered, the receipt not held by retries, the three handed on once.
      expect(report).to.include({ subscribers: 40, delivered: 37, failed: 0, handedOn: 3, dispatched: 0 });
      expect(Date.now() - started).to.be.below(2_000);
      expect(lambda.invoked).to.have.length(1);
      expect(lambda.invoked[0].batch).to.include({ channel: 'small', frame: '{"m":6}', hop: 1 });
      expect(lambda.invoked[0].batch.ids).to.have.members(stuck);
    } finally {
      backend.api.throttle.clear();
    }
  });

  describe('toBatches and concurrencyFor', () => {
    it('splits without losing or repeating ids', () => {
      expect(toBatches(['a', 'b', 'c', 'd', 'e'], 2)).to.deep.equal([['a', 'b'], ['c', 'd'], ['e']]);
      expect(toBatches([], 2)).to.deep.equal([]);
    });
    it('keeps posts in flight between 16 and the socket cap', () => {
      expect(concurrencyFor(10)).to.equal(16);
      expect(concurrencyFor(2000)).to.equal(100);
      expect(concurrencyFor(1e6)).to.equal(256);
    });
  });
});
