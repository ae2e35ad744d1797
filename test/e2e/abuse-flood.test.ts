/**
 * Issue 9 end to end: one socket that floods the service with frames is closed by the service
 * (an error frame with code `flooding`, then DELETE @connections), after at most about
 * FrameBurstLimit answers, while a well-behaved client on the same stack keeps working. The
 * local stack runs one container per function, so the per-container bound is the whole bound
 * here (docs/security.md explains what changes with several containers).
 */
import { expect } from 'chai';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { type Frame, openClient, type TestClient } from '../helpers/ws-client.js';

/** The template's default FrameBurstLimit: the answers a flooding socket may get before it is cut. */
const DEFAULT_BURST = 60;
/** Frames whose answer may be in flight when the limit trips (a few, not hundreds). */
const SLACK = 5;
const FLOOD = 2000;

/** A function's log line as JSON (Powertools writes one object per line), or undefined. */
function parseLogLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line.slice(line.indexOf('{')));
  } catch {
    return undefined;
  }
}

describe('frame floods end to end', function () {
  this.timeout(60_000);
  let stack: LocalStack;
  const logs: string[] = [];
  const clients: TestClient[] = [];

  before(async () => {
    stack = await startLocalStack({
      parameterOverrides: { AuthMode: 'none' },
      // WARN is the template's default LogLevel: refusals must be visible at it.
      environment: { POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_METRICS_DISABLED: 'true' },
      log: () => {},
      functionLog: (_id, line) => logs.push(line),
    });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await stack?.stop();
  });

  async function open(): Promise<TestClient> {
    const client = await openClient(stack.url);
    clients.push(client);
    return client;
  }

  it(`closes a socket that sends ${FLOOD} pings after at most ${DEFAULT_BURST + SLACK} answers, with a flooding error frame first`, async () => {
    // Prepare
    const attacker = await open();
    const bystander = await open();
    const received: Frame[] = [];
    attacker.ws.on('message', (data) => received.push(JSON.parse(String(data))));
    const closed = new Promise<{ code: number; framesBefore: Frame[] }>((resolve) =>
      attacker.ws.once('close', (code) => resolve({ code, framesBefore: [...received] })),
    );

    // Act
    for (let i = 0; i < FLOOD; i++) attacker.send({ action: 'ping' });
    const outcome = await Promise.race([closed, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 20_000).unref())]);

    // Assess
    expect(outcome, 'the service closed the flooding socket').to.not.equal(undefined);
    const { code, framesBefore } = outcome as { code: number; framesBefore: Frame[] };
    expect(code, 'closed by DELETE @connections (API Gateway closes with 1000)').to.equal(1000);
    const flooding = framesBefore.filter((f) => f.type === 'error');
    expect(flooding).to.have.length(1);
    expect(flooding[0]).to.include({ code: 'flooding' });
    expect(flooding[0].message).to.be.a('string');
    const pongs = framesBefore.filter((f) => f.type === 'pong').length;
    expect(pongs).to.be.at.most(DEFAULT_BURST + SLACK);
    expect(pongs).to.be.at.least(DEFAULT_BURST - SLACK);

    // A well-behaved client on the same stack, the same route and the same container is not affected.
    bystander.send({ action: 'ping' });
    expect(await bystander.next((f) => f.type === 'pong')).to.deep.equal({ type: 'pong' });
    bystander.send({ action: 'nonsense' });
    expect(await bystander.next((f) => f.type === 'error')).to.include({ code: 'unknown_action' });
  });

  it('logs the flood once at WARN (reason, route, connection id) and each refusal at WARN, without frame bodies', async () => {
    const flood = logs.map(parseLogLine).filter((l) => l?.reason === 'flood') as Array<Record<string, unknown>>;
    expect(flood).to.have.length(1);
    expect(flood[0]).to.include({ level: 'WARN', route: 'ping' });
    expect(flood[0].connectionId).to.be.a('string');
    const refusals = logs.filter((line) => line.includes('"code":"unknown_action"'));
    expect(refusals).to.have.length(1);
    expect(refusals[0]).to.include('"level":"WARN"').and.not.include('nonsense');
  });
});
