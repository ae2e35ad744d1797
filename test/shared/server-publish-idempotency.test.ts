/**
 * Backend publishes with an idempotencyKey (issue 10, item 3), run for real against dynalite with
 * the template's IdempotencyTable: repeats publish once, a partial failure reports exactly what
 * went out and a retry publishes only the remainder, with the ids the first attempt used.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'chai';
import { openConnection } from '../../shared/connection-store.js';
import { configure } from '../../shared/dependencies.js';
import {
  messageIdFor,
  PROGRESS_WRITE_INTERVAL_MS,
  ProgressLog,
  parseIdempotencyKey,
  progressKey,
  readProgress,
  requestDigest,
} from '../../shared/publish-idempotency.js';
import { type PublishResponse, publishRequest } from '../../shared/server-publish.js';
import { markSkipped } from '../../shared/store.js';
import { startBackend, type TestBackend } from '../helpers/stack.js';
import { loadTemplate } from '../helpers/template.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const codeOf = async (p: Promise<unknown>): Promise<string | undefined> =>
  p.then(
    () => undefined,
    (e) => (e as { code?: string }).code ?? (e as Error).name,
  );

describe('shared/server-publish idempotency', () => {
  let backend: TestBackend;
  /** Channels whose next sequence number fails (a throttled UpdateItem after the SDK's retries). */
  const failing = new Set<string>();
  let keyN = 0;
  const nextKey = () => `key-${++keyN}-${Date.now()}`;
  const frames = (id: string) => backend.api.frames(id).filter((f) => f.type === 'message');

  before(async () => {
    backend = await startBackend({ IDEMPOTENCY_TABLE: 'idempotency-test', PUBLISH_IDEMPOTENCY_MINUTES: '60' });
    const props = loadTemplate().Resources.IdempotencyTable.Properties;
    await backend.db.client.send(
      new CreateTableCommand({
        TableName: 'idempotency-test',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: props.AttributeDefinitions,
        KeySchema: props.KeySchema,
      }),
    );
    configure({ clients: { idempotency: backend.db.client } });
    const real = backend.db.doc;
    const faulty = {
      send(command: { input?: { Key?: { pk?: string } } }) {
        const pk = command.input?.Key?.pk;
        if (pk?.startsWith('s#') && failing.has(pk.slice(2))) {
          return Promise.reject(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }));
        }
        return real.send(command as never);
      },
      destroy() {},
    };
    configure({ clients: { ddb: faulty as unknown as DynamoDBDocumentClient } });
    await openConnection('a=', ['news', 'sport', 'quiet'], Date.now());
    await openConnection('b=', ['news'], Date.now());
  });
  after(async () => {
    configure({ clients: { idempotency: undefined } });
    await backend.stop();
  });
  beforeEach(() => {
    backend.api.posts.length = 0;
    failing.clear();
  });

  describe('the key', () => {
    it('accepts 1-128 printable ASCII characters and nothing else (bad_request)', async () => {
      expect(parseIdempotencyKey(undefined)).to.equal(undefined);
      expect(parseIdempotencyKey('order-42:v2')).to.equal('order-42:v2');
      expect(parseIdempotencyKey('k'.repeat(128))).to.have.length(128);
      for (const bad of ['', 'k'.repeat(129), 'has space', 'é', 42, {}, ['k']]) {
        expect(() => parseIdempotencyKey(bad), JSON.stringify(bad))
          .to.throw()
          .with.property('code', 'bad_request');
      }
      expect(await codeOf(publishRequest({ channel: 'news', message: 1, idempotencyKey: 7 }))).to.equal('bad_request');
      expect(backend.api.posts).to.deep.equal([]);
    });

    it('derives message ids from the whole request, the channel and the index', () => {
      const d = requestDigest('k', ['news'], ['one', 'two']);
      expect(messageIdFor(d, 'news', 0)).to.equal(messageIdFor(requestDigest('k', ['news'], ['one', 'two']), 'news', 0));
      expect(messageIdFor(d, 'news', 0)).to.match(/^[A-Za-z0-9_-]{16}$/);
      const others = [
        messageIdFor(d, 'news', 1),
        messageIdFor(d, 'sport', 0),
        messageIdFor(requestDigest('k2', ['news'], ['one', 'two']), 'news', 0),
        messageIdFor(requestDigest('k', ['news'], ['one', 'three']), 'news', 0),
      ];
      expect(new Set([messageIdFor(d, 'news', 0), ...others]).size).to.equal(5);
    });
  });

  it('records progress in a few background rounds, not a write per message, and flush() writes the rest at once', async () => {
    const counted = new DynamoDBClient({
      endpoint: backend.db.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    let puts = 0;
    counted.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === 'PutItemCommand') puts++;
        return next(args);
      },
      { step: 'initialize', name: 'countPuts' },
    );
    configure({ clients: { idempotency: counted } });
    try {
      const digest = requestDigest(nextKey(), ['news'], ['x']);
      const log = new ProgressLog(digest, new Map());
      for (let i = 0; i < 50; i++) {
        log.record('news', i, 100 + i);
        await sleep(2);
      }
      const started = Date.now();
      await log.flush();
      expect(Date.now() - started, 'flush does not wait for the interval').to.be.lessThan(PROGRESS_WRITE_INTERVAL_MS);
      expect(puts).to.be.within(1, 3);
      const progress = await readProgress(digest, ['news', 'sport']);
      expect(progress.get('news')).to.deep.equal(Array.from({ length: 50 }, (_, i) => 100 + i));
      expect(progress.has('sport')).to.equal(false);
    } finally {
      configure({ clients: { idempotency: backend.db.client } });
      counted.destroy();
    }
  });

  it('publishes a repeated request once and answers the repeat with the first answer', async () => {
    const request = { channels: ['news', 'sport'], messages: ['one', 'two'], idempotencyKey: nextKey() };
    const first = await publishRequest(request);
    const second = await publishRequest(request);
    expect(first).to.include({ complete: true, delivered: 6 });
    expect(second).to.include({ complete: true, replayed: true, delivered: 6 });
    const pick = (r: PublishResponse) => r.published.map((p) => [p.channel, p.index, p.id, p.seq]);
    expect(pick(second)).to.deep.equal(pick(first));
    expect(frames('a=').map((f) => f.message)).to.deep.equal(['one', 'two', 'one', 'two']);
    expect(frames('b=')).to.have.length(2);
  });

  it('without a key, publishes every invocation (identical publishes are not merged)', async () => {
    await publishRequest({ channel: 'news', message: 'tick' });
    await publishRequest({ channel: 'news', message: 'tick' });
    const ids = frames('b=').map((f) => f.id);
    expect(ids).to.have.length(2);
    expect(ids[0]).to.not.equal(ids[1]);
  });

  it('lets a repeat that arrives while the first runs wait for it, and publishes once', async () => {
    const request = { channel: 'news', message: 'concurrent', idempotencyKey: nextKey() };
    const [x, y] = await Promise.all([publishRequest(request), publishRequest(request)]);
    expect(x.id).to.equal(y.id);
    expect(x.seq).to.equal(y.seq);
    expect([x.replayed, y.replayed].filter(Boolean)).to.have.length(1);
    expect(frames('a=')).to.have.length(1);
    expect(frames('b=')).to.have.length(1);
  });

  it('refuses the same key with another request (idempotency_conflict), publishing nothing', async () => {
    const key = nextKey();
    await publishRequest({ channel: 'news', message: 'first', idempotencyKey: key });
    backend.api.posts.length = 0;
    expect(await codeOf(publishRequest({ channel: 'news', message: 'other', idempotencyKey: key }))).to.equal('idempotency_conflict');
    expect(backend.api.posts).to.deep.equal([]);
  });

  it('reports exactly what went out when a message fails, and a retry publishes only the remainder', async () => {
    const request = { channels: ['news', 'sport', 'quiet'], messages: ['m0', 'm1'], idempotencyKey: nextKey() };
    failing.add('sport');
    const partial = await publishRequest(request);
    expect(partial.complete).to.equal(false);
    expect(partial.published.map((p) => [p.channel, p.index])).to.deep.equal([
      ['news', 0],
      ['news', 1],
    ]);
    expect(partial.unpublished.map((u) => [u.channel, u.index, u.status])).to.deep.equal([
      ['sport', 0, 'failed'],
      ['sport', 1, 'not_attempted'],
      ['quiet', 0, 'not_attempted'],
      ['quiet', 1, 'not_attempted'],
    ]);
    expect(frames('a=').map((f) => [f.channel, f.message])).to.deep.equal([
      ['news', 'm0'],
      ['news', 'm1'],
    ]);

    failing.clear();
    backend.api.posts.length = 0;
    const retry = await publishRequest(request);
    expect(retry.complete).to.equal(true);
    expect(retry.unpublished).to.deep.equal([]);
    // news went out before: reported with its first seqs, not re-sent.
    expect(retry.published.filter((p) => p.earlier).map((p) => [p.channel, p.index, p.seq])).to.deep.equal(
      partial.published.map((p) => [p.channel, p.index, p.seq]),
    );
    expect(frames('b=')).to.deep.equal([]);
    expect(frames('a=').map((f) => [f.channel, f.message])).to.deep.equal([
      ['sport', 'm0'],
      ['sport', 'm1'],
      ['quiet', 'm0'],
      ['quiet', 'm1'],
    ]);
    // The ids are the ones the first attempt reported (and would have used).
    const firstIds = new Map([...partial.published, ...partial.unpublished].map((p) => [`${p.channel}/${p.index}`, p.id]));
    for (const p of retry.published) expect(p.id, `${p.channel}/${p.index}`).to.equal(firstIds.get(`${p.channel}/${p.index}`));
    // Finished now: a third call is a replay.
    backend.api.posts.length = 0;
    expect(await publishRequest(request)).to.include({ complete: true, replayed: true });
    expect(backend.api.posts).to.deep.equal([]);
  });

  it('stops starting messages when the invocation is about to time out, and says which did not go out', async () => {
    const request = { channel: 'news', messages: ['t0', 't1', 't2'], idempotencyKey: nextKey() };
    let remaining = 60_000;
    const context = { getRemainingTimeInMillis: () => remaining };
    // After the first message, only 1 s is left: too little to start another.
    const partial = await publishRequest(request, {
      getRemainingTimeInMillis: () => (backend.api.posts.length > 0 ? 1_000 : remaining),
    });
    expect(partial.complete).to.equal(false);
    expect(partial.published.map((p) => p.index)).to.deep.equal([0]);
    expect(partial.unpublished.map((u) => [u.index, u.status])).to.deep.equal([
      [1, 'not_attempted'],
      [2, 'not_attempted'],
    ]);
    remaining = 60_000;
    backend.api.posts.length = 0;
    const retry = await publishRequest(request, context);
    expect(retry.complete).to.equal(true);
    expect(frames('b=').map((f) => f.message)).to.deep.equal(['t1', 't2']);
  });

  it('answers publish_in_progress when the first is still running and too little time is left to wait', async () => {
    const request = { channel: 'news', message: 'slow', idempotencyKey: nextKey() };
    backend.api.latencyMs = 400;
    try {
      const first = publishRequest(request);
      await sleep(100);
      const code = await codeOf(publishRequest(request, { getRemainingTimeInMillis: () => 3_100 }));
      expect(code).to.equal('publish_in_progress');
      expect(await first).to.include({ complete: true });
    } finally {
      backend.api.latencyMs = 0;
    }
    expect(frames('b=')).to.have.length(1);
  });

  it('forgets progress rows past their expiration (DynamoDB deletes them late): the request is new again', async () => {
    const key = nextKey();
    const request = { channel: 'news', message: 'expired', idempotencyKey: key };
    const digest = requestDigest(key, ['news'], ['expired']);
    const expiration = Math.floor(Date.now() / 1000) - 10;
    await backend.db.doc.send(
      new PutCommand({ TableName: 'idempotency-test', Item: { id: progressKey(digest, 'news'), seqs: [999], expiration } }),
    );
    const response = await publishRequest(request);
    expect(response.published[0]).to.not.have.property('earlier');
    expect(response.seq).to.not.equal(999);
    expect(frames('b=')).to.have.length(1);
  });

  it('without a key, still reports what went out when a message fails', async () => {
    failing.add('sport');
    const partial = await publishRequest({ channels: ['news', 'sport'], message: 'nokey' });
    expect(partial.complete).to.equal(false);
    expect(partial.published.map((p) => p.channel)).to.deep.equal(['news']);
    expect(partial.unpublished).to.deep.equal([{ channel: 'sport', index: 0, status: 'failed' }]);
  });

  it('a message whose history write came after a replay claimed its seq answers unavailable, and the keyed retry publishes it once', async () => {
    // A replay's settle window passed before this publish stored its message: the replay told
    // clients seq 1 holds nothing (a tombstone). The publish must not deliver it, and must say
    // "retry", not internal_error.
    await openConnection('late=', ['late'], Date.now());
    expect(await markSkipped('late', 1)).to.equal(true);
    const request = { channel: 'late', message: 'slow', idempotencyKey: nextKey() };
    const first = (await publishRequest(request)) as PublishResponse;
    expect(first).to.include({ complete: false, code: 'unavailable' });
    expect(first.unpublished).to.have.length(1);
    expect(frames('late=')).to.deep.equal([]);
    const retry = (await publishRequest(request)) as PublishResponse;
    expect(retry).to.include({ complete: true, seq: 2, id: first.unpublished[0].id });
    const again = (await publishRequest(request)) as PublishResponse;
    expect(again).to.include({ replayed: true, seq: 2 });
    expect(frames('late=').map((f) => [f.message, f.seq])).to.deep.equal([['slow', 2]]);
  });
});
