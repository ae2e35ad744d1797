/**
 * The client against the local stack, under churn: 100 Node clients (`ws`) are cut by the
 * maximum connection duration, by idleness and by killed sockets, and some roll over before the
 * cut, while PublishFunction (through the Lambda Invoke API) publishes a numbered message every
 * 50 ms for 30 s. Every client must end with every message of its channel exactly once, in order.
 *
 * The idle cut needs a quiet channel: a busy one sends a frame every 50 ms, and API Gateway's idle
 * timer counts frames in both directions.
 */
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import WebSocket from 'ws';
import { connect } from '../../client/src/index.js';
import type { AirwaveClient, ClientEvents, ConnectOptions, MessageEvent } from '../../client/src/types.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';

const TEMPLATE = fileURLToPath(new URL('../../template.yaml', import.meta.url));
const MAX_CONNECTION_SECONDS = 15;
const IDLE_SECONDS = 3;
const BUSY = 'churn';
const QUIET = 'quiet';
const PUBLISH_EVERY_MS = 50;
const PUBLISH_FOR_MS = 30_000;
const QUIET_EVERY_MS = 4_000;
const KILL_EVERY_MS = 1_000;
/** Clients arrive one every this often (a crowd does not connect in the same millisecond). */
const ARRIVAL_EVERY_MS = 30;
/** Publishes in flight at once: overlapping fan-outs overtake each other, as Lambdas do. */
const PUBLISHES_IN_FLIGHT = 4;
/** How long the clients get, after the last publish, to catch up (replays, repairs). */
const SETTLE_MS = 60_000;
/**
 * A server cut of a socket at least this old (as the client saw it open) is counted as the
 * maximum-duration cut, a younger one as the idle cut: halfway between the two limits.
 */
const MAX_CUT_AGE_MS = ((IDLE_SECONDS + MAX_CONNECTION_SECONDS) / 2) * 1000;

type Group = 'maxcut' | 'rollover' | 'killed' | 'idle' | 'heartbeat';

/** Who is in the test: how many, on which channel, with which client settings. */
const GROUPS: Array<{ group: Group; count: number; channel: string; options: ConnectOptions }> = [
  { group: 'maxcut', count: 40, channel: BUSY, options: { rolloverAfterMs: 0, heartbeatIdleMs: 2_000 } },
  { group: 'rollover', count: 20, channel: BUSY, options: { rolloverAfterMs: 12_000, heartbeatIdleMs: 2_000 } },
  { group: 'killed', count: 20, channel: BUSY, options: { rolloverAfterMs: 0, heartbeatIdleMs: 2_000 } },
  { group: 'idle', count: 10, channel: QUIET, options: { rolloverAfterMs: 0, heartbeatIdleMs: 0 } },
  { group: 'heartbeat', count: 10, channel: QUIET, options: { rolloverAfterMs: 0, heartbeatIdleMs: 1_500 } },
];

const COMMON: ConnectOptions = {
  reconnectBaseMs: 100,
  reconnectMaxMs: 1_000,
  stableAfterMs: 3_000,
  rolloverAckTimeoutMs: 5_000,
};

/**
 * One socket's life, seen from the client side. The close code tells who ended it: 1001 is the
 * stack's cut (idle or maximum duration, as API Gateway's), 1000 the client's own close (a
 * roll-over), 1006 a socket killed by this test.
 */
interface SocketLife {
  openedAt?: number;
  closedAt?: number;
  code?: number;
  killed: boolean;
}

interface Member {
  group: Group;
  channel: string;
  client: AirwaveClient;
  sockets: Array<{ ws: WebSocket; life: SocketLife }>;
  messages: MessageEvent[];
  gaps: Array<ClientEvents['gap']>;
  errors: string[];
}

/** A `ws` subclass per client that records each socket's life, so the test can kill sockets and classify the cuts. */
function trackingWebSocket(member: Pick<Member, 'sockets'>): typeof WebSocket {
  class Tracked extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      const life: SocketLife = { killed: false };
      member.sockets.push({ ws: this, life });
      this.on('open', () => {
        life.openedAt = Date.now();
      });
      this.on('close', (code: number) => {
        life.closedAt = Date.now();
        life.code = code;
      });
    }
  }
  return Tracked as unknown as typeof WebSocket;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

