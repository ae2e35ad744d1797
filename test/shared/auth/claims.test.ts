import { expect } from 'chai';
import {
  MAX_CONTEXT_BYTES,
  MAX_PATTERNS_PER_CLAIM,
  MAX_PRINCIPAL_LENGTH,
  rightsFromClaims,
  userChannelPatterns,
} from '../../../shared/auth/claims.js';
import { AuthRefusedError, REFUSAL_STATUS } from '../../../shared/auth/refusal.js';
import { canJoin, canPublish, rightsFromContext, rightsToContext } from '../../../shared/policy.js';

function refusal(claims: Record<string, unknown>): string | undefined {
  try {
    rightsFromClaims(claims);
  } catch (error) {
    if (error instanceof AuthRefusedError) return error.code;
    throw error;
  }
  return undefined;
}

describe('auth/claims', () => {
  describe('rightsFromClaims', () => {
    it('makes sub the principal, channels the join rights and publish the publish rights', () => {
      const rights = rightsFromClaims({ sub: 'u1', channels: ['public:*', 'user:u1'], publish: ['user:u1'] });
      expect(rights).to.deep.equal({ principal: 'u1', join: ['public:*', 'user:u1'], publish: ['user:u1'] });
      expect(canJoin(rights, 'public:news')).to.equal(true);
      expect(canJoin(rights, 'user:u2')).to.equal(false);
      expect(canPublish(rights, 'public:news')).to.equal(false);
    });

    it('reads space-separated pattern strings too', () => {
      expect(rightsFromClaims({ sub: 'u1', channels: 'a b  c:*', publish: 'a' })).to.deep.equal({
        principal: 'u1',
        join: ['a', 'b', 'c:*'],
        publish: ['a'],
      });
    });

    it('grants no publish right, and no join right, when the claims are absent', () => {
      expect(rightsFromClaims({ sub: 'u1' })).to.deep.equal({ principal: 'u1', join: [], publish: [] });
    });

    it('survives the trip through the authorizer context unchanged', () => {
      const rights = rightsFromClaims({ sub: 'u1', channels: ['*'], publish: ['room:1', 'room:2:*'] });
      expect(rightsFromContext(rightsToContext(rights), 'jwt')).to.deep.equal(rights);
    });

    it('refuses a token without a usable sub', () => {
      for (const sub of [undefined, '', 42, 'line\nbreak', 'tab\there'])
        expect(refusal({ sub }), String(sub)).to.equal('token_claims_invalid');
      expect(refusal({ sub: 'x'.repeat(MAX_PRINCIPAL_LENGTH + 1) })).to.equal('claims_too_large');
    });

    it('refuses patterns that are not channel patterns with rights_pattern_invalid (403), never reading them loosely', () => {
      for (const channels of [
        ['has space'],
        ['a,b'],
        ['a#b'],
        ['*a'],
        ['a**'],
        ['user:u1*'],
        ['a*b'],
        ['user:*:x'],
        [':*x'],
        ['**'],
        [''],
        [42],
        { a: 1 },
        7,
      ]) {
        expect(refusal({ sub: 'u1', channels }), JSON.stringify(channels)).to.equal('rights_pattern_invalid');
      }
      expect(refusal({ sub: 'u1', publish: ['ok', 'not ok'] })).to.equal('rights_pattern_invalid');
      expect(refusal({ sub: 'u1', publish: ['public:*', 'public*'] })).to.equal('rights_pattern_invalid');
      expect(REFUSAL_STATUS.rights_pattern_invalid).to.equal(403);
    });

    it('accepts *, <prefix>:* and exact names', () => {
      expect(refusal({ sub: 'u1', channels: ['*', 'user:u1:*', 'a:b:*', 'user:u1', 'room.1@x-y_z'] })).to.equal(undefined);
    });

    it(`refuses more than ${MAX_PATTERNS_PER_CLAIM} patterns in one claim`, () => {
      const many = Array.from({ length: MAX_PATTERNS_PER_CLAIM + 1 }, (_, i) => `room:${i}`);
      expect(refusal({ sub: 'u1', channels: many })).to.equal('claims_too_large');
      expect(refusal({ sub: 'u1', channels: many.slice(1) })).to.equal(undefined);
    });

    it(`refuses claims whose context would exceed ${MAX_CONTEXT_BYTES} bytes (API Gateway caps the result at 8 KB)`, () => {
      const long = (i: number) => `${String(i).padStart(3, '0')}${'x'.repeat(120)}`;
      const join = Array.from({ length: 30 }, (_, i) => long(i));
      const publish = Array.from({ length: 30 }, (_, i) => long(i + 100));
      expect(refusal({ sub: 'u1', channels: join, publish })).to.equal('claims_too_large');
      expect(refusal({ sub: 'u1', channels: join })).to.equal(undefined);
    });
  });
});

describe('auth/claims userChannelPatterns', () => {
  const templates = ['user:{sub}', 'user:{sub}:*'];

  it('replaces {sub} in every pattern', () => {
    expect(userChannelPatterns('alice', templates)).to.deep.equal(['user:alice', 'user:alice:*']);
    expect(userChannelPatterns('a.b@c-d_e', ['inbox:{sub}'])).to.deep.equal(['inbox:a.b@c-d_e']);
  });

  it('gives nothing to a sub that cannot be a channel-name fragment (":" reaches into sub-channels, "*" widens)', () => {
    for (const sub of ['bob:x', 'bob*', '*', 'has space', 'a,b', 'a#b', 'é', 'a/b'])
      expect(userChannelPatterns(sub, templates), sub).to.equal(undefined);
  });

  it('gives nothing when a substituted pattern would outgrow a channel name', () => {
    expect(userChannelPatterns('x'.repeat(130), templates)).to.equal(undefined);
  });
});
