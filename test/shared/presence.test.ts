/**
 * Presence rows against dynalite: a member per principal with a set of connections, the member
 * cap under concurrent joins, races between two connections of one principal, the leave event
 * going to exactly one caller, and the cleanup of a removed connection's memberships.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'chai';
import { removeConnection } from '../../shared/connection-cleanup.js';
import { deleteConnectionRows, joinChannel, openConnection } from '../../shared/connection-store.js';
import { currentDeadline, isUnavailable, UnavailableError, withDeadline } from '../../shared/deadline.js';
import { configure } from '../../shared/dependencies.js';
import type { Poster } from '../../shared/poster.js';
import { addMemberConnection, joinPresence, memberKeyOf, presenceKey, readMembers, removeMemberConnection } from '../../shared/presence.js';
import { type LocalDynamo, startDynamo } from '../helpers/dynamo.js';
import { routeContextOf } from '../helpers/events.js';

const TTL = Math.floor(Date.now() / 1000) + 3600;

/** Records posts instead of making them. */
class RecordingPoster implements Poster {
  posts: Array<{ id: string; frame: Record<string, unknown> }> = [];
  gone = new Set<string>();
  async post(id: string, data: string) {
    this.posts.push({ id, frame: JSON.parse(data) });
    return this.gone.has(id) ? ('gone' as const) : ('ok' as const);
  }
}

