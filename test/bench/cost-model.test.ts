import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { estimate, inputProblems } from '../../bench/cost/estimate.js';
import { fanoutPlan, throughputCheck } from '../../bench/cost/fanout-plan.js';
import { DEFAULT_INPUTS, TEMPLATE_MEMORY, templateInputs } from '../../bench/cost/inputs.js';
import { LEVERS, leverRows } from '../../bench/cost/levers.js';
import {
  connectionMinutes,
  fanoutReadUnits,
  heartbeatsPerMinute,
  messageCost,
  messageUnits,
  pagedReadUnits,
  tracesRecorded,
  writeUnits,
} from '../../bench/cost/metering.js';
import { designUsage } from '../../bench/cost/usage.js';
import { activeMinutes } from '../../bench/cost/workload.js';
import { compact, parseCostArgs, report, summaryTable } from '../../bench/cost.js';
import { TEMPLATE_PATH, templateFigures } from '../../bench/lib/template-figures.js';
import { METERING, PRICES, type PriceBook } from '../../bench/prices.js';
import { concurrencyFor } from '../../shared/fanout.js';

const KB = 1024;
const MB = 1024 * 1024;
// What the template deploys (DEFAULT_INPUTS reads it), so these tests follow a changed default.
const fanoutDefaults = {
  batchSize: DEFAULT_INPUTS.fanoutBatchSize,
  rate: DEFAULT_INPUTS.postRate,
  burst: DEFAULT_INPUTS.postBurst,
  cpuUsPerPost: 60,
  memoryMb: DEFAULT_INPUTS.workerMemoryMb,
  concurrency: 0,
  latencyMs: 15,
};

/** template.yaml with one parameter's default replaced, in a temporary file. */
function templateWith(parameter: string, value: string): string {
  const text = readFileSync(TEMPLATE_PATH, 'utf8');
  const pattern = new RegExp(`(\\n  ${parameter}:\\n(?:    .*\\n)*?    Default: )("?)[^\\n"]*\\2`);
  if (!pattern.test(text)) throw new Error(`no default for ${parameter}`);
  const path = join(mkdtempSync(join(tmpdir(), 'airwave-cost-')), 'template.yaml');
  writeFileSync(path, text.replace(pattern, `$1$2${value}$2`));
  return path;
}

