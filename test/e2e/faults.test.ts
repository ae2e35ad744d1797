/**
 * Issue 10 end to end: faults that used to lose messages without anyone being told, on the local
 * stack over real sockets.
 */
import { expect } from 'chai';
import type { LocalStack } from '../../local/stack.js';
import { invokePublish, startQuietStack } from '../helpers/quiet-stack.js';
import { openClient, sleep, type TestClient } from '../helpers/ws-client.js';

const CLIENTS = Number(process.env.STORM_CLIENTS ?? 1000);

describe('faults end to end (issue 10)', function () {
  this.timeout(300_000);
  let stack: LocalStack;
  const clients: TestClient[] = [];

  before(async () => {
    stack = await startQuietStack();
  });
  after(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await stack?.stop();
  });

  const publish = (message: unknown) => invokePublish<{ delivered?: number }>(stack, { channel: 'storm', message });

  it(`${CLIENTS} clients connecting while publishes run all get the next message (a 410 during $connect keeps their rows)`, async () => {
    let publishing = true;
    let published = 0;
    const publisher = (async () => {
      while (publishing) {
        await publish({ during: published++ });
        await sleep(20);
      }
    })();
    for (let i = 0; i < CLIENTS; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, CLIENTS - i) }, (_, k) =>
          openClient(`${stack.url}?channels=storm`, { localAddress: `127.0.2.${((i + k) % 250) + 1}` }),
        ),
      );
      clients.push(...batch);
    }
    publishing = false;
    await publisher;
    await publish('after the storm');
    const received = async () => clients.filter((c) => c.frames.some((f) => f.message === 'after the storm')).length;
    const end = Date.now() + 30_000;
    while ((await received()) < CLIENTS && Date.now() < end) await sleep(200);
    const got = await received();
    console.log(`      ${CLIENTS} clients, ${published} publishes during the storm: ${got} got the next message`);
    expect(got).to.equal(CLIENTS);
  });
});
