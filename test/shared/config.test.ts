import { expect } from 'chai';
import { authSettings } from '../../shared/auth/settings.js';
import { parseConfig } from '../../shared/config.js';
import { ConfigError } from '../../shared/errors.js';

/** The ConfigError a parse throws, or a failure when it does not throw one. */
function configErrorOf(parse: () => unknown): ConfigError {
  try {
    parse();
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('config: one parser of the environment', () => {
  it('gives the template defaults for an empty environment', () => {
    expect(parseConfig({})).to.deep.include({
      tableName: 'airwave',
      authMode: 'none',
      maxMessageBytes: 16_384,
      maxChannelsPerConnection: 50,
      channelShards: 8,
      frameRateLimit: 10,
      frameBurstLimit: 60,
      connectionsEndpoint: undefined,
    });
  });

  it('reads AUTH_MODE as the authorizer does: none or jwt, blanks around ignored', () => {
    expect(parseConfig({ AUTH_MODE: 'jwt' }).authMode).to.equal('jwt');
    expect(parseConfig({ AUTH_MODE: ' jwt ' }).authMode).to.equal('jwt');
    expect(parseConfig({ AUTH_MODE: '' }).authMode).to.equal('none');
  });

  for (const mode of ['JWT', 'jwt2', 'open', 'true']) {
    it(`refuses AUTH_MODE=${mode} loudly, naming the variable, in the routes and in the authorizer alike`, () => {
      const routes = configErrorOf(() => parseConfig({ AUTH_MODE: mode }));
      const authorizer = configErrorOf(() => authSettings({ AUTH_MODE: mode }));
      expect(routes.variable).to.equal('AUTH_MODE');
      expect(authorizer.variable).to.equal('AUTH_MODE');
      expect(routes.message).to.equal(authorizer.message).and.include('AUTH_MODE');
      expect(routes.message).to.not.include(mode); // the message names the variable, not its value
    });
  }

  for (const [name, value] of [
    ['MAX_MESSAGE_BYTES', '-1'],
    ['MAX_CHANNELS_PER_CONNECTION', 'fifty'],
    ['CHANNEL_SHARDS', 'Infinity'],
    ['FRAME_RATE_LIMIT', 'NaN'],
    ['POST_RATE_LIMIT', '9,500'],
  ]) {
    it(`refuses ${name}=${value}, naming the variable`, () => {
      const error = configErrorOf(() => parseConfig({ [name]: value }));
      expect(error.variable).to.equal(name);
      expect(error.message).to.include(name);
    });
  }

  it('reads only the environment it is given (pure)', () => {
    const saved = process.env.MAX_MESSAGE_BYTES;
    process.env.MAX_MESSAGE_BYTES = 'not a number';
    try {
      expect(parseConfig({ MAX_MESSAGE_BYTES: '1024' }).maxMessageBytes).to.equal(1024);
    } finally {
      if (saved === undefined) delete process.env.MAX_MESSAGE_BYTES;
      else process.env.MAX_MESSAGE_BYTES = saved;
    }
  });
});
