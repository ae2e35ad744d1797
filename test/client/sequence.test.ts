import { expect } from 'chai';
import { ChannelSequence } from '../../client/src/sequence.js';
import type { ClientEvents, MessageEvent } from '../../client/src/types.js';

function sequence(maxHeld?: number) {
  const delivered: MessageEvent[] = [];
  const gaps: Array<ClientEvents['gap']> = [];
  const seq = new ChannelSequence('news', { deliver: (e) => delivered.push(e), gap: (e) => gaps.push(e) }, maxHeld);
  const msg = (n: number, id = `id${n}`) => seq.message({ channel: 'news', message: { n }, id, seq: n });
  return { seq, delivered, gaps, msg, seqs: () => delivered.map((e) => e.seq) };
}

describe('ChannelSequence', () => {
  describe('after a join ack', () => {
    it('delivers messages in seq order when they arrive in order', () => {
      const { seq, msg, seqs } = sequence();
      seq.ack(10);
      for (const n of [11, 12, 13]) msg(n);
      expect(seqs()).to.deep.equal([11, 12, 13]);
      expect(seq.needsRepair()).to.equal(false);
    });

    it('holds a message ahead of a hole and releases both once the hole fills', () => {
      const { seq, msg, seqs } = sequence();
      seq.ack(10);
      msg(12);
      expect(seqs()).to.deep.equal([]);
      expect(seq.needsRepair()).to.equal(true);
      msg(11);
      expect(seqs()).to.deep.equal([11, 12]);
      expect(seq.needsRepair()).to.equal(false);
    });

    it('drops duplicates by seq when a replay overlaps live deliveries', () => {
      const { seq, msg, seqs } = sequence();
      seq.ack(0);
      for (const n of [1, 2, 3, 2, 3, 1, 4]) msg(n);
      expect(seqs()).to.deep.equal([1, 2, 3, 4]);
    });

    it('drops a duplicate held message (same seq twice before the hole fills)', () => {
      const { seq, msg, seqs } = sequence();
      seq.ack(0);
      msg(2);
      msg(2);
      msg(1);
      expect(seqs()).to.deep.equal([1, 2]);
    });

    it('drops duplicates by id for frames that carry no seq', () => {
      const { seq, delivered } = sequence();
      seq.ack(undefined);
      seq.message({ channel: 'news', message: 'a', id: 'x' });
      seq.message({ channel: 'news', message: 'a', id: 'x' });
      seq.message({ channel: 'news', message: 'b', id: 'y' });
      expect(delivered.map((e) => e.id)).to.deep.equal(['x', 'y']);
    });

    it('drops a copy with a known id but a new seq (a retried backend publish) and counts its seq, so no hole stalls later messages', () => {
      const { seq, msg, seqs, gaps } = sequence();
      seq.ack(0);
      msg(1, 'x');
      msg(2, 'x'); // the retry's copy: same id, its own seq
      msg(3, 'y');
      expect(seqs()).to.deep.equal([1, 3]);
      expect(seq.needsRepair()).to.equal(false);
      expect(gaps).to.deep.equal([]);
    });

    it('delivers an id once even when its copy arrives first, held behind a hole', () => {
      const { seq, msg, delivered } = sequence();
      seq.ack(0);
      msg(3, 'x'); // the copy, ahead of the original
      msg(2, 'x');
      msg(1, 'w');
      expect(delivered.map((e) => [e.id, e.seq])).to.deep.equal([
        ['w', 1],
        ['x', 2],
      ]);
      expect(seq.needsRepair()).to.equal(false);
    });

    it("counts the sender's own receipt as delivered, so its seq is no hole", () => {
      const { seq, msg, seqs } = sequence();
      seq.ack(4);
      msg(5);
      seq.receipt(6);
      msg(7);
      expect(seqs()).to.deep.equal([5, 7]);
      expect(seq.needsRepair()).to.equal(false);
    });

    it('waits for a receipt that overtook an earlier message, then releases in order', () => {
      const { seq, msg, seqs } = sequence();
      seq.ack(4);
      seq.receipt(6);
      msg(7);
      expect(seqs()).to.deep.equal([]);
      msg(5);
      expect(seqs()).to.deep.equal([5, 7]);
    });

    it('needs repair when a later ack announces a seq that has not arrived', () => {
      const { seq, msg } = sequence();
      seq.ack(3);
      seq.ack(5);
      expect(seq.needsRepair()).to.equal(true);
      msg(4);
      msg(5);
      expect(seq.needsRepair()).to.equal(false);
    });
  });

  describe('the baseline of a first join', () => {
    it('keeps a live message that came before the ack even if the ack says it is older', () => {
      const { seq, msg, seqs } = sequence();
      seq.awaitingAck = true;
      msg(8);
      seq.ack(8);
      expect(seqs()).to.deep.equal([8]);
      msg(9);
      expect(seqs()).to.deep.equal([8, 9]);
    });

    it('starts at the ack when the message held before it is newer', () => {
      const { seq, msg, seqs } = sequence();
      seq.awaitingAck = true;
      msg(6);
      seq.ack(5);
      expect(seqs()).to.deep.equal([6]);
    });

    it('holds messages until the ack, then releases them in order', () => {
      const { seq, msg, seqs } = sequence();
      seq.awaitingAck = true;
      msg(7);
      msg(6);
      expect(seqs()).to.deep.equal([]);
      seq.ack(5);
      expect(seqs()).to.deep.equal([6, 7]);
    });

    it('drops a message at or before the ack seq that arrives after the ack (it predates the join)', () => {
      const { seq, msg, seqs } = sequence();
      seq.awaitingAck = true;
      seq.ack(5);
      msg(5);
      msg(6);
      expect(seqs()).to.deep.equal([6]);
    });

    it('starts at 1 when the ack says nothing was published yet', () => {
      const { seq, msg, seqs } = sequence();
      seq.awaitingAck = true;
      seq.ack(undefined);
      msg(2);
      expect(seqs()).to.deep.equal([]);
      msg(1);
      expect(seqs()).to.deep.equal([1, 2]);
    });

    it('starts at the first message on a channel joined by ?channels= (no ack comes)', () => {
      const { msg, seqs } = sequence();
      msg(41);
      msg(42);
      msg(40);
      expect(seqs()).to.deep.equal([41, 42]);
    });

    it('starts at the oldest held message when the ack never comes', () => {
      const { seq, msg, seqs } = sequence();
      seq.awaitingAck = true;
      msg(12);
      msg(11);
      seq.startFromHeld();
      expect(seqs()).to.deep.equal([11, 12]);
      expect(seq.last).to.equal(12);
    });
  });

  describe('gaps', () => {
    it('reports a history gap only when its grace ends, then releases what was held after it', () => {
      const { seq, msg, seqs, gaps } = sequence();
      seq.ack(10);
      msg(11);
      msg(30);
      seq.gap(11, 25);
      for (let n = 25; n <= 29; n++) msg(n);
      expect(gaps).to.deep.equal([]);
      expect(seq.needsRepair()).to.equal(true);
      seq.applyGap();
      expect(gaps).to.deep.equal([{ channel: 'news', from: 12, to: 24 }]);
      expect(seqs()).to.deep.equal([11, 25, 26, 27, 28, 29, 30]);
      expect(seq.needsRepair()).to.equal(false);
    });

    it('delivers messages of a reported gap that arrive during the grace (a publish still in flight)', () => {
      const { seq, msg, seqs, gaps } = sequence();
      seq.ack(10);
      seq.gap(10, 13);
      msg(13);
      msg(12);
      msg(11);
      expect(seq.gapPending).to.equal(false);
      seq.applyGap();
      expect(gaps).to.deep.equal([]);
      expect(seqs()).to.deep.equal([11, 12, 13]);
    });

    it('reports each run of a gap still missing when the grace ends, and delivers the rest in order', () => {
      const { seq, msg, seqs, gaps } = sequence();
      seq.ack(10);
      seq.gap(10, 20);
      msg(15);
      msg(20);
      seq.applyGap();
      expect(gaps).to.deep.equal([
        { channel: 'news', from: 11, to: 14 },
        { channel: 'news', from: 16, to: 19 },
      ]);
      expect(seqs()).to.deep.equal([15, 20]);
    });

    it('reports only the part of a gap this client does not already have', () => {
      const { seq, msg, gaps } = sequence();
      seq.ack(0);
      for (let n = 1; n <= 5; n++) msg(n);
      seq.gap(2, 9);
      seq.applyGap();
      expect(gaps).to.deep.equal([{ channel: 'news', from: 6, to: 8 }]);
    });

    it('reports nothing when the gap is already covered', () => {
      const { seq, msg, gaps } = sequence();
      seq.ack(0);
      for (let n = 1; n <= 5; n++) msg(n);
      seq.gap(1, 4);
      expect(seq.gapPending).to.equal(false);
      seq.applyGap();
      expect(gaps).to.deep.equal([]);
      expect(seq.last).to.equal(5);
    });

    it('gives up on a hole once too many messages are held, with a gap event', () => {
      const { seq, msg, seqs, gaps } = sequence(3);
      seq.ack(0);
      for (const n of [3, 4, 5, 6]) msg(n);
      expect(gaps).to.deep.equal([{ channel: 'news', from: 1, to: 2 }]);
      expect(seqs()).to.deep.equal([3, 4, 5, 6]);
    });
  });
});
