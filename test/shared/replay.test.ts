import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'chai';
import { configure, reset } from '../../shared/dependencies.js';
import { ReplayIncompleteError } from '../../shared/errors.js';
import { API_GATEWAY_MESSAGE_BYTES } from '../../shared/limits.js';
import type { Poster, PostOutcome } from '../../shared/poster.js';
import { messageFrameText } from '../../shared/protocol.js';
import { REPLAY_FRAME_BYTES, type ReplayChunk, ReplayPacker, replay } from '../../shared/replay.js';
import { appendHistory, nextSequence, readSequence } from '../../shared/store.js';
import { historyKey, historySortKey } from '../../shared/table-keys.js';
import { type LocalDynamo, startDynamo } from '../helpers/dynamo.js';

type Frame = Record<string, unknown>;

/** A frame of `seq` whose text is exactly `bytes` long (UTF-8). */
function frameOfBytes(channel: string, seq: number, bytes: number, fill = 'x'): string {
  const bare = messageFrameText(channel, '', `id${seq}`, seq);
  const room = bytes - Buffer.byteLength(bare);
  const fillBytes = Buffer.byteLength(fill);
  const text = messageFrameText(channel, fill.repeat(Math.floor(room / fillBytes)) + 'x'.repeat(room % fillBytes), `id${seq}`, seq);
  expect(Buffer.byteLength(text)).to.equal(bytes);
  return text;
}

/** Feeds frames through a packer and returns every replay frame it produced, parsed, with its size. */
function pack(
  packer: ReplayPacker,
  items: Array<[number, string | undefined]>,
): Array<{ bytes: number; frame: Frame; chunk: ReplayChunk }> {
  const chunks: ReplayChunk[] = [];
  for (const [seq, text] of items) {
    const full = text === undefined ? packer.skip(seq) : packer.add(seq, text);
    if (full) chunks.push(full);
  }
  const last = packer.take();
  if (last) chunks.push(last);
  return chunks.map((chunk) => ({ bytes: Buffer.byteLength(chunk.text), frame: JSON.parse(chunk.text), chunk }));
}

