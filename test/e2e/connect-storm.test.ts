/**
 * Issue 10 item 8 end to end: the local stack's new-connection rate (API Gateway's 500/s, here
 * `connectRate` 50/s with a bucket of 10 so this 2-core machine can exceed it): a storm of 200
 * upgrades at once gets 429 on the upgrade past the bucket, and 200 airwave clients connecting at
 * once all get in through the client's reconnect backoff.
 */
import { expect } from 'chai';
import WebSocket from 'ws';
import { connect } from '../../client/src/index.js';
import type { AirwaveClient } from '../../client/src/types.js';
import type { LocalStack } from '../../local/stack.js';
import { startQuietStack } from '../helpers/quiet-stack.js';
import { TestClient } from '../helpers/ws-client.js';

const RATE = 50;
const BURST = 10;
const STORM = 200;

describe('connect storm end to end: 429 past the connect rate, and the client backoff (issue 10 item 8)', function () {
  this.timeout(180_000);
  let stack: LocalStack;

  before(async () => {
    stack = await startQuietStack({ connectRate: RATE, connectBurst: BURST });
  });
  after(async () => {
    await stack?.stop();
  });

  it(`answers 429 to upgrades beyond ${RATE}/s (bucket ${BURST}) when ${STORM} come at once`, async () => {
    const started = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: STORM }, () =>
        TestClient.connect(stack.url).then<{ status: number; ws?: WebSocket }, { status: number; ws?: WebSocket }>(
          (client) => ({ status: 101, ws: client.socket }),
          // A refused upgrade carries its status; a socket error has none.
          (error: { status?: number }) => ({ status: error.status ?? 0 }),
        ),
      ),
    );
    const seconds = (Date.now() - started) / 1000;
    const accepted = outcomes.filter((o) => o.status === 101).length;
    const throttled = outcomes.filter((o) => o.status === 429).length;
    console.log(`      ${STORM} upgrades in ${seconds.toFixed(2)} s: ${accepted} accepted, ${throttled} answered 429`);
    for (const o of outcomes) o.ws?.terminate();
    expect(accepted + throttled).to.equal(STORM);
    expect(throttled).to.be.above(0);
    // The bucket, plus what it refilled while the storm was being served.
    expect(accepted).to.be.at.most(BURST + Math.ceil(RATE * seconds) + 1);
  });

  it(`gets ${STORM} clients connected in the end through their reconnect backoff`, async () => {
    // Let the bucket refill after the storm above.
    await new Promise((r) => setTimeout(r, 1_000));
    const clients: AirwaveClient[] = [];
    const connected = new Set<number>();
    let refused = 0;
    const errors: string[] = [];
    /** `ws`, counting the upgrades answered 429 (ws reports them as "Unexpected server response: 429"). */
    class Counting extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        this.on('error', (e: Error) => {
          if (e.message.includes('429')) refused++;
        });
      }
    }
    const started = Date.now();
    try {
      for (let i = 0; i < STORM; i++) {
        // No channel: this is about the upgrade (a join storm is test/e2e/abuse-budgets.test.ts's).
        const client = connect(stack.url, { WebSocket: Counting as never, heartbeatIdleMs: 0, rolloverAfterMs: 0 });
        client.on('state', (e) => {
          if (e.state === 'open') connected.add(i);
        });
        client.on('error', (e) => errors.push(`${e.code}: ${e.message}`));
        clients.push(client);
      }
      const end = Date.now() + 150_000;
      let report = Date.now() + 5_000;
      while (connected.size < STORM && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 200));
        if (process.env.DEBUG_STORM && Date.now() > report) {
          report = Date.now() + 5_000;
          const states: Record<string, number> = {};
          for (const c of clients) states[c.state] = (states[c.state] ?? 0) + 1;
          console.log('      ', connected.size, JSON.stringify(states), errors.slice(-3));
        }
      }
      console.log(
        `      ${connected.size} of ${STORM} clients connected in ${((Date.now() - started) / 1000).toFixed(1)} s (${refused} upgrades refused on the way)`,
      );
      expect(connected.size).to.equal(STORM);
      expect(refused, 'the storm went past the connect rate').to.be.above(0);
    } finally {
      for (const c of clients) c.close();
    }
  });
});
