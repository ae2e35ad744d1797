/**
 * AuthMode=jwt out of the box on the local stack: `npm run dev` gives the authorizer a development
 * secret (JWT_DEV_SECRET, else a generated one it prints), and `npm run token` mints tokens for
 * it. Real CLIs (local/cli/main.ts, scripts/token.ts) and real sockets.
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import { parseCliArgs } from '../../local/cli/options.js';
import { openClient, refusedStatus } from '../helpers/ws-client.js';
import { eventually, QUIET_ENV, REPO_ROOT, startTestStack, type TestStack } from './support.js';

const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const ORIGIN = 'https://app.example.com';
const SECRET = 'jwt-dev-test-secret-0123456789abcdefghij';

/** `npm run token -- <args>` with JWT_DEV_SECRET=`secret`: its stdout (the token). */
async function mint(secret: string, args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(TSX, ['scripts/token.ts', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, JWT_DEV_SECRET: secret },
  });
  return stdout.trim();
}

const wrongSecretToken = () =>
  new SignJWT({ channels: ['news'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('mallory')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode('another-secret-entirely-0123456789abcdef'));

/** Connects with `token`, joins `news`, and returns the join's answer frame. */
async function joinNews(url: string, token: string): Promise<Record<string, unknown>> {
  const client = await openClient(`${url}?token=${token}`, { origin: ORIGIN });
  try {
    client.send({ action: 'joinchannel', channel: 'news' });
    return await client.next((f) => f.type === 'joined' || f.type === 'error', 30_000);
  } finally {
    await client.close();
  }
}

describe('local jwt mode (dev secret, npm run token)', function () {
  this.timeout(90_000);

  describe('startLocalStack with AuthMode=jwt', () => {
    let stack: TestStack;
    before(async () => {
      stack = await startTestStack({
        parameterOverrides: { AuthMode: 'jwt', AllowedOrigins: ORIGIN, JwtIssuer: 'https://auth.local/', JwtAudience: 'airwave' },
        jwtDevSecret: SECRET,
      });
    });
    after(() => stack?.stop());

    it('tells the secret and the issuer and audience tokens need', () => {
      expect(stack.jwt).to.deep.equal({ secret: SECRET, issuer: 'https://auth.local/', audience: 'airwave' });
    });

    it('accepts a token from npm run token, with the rights it names', async () => {
      const token = await mint(SECRET, [
        '--sub',
        'alice',
        '--channels',
        'news user:alice',
        '--issuer',
        'https://auth.local/',
        '--audience',
        'airwave',
      ]);
      expect(await joinNews(stack.url, token)).to.include({ type: 'joined', channel: 'news' });
    });

    it('refuses no token, a wrong-secret token and one without the audience with 401', async () => {
      expect(await refusedStatus(stack.url, { origin: ORIGIN })).to.equal(401);
      expect(await refusedStatus(`${stack.url}?token=${await wrongSecretToken()}`, { origin: ORIGIN })).to.equal(401);
      const noAudience = await mint(SECRET, ['--sub', 'alice', '--channels', 'news', '--issuer', 'https://auth.local/']);
      expect(await refusedStatus(`${stack.url}?token=${noAudience}`, { origin: ORIGIN })).to.equal(401);
    });

    it('gives the secret to the authorizer only', () => {
      const ids = Object.keys(stack.model.functions);
      expect(ids).to.include('AuthorizerFunction');
      // The worker environments are private to the runtime; the model says which function verifies.
      expect(ids.filter((id) => Object.hasOwn(stack.model.functions[id].environment, 'JWT_SECRET_PARAMETER'))).to.deep.equal([
        'AuthorizerFunction',
      ]);
    });

    it('has no dev secret in AuthMode=none', async () => {
      const open = await startTestStack({ parameterOverrides: { AuthMode: 'none' } });
      try {
        expect(open.jwt).to.equal(undefined);
      } finally {
        await open.stop();
      }
    });

    it('refuses a dev secret shorter than 32 bytes at start', async () => {
      let message = '';
      await startTestStack({ parameterOverrides: { AuthMode: 'jwt' }, jwtDevSecret: 'short' }).then(
        (s) => s.stop(),
        (error: Error) => {
          message = error.message;
        },
      );
      expect(message).to.match(/JWT_DEV_SECRET is shorter than 32 bytes/);
    });
  });

  it('npm run dev takes JWT_DEV_SECRET from its environment, and leaves it unset (generated) when empty', () => {
    expect(parseCliArgs([], { JWT_DEV_SECRET: SECRET }).stack.jwtDevSecret).to.equal(SECRET);
    expect(parseCliArgs([], { JWT_DEV_SECRET: '' }).stack).to.not.have.property('jwtDevSecret');
    expect(parseCliArgs(['--help']).help).to.equal(true);
  });

  describe('npm run dev -- --parameter-overrides AuthMode=jwt', () => {
    let child: ChildProcessWithoutNullStreams | undefined;
    afterEach(() => {
      if (child?.pid && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
    });

    /** Starts the CLI with `env` and returns its stdout lines once the token line is printed. */
    async function dev(env: Record<string, string>): Promise<string[]> {
      const lines: string[] = [];
      const stderr: string[] = [];
      child = spawn(TSX, ['local/cli/main.ts', '--port', '0', '--parameter-overrides', 'AuthMode=jwt', `AllowedOrigins=${ORIGIN}`], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...QUIET_ENV, PORT: '', JWT_DEV_SECRET: '', ...env },
      });
      child.stdout.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n')));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
      await eventually(() => lines.some((l) => l.includes('npm run token')) || child?.exitCode !== null, 'the token line', 60_000);
      if (!lines.some((l) => l.includes('npm run token'))) throw new Error(`no token line: ${lines.join('\n')}${stderr.join('')}`);
      return lines;
    }
    const urlOf = (lines: string[]) => (/ws:\/\/\S+/.exec(lines.join('\n')) as RegExpExecArray)[0];

    it('generates a secret, prints it with the command to mint a token, and accepts that token', async () => {
      const lines = await dev({});
      const command = lines.find((l) => l.includes('npm run token')) as string;
      const secret = (/JWT_DEV_SECRET=(\S+) npm run token/.exec(command) as RegExpExecArray)[1];
      expect(Buffer.byteLength(secret)).to.be.at.least(32);
      // The printed command, as printed (its arguments after `npm run token --`).
      const args = command.slice(command.indexOf('npm run token -- ') + 'npm run token -- '.length);
      // Split as the shell would: a quoted argument ('news user:alice') is one.
      const token = await mint(
        secret,
        (args.match(/'[^']*'|\S+/g) ?? []).map((a) => a.replace(/^'|'$/g, '')),
      );
      expect(await joinNews(urlOf(lines), token)).to.include({ type: 'joined', channel: 'news' });
      expect(await refusedStatus(urlOf(lines), { origin: ORIGIN })).to.equal(401);
    });

    it('takes JWT_DEV_SECRET from the environment and does not print it', async () => {
      const lines = await dev({ JWT_DEV_SECRET: SECRET });
      expect(lines.join('\n')).to.not.include(SECRET);
      const token = await mint(SECRET, ['--sub', 'bob', '--channels', 'news']);
      expect(await joinNews(urlOf(lines), token)).to.include({ type: 'joined', channel: 'news' });
      expect(await refusedStatus(`${urlOf(lines)}?token=${await wrongSecretToken()}`, { origin: ORIGIN })).to.equal(401);
    });
  });
});
