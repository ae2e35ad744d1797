/**
 * Redraws docs/fanout.svg from docs/fanout-results.json (bench/fanout.ts does it after every
 * run; this is for a results file edited or merged by hand).
 *
 * @example
 *   npx tsx bench/plot.ts [--in docs/fanout-results.json] [--out docs/fanout.svg]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FANOUT_SVG, writeFanoutPlot } from './lib/fanout-plot.js';
import type { FanoutResults } from './lib/results.js';
import { REPO_ROOT } from './lib/stack-process.js';

const { values } = parseArgs({
  options: { in: { type: 'string', default: 'docs/fanout-results.json' }, out: { type: 'string', default: FANOUT_SVG } },
});
const results = JSON.parse(readFileSync(join(REPO_ROOT, String(values.in)), 'utf8')) as FanoutResults;
process.stdout.write(`wrote ${writeFanoutPlot(results, join(REPO_ROOT, String(values.out)))}\n`);
