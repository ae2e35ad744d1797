/**
 * Low-level pieces of the WebSocket endpoint that `ws` does not offer as options: API Gateway's
 * per-frame size limit, the raw HTTP refusal of an upgrade, and the handshake checks made
 * before `$connect` runs (so a request `ws` would reject never reaches the integration).
 */
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { API_GATEWAY_FRAME_BYTES } from '../../shared/limits.js';

interface ReceiverInternals {
  _opcode: number;
  _payloadLength: number;
  haveLength(cb: (error?: Error) => void): void;
  createError(ctor: typeof RangeError, message: string, prefix: boolean, statusCode: number, errorCode: string): Error;
}

interface SenderInternals {
  _state: number;
  sendFrame(list: Buffer[], cb?: (error?: Error) => void): void;
}

let warned = false;
let warnedSender = false;

/**
 * Makes `ws` close with 1009 on a data frame over 32 KB, as API Gateway does. `ws` only limits
 * whole messages (`maxPayload`, set to 128 KB), so this wraps its receiver's `haveLength` step,
 * which runs once per frame header, before any payload is buffered. If a `ws` upgrade changes
 * that internal, the message limit still holds and a warning says the frame limit is off.
 */
export function limitFrameSize(socket: WebSocket, limit = API_GATEWAY_FRAME_BYTES): void {
  const receiver = (socket as unknown as { _receiver?: ReceiverInternals })._receiver;
  if (!receiver || typeof receiver.haveLength !== 'function' || typeof receiver.createError !== 'function') {
    if (!warned) process.emitWarning('ws internals changed: the 32 KB frame limit is not enforced (128 KB messages still are)');
    warned = true;
    return;
  }
  const haveLength = receiver.haveLength;
  receiver.haveLength = function (this: ReceiverInternals, cb) {
    // Opcodes 0x0-0x2 are data frames (continuation, text, binary); control frames are <= 125 bytes anyway.
    if (this._opcode < 0x08 && this._payloadLength > limit) {
      cb(this.createError(RangeError, 'Max frame size exceeded', false, 1009, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'));
      return;
    }
    haveLength.call(this, cb);
  };
}

/** Refuses an upgrade with an HTTP status and a JSON `message`, as API Gateway refuses `$connect`. */
export function refuseUpgrade(socket: Duplex, status: number, message = STATUS_CODES[status] ?? 'Error'): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The checks `ws` makes on a handshake (RFC 6455 §4.2.1); false means answer 400 before `$connect`. */
export function isValidHandshake(req: IncomingMessage): boolean {
  const key = req.headers['sec-websocket-key'];
  return (
    req.method === 'GET' &&
    req.headers.upgrade?.toLowerCase() === 'websocket' &&
    typeof key === 'string' &&
    /^[+/0-9A-Za-z]{22}==$/.test(key) &&
    (req.headers['sec-websocket-version'] === '13' || req.headers['sec-websocket-version'] === '8')
  );
}

/** The client's address without the IPv4-mapped IPv6 prefix (`::ffff:127.0.0.1` → `127.0.0.1`). */
export const sourceIpOf = (req: IncomingMessage): string => (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');

/**
 * An unmasked, unfragmented text frame (FIN + opcode 1, as a server sends) holding `payload`:
 * header and payload in one buffer, so it goes out in one plain write instead of ws's
 * cork + two writes + writev. `payload` must be valid UTF-8 (the caller checks).
 */
export function textFrame(payload: Buffer): Buffer {
  const length = payload.length;
  const headerBytes = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerBytes + length);
  frame[0] = 0x81;
  if (length < 126) frame[1] = length;
  else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(0, 2); // messages are at most 128 KB: the high 32 bits are 0
    frame.writeUInt32BE(length, 6);
  }
  payload.copy(frame, headerBytes);
  return frame;
}

/**
 * Writes a frame made by {@link textFrame} through the socket's ws sender, as `send` would
 * have, when the sender is idle (state 0: nothing queued behind a compression or a Blob read;
 * the stack negotiates no compression and sends no Blobs, so it always is). False means "not
 * written, use `send`": the sender is busy, or a `ws` upgrade changed these internals (warned once).
 */
export function writeFrame(socket: WebSocket, frame: Buffer): boolean {
  const sender = (socket as unknown as { _sender?: SenderInternals })._sender;
  if (!sender || typeof sender.sendFrame !== 'function' || typeof sender._state !== 'number') {
    if (!warnedSender) process.emitWarning('ws internals changed: posts are framed by ws.send (slower, same bytes)');
    warnedSender = true;
    return false;
  }
  if (sender._state !== 0) return false;
  sender.sendFrame([frame]);
  return true;
}
