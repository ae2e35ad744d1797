/**
 * The presence end-to-end tests' stack and clients (test/e2e/presence*.ts): a local stack running
 * template.yaml with AuthMode=jwt (so the authorizer, the routes and the fan-out are the real
 * code over real sockets) and PresenceInfoClaim=name; members are principals (`sub`) holding a
 * token signed with the stack's development secret.
 */
import { SignJWT } from 'jose';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/stack.js';
import { type Frame, openClient, type TestClient } from './ws-client.js';

/** The stack's JWT_DEV_SECRET (AuthMode=jwt verifies HS256 tokens with it). */
const SECRET = 'e2e-presence-development-secret-0123456789';
/** Local-stack mode, and no metrics documents in the functions' output. */
const QUIET = { JWT_DEV_SECRET: SECRET, AIRWAVE_LOCAL: '1', POWERTOOLS_METRICS_DISABLED: 'true' };
/** How long a test waits for one frame (a join's answer, a presence event). */
export const FRAME_MS = 15_000;

/** A 10-minute token for `sub`, with its channel rights and, when given, its `name` (the member's info). */
export async function token(sub: string, channels: string[] = ['*'], name?: string): Promise<string> {
  return new SignJWT({ sub, channels, ...(name ? { name } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
}

/**
 * A member cap of `cap`, and room for the tests' many clients (and roll-overs) per principal and
 * their many presence joins: the budgets are not what these suites test.
 */
export const roomyPresence = (cap: number): Record<string, string> => ({
  PresenceMemberLimit: String(cap),
  PresenceConnectionsPerMember: '50',
  PresencePerMinute: '1000',
  PrincipalPresencePerMinute: '1000',
});

/** What a suite's tests share: the stack, the clients to close after each test, every log line. */
export interface PresenceStack {
  stack: LocalStack;
  clients: TestClient[];
  logs: Array<{ fn: string; line: string }>;
}

/**
 * Starts a stack for the calling `describe` (before: started and warmed; after: stopped) and
 * closes the clients `open` made after each test. `parameterOverrides` go over AuthMode=jwt and
 * PresenceInfoClaim=name.
 */
export function useStack(parameterOverrides: Record<string, string>): PresenceStack {
  const ctx: PresenceStack = { stack: undefined as unknown as LocalStack, clients: [], logs: [] };
  before(async () => {
    const options: LocalStackOptions = {
      parameterOverrides: { AuthMode: 'jwt', PresenceInfoClaim: 'name', ...parameterOverrides },
      environment: QUIET,
      log: (line) => ctx.logs.push({ fn: 'stack', line }),
      functionLog: (fn, line) => ctx.logs.push({ fn, line }),
    };
    ctx.stack = await startLocalStack(options);
    await ctx.stack.warm();
  });
  afterEach(async () => {
    await Promise.all(ctx.clients.splice(0).map((c) => c.close()));
  });
  after(() => ctx.stack?.stop());
  return ctx;
}

/** A connection of principal `sub` (closed after the test). */
export async function open(ctx: PresenceStack, sub: string, channels?: string[], name?: string): Promise<TestClient> {
  const client = await openClient(`${ctx.stack.url}?token=${await token(sub, channels, name)}`);
  ctx.clients.push(client);
  return client;
}

/** Matches the answer to a join of `channel`: its `joined` ack or its error. */
export const answerTo = (channel: string) => (f: Frame) => (f.type === 'joined' || f.type === 'error') && f.channel === channel;
/** The sorted member ids of a `joined` ack's or a presence read's `members`. */
export const ids = (members: unknown) => (members as Array<{ id: string }>).map((m) => m.id).sort();

/** Sends a joinchannel frame and waits for its answer. */
export async function join(client: TestClient, channel: string): Promise<Frame> {
  client.send({ action: 'joinchannel', channel });
  return client.next(answerTo(channel), FRAME_MS);
}
