import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { CompactSign, createLocalJWKSet, createRemoteJWKSet } from 'jose';
import { AuthRefusedError } from '../../../shared/auth/refusal.js';
import { CLOCK_TOLERANCE_SECONDS, KeyUnavailableError, type VerificationKey, verifyToken } from '../../../shared/auth/verify.js';
import { claims, confusedToken, hmacToken, noneToken, OTHER_SECRET, type RsaIssuer, rsaIssuer, SECRET, tamper } from './tokens.js';

const hmac: VerificationKey = { kind: 'hmac', secret: new TextEncoder().encode(SECRET) };
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The refusal code a verification ends with, or 'accepted'. */
async function outcome(token: string, key: VerificationKey, options = {}): Promise<string> {
  try {
    await verifyToken(token, key, options);
    return 'accepted';
  } catch (error) {
    if (error instanceof AuthRefusedError) return error.code;
    throw error;
  }
}

describe('auth/verify', () => {
  describe('with an HMAC secret', () => {
    it('returns the claims of a valid HS256, HS384 and HS512 token', async () => {
      for (const alg of ['HS256', 'HS384', 'HS512']) {
        const payload = await verifyToken(await hmacToken(claims(), SECRET, alg), hmac);
        expect(payload.sub, alg).to.equal('user-1');
      }
    });

    it('refuses a token signed with another secret', async () => {
      expect(await outcome(await hmacToken(claims(), OTHER_SECRET), hmac)).to.equal('token_bad_signature');
    });

    it('refuses a token whose signature was altered', async () => {
      expect(await outcome(tamper(await hmacToken()), hmac)).to.equal('token_bad_signature');
    });

    it('refuses an alg-none token', async () => {
      expect(await outcome(noneToken(), hmac)).to.equal('token_alg_not_allowed');
    });

    it('refuses a token that is not a JWT', async () => {
      for (const token of ['not-a-token', 'a.b.c', 'a.b']) {
        expect(await outcome(token, hmac), token).to.equal('token_malformed');
      }
    });

    it('refuses a correctly signed token whose payload is not a JSON object', async () => {
      const signed = await new CompactSign(new TextEncoder().encode('not json'))
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(SECRET));
      expect(await outcome(signed, hmac)).to.equal('token_malformed');
    });

    it('refuses an expired token beyond the clock tolerance, accepts one within it', async () => {
      const expired = await hmacToken(claims({ exp: nowSeconds() - CLOCK_TOLERANCE_SECONDS - 5 }));
      const justExpired = await hmacToken(claims({ exp: nowSeconds() - 5 }));
      expect(await outcome(expired, hmac)).to.equal('token_expired');
      expect(await outcome(justExpired, hmac)).to.equal('accepted');
    });

    it('refuses a token that is not yet valid (nbf)', async () => {
      const early = await hmacToken(claims({ nbf: nowSeconds() + CLOCK_TOLERANCE_SECONDS + 60 }));
      expect(await outcome(early, hmac)).to.equal('token_not_yet_valid');
    });

    it('refuses a token without exp', async () => {
      expect(await outcome(await hmacToken(claims({ exp: undefined })), hmac)).to.equal('token_claims_invalid');
    });

    it('refuses a token valid for longer than maxLifetimeSeconds: by exp - iat, or by exp - now', async () => {
      const now = nowSeconds();
      const day = { maxLifetimeSeconds: 86_400 };
      const century = await hmacToken(claims({ iat: now, exp: now + 100 * 365 * 86_400 }));
      expect(await outcome(century, hmac, day)).to.equal('token_lifetime_too_long');
      expect(await outcome(await hmacToken(claims({ iat: now - 60, exp: now + 86_400 })), hmac, day)).to.equal('token_lifetime_too_long');
      expect(await outcome(await hmacToken(claims({ iat: now, exp: now + 86_400 })), hmac, day)).to.equal('accepted');
      // Without iat, what is left of it counts.
      expect(await outcome(await hmacToken(claims({ iat: undefined, exp: now + 2 * 86_400 })), hmac, day)).to.equal(
        'token_lifetime_too_long',
      );
      expect(await outcome(await hmacToken(claims({ iat: undefined, exp: now + 3600 })), hmac, day)).to.equal('accepted');
      // An iat set in the future cannot shrink the lifetime: exp - now still counts.
      const future = await hmacToken(claims({ iat: now + 50 * 365 * 86_400, exp: now + 50 * 365 * 86_400 + 60 }));
      expect(await outcome(future, hmac, day)).to.equal('token_lifetime_too_long');
      // No bound unless one is configured.
      expect(await outcome(century, hmac)).to.equal('accepted');
    });

    it('refuses a token without sub', async () => {
      expect(await outcome(await hmacToken(claims({ sub: undefined })), hmac)).to.equal('token_claims_invalid');
    });

    it('checks iss and aud when they are configured', async () => {
      const token = await hmacToken(claims({ iss: 'https://issuer.example.com', aud: 'airwave' }));
      expect(await outcome(token, hmac, { issuer: 'https://issuer.example.com', audience: ['airwave'] })).to.equal('accepted');
      expect(await outcome(token, hmac, { issuer: 'https://other.example.com' })).to.equal('token_wrong_issuer');
      expect(await outcome(token, hmac, { audience: ['other-app'] })).to.equal('token_wrong_audience');
      expect(await outcome(await hmacToken(), hmac, { audience: ['airwave'] })).to.equal('token_wrong_audience');
    });
  });

  describe('with a JWKS', () => {
    let issuer: RsaIssuer;
    let server: Server;
    let url: URL;
    let fetches = 0;
    let available = true;

    before(async () => {
      issuer = await rsaIssuer();
      server = createServer((req, res) => {
        fetches++;
        if (!available || req.url !== '/.well-known/jwks.json') {
          res.writeHead(503).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(issuer.jwks));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`);
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    beforeEach(() => {
      fetches = 0;
      available = true;
    });

    it('accepts an RS256 token signed by a key of the set', async () => {
      const key: VerificationKey = { kind: 'public', getKey: createRemoteJWKSet(url) };
      const payload = await verifyToken(await issuer.sign(), key);
      expect(payload.sub).to.equal('user-1');
      expect(fetches).to.equal(1);
    });

    it('refuses an HS256 token signed with the public key as its secret (algorithm confusion)', async () => {
      const key: VerificationKey = { kind: 'public', getKey: createLocalJWKSet(issuer.jwks) };
      expect(await outcome(await confusedToken(issuer), key)).to.equal('token_alg_not_allowed');
    });

    it('refuses an alg-none token without fetching any key', async () => {
      const key: VerificationKey = { kind: 'public', getKey: createRemoteJWKSet(url) };
      expect(await outcome(noneToken(), key)).to.equal('token_alg_not_allowed');
      expect(fetches).to.equal(0);
    });

    it('refuses a token signed by a key outside the set', async () => {
      const stranger = await rsaIssuer('key-1');
      const key: VerificationKey = { kind: 'public', getKey: createLocalJWKSet(issuer.jwks) };
      expect(await outcome(await stranger.sign(), key)).to.equal('token_bad_signature');
      expect(await outcome(await stranger.sign(claims(), 'unknown-kid'), key)).to.equal('token_unknown_key');
    });

    it('reports an unreachable key set as a server-side failure, not a bad token', async () => {
      available = false;
      const key: VerificationKey = { kind: 'public', getKey: createRemoteJWKSet(url) };
      let caught: unknown;
      try {
        await verifyToken(await issuer.sign(), key);
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(KeyUnavailableError);
    });
  });
});
