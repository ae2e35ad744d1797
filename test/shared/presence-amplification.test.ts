/**
 * A presence event goes to every *connection* of every member (readPresence's `connections`). An
 * adversarial review found that nothing capped the connections of one member: a second principal
 * parking K sockets in the channel multiplied every join and leave event by K (20 posts for one
 * event in a channel of 2 members). PresenceConnectionsPerMember bounds an event at
 * (PresenceMemberLimit - 1) x PresenceConnectionsPerMember posts, the figure docs/security.md uses.
 */
import { expect } from 'chai';
import { joinChannel, openConnection } from '../../shared/connection-store.js';
import { configure } from '../../shared/dependencies.js';
import type { Poster } from '../../shared/poster.js';
import { joinPresence } from '../../shared/presence.js';
import { type LocalDynamo, startDynamo } from '../helpers/dynamo.js';
import { routeContextOf } from '../helpers/events.js';

class CountingPoster implements Poster {
  ids: string[] = [];
  async post(id: string) {
    this.ids.push(id);
    return 'ok' as const;
  }
}

describe('presence amplification: an event posts to at most (members - 1) x connections per member', () => {
  let db: LocalDynamo;
  const poster = new CountingPoster();
  before(async () => {
    db = await startDynamo({ AUTH_MODE: 'jwt', PRESENCE_MEMBER_LIMIT: '2', PRESENCE_CONNECTIONS_PER_MEMBER: '3' });
    configure({ clients: { poster } });
  });
  after(async () => {
    configure({ clients: { poster: undefined } });
    delete process.env.AUTH_MODE;
    delete process.env.PRESENCE_MEMBER_LIMIT;
    delete process.env.PRESENCE_CONNECTIONS_PER_MEMBER;
    await db.stop();
  });

  it('refuses a member its 4th connection and posts one join event to at most (2 - 1) x 3 connections', async () => {
    const room = 'presence:amp';
    const parked = Array.from({ length: 20 }, (_, i) => `B${i}=`);
    for (const id of [...parked, 'A=']) {
      await openConnection(id, [], Date.now());
      await joinChannel(id, room, Date.now(), 10);
    }
    const outcomes = [];
    for (const id of parked) outcomes.push(await joinPresence(routeContextOf(id, 'parker'), room));
    expect(outcomes.filter((o) => o === 'crowded')).to.have.length(17);
    poster.ids = [];
    await joinPresence(routeContextOf('A=', 'flapper'), room);
    // Before the cap, the event reached all 20 parked sockets.
    expect(poster.ids.length).to.equal(3);
  });
});
