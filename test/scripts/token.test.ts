/**
 * `npm run token` (scripts/token.ts) as a user runs it: the token it prints verifies with the
 * same secret and carries the claims the authorizer reads; a deployed stack's secret comes from
 * SSM (an SSM endpoint on 127.0.0.1 that answers GetParameter as AWS does); bad command lines
 * are one line and exit 2.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { rightsFromClaims } from '../../shared/auth/claims.js';
import { verifyToken } from '../../shared/auth/verify.js';
import { REPO_ROOT } from '../local/support.js';

const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const SECRET = 'token-test-secret-0123456789abcdefghijkl';
const key = new TextEncoder().encode(SECRET);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs scripts/token.ts with `args` and `env` added to (and JWT_DEV_SECRET cleared from) ours. */
function token(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      TSX,
      ['scripts/token.ts', ...args],
      { cwd: REPO_ROOT, env: { ...process.env, JWT_DEV_SECRET: '', AWS_PROFILE: '', ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

const noStackTrace = (text: string) => expect(text).to.not.match(/\n\s+at /);

describe('npm run token', function () {
  this.timeout(60_000);

  it('prints a token that verifies with JWT_DEV_SECRET and carries the requested claims and expiry', async () => {
    const before = Math.floor(Date.now() / 1000);
    const run = await token(['--sub', 'alice', '--channels', 'news user:alice', '--publish', 'news', '--ttl', '1h'], {
      JWT_DEV_SECRET: SECRET,
    });
    expect(run.code, run.stderr).to.equal(0);
    const jwt = run.stdout.trim();
    expect(run.stdout).to.equal(`${jwt}\n`);
    expect(decodeProtectedHeader(jwt)).to.include({ alg: 'HS256' });
    const { payload } = await jwtVerify(jwt, key, { algorithms: ['HS256'] });
    expect(payload).to.include({ sub: 'alice' });
    expect(payload.channels).to.deep.equal(['news', 'user:alice']);
    expect(payload.publish).to.deep.equal(['news']);
    expect(payload.iat).to.be.within(before, before + 30);
    expect((payload.exp as number) - (payload.iat as number)).to.equal(3600);
    expect(payload).to.not.have.any.keys('iss', 'aud');
    // What the authorizer makes of it: the same verification and rights code.
    const claims = await verifyToken(jwt, { kind: 'hmac', secret: key }, { maxLifetimeSeconds: 86_400 });
    expect(rightsFromClaims(claims)).to.deep.equal({ principal: 'alice', join: ['news', 'user:alice'], publish: ['news'] });
  });

  it('sets iss and aud, takes repeated --channels, and the ttl units', async () => {
    const run = await token(
      [
        '--sub',
        'bob',
        '--channels',
        'a',
        '--channels',
        'b:* a',
        '--issuer',
        'https://auth.example.com/',
        '--audience',
        'airwave',
        '--ttl',
        '15m',
      ],
      { JWT_DEV_SECRET: SECRET },
    );
    expect(run.code, run.stderr).to.equal(0);
    const { payload } = await jwtVerify(run.stdout.trim(), key, { issuer: 'https://auth.example.com/', audience: 'airwave' });
    expect(payload.channels).to.deep.equal(['a', 'b:*']);
    expect(payload).to.not.have.property('publish');
    expect((payload.exp as number) - (payload.iat as number)).to.equal(900);
  });

  it('does not verify with another secret', async () => {
    const run = await token(['--sub', 'alice'], { JWT_DEV_SECRET: SECRET });
    let failure: unknown;
    await jwtVerify(run.stdout.trim(), new TextEncoder().encode(`${SECRET}-other`)).catch((e) => {
      failure = e;
    });
    expect((failure as { code?: string })?.code).to.equal('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  it('prints the usage for --help and exits 0', async () => {
    const run = await token(['--help']);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(/^Usage: npm run token/);
    for (const flag of ['--sub', '--channels', '--publish', '--ttl', '--issuer', '--audience', '--ssm-parameter', '--region'])
      expect(run.stdout).to.include(flag);
  });

  for (const [args, message] of [
    [['--sub', 'alice', '--bogus'], /Unknown option '--bogus'/],
    [['--channels', 'news'], /--sub is required/],
    [['--sub', 'alice', '--ttl', '1y'], /--ttl must be a duration/],
    [['--sub', 'alice', '--channels', 'user:u1*'], /"user:u1\*" is not a channel pattern/],
    [['--sub', 'alice', 'stray'], /Unexpected argument 'stray'|unexpected argument stray/],
    [['--sub', 'alice'], /no secret: set JWT_DEV_SECRET/],
  ] as Array<[string[], RegExp]>) {
    it(`exits 2 with one line for ${args.join(' ')}`, async () => {
      const run = await token(args);
      expect(run.code).to.equal(2);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.match(message);
      expect(run.stderr.trim().split('\n')).to.have.length(1);
      noStackTrace(run.stderr);
    });
  }

  it('refuses a JWT_DEV_SECRET shorter than 32 bytes (the authorizer would)', async () => {
    const run = await token(['--sub', 'alice'], { JWT_DEV_SECRET: 'short' });
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(/JWT_DEV_SECRET is shorter than 32 bytes/);
    noStackTrace(run.stderr);
  });

  describe('--ssm-parameter (a deployed stack)', () => {
    let server: Server;
    let endpoint: string;
    const requests: Array<{ target: string; body: Record<string, unknown> }> = [];
    const parameters: Record<string, string> = { '/airwave/jwt-secret': 'ssm-held-secret-0123456789abcdefghijklmnop' };

    before(async () => {
      // GetParameter in the AWS JSON 1.1 protocol, as SSM answers it.
      server = createServer((req, res) => {
        let text = '';
        req.on('data', (chunk) => {
          text += chunk;
        });
        req.on('end', () => {
          const body = JSON.parse(text) as { Name: string };
          requests.push({ target: String(req.headers['x-amz-target']), body });
          const value = parameters[body.Name];
          res.setHeader('content-type', 'application/x-amz-json-1.1');
          if (value === undefined) {
            res.statusCode = 400;
            res.end(JSON.stringify({ __type: 'ParameterNotFound', message: '' }));
          } else res.end(JSON.stringify({ Parameter: { Name: body.Name, Type: 'SecureString', Value: value, Version: 1 } }));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const aws = () => ({
      AWS_ENDPOINT_URL_SSM: endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_SESSION_TOKEN: '',
      AWS_REGION: '',
    });

    it('signs with the decrypted SecureString, not JWT_DEV_SECRET', async () => {
      requests.length = 0;
      const run = await token(['--sub', 'carol', '--channels', 'news', '--ssm-parameter', '/airwave/jwt-secret', '--region', 'eu-west-1'], {
        ...aws(),
        JWT_DEV_SECRET: SECRET,
      });
      expect(run.code, run.stderr).to.equal(0);
      const { payload } = await jwtVerify(run.stdout.trim(), new TextEncoder().encode(parameters['/airwave/jwt-secret']));
      expect(payload).to.include({ sub: 'carol' });
      expect(requests).to.deep.equal([{ target: 'AmazonSSM.GetParameter', body: { Name: '/airwave/jwt-secret', WithDecryption: true } }]);
    });

    it('says which parameter could not be read, without a stack trace', async () => {
      const run = await token(['--sub', 'carol', '--ssm-parameter', '/airwave/missing', '--region', 'eu-west-1'], aws());
      expect(run.code).to.equal(1);
      expect(run.stderr).to.match(/^error: cannot read SSM parameter \/airwave\/missing: ParameterNotFound/);
      noStackTrace(run.stderr);
    });
  });
});
