/**
 * `npm run invoke` (scripts/invoke.ts) as a user runs it: one function, one sample event from
 * events/, on the local stack's runtime and DynamoDB, no Docker. The result is the function's
 * own (read back from DynamoDB where it wrote), its logs go to stderr, a function error exits 1
 * and a bad command line exits 2 in one line.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import { type LocalDynamoDB, startDynamoDB } from '../../local/dynamodb/dynalite.js';
import { REPO_ROOT } from '../local/support.js';

const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs scripts/invoke.ts with `args`, `stdin` as its input. */
function invoke(args: string[], stdin?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      TSX,
      ['scripts/invoke.ts', ...args],
      { cwd: REPO_ROOT, env: { ...process.env, POWERTOOLS_METRICS_DISABLED: 'true', JWT_DEV_SECRET: '' }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
    child.stdin?.end(stdin ?? '');
  });
}

const noStackTrace = (text: string) => expect(text).to.not.match(/\n\s+at /);

describe('npm run invoke', function () {
  this.timeout(150_000);

  it('runs PublishFunction with events/publish.json and prints its result as JSON', async () => {
    const run = await invoke(['PublishFunction', 'events/publish.json']);
    expect(run.code, run.stderr).to.equal(0);
    const result = JSON.parse(run.stdout);
    // A fresh table: the channel's first message, and nobody subscribed to deliver it to.
    expect(result).to.include({ seq: 1, subscribers: 0, delivered: 0, complete: true });
    expect(result.published).to.have.length(1);
    expect(result.published[0]).to.include({ channel: 'news', seq: 1 });
  });

  it('runs JoinChannelFunction with events/joinchannel.json and events/env.json, saying which variables it did not apply', async () => {
    const run = await invoke(['JoinChannelFunction', 'events/joinchannel.json', '--env-vars', 'events/env.json']);
    expect(run.code, run.stderr).to.equal(0);
    expect(JSON.parse(run.stdout)).to.deep.equal({ statusCode: 200 });
    expect(run.stderr).to.match(/--env-vars: AWS_ENDPOINT_URL_DYNAMODB not set: not declared for JoinChannelFunction/);
    expect(run.stderr).to.match(/--env-vars: TABLE_NAME, CONNECTIONS_ENDPOINT kept/);
  });

  describe('against a given DynamoDB (--dynamodb-endpoint)', () => {
    let db: LocalDynamoDB;
    before(async () => {
      db = await startDynamoDB([], undefined, () => undefined);
    });
    after(() => db?.stop());

    it('keeps state between runs: the second publish to a channel is its seq 2', async () => {
      const first = await invoke(['PublishFunction', 'events/publish.json', '--dynamodb-endpoint', db.endpoint]);
      expect(first.code, first.stderr).to.equal(0);
      const second = await invoke(
        ['airwave-local-PublishFunction', '-', '--dynamodb-endpoint', db.endpoint],
        '{"channel":"news","message":"again"}',
      );
      expect(second.code, second.stderr).to.equal(0);
      expect(JSON.parse(first.stdout)).to.include({ seq: 1 });
      expect(JSON.parse(second.stdout)).to.include({ seq: 2 });
    });
  });

  it('applies --parameter-overrides, and exits 1 with the function error as the result when it fails', async () => {
    const run = await invoke(['PublishFunction', 'events/publish.json', '--parameter-overrides', 'MaxMessageBytes=8', 'LogLevel=DEBUG']);
    expect(run.code).to.equal(1);
    const error = JSON.parse(run.stdout);
    expect(error.errorType).to.be.a('string').and.not.equal('Runtime.ExitError');
    expect(`${error.errorType} ${error.errorMessage}`).to.match(/large|bytes|size/i);
    expect(run.stderr).to.match(/invoke: PublishFunction failed/);
    // The function's own log lines, prefixed with its logical id.
    expect(run.stderr).to.match(/^\[PublishFunction\] /m);
  });

  it('prints the usage for --help and exits 0', async () => {
    const run = await invoke(['--help']);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(/^Usage: npm run invoke/);
    for (const flag of ['--parameter-overrides', '--env-vars', '--dynamodb-endpoint', '--template']) expect(run.stdout).to.include(flag);
  });

  for (const [args, message] of [
    [
      ['NoSuchFunction', 'events/publish.json'],
      /no function NoSuchFunction in the template; functions: AuthorizerFunction, .*PublishFunction/,
    ],
    [['PublishFunction', 'events/missing.json'], /event file events\/missing.json does not exist/],
    [['PublishFunction', 'package-lock.json', '--env-vars', 'events/nope.json'], /env-vars file events\/nope.json does not exist/],
    [['PublishFunction', 'README.md'], /event file README.md is not JSON/],
    [['PublishFunction'], /give the event/],
    [[], /name the function to run/],
    [['PublishFunction', 'events/publish.json', '--bogus'], /Unknown option '--bogus'/],
    [['PublishFunction', 'events/publish.json', '--parameter-overrides', 'AuthMode=maybe'], /AuthMode/],
    [['PublishFunction', 'events/publish.json', '--parameter-overrides'], /--parameter-overrides needs Key=Value pairs/],
  ] as Array<[string[], RegExp]>) {
    it(`exits 2 with one line for ${args.join(' ') || 'no arguments'}`, async () => {
      const run = await invoke(args);
      expect(run.code, run.stderr).to.equal(2);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.match(message);
      expect(run.stderr.trim().split('\n')).to.have.length(1);
      noStackTrace(run.stderr);
    });
  }
});
