/**
 * `npm run dev`: starts the local stack, prints where it listens, stops cleanly (running
 * `$disconnect` for open connections) on SIGINT or SIGTERM, or when the process that started it
 * is gone, and exits 0.
 *
 * Why the last one: npm passes a SIGTERM on to the shell that runs the script (`sh -c ...`), and
 * Debian's sh (dash) dies of it without passing it on, leaving the stack running with its port
 * held. So `npm run dev` runs this file directly under that shell (`node --import tsx`, no tsx
 * wrapper in between) and the stack notices that shell's end.
 *
 * The ready line is a contract (tools wait for it): printed only once the port listens and the
 * tables exist, its first URL is exactly `ws://127.0.0.1:<port>/<stage>`, with no colour codes;
 * the other endpoints follow on later lines.
 */

import { LocalStackError } from '../errors.js';
import type { LocalStack } from '../stack.js';
import { parseCliArgs, USAGE } from './options.js';

/** How often the stack checks that the process that started it still exists. */
const PARENT_CHECK_MS = 250;

/** False once `pid` no longer exists (EPERM: it exists, under another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readyLines(stack: LocalStack): string[] {
  const tables = Object.values(stack.tables).join(', ');
  return [
    `Local stack ready: ${stack.url}`,
    `  @connections   ${stack.connectionsEndpoint}/@connections`,
    `  Lambda invoke  ${stack.httpUrl}  (aws lambda invoke --endpoint-url ${stack.httpUrl} --function-name PublishFunction ...)`,
    `  DynamoDB       ${stack.dynamodbEndpoint}  (table ${tables || 'none'})`,
    `  demo page      ${stack.httpUrl}/`,
    `  control        ${stack.httpUrl}/_local/stats`,
    ...jwtLines(stack),
  ];
}

/**
 * AuthMode=jwt with an HMAC secret: how to get a token. A secret the stack generated is shown
 * (nothing else knows it); one from the environment is not echoed (the shell that set it has it).
 */
function jwtLines(stack: LocalStack): string[] {
  if (!stack.jwt) return [];
  const { secret, issuer, audience } = stack.jwt;
  const generated = process.env.JWT_DEV_SECRET !== secret;
  const claims = `${issuer ? ` --issuer '${issuer}'` : ''}${audience ? ` --audience '${audience}'` : ''}`;
  const command = `npm run token -- --sub alice --channels 'news user:alice' --publish news --ttl 1h${claims}`;
  return generated
    ? [
        `  jwt            tokens signed with the generated JWT_DEV_SECRET=${secret} (set JWT_DEV_SECRET to keep one across restarts)`,
        `  token          JWT_DEV_SECRET=${secret} ${command}`,
      ]
    : ['  jwt            tokens signed with JWT_DEV_SECRET (from the environment)', `  token          ${command}`];
}

async function main(): Promise<void> {
  const { help, stack: options } = parseCliArgs(process.argv.slice(2), process.env);
  if (help) {
    process.stdout.write(USAGE);
    return;
  }
  // The SDK warns on Node < 22 when it loads (the table setup uses it here); the deployed
  // functions run on 22. Set before the stack's modules, hence the dynamic import below.
  process.env.AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING ??= '1';
  const { startLocalStack } = await import('../stack.js');
  // Handlers first: a signal during startup stops the stack as soon as it is up.
  let signals = 0;
  let stopRequested: string | undefined;
  let stack: LocalStack | undefined;
  const shutdown = (reason: string) => {
    if (++signals > 1) process.exit(130); // a second Ctrl-C does not wait
    stopRequested = reason;
    if (!stack) return;
    process.stderr.write(`local: ${reason}: closing connections ($disconnect runs), then exiting\n`);
    stack.stop().then(
      () => process.exit(0),
      (error) => {
        process.stderr.write(`local: stop failed: ${(error as Error)?.stack ?? error}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  // The output's reader may be gone with the parent: that is no reason to skip the $disconnects.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  const parent = process.ppid; // fixed at start in Node: the original parent's pid
  const watch = setInterval(() => {
    if (parent > 1 && !alive(parent)) {
      clearInterval(watch);
      shutdown(`parent process ${parent} exited`);
    }
  }, PARENT_CHECK_MS);
  watch.unref();
  stack = await startLocalStack({ ...options, log: (line) => process.stderr.write(`local: ${line}\n`) });
  if (stopRequested) {
    signals = 0;
    return shutdown(stopRequested);
  }
  process.stdout.write(`${readyLines(stack).join('\n')}\n`);
  // Start the functions now, after the ready line, those a connection needs first.
  void stack.warm();
}

main().catch((error) => {
  // Errors about the template or options are the developer's to fix: the message says what and where.
  process.stderr.write(error instanceof LocalStackError ? `error: ${error.message}\n` : `error: ${(error as Error)?.stack ?? error}\n`);
  process.exit(1);
});
