/**
 * Issue 14 (found by an adversarial review): the deadline must also stop posts that passed its check and then wait in the
 * pacer. A batch smaller than its post concurrency, at a small share of the rate (the last, short
 * batch of a large channel: R x n / D), puts every post in the pacer at once; without this its
 * last post starts about D / R after the first however short the budget (100 s for a million
 * subscribers at 10,000/s, past a 60 s hop).
 */
import { expect } from 'chai';
import { deliverUntil } from '../../shared/delivery.js';
import { createPacer } from '../../shared/pacer.js';
import type { PostOutcome } from '../../shared/poster.js';

/** A poster that accepts every post and records the ids in the order they were posted. */
function recordingPoster(): { posted: string[]; poster: { post(id: string): Promise<PostOutcome> } } {
  const posted: string[] = [];
  return {
    posted,
    poster: {
      async post(id: string): Promise<PostOutcome> {
        posted.push(id);
        return 'ok';
      },
    },
  };
}

describe('deliverUntil: the deadline and the pacer', () => {
  it('hands back, as untried, the posts still waiting for the pacer when the deadline passes', async () => {
    // Prepare: 6 ids, a pacer of 2 posts/s with a bucket of 1, a 100 ms budget.
    const ids = ['p1=', 'p2=', 'p3=', 'p4=', 'p5=', 'p6='];
    const { posted, poster } = recordingPoster();
    const started = Date.now();

    // Act
    const outcome = await deliverUntil([ids], 'frame', {
      poster,
      pace: createPacer({ ratePerSecond: 2, burst: 1 }),
      concurrency: 16,
      onGone: async () => undefined,
      deadline: started + 100,
    });

    // Assess: the call ends soon after its deadline, not 2.5 s later; the ids not posted are
    // the remainder, each once, and untried (they keep their hop when handed on).
    const took = Date.now() - started;
    expect(took).to.be.below(600);
    expect(posted).to.have.length(1);
    expect(outcome.report).to.include({ delivered: 1, failed: 5 });
    expect([...outcome.remainder].sort()).to.deep.equal(ids.filter((id) => !posted.includes(id)).sort());
    expect([...outcome.untried].sort()).to.deep.equal([...outcome.remainder].sort());
  });

  it('a deadline given as a function that becomes finite while posts wait in the pacer stops them too', async () => {
    // Prepare: no deadline until 80 ms (the publisher's budget counts once the reading is over), then 0.
    const ids = ['q1=', 'q2=', 'q3=', 'q4='];
    const { posted, poster } = recordingPoster();
    const started = Date.now();
    const outcome = await deliverUntil([ids], 'frame', {
      poster,
      pace: createPacer({ ratePerSecond: 1, burst: 1 }),
      concurrency: 16,
      onGone: async () => undefined,
      deadline: () => (Date.now() - started < 80 ? Number.POSITIVE_INFINITY : started),
    });
    expect(Date.now() - started).to.be.below(600);
    expect(posted).to.have.length(1);
    expect(outcome.untried).to.have.length(3);
  });
});
