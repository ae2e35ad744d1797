/**
 * Storage faults for tests, on 127.0.0.1 only:
 * - {@link startFaultProxy}: a TCP proxy in front of a real endpoint (dynalite) that passes
 *   traffic, or hangs (accepts connections, takes requests, never answers: what a DynamoDB
 *   that stopped answering looks like to a client without a timeout);
 * - {@link startThrottlingEndpoint}: an HTTP server that answers every DynamoDB request with
 *   400 ThrottlingException.
 * Both record when each request arrived, so a test can check that nothing was sent after the
 * client was told its request failed.
 */
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

export interface FaultEndpoint {
  url: string;
  /** Epoch ms of each chunk of request data received (each HTTP request starts one). */
  readonly requestTimes: number[];
  close(): Promise<void>;
}

export interface FaultProxy extends FaultEndpoint {
  mode: 'pass' | 'hang';
  /** Starts hanging: from now on no request is forwarded and nothing is answered. */
  hang(): void;
  /** Passes traffic again; connections that hung are closed (their requests were half sent). */
  pass(): void;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const hung = new Set<Socket>();
  const requestTimes: number[] = [];
  const proxy: FaultProxy = {
    url: '',
    mode: 'pass',
    requestTimes,
    hang() {
      proxy.mode = 'hang';
    },
    pass() {
      proxy.mode = 'pass';
      for (const socket of hung) socket.destroy();
      hung.clear();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
      hung.delete(client);
    };
    client.on('data', (chunk) => {
      requestTimes.push(Date.now());
      if (proxy.mode === 'hang') hung.add(client);
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!hung.has(client)) client.write(chunk);
    });
    client.on('close', drop);
    upstream.on('close', drop);
    client.on('error', drop);
    upstream.on('error', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}

export async function startThrottlingEndpoint(): Promise<FaultEndpoint> {
  const requestTimes: number[] = [];
  const server = createHttpServer((req, res) => {
    requestTimes.push(Date.now());
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException', message: 'Rate exceeded' });
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': 'ThrottlingException' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requestTimes,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
