/**
 * Redraws docs/fanout.svg from docs/fanout-results.json (bench/fanout.ts does it after every
 * run; this is for a results file edited or merged by hand).
 *
 * @example
 *   npx tsx bench/plot.ts [--in docs/fanout-results.json] [--out docs/fanout.svg]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scriptFlags } from './lib/cli.js';
import { FANOUT_SVG, writeFanoutPlot } from './lib/fanout-plot.js';
import type { FanoutResults } from './lib/results.js';
import { REPO_ROOT } from './lib/stack-process.js';

const HELP = `Usage: npm run bench:plot -- [options]

Redraws the fan-out plot from the results file.

Options:
  --in <file>    results (default: docs/fanout-results.json)
  --out <file>   plot (default: ${FANOUT_SVG})
  -h, --help     this text
`;

const values = await scriptFlags(
  {
    in: { type: 'string', default: 'docs/fanout-results.json' },
    out: { type: 'string', default: FANOUT_SVG },
    help: { type: 'boolean', short: 'h', default: false },
  },
  HELP,
);
const results = JSON.parse(readFileSync(join(REPO_ROOT, String(values.in)), 'utf8')) as FanoutResults;
process.stdout.write(`wrote ${writeFanoutPlot(results, join(REPO_ROOT, String(values.out)))}\n`);
