import { expect } from 'chai';
import fc from 'fast-check';
import { isUnavailable } from '../../shared/deadline.js';
import { emptyReport } from '../../shared/delivery.js';
import { configure } from '../../shared/dependencies.js';
import { FanoutError } from '../../shared/errors.js';
import { concurrencyFor, type FanoutBatch, fanOut, handOn, progressed, toBatches } from '../../shared/fanout.js';
import { FANOUT_MAX_HOPS } from '../../shared/limits.js';
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

  /**
   * The channel 'big' read in two parts: 30 ids, then (once the publisher has posted those, or
   * after 2 s if it does not post before the reading ends) the other 220. `postedWhileReading`
   * is what had been posted when the second part was read.
   */
  function twoPartPages() {
    const state = { postedWhileReading: -1 };
    async function* pages(): AsyncGenerator<string[]> {
      yield ids.slice(0, 30);
      const until = Date.now() + 2_000;
      while (backend.api.posts.length < 30 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      state.postedWhileReading = backend.api.posts.length;
      yield ids.slice(30);
    }
    return { state, pages: pages() };
  }

  it('posts the first subscribers while the rest are still being read', async () => {
    const lambda = fakeLambda();
    configure({ clients: { lambda: lambda.client } });
    const { state, pages } = twoPartPages();
    await fanOut('big', '{"m":2}', undefined, { pages });
    expect(state.postedWhileReading).to.equal(30);
  });

  it('keeps posting past its budget while pages still arrive, then hands everything left to workers', async () => {
    // Prepare: a read slower than the publisher's budget (100 ms here): 30 ids, 30 more after
    // 300 ms, then (once those are posted, or after 2 s) the other 190.
    const lambda = fakeLambda();
    configure({ clients: { lambda: lambda.client } });
    let postedBeforeLastPage = -1;
    async function* pages(): AsyncGenerator<string[]> {
      yield ids.slice(0, 30);
      await new Promise((r) => setTimeout(r, 300));
      yield ids.slice(30, 60);
      const until = Date.now() + 2_000;
      while (backend.api.posts.length < 60 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      postedBeforeLastPage = backend.api.posts.length;
      yield ids.slice(60);
    }

    // Act
    const report = await fanOut('big', '{"m":7}', undefined, { pages: pages(), budgetMs: 100 });

    // Assess: the second part was posted past the budget (nobody else was posting); after the
    // reading, the publisher kept nothing: the rest went to workers, each id once.
    expect(postedBeforeLastPage).to.equal(60);
    const handed = lambda.invoked.flatMap((i) => i.batch.ids);
    expect(report).to.include({ subscribers: 250, delivered: 60, failed: 0 });
    expect(handed).to.have.length(190);
    expect(new Set([...backend.api.posts.map((p) => p.connectionId), ...handed])).to.have.property('size', 250);
  });

  it('hands batches to the worker, asynchronously, covering each subscriber exactly once', async () => {
    const lambda = fakeLambda();
    configure({ clients: { lambda: lambda.client } });
    const report = await fanOut('big', '{"m":2}', 'd007=');
    expect(report).to.include({ subscribers: 249, failed: 0, handedOn: 0 });
    expect(report.dispatched).to.equal(lambda.invoked.length);
    for (const invoke of lambda.invoked)
      expect([invoke.FunctionName, invoke.InvocationType]).to.deep.equal(['airwave-test-fanout', 'Event']);
    const everyone = [...backend.api.posts.map((p) => p.connectionId), ...lambda.invoked.flatMap((i) => i.batch.ids)];
    expect(everyone).to.have.length(249);
    expect(new Set(everyone)).to.deep.equal(new Set(ids.filter((id) => id !== 'd007=')));
    for (const { batch } of lambda.invoked) expect(batch).to.include({ channel: 'big', frame: '{"m":2}' });
  });

  it('splits what is left once the reading ends: shares of the rate in proportion to size, summing to the rate', async () => {
    const lambda = fakeLambda();
    configure({ clients: { lambda: lambda.client } });
    const { state, pages } = twoPartPages();
    const report = await fanOut('big', '{"m":3}', undefined, { pages });
    // The publisher took the 30 it posted and at most one more chunk (50) before the split,
    // then kept one batch (100); the rest went to workers in batches of at most 100.
    expect(state.postedWhileReading).to.equal(30);
    const handed = lambda.invoked.map((i) => i.batch);
    const sizes = handed.map((b) => b.ids.length);
    expect(sizes.length).to.be.at.least(1);
    for (const size of sizes) expect(size).to.be.at.most(100);
    expect(report.delivered + sizes.reduce((a, b) => a + b, 0)).to.equal(250);
    // Every batch's rate is R x size / D, D the ids left at the split: the workers' batches, the
    // publisher's kept batch (100) and what it had taken and not yet posted. So the shares,
    // the publisher's R x (D - workers') / D included, sum to R.
    const d = (1000 * sizes[0]) / handed[0].ratePerSecond;
    for (const b of handed) expect(b.ratePerSecond).to.be.closeTo((1000 * b.ids.length) / d, 1e-6);
    const toWorkers = sizes.reduce((a, b) => a + b, 0);
    expect(d).to.be.at.least(toWorkers + 100 - 1e-6);
    expect(d).to.be.at.most(250 - 30 + 1e-6); // the 30 posted before the split are not in it
    expect(handed.reduce((sum, b) => sum + b.burst, 0)).to.be.at.most(500);
  });

  it('delivers a batch itself when the worker cannot be invoked, so nothing is lost', async () => {
    const lambda = fakeLambda((n) => n === 0);
    configure({ clients: { lambda: lambda.client } });
    const { pages } = twoPartPages();
    const report = await fanOut('big', '{"m":4}', undefined, { pages });
    const handed = lambda.invoked.flatMap((i) => i.batch.ids);
    expect(report).to.include({ subscribers: 250, failed: 0, dispatched: lambda.invoked.length - 1 });
    expect(report.delivered + handed.length).to.equal(250);
    expect(new Set([...backend.api.posts.map((p) => p.connectionId), ...handed])).to.have.property('size', 250);
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

  it('claims every id exactly once, whatever the pages and their timing (posted by the publisher or handed to one worker)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 0, max: 30 })), { minLength: 1, maxLength: 8 }),
        async (shape) => {
          // Prepare: the 250 ids cut into pages of the drawn sizes, each after the drawn pause (ms).
          backend.api.posts.length = 0;
          const lambda = fakeLambda();
          configure({ clients: { lambda: lambda.client } });
          async function* pages(): AsyncGenerator<string[]> {
            let from = 0;
            for (let i = 0; from < ids.length; i++) {
              const [size, pause] = shape[i % shape.length];
              if (pause > 0) await new Promise((r) => setTimeout(r, pause));
              yield ids.slice(from, from + size);
              from += size;
            }
          }

          // Act
          const report = await fanOut('big', '{"m":8}', 'd100=', { pages: pages() });

          // Assess: everyone but the excluded id exactly once, across the publisher and the workers.
          const everyone = [...backend.api.posts.map((p) => p.connectionId), ...lambda.invoked.flatMap((i) => i.batch.ids)];
          expect(report).to.include({ subscribers: 249, failed: 0 });
          expect(everyone).to.have.length(249);
          expect(new Set(everyone).size).to.equal(249);
          expect(everyone).to.not.include('d100=');
          for (const { batch } of lambda.invoked) expect(batch.ids.length).to.be.within(1, 100);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('when a read fails mid-way, posts or hands on what was read, each once, and throws', async () => {
    // Prepare: 30 ids, then (once the publisher is posting) 40 more, then the Query fails.
    const lambda = fakeLambda();
    configure({ clients: { lambda: lambda.client } });
    async function* pages(): AsyncGenerator<string[]> {
      yield ids.slice(0, 30);
      while (backend.api.posts.length < 5) await new Promise((r) => setTimeout(r, 2));
      yield ids.slice(30, 70);
      throw Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException' });
    }

    // Act
    const failure = await fanOut('big', '{"m":9}', undefined, { pages: pages() }).then(
      () => undefined,
      (error: unknown) => error,
    );

    // Assess: a FanoutError that keeps its cause, so a throttled read still answers the client
    // `unavailable` (retryable); the 70 ids read were each posted or handed on (hop 1), none twice.
    expect(failure).to.be.instanceOf(FanoutError);
    expect(isUnavailable(failure)).to.equal(true);
    const posted = backend.api.posts.map((p) => p.connectionId);
    const handed = lambda.invoked.flatMap((i) => i.batch.ids);
    expect(posted.length).to.be.at.least(5);
    expect([...posted, ...handed].sort()).to.deep.equal(ids.slice(0, 70).sort());
    for (const { batch } of lambda.invoked) expect(batch.hop).to.equal(1);
  });

  describe('handOn', () => {
    const batch = (hop: number): FanoutBatch => ({
      channel: 'big',
      frame: '{"m":10}',
      ids: ids.slice(0, 6),
      ratePerSecond: 100,
      burst: 10,
      hop,
    });

    it('hands ids never tried on at the same hop, and ids tried at the next', async () => {
      const lambda = fakeLambda();
      configure({ clients: { lambda: lambda.client } });
      const outcome = await handOn(batch(2), ids.slice(0, 6), ids.slice(3, 6));
      expect(outcome).to.equal('retrying');
      const byHop = lambda.invoked.map((i) => [i.batch.hop, [...i.batch.ids].sort(), i.batch.undelivered ?? false]);
      expect(byHop).to.have.deep.members([
        [2, ids.slice(3, 6), false],
        [3, ids.slice(0, 3), false],
      ]);
    });

    it('at the last hop, sends only the tried ids to the dead-letter queue; the untried go on', async () => {
      const lambda = fakeLambda();
      configure({ clients: { lambda: lambda.client } });
      const outcome = await handOn(batch(FANOUT_MAX_HOPS), ids.slice(0, 6), ids.slice(0, 4));
      expect(outcome).to.equal('dead-letter');
      const byHop = lambda.invoked.map((i) => [i.batch.hop, [...i.batch.ids].sort(), i.batch.undelivered ?? false]);
      expect(byHop).to.have.deep.members([
        [FANOUT_MAX_HOPS, ids.slice(0, 4), false],
        [FANOUT_MAX_HOPS, ids.slice(4, 6), true],
      ]);
    });

    it('progressed: a call that posted nothing made no progress, whatever it returns', () => {
      const report = (delivered: number, gone = 0) => ({ ...emptyReport(), delivered, gone });
      expect(progressed({ report: report(0), remainder: ['a=', 'b='], untried: ['a=', 'b='] })).to.equal(false);
      expect(progressed({ report: report(1), remainder: ['a='], untried: ['a='] })).to.equal(true);
      expect(progressed({ report: report(0, 1), remainder: ['a='], untried: ['a='] })).to.equal(true);
      expect(progressed({ report: report(0), remainder: ['a=', 'b='], untried: ['a='] })).to.equal(true);
    });
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
