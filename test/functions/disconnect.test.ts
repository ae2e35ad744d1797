import { expect } from 'chai';
import { handler } from '../../functions/disconnect/index.js';
import { countSubscriptions, openConnection } from '../../shared/connection-store.js';
import { loadEvent } from '../helpers/events.js';
import { startBackend, type TestBackend } from '../helpers/stack.js';

describe('functions/disconnect', () => {
  let backend: TestBackend;
  before(async () => {
    backend = await startBackend();
  });
  after(() => backend.stop());

  it('deletes every row of a connection in 30 channels, and a second run is harmless', async () => {
    const event = loadEvent('disconnect');
    const id = event.requestContext.connectionId;
    await openConnection(
      id,
      Array.from({ length: 30 }, (_, i) => `c${i}`),
      Date.now(),
    );
    await openConnection('neighbour=', ['c1'], Date.now());
    expect(await handler(event)).to.deep.equal({ statusCode: 200 });
    expect(await countSubscriptions(id)).to.equal(0);
    expect(await countSubscriptions('neighbour=')).to.equal(1);
    expect(await handler(loadEvent('disconnect'))).to.deep.equal({ statusCode: 200 });
  });
});
