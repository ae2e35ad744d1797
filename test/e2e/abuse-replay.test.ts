/**
 * Issues 9 and 10 end to end, on the local stack with an emulated @connections account
 * throttle: a `joinchannel` with `since` must not turn one small frame into one post per history
 * message (amplification), must not lose messages to 429s or to DynamoDB's 1 MB pages, must not
 * report a `history_gap` for a publish that is merely in flight, nor for a `seq` whose message
 * was never stored, and must tell the client when it could not finish.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { expect } from 'chai';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { configure, reset } from '../../shared/dependencies.js';
import { messageFrameText } from '../../shared/protocol.js';
import { newMessageId } from '../../shared/publish.js';
import { appendHistory, nextSequence } from '../../shared/store.js';
import { type Frame, openClient, sleep, type TestClient } from '../helpers/ws-client.js';

const QUIET = { AIRWAVE_LOCAL: '1', POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' };
/** 16,000 bytes of JSON: eight delivery frames of it fit one 128 KB API Gateway message. */
const BIG = 'x'.repeat(15_998);

interface ConnectionsStats {
  posts: number;
  throttled: number;
}

async function startStack(throttleRps: number, throttleBurst: number): Promise<LocalStack> {
  return startLocalStack({
    parameterOverrides: { DefaultChannel: '', HistorySize: '100' },
    environment: QUIET,
    throttleRps,
    throttleBurst,
    log: () => {},
    functionLog: () => {},
  });
}

async function connectionsStats(stack: LocalStack): Promise<ConnectionsStats> {
  const out = (await (await fetch(`${stack.httpUrl}/_local/stats`)).json()) as { connectionsApi: ConnectionsStats };
  return out.connectionsApi;
}

async function resetStats(stack: LocalStack): Promise<void> {
  await fetch(`${stack.httpUrl}/_local/stats`, { method: 'DELETE' });
}

/**
 * Points the shared store at the stack's DynamoDB: the test process then writes like a
 * publisher (same functions, same rows), and can stop one between its two steps.
 */
function useStackTable(stack: LocalStack): void {
  process.env.TABLE_NAME = Object.values(stack.tables)[0];
  const ddb = new DynamoDBClient({
    endpoint: stack.dynamodbEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  configure({ clients: { ddb: DynamoDBDocumentClient.from(ddb) } });
}

function releaseStackTable(): void {
  reset();
  delete process.env.TABLE_NAME;
  configure();
}

/**
 * Stores `count` messages in `channel`'s history as a publish does (sequence number, then
 * history row), ten at a time. The fan-out step is left out: nobody is subscribed yet, and
 * dynalite makes each publish's eight shard Queries slow.
 */
async function publishMany(channel: string, count: number, message: (i: number) => unknown): Promise<void> {
  for (let i = 0; i < count; i += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, count - i) }, async (_, j) => {
        const seq = await nextSequence(channel);
        const id = newMessageId();
        expect(await appendHistory(channel, seq, id, messageFrameText(channel, message(i + j), id, seq))).to.equal(true);
      }),
    );
  }
}

/** Every delivery frame the client got on `channel`, live or inside replay frames, in arrival order. */
function deliveries(client: TestClient, channel: string): Frame[] {
  const out: Frame[] = [];
  for (const frame of client.frames) {
    if (frame.type === 'message' && frame.channel === channel) out.push(frame);
    if (frame.type === 'replay' && frame.channel === channel) out.push(...(frame.messages as Frame[]));
  }
  return out;
}

/** The join's answer: its `joined` ack, or the error frame that took its place. */
function joinAnswer(client: TestClient, channel: string, timeoutMs = 20_000): Promise<Frame> {
  return client.next((f) => f.channel === channel && (f.type === 'joined' || (f.type === 'error' && f.code !== 'history_gap')), timeoutMs);
}

