import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { type AddressInfo, connect } from 'node:net';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'chai';
import dynalite from 'dynalite';
import { eventually, QUIET_ENV, REPO_ROOT, TestClient, WAIT_MS } from '../support.js';

const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const WSCAT = join(REPO_ROOT, 'node_modules', '.bin', 'wscat');

interface Cli {
  child: ChildProcessWithoutNullStreams;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
  readyLine(): Promise<string>;
}

/** Runs `tsx local/cli/main.ts` (or `command`) with its output collected line by line, in its own process group. */
function runCli(args: string[], command: string[] = [TSX, 'local/cli/main.ts']): Cli {
  const env = { ...process.env, ...QUIET_ENV, PORT: '', npm_config_update_notifier: 'false' };
  const child = spawn(command[0], [...command.slice(1), ...args], { cwd: REPO_ROOT, env, detached: true });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const collect = (into: string[]) => {
    let partial = '';
    return (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      into.push(...lines);
    };
  };
  child.stdout.on('data', collect(stdout));
  child.stderr.on('data', collect(stderr));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const readyLine = async () => {
    await eventually(() => stdout.some((l) => l.includes('ws://')) || child.exitCode !== null, 'the ready line', 60_000);
    const line = stdout.find((l) => l.includes('ws://'));
    if (!line) throw new Error(`the CLI exited with ${child.exitCode}: ${stderr.join('\n')}`);
    return line;
  };
  return { child, stdout, stderr, exited, readyLine };
}

const wsUrlOf = (line: string) => (/ws:\/\/\S+/.exec(line) as RegExpExecArray)[0];

