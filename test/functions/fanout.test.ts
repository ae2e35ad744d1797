import { expect } from 'chai';
import { handler } from '../../functions/fanout/index.js';
import { countSubscriptions, openConnection } from '../../shared/connection-store.js';
import type { FanoutBatch } from '../../shared/distribute.js';
import { loadEvent } from '../helpers/events.js';
import { startBackend, type TestBackend } from '../helpers/stack.js';

describe('functions/fanout', () => {
  let backend: TestBackend;
  before(async () => {
    backend = await startBackend();
  });
  after(() => backend.stop());

  it('posts the frame, unchanged, to every id of its batch', async () => {
    const batch = loadEvent<FanoutBatch>('fanout');
    expect(await handler(batch)).to.deep.equal({ delivered: 4, gone: 0, failed: 0 });
    expect(backend.api.posts.map((p) => p.connectionId)).to.have.members(batch.ids);
    for (const post of backend.api.posts) expect(post.body).to.equal(batch.frame);
  });

  it('deletes the rows of a gone connection in its batch and counts it', async () => {
    const batch = loadEvent<FanoutBatch>('fanout');
    await openConnection(batch.ids[1], ['news', 'sport'], Date.now() - 60_000); // long established
    backend.api.gone.add(batch.ids[1]);
    expect(await handler(batch)).to.deep.equal({ delivered: 3, gone: 1, failed: 0 });
    expect(await countSubscriptions(batch.ids[1])).to.equal(0);
  });

  it('throws on an event that is not a batch, so Lambda keeps it in the dead-letter queue', async () => {
    let error: unknown;
    try {
      await handler({ channel: 'news' } as unknown as FanoutBatch);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(Error);
  });
});
