import { expect } from 'chai';
import sinon from 'sinon';
import {
  closeFloodingConnection,
  FLOOD_CLOSE_RETRY_MS,
  FLOOD_CLOSED_MEMORY_MS,
  FRAME_LIMITER_SWEEP_MS,
  FrameLimiter,
} from '../../shared/flood.js';
import { logger } from '../../shared/observability.js';
import type { ConnectionCloser, Poster, PostOutcome } from '../../shared/poster.js';

const A = 'L0SM9cOFvHcCIhw=';
const B = 'L0SQHfAqoAMCEbA=';

/** A limiter on a clock the test moves by hand. */
function limiterAt(options: { ratePerSecond: number; burst: number; maxEntries?: number }) {
  const clock = { now: 1_000 };
  const limiter = new FrameLimiter({ ...options, now: () => clock.now });
  return { limiter, clock };
}

/** A closer that records what it was asked, in order, and answers as told. */
function recordingCloser(answers: { post?: PostOutcome; disconnect?: PostOutcome } = {}) {
  const calls: string[] = [];
  const closer: Poster & ConnectionCloser = {
    async post(id, data) {
      calls.push(`post ${id} ${data}`);
      return answers.post ?? 'ok';
    },
    async disconnect(id) {
      calls.push(`delete ${id}`);
      return answers.disconnect ?? 'ok';
    },
  };
  return { closer, calls };
}