describe('presence store', () => {
  let db: LocalDynamo;
  let poster: RecordingPoster;
  before(async () => {
    db = await startDynamo({ AUTH_MODE: 'jwt', PRESENCE_MEMBER_LIMIT: '5' });
  });
  beforeEach(() => {
    poster = new RecordingPoster();
    configure({ clients: { poster } });
  });
  after(async () => {
    configure({ clients: { poster: undefined } });
    delete process.env.AUTH_MODE;
    delete process.env.PRESENCE_MEMBER_LIMIT;
    await db.stop();
  });

  const counter = async (channel: string) =>
    (await db.doc.send(new GetCommand({ TableName: db.tableName, Key: { pk: presenceKey(channel), sk: 'n' } }))).Item?.n;

  /** Sets a channel's member counter to `n`, last changed at `at`: a count drifted from its rows. */
  const setCounter = (channel: string, n: number, at: number) =>
    db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: { pk: presenceKey(channel), sk: 'n' },
        UpdateExpression: 'SET n = :n, #at = :at',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: { ':n': n, ':at': at },
      }),
    );

  it('makes one member of two connections of one principal: created on the first, ended on the last', async () => {
    const a = await addMemberConnection('presence:two', 'u1', 'A=', 'Ann', TTL, 5);
    const b = await addMemberConnection('presence:two', 'u1', 'B=', 'Ann', TTL, 5);
    expect(a).to.deep.include({ created: true });
    expect(b).to.deep.include({ created: false });
    expect(await readMembers('presence:two')).to.deep.equal([{ id: 'u1', v: 1, info: 'Ann' }]);
    expect(await removeMemberConnection('presence:two', 'u1', 'A=')).to.equal(undefined);
    expect(await readMembers('presence:two')).to.have.length(1);
    expect(await removeMemberConnection('presence:two', 'u1', 'B=')).to.deep.equal({ id: 'u1', v: 1, info: 'Ann' });
    // Idempotent: a second removal (a $disconnect after a 410 cleanup) ends nothing.
    expect(await removeMemberConnection('presence:two', 'u1', 'B=')).to.equal(undefined);
    expect(await readMembers('presence:two')).to.deep.equal([]);
    expect(await counter('presence:two')).to.equal(0);
  });

  it('repairs a member count that drifted high (a function stopped between two writes), once the counter is settled', async () => {
    await addMemberConnection('presence:drift', 'a', 'A=', undefined, TTL, 2);
    // A join that took a slot and died before writing its row: 2 counted, 1 row.
    const drift = (at: number) => setCounter('presence:drift', 2, at);
    await drift(Date.now());
    // A counter changed a moment ago may hold a slot of a join still running: not repaired.
    expect(await addMemberConnection('presence:drift', 'b', 'B=', undefined, TTL, 2)).to.equal('full');
    await drift(Date.now() - 120_000);
    expect(await addMemberConnection('presence:drift', 'b', 'B=', undefined, TTL, 2)).to.deep.include({ created: true });
    expect(await counter('presence:drift')).to.equal(2);
    expect(await readMembers('presence:drift')).to.have.length(2);
  });

  it('does not wait for a count above its rows past the deadline: the undo of the join keeps its grace', async () => {
    await addMemberConnection('presence:late-wait', 'a', 'A=', undefined, TTL, 2);
    // A slot without a row, on a counter changed a moment ago (not repaired): the join waits.
    await setCounter('presence:late-wait', 2, Date.now());
    // The waits (20, 40, ... 640 ms, then 1 s each) put 2 s inside the first 1 s wait, which
    // starts at about 1.3 s plus the calls' time: sleeping it out would answer up to 1 s after
    // the deadline, most of the GRACE_MS the caller's undo of the join runs in.
    const started = Date.now();
    const error = await withDeadline(started + 2_000, () => addMemberConnection('presence:late-wait', 'b', 'B=', undefined, TTL, 2)).catch(
      (e: unknown) => e,
    );
    expect(isUnavailable(error)).to.equal(true);
    expect(Date.now() - started).to.be.below(2_000 + 200);
  });

  it('lets a join through while a leave has deleted its row and not yet freed its slot (the count is high for a moment)', async () => {
    await addMemberConnection('presence:gap', 'a', 'A=', undefined, TTL, 2);
    await addMemberConnection('presence:gap', 'b', 'B=', undefined, TTL, 2);
    // b's leave halfway: its row deleted, its slot not freed yet (endMember's two writes).
    await db.doc.send(new DeleteCommand({ TableName: db.tableName, Key: { pk: presenceKey('presence:gap'), sk: 'm#b' } }));
    const freed = new Promise((resolve) => setTimeout(resolve, 150)).then(() =>
      db.doc.send(
        new UpdateCommand({
          TableName: db.tableName,
          Key: { pk: presenceKey('presence:gap'), sk: 'n' },
          UpdateExpression: 'ADD n :d',
          ExpressionAttributeValues: { ':d': -1 },
        }),
      ),
    );
    const joined = await addMemberConnection('presence:gap', 'c', 'C=', undefined, TTL, 2);
    await freed;
    expect(joined).to.deep.include({ created: true });
    expect((await readMembers('presence:gap')).map((m) => m.id)).to.deep.equal(['a', 'c']);
    expect(await counter('presence:gap')).to.equal(2);
  });

  describe('a slot follows its member even when the deadline cuts the call between the two writes', () => {
    /** The document client as the deployed one behaves (no call after the deadline), with `slow` commands taking 300 ms. */
    function deadlineBound(slow: (command: unknown) => boolean, outcome: 'fails' | 'succeeds'): void {
      const realSend = db.doc.send.bind(db.doc);
      const send = async (command: unknown) => {
        if (currentDeadline()?.expired) throw new UnavailableError();
        if (!slow(command)) return realSend(command as never);
        const answer = outcome === 'succeeds' ? await realSend(command as never) : undefined;
        await new Promise((resolve) => setTimeout(resolve, 300));
        if (outcome === 'fails' || currentDeadline()?.expired) throw new UnavailableError();
        return answer;
      };
      configure({ clients: { ddb: Object.assign(Object.create(db.doc), { send }) } });
    }
    afterEach(() => configure({ clients: { ddb: db.doc } }));

    it('gives the slot back when the member write fails at the deadline', async () => {
      deadlineBound((c) => c instanceof PutCommand && c.input.Item?.conns !== undefined, 'fails');
      const error = await withDeadline(Date.now() + 100, () =>
        addMemberConnection('presence:cut-join', 'j', 'J=', undefined, TTL, 5),
      ).catch((e: unknown) => e);
      expect(isUnavailable(error)).to.equal(true);
      expect(await counter('presence:cut-join')).to.equal(0);
    });

    it('frees the slot when the deadline passes right after the member row is deleted', async () => {
      await addMemberConnection('presence:cut-leave', 'l', 'L=', undefined, TTL, 5);
      deadlineBound((c) => c instanceof DeleteCommand, 'succeeds');
      await withDeadline(Date.now() + 100, () => removeMemberConnection('presence:cut-leave', 'l', 'L=')).catch(() => undefined);
      expect(await readMembers('presence:cut-leave')).to.deep.equal([]);
      expect(await counter('presence:cut-leave')).to.equal(0);
    });
  });

  it('keeps the slot of a member row whose write landed but whose answer was lost (the SDK retry finds its own row)', async () => {
    // An attempt that times out or loses its connection after DynamoDB applied it is retried by
    // the SDK; the retry of the conditional Put then fails on the row the first attempt wrote.
    // That row is this join's own (its v is the slot just taken): giving the slot back would leave
    // a member without a slot, the count one low, and the cap exceeded by one.
    const realSend = db.doc.send.bind(db.doc);
    let retried = false;
    const send = async (command: unknown) => {
      if (!retried && command instanceof PutCommand && command.input.Item?.conns !== undefined) {
        retried = true;
        await realSend(command as never);
      }
      return realSend(command as never);
    };
    configure({ clients: { ddb: Object.assign(Object.create(db.doc), { send }) } });
    try {
      const joined = await addMemberConnection('presence:lost-answer', 'r', 'R=', undefined, TTL, 5);
      expect(joined).to.deep.include({ created: true });
    } finally {
      configure({ clients: { ddb: db.doc } });
    }
    expect((await readMembers('presence:lost-answer')).map((m) => m.id)).to.deep.equal(['r']);
    expect(await counter('presence:lost-answer')).to.equal(1);
  });

  it('keeps the slot of a member row that landed when the Put still failed (the undo of the join frees it once)', async () => {
    // The first attempt lands with its answer lost, the SDK's retries are throttled: the join
    // fails, but the row is there. Giving its slot back and then ending the member (the join's
    // undo) freed it twice: the count one low for good (a repair only lowers a count).
    const realSend = db.doc.send.bind(db.doc);
    let failed = false;
    const send = async (command: unknown) => {
      if (!failed && command instanceof PutCommand && command.input.Item?.conns !== undefined) {
        failed = true;
        await realSend(command as never);
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'ThrottlingException' });
      }
      return realSend(command as never);
    };
    configure({ clients: { ddb: Object.assign(Object.create(db.doc), { send }) } });
    try {
      const error = await addMemberConnection('presence:landed-failed', 't', 'T=', undefined, TTL, 5).catch((e: unknown) => e);
      expect((error as Error).name).to.equal('ThrottlingException');
    } finally {
      configure({ clients: { ddb: db.doc } });
    }
    expect(await counter('presence:landed-failed')).to.equal(1);
    expect(await removeMemberConnection('presence:landed-failed', 't', 'T=')).to.deep.include({ id: 't' });
    expect(await counter('presence:landed-failed')).to.equal(0);
  });

  describe('what a refused join costs (docs/security.md, presence row)', () => {
    /** Counts the document client's calls by command name while `fn` runs. */
    async function counted<T>(fn: () => Promise<T>): Promise<{ outcome: T; calls: Record<string, number>; total: number }> {
      const realSend = db.doc.send.bind(db.doc);
      const calls: Record<string, number> = {};
      const send = async (command: { constructor: { name: string } }) => {
        calls[command.constructor.name] = (calls[command.constructor.name] ?? 0) + 1;
        return realSend(command as never);
      };
      configure({ clients: { ddb: Object.assign(Object.create(db.doc), { send }) } });
      try {
        const outcome = await fn();
        return { outcome, calls, total: Object.values(calls).reduce((a, b) => a + b, 0) };
      } finally {
        configure({ clients: { ddb: db.doc } });
      }
    }

    it('a full channel: at most 12 DynamoDB calls, at once', async () => {
      await addMemberConnection('presence:cost-full', 'a', 'A=', undefined, TTL, 2);
      await addMemberConnection('presence:cost-full', 'b', 'B=', undefined, TTL, 2);
      const { outcome, calls, total } = await counted(() => addMemberConnection('presence:cost-full', 'c', 'C=', undefined, TTL, 2));
      console.log(`      full channel: ${total} calls ${JSON.stringify(calls)}`);
      expect(outcome).to.equal('full');
      expect(total).to.be.at.most(12);
    });

    it('a count above its rows that never settles (a leaked slot): at most 90 calls', async function () {
      this.timeout(20_000);
      await addMemberConnection('presence:cost-leak', 'a', 'A=', undefined, TTL, 2);
      // A leaked slot: 2 counted, 1 row, the counter touched a moment ago (no repair yet).
      await setCounter('presence:cost-leak', 2, Date.now());
      const started = Date.now();
      const { outcome, calls, total } = await counted(() => addMemberConnection('presence:cost-leak', 'c', 'C=', undefined, TTL, 2));
      console.log(`      leaked slot: ${total} calls ${JSON.stringify(calls)} in ${Date.now() - started} ms`);
      expect(outcome).to.equal('full');
      expect(total).to.be.at.most(90);
    });
  });

  it('gives every new membership a higher version', async () => {
    const first = await addMemberConnection('presence:v', 'u1', 'A=', undefined, TTL, 5);
    await removeMemberConnection('presence:v', 'u1', 'A=');
    const second = await addMemberConnection('presence:v', 'u1', 'A=', undefined, TTL, 5);
    expect(typeof first === 'object' && typeof second === 'object' && second.member.v > first.member.v).to.equal(true);
  });

  it('holds the cap under 20 concurrent joins of 20 principals: exactly 5 members, 15 refused', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => addMemberConnection('presence:cap', `p${i}`, `C${i}=`, undefined, TTL, 5)),
    );
    expect(outcomes.filter((o) => o === 'full')).to.have.length(15);
    expect(await readMembers('presence:cap')).to.have.length(5);
    expect(await counter('presence:cap')).to.equal(5);
  });

  it('makes one member, one join, of 10 connections of one principal joining at once', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => addMemberConnection('presence:race', 'same', `R${i}=`, undefined, TTL, 5, 10)),
    );
    expect(outcomes.filter((o) => typeof o === 'object' && o.created)).to.have.length(1);
    expect(await readMembers('presence:race')).to.have.length(1);
    expect(await counter('presence:race')).to.equal(1);
    const row = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: { pk: presenceKey('presence:race'), sk: 'm#same' } }));
    expect((row.Item?.conns as Set<string> | undefined)?.size).to.equal(10);
  });

  it('holds a member to PresenceConnectionsPerMember connections under 10 concurrent joins, a repeated join passing', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => addMemberConnection('presence:crowd', 'parker', `P${i}=`, undefined, TTL, 5, 3)),
    );
    expect(outcomes.filter((o) => o === 'crowded')).to.have.length(7);
    const row = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: { pk: presenceKey('presence:crowd'), sk: 'm#parker' } }));
    const conns = row.Item?.conns as Set<string>;
    expect(conns.size).to.equal(3);
    // A connection already in the set joins again (a repeated join), whatever the cap.
    const again = await addMemberConnection('presence:crowd', 'parker', [...conns][0], undefined, TTL, 5, 3);
    expect(again).to.be.an('object');
    expect(await addMemberConnection('presence:crowd', 'parker', 'P99=', undefined, TTL, 5, 3)).to.equal('crowded');
  });

  it('ends a member exactly once when its connections leave and join at once', async () => {
    await addMemberConnection('presence:flap', 'f', 'F0=', undefined, TTL, 5);
    // F0 leaves while F1 joins: either the member survives (no leave) or it ends and F1 makes a new one.
    const [ended, joined] = await Promise.all([
      removeMemberConnection('presence:flap', 'f', 'F0='),
      addMemberConnection('presence:flap', 'f', 'F1=', undefined, TTL, 5),
    ]);
    const members = await readMembers('presence:flap');
    expect(members).to.have.length(1);
    if (typeof joined !== 'object') throw new Error(`unexpected ${joined}`);
    if (ended) expect(joined.created).to.equal(true);
    else expect(joined.created).to.equal(false);
    expect(await counter('presence:flap')).to.equal(1);
  });

  it('ends a member whose row passed its TTL on the next read, with a leave event to the other members', async () => {
    await addMemberConnection('presence:ttl', 'old', 'X=', undefined, TTL, 5);
    await addMemberConnection('presence:ttl', 'watcher', 'W=', undefined, TTL, 5);
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: { pk: presenceKey('presence:ttl'), sk: 'm#old' },
        UpdateExpression: 'SET #ttl = :past',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':past': Math.floor(Date.now() / 1000) - 1 },
      }),
    );
    expect(await readMembers('presence:ttl')).to.deep.equal([{ id: 'watcher', v: 2 }]);
    expect(poster.posts).to.deep.equal([
      { id: 'W=', frame: { type: 'presence', channel: 'presence:ttl', event: 'leave', member: { id: 'old', v: 1 } } },
    ]);
    expect(await counter('presence:ttl')).to.equal(1);
  });

  it('lets a join into a channel whose members at the cap have all passed their TTL (the refusal ends them)', async () => {
    // Members whose connections vanished without a $disconnect, and DynamoDB's TTL deletion can
    // lag by days: counted at the cap, they must not keep a live principal out.
    for (const key of ['s1', 's2']) {
      await addMemberConnection('presence:all-stale', key, `${key}=`, undefined, TTL, 2);
      await db.doc.send(
        new UpdateCommand({
          TableName: db.tableName,
          Key: { pk: presenceKey('presence:all-stale'), sk: `m#${key}` },
          UpdateExpression: 'SET #ttl = :past',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':past': Math.floor(Date.now() / 1000) - 1 },
        }),
      );
    }
    expect(await addMemberConnection('presence:all-stale', 'live', 'L=', undefined, TTL, 2)).to.deep.include({ created: true });
    expect((await readMembers('presence:all-stale')).map((m) => m.id)).to.deep.equal(['live']);
    expect(await counter('presence:all-stale')).to.equal(1);
  });

  it('joinPresence: the ack lists the members, the others get a join event, $disconnect a leave event', async () => {
    const room = 'presence:room';
    for (const id of ['J1=', 'J2=']) await openConnection(id, [], Date.now());
    expect(await joinChannel('J1=', room, Date.now(), 10)).to.equal('joined');
    const first = await joinPresence(routeContextOf('J1=', 'ann'), room);
    expect(first).to.deep.equal({ members: [{ id: 'ann', v: 1, info: 'name of ann' }], self: 'ann' });
    expect(poster.posts).to.deep.equal([]);
    expect(await joinChannel('J2=', room, Date.now(), 10)).to.equal('joined');
    const second = await joinPresence(routeContextOf('J2=', 'bob'), room);
    expect(second).to.deep.equal({
      members: [
        { id: 'ann', v: 1, info: 'name of ann' },
        { id: 'bob', v: 2, info: 'name of bob' },
      ],
      self: 'bob',
    });
    expect(poster.posts).to.deep.equal([
      { id: 'J1=', frame: { type: 'presence', channel: room, event: 'join', member: { id: 'bob', v: 2, info: 'name of bob' } } },
    ]);
    poster.posts = [];
    await removeConnection('J1=');
    expect(poster.posts).to.deep.equal([
      { id: 'J2=', frame: { type: 'presence', channel: room, event: 'leave', member: { id: 'ann', v: 1, info: 'name of ann' } } },
    ]);
    expect(await readMembers(room)).to.deep.equal([{ id: 'bob', v: 2, info: 'name of bob' }]);
  });

  it('joinPresence after $disconnect deleted the connection leaves no member behind', async () => {
    await openConnection('D=', [], Date.now());
    await joinChannel('D=', 'presence:late', Date.now(), 10);
    await removeConnection('D=');
    expect(await joinPresence(routeContextOf('D=', 'dan'), 'presence:late')).to.equal('gone');
    expect(await readMembers('presence:late')).to.deep.equal([]);
  });

  it('a 410 found by a presence event removes the gone connection and sends its leave event', async () => {
    const room = 'presence:gone';
    for (const [id, principal] of [
      ['G1=', 'g1'],
      ['G2=', 'g2'],
      ['G3=', 'g3'],
    ]) {
      // Connected a minute ago: a 410 is no handshake still in progress.
      await openConnection(id, [], Date.now() - 60_000, Date.now() - 60_000);
      await joinChannel(id, room, Date.now(), 10);
      await joinPresence({ ...routeContextOf(id, principal), connectedAt: Date.now() - 60_000 }, room);
    }
    poster.gone.add('G2=');
    poster.posts = [];
    await removeConnection('G1=');
    // G1's leave reached G2 (gone: its rows and membership are cleaned up) and G3; G2's leave then reached G3.
    const toG3 = poster.posts.filter((p) => p.id === 'G3=').map((p) => (p.frame.member as { id: string }).id);
    expect(toG3.sort()).to.deep.equal(['g1', 'g2']);
    expect((await readMembers(room)).map((m) => m.id)).to.deep.equal(['g3']);
  });

  it('a 410 found by a presence event ends a member whose $disconnect deleted its rows but failed before its membership', async () => {
    const room = 'presence:ghost';
    for (const [id, principal] of [
      ['H1=', 'h1'],
      ['H2=', 'h2'],
    ]) {
      await openConnection(id, [], Date.now() - 60_000, Date.now() - 60_000);
      await joinChannel(id, room, Date.now(), 10);
      await joinPresence({ ...routeContextOf(id, principal), connectedAt: Date.now() - 60_000 }, room);
    }
    // H1's $disconnect deleted its rows, then failed (a timeout) before leaving its membership.
    await deleteConnectionRows('H1=');
    poster.gone.add('H1=');
    poster.posts = [];
    await openConnection('H3=', [], Date.now() - 60_000, Date.now() - 60_000);
    await joinChannel('H3=', room, Date.now(), 10);
    await joinPresence({ ...routeContextOf('H3=', 'h3'), connectedAt: Date.now() - 60_000 }, room);
    // h3's join event found H1 gone: h1 ends, and its leave reaches the others.
    expect((await readMembers(room)).map((m) => m.id)).to.deep.equal(['h2', 'h3']);
    const leaves = poster.posts.filter((p) => p.frame.event === 'leave').map((p) => [p.id, (p.frame.member as { id: string }).id]);
    expect(leaves.sort()).to.deep.equal([
      ['H2=', 'h1'],
      ['H3=', 'h1'],
    ]);
    expect(await counter(room)).to.equal(2);
  });

  it('names a connection by a hash of its id with AuthMode=none (no client learns another connection id)', () => {
    const key = memberKeyOf(routeContextOf('abc=', 'anonymous'), 'none');
    expect(key).to.match(/^c\.[A-Za-z0-9_-]{16}$/);
    expect(key).to.not.include('abc');
    expect(memberKeyOf(routeContextOf('abc=', 'u1'), 'jwt')).to.equal('u1');
  });
});
