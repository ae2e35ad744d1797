/**
 * A scriptable stand-in for a WebSocket, for the client's unit tests: the test plays the service
 * (open, frames, close) and reads what the client sent. Each `fakeWebSocket()` call makes a class
 * with its own list of instances, so tests share nothing.
 */
import type { WebSocketConstructor, WebSocketLike } from '../../client/src/types.js';

export interface FakeSocket extends WebSocketLike {
  readonly url: string;
  readonly protocols?: string | string[];
  /** Frames the client sent, parsed. */
  readonly sent: Array<Record<string, unknown>>;
  /** The code the client closed with, if it did. */
  closedWith?: number;
  /** The service side: completes the upgrade. */
  accept(): void;
  /** The service side: sends one frame (objects are JSON-encoded). */
  push(frame: Record<string, unknown> | string): void;
  /** The service (or the network) ends the connection. */
  drop(code?: number): void;
  /** The service refuses the upgrade with this HTTP status, reported the way `ws` reports it. */
  refuse(status: number): void;
  /** Sent frames with this `action`. */
  actions(action: string): Array<Record<string, unknown>>;
}

export interface FakeWebSocketClass {
  WebSocket: WebSocketConstructor;
  sockets: FakeSocket[];
  /** The most recent socket. */
  last(): FakeSocket;
}

export function fakeWebSocket(): FakeWebSocketClass {
  const sockets: FakeSocket[] = [];
  class Fake implements FakeSocket {
    readyState = 0;
    protocol = '';
    readonly sent: Array<Record<string, unknown>> = [];
    closedWith?: number;
    onopen: WebSocketLike['onopen'] = null;
    onclose: WebSocketLike['onclose'] = null;
    onerror: WebSocketLike['onerror'] = null;
    onmessage: WebSocketLike['onmessage'] = null;
    constructor(
      readonly url: string,
      readonly protocols?: string | string[],
    ) {
      sockets.push(this);
    }
    send(data: string): void {
      // Browsers throw on send() before the upgrade completes; so does this fake.
      if (this.readyState !== 1) throw new Error('not open');
      this.sent.push(JSON.parse(data));
    }
    close(code?: number): void {
      this.closedWith = code ?? 1000;
      this.readyState = 3;
    }
    accept(): void {
      this.readyState = 1;
      this.onopen?.({});
    }
    push(frame: Record<string, unknown> | string): void {
      this.onmessage?.({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
    }
    drop(code = 1006): void {
      this.readyState = 3;
      this.onerror?.({});
      this.onclose?.({ code });
    }
    refuse(status: number): void {
      this.readyState = 3;
      this.onerror?.({ message: `Unexpected server response: ${status}` });
      this.onclose?.({ code: 1006 });
    }
    actions(action: string): Array<Record<string, unknown>> {
      return this.sent.filter((frame) => frame.action === action);
    }
  }
  return {
    WebSocket: Fake,
    sockets,
    last: () => {
      const socket = sockets.at(-1);
      if (!socket) throw new Error('no socket was opened');
      return socket;
    },
  };
}
