/**
 * Builds the package in dist/: one ESM bundle (esbuild, not minified: the app's bundler does
 * that, and a readable stack trace helps) and the declarations (the `tsc` CLI of the repository,
 * declaration-only: TypeScript 7 has no JS API, and esbuild strips types). Runs from the
 * repository, which holds both tools; the package itself has no dependency.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
rmSync(dist, { recursive: true, force: true });
await build({
  entryPoints: [join(here, 'src/index.ts')],
  outfile: join(dist, 'index.js'),
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2020',
  logLevel: 'warning',
});
// The nearest node_modules/.bin/tsc up the tree (the repository's): no npx lookup, no network.
let bin = here;
while (!existsSync(join(bin, 'node_modules/.bin/tsc')) && dirname(bin) !== bin) bin = dirname(bin);
const tsc = spawnSync(join(bin, 'node_modules/.bin/tsc'), ['-p', join(here, 'tsconfig.json')], { cwd: here, stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
