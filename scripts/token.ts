/** `npm run token`: see scripts/lib/token.ts and `npm run token -- --help`. */
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS } from '../shared/auth/settings.js';
import { runScript } from './lib/flags.js';
import { mintToken, parseTokenArgs, signingSecret, USAGE } from './lib/token.js';

async function main(): Promise<number> {
  const request = parseTokenArgs(process.argv.slice(2));
  if (!request) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (request.ttlSeconds > DEFAULT_MAX_TOKEN_LIFETIME_SECONDS)
    process.stderr.write(
      `warning: a stack with the default MaxTokenLifetimeSeconds (${DEFAULT_MAX_TOKEN_LIFETIME_SECONDS}) refuses a token valid this long\n`,
    );
  const token = await mintToken(request, await signingSecret(request));
  process.stdout.write(`${token}\n`);
  return 0;
}

runScript(main);
