/**
 * Properties of the client's parser of service frames (client/src/frames.ts): any text from the
 * socket gives a frame with checked field types and never a throw; a well-formed frame comes
 * back with its fields as sent.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { parseServiceFrame, type ServiceFrame } from '../../client/src/frames.js';

const frameText = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.json(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .dictionary(fc.constantFrom('type', 'channel', 'id', 'seq', 'ref', 'message', 'messages', 'code'), fc.jsonValue({ maxDepth: 2 }))
    .map((o) => JSON.stringify(o)),
);

/** Every field of a parsed frame has the type the client code relies on. */
function expectChecked(frame: ServiceFrame): void {
  expect(frame.type).to.be.a('string');
  expect(frame.channel).to.be.a('string');
  if (frame.id !== undefined) expect(frame.id).to.be.a('string');
  if (frame.ref !== undefined) expect(frame.ref).to.be.a('string');
  if (frame.seq !== undefined) expect(Number.isSafeInteger(frame.seq) && frame.seq >= 0).to.equal(true);
  expect(frame.raw).to.be.an('object');
  expect(Array.isArray(frame.raw)).to.equal(false);
}

describe('client frames (properties)', () => {
  it('parses any text without throwing, into fields of the checked types', () => {
    fc.assert(
      fc.property(frameText, (text) => expectChecked(parseServiceFrame(text))),
      { numRuns: 400 },
    );
  });

  it('returns a well-formed frame with its fields as sent', () => {
    const frame = fc.record(
      {
        type: fc.constantFrom('message', 'joined', 'left', 'sent', 'pong', 'error', 'replay'),
        channel: fc.string({ minLength: 1 }),
        id: fc.string(),
        seq: fc.maxSafeNat(),
        ref: fc.string(),
        message: fc.jsonValue(),
      },
      { requiredKeys: ['type'] },
    );
    fc.assert(
      fc.property(frame, (sent) => {
        const text = JSON.stringify(sent);
        const got = parseServiceFrame(text);
        expect(got.type).to.equal(sent.type);
        expect(got.channel).to.equal(sent.channel ?? '');
        expect(got.id).to.equal(sent.id);
        expect(got.seq).to.equal(sent.seq);
        expect(got.ref).to.equal(sent.ref);
        expect(got.message).to.deep.equal(JSON.parse(text).message);
        expect(got.raw).to.deep.equal(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('treats a field of the wrong type as absent instead of trusting it', () => {
    const notString = fc.oneof(
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string(), { maxLength: 2 }),
      fc.object({ maxDepth: 1 }),
    );
    const badSeq = fc.oneof(fc.integer({ max: -1 }), fc.double({ noInteger: true }), fc.constant(2 ** 53), fc.string(), fc.constant(null));
    fc.assert(
      fc.property(notString, notString, notString, badSeq, (channel, id, ref, seq) => {
        const got = parseServiceFrame(JSON.stringify({ type: 'message', channel, id, ref, seq }));
        expect(got).to.deep.include({ type: 'message', channel: '', id: undefined, ref: undefined, seq: undefined });
      }),
      { numRuns: 300 },
    );
  });
});
