import { expect } from 'chai';
import { removeConnection } from '../../shared/connection-cleanup.js';
import { countSubscriptions, openConnection } from '../../shared/connection-store.js';
import { backoffMs, type DeliveryOptions, deliver, deliverUntil } from '../../shared/delivery.js';
import { reset } from '../../shared/dependencies.js';
import { FastPoster } from '../../shared/fast-poster.js';
import type { Poster } from '../../shared/poster.js';
import { batchWrite, subscriberPages, subscriptionItem } from '../../shared/store.js';
import { type ConnectionsEndpoint, startConnectionsEndpoint } from '../helpers/connections-endpoint.js';
import { type LocalDynamo, startDynamo } from '../helpers/dynamo.js';

const noSleep = async () => {};

describe('delivery', () => {
  let db: LocalDynamo;
  let api: ConnectionsEndpoint;
  let poster: FastPoster;
  /** Delivers to a channel's subscribers as read from the table, through the production poster. */
  const broadcast = (channel: string, data: string, options: Partial<DeliveryOptions> = {}) =>
    deliver(subscriberPages(channel), data, { poster, onGone: removeConnection, ...options });
  before(async () => {
    db = await startDynamo({ CHANNEL_SHARDS: '4' });
    api = await startConnectionsEndpoint();
    poster = new FastPoster({ endpoint: api.url, maxSockets: 16 });
  });
  after(async () => {
    await poster.close();
    reset();
    await api.stop();
    await db.stop();
  });
  beforeEach(() => {
    api.posts.length = 0;
    api.gone.clear();
    api.throttle.clear();
    api.maxInFlight = 0;
  });

  describe('deliver to a channel read from the table', () => {
    it('delivers to every subscriber exactly once, and never to the excluded sender', async () => {
      const ids = Array.from({ length: 300 }, (_, i) => `fan${i}=`);
      await batchWrite(ids.map((id) => ({ PutRequest: { Item: subscriptionItem(id, 'room', Date.now()) } })));
      const report = await broadcast('room', '{"type":"message"}', { exclude: 'fan7=', concurrency: 16 });
      expect(report).to.deep.equal({ delivered: 299, gone: 0, failed: 0, throttled: 0 });
      const targets = api.posts.map((p) => p.connectionId);
      expect(new Set(targets).size).to.equal(299);
      expect(targets).to.not.include('fan7=');
    });

    it('keeps posts in flight within the concurrency bound', async () => {
      // Its own channel and rows: run alone (--grep) it must measure the same thing.
      const ids = Array.from({ length: 64 }, (_, i) => `inflight${i}=`);
      await batchWrite(ids.map((id) => ({ PutRequest: { Item: subscriptionItem(id, 'inflight', Date.now()) } })));
      api.latencyMs = 5;
      let report: Awaited<ReturnType<typeof broadcast>>;
      try {
        report = await broadcast('inflight', '{}', { concurrency: 8 });
      } finally {
        api.latencyMs = 0;
      }
      expect(report.delivered).to.equal(64);
      expect(api.maxInFlight).to.be.at.most(8).and.at.least(2);
    });

    it("deletes the rows of a connection that answers 410, and not the sender's", async () => {
      await openConnection('sender=', ['lobby', 'other'], Date.now());
      await openConnection('ghost=', ['lobby', 'other', 'third'], Date.now() - 60_000, Date.now() - 60_000); // long established
      await openConnection('alive=', ['lobby'], Date.now());
      api.gone.add('ghost=');
      const report = await broadcast('lobby', '{"n":1}', { exclude: 'sender=', sleep: noSleep });
      expect(report.gone).to.equal(1);
      expect(report.delivered).to.equal(1);
      expect(await countSubscriptions('ghost=')).to.equal(0);
      expect(await countSubscriptions('sender=')).to.equal(2);
      expect(await countSubscriptions('alive=')).to.equal(1);
    });

    it('keeps the rows of a connection still completing its handshake and delivers once it is established', async () => {
      await openConnection('newborn=', ['nursery'], Date.now());
      api.gone.add('newborn=');
      const waits: number[] = [];
      const sleep = async (ms: number) => {
        waits.push(ms);
        if (waits.length === 3) api.gone.delete('newborn='); // the $connect integration returned
      };
      const report = await broadcast('nursery', '{"n":3}', { sleep, now: () => 0 });
      expect(report).to.include({ delivered: 1, gone: 0, failed: 0 });
      expect(api.frames('newborn=')).to.deep.equal([{ n: 3 }]);
      expect(await countSubscriptions('newborn=')).to.equal(1);
      expect(waits).to.deep.equal([100, 200, 400]);
    });

    it('never deletes a 410 connection whose row cannot be read, nor one still "establishing" after every wait', async () => {
      await openConnection('unreadable=', ['limbo'], Date.now());
      await openConnection('stuck=', ['limbo'], Date.now());
      api.gone.add('unreadable=');
      api.gone.add('stuck=');
      const report = await broadcast('limbo', '{"n":4}', {
        sleep: async () => {},
        now: () => 0,
        isEstablishing: async (id) => {
          if (id === 'unreadable=') throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
          return true; // a $connect that failed after writing its rows: young for every wait
        },
      });
      expect(report).to.include({ delivered: 0, gone: 0 });
      expect(await countSubscriptions('unreadable=')).to.equal(1);
      expect(await countSubscriptions('stuck=')).to.equal(1);
      expect(report.failed).to.equal(2); // both handed on with the remainder, not dropped
    });

    it('retries a 429 until the post is delivered', async () => {
      await openConnection('busy=', ['throttled-room'], Date.now());
      api.throttle.set('busy=', 4);
      const report = await broadcast('throttled-room', '{"n":2}', { sleep: noSleep });
      expect(report).to.include({ delivered: 1, throttled: 4, failed: 0 });
      expect(api.frames('busy=')).to.deep.equal([{ n: 2 }]);
    });
  });

  describe('deliver', () => {
    it('counts a post that keeps failing as failed instead of dropping it silently', async () => {
      let calls = 0;
      const poster: Poster = {
        post: async () => {
          calls++;
          return 'failed';
        },
      };
      const report = await deliver([['a=']], 'x', { poster, sleep: noSleep, onGone: removeConnection });
      expect(report).to.deep.equal({ delivered: 0, gone: 0, failed: 1, throttled: 0 });
      expect(calls).to.equal(3);
    });

    it('lets 40 clients that stop reading cost a bounded number of posts, after everyone else got theirs', async () => {
      // Prepare: 200 subscribers, 40 of which answer 429 forever (their buffer is full).
      const ids = Array.from({ length: 200 }, (_, i) => `s${i}=`);
      const stalled = new Set(ids.filter((_, i) => i % 5 === 0));
      const posts: string[] = [];
      const poster: Poster = {
        post: async (id) => {
          posts.push(id);
          await new Promise((r) => setTimeout(r, 1));
          return stalled.has(id) ? 'throttled' : 'ok';
        },
      };

      // Act: real backoff sleeps (up to seconds), 8 slots.
      const started = Date.now();
      let lastLiveAt = 0;
      const counting: Poster = {
        post: async (id) => {
          const outcome = await poster.post(id, '');
          if (outcome === 'ok') lastLiveAt = Date.now();
          return outcome;
        },
      };
      const { report, remainder } = await deliverUntil([ids], 'x', {
        poster: counting,
        concurrency: 8,
        maxAttempts: 4,
        onGone: removeConnection,
      });

      // Assess: every live client was posted before any stalled one was retried, and quickly;
      // each stalled one got exactly maxAttempts posts and is returned, not dropped.
      expect(report).to.include({ delivered: 160, failed: 40 });
      expect(new Set(remainder)).to.deep.equal(stalled);
      const firstRetry = posts.findIndex((id, i) => posts.indexOf(id) !== i);
      expect(posts.slice(0, firstRetry).filter((id) => !stalled.has(id))).to.have.length(160);
      expect(lastLiveAt - started).to.be.below(500);
      for (const id of stalled) expect(posts.filter((p) => p === id)).to.have.length(4);
    });

    it('returns exactly the subscribers not delivered when the deadline passes', async () => {
      const ids = Array.from({ length: 100 }, (_, i) => `d${i}=`);
      let clock = 0;
      const delivered: string[] = [];
      const poster: Poster = {
        post: async (id) => {
          clock += 10; // each post takes 10 ms of the fake clock
          if (id.endsWith('7=')) return 'throttled';
          delivered.push(id);
          return 'ok';
        },
      };
      const { report, remainder } = await deliverUntil([ids], 'x', {
        poster,
        onGone: removeConnection,
        concurrency: 1,
        now: () => clock,
        deadline: 500,
        sleep: noSleep,
      });
      expect(report.delivered + remainder.length).to.equal(100);
      expect(report.failed).to.equal(remainder.length);
      expect([...delivered, ...remainder].sort()).to.deep.equal([...ids].sort());
      expect(remainder.length).to.be.above(40);
    });

    it('tells the ids it never posted (untried) from those it tried and could not deliver', async () => {
      // Prepare: ids ending in 7 are throttled; each post takes 10 ms of a fake clock, deadline 300.
      const ids = Array.from({ length: 100 }, (_, i) => `u${i}=`);
      let clock = 0;
      const posted = new Set<string>();
      const poster: Poster = {
        post: async (id) => {
          clock += 10;
          posted.add(id);
          return id.endsWith('7=') ? 'throttled' : 'ok';
        },
      };

      // Act
      const { remainder, untried } = await deliverUntil([ids], 'x', {
        poster,
        onGone: removeConnection,
        concurrency: 1,
        now: () => clock,
        deadline: 300,
        sleep: noSleep,
      });

      // Assess: untried is exactly the part of the remainder that never got a post.
      expect(untried.length).to.be.above(50);
      expect(untried.filter((id) => posted.has(id))).to.deep.equal([]);
      expect(untried.every((id) => remainder.includes(id))).to.equal(true);
      const tried = remainder.filter((id) => !untried.includes(id));
      expect(tried.length).to.be.above(0);
      for (const id of tried) expect(posted.has(id)).to.equal(true);
    });

    it('asks a deadline given as a function each time (it may move while the call runs)', async () => {
      // Prepare: no deadline until 20 posts are done, then one already past.
      const ids = Array.from({ length: 50 }, (_, i) => `f${i}=`);
      let done = 0;
      const poster: Poster = {
        post: async () => {
          done++;
          return 'ok';
        },
      };

      // Act
      const { report, untried } = await deliverUntil([ids], 'x', {
        poster,
        onGone: removeConnection,
        concurrency: 1,
        deadline: () => (done < 20 ? Number.POSITIVE_INFINITY : 0),
      });

      // Assess
      expect(report.delivered).to.equal(20);
      expect(untried).to.deep.equal(ids.slice(20));
    });

    it('deletes gone connections only after every post is done, so cleanup never delays delivery', async () => {
      const ids = Array.from({ length: 60 }, (_, i) => `g${i}=`);
      const gone = new Set(ids.filter((_, i) => i % 2 === 0));
      let posting = 0;
      let postedAll = false;
      let cleanupsDuringDelivery = 0;
      let delivered = 0;
      const poster: Poster = {
        post: async (id) => {
          posting++;
          await new Promise((r) => setTimeout(r, 1));
          posting--;
          if (gone.has(id)) return 'gone';
          if (++delivered === 30) postedAll = true;
          return 'ok';
        },
      };
      const onGone = async () => {
        if (!postedAll || posting > 0) cleanupsDuringDelivery++;
        await new Promise((r) => setTimeout(r, 20)); // a slow delete of many rows
      };
      const report = await deliver([ids], 'x', { poster, concurrency: 4, onGone, isEstablishing: async () => false });
      expect(report).to.include({ delivered: 30, gone: 30 });
      expect(cleanupsDuringDelivery).to.equal(0);
    });

    it('pulls the next page only when the current one is used up (memory holds one page)', async () => {
      let pulled = 0;
      async function* pages() {
        for (let i = 0; i < 5; i++) {
          pulled++;
          yield [`p${i}a=`, `p${i}b=`];
        }
      }
      const seen: string[] = [];
      let maxAhead = 0;
      const poster: Poster = {
        post: async (id) => {
          const page = Number(id.slice(1, -2));
          maxAhead = Math.max(maxAhead, pulled - 1 - page);
          seen.push(id);
          return 'ok';
        },
      };
      const report = await deliver(pages(), 'x', { poster, concurrency: 3, onGone: removeConnection });
      expect(report.delivered).to.equal(10);
      expect(seen).to.have.members(['p0a=', 'p0b=', 'p1a=', 'p1b=', 'p2a=', 'p2b=', 'p3a=', 'p3b=', 'p4a=', 'p4b=']);
      expect(maxAhead).to.be.at.most(1);
    });
  });

  describe('backoffMs', () => {
    it('stays within [0, min(max, base * 2^attempt))', () => {
      expect(backoffMs(0, 50, 2000, () => 0.999)).to.equal(49);
      expect(backoffMs(3, 50, 2000, () => 0.5)).to.equal(200);
      expect(backoffMs(10, 50, 2000, () => 0.999)).to.equal(1998);
      expect(backoffMs(10, 50, 2000, () => 0)).to.equal(0);
    });
  });
});
