/**
 * Presence end to end (issue 15): the local stack runs template.yaml with AuthMode=jwt, so the
 * authorizer, the routes and the fan-out are the real code over real sockets. Members are
 * principals (`sub`); their public info comes from the `name` claim (PresenceInfoClaim).
 */
import { expect } from 'chai';
import { inOneBudgetWindow } from '../helpers/budget-window.js';
import { FRAME_MS, ids, join, open, roomyPresence, token, useStack } from '../helpers/presence-stack.js';
import { type Frame, refusedStatus, sleep, type TestClient } from '../helpers/ws-client.js';

const CAP = 6;

const presenceOf = (channel: string, event: string, id: string) => (f: Frame) =>
  f.type === 'presence' && f.channel === channel && f.event === event && (f.member as { id: string }).id === id;

/** Every presence frame a client got (left in its frame list) for a channel. */
const presenceFrames = (client: TestClient, channel: string) => client.frames.filter((f) => f.type === 'presence' && f.channel === channel);

describe('presence end to end (issue 15)', function () {
  this.timeout(180_000);

  describe(`AuthMode=jwt, PresenceMemberLimit=${CAP}, PresenceInfoClaim=name`, () => {
    const ctx = useStack(roomyPresence(CAP));

    it('join, leave, $disconnect and a killed socket: the ack lists the members, the others get join and leave events', async () => {
      const room = 'presence:basic';
      const ann = await open(ctx, 'ann', undefined, 'Ann');
      expect(await join(ann, room)).to.deep.include({ type: 'joined', self: 'ann', members: [{ id: 'ann', v: 1, info: 'Ann' }] });
      const bob = await open(ctx, 'bob', undefined, 'Bob');
      const bobAck = await join(bob, room);
      expect(ids(bobAck.members)).to.deep.equal(['ann', 'bob']);
      expect((await ann.next(presenceOf(room, 'join', 'bob'), FRAME_MS)).member).to.deep.equal({ id: 'bob', v: 2, info: 'Bob' });
      // leavechannel
      bob.send({ action: 'leavechannel', channel: room });
      await ann.next(presenceOf(room, 'leave', 'bob'), FRAME_MS);
      // join again: a new membership, a higher version
      await join(bob, room);
      expect((await ann.next(presenceOf(room, 'join', 'bob'), FRAME_MS)).member).to.deep.include({ id: 'bob', v: 3 });
      // $disconnect (a clean close)
      await bob.close();
      await ann.next(presenceOf(room, 'leave', 'bob'), FRAME_MS);
      // a killed socket (no close frame): the stack's $disconnect still runs
      const cat = await open(ctx, 'cat');
      await join(cat, room);
      await ann.next(presenceOf(room, 'join', 'cat'), FRAME_MS);
      cat.ws.terminate();
      await ann.next(presenceOf(room, 'leave', 'cat'), FRAME_MS);
      ann.send({ action: 'members', channel: room });
      expect(ids((await ann.next((f) => f.type === 'members', FRAME_MS)).members)).to.deep.equal(['ann']);
      // the joiner gets no event about itself
      expect(presenceFrames(ann, room)).to.deep.equal([]);
    });

    it('several connections of one principal are one member: joined on the first, left on the last', async () => {
      const room = 'presence:multi';
      const watcher = await open(ctx, 'watcher');
      await join(watcher, room);
      const [one, two] = [await open(ctx, 'dan'), await open(ctx, 'dan')];
      const [ackOne, ackTwo] = await Promise.all([join(one, room), join(two, room)]);
      expect(ids(ackOne.members)).to.include('dan');
      expect(ids(ackTwo.members)).to.deep.equal(['dan', 'watcher']);
      await watcher.next(presenceOf(room, 'join', 'dan'), FRAME_MS);
      await one.close();
      await sleep(1_000);
      expect(presenceFrames(watcher, room), 'no leave while a connection of dan is left').to.deep.equal([]);
      two.ws.terminate();
      await watcher.next(presenceOf(room, 'leave', 'dan'), FRAME_MS);
      await sleep(300);
      expect(presenceFrames(watcher, room), 'exactly one join and one leave').to.deep.equal([]);
    });

    it(`refuses joins past the member cap (${CAP}) with presence_full, also when ${CAP + 4} principals join at once`, async () => {
      const room = 'presence:cap';
      const clients = await Promise.all(Array.from({ length: CAP + 4 }, (_, i) => open(ctx, `cap${i}`)));
      const answers = await Promise.all(clients.map((c) => join(c, room)));
      const joined = answers.filter((a) => a.type === 'joined');
      const refused = answers.filter((a) => a.type === 'error');
      expect(joined).to.have.length(CAP);
      expect(refused).to.have.length(4);
      for (const r of refused) expect(r).to.include({ code: 'presence_full', channel: room, limit: CAP });
      const first = clients[answers.indexOf(joined[0])];
      first.send({ action: 'members', channel: room });
      expect((await first.next((f) => f.type === 'members', FRAME_MS)).members).to.have.length(CAP);
      // A refused join joined nothing: no message of the channel reaches it.
      const loser = clients[answers.indexOf(refused[0])];
      loser.send({ action: 'members', channel: room });
      expect(await loser.next((f) => f.type === 'error', FRAME_MS)).to.include({ code: 'not_joined', channel: room });
      // Room again once a member leaves.
      first.send({ action: 'leavechannel', channel: room });
      await first.next((f) => f.type === 'left', FRAME_MS);
      expect(await join(loser, room)).to.include({ type: 'joined' });
    });

    it('keeps members within the rights: forbidden joins, members only of a joined presence channel, none through ?channels=', async () => {
      const narrow = await open(ctx, 'narrow', ['presence:mine']);
      expect(await join(narrow, 'presence:other')).to.include({ type: 'error', code: 'forbidden' });
      narrow.send({ action: 'members', channel: 'presence:other' });
      expect(await narrow.next((f) => f.type === 'error', FRAME_MS)).to.include({ code: 'forbidden', channel: 'presence:other' });
      narrow.send({ action: 'members', channel: 'presence:mine' });
      expect(await narrow.next((f) => f.type === 'error', FRAME_MS)).to.include({ code: 'not_joined', channel: 'presence:mine' });
      const wide = await open(ctx, 'wide');
      await join(wide, 'plain');
      wide.send({ action: 'members', channel: 'plain' });
      expect(await wide.next((f) => f.type === 'error', FRAME_MS)).to.include({ code: 'not_presence_channel', channel: 'plain' });
      // A plain channel's ack has no member list.
      expect((await join(wide, 'plain2')).members).to.equal(undefined);
      expect(await refusedStatus(`${ctx.stack.url}?channels=presence:x&token=${await token('wide')}`)).to.equal(400);
    });
  });

  describe('PresencePerMinute=3 (the budget against join/leave flapping)', () => {
    const ctx = useStack({ PresencePerMinute: '3', PrincipalPresencePerMinute: '100' });

    it('refuses the 4th presence join of a minute with rate_limited (budget presence), logged once at WARN', async () => {
      const flapper = await open(ctx, 'flapper');
      const watcher = await open(ctx, 'watcher2');
      await join(watcher, 'presence:flap');
      await inOneBudgetWindow();
      for (let i = 0; i < 3; i++) {
        expect(await join(flapper, 'presence:flap')).to.include({ type: 'joined' });
        flapper.send({ action: 'leavechannel', channel: 'presence:flap' });
        await flapper.next((f) => f.type === 'left', FRAME_MS);
      }
      ctx.logs.length = 0;
      expect(await join(flapper, 'presence:flap')).to.include({
        type: 'error',
        code: 'rate_limited',
        budget: 'presence',
        scope: 'connection',
      });
      await sleep(500);
      // 3 joins and 3 leaves reached the watcher; the refused one sent nothing.
      expect(presenceFrames(watcher, 'presence:flap')).to.have.length(6);
      const refusals = ctx.logs.filter((l) => /frame refused/.test(l.line) && /rate_limited/.test(l.line));
      expect(refusals).to.have.length(1);
      expect(refusals[0].line)
        .to.match(/"level":"WARN"/)
        .and.match(/"budget":"presence"/);
    });
  });
});
