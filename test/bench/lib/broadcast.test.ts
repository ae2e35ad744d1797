/**
 * The fan-out benchmark's pipeline against a real local stack in its own process: a small
 * broadcast, through PublishFunction (with worker batches) and from the test process, must be
 * seen exactly once per virtual subscriber and timed.
 */
import { expect } from 'chai';
import { metricValues, postFromHere, publishThroughFunction } from '../../../bench/lib/broadcast.js';
import { addVirtualConnections, resetStats } from '../../../bench/lib/control.js';
import { type StackProcess, startStackProcess } from '../../../bench/lib/stack-process.js';
import { measureReadCost, useStackTable, writeSubscriptions } from '../../../bench/lib/subscribers.js';
import { reset } from '../../../shared/dependencies.js';
import { FastPoster } from '../../../shared/fast-poster.js';
import { messageFrameText } from '../../../shared/protocol.js';

const SUBSCRIBERS = 2500;
const SHARDS = 4;

describe('bench/lib/broadcast metricValues', () => {
  it('reads a metric of one invocation, and of several that one EMF line flushed together', () => {
    expect(metricValues('{"_aws":{},"Deliveries":1200,"FanoutBatchDuration":60012.5}', 'FanoutBatchDuration')).to.deep.equal([60012.5]);
    expect(metricValues('{"Deliveries":[1140,1139,1141],"GoneConnections":[0,0,0]}', 'Deliveries')).to.deep.equal([1140, 1139, 1141]);
    expect(metricValues('{"Deliveries":5}', 'FanoutBatchDuration')).to.deep.equal([]);
  });
});

describe('bench/lib/broadcast', function () {
  this.timeout(180_000);
  let stack: StackProcess;
  let ids: string[];
  let restoreEnvironment = () => {};

  before(async () => {
    // Batches of 1,000 (the template's minimum), and a rate slow enough (100 at once, then 1,000/s)
    // that the reading ends long before the publisher could post everyone: it hands batches to workers.
    stack = await startStackProcess({
      parameterOverrides: { FanoutBatchSize: '1000', ChannelShards: String(SHARDS), PostRateLimit: '1000', PostBurstLimit: '100' },
    });
    restoreEnvironment = useStackTable({
      dynamodbEndpoint: stack.info.dynamodbEndpoint,
      tableName: stack.info.tables.Table,
      channelShards: SHARDS,
    });
    ids = await addVirtualConnections(stack.httpUrl, SUBSCRIBERS);
    await writeSubscriptions(ids, 'bench');
  });

  after(async () => {
    reset();
    restoreEnvironment();
    await stack?.stop();
  });

  beforeEach(() => resetStats(stack.httpUrl));

  it('reads back every seeded subscriber and the read units of the reads', async () => {
    const cost = await measureReadCost('bench', ids);
    expect(cost.items).to.equal(SUBSCRIBERS);
    expect(cost.reportedUnits).to.be.greaterThan(0);
    // At least half a unit per shard, and under the target of one unit per 100 subscribers.
    expect(cost.computedUnits)
      .to.be.at.least(SHARDS * 0.5)
      .and.below(SUBSCRIBERS / 100);
  });

  it('times a PublishFunction broadcast to its last worker batch and sees every subscriber once', async function () {
    // Failed once in a full c8 run beside a 15,000-socket benchmark (ci8, 2026-12-01, load 7;
    // the report did not yet say missing or duplicated) and never in 20 runs alone. The stall
    // rule now waits for running functions; one retry keeps a host this loaded from failing CI,
    // and a second failure in a row still fails the test.
    this.retries(1);
    const result = await publishThroughFunction(stack, ids, { channel: 'bench', message: { hello: 'world' } }, 60_000);
    // The publisher posts while it reads, then hands what is left to workers (how much depends on timing).
    expect(result.response).to.include({ subscribers: SUBSCRIBERS });
    expect(result.response.dispatched).to.be.at.least(1);
    // Every dispatched batch ran (hand-offs under load may add invocations).
    expect(result.workerBatches).to.be.at.least(result.response.dispatched as number);
    expect(result.longestWorkerMs).to.be.greaterThan(0);
    expect(result.timedBy).to.be.oneOf(['function-end', 'stats-timestamp']);
    expect(result.lastDeliveryMs).to.be.greaterThan(0);
    expect(result.check, JSON.stringify(result.check)).to.include({ exactlyOnce: true });
    expect(result.stack.delivered).to.equal(SUBSCRIBERS);
  });

  it('posts from this process and counts its CPU per delivery', async () => {
    const poster = new FastPoster({
      endpoint: stack.info.connectionsEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      maxSockets: 16,
    });
    try {
      const frame = messageFrameText('bench', { hello: 'world' }, 'id', 1);
      const result = await postFromHere(stack, ids, frame, { poster, concurrency: 16 });
      expect(result.report.delivered).to.equal(SUBSCRIBERS);
      expect(result.check.exactlyOnce).to.equal(true);
      expect(result.cpuUsPerDelivery).to.be.greaterThan(0);
    } finally {
      await poster.close();
    }
  });
});
