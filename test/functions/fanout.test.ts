import { expect } from 'chai';
import sinon from 'sinon';
import { handler, workerDeadline } from '../../functions/fanout/index.js';
import { countSubscriptions, openConnection } from '../../shared/connection-store.js';
import { configure } from '../../shared/dependencies.js';
import { FanoutError, InvalidFanoutBatchError } from '../../shared/errors.js';
import { type FanoutBatch, fanOut } from '../../shared/fanout.js';
import { API_GATEWAY_FRAME_BYTES, FANOUT_MAX_HOPS, WORKER_HOP_BUDGET_MS, WORKER_RESERVE_MS } from '../../shared/limits.js';
import { metrics } from '../../shared/observability.js';
import { messageFrameText } from '../../shared/protocol.js';
import { newMessageId } from '../../shared/publish.js';
import { batchWrite, subscriptionItem } from '../../shared/store.js';
import { loadEvent } from '../helpers/events.js';
import { startBackend, type TestBackend } from '../helpers/stack.js';

/** Runs the worker on `event`, returning what it threw (undefined if it did not throw). */
async function thrownBy(event: unknown): Promise<unknown> {
  try {
    await handler(event as FanoutBatch);
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Injects a Lambda client that records the batches handed to FanoutFunction (async invokes) instead of invoking. */
function recordInvokes(): FanoutBatch[] {
  const handed: FanoutBatch[] = [];
  configure({
    clients: {
      lambda: {
        async send(command: unknown) {
          handed.push(JSON.parse(Buffer.from((command as { input: { Payload: Uint8Array } }).input.Payload).toString()));
          return { StatusCode: 202 };
        },
      },
    },
  });
  return handed;
}

describe('functions/fanout', () => {
  let backend: TestBackend;
  before(async () => {
    backend = await startBackend({
      FANOUT_BATCH_SIZE: '100',
      FANOUT_FUNCTION: 'airwave-test-fanout',
      POST_RATE_LIMIT: '9500',
      POST_BURST_LIMIT: '4750',
    });
  });
  after(() => backend.stop());
  beforeEach(() => {
    backend.api.posts.length = 0;
  });

  it('posts the frame, unchanged, to every id of its batch', async () => {
    const batch = loadEvent<FanoutBatch>('fanout');
    expect(await handler(batch)).to.deep.equal({ delivered: 4, gone: 0, failed: 0 });
    expect(backend.api.posts.map((p) => p.connectionId)).to.have.members(batch.ids);
    for (const post of backend.api.posts) expect(post.body).to.equal(batch.frame);
  });

  it('deletes the rows of a gone connection in its batch and counts it', async () => {
    const batch = loadEvent<FanoutBatch>('fanout');
    await openConnection(batch.ids[1], ['news', 'sport'], Date.now() - 60_000, Date.now() - 60_000); // long established
    backend.api.gone.add(batch.ids[1]);
    expect(await handler(batch)).to.deep.equal({ delivered: 3, gone: 1, failed: 0 });
    expect(await countSubscriptions(batch.ids[1])).to.equal(0);
    backend.api.gone.clear();
  });

  it('accepts a frame exactly as the publisher builds it, and a publisher share below one post per second', async () => {
    const batch = loadEvent<FanoutBatch>('fanout');
    batch.frame = messageFrameText('news', { deep: [[['ok']]], text: 'é 😀' }, 'Pfuj522VXQOuwuF0', 1);
    Object.assign(batch, { ids: [batch.ids[0]], ratePerSecond: 0.4, burst: 1 });
    expect(await handler(batch)).to.deep.equal({ delivered: 1, gone: 0, failed: 0 });
  });

  it('accepts every batch a publisher hands to it (the contract the checks enforce)', async () => {
    // Prepare: a channel of 600 real-looking ids, so the publisher keeps one batch and hands off the rest.
    const ids = Array.from({ length: 600 }, (_, i) => `L0S${String(i).padStart(4, '0')}cOFvHcC=`);
    await batchWrite(ids.map((id) => ({ PutRequest: { Item: subscriptionItem(id, 'wide', Date.now()) } })));
    const handed = recordInvokes();

    // Act: the frame as publish() builds it; the second part of the ids is read once the
    // publisher has posted the first, so that what is left is split into batches for workers.
    const frame = messageFrameText('wide', { text: 'to everyone', nested: { list: [1, 2, 3] } }, newMessageId(), 7);
    async function* pages(): AsyncGenerator<string[]> {
      yield ids.slice(0, 30);
      while (backend.api.posts.length < 30) await new Promise((r) => setTimeout(r, 5));
      yield ids.slice(30);
    }
    const published = await fanOut('wide', frame, undefined, { pages: pages() });
    backend.api.posts.length = 0;
    const reports = [];
    for (const batch of handed) reports.push(await handler(batch));

    // Assess: every batch accepted and delivered in full; with the publisher's own, everyone once.
    expect(handed.length).to.be.at.least(1);
    expect(reports.map((r) => r.delivered)).to.deep.equal(handed.map((b) => b.ids.length));
    expect(published.delivered + reports.reduce((sum, r) => sum + r.delivered, 0)).to.equal(600);
    configure({ clients: { lambda: undefined } });
  });

  describe('a batch it cannot finish in its time budget', () => {
    /** A Lambda context with `ms` of posting time left after the reserve. */
    const contextWith = (ms: number) => ({ getRemainingTimeInMillis: () => WORKER_RESERVE_MS + ms }) as never;
    afterEach(() => {
      backend.api.throttle.clear();
      configure({ clients: { lambda: undefined } });
    });

    it('hands exactly its undelivered ids to a fresh invocation with the next hop, and returns normally', async () => {
      // Prepare: one of four ids answers 429 far beyond the budget (the account throttle is spent).
      const handed = recordInvokes();
      const batch = loadEvent<FanoutBatch>('fanout');
      backend.api.throttle.set(batch.ids[2], 10_000);

      // Act
      const result = await handler(batch, contextWith(300));

      // Assess: no throw (Lambda would retry the whole batch), the others posted once, the one handed on.
      expect(result).to.deep.equal({ delivered: 3, gone: 0, failed: 1 });
      expect(backend.api.posts.map((p) => p.connectionId)).to.have.members([batch.ids[0], batch.ids[1], batch.ids[3]]);
      expect(handed).to.deep.equal([{ ...batch, ids: [batch.ids[2]], hop: 1 }]);
    });

    it('hands the ids its time ran out before on with the same hop: running out of time is not a retry', async () => {
      // Prepare: 90 ids at 100 posts/s with a 300 ms budget: about 30 get a post, the rest none.
      const handed = recordInvokes();
      const ids = Array.from({ length: 90 }, (_, i) => `L0S${String(i).padStart(4, '0')}cOFvHcD=`);
      const batch = { ...loadEvent<FanoutBatch>('fanout'), ids, ratePerSecond: 100, burst: 1, hop: 2 };

      // Act
      const result = await handler(batch, contextWith(300));

      // Assess: the ids never tried go on at hop 2, so a long broadcast's progress never reaches the dead-letter queue.
      const posted = backend.api.posts.map((p) => p.connectionId);
      expect(posted.length).to.be.within(1, 89);
      expect(result).to.include({ delivered: posted.length, failed: 90 - posted.length });
      expect(handed.flatMap((h) => h.ids)).to.have.members(ids.filter((id) => !posted.includes(id)));
      expect(handed.map((h) => h.hop)).to.deep.equal(handed.map(() => 2));
    });

    it('a chain of hops that never posts still counts its hops and ends in the dead-letter queue', async () => {
      // Prepare: every invocation starts with no posting time left (a worker that only ever times out).
      const handed = recordInvokes();
      let event: FanoutBatch = loadEvent<FanoutBatch>('fanout');

      // Act: run each handed-on event as the next invocation, until the undelivered one.
      const hops: number[] = [];
      for (let i = 0; i <= FANOUT_MAX_HOPS + 1 && !event.undelivered; i++) {
        handed.length = 0;
        await handler(event, contextWith(0));
        expect(handed).to.have.length(1);
        event = handed[0];
        hops.push(event.hop ?? 0);
      }

      // Assess: one hop more each time, then the undelivered event, which the worker refuses.
      expect(hops).to.deep.equal([...Array.from({ length: FANOUT_MAX_HOPS }, (_, i) => i + 1), FANOUT_MAX_HOPS]);
      expect(event.undelivered).to.equal(true);
      expect(event.ids).to.have.members(loadEvent<FanoutBatch>('fanout').ids);
      expect(await thrownBy(event)).to.be.instanceOf(FanoutError);
      expect(backend.api.posts).to.deep.equal([]);
    });

    it('after the last hop, sends the remainder as an undelivered event that it refuses, for the dead-letter queue', async () => {
      const handed = recordInvokes();
      const batch = { ...loadEvent<FanoutBatch>('fanout'), hop: FANOUT_MAX_HOPS };
      backend.api.throttle.set(batch.ids[0], 10_000);

      const counted = sinon.spy(metrics, 'addMetric');
      try {
        await handler(batch, contextWith(200));
      } finally {
        counted.restore();
      }
      expect(handed).to.deep.equal([{ ...batch, ids: [batch.ids[0]], hop: FANOUT_MAX_HOPS, undelivered: true }]);
      expect(counted.calledWith('UndeliveredPosts', 'Count', 1)).to.equal(true);

      // The undelivered event posts nothing and throws: Lambda's on-failure destination keeps it.
      backend.api.posts.length = 0;
      expect(await thrownBy(handed[0])).to.be.instanceOf(FanoutError);
      expect(backend.api.posts).to.deep.equal([]);
    });

    it('posts for at most its remaining time less the reserve, and never more than one hop budget', () => {
      expect(workerDeadline({ getRemainingTimeInMillis: () => 120_000 }, 0)).to.equal(
        Math.min(WORKER_HOP_BUDGET_MS, 120_000 - WORKER_RESERVE_MS),
      );
      expect(workerDeadline({ getRemainingTimeInMillis: () => WORKER_RESERVE_MS + 5_000 }, 1_000)).to.equal(6_000);
      expect(workerDeadline({ getRemainingTimeInMillis: () => 1_000 }, 0)).to.equal(0);
    });
  });

  describe('refuses an event that is not what a publisher sends, posting nothing', () => {
    const valid = () => loadEvent<FanoutBatch & Record<string, unknown>>('fanout');
    const frameWith = (change: (frame: Record<string, unknown>) => void) => {
      const frame = JSON.parse(valid().frame);
      change(frame);
      return JSON.stringify(frame);
    };
    const cases: Array<[string, () => unknown]> = [
      ['no event', () => null],
      ['an array', () => [valid()]],
      ['no channel', () => ({ ...valid(), channel: undefined })],
      ['an invalid channel', () => ({ ...valid(), channel: 'news#x' })],
      ['a frame that is not a string', () => ({ ...valid(), frame: { type: 'message' } })],
      ['a frame that is not JSON', () => ({ ...valid(), frame: 'buy cheap watches' })],
      ['a frame that is a JSON array', () => ({ ...valid(), frame: '[1,2]' })],
      ['a frame of another type', () => ({ ...valid(), frame: frameWith((f) => Object.assign(f, { type: 'error', code: 'x' })) })],
      ['a frame for another channel', () => ({ ...valid(), frame: frameWith((f) => Object.assign(f, { channel: 'sport' })) })],
      ['a frame without message', () => ({ ...valid(), frame: frameWith((f) => delete f.message) })],
      ['a frame without id', () => ({ ...valid(), frame: frameWith((f) => delete f.id) })],
      ['a frame with a forged id', () => ({ ...valid(), frame: frameWith((f) => Object.assign(f, { id: 'admin' })) })],
      ['a frame without seq', () => ({ ...valid(), frame: frameWith((f) => delete f.seq) })],
      ['a frame with a bad seq', () => ({ ...valid(), frame: frameWith((f) => Object.assign(f, { seq: -1 })) })],
      ['a frame with a fractional seq', () => ({ ...valid(), frame: frameWith((f) => Object.assign(f, { seq: 1.5 })) })],
      ['a frame with an extra field', () => ({ ...valid(), frame: frameWith((f) => Object.assign(f, { from: 'admin' })) })],
      [
        'a frame with a __proto__ key',
        () => ({ ...valid(), frame: valid().frame.replace('{"headline"', '{"__proto__":{"x":1},"headline"') }),
      ],
      [
        'a frame over the post limit',
        () => ({ ...valid(), frame: messageFrameText('news', 'x'.repeat(API_GATEWAY_FRAME_BYTES), 'Pfuj522VXQOuwuF0', 1) }),
      ],
      ['a 100 KB frame', () => ({ ...valid(), frame: messageFrameText('news', 'x'.repeat(100_000), 'Pfuj522VXQOuwuF0', 1) })],
      ['no ids', () => ({ ...valid(), ids: undefined })],
      ['an empty id list', () => ({ ...valid(), ids: [] })],
      ['ids that are not strings', () => ({ ...valid(), ids: [42] })],
      ['an id with a slash path', () => ({ ...valid(), ids: ['../../x'] })],
      ['an id with a control character', () => ({ ...valid(), ids: ['L0SM9c\u0000OFvHcC='] })],
      ['an overlong id', () => ({ ...valid(), ids: ['A'.repeat(200)] })],
      ['a dot-segment id', () => ({ ...valid(), ids: ['..'] })],
      ['the same id twice', () => ({ ...valid(), ids: ['L0SM9cOFvHcCIhw=', 'L0SM9cOFvHcCIhw='] })],
      ['more ids than FanoutBatchSize', () => ({ ...valid(), ids: Array.from({ length: 101 }, (_, i) => `id${i}AAAAAAAAAAA=`) })],
      ['a rate that is not a number', () => ({ ...valid(), ratePerSecond: 'fast' })],
      ['a rate of 0', () => ({ ...valid(), ratePerSecond: 0 })],
      ['a negative burst', () => ({ ...valid(), burst: -5 })],
      ['a hop past the last', () => ({ ...valid(), hop: FANOUT_MAX_HOPS + 1 })],
      ['a fractional hop', () => ({ ...valid(), hop: 0.5 })],
      ['an undelivered flag that is not true', () => ({ ...valid(), undelivered: 'yes' })],
    ];
    for (const [label, make] of cases) {
      it(label, async () => {
        const error = await thrownBy(make());
        expect(error).to.be.instanceOf(InvalidFanoutBatchError);
        expect(error).to.include({ name: 'InvalidFanoutBatchError', code: 'invalid_fanout_batch' });
        expect(backend.api.posts).to.deep.equal([]);
      });
    }
  });

  describe('pacing', () => {
    let restore = () => {};
    before(() => {
      restore = configure({ environment: { POST_RATE_LIMIT: '50', POST_BURST_LIMIT: '2' } });
    });
    after(() => restore());

    it('clamps a rate and burst above PostRateLimit / PostBurstLimit instead of posting unpaced', async () => {
      // Prepare: 12 ids, asking for a trillion posts a second with a burst of a billion.
      const batch = loadEvent<FanoutBatch>('fanout');
      batch.ids = Array.from({ length: 12 }, (_, i) => `L0SM9cOFvHc${String(i).padStart(4, '0')}=`);
      Object.assign(batch, { ratePerSecond: 1e12, burst: 1e9 });

      // Act
      const started = performance.now();
      const report = await handler(batch);
      const elapsed = performance.now() - started;

      // Assess: 2 at once, then 10 more at 50/s take at least 200 ms (unpaced: a few ms).
      expect(report.delivered).to.equal(12);
      expect(elapsed).to.be.at.least(180);
    });
  });
});
