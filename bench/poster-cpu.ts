/**
 * CPU per @connections post: the SDK path (bench/lib/sdk-poster.ts SdkPoster, i.e.
 * ApiGatewayManagementApiClient + PostToConnectionCommand over a sized keep-alive agent)
 * against shared/fast-poster.ts, side by side in one process, alternating, several rounds.
 *
 * The endpoint is bench/fake-endpoint.ts in a forked process (its CPU is not ours): it answers
 * 200 after `--latency-ms`. Only this process's user+system CPU (`process.cpuUsage()` deltas)
 * over the measured posts counts; warm-up posts (JIT, sockets) come first and are not measured.
 * Each poster pays for its own garbage and only its own: a full collection (not measured) after
 * the warm-up clears what the poster before it left, and one at the end of the measured posts is
 * measured (a Lambda runs one poster; without this the SDK's garbage was collected, and counted,
 * during the fast poster's round after it).
 *
 *   npx tsx bench/poster-cpu.ts [--n 20000] [--concurrency 200] [--bytes 2048] [--latency-ms 15]
 *                              [--rounds 3] [--warmup 2000] [--only sdk|fast] [--token-bytes 1000] [--tls]
 *
 * `--tls` serves https with a throwaway self-signed certificate (made with the `openssl` CLI), as
 * API Gateway does: TLS adds the same encryption work to both posters, so the ratio shrinks.
 *
 * Prints a markdown table per run and a summary (median CPU per post of each, and the ratio).
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { Agent as TlsAgent } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import { FastPoster } from '../shared/fast-poster.js';
import type { Poster } from '../shared/poster.js';
import { type AwsCredentials, ConnectionsSigner, escapeUri } from '../shared/sigv4.js';
import type { EndpointCommand, EndpointStats } from './fake-endpoint.js';
import { scriptFlags } from './lib/cli.js';
import { SdkPoster } from './lib/sdk-poster.js';

const HELP = `Usage: npm run bench:poster -- [options]

CPU per @connections post, the SDK poster against the fast poster, against a local fake endpoint.

Options:
  --n 20000              measured posts per poster per round
  --concurrency 200      posts in flight at once
  --bytes 2048           payload size
  --latency-ms 15        the fake endpoint's delay before its 200
  --rounds 3             rounds (the posters alternate)
  --warmup 2000          unmeasured posts first (JIT, sockets)
  --only sdk|fast        run one poster only
  --token-bytes 1000     session token size (signed with every post)
  --tls                  https with a throwaway self-signed certificate (needs the openssl CLI)
  -h, --help             this text
`;

const values = await scriptFlags(
  {
    n: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '200' },
    bytes: { type: 'string', default: '2048' },
    'latency-ms': { type: 'string', default: '15' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2000' },
    only: { type: 'string' },
    'token-bytes': { type: 'string', default: '1000' },
    tls: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  HELP,
);
const N = Number(values.n);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
const WARMUP = Number(values.warmup);
const REGION = 'us-east-1';

// A full garbage collection on demand, without a node flag on the command line (tsx starts node).
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

// Lambda role credentials carry a ~1 KB session token, sent (and signed) with every post.
const credentials: AwsCredentials = {
  accessKeyId: 'ASIABENCHMARKEXAMPLE',
  secretAccessKey: randomBytes(30).toString('base64'),
  sessionToken: randomBytes(Math.ceil((Number(values['token-bytes']) * 3) / 4)).toString('base64'),
};
/** Connection ids shaped like API Gateway's (16 base64 characters, so `=`, `/`, `+` occur). */
const ids = Array.from({ length: N + WARMUP }, () => randomBytes(12).toString('base64').replace(/.$/, '='));
const envelope = { type: 'message', channel: 'bench', data: '' };
const frame = JSON.stringify({ ...envelope, data: 'x'.repeat(Math.max(0, Number(values.bytes) - JSON.stringify(envelope).length)) });

interface Measured {
  round: number;
  poster: 'sdk' | 'fast';
  delivered: number;
  cpuMicros: number;
  userMicros: number;
  /** Of cpuMicros: the full collection of the poster's garbage at the end. */
  gcMicros: number;
  wallMs: number;
  sockets: number;
}

