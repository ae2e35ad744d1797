/**
 * Issue 10 item 4 end to end: DynamoDB stops answering (a proxy in front of dynalite takes every
 * request and never answers). Before the deadlines, a join ended at its function's 10 s Timeout
 * with API Gateway's bare "Internal server error", a sendmessage at API Gateway's 29 s ("Endpoint
 * request timed out") and a PublishFunction invoke at its 120 s Timeout, each possibly still
 * writing after. Now each answers a retryable `unavailable` by its deadline (docs/delivery.md,
 * "Time budgets"), and nothing reaches DynamoDB after the answers.
 */
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import dynalite from 'dynalite';
import type { LocalStack } from '../../local/stack.js';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.js';
import { invokePublish, startQuietStack } from '../helpers/quiet-stack.js';
import { type Frame, openClient, type TestClient } from '../helpers/ws-client.js';

describe('storage faults end to end: DynamoDB hangs (issue 10 item 4)', function () {
  this.timeout(120_000);
  let db: ReturnType<typeof dynalite>;
  let proxy: FaultProxy;
  let stack: LocalStack;
  const clients: TestClient[] = [];

  before(async () => {
    db = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve) => db.listen(0, '127.0.0.1', () => resolve()));
    proxy = await startFaultProxy(`http://127.0.0.1:${(db.address() as AddressInfo).port}`);
    stack = await startQuietStack({ dynamodbEndpoint: proxy.url });
  });
  after(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await stack?.stop();
    await proxy?.close();
    await new Promise<void>((resolve) => db.close(() => resolve()));
  });

  const invoke = (payload: unknown) => invokePublish(stack, payload);

  it('joinchannel, sendmessage and PublishFunction answer unavailable by their deadlines, and write nothing after', async () => {
    const reader = await openClient(`${stack.url}?channels=room`);
    const sender = await openClient(stack.url);
    clients.push(reader, sender);
    // Warm every function first: a cold start under load would be counted in the times below.
    sender.send({ action: 'joinchannel', channel: 'warm' });
    await sender.next((f) => f.type === 'joined', 60_000);
    sender.send({ action: 'sendmessage', channel: 'room', message: 'warm', ref: 'w' });
    await sender.next((f) => f.type === 'sent', 60_000);
    expect(await invoke({ channel: 'room', message: 'warm' })).to.include({ complete: true });

    proxy.hang();
    const started = Date.now();
    const timed = async <T>(p: Promise<T>): Promise<{ value: T; ms: number }> => ({ value: await p, ms: Date.now() - started });
    sender.send({ action: 'joinchannel', channel: 'hung' });
    sender.send({ action: 'sendmessage', channel: 'room', message: 'lost?', ref: 's' });
    const [join, send, publish] = await Promise.all([
      timed(sender.next((f: Frame) => f.channel === 'hung' || (f.type === 'error' && f.ref === undefined), 40_000)),
      timed(sender.next((f: Frame) => f.ref === 's', 40_000)),
      timed(invoke({ channel: 'room', message: 'lost too?' })),
    ]);
    const answered = Date.now();
    console.log(`      DynamoDB hanging: joinchannel ${join.ms} ms, sendmessage ${send.ms} ms, PublishFunction ${publish.ms} ms`);
    expect(join.value).to.include({ type: 'error', code: 'unavailable', retryAfter: 1 });
    expect(send.value).to.include({ type: 'error', code: 'unavailable', ref: 's' });
    expect(publish.value).to.include({ complete: false, code: 'unavailable' });
    // Deadlines: joinchannel 10 s Timeout - 2 s; sendmessage and PublishFunction 20 s; each plus
    // at most GRACE_MS (1.5 s) to undo a half-done write, and some slack for a loaded machine.
    expect(join.ms).to.be.within(7_500, 11_000);
    expect(send.ms).to.be.within(19_500, 24_000);
    expect(publish.ms).to.be.within(19_500, 24_000);

    // Nothing reaches DynamoDB after the answers (no retry, no late write).
    await new Promise((r) => setTimeout(r, 3_000));
    expect(proxy.requestTimes.filter((t) => t > answered)).to.deep.equal([]);
    proxy.pass();
    expect(reader.frames.filter((f) => f.type === 'message').map((f) => f.message)).to.deep.equal(['warm', 'warm']);
  });
});
