import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { createLocalJWKSet } from 'jose';
import sinon from 'sinon';
import { handler } from '../../functions/authorizer/index.js';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS } from '../../shared/auth/settings.js';
import { configure } from '../../shared/dependencies.js';
import { logger } from '../../shared/observability.js';
import { OPEN_RIGHTS, rightsToContext } from '../../shared/policy.js';
import { claims, confusedToken, hmacToken, noneToken, OTHER_SECRET, rsaIssuer, SECRET, tamper } from '../shared/auth/tokens.js';

type Event = Parameters<typeof handler>[0];
type Result = Awaited<ReturnType<typeof handler>>;

const FIXTURE: Event = JSON.parse(readFileSync(new URL('../../events/authorizer.json', import.meta.url), 'utf8'));
const METHOD_ARN = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/dev/$connect';
const ENV_KEYS = [
  'AUTH_MODE',
  'ALLOWED_ORIGINS',
  'ALLOW_MISSING_ORIGIN',
  'JWT_SECRET_PARAMETER',
  'JWKS_URL',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'JWT_DEV_SECRET',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AIRWAVE_LOCAL',
  'MAX_TOKEN_LIFETIME_SECONDS',
  'USER_CHANNELS',
];
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The fixture with its Origin replaced (undefined removes it) and extra query/headers. */
function event(options: { origin?: string | undefined; query?: Record<string, string>; headers?: Record<string, string> } = {}): Event {
  const e = structuredClone(FIXTURE);
  const headers = e.headers as Record<string, string>;
  const multi = e.multiValueHeaders as Record<string, string[]>;
  if ('origin' in options) {
    delete headers.Origin;
    delete multi.Origin;
    if (options.origin !== undefined) {
      headers.Origin = options.origin;
      multi.Origin = [options.origin];
    }
  }
  Object.assign(headers, options.headers ?? {});
  for (const [k, v] of Object.entries(options.headers ?? {})) multi[k] = [v];
  e.queryStringParameters = { ...(options.query ?? {}) };
  return e;
}

/** 'allow' | 'deny' (403) | 'unauthorized' (401) | 'error' (500), checking the policy's shape. */
async function verdict(e: Event): Promise<string> {
  let result: Result;
  try {
    result = await handler(e);
  } catch (error) {
    return (error as Error).message === 'Unauthorized' ? 'unauthorized' : 'error';
  }
  const [statement] = result.policyDocument.Statement;
  expect(result.policyDocument.Version).to.equal('2012-10-17');
  expect(result.policyDocument.Statement).to.have.length(1);
  expect(statement.Action).to.equal('execute-api:Invoke');
  expect(statement.Resource).to.equal(e.methodArn);
  return statement.Effect === 'Allow' ? 'allow' : 'deny';
}