describe('cost model', () => {
  describe('messageUnits', () => {
    it('meters a 2 KB message as one message and a 33 KB message as two', () => {
      expect(messageUnits(2 * KB)).to.equal(1);
      expect(messageUnits(32 * KB)).to.equal(1);
      expect(messageUnits(33 * KB)).to.equal(2);
      expect(messageUnits(128 * KB)).to.equal(4);
    });

    it('bills an empty frame as one message', () => {
      expect(messageUnits(0)).to.equal(1);
    });
  });

  describe('messageCost', () => {
    it('charges the first billion messages at the first-tier rate', () => {
      expect(messageCost(1e9)).to.be.closeTo(1e9 * (PRICES.messagesFirstTier.usd / PRICES.messagesFirstTier.per), 1e-6);
    });

    it('charges messages above a billion at the lower rate', () => {
      const first = messageCost(1e9);
      const above = messageCost(1.5e9) - first;
      expect(above).to.be.closeTo(0.5e9 * (PRICES.messagesAboveTier.usd / PRICES.messagesAboveTier.per), 1e-6);
      expect(above).to.be.lessThan(first / 2);
    });

    it('follows the price book it is given', () => {
      const doubled: PriceBook = { ...PRICES, messagesFirstTier: { ...PRICES.messagesFirstTier, usd: 2 } };
      expect(messageCost(1e6, doubled)).to.be.closeTo(2, 1e-9);
    });
  });

  describe('connectionMinutes', () => {
    it('counts 864 million connection-minutes for 20,000 connections held 30 days', () => {
      expect(connectionMinutes(20_000, 24, 30)).to.equal(864_000_000);
    });

    it('counts only the hours a day connections are held', () => {
      expect(connectionMinutes(20_000, 8, 30)).to.equal(864_000_000 / 3);
    });
  });

  describe('DynamoDB metering', () => {
    it('rounds an item write up to whole kilobytes, at least one unit', () => {
      expect(writeUnits(0)).to.equal(1);
      expect(writeUnits(KB)).to.equal(1);
      expect(writeUnits(KB + 1)).to.equal(2);
      expect(writeUnits(2148)).to.equal(3);
    });

    it('rounds each 1 MB page up to 4 KB on its own and halves eventually consistent reads', () => {
      expect(pagedReadUnits(1, MB)).to.equal(128);
      expect(pagedReadUnits(1, MB + 1)).to.equal(128.5);
      expect(pagedReadUnits(1, MB, true)).to.equal(256);
      expect(pagedReadUnits(0, 60)).to.equal(0.5);
    });

    it('reads every shard of a channel, 148 read units for 20,000 subscribers on 8 shards', () => {
      // 2,500 rows of 60 B per shard = 150,000 B = 37 units of 4 KB, halved (GSI reads are eventual)
      expect(fanoutReadUnits(20_000, 8)).to.equal(8 * 18.5);
    });

    it('stays under one read unit per 100 subscribers from 1k to 100k (issue 5 target)', () => {
      for (const n of [1000, 20_000, 100_000]) expect(fanoutReadUnits(n, 8) / (n / 100)).to.be.at.most(1);
    });
  });

  describe('heartbeatsPerMinute', () => {
    it('sends no ping when a frame arrives every minute and pings wait for 9 idle minutes', () => {
      expect(heartbeatsPerMinute({ mode: 'idle', minutes: 9 }, 1)).to.equal(0);
    });

    it('pings once per idle period on a silent connection', () => {
      expect(heartbeatsPerMinute({ mode: 'idle', minutes: 9 }, 0)).to.be.closeTo(1 / 9, 1e-12);
    });

    it('pings once between frames that are 10 minutes apart', () => {
      expect(heartbeatsPerMinute({ mode: 'idle', minutes: 9 }, 0.1)).to.be.closeTo(0.1, 1e-12);
    });

    it('pings on schedule whatever the traffic when the client pings every minute', () => {
      expect(heartbeatsPerMinute({ mode: 'fixed', minutes: 1 }, 5)).to.equal(1);
    });
  });

  describe('tracesRecorded', () => {
    it('records every invocation that fits the one-per-second reservoir', () => {
      expect(tracesRecorded(1000, 3600)).to.equal(1000);
    });

    it('records 5 % of the invocations beyond the reservoir', () => {
      expect(tracesRecorded(3600 + 2000, 3600)).to.be.closeTo(3600 + 100, 1e-9);
    });
  });

  describe('fanoutPlan', () => {
    it('posts a channel within the batch size inline, in one function', () => {
      const plan = fanoutPlan(5000, { ...fanoutDefaults, batchSize: 5000, rate: 9000 });
      expect(plan.functions).to.equal(1);
      expect(plan.postsPerSecondEach).to.equal(9000);
    });

    it('splits 100,000 subscribers into 20 batches of 5,000 sharing the rate', () => {
      const plan = fanoutPlan(100_000, { ...fanoutDefaults, batchSize: 5000, rate: 9000, burst: 4500 });
      expect(plan.functions).to.equal(20);
      expect(plan.postsPerSecondEach).to.equal(450);
      // never faster than the throttle allows after the burst
      expect(plan.wallSeconds).to.be.at.least((100_000 - 4500) / 9000);
    });

    it('sizes posts in flight with the code the functions run (shared/fanout.ts concurrencyFor)', () => {
      // 100 posts/s share: concurrencyFor gives its floor of 16 in flight, 16 / 15 ms ≈ 1,067/s > the share.
      const plan = fanoutPlan(100_000, { ...fanoutDefaults, batchSize: 1000, rate: 10_000, latencyMs: 200 });
      expect(plan.postsPerSecondEach).to.be.closeTo(Math.min(100, concurrencyFor(100) / 0.2), 1e-9);
      const slow = fanoutPlan(100_000, { ...fanoutDefaults, batchSize: 1000, rate: 10_000, latencyMs: 1000 });
      expect(slow.postsPerSecondEach).to.equal(concurrencyFor(100));
    });

    it('makes batches beyond the reserved concurrency wait their turn: later, but billed the same', () => {
      const free = fanoutPlan(100_000, { ...fanoutDefaults, batchSize: 1000 });
      const reserved = fanoutPlan(100_000, { ...fanoutDefaults, batchSize: 1000, workers: 33 });
      expect(reserved.wallSeconds).to.be.closeTo(3 * free.wallSeconds, 1e-9);
      expect(reserved.billedSeconds).to.equal(free.billedSeconds);
    });

    it('bills every paced worker for the whole broadcast, so fewer batches bill less', () => {
      const twenty = fanoutPlan(100_000, { ...fanoutDefaults, batchSize: 5000 });
      const two = fanoutPlan(100_000, { ...fanoutDefaults, batchSize: 50_000 });
      expect(twenty.billedSeconds).to.be.closeTo(20 * twenty.wallSeconds, 1e-9);
      expect(two.billedSeconds).to.be.lessThan(twenty.billedSeconds / 5);
      expect(Math.abs(two.wallSeconds - twenty.wallSeconds)).to.be.lessThan(0.5);
    });

    it('is bound by CPU on the SDK path: about 724 posts per second at 800 µs and 1024 MB', () => {
      const plan = fanoutPlan(20_000, {
        ...fanoutDefaults,
        batchSize: Number.POSITIVE_INFINITY,
        rate: Number.POSITIVE_INFINITY,
        burst: 0,
        cpuUsPerPost: 800,
        concurrency: 50,
      });
      expect(plan.postsPerSecondEach).to.be.closeTo(1024 / 1769 / 0.0008, 1e-6);
      expect(plan.wallSeconds).to.be.greaterThan(27);
    });

    it('says a million subscribers at one message a minute outrun the default post rate (issue 14: which AWS limit stops 1M)', () => {
      const million = throughputCheck(estimate({ connections: 1_000_000 }).inputs);
      expect(million.keepsUp).to.equal(false);
      // 999,999 recipients a minute need ~16,667 posts/s: a quota increase over the account's 10,000/s.
      expect(million.neededRatePerSecond).to.be.closeTo(16_667, 1);
      expect(million.broadcastSeconds).to.be.greaterThan(million.intervalSeconds);
      expect(throughputCheck(estimate({ connections: 500_000 }).inputs).keepsUp).to.equal(true);
      // Packing 2 messages per frame halves the posts: 1M then fits one frame every 2 minutes.
      expect(throughputCheck(estimate({ connections: 1_000_000, batch: 2 }).inputs).keepsUp).to.equal(true);
    });

    it('costs nothing for a channel with no other subscriber', () => {
      expect(fanoutPlan(0, fanoutDefaults).billedSeconds).to.equal(0);
    });
  });

  describe('estimate', () => {
    const workloads = [
      {},
      { connections: 100_000 },
      { connections: 1000, messagesPerMinute: 60, bytes: 200 },
      { connections: 50_000, bytes: 40 * KB, hoursPerDay: 8 },
      { publisher: 'server' as const, tracing: false, logLevel: 'WARN' as const },
    ];

    it('never prices this design below API Gateway floor (one frame per message)', () => {
      for (const w of workloads) expect(estimate(w).design.total).to.be.greaterThan(estimate(w).floor.total);
    });

    it('prices the floor as connection-minutes plus one message per delivery and the publish', () => {
      const e = estimate({ connections: 20_000 });
      const messages = activeMinutes(e.inputs) * (19_999 + 1);
      expect(e.floor.total).to.be.closeTo(864_000_000 * (0.25 / 1e6) + messageCost(messages), 1e-6);
    });

    it('applies the lower message tier to the floor of 100,000 connections', () => {
      const e = estimate({ connections: 100_000 });
      const messages = activeMinutes(e.inputs) * 100_000;
      expect(messages).to.be.greaterThan(PRICES.messageTierUnits);
      const line = e.floor.lines.find((l) => l.component === 'API Gateway messages');
      expect(line?.usd).to.be.closeTo(1000 + (messages - 1e9) * (0.8 / 1e6), 1e-6);
    });

    it('splits the total by cause without losing or adding a cent', () => {
      for (const w of workloads) {
        const { design, starting } = estimate(w);
        for (const bill of [design, starting]) {
          const byLine = bill.lines.reduce((acc, l) => acc + l.usd, 0);
          const byCause = bill.activities.reduce((acc, a) => acc + a.usd, 0);
          expect(byLine).to.be.closeTo(bill.total, 1e-6);
          expect(byCause).to.be.closeTo(bill.total, 1e-6);
        }
      }
    });

    it('charges each session its connection row and a subscription, written and deleted, and three invocations', () => {
      const reconnects = designUsage({ ...DEFAULT_INPUTS }).find((a) => a.name.startsWith('reconnects'));
      const sessions = (20_000 * 30 * 24 * 60) / 115; // the client rolls over every 115 minutes
      // connection row put + delete (table only), subscription put + delete (table and GSI)
      expect(reconnects?.usage.writeUnits).to.be.closeTo((2 + 4) * sessions, 1e-6);
      expect(reconnects?.usage.lambdaRequests).to.be.closeTo(3 * sessions, 1e-6);
    });

    it('charges a join the conditional channel-count update on the connection row besides the subscription and its delete', () => {
      const usage = (j: number) => designUsage({ ...DEFAULT_INPUTS, joinsPerSession: j }).find((a) => a.name.startsWith('reconnects'));
      const sessions = (20_000 * 30 * 24 * 60) / 115;
      expect((usage(1)?.usage.writeUnits ?? 0) - (usage(0)?.usage.writeUnits ?? 0)).to.be.closeTo((1 + 2 + 2) * sessions, 1e-6);
      // the connection row re-read and the sequence read, both strongly consistent
      expect((usage(1)?.usage.readUnits ?? 0) - (usage(0)?.usage.readUnits ?? 0)).to.be.closeTo(2 * sessions, 1e-6);
    });

    it("hands the rest of a publisher's batch on after its inline budget, and a worker's after each hop: one invocation more each", () => {
      const requests = (change: Partial<typeof DEFAULT_INPUTS>) =>
        designUsage({ ...DEFAULT_INPUTS, connections: 100_000, ...change }).find((a) => a.name === 'broadcasts')?.usage.lambdaRequests ?? 0;
      const frames = activeMinutes(DEFAULT_INPUTS);
      const fan = estimate({ connections: 100_000 }).fanout;
      // 100k in batches of 20,000: the publisher and 4 workers, each paced ~10 s; the publisher stops at 8 s
      expect(fan.functions).to.equal(Math.ceil(99_999 / DEFAULT_INPUTS.fanoutBatchSize));
      expect(fan.eachSeconds).to.be.greaterThan(8);
      expect(requests({})).to.be.closeTo(frames * (1 + (fan.functions - 1) + 1), 1e-6);
      // a 25 s Timeout leaves a 5 s hop: each worker's ~10 s takes 3 invocations, the leftover 1
      const hops = Math.ceil(fan.eachSeconds / 5);
      expect(requests({ workerTimeoutSeconds: 25 })).to.be.closeTo(frames * (1 + (fan.functions - 1) * hops + 1), 1e-6);
    });

    it("charges a client's publish both budget writes (connection row and principal row), a backend's none", () => {
      const broadcasts = (publisher: 'client' | 'server') =>
        designUsage({ ...DEFAULT_INPUTS, publisher }).find((a) => a.name === 'broadcasts')?.usage.writeUnits ?? 0;
      const frames = activeMinutes(DEFAULT_INPUTS);
      // 2,048 B + 100 B envelope + 60 B of key and ttl = 3 units of history, 1 sequence
      expect(broadcasts('server')).to.be.closeTo(frames * (1 + 3), 1e-6);
      expect(broadcasts('client') - broadcasts('server')).to.be.closeTo(frames * 2, 1e-6);
    });

    it('reads the whole table per broadcast in the starting design: 244.5 units for 20,000 items of 100 B', () => {
      expect(estimate({ connections: 20_000 }).startingReadUnitsPerBroadcast).to.equal(244.5);
    });

    it('delivers one outbound message per 32 KB, so a 40 KB broadcast costs twice the messages of a 2 KB one', () => {
      const small = estimate({ bytes: 2 * KB }).floor.lines.find((l) => l.component === 'API Gateway messages');
      const large = estimate({ bytes: 40 * KB }).floor.lines.find((l) => l.component === 'API Gateway messages');
      expect(large?.quantity).to.equal(2 * (small?.quantity ?? 0));
    });

    it('refuses an idle heartbeat slower than API Gateway idle timeout and names the problem', () => {
      expect(() => estimate({ heartbeat: { mode: 'idle', minutes: 12 } })).to.throw(RangeError, 'idle heartbeat minutes must be < 10');
    });

    it('refuses a packed frame larger than API Gateway 128 KB message limit', () => {
      expect(inputProblems({ ...DEFAULT_INPUTS, batch: 10, bytes: 16 * KB })).to.have.length(1);
      expect(inputProblems({ ...DEFAULT_INPUTS, batch: 5, bytes: 16 * KB })).to.deep.equal([]);
    });
  });

  describe('leverRows', () => {
    it('prices a lever that keeps the platform lines above one that does not', () => {
      const row = leverRows().find((r) => r.flags === '--system-log-level INFO');
      expect(row?.delta).to.be.greaterThan(0);
    });

    it('computes every lever with the same model as a direct estimate', () => {
      const rows = leverRows({ connections: 20_000 });
      expect(rows).to.have.length(LEVERS.length);
      LEVERS.forEach((lever, k) => {
        expect(rows[k].total).to.be.closeTo(estimate({ connections: 20_000, ...lever.change }).design.total, 1e-9);
      });
    });

    it('shows packing 10 messages per frame below the one-frame-per-message floor', () => {
      const row = leverRows().find((r) => r.flags === '--batch 10');
      expect(row?.ratio).to.be.lessThan(1);
    });

    it('shows a client pinging every minute at least doubling the bill', () => {
      const row = leverRows().find((r) => r.flags === '--heartbeat-minutes 1');
      expect(row?.delta).to.be.greaterThan(estimate().design.total);
    });
  });

  describe('template defaults', () => {
    it('takes every deployed figure from template.yaml', () => {
      const { inputs, memory } = templateInputs(templateFigures());
      expect(DEFAULT_INPUTS).to.deep.include(inputs);
      expect(TEMPLATE_MEMORY).to.deep.equal(memory);
      expect(inputs).to.have.keys(
        'logLevel',
        'systemLogLevel',
        'tracing',
        'history',
        'workerMemoryMb',
        'workerTimeoutSeconds',
        'fanoutBatchSize',
        'fanoutConcurrency',
        'postRate',
        'postBurst',
        'channelShards',
      );
    });

    for (const [parameter, value, key, expected] of [
      ['FanoutBatchSize', '7000', 'fanoutBatchSize', 7000],
      ['PostRateLimit', '8000', 'postRate', 8000],
      ['PostBurstLimit', '4000', 'postBurst', 4000],
      ['FanoutConcurrency', '50', 'fanoutConcurrency', 50],
      ['ChannelShards', '16', 'channelShards', 16],
      ['LogLevel', 'DEBUG', 'logLevel', 'DEBUG'],
      ['EnableTracing', 'true', 'tracing', true],
      ['HistorySize', '0', 'history', false],
    ] as const) {
      it(`follows a changed ${parameter} default`, () => {
        expect(templateInputs(templateFigures(templateWith(parameter, value))).inputs[key]).to.equal(expected);
      });
    }

    it('follows a changed Timeout of the fan-out worker', () => {
      const text = readFileSync(TEMPLATE_PATH, 'utf8');
      const at = text.indexOf('  FanoutFunction:\n');
      const changed = text.slice(0, at) + text.slice(at).replace(/Timeout: \d+/, 'Timeout: 45');
      const path = join(mkdtempSync(join(tmpdir(), 'airwave-cost-')), 'template.yaml');
      writeFileSync(path, changed);
      expect(DEFAULT_INPUTS.workerTimeoutSeconds).to.equal(templateFigures().functions.FanoutFunction.timeoutSeconds);
      expect(templateInputs(templateFigures(path)).inputs.workerTimeoutSeconds).to.equal(45);
    });

    it('prices the memory each function is deployed with (publishers at one vCPU, workers, handlers)', () => {
      const figures = templateFigures();
      expect(TEMPLATE_MEMORY.SendMessageFunction).to.equal(figures.functions.SendMessageFunction.memoryMb);
      expect(TEMPLATE_MEMORY.PingFunction).to.equal(figures.functions.PingFunction.memoryMb);
      expect(DEFAULT_INPUTS.workerMemoryMb).to.equal(figures.functions.FanoutFunction.memoryMb);
      const gbs = (mb: number) => estimate({ publisherMemoryMb: mb }).design.lines.find((l) => l.component === 'Lambda duration (arm64)');
      expect(gbs(TEMPLATE_MEMORY.SendMessageFunction)?.quantity).to.equal(gbs(0)?.quantity);
    });
  });

  describe('prices', () => {
    it('names a source page and an ISO read date for every price', () => {
      for (const [name, price] of Object.entries(PRICES)) {
        if (typeof price === 'number') continue;
        expect(price.source, name).to.match(/https:\/\/aws\.amazon\.com\//);
        expect(price.read, name).to.match(/^\d{4}-\d{2}-\d{2}$/);
      }
    });

    it('meters messages in 32 KB units', () => {
      expect(METERING.messageUnitBytes).to.equal(32 * KB);
    });
  });
});

describe('cost CLI (bench/cost.ts)', () => {
  it('turns flags into model inputs', () => {
    const { inputs } = parseCostArgs([
      '--connections',
      '100_000',
      '--heartbeat-minutes',
      '1',
      '--no-history',
      '--log-level',
      'warn',
      '--publisher',
      'server',
    ]);
    expect(inputs).to.deep.equal({
      connections: 100_000,
      heartbeat: { mode: 'fixed', minutes: 1 },
      history: false,
      logLevel: 'WARN',
      publisher: 'server',
    });
  });

  it('rejects an unknown flag instead of pricing the defaults', () => {
    expect(() => parseCostArgs(['--conections', '5'])).to.throw(TypeError);
  });

  it('rejects a flag value that is not a number', () => {
    expect(() => parseCostArgs(['--bytes', '2KB'])).to.throw(RangeError, '--bytes needs a number');
  });

  it('prints the totals, the ratio to the floor and every lever', () => {
    const e = estimate();
    const text = report(e, leverRows());
    expect(text).to.include('| **÷ floor** |');
    expect(text).to.include(`${e.ratio.toFixed(3)}×`);
    for (const lever of LEVERS) expect(text).to.include(lever.flags);
  });

  it('prints one summary row per connection count', () => {
    const table = summaryTable([estimate({ connections: 20_000 }), estimate({ connections: 100_000 })]);
    expect(table).to.match(/\| 20,000 \| \$1,080\.00 \|/);
    expect(table).to.match(/\| 100,000 \| \$4,736\.00 \|/);
  });

  it('abbreviates large quantities to three significant digits', () => {
    expect(compact(864_000_000)).to.equal('864M');
    expect(compact(4_320_043_200)).to.equal('4.32B');
    expect(compact(148)).to.equal('148');
  });
});
