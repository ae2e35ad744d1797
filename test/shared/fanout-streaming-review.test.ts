/**
 * Adversarial review of the streaming publish (issue 14): every subscriber id must end in exactly
 * one of: one accepted post, one hand-off to a worker, or a counted failure. No DynamoDB here: the
 * pages come through fanOut's `pages` seam, and the poster and the Lambda client are stand-ins, so
 * timings (slow posts, slow reads, budgets) are under the test's control.
 */
import { expect } from 'chai';
import { configure, reset } from '../../shared/dependencies.js';
import { type FanoutBatch, fanOut } from '../../shared/fanout.js';
import type { PostOutcome } from '../../shared/poster.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const idsOf = (n: number, prefix = 'r') => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}=`);

/** A poster whose answers and latency the test decides; records every post and every accepted one. */
function fakePoster(answer: (id: string, attempt: number) => PostOutcome = () => 'ok', latencyMs: (id: string) => number = () => 0) {
  const attempts = new Map<string, number>();
  const accepted: string[] = [];
  return {
    attempts,
    accepted,
    poster: {
      async post(id: string): Promise<PostOutcome> {
        const n = (attempts.get(id) ?? 0) + 1;
        attempts.set(id, n);
        const ms = latencyMs(id);
        if (ms > 0) await sleep(ms);
        const outcome = answer(id, n);
        if (outcome === 'ok') accepted.push(id);
        return outcome;
      },
    },
  };
}

/** A Lambda client that records the batches async-invoked, refusing the invokes `refuse` picks. */
function fakeLambda(refuse: (n: number, batch: FanoutBatch) => boolean = () => false) {
  const handed: FanoutBatch[] = [];
  const refused: FanoutBatch[] = [];
  let n = 0;
  return {
    handed,
    refused,
    client: {
      async send(command: unknown) {
        const batch = JSON.parse(Buffer.from((command as { input: { Payload: Uint8Array } }).input.Payload).toString()) as FanoutBatch;
        if (refuse(n++, batch)) {
          refused.push(batch);
          throw Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
        }
        handed.push(batch);
        return { StatusCode: 202 };
      },
    },
  };
}

const ENV = { FANOUT_FUNCTION: 'airwave-review-fanout', FANOUT_BATCH_SIZE: '100', POST_RATE_LIMIT: '1000', POST_BURST_LIMIT: '500' };

describe('fanout streaming (review: loss and duplicates)', () => {
  let restore: () => void = () => undefined;
  afterEach(() => {
    restore();
    reset();
  });

  it('a read that ends after the budget, with every id taken already posted, still splits (no zero share)', async () => {
    // Prepare: posts take 150 ms; the publisher's budget is 10 ms. Page 1 (30 ids) is posted in
    // full before page 2 (220 ids) arrives; the publisher takes one chunk of page 2 (50 ids, one
    // per post slot, each past its pacer at once), and the reading ends 20 ms later while those
    // posts are in flight: nothing is waiting in the pacer and the budget is spent.
    const ids = idsOf(250);
    const posts = fakePoster(
      () => 'ok',
      () => 150,
    );
    const lambda = fakeLambda();
    restore = configure({ environment: ENV, clients: { poster: posts.poster, lambda: lambda.client } });
    async function* pages(): AsyncGenerator<string[]> {
      yield ids.slice(0, 30);
      while (posts.accepted.length < 30) await sleep(2);
      yield ids.slice(30);
      await sleep(20);
    }

    // Act
    const report = await fanOut('big', '{"m":1}', undefined, { pages: pages(), budgetMs: 10 });

    // Assess: everyone exactly once, posted or handed on; the shares still sum to at most the rate.
    const handed = lambda.handed.flatMap((b) => b.ids);
    expect([...posts.accepted, ...handed].sort()).to.deep.equal(ids);
    expect(report).to.include({ subscribers: 250, failed: 0, delivered: posts.accepted.length });
    expect(lambda.handed.reduce((sum, b) => sum + b.ratePerSecond, 0)).to.be.at.most(1000 + 1e-6);
  });
});