describe('client churn, end to end on the local stack', function () {
  // A safety net, not a speed requirement: on a loaded 2-core machine the stack publishes well
  // below 20 messages/s (the publisher then waits), and joins that replay a lot time out.
  this.timeout(10 * 60_000);
  let stack: LocalStack;
  const members: Member[] = [];
  const functionErrors: string[] = [];

  before(async () => {
    stack = await startLocalStack({
      port: 0,
      templatePath: TEMPLATE,
      idleSeconds: IDLE_SECONDS,
      maxConnectionSeconds: MAX_CONNECTION_SECONDS,
      // History is not what this test is about: keep every message of the run.
      // Every client here is one principal (AuthMode=none: one source IP), reconnecting all the
      // time: budgets are not what this test is about either (test/e2e/abuse-budgets.test.ts).
      parameterOverrides: { HistorySize: '2000', PrincipalReplayPerMinute: '100000', ReplayPerMinute: '100000' },
      environment: { POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true' },
      log: () => undefined,
      functionLog: (id, line) => {
        // The SDK's socket-pool warnings say only that the machine is busy.
        if (
          functionErrors.length < 20 &&
          !/socket usage at capacity|node-configuring-maxsockets|socketAcquisitionWarningTimeout/.test(line)
        )
          functionErrors.push(`[${id}] ${line.slice(0, 300)}`);
      },
    });
  });

  after(async () => {
    for (const member of members) member.client.close();
    await stack?.stop();
  });

  it('delivers every message exactly once, in order, to 100 clients cut by max duration, idleness and killed sockets', async () => {
    // The first publish starts PublishFunction's worker: not part of the measured run.
    const warm = await fetch(`${stack.httpUrl}/2015-03-31/functions/PublishFunction/invocations`, {
      method: 'POST',
      body: JSON.stringify({ channel: 'warm-up', message: 0 }),
    });
    expect(warm.status).to.equal(200);
    // Listening before joining: a join acked while later clients still arrive must count.
    const joined = new Set<Member>();
    for (const { group, count, channel, options } of GROUPS) {
      for (let i = 0; i < count; i++) {
        await sleep(ARRIVAL_EVERY_MS);
        const member = { group, channel, sockets: [], messages: [], gaps: [], errors: [] } as unknown as Member;
        const client = connect(stack.url, { ...COMMON, ...options, WebSocket: trackingWebSocket(member) });
        member.client = client;
        client.on('message', (event) => member.messages.push(event));
        client.on('gap', (event) => member.gaps.push(event));
        client.on('error', (event) => member.errors.push(`${event.code}: ${event.message}`));
        client.on('joined', () => joined.add(member));
        client.join(channel);
        members.push(member);
      }
    }
    const allJoined = await waitFor(() => joined.size === members.length, SETTLE_MS);
    const notJoined = members
      .filter((m) => !joined.has(m))
      .slice(0, 5)
      .map((m) => `${m.group} (${m.client.state}, ${m.sockets.length} sockets, errors ${m.errors.slice(-3).join(' / ')})`);
    expect(
      allJoined,
      `${joined.size} of ${members.length} joined; not: ${notJoined.join(', ')}; ${functionErrors.slice(0, 5).join(' | ')}`,
    ).to.equal(true);

    // Publisher: message n of the busy channel goes out no earlier than n * 50 ms; the quiet
    // channel gets one every 3 s. Each seq's payload is remembered to check what clients got.
    const published = new Map<string, Map<number, number>>([
      [BUSY, new Map()],
      [QUIET, new Map()],
    ]);
    const invokeErrors: string[] = [];
    const inFlight = new Set<Promise<void>>();
    const publish = (channel: string, n: number) => {
      const task = fetch(`${stack.httpUrl}/2015-03-31/functions/PublishFunction/invocations`, {
        method: 'POST',
        body: JSON.stringify({ channel, message: { n } }),
      })
        .then(async (response) => {
          const out = (await response.json()) as { seq?: number };
          if (response.status !== 200 || response.headers.get('x-amz-function-error') || typeof out.seq !== 'number') {
            invokeErrors.push(`${channel} #${n}: ${response.status} ${JSON.stringify(out).slice(0, 200)}`);
          } else published.get(channel)?.set(out.seq, n);
        })
        .catch((error) => {
          invokeErrors.push(`${channel} #${n}: ${(error as Error).message}`);
        })
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
    };

    // Killer: every 250 ms, one open socket of the "killed" group is terminated under its client.
    const victims = members.filter((m) => m.group === 'killed');
    let kills = 0;
    const killer = setInterval(() => {
      const open = victims.map((m) => m.sockets.at(-1)).filter((s) => s && s.ws.readyState === WebSocket.OPEN);
      const victim = open[Math.floor(Math.random() * open.length)];
      if (!victim) return;
      victim.life.killed = true;
      victim.ws.terminate();
      kills++;
    }, KILL_EVERY_MS);

    const started = Date.now();
    const busyCount = PUBLISH_FOR_MS / PUBLISH_EVERY_MS;
    let quietCount = 0;
    try {
      for (let n = 1; n <= busyCount; n++) {
        const due = started + n * PUBLISH_EVERY_MS;
        if (due > Date.now()) await sleep(due - Date.now());
        while (inFlight.size >= PUBLISHES_IN_FLIGHT) await Promise.race(inFlight);
        publish(BUSY, n);
        if ((n * PUBLISH_EVERY_MS) % QUIET_EVERY_MS === 0) publish(QUIET, ++quietCount);
      }
      await Promise.all(inFlight);
    } finally {
      clearInterval(killer);
    }
    expect(invokeErrors, 'every publish succeeded').to.deep.equal([]);

    const expected = (channel: string) => (published.get(channel) as Map<number, number>).size;
    const done = (m: Member) => m.messages.length >= expected(m.channel);
    const settled = await waitFor(() => members.every(done), SETTLE_MS);
    const behind = members
      .filter((m) => !done(m))
      .map(
        (m) =>
          `${m.group}: ${m.messages.length}/${expected(m.channel)} (${m.client.state}, ${m.sockets.length} sockets, closes ${m.sockets
            .slice(-3)
            .map((s) => s.life.code)
            .join(' ')}, errors ${m.errors.slice(-3).join(' / ')})`,
      );
    expect(settled, `clients still behind: ${behind.slice(0, 10).join(', ')}; function errors: ${functionErrors.join(' | ')}`).to.equal(
      true,
    );

    // Exactly once, in order: seqs are 1..N with nothing missing, doubled or swapped, and each
    // carries the payload its publish got that seq for.
    expect(expected(BUSY)).to.equal(busyCount);
    expect(expected(QUIET)).to.equal(quietCount);
    for (const member of members) {
      const payloads = published.get(member.channel) as Map<number, number>;
      const seqs = member.messages.map((m) => m.seq);
      expect(seqs, `${member.group} client`).to.deep.equal(Array.from({ length: payloads.size }, (_, i) => i + 1));
      expect(member.messages.map((m) => (m.message as { n: number }).n)).to.deep.equal(seqs.map((s) => payloads.get(s as number)));
      expect(new Set(member.messages.map((m) => m.id)).size).to.equal(payloads.size);
      expect(member.gaps, `${member.group} client gaps`).to.deep.equal([]);
    }

    // The three kinds of cut really happened (at least once per client of the group, on average),
    // so did the roll-overs, and heartbeats prevented idle cuts.
    const lives = (group: Group) => members.filter((m) => m.group === group).flatMap((m) => m.sockets.map((s) => s.life));
    const serverCut = (life: SocketLife) =>
      !life.killed && life.code === 1001 && life.openedAt !== undefined && life.closedAt !== undefined;
    const age = (life: SocketLife) => (life.closedAt as number) - (life.openedAt as number);
    const maxCuts = lives('maxcut').filter((l) => serverCut(l) && age(l) >= MAX_CUT_AGE_MS).length;
    const idleCuts = lives('idle').filter((l) => serverCut(l) && age(l) < MAX_CUT_AGE_MS).length;
    const heartbeatIdleCuts = lives('heartbeat').filter((l) => serverCut(l) && age(l) < MAX_CUT_AGE_MS).length;
    const rollovers = lives('rollover').filter((l) => l.code === 1000 && l.openedAt !== undefined).length;
    expect(maxCuts, 'maximum-duration cuts').to.be.at.least(GROUPS[0].count);
    expect(idleCuts, 'idle cuts').to.be.at.least(GROUPS[3].count);
    expect(kills, 'killed sockets').to.be.at.least(GROUPS[2].count);
    expect(rollovers, 'roll-overs').to.be.at.least(GROUPS[1].count);
    expect(heartbeatIdleCuts, 'idle cuts despite a heartbeat').to.equal(0);
  });
});
