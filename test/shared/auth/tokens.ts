/**
 * Token factories for the authorizer tests: HMAC tokens, RSA tokens with their JWKS, and the
 * attacks (alg none, HMAC signed with the public key) crafted by hand.
 */
import { base64url, exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

/** A 40-byte development secret (the authorizer wants at least 32). */
export const SECRET = 'airwave-test-secret-0123456789-abcdefghij';
export const OTHER_SECRET = 'airwave-other-secret-0123456789-abcdefghij';

const now = () => Math.floor(Date.now() / 1000);

/** Claims of a valid token: subject, rights, one hour of validity. */
export function claims(extra: JWTPayload = {}): JWTPayload {
  return { sub: 'user-1', channels: ['public:*', 'user:1'], publish: ['user:1'], iat: now(), exp: now() + 3600, ...extra };
}

/** An HMAC-signed token; `exp: undefined` in `payload` leaves the claim out. */
export async function hmacToken(payload: JWTPayload = claims(), secret = SECRET, alg = 'HS256'): Promise<string> {
  const clean = Object.fromEntries(Object.entries(payload).filter(([, v]) => v !== undefined));
  return new SignJWT(clean).setProtectedHeader({ alg, typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

/** An unsecured token, `alg: none`, built by hand (jose will not sign one). */
export function noneToken(payload: JWTPayload = claims()): string {
  const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(payload)}.`;
}

export interface RsaIssuer {
  jwks: { keys: JWK[] };
  /** The public key as PEM, the string an attacker would use as an HMAC secret. */
  publicPem: string;
  kid: string;
  sign(payload?: JWTPayload, kid?: string): Promise<string>;
}

/** A fresh RSA key pair, its JWKS and a signer. */
export async function rsaIssuer(kid = 'key-1'): Promise<RsaIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return {
    jwks: { keys: [jwk] },
    publicPem: await exportSPKI(publicKey),
    kid,
    sign: (payload = claims(), signKid = kid) =>
      new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: signKid, typ: 'JWT' }).sign(privateKey),
  };
}

/** The confusion attack: an HS256 token whose secret is the issuer's public key (PEM), same kid. */
export async function confusedToken(issuer: RsaIssuer, payload: JWTPayload = claims()): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', kid: issuer.kid, typ: 'JWT' })
    .sign(new TextEncoder().encode(issuer.publicPem));
}

/**
 * Changes one character in the middle of the signature (the last character may only carry
 * padding bits, which a decoder can ignore).
 */
export function tamper(token: string): string {
  const at = token.length - 6;
  return token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
}
