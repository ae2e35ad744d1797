import { expect } from 'chai';
import { handler } from '../../functions/connect/index.js';
import { countSubscriptions } from '../../shared/connection-store.js';
import { configure } from '../../shared/dependencies.js';
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
    configure();
    try {
      const event = loadEvent('connect');
      event.requestContext.connectionId = 'conn6=';
      event.queryStringParameters = {};
      expect((await handler(event)).statusCode).to.equal(200);
      expect(await countSubscriptions('conn6=')).to.equal(0);
    } finally {
      process.env.DEFAULT_CHANNEL = 'default';
      configure();
    }
  });

  describe('the default channel with AuthMode=jwt', () => {
    beforeEach(() => {
      process.env.AUTH_MODE = 'jwt';
      configure();
    });
    afterEach(() => {
      delete process.env.AUTH_MODE;
      configure();
    });

    it('is not joined by a connection whose rights do not cover it, which is still accepted', async () => {
      const event = loadEvent('connect');
      event.requestContext.connectionId = 'conn7=';
      event.requestContext.authorizer = { principal: 'u1', join: '', publish: '' };
      event.queryStringParameters = {};
      expect((await handler(event)).statusCode).to.equal(200);
      expect(await countSubscriptions('conn7=')).to.equal(0);
    });

    it('is joined, with ?channels=, when the rights cover it', async () => {
      const event = loadEvent('connect');
      event.requestContext.connectionId = 'conn8=';
      event.requestContext.authorizer = { principal: 'u1', join: 'default public:*', publish: '' };
      event.queryStringParameters = { channels: 'public:a' };
      expect((await handler(event)).statusCode).to.equal(200);
      expect(await countSubscriptions('conn8=')).to.equal(2);
    });

    it('is left out of the count against MaxChannelsPerConnection when not joined', async () => {
      const event = loadEvent('connect');
      event.requestContext.connectionId = 'conn9=';
      event.requestContext.authorizer = { principal: 'u1', join: 'room:*', publish: '' };
      event.queryStringParameters = { channels: 'room:a,room:b,room:c,room:d' };
      expect((await handler(event)).statusCode).to.equal(200);
      expect(await countSubscriptions('conn9=')).to.equal(4);
    });
  });
});
