import { expect } from 'chai';
import { hasPublicSuffixBelow, isPublicSuffix, isWildcardTooBroad } from '../../../shared/auth/public-suffix.js';

describe('auth/public-suffix', () => {
  describe('isPublicSuffix', () => {
    it('knows ICANN and private suffixes', () => {
      for (const d of ['com', 'co.uk', 'github.io', 'cloudfront.net', 's3.amazonaws.com']) expect(isPublicSuffix(d), d).to.equal(true);
      for (const d of ['example.com', 'amazonaws.com', 'octocat.github.io']) expect(isPublicSuffix(d), d).to.equal(false);
    });
  });

  describe('hasPublicSuffixBelow', () => {
    // Also the canary for the tldts upgrade: this reads the package's compiled trie.
    it('finds the suffixes a domain holds, exact and wildcard rules alike', () => {
      expect(hasPublicSuffixBelow('amazonaws.com')).to.equal(true);
      expect(hasPublicSuffixBelow('compute.amazonaws.com')).to.equal(true);
      expect(hasPublicSuffixBelow('com')).to.equal(true);
      expect(hasPublicSuffixBelow('uk')).to.equal(true);
    });

    it('finds none below a domain the list does not go under', () => {
      for (const d of ['example.com', 'example.co.uk', 'github.io', 'mybucket.s3.amazonaws.com', 'not-a-tld-at-all'])
        expect(hasPublicSuffixBelow(d), d).to.equal(false);
    });
  });

  describe('isWildcardTooBroad', () => {
    it('refuses the four suffixes anyone can host pages under, and allows *.example.com', () => {
      for (const d of ['co.uk', 'github.io', 'cloudfront.net', 'amazonaws.com', 's3.amazonaws.com'])
        expect(isWildcardTooBroad(d), d).to.equal(true);
      for (const d of ['example.com', 'bucket.s3.amazonaws.com']) expect(isWildcardTooBroad(d), d).to.equal(false);
    });
  });
});
