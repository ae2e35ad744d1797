/**
 * shared/deadline.ts and the DynamoDB client bound by it (shared/clients.ts): the deadline, not a
 * per-call timeout, ends a call; nested deadlines only shorten; the grace is fresh; a bad
 * ROUTE_DEADLINE_MS is a deploy error.
 */
import { type AddressInfo, createServer, type Server } from 'node:net';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { expect } from 'chai';
import { deadlineBoundDynamoDB } from '../../shared/clients.js';
import {
  currentDeadline,
  GRACE_MS,
  isUnavailable,
  routeDeadline,
  routeDeadlineMs,
  UnavailableError,
  withDeadline,
  withGrace,
  withinDeadline,
} from '../../shared/deadline.js';
import { type FaultProxy, startFaultProxy, startThrottlingEndpoint } from '../helpers/fault-proxy.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const getItem = new GetItemCommand({ TableName: 't', Key: { pk: { S: 'x' }, sk: { S: 'y' } } });

describe('shared/deadline', () => {
  it('ends a call that outlives the deadline with unavailable, and refuses calls after it', async () => {
    const started = Date.now();
    const error = await withDeadline(Date.now() + 100, () => withinDeadline(() => sleep(5_000))).catch((e) => e);
    expect(error).to.be.instanceOf(UnavailableError).with.property('code', 'unavailable');
    expect(Date.now() - started).to.be.below(1_000);
    await withDeadline(Date.now() + 10, async () => {
      await sleep(30);
      let called = false;
      const late = await withinDeadline(async () => {
        called = true;
      }).catch((e) => e);
      expect(late).to.be.instanceOf(UnavailableError);
      expect(called).to.equal(false);
    });
  });

  it('a nested deadline can only shorten the time; the grace is fresh even after the deadline passed', async () => {
    await withDeadline(Date.now() + 200, async () => {
      const outer = currentDeadline()?.at as number;
      await withDeadline(Date.now() + 60_000, async () => expect(currentDeadline()?.at).to.equal(outer));
      await sleep(250);
      expect(currentDeadline()?.expired).to.equal(true);
      expect(await withGrace(500, () => withinDeadline(async () => 'undone'))).to.equal('undone');
      // Never past the deadline plus GRACE_MS: the route's answer goes out then, and no undo after it.
      await withGrace(60_000, async () => expect(currentDeadline()?.at).to.equal(outer + GRACE_MS));
    });
  });

  it('a route deadline is ROUTE_DEADLINE_MS, cut to the function time left less 2 s', () => {
    const now = 1_000_000;
    expect(routeDeadline(undefined, now) - now).to.equal(20_000);
    expect(routeDeadline({ getRemainingTimeInMillis: () => 10_000 }, now) - now).to.equal(8_000);
    expect(routeDeadline({ getRemainingTimeInMillis: () => 24_000 }, now) - now).to.equal(20_000);
    expect(routeDeadlineMs({ ROUTE_DEADLINE_MS: '5000' })).to.equal(5_000);
    for (const bad of ['0', '999', '27001', '1.5', 'soon'])
      expect(() => routeDeadlineMs({ ROUTE_DEADLINE_MS: bad })).to.throw(/ROUTE_DEADLINE_MS/);
  });

  it('counts the deadline, aborts and AWS throttling as retryable, and a validation error not', () => {
    expect(isUnavailable(new UnavailableError())).to.equal(true);
    expect(isUnavailable(Object.assign(new Error('x'), { name: 'ThrottlingException' }))).to.equal(true);
    expect(isUnavailable(new Error('wrapped', { cause: Object.assign(new Error('a'), { name: 'AbortError' }) }))).to.equal(true);
    expect(isUnavailable(Object.assign(new Error('x'), { name: 'ValidationException', $fault: 'client' }))).to.equal(false);
  });

  describe('the DynamoDB client', () => {
    let proxy: FaultProxy;
    let silent: Server;
    before(async () => {
      // Behind the proxy a server that accepts and never answers; the proxy hangs anyway.
      silent = createServer(() => {});
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
      proxy = await startFaultProxy(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`);
      proxy.hang();
    });
    after(async () => {
      await proxy.close();
      silent.close();
    });
    const client = (endpoint: string) =>
      deadlineBoundDynamoDB({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

    it('gives up on a DynamoDB that never answers at the deadline, with no attempt after it', async () => {
      const ddb = client(proxy.url);
      try {
        const started = Date.now();
        const error = await withDeadline(Date.now() + 300, () => ddb.send(getItem)).catch((e) => e);
        const answered = Date.now();
        expect(error).to.be.instanceOf(UnavailableError);
        expect(answered - started).to.be.within(250, 1_000);
        expect(proxy.requestTimes.length, 'one attempt, held until the deadline').to.equal(1);
        await sleep(500);
        expect(proxy.requestTimes.filter((t) => t > answered)).to.deep.equal([]);
      } finally {
        ddb.destroy();
      }
    });

    it('retries a throttled call until the deadline, then stops', async () => {
      const throttling = await startThrottlingEndpoint();
      const ddb = client(throttling.url);
      try {
        const error = await withDeadline(Date.now() + 3_000, () => ddb.send(getItem)).catch((e) => e);
        const answered = Date.now();
        expect(isUnavailable(error)).to.equal(true);
        expect(throttling.requestTimes.length).to.be.within(2, 8);
        await sleep(1_500);
        expect(throttling.requestTimes.filter((t) => t > answered)).to.deep.equal([]);
      } finally {
        ddb.destroy();
        await throttling.close();
      }
    });
  });
});
