import { expect } from 'chai';
import { resetClients } from '../../shared/clients.js';
import { countSubscriptions, openConnection, removeConnection } from '../../shared/connection-store.js';
import { batchWrite, subscriberPages, subscriptionItem } from '../../shared/store.js';
import { type LocalDynamo, startDynamo } from '../helpers/dynamo.js';

describe('store (against dynalite)', () => {
  let db: LocalDynamo;
  before(async () => {
    db = await startDynamo({ CHANNEL_SHARDS: '4' });
  });
  after(async () => {
    resetClients();
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
});
