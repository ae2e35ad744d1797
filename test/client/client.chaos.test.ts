/**
 * A seeded chaos run against a model of the service, on the fake socket and clock: three
 * channels, publishes from others, the client's own sends, deliveries reordered and 15%
 * duplicated, joins answered by `replay` frames (which carry the client's own messages too, as
 * the real history does), and links dropped at random. Whatever happens, every seq of every
 * channel must end up exactly once as a delivered message or as one of the client's confirmed
 * sends, in order, and none of its confirmed sends may come back as a message.
 */
import { expect } from 'chai';
import type { Receipt } from '../../client/src/types.js';
import type { FakeSocket } from './fake-websocket.js';
import { type Harness, harness } from './harness.js';

/** mulberry32: a small seeded PRNG, so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const CHANNELS = ['a', 'b', 'c'];

function chaos(seed: number): void {
  const random = prng(seed);
  const h: Harness = harness({ channels: CHANNELS, random, rolloverAfterMs: 0, heartbeatIdleMs: 0, maxQueuedFrames: 1_000 });
  try {
    const history = new Map<string, Array<Record<string, unknown>>>(CHANNELS.map((c) => [c, []]));
    const subscribed = new Map<FakeSocket, Set<string>>();
    const read = new Map<FakeSocket, number>();
    let ids = 0;
    const later = (socket: FakeSocket, ms: number, frame: Record<string, unknown>) =>
      h.clock.setTimeout(() => {
        if (socket.readyState === 1) socket.push(frame);
      }, ms);
    const publish = (channel: string, message: unknown, from?: FakeSocket) => {
      const list = history.get(channel) as Array<Record<string, unknown>>;
      const frame = { type: 'message', channel, message, id: `id-${++ids}`, seq: list.length + 1 };
      list.push(frame);
      for (const [socket, channels] of subscribed) {
        if (socket === from || !channels.has(channel) || socket.readyState !== 1) continue;
        later(socket, Math.floor(random() * 60), frame);
        if (random() < 0.15) later(socket, Math.floor(random() * 60), frame);
      }
      return frame;
    };
    /** The service side: answers what the client sent since the last look. */
    const serve = (socket: FakeSocket) => {
      const from = read.get(socket) ?? 0;
      read.set(socket, socket.sent.length);
      for (const frame of socket.sent.slice(from)) {
        const channel = frame.channel as string;
        h.clock.setTimeout(
          () => {
            if (socket.readyState !== 1) return;
            if (frame.action === 'joinchannel') {
              (subscribed.get(socket) ?? subscribed.set(socket, new Set()).get(socket))?.add(channel);
              const list = history.get(channel) as Array<Record<string, unknown>>;
              if (typeof frame.since === 'number') {
                const missed = list.slice(frame.since);
                for (let i = 0; i < missed.length; i += 4) socket.push({ type: 'replay', channel, messages: missed.slice(i, i + 4) });
              }
              socket.push({ type: 'joined', channel, connectionId: 'c=', seq: list.length });
            } else if (frame.action === 'sendmessage') {
              const published = publish(channel, frame.message, socket);
              later(socket, Math.floor(random() * 40), { type: 'sent', channel, id: published.id, seq: published.seq, ref: frame.ref });
            } else if (frame.action === 'ping') socket.push({ type: 'pong' });
          },
          Math.floor(random() * 40),
        );
      }
    };

    for (let step = 0; step < 3_000; step++) {
      const socket = h.last();
      if (socket.readyState === 0) socket.accept();
      serve(socket);
      const r = random();
      if (r < 0.3) publish(CHANNELS[Math.floor(random() * 3)], { step });
      else if (r < 0.38) h.client.send(CHANNELS[Math.floor(random() * 3)], { own: step });
      else if (r < 0.385 && socket.readyState === 1) socket.drop();
      h.clock.tick(10);
    }
    // Calm: no more drops or publishes; let repairs and replays finish.
    for (let i = 0; i < 200; i++) {
      const socket = h.last();
      if (socket.readyState === 0) socket.accept();
      serve(socket);
      h.clock.tick(500);
    }
    {
      // The receipts of the client's own sends (each also resolved its send's promise).
      const confirmed: Receipt[] = h.events.sent;
      expect(h.events.gap, 'no gap: history keeps everything').to.deep.equal([]);
      expect(h.sockets.length, 'links were dropped').to.be.greaterThan(5);
      for (const channel of CHANNELS) {
        const delivered = h.delivered(channel) as number[];
        const mine = confirmed.filter((r) => r.channel === channel).map((r) => r.seq as number);
        const all = [...delivered, ...mine].sort((x, y) => x - y);
        const total = (history.get(channel) as unknown[]).length;
        // Messages published before the first join's ack are not the client's.
        const start = h.events.joined.find((j) => j.channel === channel)?.seq ?? 0;
        expect(all, `${channel}: every seq once`).to.deep.equal(Array.from({ length: total - start }, (_, i) => start + i + 1));
        expect(delivered, `${channel}: in order`).to.deep.equal([...delivered].sort((x, y) => x - y));
        expect(mine.length, `${channel}: own sends confirmed`).to.be.greaterThan(0);
      }
    }
  } finally {
    h.dispose();
  }
}

describe('client chaos (seeded model of the service)', () => {
  for (const seed of [1, 2, 3, 4, 5]) it(`seed ${seed}: every seq once, in order, own messages never echoed`, () => chaos(seed));
});
