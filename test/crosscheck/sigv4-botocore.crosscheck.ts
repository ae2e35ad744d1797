/**
 * The fast poster's hand-made SigV4 (shared/sigv4.ts) against botocore's SigV4Auth, byte for
 * byte, over generated cases: POST and DELETE (the two requests the poster signs), connection ids
 * with characters that must be escaped twice, bodies from empty to 32 KB (binary and UTF-8),
 * long-term keys and session tokens, several regions, hosts, stages and instants. botocore is an
 * implementation this project did not write, and the one SAM CLI installs: a signature that drifts
 * from it would be refused by API Gateway with 403 on every post.
 *
 * Needs a Python with botocore in AIRWAVE_PYTHON (CI: SAM CLI's venv); `npm run test:crosscheck`
 * runs it, `npm test` does not (it runs before CI creates that venv). Without AIRWAVE_PYTHON the
 * suite fails, it never skips.
 */
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { type AwsCredentials, ConnectionsSigner, deriveSigningKey, escapeUri, sha256Hex } from '../../shared/sigv4.js';

const SCRIPT = fileURLToPath(new URL('./botocore_sigv4.py', import.meta.url));
/** How many cases; 240 run in well under a second on each side. */
const CASES = 240;

interface Case {
  method: 'POST' | 'DELETE';
  scheme: 'https' | 'http';
  host: string;
  basePath: string;
  region: string;
  connectionId: string;
  bodyBase64: string;
  epochMs: number;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

interface BotocoreResult {
  path: string;
  authorization: string;
  amzDate: string;
  contentSha256: string;
  securityToken: string | null;
  canonicalRequest: string;
  botocore: string;
}

/** A small seeded generator (mulberry32): the same cases on every run, so a failure reproduces. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'sa-east-1', 'us-gov-west-1', 'cn-north-1', 'il-central-1'];
/** Real ids are base64 (`=`, `/`, `+`); the rest are characters whose escaping differs between encoders. */
const IDS = ['L0SM9cOFvHcCIhw=', 'a/b+c=d', '+/+/==', "it's(*)!~", 'sp ace%20', 'ünï-cødé_✓', '@:;,?&#[]$', '-._~', 'A'.repeat(64)];
const BASE_PATHS = ['/dev', '/prod-v2', '/Stage_1', ''];
const TOKEN = `IQoJb3JpZ2luX2VjE${'AbC0+/'.repeat(150)}==`;

function makeCases(n: number): Case[] {
  const next = random(20261130);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)];
  const cases: Case[] = [];
  for (let i = 0; i < n; i++) {
    const method = i % 3 === 2 ? 'DELETE' : 'POST';
    const region = pick(REGIONS);
    const local = i % 10 === 9;
    // DELETE has no body; POST bodies from empty to one full 32 KB API Gateway frame.
    const size = method === 'DELETE' ? 0 : pick([0, 1, 2, 63, 64, 65, 1000, 2048, 32 * 1024]);
    const body =
      i % 4 === 0
        ? Buffer.from(Array.from({ length: size }, () => Math.floor(next() * 256)))
        : Buffer.from('é✓'.repeat(size).slice(0, size));
    cases.push({
      method,
      scheme: local ? 'http' : 'https',
      host: local
        ? '127.0.0.1:3001'
        : `${Math.floor(next() * 36 ** 10)
            .toString(36)
            .padStart(10, '0')}.execute-api.${region}.amazonaws.com`,
      basePath: pick(BASE_PATHS),
      region,
      connectionId: i < IDS.length ? IDS[i] : pick(IDS),
      bodyBase64: body.toString('base64'),
      // 2001 to 2099, at any millisecond (SigV4 drops the fraction); a leap day and a day's last second too.
      epochMs: i === 0 ? Date.UTC(2024, 1, 29, 23, 59, 59, 999) : Math.floor(Date.UTC(2001, 0, 1) + next() * 99 * 365.25 * 86_400_000),
      accessKeyId: i % 2 === 0 ? 'AKIDEXAMPLE' : 'ASIAQEXAMPLE7NEXT',
      secretAccessKey: pick(['wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', 'se/cret+key=', 'x']),
      ...(i % 2 === 1 ? { sessionToken: TOKEN.slice(0, 20 + Math.floor(next() * TOKEN.length)) } : {}),
    });
  }
  return cases;
}

