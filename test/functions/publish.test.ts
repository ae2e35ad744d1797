import { expect } from 'chai';
import { handler } from '../../functions/publish/index.js';
import { openConnection } from '../../shared/connection-store.js';
import { loadEvent } from '../helpers/events.js';
import { startBackend, type TestBackend } from '../helpers/stack.js';

describe('functions/publish', () => {
  let backend: TestBackend;
  before(async () => {
    backend = await startBackend({ MAX_MESSAGE_BYTES: '1024' });
    await openConnection('a=', ['news', 'sport'], Date.now());
    await openConnection('b=', ['news'], Date.now());
  });
  after(() => backend.stop());
  beforeEach(() => {
    backend.api.posts.length = 0;
  });

  it('broadcasts {"channel","message"} to every member of the channel', async () => {
    const result = await handler(loadEvent<Record<string, unknown>>('publish'));
    expect(result).to.include({ delivered: 2, gone: 0, failed: 0, seq: 1 });
    expect(backend.api.frames('b=')[0]).to.deep.include({ type: 'message', channel: 'news', seq: 1 });
  });

  it('sends each of several messages to each of several channels as its own frame', async () => {
    const result = await handler({ channels: ['news', 'sport'], messages: ['one', 'two'] });
    expect(result.delivered).to.equal(6);
    expect(backend.api.frames('a=').map((f) => [f.channel, f.message])).to.deep.equal([
      ['news', 'one'],
      ['news', 'two'],
      ['sport', 'one'],
      ['sport', 'two'],
    ]);
  });

  it('rejects a bad request before publishing anything', async () => {
    for (const bad of [{}, { channel: 'news' }, { channel: 'bad name', message: 1 }, { channel: 'news', message: 'x'.repeat(2000) }, []]) {
      let error: unknown;
      try {
        await handler(bad);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(bad).slice(0, 40)).to.have.property('code').that.is.a('string');
    }
    expect(backend.api.posts).to.deep.equal([]);
  });
});