/** True while something accepts TCP connections on 127.0.0.1:`port`. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(true));
    socket.once('error', () => resolve(false));
    socket.unref();
  }).finally(() => undefined);

/** True while any process of the group `pgid` exists. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('local/cli', function () {
  this.timeout(120_000);
  const started: Cli[] = [];
  afterEach(function () {
    if (this.currentTest?.state === 'failed') for (const c of started) process.stderr.write(`${c.stderr?.join('\n')}\n`);
    // Each CLI is its own process group (tsx and the node it starts; npm, its shell and node): kill what is left of it.
    for (const c of started.splice(0)) if (c.child.pid && groupAlive(c.child.pid)) process.kill(-c.child.pid, 'SIGKILL');
  });
  const cli = (args: string[], command?: string[]) => {
    const c = runCli(args, command);
    started.push(c);
    return c;
  };

  it('prints a ready line whose first URL is the WebSocket URL, listens on it, and exits 0 on SIGTERM', async () => {
    const run = cli(['--port', '0', '--parameter-overrides', 'AllowedOrigins=*', 'AuthMode=none']);
    const line = await run.readyLine();
    expect(line).to.not.include('\u001b'); // no colour codes
    const first = /[a-z]+:\/\/\S*/.exec(line)?.[0];
    expect(first).to.match(/^ws:\/\/127\.0\.0\.1:\d+\/dev$/);
    expect(line).to.match(/ws:\/\/127\.0\.0\.1:\d+\/dev(\s|$)/);
    const later = run.stdout.slice(run.stdout.indexOf(line) + 1).join('\n');
    expect(later).to.include(`${first?.replace('ws://', 'http://').replace(/\/dev$/, '')}/dev/@connections`);
    const client = await TestClient.connect(wsUrlOf(line));
    run.child.kill('SIGTERM');
    expect(await run.exited).to.equal(0);
    expect((await client.closed).code).to.equal(1001);
  });

  it('stops, freeing its port, when `npm run dev` gets SIGTERM (npm passes it to its shell, which dies without passing it on)', async () => {
    const run = cli(['--port', '0', '--parameter-overrides', 'AuthMode=none'], ['npm', 'run', '--silent', 'dev', '--']);
    const url = wsUrlOf(await run.readyLine());
    const port = Number(new URL(url).port);
    const client = await TestClient.connect(url);
    expect(await listening(port)).to.equal(true);

    // What a process manager or `kill <pid>` does: SIGTERM to npm alone, which forwards it to its child.
    process.kill(run.child.pid as number, 'SIGTERM');
    await eventually(async () => !(await listening(port)), 'the port free', 5_000);
    expect((await client.closed).code, 'closed by the stack, as on shutdown').to.equal(1001);
    // Then it exits, once $disconnect has run (its function may still be starting on a loaded machine).
    await eventually(() => !groupAlive(run.child.pid as number), 'every process of npm run dev gone', 30_000);
  });

  it('runs $disconnect for open connections before exiting on SIGINT', async () => {
    const db = dynalite({ createTableMs: 0 });
    await new Promise<void>((resolve) => db.listen(0, '127.0.0.1', () => resolve()));
    const endpoint = `http://127.0.0.1:${(db.address() as AddressInfo).port}`;
    const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const doc = DynamoDBDocumentClient.from(client);
    try {
      const run = cli(['--port', '0', '--dynamodb-endpoint', endpoint]);
      const ws = await TestClient.connect(`${wsUrlOf(await run.readyLine())}?channels=leaving`);
      ws.send({ action: 'joinchannel', channel: 'leaving2' });
      const id = String((await ws.waitFor((f) => f.type === 'joined', 'join ack')).connectionId);
      const rows = async () =>
        (
          await doc.send(
            new QueryCommand({
              TableName: 'airwave-local-Table',
              KeyConditionExpression: 'pk = :pk',
              ExpressionAttributeValues: { ':pk': `c#${id}` },
            }),
          )
        ).Count;
      expect(await rows()).to.equal(4); // the connection row; default, leaving, leaving2
      run.child.kill('SIGINT');
      expect(await run.exited).to.equal(0);
      expect(await rows()).to.equal(0);
    } finally {
      client.destroy();
      await new Promise<void>((resolve) => db.close(() => resolve()));
    }
  });

  it('refuses an unknown parameter, naming the template parameters, with exit code 1', async () => {
    const run = cli(['--port', '0', '--parameter-overrides', 'NoSuchParameter=1']);
    expect(await run.exited).to.equal(1);
    expect(run.stderr.join('\n')).to.match(/unknown parameter "NoSuchParameter"; the template's parameters are: StageName, AllowedOrigins/);
    expect(run.stdout.join('\n')).to.not.include('ws://');
  });

  it('lets wscat connect and exchange a join and a message', async () => {
    const run = cli(['--port', '0']);
    const url = wsUrlOf(await run.readyLine());
    const wscat = spawn(WSCAT, ['-c', url], { cwd: REPO_ROOT, detached: true });
    started.push({ child: wscat } as unknown as Cli);
    let printed = '';
    wscat.stdout.on('data', (chunk: Buffer) => {
      printed += chunk.toString();
    });
    // wscat reads stdin only once connected: wait until the stack sees the connection.
    const httpUrl = url.replace('ws://', 'http://').replace(/\/dev$/, '');
    await eventually(
      async () => ((await (await fetch(`${httpUrl}/_local/stats`)).json()) as { connections: { real: number } }).connections.real === 1,
      'wscat connected',
    );
    wscat.stdin.write('{"action":"joinchannel","channel":"wscat"}\n');
    await eventually(() => printed.includes('"type":"joined"'), 'wscat printing the join ack');

    const peer = await TestClient.connect(url);
    peer.send({ action: 'joinchannel', channel: 'wscat' });
    await peer.waitFor((f) => f.type === 'joined', 'peer join ack');
    peer.send({ action: 'sendmessage', channel: 'wscat', message: 'hello wscat' });
    await eventually(() => printed.includes('"message":"hello wscat"'), 'wscat printing the message', WAIT_MS);
    wscat.stdin.write('{"action":"sendmessage","channel":"wscat","message":"hello peer"}\n');
    await peer.waitFor((f) => f.type === 'message' && f.message === 'hello peer', "wscat's message");
    peer.close();
    wscat.stdin.end();
  });
});
