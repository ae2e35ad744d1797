/**
 * Properties of the HTTP/1.1 response parser the fast poster reads API Gateway's answers with
 * (shared/http-response-parser.ts). The peer is on the network: whatever bytes arrive, the
 * parser answers complete, incomplete or invalid and never throws; and because the poster
 * re-parses its buffer after every chunk, bytes arriving in pieces must give the same answer as
 * the whole response.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { parseResponse } from '../../shared/http-response-parser.js';

/** One response as a server could frame it, and what the parser must make of it. */
interface Generated {
  bytes: Buffer;
  status: number;
  keepAlive: boolean;
}

const token = fc
  .stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/)
  .filter((name) => !/^(connection|content-length|transfer-encoding)$/i.test(name));
const headerValue = fc.stringMatching(/^[A-Za-z0-9 ;=.,/-]{0,30}$/).map((v) => v.trim());

/** A complete response: optional 1xx interim responses, then a final one framed by length, chunks, or a bodiless status. */
const response: fc.Arbitrary<Generated> = fc
  .record({
    interim: fc.array(fc.constantFrom(100, 102, 103), { maxLength: 2 }),
    version: fc.constantFrom('1.1', '1.0'),
    status: fc.oneof(fc.constantFrom(200, 204, 304, 403, 410, 413, 429, 500, 502, 504), fc.integer({ min: 200, max: 599 })),
    close: fc.boolean(),
    headers: fc.array(fc.tuple(token, headerValue), { maxLength: 4 }),
    framing: fc.constantFrom('length', 'chunked'),
    chunks: fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 4 }),
    extension: fc.boolean(),
    headerCase: fc.boolean(),
  })
  .map(({ interim, version, status, close, headers, framing, chunks, extension, headerCase }) => {
    const name = (n: string) => (headerCase ? n.toUpperCase() : n.toLowerCase());
    const parts: Buffer[] = interim.map((code) => Buffer.from(`HTTP/1.1 ${code} Interim\r\n\r\n`, 'latin1'));
    let head = `HTTP/${version} ${status} Reason\r\n`;
    for (const [key, value] of headers) head += `${key}: ${value}\r\n`;
    if (close) head += `${name('Connection')}: close\r\n`;
    const bodiless = status === 204 || status === 304;
    const body = Buffer.concat(chunks);
    if (bodiless) parts.push(Buffer.from(`${head}\r\n`, 'latin1'));
    else if (framing === 'length') parts.push(Buffer.from(`${head}${name('Content-Length')}: ${body.length}\r\n\r\n`, 'latin1'), body);
    else {
      parts.push(Buffer.from(`${head}${name('Transfer-Encoding')}: chunked\r\n\r\n`, 'latin1'));
      for (const chunk of chunks) {
        parts.push(
          Buffer.from(`${chunk.length.toString(16)}${extension ? ';x=1' : ''}\r\n`, 'latin1'),
          Buffer.from(chunk),
          Buffer.from('\r\n'),
        );
      }
      parts.push(Buffer.from('0\r\n\r\n'));
    }
    return { bytes: Buffer.concat(parts), status, keepAlive: version === '1.1' && !close };
  });

/** Cut points that split `length` bytes into pieces. */
const cuts = (length: number) => fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, length - 1) }), { maxLength: 6 });

describe('http-response-parser (properties)', () => {
  it('never throws on any bytes, and a complete answer ends within the bytes it was given', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 400 }),
          fc.string().map((s) => Buffer.from(`HTTP/1.1 ${s}`)),
        ),
        (raw) => {
          const data = Buffer.from(raw);
          const parsed = parseResponse(data);
          if (typeof parsed === 'object') {
            expect(parsed.end).to.be.within(1, data.length);
            expect(parsed.status).to.be.within(0, 999);
          } else expect(parsed).to.be.oneOf(['incomplete', 'invalid']);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('never throws on a real response with bytes changed, cut or duplicated', () => {
    fc.assert(
      fc.property(response, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(), (r, at, byte, cut) => {
        const changed = Buffer.from(r.bytes);
        changed[at % changed.length] = byte;
        for (const data of [changed, r.bytes.subarray(0, cut % r.bytes.length), Buffer.concat([r.bytes, r.bytes])]) {
          const parsed = parseResponse(data);
          if (typeof parsed === 'object') expect(parsed.end).to.be.within(1, data.length);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('reads the status, the end and keep-alive of a whole response', () => {
    fc.assert(
      fc.property(response, (r) => {
        expect(parseResponse(r.bytes)).to.deep.equal({ status: r.status, end: r.bytes.length, keepAlive: r.keepAlive });
      }),
      { numRuns: 500 },
    );
  });

  it('answers incomplete for every proper prefix of a response (no early answer from partial bytes)', () => {
    fc.assert(
      fc.property(response, (r) => {
        for (let length = 0; length < r.bytes.length; length++)
          expect(parseResponse(r.bytes.subarray(0, length)), `prefix ${length}`).to.equal('incomplete');
      }),
      { numRuns: 200 },
    );
  });

  it('gives the same answer for the response arriving in pieces as for it whole, bytes after it left out of `end`', () => {
    fc.assert(
      fc.property(
        response.chain((r) => fc.tuple(fc.constant(r), cuts(r.bytes.length), fc.uint8Array({ maxLength: 20 }))),
        ([r, points, extra]) => {
          const stream = Buffer.concat([r.bytes, extra]);
          const bounds = [...points.filter((p) => p < stream.length), stream.length].sort((a, b) => a - b);
          // As the fast poster does: append each piece to what it holds and parse again.
          let held = Buffer.alloc(0);
          let answer: ReturnType<typeof parseResponse> = 'incomplete';
          let from = 0;
          for (const to of bounds) {
            held = Buffer.concat([held, stream.subarray(from, to)]);
            from = to;
            answer = parseResponse(held);
            if (answer !== 'incomplete') break;
          }
          expect(answer).to.deep.equal({ status: r.status, end: r.bytes.length, keepAlive: r.keepAlive });
        },
      ),
      { numRuns: 500 },
    );
  });
});
