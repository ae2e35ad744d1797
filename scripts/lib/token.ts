/**
 * `npm run token` (scripts/token.ts): prints an HS256 token the authorizer accepts (AuthMode=jwt with an HMAC
 * secret), for the local stack (JWT_DEV_SECRET) or a deployed one (its SSM SecureString).
 *
 * The claims are the ones shared/auth/ reads: `sub` (the principal), `channels` (patterns it may
 * join), `publish` (patterns it may publish to), `iat`/`exp`, and `iss`/`aud` when the stack
 * checks them (JwtIssuer, JwtAudience).
 *
 * The secret is never fetched from the local stack over HTTP: `npm run dev` prints the one it
 * generated, or takes yours from JWT_DEV_SECRET, so setting it in both terminals just works.
 */
import { SignJWT } from 'jose';
import { MAX_PATTERNS_PER_CLAIM } from '../../shared/auth/claims.js';
import { MIN_HMAC_SECRET_BYTES } from '../../shared/auth/verification-keys.js';

import { isValidPattern } from '../../shared/policy.js';
import { parseFlags, UsageError } from './flags.js';

/** Validity when `--ttl` is not given. */
export const DEFAULT_TTL_SECONDS = 3_600;

export const USAGE = `Usage: npm run token -- --sub <principal> [options]

Prints a JWT (HS256) the airwave authorizer accepts in AuthMode=jwt with an HMAC secret.

Options:
  --sub <id>               the principal (required): the token's sub
  --channels <patterns>    channels it may join, space-separated (repeatable): news user:alice public:*
                           (default: none; the template's UserChannels are added by the stack)
  --publish <patterns>     channels it may publish to, same form (default: none)
  --ttl <duration>         validity: 90, 90s, 15m, 1h, 2d (default: 1h). A stack refuses tokens
                           valid longer than its MaxTokenLifetimeSeconds (default: 1d)
  --issuer <iss>           the iss claim: required when the stack sets JwtIssuer (default: none)
  --audience <aud>         the aud claim: required when the stack sets JwtAudience (default: none)
  --ssm-parameter <name>   sign with a deployed stack's secret, read from this SSM SecureString
                           (its JwtSecretParameterName, e.g. /airwave/jwt-secret) with your AWS
                           credentials (default: sign with JWT_DEV_SECRET)
  --region <region>        the SSM parameter's region (default: the AWS SDK's: AWS_REGION, profile)
  -h, --help               this text

Environment:
  JWT_DEV_SECRET           the local stack's secret (npm run dev prints it, or takes yours from
                           the same variable); used unless --ssm-parameter is given

Example:
  JWT_DEV_SECRET=... npm run token -- --sub alice --channels 'news user:alice' --publish news --ttl 1h
`;

