import { expect } from 'chai';
import ws, { WebSocket } from 'ws';
import { textFrame, writeFrame } from '../../../local/apigateway/websocket-frames.js';

/** ws's own framing (exported on the CommonJS default, untyped). */
const { Sender } = ws as unknown as { Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] } };

describe('local/websocket-frames', () => {
  describe('textFrame', () => {
    // Each length class of the header: 7-bit, 16-bit and 64-bit lengths, at their edges.
    for (const length of [0, 1, 125, 126, 2048, 65_535, 65_536, 128 * 1024]) {
      it(`frames ${length} bytes exactly as ws frames a server's text message`, () => {
        const payload = Buffer.alloc(length, 'a');
        const expected = Buffer.concat(Sender.frame(payload, { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false }));
        expect(textFrame(payload).equals(expected)).to.equal(true);
      });
    }
  });

  describe('writeFrame', () => {
    it('refuses (so the caller uses send) when the socket has no ws sender', () => {
      const socket = Object.create(WebSocket.prototype) as WebSocket;
      expect(writeFrame(socket, textFrame(Buffer.from('x')))).to.equal(false);
    });

    it('refuses while the sender is busy, and writes through it when idle', () => {
      const written: Buffer[][] = [];
      const sender = { _state: 1, sendFrame: (list: Buffer[]) => void written.push(list) };
      const socket = Object.assign(Object.create(WebSocket.prototype), { _sender: sender }) as WebSocket;
      const frame = textFrame(Buffer.from('hi'));
      expect(writeFrame(socket, frame)).to.equal(false);
      sender._state = 0;
      expect(writeFrame(socket, frame)).to.equal(true);
      expect(written).to.deep.equal([[frame]]);
    });
  });
});
