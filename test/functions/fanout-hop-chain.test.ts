/**
 * The worker's hand-off chain (issue 14, found by an adversarial review): ids a hop never reached go on at the same hop,
 * so a chain must still end, and every id must end accepted once or in the dead-letter queue once.
 * The chain is run here: each batch a worker hands on is given to the worker again, with a hop
 * budget of 40 ms (its remaining time minus WORKER_RESERVE_MS), until nothing is handed on.
 */

import type { Context } from 'aws-lambda';
import { expect } from 'chai';
import { handler } from '../../functions/fanout/index.js';
import { configure, reset } from '../../shared/dependencies.js';
import type { FanoutBatch } from '../../shared/fanout.js';
import { FANOUT_MAX_HOPS, WORKER_RESERVE_MS } from '../../shared/limits.js';
import type { PostOutcome } from '../../shared/poster.js';
import { messageFrameText } from '../../shared/protocol.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const context = { getRemainingTimeInMillis: () => WORKER_RESERVE_MS + 40 } as unknown as Context;

/** Runs `first` and every batch handed on after it; returns the accepted posts, the dead-letter events and the invocations. */
async function runChain(first: FanoutBatch, answer: (id: string) => PostOutcome, latencyMs: number, maxInvocations: number) {
  const accepted: string[] = [];
  const queue: FanoutBatch[] = [first];
  const deadLetters: FanoutBatch[] = [];
  configure({
    environment: { FANOUT_FUNCTION: 'airwave-test-fanout', FANOUT_BATCH_SIZE: '100', POST_RATE_LIMIT: '1000', POST_BURST_LIMIT: '500' },
    clients: {
      poster: {
        async post(id: string): Promise<PostOutcome> {
          await sleep(latencyMs);
          const outcome = answer(id);
          if (outcome === 'ok') accepted.push(id);
          return outcome;
        },
      },
      lambda: {
        async send(command: unknown) {
          queue.push(JSON.parse(Buffer.from((command as { input: { Payload: Uint8Array } }).input.Payload).toString()));
          return { StatusCode: 202 };
        },
      },
    },
  });
  let invocations = 0;
  while (queue.length > 0 && invocations < maxInvocations) {
    const batch = queue.shift() as FanoutBatch;
    invocations++;
    try {
      await handler(batch, context);
    } catch {
      // Lambda's on-failure destination: the event as it was.
      deadLetters.push(batch);
    }
  }
  return { accepted, deadLetters, invocations, left: queue.length };
}

describe('functions/fanout hand-off chain', () => {
  afterEach(() => reset());

  it('a batch longer than one hop goes on hop after hop and ends with every id accepted once, or dead-lettered once', async () => {
    // Prepare: 100 ids; posts take 20 ms at 16 in flight, so a 40 ms hop posts a few dozen; five
    // ids always fail (they end in the dead-letter queue after FANOUT_MAX_HOPS retries).
    const ids = Array.from({ length: 100 }, (_, i) => `k${String(i).padStart(3, '0')}=`);
    const broken = new Set(['k010=', 'k020=', 'k030=', 'k040=', 'k099=']);
    const first: FanoutBatch = {
      channel: 'chain',
      frame: messageFrameText('chain', 'x', 'Pfuj522VXQOuwuF0', 1),
      ids,
      ratePerSecond: 300,
      burst: 16,
    };

    // Act
    const { accepted, deadLetters, invocations, left } = await runChain(first, (id) => (broken.has(id) ? 'failed' : 'ok'), 20, 200);

    // Assess: the chain ended (bounded), nothing accepted twice, and each id accepted or dead-lettered, not both.
    expect(left).to.equal(0);
    expect(invocations).to.be.below(200);
    expect(new Set(accepted).size).to.equal(accepted.length);
    const dead = deadLetters.flatMap((b) => b.ids);
    expect(deadLetters.every((b) => b.undelivered === true && b.hop === FANOUT_MAX_HOPS)).to.equal(true);
    expect(dead.sort()).to.deep.equal([...broken].sort());
    expect([...accepted, ...dead].sort()).to.deep.equal(ids);
  });

  it('a chain whose hops each get one post out (and it fails) still ends, every id in the dead-letter queue', async () => {
    // Prepare: a pacer of 1 post/s with a bucket of 1 and a 40 ms hop: each hop posts one id
    // (which fails) and hands the others on untried at its hop. That counts as progress, so the
    // chain is bounded by the ids, not the hops: each id is tried at most 1 + FANOUT_MAX_HOPS
    // times, and each hop hands on at most two batches.
    const ids = Array.from({ length: 6 }, (_, i) => `z${String(i).padStart(3, '0')}=`);
    const first: FanoutBatch = {
      channel: 'chain',
      frame: messageFrameText('chain', 'x', 'Pfuj522VXQOuwuF0', 1),
      ids,
      ratePerSecond: 1,
      burst: 1,
    };
    const bound = 2 * ids.length * (FANOUT_MAX_HOPS + 1) + 1;

    // Act
    const { accepted, deadLetters, invocations, left } = await runChain(first, () => 'failed', 5, bound + 1);

    // Assess
    expect(left).to.equal(0);
    expect(invocations).to.be.at.most(bound);
    expect(accepted).to.deep.equal([]);
    expect(deadLetters.flatMap((b) => b.ids).sort()).to.deep.equal(ids);
  });
});
