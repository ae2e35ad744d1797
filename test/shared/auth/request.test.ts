import { expect } from 'chai';
import { AuthRefusedError } from '../../../shared/auth/refusal.js';
import { headerValues, MAX_TOKEN_LENGTH, originOf, requestedChannels, tokenOf } from '../../../shared/auth/request.js';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl';
const OTHER_JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MiJ9.c2lnbmF0dXJl';

function refusalCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof AuthRefusedError) return error.code;
    throw error;
  }
  return undefined;
}

describe('auth/request', () => {
  describe('headerValues', () => {
    it('finds a header whatever the case of its name, in headers and multiValueHeaders', () => {
      expect(headerValues({ headers: { ORIGIN: 'https://a.example.com' } }, 'origin')).to.deep.equal(['https://a.example.com']);
      expect(headerValues({ multiValueHeaders: { oRiGiN: ['https://b.example.com'] } }, 'Origin')).to.deep.equal(['https://b.example.com']);
      expect(headerValues({ headers: null, multiValueHeaders: null }, 'origin')).to.deep.equal([]);
    });
  });

  describe('originOf', () => {
    it('is undefined without an Origin header (not a browser)', () => {
      expect(originOf({ headers: { Host: 'x' } })).to.equal(undefined);
    });

    it('is the one value when headers and multiValueHeaders agree', () => {
      expect(originOf({ headers: { Origin: 'https://a.example.com' }, multiValueHeaders: { Origin: ['https://a.example.com'] } })).to.equal(
        'https://a.example.com',
      );
    });

    it('is null when the request carries two different origins', () => {
      expect(originOf({ multiValueHeaders: { Origin: ['https://a.example.com', 'https://evil.example.net'] } })).to.equal(null);
      expect(originOf({ headers: { origin: 'https://a.example.com', ORIGIN: 'https://evil.example.net' } })).to.equal(null);
    });
  });

  describe('tokenOf', () => {
    it('reads the token from ?token=', () => {
      expect(tokenOf({ queryStringParameters: { token: JWT } })).to.deep.equal({ token: JWT, source: 'query' });
    });

    it('picks the JWT-shaped entry of Sec-WebSocket-Protocol, whatever the header name case', () => {
      expect(tokenOf({ headers: { 'sec-websocket-protocol': `airwave, ${JWT}` } })).to.deep.equal({ token: JWT, source: 'subprotocol' });
      expect(tokenOf({ headers: { 'Sec-WebSocket-Protocol': `${JWT},airwave` } })).to.deep.equal({ token: JWT, source: 'subprotocol' });
    });

    it('finds an alg-none shaped token (empty signature) so that verification can refuse it by name', () => {
      const none = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1MSJ9.';
      expect(tokenOf({ headers: { 'Sec-WebSocket-Protocol': `airwave, ${none}` } })?.token).to.equal(none);
    });

    it('is undefined when there is no token, an empty one, or only other subprotocols', () => {
      expect(tokenOf({})).to.equal(undefined);
      expect(tokenOf({ queryStringParameters: { token: '  ' } })).to.equal(undefined);
      expect(tokenOf({ headers: { 'Sec-WebSocket-Protocol': 'airwave, chat.v2' } })).to.equal(undefined);
    });

    it('accepts the same token in both places', () => {
      expect(tokenOf({ queryStringParameters: { token: JWT }, headers: { 'Sec-WebSocket-Protocol': `airwave, ${JWT}` } })).to.deep.equal({
        token: JWT,
        source: 'subprotocol',
      });
    });

    it('refuses two different tokens as ambiguous', () => {
      expect(
        refusalCode(() =>
          tokenOf({ queryStringParameters: { token: JWT }, headers: { 'Sec-WebSocket-Protocol': `airwave, ${OTHER_JWT}` } }),
        ),
      ).to.equal('token_ambiguous');
      expect(refusalCode(() => tokenOf({ headers: { 'Sec-WebSocket-Protocol': `airwave, ${JWT}, ${OTHER_JWT}` } }))).to.equal(
        'token_ambiguous',
      );
    });

    it('refuses a token longer than MAX_TOKEN_LENGTH from either place', () => {
      const long = `${'a'.repeat(MAX_TOKEN_LENGTH)}.b.c`;
      expect(refusalCode(() => tokenOf({ queryStringParameters: { token: long } }))).to.equal('token_too_long');
      expect(refusalCode(() => tokenOf({ headers: { 'Sec-WebSocket-Protocol': `airwave, ${long}` } }))).to.equal('token_too_long');
    });
  });

  describe('requestedChannels', () => {
    it('splits ?channels= like $connect does: trimmed, de-duplicated, empty entries dropped', () => {
      expect(requestedChannels({ queryStringParameters: { channels: ' news, sport,,news ' } })).to.deep.equal(['news', 'sport']);
      expect(requestedChannels({ queryStringParameters: null })).to.deep.equal([]);
    });
  });
});
