import { expect } from 'chai';
import { handler } from '../../functions/leavechannel/index.js';
import { countSubscriptions, subscribeMany } from '../../shared/store.js';
import { loadEvent, messageEvent } from '../helpers/events.js';
import { frameOf, startBackend, type TestBackend } from '../helpers/stack.js';

describe('functions/leavechannel', () => {
  let backend: TestBackend;
  before(async () => {
    backend = await startBackend();
  });
  after(() => backend.stop());

  it('leaves the channel, keeps the others, and acks', async () => {
    await subscribeMany('L0SM9cOFvHcCIhw=', ['news', 'sport'], Date.now());
    expect(frameOf(await handler(loadEvent('leavechannel')))).to.deep.equal({ type: 'left', channel: 'news' });
    expect(await countSubscriptions('L0SM9cOFvHcCIhw=')).to.equal(1);
    expect(frameOf(await handler(loadEvent('leavechannel')))).to.deep.equal({ type: 'left', channel: 'news' });
  });

  it('requires a valid channel', async () => {
    expect(frameOf(await handler(messageEvent('leavechannel', { action: 'leavechannel' })))).to.include({ code: 'invalid_channel' });
  });
});
