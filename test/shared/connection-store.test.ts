/**
 * The connection row's counters under the interleavings a review found: a budget window another
 * container already moved on, and a subscription write whose answer was lost.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'chai';
import { countSubscriptions, joinChannel, openConnection, spendConnectionBudget } from '../../shared/connection-store.js';
import { configure } from '../../shared/dependencies.js';
import { BUDGET_WINDOW_SECONDS } from '../../shared/limits.js';
import { type LocalDynamo, startDynamo } from '../helpers/dynamo.js';

describe('connection-store', () => {
  let db: LocalDynamo;
  before(async () => {
    db = await startDynamo();
  });
  after(() => db.stop());

  it('counts a spend when another container already moved the budget window on (the connection is not "gone")', async () => {
    await openConnection('rollover=', [], Date.now());
    const next = Math.floor(Date.now() / 1000 / BUDGET_WINDOW_SECONDS) + 1;
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: { pk: 'c#rollover=', sk: 'c' },
        UpdateExpression: 'SET pw = :w, pn = :n',
        ExpressionAttributeValues: { ':w': next, ':n': 3 },
      }),
    );
    expect(await spendConnectionBudget('rollover=', 'publish')).to.include({ count: 4 });
  });

  /** The table's client, with `fail` deciding per command whether to throw after (or instead of) sending it. */
  function faulty(fail: (command: { constructor: { name: string }; input?: Record<string, unknown> }, sent: boolean) => boolean) {
    const realSend = db.doc.send.bind(db.doc);
    return Object.assign(Object.create(db.doc), {
      send: async (command: { constructor: { name: string }; input?: Record<string, unknown> }) => {
        if (fail(command, false)) throw Object.assign(new Error('no answer'), { name: 'TimeoutError' });
        const out = await realSend(command as never);
        if (fail(command, true)) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
        return out;
      },
    });
  }
  const connectionRow = async (id: string) =>
    (await db.doc.send(new GetCommand({ TableName: db.tableName, Key: { pk: `c#${id}`, sk: 'c' } }))).Item;

  it('undoes a join whose subscription write went through although its answer was lost: no row, no slot', async () => {
    await openConnection('lost=', [], Date.now());
    // A Put that reaches DynamoDB but whose answer never comes back (a timeout): the join is
    // reported as failed, so it must not stay subscribed.
    let lost = 0;
    configure({
      clients: {
        ddb: faulty((command, sent) => sent && lost === 0 && String(command.input?.ConditionExpression).includes(':token') && ++lost === 1),
      },
    });
    try {
      const error = await joinChannel('lost=', 'room', Date.now(), 5).catch((e: Error) => e);
      expect(error).to.be.instanceOf(Error);
    } finally {
      configure({ clients: { ddb: db.doc } });
    }
    expect(lost).to.equal(1);
    expect(await countSubscriptions('lost=')).to.equal(0);
    expect((await connectionRow('lost='))?.n).to.equal(0); // the slot is free again
  });

  it('undoes a join that fails between its write and its re-read of the connection row', async () => {
    await openConnection('reread=', [], Date.now());
    let written = false;
    configure({
      clients: {
        ddb: faulty((command, sent) => {
          if (command.constructor.name === 'PutCommand' && sent) written = true;
          // The re-read (a GetCommand of the connection row) after the subscription was written.
          return !sent && written && command.constructor.name === 'GetCommand' && (command.input?.Key as { sk?: string })?.sk === 'c';
        }),
      },
    });
    try {
      const error = await joinChannel('reread=', 'room', Date.now(), 5).catch((e: Error) => e);
      expect(error).to.be.instanceOf(Error).with.property('name', 'TimeoutError');
    } finally {
      configure({ clients: { ddb: db.doc } });
    }
    expect(written).to.equal(true);
    expect(await countSubscriptions('reread=')).to.equal(0);
    expect((await connectionRow('reread='))?.n).to.equal(0);
    // A join of the same channel afterwards is a new subscription, not 'already'.
    expect(await joinChannel('reread=', 'room', Date.now(), 5)).to.equal('joined');
  });

  it("leaves an earlier join's subscription alone when a repeated join fails", async () => {
    await openConnection('twice=', [], Date.now());
    expect(await joinChannel('twice=', 'room', Date.now(), 5)).to.equal('joined');
    configure({
      clients: {
        ddb: faulty((command, sent) => !sent && command.constructor.name === 'PutCommand'),
      },
    });
    try {
      await joinChannel('twice=', 'room', Date.now(), 5).catch((e: Error) => e);
    } finally {
      configure({ clients: { ddb: db.doc } });
    }
    expect(await countSubscriptions('twice=')).to.equal(1);
    expect((await connectionRow('twice='))?.n).to.equal(1);
  });
});