describe('functions/authorizer', () => {
  const saved: Record<string, string | undefined> = {};
  let fetchParameter: sinon.SinonStub;

  beforeEach(() => {
    for (const key of ENV_KEYS) {
      saved[key] = process.env[key];
      delete process.env[key];
    }
    // As deployed: inside Lambda, so the development secret is out of reach.
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'airwave-authorizer';
    process.env.ALLOWED_ORIGINS = 'https://app.example.com,https://*.example.org,http://127.0.0.1:5173';
    fetchParameter = sinon.stub().resolves(SECRET);
    configure({ keys: { fetchParameter } });
  });
  afterEach(() => {
    for (const key of ENV_KEYS) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
    configure({ keys: {} });
    sinon.restore();
  });

  describe('AuthMode=none', () => {
    beforeEach(() => {
      process.env.AUTH_MODE = 'none';
    });

    it('allows the fixture (an allowed browser origin) with open rights on exactly the methodArn', async () => {
      const result = await handler(event());
      expect(result).to.deep.equal({
        principalId: 'anonymous',
        policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: METHOD_ARN }] },
        context: rightsToContext(OPEN_RIGHTS),
      });
    });

    it('allows an exact origin, a wildcard subdomain and a loopback origin with its port', async () => {
      for (const origin of ['https://app.example.com', 'https://a.b.example.org', 'http://127.0.0.1:5173']) {
        expect(await verdict(event({ origin })), origin).to.equal('allow');
      }
    });

    it('denies a foreign origin (403)', async () => {
      expect(await verdict(event({ origin: 'https://evil.example.net' }))).to.equal('deny');
      expect(await verdict(event({ origin: 'http://127.0.0.1:8080' }))).to.equal('deny');
    });

    it('denies lookalike origins (403)', async () => {
      for (const origin of [
        'https://example.org',
        'https://evil-example.org',
        'https://a.example.org.evil.net',
        'https://app.example.com.evil.net',
        'http://app.example.com',
      ]) {
        expect(await verdict(event({ origin })), origin).to.equal('deny');
      }
    });

    it('denies the null origin (403) unless "*" is listed', async () => {
      expect(await verdict(event({ origin: 'null' }))).to.equal('deny');
      process.env.ALLOWED_ORIGINS = '*';
      expect(await verdict(event({ origin: 'null' }))).to.equal('allow');
    });

    it('allows any origin when "*" is listed', async () => {
      process.env.ALLOWED_ORIGINS = '*';
      expect(await verdict(event({ origin: 'https://anything.example.net' }))).to.equal('allow');
    });

    it('reads the Origin header whatever its case', async () => {
      const e = event({ origin: undefined, headers: { origin: 'https://evil.example.net' } });
      expect(await verdict(e)).to.equal('deny');
    });

    it('allows a request without Origin only when ALLOW_MISSING_ORIGIN=true', async () => {
      process.env.ALLOW_MISSING_ORIGIN = 'true';
      expect(await verdict(event({ origin: undefined }))).to.equal('allow');
      process.env.ALLOW_MISSING_ORIGIN = 'false';
      expect(await verdict(event({ origin: undefined }))).to.equal('deny');
    });
  });

  describe('AuthMode=jwt with the secret in SSM', () => {
    beforeEach(() => {
      process.env.AUTH_MODE = 'jwt';
      process.env.JWT_SECRET_PARAMETER = '/airwave/jwt-secret';
    });

    it('allows a valid token from ?token= and carries its rights in the context', async () => {
      const result = await handler(event({ query: { token: await hmacToken(), channels: 'public:news,user:1' } }));
      expect(result.principalId).to.equal('user-1');
      expect(result.policyDocument.Statement[0]).to.deep.equal({ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: METHOD_ARN });
      expect(result.context).to.deep.equal({ principal: 'user-1', join: 'public:* user:1', publish: 'user:1' });
    });

    it('allows a valid token from the Sec-WebSocket-Protocol header', async () => {
      const token = await hmacToken();
      expect(await verdict(event({ headers: { 'Sec-WebSocket-Protocol': `airwave, ${token}` } }))).to.equal('allow');
    });

    it('answers 401 without a token', async () => {
      expect(await verdict(event())).to.equal('unauthorized');
    });

    it('answers 401 to a malformed token', async () => {
      for (const token of ['garbage', 'a.b.c', 'eyJhbGciOiJIUzI1NiJ9..']) {
        expect(await verdict(event({ query: { token } })), token).to.equal('unauthorized');
      }
    });

    it('answers 401 to an expired token', async () => {
      const token = await hmacToken(claims({ exp: nowSeconds() - 3600 }));
      expect(await verdict(event({ query: { token } }))).to.equal('unauthorized');
    });

    it('answers 401 to a token that is not yet valid', async () => {
      const token = await hmacToken(claims({ nbf: nowSeconds() + 3600 }));
      expect(await verdict(event({ query: { token } }))).to.equal('unauthorized');
    });

    it('answers 401 to a wrong signature, and to an altered one', async () => {
      expect(await verdict(event({ query: { token: await hmacToken(claims(), OTHER_SECRET) } }))).to.equal('unauthorized');
      expect(await verdict(event({ query: { token: tamper(await hmacToken()) } }))).to.equal('unauthorized');
    });

    it('answers 401 to an alg-none token, from either place', async () => {
      const token = noneToken();
      expect(await verdict(event({ query: { token } }))).to.equal('unauthorized');
      expect(await verdict(event({ headers: { 'Sec-WebSocket-Protocol': `airwave, ${token}` } }))).to.equal('unauthorized');
    });

    it('answers 401 to a token without exp', async () => {
      expect(await verdict(event({ query: { token: await hmacToken(claims({ exp: undefined })) } }))).to.equal('unauthorized');
    });

    it('answers 401 to a wrong audience or issuer when they are configured', async () => {
      process.env.JWT_ISSUER = 'https://issuer.example.com';
      process.env.JWT_AUDIENCE = 'airwave';
      const good = claims({ iss: 'https://issuer.example.com', aud: 'airwave' });
      expect(await verdict(event({ query: { token: await hmacToken(good) } }))).to.equal('allow');
      expect(await verdict(event({ query: { token: await hmacToken({ ...good, aud: 'other-app' }) } }))).to.equal('unauthorized');
      expect(await verdict(event({ query: { token: await hmacToken({ ...good, iss: 'https://evil.example.net' }) } }))).to.equal(
        'unauthorized',
      );
    });

    it('denies (403) a token whose rights claims hold an invalid pattern, however valid its signature', async () => {
      for (const bad of [['user:u1*'], ['a*b'], 'public:* user:1*'])
        expect(await verdict(event({ query: { token: await hmacToken(claims({ channels: bad })) } })), String(bad)).to.equal('deny');
      expect(await verdict(event({ query: { token: await hmacToken(claims({ publish: ['user:*x'] })) } }))).to.equal('deny');
    });

    it(`answers 401 to a token valid for longer than MAX_TOKEN_LIFETIME_SECONDS (default ${DEFAULT_MAX_TOKEN_LIFETIME_SECONDS})`, async () => {
      const now = nowSeconds();
      expect(await verdict(event({ query: { token: await hmacToken(claims({ exp: now + 100 * 365 * 86_400 })) } }))).to.equal(
        'unauthorized',
      );
      expect(await verdict(event({ query: { token: await hmacToken(claims({ iat: undefined, exp: now + 2 * 86_400 })) } }))).to.equal(
        'unauthorized',
      );
      process.env.MAX_TOKEN_LIFETIME_SECONDS = '600';
      expect(await verdict(event({ query: { token: await hmacToken(claims({ exp: now + 3600 })) } }))).to.equal('unauthorized');
      expect(await verdict(event({ query: { token: await hmacToken(claims({ exp: now + 600 })) } }))).to.equal('allow');
    });

    it('adds the USER_CHANNELS patterns, {sub} replaced, to the join rights', async () => {
      process.env.USER_CHANNELS = 'user:{sub} user:{sub}:*';
      const result = await handler(
        event({ query: { token: await hmacToken(claims({ sub: 'alice', channels: ['public:*'] })), channels: 'user:alice' } }),
      );
      expect(result.context).to.deep.include({ principal: 'alice', join: 'public:* user:alice user:alice:*' });
      const bob = await hmacToken(claims({ sub: 'bob', channels: ['public:*'] }));
      expect(await verdict(event({ query: { token: bob, channels: 'user:alice' } }))).to.equal('deny');
    });

    it('gives a sub that cannot stand in a channel name no USER_CHANNELS patterns, and says so at WARN', async () => {
      process.env.USER_CHANNELS = 'user:{sub} user:{sub}:*';
      const warn = sinon.spy(logger, 'warn');
      for (const sub of ['bob:x', 'bob*', 'a b']) {
        const result = await handler(event({ query: { token: await hmacToken(claims({ sub, channels: ['public:*'] })) } }));
        expect(result.context, sub).to.deep.include({ join: 'public:*' });
      }
      expect(warn.callCount).to.equal(3);
      expect(warn.firstCall.args[1]).to.deep.include({ reason: 'sub_not_channel_safe' });
    });

    it('fails every connection closed (500) on an invalid USER_CHANNELS pattern', async () => {
      process.env.USER_CHANNELS = 'user:{sub}*';
      expect(await verdict(event({ query: { token: await hmacToken() } }))).to.equal('error');
      expect(await verdict(event())).to.equal('error');
    });

    it('denies (403) a valid token asking in ?channels= for a channel outside its rights', async () => {
      const token = await hmacToken();
      expect(await verdict(event({ query: { token, channels: 'public:news,user:2' } }))).to.equal('deny');
      expect(await verdict(event({ query: { token, channels: 'admin' } }))).to.equal('deny');
    });

    it('denies (403) a valid token from a foreign origin: the origin is checked first', async () => {
      const token = await hmacToken();
      expect(await verdict(event({ origin: 'https://evil.example.net', query: { token } }))).to.equal('deny');
      expect(await verdict(event({ origin: 'null', query: { token } }))).to.equal('deny');
    });

    it('treats a request without Origin like everyone: a valid token is needed, and enough', async () => {
      process.env.ALLOW_MISSING_ORIGIN = 'false';
      expect(await verdict(event({ origin: undefined }))).to.equal('unauthorized');
      expect(await verdict(event({ origin: undefined, query: { token: await hmacToken() } }))).to.equal('allow');
    });

    it('fetches the secret once and serves later connections from the cache', async () => {
      const token = await hmacToken();
      for (let i = 0; i < 5; i++) expect(await verdict(event({ query: { token } }))).to.equal('allow');
      expect(fetchParameter.calledOnceWithExactly('/airwave/jwt-secret')).to.equal(true);
    });

    it('answers 500 (not 401) when the secret cannot be read', async () => {
      fetchParameter.rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
      expect(await verdict(event({ query: { token: await hmacToken() } }))).to.equal('error');
    });

    it('ignores JWT_DEV_SECRET inside Lambda', async () => {
      process.env.JWT_DEV_SECRET = OTHER_SECRET;
      expect(await verdict(event({ query: { token: await hmacToken(claims(), OTHER_SECRET) } }))).to.equal('unauthorized');
    });

    it('logs refusal codes and never the token', async () => {
      const token = await hmacToken();
      const expired = await hmacToken(claims({ exp: nowSeconds() - 3600 }));
      const lines: string[] = [];
      const capture = (chunk: unknown) => {
        lines.push(String(chunk));
        return true;
      };
      const level = logger.getLevelName();
      logger.setLogLevel('DEBUG');
      const out = sinon.stub(process.stdout, 'write').callsFake(capture);
      const err = sinon.stub(process.stderr, 'write').callsFake(capture);
      try {
        await verdict(event({ query: { token } }));
        await verdict(event({ headers: { 'Sec-WebSocket-Protocol': `airwave, ${token}` } }));
        await verdict(event({ query: { token: expired } }));
        await verdict(event({ query: { token: tamper(token) } }));
        await verdict(event({ query: { token, channels: 'admin' } }));
        await verdict(event({ origin: 'https://evil.example.net', query: { token } }));
      } finally {
        out.restore();
        err.restore();
        logger.setLogLevel(level);
      }
      const logged = lines.join('');
      for (const code of ['token_expired', 'token_bad_signature', 'channel_not_allowed', 'origin_not_allowed'])
        expect(logged).to.include(code);
      expect(logged).to.include('connect authorized');
      for (const secret of [token, expired, token.split('.')[2], expired.split('.')[2], SECRET]) expect(logged).to.not.include(secret);
    });
  });

  describe('AuthMode=jwt with a JWKS', () => {
    beforeEach(() => {
      process.env.AUTH_MODE = 'jwt';
      process.env.JWKS_URL = 'https://issuer.example.com/.well-known/jwks.json';
      process.env.JWT_AUDIENCE = 'airwave';
    });
    const forUs = () => claims({ aud: 'airwave' });

    it('allows a token signed by a key of the set', async () => {
      const issuer = await rsaIssuer();
      configure({ keys: { jwks: createLocalJWKSet(issuer.jwks) } });
      expect(await verdict(event({ query: { token: await issuer.sign(forUs()) } }))).to.equal('allow');
    });

    it('answers 401 to a token of the same issuer for another application', async () => {
      const issuer = await rsaIssuer();
      configure({ keys: { jwks: createLocalJWKSet(issuer.jwks) } });
      expect(await verdict(event({ query: { token: await issuer.sign(claims({ aud: 'other-app' })) } }))).to.equal('unauthorized');
      expect(await verdict(event({ query: { token: await issuer.sign() } }))).to.equal('unauthorized');
    });

    it('answers 401 to an HS256 token signed with the public key as its secret (confusion)', async () => {
      const issuer = await rsaIssuer();
      configure({ keys: { jwks: createLocalJWKSet(issuer.jwks) } });
      expect(await verdict(event({ query: { token: await confusedToken(issuer, forUs()) } }))).to.equal('unauthorized');
    });

    it('answers 401 to an HS256 token signed with the HMAC secret: that key type is not configured', async () => {
      const issuer = await rsaIssuer();
      configure({ keys: { jwks: createLocalJWKSet(issuer.jwks), fetchParameter } });
      expect(await verdict(event({ query: { token: await hmacToken(forUs()) } }))).to.equal('unauthorized');
      expect(fetchParameter.called).to.equal(false);
    });

    it('fails every connection closed (500) without JWT_AUDIENCE, and logs why at ERROR', async () => {
      delete process.env.JWT_AUDIENCE;
      const issuer = await rsaIssuer();
      configure({ keys: { jwks: createLocalJWKSet(issuer.jwks) } });
      const error = sinon.spy(logger, 'error');
      expect(await verdict(event({ query: { token: await issuer.sign() } }))).to.equal('error');
      expect(await verdict(event())).to.equal('error');
      expect(error.callCount).to.equal(2);
      expect(error.firstCall.args[1]).to.deep.include({ reason: 'config_invalid', errorName: 'AuthConfigError' });
      expect(String((error.firstCall.args[1] as { errorMessage: string }).errorMessage)).to.match(/JWKS_URL needs JWT_AUDIENCE/);
    });
  });

  describe('refusal logs', () => {
    /** The JSON lines Powertools writes while `act` runs, at the template's default level. */
    async function linesAt(level: string, act: () => Promise<unknown>): Promise<Array<Record<string, unknown>>> {
      const lines: string[] = [];
      const capture = (chunk: unknown) => {
        lines.push(String(chunk));
        return true;
      };
      const saved = logger.getLevelName();
      logger.setLogLevel(level as 'WARN');
      const out = sinon.stub(process.stdout, 'write').callsFake(capture);
      const err = sinon.stub(process.stderr, 'write').callsFake(capture);
      try {
        await act();
      } finally {
        out.restore();
        err.restore();
        logger.setLogLevel(saved);
      }
      return lines
        .join('')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
    }

    it('writes every refusal at WARN, kept by the default LogLevel, with a reason and never the token', async () => {
      process.env.AUTH_MODE = 'jwt';
      process.env.JWT_SECRET_PARAMETER = '/airwave/jwt-secret';
      const now = nowSeconds();
      const century = await hmacToken(claims({ exp: now + 100 * 365 * 86_400 }));
      const sloppy = await hmacToken(claims({ channels: ['user:u1*'] }));
      const good = await hmacToken();
      const lines = await linesAt('WARN', async () => {
        await verdict(event({ origin: 'https://evil.example.net', query: { token: good } }));
        await verdict(event());
        await verdict(event({ query: { token: century } }));
        await verdict(event({ query: { token: sloppy } }));
        await verdict(event({ query: { token: good, channels: 'admin' } }));
      });
      const warnings = lines.filter((l) => l.level === 'WARN');
      expect(warnings.map((l) => l.reason)).to.deep.equal([
        'origin_not_allowed',
        'token_missing',
        'token_lifetime_too_long',
        'rights_pattern_invalid',
        'channel_not_allowed',
      ]);
      const logged = JSON.stringify(lines);
      for (const secret of [century, sloppy, good, good.split('.')[2], SECRET]) expect(logged).to.not.include(secret);
    });

    it('writes a configuration error at ERROR with reason config_invalid, kept by the default LogLevel', async () => {
      process.env.AUTH_MODE = 'none';
      process.env.ALLOWED_ORIGINS = 'https://*.github.io';
      const lines = await linesAt('WARN', () => verdict(event()));
      expect(lines.map((l) => [l.level, l.reason])).to.deep.equal([['ERROR', 'config_invalid']]);
      expect(String(lines[0].errorMessage)).to.match(/public suffix/);
    });
  });

  describe('misconfiguration', () => {
    it('answers 500 rather than guessing', async () => {
      process.env.AUTH_MODE = 'jwt'; // and no key source
      expect(await verdict(event({ query: { token: await hmacToken() } }))).to.equal('error');
      process.env.AUTH_MODE = 'open';
      expect(await verdict(event())).to.equal('error');
      process.env.AUTH_MODE = 'none';
      process.env.ALLOWED_ORIGINS = 'app.example.com';
      expect(await verdict(event())).to.equal('error');
    });

    it('answers 500 to every origin when the allowlist has a wildcard over a public suffix', async () => {
      process.env.AUTH_MODE = 'none';
      for (const suffix of ['co.uk', 'github.io', 'cloudfront.net', 'amazonaws.com', 's3.amazonaws.com']) {
        process.env.ALLOWED_ORIGINS = `https://app.example.com,https://*.${suffix}`;
        expect(await verdict(event({ origin: `https://attacker.${suffix}` })), suffix).to.equal('error');
        expect(await verdict(event({ origin: 'https://app.example.com' })), suffix).to.equal('error');
      }
      process.env.ALLOWED_ORIGINS = 'https://*.example.com';
      expect(await verdict(event({ origin: 'https://a.example.com' }))).to.equal('allow');
    });
  });
});
