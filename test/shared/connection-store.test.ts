/**
 * The connection row's counters under the interleavings a review found: a budget window another
 * container already moved on, and a subscription write whose answer was lost.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'chai';
import { setClients } from '../../shared/clients.js';
import { countSubscriptions, joinChannel, openConnection, spendConnectionBudget } from '../../shared/connection-store.js';
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

  it('keeps the slot of a subscription whose write went through although its answer was lost', async () => {
    await openConnection('lost=', [], Date.now());
    // A client whose Put reaches DynamoDB but whose answer never comes back (a timeout).
    const realSend = db.doc.send.bind(db.doc);
    let lost = 0;
    setClients({
      ddb: Object.assign(Object.create(db.doc), {
        send: async (command: { input?: { ConditionExpression?: string } }) => {
          const out = await realSend(command as never);
          if (lost === 0 && command.input?.ConditionExpression?.includes(':token')) {
            lost++;
            throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
          }
          return out;
        },
      }),
    });
    try {
      const error = await joinChannel('lost=', 'room', Date.now(), 5).catch((e: Error) => e);
      expect(error).to.be.instanceOf(Error);
    } finally {
      setClients({ ddb: db.doc });
    }
    const row = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: { pk: 'c#lost=', sk: 'c' } }));
    expect(lost).to.equal(1);
    expect(await countSubscriptions('lost=')).to.equal(1);
    expect(row.Item?.n).to.equal(1); // the slot counts the subscription that exists
  });
});
