import { expect } from 'chai';
import { handler } from '../../functions/sendmessage/index.js';
import { openConnection } from '../../shared/connection-store.js';
import { inOneBudgetWindow } from '../helpers/budget-window.js';
import { loadEvent, messageEvent } from '../helpers/events.js';
import { frameOf, startBackend, type TestBackend } from '../helpers/stack.js';

const SENDER = 'L0SM9cOFvHcCIhw=';

describe('functions/sendmessage', () => {
  let backend: TestBackend;
  before(async () => {
    backend = await startBackend({ MAX_MESSAGE_BYTES: '64', PUBLISH_PER_MINUTE: '5', DEFAULT_CHANNEL: 'default' });
    await openConnection(SENDER, ['default', 'news'], Date.now());
    await openConnection('reader=', ['news'], Date.now());
    await openConnection('lobby=', ['default'], Date.now());
    for (const id of ['outsider=', 'big=', 'reader2=', 'spammer=', 'spammer2=', 'tagger=', 'refspammer='])
      await openConnection(id, [], Date.now());
  });
  after(() => backend.stop());
  beforeEach(() => {
    backend.api.posts.length = 0;
  });

  it('delivers to every member but the sender, naming the channel, and answers with a sent receipt', async () => {
    const receipt = frameOf(await handler(loadEvent('sendmessage')));
    expect(receipt).to.include({ type: 'sent', channel: 'news', seq: 1 });
    expect(receipt).to.not.have.property('message');
    expect(backend.api.posts.map((p) => p.connectionId)).to.deep.equal(['reader=']);
    expect(backend.api.frames('reader=')).to.deep.equal([
      { type: 'message', channel: 'news', message: { text: 'hello' }, id: receipt.id, seq: 1 },
    ]);
  });

  it('publishes to the default channel when none is named', async () => {
    frameOf(await handler(messageEvent('sendmessage', { action: 'sendmessage', message: 'hi all' }, 'outsider=')));
    expect(backend.api.frames('lobby=')).to.have.length(1);
    expect(backend.api.frames(SENDER)[0]).to.include({ channel: 'default', message: 'hi all' });
  });

  it('refuses a message over MaxMessageBytes and delivers nothing', async () => {
    const frame = frameOf(
      await handler(messageEvent('sendmessage', { action: 'sendmessage', channel: 'news', message: 'x'.repeat(100) }, 'big=')),
    );
    expect(frame).to.include({ type: 'error', code: 'message_too_large' });
    expect(backend.api.posts).to.deep.equal([]);
  });

  it('refuses a missing message with bad_request', async () => {
    expect(frameOf(await handler(messageEvent('sendmessage', { action: 'sendmessage', channel: 'news' }, 'nomsg=')))).to.include({
      code: 'bad_request',
    });
  });

  it('refuses a 5,000-deep message with bad_request instead of overflowing the stack', async () => {
    const deep = `{"action":"sendmessage","channel":"news","message":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    expect(frameOf(await handler(messageEvent('sendmessage', deep, 'deep=')))).to.include({ code: 'bad_request' });
    expect(backend.api.posts).to.deep.equal([]);
  });

  it('refuses publishing outside the connection rights with forbidden', async () => {
    const event = messageEvent('sendmessage', { action: 'sendmessage', channel: 'news', message: 1 }, 'reader2=');
    event.requestContext.authorizer = { principal: 'u2', join: '*', publish: 'user:u2' };
    expect(frameOf(await handler(event))).to.include({ code: 'forbidden', channel: 'news' });
    expect(backend.api.posts).to.deep.equal([]);
  });

  it('answers rate_limited once the connection spent its publish budget, and delivers nothing more', async () => {
    const send = () => handler(messageEvent('sendmessage', { action: 'sendmessage', channel: 'news', message: 'spam' }, 'spammer='));
    const frames = [];
    await inOneBudgetWindow();
    for (let i = 0; i < 7; i++) frames.push(frameOf(await send()));
    expect(frames.map((f) => f.type)).to.deep.equal(['sent', 'sent', 'sent', 'sent', 'sent', 'error', 'error']);
    expect(frames[6]).to.include({ code: 'rate_limited' });
    expect(backend.api.frames('reader=')).to.have.length(5);
  });

  it('answers nothing and publishes nothing for a connection that is gone', async () => {
    const result = await handler(messageEvent('sendmessage', { action: 'sendmessage', channel: 'news', message: 'late' }, 'closed='));
    expect(result.body).to.equal(undefined);
    expect(backend.api.posts).to.deep.equal([]);
  });

  describe('ref (correlated sends)', () => {
    const send = (frame: Record<string, unknown>, from = 'tagger=') =>
      handler(messageEvent('sendmessage', { action: 'sendmessage', channel: 'news', ...frame }, from)).then(frameOf);

    it('echoes the ref in the sent receipt', async () => {
      expect(await send({ message: 1, ref: 'a-1_Z' })).to.include({ type: 'sent', channel: 'news', ref: 'a-1_Z' });
    });

    it('echoes the ref in the error frame the send caused', async () => {
      expect(await send({ message: 'x'.repeat(100), ref: 'big-1' })).to.include({ code: 'message_too_large', ref: 'big-1' });
      expect(await send({ ref: 'nomsg-1' })).to.include({ code: 'bad_request', ref: 'nomsg-1' });
      const spam = () => send({ message: 's', ref: 'spam' }, 'refspammer=');
      for (let i = 0; i < 5; i++) await spam();
      expect(await spam()).to.include({ code: 'rate_limited', ref: 'spam' });
    });

    it('refuses a ref that is not 1-64 of A-Za-z0-9_- with bad_request, and publishes nothing', async () => {
      for (const ref of ['', 'x'.repeat(65), 'a b', 'ü', 7, null, ['a']]) {
        const frame = await send({ message: 1, ref });
        expect(frame, JSON.stringify(ref)).to.include({ type: 'error', code: 'bad_request' });
        expect(frame).to.not.have.property('ref');
      }
      expect(backend.api.posts).to.deep.equal([]);
    });

    it('answers with no ref when the frame has none', async () => {
      expect(await send({ message: 1 })).to.not.have.property('ref');
    });
  });
});