/** What the project's signer puts on the request, and the canonical request it hashed. */
function projectSign(c: Case) {
  const credentials: AwsCredentials = { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken };
  const signer = new ConnectionsSigner({
    host: c.host,
    basePath: c.basePath,
    region: c.region,
    credentials: () => credentials,
    method: c.method,
    now: () => c.epochMs,
  });
  const message = signer.prepare(Buffer.from(c.bodyBase64, 'base64'));
  const escapedId = escapeUri(c.connectionId);
  const authorization = signer.sign(message, escapedId);
  // The signer builds its canonical request inline (it is the hot path); rebuild it from the
  // signer's own parts, then prove it is the one signed by recomputing the signature from it.
  const parts = signer as unknown as { canonicalPrefix: string; afterDate: string };
  const canonicalRequest = `${parts.canonicalPrefix}${escapedId.replaceAll('%', '%25')}${message.beforeDate}${signer.amzDate}${parts.afterDate}${message.payloadHash}`;
  const day = signer.amzDate.slice(0, 8);
  const scope = `${day}/${c.region}/execute-api/aws4_request`;
  const key = deriveSigningKey(c.secretAccessKey, day, c.region, 'execute-api');
  const signature = createHmac('sha256', key)
    .update(`AWS4-HMAC-SHA256\n${signer.amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`)
    .digest('hex');
  expect(authorization.endsWith(`Signature=${signature}`), 'rebuilt canonical request is the one signed').to.equal(true);
  return {
    path: `${c.basePath}/@connections/${escapedId}`,
    authorization,
    amzDate: signer.amzDate,
    contentSha256: message.payloadHash,
    securityToken: signer.sessionToken ?? null,
    canonicalRequest,
  };
}

function botocoreSign(cases: Case[]): BotocoreResult[] {
  const python = process.env.AIRWAVE_PYTHON;
  if (!python)
    throw new Error(
      'AIRWAVE_PYTHON is not set: point it at a Python that has botocore (CI: SAM CLI venv; locally e.g. /work/venv-tools/bin/python)',
    );
  const run = spawnSync(python, [SCRIPT], {
    input: JSON.stringify(cases),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  // A Python without botocore exits before reading its input (EPIPE here): its stderr says why.
  if (run.status !== 0 || run.error)
    throw new Error(`AIRWAVE_PYTHON=${python} ${SCRIPT} failed (${run.error?.message ?? `exit ${run.status}`}):\n${run.stderr ?? ''}`);
  return JSON.parse(run.stdout);
}

describe('crosscheck: SigV4 of @connections requests against botocore', () => {
  const cases = makeCases(CASES);
  let oracle: BotocoreResult[];

  before(() => {
    oracle = botocoreSign(cases);
    expect(oracle).to.have.length(cases.length);
  });

  it(`signs ${CASES} generated requests exactly as botocore does: path, headers, canonical request and Authorization`, () => {
    let withToken = 0;
    let deletes = 0;
    for (const [i, c] of cases.entries()) {
      const ours = projectSign(c);
      const theirs = oracle[i];
      const label = `case ${i} (${c.method} ${c.host}${theirs.path}, ${Buffer.from(c.bodyBase64, 'base64').length} bytes, token: ${c.sessionToken !== undefined})`;
      expect(ours.path, `${label}: wire path`).to.equal(theirs.path);
      expect(ours.amzDate, `${label}: x-amz-date`).to.equal(theirs.amzDate);
      expect(ours.contentSha256, `${label}: x-amz-content-sha256`).to.equal(theirs.contentSha256);
      expect(ours.securityToken, `${label}: x-amz-security-token`).to.equal(theirs.securityToken);
      expect(ours.canonicalRequest, `${label}: canonical request`).to.equal(theirs.canonicalRequest);
      expect(ours.authorization, `${label}: Authorization`).to.equal(theirs.authorization);
      if (c.sessionToken) withToken++;
      if (c.method === 'DELETE') deletes++;
    }
    // The generator must actually cover both credential kinds and both methods.
    expect(withToken).to.be.within(1, CASES - 1);
    expect(deletes).to.be.within(1, CASES - 1);
  });

  it('would notice a one-character difference (the comparison is not vacuous)', () => {
    const c = { ...cases[1], region: cases[1].region === 'us-east-1' ? 'us-east-2' : 'us-east-1' };
    expect(projectSign(c).authorization).to.not.equal(oracle[1].authorization);
  });
});
