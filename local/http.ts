/**
 * Small HTTP helpers shared by the local APIs: bounded body reads and AWS-style error answers
 * (`x-amzn-ErrorType` header plus a JSON `message`, which is what the SDK's deserializers read).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The body was larger than the caller's limit. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`body larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** Reads a request body, refusing (and draining) anything over `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    // One chunk (a small body) is handed over as it is: Buffer.concat would copy it.
    req.on('end', () =>
      tooLarge ? reject(new BodyTooLargeError(limit)) : resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)),
    );
    req.on('error', reject);
  });
}

/** Answers JSON. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Answers an AWS error the way AWS JSON APIs do, so SDK clients raise the named exception. */
export function sendAwsError(res: ServerResponse, status: number, errorType: string, message: string | null): void {
  sendJson(res, status, { message, Message: message }, { 'x-amzn-ErrorType': errorType });
}
