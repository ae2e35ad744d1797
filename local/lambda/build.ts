/**
 * Builds the template's functions as `sam build` does for `BuildMethod: esbuild`: one bundle per
 * function in `<outDir>/<LogicalId>/`, with the function's own BuildProperties (Format,
 * OutExtension, Target, Minify, Sourcemap, SourcesContent, Banner, External). `--built` runs these bundles, so
 * the code that deploys is the code that runs; `sam build` writes the same layout.
 */
import { join } from 'node:path';
import { type BuildOptions, build, type Format } from 'esbuild';
import type { FunctionModel, StackModel } from '../cloudformation/stack-model.js';
import { LocalStackError } from '../errors.js';

const flag = (value: unknown): boolean => value === true || value === 'true';
const list = (value: unknown): string[] => (value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)]);

/** `["js=import ..."]` → `{ js: "import ..." }` (SAM's Banner and OutExtension syntax). */
function pairs(values: string[], separator = '='): Record<string, string> {
  return Object.fromEntries(
    values.map((v) => {
      const at = v.indexOf(separator);
      return [v.slice(0, at), v.slice(at + 1)];
    }),
  );
}

/** esbuild options for one function, from its BuildProperties. */
export function esbuildOptions(fn: FunctionModel, outDir: string): BuildOptions {
  const p = fn.buildProperties ?? {};
  const entryPoints = list(p.EntryPoints).map((entry) => join(fn.codeDir, entry));
  return {
    entryPoints: entryPoints.length > 0 ? entryPoints : [fn.sourceEntry],
    outdir: join(outDir, fn.logicalId),
    bundle: true,
    platform: 'node',
    format: String(p.Format ?? 'cjs') as Format,
    target: String(p.Target ?? 'node22'),
    minify: flag(p.Minify),
    sourcemap: flag(p.Sourcemap),
    // sam build passes `--sources-content=<value>` only when the property is set; esbuild's default is true.
    sourcesContent: p.SourcesContent === undefined ? true : flag(p.SourcesContent),
    banner: pairs(list(p.Banner)),
    outExtension: pairs(list(p.OutExtension)),
    external: list(p.External),
    logLevel: 'silent',
  };
}

/** Builds `functionIds` (default: every function) into `outDir`. */
export async function buildFunctions(model: StackModel, outDir: string, functionIds = Object.keys(model.functions)): Promise<void> {
  for (const id of functionIds) {
    const fn = model.functions[id];
    if (!fn) throw new LocalStackError(`no function ${id} in the template`);
    try {
      await build(esbuildOptions(fn, outDir));
    } catch (error) {
      throw new LocalStackError(`building ${id} failed: ${(error as Error).message}`, { cause: error });
    }
  }
}
