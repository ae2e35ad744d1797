import { expect } from 'chai';
import { handler as joinHandler } from '../../functions/joinchannel/index.js';
import { handler } from '../../functions/leavechannel/index.js';
import { countSubscriptions, openConnection } from '../../shared/connection-store.js';
import { loadEvent, messageEvent } from '../helpers/events.js';
import { frameOf, startBackend, type TestBackend } from '../helpers/stack.js';

describe('functions/leavechannel', () => {
  let backend: TestBackend;
  before(async () => {
    backend = await startBackend({ MAX_CHANNELS_PER_CONNECTION: '2' });
  });
  after(() => backend.stop());

  it('leaves the channel, keeps the others, and acks', async () => {
    await openConnection('L0SM9cOFvHcCIhw=', ['news', 'sport'], Date.now());
    expect(frameOf(await handler(loadEvent('leavechannel')))).to.deep.equal({ type: 'left', channel: 'news' });
    expect(await countSubscriptions('L0SM9cOFvHcCIhw=')).to.equal(1);
    expect(frameOf(await handler(loadEvent('leavechannel')))).to.deep.equal({ type: 'left', channel: 'news' });
  });

  it('frees a channel slot only when a subscription was really left', async () => {
    await openConnection('slots=', ['a', 'b'], Date.now());
    const join = (channel: string) => joinHandler(messageEvent('joinchannel', { action: 'joinchannel', channel }, 'slots='));
    expect(frameOf(await join('c'))).to.include({ code: 'too_many_channels' });
    // Leaving a channel it is not in twice must not open two slots.
    await handler(messageEvent('leavechannel', { action: 'leavechannel', channel: 'zzz' }, 'slots='));
    expect(frameOf(await join('c'))).to.include({ code: 'too_many_channels' });
    await handler(messageEvent('leavechannel', { action: 'leavechannel', channel: 'a' }, 'slots='));
    await handler(messageEvent('leavechannel', { action: 'leavechannel', channel: 'a' }, 'slots='));
    expect(frameOf(await join('c'))).to.include({ type: 'joined', channel: 'c' });
    expect(frameOf(await join('d'))).to.include({ code: 'too_many_channels' });
    expect(await countSubscriptions('slots=')).to.equal(2);
  });

  it('requires a valid channel', async () => {
    expect(frameOf(await handler(messageEvent('leavechannel', { action: 'leavechannel' })))).to.include({ code: 'invalid_channel' });
  });
});
