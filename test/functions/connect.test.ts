import { expect } from 'chai';
import { handler } from '../../functions/connect/index.js';
import { resetConfig } from '../../shared/config.js';
import { countSubscriptions } from '../../shared/connection-store.js';
import { loadEvent } from '../helpers/events.js';
import { startBackend, type TestBackend } from '../helpers/stack.js';

describe('functions/connect', () => {
  let backend: TestBackend;
  before(async () => {
    backend = await startBackend({ DEFAULT_CHANNEL: 'default', MAX_CHANNELS_PER_CONNECTION: '4' });
  });
  after(() => backend.stop());

  it('joins the default channel and the ?channels= list in one batch', async () => {
    const event = loadEvent('connect');
    event.requestContext.connectionId = 'conn1=';
    const result = await handler(event);
    expect(result.statusCode).to.equal(200);
    expect(await countSubscriptions('conn1=')).to.equal(3);
  });

  it('echoes the airwave subprotocol when the client offered it', async () => {
    const event = loadEvent('connect');
    event.requestContext.connectionId = 'conn2=';
    event.headers['Sec-WebSocket-Protocol'] = 'airwave, eyJhbGciOiJIUzI1NiJ9.e30.x';
    const result = await handler(event);
    expect(result).to.deep.equal({ statusCode: 200, headers: { 'Sec-WebSocket-Protocol': 'airwave' } });
  });

  it('refuses an invalid channel list with 400 and writes nothing', async () => {
    const event = loadEvent('connect');
    event.requestContext.connectionId = 'conn3=';
    event.queryStringParameters = { channels: 'ok,bad#name' };
    expect((await handler(event)).statusCode).to.equal(400);
    expect(await countSubscriptions('conn3=')).to.equal(0);
  });

  it('refuses a channel outside the connection rights with 403', async () => {
    const event = loadEvent('connect');
    event.requestContext.connectionId = 'conn4=';
    event.requestContext.authorizer = { principal: 'u1', join: 'public:*', publish: '' };
    event.queryStringParameters = { channels: 'public:a,private:b' };
    expect((await handler(event)).statusCode).to.equal(403);
    expect(await countSubscriptions('conn4=')).to.equal(0);
  });

  it('refuses more channels than MaxChannelsPerConnection', async () => {
    const event = loadEvent('connect');
    event.requestContext.connectionId = 'conn5=';
    event.queryStringParameters = { channels: 'a,b,c,d' };
    expect((await handler(event)).statusCode).to.equal(403);
  });

  it('joins nothing when DefaultChannel is empty and no channels are asked for', async () => {
    process.env.DEFAULT_CHANNEL = '';
    resetConfig();
    try {
      const event = loadEvent('connect');
      event.requestContext.connectionId = 'conn6=';
      event.queryStringParameters = {};
      expect((await handler(event)).statusCode).to.equal(200);
      expect(await countSubscriptions('conn6=')).to.equal(0);
    } finally {
      process.env.DEFAULT_CHANNEL = 'default';
      resetConfig();
    }
  });
});
