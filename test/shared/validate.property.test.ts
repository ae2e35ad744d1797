/**
 * Properties of the frame validation that faces every client (shared/validate.ts): whatever
 * bytes arrive, it returns a plain object or throws one of the project's typed errors (whose
 * code becomes the error frame), and what it accepts it returns unchanged.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { AirwaveError, InvalidChannelError } from '../../shared/errors.js';
import { CHANNEL_NAME_PATTERN, FORBIDDEN_JSON_KEYS, MAX_JSON_DEPTH } from '../../shared/limits.js';
import { assertChannel, parseChannelList, parseFrame } from '../../shared/validate.js';

/** Runs `f`; returns what it threw, or undefined. */
function thrown(f: () => unknown): unknown {
  try {
    f();
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Bodies a client could send: any text, JSON of any shape, nested JSON, and binary-looking input. */
const body = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.json(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.object().map((o) => JSON.stringify(o) ?? ''),
  fc.uint8Array().map((bytes) => Buffer.from(bytes).toString('latin1')),
);

const channelName = fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,128}$/);

describe('validate (properties)', () => {
  it('parseFrame returns a plain object or throws a bad_json / bad_request AirwaveError, for any body', () => {
    fc.assert(
      fc.property(body, fc.boolean(), (text, isBase64Encoded) => {
        const error = thrown(() => parseFrame(text, isBase64Encoded));
        if (error === undefined) {
          const frame = parseFrame(text, isBase64Encoded);
          expect(frame).to.be.an('object');
          expect(Array.isArray(frame)).to.equal(false);
        } else {
          expect(error).to.be.instanceOf(AirwaveError);
          expect((error as AirwaveError).code).to.be.oneOf(['bad_json', 'bad_request']);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('parseFrame returns an accepted object unchanged: it serialises back to the same text', () => {
    const safeObject = fc
      .dictionary(
        fc.string().filter((k) => !FORBIDDEN_JSON_KEYS.has(k)),
        fc.jsonValue({ maxDepth: 4 }),
      )
      .map((o) => JSON.stringify(o))
      .filter((text) => !/"(__proto__|constructor|prototype)":/.test(text));
    fc.assert(
      fc.property(safeObject, (text) => {
        expect(JSON.stringify(parseFrame(text))).to.equal(text);
      }),
      { numRuns: 300 },
    );
  });

  it('parseFrame refuses a forbidden key at any depth with bad_request', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FORBIDDEN_JSON_KEYS), fc.integer({ min: 0, max: MAX_JSON_DEPTH - 3 }), (key, depth) => {
        // The key inside `depth` wrappers, alternately an object and an array, in an object.
        let text = `{${JSON.stringify(key)}:1}`;
        for (let i = 0; i < depth; i++) text = i % 2 === 0 ? `[${text}]` : `{"a":${text}}`;
        text = `{"a":${text}}`;
        const error = thrown(() => parseFrame(text));
        expect(error).to.be.instanceOf(AirwaveError);
        expect((error as AirwaveError).code).to.equal('bad_request');
      }),
    );
  });

  it('parseFrame refuses nesting deeper than MAX_JSON_DEPTH, and accepts it up to the limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 * MAX_JSON_DEPTH }), fc.boolean(), (depth, arrays) => {
        const open = arrays ? '[' : '{"k":';
        const close = arrays ? ']' : '}';
        const text = `{"k":${open.repeat(depth - 1)}1${close.repeat(depth - 1)}}`;
        const error = thrown(() => parseFrame(text));
        if (depth <= MAX_JSON_DEPTH) expect(error).to.equal(undefined);
        else expect((error as AirwaveError).code).to.equal('bad_request');
      }),
    );
  });

  it('assertChannel accepts exactly the names of CHANNEL_NAME_PATTERN, and throws only InvalidChannelError', () => {
    fc.assert(
      fc.property(fc.oneof(channelName, fc.string({ unit: 'binary', maxLength: 140 }), fc.anything()), (value) => {
        const error = thrown(() => assertChannel(value));
        const valid = typeof value === 'string' && CHANNEL_NAME_PATTERN.test(value);
        if (valid) expect(error).to.equal(undefined);
        else expect(error).to.be.instanceOf(InvalidChannelError);
      }),
      { numRuns: 500 },
    );
  });

  it('parseChannelList round-trips a list of valid names (first occurrence kept) and throws only InvalidChannelError', () => {
    fc.assert(
      fc.property(fc.array(channelName, { maxLength: 20 }), (names) => {
        expect(parseChannelList(names.join(','))).to.deep.equal([...new Set(names)]);
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (raw) => {
        const error = thrown(() => parseChannelList(raw));
        if (error !== undefined) expect(error).to.be.instanceOf(InvalidChannelError);
        else for (const name of parseChannelList(raw)) expect(name).to.match(CHANNEL_NAME_PATTERN);
      }),
      { numRuns: 500 },
    );
  });
});
