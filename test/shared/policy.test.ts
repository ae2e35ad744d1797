import { expect } from 'chai';
import {
  canJoin,
  canPublish,
  isValidPattern,
  matchesPattern,
  NO_RIGHTS,
  OPEN_RIGHTS,
  rightsFromContext,
  rightsToContext,
} from '../../shared/policy.js';

describe('policy', () => {
  describe('matchesPattern', () => {
    it('matches *, prefix:* and exact names only', () => {
      expect(matchesPattern('*', 'anything')).to.equal(true);
      expect(matchesPattern('public:*', 'public:news')).to.equal(true);
      expect(matchesPattern('public:*', 'private:news')).to.equal(false);
      expect(matchesPattern('user:1', 'user:1')).to.equal(true);
      expect(matchesPattern('user:1', 'user:12')).to.equal(false);
      expect(matchesPattern('a.b', 'aXb')).to.equal(false);
    });

    it('keeps prefix:* inside its boundary: at least one character after the ":", never a longer id', () => {
      expect(matchesPattern('user:u1:*', 'user:u1:inbox')).to.equal(true);
      expect(matchesPattern('user:u1:*', 'user:u1:a:b')).to.equal(true);
      expect(matchesPattern('user:u1:*', 'user:u1:')).to.equal(false);
      expect(matchesPattern('user:u1:*', 'user:u1')).to.equal(false);
      expect(matchesPattern('user:u1:*', 'user:u10')).to.equal(false);
      expect(matchesPattern('user:u1:*', 'user:u10:inbox')).to.equal(false);
    });

    it('matches nothing with an invalid pattern, rather than reading it loosely', () => {
      for (const pattern of ['user:u1*', 'a*b', '*a', '**', 'user:*:x', '', 'has space'])
        for (const channel of ['user:u1', 'user:u10', 'a', 'ab', 'axb', 'user:x:x'])
          expect(matchesPattern(pattern, channel), `${pattern} ${channel}`).to.equal(false);
    });
  });

  describe('isValidPattern', () => {
    it('accepts *, <prefix>:* and channel names; refuses any other *', () => {
      for (const p of ['*', 'user:u1:*', 'a:*', 'a::*', 'user:u1', 'x'.repeat(128), `${'x'.repeat(126)}:*`])
        expect(isValidPattern(p), p).to.equal(true);
      for (const p of ['user:u1*', 'a*', ':*', '**', '*:*', 'a*b', 'user:*:x', '', 'x'.repeat(129), `${'x'.repeat(127)}:*`, 'a b', 'a,b'])
        expect(isValidPattern(p), p).to.equal(false);
    });
  });

  describe('rightsFromContext', () => {
    it('reads the authorizer context and round-trips rightsToContext', () => {
      const rights = { principal: 'u1', join: ['public:*', 'user:u1'], publish: ['user:u1'] };
      expect(rightsFromContext(rightsToContext(rights), 'jwt')).to.deep.equal(rights);
    });
    it('grants everything without a context in AuthMode=none and nothing in AuthMode=jwt', () => {
      expect(rightsFromContext(undefined, 'none')).to.equal(OPEN_RIGHTS);
      expect(rightsFromContext(undefined, 'jwt')).to.equal(NO_RIGHTS);
      expect(canPublish(rightsFromContext({}, 'jwt'), 'x')).to.equal(false);
    });
    it('keeps join and publish rights apart', () => {
      const rights = rightsFromContext({ principal: 'u', join: 'a b', publish: '' }, 'jwt');
      expect(canJoin(rights, 'a')).to.equal(true);
      expect(canPublish(rights, 'a')).to.equal(false);
    });
  });
});
