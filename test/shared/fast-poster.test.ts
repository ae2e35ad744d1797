import net, { type AddressInfo, type Socket } from 'node:net';
import tls from 'node:tls';
import { ApiGatewayManagementApiClient, DeleteConnectionCommand, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { SignatureV4 } from '@smithy/signature-v4';
import { expect } from 'chai';
import sinon from 'sinon';
import { deliver } from '../../shared/delivery.js';
import { FastPoster, outcomeOfStatus, regionFromHost } from '../../shared/fast-poster.js';
import { parseResponse } from '../../shared/http-response-parser.js';
import { createPacer } from '../../shared/pacer.js';
import type { AwsCredentials } from '../../shared/sigv4.js';
import { type RecordedRequest as Recorded, type Respond, startFakeEndpoint } from '../helpers/connections-endpoint.js';
import { NodeSha256 } from '../helpers/node-sha256.js';

/** Self-signed, test-only certificate and key for 127.0.0.1 (not a secret; valid until 2126). */
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBkTCCATagAwIBAgIURjb2UnrgO7ZPmSRNiCN4k/SiqS0wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEyODE5MDMzOFoYDzIxMjYxMTA0
MTkwMzM4WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAShgfkrufz//0UpKpCTvteSMPm4bf8wflJIliqf4K+0FFuuTzxN6J4v
4lmoZX8jKoI6iiPjLrxLW/0xpSF3aTT6o2QwYjAdBgNVHQ4EFgQUT98JXWVLJZHu
c0dlzdhrjAS1wywwHwYDVR0jBBgwFoAUT98JXWVLJZHuc0dlzdhrjAS1wywwDwYD
VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0kAMEYC
IQCicqzMUFUFqKVvHuFEYrnYFM+37um6qZ8n36eecF99ngIhANWj9yJH768Br85K
FyFWriYxDzjUxzQvh27XZyJBNcdZ
-----END CERTIFICATE-----
`;
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgaEyXE9nj2dWPIaTQ
s7NaPm5cklheBV6n7vBSYggH+zKhRANCAAShgfkrufz//0UpKpCTvteSMPm4bf8w
flJIliqf4K+0FFuuTzxN6J4v4lmoZX8jKoI6iiPjLrxLW/0xpSF3aTT6
-----END PRIVATE KEY-----
`;

const CREDENTIALS: AwsCredentials = {
  accessKeyId: 'ASIATESTEXAMPLE',
  secretAccessKey: 'c2VjcmV0/key+with=chars',
  sessionToken: `IQoJb3JpZ2luX2VjE${'Zm9v+/'.repeat(120)}==`,
};
const IDS = ['L0SM9cOFvHcCIhw=', 'L0SM9c/OF+vHcCIhw=', 'ab+/cd=='];

const ok: Respond = (_request, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': '0' });
  res.end();
};

/** The shared fake endpoint, answering with `respond` (by default 200 to anything). */
const startEndpoint = (respond: Respond = ok, tls = false) =>
  startFakeEndpoint({ respond, tls: tls ? { cert: TEST_CERT, key: TEST_KEY } : undefined });

/**
 * Checks a received request's signature the way API Gateway does: recompute it with the
 * reference signer from what arrived (raw path, the headers it lists as signed, the body).
 */
async function signatureVerifies(request: Recorded, credentials: AwsCredentials): Promise<boolean> {
  const auth =
    /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=[0-9a-f]{64}$/.exec(
      String(request.headers.authorization),
    );
  if (!auth) return false;
  // The signer regenerates these three from its inputs (date, credentials, body hash).
  const regenerated = new Set(['x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256']);
  const headers: Record<string, string> = {};
  for (const name of auth[3].split(';')) if (!regenerated.has(name)) headers[name] = String(request.headers[name]);
  const date = String(request.headers['x-amz-date']).replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z');
  const signer = new SignatureV4({ service: auth[2], region: auth[1], credentials, sha256: NodeSha256 });
  const signed = await signer.sign(
    { method: request.method, protocol: 'http:', hostname: '127.0.0.1', path: request.url, query: {}, headers, body: request.body },
    { signingDate: new Date(date) },
  );
  return signed.headers.authorization === request.headers.authorization;
}

describe('fast-poster', () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()?.();
  });

  async function setup(respond?: Respond, options: { tls?: boolean; timeoutMs?: number; maxSockets?: number } = {}) {
    const endpoint = await startEndpoint(respond, options.tls);
    cleanups.push(() => endpoint.stop());
    const poster = new FastPoster({
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials: CREDENTIALS,
      timeoutMs: options.timeoutMs,
      maxSockets: options.maxSockets,
      ca: options.tls ? TEST_CERT : undefined,
    });
    cleanups.push(() => poster.close());
    return { endpoint, poster };
  }

  describe('FastPoster', () => {
    it('sends the path, host, date, token, length and body hash the SDK sends, with a signature API Gateway can verify', async () => {
      const clock = sinon.useFakeTimers({ now: Date.UTC(2030, 0, 2, 3, 4, 5), toFake: ['Date'] });
      cleanups.push(() => clock.restore());
      const { endpoint, poster } = await setup();
      const sdk = new ApiGatewayManagementApiClient({
        endpoint: endpoint.url,
        region: 'us-east-1',
        credentials: CREDENTIALS,
        maxAttempts: 1,
      });
      cleanups.push(() => sdk.destroy());
      const payloads = ['{"type":"message","data":"hi"}', '{"data":"héllo wörld ✓ 🚀"}'];
      for (const id of IDS) {
        for (const data of payloads) {
          await sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: data }));
          expect(await poster.post(id, data)).to.equal('ok');
        }
      }
      expect(endpoint.requests).to.have.length(IDS.length * payloads.length * 2);
      for (let i = 0; i < endpoint.requests.length; i += 2) {
        const [fromSdk, fromFast] = [endpoint.requests[i], endpoint.requests[i + 1]];
        expect(fromFast.method).to.equal('POST');
        expect(fromFast.url).to.equal(fromSdk.url);
        for (const name of ['host', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256', 'content-length', 'content-type']) {
          expect(fromFast.headers[name], name).to.equal(fromSdk.headers[name]);
        }
        const scope = (auth: unknown) => String(auth).split(',')[0];
        expect(scope(fromFast.headers.authorization)).to.equal(scope(fromSdk.headers.authorization));
        expect(fromFast.body.equals(fromSdk.body)).to.equal(true);
        expect(await signatureVerifies(fromSdk, CREDENTIALS), 'sdk signature').to.equal(true);
        expect(await signatureVerifies(fromFast, CREDENTIALS), 'fast signature').to.equal(true);
      }
      expect(endpoint.requests[2 * payloads.length].url).to.equal('/dev/@connections/L0SM9c%2FOF%2BvHcCIhw%3D');
    });

    it('delivers ASCII, UTF-8 and 32 KB bodies intact', async () => {
      const { endpoint, poster } = await setup();
      const payloads = ['plain ascii', 'ünïcödé ✓ 🚀 日本語', 'z'.repeat(32 * 1024)];
      for (const data of payloads) expect(await poster.post(IDS[0], data)).to.equal('ok');
      expect(endpoint.requests.map((r) => r.body.toString('utf8'))).to.deep.equal(payloads);
      expect(endpoint.requests.map((r) => Number(r.headers['content-length']))).to.deep.equal(payloads.map((p) => Buffer.byteLength(p)));
    });

    it('signs and sends each of several interleaved messages with its own body', async () => {
      const { endpoint, poster } = await setup(ok, { maxSockets: 1 }); // one socket: posts queue with their message
      const messages = ['first message', 'second ✓ message', 'third'];
      const sent = Array.from({ length: 9 }, (_, i) => ({ id: `${IDS[i % IDS.length]}${i}`, data: messages[i % 3] }));
      const outcomes = await Promise.all(sent.map(({ id, data }) => poster.post(id, data)));
      expect(outcomes.every((o) => o === 'ok')).to.equal(true);
      for (const request of endpoint.requests) {
        const match = sent.find(({ id }) => request.url.endsWith(`/${encodeURIComponent(id)}`));
        expect(request.body.toString('utf8')).to.equal(match?.data);
        expect(await signatureVerifies(request, CREDENTIALS)).to.equal(true);
      }
    });

    it('maps 200 to ok, 410 to gone, 429 to throttled and 403, 413, 500 to failed', async () => {
      const statusOf: Record<string, number> = { ok200: 200, gone410: 410, busy429: 429, denied403: 403, big413: 413, oops500: 500 };
      const { poster } = await setup((request, res) => {
        const status = statusOf[request.url.split('/').pop() ?? ''];
        const body = status === 200 ? '' : JSON.stringify({ message: `status ${status}` });
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
        res.end(body);
      });
      const outcomes = await Promise.all(Object.keys(statusOf).map((id) => poster.post(id, 'frame')));
      expect(outcomes).to.deep.equal(['ok', 'gone', 'throttled', 'failed', 'failed', 'failed']);
    });

    it('reads chunked error bodies to the end and reuses the socket', async () => {
      const { endpoint, poster } = await setup((_request, res) => {
        res.writeHead(410, { 'content-type': 'application/json' }); // no length: Node sends chunked
        res.write('{"message":');
        setImmediate(() => res.end('"Gone"}'));
      });
      for (let i = 0; i < 5; i++) expect(await poster.post(`gone${i}=`, 'frame')).to.equal('gone');
      expect(endpoint.sockets()).to.equal(1);
    });

    it('fails a post that gets no answer within the timeout, and keeps posting afterwards', async () => {
      const { poster } = await setup(
        (request, res) => {
          if (!request.url.endsWith('/slow')) ok(request, res); // a slow post is never answered
        },
        { timeoutMs: 150 },
      );
      expect(await poster.post('slow', 'frame')).to.equal('failed');
      expect(await poster.post('fast', 'frame')).to.equal('ok');
    });

    it('reuses a few keep-alive sockets for many posts, never more than maxSockets', async () => {
      const { endpoint, poster } = await setup((request, res) => setTimeout(ok, 2, request, res), { maxSockets: 8 });
      const ids = Array.from({ length: 400 }, (_, i) => `conn${i}/+=`);
      const outcomes = await Promise.all(ids.map((id) => poster.post(id, 'frame')));
      expect(outcomes.every((o) => o === 'ok')).to.equal(true);
      expect(endpoint.requests).to.have.length(400);
      expect(endpoint.maxOpen()).to.be.at.most(8);
      expect(endpoint.sockets()).to.be.at.most(8);
      expect(poster.socketsOpened).to.equal(endpoint.sockets());
    });

    it('opens a new socket after the server answers Connection: close', async () => {
      const { endpoint, poster } = await setup((_request, res) => {
        res.writeHead(200, { 'content-length': '0', connection: 'close' });
        res.end();
      });
      for (let i = 0; i < 3; i++) expect(await poster.post(IDS[0], 'frame')).to.equal('ok');
      expect(endpoint.sockets()).to.equal(3);
    });

    it('reports failed, not an exception, when nothing listens', async () => {
      const endpoint = await startEndpoint();
      await endpoint.stop();
      const poster = new FastPoster({ endpoint: endpoint.url, region: 'us-east-1', credentials: CREDENTIALS });
      cleanups.push(() => poster.close());
      expect(await poster.post(IDS[0], 'frame')).to.equal('failed');
    });

    it('fails the posts in flight when closed', async () => {
      const { poster } = await setup(() => undefined); // never answers
      const pending = [poster.post('a=', 'x'), poster.post('b=', 'x')];
      await new Promise((resolve) => setTimeout(resolve, 20));
      await poster.close();
      expect(await Promise.all(pending)).to.deep.equal(['failed', 'failed']);
      expect(await poster.post('c=', 'x')).to.equal('failed');
    });

    it('posts over TLS when the endpoint is https', async () => {
      const { endpoint, poster } = await setup(ok, { tls: true });
      for (const id of IDS) expect(await poster.post(id, 'secure frame')).to.equal('ok');
      expect(endpoint.requests.map((r) => r.body.toString())).to.deep.equal(IDS.map(() => 'secure frame'));
      expect(endpoint.sockets()).to.equal(1);
    });

    for (const secure of [false, true]) {
      it(`keeps an answer that arrives in pieces intact while another socket's answer is read (${secure ? 'https' : 'http'})`, async () => {
        // Prepare: a raw server that holds both requests, then answers the first in two pieces with
        // the second's whole answer between them. Every socket of a poster reads into one buffer, so
        // the first piece must be kept as a copy, or the second answer overwrites it (410 read as 429).
        const bySocket = new Map<string, Socket>();
        const open = new Set<Socket>();
        let bothArrived: () => void = () => undefined;
        const arrived = new Promise<void>((resolve) => (bothArrived = resolve));
        const onSocket = (socket: Socket) => {
          open.add(socket);
          let request = '';
          socket.on('data', (chunk: Buffer) => {
            request += chunk.toString('latin1');
            const id = / \/dev\/@connections\/([^ ]+) HTTP\/1\.1\r\n/.exec(request)?.[1];
            if (id && request.includes('\r\n\r\n') && !bySocket.has(id)) bySocket.set(id, socket);
            if (bySocket.size === 2) bothArrived();
          });
        };
        const server = secure ? tls.createServer({ cert: TEST_CERT, key: TEST_KEY }, onSocket) : net.createServer(onSocket);
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        cleanups.push(async () => {
          for (const socket of open) socket.destroy();
          await new Promise((resolve) => server.close(resolve));
        });
        const { port } = server.address() as AddressInfo;
        const poster = new FastPoster({
          endpoint: `${secure ? 'https' : 'http'}://127.0.0.1:${port}/dev`,
          region: 'us-east-1',
          credentials: CREDENTIALS,
          maxSockets: 2,
          ca: secure ? TEST_CERT : undefined,
        });
        cleanups.push(() => poster.close());

        // Act
        const outcomes = Promise.all([poster.post('firstId', 'x'), poster.post('secondId', 'x')]);
        await arrived;
        const pause = () => new Promise((resolve) => setTimeout(resolve, 40));
        const gone = 'HTTP/1.1 410 Gone\r\nContent-Length: 0\r\n\r\n';
        bySocket.get('firstId')?.write(gone.slice(0, 30));
        await pause();
        bySocket.get('secondId')?.write('HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n');
        await pause();
        bySocket.get('firstId')?.write(gone.slice(30));

        // Assess
        expect(await outcomes).to.deep.equal(['gone', 'throttled']);
      });
    }

    it('reads credentials from the Lambda environment and picks up a new session token', async () => {
      const saved = { ...process.env };
      cleanups.push(() => {
        for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
          if (saved[name] === undefined) delete process.env[name];
          else process.env[name] = saved[name];
        }
      });
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'ASIAFIRST', AWS_SECRET_ACCESS_KEY: 'first/secret', AWS_SESSION_TOKEN: 'token-one' });
      let now = Date.UTC(2030, 5, 1, 12, 0, 0);
      const endpoint = await startEndpoint();
      cleanups.push(() => endpoint.stop());
      const poster = new FastPoster({ endpoint: endpoint.url, region: 'us-east-1', now: () => now });
      cleanups.push(() => poster.close());
      expect(await poster.post(IDS[0], 'frame')).to.equal('ok');
      Object.assign(process.env, {
        AWS_ACCESS_KEY_ID: 'ASIASECOND',
        AWS_SECRET_ACCESS_KEY: 'second/secret',
        AWS_SESSION_TOKEN: 'token-two',
      });
      now += 1000;
      expect(await poster.post(IDS[0], 'frame')).to.equal('ok');
      const [first, second] = endpoint.requests;
      expect([first.headers['x-amz-security-token'], second.headers['x-amz-security-token']]).to.deep.equal(['token-one', 'token-two']);
      expect(
        await signatureVerifies(first, { accessKeyId: 'ASIAFIRST', secretAccessKey: 'first/secret', sessionToken: 'token-one' }),
      ).to.equal(true);
      expect(
        await signatureVerifies(second, { accessKeyId: 'ASIASECOND', secretAccessKey: 'second/secret', sessionToken: 'token-two' }),
      ).to.equal(true);
    });

    it('serves the fan-out: every subscriber posted once, gone ones reported for cleanup', async () => {
      const { endpoint, poster } = await setup((request, res) => {
        res.writeHead(request.url.endsWith('gone%3D') ? 410 : 200, { 'content-length': '0' });
        res.end();
      });
      const ids = Array.from({ length: 300 }, (_, i) => (i % 50 === 0 ? `sub${i}gone=` : `sub${i}/+=`));
      const gone: string[] = [];
      const report = await deliver([ids.slice(0, 120), ids.slice(120)], '{"type":"message"}', {
        poster,
        concurrency: 16,
        pace: createPacer({ ratePerSecond: 1_000_000, burst: 1000 }),
        onGone: async (id) => gone.push(id),
        isEstablishing: async () => false, // no table here: every 410 is a connection long gone
      });
      expect(report).to.deep.equal({ delivered: 294, gone: 6, failed: 0, throttled: 0 });
      expect(gone.sort()).to.deep.equal(ids.filter((id) => id.endsWith('gone=')).sort());
      expect(endpoint.requests).to.have.length(300);
    });

    it('refuses to start without a region or without an http(s) endpoint', () => {
      const region = process.env.AWS_REGION;
      cleanups.push(() => (process.env.AWS_REGION = region));
      delete process.env.AWS_REGION;
      expect(() => new FastPoster({ endpoint: 'http://127.0.0.1:9/dev', credentials: CREDENTIALS })).to.throw('no region');
      expect(() => new FastPoster({ endpoint: 'ftp://127.0.0.1/dev', region: 'us-east-1', credentials: CREDENTIALS })).to.throw(
        'must be http(s)',
      );
    });
  });

  describe('FastPoster.disconnect', () => {
    it('sends DELETE @connections/{id} as the SDK sends it, with a signature API Gateway can verify', async () => {
      // Prepare
      const clock = sinon.useFakeTimers({ now: Date.UTC(2030, 0, 2, 3, 4, 5), toFake: ['Date'] });
      cleanups.push(() => clock.restore());
      const { endpoint, poster } = await setup((_request, res) => res.writeHead(204).end());
      const sdk = new ApiGatewayManagementApiClient({
        endpoint: endpoint.url,
        region: 'us-east-1',
        credentials: CREDENTIALS,
        maxAttempts: 1,
      });
      cleanups.push(() => sdk.destroy());

      // Act
      for (const id of IDS) {
        await sdk.send(new DeleteConnectionCommand({ ConnectionId: id }));
        expect(await poster.disconnect(id)).to.equal('ok');
      }

      // Assess
      expect(endpoint.requests).to.have.length(IDS.length * 2);
      for (let i = 0; i < endpoint.requests.length; i += 2) {
        const [fromSdk, fromFast] = [endpoint.requests[i], endpoint.requests[i + 1]];
        expect(fromFast.method).to.equal('DELETE');
        expect(fromFast.url).to.equal(fromSdk.url);
        for (const name of ['host', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'])
          expect(fromFast.headers[name], name).to.equal(fromSdk.headers[name]);
        expect(fromFast.body.length).to.equal(0);
        expect(await signatureVerifies(fromFast, CREDENTIALS), 'fast signature').to.equal(true);
      }
    });

    it('answers gone for a connection that is already closed, and keeps posting on the same sockets', async () => {
      const { endpoint, poster } = await setup((request, res) => {
        if (request.method === 'DELETE') res.writeHead(410, { 'content-length': '2' }).end('{}');
        else ok(request, res);
      });
      expect(await poster.disconnect(IDS[0])).to.equal('gone');
      expect(await poster.post(IDS[0], 'after')).to.equal('ok');
      expect(endpoint.sockets()).to.equal(1);
    });
  });

  describe('regionFromHost', () => {
    it('reads the region of an execute-api host and nothing else', () => {
      expect(regionFromHost('abc123.execute-api.eu-west-2.amazonaws.com')).to.equal('eu-west-2');
      expect(regionFromHost('abc123.execute-api.cn-north-1.amazonaws.com.cn')).to.equal('cn-north-1');
      expect(regionFromHost('ws.example.com')).to.equal(undefined);
    });
  });

  describe('outcomeOfStatus', () => {
    it('treats every 2xx as delivered and any status but 410 and 429 as failed', () => {
      expect([200, 204, 410, 429, 400, 403, 413, 502, 504].map(outcomeOfStatus)).to.deep.equal([
        'ok',
        'ok',
        'gone',
        'throttled',
        'failed',
        'failed',
        'failed',
        'failed',
        'failed',
      ]);
    });
  });

  describe('parseResponse', () => {
    const parse = (text: string) => parseResponse(Buffer.from(text, 'latin1'));

    it('finds the end of a Content-Length response', () => {
      const text = 'HTTP/1.1 410 Gone\r\nContent-Type: application/json\r\nContent-Length: 18\r\n\r\n{"message":"Gone"}';
      expect(parse(text)).to.deep.equal({ status: 410, end: text.length, keepAlive: true });
      expect(parse(text.slice(0, -1))).to.equal('incomplete');
      expect(parse('HTTP/1.1 200 OK\r\nContent-Len')).to.equal('incomplete');
    });

    it('follows chunked framing, with and without trailers', () => {
      const chunked = 'HTTP/1.1 429 Too Many Requests\r\ntransfer-encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n';
      expect(parse(chunked)).to.deep.equal({ status: 429, end: chunked.length, keepAlive: true });
      expect(parse(chunked.slice(0, -2))).to.equal('incomplete');
      const trailers = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Trailer: 1\r\n\r\n';
      expect(parse(trailers)).to.deep.equal({ status: 200, end: trailers.length, keepAlive: true });
    });

    it('skips a 100 Continue before the real response', () => {
      const text = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';
      expect(parse(text)).to.deep.equal({ status: 200, end: text.length, keepAlive: true });
    });

    it('does not keep a socket the server closes or frames by closing', () => {
      expect(parse('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')).to.include({ keepAlive: false });
      expect(parse('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')).to.include({ keepAlive: false });
      expect(parse('HTTP/1.1 500 Internal Server Error\r\n\r\nbody until close')).to.include({ status: 500, keepAlive: false });
    });

    it('rejects what is not an HTTP/1.x response', () => {
      expect(parse('SSH-2.0-OpenSSH\r\n\r\n')).to.equal('invalid');
      expect(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')).to.equal('invalid');
    });
  });
});
