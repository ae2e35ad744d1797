import { expect } from 'chai';
import { AuthConfigError, AuthRefusedError, connectRefusalCode, REFUSAL_STATUS } from '../../shared/auth/refusal.js';
import { KeyUnavailableError } from '../../shared/auth/verify.js';
import {
  AirwaveError,
  ConfigError,
  ConnectRefusedError,
  FanoutError,
  ForbiddenError,
  InvalidChannelError,
  InvalidFanoutBatchError,
  ServiceError,
  StoreWriteError,
  TooManyChannelsError,
} from '../../shared/errors.js';

describe('errors: one taxonomy', () => {
  it('derives every error the project throws on purpose from ServiceError, each with its own name', () => {
    const all: [ServiceError, string][] = [
      [new AirwaveError('bad_request', 'x'), 'AirwaveError'],
      [new ForbiddenError('c', 'join'), 'ForbiddenError'],
      [new ConnectRefusedError(403, 'x'), 'ConnectRefusedError'],
      [new AuthRefusedError('token_missing'), 'AuthRefusedError'],
      [new FanoutError('x'), 'FanoutError'],
      [new StoreWriteError('x'), 'StoreWriteError'],
      [new ConfigError('X', 'x'), 'ConfigError'],
      [new AuthConfigError('x', 'AUTH_MODE'), 'AuthConfigError'],
      [new KeyUnavailableError('x'), 'KeyUnavailableError'],
      [new InvalidFanoutBatchError('x'), 'InvalidFanoutBatchError'],
    ];
    for (const [error, name] of all) {
      expect(error, name).to.be.instanceOf(ServiceError).and.instanceOf(Error);
      expect(error.name).to.equal(name);
    }
  });

  it('keeps the cause of a wrapped failure (ErrorOptions), for the logs', () => {
    const cause = new Error('socket hang up');
    expect(new FanoutError('delivery aborted', { cause }).cause).to.equal(cause);
    expect(new StoreWriteError('writes left', { cause }).cause).to.equal(cause);
    expect(new ConnectRefusedError(400, 'channel_invalid', { cause }).cause).to.equal(cause);
    expect(new AuthRefusedError('channel_not_allowed', { cause }).cause).to.equal(cause);
    expect(new AirwaveError('internal_error', 'x', {}, { cause }).cause).to.equal(cause);
    expect(new KeyUnavailableError('ssm', { cause }).cause).to.equal(cause);
  });

  it('names the variable of a configuration error', () => {
    expect(new AuthConfigError('JWKS_URL must use https', 'JWKS_URL').variable).to.equal('JWKS_URL');
  });

  describe('$connect refusals: statuses from shared/auth/refusal.ts only', () => {
    it('maps the route refusals to codes and statuses as before (400 malformed, 403 not allowed or too many)', () => {
      const statusOf = (error: AirwaveError) => REFUSAL_STATUS[connectRefusalCode(error)];
      expect(connectRefusalCode(new ForbiddenError('c', 'join'))).to.equal('channel_not_allowed');
      expect(statusOf(new ForbiddenError('c', 'join'))).to.equal(403);
      expect(connectRefusalCode(new InvalidChannelError())).to.equal('channel_invalid');
      expect(statusOf(new InvalidChannelError())).to.equal(400);
      expect(connectRefusalCode(new TooManyChannelsError(50))).to.equal('too_many_channels');
      expect(new AuthRefusedError('too_many_channels').statusCode).to.equal(403);
    });
  });
});