/** A throwaway self-signed certificate for 127.0.0.1 (files removed at exit). */
function makeCertificate(): { cert: string; key: string; ca: Buffer } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'poster-cpu-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const subject = ['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      ...subject,
      '-keyout',
      key,
      '-out',
      cert,
    ],
    {
      stdio: 'ignore',
    },
  );
  return { cert, key, ca: readFileSync(cert) };
}
const certificate = values.tls ? makeCertificate() : undefined;

function startEndpoint(): Promise<{ child: ChildProcess; port: number }> {
  const tlsArgs = certificate ? ['--cert', certificate.cert, '--key', certificate.key] : [];
  const child = fork(new URL('./fake-endpoint.ts', import.meta.url), ['--latency-ms', String(values['latency-ms']), ...tlsArgs], {
    execArgv: ['--import', 'tsx'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve({ child, port: m.port }));
    child.once('error', reject);
  });
}

function endpointCall(child: ChildProcess, command: EndpointCommand): Promise<EndpointStats> {
  return new Promise((resolve) => {
    child.once('message', (stats: EndpointStats) => resolve(stats));
    child.send(command);
  });
}

/** `concurrency` workers posting `frame` to ids[from, to): the shape of shared/delivery.ts without retries. */
async function postAll(poster: Poster, from: number, to: number): Promise<number> {
  let next = from;
  let delivered = 0;
  const worker = async (): Promise<void> => {
    while (next < to) {
      const id = ids[next++];
      if ((await poster.post(id, frame)) === 'ok') delivered++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return delivered;
}

/** The SDK path exactly as bench/lib/sdk-poster.ts runs it, its agent sized to the concurrency. */
function sdkPoster(endpoint: string): { poster: Poster; close(): void } {
  const client = new ApiGatewayManagementApiClient({
    endpoint,
    region: REGION,
    credentials,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler(
      certificate
        ? { httpsAgent: new TlsAgent({ keepAlive: true, maxSockets: CONCURRENCY, ca: certificate.ca }) }
        : { httpAgent: new Agent({ keepAlive: true, maxSockets: CONCURRENCY }) },
    ),
  });
  return { poster: new SdkPoster(client), close: () => client.destroy() };
}

function fastPoster(endpoint: string): { poster: Poster; close(): Promise<void> } {
  const poster = new FastPoster({ endpoint, region: REGION, credentials, maxSockets: CONCURRENCY, ca: certificate?.ca });
  return { poster, close: () => poster.close() };
}

async function measure(kind: 'sdk' | 'fast', round: number, endpoint: string, child: ChildProcess): Promise<Measured> {
  const { poster, close } = kind === 'sdk' ? sdkPoster(endpoint) : fastPoster(endpoint);
  const start = await endpointCall(child, { cmd: 'stats' });
  await postAll(poster, 0, WARMUP);
  const warm = await endpointCall(child, { cmd: 'stats' });
  collectGarbage(); // what the warm-up and the poster before this one left: not this run's
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const delivered = await postAll(poster, WARMUP, WARMUP + N);
  const wallMs = performance.now() - t0;
  const posting = process.cpuUsage(cpu0);
  collectGarbage(); // this run's garbage, counted
  const cpu = process.cpuUsage(cpu0);
  const end = await endpointCall(child, { cmd: 'stats' });
  await close();
  const requests = end.requests - warm.requests;
  if (requests !== N || delivered !== N)
    throw new Error(`${kind}: ${delivered} posts ok and ${requests} seen by the endpoint, expected ${N}`);
  return {
    round,
    poster: kind,
    delivered,
    cpuMicros: cpu.user + cpu.system,
    userMicros: cpu.user,
    gcMicros: cpu.user + cpu.system - (posting.user + posting.system),
    wallMs,
    sockets: end.sockets - start.sockets,
  };
}

/** node:crypto SHA-256 in the shape @smithy/signature-v4 takes (what the SDK's own Sha256 wraps). */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', secret as Buffer);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(data as Buffer);
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
}

/** CPU µs per signature with no I/O: @smithy/signature-v4 (as the SDK signs) against ConnectionsSigner. */
async function signingAlone(count: number): Promise<{ smithy: number; ours: number }> {
  const host = 'abc123defg.execute-api.us-east-1.amazonaws.com';
  const body = Buffer.from(frame);
  const smithy = new SignatureV4({ service: 'execute-api', region: REGION, credentials, sha256: NodeSha256 });
  const ours = new ConnectionsSigner({ host, basePath: '/dev', region: REGION, credentials: () => credentials });
  const message = ours.prepare(body);
  const time = async (fn: (id: string) => unknown): Promise<number> => {
    for (let i = 0; i < 2000; i++) await fn(ids[i]);
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < count; i++) await fn(ids[i % ids.length]);
    const cpu = process.cpuUsage(cpu0);
    return (cpu.user + cpu.system) / count;
  };
  const request = (id: string) => ({
    method: 'POST',
    protocol: 'https:',
    hostname: host,
    path: `/dev/@connections/${escapeUri(id)}`,
    query: {},
    headers: { host },
    body,
  });
  return {
    smithy: await time((id) => smithy.sign(request(id))),
    ours: await time((id) => {
      ours.tick();
      return ours.sign(message, escapeUri(id));
    }),
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const { child, port } = await startEndpoint();
  const endpoint = `${certificate ? 'https' : 'http'}://127.0.0.1:${port}/dev`;
  const kinds = values.only ? [values.only as 'sdk' | 'fast'] : (['sdk', 'fast'] as const);
  const results: Measured[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternate the order so neither poster always runs on a warmer (or busier) machine.
      const order = round % 2 === 1 ? kinds : [...kinds].reverse();
      for (const kind of order) results.push(await measure(kind, round, endpoint, child));
    }
  } finally {
    child.kill();
  }
  console.log(
    `\n${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}),`,
  );
  console.log(
    `${N} posts of ${Buffer.byteLength(frame)} B, ${CONCURRENCY} in flight, endpoint latency ${values['latency-ms']} ms, ${certificate ? 'https' : 'http'}, session token ${credentials.sessionToken?.length} B\n`,
  );
  console.log(
    '| round | poster | delivered | CPU µs/post | of which user | of which the final GC | wall s | posts/s | sockets opened | SDK ÷ fast |',
  );
  console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const perPostOf = (r: Measured) => r.cpuMicros / r.delivered;
  const ratioOf = (round: number) => {
    const [sdk, fast] = (['sdk', 'fast'] as const).map((kind) => results.find((r) => r.round === round && r.poster === kind));
    return sdk && fast ? perPostOf(sdk) / perPostOf(fast) : undefined;
  };
  for (const r of results) {
    const ratio = r.poster === 'fast' ? ratioOf(r.round) : undefined;
    console.log(
      `| ${r.round} | ${r.poster} | ${r.delivered} | ${perPostOf(r).toFixed(1)} | ${(r.userMicros / r.delivered).toFixed(1)} | ${(r.gcMicros / r.delivered).toFixed(1)} | ${(r.wallMs / 1000).toFixed(2)} | ${Math.round((r.delivered / r.wallMs) * 1000)} | ${r.sockets} | ${ratio === undefined ? '' : `${ratio.toFixed(1)}×`} |`,
    );
  }
  const perPost = (kind: string) => median(results.filter((r) => r.poster === kind).map(perPostOf));
  if (kinds.length === 2) {
    const sdk = perPost('sdk');
    const fast = perPost('fast');
    const ratios = Array.from({ length: ROUNDS }, (_, i) => ratioOf(i + 1) as number);
    console.log(
      `\nmedian CPU per delivered post: sdk ${sdk.toFixed(1)} µs, fast ${fast.toFixed(1)} µs: ${(sdk / fast).toFixed(1)}x less CPU; rounds at >= 10x: ${ratios.filter((x) => x >= 10).length} of ${ROUNDS} (lowest ${Math.min(...ratios).toFixed(1)}x)`,
    );
  }
  const signing = await signingAlone(N);
  console.log(
    `signing alone (no I/O, ${N} signatures): @smithy/signature-v4 ${signing.smithy.toFixed(1)} µs, ConnectionsSigner ${signing.ours.toFixed(1)} µs`,
  );
}

await main();
