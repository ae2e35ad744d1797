/**
 * Flags of a benchmark script: parsed with node:util, `--help` (an option the script declares)
 * prints the usage and exits 0, and an unknown or malformed option is one line on stderr and
 * exit 2, never a stack trace.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export async function scriptFlags<const O extends Options>(options: O, help: string) {
  let values: ReturnType<typeof parseArgs<{ options: O }>>['values'];
  try {
    values = parseArgs({ options }).values;
  } catch (error) {
    // An unknown or malformed option: say which, not where in node:util it was found.
    process.stderr.write(`error: ${(error as Error).message} (see --help)\n`);
    process.exit(2);
  }
  if ((values as { help?: boolean }).help) {
    await new Promise((resolve) => process.stdout.write(help, resolve));
    process.exit(0);
  }
  return values;
}
