import { expect } from 'chai';
import { removeConnection } from '../../shared/connection-cleanup.js';
import { countSubscriptions, openConnection } from '../../shared/connection-store.js';
import { reset } from '../../shared/dependencies.js';
import {
  appendHistory,
  batchWrite,
  FIRST_SUBSCRIBER_PAGE_ITEMS,
  historyPages,
  markSkipped,
  nextSequence,
  readSequence,
  subscriberPages,
  subscriptionItem,
} from '../../shared/store.js';
import { type LocalDynamo, startDynamo } from '../helpers/dynamo.js';

describe('store (against dynalite)', () => {
  let db: LocalDynamo;
  before(async () => {
    db = await startDynamo({ CHANNEL_SHARDS: '4' });
  });
  after(async () => {
    reset();
    await db.stop();
  });

  it('pages every subscriber of 3 channels x 5,000 completely, without a Scan', async () => {
    const now = Date.now();
    const ids = Array.from({ length: 5000 }, (_, i) => `conn${String(i).padStart(5, '0')}=`);
    for (const channel of ['a', 'b', 'c']) {
      await batchWrite(ids.map((id) => ({ PutRequest: { Item: subscriptionItem(id, channel, now) } })));
    }
    for (const channel of ['a', 'b', 'c']) {
      const seen: string[] = [];
      let pages = 0;
      for await (const page of subscriberPages(channel, 700)) {
        pages++;
        seen.push(...page);
      }
      expect(pages).to.be.greaterThan(4);
      expect(seen).to.have.length(5000);
      expect(new Set(seen)).to.deep.equal(new Set(ids));
    }
  });

  it('reads a short first page per shard, so posting can start after one small Query', async () => {
    // Channel 'a' (5,000 rows in 4 shards) is written by the test above; without a pageSize a
    // shard of ~1,250 rows would otherwise come back as one page.
    const sizes: number[] = [];
    const seen = new Set<string>();
    for await (const page of subscriberPages('a')) {
      sizes.push(page.length);
      for (const id of page) seen.add(id);
    }
    expect(seen.size).to.equal(5000);
    expect(sizes[0]).to.be.at.most(FIRST_SUBSCRIBER_PAGE_ITEMS);
    expect(sizes.filter((size) => size <= FIRST_SUBSCRIBER_PAGE_ITEMS).length).to.be.at.least(4);
    expect(sizes.length).to.equal(8); // each shard: its short first page, then the rest in one page
  });

  it('removes every row of a connection in 30 channels and is idempotent', async () => {
    const channels = Array.from({ length: 30 }, (_, i) => `room${i}`);
    await openConnection('gone30=', channels, Date.now());
    expect(await countSubscriptions('gone30=')).to.equal(30);
    expect(await removeConnection('gone30=')).to.equal(31); // 30 subscriptions and the connection row
    expect(await countSubscriptions('gone30=')).to.equal(0);
    expect(await removeConnection('gone30=')).to.equal(0);
    for await (const page of subscriberPages('room7')) expect(page).to.not.include('gone30=');
  });

  it('skips subscription rows past their TTL (DynamoDB expires them days late)', async () => {
    const threeHoursAgo = Date.now() - 3 * 3600 * 1000;
    await openConnection('stale=', ['ttl-room'], threeHoursAgo);
    await openConnection('fresh=', ['ttl-room'], Date.now());
    const seen: string[] = [];
    for await (const page of subscriberPages('ttl-room')) seen.push(...page);
    expect(seen).to.deep.equal(['fresh=']);
  });

  describe('history and sequence', () => {
    it('records when each number was taken, readable with the counter', async () => {
      const before = Date.now();
      expect(await readSequence('seq-room')).to.equal(undefined);
      expect([await nextSequence('seq-room'), await nextSequence('seq-room')]).to.deep.equal([1, 2]);
      const state = await readSequence('seq-room');
      expect(state?.seq).to.equal(2);
      expect(state?.allocatedAt).to.be.within(before, Date.now());
    });

    it('pages history rows oldest first within the asked range, tombstones and frames alike', async () => {
      for (let seq = 1; seq <= 12; seq++) {
        if (seq === 5) expect(await markSkipped('h-room', seq)).to.equal(true);
        else expect(await appendHistory('h-room', seq, `id${seq}`, `{"seq":${seq}}`)).to.equal(true);
      }
      const pages: number[][] = [];
      const rows = [];
      for await (const page of historyPages('h-room', 3, 10, 4)) {
        pages.push(page.map((r) => r.seq));
        rows.push(...page);
      }
      expect(pages.flat()).to.deep.equal([3, 4, 5, 6, 7, 8, 9, 10]);
      expect(pages.length).to.be.greaterThan(1);
      expect(rows[2]).to.include({ seq: 5, skipped: true, frame: undefined });
      expect(rows[0]).to.include({ seq: 3, skipped: false, frame: '{"seq":3}' });
    });

    it('never lets a tombstone and a message overwrite each other, and repeats each write idempotently', async () => {
      expect(await appendHistory('c-room', 1, 'a', '{"a":1}')).to.equal(true);
      expect(await appendHistory('c-room', 1, 'a', '{"a":1}'), 'the same message again (an SDK retry)').to.equal(true);
      expect(await markSkipped('c-room', 1), 'a tombstone over a message').to.equal(false);
      expect(await markSkipped('c-room', 2)).to.equal(true);
      expect(await markSkipped('c-room', 2), 'the same tombstone again').to.equal(true);
      expect(await appendHistory('c-room', 2, 'b', '{"b":2}'), 'a message over a tombstone').to.equal(false);
      const rows = [];
      for await (const page of historyPages('c-room', 1, 2)) rows.push(...page);
      expect(rows.map((r) => [r.seq, r.frame, r.skipped])).to.deep.equal([
        [1, '{"a":1}', false],
        [2, undefined, true],
      ]);
    });
  });
});
