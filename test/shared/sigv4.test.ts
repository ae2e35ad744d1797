import { SignatureV4 } from '@smithy/signature-v4';
import { expect } from 'chai';
import { type AwsCredentials, ConnectionsSigner, canonicalPath, deriveSigningKey, escapeUri, formatAmzDate } from '../../shared/sigv4.js';
import { NodeSha256 } from '../helpers/node-sha256.js';

const HOST = 'abc123defg.execute-api.eu-west-1.amazonaws.com';
const LONG_TERM: AwsCredentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const WITH_TOKEN: AwsCredentials = {
  accessKeyId: 'ASIAEXAMPLE',
  secretAccessKey: 'se/cret+key=',
  // Lambda session tokens are ~1 KB of base64.
  sessionToken: `IQoJb3JpZ2luX2VjE${'AbC0+/'.repeat(150)}==`,
};
const IDS = ['L0SM9cOFvHcCIhw=', 'a/b+c=d', '+/+/==', "it's(*)!~"];
const PAYLOADS = ['{"type":"message","data":"hello"}', '{"data":"héllo wörld ✓ 🚀"}', 'x'.repeat(2048)];
const DATES = [Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2031, 0, 1, 0, 0, 0, 1)];

/** What @smithy/signature-v4 (default options, as the SDK builds it) puts on the same request. */
async function smithySign(credentials: AwsCredentials, region: string, epochMs: number, id: string, payload: string) {
  const signer = new SignatureV4({ service: 'execute-api', region, credentials, sha256: NodeSha256 });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'https:',
      hostname: HOST,
      path: `/dev/@connections/${escapeUri(id)}`,
      query: {},
      headers: { host: HOST },
      body: Buffer.from(payload),
    },
    { signingDate: new Date(epochMs) },
  );
  return signed.headers;
}

describe('sigv4', () => {
  describe('escapeUri', () => {
    it('escapes = / + and the characters encodeURIComponent leaves alone', () => {
      expect(escapeUri("L0S=M/9+c!'()*~")).to.equal('L0S%3DM%2F9%2Bc%21%27%28%29%2A~');
    });
  });

  describe('canonicalPath', () => {
    it('escapes the already-encoded path a second time and keeps the slashes', () => {
      expect(canonicalPath('/dev/@connections/L0SM9c%2FOF%2BvHcCIhw%3D')).to.equal('/dev/%40connections/L0SM9c%252FOF%252BvHcCIhw%253D');
    });

    it('drops empty and dot segments like the SDK signer', () => {
      expect(canonicalPath('/a//b/./c/../d/')).to.equal('/a/b/d/');
      expect(canonicalPath('/')).to.equal('/');
    });
  });

  describe('formatAmzDate', () => {
    it('formats to the second and drops milliseconds', () => {
      expect(formatAmzDate(Date.UTC(2024, 1, 29, 23, 59, 59, 999))).to.equal('20240229T235959Z');
    });
  });

  describe('deriveSigningKey', () => {
    it('derives the signing key of the AWS documentation example', () => {
      const key = deriveSigningKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20120215', 'us-east-1', 'iam');
      expect(key.toString('hex')).to.equal('f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d');
    });
  });

  describe('ConnectionsSigner', () => {
    for (const credentials of [LONG_TERM, WITH_TOKEN]) {
      const label = credentials.sessionToken ? 'with a session token' : 'with long-term keys';
      it(`signs exactly as @smithy/signature-v4 ${label}, for ids with = / + and ASCII and UTF-8 payloads`, async () => {
        for (const epochMs of DATES) {
          const signer = new ConnectionsSigner({
            host: HOST,
            basePath: '/dev',
            region: 'eu-west-1',
            credentials: () => credentials,
            now: () => epochMs,
          });
          for (const payload of PAYLOADS) {
            const message = signer.prepare(Buffer.from(payload));
            for (const id of IDS) {
              const expected = await smithySign(credentials, 'eu-west-1', epochMs, id, payload);
              signer.tick();
              expect(signer.sign(message, escapeUri(id))).to.equal(expected.authorization);
              expect(signer.amzDate).to.equal(expected['x-amz-date']);
              expect(message.payloadHash).to.equal(expected['x-amz-content-sha256']);
              expect(signer.sessionToken).to.equal(expected['x-amz-security-token']);
            }
          }
        }
      });
    }

    it('hashes a string payload as its UTF-8 bytes', () => {
      const signer = new ConnectionsSigner({ host: HOST, basePath: '/dev', region: 'eu-west-1', credentials: () => LONG_TERM });
      expect(signer.prepare('héllo').payloadHash).to.equal(signer.prepare(Buffer.from('héllo', 'utf8')).payloadHash);
    });

    it('picks up rotated credentials and a new day on the next second', async () => {
      let now = Date.UTC(2030, 5, 30, 23, 59, 59, 500);
      let credentials = LONG_TERM;
      const signer = new ConnectionsSigner({
        host: HOST,
        basePath: '/dev',
        region: 'eu-west-1',
        credentials: () => credentials,
        now: () => now,
      });
      const message = signer.prepare(PAYLOADS[0]);
      credentials = WITH_TOKEN;
      now += 600; // next second, next day
      signer.tick();
      const expected = await smithySign(WITH_TOKEN, 'eu-west-1', now, IDS[0], PAYLOADS[0]);
      expect(signer.sign(message, escapeUri(IDS[0]))).to.equal(expected.authorization);
      expect(signer.amzDate).to.equal('20300701T000000Z');
    });

    it('treats an empty session token as none, as the SDK does', async () => {
      const signer = new ConnectionsSigner({
        host: HOST,
        basePath: '/dev',
        region: 'eu-west-1',
        credentials: () => ({ ...LONG_TERM, sessionToken: '' }),
        now: () => DATES[0],
      });
      const expected = await smithySign(LONG_TERM, 'eu-west-1', DATES[0], IDS[0], PAYLOADS[0]);
      expect(signer.sign(signer.prepare(PAYLOADS[0]), escapeUri(IDS[0]))).to.equal(expected.authorization);
      expect(signer.sessionToken).to.equal(undefined);
    });

    it('refuses credentials that would break a header line', () => {
      const bad = { ...WITH_TOKEN, sessionToken: 'abc\r\nx-injected: 1' };
      expect(() => new ConnectionsSigner({ host: HOST, basePath: '/dev', region: 'eu-west-1', credentials: () => bad })).to.throw(
        'AWS session token is malformed',
      );
      expect(
        () =>
          new ConnectionsSigner({
            host: HOST,
            basePath: '/dev',
            region: 'eu-west-1',
            credentials: () => ({ accessKeyId: '', secretAccessKey: 'x' }),
          }),
      ).to.throw('AWS credentials are missing or malformed');
    });
  });
});
