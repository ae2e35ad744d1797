/**
 * Flags of a benchmark script: parsed with node:util, `--help` (an option the script declares)
 * prints the usage and exits 0, and an unknown or malformed option is one line on stderr and
 * exit 2, never a stack trace.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** A bad command line: one line on stderr and exit 2. */
export function usageError(message: string): never {
  process.stderr.write(`error: ${message} (see --help)\n`);
  process.exit(2);
}

export async function scriptFlags<const O extends Options>(options: O, help: string, args?: string[]) {
  let values: ReturnType<typeof parseArgs<{ options: O }>>['values'];
  try {
    values = parseArgs({ options, args }).values;
  } catch (error) {
    // An unknown or malformed option: say which, not where in node:util it was found.
    usageError((error as Error).message);
  }
  if ((values as { help?: boolean }).help) {
    await new Promise((resolve) => process.stdout.write(help, resolve));
    process.exit(0);
  }
  return values;
}

/**
 * Whether a benchmark writes its results into the repository (tracked files under docs/): only
 * with `--save`. `--no-save`, the default, is still accepted so older command lines keep working.
 * Throws when both are given.
 */
export function saveRequested(values: { save?: boolean; 'no-save'?: boolean }): boolean {
  if (values.save && values['no-save']) throw new Error('--save and --no-save exclude each other');
  return values.save === true;
}
