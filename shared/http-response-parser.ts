/**
 * The HTTP/1.1 response parser of shared/fast-poster.ts, apart from its sockets: pure, so it can
 * be tested on any bytes a peer might send. It reads only what a post's outcome and the
 * socket's reuse need (status, Content-Length or chunked framing, `Connection: close`) and
 * never throws: a response is complete, incomplete (wait for more bytes) or invalid (drop the
 * socket).
 */

/** A complete response's status, where it ends, and whether the socket may carry another request. */
export interface ParsedResponse {
  status: number;
  end: number;
  keepAlive: boolean;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * Parses one HTTP/1.1 response from the start of `data`, skipping 1xx interim responses. Only
 * framing is read (Content-Length or chunked); a response framed by the server closing is
 * taken as complete at once and the socket dropped.
 */
export function parseResponse(data: Buffer): ParsedResponse | 'incomplete' | 'invalid' {
  let start = 0;
  for (;;) {
    const headerEnd = data.indexOf(HEADER_END, start);
    if (headerEnd < 0) return 'incomplete';
    const head = data.toString('latin1', start, headerEnd);
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(head);
    if (!match) return 'invalid';
    const status = Number(match[1]);
    let bodyStart = headerEnd + 4;
    if (status >= 100 && status < 200) {
      start = bodyStart;
      continue;
    }
    const keepAlive = !/\r\nconnection:[ \t]*close/i.test(head) && head.startsWith('HTTP/1.1');
    if (status === 204 || status === 304) return { status, end: bodyStart, keepAlive };
    if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) {
      for (;;) {
        const lineEnd = data.indexOf('\r\n', bodyStart);
        if (lineEnd < 0) return 'incomplete';
        const size = Number.parseInt(data.toString('latin1', bodyStart, lineEnd), 16); // ignores ;extensions
        if (!Number.isFinite(size) || size < 0) return 'invalid';
        if (size === 0) {
          const trailersEnd = data.indexOf('\r\n', lineEnd + 2) === lineEnd + 2 ? lineEnd + 4 : data.indexOf(HEADER_END, lineEnd) + 4;
          return trailersEnd < 4 || trailersEnd > data.length ? 'incomplete' : { status, end: trailersEnd, keepAlive };
        }
        bodyStart = lineEnd + 2 + size + 2;
        if (bodyStart > data.length) return 'incomplete';
      }
    }
    const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
    if (!length) return { status, end: data.length, keepAlive: false }; // body runs to close: drop the socket
    const end = bodyStart + Number(length[1]);
    return end > data.length ? 'incomplete' : { status, end, keepAlive };
  }
}
