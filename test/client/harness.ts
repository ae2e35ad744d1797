/**
 * The client under test with fake timers (injected, so nothing real ever fires) and a fake
 * WebSocket the test drives as if it were the service.
 */
import sinon from 'sinon';
import { connect } from '../../client/src/index.js';
import type { AirwaveClient, ClientEvents, ConnectOptions, EventName } from '../../client/src/types.js';
import { type FakeSocket, fakeWebSocket } from './fake-websocket.js';

export const API_URL = 'wss://abc123.execute-api.eu-west-1.amazonaws.com/dev';

export interface Harness {
  client: AirwaveClient;
  clock: sinon.SinonFakeTimers;
  sockets: FakeSocket[];
  last(): FakeSocket;
  /** Every event the client emitted, by name. */
  events: { [E in EventName]: Array<ClientEvents[E]> };
  /** `seq` of every delivered message of a channel, in delivery order. */
  delivered(channel: string): Array<number | undefined>;
  dispose(): void;
}

/** Delivery frame `n` of `channel`, as the service sends it. */
export const message = (channel: string, n: number): Record<string, unknown> => ({
  type: 'message',
  channel,
  message: { n },
  id: `${channel}-${n}`,
  seq: n,
});

export function harness(options: ConnectOptions = {}): Harness {
  // Only Date is faked globally; the client gets the clock through `timers`.
  const clock = sinon.useFakeTimers({ now: 1_700_000_000_000, toFake: ['Date'] });
  const fake = fakeWebSocket();
  const client = connect(API_URL, {
    WebSocket: fake.WebSocket,
    timers: {
      setTimeout: (callback, ms) => clock.setTimeout(callback, ms),
      clearTimeout: (handle) => clock.clearTimeout(handle as number),
      now: () => clock.now,
    },
    random: () => 0.5,
    ...options,
  });
  const events = { message: [], state: [], error: [], gap: [], sent: [], joined: [], left: [] } as unknown as Harness['events'];
  for (const name of Object.keys(events) as EventName[]) {
    client.on(name, (event) => (events[name] as unknown[]).push(event));
  }
  return {
    client,
    clock,
    sockets: fake.sockets,
    last: fake.last,
    events,
    delivered: (channel) => events.message.filter((e) => e.channel === channel).map((e) => e.seq),
    dispose() {
      client.close();
      clock.restore();
    },
  };
}

/** Runs the pending reconnect timer (the only timer left after a drop) and returns the new socket. */
export function reconnect(h: Harness): FakeSocket {
  const before = h.sockets.length;
  h.clock.next();
  if (h.sockets.length !== before + 1) throw new Error('the next timer did not open a socket');
  return h.last();
}

/** Accepts the socket and acks each joinchannel it carries with the channel's latest seq. */
export function acceptAndAck(socket: FakeSocket, latest: Record<string, number | undefined> = {}): void {
  socket.accept();
  for (const join of socket.actions('joinchannel')) {
    const channel = join.channel as string;
    socket.push({ type: 'joined', channel, connectionId: 'c=', ...(latest[channel] === undefined ? {} : { seq: latest[channel] }) });
  }
}
