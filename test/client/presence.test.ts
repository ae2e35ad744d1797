/**
 * The client's member list: events applied by version in any order, snapshots that replace the
 * list without losing what arrived while they were on their way.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { PresenceList } from '../../client/src/presence.js';

const ids = (list: PresenceList) => list.list().map((m) => `${m.id}@${m.v}`);

describe('client PresenceList', () => {
  it('ignores a join that arrives after the leave of the same membership (no phantom)', () => {
    const list = new PresenceList();
    list.snapshot([]);
    list.event('leave', { id: 'a', v: 3 });
    expect(list.event('join', { id: 'a', v: 3 })).to.equal(false);
    expect(ids(list)).to.deep.equal([]);
    expect(list.event('join', { id: 'a', v: 7 })).to.equal(true);
    expect(ids(list)).to.deep.equal(['a@7']);
  });

  it('adds a member once, however often its join arrives, and keeps a newer membership over an older leave', () => {
    const list = new PresenceList();
    list.snapshot([{ id: 'a', v: 5 }]);
    expect(list.event('join', { id: 'a', v: 5 })).to.equal(false);
    expect(list.event('leave', { id: 'a', v: 2 })).to.equal(false);
    expect(ids(list)).to.deep.equal(['a@5']);
  });

  it('a snapshot replaces the list, then re-applies the events received since it was asked for', () => {
    const list = new PresenceList();
    list.snapshot([{ id: 'ghost', v: 1 }]); // missed its leave while disconnected
    list.requested();
    list.event('join', { id: 'new', v: 9 }); // newer than the snapshot
    list.event('leave', { id: 'b', v: 4 }); // arrived before the snapshot listing b@4
    list.snapshot([
      { id: 'b', v: 4 },
      { id: 'c', v: 6 },
    ]);
    expect(ids(list)).to.deep.equal(['c@6', 'new@9']);
  });

  it('ends with the truth for any order of the events of a history, snapshots included', () => {
    // A history: memberships of 4 principals, each a join then maybe a leave, versions increasing.
    const history = fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.boolean()), { minLength: 1, maxLength: 12 }).map((steps) => {
      const events: Array<{ event: 'join' | 'leave'; member: { id: string; v: number } }> = [];
      const open = new Map<string, number>();
      let v = 0;
      for (const [who, leaves] of steps) {
        const id = `p${who}`;
        const current = open.get(id);
        if (current !== undefined) {
          events.push({ event: 'leave', member: { id, v: current } });
          open.delete(id);
        } else {
          open.set(id, ++v);
          events.push({ event: 'join', member: { id, v } });
          if (leaves) {
            events.push({ event: 'leave', member: { id, v } });
            open.delete(id);
          }
        }
      }
      return { events, truth: [...open.entries()].map(([id, v]) => `${id}@${v}`).sort() };
    });
    fc.assert(
      fc.property(history, fc.func(fc.integer()), fc.integer({ min: 0, max: 12 }), ({ events, truth }, order, cut) => {
        const shuffled = events.map((e, i) => ({ e, key: order(i) })).sort((a, b) => a.key - b.key);
        const list = new PresenceList();
        list.requested();
        // Events before the cut arrive before the snapshot; the snapshot is the state at some
        // point of the history: a state built from a prefix of the events in true order.
        const prefix = events.slice(0, Math.min(cut, events.length));
        const state = new Map<string, number>();
        for (const { event, member } of prefix)
          if (event === 'join') state.set(member.id, member.v);
          else state.delete(member.id);
        const shuffledArrivals = shuffled.map((s) => s.e);
        const before = shuffledArrivals.slice(0, Math.floor(shuffledArrivals.length / 2));
        const after = shuffledArrivals.slice(before.length);
        for (const { event, member } of before) list.event(event, member);
        list.snapshot([...state.entries()].map(([id, v]) => ({ id, v })));
        for (const { event, member } of after) list.event(event, member);
        expect(ids(list).sort()).to.deep.equal(truth);
      }),
      { numRuns: 500 },
    );
  });
});
