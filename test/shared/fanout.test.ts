import { expect } from 'chai';
import { resetClients } from '../../shared/clients.js';
import { countSubscriptions, openConnection } from '../../shared/connection-store.js';
import { backoffMs, type DeliveryOptions, deliver } from '../../shared/fanout.js';
import type { Poster } from '../../shared/poster.js';
import { batchWrite, subscriberPages, subscriptionItem } from '../../shared/store.js';
import { type ConnectionsEndpoint, startConnectionsEndpoint } from '../helpers/connections-endpoint.js';
import { type LocalDynamo, startDynamo } from '../helpers/dynamo.js';

const noSleep = async () => {};
/** Delivers to a channel's subscribers as read from the table, through the SDK poster. */
const broadcast = (channel: string, data: string, options: DeliveryOptions = {}) => deliver(subscriberPages(channel), data, options);

describe('fanout', () => {
  let db: LocalDynamo;
  let api: ConnectionsEndpoint;
  before(async () => {
    db = await startDynamo({ CHANNEL_SHARDS: '4' });
    api = await startConnectionsEndpoint();
  });
  after(async () => {
    resetClients();
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
      api.latencyMs = 5;
      try {
        await broadcast('room', '{}', { concurrency: 8 });
      } finally {
        api.latencyMs = 0;
      }
      expect(api.maxInFlight).to.be.at.most(8).and.at.least(2);
    });

    it("deletes the rows of a connection that answers 410, and not the sender's", async () => {
      await openConnection('sender=', ['lobby', 'other'], Date.now());
      await openConnection('ghost=', ['lobby', 'other', 'third'], Date.now() - 60_000); // long established
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
      const report = await broadcast('nursery', '{"n":3}', { sleep });
      expect(report).to.include({ delivered: 1, gone: 0, failed: 0 });
      expect(api.frames('newborn=')).to.deep.equal([{ n: 3 }]);
      expect(await countSubscriptions('newborn=')).to.equal(1);
      expect(waits).to.deep.equal([100, 200, 400]);
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
      const report = await deliver([['a=']], 'x', { poster, sleep: noSleep });
      expect(report).to.deep.equal({ delivered: 0, gone: 0, failed: 1, throttled: 0 });
      expect(calls).to.equal(3);
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
      const report = await deliver(pages(), 'x', { poster, concurrency: 3 });
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
