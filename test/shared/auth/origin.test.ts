import { expect } from 'chai';
import { isOriginAllowed, parseAllowedOrigins as parse } from '../../../shared/auth/origin.js';
import { isWildcardTooBroad } from '../../../shared/auth/public-suffix.js';
import { AuthConfigError } from '../../../shared/auth/refusal.js';

/** As the authorizer parses it: with the Public Suffix List check. */
const parseAllowedOrigins = (raw: string | undefined) => parse(raw, isWildcardTooBroad);

describe('auth/origin', () => {
  describe('parseAllowedOrigins', () => {
    it('normalises exact origins: lower-case host, default port dropped, trailing slash ignored', () => {
      const allow = parseAllowedOrigins(' https://App.Example.com:443/ , http://127.0.0.1:5173 ');
      expect([...allow.exact]).to.deep.equal(['https://app.example.com', 'http://127.0.0.1:5173']);
      expect(allow.any).to.equal(false);
      expect(allow.wildcards).to.have.length(0);
    });

    it('reads "*" only when it is listed explicitly', () => {
      expect(parseAllowedOrigins('*').any).to.equal(true);
      expect(parseAllowedOrigins('https://a.example.com, *').any).to.equal(true);
      expect(parseAllowedOrigins('https://a.example.com').any).to.equal(false);
    });

    it('allows nothing when the list is empty or unset', () => {
      for (const raw of [undefined, '', ' , ']) {
        const allow = parseAllowedOrigins(raw);
        expect(isOriginAllowed(allow, 'https://app.example.com')).to.equal(false);
      }
    });

    it('throws on entries that are not origins, so a typo breaks loudly', () => {
      for (const bad of [
        'app.example.com',
        'https://app.example.com/path',
        'https://app.example.com?x=1',
        'ftp://example.com',
        'https://user@example.com',
        'https://*.*.example.com',
        'https://a.*.example.com',
      ]) {
        expect(() => parseAllowedOrigins(bad), bad).to.throw(/ALLOWED_ORIGINS/);
      }
    });

    it('refuses a wildcard over a public suffix, ICANN or private, or over a domain that holds one', () => {
      for (const entry of [
        'https://*.com',
        'https://*.co.uk',
        'https://*.github.io',
        'https://*.cloudfront.net',
        'https://*.amazonaws.com',
        'https://*.s3.amazonaws.com',
        'https://*.execute-api.us-east-1.amazonaws.com',
        'https://*.herokuapp.com',
        'https://*.appspot.com',
      ])
        expect(() => parseAllowedOrigins(entry), entry).to.throw(AuthConfigError, /covers a public suffix/);
    });

    it('refuses every wildcard when no public-suffix check is given (fail closed), but not exact origins', () => {
      expect(() => parse('https://*.example.com')).to.throw(AuthConfigError, /cannot be checked/);
      expect(parse('https://app.example.com').exact.size).to.equal(1);
    });

    it('accepts a wildcard under a registrable domain, whoever its suffix belongs to', () => {
      for (const entry of [
        'https://*.example.com',
        'https://*.example.co.uk',
        'https://*.mybucket.s3.amazonaws.com',
        'https://*.octocat.github.io',
        'http://*.localhost:5173',
      ])
        expect(parseAllowedOrigins(entry).wildcards, entry).to.have.length(1);
      const allow = parseAllowedOrigins('https://*.octocat.github.io');
      expect(isOriginAllowed(allow, 'https://docs.octocat.github.io')).to.equal(true);
      expect(isOriginAllowed(allow, 'https://attacker.github.io')).to.equal(false);
    });
  });

  describe('isOriginAllowed', () => {
    const allow = parseAllowedOrigins('https://app.example.com,https://*.example.org,http://127.0.0.1:5173');

    it('allows an exact origin, whatever the case of its host or an explicit default port', () => {
      expect(isOriginAllowed(allow, 'https://app.example.com')).to.equal(true);
      expect(isOriginAllowed(allow, 'https://APP.example.COM')).to.equal(true);
      expect(isOriginAllowed(allow, 'https://app.example.com:443')).to.equal(true);
    });

    it('allows a loopback origin with its port, and only that port', () => {
      expect(isOriginAllowed(allow, 'http://127.0.0.1:5173')).to.equal(true);
      expect(isOriginAllowed(allow, 'http://127.0.0.1:5174')).to.equal(false);
      expect(isOriginAllowed(allow, 'http://127.0.0.1')).to.equal(false);
    });

    it('refuses another scheme or port of an allowed host', () => {
      expect(isOriginAllowed(allow, 'http://app.example.com')).to.equal(false);
      expect(isOriginAllowed(allow, 'https://app.example.com:8443')).to.equal(false);
    });

    it('allows subdomains of a wildcard at any depth', () => {
      expect(isOriginAllowed(allow, 'https://a.example.org')).to.equal(true);
      expect(isOriginAllowed(allow, 'https://a.b.example.org')).to.equal(true);
    });

    it('refuses lookalikes of a wildcard domain', () => {
      for (const origin of [
        'https://example.org',
        'https://evil-example.org',
        'https://a.example.org.evil.net',
        'https://aexample.org',
        'http://a.example.org',
        'https://a.example.org:8443',
      ]) {
        expect(isOriginAllowed(allow, origin), origin).to.equal(false);
      }
    });

    it('refuses lookalikes of an exact origin', () => {
      for (const origin of [
        'https://app.example.com.evil.net',
        'https://evilapp.example.com',
        'https://app-example.com',
        'https://app.example.co',
      ]) {
        expect(isOriginAllowed(allow, origin), origin).to.equal(false);
      }
    });

    it('refuses the "null" origin and values that are not origins', () => {
      for (const origin of [
        'null',
        '',
        'https://app.example.com/path',
        'https://app.example.com?x',
        'app.example.com',
        'file:///etc/passwd',
      ]) {
        expect(isOriginAllowed(allow, origin), origin).to.equal(false);
      }
    });

    it('allows any origin, "null" included, when "*" is listed', () => {
      const any = parseAllowedOrigins('*');
      expect(isOriginAllowed(any, 'https://anything.example.net')).to.equal(true);
      expect(isOriginAllowed(any, 'null')).to.equal(true);
    });
  });
});