const seqs = (frames: Frame[]): number[] => frames.map((f) => f.seq as number);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('replay end to end: amplification and silent loss (issues 9, 10)', function () {
  this.timeout(120_000);

  describe('under a 50 posts/s account throttle (burst 5)', () => {
    let stack: LocalStack;
    const clients: TestClient[] = [];
    const open = async () => {
      const client = await openClient(stack.url);
      clients.push(client);
      return client;
    };

    before(async () => {
      stack = await startStack(50, 5);
      useStackTable(stack);
    });
    after(async () => {
      await Promise.all(clients.splice(0).map((c) => c.close()));
      releaseStackTable();
      await stack?.stop();
    });

    it('replays 100 messages of 16 KB in at most 13 posts (one 59-byte frame no longer buys 100 posts)', async () => {
      await publishMany('cost', 100, (i) => `${i}:${BIG}`.slice(0, BIG.length));
      const client = await open();
      await resetStats(stack);
      client.send({ action: 'joinchannel', channel: 'cost', since: 0 });
      expect(await joinAnswer(client, 'cost')).to.include({ type: 'joined', seq: 100 });
      const stats = await connectionsStats(stack);
      expect(seqs(deliveries(client, 'cost'))).to.deep.equal(range(1, 100));
      expect(client.frames.filter((f) => f.type === 'error')).to.deep.equal([]);
      expect(stats.posts, `posts for one replay (throttled: ${stats.throttled})`).to.be.at.most(13);
    });

    it('replays 100 small messages in one post', async () => {
      await publishMany('small', 100, (i) => ({ n: i }));
      const client = await open();
      await resetStats(stack);
      client.send({ action: 'joinchannel', channel: 'small', since: 0 });
      await joinAnswer(client, 'small');
      expect(seqs(deliveries(client, 'small'))).to.deep.equal(range(1, 100));
      expect((await connectionsStats(stack)).posts).to.equal(1);
    });

    it('delivers 100 of 100 while the account throttle answers 429 (retried with backoff, never dropped)', async () => {
      await publishMany('throttled', 100, (i) => `${i}:${BIG}`.slice(0, BIG.length));
      // Two replays at once: 26 posts against a bucket of 5 refilled at 50/s.
      const [a, b] = [await open(), await open()];
      await resetStats(stack);
      a.send({ action: 'joinchannel', channel: 'throttled', since: 0 });
      b.send({ action: 'joinchannel', channel: 'throttled', since: 0 });
      expect(await joinAnswer(a, 'throttled')).to.include({ type: 'joined' });
      expect(await joinAnswer(b, 'throttled')).to.include({ type: 'joined' });
      expect(seqs(deliveries(a, 'throttled'))).to.deep.equal(range(1, 100));
      expect(seqs(deliveries(b, 'throttled'))).to.deep.equal(range(1, 100));
      expect((await connectionsStats(stack)).throttled, 'the throttle was hit').to.be.greaterThan(0);
    });

    it('reports no history_gap for a publish that took its seq but has not written its history row yet', async () => {
      await publishMany('race', 3, (i) => ({ n: i + 1 }));
      // A publisher between its two steps: seq 4 is taken, its history row comes 150 ms later.
      const seq = await nextSequence('race');
      const id = newMessageId();
      const client = await open();
      client.send({ action: 'joinchannel', channel: 'race', since: 3 });
      await sleep(150);
      expect(await appendHistory('race', seq, id, messageFrameText('race', { n: 4 }, id, seq))).to.equal(true);
      expect(await joinAnswer(client, 'race')).to.include({ type: 'joined', seq: 4 });
      expect(client.frames.filter((f) => f.type === 'error')).to.deep.equal([]);
      expect(seqs(deliveries(client, 'race'))).to.deep.equal([4]);
    });

    it('reports no history_gap for a fresh channel whose first publish is in flight', async () => {
      const seq = await nextSequence('race-first');
      const client = await open();
      client.send({ action: 'joinchannel', channel: 'race-first', since: 0 });
      await sleep(100);
      const id = newMessageId();
      expect(await appendHistory('race-first', seq, id, messageFrameText('race-first', 'first', id, seq))).to.equal(true);
      expect(await joinAnswer(client, 'race-first')).to.include({ type: 'joined', seq: 1 });
      expect(client.frames.filter((f) => f.type === 'error')).to.deep.equal([]);
      expect(seqs(deliveries(client, 'race-first'))).to.deep.equal([1]);
    });

    it('tells a replaying client that a seq whose message was never stored is skipped, not lost', async () => {
      await publishMany('half', 3, (i) => ({ n: i + 1 }));
      await nextSequence('half'); // seq 4: its publisher died before writing the message
      await publishMany('half', 2, (i) => ({ n: i + 5 }));
      const client = await open();
      client.send({ action: 'joinchannel', channel: 'half', since: 2 });
      expect(await joinAnswer(client, 'half')).to.include({ type: 'joined', seq: 6 });
      expect(client.frames.filter((f) => f.type === 'error')).to.deep.equal([]);
      expect(seqs(deliveries(client, 'half'))).to.deep.equal([3, 5, 6]);
      const skipped = client.frames.filter((f) => f.type === 'replay').flatMap((f) => (f.skipped as number[] | undefined) ?? []);
      expect(skipped).to.deep.equal([4]);
    });
  });

  describe('under a 2 posts/s account throttle (burst 1)', () => {
    let stack: LocalStack;
    const clients: TestClient[] = [];
    before(async () => {
      stack = await startStack(2, 1);
      useStackTable(stack);
    });
    after(async () => {
      await Promise.all(clients.splice(0).map((c) => c.close()));
      releaseStackTable();
      await stack?.stop();
    });

    it('answers replay_incomplete with the last seq delivered when the replay cannot finish in time, and a re-request completes it', async () => {
      const client = await openClient(stack.url);
      clients.push(client);
      await publishMany('slow', 100, (i) => `${i}:${BIG}`.slice(0, BIG.length));
      client.send({ action: 'joinchannel', channel: 'slow', since: 0 });
      const first = await joinAnswer(client, 'slow');
      expect(first).to.include({ type: 'error', code: 'replay_incomplete', channel: 'slow' });
      const lastSeq = first.lastSeq as number;
      expect(seqs(deliveries(client, 'slow'))).to.deep.equal(range(1, lastSeq));
      expect(lastSeq).to.be.within(1, 99);
      client.send({ action: 'joinchannel', channel: 'slow', since: lastSeq });
      let answer = await joinAnswer(client, 'slow');
      for (let tries = 0; answer.code === 'replay_incomplete' && tries < 3; tries++) {
        client.send({ action: 'joinchannel', channel: 'slow', since: answer.lastSeq });
        answer = await joinAnswer(client, 'slow');
      }
      expect(answer).to.include({ type: 'joined', seq: 100 });
      expect(seqs(deliveries(client, 'slow'))).to.deep.equal(range(1, 100));
    });
  });
});