describe('shared/replay', () => {
  describe('ReplayPacker', () => {
    it('fills a replay frame to exactly its byte limit, and one byte more opens a second frame', () => {
      const channel = 'pack';
      const envelope = Buffer.byteLength('{"type":"replay","channel":"pack","messages":[]}');
      const limit = 10_000;
      // Three frames and two commas that add up to the limit exactly.
      const sizes = [3000, 3000, limit - envelope - 6000 - 2];
      const exact = pack(
        new ReplayPacker(channel, limit),
        sizes.map((size, i) => [i + 1, frameOfBytes(channel, i + 1, size)]),
      );
      expect(exact.map((c) => c.bytes)).to.deep.equal([limit]);
      expect((exact[0].frame.messages as Frame[]).map((f) => f.seq)).to.deep.equal([1, 2, 3]);

      const over = pack(
        new ReplayPacker(channel, limit),
        sizes.map((size, i) => [i + 1, frameOfBytes(channel, i + 1, i === 2 ? size + 1 : size)]),
      );
      expect(over.map((c) => (c.frame.messages as Frame[]).map((f) => f.seq))).to.deep.equal([[1, 2], [3]]);
      for (const c of over) expect(c.bytes).to.be.at.most(limit);
    });

    it('counts UTF-8 bytes, not characters', () => {
      const channel = 'utf8';
      const frames = Array.from({ length: 10 }, (_, i) => frameOfBytes(channel, i + 1, 3000, 'é€😀'));
      const chunks = pack(
        new ReplayPacker(channel, 10_000),
        frames.map((text, i) => [i + 1, text]),
      );
      expect(chunks.map((c) => (c.frame.messages as Frame[]).length)).to.deep.equal([3, 3, 3, 1]);
      for (const c of chunks) expect(c.bytes).to.be.at.most(10_000);
      expect(chunks.flatMap((c) => c.frame.messages as Frame[])).to.deep.equal(frames.map((f) => JSON.parse(f)));
    });

    it('posts a frame too big for any replay frame alone in its own', () => {
      const channel = 'big';
      const chunks = pack(new ReplayPacker(channel, 5_000), [
        [1, frameOfBytes(channel, 1, 1000)],
        [2, frameOfBytes(channel, 2, 8000)],
        [3, frameOfBytes(channel, 3, 1000)],
      ]);
      expect(chunks.map((c) => (c.frame.messages as Frame[]).map((f) => f.seq))).to.deep.equal([[1], [2], [3]]);
    });

    it('lists skipped numbers in `skipped`, counted in the size, and reports the last seq accounted for', () => {
      const channel = 'skip';
      const envelope = Buffer.byteLength('{"type":"replay","channel":"skip","messages":[]}');
      const limit = envelope + 1000 + Buffer.byteLength(',"skipped":[2]');
      const fits = pack(new ReplayPacker(channel, limit), [
        [1, frameOfBytes(channel, 1, 1000)],
        [2, undefined],
      ]);
      expect(fits).to.have.length(1);
      expect(fits[0].bytes).to.equal(limit);
      expect(fits[0].frame.skipped).to.deep.equal([2]);
      expect(fits[0].chunk).to.include({ lastSeq: 2, messages: 1 });
      const split = pack(new ReplayPacker(channel, limit), [
        [1, frameOfBytes(channel, 1, 1000)],
        [12, undefined],
      ]);
      expect(split.map((c) => [c.frame.messages, c.frame.skipped])).to.deep.equal([
        [[JSON.parse(frameOfBytes(channel, 1, 1000))], undefined],
        [[], [12]],
      ]);
    });

    it('at the default limit packs eight 16,000-byte messages per post (13 posts for 100) and seven at 16 KB', () => {
      const channel = 'default-limit';
      const count = (messageBytes: number): number[] =>
        pack(
          new ReplayPacker(channel),
          Array.from({ length: 100 }, (_, i) => [i + 1, messageFrameText(channel, 'x'.repeat(messageBytes - 2), 'a'.repeat(16), i + 1)]),
        ).map((c) => {
          expect(c.bytes).to.be.at.most(REPLAY_FRAME_BYTES);
          return (c.frame.messages as Frame[]).length;
        });
      expect(REPLAY_FRAME_BYTES).to.be.below(API_GATEWAY_MESSAGE_BYTES);
      expect(count(16_000)).to.have.length(13);
      expect(count(16_000)[0]).to.equal(8);
      expect(count(16_384)).to.have.length(15);
    });
  });

  describe('replay (against dynalite)', () => {
    let db: LocalDynamo;
    before(async () => {
      db = await startDynamo({ HISTORY_SIZE: '20' });
    });
    after(async () => {
      reset();
      await db.stop();
    });

    /** A poster that records what it accepts, answering `script` outcomes first. */
    function fakePoster(script: PostOutcome[] = []): Poster & { posts: string[] } {
      const posts: string[] = [];
      return {
        posts,
        async post(_id, data) {
          const outcome = script.shift() ?? 'ok';
          if (outcome === 'ok') posts.push(data);
          return outcome;
        },
      };
    }
    const framesOf = (posts: string[]): Frame[] => posts.map((p) => JSON.parse(p));
    const delivered = (posts: string[]): number[] =>
      framesOf(posts)
        .filter((f) => f.type === 'replay')
        .flatMap((f) => (f.messages as Frame[]).map((m) => m.seq as number));
    const skipped = (posts: string[]): number[] =>
      framesOf(posts)
        .filter((f) => f.type === 'replay')
        .flatMap((f) => (f.skipped as number[] | undefined) ?? []);
    const noSleep = async () => {};

    /** Publishes the history rows of `count` messages (seq and row, no fan-out). */
    async function store(channel: string, count: number, bytes = 100): Promise<void> {
      for (let i = 0; i < count; i++) {
        const seq = await nextSequence(channel);
        await appendHistory(channel, seq, `id${seq}`, messageFrameText(channel, 'x'.repeat(bytes), `id${seq}`, seq));
      }
    }

    async function putRow(channel: string, seq: number, ttl: number): Promise<void> {
      await db.doc.send(
        new PutCommand({
          TableName: db.tableName,
          Item: {
            pk: historyKey(channel),
            sk: historySortKey(seq),
            id: `id${seq}`,
            frame: messageFrameText(channel, seq, `id${seq}`, seq),
            ttl,
          },
        }),
      );
    }

    it('reads every page it needs: 20 rows over 3-row pages, and 20 rows of 65 KB (1.3 MB) over 1 MB DynamoDB pages', async () => {
      await store('paged', 20);
      const poster = fakePoster();
      await replay('c=', 'paged', 0, await readSequence('paged'), { poster, pageSize: 3, sleep: noSleep });
      expect(delivered(poster.posts)).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 1));

      await store('paged-big', 20, 65_000);
      const big = fakePoster();
      const result = await replay('c=', 'paged-big', 0, await readSequence('paged-big'), { poster: big, sleep: noSleep });
      expect(delivered(big.posts)).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(result).to.include({ replayed: 20, gap: false, posts: 20 });
    });

    it('replays at most HistorySize messages, the newest, and reports the older ones as a gap', async () => {
      await store('long', 30);
      const poster = fakePoster();
      const result = await replay('c=', 'long', 0, await readSequence('long'), { poster, sleep: noSleep });
      const [gap] = framesOf(poster.posts);
      expect(gap).to.include({ type: 'error', code: 'history_gap', channel: 'long', since: 0, oldest: 11 });
      expect(delivered(poster.posts)).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 11));
      expect(result).to.include({ gap: true, replayed: 20, lastSeq: 30 });
    });

    it('skips expired rows and reports them as a gap; a row newer than a kept one is kept', async () => {
      const now = Math.floor(Date.now() / 1000);
      for (let seq = 1; seq <= 3; seq++) await putRow('aged', seq, now - 10);
      await putRow('aged', 4, now + 600);
      await putRow('aged', 5, now - 1); // expired a moment after a kept row: written out of order
      const poster = fakePoster();
      await replay('c=', 'aged', 0, { seq: 5 }, { poster, sleep: noSleep });
      expect(framesOf(poster.posts)[0]).to.include({ code: 'history_gap', oldest: 4 });
      expect(delivered(poster.posts)).to.deep.equal([4, 5]);
    });

    it('claims a number missing after a kept row once settled: skipped for the client, refused to its late publisher', async () => {
      await store('holes', 2);
      await nextSequence('holes'); // 3: taken, never written
      await store('holes', 1);
      const sequence = await readSequence('holes');
      const poster = fakePoster();
      const slept: number[] = [];
      const result = await replay('c=', 'holes', 1, sequence, {
        poster,
        settleMs: 50,
        sleep: async (ms) => {
          slept.push(ms);
          await new Promise((r) => setTimeout(r, ms));
        },
      });
      expect(delivered(poster.posts)).to.deep.equal([2, 4]);
      expect(skipped(poster.posts)).to.deep.equal([3]);
      expect(framesOf(poster.posts).filter((f) => f.type === 'error')).to.deep.equal([]);
      expect(result).to.include({ skipped: 1, gap: false, lastSeq: 4 });
      // The late publisher finds its number claimed and must not deliver.
      expect(await appendHistory('holes', 3, 'late', messageFrameText('holes', 'late', 'late', 3))).to.equal(false);
      // A second replay reads the tombstone: still skipped, without waiting or writing.
      const again = fakePoster();
      await replay('d=', 'holes', 1, await readSequence('holes'), { poster: again, sleep: noSleep, settleMs: 0 });
      expect(skipped(again.posts)).to.deep.equal([3]);
    });

    it('leaves a number still on its way to the live fan-out when it cannot settle within the budget', async () => {
      await store('inflight', 1);
      await nextSequence('inflight'); // 2: its publisher is writing right now
      const poster = fakePoster();
      const result = await replay('c=', 'inflight', 1, await readSequence('inflight'), {
        poster,
        settleMs: 60_000,
        sleep: noSleep,
      });
      expect(poster.posts).to.deep.equal([]);
      expect(result).to.include({ gap: false, skipped: 0 });
      expect(await appendHistory('inflight', 2, 'ok', messageFrameText('inflight', 'ok', 'ok', 2))).to.equal(true);
    });

    it('reports a number missing before every kept row as a gap once settled (it may have expired)', async () => {
      await nextSequence('head'); // 1: gone, nothing tells whether it ever was stored
      await store('head', 2);
      const poster = fakePoster();
      await replay('c=', 'head', 0, { seq: 3, allocatedAt: Date.now() - 5_000 }, { poster, sleep: noSleep });
      expect(framesOf(poster.posts)[0]).to.include({ code: 'history_gap', since: 0, oldest: 2 });
      expect(delivered(poster.posts)).to.deep.equal([2, 3]);
    });

    it('retries throttled posts, then throws replay_incomplete with the last seq delivered when the budget is spent', async () => {
      await store('budget', 6, 3_000);
      let clock = 0;
      const poster = fakePoster(['throttled', 'throttled', 'ok', ...Array<PostOutcome>(100).fill('throttled')]);
      const error = await replay('c=', 'budget', 0, await readSequence('budget'), {
        poster,
        frameBytes: 7_000,
        budgetMs: 5_000,
        now: () => clock,
        sleep: async (ms) => {
          clock += ms;
        },
      }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ReplayIncompleteError);
      expect((error as ReplayIncompleteError).details).to.deep.equal({ channel: 'budget', lastSeq: 2 });
      expect(delivered(poster.posts)).to.deep.equal([1, 2]);
      expect(clock).to.be.below(5_000);
    });

    it('turns a DynamoDB failure after posts went out into replay_incomplete with the last seq delivered', async () => {
      await store('faulty', 3, 3_000);
      await nextSequence('faulty'); // 4: never written, its claim will fail
      await store('faulty', 1, 3_000);
      const real = db.doc;
      const send = (async (command: unknown) => {
        if (command instanceof PutCommand && command.input.Item?.skipped === true) {
          throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
        }
        return real.send(command as never);
      }) as typeof real.send;
      configure({ clients: { ddb: Object.assign(Object.create(real), { send }) } });
      try {
        const poster = fakePoster();
        const error = await replay('c=', 'faulty', 0, await readSequence('faulty'), {
          poster,
          frameBytes: 7_000,
          settleMs: 0,
          sleep: noSleep,
        }).catch((e: unknown) => e);
        expect(error).to.be.instanceOf(ReplayIncompleteError);
        expect((error as ReplayIncompleteError).details).to.deep.equal({ channel: 'faulty', lastSeq: 2 });
        expect(delivered(poster.posts)).to.deep.equal([1, 2]);
      } finally {
        configure({ clients: { ddb: real } });
      }
    });

    it('stops quietly at 410: the connection is gone', async () => {
      await store('gone', 3, 3_000);
      const poster = fakePoster(['gone']);
      const result = await replay('c=', 'gone', 0, await readSequence('gone'), { poster, frameBytes: 4_000, sleep: noSleep });
      expect(result).to.include({ gone: true, posts: 0, lastSeq: 0 });
    });
  });
});
