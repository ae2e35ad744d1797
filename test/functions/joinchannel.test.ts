import { expect } from 'chai';
import { handler } from '../../functions/joinchannel/index.js';
import { countSubscriptions, openConnection } from '../../shared/connection-store.js';
import { publish } from '../../shared/publish.js';
import { REPLAY_BUDGET_MS } from '../../shared/replay.js';
import { inOneBudgetWindow } from '../helpers/budget-window.js';
import { loadEvent, messageEvent } from '../helpers/events.js';
import { frameOf, startBackend, type TestBackend } from '../helpers/stack.js';

/** The delivery frames inside the replay frames posted (oldest first). */
const replayed = (posted: Array<Record<string, unknown>>): Array<Record<string, unknown>> =>
  posted.filter((f) => f.type === 'replay').flatMap((f) => f.messages as Array<Record<string, unknown>>);

describe('functions/joinchannel', () => {
  let backend: TestBackend;
  before(async () => {
    backend = await startBackend({ MAX_CHANNELS_PER_CONNECTION: '3', HISTORY_SIZE: '5', REPLAY_PER_MINUTE: '2', FRAME_RATE_LIMIT: '0' });
    // Joins are conditional on the connection row that $connect writes.
    for (const id of ['L0SM9cOFvHcCIhw=', 'j1=', 'j2=', 'j4=', 'j5=', 'j6=', 'j7=', 'j8=', 'j10=', 'j11='])
      await openConnection(id, [], Date.now());
  });
  after(() => backend.stop());
  beforeEach(() => {
    backend.api.posts.length = 0;
  });

  it('joins the channel and acks with the channel and the connection id', async () => {
    const event = loadEvent('joinchannel');
    const frame = frameOf(await handler(event));
    expect(frame).to.deep.equal({ type: 'joined', channel: 'news', connectionId: 'L0SM9cOFvHcCIhw=' });
    expect(await countSubscriptions('L0SM9cOFvHcCIhw=')).to.equal(1);
  });

  for (const [label, channel] of [
    ['a missing channel', undefined],
    ['an empty channel', ''],
    ['a 129-character channel', 'x'.repeat(129)],
    ['a channel with a control character', 'news\u0000'],
    ['a channel with #', 'a#b'],
    ['a numeric channel', 7],
  ] as const) {
    it(`refuses ${label} with invalid_channel`, async () => {
      const frame = frameOf(await handler(messageEvent('joinchannel', { action: 'joinchannel', channel }, 'j1=')));
      expect(frame).to.include({ type: 'error', code: 'invalid_channel' });
      expect(await countSubscriptions('j1=')).to.equal(0);
    });
  }

  it('refuses a channel outside the connection rights with forbidden', async () => {
    const event = messageEvent('joinchannel', { action: 'joinchannel', channel: 'private:1' }, 'j2=');
    event.requestContext.authorizer = { principal: 'u', join: 'public:*', publish: '' };
    expect(frameOf(await handler(event))).to.include({ code: 'forbidden', channel: 'private:1' });
    expect(await countSubscriptions('j2=')).to.equal(0);
  });

  it('refuses a join beyond MaxChannelsPerConnection with too_many_channels naming the channel', async () => {
    await openConnection('j3=', ['a', 'b', 'c'], Date.now());
    const frame = frameOf(await handler(messageEvent('joinchannel', { action: 'joinchannel', channel: 'd' }, 'j3=')));
    expect(frame).to.include({ code: 'too_many_channels', channel: 'd', limit: 3 });
    expect(await countSubscriptions('j3=')).to.equal(3);
  });

  it('acks a repeated join of a full connection (it is no new subscription)', async () => {
    const frame = frameOf(await handler(messageEvent('joinchannel', { action: 'joinchannel', channel: 'b' }, 'j3=')));
    expect(frame).to.include({ type: 'joined', channel: 'b' });
    expect(await countSubscriptions('j3=')).to.equal(3);
  });

  it('100 concurrent joins of one connection leave at most MaxChannelsPerConnection (3) subscriptions', async () => {
    await openConnection('race=', [], Date.now());
    const frames = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        handler(messageEvent('joinchannel', { action: 'joinchannel', channel: `r${i % 20}` }, 'race=')),
      ),
    );
    expect(await countSubscriptions('race=')).to.equal(3);
    const joined = new Set(
      frames
        .map(frameOf)
        .filter((f) => f.type === 'joined')
        .map((f) => f.channel),
    );
    expect(joined.size).to.equal(3);
  });

  it('writes nothing for a connection that is gone (no connection row) and answers nothing', async () => {
    const result = await handler(messageEvent('joinchannel', { action: 'joinchannel', channel: 'late' }, 'gone-already='));
    expect(result.body).to.equal(undefined);
    expect(await countSubscriptions('gone-already=')).to.equal(0);
  });

  it('refuses a replay beyond ReplayPerMinute with rate_limited but still joins', async () => {
    for (let i = 1; i <= 2; i++) await publish('budget-room', { n: i });
    const join = () => handler(messageEvent('joinchannel', { action: 'joinchannel', channel: 'budget-room', since: 0 }, 'j8='));
    await inOneBudgetWindow();
    await join();
    await join();
    backend.api.posts.length = 0;
    const frame = frameOf(await join());
    // The ack says the replay was refused: its seq is the channel's latest, not where the client is.
    expect(frame).to.include({ type: 'joined', channel: 'budget-room', seq: 2, replay: 'refused' });
    expect(frame.retryAfter).to.be.within(1, 60);
    const posted = backend.api.frames('j8=');
    expect(posted).to.have.length(1);
    expect(posted[0]).to.include({ type: 'error', code: 'rate_limited', budget: 'replay', scope: 'connection', channel: 'budget-room' });
    expect(posted[0].retryAfter).to.be.within(1, 60);
  });

  it('replays what was published after `since`, in order, before acking with the latest seq', async () => {
    for (let i = 1; i <= 4; i++) await publish('replay-room', { n: i });
    const frame = frameOf(await handler(messageEvent('joinchannel', { action: 'joinchannel', channel: 'replay-room', since: 2 }, 'j4=')));
    expect(frame).to.deep.include({ type: 'joined', channel: 'replay-room', seq: 4 });
    const posted = backend.api.frames('j4=');
    expect(posted.map((f) => f.type)).to.deep.equal(['replay']);
    expect(replayed(posted).map((f) => [f.type, f.seq, (f.message as { n: number }).n])).to.deep.equal([
      ['message', 3, 3],
      ['message', 4, 4],
    ]);
  });

  it('tells the client with history_gap when `since` is older than the kept history', async () => {
    for (let i = 1; i <= 8; i++) await publish('gap-room', { n: i });
    await handler(messageEvent('joinchannel', { action: 'joinchannel', channel: 'gap-room', since: 1 }, 'j5='));
    const frames = backend.api.frames('j5=');
    expect(frames[0]).to.include({ type: 'error', code: 'history_gap', channel: 'gap-room', since: 1, oldest: 4 });
    expect(replayed(frames.slice(1)).map((f) => f.seq)).to.deep.equal([4, 5, 6, 7, 8]);
  });

  it('answers replay_incomplete with the last seq delivered when posts stay throttled past the budget', async () => {
    for (let i = 1; i <= 3; i++) await publish('stuck-room', { n: i });
    // Every post to this connection is answered 429 for longer than the replay may retry.
    backend.api.throttle.set('j10=', 1_000);
    const started = Date.now();
    const frame = frameOf(await handler(messageEvent('joinchannel', { action: 'joinchannel', channel: 'stuck-room', since: 0 }, 'j10=')));
    expect(frame).to.deep.include({ type: 'error', code: 'replay_incomplete', channel: 'stuck-room', lastSeq: 0 });
    expect(Date.now() - started).to.be.below(REPLAY_BUDGET_MS + 1_000);
    expect(await countSubscriptions('j10=')).to.equal(1);
    backend.api.throttle.delete('j10=');
  });

  it('retries a throttled replay post and then acks normally', async () => {
    for (let i = 1; i <= 2; i++) await publish('busy-room', { n: i });
    backend.api.throttle.set('j11=', 3);
    const frame = frameOf(await handler(messageEvent('joinchannel', { action: 'joinchannel', channel: 'busy-room', since: 0 }, 'j11=')));
    expect(frame).to.include({ type: 'joined', seq: 2 });
    expect(replayed(backend.api.frames('j11=')).map((f) => f.seq)).to.deep.equal([1, 2]);
  });

  it('replays nothing when the client is up to date', async () => {
    await publish('quiet-room', { n: 1 });
    await handler(messageEvent('joinchannel', { action: 'joinchannel', channel: 'quiet-room', since: 1 }, 'j6='));
    expect(backend.api.frames('j6=')).to.deep.equal([]);
  });

  it('refuses a negative or fractional since with bad_request', async () => {
    for (const since of [-1, 1.5, '3']) {
      const frame = frameOf(await handler(messageEvent('joinchannel', { action: 'joinchannel', channel: 'x', since }, 'j7=')));
      expect(frame).to.include({ code: 'bad_request' });
    }
  });
});
