import { expect } from 'chai';
import sinon from 'sinon';
import { handler } from '../../functions/ping/index.js';
import { documentClient } from '../../shared/clients.js';
import { config } from '../../shared/config.js';
import { configure } from '../../shared/dependencies.js';
import { logger } from '../../shared/observability.js';
import { loadEvent, messageEvent } from '../helpers/events.js';
import { frameOf } from '../helpers/stack.js';

describe('functions/ping', () => {
  let ddb: ReturnType<typeof documentClient>;
  beforeEach(() => {
    ddb = documentClient();
  });
  afterEach(() => {
    sinon.restore();
    configure({ clients: { floodCloser: undefined, ddb } });
  });

  it('answers pong', async () => {
    expect(frameOf(await handler(loadEvent('ping')))).to.deep.equal({ type: 'pong' });
  });

  it('closes a connection that pings past FrameBurstLimit, counting in memory only (no DynamoDB call per frame)', async () => {
    // Prepare: any DynamoDB call would be recorded; the close is recorded instead of sent.
    configure();
    const dynamodbCalls: unknown[] = [];
    configure({ clients: { ddb: { send: async (command: unknown) => dynamodbCalls.push(command) } as never } });
    const closes: string[] = [];
    configure({
      clients: {
        floodCloser: {
          post: async () => 'ok',
          disconnect: async (id) => {
            closes.push(id);
            return 'ok';
          },
        },
      },
    });
    sinon.stub(logger, 'warn');
    const burst = config().frameBurstLimit;

    // Act
    const answered = [];
    for (let i = 0; i < burst * 3; i++) {
      const result = await handler(messageEvent('ping', { action: 'ping' }, 'pingFlood00001A='));
      if (result.body !== undefined) answered.push(frameOf(result));
    }

    // Assess
    expect(answered).to.have.length(burst);
    expect(closes).to.deep.equal(['pingFlood00001A=']);
    expect(dynamodbCalls).to.deep.equal([]);
  });
});
