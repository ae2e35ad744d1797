/**
 * Issue 10, backend retries, end to end on the local stack: a backend publish invoked again with
 * the same request and idempotencyKey (by hand, or by the SDK/CLI after its read timeout) reaches
 * every subscriber once. Before idempotency, every invoke published its own copy, with a new id
 * and seq, which clients cannot drop.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { expect } from 'chai';
import type { LocalStack } from '../../local/stack.js';
import { invokePublish, startQuietStack } from '../helpers/quiet-stack.js';
import { openClient, sleep, type TestClient } from '../helpers/ws-client.js';

const SUBSCRIBERS = 20;
/** Posts per second: SUBSCRIBERS / POST_RATE ≈ 1 s per publish, long enough to retry into. */
const POST_RATE = 20;

describe('backend publish retries end to end (issue 10)', function () {
  this.timeout(120_000);
  let stack: LocalStack;
  const clients: TestClient[] = [];

  before(async () => {
    stack = await startQuietStack({ parameterOverrides: { PostRateLimit: String(POST_RATE), PostBurstLimit: '1' } });
    for (let i = 0; i < SUBSCRIBERS; i++) clients.push(await openClient(`${stack.url}?channels=orders`));
  });
  after(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await stack?.stop();
  });

  const invoke = (payload: unknown) => invokePublish(stack, payload);

  /** How many copies of `message` each subscriber got, once the stream has been quiet a while. */
  async function copiesOf(message: string): Promise<number[]> {
    const count = () => clients.map((c) => c.frames.filter((f) => f.type === 'message' && f.message === message).length);
    const end = Date.now() + 15_000;
    while (count().some((n) => n === 0) && Date.now() < end) await sleep(100);
    await sleep(1_500); // a second copy would be at most one publish behind
    return count();
  }

  it('a publish invoked twice with the same request and key delivers one copy to each subscriber', async () => {
    const request = { channel: 'orders', message: 'twice', idempotencyKey: 'e2e-twice' };
    const first = await invoke(request);
    const second = await invoke(request);
    expect(await copiesOf('twice')).to.deep.equal(clients.map(() => 1));
    expect(first).to.include({ complete: true, delivered: SUBSCRIBERS });
    expect(second).to.include({ complete: true, replayed: true, id: first.id, seq: first.seq });
  });

  it('a repeat sent while the first still runs waits for it and delivers no second copy', async () => {
    const request = { channel: 'orders', message: 'overlap', idempotencyKey: 'e2e-overlap' };
    const first = invoke(request);
    await sleep(300); // the first is posting (about 1 s at PostRateLimit)
    const [a, b] = await Promise.all([first, invoke(request)]);
    expect(await copiesOf('overlap')).to.deep.equal(clients.map(() => 1));
    expect(b).to.include({ id: a.id, seq: a.seq });
    // Normally the second waits; under load it may start first and the other one waits.
    expect([a.replayed, b.replayed].filter(Boolean)).to.have.length(1);
  });

  it('the SDK retrying after its read timeout (what `aws lambda invoke` does at 60 s) delivers one copy', async () => {
    // A 400 ms read timeout against a ~1 s publish: the SDK gives up on each attempt and retries it.
    const lambda = new LambdaClient({
      endpoint: stack.httpUrl,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 3,
      requestHandler: new NodeHttpHandler({ requestTimeout: 400, throwOnRequestTimeout: true }),
    });
    let attempts = 0;
    lambda.middlewareStack.add(
      (next) => (args) => {
        attempts++;
        return next(args);
      },
      { step: 'deserialize', name: 'countAttempts' },
    );
    const request = { channel: 'orders', message: 'sdk-retry', idempotencyKey: 'e2e-sdk-retry' };
    const payload = Buffer.from(JSON.stringify(request));
    try {
      await lambda.send(new InvokeCommand({ FunctionName: 'PublishFunction', Payload: payload }));
    } catch (error) {
      // Every attempt may time out: what matters is what the subscribers got.
      if ((error as Error).name !== 'TimeoutError') throw error;
    } finally {
      lambda.destroy();
    }
    expect(attempts, 'the SDK retried the invoke').to.be.greaterThan(1);
    expect(await copiesOf('sdk-retry')).to.deep.equal(clients.map(() => 1));
    // Whatever the SDK saw, the answer is there for the asking, once the first invocation is done.
    const answer = await invoke(request);
    expect(answer).to.include({ complete: true, delivered: SUBSCRIBERS });
  });
});
