/**
 * What a function bundle loads at init and what it loads lazily, from esbuild's metafile. Pure.
 *
 * esbuild (no code splitting) inlines a dynamically imported module into the same bundle but
 * wraps it so that it is evaluated only when the `import()` runs: its bytes are in the bundle,
 * its init cost is not paid until first use. A module is therefore "lazy" when the entry point
 * reaches it only through a dynamic import.
 */

/** The part of esbuild's Metafile this module reads. */
export interface MetafileLike {
  inputs: Record<string, { bytes: number; imports: Array<{ path: string; kind: string; external?: boolean }> }>;
  outputs: Record<string, { entryPoint?: string; inputs: Record<string, { bytesInOutput: number }> }>;
}

/** Bytes of output per package, split by how the entry point reaches it. */
export interface PackageSplit {
  /** Package (`@aws-sdk/client-dynamodb`, `jose`; `(own code)` for the repository's files) → bytes in the bundle. */
  eager: Record<string, number>;
  lazy: Record<string, number>;
}

/** Import kinds that load a module when the importer loads. */
const STATIC_KINDS = new Set(['import-statement', 'require-call', 'require-resolve', 'entry-point']);

/** The npm package a metafile input path belongs to, or `(own code)`. */
export function packageOf(path: string): string {
  const at = path.lastIndexOf('node_modules/');
  if (at < 0) return '(own code)';
  const parts = path.slice(at + 'node_modules/'.length).split('/');
  return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

/** Inputs reachable from `entry` through static imports only. */
export function staticClosure(metafile: MetafileLike, entry: string): Set<string> {
  const seen = new Set<string>([entry]);
  const stack = [entry];
  while (stack.length > 0) {
    const input = metafile.inputs[stack.pop() as string];
    for (const edge of input?.imports ?? []) {
      if (edge.external || !STATIC_KINDS.has(edge.kind) || seen.has(edge.path)) continue;
      seen.add(edge.path);
      stack.push(edge.path);
    }
  }
  return seen;
}

/** Splits the bytes of the output built from `entry` into eager and lazy packages. */
export function splitPackages(metafile: MetafileLike, entry: string): PackageSplit {
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint === entry);
  if (!output) throw new Error(`no output for entry point ${entry}`);
  const eagerInputs = staticClosure(metafile, entry);
  const split: PackageSplit = { eager: {}, lazy: {} };
  for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
    const side = eagerInputs.has(path) ? split.eager : split.lazy;
    const pkg = packageOf(path);
    side[pkg] = (side[pkg] ?? 0) + bytesInOutput;
  }
  return split;
}

/** Packages of a side, largest first, as `name (12 KB)`, those under `minBytes` left out. */
export function describePackages(bytes: Record<string, number>, minBytes = 1024): string {
  const rows = Object.entries(bytes)
    .filter(([, n]) => n >= minBytes)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} (${Math.round(n / 1024)} KB)`);
  return rows.length > 0 ? rows.join(', ') : '-';
}
