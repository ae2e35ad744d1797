/**
 * Issue 9 end to end: the resource bounds a script with a socket (and a token) must not get past,
 * on the local stack over real sockets. Each test is an attack that worked before the fix:
 * - the channel cap was a count followed by a separate write (1,000 concurrent joins of one
 *   connection left 1,001 rows);
 * - the publish budget was per socket (a reconnect or a second socket got a fresh one);
 * - joins and publishes still running when a socket closed wrote after `$disconnect` had deleted
 *   the connection's rows (10 killed sockets left 203 rows).
 */
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { expect } from 'chai';
import WebSocket from 'ws';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { type Frame, openClient, sleep, type TestClient } from '../helpers/ws-client.js';

/** Waits until `check` holds, polling; fails with `what` after `timeoutMs`. */
async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('abuse bounds end to end (issue 9)', function () {
  this.timeout(120_000);
  let stack: LocalStack;
  let ddb: DynamoDBClient;
  const clients: TestClient[] = [];
  /** The functions' WARN and ERROR lines (the default configuration's level). */
  const warnings: string[] = [];
  const open = async (query = '', localAddress?: string): Promise<TestClient> => {
    const client = await openClient(`${stack.url}${query}`, { localAddress });
    clients.push(client);
    return client;
  };

  before(async () => {
    stack = await startLocalStack({
      parameterOverrides: {
        AuthMode: 'none',
        DefaultChannel: '',
        MaxChannelsPerConnection: '50',
        PublishPerMinute: '10',
        PrincipalPublishPerMinute: '25',
        // These attacks are bursts of frames from one socket: the flood guard would close the
        // socket first (test/e2e/abuse-flood.test.ts); here the bounds behind it are tried.
        FrameRateLimit: '0',
      },
      environment: { POWERTOOLS_LOG_LEVEL: process.env.SHOW_FN ? 'INFO' : 'WARN', POWERTOOLS_METRICS_DISABLED: 'true' },
      log: () => {},
      functionLog: (id, line) => {
        if (/"level":"(WARN|ERROR)"/.test(line)) warnings.push(line);
        if (process.env.SHOW_FN) console.log(id, line.slice(0, 400));
      },
    });
    ddb = new DynamoDBClient({
      endpoint: stack.dynamodbEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  after(async () => {
    ddb?.destroy();
    await stack?.stop();
  });

  /** Every row of the table (a test may Scan; the service never does). */
  async function rows(): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, never> | undefined;
    do {
      const out = await ddb.send(new ScanCommand({ TableName: Object.values(stack.tables)[0], ExclusiveStartKey }));
      items.push(...(out.Items ?? []).map((i) => unmarshall(i)));
      ExclusiveStartKey = out.LastEvaluatedKey as Record<string, never> | undefined;
    } while (ExclusiveStartKey);
    return items;
  }
  const rowsOf = async (connectionId: string) => (await rows()).filter((r) => r.pk === `c#${connectionId}`);

  async function connectionIdOf(client: TestClient, channel = 'whoami'): Promise<string> {
    client.send({ action: 'joinchannel', channel });
    return String((await client.next((f) => f.type === 'joined' && f.channel === channel)).connectionId);
  }

  it('1,000 concurrent joins of one connection leave at most 50 subscriptions', async () => {
    const client = await open();
    const id = await connectionIdOf(client, 'c0');
    for (let i = 1; i <= 1000; i++) client.send({ action: 'joinchannel', channel: `c${i}` });
    // Every frame is answered: an ack, a refusal, or (on a loaded machine, where the local stack
    // runs all 1,000 invocations in one worker) API Gateway's bare error for a timed-out function.
    // The bound must hold whichever way each join ended.
    await until(() => client.frames.length >= 1000, '1,000 answers', 120_000);
    const subscriptions = (await rowsOf(id)).filter((r) => String(r.sk).startsWith('m#'));
    const joined = client.frames.filter((f) => f.type === 'joined').length + 1;
    const refused = client.frames.filter((f) => f.code === 'too_many_channels');
    console.log(`      1,000 concurrent joins: ${subscriptions.length} subscription rows, ${joined} joined, ${refused.length} refused`);
    expect(subscriptions.length).to.be.at.most(50);
    expect(joined).to.be.at.most(subscriptions.length);
    if (refused.length > 0) expect(refused[0]).to.include({ limit: 50 });
  });

  it('the publish budget is per principal: a reconnect and 3 more sockets of one source IP share 25 a minute', async () => {
    const reader = await open('?channels=budget', '127.0.0.9');
    const sent: Frame[] = [];
    const attempt = async (client: TestClient, n: number): Promise<void> => {
      for (let i = 0; i < n; i++) client.send({ action: 'sendmessage', channel: 'budget', message: i });
      await until(() => client.frames.filter((f) => f.type === 'sent' || f.code === 'rate_limited').length >= n, `${n} answers`);
      sent.push(...client.frames.filter((f) => f.type === 'sent' || f.code === 'rate_limited'));
    };
    // Same source address: one principal with AuthMode=none.
    const first = await open('', '127.0.0.7');
    await attempt(first, 10);
    await first.close();
    const again = await open('', '127.0.0.7');
    await attempt(again, 10);
    const more = [await open('', '127.0.0.7'), await open('', '127.0.0.7'), await open('', '127.0.0.7')];
    await Promise.all(more.map((c) => attempt(c, 10)));
    const accepted = sent.filter((f) => f.type === 'sent').length;
    const refused = sent.filter((f) => f.code === 'rate_limited');
    console.log(`      5 sockets of one IP tried 50 publishes: ${accepted} accepted, ${refused.length} rate_limited`);
    // Windows are per minute: a run that straddles a minute boundary may get one more window.
    expect(accepted).to.be.at.most(50 - refused.length);
    expect(accepted).to.be.within(20, 25 * 2);
    expect(refused.some((f) => f.scope === 'principal')).to.equal(true);
    // Another IP has its own budget.
    const other = await open('', '127.0.0.8');
    other.send({ action: 'sendmessage', channel: 'budget', message: 'other' });
    expect(await other.next((f) => f.type === 'sent' || f.type === 'error')).to.include({ type: 'sent' });
    await until(() => reader.frames.length >= accepted + 1, 'deliveries');
    expect(reader.frames.length).to.equal(accepted + 1);
  });

  it('10 sockets killed mid-burst of joins and publishes leave 0 rows once in-flight work settles', async () => {
    const ids: string[] = [];
    const sockets: TestClient[] = [];
    for (let s = 0; s < 10; s++) {
      const client = await open('', `127.0.1.${s + 1}`);
      ids.push(await connectionIdOf(client, 'start'));
      sockets.push(client);
    }
    for (const client of sockets) {
      for (let i = 0; i < 30; i++) {
        client.send({ action: 'joinchannel', channel: `burst${i}`, since: 0 });
        client.send({ action: 'sendmessage', channel: `burst${i}`, message: i });
      }
    }
    // Killed at staggered times, while their frames are being processed (the window in which a
    // write used to land after $disconnect).
    for (const client of sockets) {
      await sleep(40);
      client.ws.terminate();
    }
    // Settle: every $disconnect and every frame already sent has run to its end.
    const running = () => Object.values(stack.runtime.stats()).reduce((sum, f) => sum + f.running, 0);
    await sleep(500);
    await until(() => running() === 0, 'in-flight work to settle', 90_000);
    const left = (await rows()).filter((r) => ids.some((id) => r.pk === `c#${id}`));
    // A join whose storage calls were cut by its deadline (a loaded host) may leave its row: it
    // says so at WARN ("could not undo a failed join; its row expires by TTL"), and the row's TTL
    // bounds it. Every other row left is the bug this test attacks (203 rows before its fix).
    const undone = new Set(warnings.filter((w) => w.includes('could not undo')).map((w) => /"connectionId":"([^"]+)"/.exec(w)?.[1]));
    const unexplained = left.filter((r) => !undone.has(String(r.pk).slice(2)));
    console.log(`      10 killed sockets: ${left.length} rows left, ${left.length - unexplained.length} of them logged as not undone`);
    expect(unexplained.map((r) => `${r.pk} ${r.sk}`)).to.deep.equal([]);
    expect(sockets.every((c) => c.ws.readyState === WebSocket.CLOSED)).to.equal(true);
  });

  it('FanoutFunction invoked directly with forged events posts nothing and answers a FunctionError', async () => {
    const reader = await open('?channels=private:bank');
    const id = await connectionIdOf(reader);
    const forged = [
      { channel: 'private:bank', frame: 'not json', ids: [id], ratePerSecond: 10, burst: 1 },
      { channel: 'private:bank', frame: 'x'.repeat(100 * 1024), ids: [id], ratePerSecond: 10, burst: 1 },
      {
        channel: 'private:bank',
        frame: JSON.stringify({ type: 'message', channel: 'private:bank', message: 'wire $1M to mallory', id: 'forged', seq: 1 }),
        ids: [id],
        ratePerSecond: 1e12,
        burst: 1e12,
      },
      { channel: 'private:bank', frame: '{}', ids: Array.from({ length: 30_000 }, () => id), ratePerSecond: 10, burst: 1 },
    ];
    for (const event of forged) {
      const res = await fetch(`${stack.httpUrl}/2015-03-31/functions/FanoutFunction/invocations`, {
        method: 'POST',
        body: JSON.stringify(event),
      });
      expect(res.headers.get('x-amz-function-error'), JSON.stringify(event).slice(0, 80)).to.equal('Unhandled');
      expect(((await res.json()) as { errorType?: string }).errorType).to.equal('InvalidFanoutBatchError');
    }
    await sleep(300);
    expect(reader.frames).to.deep.equal([]);
  });
});
