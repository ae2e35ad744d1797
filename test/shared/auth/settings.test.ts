import { expect } from 'chai';
import { AuthConfigError } from '../../../shared/auth/refusal.js';
import { authSettings, currentSettings, DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, devSecretAllowed } from '../../../shared/auth/settings.js';

const JWKS = 'https://issuer.example.com/.well-known/jwks.json';

describe('auth/settings', () => {
  describe('authSettings', () => {
    it('defaults to AuthMode=none, no origin allowed, missing Origin refused', () => {
      const s = authSettings({});
      expect(s.mode).to.equal('none');
      expect(s.origins.any).to.equal(false);
      expect(s.allowMissingOrigin).to.equal(false);
      expect(s.key).to.equal(undefined);
    });

    it('allows a missing Origin only for ALLOW_MISSING_ORIGIN=true exactly', () => {
      expect(authSettings({ ALLOW_MISSING_ORIGIN: 'true' }).allowMissingOrigin).to.equal(true);
      expect(authSettings({ ALLOW_MISSING_ORIGIN: 'yes' }).allowMissingOrigin).to.equal(false);
    });

    it('refuses an unknown AUTH_MODE instead of falling back to the open mode', () => {
      expect(() => authSettings({ AUTH_MODE: 'JWT' })).to.throw(/AUTH_MODE/);
    });

    it('uses the SSM parameter in a deployed function', () => {
      const s = authSettings({
        AUTH_MODE: 'jwt',
        JWT_SECRET_PARAMETER: '/airwave/secret',
        AWS_LAMBDA_FUNCTION_NAME: 'stack-authorizer',
        JWT_DEV_SECRET: 'ignored-in-lambda',
      });
      expect(s.key).to.deep.equal({ kind: 'ssm', parameterName: '/airwave/secret' });
    });

    it('reads the issuer and a comma-separated audience', () => {
      const s = authSettings({ AUTH_MODE: 'jwt', JWKS_URL: JWKS, JWT_ISSUER: 'https://issuer.example.com', JWT_AUDIENCE: 'web, mobile' });
      expect(s.key?.kind).to.equal('jwks');
      expect(s.issuer).to.equal('https://issuer.example.com');
      expect(s.audience).to.deep.equal(['web', 'mobile']);
    });

    it('leaves iss and aud unchecked when they are empty, as the template defaults are (with an HMAC secret)', () => {
      const s = authSettings({ AUTH_MODE: 'jwt', JWT_SECRET_PARAMETER: '/airwave/secret', JWT_ISSUER: '', JWT_AUDIENCE: '' });
      expect(s.issuer).to.equal(undefined);
      expect(s.audience).to.equal(undefined);
    });

    it('refuses a JWKS without an audience: a shared issuer signs tokens for other applications too', () => {
      for (const JWT_AUDIENCE of [undefined, '', ' , '])
        expect(() => authSettings({ AUTH_MODE: 'jwt', JWKS_URL: JWKS, JWT_AUDIENCE }), String(JWT_AUDIENCE))
          .to.throw(AuthConfigError)
          .with.property('message')
          .that.matches(/JWKS_URL needs JWT_AUDIENCE/);
    });

    it(`bounds token lifetime at ${DEFAULT_MAX_TOKEN_LIFETIME_SECONDS} s unless MAX_TOKEN_LIFETIME_SECONDS says otherwise`, () => {
      const hmac = { AUTH_MODE: 'jwt', JWT_SECRET_PARAMETER: '/airwave/secret' };
      expect(authSettings(hmac).maxTokenLifetimeSeconds).to.equal(86_400);
      expect(authSettings({ ...hmac, MAX_TOKEN_LIFETIME_SECONDS: '3600' }).maxTokenLifetimeSeconds).to.equal(3600);
      for (const bad of ['0', '-1', '1.5', '1e9', 'day', '99999999999'])
        expect(() => authSettings({ ...hmac, MAX_TOKEN_LIFETIME_SECONDS: bad }), bad).to.throw(
          AuthConfigError,
          /MAX_TOKEN_LIFETIME_SECONDS/,
        );
    });

    it('reads USER_CHANNELS and refuses, at the first invocation, a pattern that is invalid or has no {sub}', () => {
      const hmac = { AUTH_MODE: 'jwt', JWT_SECRET_PARAMETER: '/airwave/secret' };
      expect(authSettings(hmac).userChannels).to.deep.equal([]);
      expect(authSettings({ ...hmac, USER_CHANNELS: ' user:{sub}  user:{sub}:* ' }).userChannels).to.deep.equal([
        'user:{sub}',
        'user:{sub}:*',
      ]);
      for (const bad of ['user:{sub}*', 'user:*', 'user:{sub}:*:x', 'inbox', 'user:{sub},x', 'user:{user}', '{sub}#x'])
        expect(() => authSettings({ ...hmac, USER_CHANNELS: bad }), bad).to.throw(AuthConfigError, /USER_CHANNELS/);
    });

    it('refuses a JWKS and an HMAC secret together (one key type per stack)', () => {
      expect(() => authSettings({ AUTH_MODE: 'jwt', JWKS_URL: JWKS, JWT_SECRET_PARAMETER: '/airwave/secret' })).to.throw(/not both/);
    });

    it('refuses AuthMode=jwt without any key source', () => {
      expect(() =>
        authSettings({
          AUTH_MODE: 'jwt',
          AWS_LAMBDA_FUNCTION_NAME: 'stack-authorizer',
          JWT_DEV_SECRET: 'a-dev-secret-that-lambda-must-never-use',
        }),
      ).to.throw(/JWKS_URL or JWT_SECRET_PARAMETER/);
    });

    it('refuses a JWKS over plain http except on loopback', () => {
      const aud = { JWT_AUDIENCE: 'airwave' };
      expect(() => authSettings({ AUTH_MODE: 'jwt', JWKS_URL: 'http://issuer.example.com/jwks.json', ...aud })).to.throw(/https/);
      expect(authSettings({ AUTH_MODE: 'jwt', JWKS_URL: 'http://127.0.0.1:9999/jwks.json', ...aud }).key?.kind).to.equal('jwks');
    });
  });

  describe('the development secret', () => {
    const dev = { AUTH_MODE: 'jwt', JWT_DEV_SECRET: 'local-development-secret-0123456789' };

    it('is used outside Lambda', () => {
      expect(authSettings(dev).key).to.deep.equal({ kind: 'dev', secret: dev.JWT_DEV_SECRET });
    });

    it('is used in the local stack (AIRWAVE_LOCAL=1) even with a function name set', () => {
      const env = { ...dev, AWS_LAMBDA_FUNCTION_NAME: 'airwave-authorizer', AIRWAVE_LOCAL: '1', JWT_SECRET_PARAMETER: '/airwave/secret' };
      expect(authSettings(env).key?.kind).to.equal('dev');
    });

    it('is never used inside Lambda', () => {
      expect(devSecretAllowed({ AWS_LAMBDA_FUNCTION_NAME: 'stack-authorizer' })).to.equal(false);
      expect(devSecretAllowed({ AWS_LAMBDA_FUNCTION_NAME: 'stack-authorizer', AIRWAVE_LOCAL: 'true' })).to.equal(false);
      const env = { ...dev, AWS_LAMBDA_FUNCTION_NAME: 'stack-authorizer', JWT_SECRET_PARAMETER: '/airwave/secret' };
      expect(authSettings(env).key).to.deep.equal({ kind: 'ssm', parameterName: '/airwave/secret' });
    });
  });

  describe('currentSettings', () => {
    const failure = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (error: unknown) => error,
      );

    it('parses once per container and serves the same settings while the environment is unchanged', async () => {
      const env = { AUTH_MODE: 'none', ALLOWED_ORIGINS: 'https://app.example.com' };
      const first = await currentSettings(env);
      expect(await currentSettings({ ...env })).to.equal(first);
      expect(await currentSettings({ ...env, ALLOWED_ORIGINS: 'https://b.example.com' })).to.not.equal(first);
    });

    it('remembers a configuration error: every invocation fails the same way', async () => {
      const env = { AUTH_MODE: 'jwt', JWT_SECRET_PARAMETER: '/airwave/secret', USER_CHANNELS: 'user:{sub}*' };
      for (let i = 0; i < 2; i += 1) {
        const error = await failure(currentSettings(env));
        expect(error).to.be.instanceOf(AuthConfigError);
        expect((error as Error).message).to.match(/USER_CHANNELS/);
      }
    });

    it('checks wildcard origins against the Public Suffix List, loaded only for them', async () => {
      expect((await currentSettings({ ALLOWED_ORIGINS: 'https://*.example.com' })).origins.wildcards).to.have.length(1);
      const error = await failure(currentSettings({ ALLOWED_ORIGINS: 'https://app.example.com, https://*.github.io' }));
      expect((error as Error).message).to.match(/public suffix/);
    });
  });
});
