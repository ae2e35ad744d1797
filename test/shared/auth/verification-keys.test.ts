import { expect } from 'chai';
import sinon from 'sinon';
import { MIN_HMAC_SECRET_BYTES, SECRET_MAX_AGE_SECONDS, verificationKey } from '../../../shared/auth/verification-keys.js';
import { configure } from '../../../shared/dependencies.js';
import { SECRET } from './tokens.js';

const source = { kind: 'ssm', parameterName: '/airwave/jwt-secret' } as const;
const bytes = (key: Awaited<ReturnType<typeof verificationKey>>) =>
  key.kind === 'hmac' ? new TextDecoder().decode(key.secret) : undefined;

describe('auth/verification-keys', () => {
  afterEach(() => configure({ keys: {} }));

  it('reads the SSM secret once and serves later and concurrent invocations from the cache', async () => {
    const fetchParameter = sinon.stub().resolves(SECRET);
    configure({ keys: { fetchParameter } });
    const keys = await Promise.all([verificationKey(source), verificationKey(source), verificationKey(source)]);
    await verificationKey(source);
    expect(keys.map(bytes)).to.deep.equal([SECRET, SECRET, SECRET]);
    expect(fetchParameter.calledOnceWithExactly('/airwave/jwt-secret')).to.equal(true);
  });

  it(`reads the secret again once the cached one is ${SECRET_MAX_AGE_SECONDS} s old (rotation)`, async () => {
    const fetchParameter = sinon.stub().onFirstCall().resolves(SECRET).onSecondCall().resolves(`${SECRET}-rotated`);
    configure({ keys: { fetchParameter } });
    const t0 = Date.now();
    expect(bytes(await verificationKey(source, t0))).to.equal(SECRET);
    expect(bytes(await verificationKey(source, t0 + (SECRET_MAX_AGE_SECONDS - 1) * 1000))).to.equal(SECRET);
    expect(bytes(await verificationKey(source, t0 + SECRET_MAX_AGE_SECONDS * 1000))).to.equal(`${SECRET}-rotated`);
    expect(fetchParameter.callCount).to.equal(2);
  });

  it('does not cache a failed read: the next invocation tries again', async () => {
    const fetchParameter = sinon.stub().onFirstCall().rejects(new Error('ThrottlingException')).onSecondCall().resolves(SECRET);
    configure({ keys: { fetchParameter } });
    let failed = false;
    await verificationKey(source).catch(() => {
      failed = true;
    });
    expect(failed).to.equal(true);
    expect(bytes(await verificationKey(source))).to.equal(SECRET);
  });

  it(`refuses a missing secret, or one shorter than ${MIN_HMAC_SECRET_BYTES} bytes`, async () => {
    for (const value of [undefined, '', 'short-secret']) {
      configure({ keys: { fetchParameter: sinon.stub().resolves(value) } });
      let message = '';
      await verificationKey(source).catch((error: Error) => {
        message = error.message;
      });
      expect(message, String(value)).to.match(/missing|shorter/);
    }
  });

  it('uses the development secret as given, with the same length rule', async () => {
    expect(bytes(await verificationKey({ kind: 'dev', secret: SECRET }))).to.equal(SECRET);
    let message = '';
    await verificationKey({ kind: 'dev', secret: 'dev' }).catch((error: Error) => {
      message = error.message;
    });
    expect(message).to.match(/JWT_DEV_SECRET is shorter/);
  });

  it('builds one remote JWKS resolver per URL and reuses it', async () => {
    const url = new URL('https://issuer.example.com/.well-known/jwks.json');
    const a = await verificationKey({ kind: 'jwks', url });
    const b = await verificationKey({ kind: 'jwks', url });
    expect(a.kind).to.equal('public');
    expect(a.kind === 'public' && b.kind === 'public' && a.getKey === b.getKey).to.equal(true);
  });
});