const FLAGS = {
  sub: { type: 'string' },
  channels: { type: 'string', multiple: true },
  publish: { type: 'string', multiple: true },
  ttl: { type: 'string' },
  issuer: { type: 'string' },
  audience: { type: 'string' },
  'ssm-parameter': { type: 'string' },
  region: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** What a token is minted from. */
export interface TokenRequest {
  sub: string;
  channels: string[];
  publish: string[];
  ttlSeconds: number;
  issuer?: string;
  audience?: string;
  ssmParameter?: string;
  region?: string;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** `90`, `90s`, `15m`, `1h`, `2d` → seconds. */
export function parseDuration(raw: string): number {
  const match = /^([1-9][0-9]{0,8})([smhd]?)$/.exec(raw.trim());
  if (!match) throw new UsageError(`--ttl must be a duration like 90s, 15m, 1h or 2d, got "${raw}"`);
  return Number(match[1]) * UNIT_SECONDS[match[2] || 's'];
}

/** Space-separated pattern lists (each flag may repeat) → one list, each a valid pattern. */
function patternList(flag: string, values: string[] | undefined): string[] {
  const list = [...new Set((values ?? []).flatMap((v) => v.split(/\s+/)).filter((p) => p.length > 0))];
  // The authorizer refuses the whole token for one bad pattern: say so now, not at connect.
  for (const p of list)
    if (!isValidPattern(p)) throw new UsageError(`--${flag}: "${p}" is not a channel pattern (a name, "prefix:*", or "*")`);
  if (list.length > MAX_PATTERNS_PER_CLAIM) throw new UsageError(`--${flag}: at most ${MAX_PATTERNS_PER_CLAIM} patterns`);
  return list;
}

/** Parses the command line; `undefined` means `--help`. */
export function parseTokenArgs(argv: string[]): TokenRequest | undefined {
  const { values } = parseFlags(argv, FLAGS);
  if (values.help) return undefined;
  const sub = values.sub?.trim();
  if (!sub) throw new UsageError('--sub is required');
  const nonEmpty = (v: string | undefined) => (v?.trim() ? v.trim() : undefined);
  if (values.region !== undefined && values['ssm-parameter'] === undefined) throw new UsageError('--region goes with --ssm-parameter');
  return {
    sub,
    channels: patternList('channels', values.channels),
    publish: patternList('publish', values.publish),
    ttlSeconds: values.ttl === undefined ? DEFAULT_TTL_SECONDS : parseDuration(values.ttl),
    issuer: nonEmpty(values.issuer),
    audience: nonEmpty(values.audience),
    ssmParameter: nonEmpty(values['ssm-parameter']),
    region: nonEmpty(values.region),
  };
}

/** Reads a deployed stack's secret: the SecureString, decrypted. */
async function ssmSecret(name: string, region: string | undefined): Promise<string> {
  const { SSMClient, GetParameterCommand } = await import('@aws-sdk/client-ssm');
  const client = new SSMClient(region ? { region } : {});
  try {
    const { Parameter } = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    if (!Parameter?.Value) throw new Error(`SSM parameter ${name} has no value`);
    return Parameter.Value;
  } catch (error) {
    const e = error as Error;
    // The SDK's error name and message (ParameterNotFound, AccessDeniedException, missing
    // credentials) say what to fix; its stack does not.
    throw new Error(`cannot read SSM parameter ${name}: ${e.name === 'Error' ? '' : `${e.name}: `}${e.message}`);
  } finally {
    client.destroy();
  }
}

/** The secret to sign with: the SSM parameter's, else JWT_DEV_SECRET. */
export async function signingSecret(request: TokenRequest, env: NodeJS.ProcessEnv = process.env): Promise<Uint8Array> {
  let secret: string;
  let what: string;
  if (request.ssmParameter) {
    secret = await ssmSecret(request.ssmParameter, request.region);
    what = `SSM parameter ${request.ssmParameter}`;
  } else {
    if (!env.JWT_DEV_SECRET)
      throw new UsageError(
        'no secret: set JWT_DEV_SECRET to the one npm run dev printed (or gave it), or pass --ssm-parameter for a deployed stack',
      );
    secret = env.JWT_DEV_SECRET;
    what = 'JWT_DEV_SECRET';
  }
  const bytes = new TextEncoder().encode(secret);
  // The authorizer refuses shorter secrets (every connection gets a 500): no point in a token.
  if (bytes.length < MIN_HMAC_SECRET_BYTES) throw new Error(`${what} is shorter than ${MIN_HMAC_SECRET_BYTES} bytes`);
  return bytes;
}

/** Signs the token. `now` in seconds (tests pin it). */
export async function mintToken(request: TokenRequest, secret: Uint8Array, now = Math.floor(Date.now() / 1000)): Promise<string> {
  const claims: Record<string, unknown> = {};
  if (request.channels.length > 0) claims.channels = request.channels;
  if (request.publish.length > 0) claims.publish = request.publish;
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(request.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + request.ttlSeconds);
  if (request.issuer) jwt.setIssuer(request.issuer);
  if (request.audience) jwt.setAudience(request.audience);
  return jwt.sign(secret);
}
