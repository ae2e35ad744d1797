import { expect } from 'chai';
import { POST_MAX_ATTEMPTS } from '../../shared/limits.js';
import { POST_MAX_FAILURES, postWithRetry } from '../../shared/post-retry.js';
import type { Poster, PostOutcome } from '../../shared/poster.js';

/** A poster answering `script` in order (then `ok`), counting its calls. */
function scripted(script: PostOutcome[]): Poster & { calls: number } {
  const poster = {
    calls: 0,
    async post(): Promise<PostOutcome> {
      poster.calls++;
      return script.shift() ?? 'ok';
    },
  };
  return poster;
}

describe('shared/post-retry', () => {
  describe('postWithRetry', () => {
    const noSleep = async () => {};

    it('retries 429 with backoff until the post goes through', async () => {
      const slept: number[] = [];
      const poster = scripted(['throttled', 'throttled', 'ok']);
      const result = await postWithRetry(poster, 'c=', 'x', { sleep: async (ms) => void slept.push(ms), random: () => 0.999 });
      expect(result).to.deep.equal({ outcome: 'ok', throttled: 2 });
      expect(slept).to.deep.equal([49, 99]);
    });

    it('never retries 410', async () => {
      const poster = scripted(['gone']);
      expect(await postWithRetry(poster, 'c=', 'x', { sleep: noSleep })).to.deep.equal({ outcome: 'gone', throttled: 0 });
      expect(poster.calls).to.equal(1);
    });

    it(`gives up after ${POST_MAX_ATTEMPTS} throttled answers and after ${POST_MAX_FAILURES} failures`, async () => {
      const throttled = scripted(Array(50).fill('throttled'));
      expect((await postWithRetry(throttled, 'c=', 'x', { sleep: noSleep })).outcome).to.equal('throttled');
      expect(throttled.calls).to.equal(POST_MAX_ATTEMPTS);
      const failing = scripted(Array(50).fill('failed'));
      expect((await postWithRetry(failing, 'c=', 'x', { sleep: noSleep })).outcome).to.equal('failed');
      expect(failing.calls).to.equal(POST_MAX_FAILURES);
    });

    it('answers timeout instead of sleeping past the deadline', async () => {
      let clock = 0;
      const poster = scripted(Array(50).fill('throttled'));
      const result = await postWithRetry(poster, 'c=', 'x', {
        deadline: 300,
        now: () => clock,
        random: () => 0.999,
        sleep: async (ms) => {
          clock += ms;
        },
      });
      expect(result.outcome).to.equal('timeout');
      expect(clock).to.be.below(300);
    });
  });
});
