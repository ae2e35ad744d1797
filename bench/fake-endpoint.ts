/**
 * A fake API Gateway `@connections` endpoint for CPU benchmarks, meant to run in its OWN process
 * (bench/poster-cpu.ts forks it) so that its CPU never counts against the poster being measured.
 *
 * It answers every `POST /<stage>/@connections/<id>` with 200 after a fixed latency (the time
 * API Gateway takes to hand a frame to a socket, ~15 ms measured from Lambda), with the few
 * headers the real service sends, and counts requests and body bytes. It verifies nothing: the
 * signatures are checked by the unit tests, not here.
 *
 * Run alone: `npx tsx bench/fake-endpoint.ts --latency-ms 15` (prints the port). When forked,
 * it reports `{ port }` over IPC once listening and answers `{ cmd: 'stats' }` with its
 * cumulative `{ requests, bytes, sockets }`.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

/** What the parent learns from the endpoint. */
export interface EndpointStats {
  requests: number;
  bytes: number;
  /** TCP connections accepted: few per poster means keep-alive worked. */
  sockets: number;
}

/** Messages the parent may send to a forked endpoint (counters are cumulative: the parent takes deltas). */
export type EndpointCommand = { cmd: 'stats' };

const { values } = parseArgs({
  options: {
    'latency-ms': { type: 'string', default: '15' },
    host: { type: 'string', default: '127.0.0.1' },
    // PEM files: serve https, as API Gateway does (TLS costs the poster CPU too).
    cert: { type: 'string' },
    key: { type: 'string' },
  },
});
const latencyMs = Number(values['latency-ms']);
const stats: EndpointStats = { requests: 0, bytes: 0, sockets: 0 };
// One request id per process run is enough: the id only has to look like API Gateway's header.
const requestIdPrefix = randomUUID().slice(0, 24);

function answer(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': '0',
    'x-amzn-requestid': `${requestIdPrefix}${(stats.requests % 1e12).toString().padStart(12, '0')}`,
  });
  res.end();
}

function onRequest(req: IncomingMessage, res: ServerResponse): void {
  req.on('data', (chunk: Buffer) => {
    stats.bytes += chunk.length;
  });
  req.on('end', () => {
    stats.requests++;
    if (latencyMs > 0) setTimeout(answer, latencyMs, res);
    else answer(res);
  });
}

const tls = values.cert !== undefined && values.key !== undefined;
const server = tls
  ? createTlsServer(
      { keepAliveTimeout: 60_000, cert: readFileSync(values.cert as string), key: readFileSync(values.key as string) },
      onRequest,
    )
  : createServer({ keepAliveTimeout: 60_000 }, onRequest);
server.on(tls ? 'secureConnection' : 'connection', () => stats.sockets++);

server.listen(0, values.host, () => {
  const { port } = server.address() as AddressInfo;
  if (process.send) process.send({ port });
  else console.log(`fake @connections endpoint on ${tls ? 'https' : 'http'}://${values.host}:${port}/dev (latency ${latencyMs} ms)`);
});

process.on('message', (message: EndpointCommand) => {
  if (message.cmd === 'stats') process.send?.({ ...stats });
});
// A forked endpoint dies with its parent (the IPC channel closes), never left running.
process.on('disconnect', () => process.exit(0));
