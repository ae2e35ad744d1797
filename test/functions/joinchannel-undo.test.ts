/**
 * Review finding: a presence join that answers `unavailable` after its member write must not
 * leave the connection a member. joinchannel's undo deletes the subscription only (leaveChannel),
 * so the member row keeps the connection: a phantom member (holding a slot of the member cap)
 * until the row's TTL, with no leave event, and `$disconnect` cannot find it (the subscription
 * row that named the membership is gone).
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'chai';
import { handler as join } from '../../functions/joinchannel/index.js';
import { documentClient } from '../../shared/clients.js';
import { openConnection } from '../../shared/connection-store.js';
import { configure } from '../../shared/dependencies.js';
import { readMembers } from '../../shared/presence.js';
import { messageEvent } from '../helpers/events.js';
import { frameOf, startBackend, type TestBackend } from '../helpers/stack.js';

describe('joinchannel: a presence join that fails is undone, membership included', function () {
  this.timeout(20_000);
  let backend: TestBackend;
  before(async () => {
    backend = await startBackend({ FRAME_RATE_LIMIT: '0' });
  });
  after(async () => {
    await backend.stop();
  });

  it('leaves no member behind when the join fails with unavailable after the member write', async () => {
    await openConnection('undo-p=', [], Date.now());
    const real = documentClient();
    // The sequence read (after joinPresence) is throttled for good: the join answers unavailable.
    const faulty = {
      send: (command: { input?: { KeyConditionExpression?: string; ExpressionAttributeValues?: Record<string, unknown> } }) => {
        const pk = String(command.input?.ExpressionAttributeValues?.[':pk'] ?? '');
        if (command.input?.KeyConditionExpression === 'pk = :pk AND sk = :sk' && !pk.startsWith('c#')) {
          return Promise.reject(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
        }
        return real.send(command as never);
      },
    };
    configure({ clients: { ddb: faulty as never } });
    try {
      const event = messageEvent('joinchannel', { action: 'joinchannel', channel: 'presence:undo' }, 'undo-p=');
      event.requestContext.connectedAt = Date.now(); // the fixture's is years old: its member row would be past its TTL
      const frame = frameOf(await join(event));
      expect(frame).to.include({ type: 'error', code: 'unavailable', channel: 'presence:undo' });
    } finally {
      configure({ clients: { ddb: real } });
    }
    expect(await readMembers('presence:undo')).to.deep.equal([]);
  });

  it('leaves no subscription behind when the member write fails for good (internal_error)', async () => {
    await openConnection('undo-q=', [], Date.now());
    const real = documentClient();
    // The member row's write is refused (as DynamoDB refuses an item past 400 KB): not retryable.
    const faulty = {
      send: (command: { constructor: { name: string }; input?: { Item?: { pk?: string } } }) => {
        if (command.constructor.name === 'PutCommand' && String(command.input?.Item?.pk).startsWith('r#')) {
          return Promise.reject(
            Object.assign(new Error('Item size has exceeded the maximum allowed size'), { name: 'ValidationException' }),
          );
        }
        return real.send(command as never);
      },
    };
    configure({ clients: { ddb: faulty as never } });
    try {
      const event = messageEvent('joinchannel', { action: 'joinchannel', channel: 'presence:undo2' }, 'undo-q=');
      event.requestContext.connectedAt = Date.now();
      const frame = frameOf(await join(event));
      expect(frame).to.include({ type: 'error' });
    } finally {
      configure({ clients: { ddb: real } });
    }
    // The client was told the join failed: it must not keep receiving the channel's messages.
    const sub = await real.send(new GetCommand({ TableName: backend.db.tableName, Key: { pk: 'c#undo-q=', sk: 'm#presence:undo2' } }));
    expect(sub.Item).to.equal(undefined);
  });
});