describe('flood', () => {
  afterEach(() => sinon.restore());

  describe('FrameLimiter', () => {
    it('allows a burst of frames, then calls the next one a flood', () => {
      const { limiter } = limiterAt({ ratePerSecond: 10, burst: 20 });
      const verdicts = Array.from({ length: 21 }, () => limiter.take(A));
      expect(verdicts.slice(0, 20)).to.deep.equal(Array(20).fill('allow'));
      expect(verdicts[20]).to.equal('flood');
    });

    it('says flood once, then refuses every later frame of that connection without work', () => {
      const { limiter, clock } = limiterAt({ ratePerSecond: 10, burst: 2 });
      limiter.take(A);
      limiter.take(A);
      expect(limiter.take(A)).to.equal('flood');
      for (let i = 0; i < 100; i++) expect(limiter.take(A)).to.equal('refuse');
      clock.now += FLOOD_CLOSED_MEMORY_MS - 1;
      expect(limiter.take(A)).to.equal('refuse');
    });

    it('refills at the sustained rate: a client at the rate is never cut', () => {
      const { limiter, clock } = limiterAt({ ratePerSecond: 10, burst: 5 });
      for (let i = 0; i < 1_000; i++) {
        expect(limiter.take(A), `frame ${i}`).to.equal('allow');
        clock.now += 100; // 10 frames per second
      }
    });

    it('cuts a client sending just above the rate once its burst is spent', () => {
      const { limiter, clock } = limiterAt({ ratePerSecond: 10, burst: 5 });
      let frames = 0;
      while (limiter.take(A) === 'allow') {
        frames++;
        clock.now += 80; // 12.5 frames per second: each frame costs 1 token and brings back 0.8
      }
      // Cut when the 5 tokens, less 0.2 per frame, fall below 1: after about 20 frames (1.6 s).
      expect(frames).to.be.within(19, 21);
    });

    it('counts each connection on its own', () => {
      const { limiter } = limiterAt({ ratePerSecond: 10, burst: 3 });
      for (let i = 0; i < 3; i++) limiter.take(A);
      expect(limiter.take(A)).to.equal('flood');
      expect(limiter.take(B)).to.equal('allow');
    });

    it('allows everything and remembers nothing with a rate of 0 (limit off)', () => {
      const { limiter } = limiterAt({ ratePerSecond: 0, burst: 1 });
      for (let i = 0; i < 1_000; i++) expect(limiter.take(A)).to.equal('allow');
      expect(limiter.size).to.equal(0);
    });

    it('forgets connections whose bucket has refilled, in one pass when a new one arrives after the sweep interval', () => {
      const { limiter, clock } = limiterAt({ ratePerSecond: 10, burst: 20 });
      for (let i = 0; i < 5_000; i++) limiter.take(`conn${i}=`);
      limiter.take(A); // still busy at the sweep: kept
      for (let i = 0; i < 25; i++) limiter.take(A);
      clock.now += FRAME_LIMITER_SWEEP_MS - 1;
      limiter.take(B);
      expect(limiter.size, 'no sweep before the interval').to.equal(5_002);
      clock.now += 1;
      limiter.take('latecomer=');
      // The 5,000 refilled long ago and are gone; A (being closed for a minute) and B (seen 1 ms ago) stay.
      expect(limiter.size).to.equal(3);
      expect(limiter.take(A)).to.equal('refuse');
    });

    it('holds at most maxEntries connections, forgetting the oldest first but never one being closed', () => {
      const { limiter } = limiterAt({ ratePerSecond: 10, burst: 3, maxEntries: 100 });
      for (let i = 0; i < 4; i++) limiter.take(A); // A floods: being closed
      for (let i = 0; i < 1_000; i++) {
        limiter.take(`conn${i}=`);
        expect(limiter.size).to.be.at.most(100);
        expect(limiter.take(A), `after ${i} others`).to.equal('refuse');
      }
    });

    it('lets a frame try to close again shortly after a failed close', () => {
      const { limiter, clock } = limiterAt({ ratePerSecond: 10, burst: 1 });
      limiter.take(A);
      expect(limiter.take(A)).to.equal('flood');
      limiter.closeFailed(A);
      expect(limiter.take(A)).to.equal('refuse');
      clock.now += FLOOD_CLOSE_RETRY_MS;
      expect(limiter.take(A)).to.equal('allow'); // one token refilled meanwhile
      expect(limiter.take(A)).to.equal('flood');
    });
  });

  describe('closeFloodingConnection', () => {
    it('posts one flooding error frame, then deletes the connection, and logs one WARN line', async () => {
      // Prepare
      const { closer, calls } = recordingCloser();
      const warn = sinon.stub(logger, 'warn');

      // Act
      const closed = await closeFloodingConnection(A, 'ping', () => closer);

      // Assess
      expect(closed).to.equal(true);
      expect(calls).to.have.length(2);
      expect(calls[0]).to.match(new RegExp(`^post ${A} `));
      expect(JSON.parse(calls[0].slice(`post ${A} `.length))).to.deep.equal({
        type: 'error',
        code: 'flooding',
        message: 'too many frames; the connection is closed',
      });
      expect(calls[1]).to.equal(`delete ${A}`);
      expect(warn.callCount).to.equal(1);
      expect(warn.firstCall.args[1]).to.deep.equal({ reason: 'flood', code: 'flooding', connectionId: A, route: 'ping' });
    });

    it('does not delete a connection that is already gone', async () => {
      const { closer, calls } = recordingCloser({ post: 'gone' });
      expect(await closeFloodingConnection(A, 'ping', () => closer)).to.equal(true);
      expect(calls).to.have.length(1);
    });

    it('reports a failed DELETE (logged at ERROR) so that the caller can retry', async () => {
      const { closer } = recordingCloser({ disconnect: 'failed' });
      const error = sinon.stub(logger, 'error');
      expect(await closeFloodingConnection(A, 'ping', () => closer)).to.equal(false);
      expect(error.callCount).to.equal(1);
    });

    it('reports a closer that cannot be built (no endpoint) as a failed close, without throwing', async () => {
      sinon.stub(logger, 'error');
      const failing = () => {
        throw new Error('CONNECTIONS_ENDPOINT is not set');
      };
      expect(await closeFloodingConnection(A, 'ping', failing)).to.equal(false);
    });
  });
});
