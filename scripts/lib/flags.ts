/**
 * Flags of a developer script (`npm run token`, `npm run invoke`): parsed with node:util. A bad
 * command line is one line on stderr and exit 2, never a stack trace; `--help` prints the usage
 * and exits 0.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** A command line the script cannot run: its message is shown as is, and the exit code is 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Exit code of a bad command line (as node:util, getopt and most CLIs). */
export const USAGE_EXIT_CODE = 2;

/**
 * Parses `argv` against `options`. Throws a UsageError for an unknown or malformed option, or
 * for positionals when `positionals` is 0.
 */
export function parseFlags<const O extends Options>(argv: string[], options: O, positionals = 0) {
  try {
    const parsed = parseArgs({ args: argv, options, allowPositionals: positionals > 0, strict: true });
    if (parsed.positionals.length > positionals) throw new UsageError(`unexpected argument ${parsed.positionals[positionals]}`);
    return parsed;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // node:util's message says which option and why; its stack says nothing useful to a user.
    throw new UsageError((error as Error).message);
  }
}

/**
 * Runs a script's main: a UsageError exits 2 with `error: <message> (see --help)`, any other
 * error exits 1 with `error: <message>` (the stack only with AIRWAVE_DEBUG=1).
 */
export function runScript(main: () => Promise<number | undefined>): void {
  main().then(
    (code) => {
      process.exitCode = code ?? 0;
    },
    (error: unknown) => {
      if (error instanceof UsageError) {
        process.stderr.write(`error: ${error.message} (see --help)\n`);
        process.exitCode = USAGE_EXIT_CODE;
        return;
      }
      const detail =
        process.env.AIRWAVE_DEBUG === '1' ? ((error as Error)?.stack ?? String(error)) : ((error as Error)?.message ?? String(error));
      process.stderr.write(`error: ${detail}\n`);
      process.exitCode = 1;
    },
  );
}
