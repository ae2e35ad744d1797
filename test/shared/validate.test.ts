import { expect } from 'chai';
import { AirwaveError } from '../../shared/errors.js';
import { assertChannel, assertMessage, assertSafeJson, parseChannelList, parseFrame } from '../../shared/validate.js';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return error instanceof AirwaveError ? error.code : 'not-an-airwave-error';
  }
  return undefined;
};

describe('validate', () => {
  describe('assertChannel', () => {
    it('accepts 1-128 characters of letters, digits and _ . : @ -', () => {
      for (const ok of ['a', 'news', 'user:123', 'a.b_c-d@e', 'x'.repeat(128)]) expect(codeOf(() => assertChannel(ok))).to.equal(undefined);
    });
    it('refuses empty, too long, control characters, spaces, # and non-strings', () => {
      for (const bad of ['', 'x'.repeat(129), 'a\nb', 'a b', 'a#1', 'é', null, 3, {}])
        expect(codeOf(() => assertChannel(bad))).to.equal('invalid_channel');
    });
  });

  describe('parseFrame', () => {
    it('returns a plain object for a JSON object', () => {
      expect(parseFrame('{"action":"ping"}')).to.deep.equal({ action: 'ping' });
    });
    it('refuses everything that is not a JSON object with bad_json', () => {
      for (const bad of ['', 'nope', '[]', '1', 'null', '"s"', '{"a":']) expect(codeOf(() => parseFrame(bad))).to.equal('bad_json');
      expect(codeOf(() => parseFrame(undefined))).to.equal('bad_json');
    });
  });

  describe('assertSafeJson', () => {
    it('refuses nesting deeper than the limit without a stack overflow, even 100,000 deep', () => {
      const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
      expect(codeOf(() => assertSafeJson(deep))).to.equal('bad_request');
      expect(codeOf(() => assertSafeJson({ a: { b: { c: 1 } } }, 3))).to.equal(undefined);
      expect(codeOf(() => assertSafeJson({ a: { b: { c: {} } } }, 3))).to.equal('bad_request');
    });
    it('refuses __proto__, constructor and prototype keys at any depth', () => {
      for (const text of ['{"__proto__":{}}', '{"a":[{"constructor":1}]}', '{"x":{"prototype":null}}']) {
        expect(codeOf(() => assertSafeJson(JSON.parse(text)))).to.equal('bad_request');
      }
    });
  });

  describe('assertMessage', () => {
    it('measures the serialized size in bytes, not characters', () => {
      expect(codeOf(() => assertMessage('é'.repeat(10), 22))).to.equal(undefined);
      expect(codeOf(() => assertMessage('é'.repeat(11), 22))).to.equal('message_too_large');
    });
    it('accepts any JSON value but refuses a missing message', () => {
      for (const ok of [0, false, null, '', [], {}]) expect(codeOf(() => assertMessage(ok, 10))).to.equal(undefined);
      expect(codeOf(() => assertMessage(undefined, 10))).to.equal('bad_request');
    });
  });

  describe('parseChannelList', () => {
    it('splits, trims and de-duplicates, refusing any invalid name', () => {
      expect(parseChannelList(' a, b,,a ')).to.deep.equal(['a', 'b']);
      expect(parseChannelList(undefined)).to.deep.equal([]);
      expect(codeOf(() => parseChannelList('a,b c'))).to.equal('invalid_channel');
    });
  });
});
